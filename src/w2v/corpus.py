"""Reading and tokenizing corpora, and the scanned-corpus cache.

A *source* is a path (``str`` or ``os.PathLike``) or ``"-"`` for stdin. What is read
depends on the name:

* plain text (any suffix not listed below): every line is a record. Lines may be huge
  (text8 is one 100 MB line), so files are read in blocks of :data:`READ_BLOCK_SIZE`
  bytes and a block is only ever cut at whitespace, never inside a token;
* ``.gz``, ``.bz2``, ``.xz``: the suffix is stripped and the inner name decides
  (``corpus.txt.gz`` is text, ``data.jsonl.gz`` is JSON lines);
* ``.zip``: every regular member, sorted by name, each by its own suffix;
* a directory: every file under it, recursively, sorted by relative path, each by its
  own suffix. A HuggingFace ``save_to_disk`` folder (``state.json`` /
  ``dataset_info.json`` next to ``data-*.arrow``) is read as its arrow files, in the
  order ``state.json`` lists them; a ``DatasetDict`` folder (``dataset_dict.json``)
  as its splits, in the order it lists them;
* ``.arrow`` (Arrow IPC, stream or file format), ``.parquet``, ``.jsonl`` / ``.ndjson``
  (``.json`` too when given directly): tables; one column holds the text
  (see :func:`iter_texts`).

Hidden files and folders (a name starting with ``.``), ``__MACOSX`` and ``*.json``
files met inside a directory or a zip are skipped: the latter are metadata, not text.
Bytes are decoded as UTF-8 with ``errors="replace"`` (a leading BOM is dropped), so
one bad byte never stops a long run.

Every problem with the input raises :class:`~w2v.errors.W2VError` with one line that
names the file.
"""

from __future__ import annotations

import bz2
import codecs
import functools
import gzip
import hashlib
import itertools
import json
import logging
import lzma
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import time
import unicodedata
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from w2v.errors import W2VError

if TYPE_CHECKING:
    from w2v.vocab import Vocab

log = logging.getLogger(__name__)

Source = str | os.PathLike[str]
"""A path, or ``"-"`` for stdin."""

STDIN = "-"

READ_BLOCK_SIZE = 1 << 20
"""Bytes read from a text file at a time (tests lower it to exercise block cuts)."""

SCAN_FORMAT_VERSION = 1
"""Bumped whenever tokenization or the cache layout changes, so old entries are not reused."""

_PROGRESS_EVERY = 1_000_000
_JSON_BATCH = 4096
_ARROW_BATCH = 8192
# A "token" this long is binary junk; cutting it beats holding an unbounded buffer.
_MAX_TOKEN_BLOCKS = 16

_COMPRESSED = (".gz", ".bz2", ".xz")
_FORMATS = {
    ".arrow": "arrow",
    ".parquet": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".zip": "zip",
}


# --------------------------------------------------------------------------- tokenizer

_ASCII_PUNCT = bytes(c for c in range(128) if unicodedata.category(chr(c)).startswith("P"))
_ASCII_LOWER = bytes.maketrans(
    bytes(range(ord("A"), ord("Z") + 1)), bytes(range(ord("a"), ord("z") + 1))
)
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_ASCII_SPACE = re.compile(r"[\t\n\x0b\x0c\r\x1c-\x1f ]")


@functools.cache
def _punct_table() -> dict[int, None]:
    """``str.translate`` table deleting every character of Unicode category P*.

    A translate table rather than a regex character class: CPython's ``re`` spends
    ~100 ns per character on an 800-character class, ``str.translate`` half that.
    Built on first use (scanning all code points takes ~0.1 s).
    """
    return dict.fromkeys(
        cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)).startswith("P")
    )


