"""How w2v's time and memory grow: with the corpus, and with the vocabulary.

    python bench/scale.py                          # both studies, skip-gram, 1 epoch
    python bench/scale.py --study corpus --base-words 4000000 --model cbow
    python bench/scale.py --study vocab --vocab-sizes 10000,100000,1000000

corpus: the first --base-words words of enwiki2015_text8style trained as 1x, 2x and 4x that
size (the text repeated); training time should grow linearly and peak memory should not.
The words/s of the first and the second half of the epoch show whether training keeps an
even pace.

vocab: synthetic corpora whose vocabulary is exactly V words: every word 5 times (the
default min count) plus as many words again drawn from a Zipf law, shuffled, in lines of
1,000 words. Peak memory against V, beside the two embedding tables' own size.

Each training runs in its own process, so each peak resident memory is its own. Writes a
markdown table to bench/results/.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import LINE_TOKENS, cores, peak_rss_mb, report, run_child

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("W2V_SHARED_DATA", REPO.parent / "shared" / "data"))


def child(args: argparse.Namespace) -> None:
    import w2v
    from w2v.run import Run
    from w2v.trainer import Callback

    class Clock(Callback):
        def __init__(self) -> None:
            self.marks: list[tuple[float, int]] = []

        def on_train_begin(self, trainer) -> None:
            self.marks = [(time.perf_counter(), 0)]

        def on_batch_end(self, trainer, words: int) -> None:
            self.marks.append((time.perf_counter(), self.marks[-1][1] + words))

    clock = Clock()
    cfg = w2v.build_config(model=args.model, epochs=1, dim=args.dim, checkpoint_every=0)
    run = Run(cfg, None, [clock])
    t = time.perf_counter()
    run.prepare(Path(args.child_corpus))
    scan = time.perf_counter() - t
    trainer = run.make_trainer()
    t = time.perf_counter()
    trainer.train()
    train = time.perf_counter() - t
    times = np.array([m[0] for m in clock.marks])
    words = np.array([m[1] for m in clock.marks])
    # When half of the epoch's words were done (chunks finish in bursts, one per thread, so
    # the completion curve is interpolated): equal halves mean an even pace.
    t_half = float(np.interp(words[-1] / 2, words, times))
    halves = [
        float(words[-1] / 2 / max(t_half - times[0], 1e-9)),
        float(words[-1] / 2 / max(times[-1] - t_half, 1e-9)),
    ]
    out = {
        "words": int(trainer.words_per_epoch),
        "vocab": len(run.vocab),
        "scan": scan,
        "train": train,
        "halves": halves,
        "peak_mb": peak_rss_mb(),
    }
    report(out)


def train_child(corpus: Path, args: argparse.Namespace, cache: Path) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--model",
        args.model,
        "--dim",
        str(args.dim),
        "--child-corpus",
        str(corpus),
    ]
    env = dict(os.environ, W2V_CACHE_DIR=str(cache))
    return run_child(cmd, f"training {corpus.name}", env)


def write_lines(path: Path, tokens: list[str] | np.ndarray, line: int) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(0, len(tokens), line):
            f.write(" ".join(tokens[i : i + line]) + "\n")


def corpus_study(args: argparse.Namespace, tmp: Path) -> list[str]:
    with gzip.open(args.corpus, "rt", encoding="utf-8") as f:
        tokens = f.read().split()[: args.base_words]
    rows = [
        "| corpus | words | train s | words/s | s per million words | peak RSS MB "
        "| words/s, first half / second half of the epoch |",
        "|---|---|---|---|---|---|---|",
    ]
    for times in (1, 2, 4):
        path = tmp / f"corpus-{times}x.txt"
        write_lines(path, tokens * times, LINE_TOKENS)
        r = train_child(path, args, tmp / f"cache-{times}x")
        path.unlink()
        wps = r["words"] / r["train"]
        rows.append(
            f"| {times}x | {r['words']:,} | {r['train']:.1f} | {wps:,.0f} | "
            f"{1e6 * r['train'] / r['words']:.2f} | {r['peak_mb']:,.0f} | "
            f"{r['halves'][0]:,.0f} / {r['halves'][1]:,.0f} |"
        )
        print(rows[-1], file=sys.stderr)
    return rows


def zipf_corpus(vocab: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, vocab + 1)
    p = 1.0 / ranks
    extra = rng.choice(vocab, size=5 * vocab, p=p / p.sum())
    ids = np.concatenate([np.repeat(np.arange(vocab), 5), extra])
    rng.shuffle(ids)
    return ids


def vocab_study(args: argparse.Namespace, tmp: Path) -> list[str]:
    rows = [
        "| vocabulary | words | tables MB (2 x V x dim x 4 bytes) | train s | words/s "
        "| peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for vocab in args.vocab_sizes:
        names = np.array([f"w{i}" for i in range(vocab)])
        path = tmp / f"zipf-{vocab}.txt"
        write_lines(path, names[zipf_corpus(vocab)], 1000)
        r = train_child(path, args, tmp / f"cache-zipf-{vocab}")
        path.unlink()
        tables = 2 * r["vocab"] * args.dim * 4 / 2**20
        rows.append(
            f"| {r['vocab']:,} | {r['words']:,} | {tables:,.0f} | {r['train']:.1f} | "
            f"{r['words'] / r['train']:,.0f} | {r['peak_mb']:,.0f} |"
        )
        print(rows[-1], file=sys.stderr)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--study", choices=["corpus", "vocab", "both"], default="both")
    p.add_argument("--corpus", type=Path, default=DATA / "enwiki2015_text8style.gz")
    p.add_argument("--base-words", type=int, default=4_000_000)
    p.add_argument(
        "--vocab-sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[10_000, 100_000, 1_000_000],
    )
    p.add_argument("--model", choices=["sg", "cbow"], default="sg")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    p.add_argument("--child-corpus", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_corpus:
        child(args)
        return
    lines = [
        f"# w2v scaling: {args.model}, 1 epoch, dim {args.dim}, defaults otherwise; "
        f"{platform.machine()}, {cores()} cores",
        "",
        f"`python bench/scale.py {' '.join(sys.argv[1:])}`".replace(" `", "`"),
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        if args.study in ("corpus", "both"):
            lines += [f"Corpus size ({args.corpus.name}, repeated):", ""]
            lines += [*corpus_study(args, Path(tmp)), ""]
        if args.study in ("vocab", "both"):
            lines += ["Vocabulary size (synthetic Zipf corpora):", ""]
            lines += [*vocab_study(args, Path(tmp)), ""]
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"scale-{args.model}-{args.study}-cpu-{cores()}core.md"
    out.write_text(text)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
