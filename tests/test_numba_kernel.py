"""The compiled kernel is the same model as the PyTorch step: checked window by window, and
over whole sentences against a plain-Python replay of its random draws."""

import numpy as np
import pytest
import torch

from w2v.engines import numba_kernel as kernel
from w2v.engines.torch_batches import Batch
from w2v.engines.torch_model import Word2Vec

from helpers import alias_entries, draw_noise, lcg, random_tables

pytestmark = pytest.mark.skipif(not kernel.available(), reason="numba is not installed")

V, D = 10, 8


def tables(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    return random_tables(V, D, seed)


def torch_model(w_in: np.ndarray, w_out: np.ndarray, model: str, sharing: str) -> Word2Vec:
    m = Word2Vec(V, D, model=model, negative_sharing=sharing)
    with torch.no_grad():
        m.input.weight.copy_(torch.from_numpy(w_in))
        m.output.weight.copy_(torch.from_numpy(w_out))
    return m


def one_centre(centre: int, contexts: list[int]) -> Batch:
    t = torch.tensor
    return Batch(t([centre]), t(contexts), torch.zeros(len(contexts), dtype=torch.long), 0)


def kernel_window(w_in, w_out, centre, contexts, negatives, lr, cbow):
    targets = np.array([centre, *negatives], dtype=np.int64)
    ctx = np.array(contexts, dtype=np.int64)
    grad_in = np.empty((len(ctx) + 1, D), np.float32)
    grad_out = np.empty((len(targets), D), np.float32)
    return kernel.window_update(
        w_in, w_out, ctx, len(ctx), targets, len(targets), lr, cbow, grad_in, grad_out
    )


# Context 4 is also a negative (its gradients must come from the old tables), 4 appears
# twice as a context, 3 is drawn as a negative of itself (skipped, as in word2vec) and 1 is
# both a context and a twice-drawn negative.
CENTRE, CONTEXTS, NEGATIVES = 3, [1, 4, 4, 7], [4, 3, 9, 1, 1]


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_one_window_matches_the_pytorch_step(model):
    w_in, w_out = tables()
    ref = torch_model(w_in, w_out, model, "window")
    ref_loss, ref_n = ref.sgd_step(one_centre(CENTRE, CONTEXTS), torch.tensor([NEGATIVES]), 0.3)
    loss, n = kernel_window(w_in, w_out, CENTRE, CONTEXTS, NEGATIVES, 0.3, model == "cbow")
    assert n == ref_n == (len(CONTEXTS) if model == "sg" else 1)
    assert loss == pytest.approx(float(ref_loss), rel=1e-5)
    np.testing.assert_allclose(w_in, ref.input.weight.detach().numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(w_out, ref.output.weight.detach().numpy(), rtol=0, atol=1e-6)
    assert not np.allclose(w_in, tables()[0])  # it did move


def test_a_shared_window_is_not_the_same_as_applying_pairs_one_by_one():
    """Why the old-table rule matters: sequential pairs see each other's updates."""
    w_in, w_out = tables()
    kernel_window(w_in, w_out, CENTRE, CONTEXTS, NEGATIVES, 0.3, False)
    seq_in, seq_out = tables()
    for c in CONTEXTS:
        kernel_window(seq_in, seq_out, CENTRE, [c], NEGATIVES, 0.3, False)
    assert not np.allclose(w_out, seq_out, atol=1e-4)


def replay_chunk(w_in, w_out, ids, offsets, keep_prob, noise, *, window, negative, cbow,
                 shared, lr0, lr1, words_before, total, seed):  # fmt: skip
    """train_chunk written out plainly: the same draws, each window through the PyTorch
    step (a batch of one centre word)."""
    sharing = "window" if shared else "pair"
    ref = torch_model(w_in, w_out, "cbow" if cbow else "sg", sharing)
    state = seed
    subsample = bool((keep_prob < 1).any())
    loss, examples, words_done = 0.0, 0, words_before
    for s in range(len(offsets) - 1):
        sentence = ids[offsets[s] : offsets[s + 1]]
        lr = lr0 - (lr0 - lr1) * min(words_done / total, 1.0)
        words_done += len(sentence)
        kept = []
        for w in sentence:
            if subsample:
                state = lcg(state)
                if (state >> 40) / 2**24 >= keep_prob[w]:
                    continue
            kept.append(int(w))
        for i, centre in enumerate(kept):
            state = lcg(state)
            reach = 1 + (((state >> 32) * window) >> 32)
            near = range(max(0, i - reach), min(len(kept), i + reach + 1))
            ctx = [kept[j] for j in near if j != i]
            if not ctx:
                continue
            groups = [ctx] if (cbow or shared) else [[c] for c in ctx]
            for group in groups:
                negs = []
                for _ in range(negative):
                    state = lcg(state)
                    word, state = draw_noise(noise, state)
                    negs.append(word)
                part, n = ref.sgd_step(one_centre(centre, group), torch.tensor([negs]), lr)
                loss += float(part)
                examples += n
    return ref, loss, examples


@pytest.mark.parametrize(
    "model,shared", [("sg", True), ("sg", False), ("cbow", True)], ids=["sg", "sg-pair", "cbow"]
)
def test_a_chunk_matches_a_plain_replay_of_its_draws(model, shared):
    rng = np.random.default_rng(1)
    lengths = [12, 1, 30, 7, 25]
    ids = rng.integers(0, V, sum(lengths)).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    keep_prob = np.array([0.3, 1, 1, 0.8, 1, 1, 0.5, 1, 1, 1], dtype=np.float64)
    weights = np.array([5, 1, 3, 0, 4, 1, 2, 6, 1, 3], dtype=np.float64)  # 3 is never drawn
    noise = kernel.noise_table(weights / weights.sum())
    opts = dict(window=3, negative=4, cbow=model == "cbow", shared=shared, lr0=0.2, lr1=0.01)
    w_in, w_out = tables(2)
    ref, ref_loss, ref_n = replay_chunk(
        w_in, w_out, ids, offsets, keep_prob, noise, words_before=40, total=150, seed=77, **opts
    )
    loss, n = kernel.train_chunk(
        w_in, w_out, ids, offsets, 0, len(lengths), keep_prob, noise,
        3, True, 4, model == "cbow", shared, 0.2, 0.01, 40, 150, 77, 1,
    )  # fmt: skip
    assert n == ref_n > 0
    assert loss == pytest.approx(ref_loss, rel=1e-4)
    np.testing.assert_allclose(w_in, ref.input.weight.detach().numpy(), rtol=0, atol=2e-5)
    np.testing.assert_allclose(w_out, ref.output.weight.detach().numpy(), rtol=0, atol=2e-5)


def test_the_generator_is_word2vecs():
    """word2vec.c: next_random = next_random * 25214903917 + 11 (mod 2^64)."""
    state = np.uint64(1)
    for expected in [25214903928, lcg(25214903928), lcg(lcg(25214903928))]:
        state = kernel._next(state)
        assert int(state) == expected


def implied_distribution(table: np.ndarray) -> np.ndarray:
    """The exact probability of each word under the alias table."""
    thresholds, aliases = alias_entries(table)
    own = thresholds / 2.0**32
    probs = own.copy()
    np.add.at(probs, aliases, 1.0 - own)
    return probs / len(table)


@pytest.mark.parametrize(
    "weights",
    [
        np.array([5, 1, 3, 0, 4, 1, 2, 6, 1, 3], dtype=np.float64),
        np.ones(7),
        np.array([1.0]),
        np.random.default_rng(3).zipf(1.2, 5000).astype(np.float64) ** 0.75,
    ],
    ids=["small", "uniform", "one-word", "zipf"],
)
def test_the_noise_table_holds_the_noise_distribution(weights):
    probs = weights / weights.sum()
    table = kernel.noise_table(probs)
    np.testing.assert_allclose(implied_distribution(table), probs, rtol=0, atol=1e-9)
    thresholds, aliases = alias_entries(table)
    assert thresholds.min() >= 0 and thresholds.max() < 2**32
    assert aliases.max() < len(probs)
    assert not np.any((probs == 0) & (thresholds > 0))  # a zero-weight word keeps no share


@kernel.njit(cache=False)
def draw_many(table, n):
    words = np.empty(n, dtype=np.int64)
    state = np.uint64(12345)
    for i in range(n):
        state = kernel._next(state)
        words[i], state = kernel._draw_noise(table, state)
    return words


def test_the_kernel_draws_negatives_in_proportion():
    """Through the compiled draw itself: 200k negatives against the distribution."""
    weights = np.array([5, 1, 3, 0, 4, 1, 2, 6, 1, 3], dtype=np.float64)
    probs = weights / weights.sum()
    table = kernel.noise_table(probs)
    counts = np.bincount(draw_many(table, 200_000), minlength=len(probs))
    assert counts[3] == 0
    np.testing.assert_allclose(counts / counts.sum(), probs, atol=0.003)


def test_a_bad_noise_distribution_is_refused():
    with pytest.raises(ValueError):
        kernel.noise_table(np.zeros(4))
