"""What the GPU's concurrency could do to quality, emulated on the CPU: the triton kernel's
model with its programs in lockstep, every program's centre of a step scored against the
tables as the step before left them, then all of the step's adds applied.

    python bench/gpu_concurrency.py                     # skip-gram, 5 epochs, 792 programs
    python bench/gpu_concurrency.py --programs 1 --words 2000000   # (slow in Python)

Not a GPU measurement, and not the kernel: numba's window update (the model the kernel is
tested against) driven as the kernel's launch is shaped. A chunk is subsampled and cut into
pieces of PIECE_CENTRES centres; ``--programs`` pieces are in flight at once (792 is what an
H200 holds of the kernel at the defaults: 132 SMs x 6 programs, by its registers), and
they move a centre a step, each reading the tables as they were at the step's start, the
most stale a GPU's Hogwild can be (the GPU's programs drift apart and read fresher rows).
Quality against the numba engine's (word2vec's order, two threads) on the same corpus and
settings, in the same sitting. Writes bench/results/gpu-concurrency-<model>.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
from common import write_corpus, write_result
from compare import quality
from gpu import cell

from w2v.engines.numba_kernel import _score_targets

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("W2V_SHARED_DATA", REPO.parent / "shared" / "data"))


@numba.njit(parallel=True, cache=True)
def step(w_in, w_out, contexts, n_contexts, targets, n_targets, lr, cbow, grad_in, grad_out):
    """One lockstep step: every program's window scored against the tables as they are,
    then every add applied. Returns the summed loss."""
    programs, dim = len(n_contexts), w_in.shape[1]
    losses = np.zeros(programs)
    for i in numba.prange(programs):
        n = n_contexts[i]
        if n == 0:
            continue
        grad_in[i, :, :] = 0.0
        grad_out[i, :, :] = 0.0
        if cbow:
            h = np.zeros(dim, np.float32)
            for j in range(n):
                h += w_in[contexts[i, j]]
            h *= np.float32(1.0 / n)
            losses[i] = _score_targets(
                h, grad_in[i, 0], w_out, targets[i], n_targets, lr[i], True, grad_out[i]
            )
            for j in range(1, n):
                grad_in[i, j, :] = grad_in[i, 0, :]
        else:
            for j in range(n):
                losses[i] += _score_targets(
                    w_in[contexts[i, j]], grad_in[i, j], w_out, targets[i], n_targets, lr[i],
                    True, grad_out[i],
                )  # fmt: skip
    for i in range(programs):  # the adds, as the atomics would land
        for j in range(n_contexts[i]):
            w_in[contexts[i, j]] += grad_in[i, j]
        if n_contexts[i]:
            for k in range(n_targets):
                w_out[targets[i, k]] += grad_out[i, k]
    return losses.sum()


def train(setup, programs: int, piece: int, cbow: bool, seed: int) -> float:
    """All epochs of the run, its chunks in order, pieces in lockstep; returns seconds."""
    cfg, chunks = setup.config, setup.chunks
    window, negative = cfg.window, cfg.negative
    w_in, w_out = setup.tables.input, setup.tables.output
    rng = np.random.default_rng(seed)
    noise = setup.noise / setup.noise.sum()
    grad_in = np.zeros((programs, 2 * window, w_in.shape[1]), np.float32)
    grad_out = np.zeros((programs, negative + 1, w_in.shape[1]), np.float32)
    offsets_all = np.asarray(chunks.offsets)
    ids_all = np.asarray(chunks.ids)
    started = time.perf_counter()
    for epoch in range(cfg.epochs):
        for chunk in range(len(chunks)):
            s0, s1 = int(chunks.bounds[chunk]), int(chunks.bounds[chunk + 1])
            start, stop = int(offsets_all[s0]), int(offsets_all[s1])
            ids = np.asarray(ids_all[start:stop], dtype=np.int64)
            bounds = offsets_all[s0 : s1 + 1] - start
            before = epoch * chunks.total_words + int(chunks.words_before[chunk]) - start
            sentence_lr = setup.schedule.at_each(before + offsets_all[s0:s1])
            keep = rng.random(len(ids)) < setup.keep_prob[ids]
            sentence = np.repeat(np.arange(len(bounds) - 1), np.diff(bounds))
            kept = np.bincount(sentence[keep], minlength=len(bounds) - 1)
            bounds = np.concatenate([[0], np.cumsum(kept)])
            ids, sentence = ids[keep], sentence[keep]
            # pieces of `piece` centres, each inside its sentence
            lengths = np.diff(bounds)
            counts = (lengths + piece - 1) // piece
            of = np.repeat(np.arange(len(lengths)), counts)
            within = np.arange(len(of)) - np.repeat(np.cumsum(counts) - counts, counts)
            p_start = bounds[of] + within * piece
            p_end = np.minimum(p_start + piece, bounds[of + 1])
            p_lr = sentence_lr[of].astype(np.float32)
            reach = rng.integers(1, window + 1, len(ids)) if cfg.shrink_windows else None
            drawn = rng.choice(len(noise), size=(len(ids), negative), p=noise)
            offsets = np.array([o for o in range(-window, window + 1) if o != 0])
            for first in range(0, len(p_start), programs):
                wave = slice(first, first + programs)
                ws, we = p_start[wave], p_end[wave]
                wlo, whi = bounds[of[wave]], bounds[of[wave] + 1]
                n = len(ws)
                for t in range(piece):
                    p = ws + t
                    live = p < we
                    if not live.any():
                        break
                    q = p[:, None] + offsets[None, :]
                    r = reach[np.minimum(p, len(ids) - 1)] if reach is not None else window
                    valid = live[:, None] & (q >= wlo[:, None]) & (q < whi[:, None])
                    valid &= np.abs(offsets)[None, :] <= np.atleast_1d(r)[:, None]
                    order = np.argsort(~valid, axis=1, kind="stable")  # valid ones first
                    ctx = ids[np.clip(np.take_along_axis(q, order, 1), 0, len(ids) - 1)]
                    n_ctx = valid.sum(1).astype(np.int64)
                    targets = np.empty((n, negative + 1), np.int64)
                    targets[:, 0] = ids[np.minimum(p, len(ids) - 1)]
                    targets[:, 1:] = drawn[np.minimum(p, len(ids) - 1)]
                    step(
                        w_in, w_out, ctx, n_ctx, targets, negative + 1, p_lr[wave], cbow,
                        grad_in[:n], grad_out[:n],
                    )  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=DATA / "enwiki2015_text8style.gz")
    p.add_argument("--words", type=int, default=0, help="the first N words (0: all)")
    p.add_argument("--model", choices=["sg", "cbow"], default="sg")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--programs", type=int, default=792)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = p.parse_args()

    import w2v
    from w2v.engines.triton_engine import PIECE_CENTRES
    from w2v.run import Run

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        write_corpus(args.corpus, args.words or None, corpus)
        for label in ("numba engine (word2vec's order, 2 threads)", "programs in lockstep"):
            cfg = w2v.build_config(
                engine="numba", device="cpu", model=args.model, epochs=args.epochs,
                checkpoint_every=0, cache_dir=str(Path(tmp) / "cache"), seed=args.seed,
            )  # fmt: skip
            run = Run(cfg, None)
            run.prepare(corpus)
            trainer = run.make_trainer()
            if label.startswith("numba"):
                trainer.compile()
                trainer.train()
                seconds = sum(trainer.history.epoch_seconds)
            else:
                seconds = train(
                    trainer.engine.setup, args.programs, PIECE_CENTRES, args.model == "cbow",
                    args.seed,
                )  # fmt: skip
            vectors = w2v.KeyedVectors(run.vocab.words, np.asarray(trainer.tables.input))
            q = quality(vectors)
            rows.append(
                f"| {label} | {seconds:.0f} | {cell(q, 'google')} | {cell(q, 'ws353')} | "
                f"{cell(q, 'simlex999')} |"
            )
            print(rows[-1], file=sys.stderr)
    words = "all" if not args.words else f"the first {args.words:,}"
    text = "\n".join(
        [
            f"# The GPU's concurrency, emulated on the CPU: {args.model}, {args.programs} "
            "programs in lockstep",
            "",
            f"`{' '.join(['python bench/gpu_concurrency.py', *sys.argv[1:]])}`",
            "",
            f"{args.corpus.name}, {words} words; defaults (dim 100, window 5, negative 5, "
            f"sample 1e-3), {args.epochs} epochs, seed {args.seed}. Not a GPU run: the "
            f"kernel's model (numba's window update) with {args.programs} pieces of "
            f"{PIECE_CENTRES} centres in flight, each step's windows all read the tables as "
            "the step before left them (see the script's docstring). Seconds: this CPU's, "
            "for the record (the emulation is slow by design). Google: analogies within the "
            "30,000 most frequent words.",
            "",
            "| training | seconds | Google % | WS-353 | SimLex-999 |",
            "|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    write_result(args.out / f"gpu-concurrency-{args.model}.md", text)


if __name__ == "__main__":
    main()