def _widen_non_ascii(text: str, fix: Callable[[str], str]) -> str:
    """Apply ``fix`` to every whitespace-bounded span of ``text`` holding non-ASCII.

    The spans reach whitespace on both sides because ``str.lower`` looks at
    neighbouring letters (Greek final sigma) but never across whitespace, so the
    result equals ``fix`` on the whole text while mostly-ASCII text stays on the
    fast byte path.
    """
    out: list[str] = []
    done = 0
    search_run = _NON_ASCII_RUN.search
    search_space = _ASCII_SPACE.search
    m = search_run(text)
    while m is not None:
        start, end = m.span()
        left = max(
            done,
            text.rfind(" ", done, start) + 1,
            text.rfind("\n", done, start) + 1,
            text.rfind("\t", done, start) + 1,
        )
        space = search_space(text, end)
        right = space.start() if space is not None else len(text)
        out.append(text[done:left])
        out.append(fix(text[left:right]))
        done = right
        m = search_run(text, right)
    out.append(text[done:])
    return "".join(out)


@dataclass(frozen=True)
class Tokenizer:
    """Split text into tokens the way the original project did.

    Punctuation (every character whose Unicode category starts with ``P``) is deleted,
    not replaced by a space: ``"dog's" -> "dogs"``. The text is then split on any
    whitespace (``str.split()``) and lowercased with ``str.lower()`` if asked.
    """

    lowercase: bool = True
    strip_punctuation: bool = True

    def normalize(self, text: str) -> str:
        """Delete punctuation and lowercase, on a whole block of text at once.

        ``normalize(text).split()`` equals splitting first and normalizing each token.
        """
        if not (self.lowercase or self.strip_punctuation):
            return text
        table = _ASCII_LOWER if self.lowercase else None
        delete = _ASCII_PUNCT if self.strip_punctuation else b""
        if text.isascii():
            return text.encode("ascii").translate(table, delete).decode("ascii")
        data = text.encode("utf-8", "surrogatepass")
        if len(data) - len(text) > len(text) >> 4:
            # Mostly non-ASCII (Cyrillic, CJK...): per-span bookkeeping would cost more
            # than it saves.
            return self._fix(text)
        # ASCII bytes never occur inside a multi-byte UTF-8 sequence, so the byte-level
        # translate is safe; only the non-ASCII spans are left for the slow path.
        text = data.translate(table, delete).decode("utf-8", "surrogatepass")
        return _widen_non_ascii(text, self._fix)

    def _fix(self, text: str) -> str:
        if self.strip_punctuation:
            text = text.translate(_punct_table())
        return text.lower() if self.lowercase else text

    def __call__(self, text: str) -> list[str]:
        return self.normalize(text).split()


# --------------------------------------------------------------------------- sources


class _Piece(NamedTuple):
    """Part of a text file: lines joined by ``"\\n"`` (no trailing newline).

    ``continues``: the last line goes on in the next piece (a line longer than a
    read block, cut at whitespace).
    """

    text: str
    continues: bool


# A chunk is a _Piece of a text file, or a list of records (values of a table column).
_Chunk = _Piece | list[str]

_READ_ERRORS = (
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    pa.ArrowException,
    UnicodeError,
)


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__


def _describe(e: BaseException) -> str:
    if isinstance(e, FileNotFoundError):
        return "no such file or directory"
    if isinstance(e, PermissionError):
        return "permission denied"
    if isinstance(e, IsADirectoryError):
        return "is a directory"
    if isinstance(e, gzip.BadGzipFile):
        return f"not a valid gzip file ({_first_line(e)})"
    if isinstance(e, EOFError):
        return f"truncated compressed data ({_first_line(e)})"
    if isinstance(e, zlib.error):
        return f"corrupt gzip data ({_first_line(e)})"
    if isinstance(e, lzma.LZMAError):
        return f"not a valid xz file ({_first_line(e)})"
    if isinstance(e, zipfile.BadZipFile):
        return f"not a valid zip file ({_first_line(e)})"
    if isinstance(e, pa.ArrowException):
        return _first_line(e)
    if isinstance(e, OSError) and str(e) == "Invalid data stream":  # what bz2 raises
        return "not a valid bz2 file (invalid data stream)"
    if isinstance(e, OSError) and e.strerror:
        return f"cannot read ({e.strerror})"
    return f"cannot read ({_first_line(e)})"


def _guard(display: str, chunks: Iterator[_Chunk]) -> Iterator[_Chunk]:
    """Re-raise reading errors from ``chunks`` as one-line W2VErrors naming ``display``."""
    try:
        yield from chunks
    except W2VError:
        raise
    except _READ_ERRORS as e:
        raise W2VError(f"{display}: {_describe(e)}") from e


