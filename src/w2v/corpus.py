"""Scanning a corpus into cached integer ids, and encoding it with a vocabulary.

A corpus (any source of sources.py, or an iterable of token lists) is tokenized once into a
cache entry: the ids of every token in first-seen order (an int32 memory map), the sentence
offsets, the distinct words and their counts. A rerun with the same files and settings loads
the entry instead of reading the text. Encoding maps those ids to a vocabulary's, dropping
the other words; it is cached inside the scan's entry, keyed by the vocabulary.

Entries are built in a temporary folder and renamed into place, so an interrupted scan never
leaves a half entry behind, and a damaged one is rescanned.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import stat
import tempfile
import time
import unicodedata
from array import array
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import sources
from .atomic import publish_dir
from .columns import Layout
from .config import MAX_SENTENCE_LENGTH
from .errors import W2VError, first_line
from .sources import Source
from .tokenize import Tokenizer

log = logging.getLogger(__name__)

SCAN_FORMAT_VERSION = 2
"""Bumped whenever tokenization or the cache layout changes, so old entries are not reused."""

_PROGRESS_EVERY = 1_000_000

Blocks = Iterator[tuple[list[str], list[int]]]
"""(tokens, sentence lengths) block by block: concatenating every block's tokens and cutting
them at the concatenated lengths gives the sentences (one may span blocks)."""


class Limit(NamedTuple):
    """Read only the first ``words`` tokens and/or ``sentences`` sentences (None: all)."""

    words: int | None = None
    sentences: int | None = None

    def per_rank(self, ranks: int) -> Limit:
        """Each of ``ranks`` ranks reads its share of the limit (rounded up)."""
        return Limit(*(None if n is None else -(-n // ranks) for n in self))


NO_LIMIT = Limit()


# --------------------------------------------------------------------------- sentences


class SentenceCutter:
    """Sentence lengths from records of tokens, as word2vec and gensim cut them.

    A record is a sentence; one longer than ``limit`` tokens becomes sentences of exactly
    ``limit`` (the last one shorter). A record may arrive in pieces (a text line longer than
    a read block): ``ends=False`` keeps its sentence open for the next piece.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise W2VError(f"max_sentence_length must be at least 1, not {limit}")
        self.limit = limit
        self.pending = 0  # tokens of the sentence that is still open

    def add(self, n_tokens: int, ends: bool, lengths: list[int]) -> None:
        """Account for ``n_tokens`` more tokens of the current record; the lengths of the
        sentences this completes are appended to ``lengths``."""
        pending = self.pending + n_tokens
        if pending >= self.limit:
            full, pending = divmod(pending, self.limit)
            lengths.extend([self.limit] * full)
        if pending and ends:
            lengths.append(pending)
            pending = 0
        self.pending = pending


def _token_blocks(
    source: Source, tokenizer: Tokenizer, layout: Layout, max_sentence_length: int
) -> Blocks:
    """The Blocks of a source."""
    cutter = SentenceCutter(max_sentence_length)
    normalize = tokenizer.normalize
    for chunk in sources.iter_chunks(source, layout):
        if isinstance(chunk, list):
            text = "\n".join(chunk)
            if text.count("\n") != len(chunk) - 1:  # a value is one record, newlines or not
                text = "\n".join(record.replace("\n", " ") for record in chunk)
            continues = False
        else:
            text, continues = chunk
        text = normalize(text)
        lengths: list[int] = []
        if "\n" not in text:  # one (part of a) line: text8 and the like
            tokens = text.split()
            cutter.add(len(tokens), not continues, lengths)
        else:
            tokens = []
            lines = text.split("\n")
            last = len(lines) - 1
            for k, line in enumerate(lines):
                words = line.split()
                tokens += words
                cutter.add(len(words), k < last or not continues, lengths)
        if tokens or lengths:  # a closing piece can end a sentence without adding tokens
            yield tokens, lengths


