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
- ``pair``: each (centre, context) pair draws its own K negatives, as fastText does.

CBOW takes the mean of every row of every context word's bag (fastText's ``bow``) to
predict the centre, and adds the whole gradient to each of those rows.

As everywhere in w2v, every gradient of a window is computed from the tables as they were
before it and then all are added (torch_model.Word2Vec.subword_sgd_step is the reference).
"""

from __future__ import annotations

import numpy as np

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
        s, nll = _sigmoid_and_nll(f, label, with_loss)
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
    most = 2 * window * (negative + 1) + 1
    targets = np.empty(most, dtype=np.int64)
    weights = np.empty(most, dtype=np.float32)
    grad_h = np.empty(dim, dtype=np.float32)
    h = np.empty(dim, dtype=np.float32)
    grad_out = np.empty((most, dim), dtype=np.float32)
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
            else:  # the centre's bag predicts each context
                centre[0] = word
                for j in range(n_ctx):
                    targets[j] = contexts[j]
                    weights[j] = 1.0
                n_targets = n_ctx
                if shared_negatives:
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
                else:
                    for j in range(n_ctx):
                        for _ in range(negative):
                            state = _next(state)
                            negative_word, state = _draw_noise(noise, state)
                            targets[n_targets] = negative_word
                            weights[n_targets] = 0.0 if negative_word == contexts[j] else 1.0
                            n_targets += 1
                part = subword_update(
                    w_in, w_out, bag_rows, bag_offsets, centre, 1, targets, weights, n_ctx,
                    n_targets, lr, grad_h, h, grad_out, with_loss,
                )  # fmt: skip
                examples += n_ctx if with_loss else 0
            loss += part
    return loss, examples
