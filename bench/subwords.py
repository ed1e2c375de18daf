"""Subword training: w2v against fastText's own trainer and gensim's FastText, one sitting.

Same corpus, same settings, same machine, each tool in a process of its own.

    python bench/subwords.py                             # enwiki2015_text8style, sg, 5 epochs
    python bench/subwords.py --limit 2000000 --epochs 1  # a quick look
    python bench/subwords.py --tools fasttext,gensim     # a subset, in this order
    python bench/subwords.py --w2v-arg=--checkpoint-every --w2v-arg=0

Settings, the same for every tool (flags change them): skip-gram, dim 100, window 5,
negative 5, n-grams of 3 to 6 characters in 2,000,000 buckets, sample 1e-4, min count 5,
5 epochs, threads = the machine's cores, learning rate 0.05 (set explicitly: gensim's default
is 0.025). Every tool reads the same plain-text file: the first --limit words of the corpus
in lines of 10,000 words, written once. The tools:

* fastText: ``fasttext.train_unsupervised(...)`` (the ``fasttext`` PyPI package, fastText's
  C++ trainer), then ``save_model`` (.bin). fastText cuts lines into sentences of at most
  1,024 words and counts the end of a line as a word (``</s>``, left out of the scoring).
* gensim: ``gensim.models.FastText`` from ``corpus_file`` (its fastest mode), then ``save``.
* w2v: ``python -m w2v train PATH -o RUN --subwords --minn 3 --maxn 6 --bucket 2000000
  --model sg ... --alpha 0.05 -q --cache-dir TMP`` (plus any --w2v-arg), run in a child
  process through ``w2v.cli.main``.

What each clock covers. "train s": fastText, the whole ``train_unsupervised`` call (its own
pass over the file to count words and hash their n-grams, then training; it cannot be split);
gensim, ``train`` alone (``build_vocab`` and the n-gram table's allocation are "scan s");
w2v, the sum of the epochs' seconds in the run's history.json (not the scan, not numba's
compile, not checkpoints). Words/s is corpus words x epochs / train s. "process s" is the
child process from its launch until the model is trained and written (fastText's .bin,
gensim's saved model; w2v's whole ``train`` command, checkpoints and vectors included):
Python's start, imports, scan, training and saving. Peak MB is the child's own peak resident
memory (VmHWM) at that same moment, before any scoring. (fastText 0.9.3 fills only the first
threads x 10 % of its input rows with random values, ``DenseMatrix::uniform``; the other
n-gram rows start at zero, and stay out of its resident memory until training touches them.)

Quality, scored by w2v's evaluator (as bench/compare.py does): Google analogies (3CosAdd,
within the 30,000 most frequent words; total, semantic, syntactic), WS-353, SimLex-999 and
Stanford Rare Words (Spearman's rho), each twice:

* in-vocabulary: the model's own words, their full (word + n-grams) vectors, frequency order;
* OOV from subwords: the same words, then every benchmark word the vocabulary lacks
  (matched case-insensitively, as the evaluator does; lowercased, as the corpus is, and as
  fastText's own eval.py does), its vector computed from its n-grams (fastText
  ``get_word_vector``, gensim ``wv[word]``). They come after the vocabulary, so analogies
  still look among the 30,000 most frequent words only, except on a slice whose vocabulary
  is smaller than that. w2v: ``w2v evaluate RUN --json``, plain and with ``--oov subwords``.

The coverage table says how many pairs and questions each row scored.
Writes bench/results/subwords-<model>-<epochs>ep[-<limit>w]-cpu-<cores>core.md.
Needs gensim (the test extra) and fasttext (``pip install fasttext``; without it, the other
tools still run and the file says so).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from common import cores, peak_rss_mb, report, run_child, write_corpus

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("W2V_SHARED_DATA", REPO.parent / "shared" / "data"))
TOOLS = ("fasttext", "gensim", "w2v")
BENCHES = ("google", "ws353", "simlex999", "rw")
MODES = ("in-vocab", "oov")
MODE_NAMES = {"in-vocab": "in-vocabulary", "oov": "OOV from subwords"}


# -- scoring ---------------------------------------------------------------------------------


def benchmark_words() -> list[str]:
    """Every word of the scored benchmarks, as spelled there, in a fixed order."""
    from w2v.evaluate import Analogies, load_benchmark

    words: dict[str, None] = {}
    for name in BENCHES:
        data = load_benchmark(name)
        if isinstance(data, Analogies):
            for _, questions in data.sections:
                for q in questions:
                    for w in (q.a, *q.b, q.c, *q.d):
                        words[w] = None
        else:
            for a, b, _ in data.pairs:
                words[a] = words[b] = None
    return list(words)


def missing_words(vocab: list[str]) -> list[str]:
    """The benchmark words the vocabulary lacks (case-insensitively), lowercased, once each."""
    known = {w.upper() for w in vocab}
    out: dict[str, None] = {}
    for w in benchmark_words():
        if w.upper() not in known:
            out[w.lower()] = None
    return list(out)


def score(words: list[str], vectors) -> list[dict]:
    """w2v's evaluator on these vectors (rows in frequency order), as `w2v evaluate --json`
    reports it."""
    import w2v
    from w2v.evaluate import DEFAULT_RESTRICT_VOCAB, evaluate, to_json

    kv = w2v.KeyedVectors(words, vectors)
    return to_json(
        evaluate(kv, list(BENCHES), restrict_vocab=DEFAULT_RESTRICT_VOCAB, methods=("add",))
    )


def both_modes(vocab: list[str], vector_of) -> dict:
    """In-vocabulary and OOV-from-subwords scores of a model whose word vectors
    ``vector_of(word)`` gives, for its vocabulary ``vocab`` (frequency order)."""
    import numpy as np

    extra = missing_words(vocab)
    table = np.stack([vector_of(w) for w in vocab + extra]).astype(np.float32)
    return {
        "in-vocab": score(vocab, table[: len(vocab)]),
        "oov": score(vocab + extra, table),
        "oov_words": len(extra),
    }


# -- one tool, in a child process ------------------------------------------------------------


def child_fasttext(corpus: Path, args: argparse.Namespace) -> dict:
    try:
        import fasttext
    except ImportError:
        raise SystemExit("fasttext is not installed (pip install fasttext)") from None

    t = time.perf_counter()
    model = fasttext.train_unsupervised(
        input=str(corpus),
        model="skipgram" if args.model == "sg" else "cbow",
        dim=args.dim,
        ws=args.window,
        neg=args.negative,
        minn=args.minn,
        maxn=args.maxn,
        bucket=args.bucket,
        t=args.sample,
        minCount=args.min_count,
        epoch=args.epochs,
        thread=args.threads,
        lr=args.lr,
        verbose=0,
    )
    train = time.perf_counter() - t
    model.save_model(str(corpus.parent / "fasttext.bin"))
    done, peak = time.time(), peak_rss_mb()
    vocab = [w for w in model.get_words() if w != "</s>"]  # get_words: most frequent first
    return {
        "name": f"fastText {version('fasttext')} (train_unsupervised, {args.threads} threads)",
        "train": train,
        "scan": None,
        "done": done,
        "peak_mb": peak,
        "vocab": len(vocab),
        "quality": both_modes(vocab, model.get_word_vector),
    }


def child_gensim(corpus: Path, args: argparse.Namespace) -> dict:
    import gensim
    from gensim.models import FastText

    model = FastText(
        sg=int(args.model == "sg"),
        vector_size=args.dim,
        window=args.window,
        negative=args.negative,
        min_n=args.minn,
        max_n=args.maxn,
        bucket=args.bucket,
        sample=args.sample,
        min_count=args.min_count,
        epochs=args.epochs,
        workers=args.threads,
        alpha=args.lr,
    )
    t = time.perf_counter()
    model.build_vocab(corpus_file=str(corpus))
    scan = time.perf_counter() - t
    t = time.perf_counter()
    model.train(
        corpus_file=str(corpus),
        epochs=args.epochs,
        total_examples=model.corpus_count,
        total_words=model.corpus_total_words,
    )
    train = time.perf_counter() - t
    model.save(str(corpus.parent / "gensim.model"))
    done, peak = time.time(), peak_rss_mb()
    wv = model.wv
    return {
        "name": f"gensim {gensim.__version__} FastText (corpus_file, workers={args.threads})",
        "train": train,
        "scan": scan,
        "done": done,
        "peak_mb": peak,
        "vocab": len(wv),
        "quality": both_modes(list(wv.index_to_key), lambda w: wv[w]),
    }


def w2v_train_argv(corpus: Path, run: Path, args: argparse.Namespace) -> list[str]:
    return [
        "train", str(corpus), "-o", str(run),
        "--subwords", "--minn", str(args.minn), "--maxn", str(args.maxn),
        "--bucket", str(args.bucket),
        "--model", args.model, "--dim", str(args.dim), "--window", str(args.window),
        "--negative", str(args.negative), "--sample", str(args.sample),
        "--min-count", str(args.min_count), "--epochs", str(args.epochs),
        "--threads", str(args.threads), "--alpha", str(args.lr),
        "-q", "--cache-dir", str(corpus.parent / "cache"),
        *args.w2v_arg,
    ]  # fmt: skip


def w2v_evaluate(run: Path, *more: str) -> tuple[list[dict] | str, int | None]:
    """`w2v evaluate RUN --json` on the scored benchmarks: its results (or why it failed)
    and the number of words it scored with."""
    proc = subprocess.run(
        [sys.executable, "-m", "w2v", "evaluate", str(run), "--json",
         "-b", ",".join(BENCHES), "--method", "add", *more],
        capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return f"`w2v evaluate {' '.join(more)}` failed: {last}", None
    found = json.loads(proc.stdout)
    return found["results"], found.get("words")


def child_w2v(corpus: Path, args: argparse.Namespace) -> dict:
    import w2v
    from w2v.cli import main as w2v_main

    run = corpus.parent / "w2v-run"
    code = w2v_main(w2v_train_argv(corpus, run, args))
    if code != 0:
        raise SystemExit(f"w2v train failed (exit {code})")
    done, peak = time.time(), peak_rss_mb()
    history = json.loads((run / "history.json").read_text())
    plain, words = w2v_evaluate(run)
    oov, words_oov = w2v_evaluate(run, "--oov", "subwords")
    added = words_oov - words if words and words_oov and words_oov > words else None
    with open(run / "vocab.tsv", encoding="utf-8") as f:
        vocab = sum(1 for _ in f) - 1  # under a header line
    return {
        "name": f"w2v {w2v.__version__} (numba, {args.threads} threads)",
        "train": sum(history["epoch_seconds"]),
        "scan": None,
        "done": done,
        "peak_mb": peak,
        "vocab": vocab,
        "quality": {"in-vocab": plain, "oov": oov, "oov_words": added},
    }


def child(args: argparse.Namespace) -> None:
    corpus = Path(args.child_corpus)
    if args.child == "write":
        report({"words": write_corpus(args.corpus, args.limit, corpus)})
        return
    os.environ.setdefault("W2V_CACHE_DIR", str(corpus.parent / "cache"))
    out = {"fasttext": child_fasttext, "gensim": child_gensim, "w2v": child_w2v}[args.child](
        corpus, args
    )
    report(out)


# -- the sitting -----------------------------------------------------------------------------


def cells(results: list[dict] | str) -> dict:
    """The table's scores and coverage from `w2v evaluate --json` results."""
    if isinstance(results, str):
        return {"error": results}
    out: dict = {}
    for r in results:
        if r["kind"] == "similarity":
            out[r["benchmark"]] = (r["spearman"], r["covered"], r["total"])
            continue
        parts = [r["total"], *r["groups"]]
        for part in parts:
            key = r["benchmark"] + ("" if part is r["total"] else "-" + part["name"])
            out[key] = (part["3CosAdd"]["accuracy"], part["covered"], part["total"])
    return out