def _is_stdin(source: Source) -> bool:
    return isinstance(source, str) and source == STDIN


def _display(source: Source) -> str:
    return "<stdin>" if _is_stdin(source) else os.fspath(source)


def _classify(name: str) -> tuple[str | None, str]:
    """(compression suffix or None, format) of a file name."""
    lower = name.lower()
    compression = None
    for suffix in _COMPRESSED:
        if lower.endswith(suffix):
            compression = suffix
            lower = lower[: -len(suffix)]
            break
    return compression, _FORMATS.get(PurePosixPath(lower).suffix, "text")


def _skipped_inside(name: str) -> bool:
    """Whether a member of a directory or zip is metadata or hidden, not text."""
    parts = PurePosixPath(name).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts) or name.lower().endswith(
        ".json"
    )


def _hf_arrow_files(folder: Path, names: list[str]) -> list[Path] | None:
    """The arrow files of a HuggingFace ``save_to_disk`` folder, in order; None if not one."""
    if "dataset_dict.json" in names:
        try:
            splits = json.loads((folder / "dataset_dict.json").read_text("utf-8"))["splits"]
            if not isinstance(splits, list):
                raise TypeError("splits is not a list")
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.debug("%s: unreadable dataset_dict.json (%s); splits in name order", folder, e)
            splits = sorted(n for n in names if (folder / n).is_dir() and not n.startswith("."))
        files: list[Path] = []
        for split in splits:
            sub = folder / str(split)
            try:
                sub_names = os.listdir(sub)
            except OSError as e:
                raise W2VError(
                    f"{sub}: split listed in dataset_dict.json cannot be read ({_describe(e)})"
                ) from e
            files += _hf_arrow_files(sub, sub_names) or []
        return files
    # data-*.arrow today, dataset.arrow in old versions; cache-*.arrow are derived copies.
    data_files = sorted(
        n for n in names if n.endswith(".arrow") and not n.startswith((".", "cache-"))
    )
    if not data_files or not ({"state.json", "dataset_info.json"} & set(names)):
        return None
    if "state.json" in names:
        try:
            state = json.loads((folder / "state.json").read_text("utf-8"))
            listed = [str(entry["filename"]) for entry in state["_data_files"]]
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.debug("%s: unreadable state.json (%s); arrow files in name order", folder, e)
        else:
            for name in listed:
                if not (folder / name).is_file():
                    raise W2VError(f"{folder / name}: listed in state.json but missing")
            return [folder / name for name in listed]
    return [folder / name for name in data_files]


def _dir_files(root: Path) -> list[Path]:
    def fail(e: OSError) -> None:
        raise W2VError(f"{e.filename or root}: {_describe(e)}") from e

    units: list[tuple[str, list[Path]]] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=fail):
        folder = Path(dirpath)
        rel = folder.relative_to(root).as_posix()
        hf = _hf_arrow_files(folder, dirnames + filenames)
        if hf is not None:
            units.append((rel, hf))
            dirnames[:] = []
            continue
        dirnames[:] = [d for d in dirnames if not _skipped_inside(d)]
        for name in filenames:
            if not _skipped_inside(name):
                units.append(((folder / name).relative_to(root).as_posix(), [folder / name]))
    units.sort(key=lambda unit: unit[0])
    return [path for _, paths in units for path in paths]


def _source_files(source: Source) -> list[Path]:
    """Every file that reading ``source`` opens (a zip counts as one), in reading order."""
    path = Path(source)
    try:
        st = path.stat()
    except OSError as e:
        raise W2VError(f"{_display(source)}: {_describe(e)}") from e
    if stat.S_ISDIR(st.st_mode):
        return _dir_files(path)
    return [path]


def _decompressed(raw: IO[bytes], compression: str) -> IO[bytes]:
    if compression == ".gz":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == ".bz2":
        return bz2.BZ2File(raw, "rb")
    return lzma.LZMAFile(raw, "rb")


