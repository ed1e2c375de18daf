"""Files for TensorBoard's Embedding Projector (https://projector.tensorflow.org).

``vectors.tsv`` holds one row of tab-separated values per word and ``metadata.tsv`` the
words, one a line, in the same order. The metadata has no header row: the projector
expects one only when there are two or more columns.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import numpy as np

from .atomic import atomic_write
from .errors import W2VError
from .vectors import KeyedVectors

__all__ = ["METADATA_NAME", "VECTORS_NAME", "export_projector"]

VECTORS_NAME = "vectors.tsv"
METADATA_NAME = "metadata.tsv"
# Six significant digits: ample for a picture, and half the size of a lossless %.9g.
_FLOAT_FORMAT = "%.6g"
_TSV_BREAKERS = ("\t", "\n", "\r")


def export_projector(
    kv: KeyedVectors, out_dir: str | os.PathLike[str], *, limit: int | None = None
) -> tuple[Path, Path]:
    """Write ``OUT_DIR/vectors.tsv`` and ``OUT_DIR/metadata.tsv``; return their paths.

    ``limit`` keeps the first (most frequent) N words. Each file is written atomically.
    """
    if limit is not None and limit < 1:
        raise W2VError(f"limit must be at least 1 word, got {limit}")
    words = kv.index_to_key[:limit]
    if not words:
        raise W2VError("there are no vectors to export")
    bad = [w for w in words if any(c in w for c in _TSV_BREAKERS)]
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise W2VError(
            f"word {bad[0]!r}{more} contains a tab or line break, which a TSV file cannot hold"
        )
    vectors = kv.vectors[: len(words)]

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise W2VError(f"{out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise W2VError(f"{out}: cannot create the directory: {exc.strerror}") from None

    def write_vectors(f: IO[bytes]) -> None:
        np.savetxt(f, vectors, fmt=_FLOAT_FORMAT, delimiter="\t", newline="\n")

    def write_metadata(f: IO[bytes]) -> None:
        f.write("".join(w + "\n" for w in words).encode("utf-8"))

    vectors_path, metadata_path = out / VECTORS_NAME, out / METADATA_NAME
    atomic_write(vectors_path, write_vectors)
    atomic_write(metadata_path, write_metadata)
    return vectors_path, metadata_path
