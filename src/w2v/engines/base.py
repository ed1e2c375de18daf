"""What every engine is given and what it gives back.

An engine trains chunks of the encoded corpus into the tables. The Trainer cuts the corpus
into :class:`Chunks` (whole sentences, about ``CHUNK_TOKENS`` words each), makes the
:class:`Tables` and the learning-rate :class:`Schedule`, and hands them over in a
:class:`Setup`; the engine trains a range of chunks and yields a :class:`Report` per step
(a chunk, or a batch of one), in order. Everything else (progress, the loss history,
checkpoints, the merge across ranks) is the Trainer's, and it never asks which engine it
drives.

Randomness comes from ``Setup.seed_of(epoch, chunk[, step])``: a chunk trains the same
whichever thread runs it and whenever it runs, which is what makes resuming exact.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from ..config import TrainConfig
    from ..subword_bags import Bags

CHUNK_TOKENS = 1 << 18  # words per chunk; read when a Trainer is made (tests lower it)

# AdamW as the original project ran it (PyTorch's defaults but for the learning rate and weight
# decay, which are knobs), kept per row by both engines (see torch_optim.RowAdamW).
ADAMW_BETAS = (0.9, 0.999)
ADAMW_EPS = 1e-8
ROW_ADAMW = "row-adamw"  # the kind of its state in a checkpoint


def check_row_adamw_state(state: Any, shapes: list[tuple[int, ...]]) -> list[dict[str, Any]]:
    """The per-table parts of a saved per-row AdamW state (``exp_avg``, ``exp_avg_sq`` of the
    table's shape, ``step`` one count per row), checked against the tables' shapes; a
    ValueError for anything else (another optimizer's or model's state)."""
    if not isinstance(state, dict) or state.get("kind") != ROW_ADAMW:
        raise ValueError("the checkpoint's optimizer state is not a per-row AdamW's")
    tables = state.get("tables")
    if not isinstance(tables, list) or len(tables) != len(shapes):
        raise ValueError("the checkpoint's optimizer state has the wrong number of tables")
    for saved, shape in zip(tables, shapes, strict=True):
        if not isinstance(saved, dict):
            raise ValueError("the checkpoint's optimizer state is damaged")
        moments = [np.shape(saved.get(name)) for name in ("exp_avg", "exp_avg_sq")]
        if moments != [shape, shape] or np.shape(saved.get("step")) != shape[:1]:
            raise ValueError("the checkpoint's optimizer state does not fit the tables")
    return tables


def chunk_bounds(offsets: np.ndarray, chunk_tokens: int = CHUNK_TOKENS) -> np.ndarray:
    """Sentence indices cutting the corpus into chunks of about ``chunk_tokens`` tokens.

    Chunks hold whole sentences, since windows never cross a sentence boundary.
    """
    n_sentences = len(offsets) - 1
    targets = np.arange(chunk_tokens, int(offsets[-1]), chunk_tokens)
    cuts = np.searchsorted(offsets, targets, side="left")
    return np.unique(np.concatenate([[0], cuts, [n_sentences]])).astype(np.int64)


class Chunks:
    """The encoded corpus (or a rank's shard of it) cut into chunks of whole sentences.

    ``ids[offsets[s]:offsets[s + 1]]`` is sentence ``s``; chunk ``c`` holds sentences
    ``bounds[c]`` to ``bounds[c + 1]``.
    """

    def __init__(self, ids: np.ndarray, offsets: np.ndarray, chunk_tokens: int) -> None:
        self.ids = ids
        self.offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        self.bounds = chunk_bounds(self.offsets, chunk_tokens)
        self.words = np.diff(self.offsets[self.bounds])  # corpus words of each chunk
        self.words_before = np.concatenate([[0], np.cumsum(self.words)])  # before each chunk

    def __len__(self) -> int:
        return len(self.bounds) - 1

    @property
    def total_words(self) -> int:
        """Words of one epoch."""
        return int(self.offsets[-1])


@dataclass(frozen=True)
class Schedule:
    """word2vec's learning rate: linear from ``start`` to ``end`` over ``total_words``."""

    start: float
    end: float
    total_words: int

    def at(self, words_done: int) -> float:
        return float(self.at_each(np.asarray(words_done)))

    def at_each(self, words_done: np.ndarray) -> np.ndarray:
        """The rate at each of several points (float64)."""
        progress = np.minimum(words_done / max(self.total_words, 1), 1.0)
        # a diverging run's rates (inf - inf) are NaN quietly, as Python's floats give them;
        # the trainer says what went wrong
        with np.errstate(invalid="ignore", over="ignore"):
            return self.start - (self.start - self.end) * progress


class Tables:
    """The input and output embedding tables, as numpy arrays in this process's memory (one
    array twice when tied). An engine whose tables live elsewhere (a GPU's memory, torch
    tensors) subclasses this and says so in ``Engine.place_tables``.
    """

    def __init__(self, input: Any, output: Any) -> None:
        self.input = input
        self.output = output

    @property
    def tied(self) -> bool:
        return self.output is self.input

    @staticmethod
    def initial(vocab_size: int, dim: int, init: str, seed: int) -> np.ndarray:
        """word2vec's start for the input vectors: uniform in +-0.5/dim; or ``init="normal"``:
        N(0, 1), nn.Embedding's default, as the original project had. (Output vectors start
        at zero.)"""
        rng = np.random.default_rng([seed, vocab_size, dim])
        if init == "word2vec":
            table = rng.uniform(-0.5 / dim, 0.5 / dim, (vocab_size, dim))
        else:
            table = rng.standard_normal((vocab_size, dim))
        return table.astype(np.float32)

    @classmethod
    def new(
        cls,
        vocab_size: int,
        dim: int,
        *,
        tied: bool = False,
        init: str = "word2vec",
        seed: int = 1,
        input_rows: int | None = None,
    ) -> Tables:
        """``input_rows`` is given for fastText's model (subwords), whose input table holds
        the words' rows and then the n-grams' (see fasttext_start). The output table has a
        row per word."""
        if input_rows is not None:
            table = np.zeros((input_rows, dim), dtype=np.float32)  # calloc: untouched pages
            table[:vocab_size] = fasttext_start(vocab_size, dim, init, seed)  # cost nothing
            return cls(table, np.zeros((vocab_size, dim), dtype=np.float32))
        words = cls.initial(vocab_size, dim, init, seed)
        return cls(words, words if tied else np.zeros_like(words))

    def all(self) -> list[Any]:
        """Each distinct table once, as the engine holds it."""
        return [self.input] if self.tied else [self.input, self.output]

    def to_host(self, table: Any) -> np.ndarray:
        """A float32 numpy copy of one of the tables."""
        return np.array(table, dtype=np.float32, copy=True)

    def host_view(self, table: Any) -> np.ndarray:
        """One of the tables as a float32 numpy array, sharing its memory where it can (a
        table in this process's memory): for writing a large table at rest without a
        second copy. It changes as training goes on."""
        return np.asarray(table, dtype=np.float32)

    def assign(self, table: Any, values: np.ndarray) -> None:
        """Overwrite one of the tables in place (the engine keeps holding it)."""
        table[...] = values

    def input_vectors(self) -> np.ndarray:
        return self.to_host(self.input)


def fasttext_start(rows: int, dim: int, init: str, seed: int) -> np.ndarray:
    """The words' rows of fastText's input table at its start: uniform in +-1/dim
    (fastText's ``input_->uniform(1.0 / dim)``; ``init="normal"``: N(0, 1)), drawn in
    float32 a block at a time. The n-gram rows start at zero (Tables.new). fastText means
    to draw those too, but its threaded fill (0.9.3's ``DenseMatrix::uniform``) leaves all
    but threads x 10 % of the table at zero; measured here, 5 epochs of enwiki, zero n-gram
    rows scored higher than random ones on 5 of 6 benchmarks (Google 56.8 % against 56.0 %,
    Rare Words 0.483 against 0.476), at 20 % less speed, and untrained buckets then take no
    memory."""
    rng = np.random.default_rng([seed, rows, dim])
    table = np.empty((rows, dim), dtype=np.float32)
    block = max(1, (1 << 22) // dim)
    for start in range(0, rows, block):
        part = table[start : start + block]
        if init == "normal":
            part[...] = rng.standard_normal(part.shape, dtype=np.float32)
        else:
            rng.random(part.shape, dtype=np.float32, out=part)
            part *= 2.0 / dim
            part -= 1.0 / dim
    return table


class Report(NamedTuple):
    """One step of an engine: ``steps`` of chunk ``chunk`` are done (``finished``: all);
    ``loss`` is summed over ``examples`` examples (a float, or a tensor on the device, so
    that a GPU is not synchronised per step), ``words`` the corpus words the step covered."""

    chunk: int
    steps: int
    finished: bool
    words: int
    loss: Any  # a float, or a 0-dim tensor on the engine's device
    examples: int


@dataclass
class Setup:
    """What an engine trains with: knobs, tables, corpus, the vocabulary's derived arrays."""

    config: TrainConfig
    tables: Tables
    chunks: Chunks
    keep_prob: np.ndarray  # per word: the probability that subsampling keeps it
    noise: np.ndarray  # per word: the probability of being drawn as a negative
    schedule: Schedule  # over this process's own words (a rank's shard under torchrun)
    device: str  # "cpu", "cuda:0", "mps", ...
    threads: int
    seed_of: Callable[..., int]  # (epoch, chunk[, step]) -> seed
    # with --subwords: each word's input rows (its own, its n-grams'), whose mean is its vector
    bags: Bags | None = None


class Engine(ABC):
    """Trains chunks of ids into the tables of a Setup."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup

    @classmethod
    def new_tables(
        cls,
        vocab_size: int,
        dim: int,
        *,
        tied: bool,
        init: str,
        seed: int,
        device: str,
        input_rows: int | None = None,
    ) -> Tables:
        """The tables this engine trains, at their starting values: Tables.new's, where
        place_tables keeps them."""
        host = Tables.new(vocab_size, dim, tied=tied, init=init, seed=seed, input_rows=input_rows)
        return cls.place_tables(host, device)

    @classmethod
    def place_tables(cls, host: Tables, device: str) -> Tables:
        """Where this engine keeps its tables: numpy arrays in this process's memory, by
        default (an engine on torch tensors moves them to its device)."""
        return host

    def compile(self) -> None:  # noqa: B027 - most engines have nothing to compile
        """Get ready to train (a compiled engine compiles or loads its kernel here), so that
        the first epoch's clock does not count it."""

    @abstractmethod
    def train(
        self, epoch: int, chunks: range, first_step: int = 0
    ) -> Generator[Report, None, None]:
        """Train ``chunks`` of ``epoch`` in order, starting at step ``first_step`` of the
        first one; yield a Report per step, in order. Closing the generator stops the engine
        with the tables at rest (a checkpoint may be taken right after)."""

    def state_dict(self) -> dict[str, Any] | None:
        """What a checkpoint must keep besides the tables (an optimizer's state)."""
        return None

    def load_state_dict(self, state: dict[str, Any]) -> None:  # noqa: B027 - stateless default
        """Restore what state_dict returned."""
