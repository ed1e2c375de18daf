"""The vocabulary, and everything derived from word counts.

As in fastText's ``dictionary``: the vocabulary owns the counts, the ids, the subsampling
keep-probabilities and the noise distribution for negative sampling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .rundir import read_vocab, write_vocab


@dataclass
class Vocab:
    """Words sorted by count (descending), ties by word: a stable, deterministic order."""

    words: list[str]
    counts: np.ndarray  # int64, counts[i] is the corpus count of words[i]
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.counts = np.asarray(self.counts, dtype=np.int64)
        if len(self.words) != len(self.counts):
            raise ValueError("words and counts differ in length")
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(
        cls,
        words: Sequence[str],
        counts: np.ndarray,
        min_count: int = 5,
        max_vocab: int | None = None,
    ) -> Vocab:
        counts = np.asarray(counts, dtype=np.int64)
        keep = np.flatnonzero(counts >= min_count)
        # Sort by word first, then stably by count, to get (-count, word) order.
        keep = keep[np.argsort(np.asarray([words[i] for i in keep], dtype=object), kind="stable")]
        keep = keep[np.argsort(-counts[keep], kind="stable")]
        if max_vocab is not None:
            keep = keep[:max_vocab]
        return cls([words[i] for i in keep], counts[keep])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    @property
    def total(self) -> int:
        """Corpus tokens that are in the vocabulary (word2vec's ``train_words``)."""
        return int(self.counts.sum())

    def remap(self, raw_words: Sequence[str]) -> np.ndarray:
        """int32 array mapping each raw (first-seen) id to a vocabulary id, or -1."""
        out = np.full(len(raw_words), -1, dtype=np.int32)
        for raw_id, word in enumerate(raw_words):
            vid = self.index.get(word)
            if vid is not None:
                out[raw_id] = vid
        return out

    def keep_probabilities(self, sample: float) -> np.ndarray:
        """word2vec's subsampling: P(keep w) = (sqrt(f/(s*T)) + 1) * (s*T)/f, at most 1.

        f is the word's count and T the number of in-vocabulary tokens, exactly as
        word2vec.c computes it (gensim uses the same formula).
        """
        if sample <= 0:
            return np.ones(len(self), dtype=np.float32)
        threshold = sample * self.total
        f = self.counts.astype(np.float64)
        keep = (np.sqrt(f / threshold) + 1.0) * threshold / f
        return np.minimum(keep, 1.0).astype(np.float32)

    def noise_distribution(self, exponent: float) -> np.ndarray:
        """P(negative = w) proportional to count(w) ** exponent (0 gives uniform).

        Computed in log space, so that a large exponent cannot overflow the weights.
        """
        log_weights = exponent * np.log(self.counts.astype(np.float64))
        weights = np.exp(log_weights - log_weights.max())
        return weights / weights.sum()

    def save(self, path: str | Path) -> None:
        """Write the vocabulary as a vocab.tsv file (see rundir.write_vocab)."""
        write_vocab(Path(path), self.words, self.counts.tolist())

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        words, counts = read_vocab(Path(path))
        return cls(words, np.asarray(counts, dtype=np.int64))
