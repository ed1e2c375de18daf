"""gensim's KeyedVectors queries beyond the neighbour search: per-word lookups, means of
words, similarity of two lists, distances from one word to many, ranks, the odd one out,
and the doors to the evaluator.

``QueryMixin`` is mixed into ``KeyedVectors`` (vectors.py), which supplies the lookups and
caches used here; the names, arguments and answers are gensim 4's. Where gensim would
divide by a zero length (a zero vector, an empty list) w2v answers as its own queries do:
a zero vector has cosine 0 with everything, and a question with no words is a
``W2VError``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import W2VError
from .evaluate import AnalogyHits, analogy_hits, evaluate_word_pairs

__all__ = ["GENSIM_RESTRICT_VOCAB", "QueryMixin"]

GENSIM_RESTRICT_VOCAB = 300_000  # gensim's default for its evaluate_* methods


class QueryMixin:
    """gensim's lookups, set, distance and rank queries, and its evaluate_* doors."""

    # Supplied by KeyedVectors.
    index_to_key: list[str]
    key_to_index: dict[str, int]
    vectors: np.ndarray
    vector_size: int
    counts: np.ndarray | None

    if TYPE_CHECKING:

        def __contains__(self, word: object) -> bool: ...
        def __len__(self) -> int: ...
        def get_index(self, word: str) -> int: ...
        def get_normed_vectors(self) -> np.ndarray: ...
        def similarity(self, w1: str, w2: str) -> float: ...
        def similar_by_word(
            self, word: str, topn: int = 10, restrict_vocab: int | None = None
        ) -> list[tuple[str, float]]: ...
        def _unit_input(self, item: Any) -> tuple[np.ndarray, int | None]: ...
        def _weighted_mean(
            self,
            keys: Sequence[str | np.ndarray],
            weights: Sequence[float] | np.ndarray | None,
            *,
            pre_normalize: bool,
            ignore_missing: bool,
        ) -> tuple[np.ndarray, list[int | None]]: ...

    # ------------------------------------------------------------------ lookup

    def has_index_for(self, key: object) -> bool:
        """Whether ``key`` has a row of its own: here the same as ``key in kv``.

        gensim has both because its FastText makes vectors for unknown words (for those,
        ``in`` is True and this False); gensim also answers True for an int below
        ``len(kv)``, a row number, where w2v's keys are words only.
        """
        return key in self

    def get_vecattr(self, key: str, attr: str) -> int:
        """gensim's per-word attribute ``attr`` of ``key``. w2v keeps one, ``"count"``:
        the word's count in the training corpus (``kv.counts``).

        Unknown words raise ``UnknownWordError``; any other attribute, or ``"count"`` when
        these vectors carry no counts, raises ``KeyError`` as gensim does. (gensim makes up
        counts, ``len(kv) - row``, for a word2vec file it loads without a vocabulary file;
        w2v leaves them unknown: ``load_vectors`` on a run directory attaches the real ones.)
        """
        index = self.get_index(key)
        if attr != "count":
            raise KeyError(f"no per-word attribute {attr!r}: w2v keeps only 'count'")
        if self.counts is None:
            raise KeyError("these vectors carry no counts ('count')")
        return int(self.counts[index])

    # ------------------------------------------------------------- lists of words

    def get_mean_vector(
        self,
        keys: Sequence[str | np.ndarray],
        weights: Sequence[float] | np.ndarray | None = None,
        pre_normalize: bool = True,
        post_normalize: bool = False,
        ignore_missing: bool = True,
    ) -> np.ndarray:
        """The weighted mean of words and vectors, as gensim: a float32 vector.

        Each word's vector is scaled to unit length first with ``pre_normalize`` (vectors
        given as arrays are taken as they are); the weighted sum (``weights``: one number
        per key, default 1) is divided by the sum of the absolute weights of the keys used,
        and scaled to unit length with ``post_normalize``. Unknown words are skipped with
        ``ignore_missing``, else raise ``UnknownWordError`` (a ``KeyError``). No keys at
        all: ``W2VError`` (gensim: ``ValueError``); only unknown words: the zero vector,
        as in gensim.
        """
        mean, _ = self._weighted_mean(
            keys, weights, pre_normalize=pre_normalize, ignore_missing=ignore_missing
        )
        if post_normalize:
            mean = self._unit_input(mean)[0]
        return mean.astype(np.float32)

    def n_similarity(self, ws1: Sequence[str], ws2: Sequence[str]) -> float:
        """Cosine similarity of the means of two lists of words, as gensim.

        The means are of the raw vectors (not scaled to unit length first), and unknown
        words are skipped. A list with no known word has no mean: ``W2VError``, where
        gensim raises ``ZeroDivisionError`` for an empty list and answers 0.0 for a list
        of unknown words.
        """
        units = []
        for words in (ws1, ws2):
            mean, used = self._weighted_mean(words, None, pre_normalize=False, ignore_missing=True)
            if not used:
                raise W2VError("n_similarity: none of the words of a list is in the vocabulary")
            units.append(self._unit_input(mean)[0])
        return float(np.dot(units[0], units[1]))

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
        centre = self._unit_input(normed.astype(np.float64).mean(axis=0))[0]
        scores = normed @ centre.astype(np.float32)
        # gensim takes the last of sorted(zip(scores, words), reverse=True): on a tie
        # in score that is the smallest word, which min() over the same pairs gives.
        return min(zip(scores.tolist(), used, strict=True))[1]

    def most_similar_to_given(self, key1: str, keys_list: Sequence[str]) -> str:
        """The word of ``keys_list`` most similar to ``key1`` (the first on a tie), as
        gensim. Unknown words raise ``UnknownWordError``; an empty list ``W2VError``."""
        rows = self._rows("most_similar_to_given", keys_list)
        normed = self.get_normed_vectors()
        scores = normed[rows] @ normed[self.get_index(key1)]
        return keys_list[int(np.argmax(scores))]

    def relative_cosine_similarity(self, wa: str, wb: str, topn: int = 10) -> float:
        """Leeuwenberg et al.'s relative cosine similarity, as gensim: the cosine of ``wa``
        and ``wb`` divided by the sum of the cosines of ``wa``'s ``topn`` nearest words.
        ``topn < 1`` or a one-word vocabulary leaves no neighbours: ``W2VError`` (gensim:
        ``ValueError``)."""
        sims = self.similar_by_word(wa, topn)
        if not sims:
            raise W2VError("relative_cosine_similarity needs at least one neighbour (topn >= 1)")
        return self.similarity(wa, wb) / sum(sim for _, sim in sims)

    # ----------------------------------------------------------------- distances

    def distances(
        self, word_or_vector: str | np.ndarray, other_words: Iterable[str] | None = ()
    ) -> np.ndarray:
        """Cosine distances (``1 - cosine``, float32) from a word or vector to each of
        ``other_words`` in their order, or to every word in row order (itself included)
        when ``other_words`` is empty, as gensim. Unknown words raise
        ``UnknownWordError``; a zero vector is at distance 1 from everything (gensim: nan).
        """
        query, _ = self._unit_input(word_or_vector)
        normed = self.get_normed_vectors()
        if other_words:
            normed = normed[self._rows("distances", other_words)]
        return 1 - normed @ query.astype(np.float32)

    @staticmethod
    def cosine_similarities(vector_1: np.ndarray, vectors_all: np.ndarray) -> np.ndarray:
        """Cosine of ``vector_1`` with each row of ``vectors_all``, as gensim's static helper
        computes it, except that a zero vector has cosine 0 (gensim divides by zero: nan)."""
        vector_1 = np.asarray(vector_1)
        vectors_all = np.asarray(vectors_all)
        dots = vectors_all @ vector_1
        lengths = np.linalg.norm(vectors_all, axis=1) * np.linalg.norm(vector_1)
        out = np.zeros(dots.shape, dtype=np.result_type(dots, lengths))
        return np.divide(dots, lengths, out=out, where=lengths > 0)

    def closer_than(self, key1: str, key2: str) -> list[str]:
        """The words closer (by cosine) to ``key1`` than ``key2`` is, in row order, ``key1``
        itself left out, as gensim; ``key2`` and any word exactly as close are not closer."""
        dists = self.distances(key1)
        index1, index2 = self.get_index(key1), self.get_index(key2)
        closer = np.flatnonzero(dists < dists[index2])
        return [self.index_to_key[i] for i in closer.tolist() if i != index1]

    def words_closer_than(self, word1: str, word2: str) -> list[str]:
        """gensim's deprecated name for ``closer_than`` (it warns likewise)."""
        warnings.warn(
            "words_closer_than is deprecated (as in gensim); use closer_than",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.closer_than(word1, word2)

    def rank(self, key1: str, key2: str) -> int:
        """Where ``key2`` comes among ``key1``'s neighbours by cosine, as gensim: 1 plus
        the number of words closer to ``key1`` (so 1 for the nearest word, and for
        ``key1`` itself)."""
        return len(self.closer_than(key1, key2)) + 1

    # --------------------------------------------------------------- evaluation

    def evaluate_word_pairs(
        self,
        pairs: str | os.PathLike[str],
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
        analogies: str | os.PathLike[str],
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

    def _rows(self, caller: str, words: Iterable[str]) -> list[int]:
        """The rows of a list of words; unknown words raise ``UnknownWordError``."""
        if isinstance(words, str):
            raise TypeError(f"{caller} takes a list of words, not a single string")
        rows = [self.get_index(word) for word in words]
        if not rows:
            raise W2VError(f"{caller}: the list of words is empty")
        return rows
