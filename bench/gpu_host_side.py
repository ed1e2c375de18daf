"""What the triton engine does around its kernel, per chunk, timed on the CPU with the kernel
stubbed out: subsampling, closing up sentences, cutting pieces, learning rates, the report.

    python bench/gpu_host_side.py                   # enwiki2015_text8style, 1 epoch
    python bench/gpu_host_side.py --words 2000000

Not a GPU measurement: here torch's operations run on the CPU, synchronously, where on a
GPU they are queued kernels. It bounds what the host side can cost: if a chunk's work
around the kernel takes t seconds here, the engine cannot be held below chunk words / t
by it. Prints one line.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from common import write_corpus

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("W2V_SHARED_DATA", REPO.parent / "shared" / "data"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=DATA / "enwiki2015_text8style.gz")
    p.add_argument("--words", type=int, default=0, help="the first N words (0: all)")
    args = p.parse_args()
    os.environ["TRITON_INTERPRET"] = "1"  # the engine on CPU tensors; its kernel never runs

    import torch

    import w2v
    from w2v.engines import triton_kernel
    from w2v.run import Run

    def no_kernel(w_in: torch.Tensor, *args: object, **kwargs: object):
        zero = torch.zeros((), dtype=torch.float64, device=w_in.device)
        return zero, zero.to(torch.int64)

    triton_kernel.train_pieces = no_kernel
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        write_corpus(args.corpus, args.words or None, corpus)
        cfg = w2v.build_config(
            engine="triton", device="cpu", epochs=1, checkpoint_every=0, cache_dir=tmp
        )
        run = Run(cfg, None)
        run.prepare(corpus)
        trainer = run.make_trainer()
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    chunks = len(trainer.chunks.words)
    print(
        f"`{' '.join(['python bench/gpu_host_side.py', *sys.argv[1:]])}`: "
        f"{trainer.total_words:,} words in {chunks} chunks, {seconds:.2f} s around a stubbed "
        f"kernel: {1000 * seconds / chunks:.2f} ms a chunk; the host side alone would allow "
        f"{trainer.total_words / seconds / 1e6:.0f}M words/s"
    )


if __name__ == "__main__":
    main()
