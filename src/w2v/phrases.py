"""Phrases: word pairs that are one thing ("new_york"), found in a corpus and joined into one
token before training, as Mikolov et al.'s word2phrase and gensim's ``Phrases`` do.

This is their public face: ``w2v.Phrases`` (gensim's names) and what a run needs
(``--phrases FILE|auto``). Finding is phrase_find.py's, joining phrase_join.py's, the
compiled loops phrase_kernel.py's, the knobs, rows and file phrase_table.py's. Both work on
the scanned corpus's int32 ids (corpus.py), so the text is tokenized once, by the same
readers and tokenizer as training, and cached.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .corpus import ScannedCorpus
from .errors import W2VError, option
from .phrase_find import FindReport, auto_table, find_phrases
from .phrase_join import BLOCK_TOKENS, Joiner, JoinStats, join_scanned, prune_note
from .phrase_table import Phrase, PhraseConfig, PhraseTable, auto_config, phrase_config

__all__ = [
    "FindReport",
    "JoinStats",
    "Phrases",
    "check_option",
    "find_phrases",
    "join_for_run",
    "join_scanned",
    "option_value",
    "prune_note",
]


# --------------------------------------------------------------------------- training


def check_option(value: str | None, distributed: bool = False) -> None:
    """Fail early (before a run directory is made) on a --phrases value that cannot work."""
    if value is None:
        return
    if value == "auto":
        if distributed:
            raise W2VError(
                f"{option('phrases', 'auto')} finds phrases in the whole corpus, which one "
                "rank does not see: find them first (w2v phrases CORPUS -o phrases.tsv) and "
                f"give the table ({option('phrases', 'phrases.tsv')})"
            )
        return
    PhraseTable.read(value)


def join_for_run(scanned: ScannedCorpus, value: str) -> tuple[ScannedCorpus, JoinStats]:
    """The corpus a run trains on when its ``phrases`` option is set (a table's path, or
    auto: found first with the defaults, but a threshold of AUTO_THRESHOLD)."""
    if value == "auto":
        table, found = auto_table(scanned, auto_config())
        return join_scanned(scanned, table, "auto", found)
    return join_scanned(scanned, PhraseTable.read(value), value)


def option_value(value: Any, cache_dir: Path) -> str | None:
    """What ``w2v.train(phrases=...)`` was given, as the config's string: a path or auto as
    they are; a :class:`Phrases` is saved by content in the cache and named by its path."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Phrases):
        folder = cache_dir / "phrase-tables"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{value.table.key()}.tsv"
        if not path.is_file():
            value.save(path)
        return str(path)
    raise W2VError(f"{option('phrases')}: give a phrase table's path, 'auto' or a w2v.Phrases")


# --------------------------------------------------------------------------- the Python API


