"""Light imports: `import w2v` and every query command run without torch or numba.

Each command runs in a fresh interpreter, which then reports what ended up in sys.modules.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import w2v

PROBE = """
import json, sys
argv = json.loads(sys.argv[1])
code = None
if argv is not None:
    from w2v.cli import main
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
else:
    import w2v
heavy = [m for m in ("torch", "numba") if m in sys.modules]
print("PROBE " + json.dumps({"code": code, "heavy": heavy}))
"""


def heavy_modules(argv: list[str] | None, cwd: Path) -> tuple[int | None, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("PROBE "))
    result = json.loads(line[len("PROBE ") :])
    return result["code"], result["heavy"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from helpers import planted_sentences

    out = tmp_path_factory.mktemp("light") / "run"
    w2v.train(planted_sentences(400), out, dim=8, min_count=1, epochs=1, seed=1)
    return out


def test_import_w2v_is_light(tmp_path):
    assert heavy_modules(None, tmp_path) == (None, [])


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["train", "--help"],
        ["phrases", "--help"],
        ["similarity", "{run}", "t0w1", "t0w2"],
        ["neighbors", "{run}", "t0w1", "-k", "3"],
        ["analogy", "{run}", "t0w1", "t0w2", "t1w1"],
        ["evaluate", "{run}", "-b", "ws353,google"],
        ["evaluate", "--list"],
        ["export", "{run}", "--projector", "{tmp}/proj", "--word2vec", "{tmp}/v.bin", "--binary"],
        ["plot", "loss", "{run}", "-o", "{tmp}/loss.png"],
        ["plot", "words", "{run}", "--top", "20", "-o", "{tmp}/words.png"],
    ],
)
def test_query_commands_import_neither_torch_nor_numba(argv, run_dir, tmp_path):
    if argv[0] == "plot":
        pytest.importorskip("matplotlib")
    args = [a.format(run=run_dir, tmp=tmp_path) for a in argv]
    code, heavy = heavy_modules(args, tmp_path)
    assert code == 0
    assert heavy == []


@pytest.mark.parametrize(("engine", "heavy"), [("numba", ["numba"]), ("torch", ["torch"])])
def test_training_imports_only_what_its_engine_needs(engine, heavy, tmp_path):
    """The numba engine trains on numpy arrays and writes numpy checkpoints: no torch. (And
    the probe is not blind: the torch engine does import torch.)"""
    from helpers import planted_sentences

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in planted_sentences(300)) + "\n")
    argv = ["train", str(corpus), "-o", str(tmp_path / "run"), "-q", "--min-count", "1"]
    argv += ["--epochs", "1", "--dim", "8", "--engine", engine]
    code, imported = heavy_modules(argv, tmp_path)
    assert code == 0
    assert imported == heavy
    assert (tmp_path / "run" / "checkpoint.pt").is_file()


SERVE_PROBE = """
import json, sys, urllib.request
from w2v.cli import main
from w2v.serve import server

asked = []

def serve_and_ask(app, sockets):  # instead of serving until Ctrl-C: ask each page once
    with server.Background(app) as running:
        for path in sys.argv[2:]:
            with urllib.request.urlopen(running.url + path, timeout=120) as answer:
                asked.append(answer.status)

server.run = serve_and_ask
code = main(["serve", sys.argv[1], "--port", "0"])
heavy = [m for m in ("torch", "numba", "w2v.trainer") if m in sys.modules]
print("PROBE " + json.dumps({"code": code, "heavy": heavy, "asked": asked}))
"""


def test_serve_imports_neither_the_trainer_nor_torch_nor_numba(run_dir, tmp_path):
    """`w2v serve` and every page it serves, t-SNE and the benchmarks included."""
    pytest.importorskip("starlette")
    pytest.importorskip("sklearn")
    paths = [
        "",
        "api/info",
        "api/complete?prefix=t0",
        "api/neighbors?word=t0w1&metric=euclidean",
        "api/similarity?a=t0w1&b=t0w2",
        "api/analogy?a=t0w1&b=t0w2&c=t1w1&method=mul",
        "api/map?n=20&method=tsne",
        "api/map?words=t0w1&neighbors=5",
        "api/run",
        "api/evaluate?benchmarks=ws353,google",
    ]
    proc = subprocess.run(
        [sys.executable, "-c", SERVE_PROBE, str(run_dir), *paths],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("PROBE ")), None)
    assert line is not None, proc.stderr
    result = json.loads(line[len("PROBE ") :])
    assert result == {"code": 0, "heavy": [], "asked": [200] * len(paths)}
