"""The numba engine's per-centre steps (the original project's BCE with per-row AdamW, SGD
with BCE, AdamW with word2vec's loss) against the torch reference, step by step and over a
chunk replayed from the kernel's own draws; per-row state through a checkpoint; learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import w2v
from w2v.engines import numba_centre
from w2v.engines import numba_kernel as kernel
from w2v.engines.base import Tables
from w2v.engines.numba_engine import NO_STATE, RowAdamWState
from w2v.engines.torch_batches import Batch
from w2v.engines.torch_model import TorchTables, Word2Vec
from w2v.engines.torch_optim import RowAdamW

from helpers import StopAfterBatches, draw_noise, lcg, planted_sentences, topic_accuracy

pytestmark = pytest.mark.skipif(not kernel.available(), reason="numba is not installed")

V, D = 12, 8
ATOL = 2e-5


def new_tables(tied: bool, seed: int = 0) -> Tables:
    rng = np.random.default_rng(seed)
    w_in = rng.standard_normal((V, D)).astype(np.float32)
    w_out = w_in if tied else (0.5 * rng.standard_normal((V, D))).astype(np.float32)
    return Tables(w_in, w_out)


def copy(tables: Tables) -> Tables:
    w_in = tables.input.copy()
    return Tables(w_in, w_in if tables.tied else tables.output.copy())


class Reference:
    """The torch engine's step for one centre word (a batch of one), with its optimizer."""

    def __init__(self, tables: Tables, *, loss: str, model: str, optimizer: str, lr: float,
                 per_pair: bool = False, weight_decay: float = 0.01) -> None:  # fmt: skip
        self.tables = TorchTables.on(tables, "cpu")  # shares the arrays: updates land there
        self.model = Word2Vec(
            V, D, model=model, loss=loss, negative_sharing="pair" if per_pair else "window",
            tables=self.tables, sparse_grads=optimizer == "adamw",
        )  # fmt: skip
        params = list(self.model.parameters())
        self.adamw = optimizer == "adamw"
        self.optimizer = (
            RowAdamW(params, lr, weight_decay) if self.adamw else torch.optim.SGD(params, lr=lr)
        )
        self.per_pair = per_pair

    def step(self, centre: int, contexts: list[int], negatives: list[int],
             use: list[int] | None = None) -> tuple[float, int]:  # fmt: skip
        t = torch.tensor
        batch = Batch(t([centre]), t(contexts), torch.zeros(len(contexts), dtype=torch.long), 0)
        negs = t(negatives).view(len(contexts) if self.per_pair else 1, -1)
        mask = None if use is None else t(use, dtype=torch.float32).view(1, -1)
        loss, n = self.model(batch, negs, mask)
        self.optimizer.zero_grad()
        (loss / n if self.adamw else loss).backward()
        self.optimizer.step()
        return float(loss.detach()), n


def compiled_step(tables: Tables, state: RowAdamWState | None, centre: int, contexts: list[int],
                  negatives: list[int], use: list[int] | None = None, *, bce: bool, lr: float,
                  cbow: bool = False, per_pair: bool = False, weight_decay: float = 0.01,
                  n_neg: int | None = None) -> tuple[float, int]:  # fmt: skip
    arrays = state.kernel_args() if state is not None else NO_STATE * 2
    as_ids = lambda values: np.array(values, dtype=np.int64)  # noqa: E731
    return numba_centre.centre_update(
        tables.input, tables.output, *arrays, tables.tied, centre, as_ids(contexts),
        as_ids(negatives), as_ids(use or [1] * len(negatives)), n_neg or len(negatives), cbow,
        per_pair, bce, state is not None, weight_decay, lr,
    )  # fmt: skip


def assert_same(ours: Tables, state: RowAdamWState | None, ref: Reference) -> None:
    np.testing.assert_allclose(ours.input, ref.tables.input.numpy(), atol=ATOL, rtol=0)
    np.testing.assert_allclose(ours.output, ref.tables.output.numpy(), atol=ATOL, rtol=0)
    if state is None:
        return
    assert isinstance(ref.optimizer, RowAdamW)
    for mine, theirs in zip(state.exp_avg, ref.optimizer.exp_avg, strict=True):
        np.testing.assert_allclose(mine, theirs.numpy(), atol=ATOL, rtol=0)
    for mine, theirs in zip(state.exp_avg_sq, ref.optimizer.exp_avg_sq, strict=True):
        np.testing.assert_allclose(mine, theirs.numpy(), atol=ATOL, rtol=0)
    for mine, theirs in zip(state.steps, ref.optimizer.steps, strict=True):
        np.testing.assert_array_equal(mine, theirs.numpy())


