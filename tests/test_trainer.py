import numpy as np
import pytest
import torch

import w2v
from w2v.engines import base
from w2v.errors import W2VError
from w2v.trainer import Callback, TrainingInterrupted, read_checkpoint

from helpers import StopAfterBatches, planted_sentences, topic_accuracy

FAST = dict(dim=16, min_count=1, seed=3, batch_size=64, epochs=2, deterministic=True)
ENGINES = ["numba", "torch"]


class StopAfterEpoch(Callback):
    def on_epoch_end(self, trainer, summary):
        if summary.epoch == 1:
            raise KeyboardInterrupt


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_same_vectors_other_seed_differs(planted_file, monkeypatch, engine):
    monkeypatch.setattr(base, "CHUNK_TOKENS", 2000)  # many chunks, two threads
    opts = dict(FAST, engine=engine, threads=2)
    a = w2v.train(planted_file, **opts)
    b = w2v.train(planted_file, **opts)
    c = w2v.train(planted_file, **{**opts, "seed": 4})
    assert np.array_equal(a.vectors, b.vectors)
    assert not np.allclose(a.vectors, c.vectors)


def test_auto_engine_is_numba_on_cpu_and_torch_where_numba_does_not_apply():
    from w2v.engines import ENGINES, choose_engine

    cpu = torch.device("cpu")
    assert choose_engine(w2v.build_config(), cpu) == "numba"
    assert choose_engine(w2v.build_config(preset="seed"), cpu) == "numba"
    assert choose_engine(w2v.build_config(optimizer="adamw-dense"), cpu) == "torch"
    assert choose_engine(w2v.build_config(loss="bce", model="cbow"), cpu) == "torch"
    assert choose_engine(w2v.build_config(engine="torch"), cpu) == "torch"
    on_gpu = "triton" if ENGINES["triton"].installed() else "torch"  # triton: the GPU kernel
    assert choose_engine(w2v.build_config(), torch.device("cuda")) == on_gpu
    with pytest.raises(W2VError, match="engine='numba' trains on the CPU"):
        choose_engine(w2v.build_config(engine="numba"), torch.device("cuda"))
    with pytest.raises(W2VError, match="engine='numba' trains with loss='ns/bce' and optimizer="):
        w2v.build_config(engine="numba", optimizer="adamw-dense")
    with pytest.raises(
        W2VError, match="engine='numba' does not train loss='bce' with model='cbow'"
    ):
        w2v.build_config(engine="numba", loss="bce", model="cbow")
    with pytest.raises(W2VError, match="engine='numba' trains on the CPU, not device='cuda'"):
        w2v.build_config(engine="numba", device="cuda")


def test_token_lists_train_like_the_same_text_file(planted_file):
    from_file = w2v.train(planted_file, **FAST)
    from_lists = w2v.train(planted_sentences(), **FAST)
    assert from_file.index_to_key == from_lists.index_to_key
    assert np.array_equal(from_file.vectors, from_lists.vectors)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_planted_topics_are_learned(planted_file, monkeypatch, model, engine):
    monkeypatch.setattr(base, "CHUNK_TOKENS", 2000)  # numba: two threads race (Hogwild)
    vectors = w2v.train(
        planted_file, model=model, dim=20, min_count=1, epochs=3, seed=1, engine=engine
    )
    rng = np.random.default_rng(0)
    random = w2v.KeyedVectors(vectors.index_to_key, rng.normal(size=vectors.vectors.shape))
    learned, chance = topic_accuracy(vectors), topic_accuracy(random)
    assert learned >= 0.95
    assert chance < 0.5


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("stop", [StopAfterEpoch, lambda: StopAfterBatches(7)])
def test_resume_equals_an_uninterrupted_run(planted_file, tmp_path, monkeypatch, stop, engine):
    if engine == "numba":  # a chunk is the numba engine's step: many of them per epoch
        monkeypatch.setattr(base, "CHUNK_TOKENS", 2000)
    opts = dict(FAST, engine=engine)
    straight = w2v.train(planted_file, tmp_path / "straight", **opts)
    with pytest.raises(TrainingInterrupted):
        w2v.train(planted_file, tmp_path / "cut", callbacks=[stop()], **opts)
    assert (tmp_path / "cut" / "checkpoint.pt").exists()
    # the vectors of the moment it stopped are there, and then the resumed run's
    stopped = read_checkpoint(tmp_path / "cut" / "checkpoint.pt")["input"]
    np.testing.assert_array_equal(w2v.load(tmp_path / "cut").vectors, stopped)
    resumed = w2v.resume(tmp_path / "cut")
    np.testing.assert_allclose(resumed.vectors, straight.vectors, rtol=0, atol=1e-6)
    on_disk = w2v.load(tmp_path / "cut")
    np.testing.assert_array_equal(on_disk.vectors, resumed.vectors)