SCORE_COLUMNS = (
    ("google", "Google %"),
    ("google-semantic", "sem %"),
    ("google-syntactic", "syn %"),
    ("ws353", "WS-353"),
    ("simlex999", "SimLex"),
    ("rw", "RW"),
)
COVER_LABELS = {"google": "Google", "ws353": "WS-353", "simlex999": "SimLex-999", "rw": "RW"}


def fmt_score(key: str, cell) -> str:
    if cell is None or cell[0] is None:
        return "-"
    return f"{100 * cell[0]:.1f}" if key.startswith("google") else f"{cell[0]:.3f}"


def tables(rows: list[dict], n_words: int, args: argparse.Namespace) -> list[str]:
    base = next((r for r in rows if r["tool"] == "fasttext"), None)
    base_wps = n_words * args.epochs / base["train"] if base else None
    head = "| tool | scoring | vocab | words/s | x fastText | scan s | train s | process s | "
    head += "peak MB | "
    out = [
        head + " | ".join(label for _, label in SCORE_COLUMNS) + " |",
        "|---" * (9 + len(SCORE_COLUMNS)) + "|",
    ]
    cover = [
        "| tool | scoring | words added | "
        + " | ".join(COVER_LABELS[key] for key, _ in SCORE_COLUMNS if "-" not in key)
        + " |",
        "|---" * 7 + "|",
    ]
    for r in rows:
        wps = n_words * args.epochs / r["train"]
        ratio = f"{wps / base_wps:.2f}" if base_wps else "-"
        scan = "-" if r["scan"] is None else f"{r['scan']:.1f}"
        speed = (
            f"{r['vocab']:,} | {wps:,.0f} | {ratio} | {scan} | {r['train']:.1f} | "
            f"{r['process']:.1f} | {r['peak_mb']:,.0f}"
        )
        for mode in MODES:
            c = cells(r["quality"][mode])
            if "error" in c:
                scores = f"{c['error']} |" + " |" * (len(SCORE_COLUMNS) - 1)
                covered = "- | " + " | ".join("-" for _ in range(4))
            else:
                scores = " | ".join(fmt_score(k, c.get(k)) for k, _ in SCORE_COLUMNS) + " |"
                added = r["quality"].get("oov_words")
                covered = ("-" if mode == "in-vocab" or added is None else f"{added:,}") + " | "
                covered += " | ".join(
                    f"{c[k][1]:,}/{c[k][2]:,}" for k, _ in SCORE_COLUMNS if "-" not in k
                )
            out.append(f"| {r['name']} | {MODE_NAMES[mode]} | {speed} | {scores}")
            cover.append(f"| {r['name']} | {MODE_NAMES[mode]} | {covered} |")
            speed = " | ".join("" for _ in range(7))  # one run: its speed once
    return [*out, "", "Coverage (pairs or questions scored / in the set):", "", *cover]


