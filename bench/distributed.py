"""w2v alone against w2v on several ranks (torchrun), same corpus, same settings, one sitting.

    python bench/distributed.py         # enwiki2015_text8style, sg, 5 epochs, 1 and 2 ranks
    python bench/distributed.py --limit 4000000 --epochs 1 --sync-words 262144,1048576

Each run is `w2v train` (alone) or `torchrun --standalone --nproc-per-node N -m w2v train`,
with the cores split between the ranks (threads per rank = cores / ranks). Words/s is raw
corpus tokens x epochs / the training seconds of rank 0 (history.json, which counts the
averagings of the tables); the scan (each rank tokenizes and counts its share, then the
counts are summed) is the rest of the wall time. Quality as in compare.py: Google analogies
(3CosAdd, 30,000 most frequent words), WS-353, SimLex-999.
Writes a markdown table to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from common import cores, write_corpus

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("W2V_SHARED_DATA", REPO.parent / "shared" / "data"))


def train(corpus: Path, out: Path, ranks: int, args: argparse.Namespace, sync: int) -> dict:
    flags = ["train", str(corpus), "-o", str(out), "--quiet", "--model", args.model,
             "--epochs", str(args.epochs), "--sync-words", str(sync)]  # fmt: skip
    if ranks == 1:
        cmd = [sys.executable, "-m", "w2v", *flags]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node", str(ranks), "-m", "w2v", *flags]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"{ranks} rank(s) failed (exit {proc.returncode})")
    from w2v.rundir import RunDir, read_config

    history = json.loads(RunDir(out).history.read_text())
    config = read_config(out)
    seconds = sum(history["epoch_seconds"])
    return {"wall": wall, "train": seconds, "tokens": config["stats"]["tokens"]}


def quality(run: Path) -> dict:
    """Google analogies (3CosAdd, 30k), WS-353 and SimLex-999 of a run's vectors."""
    import w2v
    from w2v.evaluate import DEFAULT_RESTRICT_VOCAB, AnalogyResult, evaluate, load_benchmark

    sets = [load_benchmark(name) for name in ("google", "ws353", "simlex999")]
    scores = {}
    for r in evaluate(w2v.load(run), sets, restrict_vocab=DEFAULT_RESTRICT_VOCAB, methods=("add",)):
        analogy = isinstance(r, AnalogyResult)
        scores[r.benchmark] = r.total.accuracy("add") if analogy else r.spearman
    return scores


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=DATA / "enwiki2015_text8style.gz")
    p.add_argument("--model", choices=["sg", "cbow"], default="sg")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--limit", type=int, help="use only the first WORDS tokens")
    p.add_argument("--ranks", default="1,2", help="comma-separated numbers of ranks")
    p.add_argument("--sync-words", default="262144", help="comma-separated --sync-words to try")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    p.add_argument("--name", help="file name of the result")
    args = p.parse_args()
    ranks_list = [int(x) for x in args.ranks.split(",")]
    syncs = [int(x) for x in args.sync_words.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        n_words = write_corpus(args.corpus, args.limit, corpus)
        for ranks in ranks_list:
            for sync in syncs if ranks > 1 else syncs[:1]:
                out = Path(tmp) / f"run-{ranks}-{sync}"
                r = train(corpus, out, ranks, args, sync)
                r.update(ranks=ranks, sync=sync, quality=quality(out))
                rows.append(r)
                wps = n_words * args.epochs / r["train"]
                print(f"{ranks} rank(s), sync {sync}: {wps:,.0f} words/s", file=sys.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    base = next(r["train"] for r in rows if r["ranks"] == ranks_list[0])
    header = (
        f"{args.corpus.name}, {n_words:,} words, {args.model}, {args.epochs} epoch(s), "
        f"defaults; {platform.machine()}, {cores()} cores, torch {version('torch')}, Gloo"
    )
    lines = [
        f"# {header}",
        "",
        f"`python bench/distributed.py {' '.join(sys.argv[1:])}`".replace(" `", "`"),
        "",
        "| ranks | threads per rank | --sync-words | scan s | train s | words/s "
        "| speed-up | analogy % | WS-353 | SimLex |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        q = r["quality"]
        threads = max(1, cores() // r["ranks"])
        lines.append(
            f"| {r['ranks']} | {threads} | {r['sync'] if r['ranks'] > 1 else '-'} | "
            f"{r['wall'] - r['train']:.1f} | {r['train']:.1f} | "
            f"{n_words * args.epochs / r['train']:,.0f} | {base / r['train']:.2f} | "
            f"{100 * q['google']:.1f} | {q['ws353']:.3f} | {q['simlex999']:.3f} |"
        )
    lines += ["", f"Largest peak resident memory of a process: {peak:,.0f} MB.", ""]
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    name = args.name or f"distributed-{args.model}-{args.epochs}ep-cpu-{cores()}core.md"
    (args.out / name).write_text(text)
    print(f"wrote {args.out / name}", file=sys.stderr)


if __name__ == "__main__":
    main()
