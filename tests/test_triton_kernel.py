"""The Triton kernels are the numba kernel's model: a window (against numba's window_update
and the torch engine's step), then whole sentences cut into pieces, against window_update
applied centre after centre, with rows kept on chip or not; their device draws follow the
noise distribution; and training learns a planted corpus.

They run on the CPU through Triton's interpreter, which runs the programs of a launch one
after another, so pieces of a sentence are applied in order and the sequential reference
is exact.
"""

import importlib.util
from types import ModuleType

import numpy as np
import pytest
import torch

from w2v.engines import numba_kernel
from w2v.engines.torch_batches import Batch
from w2v.engines.torch_model import Word2Vec

from helpers import TRITON_TEST_DEVICE, random_tables, triton_kernel_module

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("triton") is None, reason="triton is not installed"
)

tk: ModuleType  # the kernel module under test (set by the fixture below)
DEVICE = TRITON_TEST_DEVICE
# On a GPU the programs of a launch run at once: only a launch of one program is replayed
# exactly by the sequential reference there.
ONE_PROGRAM_ONLY = pytest.mark.skipif(
    DEVICE != "cpu", reason="the interpreter runs programs one after another; a GPU does not"
)


@pytest.fixture(autouse=True, scope="module")
def _kernel_module():
    global tk
    with triton_kernel_module() as module:
        tk = module
        yield


V, D = 10, 8