def _share_blocks(
    source: Source,
    tokenizer: Tokenizer,
    layout: Layout,
    max_sentence_length: int,
    share: tuple[int, int],
) -> Blocks:
    """The Blocks of one rank's share of ``source``.

    ``share`` is (rank, ranks): the share is every ranks-th record counted from ``rank``,
    where a record is a line of text (a line longer than READ_BLOCK_SIZE counts once per
    piece it is read in, each cut at whitespace) or a value of the text column. Each record
    is its own sentence (or several, cut at ``max_sentence_length``), so the shares hold
    exactly the tokens of the corpus between them, none twice.
    """
    cutter = SentenceCutter(max_sentence_length)
    rank, ranks = share
    seen = 0  # records before this chunk
    for chunk in sources.iter_chunks(source, layout):
        if isinstance(chunk, list):
            records = [record.replace("\n", " ") for record in chunk]
        else:
            records = chunk.text.split("\n")
        mine = records[(rank - seen) % ranks :: ranks]
        seen += len(records)
        tokens: list[str] = []
        lengths: list[int] = []
        for line in tokenizer.normalize("\n".join(mine)).split("\n") if mine else ():
            words = line.split()
            tokens += words
            cutter.add(len(words), True, lengths)
        if tokens:
            yield tokens, lengths


def _sentence_blocks(
    sentences: Iterable[Sequence[str]], max_sentence_length: int, block_tokens: int = 1 << 20
) -> Blocks:
    """(tokens, sentence lengths) blocks from token lists, long ones cut as word2vec does."""
    cutter = SentenceCutter(max_sentence_length)
    tokens: list[str] = []
    lengths: list[int] = []
    for n, sentence in enumerate(sentences):
        if isinstance(sentence, str) or not all(isinstance(t, str) for t in sentence):
            raise W2VError(
                f"sentence {n} is not a list of string tokens (got {type(sentence).__name__}); "
                "pass an iterable of token lists, or a file path"
            )
        tokens.extend(sentence)
        cutter.add(len(sentence), True, lengths)
        if len(tokens) >= block_tokens:
            yield tokens, lengths
            tokens, lengths = [], []
    if tokens:
        yield tokens, lengths


def _limited(blocks: Blocks, limit: Limit) -> Blocks:
    """The first ``limit.words`` tokens and ``limit.sentences`` sentences of ``blocks``; a
    sentence that crosses the word limit ends there. Stops reading the source at the limit."""
    max_words, max_sentences = limit
    words = 0  # tokens passed on
    open_len = 0  # of those, the tokens of the sentence still open
    sentences = 0  # sentences passed on
    try:
        for tokens, lengths in blocks:
            pos = 0  # tokens of this block in the sentences ended so far
            kept: list[int] = []
            for n in lengths:
                need = n - open_len  # the tokens of this block that end this sentence
                if max_words is not None and words + need >= max_words:
                    take = max_words - words
                    yield tokens[: pos + take], [*kept, open_len + take]
                    return
                pos, words, open_len, sentences = pos + need, words + need, 0, sentences + 1
                kept.append(n)
                if max_sentences is not None and sentences >= max_sentences:
                    yield tokens[:pos], kept
                    return
            rest = len(tokens) - pos
            if max_words is not None and words + rest >= max_words:
                take = max_words - words
                yield tokens[: pos + take], [*kept, open_len + take]
                return
            words, open_len = words + rest, open_len + rest
            yield tokens, kept
    finally:
        if isinstance(blocks, Generator):
            blocks.close()


def iter_sentences(
    source: Source,
    tokenizer: Tokenizer,
    layout: Layout | None = None,
    max_sentence_length: int = MAX_SENTENCE_LENGTH,
    limit: Limit = NO_LIMIT,
) -> Iterator[list[str]]:
    """Tokenized sentences: one per record, records longer than ``max_sentence_length``
    tokens cut into sentences of exactly that many (the last one shorter), as
    word2vec and gensim do for text8. Empty sentences are skipped."""
    carry: list[str] = []
    blocks = _token_blocks(source, tokenizer, layout or Layout(), max_sentence_length)
    for tokens, lengths in _limited(blocks, limit):
        if carry:
            tokens = carry + tokens
        pos = 0
        for n in lengths:
            yield tokens[pos : pos + n]
            pos += n
        carry = tokens[pos:]


# --------------------------------------------------------------------------- scanned corpus


