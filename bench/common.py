"""What the benchmark scripts share: each measurement runs in a child process of its own,
which hands its result back as one JSON line, with its own peak memory."""

from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from w2v.config import MAX_SENTENCE_LENGTH

# words per line of the corpus both tools read: word2vec's sentence cap, so no tool cuts lines
LINE_TOKENS = MAX_SENTENCE_LENGTH

RESULT = "RESULT "


def cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def peak_rss_mb() -> float:
    """This process's own peak resident memory. (getrusage's ru_maxrss would also count the
    parent's memory at the fork, since Linux carries it over an exec.)"""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(result: dict) -> None:
    """A child's last word: its result, for run_child."""
    print(RESULT + json.dumps(result), flush=True)


def run_child(cmd: list[str], what: str, env: dict[str, str] | None = None) -> dict:
    """Run a child command and return the result it reported; stop with its stderr if
    it failed."""
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    results = [line for line in proc.stdout.splitlines() if line.startswith(RESULT)]
    if proc.returncode != 0 or not results:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"{what} failed (exit {proc.returncode})")
    return json.loads(results[-1][len(RESULT) :])


def write_corpus(source: Path, limit: int | None, path: Path) -> int:
    """The first ``limit`` words of a gzipped text8-style corpus, as lines of LINE_TOKENS
    words (every tool then cuts sentences at the same places); returns the word count."""
    with gzip.open(source, "rt", encoding="utf-8") as f:
        tokens = f.read().split()
    if limit:
        tokens = tokens[:limit]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(0, len(tokens), LINE_TOKENS):
            f.write(" ".join(tokens[i : i + LINE_TOKENS]) + "\n")
    return len(tokens)


def write_result(path: Path, text: str) -> None:
    """A benchmark's result: printed, and written to ``path`` (its folder made)."""
    print(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}", file=sys.stderr)
