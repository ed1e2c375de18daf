"""The numba engine's kernel for fastText's model (``--subwords``): a word's input vector is
the mean of its bag of rows (its own and its character n-grams', subword_bags.py).

Skip-gram is written as fastText writes it: the centre word's bag is the input, and it
predicts each of its context words. That order makes a window cost one bag: the mean is
taken once, every context and negative is scored against it, and the summed gradient is
added once to each row of the bag (fastText adds the whole gradient to every row, not a
share of it). Negatives, as in numba_kernel.py:

- ``window`` (default): one set of K negatives per centre, shared by the pairs of its
  window. Each pair scores them against the same input vector, so a negative's gradient is
  its one-pair gradient times the number of pairs that use it (a negative equal to a pair's
  context is skipped for that pair): K dot products serve the whole window.
- ``pair``: each (centre, context) pair draws its own K negatives, and the pairs of a
  window go one after another in fastText's order (subword_pairs_update): each sees the
  bag and the output rows as the pairs before it left them. Measured against the window
  at a time (bench/results/subwords-sg-5ep-cpu-2core*.md): faster (no gradient buffer per
  target) and within a run's noise of it in quality.

CBOW takes the mean of every row of every context word's bag (fastText's ``bow``) to
predict the centre, and adds the whole gradient to each of those rows.

Otherwise, as everywhere in w2v, every gradient of a window is computed from the tables as
they were before it and then all are added. torch_model.Word2Vec.subword_sgd_step is the
reference for both. The sigmoid is fastText's table (subwords.sigmoid), as in fastText's
model; the loss reported is the exact one.
"""

from __future__ import annotations

import numpy as np

from ..subwords import MAX_SIGMOID, SIGMOID_STEPS, SIGMOID_TABLE
from .numba_kernel import (
    _draw_noise,
    _keep_words,
    _longest_sentence,
    _next,
    _sentence_lr,
    _sigmoid_and_nll,
    _subsamples,
    _window,
    njit,
)


@njit(inline="always")
def _sigmoid(x: float) -> float:
    """fastText's table sigmoid (subwords.sigmoid)."""
    if x < -MAX_SIGMOID:
        return 0.0
    if x > MAX_SIGMOID:
        return 1.0
    return SIGMOID_TABLE[np.int64((x + MAX_SIGMOID) * (SIGMOID_STEPS / MAX_SIGMOID / 2))]


@njit(inline="always")
def _score(f: float, label: float, with_loss: bool) -> tuple[float, float]:
    """fastText's sigmoid of the logit ``f`` and, if asked, the example's loss (the exact
    -log sigmoid, as the other kernels report it)."""
    nll = _sigmoid_and_nll(f, label, True)[1] if with_loss else 0.0
    return _sigmoid(f), nll


