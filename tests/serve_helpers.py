"""What the `w2v serve` tests share: small models with planted topics, a run directory
written as `w2v train` writes one, and a JSON client for a live server."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from w2v.atomic import write_json
from w2v.config import TrainConfig
from w2v.rundir import EVAL_FORMAT, RunDir, write_config, write_vocab
from w2v.vectors import KeyedVectors

# A vocabulary word from an arbitrary corpus may be markup; the page must show it as text.
HOSTILE = "<img src=x onerror=alert(1)>"
TOPICS, PER_TOPIC, DIM = 6, 10, 16


def topic_vectors(seed: int, hostile: bool = False) -> KeyedVectors:
    """Words t{topic}w{i} scattered around one centre per topic (the centres are the same
    for every seed, the scatter is not), rows shuffled by ``seed``; with ``hostile``, the
    markup word sits close to topic 0's centre, so it is among t0 words' neighbours."""
    centres = np.random.default_rng(0).normal(size=(TOPICS, DIM))
    rng = np.random.default_rng(seed)
    words = [f"t{t}w{i}" for t in range(TOPICS) for i in range(PER_TOPIC)]
    rows = [
        centres[t] + 0.5 * rng.normal(size=DIM) for t in range(TOPICS) for _ in range(PER_TOPIC)
    ]
    if hostile:
        words.append(HOSTILE)
        rows.append(centres[0] + 0.1 * rng.normal(size=DIM))
    order = rng.permutation(len(words))
    counts = 10 * np.arange(len(words), 0, -1)  # rows in frequency order, as a run's are
    return KeyedVectors([words[i] for i in order], np.array([rows[i] for i in order]), counts)


def write_run(run_dir: Path, kv: KeyedVectors, epochs: int = 3, steps: int = 5000) -> Path:
    """A run directory as `w2v train --eval` leaves it: config.json, vocab.tsv, the
    vectors, a history of ``steps`` logged losses and scores for every epoch."""
    run_dir.mkdir(parents=True)
    files = RunDir(run_dir)
    config = TrainConfig(dim=kv.vector_size, epochs=epochs, min_count=1, eval=True)
    stats = {"sentences": 400, "tokens": 3798, "vocab_size": len(kv)}
    write_config(run_dir, {"config": config.to_dict(), "corpus": "topics.txt", "stats": stats})
    assert kv.counts is not None
    write_vocab(files.vocab, kv.index_to_key, kv.counts.tolist())
    kv.save_word2vec_format(files.vectors(binary=False))
    words = np.linspace(100, 30_000, steps)
    write_json(
        files.history,
        {
            "step_words": words.tolist(),
            "step_loss": (4.0 - np.log1p(words) / 10).tolist(),
            "epoch_words": [30_000 * (e + 1) / epochs for e in range(epochs)],
            "epoch_loss": [3.5 - 0.2 * e for e in range(epochs)],
        },
    )
    scores = [
        {
            "epoch": e + 1,
            "scores": {
                "ws353": {"kind": "similarity", "score": 0.1 * (e + 1), "covered": 5, "total": 353},
                "google": {"kind": "analogy", "score": 0.05 * e, "covered": 9, "total": 19544},
            },
        }
        for e in range(epochs)
    ]
    write_json(files.eval, {"format": EVAL_FORMAT, "epochs": scores})
    return run_dir


def get(
    base: str,
    path: str,
    *,
    http_method: str = "GET",
    headers: dict[str, str] | None = None,
    **params: Any,
) -> tuple[int, Any, Any]:
    """(status, JSON body, headers) of a request to a live server; a 4xx or 5xx is an
    answer too."""
    query = urllib.parse.urlencode(params)
    url = base.rstrip("/") + path + (f"?{query}" if query else "")
    request = urllib.request.Request(url, method=http_method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, _body(response.read()), response.headers
    except urllib.error.HTTPError as err:
        return err.code, _body(err.read()), err.headers


def _body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
