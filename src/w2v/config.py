"""Every training knob, once: word2vec's defaults, presets as plain values, validation.

The CLI generates its ``train`` flags from the fields of :class:`TrainConfig` (same names,
``_`` becoming ``-``, help text from the field metadata), so a knob cannot drift between the
library, the command line and a ``--config FILE.toml``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engines import registry
from .errors import W2VError

# word2vec's MAX_SENTENCE_LENGTH: a longer line (text8 is one) is cut into sentences of this
# many tokens.
MAX_SENTENCE_LENGTH = 10_000


# The option groups of `w2v train --help`, in TrainConfig's order: a group holds the fields
# from its first one up to the next group's first.
FLAG_GROUPS = (
    ("corpus", "text_column"),
    ("model", "model"),
    ("training", "optimizer"),
    ("machine and distributed", "device"),
    ("evaluation", "eval"),
    ("output", "format"),
)


def _knob(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass
class TrainConfig:
    # --- corpus -----------------------------------------------------------------------------
    text_column: str | None = _knob(
        None,
        "column holding the text in an arrow/parquet/jsonl source (a string or a "
        "list-of-strings column)",
    )
    keep_case: bool = _knob(False, "do not lowercase tokens")
    keep_punctuation: bool = _knob(False, "do not strip punctuation characters")
    max_sentence_length: int = _knob(
        MAX_SENTENCE_LENGTH,
        "cut longer lines into sentences of this many tokens, as word2vec does",
    )
    min_count: int = _knob(5, "ignore words seen fewer times than this")
    max_vocab: int | None = _knob(None, "keep at most this many of the most frequent words")
    # --- model ------------------------------------------------------------------------------
    model: str = _knob("sg", "skip-gram or CBOW (mean of the context vectors)", ("sg", "cbow"))
    dim: int = _knob(100, "dimensions of the word vectors")
    window: int = _knob(5, "maximum distance between the centre word and a context word")
    shrink_windows: bool = _knob(
        True, "word2vec's reduced window: sample the effective window in [1, window] per word"
    )
    negative: int = _knob(5, "negative samples per positive pair (per centre word with --loss bce)")
    negative_sharing: str = _knob(
        "window",
        "skip-gram: window shares one set of negatives among a centre word's context words "
        "(BlazingText; fast); pair draws each pair its own, exactly as word2vec and gensim",
        ("window", "pair"),
    )
    ns_exponent: float = _knob(
        0.75, "negatives drawn with probability proportional to count^exponent (0: uniform)"
    )
    sample: float = _knob(
        1e-3, "subsampling threshold for frequent words (word2vec's formula; 0 turns it off)"
    )
    tied: bool = _knob(False, "one table shared by centre and context words")
    init: str = _knob(
        "word2vec",
        "word2vec: input vectors uniform in +-0.5/dim, output vectors zero; "
        "normal: N(0, 1), nn.Embedding's default",
        ("word2vec", "normal"),
    )
    loss: str = _knob(
        "ns",
        "ns: word2vec's negative sampling; bce: the original project's BCE-with-logits "
        "over each centre word's context words and its own negatives, which exclude the "
        "centre and context words",
        ("ns", "bce"),
    )
    # --- optimisation -----------------------------------------------------------------------
    optimizer: str = _knob("sgd", "sgd (word2vec's sparse updates) or adamw", ("sgd", "adamw"))
    alpha: float | None = _knob(None, "initial learning rate (default 0.025 for sg, 0.05 for cbow)")
    min_alpha: float = _knob(0.0001, "learning rate reached, linearly, at the end of training")
    weight_decay: float = _knob(0.01, "weight decay of adamw")
    epochs: int = _knob(5, "passes over the corpus")
    batch_size: int = _knob(
        256,
        "centre words per optimizer step of the torch engine (1: one step per word, as the "
        "original); the numba engine updates after every window, as word2vec does",
    )
    seed: int = _knob(1, "random seed (with --deterministic: same seed, same vectors)")
    # --- machine ----------------------------------------------------------------------------
    device: str = _knob("auto", "where to train", ("auto", "cpu", "cuda", "mps"))
    engine: str = _knob(
        "auto",
        "numba: word2vec's loop compiled for the CPU, threads sharing the tables without "
        "locks (Hogwild); torch: batched tensor steps, on any device, and the only engine "
        "for --optimizer adamw or --loss bce; auto: numba on a CPU where it applies",
        ("auto", *registry.ENGINES),
    )
    threads: int | None = _knob(
        None, "CPU threads (default: every core for numba, torch's own choice for torch)"
    )
    deterministic: bool = _knob(
        False,
        "bit-identical vectors for the same seed and device: numba trains on one thread, "
        "CUDA uses deterministic scatter-adds (both slower)",
    )
    sync_words: int = _knob(
        262_144,
        "under torchrun: words each rank trains between two merges of the ranks' tables "
        "(every epoch also ends with one)",
    )
    # --- evaluation -------------------------------------------------------------------------
    eval: bool = _knob(
        False, "evaluate after every epoch and keep the scores in the run's eval.json"
    )
    eval_benchmarks: str | None = _knob(
        None,
        "comma-separated benchmark names or files for --eval (default: all bundled ones; "
        "see w2v evaluate --list)",
    )
    # --- outputs ----------------------------------------------------------------------------
    format: str = _knob("text", "word2vec format of the saved vectors", ("text", "binary"))
    checkpoint_every: int = _knob(1, "write a checkpoint every this many epochs (0: never)")
    cache_dir: str | None = _knob(
        None, "where tokenized corpora are cached (default: $W2V_CACHE_DIR or ~/.cache/w2v)"
    )

    @property
    def learning_rate(self) -> float:
        if self.alpha is not None:
            return self.alpha
        return 0.05 if self.model == "cbow" else 0.025

    def validate(self) -> TrainConfig:
        """Raise W2VError naming the first bad value; return self for chaining."""
        hints = typing.get_type_hints(TrainConfig)
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not _has_type(value, hints[f.name]):
                raise W2VError(f"--{_flag(f.name)}: {value!r} is not a valid value")
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and hints[f.name] in (float, float | None)
            ):
                setattr(self, f.name, float(value))
            choices = f.metadata.get("choices")
            value = getattr(self, f.name)
            if choices and value not in choices:
                raise W2VError(
                    f"--{_flag(f.name)} must be one of {', '.join(choices)}, not {value!r}"
                )
        checks = [
            (self.dim > 0, "--dim must be > 0"),
            (self.window >= 1, "--window must be >= 1"),
            (self.negative >= 0, "--negative must be >= 0"),
            (
                self.loss != "ns" or self.negative >= 1,
                "--negative must be >= 1 for negative sampling (--loss ns)",
            ),
            (0 <= self.sample < 1, "--sample must be in [0, 1)"),
            (self.min_count >= 1, "--min-count must be >= 1"),
            (self.max_vocab is None or self.max_vocab >= 1, "--max-vocab must be >= 1"),
            (self.epochs >= 1, "--epochs must be >= 1"),
            (self.seed >= 0, "--seed must be >= 0"),
            (self.batch_size >= 1, "--batch-size must be >= 1"),
            (self.max_sentence_length >= 1, "--max-sentence-length must be >= 1"),
            (self.alpha is None or self.alpha > 0, "--alpha must be > 0"),
            (self.min_alpha >= 0, "--min-alpha must be >= 0"),
            (self.min_alpha <= self.learning_rate, "--min-alpha must not exceed --alpha"),
            (self.weight_decay >= 0, "--weight-decay must be >= 0"),
            (math.isfinite(self.ns_exponent), "--ns-exponent must be a finite number"),
            (self.threads is None or self.threads >= 1, "--threads must be >= 1"),
            (self.checkpoint_every >= 0, "--checkpoint-every must be >= 0"),
            (self.sync_words >= 1, "--sync-words must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise W2VError(message)
        registry.check_config(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "config") -> TrainConfig:
        return cls(**check_keys(values, where)).validate()


# The original educational project, exactly as it trained: one table, BCE-with-logits on
# dot products, uniform negatives that avoid the centre and its context, 2 x window of them
# per centre word, AdamW at a constant 1e-4, full windows, no subsampling.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "seed": {
        "tied": True,
        "init": "normal",
        "loss": "bce",
        "ns_exponent": 0.0,
        "negative": 10,
        "optimizer": "adamw",
        "alpha": 1e-4,
        "min_alpha": 1e-4,
        "weight_decay": 1e-2,
        "dim": 128,
        "window": 5,
        "shrink_windows": False,
        "epochs": 32,
        "min_count": 1,
        "sample": 0.0,
    },
}


def _has_type(value: Any, hint: Any) -> bool:
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for option in options:
        if option is type(None) and value is None:
            return True
        if option is bool and isinstance(value, bool):
            return True
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if option is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if option is str and isinstance(value, str):
            return True
    return False


def flag_group(name: str) -> str:
    """The FLAG_GROUPS title of a TrainConfig field."""
    order = [f.name for f in dataclasses.fields(TrainConfig)]
    starts = [(order.index(first), title) for title, first in FLAG_GROUPS]
    return [title for start, title in starts if start <= order.index(name)][-1]


def field_names() -> set[str]:
    return {f.name for f in dataclasses.fields(TrainConfig)}


def _flag(name: str) -> str:
    return name.replace("_", "-")


def check_keys(values: dict[str, Any], where: str) -> dict[str, Any]:
    """Accept ``dim`` and ``min-count`` spellings alike; reject unknown keys by name."""
    known = field_names()
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = key.replace("-", "_")
        if name not in known:
            raise W2VError(f"{where}: unknown option {key!r}")
        out[name] = value
    return out


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The keys of a TOML (or JSON) config file, checked against TrainConfig's fields.

    A ``preset = "seed"`` key is allowed and returned as is, for the caller to expand.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise W2VError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise W2VError(f"{path}: cannot read config file: {exc}") from None
    try:
        values = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise W2VError(f"{path}: not a valid config file: {exc}") from None
    if not isinstance(values, dict):
        raise W2VError(f"{path}: a config file must hold key = value pairs")
    preset = values.pop("preset", None)
    out = check_keys(values, str(path))
    if preset is not None:
        out["preset"] = preset
    return out


def build_config(preset: str | None = None, **overrides: Any) -> TrainConfig:
    """Defaults < preset < overrides (``None`` overrides are ignored), validated."""
    values: dict[str, Any] = {}
    if preset is not None:
        if preset not in PRESETS:
            raise W2VError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
        values.update(PRESETS[preset])
    values.update({k: v for k, v in check_keys(overrides, "options").items() if v is not None})
    try:
        return TrainConfig(**values).validate()
    except TypeError as exc:  # a wrong type from a config file, e.g. dim = "ten"
        raise W2VError(f"bad option value: {exc}") from None