@contextmanager
def _opened(open_raw: Callable[[], IO[bytes]], compression: str | None) -> Iterator[IO[bytes]]:
    with open_raw() as raw:
        if compression is None:
            yield raw
        else:
            with _decompressed(raw, compression) as f:
                yield f


def _last_space(text: str) -> int:
    """Index of the last whitespace character in ``text``, or -1."""
    for sep in (" ", "\t"):  # the usual cases, found by C-speed rfind
        i = text.rfind(sep, max(0, len(text) - 4096))
        if i >= 0:
            return i
    m = re.match(r".*\s", text, re.DOTALL)
    return m.end() - 1 if m else -1


def _text_chunks(f: IO[bytes]) -> Iterator[_Piece]:
    """Pieces of a text stream, each cut after a newline or, inside a long line, at a space."""
    block = READ_BLOCK_SIZE
    decode = codecs.getincrementaldecoder("utf-8-sig")(errors="replace").decode
    carry = ""
    in_line = False  # the last piece yielded ended inside a line
    while True:
        data = f.read(block)
        text = decode(data, not data)
        buf = carry + text if carry else text
        if not data:
            break
        nl = buf.rfind("\n")
        if nl >= 0:
            yield _Piece(buf[:nl], False)
            carry = buf[nl + 1 :]
            in_line = False
            continue
        cut = _last_space(buf)
        if cut < 0 and len(buf) >= _MAX_TOKEN_BLOCKS * block:
            log.debug("no whitespace in %d characters; cutting a token", len(buf))
            cut = len(buf)
        if cut >= 0:
            yield _Piece(buf[:cut], True)
            carry = buf[cut + 1 :]
            in_line = True
        else:
            carry = buf
    if buf or in_line:
        yield _Piece(buf, False)


def _choose_column(display: str, columns: dict[str, tuple[bool, str]], wanted: str | None) -> str:
    """Pick the text column. ``columns``: name -> (holds text, type description)."""
    listing = ", ".join(f"{name} ({kind})" for name, (_, kind) in columns.items()) or "none"
    if wanted is not None:
        if wanted not in columns:
            raise W2VError(f"{display}: no column {wanted!r}; the columns are: {listing}")
        if not columns[wanted][0]:
            raise W2VError(
                f"{display}: column {wanted!r} is {columns[wanted][1]}, not text or a list of texts"
            )
        return wanted
    if "text" in columns and columns["text"][0]:
        return "text"
    texts = [name for name, (is_text, _) in columns.items() if is_text]
    if len(texts) == 1:
        return texts[0]
    raise W2VError(
        f"{display}: cannot tell which column holds the text (columns: {listing}); "
        "pass --text-column"
    )


def _json_kind(value: object) -> tuple[bool, str]:
    if isinstance(value, str):
        return True, "string"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return True, "list of strings"
    return False, "null" if value is None else type(value).__name__


def _jsonl_chunks(f: IO[bytes], wanted: str | None, display: str) -> Iterator[list[str]]:
    column: str | None = None
    batch: list[str] = []
    for lineno, raw in enumerate(f, 1):
        line = raw.strip()
        if not line:
            continue
        try:
            obj = json.loads(line.decode("utf-8", "replace"))
        except json.JSONDecodeError as e:
            raise W2VError(
                f"{display}: line {lineno} is not valid JSON ({e.msg}); "
                "expected JSON lines, one object per line"
            ) from e
        if isinstance(obj, str):
            batch.append(obj)
        elif isinstance(obj, dict):
            if column is None:
                column = _choose_column(display, {k: _json_kind(v) for k, v in obj.items()}, wanted)
            value = obj.get(column)
            if isinstance(value, str):
                batch.append(value)
            elif isinstance(value, list) and all(isinstance(v, str | None) for v in value):
                batch += [v for v in value if v is not None]
            elif value is not None:
                raise W2VError(
                    f"{display}: line {lineno}: {column!r} is {type(value).__name__}, not text"
                )
        else:
            raise W2VError(f"{display}: line {lineno} is {type(obj).__name__}, not a JSON object")
        if len(batch) >= _JSON_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _arrow_kind(t: pa.DataType) -> tuple[bool, str]:
    def is_str(t: pa.DataType) -> bool:
        if pa.types.is_dictionary(t):
            t = t.value_type
        return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)

    is_list = (
        pa.types.is_list(t)
        or pa.types.is_large_list(t)
        or pa.types.is_fixed_size_list(t)
        or pa.types.is_list_view(t)
        or pa.types.is_large_list_view(t)
    )
    return is_str(t) or (is_list and is_str(t.value_type)), str(t)


