import numpy as np
import pytest
import torch

from w2v.engines.base import Chunks, chunk_bounds
from w2v.engines.torch_batches import BatchMaker, window_pairs


def brute_force_pairs(sentence_of, reach, window):
    pairs = []
    n = len(sentence_of)
    for i in range(n):
        for j in range(max(0, i - window), min(n, i + window + 1)):
            if j != i and abs(j - i) <= reach[i] and sentence_of[j] == sentence_of[i]:
                pairs.append((i, j))
    return sorted(pairs)


@pytest.mark.parametrize("window", [1, 2, 5])
def test_window_pairs_match_brute_force(window):
    rng = np.random.default_rng(window)
    sentence_of = np.repeat(np.arange(6), rng.integers(1, 9, size=6))
    reach = rng.integers(1, window + 1, size=len(sentence_of))
    centre, context = window_pairs(sentence_of, reach, window)
    assert sorted(zip(centre.tolist(), context.tolist(), strict=True)) == brute_force_pairs(
        sentence_of, reach, window
    )
    assert (np.diff(centre) >= 0).all()  # grouped by centre, in order


def test_chunks_hold_whole_sentences():
    offsets = np.array([0, 3, 10, 11, 30, 31, 40])
    bounds = chunk_bounds(offsets, chunk_tokens=10)
    assert bounds[0] == 0 and bounds[-1] == 6
    assert (np.diff(bounds) > 0).all()
    assert set(bounds.tolist()) <= set(range(7))


def make_maker(ids, offsets, keep=None, **kw):
    vocab_size = int(ids.max()) + 1
    keep = np.ones(vocab_size, dtype=np.float32) if keep is None else keep
    args = dict(window=3, shrink_windows=True, batch_size=4, seed=7, chunk_tokens=16)
    args.update(kw)
    chunks = Chunks(ids, offsets, args.pop("chunk_tokens"))
    return BatchMaker(chunks, keep, **args)


def test_batches_cover_the_corpus_without_crossing_sentences():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 12, size=20)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    ids = np.arange(offsets[-1], dtype=np.int32)  # each position its own word id
    sentence = np.repeat(np.arange(20), lengths)
    maker = make_maker(ids, offsets, shrink_windows=False)
    total_words, centres = 0, []
    for _, batches in maker.epoch(0):
        for b in batches:
            total_words += b.words
            centres += b.centers.tolist()
            for owner, ctx in zip(b.owner.tolist(), b.contexts.tolist(), strict=True):
                c = int(b.centers[owner])
                assert sentence[c] == sentence[ctx]
                assert 1 <= abs(c - ctx) <= 3
    assert total_words == offsets[-1]
    assert sorted(centres) == ids.tolist()  # no subsampling: every token is a centre once


def test_same_seed_same_batches_and_other_epoch_differs():
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 50, size=200).astype(np.int32)
    offsets = np.array([0, 80, 200])
    keep = np.full(50, 0.6, dtype=np.float32)
    a = make_maker(ids, offsets, keep).chunk_batches(epoch=0, chunk=0)
    b = make_maker(ids, offsets, keep).chunk_batches(epoch=0, chunk=0)
    c = make_maker(ids, offsets, keep).chunk_batches(epoch=1, chunk=0)
    flat = lambda bs: torch.cat([x.contexts for x in bs]).tolist()  # noqa: E731
    assert flat(a) == flat(b)
    assert flat(a) != flat(c)


def test_subsampling_drops_words_at_the_keep_rate():
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 2, size=50_000).astype(np.int32)
    offsets = np.array([0, 50_000])
    keep = np.array([0.25, 1.0], dtype=np.float32)
    maker = make_maker(ids, offsets, keep, batch_size=1000, chunk_tokens=1 << 20)
    centres = torch.cat([b.centers for b in maker.chunk_batches(0, 0)]).numpy()
    kept0 = (centres == 0).sum() / (ids == 0).sum()
    assert kept0 == pytest.approx(0.25, abs=0.02)
    assert (centres == 1).sum() == (ids == 1).sum()
    assert sum(b.words for b in maker.chunk_batches(0, 0)) == 50_000


def test_reduced_window_reach_is_uniform():
    ids = np.zeros(20_000, dtype=np.int32)
    offsets = np.array([0, 20_000])
    maker = make_maker(ids, offsets, window=5, batch_size=20_000, chunk_tokens=1 << 20)
    (batch,) = maker.chunk_batches(0, 0)
    assert batch.centers.tolist() == ids.tolist()
    per_centre = np.bincount(batch.owner.numpy(), minlength=20_000)[10:-10]
    # reach r in 1..5 uniformly gives 2r contexts: mean 6
    assert per_centre.mean() == pytest.approx(6.0, abs=0.1)
    assert set(np.unique(per_centre).tolist()) == {2, 4, 6, 8, 10}


def test_a_batch_takes_centres_spread_over_the_chunk():
    ids = np.arange(100, dtype=np.int32)
    maker = make_maker(ids, np.array([0, 100]), window=2, batch_size=25, chunk_tokens=1 << 20)
    batches = maker.chunk_batches(0, 0)
    assert [b.centers.tolist() for b in batches] == [list(range(k, 100, 4)) for k in range(4)]
    assert sum(b.words for b in batches) == 100
    for b in batches:  # owners still point at the right centre
        for owner, ctx in zip(b.owner.tolist(), b.contexts.tolist(), strict=True):
            assert 1 <= abs(int(b.centers[owner]) - ctx) <= 2


def test_prefetch_yields_everything_in_order_and_passes_errors_on():
    from w2v.engines.torch_batches import prefetch

    assert list(prefetch(iter(range(50)), depth=2)) == list(range(50))

    def broken():
        yield 1
        raise ValueError("bad chunk")

    got = []
    with pytest.raises(ValueError, match="bad chunk"):
        for item in prefetch(broken(), depth=2):
            got.append(item)
    assert got == [1]


def test_prefetch_stops_its_producer_when_the_consumer_stops():
    import threading

    from w2v.engines.torch_batches import prefetch

    made = []

    def endless():
        i = 0
        while True:
            made.append(i)
            yield i
            i += 1

    items = prefetch(endless(), depth=2)
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()  # what a break or Ctrl-C in the training loop does
    assert not any(t.name == "w2v-batches" for t in threading.enumerate())
    assert len(made) <= 3 + 2 + 1  # never more than depth ahead
