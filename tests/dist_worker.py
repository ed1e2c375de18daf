"""One rank of a distributed test run, started by torchrun: trains, then dumps what the test
compares (this rank's input table and vocabulary counts) into DUMP_DIR.

    torchrun --nproc-per-node 2 tests/dist_worker.py CORPUS RUN_DIR DUMP_DIR KEY=VALUE...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from w2v import batching, distributed
from w2v.run import train


def main() -> None:
    corpus, run_dir, dump = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    options = {}
    for item in sys.argv[4:]:
        key, _, value = item.partition("=")
        options[key] = json.loads(value)
    # small chunks, so that the ranks average several times per epoch on a small corpus
    batching.CHUNK_TOKENS = options.pop("chunk_tokens", batching.CHUNK_TOKENS)
    world = distributed.from_environment()
    assert world is not None, "run me with torchrun"
    distributed.start(world)
    vectors = train(corpus, run_dir, world=world, **options)
    np.save(dump / f"vectors-rank{world.rank}.npy", vectors.vectors)
    (dump / f"vocab-rank{world.rank}.json").write_text(
        json.dumps(dict(zip(vectors.index_to_key, vectors.counts.tolist(), strict=True)))
    )
    distributed.stop()


if __name__ == "__main__":
    main()
