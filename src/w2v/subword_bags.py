"""Every word's n-gram rows at once, and word vectors from them: subwords.py's definition,
compiled with numba (hashing a vocabulary of a million words in Python would take minutes).

A vocabulary's bags are one CSR pair: word ``w`` is the mean of the input table's rows
``rows[offsets[w]:offsets[w + 1]]``, its own row ``w`` first, then one per n-gram.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .engines.numba_kernel import njit
from .subwords import BOW, EOW, FNV_OFFSET, FNV_PRIME, UINT32, Subwords


@njit(cache=True)
def _bag_sizes(data, starts, minn, maxn):
    """How many n-grams each word has (counted on whole UTF-8 characters)."""
    sizes = np.zeros(len(starts) - 1, dtype=np.int64)
    for w in range(len(starts) - 1):
        size = 0
        lo, hi = starts[w], starts[w + 1]
        for i in range(lo, hi):
            if (data[i] & 0xC0) == 0x80:
                continue
            j, n = i, 1
            while j < hi and n <= maxn:
                j += 1
                while j < hi and (data[j] & 0xC0) == 0x80:
                    j += 1
                if n >= minn and not (n == 1 and (i == lo or j == hi)):
                    size += 1
                n += 1
        sizes[w] = size
    return sizes


@njit(inline="always")
def _fnv_step(h, byte):
    """One byte of fastText's hash, in 64-bit arithmetic kept to 32 bits (numba widens
    uint32 products): the byte sign-extended, as C++'s ``uint32_t(int8_t(c))``."""
    signed = np.uint64(byte) | np.uint64(0xFFFFFF00) if byte >= 128 else np.uint64(byte)
    return ((h ^ signed) * np.uint64(FNV_PRIME)) & np.uint64(UINT32)


@njit(cache=True)
def _fill_bags(data, starts, minn, maxn, bucket, first_row, rows, offsets):
    """Each word's row, then its n-grams' rows, into ``rows[offsets[w]:offsets[w + 1]]``:
    fastText's computeSubwords over the bytes of ``<word>`` (a continuation byte never
    starts an n-gram, a character's bytes stay together)."""
    for w in range(len(starts) - 1):
        out = offsets[w]
        rows[out] = w
        out += 1
        lo, hi = starts[w], starts[w + 1]
        for i in range(lo, hi):
            if (data[i] & 0xC0) == 0x80:
                continue
            h = np.uint64(FNV_OFFSET)
            j, n = i, 1
            while j < hi and n <= maxn:
                h = _fnv_step(h, data[j])  # the next whole character
                j += 1
                while j < hi and (data[j] & 0xC0) == 0x80:
                    h = _fnv_step(h, data[j])
                    j += 1
                if n >= minn and not (n == 1 and (i == lo or j == hi)):
                    rows[out] = first_row + np.int64(h % np.uint64(bucket))
                    out += 1
                n += 1


def _marked_bytes(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``<word>`` of every word as UTF-8, concatenated, and where each starts."""
    encoded = [(BOW + w + EOW).encode("utf-8") for w in words]
    lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
    starts = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    return data, starts


@dataclass
class Bags:
    """The input rows of every word, in CSR form: word ``w`` is the mean of the rows
    ``rows[offsets[w]:offsets[w + 1]]`` of the input table (its own row ``w`` first, then
    ``words + bucket`` of each n-gram)."""

    rows: np.ndarray  # int64
    offsets: np.ndarray  # int64, one more than there are words

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def of(self, word: int) -> np.ndarray:
        return self.rows[self.offsets[word] : self.offsets[word + 1]]


def bags(words: Sequence[str], subwords: Subwords, first_row: int | None = None) -> Bags:
    """The bag of every word of a vocabulary (``first_row``: where the n-gram rows start in
    the input table, the number of words by default). Without n-grams a word's bag is its
    own row."""
    first = len(words) if first_row is None else first_row
    data, starts = _marked_bytes(words)
    if subwords.enabled:
        sizes = 1 + _bag_sizes(data, starts, subwords.minn, subwords.maxn)
    else:
        sizes = np.ones(len(words), dtype=np.int64)
    offsets = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    rows = np.empty(int(offsets[-1]), dtype=np.int64)
    if subwords.enabled:
        _fill_bags(
            data, starts, subwords.minn, subwords.maxn, subwords.bucket, first, rows, offsets
        )
    else:
        rows[:] = np.arange(len(words))
    return Bags(rows, offsets)


def mean_rows(table: np.ndarray, bags_: Bags) -> np.ndarray:
    """Every word's vector: the mean of its bag's rows (fastText's word vectors)."""
    return _mean_rows(table, bags_.rows, bags_.offsets)


@njit(cache=True)
def _mean_rows(table, rows, offsets):
    n = len(offsets) - 1
    out = np.zeros((n, table.shape[1]), dtype=np.float32)
    for w in range(n):
        lo, hi = offsets[w], offsets[w + 1]
        for r in range(lo, hi):
            row = table[rows[r]]
            for d in range(table.shape[1]):
                out[w, d] += row[d]
        if hi > lo:
            scale = np.float32(1.0 / (hi - lo))
            for d in range(table.shape[1]):
                out[w, d] *= scale
    return out
