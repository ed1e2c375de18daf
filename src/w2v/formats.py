"""Vector file formats, read and written: word2vec's text and binary formats.

Exactly as Mikolov's C tool and gensim write and read them (fastText's and GloVe's join this
module later). ``KeyedVectors.load_word2vec_format`` / ``save_word2vec_format`` are the
gensim-named doors to these functions.

Format notes a caller may need:

* Text values are written with ``%.9g``: enough digits that every float32 survives a
  save/load round trip bit for bit.
* ``load_word2vec_format(binary=None)`` sniffs the format: after the header, a file
  whose first 64 KiB are valid UTF-8 without control bytes (other than tab, newline,
  vertical tab, form feed, carriage return) is text, anything else is binary. Raw
  float32 data practically never passes that test unless the vectors have only a
  handful of dimensions; pass ``binary`` explicitly for such files.
* A word that occurs twice in a file keeps its first vector; later ones are dropped
  (as gensim does), so ``len(kv)`` can be smaller than the header's count.
* Bytes of a word that are not valid UTF-8 (the C tool cuts long words mid-character)
  become U+FFFD instead of failing the whole load.
* Anything after the header's last entry other than whitespace is an error, unless
  ``limit`` stopped reading earlier.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from typing import IO, Any, NoReturn

import numpy as np

from .atomic import atomic_write
from .errors import W2VError

PathLike = str | os.PathLike[str]

_SNIFF_BYTES = 64 * 1024
# The C tool caps words at 100 bytes; this much looser bound only exists so that a
# foreign file fails fast with a clear message instead of yielding a megabyte "word".
_MAX_WORD_BYTES = 10_000
_CHUNK_ROWS = 4096
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")
_WHITESPACE_TO_SPACE = bytes.maketrans(b"\t\r\x0b\x0c", b"    ")


def read_word2vec(
    path: PathLike, binary: bool | None = None, limit: int | None = None
) -> tuple[list[str], np.ndarray]:
    """The words and (words x dims) float32 vectors of a word2vec text or binary file
    (``binary=None``: sniff the format). ``limit`` reads only the first that many words.
    Every problem with the file raises ``W2VError`` naming the file.
    """
    name = os.fspath(path)
    if limit is not None and limit < 1:
        raise W2VError(f"{name}: limit must be a positive number of words, got {limit}")
    with _open_buffer(name) as buf:
        if len(buf) == 0:
            raise W2VError(f"{name}: empty file, expected a word2vec header '<words> <dims>'")
        n_words, dim, body_start = _parse_header(name, buf)
        wanted = n_words if limit is None else min(n_words, limit)
        if binary is None:
            binary = not _looks_like_text(buf[body_start : body_start + _SNIFF_BYTES])
        if binary:
            return _read_binary(name, buf, body_start, n_words, dim, wanted)
        return _read_text(name, buf, body_start, n_words, dim, wanted)


def write_word2vec(
    path: PathLike, words: Sequence[str], vectors: np.ndarray, binary: bool = False
) -> None:
    """Write the word2vec text or binary format, atomically (a failure leaves any old file
    untouched). Words must be non-empty and hold neither spaces nor newlines, which the
    format cannot represent."""
    _check_writable_words(os.fspath(path), words)
    write = _write_binary if binary else _write_text
    atomic_write(path, lambda out: write(out, words, vectors))


# -- writing ----------------------------------------------------------------------------


def _check_writable_words(name: str, words: Sequence[str]) -> None:
    joined = "\n".join(words)
    if " " in joined or joined.count("\n") != max(len(words) - 1, 0) or not all(words):
        bad = next(w for w in words if not w or " " in w or "\n" in w)
        raise W2VError(
            f"{name}: cannot save word {bad!r}: word2vec files need words that are "
            "non-empty and have no spaces or newlines"
        )


def _write_text(out: IO[bytes], words: Sequence[str], vectors: np.ndarray) -> None:
    dim = vectors.shape[1]
    out.write(f"{len(words)} {dim}\n".encode())
    # One %-format per row keeps float formatting in C; %.9g is the shortest
    # fixed precision that round-trips every float32.
    row_format = "%s " + " ".join(["%.9g"] * dim) + "\n"
    for start in range(0, len(words), _CHUNK_ROWS):
        rows = vectors[start : start + _CHUNK_ROWS].tolist()
        chunk = words[start : start + _CHUNK_ROWS]
        text = "".join([row_format % (w, *r) for w, r in zip(chunk, rows, strict=True)])
        out.write(text.encode())


def _write_binary(out: IO[bytes], words: Sequence[str], vectors: np.ndarray) -> None:
    out.write(f"{len(words)} {vectors.shape[1]}\n".encode())
    row_bytes = 4 * vectors.shape[1]
    for start in range(0, len(words), _CHUNK_ROWS):
        raw = vectors[start : start + _CHUNK_ROWS].astype("<f4").tobytes()
        chunk = words[start : start + _CHUNK_ROWS]
        rows = [raw[i * row_bytes : (i + 1) * row_bytes] for i in range(len(chunk))]
        # The trailing newline is what the C tool writes; gensim omits it, and
        # both readers accept either.
        entries = [w.encode() + b" " + r + b"\n" for w, r in zip(chunk, rows, strict=True)]
        out.write(b"".join(entries))


# -- reading ----------------------------------------------------------------------------


@contextlib.contextmanager
def _open_buffer(name: str) -> Iterator[Any]:
    """The file's bytes: memory-mapped when possible, so a multi-GB binary file is not
    also copied into memory before it is parsed."""
    if os.path.isdir(name):
        raise W2VError(f"{name}: is a directory, not a word2vec file")
    try:
        f = open(name, "rb")  # noqa: SIM115 - closed in the finally below
    except FileNotFoundError:
        raise W2VError(f"{name}: no such file") from None
    except OSError as exc:
        raise W2VError(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        try:
            buf: Any = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):
            # Empty files and pipes cannot be mapped.
            try:
                buf = f.read()
            except OSError as exc:
                raise W2VError(f"{name}: cannot read: {exc.strerror or exc}") from None
        try:
            yield buf
        finally:
            if isinstance(buf, mmap.mmap):
                # A stray numpy view would make close() fail; the mapping then simply
                # lives until garbage collection.
                with contextlib.suppress(BufferError):
                    buf.close()
    finally:
        f.close()


# Signatures of files people mistake for vectors, to say what they are instead.
_FOREIGN_SIGNATURES = (
    (b"PK\x03\x04", "a zip archive (PyTorch checkpoints and .npz files are zips)"),
    (b"\x93NUMPY", "a numpy .npy array"),
    (b"\x80", "a Python pickle, which is never loaded"),
    (b"\x1f\x8b", "gzip-compressed; decompress it first"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF", "a PDF document"),
)


def _parse_header(name: str, buf: Any) -> tuple[int, int, int]:
    end = buf.find(b"\n", 0, 256)
    line = bytes(buf[: end if end >= 0 else 64]).rstrip(b"\r")
    fields = line.split()
    if end >= 0 and len(fields) == 2 and all(f.isdigit() for f in fields):
        n_words, dim = int(fields[0]), int(fields[1])
        if dim == 0:
            raise W2VError(f"{name}: bad header: vector size is 0")
        return n_words, dim, end + 1
    for signature, what in _FOREIGN_SIGNATURES:
        if line.startswith(signature):
            raise W2VError(f"{name}: not a word2vec file: this is {what}")
    expected = "the first line should be '<number of words> <vector size>'"
    if not _looks_like_text(line):
        raise W2VError(f"{name}: not a word2vec file: {expected}, but it is not text")
    preview = line[:60].decode("utf-8", errors="replace")
    hint = ""
    if len(fields) > 2 and not fields[0].isdigit():
        hint = " (GloVe-style files have no header line)"
    raise W2VError(f"{name}: not a word2vec file: {expected}, got {preview!r}{hint}")


def _looks_like_text(sample: bytes) -> bool:
    if _CONTROL_BYTES.search(sample):
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The sample may end in the middle of a multi-byte character.
        return exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data"
    return True


def _words(n: int) -> str:
    return f"{n} word" if n == 1 else f"{n} words"


def _decode_word(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace")


def _read_binary(
    name: str, buf: Any, pos: int, n_words: int, dim: int, wanted: int
) -> tuple[list[str], np.ndarray]:
    size = len(buf)
    row_bytes = 4 * dim
    # A word, a space and the floats: no file can hold more entries than this, which
    # also keeps a bogus header from allocating terabytes.
    fits = (size - pos) // (row_bytes + 2)
    vectors = np.empty((min(wanted, fits + 1), dim), dtype=np.float32)
    words: list[str] = []
    seen: set[str] = set()
    for entry in range(1, wanted + 1):
        while pos < size and buf[pos] == 0x0A:  # the C tool's newline after each vector
            pos += 1
        space = buf.find(b" ", pos, pos + _MAX_WORD_BYTES + 1)
        if space < 0:
            if pos >= size:
                raise W2VError(
                    f"{name}: truncated: the header promises {_words(n_words)} but the data "
                    f"ends after {entry - 1}"
                )
            if size - pos > _MAX_WORD_BYTES:
                raise W2VError(
                    f"{name}: entry {entry} of {n_words}: no space-terminated word within "
                    f"{_MAX_WORD_BYTES} bytes; not a word2vec binary file?"
                )
            raise W2VError(
                f"{name}: truncated: entry {entry} of {n_words} has a word but no vector"
            )
        if space == pos:
            raise W2VError(f"{name}: entry {entry} of {n_words}: empty word")
        word = _decode_word(bytes(buf[pos:space]))
        start = space + 1
        if start + row_bytes > size:
            raise W2VError(
                f"{name}: truncated: expected {dim} floats for word {word!r} "
                f"(entry {entry} of {n_words}), found {(size - start) // 4}"
            )
        if word not in seen:
            seen.add(word)
            vectors[len(words)] = np.frombuffer(buf, dtype="<f4", count=dim, offset=start)
            words.append(word)
        pos = start + row_bytes
    if wanted == n_words and bytes(buf[pos:]).strip():
        raise W2VError(f"{name}: unexpected data after the {_words(n_words)} the header announces")
    return words, vectors[: len(words)].copy() if len(words) < len(vectors) else vectors


def _read_text(
    name: str, buf: Any, pos: int, n_words: int, dim: int, wanted: int
) -> tuple[list[str], np.ndarray]:
    body = bytes(buf[pos:])
    # Tabs and CRs are rare; when absent, lines need no per-line translation.
    odd_whitespace = any(c in body for c in (b"\t", b"\r", b"\x0b", b"\x0c"))
    if wanted == n_words:
        body = body.rstrip()
        lines = body.split(b"\n") if body else []
        if len(lines) > n_words:
            raise W2VError(
                f"{name}: more lines than the {_words(n_words)} the header announces"
                " (or not a text word2vec file)"
            )
    else:
        # Split no further than needed: the rest of the file is never looked at.
        lines = body.split(b"\n", wanted)[:wanted]
        while lines and not lines[-1].strip():
            lines.pop()
    del body
    if len(lines) < wanted:
        raise W2VError(
            f"{name}: truncated: the header promises {_words(n_words)} but the file has "
            f"only {len(lines)} lines of vectors"
        )
    words: list[str] = []
    entries: list[int] = []
    values: list[bytes] = []
    seen: set[str] = set()
    for entry, line in enumerate(lines, start=1):
        space = line.find(b" ")
        if space <= 0:
            what = "empty word" if space == 0 else "expected a word followed by values"
            preview = line[:40].decode("utf-8", errors="backslashreplace")
            raise W2VError(f"{name}: entry {entry} of {n_words}: {what}, got {preview!r}")
        word = _decode_word(line[:space])
        rest = line[space + 1 :]
        if odd_whitespace:
            rest = rest.translate(_WHITESPACE_TO_SPACE)
        rest = rest.strip()
        # Counting separators is a C-speed check for the common single-spaced line;
        # only odd spacing pays for a split.
        if rest.count(b" ") != dim - 1 or b"  " in rest or not rest:
            tokens = rest.split()
            if len(tokens) != dim:
                raise W2VError(
                    f"{name}: entry {entry} of {n_words} ({word!r}): expected {dim} values, "
                    f"got {len(tokens)}"
                )
            rest = b" ".join(tokens)
        if word in seen:
            continue
        seen.add(word)
        words.append(word)
        entries.append(entry)
        values.append(rest)
    if not words:
        return words, np.empty((0, dim), dtype=np.float32)
    try:
        with warnings.catch_warnings():
            # numpy < 2.3 warns and returns a short array instead of raising.
            warnings.simplefilter("ignore", DeprecationWarning)
            flat = np.fromstring(b" ".join(values), dtype=np.float32, sep=" ")
    except ValueError:
        flat = None
    if flat is None or flat.size != len(words) * dim:
        _raise_bad_number(name, n_words, words, entries, values)
    return words, flat.reshape(len(words), dim)


def _raise_bad_number(
    name: str, n_words: int, words: list[str], entries: list[int], values: list[bytes]
) -> NoReturn:
    """Find and report the value the bulk parser stopped at."""
    for word, entry, rest in zip(words, entries, values, strict=True):
        for token in rest.split():
            try:
                float(token)
            except ValueError:
                bad = token[:30].decode("utf-8", errors="backslashreplace")
                raise W2VError(
                    f"{name}: entry {entry} of {n_words} ({word!r}): not a number: {bad!r}"
                ) from None
    raise W2VError(f"{name}: could not parse the vector values as numbers")


FASTTEXT_MAGIC = 793712314  # the first int32 of every fastText .bin


def is_fasttext_bin(path: str | os.PathLike[str]) -> bool:
    """Whether a file starts with fastText's magic number (fasttext_bin.py reads the rest
    and says what is wrong with a file that only starts right)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) == 4 and int.from_bytes(head, "little", signed=True) == FASTTEXT_MAGIC
