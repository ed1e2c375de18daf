"""Tests for w2v.corpus (with sources.py and columns.py under it): readers, sentence cutting
and the scanned-corpus cache."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import re
import sys
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from w2v import corpus, sources
from w2v.columns import Layout
from w2v.config import MAX_SENTENCE_LENGTH
from w2v.corpus import (
    NO_LIMIT,
    Limit,
    ScannedCorpus,
    iter_sentences,
    load_scanned,
    scan_corpus,
    scan_sentences,
    scan_settings,
    source_fingerprint,
)
from w2v.errors import W2VError
from w2v.sources import iter_texts
from w2v.tokenize import Tokenizer

LINES = ["The dog's yard.", "", "«Привет, мир!» — сказал он.", "a b  c"]
TOKENS = [["the", "dog", "'s", "yard"], ["привет", "мир", "сказал", "он"], ["a", "b", "c"]]


def fingerprint(
    source,
    text_column: str | None = None,
    tokenizer: Tokenizer | None = None,
    max_sentence_length: int = MAX_SENTENCE_LENGTH,
) -> str | None:
    settings = scan_settings(
        tokenizer or Tokenizer(), Layout(text_column), max_sentence_length, NO_LIMIT
    )
    return source_fingerprint(source, settings)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode())
    return path


def write_ipc(path: Path, table: pa.Table, *, stream: bool = True) -> Path:
    with pa.OSFile(str(path), "wb") as sink:
        writer = pa.ipc.new_stream if stream else pa.ipc.new_file
        with writer(sink, table.schema) as w:
            w.write_table(table, max_chunksize=2)  # several record batches
    return path


def error_of(call, *args, **kwargs) -> str:
    with pytest.raises(W2VError) as info:
        result = call(*args, **kwargs)
        if not isinstance(result, ScannedCorpus):
            list(result)
    message = str(info.value)
    assert "\n" not in message
    return message


# --------------------------------------------------------------------------- text readers


def test_plain_text_lines(tmp_path):
    path = write_lines(tmp_path / "c.txt", LINES)
    assert list(iter_texts(path)) == LINES
    assert list(iter_sentences(path, Tokenizer())) == TOKENS
    assert list(iter_sentences(str(path), Tokenizer())) == TOKENS


def test_plain_text_line_endings_bom_and_bad_bytes(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"\xef\xbb\xbffirst line\r\nbad \xff byte\r\nlast")
    assert list(iter_texts(path)) == ["first line", "bad \ufffd byte", "last"]
    assert list(iter_sentences(path, Tokenizer())) == [
        ["first", "line"],
        ["bad", "byte"],  # the replacement character is a symbol, not a letter
        ["last"],
    ]


@pytest.mark.parametrize(
    ("suffix", "compress"),
    [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)],
)
def test_compressed_text(tmp_path, suffix, compress):
    path = tmp_path / f"corpus.txt{suffix}"
    path.write_bytes(compress(("\n".join(LINES)).encode()))
    assert list(iter_texts(path)) == LINES
    assert list(iter_sentences(path, Tokenizer())) == TOKENS


def test_compressed_jsonl(tmp_path):
    path = tmp_path / "data.jsonl.gz"
    rows = [{"id": i, "text": line} for i, line in enumerate(LINES)]
    path.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in rows).encode()))
    assert list(iter_texts(path)) == LINES


def test_zip_members_sorted_and_filtered(tmp_path):
    path = tmp_path / "c.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("b.txt", "bee\n")
        zf.writestr("sub/c.txt", "sea\n")
        zf.writestr("a.txt.gz", gzip.compress(b"ay\n"))
        zf.writestr("sub/", "")
        zf.writestr("__MACOSX/._a.txt", "junk")
        zf.writestr(".hidden.txt", "junk")
        zf.writestr("info.json", '{"text": "junk"}')
        zf.writestr("d.jsonl", '{"text": "dee"}\n')
    assert list(iter_texts(path)) == ["ay", "bee", "dee", "sea"]


def test_directory_recursive_sorted_hidden_skipped(tmp_path):
    root = tmp_path / "corpus"
    (root / "a" / "deep").mkdir(parents=True)
    (root / ".git").mkdir()
    write_lines(root / "b.txt", ["bee"])
    write_lines(root / "a" / "x.txt", ["ex"])
    write_lines(root / "a" / "deep" / "y.txt", ["why"])
    write_lines(root / "a" / ".hidden.txt", ["junk"])
    write_lines(root / ".git" / "config", ["junk"])
    (root / "a" / "meta.json").write_text('{"text": "junk"}')
    (root / "c.txt.gz").write_bytes(gzip.compress(b"sea\n"))
    assert list(iter_texts(root)) == ["why", "ex", "bee", "sea"]


def test_stdin(monkeypatch):
    class FakeStdin:
        buffer = io.BytesIO("\n".join(LINES).encode())

    monkeypatch.setattr(sys, "stdin", FakeStdin())
    assert list(iter_sentences("-", Tokenizer())) == TOKENS
    assert fingerprint("-", None, Tokenizer()) is None


# --------------------------------------------------------------------------- tabular readers


TABLE = pa.table({"id": [1, 2, 3, 4], "text": ["The dog's yard.", None, "Привет, мир!", "a b"]})
TABLE_TEXTS = ["The dog's yard.", "Привет, мир!", "a b"]


@pytest.mark.parametrize("stream", [True, False])
def test_arrow_stream_and_file_format(tmp_path, stream):
    path = write_ipc(tmp_path / "t.arrow", TABLE, stream=stream)
    assert list(iter_texts(path)) == TABLE_TEXTS
    assert list(iter_sentences(path, Tokenizer())) == [
        ["the", "dog", "'s", "yard"],
        ["привет", "мир"],
        ["a", "b"],
    ]


def test_arrow_inside_gzip(tmp_path):
    raw = write_ipc(tmp_path / "t.arrow", TABLE)
    path = tmp_path / "t.arrow.gz"
    path.write_bytes(gzip.compress(raw.read_bytes()))
    raw.unlink()
    assert list(iter_texts(path)) == TABLE_TEXTS


def test_huggingface_save_to_disk(tmp_path):
    ds = tmp_path / "ds"
    ds.mkdir()
    write_ipc(ds / "data-00000-of-00002.arrow", pa.table({"text": ["second file"]}))
    write_ipc(ds / "data-00001-of-00002.arrow", pa.table({"text": ["first file"]}))
    # state.json decides the order, not the names.
    state = {
        "_data_files": [
            {"filename": "data-00001-of-00002.arrow"},
            {"filename": "data-00000-of-00002.arrow"},
        ],
        "_fingerprint": "abc",
        "_format_type": None,
    }
    (ds / "state.json").write_text(json.dumps(state))
    (ds / "dataset_info.json").write_text(json.dumps({"text": "not a record", "features": {}}))
    assert list(iter_texts(ds)) == ["first file", "second file"]

    (ds / "state.json").unlink()  # dataset_info.json alone still marks it; names decide
    write_ipc(ds / "cache-0123abcd.arrow", pa.table({"text": ["derived copy"]}))
    assert list(iter_texts(ds)) == ["second file", "first file"]


def test_huggingface_dataset_dict(tmp_path):
    root = tmp_path / "dd"
    for split, text in [("test", "from test"), ("train", "from train")]:
        (root / split).mkdir(parents=True)
        write_ipc(root / split / "data-00000-of-00001.arrow", pa.table({"text": [text]}))
        (root / split / "state.json").write_text(
            json.dumps({"_data_files": [{"filename": "data-00000-of-00001.arrow"}]})
        )
        (root / split / "dataset_info.json").write_text("{}")
    (root / "dataset_dict.json").write_text(json.dumps({"splits": ["train", "test"]}))
    assert list(iter_texts(root)) == ["from train", "from test"]


def test_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(TABLE, path, row_group_size=2)
    assert list(iter_texts(path)) == TABLE_TEXTS


def test_jsonl(tmp_path):
    path = tmp_path / "t.jsonl"
    rows = [{"id": 1, "text": "first"}, {"id": 2, "text": None}, {"id": 3}, {"id": 4, "text": "x"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert list(iter_texts(path)) == ["first", "x"]


def test_record_with_newlines_is_one_sentence(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"text": "one\ntwo\r\nthree"}) + "\n" + json.dumps({"text": "four"}))
    assert list(iter_texts(path)) == ["one\ntwo\r\nthree", "four"]
    assert list(iter_sentences(path, Tokenizer())) == [["one", "two", "three"], ["four"]]


def quintets() -> pa.Table:
    return pa.table(
        {
            "image": ["1.jpg", "2.jpg"],
            "set": [[f"Caption {i}{j}." for j in range(5)] for i in range(2)],
        }
    )


@pytest.mark.parametrize("fmt", ["parquet", "arrow", "jsonl"])
def test_list_of_strings_column(tmp_path, fmt):
    table = quintets()
    path = tmp_path / f"q.{fmt}"
    if fmt == "parquet":
        pq.write_table(table, path)
    elif fmt == "arrow":
        write_ipc(path, table)
    else:
        path.write_text("\n".join(json.dumps(r) for r in table.to_pylist()))
    # "image" is a string column too, so the list column must be named.
    texts = list(iter_texts(path, Layout("set")))
    assert texts == [f"Caption {i}{j}." for i in range(2) for j in range(5)]
    assert len(list(iter_sentences(path, Tokenizer(), Layout("set")))) == 10


def test_only_text_column_is_found(tmp_path):
    path = tmp_path / "q.parquet"
    pq.write_table(pa.table({"n": [1, 2], "set": [["a b", None], ["c"]]}), path)
    assert list(iter_texts(path)) == ["a b", "c"]


def test_text_column_selection_and_errors(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"n": [1], "caption": ["cap"], "title": ["tit"]}), path)
    assert list(iter_texts(path, Layout("title"))) == ["tit"]

    message = error_of(iter_texts, path)
    assert str(path) in message and "pass text_column" in message
    assert "caption" in message and "title" in message

    message = error_of(iter_texts, path, Layout("body"))
    assert str(path) in message and "'body'" in message and "caption" in message

    message = error_of(iter_texts, path, Layout("n"))
    assert str(path) in message and "not text" in message


# --------------------------------------------------------------------------- long lines


def words(n: int) -> list[str]:
    """Tokens of varied length, some multi-byte, none repeating in a short window."""
    return [("ж" if i % 3 == 0 else "w") * (1 + i % 7) + str(i) for i in range(n)]


@pytest.mark.parametrize("block", [1, 2, 3, 5, 16, 64, 1 << 22])
def test_long_line_is_cut_every_max_sentence_length(tmp_path, monkeypatch, block):
    monkeypatch.setattr(sources, "READ_BLOCK_SIZE", block)
    line = words(103)
    lines = [" ".join(line), "short line", "", " ".join(words(7)) + "  "]
    path = write_lines(tmp_path / "long.txt", lines)
    sentences = list(iter_sentences(path, Tokenizer(lowercase=False), max_sentence_length=10))
    expected = [line[i : i + 10] for i in range(0, 103, 10)] + [["short", "line"]]
    expected += [words(7)]
    assert sentences == expected

    # iter_texts gives lines longer than a block in pieces cut at spaces, others whole.
    texts = list(iter_texts(path))
    assert [w for t in texts for w in t.split()] == [w for ln in lines for w in ln.split()]
    if block >= len(lines[0].encode()):
        assert texts == lines
    else:
        assert len(texts) > len(lines)


def test_line_exactly_max_sentence_length_and_multiples(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "READ_BLOCK_SIZE", 8)
    path = write_lines(tmp_path / "c.txt", [" ".join(words(20)), " ".join(words(5))])
    got = list(iter_sentences(path, Tokenizer(lowercase=False), max_sentence_length=5))
    assert got == [words(20)[i : i + 5] for i in range(0, 20, 5)] + [words(5)]


def test_one_line_without_newline_over_many_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "READ_BLOCK_SIZE", 32)
    tokens = words(1000)
    path = tmp_path / "text8ish.gz"
    path.write_bytes(gzip.compress((" " + " ".join(tokens)).encode()))
    got = list(iter_sentences(path, Tokenizer(lowercase=False), max_sentence_length=300))
    assert [len(s) for s in got] == [300, 300, 300, 100]
    assert [w for s in got for w in s] == tokens


def test_bad_max_sentence_length(tmp_path):
    path = write_lines(tmp_path / "c.txt", ["a"])
    assert "max_sentence_length" in error_of(
        iter_sentences, path, Tokenizer(), max_sentence_length=0
    )


# --------------------------------------------------------------------------- scan_corpus


def sample_corpus(tmp_path: Path) -> tuple[Path, list[list[str]]]:
    lines = ["the cat sat on the mat", "", "The dog's yard.", " ".join(words(25)), "the end"]
    path = write_lines(tmp_path / "corpus.txt", lines)
    return path, list(iter_sentences(path, Tokenizer(), max_sentence_length=10))


def test_scan_corpus_contents(tmp_path):
    path, sentences = sample_corpus(tmp_path)
    reports: list[int] = []
    sc = scan_corpus(
        path,
        Tokenizer(),
        max_sentence_length=10,
        cache_dir=tmp_path / "cache",
        progress=reports.append,
    )
    flat = [w for s in sentences for w in s]
    assert sc.n_tokens == len(flat) and sc.n_sentences == len(sentences)
    assert sc.ids.dtype == np.int32 and sc.counts.dtype == np.int64 and sc.offsets.dtype == np.int64
    assert [sc.words[i] for i in sc.ids] == flat
    assert sc.words == list(dict.fromkeys(flat))  # first-seen order
    assert dict(zip(sc.words, sc.counts.tolist(), strict=True)) == Counter(flat)
    assert np.diff(sc.offsets).tolist() == [len(s) for s in sentences]
    assert sc.offsets[0] == 0 and sc.offsets[-1] == len(sc.ids)
    for i, s in enumerate(sentences):
        assert [sc.words[j] for j in sc.ids[sc.offsets[i] : sc.offsets[i + 1]]] == s
    assert reports and reports[-1] == sc.n_tokens

    entry = sc.path
    assert entry is not None and entry.parent == tmp_path / "cache"
    assert entry.name == fingerprint(path, None, Tokenizer(), 10)
    assert {p.name for p in entry.iterdir()} == {
        "ids.int32",
        "offsets.npy",
        "counts.npy",
        "words.txt",
        "meta.json",
    }
    assert np.fromfile(entry / "ids.int32", dtype="<i4").tolist() == sc.ids.tolist()
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["n_tokens"] == sc.n_tokens and meta["n_sentences"] == sc.n_sentences
    again = load_scanned(entry)
    assert again.words == sc.words and np.array_equal(again.ids, sc.ids)


def test_scan_corpus_reuses_the_cache(tmp_path, monkeypatch):
    path, _ = sample_corpus(tmp_path)
    cache = tmp_path / "cache"
    first = scan_corpus(path, Tokenizer(), cache_dir=cache)

    def no_reading(*args, **kwargs):
        raise AssertionError("the source was read again")

    monkeypatch.setattr(sources, "iter_chunks", no_reading)
    second = scan_corpus(path, Tokenizer(), cache_dir=cache)
    assert second.path == first.path
    assert second.words == first.words and np.array_equal(second.ids, first.ids)
    assert len(list(cache.iterdir())) == 1


def test_changed_source_or_settings_change_the_fingerprint(tmp_path):
    path, _ = sample_corpus(tmp_path)
    tok = Tokenizer()
    base = fingerprint(path, None, tok)
    assert base is not None and re.fullmatch(r"[0-9a-f]{64}", base)
    assert fingerprint(path, None, tok) == base
    assert fingerprint(path, "text", tok) != base
    assert fingerprint(path, None, Tokenizer(lowercase=False)) != base
    assert fingerprint(path, None, Tokenizer("seed")) != base
    assert fingerprint(path, None, tok, max_sentence_length=5) != base

    cache = tmp_path / "cache"
    old = scan_corpus(path, tok, cache_dir=cache)
    st = path.stat()
    path.write_text("entirely new words\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert fingerprint(path, None, tok) != base
    new = scan_corpus(path, tok, cache_dir=cache)
    assert new.path != old.path and new.words == ["entirely", "new", "words"]


def test_directory_fingerprint_sees_new_files(tmp_path):
    root = tmp_path / "d"
    root.mkdir()
    write_lines(root / "a.txt", ["a"])
    before = fingerprint(root, None, Tokenizer())
    write_lines(root / ".hidden", ["h"])  # not read, so not part of the key
    assert fingerprint(root, None, Tokenizer()) == before
    write_lines(root / "b.txt", ["b"])
    assert fingerprint(root, None, Tokenizer()) != before


def test_interrupted_scan_leaves_no_entry(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "READ_BLOCK_SIZE", 16)
    monkeypatch.setattr(corpus, "_PROGRESS_EVERY", 3)
    path = write_lines(tmp_path / "c.txt", [" ".join(words(50))] * 3)
    cache = tmp_path / "cache"

    def interrupt(n: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        scan_corpus(path, Tokenizer(), cache_dir=cache, progress=interrupt)
    assert list(cache.iterdir()) == []
    sc = scan_corpus(path, Tokenizer(), cache_dir=cache)
    assert sc.n_tokens == 150


def test_corrupt_entry_is_rescanned(tmp_path):
    path, sentences = sample_corpus(tmp_path)
    cache = tmp_path / "cache"
    entry = scan_corpus(path, Tokenizer(), cache_dir=cache).path
    assert entry is not None
    with open(entry / "ids.int32", "r+b") as f:
        f.truncate(8)
    assert "not a valid scanned corpus" in error_of(load_scanned, entry)
    sc = scan_corpus(path, Tokenizer(), max_sentence_length=10000, cache_dir=cache)
    assert sc.path == entry and sc.n_tokens == sum(map(len, sentences))
    assert load_scanned(entry).n_tokens == sc.n_tokens


def test_scan_stdin_is_never_reused(tmp_path, monkeypatch):
    def feed() -> None:
        class FakeStdin:
            buffer = io.BytesIO(b"a b\nb c\n")

        monkeypatch.setattr(sys, "stdin", FakeStdin())

    cache = tmp_path / "cache"
    feed()
    one = scan_corpus("-", Tokenizer(), cache_dir=cache)
    feed()
    two = scan_corpus("-", Tokenizer(), cache_dir=cache)
    assert one.path != two.path
    assert one.path is not None and one.path.name.startswith("stdin-")
    assert one.words == ["a", "b", "c"] and one.counts.tolist() == [1, 2, 1]


def test_scan_without_cache_dir(tmp_path):
    path, sentences = sample_corpus(tmp_path)
    sc = scan_corpus(path, Tokenizer())
    assert sc.path is None
    assert [sc.words[i] for i in sc.ids] == [w for s in sentences for w in s]


def test_scan_tabular_list_column(tmp_path):
    path = tmp_path / "q.parquet"
    pq.write_table(quintets(), path)
    sc = scan_corpus(path, Tokenizer(), Layout("set"), cache_dir=tmp_path / "cache")
    assert sc.n_sentences == 10 and sc.n_tokens == 20
    assert sc.counts[sc.words.index("caption")] == 10


# --------------------------------------------------------------------------- errors


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.txt"
    for call in (iter_texts, lambda p: fingerprint(p, None, Tokenizer())):
        message = error_of(call, missing)
        assert str(missing) in message and "no such file" in message
    assert str(missing) in error_of(scan_corpus, missing, Tokenizer(), cache_dir=tmp_path)


def test_empty_corpus(tmp_path):
    for name, data in [("empty.txt", b""), ("blank.txt", b"\n \n\t\n"), ("punct.txt", b"... !!")]:
        path = tmp_path / name
        path.write_bytes(data)
        message = error_of(scan_corpus, path, Tokenizer(), cache_dir=tmp_path / "cache")
        assert message == f"{path}: the corpus is empty (no tokens)"
    assert list((tmp_path / "cache").iterdir()) == []
    (tmp_path / "empty_dir").mkdir()
    assert "empty" in error_of(scan_corpus, tmp_path / "empty_dir", Tokenizer())


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("bad.zip", b"this is not a zip file", "not a valid zip file"),
        ("bad.parquet", b"PAR1 garbage garbage garbage", "not a valid Parquet file"),
        ("bad.arrow", b"garbage" * 10, "not a valid Arrow IPC file"),
        ("bad.txt.gz", b"plain text, not gzip", "not a valid gzip file"),
        ("cut.txt.gz", gzip.compress(" ".join(words(1000)).encode())[:500], "truncated"),
        ("bad.txt.bz2", b"not bzip2 data", "not a valid bz2 file"),
        ("bad.txt.xz", b"not xz data", "not a valid xz file"),
        ("bad.jsonl", b'{"text": "ok"}\n{"text": broken\n', "line 2 is not valid JSON"),
        ("list.jsonl", b"[1, 2]\n", "not a JSON object"),
        ("pretty.json", b'{\n  "text": "x"\n}\n', "expected JSON lines"),
    ],
)
def test_bad_files(tmp_path, name, data, problem):
    path = tmp_path / name
    path.write_bytes(data)
    message = error_of(iter_texts, path)
    assert message.startswith(f"{path}: ") and problem in message


def test_bad_member_of_zip_is_named(tmp_path):
    path = tmp_path / "c.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("good.txt", "fine\n")
        zf.writestr("inner.txt.gz", b"not gzip")
    message = error_of(iter_texts, path)
    assert message.startswith(f"{path}:inner.txt.gz: ") and "gzip" in message


def test_unreadable_file(tmp_path):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root can read anything")
    path = write_lines(tmp_path / "secret.txt", ["x"])
    path.chmod(0)
    try:
        message = error_of(iter_texts, path)
    finally:
        path.chmod(0o644)
    assert str(path) in message and "permission denied" in message


def test_load_scanned_rejects_garbage(tmp_path):
    (tmp_path / "meta.json").write_text("{not json")
    assert str(tmp_path) in error_of(load_scanned, tmp_path)
    assert "not a valid scanned corpus" in error_of(load_scanned, tmp_path / "missing")


# --------------------------------------------------------------------------- --limit


def test_limit_words_and_sentences(tmp_path):
    lines = ["one two three", "four five", "six seven eight nine", "ten"]
    path = write_lines(tmp_path / "c.txt", lines)
    whole = [line.split() for line in lines]

    def scanned(limit: Limit) -> list[list[str]]:
        sc = scan_corpus(path, Tokenizer(), limit=limit, cache_dir=tmp_path / "cache")
        words = [sc.words[i] for i in sc.ids]
        return [words[a:b] for a, b in zip(sc.offsets[:-1], sc.offsets[1:], strict=True)]

    # the sentence that crosses the limit ends there
    assert scanned(Limit(words=7)) == [*whole[:2], ["six", "seven"]]
    assert scanned(Limit(words=5)) == whole[:2]
    assert scanned(Limit(words=1)) == [["one"]]
    assert scanned(Limit(words=100)) == whole
    assert scanned(Limit(sentences=3)) == whole[:3]
    assert scanned(Limit(words=7, sentences=1)) == whole[:1]
    assert scanned(Limit(words=4, sentences=3)) == [whole[0], ["four"]]
    assert list(iter_sentences(path, Tokenizer(), limit=Limit(words=4))) == [whole[0], ["four"]]
    # each limit is its own cache entry
    assert len(list((tmp_path / "cache").iterdir())) == 7


def test_limit_stops_reading_and_spans_blocks():
    def endless():
        n = 0
        while True:  # sentences of 3 tokens in blocks of 2
            yield [f"w{n}", f"w{n + 1}"], [3 for end in (n + 1, n + 2) if end % 3 == 0]
            n += 2

    blocks = list(corpus._limited(endless(), Limit(words=5)))
    tokens = [t for block, _ in blocks for t in block]
    assert tokens == ["w0", "w1", "w2", "w3", "w4"]
    assert [n for _, lengths in blocks for n in lengths] == [3, 2]
    blocks = list(corpus._limited(endless(), Limit(sentences=2)))
    assert sum(len(block) for block, _ in blocks) == 6


def test_limit_of_token_lists(tmp_path):
    sentences = [["a", "b"], ["c", "d", "e"], ["f"]]
    sc = scan_sentences(iter(sentences), tmp_path, limit=Limit(words=3))
    assert [sc.words[i] for i in sc.ids] == ["a", "b", "c"]
    assert Limit(10, None).per_rank(3) == Limit(4, None)
