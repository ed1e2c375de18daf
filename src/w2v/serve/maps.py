"""2-D maps of a model's words for the page: the N most frequent words, or chosen words with
their nearest neighbours.

The projection is plot.py's ``project_2d`` on the unit-length vectors, as `w2v plot words`
draws it: PCA is exact and takes milliseconds, so it is computed for every request; t-SNE
takes seconds to a minute, so each t-SNE map is computed once and kept (the last few per
model), and a second request for it while it is computed waits for that answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..plot import project_2d
from ..vectors import KeyedVectors
from .limits import TSNE_CACHE

_DIGITS = 5  # a map's coordinates, rounded: the page draws pixels, not decimals


class Maps:
    """The maps of one model's words."""

    def __init__(self, kv: KeyedVectors) -> None:
        self.kv = kv
        self._tsne: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()
        self._tsne_lock = threading.Lock()

    def top(self, n: int, method: str) -> dict[str, Any]:
        """The ``n`` most frequent words (the first rows)."""
        rows = list(range(min(n, len(self.kv))))
        return self._answer(rows, [None] * len(rows), set(), method)

    def around(self, words: Sequence[str], neighbors: int, method: str) -> dict[str, Any]:
        """``words`` (known, as the vocabulary spells them), each followed by its
        ``neighbors`` nearest words by cosine; a word is drawn once, in the group of the
        first word it came with."""
        groups: dict[int, int] = {}
        chosen: set[int] = set()
        for group, word in enumerate(words):
            row = self.kv.key_to_index[word]
            chosen.add(row)
            groups.setdefault(row, group)
            if neighbors:
                for near, _ in self.kv.most_similar(word, topn=neighbors):
                    groups.setdefault(self.kv.key_to_index[near], group)
        rows = list(groups)
        return self._answer(rows, [groups[r] for r in rows], chosen, method)

    def _answer(
        self, rows: list[int], groups: list[int | None], chosen: set[int], method: str
    ) -> dict[str, Any]:
        xy = np.round(self._project(tuple(rows), method), _DIGITS).tolist()
        points = [
            {
                "word": self.kv.index_to_key[row],
                "x": x,
                "y": y,
                "group": group,
                "chosen": row in chosen,
            }
            for row, (x, y), group in zip(rows, xy, groups, strict=True)
        ]
        return {"method": method, "points": points}

    def _project(self, rows: tuple[int, ...], method: str) -> np.ndarray:
        vectors = self.kv.get_normed_vectors()
        if method != "tsne":
            return project_2d(vectors[list(rows)], method)
        with self._tsne_lock:
            if rows in self._tsne:
                self._tsne.move_to_end(rows)
                return self._tsne[rows]
            coords = project_2d(vectors[list(rows)], method)
            self._tsne[rows] = coords
            while len(self._tsne) > TSNE_CACHE:
                self._tsne.popitem(last=False)
            return coords
