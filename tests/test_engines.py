"""The engine registry and interface: choosing an engine, and a Trainer that drives any of
them without knowing which."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pytest
import torch

import w2v
from w2v import engines
from w2v.engines import ENGINES, base
from w2v.engines.base import Chunks, Engine, Schedule, Tables
from w2v.engines.torch_engine import TorchEngine
from w2v.engines.torch_model import TorchTables
from w2v.errors import W2VError
from w2v.trainer import TrainingInterrupted, read_checkpoint

from helpers import StopAfterBatches

FAST = dict(dim=16, min_count=1, seed=3, batch_size=64, epochs=2, deterministic=True)


def test_every_registered_engine_loads_as_an_engine():
    for spec in ENGINES.values():
        if spec.installed():
            cls = engines.load(spec)
            assert issubclass(cls, Engine) and cls.__name__ == spec.cls


def test_auto_takes_the_first_engine_that_applies():
    cpu = torch.device("cpu")
    assert engines.choose(w2v.build_config(), cpu).name == "numba"
    assert engines.choose(w2v.build_config(loss="bce"), cpu).name == "numba"
    assert engines.choose(w2v.build_config(loss="bce", model="cbow"), cpu).name == "torch"
    assert engines.choose(w2v.build_config(optimizer="adamw-dense"), cpu).name == "torch"
    assert engines.choose(w2v.build_config(optimizer="adamw"), "cuda").name == "torch"
    assert engines.choose(w2v.build_config(), "mps").name == "torch"


def test_an_engine_that_is_not_installed_says_how_to_get_it(monkeypatch):
    missing = dataclasses.replace(ENGINES["numba"], needs="no_such_package_here")
    monkeypatch.setitem(ENGINES, "numba", missing)
    with pytest.raises(W2VError, match="no_such_package_here is not installed"):
        engines.choose(w2v.build_config(engine="numba"), "cpu")
    assert engines.choose(w2v.build_config(), "cpu").name == "torch"  # auto falls back


def test_chunks_cover_the_corpus_in_whole_sentences():
    offsets = np.array([0, 3, 7, 8, 15, 20])
    chunks = Chunks(np.arange(20, dtype=np.int32), offsets, chunk_tokens=6)
    assert chunks.total_words == 20 and len(chunks) == int(chunks.words.size)
    assert int(chunks.words.sum()) == 20
    assert chunks.words_before.tolist() == [0, *np.cumsum(chunks.words).tolist()]
    assert set(chunks.offsets[chunks.bounds].tolist()) <= set(offsets.tolist())


def test_the_schedule_is_word2vecs_linear_decay():
    s = Schedule(0.025, 0.0001, 1000)
    assert s.at(0) == 0.025
    assert s.at(500) == pytest.approx((0.025 + 0.0001) / 2)
    assert s.at(1000) == s.at(5000) == pytest.approx(0.0001)


def test_tables_start_as_word2vecs_and_tied_tables_are_one():
    t = Tables.new(1000, 50, seed=0)
    assert isinstance(t.input, np.ndarray) and t.input.dtype == np.float32
    assert float(np.abs(t.input).max()) <= 0.5 / 50 and float(np.abs(t.output).max()) == 0
    assert float(t.input.std()) == pytest.approx(1 / 50 / np.sqrt(12), rel=0.05)
    assert len(t.all()) == 2
    np.testing.assert_array_equal(Tables.new(1000, 50, seed=0).input, t.input)  # seeded
    tied = Tables.new(50, 10, tied=True, init="normal")
    assert tied.tied and tied.all() == [tied.input]


def test_torch_tables_on_the_cpu_share_the_numpy_memory():
    host = Tables.new(20, 4, seed=1)
    tables = TorchTables.on(host, "cpu")
    np.testing.assert_array_equal(tables.to_host(tables.input), host.input)
    tables.assign(tables.input, np.ones((20, 4), dtype=np.float32))
    assert float(host.input.sum()) == 80  # one memory: what the engine trains is the host's
    assert isinstance(tables.to_host(tables.output), np.ndarray)


class RecordingEngine(TorchEngine):
    """The torch engine, registered as another engine, recording what it is asked."""

    calls: ClassVar[list[tuple[int, range, int]]] = []

    def train(self, epoch, chunks, first_step=0):
        RecordingEngine.calls.append((epoch, chunks, first_step))
        yield from super().train(epoch, chunks, first_step)


def test_a_new_engine_is_one_registry_entry(planted_file, tmp_path, monkeypatch):
    monkeypatch.setattr(base, "CHUNK_TOKENS", 2000)  # several chunks per epoch
    plain = w2v.train(planted_file, **FAST, engine="torch")
    spec = dataclasses.replace(ENGINES["torch"], module=__name__, cls="RecordingEngine")
    monkeypatch.setitem(ENGINES, "torch", spec)
    recording = RecordingEngine.calls = []
    out = tmp_path / "run"
    with pytest.raises(TrainingInterrupted):
        w2v.train(planted_file, out, **FAST, engine="torch", callbacks=[StopAfterBatches(40)])
    cut = read_checkpoint(out / "checkpoint.pt")["position"]
    assert (cut["epoch"], cut["chunk"] > 0 or cut["batch"] > 0) == (0, True)
    del recording[:]
    resumed = w2v.resume(out)
    # the Trainer asked for the rest of the epoch, from the step it had reached, then the next
    first = recording[0]
    assert (first[0], first[1].start, first[2]) == (0, cut["chunk"], cut["batch"])
    assert [(e, c.start, s) for e, c, s in recording[1:]] == [(1, 0, 0)]
    np.testing.assert_array_equal(resumed.vectors, plain.vectors)
