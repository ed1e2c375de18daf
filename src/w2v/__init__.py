"""w2v: word2vec, done right, in PyTorch.

import w2v
vectors = w2v.train("corpus.txt", "runs/mine", model="cbow", epochs=5)
vectors.most_similar("king")
vectors = w2v.load("runs/mine")

Importing w2v is light: torch and numba are imported when training starts, not before, so
loading and querying vectors never pays for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import PRESETS, TrainConfig, build_config
from .errors import UnknownWordError, W2VError

if TYPE_CHECKING:
    from .engines.torch_model import Word2Vec
    from .phrases import Phrases
    from .run import resume, train
    from .trainer import Callback, Trainer, TrainingInterrupted
    from .vectors import KeyedVectors
    from .vectors import load_vectors as load

# name -> (module, attribute): imported on first use
_LAZY = {
    "Callback": ("trainer", "Callback"),
    "KeyedVectors": ("vectors", "KeyedVectors"),
    "Phrases": ("phrases", "Phrases"),
    "Trainer": ("trainer", "Trainer"),
    "TrainingInterrupted": ("trainer", "TrainingInterrupted"),
    "Word2Vec": ("engines.torch_model", "Word2Vec"),
    "load": ("vectors", "load_vectors"),
    "resume": ("run", "resume"),
    "train": ("run", "train"),
}

__all__ = [
    "PRESETS",
    "Callback",
    "KeyedVectors",
    "Phrases",
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


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'w2v' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
    globals()[name] = value  # once found, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
