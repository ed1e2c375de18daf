"""The numba engine's per-centre steps: one optimizer step per centre word, as the original
project took them, for the objectives and optimizers word2vec's own loop does not cover.

- ``loss="bce"`` (skip-gram): the original project's objective. The centre word's vector is
  scored against each of its context words (label 1) and against its own negatives (label 0),
  which are drawn avoiding the centre and its context words; the loss is BCE-with-logits.
- ``loss="ns"`` with AdamW: word2vec's negative sampling (skip-gram or CBOW), its examples
  those of one centre word.

The optimizer is word2vec's SGD on the summed loss, or AdamW on the mean over the centre's
examples (BCE: over its labels), as PyTorch's AdamW computes it but per row: each row keeps
its own moments and step count and is decayed and moved only when it takes part in a step,
which is what the original's dict of one tensor per word gave (``optimizer.step()`` skips a
parameter without a gradient). Within a step every gradient comes from the tables as they
were before it, and a row used twice (a context word twice in the window, a negative drawn
twice, the centre among its contexts in one tied table) gets the sum of its gradients and one
update. torch_engine.py (with torch_optim.RowAdamW) is the reference this is tested against.
"""

from __future__ import annotations

import math

import numpy as np

from .base import ADAMW_BETAS, ADAMW_EPS
from .numba_kernel import (
    _draw_noise,
    _keep_words,
    _longest_sentence,
    _next,
    _sentence_lr,
    _subsamples,
    _window,
    njit,
)

MAX_REDRAWS = 100  # a negative that still hits the centre or a context is left out


@njit(inline="always")
def _sigmoid_and_bce(x: float, label: float) -> tuple[float, float]:
    """sigmoid(x) and BCE-with-logits, both stable for any x (no clamp: the original's N(0, 1)
    start gives logits of +-40, and their loss is what it is)."""
    e = math.exp(-abs(x))
    s = 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
    return s, max(x, 0.0) - x * label + math.log1p(e)


@njit(inline="always")
def _accumulate(rows, grads, n, row, vector, scale) -> int:
    """grads[row's slot] += scale * vector, the slot found or opened; returns the new count."""
    slot = n
    for i in range(n):
        if rows[i] == row:
            slot = i
            break
    dim = vector.shape[0]
    g = grads[slot]
    scale = np.float32(scale)  # float32 arithmetic throughout: twice the lanes of float64
    if slot == n:
        rows[n] = row
        for d in range(dim):
            g[d] = scale * vector[d]
        return n + 1
    for d in range(dim):
        g[d] += scale * vector[d]
    return n


@njit(inline="always")
def _apply(table, exp_avg, exp_avg_sq, steps, rows, grads, n, lr, adamw, weight_decay):
    """Move each row by its gradient: SGD, or PyTorch's AdamW with this row's own moments and
    step count."""
    dim = table.shape[1]
    b1, b2 = ADAMW_BETAS
    for i in range(n):
        r = rows[i]
        w = table[r]
        g = grads[i]
        if not adamw:
            rate = np.float32(lr)
            for d in range(dim):
                w[d] -= rate * g[d]
            continue
        steps[r] += 1
        t = steps[r]
        decay = np.float32(1.0 - lr * weight_decay)
        step_size = np.float32(lr / (1.0 - b1**t))
        inv_root = np.float32(1.0 / math.sqrt(1.0 - b2**t))
        m = exp_avg[r]
        v = exp_avg_sq[r]
        keep2 = np.float32(b2)
        new1, new2 = np.float32(1.0 - b1), np.float32(1.0 - b2)
        eps = np.float32(ADAMW_EPS)
        for d in range(dim):
            w[d] *= decay
            m[d] += new1 * (g[d] - m[d])
            v[d] = keep2 * v[d] + new2 * g[d] * g[d]
            w[d] -= step_size * m[d] / (np.sqrt(v[d]) * inv_root + eps)


@njit(inline="always")
def _score(h, u, label, coef, with_loss) -> tuple[float, float]:
    """d loss / d logit (times ``coef``) of one label and its loss (0 unless asked)."""
    x = np.float32(0.0)
    for d in range(h.shape[0]):
        x += h[d] * u[d]
    s, loss = _sigmoid_and_bce(float(x), label)
    return np.float32((s - label) * coef), loss if with_loss else 0.0


