"""A phrase table: the knobs that find one, its rows, and its file.

Light on purpose (no numpy, no numba): ``w2v phrases --help`` and ``w2v train --help`` build
their flags from :class:`PhraseConfig` here, and reading a table to check it costs nothing.

The file is tab-separated, one phrase a row, sorted by score, for a person to read (and
edit: a deleted row is a phrase no longer joined)::

    phrase            count  score               pass  words
    los_angeles       1201   3811.0478424657535  1     los angeles
    new_york_times    337    122.51046372141318  2     new_york times

``words`` are the tokens a phrase joins, separated by spaces (tokens never hold white space),
so ``new_york times`` says that pass 2 joined the pass-1 phrase ``new_york`` with ``times``.
``pass`` is the order of joining: every phrase of pass 1 is joined before any of pass 2 is
looked for. ``score`` decides which of two overlapping phrases is joined. Scores are written
in full (Python's shortest round-trip form), so a table read back joins exactly as the one
written. Lines starting with ``#`` are comments.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .atomic import write_text
from .errors import W2VError, option

DELIMITER = "_"
"""What joins the words of a phrase (gensim's default). The default tokenizer keeps ``_``
inside words, so a joined phrase survives tokenizing again (a query for ``New_York``)."""

HEADER = ("phrase", "count", "score", "pass", "words")

# gensim's ENGLISH_CONNECTOR_WORDS (gensim/models/phrases.py, gensim 4.x, LGPL-2.1), copied
# as data so that finding phrases never imports gensim: articles, some prepositions and
# conjunctions, "incomplete on purpose" in gensim's words, to keep false phrases out.
_ARTICLES = ("a", "an", "the")
_PREPOSITIONS = ("for", "of", "with", "without", "at", "from", "to", "in", "on", "by")
_CONJUNCTIONS = ("and", "or")
ENGLISH_CONNECTOR_WORDS = frozenset((*_ARTICLES, *_PREPOSITIONS, *_CONJUNCTIONS))
CONNECTOR_LISTS = {"none": frozenset(), "english": ENGLISH_CONNECTOR_WORDS}

DEFAULT_THRESHOLD = {"default": 10.0, "npmi": 0.5}  # gensim's and the defaults
# What `--phrases auto` keeps. On the raw Wikipedia text (16M words), gensim's 10 joined
# 1.2M pairs (such_as, can_be, has_been...) and cost single-word Google analogies 2.8 points
# (4.5 answered from words alone); 50 keeps united_states, new_york, world_war_ii, joins
# 0.5M and costs nothing (1.25 from words alone): bench/results/phrases-quality-cpu-2core.md.
# It is about word2phrase's demo, 200 in its units (its N: the corpus's words, 3.6x ours).
AUTO_THRESHOLD = 50.0
# As gensim's max_vocab_size: the counting table then has at most 2**26 slots of 16 bytes,
# 1.07 GB (1.6 GB for the moment it doubles into that size).
DEFAULT_MAX_PAIRS = 40_000_000


def _knob(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass
class PhraseConfig:
    """Every knob of finding phrases, once: ``w2v phrases`` flags and ``w2v.Phrases``
    arguments are these fields (``--phrases auto`` uses the defaults)."""

    min_count: int = _knob(
        5,
        "score: (count(ab) - min_count) / (count(a) count(b)) x N; npmi: ignore pairs seen "
        "fewer times than this",
    )
    threshold: float | None = _knob(
        None, "keep pairs that score above this (default: 10, or 0.5 with --scoring npmi)"
    )
    scoring: str = _knob(
        "default",
        "default: word2phrase's and gensim's score; npmi: normalized pointwise mutual "
        "information, in [-1, 1]",
        ("default", "npmi"),
    )
    connectors: str = _knob(
        "none",
        "words that may sit inside a phrase but never start or end one (bank_of_america): "
        "none, english (gensim's ENGLISH_CONNECTOR_WORDS) or a comma-separated list",
    )
    passes: int = _knob(
        2, "passes of finding and joining; pass 2 joins phrases of phrases (new_york_times)"
    )
    max_pairs: int = _knob(
        DEFAULT_MAX_PAIRS,
        "distinct pairs held while counting; past it the rarest are dropped, as word2phrase "
        "does (the default keeps the table at 1.1 GB at most)",
    )

    @property
    def score_threshold(self) -> float:
        return DEFAULT_THRESHOLD[self.scoring] if self.threshold is None else self.threshold

    def connector_words(self) -> frozenset[str]:
        value = self.connectors.strip()
        if value.lower() in CONNECTOR_LISTS:
            return CONNECTOR_LISTS[value.lower()]
        return frozenset(w.strip() for w in value.split(",") if w.strip())

    def validate(self) -> PhraseConfig:
        """Raise W2VError naming the first bad value; return self."""
        o = option
        for name, kind in _TYPES.items():
            value = getattr(self, name)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise W2VError(f"{o(name)}: {value!r} is not a valid value")
        if self.scoring not in DEFAULT_THRESHOLD:
            raise W2VError(f"{o('scoring')} must be one of default, npmi, not {self.scoring!r}")
        t = self.score_threshold
        checks = [
            (self.min_count >= 1, f"{o('min_count')} must be >= 1"),
            (math.isfinite(t), f"{o('threshold')} must be a finite number"),
            (
                self.scoring != "default" or t > 0,
                f"{o('threshold')} must be > 0 for the default scoring",
            ),
            (
                self.scoring != "npmi" or -1 <= t <= 1,
                f"{o('threshold')} must be in [-1, 1] for {o('scoring', 'npmi')}",
            ),
            (self.passes >= 1, f"{o('passes')} must be >= 1"),
            (self.max_pairs >= 1, f"{o('max_pairs')} must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise W2VError(message)
        return self

    def describe(self) -> str:
        return (
            f"{self.scoring} score > {self.score_threshold:g}, min count {self.min_count}, "
            f"{self.passes} pass{'es' if self.passes != 1 else ''}, connectors "
            f"{self.connectors}"
        )


_TYPES: dict[str, tuple[type, ...]] = {
    "min_count": (int,),
    "threshold": (int, float, type(None)),
    "scoring": (str,),
    "connectors": (str,),
    "passes": (int,),
    "max_pairs": (int,),
}


def auto_config() -> PhraseConfig:
    """The settings of ``--phrases auto``: the defaults, but AUTO_THRESHOLD."""
    return PhraseConfig(threshold=AUTO_THRESHOLD)


def phrase_config(**options: Any) -> PhraseConfig:
    """A validated PhraseConfig from keyword options (None means the default)."""
    known = {f.name for f in dataclasses.fields(PhraseConfig)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise W2VError(f"unknown phrase option {unknown[0]!r}; known: {', '.join(sorted(known))}")
    values = {k: v for k, v in options.items() if v is not None}
    if isinstance(values.get("threshold"), int) and not isinstance(values["threshold"], bool):
        values["threshold"] = float(values["threshold"])
    if "connectors" in values and not isinstance(values["connectors"], str):
        words = values["connectors"]  # an iterable of words, as gensim's connector_words
        if not all(isinstance(w, str) and w and "," not in w for w in words):
            raise W2VError(f"{option('connectors')}: give words, or none, english")
        values["connectors"] = ",".join(sorted(words)) or "none"
    return PhraseConfig(**values).validate()


class Phrase(NamedTuple):
    """One row of a phrase table."""

    phrase: str
    count: int
    score: float
    pass_number: int
    words: tuple[str, ...]


def _row_order(row: Phrase) -> tuple[float, int, str, tuple[str, ...]]:
    return (-row.score, row.pass_number, row.phrase, row.words)


@dataclass
class PhraseTable:
    """Phrases to join, pass by pass, and the connector words found inside them."""

    rows: list[Phrase]
    _key: str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.rows = sorted(self.rows, key=_row_order)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def passes(self) -> int:
        return max((r.pass_number for r in self.rows), default=0)

    def in_pass(self, number: int) -> list[Phrase]:
        return [r for r in self.rows if r.pass_number == number]

    def connectors(self) -> list[str]:
        """The words found inside phrases, sorted. Joining needs no other connector list:
        a phrase never starts or ends with one, so treating exactly these as connectors
        finds the same phrases as the list the table was made with."""
        return sorted({w for r in self.rows for w in r.words[1:-1]})

    def key(self) -> str:
        """A hash of what joining depends on (the passes, words and scores; not the counts,
        the order of the rows or comments): the joined corpus is cached under it. A table
        is not changed once made, so it is computed once. The rows are sorted by score,
        pass and words (``_row_order``), so their order is the content's own."""
        if self._key is None:
            text = "\n".join([f"{r.pass_number}\t{' '.join(r.words)}" for r in self.rows])
            scores = struct.pack(f"<{len(self.rows)}d", *[r.score for r in self.rows])
            self._key = hashlib.sha256(text.encode() + b"\0" + scores).hexdigest()[:20]
        return self._key

    def to_tsv(self, comment: str | None = None) -> str:
        lines = [f"# {line}" for line in (comment or "").splitlines()]
        lines.append("\t".join(HEADER))
        lines += [
            f"{r.phrase}\t{r.count}\t{r.score!r}\t{r.pass_number}\t{' '.join(r.words)}"
            for r in self.rows
        ]
        return "\n".join(lines) + "\n"

    def write(self, path: str | os.PathLike[str], comment: str | None = None) -> None:
        write_text(path, self.to_tsv(comment))

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> PhraseTable:
        """A table written by :meth:`write` (or by hand, in its format); a bad file is one
        W2VError naming the file and the line."""
        path = Path(path)
        try:
            text = path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            raise W2VError(f"{path}: phrase table not found") from None
        except IsADirectoryError:
            raise W2VError(f"{path}: is a directory, not a phrase table") from None
        except UnicodeDecodeError:
            raise W2VError(f"{path}: not a phrase table (not UTF-8 text)") from None
        except OSError as e:
            raise W2VError(f"{path}: cannot read: {e.strerror or e}") from None
        return cls(list(_parse(path, text.splitlines())))


def _parse(path: Path, lines: Sequence[str]) -> Iterable[Phrase]:
    header_seen = False
    seen: set[tuple[int, tuple[str, ...]]] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        where = f"{path}:{number}"
        if not header_seen:
            if tuple(f.strip() for f in fields) != HEADER:
                raise W2VError(
                    f"{where}: not a phrase table: expected the header line "
                    f"{' | '.join(HEADER)} (tab-separated), as `w2v phrases` writes"
                )
            header_seen = True
            continue
        if len(fields) != len(HEADER):
            raise W2VError(
                f"{where}: expected {len(HEADER)} tab-separated columns "
                f"({', '.join(HEADER)}), got {len(fields)}"
            )
        phrase, count_text, score_text, pass_text, words_text = fields
        try:
            count, score, pass_number = int(count_text), float(score_text), int(pass_text)
        except ValueError:
            raise W2VError(f"{where}: count and pass must be integers, score a number") from None
        words = tuple(words_text.split())
        if not math.isfinite(score) or count < 0 or pass_number < 1:
            raise W2VError(f"{where}: score must be finite, count >= 0 and pass >= 1")
        if len(words) < 2 or DELIMITER.join(words) != phrase:
            raise W2VError(
                f"{where}: the words {words_text!r} do not join into {phrase!r} "
                f"(two or more words, joined by {DELIMITER!r})"
            )
        if (pass_number, words) in seen:
            raise W2VError(f"{where}: {phrase!r} is listed twice in pass {pass_number}")
        seen.add((pass_number, words))
        yield Phrase(phrase, count, score, pass_number, words)
    if not header_seen:
        raise W2VError(f"{path}: not a phrase table: it is empty")
