"""Trained word vectors: lookup, similarity queries, neighbours, analogies.

``KeyedVectors`` follows gensim 4's ``KeyedVectors`` names and semantics where they
overlap, so code written against gensim reads the same here. The file formats live in
formats.py; ``load_word2vec_format`` / ``save_word2vec_format`` are gensim's doors to them.
gensim's other queries (means, distances, ranks) are mixed in from vectors_queries.py, and
its edits (adding, sorting, normalising, merging a file) from vectors_edits.py; this module
keeps the table, its caches and the neighbour searches. It knows words and vectors, not
training.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import formats
from .errors import UnknownWordError, W2VError
from .evaluate import COSMUL_EPSILON
from .rundir import RunDir, read_vocab
from .spelling import Speller
from .vectors_edits import EditMixin
from .vectors_queries import QueryMixin

__all__ = ["KeyedVectors", "load_vectors"]

PathLike = str | os.PathLike[str]
# What most_similar accepts per item: a word, a vector, or either with a weight.
Query = str | np.ndarray | tuple[str | np.ndarray, float]


class KeyedVectors(QueryMixin, EditMixin):
    """Word vectors: one float32 row per word, most frequent words first.

    Lengths, normalised vectors, squared norms and the speller for unknown words are
    computed on first use and cached. The table changes only through gensim's edits
    (``add_vectors``, ``sort_by_descending_frequency``, ``unit_normalize_all``,
    ``intersect_word2vec_format``, from vectors_edits.py), each of which keeps the caches
    right; the rows and caches handed out are read-only. Code that writes into
    ``kv.vectors`` itself must call ``fill_norms(force=True)`` afterwards, as gensim asks.
    """

    def __init__(
        self,
        index_to_key: list[str],
        vectors: np.ndarray,
        counts: np.ndarray | None = None,
    ) -> None:
        self._assign(list(index_to_key), vectors, counts)

    def _assign(self, index_to_key: list[str], vectors: np.ndarray, counts: Any) -> None:
        """Check and install a whole table, forgetting every cache (the constructor, and
        the edits that change the words)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be 2-D (words x dims), got shape {vectors.shape}")
        if vectors.shape[0] != len(index_to_key):
            raise ValueError(f"{len(index_to_key)} words but {vectors.shape[0]} vectors")
        key_to_index = {word: i for i, word in enumerate(index_to_key)}
        if len(key_to_index) != len(index_to_key):
            dup = next(w for i, w in enumerate(index_to_key) if key_to_index[w] != i)
            raise ValueError(f"duplicate word {dup!r} in index_to_key")
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (len(index_to_key),):
                raise ValueError(f"counts has shape {counts.shape}, expected ({len(vectors)},)")
        self.index_to_key: list[str] = index_to_key
        self.key_to_index: dict[str, int] = key_to_index
        self.vector_size: int = int(vectors.shape[1])
        self.counts: np.ndarray | None = counts
        self._speller: Speller | None = None  # made on the first unknown word
        self._set_vectors(vectors)

    def _set_vectors(self, vectors: np.ndarray) -> None:
        """Make ``vectors`` the table (same words) and forget what was computed from the
        old one."""
        self.vectors: np.ndarray = vectors
        self._norms: np.ndarray | None = None
        self._normed: np.ndarray | None = None
        self._sq_norms: np.ndarray | None = None

    # ------------------------------------------------------------------ lookup

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self.key_to_index

    def __repr__(self) -> str:
        return f"KeyedVectors({len(self)} words x {self.vector_size} dims)"

    def __getitem__(self, key: str | Iterable[str]) -> np.ndarray:
        if isinstance(key, str):
            return self.get_vector(key)
        indices = [self.get_index(word) for word in key]
        return self.vectors[np.asarray(indices, dtype=np.intp)].reshape(-1, self.vector_size)

    def get_index(self, word: str) -> int:
        """Row of ``word``; raises ``UnknownWordError`` (a ``KeyError``) with suggestions."""
        if not isinstance(word, str):
            raise TypeError(f"words are str, got {type(word).__name__}")
        index = self.key_to_index.get(word)
        if index is None:
            if self._speller is None:
                self._speller = Speller(self.index_to_key)
            raise UnknownWordError(word, self._speller.suggest(word))
        return index

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        """Read-only view of the vector of ``word`` (unit length with ``norm=True``)."""
        index = self.get_index(word)
        if norm:
            return self.get_normed_vectors()[index]
        row = self.vectors[index]
        row.flags.writeable = False  # a view: writing through it would stale the caches
        return row

    def get_normed_vectors(self) -> np.ndarray:
        """All vectors scaled to unit length (zero vectors stay zero); cached, read-only."""
        if self._normed is None:
            norms = self.norms[:, np.newaxis]
            normed = np.zeros_like(self.vectors)
            np.divide(self.vectors, norms, out=normed, where=norms > 0)
            normed.flags.writeable = False
            self._normed = normed
        return self._normed

    @property
    def norms(self) -> np.ndarray:
        """The length of every vector (float32, cached, read-only): gensim's ``kv.norms``,
        which gensim fills only in ``fill_norms``; here it is computed on first use."""
        if self._norms is None:
            norms = np.linalg.norm(self.vectors, axis=1)
            norms.flags.writeable = False
            self._norms = norms
        return self._norms

    def fill_norms(self, force: bool = False) -> None:
        """Compute and cache the vectors' lengths now (gensim's name; queries do it on
        first use anyway). ``force=True`` first forgets every cache computed from the
        vectors: the lengths, the normalised vectors, the squared norms. That is how code
        that wrote into ``kv.vectors`` itself brings the caches back in line, as gensim
        asks of such code.
        """
        if force:
            self._set_vectors(self.vectors)
        self._norms = self.norms

    # -------------------------------------------------------------- similarity

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words (0.0 when either vector is zero)."""
        normed = self.get_normed_vectors()
        return float(np.dot(normed[self.get_index(w1)], normed[self.get_index(w2)]))

    def distance(self, w1: str, w2: str) -> float:
        """Cosine distance, ``1 - similarity``, as gensim defines it."""
        return 1.0 - self.similarity(w1, w2)

    def euclidean_distance(self, w1: str, w2: str) -> float:
        """Euclidean distance between the raw (unnormalised) vectors of two words."""
        v1 = self.vectors[self.get_index(w1)].astype(np.float64)
        v2 = self.vectors[self.get_index(w2)].astype(np.float64)
        return float(np.linalg.norm(v1 - v2))

    def most_similar(
        self,
        positive: Query | Sequence[Query] | np.ndarray | None = None,
        negative: Query | Sequence[Query] | np.ndarray | None = None,
        topn: int = 10,
        restrict_vocab: int | None = None,
        metric: str = "cosine",
    ) -> list[tuple[str, float]]:
        """The ``topn`` words nearest to the combination of the inputs, best first.

        Cosine, gensim's semantics: each input word's vector is scaled to unit length and a
        vector input is taken as it is; they are averaged, as ``get_mean_vector`` does,
        with weight +1 for positives and -1 for negatives
        (a ``(item, weight)`` tuple sets the weight outright, in either list, as in
        gensim); the mean is normalised and compared with every normalised vector.
        Input words are never returned. ``restrict_vocab=N`` searches only the first
        N words (``None`` or 0: all). Returns ``(word, cosine)`` pairs.

        ``metric="euclidean"`` takes exactly one positive word or vector and no
        negatives, and returns ``(word, distance)`` pairs, nearest first, measured on
        the raw vectors.
        """
        if metric == "euclidean":
            return self._most_similar_euclidean(positive, negative, topn, restrict_vocab)
        if metric != "cosine":
            raise W2VError(f"unknown metric {metric!r}; expected 'cosine' or 'euclidean'")
        if topn < 1:
            return []
        items = [_split_weight(item, 1.0) for item in _as_list(positive)]
        items += [_split_weight(item, -1.0) for item in _as_list(negative)]
        if not items:
            raise W2VError("most_similar needs at least one word or vector")
        keys = [item if isinstance(item, str) else self._query_vector(item) for item, _ in items]
        weights = [weight for _, weight in items]
        mean, used = self._weighted_mean(keys, weights, pre_normalize=True, ignore_missing=False)
        query = _unit(mean).astype(np.float32)
        end = self._search_end(restrict_vocab)
        scores = self.get_normed_vectors()[:end] @ query
        exclude = {index for index in used if index is not None}
        return self._top(scores, topn, exclude, largest=True)

    def most_similar_cosmul(
        self,
        positive: str | np.ndarray | Sequence[str | np.ndarray] | None = None,
        negative: str | np.ndarray | Sequence[str | np.ndarray] | None = None,
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """Levy & Goldberg's 3CosMul, as gensim computes it.

        Score = prod over positives of (1 + cos) / 2, divided by (the same product over
        negatives + 1e-6). Vector inputs are normalised first; unlike gensim,
        ``restrict_vocab`` is honoured.
        """
        if topn < 1:
            return []
        pos = _as_list(positive)
        neg = _as_list(negative)
        if not pos:
            raise W2VError("most_similar_cosmul needs at least one positive word or vector")
        end = self._search_end(restrict_vocab)
        normed = self.get_normed_vectors()[:end]
        exclude: set[int] = set()

        def shifted_cosines(item: Any) -> np.ndarray:
            if isinstance(item, tuple):
                raise TypeError("most_similar_cosmul takes words or vectors, not (item, weight)")
            unit, index = self._unit_input(item)
            if index is not None:
                exclude.add(index)
            return (1.0 + normed @ unit.astype(np.float32)) / 2.0

        numerator = np.prod([shifted_cosines(item) for item in pos], axis=0)
        denominator = np.prod([shifted_cosines(item) for item in neg], axis=0)
        scores = numerator / (denominator + COSMUL_EPSILON)
        return self._top(scores, topn, exclude, largest=True)

    def similar_by_word(
        self, word: str, topn: int = 10, restrict_vocab: int | None = None
    ) -> list[tuple[str, float]]:
        """The words with the highest cosine similarity to ``word`` (itself excluded)."""
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_vector(
        self, vector: np.ndarray, topn: int = 10, restrict_vocab: int | None = None
    ) -> list[tuple[str, float]]:
        """The words with the highest cosine similarity to ``vector``."""
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def analogy(
        self, a: str, b: str, c: str, topn: int = 1, method: str = "add"
    ) -> list[tuple[str, float]]:
        """Solve "``a`` is to ``b`` as ``c`` is to ?" by 3CosAdd (``"add"``) or 3CosMul.

        ``"add"`` is ``most_similar(positive=[b, c], negative=[a])``, ``"mul"`` the same
        through ``most_similar_cosmul``.
        """
        if method == "add":
            return self.most_similar(positive=[b, c], negative=[a], topn=topn)
        if method == "mul":
            return self.most_similar_cosmul(positive=[b, c], negative=[a], topn=topn)
        raise W2VError(f"unknown analogy method {method!r}; expected 'add' or 'mul'")

    # ------------------------------------------------------------------- files

    def save_word2vec_format(self, path: PathLike, binary: bool = False) -> None:
        """Write the word2vec text or binary format, atomically (formats.write_word2vec).

        Words must be non-empty and contain neither spaces nor newlines, which the
        format cannot represent.
        """
        formats.write_word2vec(path, self.index_to_key, self.vectors, binary=binary)

    @classmethod
    def load_word2vec_format(
        cls, path: PathLike, binary: bool | None = None, limit: int | None = None
    ) -> KeyedVectors:
        """Read a word2vec text or binary file (``binary=None``: sniff the format).

        ``limit`` reads only the first that many words. Every problem with the file
        raises ``W2VError`` naming the file.
        """
        words, vectors = formats.read_word2vec(path, binary=binary, limit=limit)
        return cls(words, vectors)

    # ---------------------------------------------------------------- internals

    def _unit_input(self, item: Any) -> tuple[np.ndarray, int | None]:
        """Unit-length float64 vector of a word or vector input, and the word's row."""
        if isinstance(item, str):
            index = self.get_index(item)
            return self.get_normed_vectors()[index].astype(np.float64), index
        if isinstance(item, np.ndarray):
            return _unit(self._query_vector(item)), None
        raise TypeError(f"expected a word or a vector, got {type(item).__name__}")

    def _query_vector(self, vector: np.ndarray) -> np.ndarray:
        if vector.shape != (self.vector_size,):
            raise ValueError(
                f"query vector has shape {vector.shape}, expected ({self.vector_size},)"
            )
        return vector.astype(np.float64)

    def _weighted_mean(
        self,
        keys: Sequence[str | np.ndarray],
        weights: Sequence[float] | np.ndarray | None,
        *,
        pre_normalize: bool,
        ignore_missing: bool,
    ) -> tuple[np.ndarray, list[int | None]]:
        """gensim's mean of words and vectors (float64), and the row of each item used
        (None for a vector). Words are scaled to unit length with ``pre_normalize``,
        vectors never; an unknown word is skipped with ``ignore_missing``, weight and all.
        The sum is divided by the sum of the absolute weights used."""
        if isinstance(keys, str):
            raise TypeError("expected a list of words or vectors, not a single string")
        if len(keys) == 0:
            raise W2VError("cannot take the mean of no words or vectors")
        factors = np.ones(len(keys)) if weights is None else np.asarray(weights, np.float64)
        if factors.shape != (len(keys),):
            raise ValueError(f"{len(keys)} words or vectors but weights of shape {factors.shape}")
        table = self.get_normed_vectors() if pre_normalize else self.vectors
        mean = np.zeros(self.vector_size, dtype=np.float64)
        total = 0.0
        used: list[int | None] = []
        for key, weight in zip(keys, factors.tolist(), strict=True):
            if isinstance(key, np.ndarray):
                vector, index = self._query_vector(key), None
            elif isinstance(key, str) and ignore_missing and key not in self.key_to_index:
                continue
            else:
                index = self.get_index(key)  # an unknown word: KeyError with suggestions
                vector = table[index].astype(np.float64)
            mean += weight * vector
            total += abs(weight)
            used.append(index)
        if total > 0:
            mean /= total
        return mean, used

    def _search_end(self, restrict_vocab: int | None) -> int:
        if restrict_vocab is not None and restrict_vocab < 0:
            raise ValueError(f"restrict_vocab must be >= 0, got {restrict_vocab}")
        # gensim treats 0 like None: no restriction.
        return min(restrict_vocab, len(self)) if restrict_vocab else len(self)

    def _top(
        self, scores: np.ndarray, topn: int, exclude: set[int], *, largest: bool
    ) -> list[tuple[str, float]]:
        """Best ``topn`` rows by score, skipping ``exclude``; ties go to the lower row."""
        n = scores.shape[0]
        k = min(n, topn + len(exclude))
        if k == 0:
            return []
        keyed = -scores if largest else scores
        candidates = np.argpartition(keyed, k - 1)[:k] if k < n else np.arange(n)
        order = candidates[np.lexsort((candidates, keyed[candidates]))]
        result = [(self.index_to_key[i], float(scores[i])) for i in order if i not in exclude]
        return result[:topn]

    def _most_similar_euclidean(
        self,
        positive: Any,
        negative: Any,
        topn: int,
        restrict_vocab: int | None,
    ) -> list[tuple[str, float]]:
        pos = _as_list(positive)
        if len(pos) != 1 or _as_list(negative):
            raise W2VError("metric='euclidean' takes exactly one word or vector and no negatives")
        item = pos[0]
        exclude: set[int] = set()
        if isinstance(item, str):
            index = self.get_index(item)
            exclude.add(index)
            query = self.vectors[index]
        elif isinstance(item, np.ndarray) and item.shape == (self.vector_size,):
            query = item.astype(np.float32)
        else:
            raise TypeError(f"expected a word or a {self.vector_size}-d vector, got {item!r}")
        if topn < 1:
            return []
        end = self._search_end(restrict_vocab)
        if self._sq_norms is None:
            self._sq_norms = np.einsum("ij,ij->i", self.vectors, self.vectors)
        # |v - q|^2 = |v|^2 - 2 v.q + |q|^2 ranks all rows with one matrix-vector
        # product; its cancellation error only matters for the few rows we keep, whose
        # distances are then recomputed directly.
        approx = self._sq_norms[:end] - 2.0 * (self.vectors[:end] @ query)
        k = min(end, topn + len(exclude))
        if k == 0:
            return []
        candidates = np.argpartition(approx, k - 1)[:k] if k < end else np.arange(end)
        diffs = self.vectors[candidates].astype(np.float64) - query.astype(np.float64)
        dists = np.sqrt(np.einsum("ij,ij->i", diffs, diffs))
        order = np.lexsort((candidates, dists))
        result = [
            (self.index_to_key[candidates[j]], float(dists[j]))
            for j in order
            if candidates[j] not in exclude
        ]
        return result[:topn]


