"""`w2v serve`: the JSON API on a live server (uvicorn on 127.0.0.1, a free port), the
models behind it, and the command. The page itself is tested in a browser in
test_serve_browser.py."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from serve_helpers import HOSTILE, get, topic_vectors, write_run
from w2v.cli import main
from w2v.errors import W2VError
from w2v.serve import limits, server
from w2v.serve.app import create_app
from w2v.serve.models import Completer, Model


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("serve") / "run", topic_vectors(1))


@pytest.fixture(scope="module")
def models(run_dir: Path) -> list[Model]:
    """A: the run directory (its tokenizer lowercases); B: vectors in memory with the
    hostile word, and lowercasing for a tokenizer."""
    return [Model.load(str(run_dir)), Model.of("b", topic_vectors(2, hostile=True), str.lower)]


@pytest.fixture(scope="module")
def url(models: list[Model]):
    app = create_app(models, allowed_hosts=server.allowed_hosts("127.0.0.1"))
    with server.Background(app) as running:
        yield running.url


# -- the API -------------------------------------------------------------------------------------


def test_info_describes_the_models_and_the_limits(url, models):
    status, body, _ = get(url, "/api/info")
    assert status == 200
    assert [m["words"] for m in body["models"]] == [60, 61]
    assert body["models"][0]["run"] is True and body["models"][1]["run"] is False
    assert body["limits"]["k"] == limits.MAX_K
    assert body["limits"]["map_words"] == limits.MAX_MAP_WORDS
    assert "ws353" in body["benchmarks"]


def test_complete_gives_the_most_frequent_words_first_spelled_as_the_run_spells(url, models):
    kv = models[0].kv
    status, body, _ = get(url, "/api/complete", prefix="T0", limit=4, model=0)
    assert status == 200
    expected = [w for w in kv.index_to_key if w.startswith("t0")][:4]  # rows: most frequent first
    assert body["words"] == expected


def test_complete_merges_both_models_rank_by_rank(url, models):
    _, body, _ = get(url, "/api/complete", prefix="<im")
    assert body["words"] == [HOSTILE]  # only model B has it
    _, body, _ = get(url, "/api/complete", prefix="t1", limit=50)
    assert sorted(body["words"]) == [f"t1w{i}" for i in range(10)]


def test_completer_finds_a_prefix_range_exactly():
    words = ["b", "ab", "a", "abc", "b\U0010ffff", "\U0010ffff", "\U0010ffffz", "ac"]
    completer = Completer(words)
    assert completer.rows("a", 10) == [1, 2, 3, 7]
    assert completer.rows("ab", 1) == [1]
    assert completer.rows("b", 10) == [0, 4]
    assert completer.rows("\U0010ffff", 10) == [5, 6]
    assert completer.rows("", 10) == []
    assert completer.rows("zz", 10) == []


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_neighbors_are_the_vectors_own_answer(url, models, metric):
    status, body, headers = get(url, "/api/neighbors", word="T0W1", k=7, metric=metric)
    assert status == 200
    assert headers["Server-Timing"].startswith("app;dur=")
    for answer, model in zip(body["models"], models, strict=True):
        expected = model.kv.most_similar("t0w1", topn=7, metric=metric)
        assert answer["word"] == "t0w1"
        assert [(n["word"], pytest.approx(n["score"])) for n in answer["neighbors"]] == expected


def test_a_word_only_one_model_knows_is_an_error_of_that_model(url):
    status, body, _ = get(url, "/api/neighbors", word=HOSTILE, k=3)
    assert status == 200
    a, b = body["models"]
    assert "not in the vocabulary" in a["error"]
    assert len(b["neighbors"]) == 3


def test_an_unknown_word_is_404_with_suggestions(url):
    status, body, _ = get(url, "/api/neighbors", word="t0w1x")
    assert status == 404
    assert "not in the vocabulary" in body["error"]
    assert "t0w1" in body["models"][0]["suggestions"]


def test_similarity_is_cosine_and_euclidean(url, models):
    _, body, _ = get(url, "/api/similarity", a="t0w1", b="t3w2", model=1)
    [answer] = body["models"]
    kv = models[1].kv
    assert answer["cosine"] == pytest.approx(kv.similarity("t0w1", "t3w2"))
    distance = np.linalg.norm(kv["t0w1"].astype(np.float64) - kv["t3w2"])
    assert answer["euclidean"] == pytest.approx(distance)


@pytest.mark.parametrize("method", ["add", "mul"])
def test_analogy_is_the_vectors_own_answer(url, models, method):
    _, body, _ = get(url, "/api/analogy", a="t0w1", b="t1w1", c="t0w2", k=4, method=method)
    for answer, model in zip(body["models"], models, strict=True):
        expected = model.kv.analogy("t0w1", "t1w1", "t0w2", topn=4, method=method)
        assert [(x["word"], pytest.approx(x["score"])) for x in answer["answers"]] == expected


def test_map_of_the_most_frequent_words(url, models):
    status, body, _ = get(url, "/api/map", n=25, method="pca")
    assert status == 200
    for answer, model in zip(body["models"], models, strict=True):
        assert [p["word"] for p in answer["points"]] == model.kv.index_to_key[:25]
        assert all(p["group"] is None and not p["chosen"] for p in answer["points"])
    _, body, _ = get(url, "/api/map", n=limits.MAX_MAP_WORDS)  # more than the vocabulary
    assert [len(a["points"]) for a in body["models"]] == [60, 61]


def test_map_of_chosen_words_and_their_neighbours(url):
    _, body, _ = get(url, "/api/map", words="T0W1, t3w2", neighbors=4, model=0)
    points = body["models"][0]["points"]
    assert len(points) == 10
    assert [p["word"] for p in points if p["chosen"]] == ["t0w1", "t3w2"]
    assert [p["group"] for p in points] == [0] * 5 + [1] * 5


def test_tsne_maps_are_computed_once(models, monkeypatch):
    pytest.importorskip("sklearn")
    from w2v.serve import maps

    calls = []
    real = maps.project_2d
    monkeypatch.setattr(maps, "project_2d", lambda x, m: calls.append(m) or real(x, m))
    first = models[1].map_top(20, "tsne")
    again = models[1].map_top(20, "tsne")
    models[1].map_top(20, "pca")
    models[1].map_top(20, "pca")
    assert first == again
    assert calls == ["tsne", "pca", "pca"]


def test_run_shows_settings_loss_and_scores(url):
    status, body, _ = get(url, "/api/run")
    assert status == 200
    run, plain = body["models"]
    assert plain == {"model": 1}
    assert run["settings"]["epochs"] == 3 and run["corpus"] == "topics.txt"
    assert run["problems"] == []
    history = run["history"]
    assert len(history["step_words"]) <= limits.HISTORY_POINTS + 1  # 5,000 points thinned
    assert history["step_words"][-1] == 30_000  # the last point kept
    assert history["epoch_loss"] == pytest.approx([3.5, 3.3, 3.1])
    assert {s["benchmark"]: s["points"][-1] for s in run["eval"]} == {
        "ws353": [3, pytest.approx(0.3)],
        "google": [3, pytest.approx(0.1)],
    }


def test_a_corrupt_history_is_reported_and_the_rest_still_shown(tmp_path):
    run = write_run(tmp_path / "run", topic_vectors(1), steps=10)
    (run / "history.json").write_text("{not json")
    info = Model.load(str(run)).run()
    assert info["history"] is None and info["settings"]["dim"] == 16
    assert "history.json: corrupt" in info["problems"][0]


def test_evaluate_runs_bundled_benchmarks_only(url):
    status, body, _ = get(url, "/api/evaluate", benchmarks="rg65,msr", model=0)
    assert status == 200
    [answer] = body["models"]
    assert answer["table"].startswith("benchmark")
    assert [r["benchmark"] for r in answer["results"]] == ["rg65", "msr"]
    status, body, _ = get(url, "/api/evaluate", benchmarks="/etc/passwd")
    assert status == 400
    assert "unknown benchmark '/etc/passwd'" in body["error"]


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/api/neighbors", {}, "word is missing"),
        ("/api/neighbors", {"word": "   "}, "word is missing"),
        ("/api/neighbors", {"word": "t0w1", "k": 0}, "k must be a whole number from 1 to 100"),
        ("/api/neighbors", {"word": "t0w1", "k": 101}, "k must be a whole number from 1 to 100"),
        ("/api/neighbors", {"word": "t0w1", "k": "ten"}, "got 'ten'"),
        ("/api/neighbors", {"word": "t0w1", "k": "9" * 5000}, "k is too long"),
        ("/api/neighbors", {"word": "x" * 101}, "word is too long: at most 100 characters"),
        ("/api/neighbors", {"word": "t0w1", "metric": "dot"}, "metric must be 'cosine' or"),
        ("/api/neighbors", {"word": "t0w1", "model": 2}, "model must be a whole number from 0"),
        ("/api/analogy", {"a": "t0w1", "b": "t0w2"}, "c is missing"),
        ("/api/analogy", {"a": "x", "b": "y", "c": "z", "method": "sub"}, "method must be"),
        ("/api/map", {"n": 5001}, "n must be a whole number from 1 to 5000"),
        ("/api/map", {"method": "umap"}, "method must be 'pca' or 'tsne'"),
        ("/api/map", {"words": ",".join(["w"] * 51)}, "words: at most 50 words"),
        ("/api/map", {"words": "t0w1", "neighbors": 51}, "neighbors must be a whole number"),
        ("/api/map", {"words": "x" * 2001}, "words is too long: at most 2000 characters"),
        ("/api/complete", {"prefix": "t", "limit": 51}, "limit must be a whole number"),
        ("/api/similarity", {"a": "t0w1"}, "b is missing"),
    ],
)
def test_a_malformed_request_is_a_4xx_json_error(url, path, params, message):
    status, body, headers = get(url, path, **params)
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert message in body["error"]


def test_a_map_of_too_few_words_is_an_error_not_a_crash(url):
    status, body, _ = get(url, "/api/map", words="t0w1", neighbors=0, model=0)
    assert status == 400
    assert "needs at least 2 words" in body["error"]


def test_not_found_and_read_only(url):
    status, body, _ = get(url, "/api/nothing")
    assert status == 404 and "no such endpoint: /api/nothing" in body["error"]
    status, body, _ = get(url, "/etc/passwd")
    assert (status, body) == (404, {"error": "not found"})
    status, body, _ = get(url, "/static/../serve/app.py")
    assert status == 404
    for method in ("POST", "PUT", "DELETE"):
        status, body, _ = get(url, "/api/neighbors", http_method=method, word="t0w1")
        assert status == 405 and "read-only" in body["error"]


def test_a_bug_is_a_json_500_without_its_traceback(url, models, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret detail of the bug")

    monkeypatch.setattr(models[0], "neighbors", broken)
    status, body, _ = get(url, "/api/neighbors", word="t0w1")
    assert status == 500
    assert "internal error" in body["error"]
    assert "secret" not in str(body) and "Traceback" not in str(body)


def test_the_page_and_its_files_come_with_security_headers(url):
    status, html, headers = get(url, "/")
    assert status == 200 and "<title>w2v explorer</title>" in html
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    for name in ("app.js", "map.js", "run.js", "util.js", "style.css"):
        status, text, _ = get(url, f"/static/{name}")
        assert status == 200 and "innerHTML =" not in text  # words only ever as text


def test_a_server_on_loopback_answers_only_to_loopback_names(url):
    status, body, _ = get(url, "/api/info", headers={"Host": "evil.example:8765"})
    assert status == 400 and "evil.example" in body["error"]
    for host in ("localhost:1", "127.0.0.1", "[::1]:8765"):
        assert get(url, "/api/info", headers={"Host": host})[0] == 200


def test_one_or_two_models():
    with pytest.raises(W2VError, match="one or two models"):
        create_app([])


# -- the server ----------------------------------------------------------------------------------


def test_hosts_and_urls():
    assert server.is_loopback("127.0.0.1") and server.is_loopback("::1")
    assert server.is_loopback("localhost") and server.is_loopback("127.0.0.2")
    assert not server.is_loopback("0.0.0.0") and not server.is_loopback("example.org")
    assert server.allowed_hosts("0.0.0.0") is None
    assert "localhost" in server.allowed_hosts("127.0.0.1")
    with server.bind("127.0.0.1", 0) as sock:
        port = sock.getsockname()[1]
        assert server.url(sock, "127.0.0.1") == f"http://127.0.0.1:{port}/"
        assert server.url(sock, "0.0.0.0") == f"http://127.0.0.1:{port}/"
        with pytest.raises(W2VError, match=f"port {port} on 127.0.0.1 is in use"):
            server.bind("127.0.0.1", port)
    with pytest.raises(W2VError, match="from 0 to 65535"):
        server.bind("127.0.0.1", 70000)


# -- the command ---------------------------------------------------------------------------------


def test_w2v_serve_prints_the_url_and_serves_until_ctrl_c(run_dir, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "w2v", "serve", str(run_dir), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        line = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert found, line + proc.stderr.read()
        assert line.startswith(f"serving {run_dir} at ")
        status, body, _ = get(found.group(0), "/api/neighbors", word="t0w1", k=2)
        assert status == 200 and len(body["models"][0]["neighbors"]) == 2
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        finally:
            proc.kill()
    assert "Traceback" not in proc.stderr.read()


def test_w2v_serve_without_the_extra_says_how_to_install_it(run_dir, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "starlette", None)  # import starlette now fails
    assert main(["serve", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert 'pip install -e ".[serve]"' in err and "w2v[serve]" in err


def test_w2v_serve_warns_when_it_listens_beyond_this_machine(run_dir, monkeypatch, capsys):
    served = []
    monkeypatch.setattr(server, "bind", lambda host, port: socket.create_server(("127.0.0.1", 0)))
    monkeypatch.setattr(server, "run", lambda app, sockets: served.append(app))
    assert main(["serve", str(run_dir), "--host", "0.0.0.0"]) == 0
    captured = capsys.readouterr()
    assert "warning: --host 0.0.0.0 lets other machines open the page" in captured.err
    assert "serving" in captured.out and len(served) == 1
    assert main(["serve", str(run_dir), "--port", "0"]) == 0
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "{missing}"], "no such file or directory"),
        (["serve", "{run}", "--port", "99999"], "--port 99999: a port is a number from 0"),
        # a name no lookup can take (a label over 63 characters): refused without the network
        (["serve", "{run}", "--host", "x" * 64], f"--host {'x' * 64}: unknown host"),
    ],
)
def test_w2v_serve_user_errors_are_one_line(run_dir, tmp_path, capsys, argv, message):
    args = [a.format(run=run_dir, missing=tmp_path / "nope") for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_port_in_use_is_one_line(run_dir, capsys):
    with server.bind("127.0.0.1", 0) as taken:
        port = taken.getsockname()[1]
        start = time.perf_counter()
        assert main(["serve", str(run_dir), "--port", str(port)]) == 2
        assert time.perf_counter() - start < 5
    assert (
        f"port {port} on 127.0.0.1 is in use; pick another with --port N" in capsys.readouterr().err
    )
