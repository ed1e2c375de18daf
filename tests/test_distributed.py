"""Training on several ranks: real torchrun launches with the Gloo backend on the CPU."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import w2v
from w2v import distributed, sources
from w2v.corpus import iter_sentences, scan_corpus
from w2v.engines import base
from w2v.errors import W2VError
from w2v.tokenize import Tokenizer
from w2v.trainer import read_checkpoint

from helpers import StopAfterBatches, planted_sentences, topic_accuracy

HERE = Path(__file__).resolve().parent
WORKER = HERE / "dist_worker.py"
# Small and quick, with enough words that each rank has several chunks to average over.
OPTS = {"dim": 20, "min_count": 1, "epochs": 3, "seed": 1, "sync_words": 4000}


def torchrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", *args]


def env() -> dict[str, str]:
    # one thread per rank (2 cores here); rank 0 prints, so keep its output plain
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def big_planted(tmp_path: Path) -> Path:
    path = tmp_path / "planted.txt"
    sentences = planted_sentences(n_sentences=12000, seed=3)
    path.write_text("\n".join(" ".join(s) for s in sentences) + "\n")
    return path


def options(opts: dict) -> list[str]:
    return [f"{k}={json.dumps(v)}" for k, v in opts.items()]


# -- where a process stands --------------------------------------------------------------------


def test_the_world_comes_from_torchruns_environment():
    assert distributed.from_environment({}) is None
    assert distributed.from_environment({"WORLD_SIZE": "1", "RANK": "0"}) is None
    world = distributed.from_environment(
        {"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"}
    )
    assert world == distributed.World(rank=3, size=4, local_rank=1, local_size=2)
    assert not world.is_main
    with pytest.raises(W2VError, match="must be integers"):
        distributed.from_environment({"WORLD_SIZE": "two"})
    with pytest.raises(W2VError, match="makes no sense"):
        distributed.from_environment({"WORLD_SIZE": "2", "RANK": "2"})


# -- the shares of the corpus ------------------------------------------------------------------


@pytest.mark.parametrize("ranks", [2, 3])
def test_the_shares_hold_every_token_once(tmp_path, monkeypatch, ranks):
    """Lines and pieces of a long line (read in small blocks here) go to one rank each."""
    monkeypatch.setattr(sources, "READ_BLOCK_SIZE", 64)
    lines = [" ".join(s) for s in planted_sentences(n_sentences=200, seed=5)]
    lines.insert(50, " ".join(f"long{i % 37}" for i in range(400)))  # read in many pieces
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines) + "\n")
    tok = Tokenizer()
    whole = Counter(t for s in iter_sentences(path, tok) for t in s)
    cache = tmp_path / "cache"
    shares = [scan_corpus(path, tok, cache_dir=cache, share=(r, ranks)) for r in range(ranks)]
    summed: Counter[str] = Counter()
    for share in shares:
        summed.update(dict(zip(share.words, share.counts.tolist(), strict=True)))
        assert 0.5 / ranks < share.n_tokens / sum(whole.values()) < 1.5 / ranks  # balanced
    assert summed == whole


def test_an_empty_share_says_so(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("just one line\n")
    with pytest.raises(W2VError, match="rank 1's share of the corpus is empty"):
        scan_corpus(path, Tokenizer(), cache_dir=tmp_path / "cache", share=(1, 2))


# -- real runs ---------------------------------------------------------------------------------


def run_workers(
    tmp_path: Path, mode: str, paths: list[str], opts: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """torchrun 2 ranks of dist_worker.py; returns their input tables."""
    dump = tmp_path / "dump"
    dump.mkdir(exist_ok=True)
    cmd = torchrun("--standalone", "--nproc-per-node", "2", str(WORKER), mode, *paths)
    proc = subprocess.run(
        [*cmd, str(dump), *opts], env=env(), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return np.load(dump / "vectors-rank0.npy"), np.load(dump / "vectors-rank1.npy")


@pytest.mark.parametrize("engine", ["numba", "torch"])
def test_two_ranks_train_one_model(big_planted, tmp_path, engine):
    dump = tmp_path / "dump"
    opts = {**OPTS, "engine": engine, "chunk_tokens": 2000}
    paths = [str(big_planted), str(tmp_path / "run")]
    rank0, rank1 = run_workers(tmp_path, "train", paths, options(opts))
    np.testing.assert_array_equal(rank0, rank1)  # the last averaging left them equal
    vocab0 = json.loads((dump / "vocab-rank0.json").read_text())
    assert vocab0 == json.loads((dump / "vocab-rank1.json").read_text())

    alone = w2v.train(big_planted, tmp_path / "alone", **{**OPTS, "engine": engine})
    assert vocab0 == dict(zip(alone.index_to_key, alone.counts.tolist(), strict=True))

    together = w2v.load(tmp_path / "run")  # rank 0 wrote the run directory
    np.testing.assert_array_equal(together.vectors, rank0)
    # Planted topics: a single run gets (nearly) all; two ranks must too.
    assert topic_accuracy(alone) >= 0.95
    assert topic_accuracy(together) >= 0.95
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["ranks"] == 2
    assert config["stats"]["tokens"] == sum(vocab0.values())


def test_a_run_stopped_mid_epoch_alone_resumes_on_two_ranks(big_planted, tmp_path, monkeypatch):
    monkeypatch.setattr(base, "CHUNK_TOKENS", 2000)
    run_dir = tmp_path / "run"
    with pytest.raises(w2v.TrainingInterrupted):  # numba: one report per chunk
        w2v.train(big_planted, run_dir, callbacks=[StopAfterBatches(80)], **OPTS)
    cut = read_checkpoint(run_dir / "checkpoint.pt")["position"]
    assert cut["epoch"] == 1 and cut["chunk"] > 0  # inside the second epoch
    rank0, rank1 = run_workers(tmp_path, "resume", [str(run_dir)], ["chunk_tokens=2000"])
    np.testing.assert_array_equal(rank0, rank1)
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history["epoch_loss"]) == OPTS["epochs"]
    tokens = json.loads((run_dir / "config.json").read_text())["stats"]["tokens"]
    # every epoch trained whole (the resumed one from the round that covers where it stopped)
    assert history["epoch_words"][-1] == pytest.approx(OPTS["epochs"] * tokens, rel=0.05)
    assert topic_accuracy(w2v.load(run_dir)) >= 0.95


def test_a_two_node_rendezvous_on_one_machine(big_planted, tmp_path):
    """Two torchrun launches, one per "node", meeting at 127.0.0.1."""
    port = free_port()
    common = ["--nnodes", "2", "--nproc-per-node", "1", "--rdzv-backend", "static",
              "--rdzv-endpoint", f"127.0.0.1:{port}"]  # fmt: skip
    cmd = ["-m", "w2v", "train", str(big_planted), "-o", str(tmp_path / "run"), "--quiet",
           "--dim", "20", "--min-count", "1", "--epochs", "2"]  # fmt: skip
    nodes = [
        subprocess.Popen(
            torchrun(*common, "--node-rank", str(rank), *cmd),
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    outputs = [node.communicate(timeout=300) for node in nodes]
    for node, (_, err) in zip(nodes, outputs, strict=True):
        assert node.returncode == 0, err[-3000:]
    vectors = w2v.load(tmp_path / "run")
    assert topic_accuracy(vectors) >= 0.9
    assert json.loads((tmp_path / "run" / "config.json").read_text())["ranks"] == 2


def worker_pids(parent: int) -> dict[int, int]:
    """rank -> pid of torchrun's worker processes (read from /proc)."""
    ranks = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid != parent:
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        for item in environ:
            if item.startswith(b"RANK="):
                ranks[int(item[5:])] = int(entry.name)
    return ranks


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_a_killed_rank_stops_the_run_and_the_checkpoint_resumes(big_planted, tmp_path):
    run_dir = tmp_path / "run"
    cmd = torchrun("--standalone", "--nproc-per-node", "2", "-m", "w2v", "train",
                   str(big_planted), "-o", str(run_dir), "--quiet", "--dim", "20",
                   "--min-count", "1", "--epochs", "400")  # fmt: skip
    launcher = subprocess.Popen(
        cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while not (run_dir / "checkpoint.pt").exists():
            assert launcher.poll() is None, launcher.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "no checkpoint after 120 s"
            time.sleep(0.2)
        time.sleep(1.0)
        pids = worker_pids(launcher.pid)
        assert set(pids) == {0, 1}
        os.kill(pids[1], signal.SIGKILL)
        _, err = launcher.communicate(timeout=120)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert launcher.returncode != 0
    # rank 0 says what happened and how to go on
    assert "w2v: rank 0: stopped" in err or "lost the other ranks" in err, err[-3000:]
    assert f"w2v train --resume {run_dir}" in err
    state = read_checkpoint(run_dir / "checkpoint.pt")
    done = state["position"]["epoch"]
    assert 1 <= done < 400 and state["position"]["chunk"] == 0
    # rank 0's epoch checkpoints wrote the vectors and history too (the last one's, unless
    # the stop came between its checkpoint and them)
    assert 1 <= len(json.loads((run_dir / "history.json").read_text())["epoch_loss"]) <= done
    assert len(w2v.load(run_dir)) == len(state["input"])
    # The checkpoint resumes, here alone: a different number of ranks; only one more epoch
    # (a smaller total than planned), to keep the test short.
    argv = ["-m", "w2v", "train", "--resume", str(run_dir), "--quiet", "--epochs", str(done + 1)]
    resumed = subprocess.run(
        [sys.executable, *argv],
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history["epoch_loss"]) == done + 1
    assert topic_accuracy(w2v.load(run_dir)) >= 0.9


def test_two_ranks_train_a_subword_model(big_planted, tmp_path):
    """The n-gram rows are merged like the words' rows: the ranks end with one model, and
    rank 0's run directory holds fastText's .bin of it."""
    opts = {**OPTS, "subwords": True, "bucket": 3000, "chunk_tokens": 2000}
    paths = [str(big_planted), str(tmp_path / "run")]
    rank0, rank1 = run_workers(tmp_path, "train", paths, options(opts))
    np.testing.assert_array_equal(rank0, rank1)
    together = w2v.load(tmp_path / "run")
    assert type(together).__name__ == "SubwordVectors"
    np.testing.assert_array_equal(together.vectors, rank0)
    assert "t0w999" not in together and together["t0w999"].shape == (OPTS["dim"],)
    assert topic_accuracy(together) >= 0.9


def test_two_ranks_join_the_phrases_of_a_table(big_planted, tmp_path):
    """Each rank joins the table's phrases in its share: the ranks' vocabulary (merged
    counts) is the one a single process makes with the same table."""
    table = tmp_path / "phrases.tsv"  # pairs the planted topics make often, written by hand
    rows = ["phrase\tcount\tscore\tpass\twords"]
    rows += [f"t{t}w1_t{t}w2\t100\t50.0\t1\tt{t}w1 t{t}w2" for t in range(3)]
    table.write_text("\n".join(rows) + "\n")
    opts = {**OPTS, "epochs": 1, "phrases": str(table), "chunk_tokens": 2000}
    dump = tmp_path / "dump"
    run_workers(tmp_path, "train", [str(big_planted), str(tmp_path / "run")], options(opts))
    vocab0 = json.loads((dump / "vocab-rank0.json").read_text())
    assert vocab0 == json.loads((dump / "vocab-rank1.json").read_text())
    alone = w2v.train(big_planted, **{**OPTS, "epochs": 1, "phrases": str(table)})
    assert vocab0 == dict(zip(alone.index_to_key, alone.counts.tolist(), strict=True))
    joined = [w for w in vocab0 if "_" in w]
    assert joined, "the table joined no phrase"
