"""Counting and joining phrase candidates over int32 ids, compiled.

A candidate is a word ``a``, the connector words right after it (none without a connector
list) and the next word ``b`` that is not a connector, within one sentence: gensim's
Phrases rule. It is keyed by ``a * n_words + b`` and by a code of its connectors: each
connector word has a digit 1..K, and the code of ``c1 c2 ...`` is ``d(c1) + d(c2) * base +
...`` with ``base = K + 1``; a run of more connectors than fit in 31 bits is no candidate
(seven of gensim's English connector words in a row).

Both tables are open-addressing hash tables (linear probing) in one int64 array of rows
``[key, code << 32 | value]``: 16 bytes a slot, four to a cache line, so a probe rarely
leaves one. Value 0 marks an empty slot; it is the count when counting (saturating at
2**32 - 1), the joined token's id + 1 when joining. Capacities are powers of two; the hash
is splitmix64's finalizer.
"""

from __future__ import annotations

import numpy as np
from numba import njit

KEY, PACKED = 0, 1
_LOW = np.int64(0xFFFFFFFF)  # the value's bits of PACKED
_MAX_COUNT = np.int64(0xFFFFFFFF)
_MIX_A = np.uint64(0x9E3779B97F4A7C15)
_MIX_B = np.uint64(0xC2B2AE3D27D4EB4F)
_MIX_C = np.uint64(0xBF58476D1CE4E5B9)
_MIX_D = np.uint64(0x94D049BB133111EB)


@njit(inline="always")
def _hash(key: int, code: int) -> np.uint64:
    z = np.uint64(key) * _MIX_A + np.uint64(code) * _MIX_B
    z = (z ^ (z >> np.uint64(30))) * _MIX_C
    z = (z ^ (z >> np.uint64(27))) * _MIX_D
    return z ^ (z >> np.uint64(31))


@njit(inline="always")
def _home(key: int, code: int, mask: int) -> int:
    return np.int64(_hash(key, code) & np.uint64(mask))


# A Bloom filter of a pass's phrases, two bits each, taken from the hash's high bits (the
# table's slot comes from the low ones): most pairs that are no phrase are turned away by a
# read of an array that stays in cache, not a probe of the table.
BLOOM_BITS_PER_PHRASE = 16
BLOOM_MAX_BITS = 1 << 24


@njit(inline="always")
def _bloom_bits(h: np.uint64, mask: int) -> tuple[int, int]:
    return np.int64(h >> np.uint64(40)) & mask, np.int64((h >> np.uint64(16)) & _LOW) & mask


@njit(inline="always")
def _maybe_in(bloom: np.ndarray, h: np.uint64) -> bool:
    mask = bloom.shape[0] * 64 - 1
    b1, b2 = _bloom_bits(h, mask)
    return (bloom[b1 >> 6] >> np.uint64(b1 & 63)) & np.uint64(1) != 0 and (
        bloom[b2 >> 6] >> np.uint64(b2 & 63)
    ) & np.uint64(1) != 0


@njit(nogil=True, cache=True)
def count_candidates(
    ids: np.ndarray,
    offsets: np.ndarray,
    sentence: int,
    conn: np.ndarray,
    base: int,
    max_inside: int,
    n_words: int,
    table: np.ndarray,
    size: int,
    stop_size: int,
) -> tuple[int, int]:
    """Count the candidates of sentences ``sentence``, ``sentence + 1``, ... into ``table``
    until the table holds more than ``stop_size`` after a sentence (gensim checks its
    vocabulary after every sentence too). Returns (next sentence, entries in the table)."""
    mask = table.shape[0] - 1
    n_sentences = offsets.shape[0] - 1
    while sentence < n_sentences and size <= stop_size:
        start = -1
        code = 0
        digit = 1
        inside = 0
        for p in range(offsets[sentence], offsets[sentence + 1]):
            w = ids[p]
            c = conn[w]
            if c == 0:
                if start >= 0 and inside <= max_inside:
                    key = np.int64(ids[start]) * n_words + w
                    tag = code << 32
                    i = _home(key, code, mask)
                    while True:
                        packed = table[i, PACKED]
                        if packed == 0:
                            table[i, KEY] = key
                            table[i, PACKED] = tag | 1
                            size += 1
                            break
                        if table[i, KEY] == key and packed & ~_LOW == tag:
                            if packed & _LOW < _MAX_COUNT:
                                table[i, PACKED] = packed + 1
                            break
                        i = (i + 1) & mask
                start = p
                code = 0
                digit = 1
                inside = 0
            elif start >= 0:
                inside += 1
                if inside <= max_inside:
                    code += c * digit
                    digit *= base
        sentence += 1
    return sentence, size


