"""Joining phrases into a corpus of ids: the table ready for the kernel (Joiner), a
whole scanned corpus joined block by block, and the joined corpus cached beside its scan.

Joining (phrase_kernel.join_sentences) finds the candidates of a sentence that are in the
table. Where two overlap ("new york city" with both "new_york" and "york_city"), the
higher-scoring one is joined; in a longer run of overlaps the highest first, then the next
highest that overlaps nothing joined. gensim joins the leftmost instead, whatever the scores.

A corpus with phrases joined is cached inside its scan's entry, keyed by the table's content
(``PhraseTable.key``), and reads like any scanned corpus: the vocabulary then holds
"new_york".
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import publish_dir
from .corpus import ScannedCorpus, count_ids, load_scanned, write_entry
from .errors import W2VError, option
from .phrase_table import PhraseTable

BLOCK_TOKENS = 1 << 22  # tokens joined at a time: bounds the memory of joining
_CODE_BITS = 31  # connector codes share an int64 with a 32-bit count (phrase_kernel)


def max_inside(base: int) -> int:
    """The most connectors a candidate may hold so that its code fits in _CODE_BITS."""
    return _CODE_BITS if base < 2 else int(_CODE_BITS / math.log2(base))


def pow2(n: int) -> int:
    """The smallest power of two >= n (1 for n <= 1)."""
    return 1 << max(0, int(n) - 1).bit_length()


def kernel() -> Any:
    """phrase_kernel, imported when phrases are first counted or joined (it brings numba)."""
    from . import phrase_kernel

    return phrase_kernel


class Joiner:
    """A table's phrases, ready to join into sentences of ids.

    Ids are those of ``words`` (a scanned corpus's), then one per phrase that is not
    already a word, then ``other``: the id for any token outside all of them.
    """

    def __init__(self, table: PhraseTable, words: Sequence[str]) -> None:
        self.kernel = k = kernel()
        rows = table.rows
        self.words = list(words)
        index = {w: i for i, w in enumerate(self.words)}
        phrases = [r.phrase for r in rows]
        for phrase in dict.fromkeys(phrases):  # a phrase found in two passes: one token
            if phrase not in index:
                index[phrase] = len(self.words)
                self.words.append(phrase)
        tokens = np.array([index[p] for p in phrases], dtype=np.int64)
        self.phrase_ids = np.unique(tokens).tolist()
        self.other = len(self.words)
        self.n = n = self.other + 1
        connectors = table.connectors()
        digit = {w: d for d, w in enumerate(connectors, 1)}
        self.base = len(connectors) + 1
        self.max_inside = max_inside(self.base)
        self.conn = np.zeros(n, dtype=np.int32)
        for w, d in digit.items():
            if w in index:
                self.conn[index[w]] = d
        # Once per phrase, in C where it can be: its words' ids (-1: a word this corpus
        # lacks, so the phrase cannot occur), its connector code, its pass and score.
        a = _ids([r.words[0] for r in rows], index)
        b = _ids([r.words[-1] for r in rows], index)
        codes = np.zeros(len(rows), dtype=np.int64)
        usable = (a >= 0) & (b >= 0)
        for i, r in enumerate(rows):
            if len(r.words) > 2:  # only with connectors
                if len(r.words) - 2 > self.max_inside:
                    usable[i] = False  # more connectors than a code holds: never counted
                else:
                    codes[i] = _code(r.words[1:-1], digit, self.base)
        passes = np.array([r.pass_number for r in rows], dtype=np.int64)
        row_scores = np.array([r.score for r in rows], dtype=np.float64)
        self.passes: list[tuple[np.ndarray, ...]] = []
        for number in range(1, table.passes + 1):
            mine = np.flatnonzero(usable & (passes == number))
            keys = a[mine] * n + b[mine]
            lookup = np.zeros((pow2(2 * len(mine) + 2), 2), dtype=np.int64)
            scores = np.zeros(len(lookup), dtype=np.float64)
            bits = min(pow2(k.BLOOM_BITS_PER_PHRASE * len(mine) + 64), k.BLOOM_MAX_BITS)
            bloom = np.zeros(bits // 64, dtype=np.uint64)
            k.build_lookup(keys, codes[mine], tokens[mine], lookup, scores, row_scores[mine], bloom)
            roles = self.conn << k.DIGIT_SHIFT
            roles[keys // n] |= k.STARTS
            roles[keys % n] |= k.ENDS
            self.passes.append((roles, lookup, scores, bloom))

    def join(
        self, ids: np.ndarray, offsets: np.ndarray, track: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Sentences ``ids[offsets[i]:offsets[i+1]]`` with every pass joined: (ids, new
        offsets, and with ``track`` the input position of each token, -1 for a phrase)."""
        k = self.kernel
        source = np.arange(len(ids), dtype=np.int64) if track else np.empty(0, np.int64)
        for roles, lookup, scores, bloom in self.passes:
            out = np.empty(len(ids), dtype=np.int32)
            out_source = np.empty(len(source), dtype=np.int64)
            out_offsets = np.empty(len(offsets), dtype=np.int64)
            written, _ = k.join_sentences(
                ids, offsets, roles, self.base, self.max_inside, self.n, lookup, scores, bloom,
                source, out, out_source, out_offsets,
            )  # fmt: skip
            ids, offsets = out[:written], out_offsets
            source = out_source[:written] if track else source
        return ids, offsets, source if track else None


def _ids(words: list[str], index: dict[str, int]) -> np.ndarray:
    """The id of each word, -1 for one not in ``index``."""
    return np.array(list(map(index.get, words, itertools.repeat(-1))), dtype=np.int64)


def _code(middle: Sequence[str], digit: dict[str, int], base: int) -> int:
    return sum(digit[w] * base**i for i, w in enumerate(middle))


def _sentence_blocks(offsets: np.ndarray) -> Iterator[tuple[int, int]]:
    """(first, end) sentence numbers of blocks of about BLOCK_TOKENS tokens."""
    n = len(offsets) - 1
    cuts = np.unique(np.searchsorted(offsets, np.arange(0, offsets[-1], BLOCK_TOKENS)))
    cuts = np.append(cuts[cuts < n], n)
    return itertools.pairwise(cuts.tolist())


def join_into(path: Path, ids: np.ndarray, offsets: np.ndarray, joiner: Joiner) -> np.ndarray:
    """Join a whole corpus into the file ``path`` (int32), block by block; the new offsets."""
    lengths = np.zeros(len(offsets) - 1, dtype=np.int64)
    with open(path, "wb") as out:
        for s0, s1 in _sentence_blocks(offsets):
            start, stop = int(offsets[s0]), int(offsets[s1])
            local = offsets[s0 : s1 + 1] - start
            joined, new, _ = joiner.join(np.ascontiguousarray(ids[start:stop]), local)
            joined.astype("<i4").tofile(out)
            lengths[s0:s1] = np.diff(new)
    new_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    return new_offsets


@dataclass
class JoinStats:
    """What joining a table into a corpus made (``w2v vocab`` and ``w2v train`` show it)."""

    source: str  # "auto" or the table's path
    phrases: int  # rows in the table
    phrase_types: int  # distinct phrase tokens in the joined corpus
    phrase_tokens: int  # their occurrences
    tokens_before: int
    tokens_after: int
    found: dict[str, Any] | None = None  # with auto: how they were found (FindReport)

    def describe(self) -> str:
        how = ""
        if self.found is not None:
            how = f" ({self.found['settings']}{prune_note(self.found)})"
        return (
            f"phrases from {self.source}{how}: {self.phrases:,} in the table, "
            f"{self.phrase_types:,} made as tokens, joined {self.phrase_tokens:,} times "
            f"({self.tokens_before:,} tokens became {self.tokens_after:,})"
        )


def prune_note(found: dict[str, Any]) -> str:
    """'; pruned ...' when counting dropped rare pairs, else ''."""
    pruned = [p for p in found["passes"] if p["prunes"]]
    if not pruned:
        return ""
    worst = max(p["dropped_at_most"] for p in pruned)
    times = sum(p["prunes"] for p in pruned)
    return (
        f"; the pair table was full {times} time{'s' if times != 1 else ''} and pairs seen "
        f"at most {worst} times were dropped then ({option('max_pairs')})"
    )


def join_scanned(
    scanned: ScannedCorpus, table: PhraseTable, source: str, found: dict[str, Any] | None = None
) -> tuple[ScannedCorpus, JoinStats]:
    """``scanned`` with the table's phrases joined, cached inside the scan's entry under
    the table's key (or in a temporary folder when the scan has none)."""
    parent = scanned.path
    tmp_root = None
    if parent is None:
        parent = tmp_root = Path(tempfile.mkdtemp(prefix="w2v-phrases-"))
    name = f"phrases-{table.key()}"
    try:
        entry = parent / name
        with contextlib.suppress(W2VError, OSError, ValueError, KeyError, TypeError):
            stats = JoinStats(**json.loads((entry / "phrases.json").read_text("utf-8")))
            joined = load_scanned(entry)
            stats.source, stats.found = source, found
            return joined, stats
        shutil.rmtree(entry, ignore_errors=True)  # damaged or half: made again

        def write(folder: Path) -> None:
            _write_joined(folder, scanned, table, JoinStats(source, len(table), 0, 0, 0, 0))

        publish_dir(parent, name, write, lambda e: (e / "meta.json").is_file(), "joined corpus")
        stats = JoinStats(**json.loads((entry / "phrases.json").read_text("utf-8")))
        stats.source, stats.found = source, found
        joined = load_scanned(entry)
        if tmp_root is not None:
            joined.path = None
        return joined, stats
    finally:
        if tmp_root is not None:  # POSIX keeps the mapped file alive
            shutil.rmtree(tmp_root, ignore_errors=True)


def _write_joined(
    entry: Path, scanned: ScannedCorpus, table: PhraseTable, stats: JoinStats
) -> None:
    joiner = Joiner(table, scanned.words)
    ids_path = entry / "ids.int32"
    offsets = join_into(ids_path, scanned.ids, scanned.offsets, joiner)
    words = joiner.words
    counts = count_ids(ids_path, int(offsets[-1]), len(words))
    present = counts > 0
    if not present.all():  # words joined away, phrases never seen: drop their ids
        remap = (np.cumsum(present) - 1).astype("<i4")
        ids = np.memmap(ids_path, dtype="<i4", mode="r+", shape=(int(offsets[-1]),))
        for start in range(0, len(ids), BLOCK_TOKENS):
            ids[start : start + BLOCK_TOKENS] = remap[ids[start : start + BLOCK_TOKENS]]
        ids.flush()
        del ids
        phrase_counts = counts[joiner.phrase_ids]
        words = list(itertools.compress(words, present.tolist()))
        counts = counts[present]
    else:
        phrase_counts = counts[joiner.phrase_ids]
    stats.phrase_types = int(np.count_nonzero(phrase_counts))
    stats.phrase_tokens = int(phrase_counts.sum())
    stats.tokens_before, stats.tokens_after = scanned.n_tokens, int(offsets[-1])
    (entry / "phrases.json").write_text(json.dumps(asdict(stats), indent=1) + "\n", "utf-8")
    write_entry(entry, words, counts, offsets, {"source": "joined phrases", "table": table.key()})
