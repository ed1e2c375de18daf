"""The numba engine's kernel: word2vec's loop over a chunk of sentences, compiled.

The PyTorch step in torch_model.py is the reference; this is the same model, written as the
original C tool and gensim write it (one window at a time, straight into the tables), because
batched tensor ops on a CPU spend most of their time gathering and scattering rows. Threads
train different chunks of the corpus at once and write to the shared tables without locks
(Hogwild, as word2vec and gensim do); with one thread the result is bit-identical per seed.

Negatives, for skip-gram, come in two flavours:

- ``window`` (default): one set of K negatives per centre word, shared by all of its context
  words (BlazingText, Intel's HogBatch). Each output row is read once per window instead of
  once per pair, and K draws serve 2 x window pairs.
- ``pair``: each (context, centre) pair draws its own K negatives and is applied at once,
  exactly as word2vec.c and gensim do.

In a window every gradient is computed from the tables as they were before the window, then
all are added: a word that is both a context and a negative of the same window must not feed
its own update back (it diverges).

Randomness is word2vec.c's linear congruential generator, seeded per (seed, epoch, chunk), so
a chunk trains the same whichever thread runs it.
"""

from __future__ import annotations

import math

import numpy as np

try:
    import numba
    from numba import njit
except ImportError:  # pragma: no cover - numba is a core dependency; torch is the fallback
    numba = None

    def njit(*args, **kwargs):  # type: ignore[no-redef]
        def wrap(fn):
            return fn

        return wrap if not (len(args) == 1 and callable(args[0])) else args[0]


LCG_MULTIPLIER = np.uint64(25214903917)
LCG_INCREMENT = np.uint64(11)
MAX_LOGIT = 30.0  # sigmoid and log-sigmoid are clamped here; exp never overflows
LOSS_EVERY = 16  # the reported loss is the mean over every 16th window
# The kernels use numpy's error model: a run that diverges computes NaNs (which the trainer
# reports as divergence) instead of raising ZeroDivisionError from a thread.


def available() -> bool:
    return numba is not None


@njit(inline="always")
def _next(state: np.uint64) -> np.uint64:
    return state * LCG_MULTIPLIER + LCG_INCREMENT


@njit(inline="always")
def _uniform(state: np.uint64) -> float:
    """A float in [0, 1) from the top 24 bits of the generator's state."""
    return float(state >> np.uint64(40)) * (1.0 / 16777216.0)


@njit(inline="always")
def _sigmoid_and_nll(x: float, label: float, with_loss: bool) -> tuple[float, float]:
    """sigmoid(x) and, if asked, the example's loss: -log sigmoid(x) for label 1,
    -log sigmoid(-x) for label 0 (the log costs a quarter of the step, hence the asking)."""
    x = min(max(x, -MAX_LOGIT), MAX_LOGIT)
    e = math.exp(-x)
    s = 1.0 / (1.0 + e)
    if not with_loss:
        return s, 0.0
    nll = math.log1p(e) if label > 0.5 else x + math.log1p(e)
    return s, nll


ALIAS_BITS = 31  # a noise table entry: threshold << ALIAS_BITS | alias
ALIAS_MASK = (1 << ALIAS_BITS) - 1


@njit(cache=True)
def _alias_table(probs):
    """Walker's alias method (Vose's construction), packed one int64 per word."""
    n = len(probs)
    scaled = probs * (n / probs.sum())
    table = np.empty(n, dtype=np.int64)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    n_small = n_large = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[n_small] = i
            n_small += 1
        else:
            large[n_large] = i
            n_large += 1
    top = float(1 << 32)
    while n_small > 0 and n_large > 0:
        n_small -= 1
        lo = small[n_small]
        hi = large[n_large - 1]
        threshold = min(np.int64(scaled[lo] * top), np.int64((1 << 32) - 1))
        table[lo] = (threshold << ALIAS_BITS) | hi
        scaled[hi] = (scaled[hi] + scaled[lo]) - 1.0
        if scaled[hi] < 1.0:
            n_large -= 1
            small[n_small] = hi
            n_small += 1
    # What is left has a share of (almost exactly) one: it always draws itself.
    for k in range(n_large):
        table[large[k]] = large[k]
    for k in range(n_small):
        table[small[k]] = small[k]
    return table