@njit(fastmath=True, nogil=True, cache=True, error_model="numpy")
def bce_step(
    w_in, w_out, tied, centre, contexts, n_ctx, negatives, use, n_neg, mean, with_loss,
    in_rows, in_grads, out_rows, out_grads,
):  # fmt: skip
    """The gradients of one centre word's BCE (the original's objective), not applied.

    Labels: 1 for each of ``contexts[:n_ctx]``, 0 for each of ``negatives[:n_neg]`` with
    ``use[k]``. ``mean``: the loss is the mean over the labels (AdamW), else their sum (SGD).
    Gradients go to (``in_rows``, ``in_grads``) for the centre's input row and to
    (``out_rows``, ``out_grads``) for the output rows; with one ``tied`` table pass it twice
    and the same buffers twice. The buffers' last two rows are scratch space. Returns
    (summed loss, labels, rows in the input buffer, rows in the output buffer).
    """
    labels = n_ctx
    for k in range(n_neg):
        labels += use[k]
    coef = 1.0 / labels if mean else 1.0
    h = w_in[centre]
    n_in = 0
    n_out = 0
    loss = 0.0
    grad_h = in_grads[in_grads.shape[0] - 1]  # scratch: never a slot
    for d in range(h.shape[0]):
        grad_h[d] = 0.0
    for j in range(n_ctx + n_neg):
        if j >= n_ctx and not use[j - n_ctx]:
            continue
        t = contexts[j] if j < n_ctx else negatives[j - n_ctx]
        u = w_out[t]
        g, part = _score(h, u, 1.0 if j < n_ctx else 0.0, coef, with_loss)
        loss += part
        for d in range(h.shape[0]):
            grad_h[d] += g * u[d]
        if tied:
            n_in = _accumulate(in_rows, in_grads, n_in, t, h, g)
        else:
            n_out = _accumulate(out_rows, out_grads, n_out, t, h, g)
    n_in = _accumulate(in_rows, in_grads, n_in, centre, grad_h, 1.0)
    return loss, labels, n_in, n_out


@njit(fastmath=True, nogil=True, cache=True, error_model="numpy")
def ns_step(
    w_in, w_out, tied, centre, contexts, n_ctx, negatives, n_neg, per_pair, cbow, with_loss,
    in_rows, in_grads, out_rows, out_grads,
):  # fmt: skip
    """The gradients of one centre word's negative-sampling loss (word2vec's objective), its
    mean over the centre's examples, not applied: skip-gram has an example per context word
    (``per_pair``: context j's negatives are ``negatives[j*n_neg:(j+1)*n_neg]``, else all
    share ``negatives[:n_neg]``), CBOW one, the mean of the contexts, whose gradient is
    shared out to them. A negative equal to the centre is skipped (word2vec). Buffers as in
    :func:`bce_step`; returns (summed loss, examples, input rows, output rows).
    """
    dim = w_in.shape[1]
    n_in = 0
    n_out = 0
    loss = 0.0
    examples = 1 if cbow else n_ctx
    coef = 1.0 / examples
    h = in_grads[in_grads.shape[0] - 1]  # an example's input vector, as it was
    grad_h = in_grads[in_grads.shape[0] - 2]
    for e in range(examples):
        if cbow:
            for d in range(dim):
                h[d] = 0.0
            for j in range(n_ctx):
                row = w_in[contexts[j]]
                for d in range(dim):
                    h[d] += row[d] / n_ctx
        else:
            row = w_in[contexts[e]]
            for d in range(dim):
                h[d] = row[d]
        for d in range(dim):
            grad_h[d] = 0.0
        first = e * n_neg if per_pair else 0
        for k in range(-1, n_neg):
            t = centre if k < 0 else negatives[first + k]
            if k >= 0 and t == centre:
                continue
            u = w_out[t]
            g, part = _score(h, u, 1.0 if k < 0 else 0.0, coef, with_loss)
            loss += part
            for d in range(dim):
                grad_h[d] += g * u[d]
            if tied:
                n_in = _accumulate(in_rows, in_grads, n_in, t, h, g)
            else:
                n_out = _accumulate(out_rows, out_grads, n_out, t, h, g)
        if cbow:
            for j in range(n_ctx):
                n_in = _accumulate(in_rows, in_grads, n_in, contexts[j], grad_h, 1.0 / n_ctx)
        else:
            n_in = _accumulate(in_rows, in_grads, n_in, contexts[e], grad_h, 1.0)
    return loss, examples, n_in, n_out


@njit(inline="always")
def _update(
    w_in, w_out, exp_avg_in, exp_avg_sq_in, steps_in, exp_avg_out, exp_avg_sq_out, steps_out,
    tied, centre, contexts, n_ctx, negatives, use, n_neg, cbow, per_pair, bce, adamw,
    weight_decay, lr, with_loss, in_rows, in_grads, out_rows, out_grads,
):  # fmt: skip
    """One centre word's step: its gradients (bce_step or ns_step), then the optimizer.
    Returns (summed loss, examples)."""
    rows_out = in_rows if tied else out_rows
    grads_out = in_grads if tied else out_grads
    if bce:
        loss, count, n_in, n_out = bce_step(
            w_in, w_out, tied, centre, contexts, n_ctx, negatives, use, n_neg, adamw,
            with_loss, in_rows, in_grads, rows_out, grads_out,
        )  # fmt: skip
    else:
        loss, count, n_in, n_out = ns_step(
            w_in, w_out, tied, centre, contexts, n_ctx, negatives, n_neg, per_pair, cbow,
            with_loss, in_rows, in_grads, rows_out, grads_out,
        )  # fmt: skip
    _apply(w_in, exp_avg_in, exp_avg_sq_in, steps_in, in_rows, in_grads, n_in, lr, adamw,
           weight_decay)  # fmt: skip
    if not tied:
        _apply(w_out, exp_avg_out, exp_avg_sq_out, steps_out, out_rows, out_grads, n_out, lr,
               adamw, weight_decay)  # fmt: skip
    return loss, count