@njit(fastmath=True, nogil=True, cache=True, error_model="numpy")
def subword_update(
    w_in, w_out, bag_rows, bag_offsets, inputs, n_inputs, targets, weights, n_pos, n_targets,
    lr, grad_h, h, grad_out, with_loss=True,
):  # fmt: skip
    """One window's update; returns the summed loss (0 without ``with_loss``).

    The input vector ``h`` is the mean of the rows of the bags of ``inputs[:n_inputs]``
    (skip-gram: the centre alone; CBOW: its context words). ``targets[:n_pos]`` are
    positives (label 1), ``targets[n_pos:n_targets]`` negatives (label 0); ``weights[t]``
    says how many examples target ``t`` counts for (0: skipped). ``grad_h``, ``h`` are
    scratch rows of dim floats, ``grad_out`` at least (n_targets, dim).
    """
    dim = w_in.shape[1]
    rows = 0
    for d in range(dim):
        h[d] = 0.0
        grad_h[d] = 0.0
    for i in range(n_inputs):
        word = inputs[i]
        for r in range(bag_offsets[word], bag_offsets[word + 1]):
            row = w_in[bag_rows[r]]
            for d in range(dim):
                h[d] += row[d]
            rows += 1
    if rows == 0:
        return 0.0
    scale = np.float32(1.0 / rows)
    for d in range(dim):
        h[d] *= scale
    loss = 0.0
    for t in range(n_targets):
        weight = weights[t]
        du = grad_out[t]
        if weight == 0.0:
            continue
        u = w_out[targets[t]]
        f = np.float32(0.0)
        for d in range(dim):
            f += h[d] * u[d]
        label = 1.0 if t < n_pos else 0.0
        s, nll = _score(f, label, with_loss)
        loss += weight * nll
        g = np.float32(weight * (label - s) * lr)
        for d in range(dim):
            grad_h[d] += g * u[d]
        for d in range(dim):
            du[d] = g * h[d]
    for t in range(n_targets):
        if weights[t] == 0.0:
            continue
        row = w_out[targets[t]]
        du = grad_out[t]
        for d in range(dim):
            row[d] += du[d]
    for i in range(n_inputs):
        word = inputs[i]
        for r in range(bag_offsets[word], bag_offsets[word + 1]):
            row = w_in[bag_rows[r]]
            for d in range(dim):
                row[d] += grad_h[d]
    return loss


@njit(inline="always")
def _bag_drift(bag_rows, lo, hi) -> float:
    """How far a bag's mean moves when each of its entries gets a vector g, in units of g:
    sum of m(row)^2 over its distinct rows / entries; 1 unless a row is in it twice."""
    n = hi - lo
    twice = 0
    for i in range(lo, hi):
        for j in range(i + 1, hi):
            if bag_rows[i] == bag_rows[j]:
                twice += 1
    return (n + 2.0 * twice) / n


@njit(fastmath=True, nogil=True, cache=True, error_model="numpy")
def subword_pairs_update(
    w_in, w_out, bag_rows, bag_offsets, centre, contexts, n_ctx, negatives, negative, lr, h,
    grad_pair, grad_h, with_loss=True,
):  # fmt: skip
    """Skip-gram with negatives per pair, in fastText's order: the pairs of the window one
    after another, pair j scoring its context and its K negatives (``negatives[j *
    negative:][:negative]``) against the centre's bag mean as the pairs before it left it,
    each output row moved as soon as its gradient is known, and the bag's rows moved by
    each pair's gradient. The rows get the window's summed gradient once at the end; the
    mean is moved after each pair by what those additions will do to it (``_bag_drift``),
    so it is not recomputed per pair. Returns the summed loss (0 without ``with_loss``). A
    negative equal to its pair's context is skipped (fastText draws again)."""
    dim = w_in.shape[1]
    lo, hi = bag_offsets[centre], bag_offsets[centre + 1]
    for d in range(dim):
        h[d] = 0.0
        grad_h[d] = 0.0
    for r in range(lo, hi):
        row = w_in[bag_rows[r]]
        for d in range(dim):
            h[d] += row[d]
    scale = np.float32(1.0 / (hi - lo))
    for d in range(dim):
        h[d] *= scale
    drift = np.float32(_bag_drift(bag_rows, lo, hi))
    loss = 0.0
    for j in range(n_ctx):
        for d in range(dim):
            grad_pair[d] = 0.0
        for k in range(negative + 1):
            if k == 0:
                target, label = contexts[j], 1.0
            else:
                target, label = negatives[j * negative + k - 1], 0.0
                if target == contexts[j]:
                    continue
            u = w_out[target]
            f = np.float32(0.0)
            for d in range(dim):
                f += h[d] * u[d]
            s, nll = _score(f, label, with_loss)
            loss += nll
            g = np.float32((label - s) * lr)
            for d in range(dim):
                grad_pair[d] += g * u[d]
                u[d] += g * h[d]
        for d in range(dim):
            h[d] += drift * grad_pair[d]
            grad_h[d] += grad_pair[d]
    for r in range(lo, hi):
        row = w_in[bag_rows[r]]
        for d in range(dim):
            row[d] += grad_h[d]
    return loss