def noise_table(probs: np.ndarray) -> np.ndarray:
    """The noise distribution as an alias table for _draw_noise: one int64 per word,
    ``threshold << 31 | alias``; word i is drawn with probability
    (threshold_i + sum over j aliased to i of (2^32 - threshold_j)) / (2^32 n).

    Walker's alias method instead of word2vec's table of 1e8 slots or gensim's binary search
    over cumulative weights: a draw reads one entry, where the search walks 17 levels of a
    68k vocabulary with a mispredicted branch at most of them (measured: CBOW 40 % faster
    than with the search), and the table is 8 bytes a word, not 400 MB.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 1 or len(probs) == 0 or len(probs) > ALIAS_MASK or probs.sum() <= 0:
        raise ValueError("noise probabilities must be a non-empty vector with a positive sum")
    return _alias_table(probs)


@njit(inline="always")
def _draw_noise(table, state: np.uint64) -> tuple[int, np.uint64]:
    """A word from the alias table and the generator's new state: the slot from one
    draw's top 32 bits (multiply-shift), the coin from the next draw's."""
    slot = np.int64(((state >> np.uint64(32)) * np.uint64(len(table))) >> np.uint64(32))
    state = _next(state)
    entry = table[slot]
    if np.int64(state >> np.uint64(32)) < (entry >> ALIAS_BITS):
        return slot, state
    return entry & ALIAS_MASK, state


@njit(inline="always")
def _score_targets(h, dh, w_out, targets, n_targets, lr, with_loss, grad_out) -> float:
    """Score the input vector ``h`` against every target; returns the summed loss.

    ``targets[0]`` is the positive (label 1), the rest negatives (label 0); a negative equal
    to the positive is skipped, as in word2vec. The gradient for ``h`` is added to ``dh``,
    each target's to ``grad_out[k]``; ``w_out`` is only read, so every gradient comes from
    the table as it was.
    """
    dim = h.shape[0]
    loss = 0.0
    for k in range(n_targets):
        t = targets[k]
        if k > 0 and t == targets[0]:
            continue
        u = w_out[t]
        f = np.float32(0.0)
        for d in range(dim):
            f += h[d] * u[d]
        label = 1.0 if k == 0 else 0.0
        s, nll = _sigmoid_and_nll(f, label, with_loss)
        loss += nll
        g = np.float32((label - s) * lr)
        # One store per loop: with two, the compiler cannot rule out that they overlap and
        # gives up vectorising.
        for d in range(dim):
            dh[d] += g * u[d]
        du = grad_out[k]
        for d in range(dim):
            du[d] += g * h[d]
    return loss


@njit(inline="always")
def _add_rows(table, rows, n_rows, grads, same_grad):
    """table[rows[i]] += grads[i] (or grads[0] for every row when ``same_grad``)."""
    dim = table.shape[1]
    for i in range(n_rows):
        row = table[rows[i]]
        grad = grads[0 if same_grad else i]
        for d in range(dim):
            row[d] += grad[d]


@njit(fastmath=True, nogil=True, cache=True, error_model="numpy")
def window_update(
    w_in, w_out, contexts, n_contexts, targets, n_targets, lr, cbow, grad_in, grad_out,
    with_loss=True,
):  # fmt: skip
    """One centre word's update; returns (summed loss, examples), or (0, 0) without
    ``with_loss``.

    ``contexts[:n_contexts]`` are the input words, ``targets[0]`` the centre word (label 1)
    and ``targets[1:n_targets]`` its negatives (label 0); a negative equal to the centre is
    skipped, as in word2vec. Skip-gram scores every context against every target; CBOW
    scores the mean of the contexts and adds its whole error to every context (word2vec).
    ``grad_in`` / ``grad_out`` are scratch buffers of at least (n_contexts + 1, dim) and
    (n_targets, dim). Every gradient is computed before any is added.
    """
    dim = w_in.shape[1]
    if n_contexts == 0:
        return 0.0, 0
    # Plain loops: slice assignment measured about 20 % slower per CBOW window here. CBOW
    # uses two rows (its error and the mean), and zeroing only those is 10 % faster.
    if cbow:
        for d in range(dim):
            grad_in[0, d] = 0.0
            grad_in[n_contexts, d] = 0.0
    else:
        for i in range(n_contexts):
            for d in range(dim):
                grad_in[i, d] = 0.0
    for k in range(n_targets):
        for d in range(dim):
            grad_out[k, d] = 0.0
    loss = 0.0
    if cbow:
        h = grad_in[n_contexts]  # the mean context vector lives after the error row
        for j in range(n_contexts):
            row = w_in[contexts[j]]
            for d in range(dim):
                h[d] += row[d]
        scale = np.float32(1.0 / n_contexts)
        for d in range(dim):
            h[d] *= scale
        loss = _score_targets(h, grad_in[0], w_out, targets, n_targets, lr, with_loss, grad_out)
        examples = 1
    else:
        for j in range(n_contexts):
            h = w_in[contexts[j]]
            loss += _score_targets(
                h, grad_in[j], w_out, targets, n_targets, lr, with_loss, grad_out
            )
        examples = n_contexts
    _add_rows(w_in, contexts, n_contexts, grad_in, cbow)
    _add_rows(w_out, targets, n_targets, grad_out, False)
    return loss, examples if with_loss else 0


@njit(inline="always")
def _longest_sentence(offsets, first_sentence, end_sentence) -> int:
    longest = 1
    for s in range(first_sentence, end_sentence):
        longest = max(longest, offsets[s + 1] - offsets[s])
    return longest


@njit(inline="always")
def _subsamples(keep_prob) -> bool:
    """Whether any word may be dropped (else no draw is spent on subsampling)."""
    return np.any(keep_prob < 1.0)


@njit(inline="always")
def _sentence_lr(lr_start, lr_end, words_done, total_words) -> float:
    """word2vec's linear decay, at the start of a sentence."""
    progress = min(words_done / max(total_words, 1), 1.0)
    return lr_start - (lr_start - lr_end) * progress


