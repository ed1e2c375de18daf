"""Readers of table sources (JSON lines, Arrow IPC, Parquet, delimited text such as TSV and
CSV): which column holds the text, and its values as text records. sources.py decides which
reader a file gets."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import W2VError, first_line, option

_JSON_BATCH = 4096
_ARROW_BATCH = 8192
_DELIMITED_BATCH = 4096
_SNIFF_ROWS = 20  # rows that decide whether the first one is a header
_SUFFIX_DELIMITERS = {".tsv": "\t", ".csv": ","}


@dataclass(frozen=True)
class Layout:
    """Where the text is in a source's records.

    ``text_column``: the column of a table (by name) or of delimited text (by header name, or
    by number: 1 is the first column, -1 the last). ``delimiter``: read text files as
    delimited text split by this character (``.tsv`` and ``.csv`` are, without it).
    ``header``: whether delimited text starts with a row of column names ("auto": detected).
    """

    text_column: str | None = None
    delimiter: str | None = None
    header: str = "auto"

    def delimiter_for(self, suffix: str) -> str | None:
        """The delimiter of a text file with this suffix; None: plain text."""
        return self.delimiter or _SUFFIX_DELIMITERS.get(suffix.lower())

    def check_plain_text(self, display: str) -> None:
        """Plain text (not delimited) has no columns: a column option is a mistake."""
        if self.text_column is not None:
            raise W2VError(
                f"{display}: plain text has no columns, so {option('text_column')} does not "
                f"apply; for delimited text give {option('delimiter')} (tab, comma, ...) or "
                "name the file .tsv or .csv"
            )
        if self.header != "auto":
            raise W2VError(f"{display}: {option('header')} applies to delimited text only")

    def check_table(self, display: str, kind: str) -> None:
        """A table (arrow, parquet, JSON lines) has its own columns: no delimiter, no header."""
        for name, given in (("delimiter", self.delimiter), ("header", self.header != "auto")):
            if given:
                raise W2VError(
                    f"{display}: {option(name)} applies to delimited text, not to {kind}"
                )


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
        f"pass {option('text_column')}"
    )


def _json_kind(value: object) -> tuple[bool, str]:
    if isinstance(value, str):
        return True, "string"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return True, "list of strings"
    return False, "null" if value is None else type(value).__name__


def jsonl_chunks(f: IO[bytes], wanted: str | None, display: str) -> Iterator[list[str]]:
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


def arrow_chunks(
    src: pa.NativeFile | IO[bytes], wanted: str | None, display: str
) -> Iterator[list[str]]:
    is_file_format = src.read(6) == b"ARROW1"
    src.seek(0)
    try:
        reader = pa.ipc.open_file(src) if is_file_format else pa.ipc.open_stream(src)
    except pa.ArrowException as e:
        raise W2VError(f"{display}: not a valid Arrow IPC file ({first_line(e)})") from e
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


def parquet_chunks(src: Path | IO[bytes], wanted: str | None, display: str) -> Iterator[list[str]]:
    try:
        pf = pq.ParquetFile(src)
    except pa.ArrowException as e:
        raise W2VError(f"{display}: not a valid Parquet file ({first_line(e)})") from e
    with pf:
        column = _choose_column(display, _columns(pf.schema_arrow), wanted)
        for batch in pf.iter_batches(batch_size=_ARROW_BATCH, columns=[column]):
            values = _arrow_values(batch.column(0))
            if values:
                yield values


# -- delimited text (TSV, CSV) ----------------------------------------------------------------


def delimited_chunks(
    f: IO[bytes], layout: Layout, delimiter: str, display: str
) -> Iterator[list[str]]:
    """The text column of delimited text, in batches of records.

    Tab-separated text is read without quoting (a quote is a character like any other, as in
    Flickr8k's captions); any other delimiter with CSV's quoting ("a, b" is one field).
    """
    text = io.TextIOWrapper(f, encoding="utf-8-sig", errors="replace", newline="")
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    # a field may be a whole document: no limit but the memory it takes anyway
    csv.field_size_limit(1 << 30)
    reader = csv.reader(text, delimiter=delimiter, quoting=quoting, strict=False)
    # (line number, row), blank lines left out; a quoted field may span lines
    numbered = ((reader.line_num, row) for row in reader if row)
    try:
        first = list(itertools.islice(numbered, _SNIFF_ROWS))
        if not first:
            return
        sample = [row for _, row in first]
        header = _has_header(layout, sample)
        names = [name.strip() for name in sample[0]] if header else []
        index = _column_index(layout.text_column, names, sample, display)
        batch: list[str] = []
        for line, row in itertools.islice(itertools.chain(first, numbered), header, None):
            try:
                batch.append(row[index])
            except IndexError:
                raise W2VError(
                    f"{display}: line {line} has {len(row)} field"
                    f"{'s' if len(row) != 1 else ''}, but the text is in column "
                    f"{index + 1 if index >= 0 else index}"
                ) from None
            if len(batch) >= _DELIMITED_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch
    except csv.Error as e:
        raise W2VError(f"{display}: line {reader.line_num}: {first_line(e)}") from e
    finally:
        text.detach()  # the caller closes the file


def _has_header(layout: Layout, sample: list[list[str]]) -> bool:
    if layout.header != "auto":
        return layout.header == "yes"
    column = layout.text_column
    if column is not None and not _is_number(column):
        return True  # a column named by its header
    return _looks_like_header(sample)


def _looks_like_header(rows: list[list[str]]) -> bool:
    """Python's csv.Sniffer.has_header rule, on rows already split: a column whose values
    below the first row are all numbers, or all of one length, votes for a header when the
    first row's value breaks that pattern and against it when it does not."""
    if len(rows) < 2:
        return False
    first, rest = rows[0], rows[1:]
    votes = 0
    for col, name in enumerate(first):
        values = [row[col] for row in rest if len(row) == len(first)]
        if not values:
            continue
        if all(_is_number(v) for v in values):
            votes += -1 if _is_number(name) else 1
        elif len({len(v) for v in values}) == 1:
            votes += -1 if len(name) == len(values[0]) else 1
    return votes > 0


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _column_index(
    wanted: str | None, names: list[str], sample: list[list[str]], display: str
) -> int:
    """The 0-based index of the text column (negative: from the end)."""
    widths = {len(row) for row in sample}
    described = names or [
        f"{value[:30]!r}..." if len(value) > 30 else repr(value) for value in sample[0]
    ]
    listing = ", ".join(f"{n} {d}" for n, d in enumerate(described, 1))
    if wanted is None:
        if widths == {1}:
            return 0
        if "text" in names:
            return names.index("text")
        raise W2VError(
            f"{display}: cannot tell which column holds the text (columns: {listing}); "
            f"pass {option('text_column')} with a number or a header name"
        )
    if wanted in names:
        return names.index(wanted)
    if wanted.lstrip("-").isdigit():
        number = int(wanted)
        width = max(widths)
        if number == 0 or abs(number) > width:
            raise W2VError(
                f"{display}: no column {number} (columns: {listing}); "
                "1 is the first column, -1 the last"
            )
        return number - 1 if number > 0 else number
    raise W2VError(f"{display}: no column {wanted!r} (columns: {listing})")
