"""Readers of every source format: bytes in, text records out; nothing about tokens.

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
  (see :func:`iter_texts`);
* ``.tsv``, ``.csv``, and any text file when a delimiter is given: delimited text, one
  record per row, the text in one column (columns.Layout).

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
import json
import logging
import lzma
import os
import re
import stat
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, NamedTuple

import pyarrow as pa

from . import columns
from .columns import Layout
from .errors import W2VError, first_line

log = logging.getLogger(__name__)

Source = str | os.PathLike[str]
"""A path, or ``"-"`` for stdin."""

STDIN = "-"

READ_BLOCK_SIZE = 1 << 20
"""Bytes read from a text file at a time (tests lower it to exercise block cuts)."""

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


class Piece(NamedTuple):
    """Part of a text file: lines joined by ``"\\n"`` (no trailing newline).

    ``continues``: the last line goes on in the next piece (a line longer than a
    read block, cut at whitespace).
    """

    text: str
    continues: bool


# A chunk is a Piece of a text file, or a list of records (values of a table column).
Chunk = Piece | list[str]

_READ_ERRORS = (
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    pa.ArrowException,
    UnicodeError,
)


def describe(e: BaseException) -> str:
    if isinstance(e, FileNotFoundError):
        return "no such file or directory"
    if isinstance(e, PermissionError):
        return "permission denied"
    if isinstance(e, IsADirectoryError):
        return "is a directory"
    if isinstance(e, gzip.BadGzipFile):
        return f"not a valid gzip file ({first_line(e)})"
    if isinstance(e, EOFError):
        return f"truncated compressed data ({first_line(e)})"
    if isinstance(e, zlib.error):
        return f"corrupt gzip data ({first_line(e)})"
    if isinstance(e, lzma.LZMAError):
        return f"not a valid xz file ({first_line(e)})"
    if isinstance(e, zipfile.BadZipFile):
        return f"not a valid zip file ({first_line(e)})"
    if isinstance(e, pa.ArrowException):
        return first_line(e)
    if isinstance(e, OSError) and str(e) == "Invalid data stream":  # what bz2 raises
        return "not a valid bz2 file (invalid data stream)"
    if isinstance(e, OSError) and e.strerror:
        return f"cannot read ({e.strerror})"
    return f"cannot read ({first_line(e)})"


def _guard(display: str, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
    """Re-raise reading errors from ``chunks`` as one-line W2VErrors naming ``display``."""
    try:
        yield from chunks
    except W2VError:
        raise
    except _READ_ERRORS as e:
        raise W2VError(f"{display}: {describe(e)}") from e


def is_stdin(source: Source) -> bool:
    return isinstance(source, str) and source == STDIN


def display_name(source: Source) -> str:
    return "<stdin>" if is_stdin(source) else os.fspath(source)


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
                    f"{sub}: split listed in dataset_dict.json cannot be read ({describe(e)})"
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
        raise W2VError(f"{e.filename or root}: {describe(e)}") from e

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


def source_files(source: Source) -> list[Path]:
    """Every file that reading ``source`` opens (a zip counts as one), in reading order."""
    path = Path(source)
    try:
        st = path.stat()
    except OSError as e:
        raise W2VError(f"{display_name(source)}: {describe(e)}") from e
    if stat.S_ISDIR(st.st_mode):
        return _dir_files(path)
    return [path]


def check_layout(source: Source, layout: Layout) -> None:
    """Refuse, before anything is read, an option that does not apply to a file of
    ``source`` (a zip's members are checked as they are read)."""
    files = [Path("")] if is_stdin(source) else source_files(source)
    for path in files:
        display = display_name(source) if is_stdin(source) else str(path)
        _, fmt = _classify(path.name)
        if fmt == "text":
            if layout.delimiter_for(_text_suffix(path.name)) is None:
                layout.check_plain_text(display)
        elif fmt != "zip":
            layout.check_table(display, "JSON lines" if fmt == "jsonl" else fmt)


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


def _text_chunks(f: IO[bytes]) -> Iterator[Piece]:
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
            yield Piece(buf[:nl], False)
            carry = buf[nl + 1 :]
            in_line = False
            continue
        cut = _last_space(buf)
        if cut < 0 and len(buf) >= _MAX_TOKEN_BLOCKS * block:
            log.debug("no whitespace in %d characters; cutting a token", len(buf))
            cut = len(buf)
        if cut >= 0:
            yield Piece(buf[:cut], True)
            carry = buf[cut + 1 :]
            in_line = True
        else:
            carry = buf
    if buf or in_line:
        yield Piece(buf, False)


def _zip_chunks(src: Path | IO[bytes], layout: Layout, display: str) -> Iterator[Chunk]:
    try:
        zf = zipfile.ZipFile(src)
    except zipfile.BadZipFile as e:
        raise W2VError(f"{display}: not a valid zip file ({first_line(e)})") from e
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
                    raise W2VError(f"{member}: {first_line(e)}") from e

            compression, fmt = _classify(info.filename)
            yield from _guard(
                member,
                _format_chunks(
                    fmt, compression, open_member, None, layout, member, _text_suffix(info.filename)
                ),
            )


def _text_or_delimited(f: IO[bytes], layout: Layout, suffix: str, display: str) -> Iterator[Chunk]:
    delimiter = layout.delimiter_for(suffix)
    if delimiter is None:
        layout.check_plain_text(display)
        yield from _text_chunks(f)
    else:
        yield from columns.delimited_chunks(f, layout, delimiter, display)


def _format_chunks(
    fmt: str,
    compression: str | None,
    open_raw: Callable[[], IO[bytes]],
    path: Path | None,
    layout: Layout,
    display: str,
    suffix: str,
) -> Iterator[Chunk]:
    """Chunks of one file; ``path`` is given when it is a plain file on disk; ``suffix`` is
    its name's (``.tsv`` for ``captions.tsv.gz``)."""
    if fmt == "text":
        with _opened(open_raw, compression) as f:
            yield from _text_or_delimited(f, layout, suffix, display)
        return
    if fmt != "zip":  # a zip's members are checked one by one
        layout.check_table(display, "JSON lines" if fmt == "jsonl" else fmt)
    wanted = layout.text_column
    if fmt == "jsonl":
        with _opened(open_raw, compression) as f:
            yield from columns.jsonl_chunks(f, wanted, display)
    elif compression is None and path is not None:
        if fmt == "arrow":
            with pa.memory_map(str(path)) as src:
                yield from columns.arrow_chunks(src, wanted, display)
        elif fmt == "parquet":
            yield from columns.parquet_chunks(path, wanted, display)
        else:
            yield from _zip_chunks(path, layout, display)
    else:
        # Nested in a zip or compressed: these readers seek, which zip members and
        # gzip/bz2/xz streams support (slowly, but correctly).
        with _opened(open_raw, compression) as f:
            if fmt == "zip":
                yield from _zip_chunks(f, layout, display)
            else:
                reader = {"arrow": columns.arrow_chunks, "parquet": columns.parquet_chunks}[fmt]
                yield from reader(f, wanted, display)


def _text_suffix(name: str) -> str:
    """The suffix that names a text file's kind, under any compression suffix."""
    lower = name.lower()
    for suffix in _COMPRESSED:
        lower = lower.removesuffix(suffix)
    return PurePosixPath(lower).suffix


def _file_chunks(path: Path, layout: Layout) -> Iterator[Chunk]:
    compression, fmt = _classify(path.name)
    log.debug("reading %s as %s%s", path, fmt, f" ({compression})" if compression else "")
    display = str(path)
    yield from _guard(
        display,
        _format_chunks(
            fmt,
            compression,
            functools.partial(open, path, "rb"),
            path,
            layout,
            display,
            _text_suffix(path.name),
        ),
    )


def iter_chunks(source: Source, layout: Layout | None = None) -> Iterator[Chunk]:
    layout = layout or Layout()
    if is_stdin(source):
        yield from _guard("<stdin>", _text_or_delimited(sys.stdin.buffer, layout, "", "<stdin>"))
        return
    for path in source_files(source):
        yield from _file_chunks(path, layout)


def iter_texts(source: Source, layout: Layout | None = None) -> Iterator[str]:
    """The raw text records of ``source``, in order.

    A record is a line of a text file (without its line ending) or a non-null value of
    the text column of a table; a list<string> column gives one record per string.
    The text column is ``layout.text_column`` if given, else a column named ``text``, else
    the only string or list-of-strings column (of delimited text: the only column).

    A line longer than :data:`READ_BLOCK_SIZE` is never held whole: it comes as several
    consecutive pieces, cut at whitespace (the whitespace character at a cut is
    dropped), so tokenizing each piece gives exactly the tokens of the line.
    """
    in_line = False
    for chunk in iter_chunks(source, layout):
        if isinstance(chunk, list):
            yield from chunk
            continue
        lines = chunk.text.split("\n")
        if in_line and not lines[0]:
            del lines[0]  # the (empty) end of a line that was cut at a space
        for line in lines:
            yield line[:-1] if line.endswith("\r") else line
        in_line = chunk.continues
