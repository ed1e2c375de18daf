"""One rank of a distributed test run, started by torchrun: trains (or resumes), then dumps
what the test compares (this rank's input table and vocabulary counts) into DUMP_DIR.

    torchrun --nproc-per-node 2 tests/dist_worker.py train CORPUS RUN_DIR DUMP_DIR KEY=VALUE...
    torchrun --nproc-per-node 2 tests/dist_worker.py resume RUN_DIR DUMP_DIR [chunk_tokens=N]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from w2v import distributed
from w2v.engines import base
from w2v.run import resume, train


def main() -> None:
    mode, rest = sys.argv[1], sys.argv[2:]
    corpus = rest.pop(0) if mode == "train" else None
    run_dir, dump = Path(rest[0]), Path(rest[1])
    options = {}
    for item in rest[2:]:
        key, _, value = item.partition("=")
        options[key] = json.loads(value)
    # small chunks, so that the ranks average several times per epoch on a small corpus
    base.CHUNK_TOKENS = options.pop("chunk_tokens", base.CHUNK_TOKENS)
    world = distributed.from_environment()
    assert world is not None, "run me with torchrun"
    distributed.start(world)
    if mode == "train":
        vectors = train(corpus, run_dir, world=world, **options)
    else:
        vectors = resume(run_dir, world=world)
    np.save(dump / f"vectors-rank{world.rank}.npy", vectors.vectors)
    (dump / f"vocab-rank{world.rank}.json").write_text(
        json.dumps(dict(zip(vectors.index_to_key, vectors.counts.tolist(), strict=True)))
    )
    distributed.stop()


if __name__ == "__main__":
    main()
