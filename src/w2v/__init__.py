"""w2v: word2vec, done right, in PyTorch.

import w2v
vectors = w2v.train("corpus.txt", "runs/mine", model="cbow", epochs=5)
vectors.most_similar("king")
vectors = w2v.load("runs/mine")
"""

from .config import PRESETS, TrainConfig, build_config
from .errors import UnknownWordError, W2VError
from .model import Word2Vec
from .run import resume, train
from .train import Callback, Trainer, TrainingInterrupted
from .vectors import KeyedVectors
from .vectors import load_vectors as load

__all__ = [
    "PRESETS",
    "Callback",
    "KeyedVectors",
    "TrainConfig",
    "Trainer",
    "TrainingInterrupted",
    "UnknownWordError",
    "W2VError",
    "Word2Vec",
    "build_config",
    "load",
    "resume",
    "train",
]
__version__ = "0.1.0"
