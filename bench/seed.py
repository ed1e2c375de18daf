"""`w2v train --preset seed` (the original project's model): its speed and what it learns.

    python bench/seed.py                                   # everything below
    python bench/seed.py --before-src /tmp/old/src         # also the code before, for its speed

Speed: the preset on the bundled Flickr30k captions (1.9M words, 32 epochs), start to exit,
and the words/s of its epochs. With --before-src (the src/ folder of an older checkout), that
code's first epoch too: the torch engine it had ran the preset at a few thousand words/s, too
slow to wait for 32 epochs. Quality: the preset next to the defaults, on the captions and on
the first 2M words of enwiki2015_text8style (WS-353, SimLex-999, Google analogies within the
30,000 most frequent words). Each run is its own `w2v` process. Writes
bench/results/seed-cpu-<cores>core.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import cores, write_corpus

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("W2V_SHARED_DATA", REPO.parent / "shared" / "data"))
HEADLINE = (("ws353", "rho"), ("simlex999", "rho"), ("google", "add"))


def w2v(args: list[str], src: Path | None = None) -> float:
    """Run `w2v ARGS` (from ``src`` when given); its wall time in seconds."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "w2v", *args], check=True, env=env)
    return time.perf_counter() - started


def scores(run: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "w2v", "evaluate", str(run), "--json", "-b",
         ",".join(name for name, _ in HEADLINE), "--method", "add"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    found: dict[str, float] = {}
    for result in json.loads(out)["results"]:
        name = result["benchmark"]
        if result["kind"] == "similarity":
            found[name] = result["spearman"]
        else:
            found[name] = result["total"]["3CosAdd"]["accuracy"]
    return found


def words_per_second(run: Path) -> float:
    history = json.loads((run / "history.json").read_text())
    return sum(history["epoch_words"][-1:]) / sum(history["epoch_seconds"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before-src", type=Path, help="src/ of the code before, for its speed")
    p.add_argument("--slice", type=int, default=2_000_000, help="words of enwiki for quality")
    p.add_argument(
        "--before-limit", type=int, help="the code before trains only this many words (it is slow)"
    )
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = p.parse_args()
    lines = [
        f"# `w2v train --preset seed`: speed and quality ({cores()} cores)",
        "",
        f"`python bench/seed.py {' '.join(sys.argv[1:])}`".replace(" `", "`"),
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp)
        cache = ["--cache-dir", str(runs / "cache")]
        if args.before_src:
            before = runs / "before"
            limit = ["--limit", str(args.before_limit)] if args.before_limit else []
            w2v(["train", "--preset", "seed", "--epochs", "1", "-q", "-o", str(before), *limit,
                 "--cache-dir", str(runs / "cache-before")], args.before_src)  # fmt: skip
            wps = words_per_second(before)
            part = f"the first {args.before_limit:,} words" if limit else "the first epoch"
            lines += [
                f"Before (code in {args.before_src}): the preset on {part} of the captions "
                f"at {wps:,.0f} words/s; its 32 epochs would take "
                f"{32 * 1.9e6 / wps / 3600:,.1f} hours.",
                "",
            ]
        seed_run = runs / "seed-captions"
        wall = w2v(["train", "--preset", "seed", "-q", "-o", str(seed_run), *cache])
        history = json.loads((seed_run / "history.json").read_text())
        trained = sum(history["epoch_seconds"])
        lines += [
            f"After: `w2v train --preset seed` on the captions, 32 epochs "
            f"({history['epoch_words'][-1]:,} words trained): {wall:,.1f} s start to exit, "
            f"{trained:,.1f} s of it training, {words_per_second(seed_run):,.0f} words/s "
            f"(epochs from {min(history['epoch_words_per_sec']):,.0f} to "
            f"{max(history['epoch_words_per_sec']):,.0f} words/s).",
            "",
            "| corpus | model | " + " | ".join(f"{n} ({m})" for n, m in HEADLINE) + " | train s |",
            "|---|---|---|---|---|---|",
        ]
        text8 = runs / "enwiki.txt"
        write_corpus(DATA / "enwiki2015_text8style.gz", args.slice, text8)
        for corpus, name in ((None, "captions"), (text8, f"enwiki {args.slice:,} words")):
            for preset in ("seed", "default"):
                run = runs / f"{preset}-{name.split()[0]}"
                if not (run / "vectors.txt").exists():
                    corpus_args = [] if corpus is None else [str(corpus)]
                    w2v(["train", *corpus_args, "--preset", preset, "-q", "-o", str(run),
                         *cache])  # fmt: skip
                found = scores(run)
                seconds = sum(json.loads((run / "history.json").read_text())["epoch_seconds"])
                cells = " | ".join(
                    f"{found[n]:.3f}" if m == "rho" else f"{100 * found[n]:.1f} %"
                    for n, m in HEADLINE
                )
                lines.append(f"| {name} | {preset} | {cells} | {seconds:,.1f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"seed-cpu-{cores()}core.md"
    out.write_text(text)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
