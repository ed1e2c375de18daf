"""Fused Triton kernels: word2vec's negative-sampling SGD on a GPU, a window at a time.

The model is the numba engine's (numba_kernel.window_update and train_chunk): skip-gram with
K negatives shared by a window (``window``) or drawn per pair (``pair``), and CBOW, with the
same rule inside a window: every gradient comes from the tables as they were before the
window, then all are added (a word that is both a context and a negative must not feed its
own update back). Only where the parallelism comes from differs.

The corpus is already subsampled and lives in device memory as one flat array of word ids.
The caller cuts its sentences into *pieces*, runs of consecutive centre positions, and one
program trains one piece, centre after centre, in order (cut_pieces makes them). A program
knows its sentence's bounds, so a window reaches past its piece but never past its
sentence. Thousands of pieces fill the GPU, and a program keeps word2vec's order within its
piece (a centre's update is read by the next centre's window, which overlaps it) at no cost
in parallelism. Programs write to the shared tables without locks (Hogwild, as word2vec's
threads do), with relaxed atomic adds.

A centre's window is gathered once into on-chip tiles: its context rows (BLOCK_W >= 2 x
window rows) and its target rows (the centre, then the K negatives; BLOCK_K rows), masked
to the window's reach, its sentence and the dimension. Skip-gram scores the whole window
at once, [BLOCK_W, BLOCK_K] logits, and gets both gradients from two more products of the
same tiles (tl.dot, so every side is at least 16); CBOW scores the tile's mean. Per pair,
the pairs of a window go in word2vec's order (contexts left to right), each scored against
its own negatives and added before the next is read, as numba does. Rows are read past L1
(``.cg``, where atomics do not land), a barrier after each update makes the next window (or
pair) of the program read what this one wrote, and no load is issued ahead of its turn (no
software pipelining, NUM_STAGES). Skip-gram's rows wider than a tile (SLICE_COLUMNS; dim
300, say) go through a window in slices of columns, so that its tiles fit the shared memory
of any GPU Triton compiles for.

With ``reuse_rows`` (FULL-W2V's reuse, Randall et al. 2021), a program keeps its window's
input rows in a ring tile of BLOCK_W slots instead of gathering them for every centre: the
row of position p + WINDOW + 1 enters as the centre moves to p + 1, in the slot the row of
p - WINDOW leaves, so a centre loads one input row instead of up to 2 x window. The ring
follows the program's own adds (each context's slot adds its gradient; a slot whose word
is a context in another slot too is read again from the table), so one program trains
exactly as without it; other programs' adds reach a held row only when it is read
(Hogwild, staler by up to a window's worth of centres).

Randomness is drawn in the kernel from Triton's counter-based Philox generator, keyed by the
launch's ``seed`` and a counter unique to (centre position, draw): no generator state lives
anywhere, and a launch's draws depend on its seed only, not on scheduling (its tables, under
Hogwild, only up to the order of the atomic adds). Position p owns counters
[p * stride, (p + 1) * stride): the first draws its reach, the others its negatives (K, or
K per window slot per pair). The caller must change the seed from launch to launch.
Negatives come from a Walker alias table (noise_prob, noise_alias; alias_table builds it
with numba's construction): one draw gives a slot (32 bits, multiply-shift) and a coin (24
bits) that keeps the slot or takes its alias.

For tests, the launcher also takes the reaches and negatives explicitly (constexpr flags, so
the fast path carries none of it), and ``draws`` returns what the kernel would have drawn.
"""

from __future__ import annotations

import numpy as np
import torch

from .numba_kernel import ALIAS_BITS, ALIAS_MASK, MAX_LOGIT, noise_table

try:
    import triton
    import triton.language as tl
except ImportError:  # the engine tells the user to `pip install triton`
    triton = None
    tl = None

