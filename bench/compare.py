"""w2v against gensim on the same corpus, same settings, same machine, one sitting.

    python bench/compare.py                       # enwiki2015_text8style, skip-gram, 1 epoch
    python bench/compare.py --epochs 5 --model cbow
    python bench/compare.py --limit 2000000 --repeat 3 --w2v-option engine=torch

Each run is its own process, so each has its own peak resident memory; with --repeat the
tools take turns (w2v, gensim corpus_file, gensim iterable, w2v, ...), so a drift of the
machine hits all of them alike.

Words/s is raw corpus tokens x epochs / training wall time; the vocabulary scan (ours:
tokenize + count + encode to the id cache; gensim: build_vocab) is timed separately. gensim
runs with workers = cores, from a corpus file (its fastest mode) and from a list of token
lists in memory (its plain iterable mode, which here scores higher). Quality: Google
analogies (3CosAdd, restricted to the 30,000 most frequent words), WS-353 and SimLex-999 in
the main table; every bundled benchmark (w2v evaluate) in a second one.
Writes a markdown table to bench/results/. Needs gensim (the test extra).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from common import cores, peak_rss_mb, report, run_child, write_corpus

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("W2V_SHARED_DATA", REPO.parent / "shared" / "data"))
TOOLS = ("w2v", "corpus_file", "iterable")
# The parent stays small (it never reads the corpus or imports torch; children do), and each
# child reports its own peak memory.


# -- one run, in a child process -------------------------------------------------------------


def quality(kv) -> dict:
    """Every bundled benchmark, scored by w2v's evaluator (it agrees with gensim's own
    evaluate_word_pairs / evaluate_word_analogies; tests/test_evaluate.py holds it to that)."""
    import w2v
    from w2v.evaluate import DEFAULT_RESTRICT_VOCAB, AnalogyResult, evaluate

    if not isinstance(kv, w2v.KeyedVectors):  # gensim's
        kv = w2v.KeyedVectors(list(kv.index_to_key), kv.vectors)
    cells = {}
    for r in evaluate(kv, restrict_vocab=DEFAULT_RESTRICT_VOCAB):
        if isinstance(r, AnalogyResult):
            add, mul = r.total.accuracy("add"), r.total.accuracy("mul")
            cells[r.benchmark] = {
                "kind": "analogy",
                "add": add,
                "mul": mul,
                "covered": r.total.covered,
                "total": r.total.total,
            }
        else:
            cells[r.benchmark] = {
                "kind": "similarity",
                "rho": r.spearman,
                "covered": r.covered,
                "total": r.total,
            }
    return cells


def child_gensim(corpus: Path, args: argparse.Namespace, from_file: bool) -> dict:
    import gensim
    from gensim.models import Word2Vec

    sentences = None
    if not from_file:
        with open(corpus, encoding="utf-8") as f:
            sentences = [line.split() for line in f]
    model = Word2Vec(
        vector_size=args.dim,
        window=5,
        negative=5,
        sample=1e-3,
        min_count=5,
        sg=int(args.model == "sg"),
        workers=args.workers,
        seed=1,
    )
    t = time.perf_counter()
    if from_file:
        model.build_vocab(corpus_file=str(corpus))
    else:
        model.build_vocab(sentences)
    scan = time.perf_counter() - t
    t = time.perf_counter()
    if from_file:
        model.train(
            corpus_file=str(corpus),
            epochs=args.epochs,
            total_examples=model.corpus_count,
            total_words=model.corpus_total_words,
        )
    else:
        model.train(sentences, epochs=args.epochs, total_examples=model.corpus_count)
    train = time.perf_counter() - t
    mode = "corpus_file" if from_file else "iterable (token lists in memory)"
    return {
        "name": f"gensim {gensim.__version__} {mode}, workers={args.workers}",
        "scan": scan,
        "train": train,
        "vocab": len(model.wv),
        "quality": quality(model.wv),
    }


def child_w2v(corpus: Path, args: argparse.Namespace) -> dict:
    import w2v
    from w2v.run import Run

    options = dict(parse_option(o) for o in args.w2v_option)
    cfg = w2v.build_config(
        model=args.model, epochs=args.epochs, dim=args.dim, checkpoint_every=0, **options
    )
    run = Run(cfg, None)
    t = time.perf_counter()
    run.prepare(corpus)
    scan = time.perf_counter() - t
    trainer = run.make_trainer()
    t = time.perf_counter()
    trainer.compile()  # numba's one-time compile (cached after the first run), timed apart
    compile_s = time.perf_counter() - t
    t = time.perf_counter()
    trainer.train()
    gpu = None
    if trainer.device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
        gpu = torch.cuda.get_device_name()
    train = time.perf_counter() - t
    where = str(trainer.device)
    if trainer.engine_name == "numba":
        threads = 1 if cfg.deterministic else (cfg.threads or cores())
        where += f", numba, {threads} threads"
    else:
        where += f", torch, batch {cfg.batch_size}"
    extra = "".join(f", {k}={v}" for k, v in options.items() if k not in ("threads",))
    return {
        "name": f"w2v {w2v.__version__} ({where}{extra})",
        "scan": scan,
        "compile": compile_s,
        "train": train,
        "vocab": len(run.vocab),
        "gpu": gpu,
        "quality": quality(run.finish()),
    }


def parse_option(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    for kind in (int, float):
        try:
            return key, kind(value)
        except ValueError:
            pass
    if value.lower() in ("true", "false"):
        return key, value.lower() == "true"
    return key, value


def child(args: argparse.Namespace) -> None:
    corpus = Path(args.child_corpus)
    if args.child == "write":
        n_words = write_corpus(args.corpus, args.limit, corpus)
        report({"words": n_words})
        return
    os.environ.setdefault("W2V_CACHE_DIR", str(corpus.parent / "cache"))
    if args.child == "w2v":
        out = child_w2v(corpus, args)
    else:
        out = child_gensim(corpus, args, from_file=args.child == "corpus_file")
    out["peak_mb"] = peak_rss_mb()
    report(out)


# -- the sitting -----------------------------------------------------------------------------


def run_tool(tool: str, corpus: Path, argv: list[str]) -> dict:
    cmd = [sys.executable, __file__, *argv, "--child", tool, "--child-corpus", str(corpus)]
    return run_child(cmd, f"{tool} run")


def table(rows: list[dict], n_words: int, args: argparse.Namespace) -> list[str]:
    base = (
        statistics.median(r["train"] for r in rows if r["tool"] == "w2v")
        if any(r["tool"] == "w2v" for r in rows)
        else None
    )
    out = [
        "| run | vocab | scan s | compile s | train s | words/s | w2v speed / this "
        "| peak RSS MB | analogy % | WS-353 | SimLex |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        q = r["quality"]
        wps = n_words * args.epochs / r["train"]
        ratio = f"{r['train'] / base:.2f}" if base else "-"
        out.append(
            f"| {r['name']} | {r['vocab']:,} | {r['scan']:.1f} | {r.get('compile', 0):.1f} | "
            f"{r['train']:.1f} | "
            f"{wps:,.0f} | {ratio} | {r['peak_mb']:,.0f} | {100 * q['google']['add']:.1f} | "
            f"{q['ws353']['rho']:.3f} | {q['simlex999']['rho']:.3f} |"
        )
    return out


def every_benchmark(rows: list[dict]) -> list[str]:
    names = [f"{r['name'].split(' (')[0].split(',')[0]} #{i + 1}" for i, r in enumerate(rows)]
    out = ["| benchmark | " + " | ".join(names) + " |", "|---" * (len(rows) + 1) + "|"]
    for bench, first in rows[0]["quality"].items():
        cells = []
        for r in rows:
            c = r["quality"][bench]
            if c["kind"] == "analogy":
                cells.append(
                    f"{100 * c['add']:.1f} / {100 * c['mul']:.1f} ({c['covered']}/{c['total']})"
                )
            else:
                cells.append(f"{c['rho']:.3f} ({c['covered']}/{c['total']})")
        label = bench + (" (%)" if first["kind"] == "analogy" else " (rho)")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=DATA / "enwiki2015_text8style.gz")
    p.add_argument("--model", choices=["sg", "cbow"], default="sg")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--limit", type=int, help="use only the first WORDS tokens")
    p.add_argument("--workers", type=int, default=cores(), help="gensim's worker threads")
    p.add_argument(
        "--tools",
        default=",".join(TOOLS),
        help=f"comma-separated, in the order they take turns (from {', '.join(TOOLS)})",
    )
    p.add_argument("--repeat", type=int, default=1, help="rounds of taking turns")
    p.add_argument(
        "--w2v-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a w2v training option, e.g. engine=torch, negative_sharing=pair, device=cuda",
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
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        n_words = run_tool("write", corpus, child_argv)["words"]
        for round_ in range(args.repeat):
            for tool in tools:
                r = run_tool(tool, corpus, child_argv)
                r["tool"] = tool
                rows.append(r)
                wps = n_words * args.epochs / r["train"]
                print(f"round {round_ + 1}: {r['name']}: {wps:,.0f} words/s", file=sys.stderr)

    header = (
        f"{args.corpus.name}, {n_words:,} words, {args.model}, {args.epochs} epoch(s), "
        f"dim {args.dim}, window 5, negative 5, sample 1e-3, min count 5; "
        f"{platform.machine()}, {cores()} cores, torch {version('torch')}"
        + "".join(sorted({f", {r['gpu']}" for r in rows if r.get("gpu")}))
    )
    lines = [
        f"# {header}",
        "",
        f"`python bench/compare.py {' '.join(sys.argv[1:])}`".replace(" `", "`"),
        "",
        *table(rows, n_words, args),
        "",
        "Every bundled benchmark (`w2v evaluate`; analogies within the 30,000 most "
        "frequent words, 3CosAdd / 3CosMul):",
        "",
        *every_benchmark(rows),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    name = args.name or f"compare-{args.model}-{args.epochs}ep{run_tag(args, rows)}"
    out = args.out / (name if name.endswith(".md") else name + ".md")
    out.write_text(text)
    print(f"wrote {out}", file=sys.stderr)


def run_tag(args: argparse.Namespace, rows: list[dict]) -> str:
    """Names a result by what it measured, so a rerun replaces its own file only."""
    limit = f"-{args.limit}w" if args.limit else ""
    gpus = [r["gpu"] for r in rows if r.get("gpu")]
    if gpus:
        return f"{limit}-{gpus[0].split()[-1].lower()}"
    return f"{limit}-cpu-{cores()}core"


if __name__ == "__main__":
    main()
