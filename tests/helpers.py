"""Small generated corpora with planted structure, and a way to score them."""

from __future__ import annotations

import numpy as np

from w2v.trainer import Callback

N_TOPICS = 6
WORDS_PER_TOPIC = 10


def topic_words() -> list[list[str]]:
    return [[f"t{t}w{i}" for i in range(WORDS_PER_TOPIC)] for t in range(N_TOPICS)]


def planted_sentences(n_sentences: int = 3000, seed: int = 0) -> list[list[str]]:
    """Sentences whose words come from one topic each, plus some shared filler words.

    Words of a topic share contexts and words of different topics never meet, so any model
    that learned from co-occurrence puts each word nearest to its own topic.
    """
    rng = np.random.default_rng(seed)
    topics = topic_words()
    fillers = ["the", "of", "and", "a"]
    out = []
    for _ in range(n_sentences):
        words = topics[rng.integers(N_TOPICS)]
        length = rng.integers(6, 14)
        sentence = [
            fillers[rng.integers(len(fillers))]
            if rng.random() < 0.25
            else words[rng.integers(len(words))]
            for _ in range(length)
        ]
        out.append(sentence)
    return out


def topic_accuracy(vectors) -> float:
    """Share of topic words whose nearest topic word is from the same topic."""
    hits = total = 0
    for t, words in enumerate(topic_words()):
        for w in words:
            best = next(x for x, _ in vectors.most_similar(w, topn=20) if x.startswith("t"))
            hits += best.startswith(f"t{t}w")
            total += 1
    return hits / total


class StopAfterBatches(Callback):
    """Ctrl-C after n progress reports (a batch of the torch engine, a chunk of numba)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def on_batch_end(self, trainer, words):
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt


# -- the compiled kernels' random draws, written out (to replay a chunk in Python) ------------

MASK64 = (1 << 64) - 1
ALIAS_BITS = 31  # as numba_kernel packs a noise table entry


def lcg(state: int) -> int:
    """word2vec.c's generator."""
    return (state * 25214903917 + 11) & MASK64


def alias_entries(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return table >> ALIAS_BITS, table & ((1 << ALIAS_BITS) - 1)


def draw_noise(table: np.ndarray, state: int) -> tuple[int, int]:
    """The alias draw written out: a slot from this draw, the coin from the next."""
    thresholds, aliases = alias_entries(table)
    slot = ((state >> 32) * len(table)) >> 32
    state = lcg(state)
    word = slot if (state >> 32) < thresholds[slot] else int(aliases[slot])
    return word, state