def scan_settings(
    tokenizer: Tokenizer, layout: Layout, max_sentence_length: int, limit: Limit
) -> dict[str, object]:
    """Every setting that changes what a scan holds."""
    return {
        **tokenizer.settings(),
        "text_column": layout.text_column,
        "delimiter": layout.delimiter,
        "header": layout.header,
        "max_sentence_length": max_sentence_length,
        "limit_words": limit.words,
        "limit_sentences": limit.sentences,
    }


def source_fingerprint(source: Source, settings: dict[str, object]) -> str | None:
    """A hex key naming the scan of ``source`` with these settings; None if not cacheable.

    Covers the absolute path, size and mtime of every file that would be read, the
    settings, the cache format and the Unicode version (it decides what punctuation
    is). Stdin, pipes and other non-regular files are not cacheable.
    """
    if sources.is_stdin(source):
        return None
    h = hashlib.sha256()
    versions = {"format": SCAN_FORMAT_VERSION, "unicode": unicodedata.unidata_version}
    h.update(json.dumps({**versions, **settings}, sort_keys=True).encode())
    for path in sources.source_files(source):
        try:
            st = path.stat()
        except OSError as e:
            raise W2VError(f"{path}: {sources.describe(e)}") from e
        if not stat.S_ISREG(st.st_mode):
            return None
        h.update(
            f"\0{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}".encode("utf-8", "surrogateescape")
        )
    return h.hexdigest()


@dataclass
class ScannedCorpus:
    """A tokenized corpus as integer ids, memory-mapped from a cache entry."""

    words: list[str]
    """Every distinct token, in first-seen order."""
    counts: np.ndarray
    """int64; ``counts[i]`` is how often ``words[i]`` occurs."""
    ids: np.ndarray
    """int32 (a read-only memmap): the whole corpus as indices into ``words``."""
    offsets: np.ndarray
    """int64 sentence starts: ``ids[offsets[i]:offsets[i + 1]]`` is sentence ``i``."""
    path: Path | None = None
    """The cache entry holding ``ids``; None when it was a temporary one."""

    @property
    def n_tokens(self) -> int:
        return int(self.offsets[-1])

    @property
    def n_sentences(self) -> int:
        return len(self.offsets) - 1


@dataclass
class CorpusStats:
    """What a run reports once its corpus is read and its vocabulary built."""

    sentences: int
    tokens: int
    distinct_words: int
    vocab_size: int  # words kept (min_count, max_vocab)
    vocab_tokens: int  # tokens of those words
    min_count: int
    phrases: str | None = None  # with --phrases: what joining them made, in one line


class _Vocab(dict[str, int]):
    """token -> id, new tokens numbered in first-seen order.

    Hits stay in C (``dict.__getitem__``); only a new word runs Python code. Measured
    faster than ``setdefault`` with a counter.
    """

    def __missing__(self, token: str) -> int:
        index = self[token] = len(self)
        return index


def _write_scan(
    entry: Path,
    blocks: Blocks,
    display: str,
    settings: dict[str, object],
    progress: Callable[[int], None] | None,
) -> None:
    started = time.perf_counter()
    vocab = _Vocab()
    lookup = vocab.__getitem__
    lengths = array("q")
    n_tokens = 0
    next_report = _PROGRESS_EVERY
    ids_path = entry / "ids.int32"
    with open(ids_path, "wb") as out:
        for tokens, block_lengths in blocks:
            ids = np.array(list(map(lookup, tokens)), dtype="<i4")
            ids.tofile(out)
            n_tokens += len(ids)
            lengths.extend(block_lengths)
            if progress is not None and n_tokens >= next_report:
                progress(n_tokens)
                next_report = n_tokens + _PROGRESS_EVERY
    if n_tokens == 0:
        share = settings.get("share")
        if isinstance(share, list):
            raise W2VError(
                f"{display}: rank {share[0]}'s share of the corpus is empty (every "
                f"{share[1]}th line from line {share[0] + 1} on); use fewer ranks"
            )
        raise W2VError(f"{display}: the corpus is empty (no tokens)")
    if progress is not None:
        progress(n_tokens)

    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.frombuffer(lengths, dtype=np.int64), out=offsets[1:])
    counts = count_ids(ids_path, n_tokens, len(vocab))
    write_entry(entry, list(vocab), counts, offsets, {"source": display, **settings})
    log.debug(
        "scanned %s: %d tokens, %d words, %d sentences in %.2f s",
        display,
        n_tokens,
        len(vocab),
        len(lengths),
        time.perf_counter() - started,
    )