INSTALL_HINT = "the triton engine needs Triton: pip install triton"
# Skip-gram's window tiles hold at most this many columns of a row, and a window's context
# tile at most this many floats: wider rows go through in slices, so that the tiles' shared
# memory stays within what any CUDA GPU has (dim 300 in one tile of 512 columns took 65 KB,
# more than a T4's 64 KB; in slices of 128, 32 KB).
SLICE_COLUMNS = 128
TILE_FLOATS = 4096
# No software pipelining: Triton may otherwise issue a loop's loads an iteration early, and a
# window must read the rows the window before it has just added to.
NUM_STAGES = 1
MODES = {"window": 0, "pair": 1, "cbow": 2}


def available() -> bool:
    return triton is not None


def _jit(**kwargs):
    """triton.jit, or (without triton) the plain function, so that the module imports."""
    if triton is None:
        return lambda fn: fn
    return triton.jit(**kwargs)


# Globals read by a kernel must be constexprs.
_MAX_LOGIT = tl.constexpr(MAX_LOGIT) if tl is not None else MAX_LOGIT
_PAIR = tl.constexpr(MODES["pair"]) if tl is not None else MODES["pair"]
_CBOW = tl.constexpr(MODES["cbow"]) if tl is not None else MODES["cbow"]


# -- the draws ------------------------------------------------------------------------------


@_jit()
def _below(bits, n):
    """An integer uniform in [0, n) from 32 random bits: multiply-shift, no division (and no
    modulo bias)."""
    return ((bits.to(tl.uint64) * n) >> 32).to(tl.int32)


@_jit()
def _draw_reach(seed, base, WINDOW: tl.constexpr):
    """The reach of the centre whose counters start at ``base``, uniform in [1, WINDOW]."""
    return 1 + _below(tl.randint(seed, base), WINDOW)


@_jit()
def _draw_noise(seed, counters, noise_prob, noise_alias, V, mask):
    """One word of the noise distribution per counter: a slot uniform in [0, V), kept when
    a coin falls under its share, else its alias."""
    slot_bits, coin_bits, _, _ = tl.randint4x(seed, counters)
    slot = _below(slot_bits, V)
    coin = (coin_bits >> 8).to(tl.float32) * (1.0 / 16777216.0)
    keep = coin < tl.load(noise_prob + slot, mask=mask, other=1.0)
    alias = tl.load(noise_alias + slot, mask=mask & ~keep, other=0)
    return tl.where(keep, slot, alias)


@_jit()
def _targets(
    p, slot, centre, seed, base, noise_prob, noise_alias, V, negatives,
    K: tl.constexpr, SLOTS: tl.constexpr, BLOCK_K: tl.constexpr,
    GIVEN_NEGATIVES: tl.constexpr,
):  # fmt: skip
    """The targets of a window (``slot`` 0) or of one pair (its window slot): the centre, then
    K negatives; and which ones count (a negative equal to the centre is skipped, as in
    word2vec; the tile's padding never counts)."""
    k = tl.arange(0, BLOCK_K)
    is_negative = (k >= 1) & (k <= K)
    draw = slot * K + k - 1  # the draw's number among the position's negatives
    if GIVEN_NEGATIVES:
        noise = tl.load(negatives + (p * SLOTS * K + draw), mask=is_negative, other=0)
    else:
        noise = _draw_noise(seed, base + 1 + draw, noise_prob, noise_alias, V, is_negative)
    targets = tl.where(k == 0, centre, noise.to(tl.int64))
    use = (k == 0) | (is_negative & (targets != centre))
    return targets, use, k == 0


# -- the update -----------------------------------------------------------------------------


@_jit()
def _score(logits, positive, use, lr):
    """word2vec's gradient step ``(label - sigmoid(x)) * lr`` and each example's loss,
    -log sigmoid(x) for the positive and -log sigmoid(-x) for a negative, on logits clamped
    as numba clamps them; both zero where ``use`` is false."""
    x = tl.minimum(tl.maximum(logits, -_MAX_LOGIT), _MAX_LOGIT)
    e = tl.exp(-x)
    soft = tl.log(1.0 + e)  # -log sigmoid(x); exp(-x) <= e^30, so this never overflows
    nll = tl.where(use, tl.where(positive, soft, x + soft), 0.0)
    label = tl.where(positive, 1.0, 0.0)
    g = tl.where(use, (label - 1.0 / (1.0 + e)) * lr, 0.0)
    return g, nll


