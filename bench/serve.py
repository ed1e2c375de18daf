"""How fast `w2v serve` is usable, and how fast it answers, on a 100k-word model.

    python bench/serve.py                          # 100,000 x 300, binary and text, 3 rounds
    python bench/serve.py --words 100000 --dim 300 --formats binary --rounds 5 --queries 300

The model is synthetic: 100,000 words x 300 dimensions of seeded Gaussian noise, written in
word2vec's binary and text formats. What is timed (reading, normalising, one matrix-vector
product per query) depends on the table's shape, not on what the vectors learned.

(a) Start-up, whole processes: the clock starts before ``python -m w2v serve FILE --port
0`` is started. Marks: the URL printed (the vectors are loaded by then, and the caches a
query needs computed); from the URL, the page and everything it asks for before its first
paint answered over HTTP (index.html, its CSS and scripts, /api/info, the first map of 500
words) and a first neighbour query; and, where Chromium and Playwright are there, from the
URL to the page loaded in headless Chromium and ready (its first map drawn). The browser is
started, and shown one page, before the server, so its own start-up is not counted.

(b) Query time on one server: the ``Server-Timing`` header each API answer carries (the
handler and its JSON, not the network) and the round trip the client saw, over many queries
of random words; medians and 90th percentiles. Then the maps: PCA of 500 and 5,000 words,
and a t-SNE map of 1,000 words computed and then asked again (cached).

Writes a markdown table to bench/results/.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from w2v.vectors import KeyedVectors

REPO = Path(__file__).resolve().parents[1]
PAGE_FILES = ["", "static/style.css", "static/app.js", "static/util.js", "static/map.js"]
PAGE_FILES += ["static/run.js", "api/info", "api/map?n=500&method=pca"]
CHROMIUM = os.environ.get("W2V_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
QUERIES = {  # name -> path, {0} {1} {2} random words
    "neighbors cosine k=10": "api/neighbors?word={0}&k=10",
    "neighbors cosine k=100": "api/neighbors?word={0}&k=100",
    "neighbors euclidean k=10": "api/neighbors?word={0}&k=10&metric=euclidean",
    "similarity": "api/similarity?a={0}&b={1}",
    "analogy 3CosAdd k=5": "api/analogy?a={0}&b={1}&c={2}&k=5",
    "analogy 3CosMul k=5": "api/analogy?a={0}&b={1}&c={2}&k=5&method=mul",
    "complete (a 2-character prefix)": "api/complete?prefix={0:.2}",
}
MAPS = {  # name -> path, times asked
    "map of 500 words, PCA": ("api/map?n=500", 20),
    "map of 5,000 words, PCA": ("api/map?n=5000", 10),
    "map of 1,000 words, t-SNE, first": ("api/map?n=1000&method=tsne", 1),
    "map of 1,000 words, t-SNE, again (cached)": ("api/map?n=1000&method=tsne", 5),
}


def synthetic(words: int, dim: int, folder: Path) -> dict[str, Path]:
    rng = np.random.default_rng(1)
    vocab = [f"w{i}" for i in range(words)]
    kv = KeyedVectors(vocab, rng.standard_normal((words, dim), dtype=np.float32))
    files = {"binary": folder / "vectors.bin", "text": folder / "vectors.txt"}
    for kind, path in files.items():
        kv.save_word2vec_format(path, binary=kind == "binary")
    return files


def fetch(url: str) -> tuple[float, float]:
    """Round trip and the server's own time (Server-Timing), in ms."""
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as answer:
        answer.read()
        timing = answer.headers.get("Server-Timing") or ""
    elapsed = 1000 * (time.perf_counter() - start)
    found = re.search(r"dur=([0-9.]+)", timing)
    return elapsed, float(found.group(1)) if found else float("nan")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(path: Path) -> tuple[subprocess.Popen[str], str, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "w2v", "serve", str(path), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"http://\S+/", line)
    if not found:
        proc.kill()
        raise SystemExit(f"w2v serve printed no URL: {line!r}")
    return proc, found.group(0), time.perf_counter() - start


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def startup_round(path: Path, browser: Any) -> dict[str, float]:
    proc, url, to_url = start_server(path)
    printed = time.perf_counter()
    marks = {"url": to_url}
    try:
        for name in PAGE_FILES:
            fetch(url + name)
        fetch(f"{url}api/neighbors?word=w1&k=10")
        marks["http"] = time.perf_counter() - printed
        if browser is not None:
            page = browser.new_page()
            began = time.perf_counter()
            page.goto(url)
            page.wait_for_selector("body[data-ready=true]", timeout=60_000)
            marks["browser"] = time.perf_counter() - began
            page.close()
        marks["rss_mb"] = peak_rss_mb(proc.pid)
    finally:
        stop(proc)
    return marks