def _columns(schema: pa.Schema) -> dict[str, tuple[bool, str]]:
    return {field.name: _arrow_kind(field.type) for field in schema}


def _arrow_values(col: pa.Array) -> list[str]:
    """The non-null strings of a string or list<string> column, in order."""
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    if not (
        pa.types.is_string(col.type)
        or pa.types.is_large_string(col.type)
        or pa.types.is_string_view(col.type)
    ):
        col = col.flatten()
        if pa.types.is_dictionary(col.type):
            col = col.dictionary_decode()
    if col.null_count:
        col = col.drop_null()
    return col.to_pylist()


def _arrow_chunks(
    src: pa.NativeFile | IO[bytes], wanted: str | None, display: str
) -> Iterator[list[str]]:
    is_file_format = src.read(6) == b"ARROW1"
    src.seek(0)
    try:
        reader = pa.ipc.open_file(src) if is_file_format else pa.ipc.open_stream(src)
    except pa.ArrowException as e:
        raise W2VError(f"{display}: not a valid Arrow IPC file ({_first_line(e)})") from e
    index = reader.schema.get_field_index(_choose_column(display, _columns(reader.schema), wanted))
    if is_file_format:
        batches: Iterator[pa.RecordBatch] = (
            reader.get_batch(i) for i in range(reader.num_record_batches)
        )
    else:
        batches = iter(reader)
    for batch in batches:
        values = _arrow_values(batch.column(index))
        if values:
            yield values


def _parquet_chunks(src: Path | IO[bytes], wanted: str | None, display: str) -> Iterator[list[str]]:
    try:
        pf = pq.ParquetFile(src)
    except pa.ArrowException as e:
        raise W2VError(f"{display}: not a valid Parquet file ({_first_line(e)})") from e
    with pf:
        column = _choose_column(display, _columns(pf.schema_arrow), wanted)
        for batch in pf.iter_batches(batch_size=_ARROW_BATCH, columns=[column]):
            values = _arrow_values(batch.column(0))
            if values:
                yield values


def _zip_chunks(src: Path | IO[bytes], wanted: str | None, display: str) -> Iterator[_Chunk]:
    try:
        zf = zipfile.ZipFile(src)
    except zipfile.BadZipFile as e:
        raise W2VError(f"{display}: not a valid zip file ({_first_line(e)})") from e
    with zf:
        members = sorted(
            (i for i in zf.infolist() if not i.is_dir() and not _skipped_inside(i.filename)),
            key=lambda i: i.filename,
        )
        for info in members:
            member = f"{display}:{info.filename}"
            if info.flag_bits & 0x1:
                raise W2VError(f"{member}: encrypted zip members are not supported")

            def open_member(info: zipfile.ZipInfo = info, member: str = member) -> IO[bytes]:
                try:
                    return zf.open(info)
                except NotImplementedError as e:  # e.g. deflate64, or an unknown method
                    raise W2VError(f"{member}: {_first_line(e)}") from e

            compression, fmt = _classify(info.filename)
            yield from _guard(
                member, _format_chunks(fmt, compression, open_member, None, wanted, member)
            )


def _format_chunks(
    fmt: str,
    compression: str | None,
    open_raw: Callable[[], IO[bytes]],
    path: Path | None,
    wanted: str | None,
    display: str,
) -> Iterator[_Chunk]:
    """Chunks of one file; ``path`` is given when it is a plain file on disk."""
    if fmt == "text":
        with _opened(open_raw, compression) as f:
            yield from _text_chunks(f)
    elif fmt == "jsonl":
        with _opened(open_raw, compression) as f:
            yield from _jsonl_chunks(f, wanted, display)
    elif compression is None and path is not None:
        if fmt == "arrow":
            with pa.memory_map(str(path)) as src:
                yield from _arrow_chunks(src, wanted, display)
        elif fmt == "parquet":
            yield from _parquet_chunks(path, wanted, display)
        else:
            yield from _zip_chunks(path, wanted, display)
    else:
        # Nested in a zip or compressed: these readers seek, which zip members and
        # gzip/bz2/xz streams support (slowly, but correctly).
        reader = {"arrow": _arrow_chunks, "parquet": _parquet_chunks, "zip": _zip_chunks}[fmt]
        with _opened(open_raw, compression) as f:
            yield from reader(f, wanted, display)


