"""The corpus as vocabulary ids: a scanned corpus mapped through a vocabulary, cached.

Words outside the vocabulary are dropped, and sentences left empty with them. The result is
cached inside the scan's entry (corpus.py), keyed by the vocabulary, so a rerun with the same
vocabulary maps nothing: training reads its int32 memory map.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .atomic import publish_dir
from .corpus import ScannedCorpus
from .errors import W2VError

if TYPE_CHECKING:
    from .vocab import Vocab

_ENCODE_STEP = 1 << 22  # tokens remapped at a time: bounds the memory of encoding


@dataclass
class EncodedCorpus:
    """The corpus as vocabulary ids (words outside the vocabulary dropped), memory-mapped."""

    ids: np.ndarray  # int32
    offsets: np.ndarray  # int64 sentence starts, offsets[-1] == len(ids)
    path: Path | None = None


def _vocab_key(words: Sequence[str]) -> str:
    h = hashlib.sha256()
    for w in words:
        h.update(w.encode("utf-8", "surrogatepass") + b"\n")
    return h.hexdigest()[:20]


def encode_corpus(scanned: ScannedCorpus, vocab: Vocab) -> EncodedCorpus:
    """Map a scanned corpus to ``vocab`` ids, dropping other words and emptied sentences.

    The result is cached inside the scan's entry, keyed by the vocabulary, so a rerun with
    the same vocabulary maps nothing.
    """
    parent = scanned.path
    tmp_root = None
    if parent is None:
        parent = tmp_root = Path(tempfile.mkdtemp(prefix="w2v-encoded-"))
    final = parent / f"encoded-{_vocab_key(vocab.words)}"
    try:
        cached = load_encoded(final)
        if cached is not None:
            return cached
        publish_dir(
            parent,
            final.name,
            lambda entry: _write_encoded(entry, scanned, vocab.remap(scanned.words)),
            lambda entry: load_encoded(entry) is not None,
            "encoded corpus",
        )
        encoded = load_encoded(final)
        assert encoded is not None
        if tmp_root is not None:
            encoded.path = None
        return encoded
    finally:
        if tmp_root is not None:  # POSIX keeps the mapped file alive
            shutil.rmtree(tmp_root, ignore_errors=True)


def _write_encoded(entry: Path, scanned: ScannedCorpus, remap: np.ndarray) -> None:
    offsets = scanned.offsets
    kept_per_sentence = np.zeros(len(offsets) - 1, dtype=np.int64)
    # Whole sentences per step, so that reduceat sees complete sentences.
    cuts = np.unique(np.searchsorted(offsets, np.arange(0, offsets[-1], _ENCODE_STEP)))
    cuts = np.append(cuts[cuts < len(offsets) - 1], len(offsets) - 1)
    with open(entry / "ids.int32", "wb") as out:
        for s0, s1 in itertools.pairwise(cuts):
            start, stop = int(offsets[s0]), int(offsets[s1])
            mapped = remap[scanned.ids[start:stop]]
            kept = mapped >= 0
            mapped[kept].astype("<i4").tofile(out)
            kept_per_sentence[s0:s1] = np.add.reduceat(kept, offsets[s0:s1] - start)
    lengths = kept_per_sentence[kept_per_sentence > 0]
    new_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    if new_offsets[-1] == 0:
        raise W2VError("no token of the corpus is in the vocabulary")
    # offsets.npy last: an entry without it is incomplete.
    np.save(entry / "offsets.npy", new_offsets, allow_pickle=False)


def load_encoded(path: str | os.PathLike[str] | None) -> EncodedCorpus | None:
    """A cached encoded corpus, or None when it is missing or damaged."""
    if path is None:
        return None
    path = Path(path)
    try:
        offsets = np.load(path / "offsets.npy", allow_pickle=False)
        size = (path / "ids.int32").stat().st_size
        if offsets.dtype != np.int64 or offsets.ndim != 1 or size != 4 * int(offsets[-1]):
            return None
        ids = np.memmap(path / "ids.int32", dtype="<i4", mode="r", shape=(int(offsets[-1]),))
    except (OSError, ValueError, IndexError):
        return None
    return EncodedCorpus(ids, offsets, path)