def launch_browser() -> tuple[Any, Any, str]:
    if not Path(CHROMIUM).is_file():
        return None, None, "no Chromium here, so no browser column"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None, None, "no Playwright here, so no browser column"
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    page = browser.new_page()  # the browser's very first page costs more: not counted
    page.set_content("<p>warm</p><canvas></canvas>")
    page.close()
    return playwright, browser, f"headless Chromium {browser.version}"


def startup_section(files: dict[str, Path], args: argparse.Namespace) -> list[str]:
    playwright, browser, note = launch_browser()
    lines = [
        "## (a) From `w2v serve FILE` started to the page usable",
        "",
        f"Browser: {note}. Medians of {args.rounds} rounds, whole processes.",
        "",
        "| vectors file | size MB | start to URL printed s | URL to page and first answers "
        "(HTTP) s | URL to page ready in Chromium s | server peak memory MB |",
        "|---|---|---|---|---|---|",
    ]
    try:
        for kind in args.formats.split(","):
            rounds = [startup_round(files[kind], browser) for _ in range(args.rounds)]

            def median(key: str, rounds: list[dict[str, float]] = rounds) -> str:
                values = [r[key] for r in rounds if key in r]
                return f"{statistics.median(values):.2f}" if values else "-"

            size = files[kind].stat().st_size / 2**20
            lines.append(
                f"| {kind} | {size:,.0f} | {median('url')} | {median('http')} "
                f"| {median('browser')} | {float(median('rss_mb')):,.0f} |"
            )
            print(lines[-1], file=sys.stderr)
    finally:
        if browser is not None:
            browser.close()
            playwright.stop()
    return lines


def query_section(path: Path, args: argparse.Namespace) -> list[str]:
    rng = np.random.default_rng(2)
    proc, url, _ = start_server(path)
    times: dict[str, list[tuple[float, float]]] = {}
    try:
        for _ in range(5):  # a few answers first: the thread pool, the sockets
            fetch(f"{url}api/neighbors?word=w1")
        for name, template in QUERIES.items():
            for _ in range(args.queries):
                words = [f"w{i}" for i in rng.integers(0, args.words, 3)]
                times.setdefault(name, []).append(fetch(url + template.format(*words)))
        for name, (query, repeat) in MAPS.items():
            times[name] = [fetch(url + query) for _ in range(repeat)]
    finally:
        stop(proc)
    lines = [
        "",
        f"## (b) Query time, {args.queries} random words each (the binary file's server)",
        "",
        "Server: the handler and its JSON (the Server-Timing header); round trip: what the "
        "client saw, over loopback HTTP. Maps: the same query repeated (a map is computed "
        "for every request except a t-SNE map, which is cached). The server runs numpy's "
        "BLAS on one thread (serve/server.py, one_blas_thread): with two, the same 500-word "
        "PCA took up to 600 ms while Chromium drew the page on the same two cores.",
        "",
        "| query | times | server median ms | server p90 ms | round trip median ms "
        "| round trip p90 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, pairs in times.items():
        trip, server = np.array(pairs).T
        cells = [np.median(server), np.percentile(server, 90)]
        cells += [np.median(trip), np.percentile(trip, 90)]
        lines.append(f"| {name} | {len(pairs)} | " + " | ".join(f"{c:,.1f}" for c in cells) + " |")
        print(lines[-1], file=sys.stderr)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--formats", default="binary,text", help="binary,text or one of them")
    parser.add_argument("--rounds", type=int, default=3, help="start-ups per format")
    parser.add_argument("--queries", type=int, default=200, help="queries of each kind")
    parser.add_argument("--output", default="serve-cpu-2core.md")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="w2v-serve-bench-"))
    try:
        files = synthetic(args.words, args.dim, folder)
        command = " ".join(["python bench/serve.py", *sys.argv[1:]])
        lines = [
            f"# w2v serve on {args.words:,} x {args.dim} synthetic vectors; "
            f"{platform.machine()}, {os.cpu_count()} cores",
            "",
            f"`{command}`",
            "",
            *startup_section(files, args),
            *query_section(files["binary"], args),
        ]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out = REPO / "bench" / "results" / args.output
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
