"""Checkpoint files: numpy arrays plus JSON, read without pickle; format 1 (torch) still read."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import torch

import w2v
from w2v import checkpoint
from w2v.errors import W2VError
from w2v.rundir import RunDir
from w2v.trainer import Callback, TrainingInterrupted, read_checkpoint

FAST = dict(dim=16, min_count=1, seed=3, epochs=2, deterministic=True)


class StopAfterEpoch(Callback):
    def on_epoch_end(self, trainer, summary):
        if summary.epoch == 1:
            raise KeyboardInterrupt


def test_arrays_and_values_come_back_as_they_were_written(tmp_path):
    path = tmp_path / "c.pt"
    table = np.arange(12, dtype=np.float32).reshape(3, 4)
    engine = {
        "state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.ones(3, 4)}, 1: {}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1]}],
    }
    meta = {"position": {"epoch": 1}, "history": {"loss": [1.5, float("nan")]}, "engine": engine}
    checkpoint.write(path, {"input": table}, meta)
    state = checkpoint.read(path)
    np.testing.assert_array_equal(state["input"], table)
    assert state["position"] == {"epoch": 1} and np.isnan(state["history"]["loss"][1])
    saved = state["engine"]
    assert sorted(saved["state"]) == [0, 1]  # integer keys stay integers
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], np.ones((3, 4), np.float32))
    assert float(saved["state"][0]["step"]) == 3.0
    assert saved["param_groups"][0]["betas"] == [0.9, 0.999]
    assert "state.0" not in state  # the engine's arrays are inside its state only
    with zipfile.ZipFile(path) as archive:  # plain .npy members, no pickle
        assert all(name.endswith(".npy") for name in archive.namelist())


def test_foreign_and_damaged_files_are_one_clear_error(tmp_path):
    path = tmp_path / "c.pt"
    with path.open("wb") as out:  # np.savez would add ".npz" to a path
        np.savez(out, input=np.zeros(3))
    with pytest.raises(W2VError, match="not a w2v checkpoint"):
        checkpoint.read(path)
    checkpoint.write(path, {"input": np.zeros((2, 2), np.float32)}, {"position": {}})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(W2VError, match="not a readable w2v checkpoint"):
        checkpoint.read(path)
    with pytest.raises(W2VError, match="no checkpoint found"):
        checkpoint.read(tmp_path / "none.pt")


def as_format_1(path) -> None:
    """Rewrite a checkpoint as w2v wrote them before format 2: torch.save of plain tensors."""
    state = read_checkpoint(path)
    old = {
        "format": "w2v-checkpoint",
        "version": 1,
        "vocab_size": state["vocab_size"],
        "dim": state["dim"],
        "input": torch.from_numpy(state["input"]),
        "position": state["position"],
        "history": state["history"],
    }
    if "output" in state:
        old["output"] = torch.from_numpy(state["output"])
    torch.save(old, path)


def test_a_format_1_checkpoint_still_resumes(planted_file, tmp_path):
    straight = w2v.train(planted_file, **FAST)
    out = tmp_path / "run"
    with pytest.raises(TrainingInterrupted):
        w2v.train(planted_file, out, callbacks=[StopAfterEpoch()], **FAST)
    as_format_1(RunDir(out).checkpoint)
    assert read_checkpoint(RunDir(out).checkpoint)["position"]["epoch"] == 1
    resumed = w2v.resume(out)
    np.testing.assert_array_equal(resumed.vectors, straight.vectors)