def targets(rows: list[dict], n_words: int, args: argparse.Namespace) -> list[str]:
    line = (
        "Targets: w2v >= 1.5x fastText's words/s; every score within 1 point (analogies) / "
        "0.01 (rho) of fastText's."
    )
    by = {r["tool"]: r for r in rows}
    if "w2v" not in by or "fasttext" not in by:
        return [line]
    out = [line, ""]
    speed = by["fasttext"]["train"] / by["w2v"]["train"]
    out.append(f"- speed: w2v {speed:.2f}x fastText ({'met' if speed >= 1.5 else 'not met'})")
    for mode in MODES:
        ours, theirs = cells(by["w2v"]["quality"][mode]), cells(by["fasttext"]["quality"][mode])
        if "error" in ours or "error" in theirs:
            out.append(f"- {MODE_NAMES[mode]}: not scored")
            continue
        gaps, met = [], True
        for key, label in SCORE_COLUMNS:
            a, b = ours.get(key), theirs.get(key)
            if not a or not b or a[0] is None or b[0] is None:
                continue
            gap = a[0] - b[0]
            limit = 0.01
            if key.startswith("google"):
                gap, limit = 100 * gap, 1.0
            met &= gap >= -limit  # better than fastText counts as met
            gaps.append(f"{label} {gap:+.{1 if key.startswith('google') else 3}f}")
        verdict = "met" if met else "not met"
        out.append(f"- {MODE_NAMES[mode]}, w2v - fastText: {', '.join(gaps)} ({verdict})")
    return out