def _file_chunks(path: Path, wanted: str | None) -> Iterator[_Chunk]:
    compression, fmt = _classify(path.name)
    log.debug("reading %s as %s%s", path, fmt, f" ({compression})" if compression else "")
    display = str(path)
    yield from _guard(
        display,
        _format_chunks(
            fmt, compression, functools.partial(open, path, "rb"), path, wanted, display
        ),
    )


def _iter_chunks(source: Source, text_column: str | None) -> Iterator[_Chunk]:
    if _is_stdin(source):
        yield from _guard("<stdin>", _text_chunks(sys.stdin.buffer))
        return
    for path in _source_files(source):
        yield from _file_chunks(path, text_column)


def iter_texts(source: Source, text_column: str | None = None) -> Iterator[str]:
    """The raw text records of ``source``, in order.

    A record is a line of a text file (without its line ending) or a non-null value of
    the text column of a table; a list<string> column gives one record per string.
    The text column is ``text_column`` if given, else a column named ``text``, else the
    only string or list-of-strings column.

    A line longer than :data:`READ_BLOCK_SIZE` is never held whole: it comes as several
    consecutive pieces, cut at whitespace (the whitespace character at a cut is
    dropped), so tokenizing each piece gives exactly the tokens of the line.
    """
    in_line = False
    for chunk in _iter_chunks(source, text_column):
        if isinstance(chunk, list):
            yield from chunk
            continue
        lines = chunk.text.split("\n")
        if in_line and not lines[0]:
            del lines[0]  # the (empty) end of a line that was cut at a space
        for line in lines:
            yield line[:-1] if line.endswith("\r") else line
        in_line = chunk.continues


def _token_blocks(
    source: Source, tokenizer: Tokenizer, text_column: str | None, max_sentence_length: int
) -> Iterator[tuple[list[str], list[int]]]:
    """(tokens, sentence lengths) block by block.

    Concatenating every block's tokens and cutting them at the concatenated lengths
    gives the sentences; a sentence may start in one block and end in a later one.
    """
    if max_sentence_length < 1:
        raise W2VError(f"max_sentence_length must be at least 1, not {max_sentence_length}")
    limit = max_sentence_length
    normalize = tokenizer.normalize
    pending = 0  # tokens of the sentence that is still open
    for chunk in _iter_chunks(source, text_column):
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
            pending += len(tokens)
            if pending >= limit:
                full, pending = divmod(pending, limit)
                lengths = [limit] * full
            if pending and not continues:
                lengths.append(pending)
                pending = 0
        else:
            tokens = []
            lines = text.split("\n")
            last = len(lines) - 1
            for k, line in enumerate(lines):
                words = line.split()
                if words:
                    tokens += words
                    pending += len(words)
                    if pending >= limit:
                        full, pending = divmod(pending, limit)
                        lengths += [limit] * full
                if pending and (k < last or not continues):
                    lengths.append(pending)
                    pending = 0
        if tokens or lengths:  # a closing piece can end a sentence without adding tokens
            yield tokens, lengths


def _share_blocks(
    source: Source,
    tokenizer: Tokenizer,
    text_column: str | None,
    max_sentence_length: int,
    share: tuple[int, int],
) -> Iterator[tuple[list[str], list[int]]]:
    """(tokens, sentence lengths) of one rank's share of ``source``, block by block.

    ``share`` is (rank, ranks): the share is every ranks-th record counted from ``rank``,
    where a record is a line of text (a line longer than READ_BLOCK_SIZE counts once per
    piece it is read in, each cut at whitespace) or a value of the text column. Each record
    is its own sentence (or several, cut at ``max_sentence_length``), so the shares hold
    exactly the tokens of the corpus between them, none twice.
    """
    if max_sentence_length < 1:
        raise W2VError(f"max_sentence_length must be at least 1, not {max_sentence_length}")
    rank, ranks = share
    limit = max_sentence_length
    seen = 0  # records before this chunk
    for chunk in _iter_chunks(source, text_column):
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
            for start in range(0, len(words), limit):
                lengths.append(min(limit, len(words) - start))
        if tokens:
            yield tokens, lengths


