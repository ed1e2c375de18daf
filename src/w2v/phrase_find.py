"""Finding phrases in a scanned corpus, pass by pass.

Each pass counts every candidate (a word, any connector words, the next word: gensim's rule)
of the corpus's int32 ids in a compiled hash table (phrase_kernel.py), scores all of them at
once with numpy, keeps those above the threshold, and joins them (phrase_join.py) into the
corpus the next pass counts. The scores are gensim's, to the bit:

* default: ``(count(ab) - min_count) / (count(a) count(b)) * N``, N being the number of
  distinct words and candidates counted (gensim's ``len_vocab``; word2phrase.c multiplies
  by the corpus's word count instead, which only rescales the threshold);
* npmi: ``log(p(ab) / (p(a) p(b))) / -log(p(ab))``, p = count / tokens, for pairs seen at
  least min_count times.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import write_text
from .corpus import ScannedCorpus, count_ids
from .errors import W2VError
from .phrase_join import Joiner, join_into, kernel, max_inside, pow2
from .phrase_table import DELIMITER, Phrase, PhraseConfig, PhraseTable

_FIRST_CAPACITY = 1 << 16  # the fewest slots of a fresh counting table
# Linear probing stays quick up to this load; 16-byte slots keep a probe in one cache line.
_MAX_LOAD = 0.7
# Distinct candidates per token, as a corpus of millions of words has them (a Wikipedia of
# 17M words: 0.23). The table starts with room for that many, so it rarely grows: each
# doubling rehashes every entry (7 doublings were 40% of counting that Wikipedia).
_CANDIDATES_PER_TOKEN = 0.25


@dataclass
class FindReport:
    """How a table was found: per pass, distinct candidates counted, phrases kept,
    whether the pair table was pruned, and the time taken."""

    settings: str
    tokens: int
    passes: list[dict[str, Any]] = field(default_factory=list)


class _PairCounter:
    """A compiled hash table of candidate counts that grows by doubling up to room for
    ``max_pairs``, then drops the rarest pairs as word2phrase's ReduceVocab does."""

    def __init__(self, max_pairs: int, longest: int, tokens: int) -> None:
        self.max_pairs = max_pairs
        self.longest = longest  # a sentence may add this many after a check
        self.max_capacity = pow2(int((max_pairs + longest + 1) / _MAX_LOAD))
        expected = int(tokens * _CANDIDATES_PER_TOKEN / _MAX_LOAD) + longest
        first = pow2(max(_FIRST_CAPACITY, 4 * longest, expected))
        self.table = np.zeros((min(first, self.max_capacity), 2), dtype=np.int64)
        self.size = 0
        self.prunes = 0
        self.min_reduce = 1

    def count(
        self, ids: np.ndarray, offsets: np.ndarray, conn: np.ndarray, base: int, n: int
    ) -> None:
        k = kernel()
        sentence, n_sentences = 0, len(offsets) - 1
        inside = max_inside(base)
        while sentence < n_sentences:
            full = len(self.table) >= self.max_capacity
            stop = self.max_pairs if full else int(len(self.table) * _MAX_LOAD) - self.longest
            sentence, self.size = k.count_candidates(
                ids, offsets, sentence, conn, base, inside, n, self.table, self.size, stop
            )
            if self.size <= stop:
                continue
            if not full:
                bigger = np.zeros((len(self.table) * 2, 2), dtype=np.int64)
                k.rehash(self.table, bigger)
                self.table = bigger
                continue
            while self.size > self.max_pairs:
                self.size -= k.prune(self.table, self.min_reduce)
                self.min_reduce += 1
                self.prunes += 1

    def entries(self, min_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(keys, codes, counts) of the candidates counted ``min_count`` times or more."""
        return kernel().entries_counted_at_least(self.table, min_count)


def _scores(
    config: PhraseConfig, count_ab: np.ndarray, count_a: np.ndarray, count_b: np.ndarray,
    distinct: int, tokens: int,
) -> np.ndarray:  # fmt: skip
    """gensim's original_scorer / npmi_scorer on whole arrays, in gensim's order of
    operations, so that the floats come out the same."""
    a, b = count_a.astype(np.float64), count_b.astype(np.float64)
    if config.scoring == "default":
        return (count_ab - config.min_count).astype(np.float64) / (a * b) * float(distinct)
    n = float(tokens)
    p_ab = count_ab / n
    with np.errstate(divide="ignore"):
        npmi = np.log(p_ab / ((a / n) * (b / n))) / -np.log(p_ab)
    return np.where(count_ab >= config.min_count, npmi, -np.inf)


def _find_in_pass(
    ids: np.ndarray,
    offsets: np.ndarray,
    words: Sequence[str],
    counts: np.ndarray,
    config: PhraseConfig,
    number: int,
    made: np.ndarray | None = None,
) -> tuple[list[Phrase], dict[str, Any]]:
    """The phrases of one pass; after the first, only pairs that hold a phrase ``made``
    before (a boolean per word) may become one (see find_phrases)."""
    started = time.perf_counter()
    connectors = sorted(config.connector_words())
    digit = {w: d for d, w in enumerate(connectors, 1)}
    base = len(connectors) + 1
    n = len(words)
    conn = np.zeros(n, dtype=np.int32)
    for i, w in enumerate(words):  # once per distinct word, not per token
        if w in digit:
            conn[i] = digit[w]
    longest = int(np.diff(offsets).max()) if len(offsets) > 1 else 0
    counter = _PairCounter(config.max_pairs, longest, int(offsets[-1]) if len(offsets) else 0)
    counter.count(ids, offsets, conn, base, n)
    # Only pairs seen min_count times can score above the threshold (the default score
    # of a rarer pair is <= 0 and its threshold > 0; npmi leaves them out), but N counts
    # them all.
    keys, codes, count_ab = counter.entries(config.min_count)
    distinct = int(np.count_nonzero(counts[conn == 0])) + counter.size
    table_bytes = counter.table.nbytes
    del counter.table
    a, b = keys // n, keys % n
    score = _scores(config, count_ab, counts[a], counts[b], distinct, int(offsets[-1]))
    above = score > config.score_threshold
    chosen = np.flatnonzero(above if made is None else above & (made[a] | made[b]))
    rows = []
    for i in chosen.tolist():  # once per phrase found
        middle, code = [], int(codes[i])
        while code:
            code, d = divmod(code, base)
            middle.append(connectors[d - 1])
        parts = (words[int(a[i])], *middle, words[int(b[i])])
        rows.append(Phrase(DELIMITER.join(parts), int(count_ab[i]), float(score[i]), number, parts))
    report = {
        "pass": number,
        "candidates": counter.size,
        "phrases": len(rows),
        "prunes": counter.prunes,
        "dropped_at_most": counter.min_reduce - 1,
        "table_bytes": table_bytes,
        "seconds": round(time.perf_counter() - started, 3),
    }
    return rows, report


def find_phrases(
    scanned: ScannedCorpus, config: PhraseConfig, workdir: Path | None = None
) -> tuple[PhraseTable, FindReport]:
    """The phrases of a scanned corpus, pass by pass: each pass counts the corpus with the
    phrases of the passes before it joined (in a temporary file under ``workdir``).

    A pass after the first keeps only pairs that extend a phrase ("new_york" + "times"). A
    pair of plain words had its chance in pass 1, with gensim's score; counted again, N has
    grown by the new tokens and their pairs, so the same pairs score higher, and a second
    pass would add thousands of pairs that pass 1 turned down (to_be, to_create).
    """
    config.validate()
    report = FindReport(config.describe(), scanned.n_tokens)
    rows: list[Phrase] = []
    with tempfile.TemporaryDirectory(prefix="w2v-phrases-", dir=workdir) as tmp:
        ids, offsets, words, counts = scanned.ids, scanned.offsets, scanned.words, scanned.counts
        made = None
        for number in range(1, config.passes + 1):
            if number > 1:
                joiner = Joiner(PhraseTable(rows), scanned.words)
                path = Path(tmp) / f"pass{number}.int32"
                offsets = join_into(path, scanned.ids, scanned.offsets, joiner)
                words = joiner.words
                counts = count_ids(path, int(offsets[-1]), len(words))
                ids = np.memmap(path, dtype="<i4", mode="r", shape=(int(offsets[-1]),))
                made = np.zeros(len(words), dtype=bool)
                made[joiner.phrase_ids] = True
            found, summary = _find_in_pass(ids, offsets, words, counts, config, number, made)
            rows += found
            report.passes.append(summary)
            if not found:
                break
    return PhraseTable(rows), report


def _config_key(config: PhraseConfig) -> str:

    text = json.dumps({"version": 2, **asdict(config)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def auto_table(scanned: ScannedCorpus, config: PhraseConfig) -> tuple[PhraseTable, dict[str, Any]]:
    """The table ``--phrases auto`` finds, cached beside the scan (with its report)."""
    if scanned.path is None:
        table, report = find_phrases(scanned, config)
        return table, asdict(report)
    stem = scanned.path / f"phrase-table-{_config_key(config)}"
    with contextlib.suppress(W2VError, OSError, ValueError, KeyError):
        report = json.loads(stem.with_suffix(".json").read_text("utf-8"))
        return PhraseTable.read(stem.with_suffix(".tsv")), report
    table, found = find_phrases(scanned, config, scanned.path)
    table.write(stem.with_suffix(".tsv"))
    write_text(stem.with_suffix(".json"), json.dumps(asdict(found), indent=1) + "\n")
    return table, asdict(found)