@njit(nogil=True, cache=True)
def rehash(table: np.ndarray, into: np.ndarray) -> None:
    """Every entry of ``table`` inserted into the empty, larger ``into``."""
    mask = into.shape[0] - 1
    for j in range(table.shape[0]):
        packed = table[j, PACKED]
        if packed != 0:
            i = _home(table[j, KEY], packed >> 32, mask)
            while into[i, PACKED] != 0:
                i = (i + 1) & mask
            into[i, KEY] = table[j, KEY]
            into[i, PACKED] = packed


@njit(nogil=True, cache=True)
def entries_counted_at_least(
    table: np.ndarray, min_count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keys, codes, counts) of the entries counted ``min_count`` times or more, in slot
    order: one read of the table, and only the pairs that can score are copied out."""
    at_least = max(np.int64(min_count), np.int64(1))
    n = 0
    for j in range(table.shape[0]):
        if table[j, PACKED] & _LOW >= at_least:
            n += 1
    keys = np.empty(n, np.int64)
    codes = np.empty(n, np.int64)
    counts = np.empty(n, np.int64)
    n = 0
    for j in range(table.shape[0]):
        packed = table[j, PACKED]
        if packed & _LOW >= at_least:
            keys[n] = table[j, KEY]
            codes[n] = packed >> 32
            counts[n] = packed & _LOW
            n += 1
    return keys, codes, counts


@njit(nogil=True, cache=True)
def prune(table: np.ndarray, at_most: int) -> int:
    """Drop, in place, every entry counted ``at_most`` times or fewer (word2phrase's
    ReduceVocab); returns how many. Each deletion shifts the rest of its probe run back
    (Knuth's algorithm R), so no tombstones and no second table are needed."""
    mask = table.shape[0] - 1
    removed = 0
    for p in range(table.shape[0]):
        # A later entry shifted into p may be one to drop too: look at p again.
        while table[p, PACKED] != 0 and table[p, PACKED] & _LOW <= at_most:
            hole = p
            j = p
            while True:
                j = (j + 1) & mask
                if table[j, PACKED] == 0:
                    break
                home = _home(table[j, KEY], table[j, PACKED] >> 32, mask)
                # j may fill the hole unless its home lies cyclically in (hole, j].
                if (hole <= j and (home <= hole or home > j)) or (
                    hole > j and home <= hole and home > j
                ):
                    table[hole, KEY] = table[j, KEY]
                    table[hole, PACKED] = table[j, PACKED]
                    hole = j
            table[hole, PACKED] = 0
            removed += 1
    return removed


@njit(nogil=True, cache=True)
def build_lookup(
    keys: np.ndarray,
    codes: np.ndarray,
    tokens: np.ndarray,
    table: np.ndarray,
    scores: np.ndarray,
    row_scores: np.ndarray,
    bloom: np.ndarray,
) -> None:
    """Phrases into an empty lookup table (value: joined token id + 1, score alongside) and
    into an empty Bloom filter (uint64 words, a power of two of them)."""
    mask = table.shape[0] - 1
    bits = bloom.shape[0] * 64 - 1
    for r in range(keys.shape[0]):
        h = _hash(keys[r], codes[r])
        b1, b2 = _bloom_bits(h, bits)
        bloom[b1 >> 6] |= np.uint64(1) << np.uint64(b1 & 63)
        bloom[b2 >> 6] |= np.uint64(1) << np.uint64(b2 & 63)
        i = np.int64(h & np.uint64(mask))
        while table[i, PACKED] != 0:
            i = (i + 1) & mask
        table[i, KEY] = keys[r]
        table[i, PACKED] = (codes[r] << 32) | (tokens[r] + 1)
        scores[i] = row_scores[r]


@njit(inline="always")
def _resolve_chain(score: np.ndarray, keep: np.ndarray, lo: int, hi: int) -> None:
    """Candidates lo..hi-1 each overlap the next: join the highest-scoring first, then the
    next highest that overlaps no joined one, and so on (ties: the leftmost first)."""
    order = np.argsort(-score[lo:hi], kind="mergesort")
    for t in range(lo, hi):
        keep[t] = False
    for t in range(hi - lo):
        j = lo + order[t]
        if not ((j > lo and keep[j - 1]) or (j + 1 < hi and keep[j + 1])):
            keep[j] = True


STARTS, ENDS, DIGIT_SHIFT = 1, 2, 2  # the bits of join_sentences' ``roles``


@njit(nogil=True, cache=True)
def join_sentences(
    ids: np.ndarray,
    offsets: np.ndarray,
    roles: np.ndarray,
    base: int,
    max_inside: int,
    n_words: int,
    table: np.ndarray,
    scores: np.ndarray,
    bloom: np.ndarray,
    source: np.ndarray,
    out_ids: np.ndarray,
    out_source: np.ndarray,
    out_offsets: np.ndarray,
) -> tuple[int, int]:
    """One pass of joining: every candidate found in ``table`` becomes its phrase's token,
    where two overlap the higher-scoring one (see _resolve_chain). ``roles[w]`` holds w's
    connector digit (<< DIGIT_SHIFT) and whether some phrase of the pass STARTS or ENDS with
    it: only such pairs are looked up, one read per token instead of a probe. Writes the
    joined ids, the new sentence offsets and, if ``source`` is not empty, ``source`` of each
    plain token (-1 for a phrase: where it came from, through the passes before). Returns
    (tokens written, phrases joined)."""
    mask = table.shape[0] - 1
    track = source.shape[0] > 0
    longest = 1
    for s in range(offsets.shape[0] - 1):
        longest = max(longest, offsets[s + 1] - offsets[s])
    first = np.empty(longest, np.int64)
    last = np.empty(longest, np.int64)
    token = np.empty(longest, np.int64)
    score = np.empty(longest, np.float64)
    keep = np.empty(longest, np.bool_)
    q = 0
    joined = 0
    out_offsets[0] = 0
    for s in range(offsets.shape[0] - 1):
        lo, hi = offsets[s], offsets[s + 1]
        m = 0
        start = -1
        code = 0
        digit = 1
        inside = 0
        starts = False
        for p in range(lo, hi):
            w = ids[p]
            role = roles[w]
            c = role >> DIGIT_SHIFT
            if c == 0:
                if starts and role & ENDS and inside <= max_inside:
                    key = np.int64(ids[start]) * n_words + w
                    tag = code << 32
                    h = _hash(key, code)
                    i = np.int64(h & np.uint64(mask))
                    while _maybe_in(bloom, h) and table[i, PACKED] != 0:
                        packed = table[i, PACKED]
                        if table[i, KEY] == key and packed & ~_LOW == tag:
                            first[m] = start
                            last[m] = p
                            token[m] = (packed & _LOW) - 1
                            score[m] = scores[i]
                            m += 1
                            break
                        i = (i + 1) & mask
                start = p
                starts = role & STARTS != 0
                code = 0
                digit = 1
                inside = 0
            elif start >= 0:
                inside += 1
                if inside <= max_inside:
                    code += c * digit
                    digit *= base
        k = 0
        while k < m:  # runs of candidates that each share a word with the next
            e = k
            while e + 1 < m and last[e] == first[e + 1]:
                e += 1
            if e == k:
                keep[k] = True
            else:
                _resolve_chain(score, keep, k, e + 1)
            k = e + 1
        p = lo
        k = 0
        while p < hi:
            while k < m and not keep[k]:
                k += 1
            if k < m and first[k] == p:
                out_ids[q] = token[k]
                if track:
                    out_source[q] = -1
                p = last[k] + 1
                k += 1
                joined += 1
            else:
                out_ids[q] = ids[p]
                if track:
                    out_source[q] = source[p]
                p += 1
            q += 1
        out_offsets[s + 1] = q
    return q, joined
