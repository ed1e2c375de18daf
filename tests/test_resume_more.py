"""A run stopped midway is a run to use (every checkpoint writes its vectors and history),
and a run resumed with more epochs decays its learning rate over the new total."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import w2v
from w2v import atomic
from w2v.cli import main
from w2v.engines import base, numba_kernel
from w2v.trainer import Callback, Trainer, TrainingInterrupted, read_checkpoint

from helpers import StopAfterBatches

FAST = dict(dim=16, min_count=1, seed=3, batch_size=64, epochs=2, deterministic=True)
ALPHA, MIN_ALPHA = 0.025, 0.0001  # the skip-gram defaults


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def stopped_run(planted_file: Path, out: Path, engine: str = "torch") -> Path:
    """A run Ctrl-C'd inside its first epoch."""
    with pytest.raises(TrainingInterrupted):
        w2v.train(planted_file, out, callbacks=[StopAfterBatches(7)], engine=engine, **FAST)
    return out


def temporary_files(run_dir: Path) -> list[str]:
    return [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")]


class Replaced:
    """The names atomic.py renamed into place, in order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: list[str] = []
        real = os.replace

        def replace(src, dst) -> None:
            self.names.append(Path(dst).name)
            real(src, dst)

        monkeypatch.setattr(atomic.os, "replace", replace)

    def count(self, name: str) -> int:
        return self.names.count(name)


# -- an interrupted run --------------------------------------------------------------------------


def test_a_stopped_run_has_the_vectors_and_history_of_its_checkpoint(planted_file, tmp_path):
    run = stopped_run(planted_file, tmp_path / "run")
    state = read_checkpoint(run / "checkpoint.pt")
    assert state["position"]["epoch"] == 0 and state["position"]["batch"] > 0  # mid-epoch
    vectors = w2v.load(run)
    np.testing.assert_array_equal(vectors.vectors, state["input"])
    assert vectors.counts is not None  # vocab.tsv goes with them
    history = json.loads((run / "history.json").read_text())
    assert history == json.loads(json.dumps(state["history"]))
    # no epoch ended, but the loss up to the moment it stopped is a point of the history
    assert history["epoch_loss"] == [] and len(history["step_loss"]) == 1
    assert history["step_words"] == [state["position"]["words_done"]]
    assert temporary_files(run) == []


def test_the_query_commands_answer_from_a_stopped_run(planted_file, tmp_path, capsys):
    run = stopped_run(planted_file, tmp_path / "run")
    code, out, err = run_cli(capsys, "neighbors", str(run), "t0w1", "-k", "3")
    assert code == 0, err
    assert len(out.strip().splitlines()) == 4
    code, _, err = run_cli(capsys, "export", str(run), "--word2vec", str(tmp_path / "out.txt"))
    assert code == 0, err
    exported = w2v.load(tmp_path / "out.txt")
    np.testing.assert_array_equal(exported.vectors, w2v.load(run).vectors)
    code, out, err = run_cli(capsys, "evaluate", str(run), "--benchmark", "rg65")
    assert code == 0, err
    assert "rg65" in out


def test_a_stopped_runs_loss_plots(planted_file, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    run = stopped_run(planted_file, tmp_path / "run")
    code, _, err = run_cli(capsys, "plot", "loss", str(run))
    assert code == 0, err
    assert (run / "loss.png").stat().st_size > 0


def test_every_checkpoint_writes_the_outputs_and_the_end_adds_no_second_copy(
    planted_file, tmp_path, monkeypatch
):
    replaced = Replaced(monkeypatch)
    run = tmp_path / "run"
    w2v.train(planted_file, run, engine="torch", **FAST)
    # one checkpoint per epoch, each with its vectors and history; the end wrote nothing more
    assert replaced.count("checkpoint.pt") == 2
    assert replaced.count("vectors.txt") == 2
    assert replaced.count("history.json") == 2
    assert temporary_files(run) == []

    # without checkpoints, the end of the run writes them once
    replaced.names.clear()
    other = tmp_path / "other"
    opts = dict(FAST, checkpoint_every=0, format="binary")
    w2v.train(planted_file, other, engine="torch", **opts)
    assert replaced.count("checkpoint.pt") == 0
    assert replaced.count("vectors.bin") == 1 and replaced.count("history.json") == 1
    assert not (other / "vectors.txt").exists()


# -- resume --epochs --------------------------------------------------------------------------


class LearningRates(Callback):
    """What the engine trains each step with, and what the trainer reports after it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.engine: list[tuple[int, float]] = []  # (words before the step, its lr)
        self.reported: list[tuple[int, float]] = []  # (words done, trainer.lr)
        self.trainer: Trainer | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        self.trainer = trainer
        if trainer.engine_name == "torch":
            step = trainer.engine.step

            def recorded(batch, lr):
                self.engine.append((-1, float(lr)))
                return step(batch, lr)

            self.monkeypatch.setattr(trainer.engine, "step", recorded)
        else:  # the kernel decays the rate itself, over the total it is given
            kernel = numba_kernel.train_chunk

            def recorded_chunk(*args):
                first, end, start, stop, before, total = args[4], args[5], *args[13:17]
                if end > first:
                    progress = min(before / max(total, 1), 1.0)
                    self.engine.append((before, start - (start - stop) * progress))
                return kernel(*args)

            self.monkeypatch.setattr(numba_kernel, "train_chunk", recorded_chunk)

    def on_batch_end(self, trainer: Trainer, words: int) -> None:
        self.reported.append((trainer.position.words_done, trainer.lr))


def planned(words_done: int, total_words: int) -> float:
    """word2vec's linear decay over a run of ``total_words``."""
    return ALPHA - (ALPHA - MIN_ALPHA) * min(words_done / total_words, 1.0)


@pytest.mark.parametrize("engine", ["numba", "torch"])
def test_resume_with_more_epochs_decays_over_the_new_total(
    planted_file, tmp_path, monkeypatch, engine
):
    if engine == "numba":  # several chunks an epoch
        monkeypatch.setattr(base, "CHUNK_TOKENS", 2000)
    run = tmp_path / "run"
    w2v.train(planted_file, run, engine=engine, **FAST)
    per_epoch = json.loads((run / "history.json").read_text())["epoch_words"][0]
    rates = LearningRates(monkeypatch)
    resumed = w2v.resume(run, epochs=4, callbacks=[rates])

    assert rates.trainer is not None
    assert rates.trainer.engine.setup.schedule == base.Schedule(ALPHA, MIN_ALPHA, 4 * per_epoch)
    # it goes on at the rate a run planned for 4 epochs has after 2 of them: halfway down
    assert rates.engine[0][1] == pytest.approx(planned(2 * per_epoch, 4 * per_epoch))
    assert rates.engine[0][1] == pytest.approx((ALPHA + MIN_ALPHA) / 2)
    for before, lr in rates.engine:
        if before >= 0:
            assert lr == pytest.approx(planned(before, 4 * per_epoch))
    for words_done, lr in rates.reported:
        assert lr == pytest.approx(planned(words_done, 4 * per_epoch))
    assert rates.reported[-1][0] == 4 * per_epoch

    history = json.loads((run / "history.json").read_text())
    assert history["epoch_words"] == [per_epoch * n for n in (1, 2, 3, 4)]
    assert json.loads((run / "config.json").read_text())["config"]["epochs"] == 4
    np.testing.assert_array_equal(w2v.load(run).vectors, resumed.vectors)


def test_a_run_stopped_mid_epoch_resumes_to_a_larger_total(planted_file, tmp_path):
    run = stopped_run(planted_file, tmp_path / "run")
    w2v.resume(run, epochs=3)
    history = json.loads((run / "history.json").read_text())
    per_epoch = history["epoch_words"][0]
    assert history["epoch_words"] == [per_epoch, 2 * per_epoch, 3 * per_epoch]
    assert read_checkpoint(run / "checkpoint.pt")["position"]["epoch"] == 3
    assert temporary_files(run) == []


def test_resume_epochs_from_the_command_line_and_its_errors(planted_file, tmp_path, capsys):
    run = tmp_path / "run"
    w2v.train(planted_file, run, engine="torch", **FAST)
    config = (run / "config.json").read_bytes()

    def user_error(*argv: str, match: str) -> None:
        code, _, err = run_cli(capsys, "train", "--resume", str(run), *argv)
        assert code == 2, err
        assert len(err.strip().splitlines()) == 1 and match in err, err

    user_error("--epochs", "2", match="--epochs 2 is not more than the 2 epochs")
    user_error("--epochs", "1", match="--epochs 1 is not more than the 2 epochs")
    user_error("--epochs", "0", match="--epochs must be >= 1")
    user_error(match="finished all its 2 epochs; to train it more, resume it with a larger")
    with pytest.raises(w2v.W2VError, match="epochs=2 is not more than the 2 epochs"):
        w2v.resume(run, epochs=2)  # the library names the argument as Python spells it
    user_error("--dim", "8", match="only --epochs (a larger total), --device")
    assert (run / "config.json").read_bytes() == config  # refused: nothing changed

    code, _, err = run_cli(capsys, "train", "--resume", str(run), "--epochs", "3", "-q")
    assert code == 0, err
    history = json.loads((run / "history.json").read_text())
    assert len(history["epoch_loss"]) == 3
    assert json.loads((run / "config.json").read_text())["config"]["epochs"] == 3