def count_ids(ids_path: Path, n_tokens: int, n_words: int) -> np.ndarray:
    """How often each id occurs in an ids.int32 file (int64, ``n_words`` long)."""
    counts = np.zeros(n_words, dtype=np.int64)
    all_ids = np.memmap(ids_path, dtype="<i4", mode="r", shape=(n_tokens,))
    step = 1 << 22  # bincount copies its input to int64: keep that copy small
    for start in range(0, n_tokens, step):
        counts += np.bincount(all_ids[start : start + step], minlength=n_words)
    return counts


def write_entry(
    entry: Path,
    words: Sequence[str],
    counts: np.ndarray,
    offsets: np.ndarray,
    meta: dict[str, object],
) -> None:
    """The files of a cache entry besides its ids.int32, which is written first (by the scan
    here, or by phrases.py joining phrases into a scanned corpus)."""
    np.save(entry / "offsets.npy", offsets, allow_pickle=False)
    np.save(entry / "counts.npy", counts, allow_pickle=False)
    # Tokens never hold whitespace, so one per line is unambiguous; surrogatepass
    # because JSON input can carry lone surrogates.
    (entry / "words.txt").write_bytes(("\n".join(words) + "\n").encode("utf-8", "surrogatepass"))
    header = {
        "format_version": SCAN_FORMAT_VERSION,
        "n_tokens": int(offsets[-1]),
        "n_sentences": len(offsets) - 1,
        "n_words": len(words),
    }
    # meta.json last: an entry without it is never complete.
    text = json.dumps({**header, **meta}, indent=1) + "\n"
    (entry / "meta.json").write_text(text, encoding="utf-8")


def load_scanned(path: str | os.PathLike[str]) -> ScannedCorpus:
    """Open a cache entry written by :func:`scan_corpus` (``ids`` memory-mapped)."""
    path = Path(path)
    try:
        meta = json.loads((path / "meta.json").read_text("utf-8"))
        if meta.get("format_version") != SCAN_FORMAT_VERSION:
            raise ValueError(f"format version {meta.get('format_version')!r}")
        n_tokens = int(meta["n_tokens"])
        n_sentences = int(meta["n_sentences"])
        text = (path / "words.txt").read_bytes().decode("utf-8", "surrogatepass")
        words = text.split("\n")
        if words[-1] != "":
            raise ValueError("words.txt does not end with a newline")
        words.pop()
        counts = np.load(path / "counts.npy", allow_pickle=False)
        offsets = np.load(path / "offsets.npy", allow_pickle=False)
        ids_size = (path / "ids.int32").stat().st_size
        if n_tokens < 1 or ids_size != 4 * n_tokens:
            raise ValueError(f"ids.int32 has {ids_size} bytes, expected {4 * n_tokens}")
        if counts.dtype != np.int64 or counts.shape != (len(words),):
            raise ValueError("counts.npy does not match words.txt")
        if int(counts.sum()) != n_tokens:
            raise ValueError("counts.npy does not add up to n_tokens")
        if offsets.dtype != np.int64 or offsets.shape != (n_sentences + 1,):
            raise ValueError("offsets.npy does not match n_sentences")
        if offsets[0] != 0 or offsets[-1] != n_tokens:
            raise ValueError("offsets.npy does not span the corpus")
        ids = np.memmap(path / "ids.int32", dtype="<i4", mode="r", shape=(n_tokens,))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise W2VError(f"{path}: not a valid scanned corpus ({first_line(e)})") from e
    return ScannedCorpus(words=words, counts=counts, ids=ids, offsets=offsets, path=path)


