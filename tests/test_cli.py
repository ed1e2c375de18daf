"""End to end through the `w2v` command: what a user types, what they see, the exit code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from w2v.cli import main
from w2v.trainer import read_checkpoint
from w2v.vectors import load_vectors

from helpers import planted_sentences

FAST = ["--dim", "16", "--min-count", "1", "--epochs", "2", "--seed", "3", "-q"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(capsys, *argv: str, match: str) -> str:
    code, _, err = run_cli(capsys, *argv)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert match in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def trained(planted_file, tmp_path, capsys) -> Path:
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", str(planted_file), "-o", str(out), *FAST)
    assert code == 0, err
    return out


def test_train_writes_a_complete_run_directory(trained):
    names = {p.name for p in trained.iterdir()}
    assert {"config.json", "vocab.tsv", "vectors.txt", "history.json", "checkpoint.pt"} <= names
    assert not [n for n in names if n.endswith(".tmp")]


def test_train_prints_progress_summaries(planted_file, tmp_path, capsys):
    code, out, err = run_cli(
        capsys, "train", str(planted_file), "-o", str(tmp_path / "r"), *FAST[:-1]
    )
    assert code == 0
    assert "vocabulary: 64 words" in out
    assert "epoch 1/2: loss" in out and "epoch 2/2: loss" in out and "words/s" in out
    assert "word/s" in err  # the tqdm bar


def test_query_commands_answer_from_a_run(trained, capsys):
    code, out, _ = run_cli(capsys, "similarity", str(trained), "t0w1", "t0w2")
    assert code == 0 and "cosine similarity" in out and "euclidean distance" in out
    code, out, _ = run_cli(capsys, "neighbors", str(trained), "t0w1", "-k", "3")
    assert code == 0
    words = [line.split()[-1] for line in out.strip().splitlines()[1:]]
    assert len(words) == 3 and all(w.startswith("t0w") for w in words)
    code, out, _ = run_cli(
        capsys, "neighbors", str(trained), "t0w1", "-k", "2", "--metric", "euclidean"
    )
    assert code == 0 and "euclidean" in out
    code, out, _ = run_cli(capsys, "analogy", str(trained), "t0w1", "t0w2", "t1w1", "-k", "1")
    assert code == 0 and len(out.strip().splitlines()) == 2


def test_binary_format_and_gensim_reads_it(planted_file, tmp_path, capsys):
    from gensim.models import KeyedVectors

    out = tmp_path / "bin"
    code, _, _ = run_cli(
        capsys, "train", str(planted_file), "-o", str(out), "--format", "binary", *FAST
    )
    assert code == 0 and (out / "vectors.bin").exists() and not (out / "vectors.txt").exists()
    theirs = KeyedVectors.load_word2vec_format(str(out / "vectors.bin"), binary=True)
    code, stdout, _ = run_cli(capsys, "similarity", str(out / "vectors.bin"), "t0w1", "t1w1")
    assert code == 0
    ours = float(stdout.split()[2])
    assert ours == pytest.approx(float(theirs.similarity("t0w1", "t1w1")), abs=1e-4)


def test_vocab_command_prints_the_stats(planted_file, capsys):
    code, out, _ = run_cli(capsys, "vocab", str(planted_file), "--top", "3")
    assert code == 0
    assert "sentences:       3,000" in out
    assert "vocabulary size: 64" in out
    assert len(out.strip().splitlines()) == 6 + 3


def test_config_file_and_flags_override_it(planted_file, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('preset = "seed"\ndim = 12\nepochs = 1\nalpha = 0.01\nmin-alpha = 0.01\n')
    out = tmp_path / "r"
    code, _, err = run_cli(
        capsys, "train", str(planted_file), "-o", str(out), "--config", str(cfg), "--dim", "8", "-q"
    )
    assert code == 0, err
    saved = json.loads((out / "config.json").read_text())["config"]
    assert saved["dim"] == 8 and saved["epochs"] == 1 and saved["loss"] == "bce"
    assert saved["tied"] is True and saved["optimizer"] == "adamw"


# -- user errors: one line on stderr, exit code 2, nothing lost ---------------------------------


def test_missing_corpus(tmp_path, capsys):
    assert_user_error(
        capsys, "train", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "r"), match="nope.txt"
    )


def test_empty_corpus(tmp_path, capsys):
    (tmp_path / "empty.txt").write_text("\n \n")
    assert_user_error(
        capsys, "train", str(tmp_path / "empty.txt"), "-o", str(tmp_path / "r"), match="empty"
    )


def test_empty_vocabulary(tmp_path, capsys):
    (tmp_path / "few.txt").write_text("a b c a\n")
    assert_user_error(
        capsys,
        "train",
        str(tmp_path / "few.txt"),
        "-o",
        str(tmp_path / "r"),
        match="vocabulary is empty",
    )


@pytest.mark.parametrize(
    ("flags", "match"),
    [
        (["--dim", "0"], "--dim"),
        (["--window", "0"], "--window"),
        (["--negative", "-1"], "--negative"),
        (["--sample", "1.5"], "--sample"),
        (["--sample", "-0.1"], "--sample"),
        (["--epochs", "0"], "--epochs"),
        (["--model", "glove"], "--model"),
        (["--dim", "ten"], "--dim"),
        (["--preset", "nope"], "--preset"),
        (["--no-such-flag"], "unrecognized"),
        (
            ["--engine", "numba", "--optimizer", "adamw-dense"],
            "--engine numba trains with --loss ns/bce and --optimizer sgd/adamw",
        ),
        (["--engine", "numba", "--device", "cuda"], "--engine numba trains on the CPU"),
        (["--sync-words", "0"], "--sync-words must be >= 1"),
        (["--negative-sharing", "all"], "--negative-sharing"),
    ],
)
def test_invalid_options(planted_file, tmp_path, capsys, flags, match):
    assert_user_error(
        capsys, "train", str(planted_file), "-o", str(tmp_path / "r"), *flags, match=match
    )
    assert not (tmp_path / "r" / "config.json").exists()


def test_bad_config_file(planted_file, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("dimm = 12\n")
    assert_user_error(capsys, "train", str(planted_file), "--config", str(cfg), match="dimm")
    cfg.write_text("dim = [\n")
    assert_user_error(
        capsys, "train", str(planted_file), "--config", str(cfg), match="not a valid config"
    )


def test_unknown_word_names_it_and_suggests(trained, capsys):
    line = assert_user_error(capsys, "neighbors", str(trained), "t0w11", match="'t0w11'")
    assert "t0w1" in line


def test_corrupt_vectors_file(tmp_path, capsys):
    bad = tmp_path / "vectors.txt"
    bad.write_text("3 4\nhello 1 2 3 4\nworld 1 2\n")
    assert_user_error(capsys, "similarity", str(bad), "hello", "world", match="vectors.txt")
    (tmp_path / "png.bin").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert_user_error(capsys, "neighbors", str(tmp_path / "png.bin"), "x", match="png.bin")
    assert_user_error(capsys, "neighbors", str(tmp_path / "missing"), "x", match="missing")


def test_existing_run_is_not_overwritten(trained, planted_file, capsys):
    before = (trained / "vectors.txt").read_bytes()
    assert_user_error(
        capsys, "train", str(planted_file), "-o", str(trained), *FAST, match="--resume"
    )
    assert (trained / "vectors.txt").read_bytes() == before


def test_corrupt_checkpoint_on_resume(trained, capsys):
    ckpt = trained / "checkpoint.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:500])
    assert_user_error(capsys, "train", "--resume", str(trained), match="checkpoint")
    ckpt.write_bytes(b"not a checkpoint at all")
    assert_user_error(capsys, "train", "--resume", str(trained), match="checkpoint")


def test_resume_of_something_that_is_not_a_run(tmp_path, capsys):
    assert_user_error(capsys, "train", "--resume", str(tmp_path), match="not a run directory")
    assert_user_error(capsys, "train", "--resume", str(tmp_path / "x"), match="no such run")


def test_resume_refuses_new_settings(trained, capsys):
    assert_user_error(capsys, "train", "--resume", str(trained), "--dim", "20", match="--resume")


def test_checkpoint_is_never_unpickled(trained, tmp_path, capsys):
    """A checkpoint holding a pickled object is refused, and its code never runs."""
    import pickle

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save(
        {"format": "w2v-checkpoint", "evil": Evil()},
        trained / "checkpoint.pt",
        pickle_module=pickle,
    )
    assert_user_error(capsys, "train", "--resume", str(trained), match="checkpoint")
    assert not marker.exists()


# -- as a separate process -----------------------------------------------------------------------


def w2v_process(*argv: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "w2v", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def test_python_dash_m_and_stdin(tmp_path):
    text = "\n".join(" ".join(s) for s in planted_sentences(500)) + "\n"
    proc = w2v_process("train", "-", "-o", str(tmp_path / "r"), *FAST, stdin=subprocess.PIPE)
    _, err = proc.communicate(text, timeout=120)
    assert proc.returncode == 0, err
    assert (tmp_path / "r" / "vectors.txt").exists()


def interrupt_after_an_epoch(*argv: str) -> tuple[int, str]:
    """Run `w2v`, send Ctrl-C once an epoch summary appears; the epoch number and stderr."""
    proc = w2v_process(*argv)
    assert proc.stdout is not None
    for line in proc.stdout:  # wait until training has really started
        if line.startswith("epoch "):
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "the run so far is saved" in err and "resume with: w2v train --resume" in err
    assert "Traceback" not in err
    return int(line.split("/")[0].split()[1]), err


def test_ctrl_c_saves_a_checkpoint_that_resumes(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in planted_sentences(5000)) + "\n")
    run = tmp_path / "r"
    # So many epochs that the run cannot end before the signal, however fast the machine.
    first, _ = interrupt_after_an_epoch(
        "train", str(corpus), "-o", str(run), "--dim", "16", "--min-count", "1", "--epochs", "1000"
    )
    assert first >= 1
    state = read_checkpoint(run / "checkpoint.pt")
    assert state["position"]["words_done"] > 0
    # the run so far is there to query and plot, as of the checkpoint
    history = json.loads((run / "history.json").read_text())
    assert history == json.loads(json.dumps(state["history"]))
    assert (load_vectors(run).vectors == state["input"]).all()
    assert main(["neighbors", str(run), "t0w1", "-k", "3"]) == 0

    second, _ = interrupt_after_an_epoch("train", "--resume", str(run))
    assert second > first  # it went on from the checkpoint, not from the start
    again = read_checkpoint(run / "checkpoint.pt")
    assert again["position"]["words_done"] > state["position"]["words_done"]
    assert len(again["history"]["epoch_loss"]) >= second


# -- evaluate, plot, export -------------------------------------------------------------------


def test_overwrite_removes_the_old_runs_files(trained, planted_file, capsys):
    (trained / "eval.json").write_text("{}")
    (trained / "loss.png").write_bytes(b"old")
    code, _, err = run_cli(
        capsys,
        "train",
        str(planted_file),
        "-o",
        str(trained),
        "--overwrite",
        "--format",
        "binary",
        *FAST,
    )
    assert code == 0, err
    names = {p.name for p in trained.iterdir()}
    assert "vectors.bin" in names
    assert not {"eval.json", "loss.png", "vectors.txt"} & names


def test_train_eval_prints_scores_per_epoch(planted_file, tmp_path, capsys):
    pairs = tmp_path / "topics.tsv"
    pairs.write_text("t0w1\tt0w2\t9\nt0w1\tt1w1\t1\nt2w3\tt2w4\t9\nt2w4\tt3w0\t1\n")
    code, out, err = run_cli(
        capsys,
        "train",
        str(planted_file),
        "-o",
        str(tmp_path / "r"),
        *FAST[:-1],
        "--eval",
        "--eval-benchmarks",
        f"google,{pairs}",
    )
    assert code == 0, err
    assert out.count("  scores: google -, topics ") == 2  # nothing of Google is covered
    saved = json.loads((tmp_path / "r" / "eval.json").read_text())
    assert [e["epoch"] for e in saved["epochs"]] == [1, 2]


def test_plot_commands_write_pngs(trained, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    code, out, err = run_cli(capsys, "plot", "loss", str(trained))
    assert code == 0, err
    assert out.strip() == f"wrote {trained / 'loss.png'}"
    assert (trained / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    target = tmp_path / "map.png"
    code, _, err = run_cli(
        capsys,
        "plot",
        "words",
        str(trained),
        "--words",
        "t0w1,t0w2",
        "--words",
        "t1w1",
        "-o",
        str(target),
        "--width",
        "4",
        "--height",
        "3",
        "--dpi",
        "50",
    )
    assert code == 0, err
    png = target.read_bytes()
    assert int.from_bytes(png[16:20], "big") == 200 and int.from_bytes(png[20:24], "big") == 150


def test_plot_errors_are_one_line(trained, capsys, monkeypatch):
    assert_user_error(capsys, "plot", "eval", str(trained), match="train with --eval")
    assert_user_error(capsys, "plot", "words", str(trained), "--words", "t0w1,nope", match="'nope'")
    assert_user_error(capsys, "plot", "pie", str(trained), match="invalid choice: 'pie'")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    line = assert_user_error(capsys, "plot", "loss", str(trained), match="matplotlib")
    assert "pip install 'w2v[plot]'" in line
    assert not (trained / "loss.png").exists()


def test_export_projector_and_word2vec(trained, tmp_path, capsys):
    from w2v.vectors import load_vectors

    code, _, err = run_cli(
        capsys, "export", str(trained), "--projector", str(tmp_path / "proj"), "--limit", "10"
    )
    assert code == 0, err
    rows = (tmp_path / "proj" / "vectors.tsv").read_text().splitlines()
    words = (tmp_path / "proj" / "metadata.tsv").read_text().splitlines()
    original = load_vectors(trained)
    assert words == original.index_to_key[:10] and len(rows) == 10
    assert [float(x) for x in rows[3].split("\t")] == pytest.approx(original.vectors[3], rel=1e-5)
    code, _, err = run_cli(
        capsys, "export", str(trained), "--word2vec", str(tmp_path / "v.bin"), "--binary"
    )
    assert code == 0, err
    again = load_vectors(tmp_path / "v.bin")
    assert again.index_to_key == original.index_to_key
    assert (again.vectors == original.vectors).all()
    assert_user_error(capsys, "export", str(trained), match="--projector")


def test_a_broken_torchrun_environment_is_one_line(planted_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "two")
    assert_user_error(
        capsys, "train", str(planted_file), "-o", str(tmp_path / "r"), match="must be integers"
    )
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "5")
    assert_user_error(capsys, "train", str(planted_file), match="makes no sense")


@pytest.mark.parametrize(
    ("flags", "match"),
    [
        (["--alpha", "2"], "training diverged in epoch 1 (loss is nan)"),
        (["--alpha", "1e9"], "try a smaller --alpha"),
        (["--alpha", "inf"], "training diverged"),
        (["--negative", "1000"], "training diverged"),
        (["--seed", "-5"], "--seed must be >= 0"),
        (["--alpha", "nan"], "--alpha must be > 0"),
        (["--alpha", "1e-30"], "--min-alpha must not exceed --alpha"),
        (["--epochs", "100000000000000000000"], "--epochs must be at most 1,000,000"),
        (["--window", "100000000000000000000"], "--window must be at most --max-sentence-length"),
        (["--negative", "100000000"], "--negative must be at most 10,000"),
        (["--dim", "10000000000"], "more than this machine's"),
        (["--eval-benchmarks", "ws353"], "--eval-benchmarks picks the benchmarks of --eval"),
        (["--delimiter", ""], "--delimiter must be one character"),
        (["--limit", "0"], "--limit must be >= 1"),
    ],
)
def test_hostile_values_are_one_line(planted_file, tmp_path, capsys, flags, match):
    out = str(tmp_path / "r")
    argv = ["train", str(planted_file), "-o", out, "--min-count", "1", "--epochs", "1", "-q"]
    assert_user_error(capsys, *argv, *flags, match=match)


def test_hostile_values_that_are_only_odd_still_train(planted_file, tmp_path, capsys):
    odd = (["--window", "1000"], ["--ns-exponent", "1000"], ["--ns-exponent", "-50"])
    for flags in (*odd, ["--alpha", "0.5"]):
        out = str(tmp_path / "r")
        argv = ["train", str(planted_file), "-o", out, "--overwrite", *FAST, *flags]
        code, _, err = run_cli(capsys, *argv)
        assert "Traceback" not in err
        if flags in odd:
            assert code == 0, (flags, err)
        else:  # a large rate trains or diverges, depending on the corpus: never a traceback
            assert code == 0 or (code == 2 and "training diverged" in err), err


def test_a_run_that_cannot_start_leaves_nothing_in_its_way(planted_file, tmp_path, capsys):
    out = tmp_path / "r"
    argv = ["train", str(planted_file), "-o", str(out), *FAST]
    assert_user_error(capsys, *argv, "--device", "cuda", match="--device cuda")
    assert not out.exists()  # refused before the run directory was made
    # one that fails after its config is written (a bad benchmark name, read before training)
    assert_user_error(capsys, *argv, "--eval", "--eval-benchmarks", "nope", match="nope")
    assert (out / "config.json").exists() and not (out / "checkpoint.pt").exists()
    code, _, err = run_cli(capsys, *argv)  # the retry needs no --overwrite
    assert code == 0, err
    assert_user_error(capsys, *argv, match="already holds a run")  # a trained one does block


def test_version_bare_command_and_a_misspelt_flag(capsys):
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.strip() == "w2v 0.1.0"
    code, out, _ = run_cli(capsys)
    assert code == 0 and "train" in out and "similarity" in out  # the help, not an error
    line = assert_user_error(capsys, "train", "--dimm", "5", match="unrecognized arguments")
    assert line.endswith("did you mean --dim? (see w2v --help)")
    assert "did you mean --metric?" in assert_user_error(
        capsys, "neighbors", "r", "w", "--metrc", "cosine", match="--metrc"
    )


def test_train_help_is_grouped_and_says_each_default_once(capsys):
    code, out, _ = run_cli(capsys, "train", "--help")
    assert code == 0
    for group in ("corpus", "model", "training", "machine and distributed", "output"):
        assert f"{group} options:" in out
    text = " ".join(out.split())  # argparse wraps lines
    assert "(default: None)" not in text
    assert "(default: 100)" in text and "(default: on)" in text  # --dim, --shrink-windows
    assert "(default 0.025 for sg, 0.05 for cbow)" in text
    for chunk in text.split("--")[1:]:  # no flag's help names its default twice
        assert chunk.count("(default") <= 1, chunk


def test_one_epoch_is_singular(planted_file, tmp_path, capsys):
    argv = ["train", str(planted_file), "-o", str(tmp_path / "r"), "--dim", "8", "--epochs", "1"]
    code, out, _ = run_cli(capsys, *argv, "--min-count", "1")
    assert code == 0 and ", 1 epoch on cpu" in out


def test_a_query_is_spelled_as_the_runs_corpus_was(trained, tmp_path, capsys):
    code, out, _ = run_cli(capsys, "neighbors", str(trained), "T0W1", "-k", "3")
    assert code == 0 and "3 nearest to 'T0W1'" in out  # the run lowercased its corpus
    _, exact, _ = run_cli(capsys, "neighbors", str(trained), "t0w1", "-k", "3")
    assert out.splitlines()[1:] == exact.splitlines()[1:]
    code, out, _ = run_cli(capsys, "similarity", str(trained), "T0w1", "t0W2")
    assert code == 0 and "cosine similarity" in out
    # a bare vectors file knows no tokenizer: its words are matched exactly
    assert_user_error(
        capsys, "neighbors", str(trained / "vectors.txt"), "T0W1", match="'T0W1' is not"
    )


def test_neighbors_of_several_words_and_of_stdin(trained, capsys, monkeypatch):
    code, out, err = run_cli(capsys, "neighbors", str(trained), "t0w1", "nope", "t1w2", "-k", "2")
    assert code == 2  # one word was unknown: said on stderr, the others answered
    assert "'nope' is not in the vocabulary" in err and len(err.strip().splitlines()) == 1
    assert out.count("2 nearest to") == 2 and "'t1w2'" in out
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("t0w1\n\nt2w3\n"))
    code, out, _ = run_cli(capsys, "neighbors", str(trained), "-", "-k", "2")
    assert code == 0 and out.count("2 nearest to") == 2 and "'t2w3'" in out


def test_suggestions_rank_by_edits_then_frequency():
    import numpy as np

    from w2v.errors import UnknownWordError
    from w2v.vectors import KeyedVectors

    words = ["the", "go", "ago", "do", "dog", "dig", "log", "fog", "jog"]  # by frequency
    kv = KeyedVectors(words, np.ones((len(words), 2), dtype=np.float32))
    for typo, first in (("dgo", "dog"), ("Dog", "dog"), ("lgo", "log"), ("teh", "the")):
        try:
            kv[typo]
        except UnknownWordError as unknown:
            assert unknown.suggestions[0] == first, (typo, unknown.suggestions)


def test_a_slow_kernel_compile_is_announced_and_a_cached_one_is_silent(
    planted_file, tmp_path, capsys, monkeypatch
):
    import time

    from w2v import cli_train
    from w2v.trainer import Trainer

    real_compile = Trainer.compile

    def slow_compile(self):
        time.sleep(0.3)
        real_compile(self)

    monkeypatch.setattr(Trainer, "compile", slow_compile)
    monkeypatch.setattr(cli_train, "COMPILE_NOTICE_AFTER_S", 0.1)
    code, out, err = run_cli(capsys, "train", str(planted_file), "-o", str(tmp_path / "a"),
                             *FAST[:-1])  # fmt: skip
    assert code == 0, err
    assert "compiling the numba engine's kernel (once after an install, then cached) ..." in out
    assert "compiled in " in out
    monkeypatch.setattr(cli_train, "COMPILE_NOTICE_AFTER_S", 5.0)
    code, out, err = run_cli(capsys, "train", str(planted_file), "-o", str(tmp_path / "b"),
                             *FAST[:-1])  # fmt: skip
    assert code == 0, err
    assert "engine's kernel" not in out and "compiled in" not in out