class Phrases:
    """Phrases found in a corpus, or read from a table: gensim's ``Phrases``, compiled.

    >>> phrases = w2v.Phrases("corpus.txt")                      # or a list of token lists
    >>> phrases[["i", "live", "in", "new", "york"]]
    ['i', 'live', 'in', 'new_york']
    >>> phrases.export()[:3]                                     # Phrase rows, best first
    >>> phrases.save("phrases.tsv"); w2v.Phrases.load("phrases.tsv")

    Keywords: the :class:`~w2v.phrase_table.PhraseConfig` knobs (``min_count``,
    ``threshold``, ``scoring``, ``connectors``: "english" or any words, ``passes``,
    ``max_pairs``), and for a corpus path the reading options of ``w2v.train``
    (``tokenizer``, ``keep_case``, ``limit``, ``cache_dir``, ...).
    """

    def __init__(
        self,
        sentences: str | os.PathLike[str] | Iterable[Sequence[str]] | None = None,
        *,
        table: PhraseTable | None = None,
        **options: Any,
    ) -> None:
        knobs = {k: options.pop(k) for k in list(options) if k in PhraseConfig.__annotations__}
        self.config = phrase_config(**knobs)
        self.report: FindReport | None = None
        # Made on the first join and kept: a call per sentence must not rebuild them.
        self._joiner: tuple[Joiner, dict[str, int], np.ndarray] | None = None
        if table is not None:
            if sentences is not None or options:
                raise W2VError("give a table or a corpus to find phrases in, not both")
            self.table = table
            return
        if sentences is None:
            raise W2VError("Phrases needs a corpus: a path, or an iterable of token lists")
        self.table, self.report = _find(sentences, self.config, options)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Phrases:
        """A table written by :meth:`save` or by ``w2v phrases``."""
        return cls(table=PhraseTable.read(path))

    def save(self, path: str | os.PathLike[str]) -> None:
        """The table as a TSV file (see phrase_table.py), headed by how it was found."""
        found = "" if self.report is None else f" in {self.report.tokens:,} tokens"
        self.table.write(path, f"w2v phrases{found}: {self.config.describe()}")

    def export(self) -> list[Phrase]:
        """The table's rows (phrase, count, score, pass_number, words), best first."""
        return list(self.table.rows)

    def export_phrases(self) -> dict[str, float]:
        """gensim's ``export_phrases``: phrase -> score (its best, if found in two passes)."""
        out: dict[str, float] = {}
        for row in reversed(self.table.rows):
            out[row.phrase] = row.score
        return dict(sorted(out.items(), key=lambda item: -item[1]))

    def freeze(self) -> Phrases:
        """Already frozen (gensim's FrozenPhrases): itself."""
        return self

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        return f"Phrases<{len(self.table):,} phrases, {self.table.passes} passes>"

    def __getitem__(self, sentence: Any) -> Any:
        """A sentence (list of tokens) with its phrases joined, as gensim's; a corpus (an
        iterable of sentences) gives a generator of joined sentences."""
        if isinstance(sentence, str):
            raise W2VError("Phrases[...] takes a list of tokens, not a string")
        if isinstance(sentence, (list, tuple)) and (not sentence or isinstance(sentence[0], str)):
            return next(self._join_sentences([sentence]))  # gensim's test: a first token
        return self._join_sentences(sentence)

    def _join_sentences(self, sentences: Iterable[Sequence[str]]) -> Iterator[list[str]]:
        if self._joiner is None:
            strings = sorted({w for r in self.table.rows for w in (*r.words, r.phrase)})
            made = Joiner(self.table, strings)
            index = {w: i for i, w in enumerate(made.words)}
            self._joiner = made, index, np.array([*made.words, ""], dtype=object)
        joiner, index, words = self._joiner
        for block in _batches(sentences, BLOCK_TOKENS):
            flat = list(itertools.chain.from_iterable(block))
            # one dict lookup per token, in C (list(map) is twice np.fromiter's speed here)
            ids = np.array(list(map(index.get, flat, itertools.repeat(joiner.other))), np.int32)
            offsets = np.zeros(len(block) + 1, dtype=np.int64)
            np.cumsum([len(s) for s in block], out=offsets[1:])
            out_ids, new_offsets, source = joiner.join(ids, offsets, track=True)
            assert source is not None
            tokens = np.array(flat, dtype=object)[np.maximum(source, 0)]
            phrases = source < 0
            tokens[phrases] = words[out_ids[phrases]]
            joined = tokens.tolist()
            bounds = new_offsets.tolist()
            for i in range(len(block)):
                yield joined[bounds[i] : bounds[i + 1]]


def _batches(sentences: Iterable[Sequence[str]], tokens: int) -> Iterator[list[Sequence[str]]]:
    block: list[Sequence[str]] = []
    size = 0
    for n, sentence in enumerate(sentences):
        if isinstance(sentence, str):
            raise W2VError(f"sentence {n} is a string: give a list of tokens")
        block.append(sentence)
        size += len(sentence)
        if size >= tokens:
            yield block
            block, size = [], 0
    if block:
        yield block


def _find(
    sentences: str | os.PathLike[str] | Iterable[Sequence[str]],
    config: PhraseConfig,
    options: dict[str, Any],
) -> tuple[PhraseTable, FindReport]:
    """Phrases of a corpus path (read and tokenized as training reads it, cached) or of
    token lists (scanned into a temporary folder)."""
    from .columns import Layout
    from .config import build_config
    from .corpus import Limit, scan_corpus, scan_sentences
    from .run import default_cache_dir

    cfg = build_config(None, **options)
    limit = Limit(cfg.limit, cfg.limit_sentences)
    if isinstance(sentences, (str, os.PathLike)):
        cache = Path(cfg.cache_dir) if cfg.cache_dir else default_cache_dir()
        scanned = scan_corpus(
            sentences,
            cfg.make_tokenizer(),
            Layout(cfg.text_column, cfg.delimiter, cfg.header),
            max_sentence_length=cfg.max_sentence_length,
            cache_dir=cache,
            limit=limit,
        )
        return find_phrases(scanned, config, scanned.path)
    with tempfile.TemporaryDirectory(prefix="w2v-phrases-") as tmp:
        scanned = scan_sentences(sentences, tmp, cfg.max_sentence_length, limit)
        return find_phrases(scanned, config, Path(tmp))
