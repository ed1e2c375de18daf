"""fastText's n-grams and hash, and the subword model's update: the compiled kernel against
the PyTorch reference, one window at a time."""

import numpy as np
import pytest
import torch

from w2v.engines import numba_subwords
from w2v.engines.torch_batches import Batch
from w2v.engines.torch_model import TorchBags, Word2Vec, fasttext_sigmoid
from w2v.subword_bags import bags, mean_rows
from w2v.subwords import MAX_SIGMOID, Subwords, fnv1a, ngram_hashes, ngrams, sigmoid

WORDS = ["dog", "naïve", "日本語", "😀x", "a", "self-governed", "Ωmega", "z"]


def test_the_hash_is_fnv1a_over_signed_bytes():
    # FNV-1a 32 of "a" is 0xe40c292c; an ASCII byte is the same signed or not
    assert fnv1a(b"a") == 0xE40C292C
    assert fnv1a(b"") == 2166136261
    # 0xc3 taken as a signed char is sign-extended before the XOR: fastText's quirk
    plain = ((2166136261 ^ 0xC3) * 16777619) & 0xFFFFFFFF
    quirk = ((2166136261 ^ 0xFFFFFFC3) * 16777619) & 0xFFFFFFFF
    assert fnv1a(b"\xc3") == quirk != plain


def test_ngrams_follow_fasttexts_compute_subwords():
    assert ngrams("dog", 3, 6) == ["<do", "<dog", "<dog>", "dog", "dog>", "og>"]
    # whole characters: é and 日 are one each, though two and three bytes
    assert ngrams("né", 3, 3) == ["<né", "né>"]
    assert ngrams("日本", 2, 2) == ["<日", "日本", "本>"]
    assert ngrams("😀", 1, 2) == ["<😀", "😀", "😀>"]  # never < or > alone
    assert ngrams("a", 3, 6) == ["<a>"]
    assert ngrams("", 3, 6) == []  # "<>" is shorter than any n-gram
    assert Subwords(3, 0, 100).hashes("anything") == []  # maxn 0: no n-grams


def test_our_hashes_are_gensims():
    gensim = pytest.importorskip("gensim.models.fasttext")
    for minn, maxn in [(3, 6), (1, 3), (2, 2), (1, 8)]:
        for word in WORDS:
            expected = list(gensim.ft_ngram_hashes(word, minn, maxn, 2_000_000))
            assert ngram_hashes(word, minn, maxn, 2_000_000) == expected, (word, minn, maxn)


@pytest.mark.parametrize(("minn", "maxn"), [(3, 6), (1, 1), (2, 4), (3, 0)])
def test_the_compiled_bags_are_the_definition(minn, maxn):
    settings = Subwords(minn, maxn, 1000)
    found = bags(WORDS, settings)
    for w, word in enumerate(WORDS):
        expected = [w] + [len(WORDS) + h for h in settings.hashes(word)]
        assert found.of(w).tolist() == expected


def test_a_word_vector_is_the_mean_of_its_bag():
    settings = Subwords(3, 6, 50)
    found = bags(WORDS, settings)
    table = np.random.default_rng(0).normal(size=(len(WORDS) + 50, 4)).astype(np.float32)
    vectors = mean_rows(table, found)
    for w in range(len(WORDS)):
        np.testing.assert_allclose(vectors[w], table[found.of(w)].mean(0), atol=1e-6)


def test_the_sigmoid_is_fasttexts_table():
    """fastText's Loss::sigmoid: 512 steps over [-8, 8], read at the step at or below x."""
    assert sigmoid(-8.01) == 0.0 and sigmoid(8.01) == 1.0  # no gradient when saturated
    assert sigmoid(0.0) == pytest.approx(0.5)
    assert sigmoid(8.0) == pytest.approx(1 / (1 + np.exp(-8.0)))
    step = 2 * MAX_SIGMOID / 512
    for x in (-7.99, -1.3, 0.01, 0.5, 2.71, 7.9):
        below = np.floor((x + MAX_SIGMOID) / step) * step - MAX_SIGMOID
        assert sigmoid(x) == pytest.approx(1 / (1 + np.exp(-below)), rel=1e-6)
        assert sigmoid(x) <= 1 / (1 + np.exp(-x)) + 1e-7  # read below (a float32 table)
    x = torch.tensor([-9.0, -8.0, -1.3, 0.0, 0.01, 2.71, 8.0, 9.0])
    expected = [sigmoid(float(v)) for v in x.tolist()]
    np.testing.assert_allclose(fasttext_sigmoid(x).numpy(), expected, rtol=1e-6)


