"""Readers of table sources (JSON lines, Arrow IPC, Parquet): which column holds the text,
and its values as text records. sources.py decides which reader a file gets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import W2VError, first_line

_JSON_BATCH = 4096
_ARROW_BATCH = 8192


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
