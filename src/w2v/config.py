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
from .errors import W2VError, option
from .subwords import DEFAULT_BUCKET, DEFAULT_MAXN, DEFAULT_MINN, Subwords
from .tokenize import TOKENIZERS, Tokenizer

# word2vec's MAX_SENTENCE_LENGTH: a longer line (text8 is one) is cut into sentences of this
# many tokens.
MAX_SENTENCE_LENGTH = 10_000
# Bounds that keep the corpus position and the draws of negatives in the kernels' integers,
# far above anything that trains well.
MAX_EPOCHS = 1_000_000
MAX_NEGATIVE = 10_000
# Negatives drawn in proportion to count^exponent: word2vec's 0.75; fastText's table uses
# 0.5, which with --subwords measured better on 5 of 6 scores (bench/results/subwords-*).
WORD2VEC_NS_EXPONENT = 0.75
FASTTEXT_NS_EXPONENT = 0.5
# fastText's own limits are int32 rows; these keep the n-gram table addressable and the
# n-grams of a word a handful.
MAX_BUCKET = 1 << 30
MAX_NGRAM = 100


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
        "the column holding the text: of a table (arrow/parquet/jsonl) by name, a string or "
        "list-of-strings column; of delimited text (.tsv, .csv, --delimiter) by header name "
        "or number (1 is the first column, -1 the last)",
    )
    delimiter: str | None = _knob(
        None,
        "read text as delimited columns split by this character (tab, comma, or any one "
        "character); .tsv and .csv files are split by tab and comma without it",
    )
    header: str = _knob(
        "auto",
        "delimited text: whether the first row names the columns (auto: detected, as "
        "Python's csv.Sniffer does)",
        ("auto", "yes", "no"),
    )
    tokenizer: str = _knob(
        "words",
        "words: split at punctuation and symbols (letters, digits and marks make words; an "
        "apostrophe, hyphen or period inside a word stays: don't, self-governed, u.s); "
        "seed: the original project's rule, punctuation deleted (dog's -> dogs); "
        "whitespace: split on white space only",
        TOKENIZERS,
    )
    keep_case: bool = _knob(False, "do not lowercase tokens")
    strip_markup: bool = _knob(
        True,
        "drop XML/HTML tags such as WikiExtractor's <doc ...> lines before tokenizing",
    )
    limit: int | None = _knob(None, "read only the first N words (tokens) of the corpus")
    limit_sentences: int | None = _knob(None, "read only the first N sentences of the corpus")
    max_sentence_length: int = _knob(
        MAX_SENTENCE_LENGTH,
        "cut longer lines into sentences of this many tokens, as word2vec does",
    )
    phrases: str | None = _knob(
        None,
        "join phrases into one token (new_york) before training: a table written by "
        "w2v phrases, or auto to find them first (w2v phrases' defaults, --threshold 50)",
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
        "auto",
        "skip-gram: window shares one set of negatives among a centre word's context words "
        "(BlazingText; fast); pair draws each pair its own, exactly as word2vec, gensim and "
        "fastText; auto: window, and pair with --subwords (where sharing cost quality)",
        ("auto", "window", "pair"),
    )
    ns_exponent: float | None = _knob(
        None,
        "negatives drawn with probability proportional to count^exponent (0: uniform; "
        "default 0.75, word2vec's, and 0.5, fastText's, with --subwords)",
    )
    sample: float = _knob(
        1e-3, "subsampling threshold for frequent words (word2vec's formula; 0 turns it off)"
    )
    subwords: bool = _knob(
        False,
        "fastText's model: a word's input vector is the mean of its own row and the rows of "
        "its character n-grams, so that any word, seen or not, has a vector",
    )
    minn: int = _knob(DEFAULT_MINN, "with --subwords: the shortest n-gram, in characters")
    maxn: int = _knob(
        DEFAULT_MAXN, "with --subwords: the longest n-gram, in characters (0: no n-grams)"
    )
    bucket: int = _knob(
        DEFAULT_BUCKET,
        "with --subwords: rows the n-grams are hashed into (bucket x dim floats: 800 MB at "
        "the defaults)",
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
    optimizer: str = _knob(
        "sgd",
        "sgd: word2vec's sparse updates; adamw: AdamW per row, as the original project's "
        "one tensor per word (a row's moments, step count and weight decay move only when it "
        "is used); adamw-dense: torch's AdamW over whole tables (torch engine)",
        ("sgd", "adamw", "adamw-dense"),
    )
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
        "numba: compiled for the CPU (word2vec's loop; the original project's model a step "
        "per centre word), threads sharing the tables without locks (Hogwild); torch: "
        "batched tensor steps, on any device (the reference; adamw-dense, BCE with CBOW); "
        "triton: a fused kernel for CUDA GPUs (word2vec's model: negative sampling, SGD; "
        "pip install triton); auto: numba on a CPU, triton on a CUDA GPU, where they apply",
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
                raise W2VError(f"{option(f.name)}: {value!r} is not a valid value")
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
                    f"{option(f.name)} must be one of {', '.join(choices)}, not {value!r}"
                )
        o = option
        checks = [
            (self.dim > 0, f"{o('dim')} must be > 0"),
            (self.window >= 1, f"{o('window')} must be >= 1"),
            (
                self.window <= self.max_sentence_length,
                f"{o('window')} must be at most {o('max_sentence_length')} "
                f"({self.max_sentence_length}): no context is farther away than a sentence",
            ),
            (self.negative >= 0, f"{o('negative')} must be >= 0"),
            (
                self.negative <= MAX_NEGATIVE,
                f"{o('negative')} must be at most {MAX_NEGATIVE:,} (word2vec uses 5 to 20)",
            ),
            (
                self.loss != "ns" or self.negative >= 1,
                f"{o('negative')} must be >= 1 for negative sampling ({o('loss', 'ns')})",
            ),
            (0 <= self.sample < 1, f"{o('sample')} must be in [0, 1)"),
            (self.min_count >= 1, f"{o('min_count')} must be >= 1"),
            (self.max_vocab is None or self.max_vocab >= 1, f"{o('max_vocab')} must be >= 1"),
            (self.epochs >= 1, f"{o('epochs')} must be >= 1"),
            (self.epochs <= MAX_EPOCHS, f"{o('epochs')} must be at most {MAX_EPOCHS:,}"),
            (self.seed >= 0, f"{o('seed')} must be >= 0"),
            (self.batch_size >= 1, f"{o('batch_size')} must be >= 1"),
            (self.max_sentence_length >= 1, f"{o('max_sentence_length')} must be >= 1"),
            (self.limit is None or self.limit >= 1, f"{o('limit')} must be >= 1"),
            (
                self.limit_sentences is None or self.limit_sentences >= 1,
                f"{o('limit_sentences')} must be >= 1",
            ),
            (
                self.phrases is None or self.phrases.strip() != "",
                f"{o('phrases')} must be a phrase table's path or auto",
            ),
            (self.alpha is None or self.alpha > 0, f"{o('alpha')} must be > 0"),
            (self.min_alpha >= 0, f"{o('min_alpha')} must be >= 0"),
            (
                self.min_alpha <= self.learning_rate,
                f"{o('min_alpha')} must not exceed {o('alpha')}",
            ),
            (self.weight_decay >= 0, f"{o('weight_decay')} must be >= 0"),
            (
                self.ns_exponent is None or math.isfinite(self.ns_exponent),
                f"{o('ns_exponent')} must be a finite number",
            ),
            (self.threads is None or self.threads >= 1, f"{o('threads')} must be >= 1"),
            (self.checkpoint_every >= 0, f"{o('checkpoint_every')} must be >= 0"),
            (self.sync_words >= 1, f"{o('sync_words')} must be >= 1"),
            (self.minn >= 1, f"{o('minn')} must be >= 1"),
            (self.maxn >= 0, f"{o('maxn')} must be >= 0 (0: no n-grams)"),
            (
                self.maxn == 0 or self.minn <= self.maxn,
                f"{o('minn')} must not exceed {o('maxn')}",
            ),
            (self.maxn <= MAX_NGRAM, f"{o('maxn')} must be at most {MAX_NGRAM}"),
            (self.bucket >= 1, f"{o('bucket')} must be >= 1"),
            (self.bucket <= MAX_BUCKET, f"{o('bucket')} must be at most {MAX_BUCKET:,}"),
            (
                not self.subwords or (self.loss == "ns" and self.optimizer == "sgd"),
                f"{o('subwords')} trains fastText's model: negative sampling with sgd "
                f"({o('loss', 'ns')} {o('optimizer', 'sgd')})",
            ),
            (
                not self.subwords or not self.tied,
                f"{o('subwords')} needs separate input and output tables, not {o('tied')}",
            ),
            (
                self.eval or self.eval_benchmarks is None,
                f"{o('eval_benchmarks')} picks the benchmarks of {o('eval', True)}: "
                f"add {o('eval', True)}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise W2VError(message)
        if self.delimiter is not None:
            self.delimiter = delimiter_character(self.delimiter)
        # The defaults that depend on the model, saved resolved (a resumed run trains the same)
        if self.negative_sharing == "auto":
            self.negative_sharing = "pair" if self.subwords else "window"
        if self.ns_exponent is None:
            self.ns_exponent = FASTTEXT_NS_EXPONENT if self.subwords else WORD2VEC_NS_EXPONENT
        registry.check_config(self)
        return self

    def make_subwords(self) -> Subwords | None:
        """The n-gram settings with --subwords (None without)."""
        if not self.subwords:
            return None
        # fastText's -maxn 0: no n-grams, and (as w2v writes it) no bucket rows either
        return Subwords(self.minn, self.maxn, self.bucket if self.maxn else 0)

    def make_tokenizer(self) -> Tokenizer:
        """The tokenizer these settings describe (training and queries alike)."""
        return Tokenizer(
            self.tokenizer, lowercase=not self.keep_case, strip_markup=self.strip_markup
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "config") -> TrainConfig:
        """The config saved by a run (config.json), also one saved by an older w2v."""
        return cls(**check_keys(_upgraded(values), where)).validate()


# The original educational project, exactly as it trained: one table, BCE-with-logits on
# dot products, uniform negatives that avoid the centre and its context, 2 x window of them
# per centre word, AdamW at a constant 1e-4, full windows, no subsampling.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "seed": {
        "tokenizer": "seed",
        "strip_markup": False,
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
    for kind in options:
        if kind is type(None) and value is None:
            return True
        if kind is bool and isinstance(value, bool):
            return True
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if kind is str and isinstance(value, str):
            return True
    return False


def flag_group(name: str) -> str:
    """The FLAG_GROUPS title of a TrainConfig field."""
    order = [f.name for f in dataclasses.fields(TrainConfig)]
    starts = [(order.index(first), title) for title, first in FLAG_GROUPS]
    return [title for start, title in starts if start <= order.index(name)][-1]


def field_names() -> set[str]:
    return {f.name for f in dataclasses.fields(TrainConfig)}


def _upgraded(values: dict[str, Any]) -> dict[str, Any]:
    """A config saved before --tokenizer existed, in today's keys: such a run deleted
    punctuation (the seed rule) unless it kept it, never stripped markup, and its adamw was
    the dense one. Resuming it must tokenize and train as it did then."""
    if "tokenizer" in values:
        return values
    values = dict(values)
    if values.get("optimizer") == "adamw":  # then torch's AdamW over the whole table
        values["optimizer"] = "adamw-dense"
    keep = values.pop("keep_punctuation", False)
    values["tokenizer"] = "whitespace" if keep else "seed"
    values.setdefault("strip_markup", False)
    return values


# What --delimiter accepts by name, besides any one character.
DELIMITER_NAMES = {
    "tab": "\t",
    "\\t": "\t",
    "comma": ",",
    "semicolon": ";",
    "pipe": "|",
    "space": " ",
}


def delimiter_character(value: str) -> str:
    """The one character a --delimiter value names (``tab``, ``\\t``, ``,``, ...)."""
    character = DELIMITER_NAMES.get(value.lower(), value)
    if len(character) != 1 or character in '\r\n"':
        names = ", ".join(DELIMITER_NAMES)
        raise W2VError(
            f"{option('delimiter')} must be one character or one of {names}, not {value!r}"
        )
    return character


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