def tables(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    return random_tables(V, D, seed)


def uniform_noise(vocab: int = V) -> tuple[torch.Tensor, torch.Tensor]:
    return tk.alias_table(np.full(vocab, 1.0 / vocab), DEVICE)


def reference_window(w_in, w_out, centre, contexts, negatives, lr, cbow):
    """numba's update of one window (or, with one context, of one pair), in place."""
    targets = np.array([centre, *negatives], dtype=np.int64)
    ctx = np.array(contexts, dtype=np.int64)
    dim = w_in.shape[1]
    grad_in = np.empty((len(ctx) + 1, dim), np.float32)
    grad_out = np.empty((len(targets), dim), np.float32)
    return numba_kernel.window_update(
        w_in, w_out, ctx, len(ctx), targets, len(targets), lr, cbow, grad_in, grad_out
    )


def reference_pieces(w_in, w_out, ids, pieces, lr, reach, negatives, *, window, mode):
    """The pieces, centre after centre, through numba's window_update (per pair, pair
    after pair in the window's order, as train_chunk goes). Returns (loss, examples)."""
    loss, examples = 0.0, 0
    for (first, end, s0, s1), rate in zip(pieces, lr, strict=True):
        for p in range(first, end):
            r = int(reach[p])
            slots = [
                (s, p + (s - window if s < window else s - window + 1)) for s in range(2 * window)
            ]
            near = [(s, q) for s, q in slots if abs(q - p) <= r and s0 <= q < s1]
            if not near:
                continue
            if mode == "pair":
                for s, q in near:
                    part, n = reference_window(
                        w_in, w_out, ids[p], [ids[q]], negatives[p, s], rate, False
                    )
                    loss += part
                    examples += n
                continue
            contexts = [ids[q] for _, q in near]
            part, n = reference_window(
                w_in, w_out, ids[p], contexts, negatives[p], rate, mode == "cbow"
            )
            loss += part
            examples += n
    return loss, examples


def run_pieces(w_in, w_out, ids, pieces, lr, *, window, mode, negative, **kw):
    """train_pieces on copies of the tables; returns (w_in, w_out, loss, examples)."""
    t_in, t_out = (torch.from_numpy(t.copy()).to(DEVICE) for t in (w_in, w_out))
    bounds = torch.tensor(pieces, dtype=torch.int64, device=DEVICE).reshape(-1, 4).T
    prob, alias = kw.pop("noise", None) or uniform_noise()
    for given in ("negatives", "reach"):
        if kw.get(given) is not None:
            kw[given] = kw[given].to(DEVICE)
    loss, examples = tk.train_pieces(
        t_in, t_out, torch.as_tensor(ids, dtype=torch.int32, device=DEVICE), *bounds,
        torch.tensor(lr, dtype=torch.float32, device=DEVICE), prob, alias,
        window=window, negative=negative, mode=mode, **kw,
    )  # fmt: skip
    return t_in.cpu().numpy(), t_out.cpu().numpy(), float(loss), int(examples)


def assert_same(got, want_in, want_out, want_loss, want_examples):
    w_in, w_out, loss, examples = got
    assert examples == want_examples > 0
    assert loss == pytest.approx(want_loss, rel=1e-5)
    np.testing.assert_allclose(w_in, want_in, rtol=0, atol=1e-5)
    np.testing.assert_allclose(w_out, want_out, rtol=0, atol=1e-5)


# -- one window -------------------------------------------------------------------------------

# The centre 3 at position 2 sees contexts 1, 4, 4, 7. Context 4 is also a negative (its
# gradients must come from the old tables), 4 appears twice as a context, 3 is drawn as a
# negative of itself (skipped, as in word2vec) and 1 is both a context and a twice-drawn
# negative.
SENTENCE = [1, 4, 3, 4, 7]
CENTRE_AT, NEGATIVES = 2, [4, 3, 9, 1, 1]
# Per pair: a negative equal to the centre, a negative drawn twice, and a context that is a
# negative of its own pair and of the others.
PAIR_NEGATIVES = [[3, 4, 4, 0, 1], [1, 4, 8, 3, 3], [4, 4, 4, 2, 7], [7, 1, 3, 5, 6]]


ONE_WINDOW = dict(window=2, lr=0.3, pieces=[(CENTRE_AT, CENTRE_AT + 1, 0, len(SENTENCE))])


def one_window_negatives(mode: str) -> np.ndarray:
    window, n = ONE_WINDOW["window"], len(SENTENCE)
    if mode == "pair":
        negatives = np.zeros((n, 2 * window, len(NEGATIVES)), dtype=np.int64)
        negatives[CENTRE_AT] = PAIR_NEGATIVES
    else:
        negatives = np.zeros((n, len(NEGATIVES)), dtype=np.int64)
        negatives[CENTRE_AT] = NEGATIVES
    return negatives


def train_one_window(mode: str):
    """The kernel on the centre at CENTRE_AT of SENTENCE, its whole window, the negatives
    above: run_pieces's (w_in, w_out, loss, examples)."""
    w_in, w_out = tables()
    window, n = ONE_WINDOW["window"], len(SENTENCE)
    return run_pieces(
        w_in, w_out, SENTENCE, ONE_WINDOW["pieces"], [ONE_WINDOW["lr"]], window=window,
        mode=mode, negative=len(NEGATIVES), seed=1, shrink_windows=True,
        negatives=torch.from_numpy(one_window_negatives(mode)),
        reach=torch.full((n,), window),
    )  # fmt: skip


@pytest.mark.parametrize("mode", ["window", "pair", "cbow"])
def test_one_window_is_numbas(mode):
    got = train_one_window(mode)
    ref_in, ref_out = tables()
    window, n = ONE_WINDOW["window"], len(SENTENCE)
    loss, examples = reference_pieces(
        ref_in, ref_out, SENTENCE, ONE_WINDOW["pieces"], [ONE_WINDOW["lr"]],
        np.full(n, window), one_window_negatives(mode), window=window, mode=mode,
    )  # fmt: skip
    assert examples == (1 if mode == "cbow" else 4)
    assert_same(got, ref_in, ref_out, loss, examples)
    assert not np.allclose(got[0], tables()[0])  # it did move


@pytest.mark.parametrize("mode", ["window", "pair", "cbow"])
def test_one_window_is_the_torch_reference_step(mode):
    """The same window against the torch engine's step (a batch of one centre word; per
    pair, a step per pair in the window's order with that pair's negatives)."""
    got = train_one_window(mode)
    w_in, w_out = tables()
    ref = Word2Vec(V, D, model="cbow" if mode == "cbow" else "sg", negative_sharing=mode)
    with torch.no_grad():
        ref.input.weight.copy_(torch.from_numpy(w_in))
        ref.output.weight.copy_(torch.from_numpy(w_out))
    centre = SENTENCE[CENTRE_AT]
    contexts = [SENTENCE[i] for i in (0, 1, 3, 4)]  # the centre's window, left to right
    steps = (
        [([c], negs) for c, negs in zip(contexts, PAIR_NEGATIVES, strict=True)]
        if mode == "pair"
        else [(contexts, NEGATIVES)]
    )
    loss, examples = 0.0, 0
    for group, negs in steps:
        batch = Batch(
            torch.tensor([centre]),
            torch.tensor(group),
            torch.zeros(len(group), dtype=torch.long),
            0,
        )
        part, count = ref.sgd_step(batch, torch.tensor([negs]), ONE_WINDOW["lr"])
        loss, examples = loss + float(part), examples + count
    want_in, want_out = (t.weight.detach().numpy() for t in (ref.input, ref.output))
    assert_same(got, want_in, want_out, loss, examples)


def test_a_shared_window_reads_the_tables_as_they_were():
    """The window's pairs all score the old tables: not the same as pair after pair."""
    w_in, w_out = tables()
    n, k = len(SENTENCE), len(NEGATIVES)
    negatives = np.zeros((n, k), dtype=np.int64)
    negatives[CENTRE_AT] = NEGATIVES
    shared = run_pieces(
        w_in, w_out, SENTENCE, [(CENTRE_AT, CENTRE_AT + 1, 0, n)], [0.3],
        window=2, mode="window", negative=k, seed=1, shrink_windows=True,
        negatives=torch.from_numpy(negatives), reach=torch.full((n,), 2),
    )  # fmt: skip
    per_pair = run_pieces(
        w_in, w_out, SENTENCE, [(CENTRE_AT, CENTRE_AT + 1, 0, n)], [0.3],
        window=2, mode="pair", negative=k, seed=1, shrink_windows=True,
        negatives=torch.from_numpy(np.repeat(negatives[:, None], 4, 1)),
        reach=torch.full((n,), 2),
    )  # fmt: skip
    assert not np.allclose(shared[1], per_pair[1], atol=1e-4)


# -- whole sentences --------------------------------------------------------------------------

# Two sentences in one flat array: windows stop at their bounds.
IDS = np.array([2, 5, 5, 0, 9, 3, 5, 1, 8, 6, 3, 3, 7, 0, 4], dtype=np.int64)
SENTENCES = [(0, 9), (9, 15)]


@ONE_PROGRAM_ONLY
@pytest.mark.parametrize("mode", ["window", "pair", "cbow"])
@pytest.mark.parametrize("piece_len", [9, 3, 1], ids=["one-piece", "pieces-of-3", "pieces-of-1"])
def test_sentences_in_pieces_are_numbas_centre_after_centre(mode, piece_len):
    rng = np.random.default_rng(5)
    window, k, n = 3, 4, len(IDS)
    reach = rng.integers(1, window + 1, n)
    shape = (n, 2 * window, k) if mode == "pair" else (n, k)
    negatives = rng.integers(0, V, shape)
    offsets = torch.tensor([0, 9, 15])
    pieces = torch.stack(tk.cut_pieces(offsets, piece_len), 1).tolist()
    assert len(pieces) == -(-9 // piece_len) + -(-6 // piece_len)
    lr = list(np.linspace(0.4, 0.1, len(pieces)))  # each piece its own rate
    w_in, w_out = tables(3)
    got = run_pieces(
        w_in, w_out, IDS, pieces, lr, window=window, mode=mode, negative=k, seed=1,
        shrink_windows=True, negatives=torch.from_numpy(negatives),
        reach=torch.from_numpy(reach),
    )  # fmt: skip
    loss, examples = reference_pieces(
        w_in, w_out, IDS, pieces, lr, reach, negatives, window=window, mode=mode
    )
    assert_same(got, w_in, w_out, loss, examples)


@ONE_PROGRAM_ONLY
@pytest.mark.parametrize("mode", ["window", "cbow"])
@pytest.mark.parametrize("window", [3, 8], ids=["ring-of-16", "ring-of-32"])
@pytest.mark.parametrize("piece_len", [9, 4, 1], ids=["one-piece", "pieces-of-4", "pieces-of-1"])
def test_rows_kept_on_chip_train_as_numba_centre_after_centre(mode, window, piece_len):
    """With reuse_rows a program loads a row as it enters the window and keeps it: its copies
    must follow every add of its own, also to a word held twice (5 and 3 repeat in IDS,
    within reach and out of it) and to a word held as a non-context (the centre, or past
    the reach drawn)."""
    rng = np.random.default_rng(7)
    k, n = 4, len(IDS)
    reach = rng.integers(1, window + 1, n)
    negatives = rng.integers(0, V, (n, k))
    pieces = torch.stack(tk.cut_pieces(torch.tensor([0, 9, 15]), piece_len), 1).tolist()
    lr = list(np.linspace(0.4, 0.1, len(pieces)))
    w_in, w_out = tables(4)
    got = run_pieces(
        w_in, w_out, IDS, pieces, lr, window=window, mode=mode, negative=k, seed=1,
        shrink_windows=True, negatives=torch.from_numpy(negatives),
        reach=torch.from_numpy(reach), reuse_rows=True,
    )  # fmt: skip
    loss, examples = reference_pieces(
        w_in, w_out, IDS, pieces, lr, reach, negatives, window=window, mode=mode
    )
    assert_same(got, w_in, w_out, loss, examples)


@ONE_PROGRAM_ONLY
@pytest.mark.parametrize("piece_len", [9, 1], ids=["one-piece", "pieces-of-1"])
def test_rows_wider_than_a_tile_go_through_in_slices(piece_len, monkeypatch):
    """Skip-gram's window on rows of 40 columns in slices of 16 (the last one part full):
    the logits summed over the slices, each slice's gradients from the tables as they were."""
    monkeypatch.setattr(tk, "SLICE_COLUMNS", 16)
    window, k, n, dim = 3, 4, len(IDS), 40
    assert tk._blocks(window, k, dim, "window")[2] == 16  # three slices
    rng = np.random.default_rng(9)
    reach = rng.integers(1, window + 1, n)
    negatives = rng.integers(0, V, (n, k))
    pieces = torch.stack(tk.cut_pieces(torch.tensor([0, 9, 15]), piece_len), 1).tolist()
    lr = list(np.linspace(0.4, 0.1, len(pieces)))
    w_in, w_out = random_tables(V, dim, 6)
    got = run_pieces(
        w_in, w_out, IDS, pieces, lr, window=window, mode="window", negative=k, seed=1,
        shrink_windows=True, negatives=torch.from_numpy(negatives),
        reach=torch.from_numpy(reach),
    )  # fmt: skip
    loss, examples = reference_pieces(
        w_in, w_out, IDS, pieces, lr, reach, negatives, window=window, mode="window"
    )
    assert_same(got, w_in, w_out, loss, examples)


def test_cut_pieces():
    offsets = torch.tensor([0, 5, 5, 6, 13])
    got = torch.stack(tk.cut_pieces(offsets, 3), 1).tolist()
    want = [[0, 3, 0, 5], [3, 5, 0, 5], [5, 6, 5, 6], [6, 9, 6, 13], [9, 12, 6, 13]]
    assert got == [*want, [12, 13, 6, 13]]


# -- the device draws -------------------------------------------------------------------------

WEIGHTS = np.array([5.0, 1.0, 3.0, 0.0, 4.0])  # word 3 is never drawn


def implied_distribution(prob: torch.Tensor, alias: torch.Tensor) -> np.ndarray:
    """The exact probability of each word under the alias table."""
    own = prob.double().numpy()
    probs = own.copy()
    np.add.at(probs, alias.numpy(), 1.0 - own)
    return probs / len(own)


def test_the_alias_table_holds_the_distribution():
    prob, alias = tk.alias_table(torch.from_numpy(WEIGHTS / WEIGHTS.sum()))
    assert prob.dtype == torch.float32 and alias.dtype == torch.int32
    np.testing.assert_allclose(implied_distribution(prob, alias), WEIGHTS / 13, atol=1e-7)
    assert tk.alias_table(WEIGHTS / 13, DEVICE)[0].device.type == DEVICE


def test_the_kernel_draws_negatives_in_proportion():
    """200k negatives through the kernel's own draw, against the distribution."""
    prob, alias = tk.alias_table(WEIGHTS / WEIGHTS.sum(), DEVICE)
    _, negatives = tk.draws(10_000, prob, alias, seed=7, window=5, shrink_windows=True, negative=20)
    counts = np.bincount(negatives.cpu().numpy().ravel(), minlength=len(WEIGHTS))
    assert counts.sum() == 200_000 and counts[3] == 0
    # one standard deviation of a share here is at most 0.0011
    np.testing.assert_allclose(counts / counts.sum(), WEIGHTS / WEIGHTS.sum(), atol=0.004)


def test_the_reach_is_uniform_and_whole_without_shrinking():
    prob, alias = uniform_noise()
    reach, _ = tk.draws(20_000, prob, alias, seed=3, window=5, shrink_windows=True, negative=1)
    counts = np.bincount(reach.cpu().numpy(), minlength=6)
    assert counts[0] == 0 and counts.sum() == 20_000
    np.testing.assert_allclose(counts[1:] / 20_000, 0.2, atol=0.012)  # 4 sd
    whole, _ = tk.draws(100, prob, alias, seed=3, window=5, shrink_windows=False, negative=1)
    assert (whole == 5).all()


def test_a_seed_gives_the_same_draws_and_another_seed_others():
    prob, alias = uniform_noise()
    opts = dict(window=4, shrink_windows=True, negative=3, mode="pair")
    first = tk.draws(50, prob, alias, seed=11, **opts)
    again = tk.draws(50, prob, alias, seed=11, **opts)
    other = tk.draws(50, prob, alias, seed=12, **opts)
    assert first[1].shape == (50, 8, 3)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[1], other[1]) and not torch.equal(first[0], other[0])


@ONE_PROGRAM_ONLY
@pytest.mark.parametrize("mode", ["window", "pair", "cbow"])
def test_training_draws_what_draws_returns(mode):
    """The training kernel's own draws are the ones the statistics above looked at: given
    back explicitly, they train the same tables."""
    noise = tk.alias_table(np.arange(1.0, V + 1), DEVICE)
    pieces = [(0, 9, 0, 9), (9, 15, 9, 15)]
    opts = dict(window=3, mode=mode, negative=3, seed=99, shrink_windows=True)
    w_in, w_out = tables(4)
    ids = IDS
    reach, negatives = tk.draws(len(ids), *noise, **opts)
    drawn = run_pieces(w_in, w_out, ids, pieces, [0.2, 0.2], noise=noise, **opts)
    given = run_pieces(
        w_in, w_out, ids, pieces, [0.2, 0.2], noise=noise, negatives=negatives, reach=reach,
        **opts,
    )  # fmt: skip
    for a, b in zip(drawn, given, strict=True):
        np.testing.assert_array_equal(a, b)
    again = run_pieces(w_in, w_out, ids, pieces, [0.2, 0.2], noise=noise, **opts)
    np.testing.assert_array_equal(drawn[0], again[0])


# -- learning ---------------------------------------------------------------------------------

TOPICS, PER_TOPIC = 2, 6


def topic_purity(w_in: np.ndarray, top: int = 3) -> float:
    """The share of each word's ``top`` nearest words (cosine) that are of its topic."""
    unit = w_in / np.linalg.norm(w_in, axis=1, keepdims=True)
    cos = unit @ unit.T
    np.fill_diagonal(cos, -np.inf)
    near = np.argsort(-cos, axis=1)[:, :top]
    return float((near // PER_TOPIC == np.arange(len(w_in))[:, None] // PER_TOPIC).mean())


def test_a_planted_corpus_learns_its_topics():
    """Sentences of one topic each: words that share contexts end up near each other."""
    rng = np.random.default_rng(0)
    vocab, dim, length, per_launch = TOPICS * PER_TOPIC, 8, 8, 4
    w_in = torch.from_numpy(((rng.random((vocab, dim)) - 0.5) / dim).astype(np.float32))
    w_in, w_out = w_in.to(DEVICE), torch.zeros(vocab, dim, device=DEVICE)
    untrained = topic_purity(w_in.cpu().numpy())
    prob, alias = tk.alias_table(np.full(vocab, 1.0 / vocab), DEVICE)
    offsets = torch.arange(0, (per_launch + 1) * length, length, device=DEVICE)
    bounds = tk.cut_pieces(offsets, length)
    lr = torch.full((per_launch,), 0.15, device=DEVICE)
    loss = examples = 0
    for launch in range(20):  # 640 centres: the interpreter takes about 10 ms a centre
        topic = rng.integers(TOPICS, size=(per_launch, 1))
        words = topic * PER_TOPIC + rng.integers(PER_TOPIC, size=(per_launch, length))
        ids = torch.from_numpy(words.ravel().astype(np.int32)).to(DEVICE)
        part, n = tk.train_pieces(
            w_in, w_out, ids, *bounds, lr, prob, alias, seed=launch, window=2,
            shrink_windows=True, negative=3,
        )  # fmt: skip
        loss, examples = loss + part, examples + n
    assert untrained < 0.6
    assert topic_purity(w_in.cpu().numpy()) > 0.8
    assert 0 < float(loss) / int(examples) < 4 * np.log(2)  # below chance: (1 + K) log 2


def test_the_launcher_refuses_what_the_kernel_cannot_train():
    assert tk.available()
    w_in, w_out = (torch.from_numpy(t).to(DEVICE) for t in tables())
    prob, alias = uniform_noise()
    bound = torch.zeros(1, dtype=torch.int64, device=DEVICE)
    args = (torch.zeros(3, dtype=torch.int32, device=DEVICE), bound, bound + 1, bound, bound + 3)
    one = torch.ones(1, device=DEVICE)
    opts = dict(seed=1, window=2, shrink_windows=True, negative=2)
    with pytest.raises(ValueError, match="mode"):
        tk.train_pieces(w_in, w_out, *args, one, prob, alias, mode="hs", **opts)
    with pytest.raises(ValueError, match="float32"):
        tk.train_pieces(w_in.double(), w_out, *args, one, prob, alias, **opts)
    with pytest.raises(ValueError, match="negatives"):
        negatives = torch.zeros(3, 2, dtype=torch.int64)  # per pair wants (3, 4, 2)
        tk.train_pieces(
            w_in, w_out, *args, one, prob, alias, mode="pair", negatives=negatives,
            **opts,
        )  # fmt: skip
    with pytest.raises(ValueError, match="alias"):
        tk.train_pieces(w_in, w_out, *args, one, prob[:5], alias, **opts)
    loss, examples = tk.train_pieces(w_in, w_out, *args, one, prob, alias, **opts)
    assert loss.dtype == torch.float64 and examples.dtype == torch.int64 and int(examples) > 0
