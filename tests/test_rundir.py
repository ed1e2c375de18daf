"""The run directory: its file names, making one ready, reading config.json and vocab.tsv."""

from __future__ import annotations

import json
import os

import pytest

from w2v import rundir
from w2v.errors import W2VError
from w2v.rundir import RunDir


def test_the_run_directory_files(tmp_path):
    run = RunDir(tmp_path)
    names = [p.name for p in run.files()]
    assert names == [
        "config.json",
        "vocab.tsv",
        "history.json",
        "eval.json",
        "checkpoint.pt",
        "fasttext.bin",
        "vectors.txt",
        "vectors.bin",
        "loss.png",
        "eval.png",
        "words.png",
    ]
    assert run.vectors(binary=True).name == "vectors.bin"
    assert run.picture("loss") == tmp_path / "loss.png"
    with pytest.raises(ValueError):
        run.picture("pie")


def test_find_vectors_prefers_the_binary_file(tmp_path):
    run = RunDir(tmp_path)
    with pytest.raises(W2VError, match=r"no vectors\.bin or vectors\.txt"):
        run.find_vectors()
    run.vectors(binary=False).write_text("0 1\n")
    assert run.find_vectors().name == "vectors.txt"
    run.vectors(binary=True).write_bytes(b"0 1\n")
    assert run.find_vectors().name == "vectors.bin"


def test_default_run_dirs_count_up(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert rundir.default_run_dir() == rundir.DEFAULT_BASE
    rundir.DEFAULT_BASE.mkdir(parents=True)
    assert rundir.default_run_dir().name == "train-2"


def test_prepare_refuses_a_run_unless_told_to_overwrite_it(tmp_path):
    out = rundir.prepare(tmp_path / "run", overwrite=False)
    files = RunDir(out)
    rundir.write_config(out, {"config": {}})
    for path in (files.vectors(binary=True), files.picture("loss"), files.checkpoint):
        path.write_bytes(b"old")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(
        W2VError,
        match=r"already holds a run; continue it with w2v\.resume\(.*\), or pass overwrite=True",
    ):
        rundir.prepare(out, overwrite=False)
    rundir.prepare(out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # nothing of the old run
    (tmp_path / "file").write_text("x")
    with pytest.raises(W2VError, match="exists and is not a directory"):
        rundir.prepare(tmp_path / "file", overwrite=True)


def test_config_round_trip_and_its_errors(tmp_path):
    rundir.write_config(tmp_path, {"config": {"dim": 3}, "corpus": "c.txt"})
    assert rundir.read_config(tmp_path) == {
        "format": "w2v-run",
        "config": {"dim": 3},
        "corpus": "c.txt",
    }
    with pytest.raises(W2VError, match="no such run directory"):
        rundir.read_config(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(W2VError, match=r"not a run directory \(no config.json\)"):
        rundir.read_config(empty)
    RunDir(empty).config.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(W2VError, match="not a w2v run config"):
        rundir.read_config(empty)
    RunDir(empty).config.write_text("{not json")
    with pytest.raises(W2VError, match="unreadable run config"):
        rundir.read_config(empty)


def test_vocab_round_trip_and_one_set_of_rules(tmp_path):
    path = tmp_path / "vocab.tsv"
    words = ["the", "naïve word", "a\\tb", "x"]
    rundir.write_vocab(path, words, [10, 7, 3, 1])
    assert path.read_text(encoding="utf-8").splitlines()[0] == "word\tcount"
    assert rundir.read_vocab(path) == (words, [10, 7, 3, 1])
    # no header, CRLF line ends, blank lines: all read
    path.write_bytes(b"the\t10\r\n\r\nof\t3\r\n")
    assert rundir.read_vocab(path) == (["the", "of"], [10, 3])
    path.write_text("the\t10\nof three\n")
    with pytest.raises(W2VError, match="line 2: expected 'word<TAB>count'"):
        rundir.read_vocab(path)
    path.write_text("\t10\n")
    with pytest.raises(W2VError, match="line 1"):
        rundir.read_vocab(path)
    with pytest.raises(W2VError, match="vocabulary file not found"):
        rundir.read_vocab(tmp_path / "missing.tsv")


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "vocab.tsv"
    rundir.write_vocab(path, ["old"], [1])

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(W2VError, match="cannot write: No space left on device"):
        rundir.write_vocab(path, ["new"], [2])
    assert rundir.read_vocab(path) == (["old"], [1])
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.tsv"]  # no temporary file left