# -- the update ------------------------------------------------------------------------------

V, D, BUCKET = 10, 8, 7
VOCAB = [f"w{i}" for i in range(V - 2)] + ["wx", "w1x"]  # n-grams shared between words


def tables():
    rng = np.random.default_rng(3)
    w_in = rng.normal(0, 0.5, (V + BUCKET, D)).astype(np.float32)
    w_out = rng.normal(0, 0.5, (V, D)).astype(np.float32)
    return w_in, w_out


def torch_step(w_in, w_out, model, sharing, centre, contexts, negatives, lr):
    table_in, table_out = torch.from_numpy(w_in.copy()), torch.from_numpy(w_out.copy())
    m = Word2Vec(V, D, model=model, negative_sharing=sharing)
    m.input = torch.nn.Embedding.from_pretrained(table_in, freeze=False)
    m.output = torch.nn.Embedding.from_pretrained(table_out, freeze=False)
    found = bags(VOCAB, Subwords(1, 3, BUCKET))
    t = torch.tensor
    batch = Batch(t([centre]), t(contexts), torch.zeros(len(contexts), dtype=torch.long), 0)
    loss, n = m.subword_sgd_step(
        batch, t(negatives), lr, TorchBags(found.rows, found.offsets, "cpu")
    )
    return float(loss), n, table_in.numpy(), table_out.numpy()


def kernel_step(w_in, w_out, model, sharing, centre, contexts, negatives, lr):
    """The kernel's window as train_chunk_subwords sets it up."""
    found = bags(VOCAB, Subwords(1, 3, BUCKET))
    ctx = np.array(contexts, np.int64)
    negs = np.array(negatives, np.int64)
    if model == "cbow":
        targets = np.array([centre, *negs[0]], np.int64)
        weights = np.array([1.0] + [float(x != centre) for x in negs[0]], np.float32)
        inputs, n_pos, examples = ctx, 1, 1
    elif sharing == "window":
        targets = np.concatenate([ctx, negs[0]])
        uses = [sum(c != x for c in contexts) for x in negs[0]]
        weights = np.array([1.0] * len(ctx) + uses, np.float32)
        inputs, n_pos, examples = np.array([centre]), len(ctx), len(ctx)
    else:
        loss = numba_subwords.subword_pairs_update(
            w_in, w_out, found.rows, found.offsets, centre, ctx, len(ctx), negs.ravel(),
            negs.shape[1], lr, np.empty(D, np.float32), np.empty(D, np.float32),
            np.empty(D, np.float32), True,
        )  # fmt: skip
        return loss, len(ctx)
    loss = numba_subwords.subword_update(
        w_in, w_out, found.rows, found.offsets, inputs, len(inputs), targets, weights, n_pos,
        len(targets), lr, np.empty(D, np.float32), np.empty(D, np.float32),
        np.empty((len(targets), D), np.float32), True,
    )  # fmt: skip
    return loss, examples


# Context 4 is also a negative (its gradients must come from the old tables), 4 appears twice
# as a context, the centre 3 is drawn as a negative (kept in skip-gram, where the positives are
# the contexts; skipped in CBOW), 1 is a context and a twice-drawn negative, and words share
# n-gram rows (w1, w1x, wx).
CENTRE, CONTEXTS = 3, [1, 4, 4, 9]
SHARED = [[4, 3, 8, 1, 1]]
PER_PAIR = [[4, 3, 8], [1, 1, 2], [4, 0, 5], [9, 9, 6]]