# -- one centre word ------------------------------------------------------------------------------

# a context twice, the centre among its own contexts, a negative drawn twice
CENTRE, CONTEXTS, NEGATIVES = 3, [5, 7, 5, 3], [1, 9, 1, 10]


@pytest.mark.parametrize("tied", [True, False], ids=["tied", "two-tables"])
def test_the_seed_step_equals_the_reference(tied):
    ours, theirs = new_tables(tied), new_tables(tied)
    state = RowAdamWState(ours.all())
    ref = Reference(theirs, loss="bce", model="sg", optimizer="adamw", lr=0.05)
    for centre, contexts, negatives in [
        (CENTRE, CONTEXTS, NEGATIVES),
        (5, [3, 8], [0, 2, 6, 2]),  # rows used again: their second step
        (CENTRE, CONTEXTS, [2, 4, 6, 8]),
    ]:
        loss, labels = compiled_step(ours, state, centre, contexts, negatives, bce=True, lr=0.05)
        ref_loss, ref_labels = ref.step(centre, contexts, negatives)
        assert labels == ref_labels == len(contexts) + len(negatives)
        assert loss == pytest.approx(ref_loss, rel=1e-5)
        assert_same(ours, state, ref)
    # a row's step count is the number of steps it took part in, whatever its uses in one
    if tied:
        assert state.steps[0].tolist() == [1, 1, 2, 3, 1, 3, 2, 2, 2, 1, 1, 0]
    else:
        assert state.steps[0].tolist() == [0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0]  # centres
        assert state.steps[1].tolist() == [1, 1, 2, 3, 1, 2, 2, 2, 2, 1, 1, 0]
    # a row that never took part was neither decayed nor moved
    np.testing.assert_array_equal(ours.output[11], new_tables(tied).output[11])


def test_a_negative_left_out_after_its_redraws_does_not_count():
    ours, theirs = new_tables(True), new_tables(True)
    state = RowAdamWState(ours.all())
    ref = Reference(theirs, loss="bce", model="sg", optimizer="adamw", lr=0.05)
    negatives, use = [1, 5, 9, 10], [1, 0, 1, 1]  # 5 is a context: it could not be avoided
    loss, labels = compiled_step(ours, state, CENTRE, CONTEXTS, negatives, use, bce=True, lr=0.05)
    ref_loss, ref_labels = ref.step(CENTRE, CONTEXTS, negatives, use)
    assert labels == ref_labels == 7 and loss == pytest.approx(ref_loss, rel=1e-5)
    assert_same(ours, state, ref)


def test_bce_with_sgd_equals_the_reference():
    ours, theirs = new_tables(False), new_tables(False)
    ref = Reference(theirs, loss="bce", model="sg", optimizer="sgd", lr=0.1)
    loss, labels = compiled_step(ours, None, CENTRE, CONTEXTS, NEGATIVES, bce=True, lr=0.1)
    ref_loss, ref_labels = ref.step(CENTRE, CONTEXTS, NEGATIVES)
    assert labels == ref_labels and loss == pytest.approx(ref_loss, rel=1e-5)
    assert_same(ours, None, ref)


@pytest.mark.parametrize(
    ("model", "per_pair", "tied"),
    [("sg", False, False), ("sg", True, False), ("cbow", False, False), ("sg", False, True)],
    ids=["sg", "sg-pair", "cbow", "sg-tied"],
)
def test_adamw_with_negative_sampling_equals_the_reference(model, per_pair, tied):
    ours, theirs = new_tables(tied, seed=1), new_tables(tied, seed=1)
    state = RowAdamWState(ours.all())
    ref = Reference(theirs, loss="ns", model=model, optimizer="adamw", lr=0.05, per_pair=per_pair)
    contexts = [5, 7, 5, 8]
    k = 3
    # a negative equal to the centre (skipped, as word2vec does) and one drawn twice
    negatives = [9, CENTRE, 9] if not per_pair else [9, CENTRE, 9, 1, 2, 1, 0, 0, 6, 4, 4, 4]
    for _ in range(2):
        loss, n = compiled_step(ours, state, CENTRE, contexts, negatives, bce=False, lr=0.05,
                                cbow=model == "cbow", per_pair=per_pair, n_neg=k)  # fmt: skip
        ref_loss, ref_n = ref.step(CENTRE, contexts, negatives)
        assert n == ref_n == (1 if model == "cbow" else len(contexts))
        assert loss == pytest.approx(ref_loss, rel=1e-5)
        assert_same(ours, state, ref)