def _scan_to(
    cache_dir: Path,
    name: str,
    blocks: Blocks,
    display: str,
    settings: dict[str, object],
    progress: Callable[[int], None] | None,
) -> Path:
    """Scan into ``cache_dir/name``, published atomically."""
    return publish_dir(
        cache_dir,
        name,
        lambda entry: _write_scan(entry, blocks, display, settings, progress),
        lambda entry: (entry / "meta.json").is_file(),
        "corpus cache",
    )


def scan_corpus(
    source: Source,
    tokenizer: Tokenizer,
    layout: Layout | None = None,
    max_sentence_length: int = MAX_SENTENCE_LENGTH,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[int], None] | None = None,
    share: tuple[int, int] | None = None,
    limit: Limit = NO_LIMIT,
) -> ScannedCorpus:
    """Tokenize ``source`` once into integer ids on disk; reuse that when nothing changed.

    With ``share`` = (rank, ranks), only that rank's share of the records (see
    :func:`_share_blocks`), cached under its own name.

    The entry is ``cache_dir/<fingerprint>/`` (see :func:`source_fingerprint`); a
    complete, valid entry is loaded instead of reading the source, a corrupt one is
    rescanned. Stdin is scanned into a fresh ``cache_dir/stdin-<random>/`` each time.
    With ``cache_dir=None`` the scan goes to a temporary folder that is deleted once
    ``ids`` is mapped (POSIX keeps the mapped file alive); ``path`` is then None.
    ``progress(n_tokens_so_far)`` is called about every million tokens and once at the
    end with the total (also on a cache hit).
    """
    layout = layout or Layout()
    settings: dict[str, object] = scan_settings(tokenizer, layout, max_sentence_length, limit)
    fingerprint = source_fingerprint(source, settings)
    if share is not None:
        if fingerprint is None:
            raise W2VError(
                f"{sources.display_name(source)}: with several ranks the corpus must be a file "
                "or folder (every rank reads its own share; standard input and pipes cannot be "
                "shared)"
            )
        fingerprint = f"{fingerprint}-share{share[0]}of{share[1]}"
    settings["fingerprint"] = fingerprint
    settings["share"] = list(share) if share is not None else None

    def scan_into(directory: Path, name: str) -> Path:
        blocks = (
            _token_blocks(source, tokenizer, layout, max_sentence_length)
            if share is None
            else _share_blocks(source, tokenizer, layout, max_sentence_length, share)
        )
        blocks = _limited(blocks, limit)
        return _scan_to(directory, name, blocks, sources.display_name(source), settings, progress)

    if cache_dir is None:
        tmp_root = Path(tempfile.mkdtemp(prefix="w2v-scan-"))
        try:
            corpus = load_scanned(scan_into(tmp_root, "scan"))
        finally:
            shutil.rmtree(tmp_root, ignore_errors=True)
        corpus.path = None
        return corpus
    cache_dir = Path(cache_dir)
    if fingerprint is None:
        return load_scanned(scan_into(cache_dir, f"stdin-{secrets.token_hex(8)}"))
    entry = cache_dir / fingerprint
    if entry.exists():
        try:
            corpus = load_scanned(entry)
        except W2VError as e:
            log.debug("rescanning: %s", e)
            shutil.rmtree(entry, ignore_errors=True)
        else:
            log.debug("corpus cache hit: %s", entry)
            if progress is not None:
                progress(corpus.n_tokens)
            return corpus
    return load_scanned(scan_into(cache_dir, fingerprint))


def scan_sentences(
    sentences: Iterable[Sequence[str]],
    cache_dir: str | os.PathLike[str],
    max_sentence_length: int = MAX_SENTENCE_LENGTH,
    limit: Limit = NO_LIMIT,
) -> ScannedCorpus:
    """Like :func:`scan_corpus`, for an iterable of token lists (gensim's input).

    It cannot be fingerprinted, so it always gets a fresh ``sentences-<random>`` entry.
    """
    settings: dict[str, object] = {
        "max_sentence_length": max_sentence_length,
        "fingerprint": None,
    }
    blocks = _limited(_sentence_blocks(sentences, max_sentence_length), limit)
    name = f"sentences-{secrets.token_hex(8)}"
    return load_scanned(_scan_to(Path(cache_dir), name, blocks, "the sentences", settings, None))
