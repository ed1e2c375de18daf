"""Word vectors that answer for any word: fastText's model behind gensim's KeyedVectors.

A :class:`SubwordVectors` is a KeyedVectors over the vocabulary's word vectors (each the mean
of the word's own row and its n-grams' rows) that also holds the whole fastText model
(fasttext_bin.FastTextModel), so that a word never seen in training gets the mean of its
n-grams' rows, as fastText's ``get_word_vector`` and gensim's FastText do. Lookups
(``kv[word]``, ``get_vector``, ``similarity``, ``most_similar``, ``distance``) take such
words; ``word in kv`` still means "in the vocabulary", and searches return vocabulary words
only. A word with no n-gram of ``minn`` to ``maxn`` characters (``maxn 0``, or a word
shorter than ``minn`` with its ``<`` ``>`` marks) has no vector, nor has one whose n-grams
all fall in buckets no vocabulary word's n-grams trained (such rows hold their start, zero
or random): either is an UnknownWordError, never a silent zero or random vector.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from .errors import UnknownWordError
from .fasttext_bin import FastTextModel, read_bin, write_bin
from .subwords import unseen_rows
from .vectors import KeyedVectors, _unit

__all__ = ["SubwordVectors"]


class SubwordVectors(KeyedVectors):
    """KeyedVectors of a fastText model; unseen words get vectors from their n-grams."""

    def __init__(self, model: FastTextModel) -> None:
        super().__init__(model.words, model.word_vectors(), model.counts)
        self.model = model

    def __repr__(self) -> str:
        s = self.model.subwords
        return (
            f"SubwordVectors({len(self)} words x {self.vector_size} dims, n-grams of "
            f"{s.minn}-{s.maxn} characters in {s.bucket:,} buckets)"
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SubwordVectors:
        """Read a fastText ``.bin`` (fastText's own, gensim's or ours)."""
        return cls(read_bin(path))

    def save_facebook_model(self, path: str | os.PathLike[str]) -> None:
        """Write the model as fastText's ``.bin`` (atomically), which fastText, gensim's
        ``load_facebook_model`` and w2v read (gensim's function name)."""
        write_bin(path, self.model)

    # ------------------------------------------------------------------ lookup

    def has_vector(self, word: str) -> bool:
        """Whether ``word`` has a vector: in the vocabulary, or with n-grams that training
        reached (what ``kv[word]`` answers without an error)."""
        if word in self.key_to_index:
            return True
        try:
            self._unseen(word)
        except UnknownWordError:
            return False
        return True

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        """The vector of ``word``: its row when in the vocabulary, else the mean of its
        n-grams' rows (unit length with ``norm=True``); read-only."""
        if word in self.key_to_index:
            return super().get_vector(word, norm)
        vector = self._unseen(word)
        if norm:
            vector = _unit(vector.astype(np.float64)).astype(np.float32)
        vector.flags.writeable = False
        return vector

    def __getitem__(self, key: str | Iterable[str]) -> np.ndarray:
        if isinstance(key, str):
            return self.get_vector(key)
        rows = [self.get_vector(word) for word in key]
        return np.array(rows, dtype=np.float32).reshape(-1, self.vector_size)

    def similarity(self, w1: str, w2: str) -> float:
        v1 = _unit(self.get_vector(w1).astype(np.float64))
        v2 = _unit(self.get_vector(w2).astype(np.float64))
        return float(np.dot(v1, v2))

    def euclidean_distance(self, w1: str, w2: str) -> float:
        v1 = self.get_vector(w1).astype(np.float64)
        v2 = self.get_vector(w2).astype(np.float64)
        return float(np.linalg.norm(v1 - v2))

    def most_similar(
        self,
        positive: Any = None,
        negative: Any = None,
        topn: int = 10,
        restrict_vocab: int | None = None,
        metric: str = "cosine",
    ) -> list[tuple[str, float]]:
        """KeyedVectors.most_similar, with unseen words taken as their n-gram vectors (as
        gensim's FastText does); only vocabulary words are returned."""
        return super().most_similar(
            self._known(positive, metric != "euclidean"),
            self._known(negative, True),
            topn,
            restrict_vocab,
            metric,
        )

    def most_similar_cosmul(
        self,
        positive: Any = None,
        negative: Any = None,
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """KeyedVectors.most_similar_cosmul, with unseen words as their n-gram vectors."""
        return super().most_similar_cosmul(
            self._known(positive, False), self._known(negative, False), topn, restrict_vocab
        )

    def with_words(self, words: Iterable[str]) -> KeyedVectors:
        """A plain KeyedVectors of the vocabulary followed by ``words`` that are not in it,
        each from its n-grams (a word without a vector is left out, and stays unknown):
        what ``w2v evaluate --oov subwords`` scores and ``w2v plot words`` draws, so that
        searches restricted to the most frequent words still see the vocabulary first."""
        extra, rows = [], []
        for word in dict.fromkeys(words):
            if word in self.key_to_index:
                continue
            try:
                rows.append(self._unseen(word))
            except UnknownWordError:
                continue
            extra.append(word)
        vectors = np.concatenate([self.vectors, np.array(rows)]) if rows else self.vectors
        counts = None
        if self.counts is not None:  # an unseen word was seen zero times
            counts = np.concatenate([self.counts, np.zeros(len(extra), dtype=np.int64)])
        return KeyedVectors(self.index_to_key + extra, vectors, counts)

    # ---------------------------------------------------------------- internals

    def _unseen(self, word: str) -> np.ndarray:
        if not isinstance(word, str):
            raise TypeError(f"words are str, got {type(word).__name__}")
        vector = np.array(self.model.vector(word), dtype=np.float32)  # or UnknownWordError
        s = self.model.subwords
        rows = unseen_rows(word, s, len(self.model.words))
        if not self._trained[rows].any():
            why = (
                "it is not in the vocabulary and none of its n-grams is in a bucket that a "
                "vocabulary word's n-grams trained (its vector would be the rows' random start)"
            )
            raise UnknownWordError(word, [], why)
        return vector

    @cached_property
    def _trained(self) -> np.ndarray:
        """For each row of the input table, whether training moved it: the rows of the
        vocabulary's bags (fastText trains no other n-gram; an untrained row holds its start:
        zero in w2v's models, random or zero in fastText's)."""
        trained = np.zeros(len(self.model.input), dtype=bool)
        trained[self.model.vocabulary_bags.rows] = True
        return trained

    def _known(self, items: Any, normalize: bool) -> Any:
        """``items`` (most_similar's positive or negative) with each unseen word replaced
        by its vector (unit length when ``normalize``: most_similar scales words, never
        vectors)."""
        if items is None:
            return None
        single = isinstance(items, str | np.ndarray)
        listed: Sequence[Any] = [items] if single else list(items)
        out = []
        for item in listed:
            weight = None
            if isinstance(item, tuple) and len(item) == 2:
                item, weight = item
            if isinstance(item, str) and item not in self.key_to_index:
                vector = self._unseen(item).astype(np.float64)
                item = _unit(vector) if normalize else vector
            out.append(item if weight is None else (item, weight))
        return out
