"""Trained word vectors: lookup, similarity queries, neighbours, analogies.

``KeyedVectors`` follows gensim 4's ``KeyedVectors`` names and semantics where they
overlap, so code written against gensim reads the same here. The file formats live in
formats.py; ``load_word2vec_format`` / ``save_word2vec_format`` are gensim's doors to them.
This module knows words and vectors, not training.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import formats
from .errors import UnknownWordError, W2VError
from .evaluate import COSMUL_EPSILON, AnalogyHits, analogy_hits, evaluate_word_pairs
from .rundir import RunDir, read_vocab
from .spelling import Speller

__all__ = ["KeyedVectors", "load_vectors"]

PathLike = str | os.PathLike[str]
# What most_similar accepts per item: a word, a vector, or either with a weight.
Query = str | np.ndarray | tuple[str | np.ndarray, float]

GENSIM_RESTRICT_VOCAB = 300_000  # gensim's default for its evaluate_* methods


class KeyedVectors:
    """Word vectors: one float32 row per word, most frequent words first.

    The arrays are treated as immutable once constructed: normalised vectors and
    squared norms are computed on first use and cached.
    """

    def __init__(
        self,
        index_to_key: list[str],
        vectors: np.ndarray,
        counts: np.ndarray | None = None,
    ) -> None:
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
        self.index_to_key: list[str] = list(index_to_key)
        self.key_to_index: dict[str, int] = key_to_index
        self.vectors: np.ndarray = vectors
        self.vector_size: int = int(vectors.shape[1])
        self.counts: np.ndarray | None = counts
        self._normed: np.ndarray | None = None
        self._sq_norms: np.ndarray | None = None
        self._speller: Speller | None = None  # made on the first unknown word

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
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            normed = np.zeros_like(self.vectors)
            np.divide(self.vectors, norms, out=normed, where=norms > 0)
            normed.flags.writeable = False
            self._normed = normed
        return self._normed

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

        Cosine (gensim's semantics): each input, word or vector, is scaled to unit
        length; they are averaged with weight +1 for positives and -1 for negatives
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
        items = [(item, 1.0) for item in _as_list(positive)]
        items += [(item, -1.0) for item in _as_list(negative)]
        if not items:
            raise W2VError("most_similar needs at least one word or vector")
        mean = np.zeros(self.vector_size, dtype=np.float64)
        total_weight = 0.0
        exclude: set[int] = set()
        for raw_item, default_weight in items:
            item, weight = _split_weight(raw_item, default_weight)
            unit, index = self._unit_input(item)
            if index is not None:
                exclude.add(index)
            mean += weight * unit
            total_weight += abs(weight)
        if total_weight > 0:
            mean /= total_weight
        query = _unit(mean).astype(np.float32)
        end = self._search_end(restrict_vocab)
        scores = self.get_normed_vectors()[:end] @ query
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

    def doesnt_match(self, words: Iterable[str]) -> str:
        """The word furthest from the mean of the (normalised) words, as gensim.

        Unknown words are ignored; ``W2VError`` when none is left.
        """
        if isinstance(words, str):
            raise TypeError("doesnt_match takes a list of words, not a single string")
        used = [word for word in words if word in self]
        if not used:
            raise W2VError("doesnt_match: none of the words is in the vocabulary")
        normed = self.get_normed_vectors()[[self.key_to_index[w] for w in used]]
        centre = _unit(normed.astype(np.float64).mean(axis=0)).astype(np.float32)
        scores = normed @ centre
        # gensim takes the last of sorted(zip(scores, words), reverse=True): on a tie
        # in score that is the smallest word, which min() over the same pairs gives.
        return min(zip(scores.tolist(), used, strict=True))[1]

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

    # ------------------------------------------------------------- evaluation

    def evaluate_word_pairs(
        self,
        pairs: PathLike,
        restrict_vocab: int = GENSIM_RESTRICT_VOCAB,
        case_insensitive: bool = True,
    ) -> tuple[tuple[float | None, None], tuple[float | None, None], float]:
        """gensim's ``evaluate_word_pairs``: ``((pearson, None), (spearman, None),
        oov_percent)`` on a word-pair file (a path or a bundled benchmark's name).

        The numbers are w2v's evaluator's (evaluate.evaluate_word_pairs), which agree with
        gensim's; the p-values gensim takes from scipy are not computed (None).
        """
        result = evaluate_word_pairs(
            self, pairs, restrict_vocab=restrict_vocab, case_insensitive=case_insensitive
        )
        oov = 100.0 * result.oov / result.total if result.total else 0.0
        return (result.pearson, None), (result.spearman, None), oov

    def evaluate_word_analogies(
        self,
        analogies: PathLike,
        restrict_vocab: int = GENSIM_RESTRICT_VOCAB,
        case_insensitive: bool = True,
    ) -> tuple[float, list[dict[str, Any]]]:
        """gensim's ``evaluate_word_analogies`` (3CosAdd): ``(accuracy, sections)``, each
        section ``{"section": name, "correct": [(a, b, c, d), ...], "incorrect": [...]}``
        and a last one named ``"Total accuracy"``; questions with unknown words are in
        neither list."""
        hits: AnalogyHits = analogy_hits(
            self, analogies, restrict_vocab=restrict_vocab, case_insensitive=case_insensitive
        )
        sections: list[dict[str, Any]] = []
        for name, questions in hits.sections:
            sections.append(
                {
                    "section": name,
                    "correct": [q for q, right in questions if right],
                    "incorrect": [q for q, right in questions if not right],
                }
            )
        correct = [q for s in sections for q in s["correct"]]
        incorrect = [q for s in sections for q in s["incorrect"]]
        sections.append({"section": "Total accuracy", "correct": correct, "incorrect": incorrect})
        asked = len(correct) + len(incorrect)
        return (len(correct) / asked if asked else 0.0), sections

    # ---------------------------------------------------------------- internals

    def _unit_input(self, item: Any) -> tuple[np.ndarray, int | None]:
        """Unit-length float64 vector of a word or vector input, and the word's row."""
        if isinstance(item, str):
            index = self.get_index(item)
            return self.get_normed_vectors()[index].astype(np.float64), index
        if isinstance(item, np.ndarray):
            if item.shape != (self.vector_size,):
                raise ValueError(
                    f"query vector has shape {item.shape}, expected ({self.vector_size},)"
                )
            return _unit(item.astype(np.float64)), None
        raise TypeError(f"expected a word or a vector, got {type(item).__name__}")

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
    """Load a word2vec file, or the vectors of a training run directory.

    A directory must hold ``vectors.bin`` or ``vectors.txt`` (``.bin`` wins when both
    exist). If it also holds ``vocab.tsv`` and every loaded word has a count there, the
    counts are attached as ``kv.counts``; a vocab.tsv that does not cover the words is
    ignored, one that cannot be parsed is an error.
    """
    name = os.fspath(path)
    p = Path(path)
    if not p.exists():
        raise W2VError(f"{name}: no such file or directory")
    if not p.is_dir():
        return KeyedVectors.load_word2vec_format(path)
    run = RunDir(p)
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