def tool_version(name: str) -> str:
    try:
        return f"{name} {version(name)}"
    except PackageNotFoundError:
        return f"{name} not installed"


def run_tag(args: argparse.Namespace) -> str:
    limit = f"-{args.limit}w" if args.limit else ""
    return f"subwords-{args.model}-{args.epochs}ep{limit}-cpu-{cores()}core"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=DATA / "enwiki2015_text8style.gz")
    p.add_argument("--limit", type=int, help="use only the first WORDS tokens")
    p.add_argument("--model", choices=["sg", "cbow"], default="sg")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--minn", type=int, default=3, help="shortest character n-gram")
    p.add_argument("--maxn", type=int, default=6, help="longest character n-gram")
    p.add_argument("--bucket", type=int, default=2_000_000, help="n-gram hash buckets")
    p.add_argument("--sample", type=float, default=1e-4)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=cores(), help="every tool's threads")
    p.add_argument("--lr", type=float, default=0.05, help="initial learning rate, every tool")
    p.add_argument(
        "--tools",
        default=",".join(TOOLS),
        help=f"comma-separated, run in this order (from {', '.join(TOOLS)})",
    )
    p.add_argument(
        "--w2v-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="one more argument for `w2v train` (repeat; e.g. --w2v-arg=--checkpoint-every "
        "--w2v-arg=0)",
    )
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    p.add_argument("--name", help="file name of the result (default: from the settings)")
    p.add_argument("--child", choices=[*TOOLS, "write"], help=argparse.SUPPRESS)
    p.add_argument("--child-corpus", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    if not tools or any(t not in TOOLS for t in tools):
        p.error(f"--tools: choose from {', '.join(TOOLS)}")
    child_argv = list(sys.argv[1:])
    rows, failed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        cmd = [sys.executable, __file__, *child_argv, "--child-corpus", str(corpus)]
        n_words = run_child([*cmd, "--child", "write"], "writing the corpus")["words"]
        for tool in tools:
            started = time.time()
            try:
                r = run_child([*cmd, "--child", tool], f"{tool} run")
            except SystemExit as stop:  # said why on stderr; the others still run
                failed.append(f"{tool}: {stop.code}")
                print(f"{tool}: {stop.code}", file=sys.stderr)
                continue
            for leftover in Path(tmp).glob(f"{tool}*"):  # the saved models: GBs on disk
                if leftover.is_dir():
                    shutil.rmtree(leftover)
                else:
                    leftover.unlink()
            r["tool"], r["process"] = tool, r["done"] - started
            rows.append(r)
            wps = n_words * args.epochs / r["train"]
            print(f"{r['name']}: {wps:,.0f} words/s", file=sys.stderr)

    machine = f"{platform.machine()}, {cores()} cores; " + ", ".join(
        tool_version(n) for n in ("fasttext", "gensim", "numpy")
    )
    header = (
        f"{args.corpus.name}, {n_words:,} words, {args.model}, {args.epochs} epoch(s), "
        f"dim {args.dim}, window {args.window}, negative {args.negative}, "
        f"n-grams {args.minn}-{args.maxn} in {args.bucket:,} buckets, sample {args.sample:g}, "
        f"min count {args.min_count}, lr {args.lr:g}, {args.threads} threads; {machine}"
    )
    lines = [
        f"# {header}",
        "",
        f"`python bench/subwords.py {' '.join(sys.argv[1:])}`".replace(" `", "`"),
        "",
        *targets(rows, n_words, args),
        "",
        "Words/s: corpus words x epochs / train s (fastText: its whole train_unsupervised "
        "call, vocabulary pass included; gensim and w2v: training only). Process s: the "
        "child process from launch until the model is trained and saved. Scores: Google "
        "analogies 3CosAdd within the 30,000 most frequent words (%), Spearman's rho "
        "otherwise; OOV rows add the benchmark words the vocabulary lacks, computed from "
        "their n-grams.",
        "",
        *(tables(rows, n_words, args) if rows else ["No tool ran."]),
        "",
    ]
    if failed:
        lines += ["Did not run:", "", *[f"- {f}" for f in failed], ""]
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    name = args.name or run_tag(args)
    out = args.out / (name if name.endswith(".md") else name + ".md")
    out.write_text(text)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
