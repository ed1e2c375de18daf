"""Character n-grams of words and their rows, as fastText defines them.

A word's input vector, in fastText's model, is the mean of its own row and the rows of the
character n-grams of ``<word>`` (``<`` and ``>`` mark its ends): every n-gram of ``minn`` to
``maxn`` whole UTF-8 characters, except ``<`` and ``>`` alone. An n-gram's row is
``words + fnv1a(ngram) % bucket`` in one input table of ``words + bucket`` rows, where
fnv1a is FNV-1a over the n-gram's UTF-8 bytes taken as *signed* chars (fastText's
``Dictionary::hash`` XORs ``uint32_t(int8_t(c))``, so a byte of 0x80 or more is
sign-extended first: the quirk that makes its hashes of non-ASCII text differ from plain
FNV-1a). Following the definition exactly is what lets a fastText ``.bin`` answer here, and
ours there, with the same vector for an unseen word.

:func:`ngrams` and :func:`ngram_hashes` are the definition, one word at a time, in Python
(importing this module is light); subword_bags.py computes every word of a vocabulary at
once, compiled, for training and for loading a model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOW, EOW = "<", ">"
FNV_OFFSET = 2166136261
FNV_PRIME = 16777619
UINT32 = 0xFFFFFFFF
# fastText's defaults
DEFAULT_MINN, DEFAULT_MAXN, DEFAULT_BUCKET = 3, 6, 2_000_000

# fastText's sigmoid, part of its model: a table of SIGMOID_STEPS steps over [-MAX_SIGMOID,
# MAX_SIGMOID], read at the step at or below x; 0 below the range and 1 above it, so a
# saturated pair gets no gradient at all. Against the exact sigmoid it pushes positives a
# little harder and negatives a little softer, and measured on enwiki (5 epochs, skip-gram)
# that was worth 2 points of semantic analogies: bench/results/subwords-sg-5ep-*.md.
MAX_SIGMOID = 8.0
SIGMOID_STEPS = 512
_SIGMOID_AT = np.arange(SIGMOID_STEPS + 1) * (2 * MAX_SIGMOID / SIGMOID_STEPS) - MAX_SIGMOID
SIGMOID_TABLE = (1.0 / (1.0 + np.exp(-_SIGMOID_AT))).astype(np.float32)


def sigmoid(x: float) -> float:
    """fastText's ``Loss::sigmoid`` (the compiled engine and the torch reference read the
    same table)."""
    if x < -MAX_SIGMOID:
        return 0.0
    if x > MAX_SIGMOID:
        return 1.0
    return float(SIGMOID_TABLE[int((x + MAX_SIGMOID) * (SIGMOID_STEPS / MAX_SIGMOID / 2))])


@dataclass(frozen=True)
class Subwords:
    """What decides a word's n-gram rows: the n-gram lengths and the number of buckets."""

    minn: int = DEFAULT_MINN
    maxn: int = DEFAULT_MAXN
    bucket: int = DEFAULT_BUCKET

    def __post_init__(self) -> None:
        if self.bucket < 0 or self.minn < 0 or self.maxn < 0:
            raise ValueError("minn, maxn and bucket must be >= 0")
        if self.maxn and (self.minn < 1 or self.minn > self.maxn):
            raise ValueError(f"minn must be in [1, maxn={self.maxn}], got {self.minn}")
        if self.maxn and self.bucket == 0:
            raise ValueError("n-grams need bucket > 0 (or maxn = 0 to turn them off)")

    @property
    def enabled(self) -> bool:
        """Whether words have n-gram rows at all (fastText's ``-maxn 0`` turns them off)."""
        return self.maxn > 0 and self.bucket > 0

    def hashes(self, word: str) -> list[int]:
        """The bucket of each n-gram of ``word`` (in fastText's order; repeats kept)."""
        if not self.enabled:
            return []
        return [fnv1a(g.encode("utf-8")) % self.bucket for g in ngrams(word, self.minn, self.maxn)]


def fnv1a(data: bytes) -> int:
    """fastText's hash of a byte string: FNV-1a 32-bit over the bytes as signed chars."""
    h = FNV_OFFSET
    for byte in data:
        signed = byte - 256 if byte >= 128 else byte
        h = ((h ^ (signed & UINT32)) * FNV_PRIME) & UINT32
    return h


def ngrams(word: str, minn: int, maxn: int) -> list[str]:
    """The character n-grams of ``<word>``, as fastText's ``computeSubwords`` lists them:
    by start position, then length; ``<`` or ``>`` alone is never one."""
    marked = BOW + word + EOW
    found = []
    for i in range(len(marked)):
        for n in range(minn, maxn + 1):
            if i + n > len(marked):
                break
            if n == 1 and (i == 0 or i + n == len(marked)):
                continue
            found.append(marked[i : i + n])
    return found


def ngram_hashes(word: str, minn: int, maxn: int, bucket: int) -> list[int]:
    """The bucket of each n-gram of ``word`` (fastText's order, repeats kept)."""
    return Subwords(minn, maxn, bucket).hashes(word)


def unseen_rows(word: str, subwords: Subwords, first_row: int) -> np.ndarray:
    """The input rows of a word that is not in the vocabulary: its n-grams' rows only."""
    return np.asarray([first_row + h for h in subwords.hashes(word)], dtype=np.int64)
