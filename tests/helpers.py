"""Small generated corpora with planted structure, and a way to score them."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from types import ModuleType

import numpy as np
import pytest

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


def random_tables(vocab: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Input and output tables of N(0, 0.5) floats: rows that score far from zero, for the
    kernels' one-window tests."""
    rng = np.random.default_rng(seed)
    w_in = rng.normal(0, 0.5, (vocab, dim)).astype(np.float32)
    w_out = rng.normal(0, 0.5, (vocab, dim)).astype(np.float32)
    return w_in, w_out


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


# -- the Triton kernel, interpreted on the CPU (or compiled, on a GPU) -------------------------

# "cuda" runs the Triton tests compiled on a GPU (bench/gpu.py does); else the interpreter.
TRITON_TEST_DEVICE = os.environ.get("W2V_TEST_DEVICE", "cpu")
INTERPRET = "TRITON_INTERPRET"


def _interpreted_copy(name: str) -> ModuleType:
    """A private copy of a module, made while TRITON_INTERPRET is set: Triton reads it when
    it decorates a kernel. The module itself is left as it is."""
    origin = importlib.util.find_spec(name).origin
    spec = importlib.util.spec_from_file_location(name + "_interpreted", origin)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def triton_kernel_module() -> Iterator[ModuleType]:
    """w2v.engines.triton_kernel as the tests run it: on a GPU the module itself; else a
    copy decorated for Triton's interpreter, which runs a launch on CPU tensors, one
    program after another.

    Set up when the tests run, not when pytest collects them, so that other modules see
    Triton as they would without it. Triton's own jit functions (tl.sum, tl.randint, ...)
    are decorated when triton is first imported, for the GPU unless TRITON_INTERPRET was set
    then, and the interpreter cannot call those: while the copy is in use they are swapped
    for interpreted ones, and the variable is set (the interpreter reads it too)."""
    if TRITON_TEST_DEVICE != "cpu":
        from w2v.engines import triton_kernel

        yield triton_kernel
        return
    from triton.runtime.interpreter import InterpretedFunction
    from triton.runtime.jit import JITFunction

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(INTERPRET, "1")
        module = _interpreted_copy("w2v.engines.triton_kernel")
        swapped: dict[int, InterpretedFunction] = {}
        for name, language in list(sys.modules.items()):
            if not name.startswith("triton.language") or language is None:
                continue
            for attr, value in list(vars(language).items()):
                if isinstance(value, JITFunction):
                    new = swapped.setdefault(id(value), InterpretedFunction(value.fn))
                    patch.setattr(language, attr, new)
        yield module