@njit(inline="always")
def _keep_words(ids, start, stop, keep_prob, subsample, kept, state) -> tuple[int, np.uint64]:
    """The words of ``ids[start:stop]`` that subsampling keeps, into ``kept``: their number
    and the generator's new state."""
    n = 0
    for p in range(start, stop):
        word = ids[p]
        if subsample:
            state = _next(state)
            if _uniform(state) >= keep_prob[word]:
                continue
        kept[n] = word
        n += 1
    return n, state


@njit(inline="always")
def _window(kept, n, i, window, shrink_windows, contexts, state) -> tuple[int, np.uint64]:
    """The context words of ``kept[i]`` (within a reach drawn in [1, window] when shrinking,
    as word2vec does), into ``contexts``: their number and the generator's new state."""
    reach = window
    if shrink_windows:
        state = _next(state)
        # multiply-shift: uniform in [0, window) without a 64-bit division
        reach = 1 + int(((state >> np.uint64(32)) * np.uint64(window)) >> np.uint64(32))
    n_ctx = 0
    for j in range(max(0, i - reach), min(n, i + reach + 1)):
        if j != i:
            contexts[n_ctx] = kept[j]
            n_ctx += 1
    return n_ctx, state


@njit(fastmath=True, nogil=True, cache=True, error_model="numpy")
def train_chunk(
    w_in,
    w_out,
    ids,
    offsets,
    first_sentence,
    end_sentence,
    keep_prob,
    noise,
    window,
    shrink_windows,
    negative,
    cbow,
    shared_negatives,
    lr_start,
    lr_end,
    words_before,
    total_words,
    seed,
    loss_every,
):
    """Train sentences [first_sentence, end_sentence) once; returns (summed loss, examples).

    The learning rate decays linearly with the corpus words done, counted from
    ``words_before`` (the words of every earlier chunk of the run) over ``total_words``.
    The loss is summed over every ``loss_every``-th window only (an estimate of the mean
    that costs nothing), and ``examples`` counts the examples it was summed over.
    """
    dim = w_in.shape[1]
    state = np.uint64(seed)
    kept = np.empty(_longest_sentence(offsets, first_sentence, end_sentence), dtype=np.int64)
    contexts = np.empty(2 * window, dtype=np.int64)
    targets = np.empty(negative + 1, dtype=np.int64)
    grad_in = np.empty((2 * window + 1, dim), dtype=np.float32)
    grad_out = np.empty((negative + 1, dim), dtype=np.float32)
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
            targets[0] = kept[i]
            if cbow or shared_negatives:
                for k in range(1, negative + 1):
                    state = _next(state)
                    targets[k], state = _draw_noise(noise, state)
                part, count = window_update(
                    w_in, w_out, contexts, n_ctx, targets, negative + 1, lr, cbow,
                    grad_in, grad_out, with_loss,
                )  # fmt: skip
                loss += part
                examples += count
                continue
            for j in range(n_ctx):  # word2vec's own order: each pair, its own negatives
                for k in range(1, negative + 1):
                    state = _next(state)
                    targets[k], state = _draw_noise(noise, state)
                part, count = window_update(
                    w_in, w_out, contexts[j:], 1, targets, negative + 1, lr, False,
                    grad_in, grad_out, with_loss,
                )  # fmt: skip
                loss += part
                examples += count
    return loss, examples