@njit(fastmath=True, nogil=True, cache=True, error_model="numpy")
def train_chunk_subwords(
    w_in, w_out, bag_rows, bag_offsets, ids, offsets, first_sentence, end_sentence, keep_prob,
    noise, window, shrink_windows, negative, cbow, shared_negatives, lr_start, lr_end,
    words_before, total_words, seed, loss_every,
):  # fmt: skip
    """numba_kernel.train_chunk for fastText's model: the same sentences, subsampling,
    windows and learning rate, drawn in the same order; returns (summed loss, examples)."""
    dim = w_in.shape[1]
    state = np.uint64(seed)
    kept = np.empty(_longest_sentence(offsets, first_sentence, end_sentence), dtype=np.int64)
    contexts = np.empty(2 * window, dtype=np.int64)
    centre = np.empty(1, dtype=np.int64)
    most = 2 * window * (negative + 1) + 1  # per pair: every pair's context and negatives
    targets = np.empty(most, dtype=np.int64)
    weights = np.empty(most, dtype=np.float32)
    grad_h = np.empty(dim, dtype=np.float32)
    h = np.empty(dim, dtype=np.float32)
    # scored in one go: a window's contexts and shared negatives, or CBOW's centre and K
    grad_out = np.empty((2 * window + negative + 1, dim), dtype=np.float32)
    subsample = _subsamples(keep_prob)
    loss = 0.0
    examples = 0
    windows = 0
    words_done = words_before
    for s in range(first_sentence, end_sentence):
        start, stop = offsets[s], offsets[s + 1]
        lr = _sentence_lr(lr_start, lr_end, words_done, total_words)
        words_done += stop - start
        n, state = _keep_words(ids, start, stop, keep_prob, subsample, kept, state)
        for i in range(n):
            windows += 1
            with_loss = windows % loss_every == 0
            n_ctx, state = _window(kept, n, i, window, shrink_windows, contexts, state)
            if n_ctx == 0:
                continue
            word = kept[i]
            if cbow:  # the contexts' bags predict the centre
                targets[0] = word
                weights[0] = 1.0
                for k in range(1, negative + 1):
                    state = _next(state)
                    targets[k], state = _draw_noise(noise, state)
                    weights[k] = 0.0 if targets[k] == word else 1.0
                part = subword_update(
                    w_in, w_out, bag_rows, bag_offsets, contexts, n_ctx, targets, weights, 1,
                    negative + 1, lr, grad_h, h, grad_out, with_loss,
                )  # fmt: skip
                examples += 1 if with_loss else 0
            elif shared_negatives:  # the centre's bag predicts each context
                centre[0] = word
                for j in range(n_ctx):
                    targets[j] = contexts[j]
                    weights[j] = 1.0
                n_targets = n_ctx
                for _ in range(negative):
                    state = _next(state)
                    negative_word, state = _draw_noise(noise, state)
                    uses = 0
                    for j in range(n_ctx):
                        if contexts[j] != negative_word:
                            uses += 1
                    targets[n_targets] = negative_word
                    weights[n_targets] = uses
                    n_targets += 1
                part = subword_update(
                    w_in, w_out, bag_rows, bag_offsets, centre, 1, targets, weights, n_ctx,
                    n_targets, lr, grad_h, h, grad_out, with_loss,
                )  # fmt: skip
                examples += n_ctx if with_loss else 0
            else:  # the same, a pair at a time, each with its own negatives
                for k in range(n_ctx * negative):
                    state = _next(state)
                    targets[k], state = _draw_noise(noise, state)
                part = subword_pairs_update(
                    w_in, w_out, bag_rows, bag_offsets, word, contexts, n_ctx, targets,
                    negative, lr, h, grad_out[0], grad_h, with_loss,
                )  # fmt: skip
                examples += n_ctx if with_loss else 0
            loss += part
    return loss, examples
