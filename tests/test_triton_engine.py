"""The triton engine end to end, on the CPU through Triton's interpreter: `w2v train
--engine triton` learns a planted corpus, resumes exactly, runs from the command line with
TRITON_INTERPRET=1, and says in one line what it cannot do (no triton, no CUDA without the
interpreter, subwords, --deterministic)."""

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import w2v
from w2v import cli, engines
from w2v.engines import ENGINES, base
from w2v.errors import W2VError
from w2v.run import Run
from w2v.trainer import TrainingInterrupted

from helpers import StopAfterBatches, triton_kernel_module

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("triton") is None, reason="triton is not installed"
)
tk = None  # the kernel module the engine runs (set by the fixture below)


@pytest.fixture(autouse=True, scope="module")
def _interpreted_engine():
    """The engine's kernel module swapped for one that Triton's interpreter runs."""
    global tk
    from w2v.engines import triton_engine

    with triton_kernel_module() as module, pytest.MonkeyPatch.context() as patch:
        patch.setattr(triton_engine, "triton_kernel", module)
        tk = module
        yield


# Two topics of six words, a sentence of eight from one of them: small enough for the
# interpreter (a few ms a centre word), and subsampling at 0.03 keeps about 90 % of it.
TOPICS, PER_TOPIC = 2, 6
FAST = dict(
    engine="triton", device="cpu", dim=16, min_count=1, seed=3, window=2, negative=3,
    sample=0.03, alpha=0.1,
)  # fmt: skip


def topic_corpus(path, sentences: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        for _ in range(sentences):
            topic = "ab"[rng.integers(TOPICS)]
            f.write(" ".join(f"{topic}{i}" for i in rng.integers(PER_TOPIC, size=8)) + "\n")
    return path


def purity(vectors) -> float:
    """The share of each word's 3 nearest words that are of its topic."""
    hits = [
        other[0] == word[0]
        for word in vectors.index_to_key
        for other, _ in vectors.most_similar(word, topn=3)
    ]
    return sum(hits) / len(hits)


@pytest.fixture
def small_planted(tmp_path):
    return topic_corpus(tmp_path / "topics.txt")


@pytest.mark.parametrize(
    ("model", "sharing", "reuse_rows"),
    [
        ("sg", "window", False),
        ("sg", "pair", False),
        ("cbow", None, False),
        ("sg", "window", True),
        ("cbow", None, True),
    ],
)
def test_the_triton_engine_learns_the_planted_topics(
    small_planted, tmp_path, monkeypatch, model, sharing, reuse_rows
):
    from w2v.engines import triton_engine

    monkeypatch.setattr(triton_engine, "REUSE_ROWS", reuse_rows)
    launches = []
    launch = tk.train_pieces

    def counted(*args, **kwargs):
        launches.append((kwargs["mode"], kwargs["reuse_rows"]))
        return launch(*args, **kwargs)

    monkeypatch.setattr(tk, "train_pieces", counted)
    options = {**FAST, "model": model, "epochs": 2}
    if sharing:
        options["negative_sharing"] = sharing
    vectors = w2v.train(small_planted, tmp_path / "run", **options)
    # every chunk went through the kernel, as asked
    assert set(launches) == {(sharing or "cbow", reuse_rows)}
    rng = np.random.default_rng(0)
    random = w2v.KeyedVectors(vectors.index_to_key, rng.normal(size=vectors.vectors.shape))
    assert purity(random) < 0.65
    assert purity(vectors) > 0.9


def test_subsampling_on_the_device_keeps_each_word_at_its_rate(small_planted, tmp_path):
    from w2v.engines.triton_engine import TritonEngine

    trainer = Run(w2v.build_config(**FAST, epochs=1), None)
    trainer.prepare(small_planted)
    engine = trainer.make_trainer().engine
    assert isinstance(engine, TritonEngine)
    kept, offered = 0, 0
    for chunk in range(len(engine.setup.chunks)):
        for epoch in range(40):
            ready = engine._prepare(epoch, chunk)
            # the pieces tile the kept words in order, each inside its sentence
            assert ready.piece_start[0] == 0 and ready.piece_end[-1] == len(ready.ids)
            assert torch.equal(ready.piece_start[1:], ready.piece_end[:-1])
            assert (ready.sent_start <= ready.piece_start).all()
            assert (ready.piece_start < ready.piece_end).all()
            assert (ready.piece_end <= ready.sent_end).all()
            kept += len(ready.ids)
        offered += 40 * int(engine.setup.chunks.words[chunk])
    chunks = engine.setup.chunks
    expected = float(engine.setup.keep_prob[np.asarray(chunks.ids)].mean())  # per token
    assert kept / offered == pytest.approx(expected, abs=0.01)  # 5 sd of 19,200 draws


def test_a_stopped_triton_run_resumes_exactly(small_planted, tmp_path, monkeypatch):
    monkeypatch.setattr(base, "CHUNK_TOKENS", 128)  # several chunks an epoch
    options = {**FAST, "epochs": 1}
    whole = w2v.train(small_planted, tmp_path / "whole", **options)
    with pytest.raises(TrainingInterrupted):
        w2v.train(small_planted, tmp_path / "stopped", callbacks=[StopAfterBatches(2)], **options)
    resumed = w2v.resume(tmp_path / "stopped")
    # the interpreter runs the programs of a launch one after another: the same every time
    np.testing.assert_array_equal(resumed.vectors, whole.vectors)


def test_a_corpus_too_large_for_the_device_is_streamed_a_chunk_at_a_time(
    small_planted, tmp_path, monkeypatch
):
    from w2v.engines import triton_engine

    monkeypatch.setattr(base, "CHUNK_TOKENS", 128)
    options = {**FAST, "epochs": 1}
    resident = w2v.train(small_planted, tmp_path / "resident", **options)
    monkeypatch.setattr(triton_engine, "RESIDENT_SHARE", 0.0)  # nothing fits: stream
    uploads = []
    slice_of = triton_engine.DeviceIds.slice

    def counted(self, start, stop):
        assert self.resident is None
        uploads.append((start, stop))
        return slice_of(self, start, stop)

    monkeypatch.setattr(triton_engine.DeviceIds, "slice", counted)
    streamed = w2v.train(small_planted, tmp_path / "streamed", **options)
    assert len(uploads) > 1 and uploads == sorted(uploads)  # a chunk at a time, in order
    np.testing.assert_array_equal(streamed.vectors, resident.vectors)


def test_two_ranks_train_one_model_with_it(small_planted, tmp_path):
    """Under torchrun each rank trains with the triton engine, and the ranks merge as with
    any engine (Gloo on the CPU here, each rank's kernel interpreted)."""
    dump = tmp_path / "dump"
    dump.mkdir()
    opts = {**FAST, "epochs": 2, "chunk_tokens": 128, "sync_words": 256}
    worker = Path(__file__).resolve().parent / "dist_worker.py"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        str(worker),
        "train",
        str(small_planted),
        str(tmp_path / "run"),
        str(dump),
    ]
    cmd += [f"{k}={json.dumps(v)}" for k, v in opts.items()]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TRITON_INTERPRET": "1"}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rank0, rank1 = (np.load(dump / f"vectors-rank{r}.npy") for r in (0, 1))
    np.testing.assert_array_equal(rank0, rank1)  # the last merge left them equal
    assert purity(w2v.load(tmp_path / "run")) > 0.9


