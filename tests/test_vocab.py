import numpy as np
import pytest
import torch

from w2v.engines.torch_model import NoiseSampler
from w2v.errors import W2VError
from w2v.vocab import Vocab

WORDS = ["b", "a", "the", "c", "rare", "d"]
COUNTS = np.array([3, 3, 10, 5, 1, 5])


def test_order_is_count_descending_then_word():
    vocab = Vocab.build(WORDS, COUNTS, min_count=1)
    assert vocab.words == ["the", "c", "d", "a", "b", "rare"]
    assert vocab.counts.tolist() == [10, 5, 5, 3, 3, 1]
    assert vocab.index["d"] == 2


def test_min_count_and_max_vocab_prune():
    assert Vocab.build(WORDS, COUNTS, min_count=3).words == ["the", "c", "d", "a", "b"]
    assert Vocab.build(WORDS, COUNTS, min_count=5).words == ["the", "c", "d"]
    assert Vocab.build(WORDS, COUNTS, min_count=1, max_vocab=2).words == ["the", "c"]
    assert len(Vocab.build(WORDS, COUNTS, min_count=11)) == 0


def test_remap_sends_pruned_words_to_minus_one():
    vocab = Vocab.build(WORDS, COUNTS, min_count=3)
    assert vocab.remap(WORDS).tolist() == [4, 3, 0, 1, -1, 2]


def test_keep_probabilities_follow_word2vec_formula():
    counts = np.array([1_000_000, 10_000, 100, 1])
    vocab = Vocab([f"w{i}" for i in range(4)], counts)
    sample = 1e-3
    total = counts.sum()
    keep = vocab.keep_probabilities(sample)
    for f, p in zip(counts, keep, strict=True):
        # word2vec.c: ran = (sqrt(cn / (sample * train_words)) + 1) * (sample * train_words) / cn
        expected = (np.sqrt(f / (sample * total)) + 1) * (sample * total) / f
        assert p == pytest.approx(min(expected, 1.0), rel=1e-6)
    assert keep[0] < 0.05  # the most frequent word is mostly dropped
    assert keep[-1] == 1.0
    assert (vocab.keep_probabilities(0) == 1).all()


def test_noise_distribution_is_count_to_the_power():
    vocab = Vocab(["a", "b", "c"], np.array([81, 16, 1]))
    p = vocab.noise_distribution(0.75)
    assert p == pytest.approx(np.array([27, 8, 1]) / 36)
    assert vocab.noise_distribution(0.0) == pytest.approx(np.full(3, 1 / 3))


def test_noise_sampler_draws_from_the_distribution():
    counts = np.array([1000, 300, 100, 30, 10, 3, 1])
    probs = Vocab([str(i) for i in range(7)], counts).noise_distribution(0.75)
    sampler = NoiseSampler(probs, torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    draws = sampler.sample((400_000,), gen)
    freq = np.bincount(draws.numpy(), minlength=7) / len(draws)
    # 400k draws: standard error below 0.001 for every word
    assert np.abs(freq - probs).max() < 0.004
    assert (freq > 0).all()


def test_uniform_sampler_and_exclusion():
    sampler = NoiseSampler(np.full(20, 1 / 20), torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    forbidden = torch.tensor([[0, 1, 2, -1], [5, 6, -1, -1]])
    negatives, mask = sampler.sample_excluding(2, 50, forbidden, gen)
    assert mask.all()
    assert not set(negatives[0].tolist()) & {0, 1, 2}
    assert not set(negatives[1].tolist()) & {5, 6}
    assert len(set(negatives.flatten().tolist())) > 10


def test_exclusion_gives_up_on_a_vocabulary_too_small():
    sampler = NoiseSampler(np.full(2, 0.5), torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    _negatives, mask = sampler.sample_excluding(1, 4, torch.tensor([[0, 1]]), gen, max_rounds=5)
    assert (mask == 0).all()


def test_save_and_load_round_trip(tmp_path):
    vocab = Vocab.build([*WORDS, "naïve word"], np.append(COUNTS, 2), min_count=1)
    vocab.save(tmp_path / "vocab.tsv")
    again = Vocab.load(tmp_path / "vocab.tsv")
    assert again.words == vocab.words
    assert again.counts.tolist() == vocab.counts.tolist()


def test_load_rejects_a_bad_file(tmp_path):
    (tmp_path / "v.tsv").write_text("word\tcount\nhello world\n")
    with pytest.raises(W2VError, match="line 2"):
        Vocab.load(tmp_path / "v.tsv")
    with pytest.raises(W2VError, match="not found"):
        Vocab.load(tmp_path / "missing.tsv")
