"""Tests for delimited text (TSV, CSV, --delimiter) in columns.py and sources.py, and for the
corpus options that do not apply to a source."""

from __future__ import annotations

import gzip
import io
import sys
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from w2v.columns import Layout
from w2v.corpus import iter_sentences
from w2v.errors import W2VError
from w2v.sources import iter_texts
from w2v.tokenize import Tokenizer

FLICKR8K_LINES = [
    "1000268201_693b08cb0e.jpg#0\tA child in a pink dress is climbing up a set of stairs .",
    "1000268201_693b08cb0e.jpg#1\tA girl going into a wooden building .",
    '1001773457_577c3a7d70.jpg#0\tA black dog and a "spotted" dog are fighting',
    "1001773457_577c3a7d70.jpg#1\tA black dog and a tri-colored dog playing with each other .",
]
CAPTIONS = [line.split("\t")[1] for line in FLICKR8K_LINES]


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def error_of(source, layout: Layout) -> str:
    with pytest.raises(W2VError) as info:
        list(iter_texts(source, layout))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_flickr8k_layout_by_number_with_a_delimiter(tmp_path):
    path = write(tmp_path / "Flickr8k.token.txt", "\n".join(FLICKR8K_LINES) + "\n")
    # tab-separated text has no quoting: the quotes are part of the caption
    assert list(iter_texts(path, Layout("2", "\t"))) == CAPTIONS
    assert list(iter_texts(path, Layout("-1", "\t"))) == CAPTIONS
    sentences = list(iter_sentences(path, Tokenizer(), Layout("2", "\t")))
    assert not any(".jpg" in token or token == "jpg" for s in sentences for token in s)
    assert sentences[2][-3:] == ["dog", "are", "fighting"]


def test_a_header_is_detected_and_names_a_column(tmp_path):
    header = "image\tcaption\n"
    path = write(tmp_path / "captions.tsv", header + "\n".join(FLICKR8K_LINES) + "\n")
    assert list(iter_texts(path, Layout("caption"))) == CAPTIONS
    assert list(iter_texts(path, Layout("2"))) == CAPTIONS  # detected: ids of one length
    no_header = write(tmp_path / "plain.tsv", "\n".join(FLICKR8K_LINES) + "\n")
    assert list(iter_texts(no_header, Layout("2"))) == CAPTIONS
    # forced either way
    assert next(iter(iter_texts(path, Layout("2", header="no")))) == "caption"
    assert list(iter_texts(no_header, Layout("2", header="yes"))) == CAPTIONS[1:]


def test_csv_quoting_a_numeric_id_header_and_a_column_named_text(tmp_path):
    text = 'id,text,score\n1,"Hello, world",3\n2,"two\nlines",4\n3,plain,5\n'
    path = write(tmp_path / "t.csv", text)
    expected = ["Hello, world", "two\nlines", "plain"]
    assert list(iter_texts(path)) == expected  # the column named "text"
    assert list(iter_texts(path, Layout("2"))) == expected  # header detected: numeric ids
    assert list(iter_texts(path, Layout("text"))) == expected
    # a record holding a line break is one sentence
    assert list(iter_sentences(path, Tokenizer())) == [["hello", "world"], ["two", "lines"],
                                                       ["plain"]]  # fmt: skip


def test_one_column_needs_no_choice_and_compression_keeps_the_kind(tmp_path):
    path = tmp_path / "lines.csv.gz"
    path.write_bytes(gzip.compress(b"first line\nsecond line\n\nthird\n"))
    assert list(iter_texts(path)) == ["first line", "second line", "third"]


def test_other_delimiters_by_name(tmp_path):
    path = write(tmp_path / "data.txt", "a;b b;c\nd;e e;f\n")
    assert list(iter_texts(path, Layout("2", ";"))) == ["b b", "e e"]
    path = write(tmp_path / "pipes.txt", "x|one two\ny|three\n")
    assert list(iter_texts(path, Layout("2", "|"))) == ["one two", "three"]


def test_stdin_as_delimited_text(monkeypatch):
    data = ("\n".join(FLICKR8K_LINES) + "\n").encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert list(iter_texts("-", Layout("2", "\t"))) == CAPTIONS


def test_which_column_is_unclear_or_missing(tmp_path):
    path = write(tmp_path / "c.tsv", "\n".join(FLICKR8K_LINES) + "\n")
    message = error_of(path, Layout())
    assert "cannot tell which column holds the text" in message and "text_column" in message
    assert "1 '1000268201_693b08cb0e.jpg#0'" in message
    message = error_of(path, Layout("3"))
    assert "no column 3" in message and "1 is the first column" in message
    message = error_of(path, Layout("0"))
    assert "no column 0" in message
    named = write(tmp_path / "named.tsv", "image\tcaption\n" + "\n".join(FLICKR8K_LINES))
    message = error_of(named, Layout("body"))
    assert "no column 'body'" in message and "1 image, 2 caption" in message


def test_a_short_row_is_an_error_naming_its_line(tmp_path):
    path = write(tmp_path / "c.tsv", "\n".join([*FLICKR8K_LINES, "lonely", *FLICKR8K_LINES]))
    message = error_of(path, Layout("2"))
    assert f"{path}: line 5 has 1 field, but the text is in column 2" in message


def test_options_that_do_not_apply_are_errors(tmp_path):
    text = write(tmp_path / "Flickr8k.token.txt", "\n".join(FLICKR8K_LINES) + "\n")
    message = error_of(text, Layout("2"))
    assert "plain text has no columns, so text_column does not apply" in message
    assert "give delimiter" in message
    message = error_of(text, Layout(header="yes"))
    assert "header applies to delimited text only" in message

    table = tmp_path / "t.parquet"
    pq.write_table(pa.table({"text": ["a b"]}), table)
    assert "delimiter applies to delimited text, not to parquet" in error_of(
        table, Layout(delimiter="\t")
    )
    assert "header applies to delimited text" in error_of(table, Layout(header="no"))


def test_flickr8k_for_real(shared_data):
    path = shared_data / "flickr" / "Flickr8k.token.txt.gz"
    captions = list(iter_texts(path, Layout("2", "\t")))
    assert len(captions) == 40_460  # the data README's count
    counts = Counter(t for s in iter_sentences(path, Tokenizer(), Layout("2", "\t")) for t in s)
    assert not [word for word in counts if "jpg" in word]
    assert counts["dog"] > 7_000