def test_the_command_line_runs_it_through_the_interpreter(small_planted, tmp_path):
    """What a user without a GPU types to try the engine."""
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    out = tmp_path / "run"
    argv = ["train", str(small_planted), "-o", str(out), "--engine", "triton", "--epochs", "1"]
    argv += ["--dim", "8", "--min-count", "1", "--window", "2", "--negative", "2"]
    done = subprocess.run(
        [sys.executable, "-m", "w2v", *argv], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "triton engine" in done.stdout + done.stderr
    assert len(w2v.load(out)) == TOPICS * PER_TOPIC


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--subwords"], "--engine triton does not train with --subwords; use --engine torch"),
        (
            ["--deterministic"],
            "--engine triton does not train with --deterministic; use --engine torch",
        ),
        (["--optimizer", "adamw"], "--engine triton trains with --loss ns and --optimizer sgd"),
    ],
)
def test_what_the_triton_engine_does_not_train_is_one_line(
    small_planted, tmp_path, capsys, flags, message
):
    code, err = run_cli(
        capsys, "train", str(small_planted), "-o", str(tmp_path / "run"), "--engine", "triton",
        *flags,
    )  # fmt: skip
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_without_cuda_and_without_the_interpreter_it_says_how(
    small_planted, tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("TRITON_INTERPRET")
    code, err = run_cli(
        capsys, "train", str(small_planted), "-o", str(tmp_path / "run"), "--engine", "triton",
        "--device", "cpu",
    )  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "a CUDA GPU" in err and "TRITON_INTERPRET=1" in err


def test_without_triton_installed_it_says_how_to_install_it(monkeypatch):
    missing = dataclasses.replace(ENGINES["triton"], needs="no_such_triton_here")
    monkeypatch.setitem(ENGINES, "triton", missing)
    with pytest.raises(W2VError, match=r"pip install no_such_triton_here"):
        engines.choose(w2v.build_config(engine="triton"), "cuda")


def test_auto_takes_triton_on_cuda_where_it_applies():
    choose = engines.choose
    assert choose(w2v.build_config(), "cuda").name == "triton"
    assert choose(w2v.build_config(model="cbow"), "cuda").name == "triton"
    assert choose(w2v.build_config(deterministic=True), "cuda").name == "torch"
    assert choose(w2v.build_config(subwords=True), "cuda").name == "torch"
    assert choose(w2v.build_config(loss="bce"), "cuda").name == "torch"
    assert choose(w2v.build_config(), "cpu").name == "numba"  # the interpreter is no choice


@pytest.mark.parametrize(("capability", "chosen"), [((6, 0), "torch"), ((7, 0), "triton")])
def test_a_gpu_older_than_the_kernel_takes_the_torch_engine(monkeypatch, capability, chosen):
    """ptxas rejects the kernel for Pascal (a P100): auto picks torch there, and asking for
    triton says why in one line."""
    monkeypatch.setattr(engines.registry, "cuda_capability", lambda device: capability)
    assert engines.choose(w2v.build_config(), "cuda").name == chosen
    if chosen == "torch":
        with pytest.raises(W2VError, match=r"compute capability 7\.0 or newer.* is 6\.0; use"):
            engines.choose(w2v.build_config(engine="triton"), "cuda")
