"""gensim's KeyedVectors edits: add words, sort by frequency, scale every vector to unit
length, merge in vectors from a word2vec file.

``EditMixin`` is mixed into ``KeyedVectors`` (vectors.py). gensim's versions of these
leave its cached lengths stale (or, for ``add_vectors``, of the wrong size); here every
edit installs its result through ``KeyedVectors._assign`` (new words) or ``_set_vectors``
(same words), which forget every cache computed from the old table, so queries after an
edit answer as gensim does on a fresh table. The arrays are replaced, never written in
place: the array given to the constructor may be the caller's own.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import formats
from .errors import W2VError

__all__ = ["EditMixin"]

logger = logging.getLogger(__name__)


class EditMixin:
    """gensim's edits of a KeyedVectors, keeping w2v's caches right."""

    # Supplied by KeyedVectors.
    index_to_key: list[str]
    key_to_index: dict[str, int]
    vectors: np.ndarray
    vector_size: int
    counts: np.ndarray | None
    _normed: np.ndarray | None
    _norms: np.ndarray | None

    if TYPE_CHECKING:

        def __len__(self) -> int: ...
        @property
        def norms(self) -> np.ndarray: ...
        def get_normed_vectors(self) -> np.ndarray: ...
        def _assign(self, index_to_key: list[str], vectors: np.ndarray, counts: Any) -> None: ...
        def _set_vectors(self, vectors: np.ndarray) -> None: ...

    def add_vectors(
        self,
        keys: str | Sequence[str],
        weights: np.ndarray | Sequence[np.ndarray],
        extras: dict[str, Any] | None = None,
        replace: bool = False,
    ) -> None:
        """Append words and their vectors (one word and a 1-D vector, or a list and a
        matrix), as gensim. A word already present keeps its vector, unless ``replace``.

        ``extras`` takes gensim's per-word attributes; w2v keeps only ``"count"`` (one
        count per key; gensim's own ``extras`` handling fails on any non-empty dict). A
        word added without a count gets 0, as gensim's ``allocate_vecattrs`` would give
        it; the same holds for the words already there when the first counts arrive.
        Unlike gensim, a word given twice in ``keys`` is a ``ValueError`` (gensim indexes
        only its second row, leaving the first unreachable).
        """
        if isinstance(keys, str):
            keys = [keys]
            weights = np.asarray(weights).reshape(1, -1)
        keys = list(keys)
        weights = np.asarray(weights, dtype=np.float32)
        if weights.shape != (len(keys), self.vector_size):
            raise ValueError(
                f"{len(keys)} words need weights of shape ({len(keys)}, {self.vector_size}),"
                f" got {weights.shape}"
            )
        counts = _extra_counts(extras, len(keys))
        seen: set[str] = set()
        for key in keys:
            if not isinstance(key, str):
                raise TypeError(f"words are str, got {type(key).__name__}")
            if key in seen:
                raise ValueError(f"add_vectors: word {key!r} given twice")
            seen.add(key)
        known = np.array([key in self.key_to_index for key in keys], dtype=bool)
        new = ~known
        vectors = np.concatenate([self.vectors, weights[new]])
        rows = [self.key_to_index[key] for key, k in zip(keys, known.tolist(), strict=True) if k]
        if replace:
            vectors[rows] = weights[known]
        all_counts = None
        if self.counts is not None or counts is not None:
            old = self.counts if self.counts is not None else np.zeros(len(self), np.int64)
            added = counts[new] if counts is not None else np.zeros(int(new.sum()), np.int64)
            all_counts = np.concatenate([old, added])
            if replace and counts is not None:
                all_counts[rows] = counts[known]
        words = self.index_to_key + [key for key, n in zip(keys, new.tolist(), strict=True) if n]
        self._assign(words, vectors, all_counts)

    def sort_by_descending_frequency(self) -> None:
        """Reorder the words by descending count, as gensim: words, vectors and counts.

        Ties go as gensim sorts them, the word in the later row first, so a table already
        sorted with ties in some other order is reordered. Needs counts: ``KeyError``
        without them, as gensim. An empty table is left as it is.
        """
        if not len(self):
            return
        if self.counts is None:
            raise KeyError("these vectors carry no counts ('count') to sort by")
        rows = np.arange(len(self))
        order = np.lexsort((-rows, -self.counts))  # gensim's keys, to the same tie order
        words = [self.index_to_key[i] for i in order.tolist()]
        self._assign(words, self.vectors[order], self.counts[order])

    def unit_normalize_all(self) -> None:
        """Scale every vector to unit length, for good (gensim: "you cannot sensibly continue
        training after such a step"). Zero vectors stay zero; gensim makes them nan."""
        normed = self.get_normed_vectors()
        lengths = (self.norms > 0).astype(np.float32)
        self._set_vectors(normed.copy())
        # The rows are now their own unit vectors; dividing them by their float32 lengths
        # again could move a last bit, so the caches are the ones just used. The lengths
        # are 1 (0 for a zero row), as gensim sets them.
        self._normed = normed
        lengths.flags.writeable = False
        self._norms = lengths

    def intersect_word2vec_format(
        self,
        fname: str | os.PathLike[str],
        lockf: float = 0.0,
        binary: bool | None = None,
    ) -> None:
        """Take the vectors of the words of a word2vec file that are also in this table;
        no word is added, the others keep theirs (gensim's merge of pretrained vectors).

        The file is read by formats.read_word2vec (``binary=None``, the default here,
        sniffs the format; gensim's default ``False`` means text), so every problem with it
        is a ``W2VError`` naming it, as is a dimension other than this table's; a word in
        the file twice gives its first vector (gensim: its last). ``lockf`` is gensim's
        lock factor for the merged words' further training; w2v never trains a
        KeyedVectors further, so it is accepted and has no effect. (gensim 4.4's own
        KeyedVectors fails here with ``AttributeError``, as only its Word2Vec model has
        lock factors, and on binary files under numpy 2, whose ``fromstring`` it calls.)
        """
        name = os.fspath(fname)
        # One word first: a file of the wrong dimension fails before it is read whole.
        _, first = formats.read_word2vec(fname, binary=binary, limit=1)
        if first.shape[1] != self.vector_size:
            raise W2VError(
                f"{name}: vectors of {first.shape[1]} dimensions, these have {self.vector_size}"
            )
        words, vectors = formats.read_word2vec(fname, binary=binary)
        pairs = [(self.key_to_index[w], j) for j, w in enumerate(words) if w in self.key_to_index]
        if pairs:
            rows, found = (list(column) for column in zip(*pairs, strict=True))
            merged = self.vectors.copy()
            merged[rows] = vectors[found]
            self._set_vectors(merged)
        logger.info("merged %d vectors from %s into %d words", len(pairs), name, len(self))


def _extra_counts(extras: dict[str, Any] | None, n: int) -> np.ndarray | None:
    """The counts in ``add_vectors``' ``extras``: the only attribute w2v keeps."""
    if not extras:
        return None
    unknown = sorted(set(extras) - {"count"})
    if unknown:
        raise ValueError(f"add_vectors: w2v keeps only the 'count' attribute, not {unknown}")
    counts = np.asarray(extras["count"], dtype=np.int64)
    if counts.shape != (n,):
        raise ValueError(f"{n} words need {n} counts, got shape {counts.shape}")
    return counts