def test_resume_across_chunks_and_with_adamw(planted_file, tmp_path, monkeypatch):
    monkeypatch.setattr(base, "CHUNK_TOKENS", 2000)  # many chunks per epoch
    opts = dict(
        FAST, preset="seed", engine="torch", epochs=2, alpha=0.01, min_alpha=0.01, batch_size=32
    )
    straight = w2v.train(planted_file, tmp_path / "straight", **opts)
    with pytest.raises(TrainingInterrupted):
        w2v.train(planted_file, tmp_path / "cut", callbacks=[StopAfterBatches(150)], **opts)
    resumed = w2v.resume(tmp_path / "cut")
    np.testing.assert_allclose(resumed.vectors, straight.vectors, rtol=0, atol=1e-5)


def test_seed_preset_is_the_original_model_and_learns(planted_file, tmp_path):
    cfg = w2v.build_config("seed")
    assert (cfg.tied, cfg.loss, cfg.ns_exponent, cfg.negative, cfg.optimizer) == (
        True,
        "bce",
        0.0,
        10,
        "adamw",
    )
    assert (cfg.alpha, cfg.weight_decay, cfg.dim, cfg.window, cfg.epochs) == (
        1e-4,
        1e-2,
        128,
        5,
        32,
    )
    assert (cfg.min_count, cfg.sample, cfg.shrink_windows) == (1, 0.0, False)
    # The original's 1e-4 needs its 32 epochs; a larger rate shows the same model learns.
    vectors = w2v.train(
        planted_file,
        tmp_path / "run",
        preset="seed",
        epochs=3,
        dim=32,
        alpha=0.01,
        min_alpha=0.01,
        batch_size=32,
    )
    history = w2v.load(tmp_path / "run")
    assert len(history) == len(vectors)
    assert topic_accuracy(vectors) >= 0.9


def test_batch_size_one_is_one_step_per_centre_word(tmp_path):
    steps = []

    class Count(Callback):
        def on_batch_end(self, trainer, words):
            steps.append(words)

    sentences = [["a", "b", "c", "d"], ["c", "a", "b"]] * 5
    w2v.train(
        sentences, preset="seed", engine="torch", epochs=1, batch_size=1, dim=4,
        callbacks=[Count()],
    )  # fmt: skip
    assert len(steps) == 35 and set(steps) == {1}


def test_loss_history_is_kept(planted_file, tmp_path):
    import json

    w2v.train(planted_file, tmp_path / "run", **{**FAST, "epochs": 3})
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history["epoch_loss"]) == 3
    assert history["epoch_loss"][2] < history["epoch_loss"][0]
    assert history["step_words"] == sorted(history["step_words"])
    assert len(history["step_loss"]) == len(history["step_words"]) >= 3


def test_text8_slice_learns_real_structure(shared_data, tmp_path):
    """On 600k words of real text8, number words find each other; random vectors don't."""
    import gzip

    with gzip.open(shared_data / "text8_prefix.gz", "rt") as f:
        text = f.read(3_600_000)
    corpus = tmp_path / "text8_slice.txt"
    corpus.write_text(text[: text.rfind(" ")])
    vectors = w2v.train(corpus, dim=50, epochs=3, seed=1, min_count=5)
    numbers = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

    def number_neighbours(kv):
        hits = [sum(w in numbers for w, _ in kv.most_similar(n, topn=5)) for n in numbers]
        return sum(hits) / (5 * len(numbers))

    rng = np.random.default_rng(0)
    random = w2v.KeyedVectors(vectors.index_to_key, rng.normal(size=vectors.vectors.shape))
    assert number_neighbours(vectors) >= 0.6
    assert number_neighbours(random) < 0.1
    assert vectors.similarity("king", "queen") > vectors.similarity("king", "seven") + 0.1
