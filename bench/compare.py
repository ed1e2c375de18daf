"""w2v against gensim on the same corpus, same settings, same machine, one sitting.

    python bench/compare.py                       # enwiki2015_text8style, skip-gram, 1 epoch
    python bench/compare.py --epochs 5 --model cbow --limit 2000000

Words/s is raw corpus tokens x epochs / training wall time; the vocabulary scan (ours:
tokenize + count + encode to the id cache; gensim: build_vocab) is timed separately.
Quality: Google analogies (3CosAdd, restricted to the 30,000 most frequent words), WS-353
and SimLex-999 in the main table; every bundled benchmark (w2v evaluate) in a second one.
Writes a markdown table to bench/results/. Needs gensim (the test extra).
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

import w2v
from w2v.evaluate import AnalogyResult, SimilarityResult, evaluate
from w2v.run import Run

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("W2V_SHARED_DATA", REPO.parent / "shared" / "data"))


def read_tokens(path: Path, limit: int | None) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        tokens = f.read().split()
    return tokens[:limit] if limit else tokens


def quality(kv) -> dict:
    """Every bundled benchmark, scored by w2v's evaluator (it agrees with gensim's own
    evaluate_word_pairs / evaluate_word_analogies; tests/test_evaluate.py holds it to that)."""
    if not isinstance(kv, w2v.KeyedVectors):  # gensim's
        kv = w2v.KeyedVectors(list(kv.index_to_key), kv.vectors)
    results = evaluate(kv, restrict_vocab=30000)
    scores = {r.benchmark: r.score for r in results}
    return {
        "analogy": 100 * scores["google"],
        "ws353": scores["ws353"],
        "simlex": scores["simlex999"],
        "results": results,
    }


def run_gensim(sentences, corpus_file: str | None, args) -> dict:
    from gensim.models import Word2Vec

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
    if corpus_file:
        model.build_vocab(corpus_file=corpus_file)
    else:
        model.build_vocab(sentences)
    scan = time.perf_counter() - t
    t = time.perf_counter()
    if corpus_file:
        model.train(
            corpus_file=corpus_file,
            epochs=args.epochs,
            total_examples=model.corpus_count,
            total_words=model.corpus_total_words,
        )
    else:
        model.train(sentences, epochs=args.epochs, total_examples=model.corpus_count)
    train = time.perf_counter() - t
    return {"scan": scan, "train": train, "vocab": len(model.wv), **quality(model.wv)}


def run_w2v(corpus: Path, args) -> dict:
    cfg = w2v.build_config(
        model=args.model,
        epochs=args.epochs,
        dim=args.dim,
        device=args.device,
        batch_size=args.batch_size,
        checkpoint_every=0,
    )
    run = Run(cfg, None)
    t = time.perf_counter()
    run.prepare(corpus)
    scan = time.perf_counter() - t
    trainer = run.make_trainer()
    t = time.perf_counter()
    trainer.train()
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    train = time.perf_counter() - t
    return {
        "scan": scan,
        "train": train,
        "vocab": len(run.vocab),
        "device": str(trainer.device),
        "batch": cfg.batch_size,
        **quality(run.finish()),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=DATA / "enwiki2015_text8style.gz")
    p.add_argument("--model", choices=["sg", "cbow"], default="sg")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--limit", type=int, help="use only the first WORDS tokens")
    p.add_argument("--workers", type=int, default=os.cpu_count())
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, help="w2v's centre words per step")
    p.add_argument("--skip-gensim", action="store_true", help="w2v only (e.g. on a GPU box)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = p.parse_args()

    tokens = read_tokens(args.corpus, args.limit)
    n_words = len(tokens)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        lines = [" ".join(tokens[i : i + 10000]) for i in range(0, n_words, 10000)]
        corpus.write_text("\n".join(lines) + "\n")
        sentences = [line.split() for line in lines]
        del tokens, lines
        os.environ.setdefault("W2V_CACHE_DIR", str(Path(tmp) / "cache"))
        ours = run_w2v(corpus, args)
        rows.append((f"w2v ({ours['device']}, batch {ours['batch']})", ours))
        if not args.skip_gensim:
            import gensim

            rows.append(
                (
                    f"gensim {gensim.__version__} corpus_file, workers={args.workers}",
                    run_gensim(None, str(corpus), args),
                )
            )
            rows.append(
                (
                    f"gensim {gensim.__version__} iterable, workers={args.workers}",
                    run_gensim(sentences, None, args),
                )
            )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    base = rows[0][1]["train"]
    header = (
        f"{args.corpus.name}, {n_words:,} words, {args.model}, {args.epochs} epoch(s), "
        f"dim {args.dim}, window 5, negative 5, sample 1e-3, min count 5; "
        f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}"
        + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else "")
    )
    table = [
        f"# {header}",
        "",
        f"`{' '.join([Path(sys.executable).name, *sys.argv])}`",
        "",
        "| run | vocab | scan s | train s | words/s | w2v speed / this "
        "| analogy % | WS-353 | SimLex |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows:
        wps = n_words * args.epochs / r["train"]
        table.append(
            f"| {name} | {r['vocab']:,} | {r['scan']:.1f} | {r['train']:.1f} | "
            f"{wps:,.0f} | {r['train'] / base:.2f} | {r['analogy']:.1f} | "
            f"{r['ws353']:.3f} | {r['simlex']:.3f} |"
        )
    table += [
        "",
        "Every bundled benchmark (`w2v evaluate`; analogies within the 30,000 most "
        "frequent words, 3CosAdd / 3CosMul):",
        "",
    ]
    table.append("| benchmark | " + " | ".join(name for name, _ in rows) + " |")
    table.append("|---" * (len(rows) + 1) + "|")
    for i, first in enumerate(rows[0][1]["results"]):
        cells = []
        for _, r in rows:
            res = r["results"][i]
            if isinstance(res, SimilarityResult):
                cells.append(f"{res.spearman:.3f} ({res.covered}/{res.total})")
            else:
                assert isinstance(res, AnalogyResult)
                add, mul = res.total.accuracy("add"), res.total.accuracy("mul")
                cells.append(
                    f"{100 * add:.1f} / {100 * mul:.1f} ({res.total.covered}/{res.total.total})"
                )
        label = first.benchmark + (" (rho)" if isinstance(first, SimilarityResult) else " (%)")
        table.append(f"| {label} | " + " | ".join(cells) + " |")
    table.append("")
    table.append(f"Peak resident memory of the whole benchmark process: {peak_mb:,.0f} MB.")
    text = "\n".join(table) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (args.out / f"compare-{args.model}-{args.epochs}ep-{stamp}.md").write_text(text)


if __name__ == "__main__":
    main()