@pytest.mark.parametrize(
    ("model", "sharing", "negatives"),
    [("sg", "window", SHARED), ("sg", "pair", PER_PAIR), ("cbow", "window", SHARED)],
)
def test_one_window_matches_the_pytorch_step(model, sharing, negatives):
    w_in, w_out = tables()
    ref_loss, ref_n, ref_in, ref_out = torch_step(
        w_in, w_out, model, sharing, CENTRE, CONTEXTS, negatives, 0.3
    )
    loss, n = kernel_step(w_in, w_out, model, sharing, CENTRE, CONTEXTS, negatives, 0.3)
    assert n == ref_n
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    np.testing.assert_allclose(w_in, ref_in, rtol=0, atol=1e-6)
    np.testing.assert_allclose(w_out, ref_out, rtol=0, atol=1e-6)
    start_in, start_out = tables()
    assert not np.allclose(w_in[V:], start_in[V:])  # the n-gram rows moved
    assert not np.allclose(w_out, start_out)


def fasttext_pairs(w_in, w_out, centre, contexts, negatives, lr):
    """fastText's Model::update for each pair of a skip-gram window, as it is written: the
    hidden vector recomputed from the bag's rows, each target's output row moved right
    after its gradient is taken (with fastText's table sigmoid), every row of the bag moved
    after the pair. The loss is the exact -log sigmoid, as w2v reports it."""
    rows = bags(VOCAB, Subwords(1, 3, BUCKET)).of(centre)
    loss = 0.0
    for context, drawn in zip(contexts, negatives, strict=True):
        h = w_in[rows].astype(np.float64).mean(0)
        grad = np.zeros_like(h)
        for label, target in [(1.0, context)] + [(0.0, x) for x in drawn if x != context]:
            logit = float(h @ w_out[target])
            loss += np.logaddexp(0.0, -logit if label else logit)
            g = (label - sigmoid(logit)) * lr
            grad += g * w_out[target]
            w_out[target] += g * h
        for row in rows:  # a row twice in the bag moves twice
            w_in[row] += grad
    return loss


def test_pairs_of_a_window_go_in_fasttexts_order():
    w_in, w_out = tables()
    ref_in, ref_out = w_in.copy(), w_out.copy()
    ref_loss = fasttext_pairs(ref_in, ref_out, CENTRE, CONTEXTS, PER_PAIR, 0.3)
    loss, _ = kernel_step(w_in, w_out, "sg", "pair", CENTRE, CONTEXTS, PER_PAIR, 0.3)
    bag = bags(VOCAB, Subwords(1, 3, BUCKET)).of(CENTRE)
    assert len(set(bag.tolist())) < len(bag)  # the bag holds a row more than once
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    np.testing.assert_allclose(w_in, ref_in, rtol=0, atol=1e-5)
    np.testing.assert_allclose(w_out, ref_out, rtol=0, atol=1e-5)
    # the order matters: every pair scored from the tables as they were ends elsewhere
    old_in, old_out = tables()
    found = bags(VOCAB, Subwords(1, 3, BUCKET))
    targets = np.array(CONTEXTS + [x for drawn in PER_PAIR for x in drawn], np.int64)
    skip = [float(x != c) for c, drawn in zip(CONTEXTS, PER_PAIR, strict=True) for x in drawn]
    weights = np.array([1.0] * len(CONTEXTS) + skip, np.float32)
    numba_subwords.subword_update(
        old_in, old_out, found.rows, found.offsets, np.array([CENTRE]), 1, targets, weights,
        len(CONTEXTS), len(targets), 0.3, np.empty(D, np.float32), np.empty(D, np.float32),
        np.empty((len(targets), D), np.float32), True,
    )  # fmt: skip
    assert np.abs(old_in - ref_in).max() > 1e-3


def test_every_row_of_the_bag_gets_the_whole_gradient():
    """fastText adds the input vector's gradient to each of its rows, not a share of it."""
    w_in, w_out = tables()
    before = w_in.copy()
    kernel_step(w_in, w_out, "sg", "window", CENTRE, [1], [[2]], 0.3)
    rows, times = np.unique(bags(VOCAB, Subwords(1, 3, BUCKET)).of(CENTRE), return_counts=True)
    assert times.max() > 1  # an n-gram row twice in the bag (the small bucket) gets it twice
    per_use = (w_in[rows] - before[rows]) / times[:, None]
    np.testing.assert_allclose(per_use, np.broadcast_to(per_use[0], per_use.shape), atol=1e-7)
    assert np.abs(per_use).max() > 1e-3