def test_a_draw_that_hits_the_centre_or_a_context_is_drawn_again():
    noise = kernel.noise_table(np.full(4, 0.25))
    contexts = np.array([1, 2], dtype=np.int64)
    redrawn = 0
    for seed in range(60):
        word, ok, state = numba_centre._draw_avoiding(noise, np.uint64(seed), 0, contexts, 2)
        assert ok and word == 3  # the one word that is neither
        first, after = draw_noise(noise, lcg(seed))
        if first != 3:  # the first draw was forbidden: it took more draws
            redrawn += 1
            assert int(state) != after
    assert redrawn > 20
    # a vocabulary with nothing left to draw: after its redraws the negative is not used
    _, ok, _ = numba_centre._draw_avoiding(
        kernel.noise_table(np.full(3, 1 / 3)), np.uint64(5), 0, contexts, 2
    )
    assert not ok


# -- a chunk, replayed ----------------------------------------------------------------------------


def test_a_seed_chunk_equals_a_replay_of_its_draws_through_the_reference():
    rng = np.random.default_rng(3)
    lengths = [9, 1, 14, 6]
    ids = rng.integers(0, V, sum(lengths)).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    noise = kernel.noise_table(np.full(V, 1 / V))  # the seed's uniform negatives
    keep_prob = np.ones(V)
    window, negative, lr = 2, 4, 0.02
    ours, theirs = new_tables(True, seed=4), new_tables(True, seed=4)
    state = RowAdamWState(ours.all())
    numba_centre.train_chunk_centres(
        ours.input, ours.output, *state.kernel_args(), True, ids, offsets, 0, len(lengths),
        keep_prob, noise, window, False, negative, False, False, True, True, 0.01, lr, lr, 0,
        100, 99, 1,
    )  # fmt: skip
    ref = Reference(theirs, loss="bce", model="sg", optimizer="adamw", lr=lr)
    seed = 99
    for s in range(len(lengths)):
        sentence = [int(w) for w in ids[offsets[s] : offsets[s + 1]]]
        for i, centre in enumerate(sentence):
            near = range(max(0, i - window), min(len(sentence), i + window + 1))
            contexts = [sentence[j] for j in near if j != i]
            if not contexts:
                continue
            negatives = []
            for _ in range(negative):
                while True:
                    seed = lcg(seed)
                    word, seed = draw_noise(noise, seed)
                    if word != centre and word not in contexts:
                        break
                negatives.append(word)
            ref.step(centre, contexts, negatives)
    assert_same(ours, state, ref)


# -- whole runs ----------------------------------------------------------------------------------


def test_the_seed_preset_runs_on_the_compiled_engine_and_learns():
    sentences = planted_sentences(3000, seed=0)
    vectors = w2v.train(sentences, preset="seed", seed=1, deterministic=True)  # numba: auto
    # the original's own settings: lr 1e-4, N(0, 1) start, 32 epochs, one step per word
    assert topic_accuracy(vectors) >= 0.95


@pytest.mark.parametrize("engine", ["numba", "torch"])
def test_both_engines_learn_the_same_with_the_seeds_model(engine):
    # a step per centre word on both (torch's batches of one are slow: a small corpus and a
    # larger learning rate, the rest the preset's)
    sentences = planted_sentences(300, seed=0)
    vectors = w2v.train(sentences, preset="seed", engine=engine, batch_size=1, epochs=3,
                        alpha=0.01, min_alpha=0.01, dim=32, seed=1)  # fmt: skip
    assert topic_accuracy(vectors) >= 0.95
    random = w2v.KeyedVectors(vectors.index_to_key, np.random.default_rng(0).standard_normal(
        vectors.vectors.shape))  # fmt: skip
    assert topic_accuracy(random) < 0.5


def test_the_per_row_state_survives_a_checkpoint_and_resumes_exactly(tmp_path):
    sentences = planted_sentences(400, seed=2)
    opts = dict(preset="seed", epochs=3, dim=16, seed=5, deterministic=True)
    straight = w2v.train(sentences, tmp_path / "straight", **opts)
    with pytest.raises(w2v.TrainingInterrupted):
        w2v.train(sentences, tmp_path / "stopped", callbacks=[StopAfterBatches(2)], **opts)
    from w2v.trainer import read_checkpoint

    saved = read_checkpoint(tmp_path / "stopped" / "checkpoint.pt")["engine"]
    assert saved["kind"] == "row-adamw" and len(saved["tables"]) == 1  # one tied table
    assert saved["tables"][0]["step"].max() > 0
    resumed = w2v.resume(tmp_path / "stopped")
    np.testing.assert_array_equal(resumed.vectors, straight.vectors)