def load_vectors(path: PathLike) -> KeyedVectors:
    """Load a word2vec file, a fastText ``.bin``, or the vectors of a training run directory.

    A fastText ``.bin`` (fastText's own, gensim's, or a ``--subwords`` run's
    ``fasttext.bin``, which a run directory is read from first) gives SubwordVectors, which
    answer for unseen words too. Otherwise a directory must hold ``vectors.bin`` or
    ``vectors.txt`` (``.bin`` wins when both exist). If it also holds ``vocab.tsv`` and every
    loaded word has a count there, the counts are attached as ``kv.counts``; a vocab.tsv that
    does not cover the words is ignored, one that cannot be parsed is an error.
    """
    name = os.fspath(path)
    p = Path(path)
    if not p.exists():
        raise W2VError(f"{name}: no such file or directory")
    run = RunDir(p)
    fasttext_file = run.fasttext if p.is_dir() else p
    if fasttext_file.is_file() and formats.is_fasttext_bin(fasttext_file):
        from .subword_vectors import SubwordVectors  # numba: only for these

        return SubwordVectors.load(fasttext_file)
    if not p.is_dir():
        return KeyedVectors.load_word2vec_format(path)
    kv = KeyedVectors.load_word2vec_format(run.find_vectors())
    if run.vocab.is_file():
        words, numbers = read_vocab(run.vocab)
        counts: dict[str, int] = {}
        for word, count in zip(words, numbers, strict=True):
            counts.setdefault(word, count)
        if all(word in counts for word in kv.index_to_key):
            kv.counts = np.array([counts[w] for w in kv.index_to_key], dtype=np.int64)
    return kv


# --------------------------------------------------------------------- helpers


def _as_list(value: Any) -> list[Any]:
    """gensim's convention: a single word or 1-D vector stands for a list of one."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, np.ndarray):
        if value.ndim == 1:
            return [value]
        if value.ndim == 2:
            return list(value)
        raise ValueError(f"expected a vector or a matrix of vectors, got shape {value.shape}")
    return list(value)


def _split_weight(item: Any, default: float) -> tuple[Any, float]:
    if isinstance(item, tuple):
        if len(item) != 2:
            raise TypeError(f"expected (word or vector, weight), got a {len(item)}-tuple")
        return item[0], float(item[1])
    return item, default


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
