"""One model as the explorer holds it, and the answers the page asks of it.

Everything here is plain Python and numpy and returns JSON-ready dicts; app.py only parses
requests and wraps these answers. A problem with the question (an unknown word, too few
words for a map) is a ``W2VError``, as everywhere in w2v.

The vectors are loaded once and kept in memory with what the queries need computed up
front (unit-length rows, squared lengths, the sorted vocabulary for completion), so the
first question costs no more than the hundredth: a neighbour query is one matrix-vector
product over the normalised table.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..query import Query
from ..rundir import RunDir
from ..vectors import KeyedVectors
from . import runinfo
from .maps import Maps

__all__ = ["Completer", "Model"]


class Completer:
    """Prefix search over a vocabulary, the most frequent words first.

    A model's rows are in frequency order (a run's vocabulary is; a word2vec file's is by
    convention), so "most frequent" is "smallest row". The words are sorted once; a prefix
    is then two binary searches and a partial sort of the rows between them.
    """

    def __init__(self, words: Sequence[str]) -> None:
        order = sorted(range(len(words)), key=words.__getitem__)
        self._sorted = [words[i] for i in order]
        self._rows = np.asarray(order, dtype=np.int64)

    def rows(self, prefix: str, limit: int) -> list[int]:
        """The rows of at most ``limit`` words that start with ``prefix``, in row order."""
        if not prefix or limit < 1:
            return []
        lo = bisect_left(self._sorted, prefix)
        end = _just_after(prefix)
        hi = len(self._sorted) if end is None else bisect_left(self._sorted, end, lo)
        rows = self._rows[lo:hi]
        if len(rows) > limit:
            rows = np.partition(rows, limit - 1)[:limit]
        return sorted(rows.tolist())


def _just_after(prefix: str) -> str | None:
    """The first string that sorts after every string starting with ``prefix`` (None when
    there is none: a prefix of only the last code point)."""
    stem = prefix.rstrip(chr(0x10FFFF))
    return stem[:-1] + chr(ord(stem[-1]) + 1) if stem else None


class Model:
    """Vectors held for the explorer: their name on the page, the query words spelled as the
    run's tokenizer spelled its corpus (query.Query), and for a run directory its folder."""

    def __init__(self, name: str, query: Query, run_dir: Path | None = None) -> None:
        self.name = name
        self.query = query
        self.kv: KeyedVectors = query.kv
        self.run_dir = run_dir
        self.maps = Maps(self.kv)
        self._completer = Completer(self.kv.index_to_key)
        self._evaluated: dict[tuple[str, ...], dict[str, Any]] = {}
        self._evaluate_lock = threading.Lock()
        self._warm_up()

    @classmethod
    def load(cls, path: str) -> Model:
        """A run directory or a vectors file, as every w2v command reads it."""
        folder = Path(path)
        is_run = folder.is_dir() and RunDir(folder).config.is_file()
        return cls(path, Query.load(path), folder if is_run else None)

    @classmethod
    def of(cls, name: str, kv: KeyedVectors, normalize: Any = None) -> Model:
        """Vectors already in memory (tests, scripts); ``normalize`` spells query words."""
        return cls(name, Query(kv, normalize))

    def _warm_up(self) -> None:
        """Compute the caches a first query would otherwise pay for."""
        self.kv.get_normed_vectors()
        if len(self.kv) > 1:
            # the squared lengths the Euclidean search keeps, and LAPACK's first call (a
            # few hundred ms), which would otherwise fall on the page's first map
            self.kv.most_similar(self.kv.index_to_key[0], topn=1, metric="euclidean")
            self.maps.top(2, "pca")

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "words": len(self.kv),
            "dim": self.kv.vector_size,
            "counts": self.kv.counts is not None,
            "run": self.run_dir is not None,
        }

    def spell(self, word: str) -> str:
        """``word`` as this model's vocabulary spells it; an unknown word raises
        ``UnknownWordError`` with suggestions."""
        spelled = self.query.word(word)
        self.kv.get_index(spelled)
        return spelled

    # -- the questions ---------------------------------------------------------------------

    def complete(self, prefix: str, limit: int) -> list[str]:
        """Words starting with ``prefix`` (also as the tokenizer spells it), most frequent
        first."""
        prefixes = {prefix}
        if self.query.normalize is not None:
            tokens = self.query.normalize(prefix).split()
            if len(tokens) == 1:
                prefixes.add(tokens[0])
        rows = sorted({r for p in prefixes for r in self._completer.rows(p, limit)})
        return [self.kv.index_to_key[r] for r in rows[:limit]]

    def neighbors(self, word: str, k: int, metric: str) -> dict[str, Any]:
        spelled = self.spell(word)
        found = self.kv.most_similar(spelled, topn=k, metric=metric)
        return {"word": spelled, "neighbors": scored(found)}

    def similarity(self, a: str, b: str) -> dict[str, Any]:
        a, b = self.spell(a), self.spell(b)
        return {
            "a": a,
            "b": b,
            "cosine": finite(self.kv.similarity(a, b)),
            "euclidean": finite(self.kv.euclidean_distance(a, b)),
        }

    def analogy(self, a: str, b: str, c: str, k: int, method: str) -> dict[str, Any]:
        a, b, c = self.spell(a), self.spell(b), self.spell(c)
        found = self.kv.analogy(a, b, c, topn=k, method=method)
        return {"a": a, "b": b, "c": c, "answers": scored(found)}

    def map_top(self, n: int, method: str) -> dict[str, Any]:
        return self.maps.top(n, method)

    def map_around(self, words: Sequence[str], neighbors: int, method: str) -> dict[str, Any]:
        return self.maps.around([self.spell(w) for w in words], neighbors, method)

    def run(self) -> dict[str, Any]:
        """What the run directory tells about the training (empty for a vectors file)."""
        return runinfo.read(self.run_dir) if self.run_dir is not None else {}

    def evaluate(self, benchmarks: Sequence[str]) -> dict[str, Any]:
        """`w2v evaluate`'s table and results on bundled benchmarks, computed once."""
        from ..evaluate import evaluate, format_table, to_json

        key = tuple(benchmarks)
        with self._evaluate_lock:  # a second click waits for the first answer
            if key not in self._evaluated:
                results = evaluate(self.kv, list(key))
                self._evaluated[key] = {
                    "table": format_table(results, sections=False),
                    "results": json_safe(to_json(results)),
                }
            return self._evaluated[key]


# -- JSON ----------------------------------------------------------------------------------


def finite(value: float) -> float | None:
    """A number JSON can carry: NaN and infinities become null."""
    value = float(value)
    return value if math.isfinite(value) else None


def scored(pairs: Sequence[tuple[str, float]]) -> list[dict[str, Any]]:
    return [{"word": word, "score": finite(score)} for word, score in pairs]


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return finite(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
