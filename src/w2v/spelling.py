"""Suggestions for a word that is not in the vocabulary: spelled alike, best first."""

from __future__ import annotations

import difflib
import heapq
from collections import Counter

import numpy as np

_SPELL_WIDTH = 16
_SUGGEST_CUTOFF = 0.6  # difflib.get_close_matches' default
_SUGGEST_EDITS = 2  # a suggestion within this many edits beats any by difflib's ratio


class Speller:
    """The words of a vocabulary (most frequent first), laid out for fast comparisons."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.lengths = np.fromiter(map(len, words), dtype=np.int32, count=len(words))
        # Fixed-width code points; longer words are cut, so their bound is unknown.
        chars = np.array(words, dtype=f"<U{_SPELL_WIDTH}").view(np.uint32)
        self.chars = chars.reshape(len(words), _SPELL_WIDTH)
        last_column = np.clip(self.lengths, 1, _SPELL_WIDTH) - 1
        self.lasts = self.chars[np.arange(len(words)), last_column]

    def suggest(self, word: str, n: int = 3) -> list[str]:
        """Up to ``n`` known words spelled like ``word``, best first.

        First the words within two edits (insert, delete, substitute, swap two neighbours;
        case ignored), nearest first; among equals those of the same length, then those with
        the same first letter, then the more frequent: a typo's word is usually one edit
        away. Failing those, the words difflib's ratio finds alike.

        Both are too slow for a million words, so the vocabulary is first cut down with
        vectorised tests (length within 2, the same first or last character in either case,
        enough characters shared with multiplicity); ratios are then computed in order of
        an upper bound on them (difflib's quick_ratio), stopping once no remaining word can
        make the top n.
        """
        keys = self.words
        if not word or not keys:
            return []
        lengths, chars, lasts = self.lengths, self.chars, self.lasts

        def variants(ch: str) -> list[int]:
            return [ord(c) for c in {ch, ch.lower(), ch.upper()} if len(c) == 1]

        size = len(word)
        long = lengths > _SPELL_WIDTH
        mask = np.abs(lengths - size) <= _SUGGEST_EDITS
        mask &= np.isin(chars[:, 0], variants(word[0])) | np.isin(lasts, variants(word[-1])) | long
        index = np.flatnonzero(mask)
        rows = chars[index]
        shared = np.zeros(len(index), dtype=np.int64)
        for ch, times in Counter(word).items():
            same = np.isin(rows, variants(ch))
            shared += np.minimum(same.sum(axis=1), times)

        # Two edits change at most two characters of the longer word.
        near = index[(np.maximum(lengths[index], size) - shared <= _SUGGEST_EDITS) | long[index]]
        folded = word.casefold()
        nearest = []
        for i in near.tolist():
            other = keys[i].casefold()
            edits = _edit_distance(folded, other)
            if edits <= _SUGGEST_EDITS:
                # among equals: the same length, then the same first letter (a typo rarely
                # hits either), then the more frequent word
                same = (len(other) != size, other[:1] != folded[:1])
                nearest.append((edits, *same, i))
        if nearest:
            return [keys[entry[-1]] for entry in sorted(nearest)[:n]]

        bound = np.where(long[index], 1.0, 2.0 * shared / (lengths[index] + size))
        keep = np.flatnonzero(bound >= _SUGGEST_CUTOFF)
        keep = keep[np.argsort(-bound[keep], kind="stable")]
        matcher = difflib.SequenceMatcher()
        matcher.set_seq2(word)
        best: list[tuple[float, int]] = []  # min-heap of the n best (ratio, -row)
        for j in keep.tolist():
            if len(best) == n and best[0][0] > bound[j]:
                break
            row = int(index[j])
            matcher.set_seq1(keys[row])
            score = matcher.ratio()
            if score < _SUGGEST_CUTOFF:
                continue
            if len(best) < n:
                heapq.heappush(best, (score, -row))
            elif (score, -row) > best[0]:
                heapq.heapreplace(best, (score, -row))
        return [keys[-row] for _, row in sorted(best, reverse=True)]


def _edit_distance(a: str, b: str) -> int:
    """Edits from ``a`` to ``b``: inserts, deletes, substitutions and swaps of two
    neighbouring characters (the optimal string alignment distance)."""
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        before, previous = previous, current
    return previous[len(b)]
