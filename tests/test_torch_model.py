import math

import numpy as np
import pytest
import torch

from w2v.engines.torch_batches import Batch
from w2v.engines.torch_model import Word2Vec, context_matrix


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def reference_update(w_in, w_out, batch, negatives, lr, model):
    """word2vec's equations, one example at a time, every gradient from the old tables."""
    d_in, d_out = np.zeros_like(w_in), np.zeros_like(w_out)
    centers, contexts, owner = (t.numpy() for t in (batch.centers, batch.contexts, batch.owner))
    examples = []
    if model == "sg":
        for p in range(len(contexts)):
            examples.append(([contexts[p]], centers[owner[p]], negatives[p]))
    else:
        for c in range(len(centers)):
            ctx = contexts[owner == c]
            if len(ctx):
                examples.append((list(ctx), centers[c], negatives[c]))
    loss = 0.0
    for inputs, target, negs in examples:
        h = w_in[inputs].mean(0)
        grad_h = np.zeros_like(h)
        for j, t in enumerate([target, *negs]):
            if j > 0 and t == target:
                continue
            label = 1.0 if j == 0 else 0.0
            f = float(h @ w_out[t])
            loss -= math.log(sigmoid(f)) if label else math.log(sigmoid(-f))
            g = (label - sigmoid(f)) * lr
            grad_h += g * w_out[t]
            d_out[t] += g * h
        for i in inputs:  # word2vec: the whole error to every input word
            d_in[i] += grad_h
    return w_in + d_in, w_out + d_out, loss, len(examples)


def tiny_batch():
    centers = torch.tensor([0, 3, 5, 3, 1])
    owner = torch.tensor([0, 0, 1, 1, 1, 2, 4, 4])
    contexts = torch.tensor([3, 5, 0, 5, 2, 3, 3, 0])
    return Batch(centers, contexts, owner, words=5)


def make_model(model, tied=False, seed=0):
    generator = torch.Generator().manual_seed(seed)  # negatives per pair: one row each
    m = Word2Vec(7, 4, model=model, tied=tied, negative_sharing="pair", generator=generator)
    with torch.no_grad():  # non-zero output vectors so every term matters
        if not tied:
            m.output.weight.normal_(0, 0.5, generator=torch.Generator().manual_seed(seed + 1))
        m.input.weight.mul_(40)
    return m


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_sgd_step_matches_reference(model):
    m = make_model(model)
    batch = tiny_batch()
    rows = len(batch.contexts) if model == "sg" else len(batch.centers)
    negatives = torch.randint(0, 7, (rows, 3), generator=torch.Generator().manual_seed(3))
    negatives[0, 1] = batch.centers[batch.owner[0]] if model == "sg" else batch.centers[0]
    w_in0 = m.input.weight.detach().numpy().astype(np.float64).copy()
    w_out0 = m.output.weight.detach().numpy().astype(np.float64).copy()
    exp_in, exp_out, exp_loss, exp_n = reference_update(
        w_in0, w_out0, batch, negatives.numpy(), 0.1, model
    )
    loss, n = m.sgd_step(batch, negatives, 0.1)
    assert n == exp_n
    assert float(loss) == pytest.approx(exp_loss, rel=1e-5)
    np.testing.assert_allclose(m.input.weight.detach().numpy(), exp_in, atol=1e-6)
    np.testing.assert_allclose(m.output.weight.detach().numpy(), exp_out, atol=1e-6)


def test_sgd_step_equals_autograd_for_skipgram():
    batch = tiny_batch()
    negatives = torch.randint(
        0, 7, (len(batch.contexts), 3), generator=torch.Generator().manual_seed(4)
    )
    fast, slow = make_model("sg"), make_model("sg")
    fast.sgd_step(batch, negatives, 0.05)
    loss, _ = slow(batch, negatives)
    loss.backward()
    with torch.no_grad():
        for p in slow.parameters():
            p -= 0.05 * p.grad
    torch.testing.assert_close(fast.input.weight, slow.input.weight)
    torch.testing.assert_close(fast.output.weight, slow.output.weight)


def test_tied_tables_share_one_tensor_and_still_learn():
    m = make_model("sg", tied=True)
    assert m.input.weight is m.output.weight
    batch = tiny_batch()
    negatives = torch.randint(
        0, 7, (len(batch.contexts), 3), generator=torch.Generator().manual_seed(5)
    )
    with torch.no_grad():
        before, _ = m(batch, negatives)
        for _ in range(50):
            m.sgd_step(batch, negatives, 0.05)
        after, _ = m(batch, negatives)
    assert float(after) < float(before)


def test_seed_loss_computed_by_hand():
    # One shared table; centre 0 with contexts 1 and 2, negatives 3 and 4.
    table = torch.tensor([[1.0, 0.0], [0.5, 0.5], [-1.0, 2.0], [0.0, -1.0], [2.0, 1.0]])
    m = Word2Vec(5, 2, model="sg", loss="bce", tied=True, init="normal")
    with torch.no_grad():
        m.input.weight.copy_(table)
    batch = Batch(torch.tensor([0]), torch.tensor([1, 2]), torch.tensor([0, 0]), words=1)
    loss_sum, n = m(batch, torch.tensor([[3, 4]]))
    # dot products: pos 0.5, -1.0; neg 0.0, 2.0; BCE-with-logits, averaged over the 4
    by_hand = (
        -math.log(sigmoid(0.5))
        - math.log(sigmoid(-1.0))
        - math.log(1 - sigmoid(0.0))
        - math.log(1 - sigmoid(2.0))
    ) / 4
    assert n == 4
    assert float(loss_sum.detach()) / n == pytest.approx(by_hand, rel=1e-6)


def test_context_matrix_pads_each_centre_row():
    m = context_matrix(tiny_batch(), 4)
    assert m.tolist() == [
        [3, 5, -1, -1],
        [0, 5, 2, -1],
        [3, -1, -1, -1],
        [-1, -1, -1, -1],
        [3, 0, -1, -1],
    ]


def test_word2vec_initialisation():
    m = Word2Vec(1000, 50, generator=torch.Generator().manual_seed(0))
    w = m.input.weight.detach()
    assert float(w.abs().max()) <= 0.5 / 50
    assert float(w.std()) == pytest.approx(1 / 50 / math.sqrt(12), rel=0.05)
    assert float(m.output.weight.detach().abs().max()) == 0.0