def iter_sentences(
    source: Source,
    tokenizer: Tokenizer,
    text_column: str | None = None,
    max_sentence_length: int = 10000,
) -> Iterator[list[str]]:
    """Tokenized sentences: one per record, records longer than ``max_sentence_length``
    tokens cut into sentences of exactly that many (the last one shorter), as
    word2vec and gensim do for text8. Empty sentences are skipped."""
    carry: list[str] = []
    for tokens, lengths in _token_blocks(source, tokenizer, text_column, max_sentence_length):
        if carry:
            tokens = carry + tokens
        pos = 0
        for n in lengths:
            yield tokens[pos : pos + n]
            pos += n
        carry = tokens[pos:]


# --------------------------------------------------------------------------- scanned corpus


def source_fingerprint(
    source: Source,
    text_column: str | None,
    tokenizer: Tokenizer,
    max_sentence_length: int = 10000,
) -> str | None:
    """A hex key naming the scan of ``source`` with these settings; None if not cacheable.

    Covers the absolute path, size and mtime of every file that would be read, the
    settings, the cache format and the Unicode version (it decides what punctuation
    is). Stdin, pipes and other non-regular files are not cacheable.
    """
    if _is_stdin(source):
        return None
    h = hashlib.sha256()
    settings = {
        "format": SCAN_FORMAT_VERSION,
        "unicode": unicodedata.unidata_version,
        "text_column": text_column,
        "lowercase": tokenizer.lowercase,
        "strip_punctuation": tokenizer.strip_punctuation,
        "max_sentence_length": max_sentence_length,
    }
    h.update(json.dumps(settings, sort_keys=True).encode())
    for path in _source_files(source):
        try:
            st = path.stat()
        except OSError as e:
            raise W2VError(f"{path}: {_describe(e)}") from e
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
    blocks: Iterator[tuple[list[str], list[int]]],
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
    counts = np.zeros(len(vocab), dtype=np.int64)
    all_ids = np.memmap(ids_path, dtype="<i4", mode="r", shape=(n_tokens,))
    step = 1 << 22  # bincount copies its input to int64: keep that copy small
    for start in range(0, n_tokens, step):
        counts += np.bincount(all_ids[start : start + step], minlength=len(vocab))
    del all_ids
    np.save(entry / "offsets.npy", offsets, allow_pickle=False)
    np.save(entry / "counts.npy", counts, allow_pickle=False)
    # Tokens never hold whitespace, so one per line is unambiguous; surrogatepass
    # because JSON input can carry lone surrogates.
    (entry / "words.txt").write_bytes(("\n".join(vocab) + "\n").encode("utf-8", "surrogatepass"))
    meta = {
        "format_version": SCAN_FORMAT_VERSION,
        "n_tokens": n_tokens,
        "n_sentences": len(lengths),
        "n_words": len(vocab),
        "source": display,
        **settings,
    }
    # meta.json last: an entry without it is never complete.
    (entry / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    log.debug(
        "scanned %s: %d tokens, %d words, %d sentences in %.2f s",
        display,
        n_tokens,
        len(vocab),
        len(lengths),
        time.perf_counter() - started,
    )


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
        raise W2VError(f"{path}: not a valid scanned corpus ({_first_line(e)})") from e
    return ScannedCorpus(words=words, counts=counts, ids=ids, offsets=offsets, path=path)


def _publish(
    parent: Path,
    name: str,
    write: Callable[[Path], None],
    complete: Callable[[Path], bool],
    what: str,
) -> Path:
    """Build ``parent/name`` in a temporary sibling, then rename it into place.

    An interrupted build never leaves a half entry under the final name; if another
    process published the same entry first, theirs is kept.
    """
    final = parent / name
    tmp = parent / f".tmp-{name}-{secrets.token_hex(4)}"
    try:
        try:
            tmp.mkdir(parents=True)
        except OSError as e:
            raise W2VError(f"{parent}: cannot create the {what} ({_describe(e)})") from e
        try:
            write(tmp)
            os.replace(tmp, final)
        except OSError as e:
            # Reading errors are W2VErrors by now; this is the cache side (disk full...).
            if not complete(final):
                raise W2VError(f"{parent}: cannot write the {what} ({_describe(e)})") from e
            log.debug("%s appeared meanwhile; using it", final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _scan_to(
    cache_dir: Path,
    name: str,
    blocks: Iterator[tuple[list[str], list[int]]],
    display: str,
    settings: dict[str, object],
    progress: Callable[[int], None] | None,
) -> Path:
    """Scan into ``cache_dir/name``, published atomically."""
    return _publish(
        cache_dir,
        name,
        lambda entry: _write_scan(entry, blocks, display, settings, progress),
        lambda entry: (entry / "meta.json").is_file(),
        "corpus cache",
    )


def scan_corpus(
    source: Source,
    tokenizer: Tokenizer,
    text_column: str | None = None,
    max_sentence_length: int = 10000,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[int], None] | None = None,
    share: tuple[int, int] | None = None,
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
    fingerprint = source_fingerprint(source, text_column, tokenizer, max_sentence_length)
    if share is not None:
        if fingerprint is None:
            raise W2VError(
                f"{_display(source)}: with several ranks the corpus must be a file or folder "
                "(every rank reads its own share; standard input and pipes cannot be shared)"
            )
        fingerprint = f"{fingerprint}-share{share[0]}of{share[1]}"
    settings: dict[str, object] = {
        "text_column": text_column,
        "lowercase": tokenizer.lowercase,
        "strip_punctuation": tokenizer.strip_punctuation,
        "max_sentence_length": max_sentence_length,
        "fingerprint": fingerprint,
        "share": list(share) if share is not None else None,
    }

    def scan_into(directory: Path, name: str) -> Path:
        blocks = (
            _token_blocks(source, tokenizer, text_column, max_sentence_length)
            if share is None
            else _share_blocks(source, tokenizer, text_column, max_sentence_length, share)
        )
        return _scan_to(directory, name, blocks, _display(source), settings, progress)

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


def _sentence_blocks(
    sentences: Iterable[Sequence[str]], max_sentence_length: int, block_tokens: int = 1 << 20
) -> Iterator[tuple[list[str], list[int]]]:
    """(tokens, sentence lengths) blocks from token lists, long ones cut as word2vec does."""
    tokens: list[str] = []
    lengths: list[int] = []
    for n, sentence in enumerate(sentences):
        if isinstance(sentence, str) or not all(isinstance(t, str) for t in sentence):
            raise W2VError(
                f"sentence {n} is not a list of string tokens (got {type(sentence).__name__}); "
                "pass an iterable of token lists, or a file path"
            )
        for start in range(0, len(sentence), max_sentence_length):
            piece = sentence[start : start + max_sentence_length]
            tokens.extend(piece)
            lengths.append(len(piece))
        if len(tokens) >= block_tokens:
            yield tokens, lengths
            tokens, lengths = [], []
    if tokens:
        yield tokens, lengths


def scan_sentences(
    sentences: Iterable[Sequence[str]],
    cache_dir: str | os.PathLike[str],
    max_sentence_length: int = 10000,
) -> ScannedCorpus:
    """Like :func:`scan_corpus`, for an iterable of token lists (gensim's input).

    It cannot be fingerprinted, so it always gets a fresh ``sentences-<random>`` entry.
    """
    settings: dict[str, object] = {
        "max_sentence_length": max_sentence_length,
        "fingerprint": None,
    }
    blocks = _sentence_blocks(sentences, max_sentence_length)
    name = f"sentences-{secrets.token_hex(8)}"
    return load_scanned(_scan_to(Path(cache_dir), name, blocks, "the sentences", settings, None))


# --------------------------------------------------------------------------- encoded corpus

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
        _publish(
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
