"""Rows the triton kernel reads per centre word, with and without keeping a window's rows on
chip (FULL-W2V's reuse, ``reuse_rows``): counted on a real corpus, on the CPU.

    python bench/row_reuse.py                       # enwiki2015_text8style, first 5M words
    python bench/row_reuse.py --words 0 --window 10

Not a speed: what the reuse can save a GPU in row loads, the kernel's logic replayed exactly
(word2vec's subsampling and reduced window, the run's vocabulary and sentences). Without
reuse a centre gathers the input rows of its contexts; with it, the row that enters the
ring, plus the held rows whose word is also a context in another slot (read again so that
the copies of a word agree). Either way it reads the K + 1 output rows of its targets.
Writes bench/results/row-reuse-<corpus>.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numba
import numpy as np
from common import write_corpus, write_result

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("W2V_SHARED_DATA", REPO.parent / "shared" / "data"))


@numba.njit(cache=True)
def count_rows(ids, offsets, reach, window, piece):
    """(centres, input rows gathered without reuse, input rows read with it), as the kernel
    reads them: a program trains ``piece`` centres of a sentence and fills its ring first."""
    gathered = 0
    with_reuse = 0
    centres = 0
    for i in range(len(offsets) - 1):
        s0, s1 = offsets[i], offsets[i + 1]
        for p in range(s0, s1):
            centres += 1
            r = reach[p]
            if (p - s0) % piece == 0:  # a program starts: the ring's first fill
                with_reuse += min(s1, p + window + 1) - max(s0, p - window)
            with_reuse += 1  # the row entering as the centre moves on (issued at the end too)
            for o in range(-r, r + 1):
                if o != 0 and s0 <= p + o < s1:
                    gathered += 1
            # a held row whose word is a context in another slot is read again
            for qa in range(max(s0, p - window), min(s1, p + window + 1)):
                for qb in range(max(s0, p - r), min(s1, p + r + 1)):
                    if qb != p and qb != qa and ids[qa] == ids[qb]:
                        with_reuse += 1
                        break
    return centres, gathered, with_reuse


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=DATA / "enwiki2015_text8style.gz")
    p.add_argument("--words", type=int, default=5_000_000, help="the first N words (0: all)")
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--piece", type=int, default=0, help="centres a program (0: the engine's)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = p.parse_args()

    import w2v
    from w2v.engines.triton_engine import PIECE_CENTRES
    from w2v.run import Run

    piece = args.piece or PIECE_CENTRES
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus
        if args.words:
            corpus = Path(tmp) / "corpus.txt"
            write_corpus(args.corpus, args.words, corpus)
        cfg = w2v.build_config(cache_dir=str(Path(tmp) / "cache"), window=args.window)
        run = Run(cfg, None)
        run.prepare(corpus)
        ids = np.asarray(run.encoded.ids, dtype=np.int64)
        offsets = np.asarray(run.encoded.offsets, dtype=np.int64)
    rng = np.random.default_rng(args.seed)
    keep = rng.random(len(ids)) < run.vocab.keep_probabilities(args.sample)[ids]
    lengths = np.add.reduceat(keep, offsets[:-1]) if len(ids) else np.zeros(0, np.int64)
    lengths[np.diff(offsets) == 0] = 0  # reduceat gives an empty sentence its next element
    kept = ids[keep]
    kept_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    reach = rng.integers(1, args.window + 1, len(kept))
    centres, gathered, with_reuse = count_rows(kept, kept_offsets, reach, args.window, piece)
    outputs = args.negative + 1
    before = gathered / centres + outputs
    after = with_reuse / centres + outputs
    words = "all" if not args.words else f"the first {args.words:,}"
    text = "\n".join(
        [
            f"# Rows read per centre word, with and without rows kept on chip ({args.corpus.name})",
            "",
            f"`python bench/row_reuse.py {' '.join(sys.argv[1:])}`".replace(" `", "`"),
            "",
            f"{args.corpus.name}, {words} words: {len(ids):,} tokens in the vocabulary, "
            f"{centres:,} centres after subsampling at {args.sample:g}; window {args.window} "
            f"(reduced), {args.negative} negatives, {piece} centres a program. Counted, not "
            "timed: the table rows (dim floats each) that the kernel loads per centre.",
            "",
            "| | input rows | output rows | all rows |",
            "|---|---|---|---|",
            f"| gathered every centre | {gathered / centres:.2f} | {outputs} | {before:.2f} |",
            f"| kept on chip (`reuse_rows`) | {with_reuse / centres:.2f} | {outputs} | "
            f"{after:.2f} |",
            "",
            f"Rows read with reuse: {after / before:.0%} of without ({1 - after / before:.0%} "
            "fewer). The atomic adds do not change: every context's row still gets its add.",
            "",
        ]
    )
    write_result(args.out / f"row-reuse-{args.corpus.name.split('.')[0]}.md", text)


if __name__ == "__main__":
    main()