@_jit()
def _slice(in_rows, out_rows, cols, valid, use, D: tl.constexpr):
    """The window's context and target rows at columns ``cols``: (xs, u, their masks)."""
    in_mask = valid[:, None] & (cols < D)[None, :]
    out_mask = use[:, None] & (cols < D)[None, :]
    xs = tl.load(in_rows + cols[None, :], mask=in_mask, other=0.0, cache_modifier=".cg")
    u = tl.load(out_rows + cols[None, :], mask=out_mask, other=0.0, cache_modifier=".cg")
    return xs, u, in_mask, out_mask


@_jit()
def _window_in_slices(
    w_in, w_out, contexts, valid, targets, use, positive, lr,
    D: tl.constexpr, BLOCK_W: tl.constexpr, BLOCK_K: tl.constexpr, BLOCK_D: tl.constexpr,
):  # fmt: skip
    """Skip-gram's shared window when a row is wider than a tile (dim > BLOCK_D): the logits
    summed over slices of BLOCK_D columns, then each slice read again for its gradients and
    added. A slice's reads all come before its adds (a barrier between them) and slices do
    not overlap, so every gradient still comes from the tables as they were before the
    window. Returns the window's summed loss."""
    d = tl.arange(0, BLOCK_D)
    in_rows = w_in + contexts[:, None] * D
    out_rows = w_out + targets[:, None] * D
    logits = tl.zeros((BLOCK_W, BLOCK_K), tl.float32)
    for first in range(0, D, BLOCK_D):
        xs, u, _, _ = _slice(in_rows, out_rows, first + d, valid, use, D)
        logits += tl.dot(xs, tl.trans(u), input_precision="ieee")
    g, nll = _score(logits, positive[None, :], valid[:, None] & use[None, :], lr)
    for first in range(0, D, BLOCK_D):
        cols = first + d
        xs, u, in_mask, out_mask = _slice(in_rows, out_rows, cols, valid, use, D)
        dxs = tl.dot(g, u, input_precision="ieee")
        du = tl.dot(tl.trans(g), xs, input_precision="ieee")
        tl.debug_barrier()  # every thread has read the slice before any adds to it
        tl.atomic_add(in_rows + cols[None, :], dxs, mask=in_mask, sem="relaxed")
        tl.atomic_add(out_rows + cols[None, :], du, mask=out_mask, sem="relaxed")
    return tl.sum(tl.sum(nll, axis=1), axis=0)