@njit(fastmath=True, cache=True, error_model="numpy")
def centre_update(
    w_in, w_out, exp_avg_in, exp_avg_sq_in, steps_in, exp_avg_out, exp_avg_sq_out, steps_out,
    tied, centre, contexts, negatives, use, n_neg, cbow, per_pair, bce, adamw, weight_decay, lr,
):  # fmt: skip
    """One centre word's step with given contexts and negatives (what the chunk loop does
    after its draws; for tests against the torch reference). Returns (summed loss,
    examples)."""
    slots = 3 + len(contexts) + len(negatives)
    dim = w_in.shape[1]
    in_rows = np.empty(slots, dtype=np.int64)
    in_grads = np.empty((slots, dim), dtype=np.float32)
    out_rows = np.empty(slots, dtype=np.int64)
    out_grads = np.empty((slots, dim), dtype=np.float32)
    return _update(
        w_in, w_out, exp_avg_in, exp_avg_sq_in, steps_in, exp_avg_out, exp_avg_sq_out,
        steps_out, tied, centre, contexts, len(contexts), negatives, use, n_neg, cbow, per_pair,
        bce, adamw, weight_decay, lr, True, in_rows, in_grads, out_rows, out_grads,
    )  # fmt: skip


@njit(inline="always")
def _draw_avoiding(noise, state, centre, contexts, n_ctx) -> tuple[int, bool, np.uint64]:
    """A negative that is neither the centre nor one of its contexts (redrawn up to
    MAX_REDRAWS times; after that it is not used)."""
    for _ in range(MAX_REDRAWS):
        state = _next(state)
        t, state = _draw_noise(noise, state)
        hit = t == centre
        for j in range(n_ctx):
            hit = hit or contexts[j] == t
        if not hit:
            return t, True, state
    return 0, False, state


@njit(fastmath=True, nogil=True, cache=True, error_model="numpy")
def train_chunk_centres(
    w_in, w_out, exp_avg_in, exp_avg_sq_in, steps_in, exp_avg_out, exp_avg_sq_out, steps_out,
    tied, ids, offsets, first_sentence, end_sentence, keep_prob, noise, window, shrink_windows,
    negative, cbow, per_pair, bce, adamw, weight_decay, lr_start, lr_end, words_before,
    total_words, seed, loss_every,
):  # fmt: skip
    """Train sentences [first_sentence, end_sentence) once, a step per centre word; returns
    (summed loss, examples) over every ``loss_every``-th step. Subsampling, reduced windows
    and the learning-rate decay are word2vec's, as in numba_kernel.train_chunk. With one
    ``tied`` table pass it as both ``w_in`` and ``w_out`` (and its AdamW state both times)."""
    dim = w_in.shape[1]
    state = np.uint64(seed)
    kept = np.empty(_longest_sentence(offsets, first_sentence, end_sentence), dtype=np.int64)
    contexts = np.empty(2 * window, dtype=np.int64)
    n_draws = negative * (2 * window if per_pair else 1)
    negatives = np.empty(max(n_draws, 1), dtype=np.int64)
    use = np.ones(max(n_draws, 1), dtype=np.int64)
    slots = 3 + 2 * window + n_draws  # every row a step can touch, and two scratch rows
    in_rows = np.empty(slots, dtype=np.int64)
    in_grads = np.empty((slots, dim), dtype=np.float32)
    out_rows = np.empty(slots, dtype=np.int64)
    out_grads = np.empty((slots, dim), dtype=np.float32)
    subsample = _subsamples(keep_prob)
    loss = 0.0
    examples = 0
    centres = 0
    words_done = words_before
    for s in range(first_sentence, end_sentence):
        start, stop = offsets[s], offsets[s + 1]
        lr = _sentence_lr(lr_start, lr_end, words_done, total_words)
        words_done += stop - start
        n, state = _keep_words(ids, start, stop, keep_prob, subsample, kept, state)
        for i in range(n):
            n_ctx, state = _window(kept, n, i, window, shrink_windows, contexts, state)
            if n_ctx == 0:
                continue
            centres += 1
            with_loss = centres % loss_every == 0
            centre = kept[i]
            if bce:
                for k in range(negative):
                    negatives[k], ok, state = _draw_avoiding(noise, state, centre, contexts, n_ctx)
                    use[k] = 1 if ok else 0
            else:
                for k in range(negative * n_ctx if per_pair and not cbow else negative):
                    state = _next(state)
                    negatives[k], state = _draw_noise(noise, state)
            part, count = _update(
                w_in, w_out, exp_avg_in, exp_avg_sq_in, steps_in, exp_avg_out, exp_avg_sq_out,
                steps_out, tied, centre, contexts, n_ctx, negatives, use, negative, cbow,
                per_pair and not cbow, bce, adamw, weight_decay, lr, with_loss, in_rows,
                in_grads, out_rows, out_grads,
            )  # fmt: skip
            if with_loss:
                loss += part
                examples += count
    return loss, examples
