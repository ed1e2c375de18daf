"""The spine of a run: its stages in order, the reporting hooks, the run directory it leaves."""

from __future__ import annotations

import json

import numpy as np
import pytest

import w2v
from w2v import rundir
from w2v.cli import main
from w2v.corpus import CorpusStats
from w2v.run import Run
from w2v.rundir import RunDir
from w2v.trainer import Callback, Trainer
from w2v.vocab import Vocab

from helpers import planted_sentences

FAST = dict(dim=16, min_count=1, seed=3, epochs=2, deterministic=True)


class Recorder(Callback):
    """Every hook, in the order it came."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.stats: CorpusStats | None = None
        self.trainer: Trainer | None = None

    def on_corpus_ready(self, stats):
        self.calls.append("corpus_ready")
        self.stats = stats

    def on_trainer_ready(self, trainer):
        self.calls.append("trainer_ready")
        self.trainer = trainer

    def on_train_begin(self, trainer):
        self.calls.append("train_begin")

    def on_batch_end(self, trainer, words):
        if self.calls[-1] != "batch_end":
            self.calls.append("batch_end")

    def on_epoch_end(self, trainer, summary):
        self.calls.append("epoch_end")

    def on_train_end(self, trainer):
        self.calls.append("train_end")


def test_the_stages_report_through_the_hooks_in_order(planted_file, tmp_path):
    recorder = Recorder()
    w2v.train(planted_file, tmp_path / "run", callbacks=[recorder], **FAST)
    assert recorder.calls == [
        "corpus_ready",
        "trainer_ready",
        "train_begin",
        "batch_end",
        "epoch_end",
        "batch_end",
        "epoch_end",
        "train_end",
    ]
    sentences = planted_sentences()
    tokens = sum(len(s) for s in sentences)
    distinct = len({w for s in sentences for w in s})
    assert recorder.stats == CorpusStats(
        sentences=len(sentences),
        tokens=tokens,
        distinct_words=distinct,
        vocab_size=distinct,  # min_count 1 keeps every word
        vocab_tokens=tokens,
        min_count=1,
    )
    assert recorder.trainer is not None and recorder.trainer.position.epoch == 2


def test_the_run_directory_reads_back_as_the_run(planted_file, tmp_path):
    out = tmp_path / "run"
    vectors = w2v.train(planted_file, out, **FAST)
    files = RunDir(out)
    saved = rundir.read_config(out)
    assert saved["config"] == w2v.build_config(**FAST).to_dict()
    assert saved["corpus"] == str(planted_file)
    assert saved["stats"]["tokens"] == sum(len(s) for s in planted_sentences())
    vocab = Vocab.load(files.vocab)
    assert vocab.words == vectors.index_to_key
    loaded = w2v.load(out)
    assert loaded.index_to_key == vectors.index_to_key
    np.testing.assert_array_equal(loaded.vectors, vectors.vectors)  # %.9g is lossless
    np.testing.assert_array_equal(loaded.counts, vectors.counts)
    history = json.loads(files.history.read_text())
    assert len(history["epoch_loss"]) == 2 and history["epoch_words"][-1] == 2 * vocab.total
    assert not files.vectors(binary=True).exists()


def test_the_command_prints_from_the_hooks_what_the_api_reports(planted_file, tmp_path, capsys):
    recorder = Recorder()
    w2v.train(planted_file, callbacks=[recorder], **FAST)
    out = tmp_path / "cli"
    flags = ["--dim", "16", "--min-count", "1", "--seed", "3", "--epochs", "2"]
    assert main(["train", str(planted_file), "-o", str(out), *flags, "--deterministic"]) == 0
    printed = capsys.readouterr().out
    s = recorder.stats
    assert s is not None
    assert f"corpus: {s.sentences:,} sentences, {s.tokens:,} tokens" in printed
    assert f"vocabulary: {s.vocab_size:,} words seen >= 1 times" in printed
    assert "training sg (ns, sgd), dim 16, window 5, 2 epochs on cpu (numba engine)" in printed
    assert f"vectors in {RunDir(out).vectors(binary=False)}" in printed


def test_a_run_without_a_directory_writes_nothing(planted_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = Run(w2v.build_config(**FAST), None)
    run.prepare(planted_file)
    run.make_trainer().train()
    vectors = run.finish()
    assert len(vectors) == run.stats.vocab_size
    assert list(tmp_path.iterdir()) == [planted_file]  # only the corpus itself


def test_resume_needs_a_checkpoint(planted_file, tmp_path):
    out = tmp_path / "run"
    w2v.train(planted_file, out, checkpoint_every=0, **{**FAST, "epochs": 1})
    RunDir(out).checkpoint.unlink(missing_ok=True)
    with pytest.raises(w2v.W2VError, match=r"no checkpoint\.pt to resume from"):
        w2v.resume(out)