# Triton compiles a variant per alignment of each pointer; the ids of a chunk are a slice
# at any offset (and stand in for the test-only arrays), read a word at a time anyway.
@_jit(do_not_specialize=["ids", "negatives", "reaches", "seed"])
def _train_pieces_kernel(
    w_in, w_out, ids, piece_start, piece_end, sent_start, sent_end, piece_lr,
    noise_prob, noise_alias, negatives, reaches, loss_out, examples_out, seed, V,
    D: tl.constexpr, WINDOW: tl.constexpr, K: tl.constexpr, MODE: tl.constexpr,
    SHRINK: tl.constexpr, GIVEN_NEGATIVES: tl.constexpr, GIVEN_REACH: tl.constexpr,
    REUSE_ROWS: tl.constexpr,
    BLOCK_W: tl.constexpr, BLOCK_K: tl.constexpr, BLOCK_D: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    first = tl.load(piece_start + pid).to(tl.int64)
    end = tl.load(piece_end + pid).to(tl.int64)
    s0 = tl.load(sent_start + pid).to(tl.int64)
    s1 = tl.load(sent_end + pid).to(tl.int64)
    lr = tl.load(piece_lr + pid).to(tl.float32)

    SLOTS: tl.constexpr = 2 * WINDOW if MODE == _PAIR else 1
    STRIDE: tl.constexpr = 1 + SLOTS * K  # counters per position: the reach, the negatives
    d = tl.arange(0, BLOCK_D)
    dmask = d < D
    # Window slot s is the context at offset s - WINDOW left of the centre, or
    # s - WINDOW + 1 right of it: contexts left to right, as numba lists them.
    s = tl.arange(0, BLOCK_W)
    offset = tl.where(s < WINDOW, s - WINDOW, s - WINDOW + 1)
    if REUSE_ROWS:
        # The ring: slot s holds the input row of the position p + o, where o is s - p + WINDOW
        # modulo BLOCK_W (>= 2 x WINDOW + 2), less WINDOW: positions p - WINDOW .. p + WINDOW
        # around the centre p, as the centre moves on one row enters and one leaves.
        o = ((s - first + WINDOW) & (BLOCK_W - 1)) - WINDOW
        held = (o <= WINDOW) & (first + o >= s0) & (first + o < s1)
        ring_word = tl.load(ids + first + o, mask=held, other=-1).to(tl.int64)
        ring_rows = w_in + ring_word[:, None] * D + d[None, :]
        ring = tl.load(
            ring_rows, mask=held[:, None] & dmask[None, :], other=0.0, cache_modifier=".cg"
        )

    loss = 0.0
    examples = 0
    for p in range(first, end):
        base = p * STRIDE
        centre = tl.load(ids + p).to(tl.int64)
        if GIVEN_REACH:
            reach = tl.minimum(tl.maximum(tl.load(reaches + p).to(tl.int32), 0), WINDOW)
        elif SHRINK:
            reach = _draw_reach(seed, base, WINDOW)
        else:
            reach = tl.full((), WINDOW, tl.int32)
        if MODE == _PAIR:
            # Pair after pair, each from the tables the pairs before it left.
            for slot in range(WINDOW - reach, WINDOW + reach):
                at = p + tl.where(slot < WINDOW, slot - WINDOW, slot - WINDOW + 1)
                if (at >= s0) & (at < s1):
                    context = tl.load(ids + at).to(tl.int64)
                    x = tl.load(w_in + context * D + d, mask=dmask, other=0.0, cache_modifier=".cg")
                    targets, use, positive = _targets(
                        p, slot, centre, seed, base, noise_prob, noise_alias, V, negatives,
                        K, SLOTS, BLOCK_K, GIVEN_NEGATIVES,
                    )  # fmt: skip
                    rows = w_out + targets[:, None] * D + d[None, :]
                    row_mask = use[:, None] & dmask[None, :]
                    u = tl.load(rows, mask=row_mask, other=0.0, cache_modifier=".cg")
                    g, nll = _score(tl.sum(u * x[None, :], axis=1), positive, use, lr)
                    dx = tl.sum(g[:, None] * u, axis=0)
                    tl.atomic_add(w_in + context * D + d, dx, mask=dmask, sem="relaxed")
                    tl.atomic_add(rows, g[:, None] * x[None, :], mask=row_mask, sem="relaxed")
                    tl.debug_barrier()
                    loss += tl.sum(nll, axis=0)
                    examples += 1
        else:
            if REUSE_ROWS:
                o = ((s - p + WINDOW) & (BLOCK_W - 1)) - WINDOW
                q = p + o
                valid = (o != 0) & (o >= -reach) & (o <= reach)
            else:
                q = p + offset
                valid = (s < 2 * WINDOW) & (offset >= -reach) & (offset <= reach)
            valid = valid & (q >= s0) & (q < s1)
            n_ctx = tl.sum(valid.to(tl.int32))
            if n_ctx > 0:
                in_mask = valid[:, None] & dmask[None, :]
                if REUSE_ROWS:
                    contexts = ring_word
                    xs = tl.where(in_mask, ring, 0.0)
                else:
                    contexts = tl.load(ids + q, mask=valid, other=0).to(tl.int64)
                    if D <= BLOCK_D:
                        xs = tl.load(
                            w_in + contexts[:, None] * D + d[None, :], mask=in_mask,
                            other=0.0, cache_modifier=".cg",
                        )  # fmt: skip
                targets, use, positive = _targets(
                    p, 0, centre, seed, base, noise_prob, noise_alias, V, negatives,
                    K, SLOTS, BLOCK_K, GIVEN_NEGATIVES,
                )  # fmt: skip
                if D > BLOCK_D:  # skip-gram's window on rows wider than a tile (_blocks)
                    loss += _window_in_slices(
                        w_in, w_out, contexts, valid, targets, use, positive, lr,
                        D, BLOCK_W, BLOCK_K, BLOCK_D,
                    )  # fmt: skip
                    examples += n_ctx
                else:
                    in_rows = w_in + contexts[:, None] * D + d[None, :]
                    out_rows = w_out + targets[:, None] * D + d[None, :]
                    out_mask = use[:, None] & dmask[None, :]
                    u = tl.load(out_rows, mask=out_mask, other=0.0, cache_modifier=".cg")
                    if MODE == _CBOW:
                        h = tl.sum(xs, axis=0) * (1.0 / n_ctx.to(tl.float32))
                        g, nll = _score(tl.sum(u * h[None, :], axis=1), positive, use, lr)
                        # word2vec adds the mean's whole gradient to every context row
                        dh = tl.sum(g[:, None] * u, axis=0)
                        dxs = tl.where(in_mask, dh[None, :], 0.0)
                        du = g[:, None] * h[None, :]
                        loss += tl.sum(nll, axis=0)
                        examples += 1
                    else:
                        # ieee: TF32 would round the rows to 10 bits of mantissa.
                        logits = tl.dot(xs, tl.trans(u), input_precision="ieee")
                        pair_mask = valid[:, None] & use[None, :]
                        g, nll = _score(logits, positive[None, :], pair_mask, lr)
                        dxs = tl.dot(g, u, input_precision="ieee")
                        du = tl.dot(tl.trans(g), xs, input_precision="ieee")
                        loss += tl.sum(tl.sum(nll, axis=1), axis=0)
                        examples += n_ctx
                    tl.atomic_add(in_rows, dxs, mask=in_mask, sem="relaxed")
                    tl.atomic_add(out_rows, du, mask=out_mask, sem="relaxed")
                tl.debug_barrier()
                if REUSE_ROWS:
                    # Every copy of a word in the ring must get all of its word's adds, as
                    # the table does: a context's slot adds its own, and a slot whose word
                    # is a context in another slot too (twice in reach, or in reach and out
                    # of it) is read again from the table, which has them all.
                    ring += dxs
                    twin = (contexts[:, None] == contexts[None, :]) & (s[:, None] != s[None, :])
                    stale = tl.sum((twin & valid[None, :]).to(tl.int32), axis=1) > 0
                    stale = stale & (o <= WINDOW)  # not the slots of rows that have left
                    if tl.sum(stale.to(tl.int32), axis=0) > 0:
                        fresh = tl.load(
                            w_in + contexts[:, None] * D + d[None, :],
                            mask=stale[:, None] & dmask[None, :], other=0.0,
                            cache_modifier=".cg",
                        )  # fmt: skip
                        ring = tl.where(stale[:, None], fresh, ring)
            if REUSE_ROWS:
                # Position p + 1 + WINDOW enters, in the slot p - WINDOW leaves; the barrier
                # above made this program's adds readable. (Past the sentence's end it
                # reads the last word's row into a slot never read.)
                enter = p + 1 + WINDOW
                word = tl.load(ids + tl.minimum(enter, s1 - 1)).to(tl.int64)
                row = tl.load(w_in + word * D + d, mask=dmask, other=0.0, cache_modifier=".cg")
                word = tl.where(enter < s1, word, -1)
                here = s == (enter & (BLOCK_W - 1))
                ring_word = tl.where(here, word, ring_word)
                ring = tl.where(here[:, None], row[None, :], ring)
    tl.store(loss_out + pid, loss)
    tl.store(examples_out + pid, examples)


@_jit(do_not_specialize=["seed"])
def _draws_kernel(
    reach_out, negatives_out, noise_prob, noise_alias, n_positions, seed, V,
    WINDOW: tl.constexpr, K: tl.constexpr, SLOTS: tl.constexpr, SHRINK: tl.constexpr,
    BLOCK_P: tl.constexpr, BLOCK_N: tl.constexpr,
):  # fmt: skip
    """What _train_pieces_kernel draws for positions [0, n_positions), through the same
    functions and counters."""
    STRIDE: tl.constexpr = 1 + SLOTS * K
    p = tl.program_id(0).to(tl.int64) * BLOCK_P + tl.arange(0, BLOCK_P)
    inside = p < n_positions
    base = p * STRIDE
    reach = _draw_reach(seed, base, WINDOW) if SHRINK else tl.full((BLOCK_P,), WINDOW, tl.int32)
    tl.store(reach_out + p, reach, mask=inside)
    draw = tl.arange(0, BLOCK_N)
    mask = inside[:, None] & (draw < SLOTS * K)[None, :]
    counters = base[:, None] + 1 + draw[None, :]
    words = _draw_noise(seed, counters, noise_prob, noise_alias, V, mask)
    tl.store(negatives_out + p[:, None] * (SLOTS * K) + draw[None, :], words, mask=mask)


# -- the host side --------------------------------------------------------------------------


def alias_table(
    probs: np.ndarray | torch.Tensor, device: torch.device | str | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The noise distribution as the kernel's Walker alias table: ``noise_prob`` (float32,
    V), the share of slot i that keeps word i, and ``noise_alias`` (int32, V), the word that
    takes the rest. Vose's construction, numba's own (noise_table), so both engines draw
    from the same table; on ``device`` (default: where ``probs`` is, else the CPU)."""
    if isinstance(probs, torch.Tensor):
        device = probs.device if device is None else device
        probs = probs.detach().cpu().numpy()
    packed = noise_table(np.asarray(probs, dtype=np.float64))
    share = (packed >> ALIAS_BITS).astype(np.float64) / 2.0**32
    alias = (packed & ALIAS_MASK).astype(np.int32)
    prob = torch.from_numpy(share.astype(np.float32))
    return prob.to(device or "cpu"), torch.from_numpy(alias).to(device or "cpu")


def cut_pieces(
    sentence_offsets: torch.Tensor, piece_len: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Sentences (``sentence_offsets``, int64, S + 1 bounds into the flat id array) cut into
    pieces of at most ``piece_len`` centres: (piece_start, piece_end, sent_start, sent_end),
    int64, on the offsets' device. Empty sentences give no piece."""
    if piece_len < 1:
        raise ValueError("a piece holds at least one centre")
    starts, ends = sentence_offsets[:-1], sentence_offsets[1:]
    counts = (ends - starts + piece_len - 1) // piece_len
    sentence = torch.repeat_interleave(torch.arange(len(counts), device=counts.device), counts)
    first_piece = torch.cumsum(counts, 0) - counts
    within = torch.arange(len(sentence), device=counts.device) - first_piece[sentence]
    piece_start = starts[sentence] + within * piece_len
    piece_end = torch.minimum(piece_start + piece_len, ends[sentence])
    return piece_start, piece_end, starts[sentence], ends[sentence]


def _blocks(
    window: int, negative: int, dim: int, mode: str, reuse_rows: bool = False
) -> tuple[int, int, int, int]:
    """(BLOCK_W, BLOCK_K, BLOCK_D, num_warps) for a shape."""
    pow2 = triton.next_power_of_2
    block_w, block_k, block_d = pow2(2 * window), pow2(negative + 1), pow2(dim)
    if reuse_rows:  # the ring holds the centre, the window and the row entering next
        block_w = pow2(2 * window + 2)
    # tl.dot wants every side of its tiles >= 16
    if mode == "window":
        block_w, block_k, block_d = max(block_w, 16), max(block_k, 16), max(block_d, 16)
        if not reuse_rows:  # wider rows go through in slices (_window_in_slices)
            block_d = min(block_d, SLICE_COLUMNS, max(16, TILE_FLOATS // block_w))
    elif reuse_rows:
        block_w, block_d = max(block_w, 16), max(block_d, 16)
    tile = (block_k if mode == "pair" else block_w) * block_d
    # About 16 floats of the largest tile per thread: enough loads in flight per warp,
    # and registers left for the rest. The ring is a second tile that lives across centres.
    # At least a warp for each of an SM's four schedulers (with two, ptxas spilled the per
    # pair kernel on sm_75 and sm_89).
    if reuse_rows:
        tile *= 2
    num_warps = min(max(tile // 512, 4), 8)
    return block_w, block_k, block_d, num_warps


def _check_index(name: str, t: torch.Tensor, device: torch.device, n: int | None) -> None:
    if t.device != device or t.dtype not in (torch.int32, torch.int64):
        raise ValueError(f"{name} must be an int32 or int64 tensor on {device}")
    if n is not None and t.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), not {tuple(t.shape)}")


def train_pieces(
    w_in: torch.Tensor,
    w_out: torch.Tensor,
    ids: torch.Tensor,
    piece_start: torch.Tensor,
    piece_end: torch.Tensor,
    sent_start: torch.Tensor,
    sent_end: torch.Tensor,
    piece_lr: torch.Tensor,
    noise_prob: torch.Tensor,
    noise_alias: torch.Tensor,
    *,
    seed: int,
    window: int,
    shrink_windows: bool,
    negative: int,
    mode: str = "window",
    reuse_rows: bool = False,
    negatives: torch.Tensor | None = None,
    reach: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Train every piece once, one program per piece, in place in ``w_in`` and ``w_out``;
    returns (summed loss, examples), float64 and int64 scalars on the device (no sync).

    ``w_in``, ``w_out``: (V, D) float32, contiguous, distinct. ``ids``: the flat word ids
    (int32 or int64). Piece i trains the centres at positions [piece_start[i],
    piece_end[i]) of ``ids``, its windows bounded by its sentence [sent_start[i],
    sent_end[i]), at learning rate ``piece_lr[i]`` (float32); the four bounds are int32 or
    int64, one per piece (cut_pieces makes them). Pieces may share a sentence; their
    windows then overlap, Hogwild. ``noise_prob``, ``noise_alias``: alias_table's.
    ``seed``: keys every draw of the launch (use a new one for each launch).

    ``mode``: skip-gram with negatives per ``window`` or per ``pair``, or ``cbow``.
    ``reuse_rows`` (window and cbow): a program keeps the input rows of its window on chip
    while they stay in it (FULL-W2V's reuse), loading one row per centre instead of the
    window's; its copies follow its own adds exactly, and miss other programs' adds until
    they leave the window (Hogwild, a little staler). For
    tests: ``negatives`` (int32/int64, (len(ids), K), or (len(ids), 2 x window, K) per pair,
    indexed by centre position and window slot: slot s is the context at offset
    s - window for s < window, s - window + 1 after) and ``reach`` (int32/int64,
    (len(ids),), clamped to [0, window]) replace the draws.
    """
    if triton is None:
        raise RuntimeError(INSTALL_HINT)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {sorted(MODES)}, not {mode!r}")
    if window < 1 or negative < 0:
        raise ValueError("window must be >= 1 and negative >= 0")
    if reuse_rows and mode == "pair":
        raise ValueError("reuse_rows is for the window and cbow modes")
    device = w_in.device
    for name, table in (("w_in", w_in), ("w_out", w_out)):
        if table.dtype != torch.float32 or table.dim() != 2 or not table.is_contiguous():
            raise ValueError(f"{name} must be a contiguous (V, D) float32 tensor")
        if table.device != device or table.shape != w_in.shape:
            raise ValueError("w_in and w_out must have the same shape and device")
    vocab, dim = w_in.shape
    n_pieces = len(piece_start)
    _check_index("ids", ids, device, None)
    for name, bound in (
        ("piece_start", piece_start),
        ("piece_end", piece_end),
        ("sent_start", sent_start),
        ("sent_end", sent_end),
    ):
        _check_index(name, bound, device, n_pieces)
    if piece_lr.shape != (n_pieces,) or piece_lr.device != device:
        raise ValueError(f"piece_lr must have shape ({n_pieces},) on {device}")
    if (
        noise_prob.shape != (vocab,)
        or noise_alias.shape != (vocab,)
        or noise_prob.dtype != torch.float32
        or noise_alias.dtype != torch.int32
        or noise_prob.device != device
        or noise_alias.device != device
    ):
        raise ValueError(f"the alias table must be alias_table's, one entry per word, on {device}")
    slots = 2 * window if mode == "pair" else 1
    if negatives is not None:
        shape = (len(ids), slots, negative) if mode == "pair" else (len(ids), negative)
        if tuple(negatives.shape) != shape:
            raise ValueError(f"negatives must have shape {shape} for mode {mode!r}")
        _check_index("negatives", negatives, device, None)
        negatives = negatives.contiguous()
    if reach is not None:
        _check_index("reach", reach, device, len(ids))
        reach = reach.contiguous()

    loss_out = torch.zeros(n_pieces, dtype=torch.float32, device=device)
    examples_out = torch.zeros(n_pieces, dtype=torch.int32, device=device)
    if n_pieces:
        block_w, block_k, block_d, num_warps = _blocks(window, negative, dim, mode, reuse_rows)
        _train_pieces_kernel[(n_pieces,)](
            w_in, w_out, ids.contiguous(), piece_start.contiguous(), piece_end.contiguous(),
            sent_start.contiguous(), sent_end.contiguous(),
            piece_lr.to(torch.float32).contiguous(), noise_prob, noise_alias,
            ids if negatives is None else negatives, ids if reach is None else reach,
            loss_out, examples_out, _seed(seed), vocab,
            D=dim, WINDOW=window, K=negative, MODE=MODES[mode], SHRINK=shrink_windows,
            GIVEN_NEGATIVES=negatives is not None, GIVEN_REACH=reach is not None,
            REUSE_ROWS=reuse_rows, BLOCK_W=block_w, BLOCK_K=block_k, BLOCK_D=block_d,
            num_warps=num_warps, num_stages=NUM_STAGES,
        )  # fmt: skip
    return loss_out.sum(dtype=torch.float64), examples_out.sum(dtype=torch.int64)


def _seed(seed: int) -> int:
    """The seed as Philox's 64-bit key; kept above 2^32 so that Triton compiles one
    variant (an int argument's type follows its value)."""
    return (int(seed) & ((1 << 62) - 1)) | (1 << 62)


def draws(
    n_positions: int,
    noise_prob: torch.Tensor,
    noise_alias: torch.Tensor,
    *,
    seed: int,
    window: int,
    shrink_windows: bool,
    negative: int,
    mode: str = "window",
) -> tuple[torch.Tensor, torch.Tensor]:
    """The reach (int32, (n,)) and negatives (int32, (n, K), or (n, 2 x window, K) per
    pair) that train_pieces draws for positions [0, n) with these arguments: what it
    trains on, for tests and statistics."""
    if triton is None:
        raise RuntimeError(INSTALL_HINT)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {sorted(MODES)}, not {mode!r}")
    device = noise_prob.device
    slots = 2 * window if mode == "pair" else 1
    reach = torch.empty(n_positions, dtype=torch.int32, device=device)
    negatives = torch.empty(n_positions, slots * negative, dtype=torch.int32, device=device)
    block_n = triton.next_power_of_2(max(slots * negative, 1))
    block_p = max(1, 4096 // block_n)
    if n_positions:
        _draws_kernel[(triton.cdiv(n_positions, block_p),)](
            reach, negatives, noise_prob, noise_alias, n_positions, _seed(seed),
            len(noise_prob), WINDOW=window, K=negative, SLOTS=slots, SHRINK=shrink_windows,
            BLOCK_P=block_p, BLOCK_N=block_n,
        )  # fmt: skip
    shape = (n_positions, slots, negative) if mode == "pair" else (n_positions, negative)
    return reach, negatives.view(shape)
