"""fastText's .bin format: our files load in gensim (and fastText), theirs load here with the
same vectors for known and unseen words, and hostile files are one-line errors."""

from __future__ import annotations

import struct
import tempfile
import tracemalloc
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from w2v.errors import UnknownWordError, W2VError
from w2v.fasttext_bin import FastTextModel, is_fasttext_bin, read_bin, write_bin
from w2v.subwords import Subwords

WORDS = [
    "the", "of", "and", "café", "naïve", "über", "straße", "façade", "jalapeño", "résumé",
    "東京", "日本語", "中文", "한국어", "привет", "ελληνικά", "a", "to", "in", "is", "it",
    "was", "for", "on", "are", "with", "as", "his", "they", "be",
]  # fmt: skip
UNSEEN = ["cafés", "zebra", "東京都", "übermensch", "x", "Ωmega", "прив"]
HEADER = 8 + 12 * 4 + 8  # magic, version; Args
DICT_AT = HEADER  # int32 size, nwords, nlabels; int64 ntokens, pruneidx_size
ENTRIES_AT = DICT_AT + 28


def small_model(words: list[str] = WORDS, dim: int = 8, bucket: int = 1000, **kw) -> FastTextModel:
    rng = np.random.default_rng(7)
    n = len(words)
    return FastTextModel(
        words=list(words),
        counts=rng.integers(1, 10_000, n).astype(np.int64),
        input=rng.uniform(-1, 1, (n + bucket, dim)).astype(np.float32),
        output=rng.uniform(-1, 1, (n, dim)).astype(np.float32),
        subwords=Subwords(3, 6, bucket),
        ntokens=123_456,
        **kw,
    )


@pytest.fixture
def model_file(tmp_path: Path) -> tuple[Path, FastTextModel]:
    model = small_model()
    path = tmp_path / "model.bin"
    write_bin(path, model)
    return path, model


# -- round trip and our own vectors ------------------------------------------------------


def test_round_trip(tmp_path: Path) -> None:
    model = small_model(
        model="cbow", loss="hs", window=3, epochs=7, min_count=2, negative=0, sample=1e-3
    )
    path = tmp_path / "m.bin"
    write_bin(path, model)
    assert is_fasttext_bin(path)
    back = read_bin(path)
    assert back == model
    assert back.words == WORDS and back.dim == 8 and back.subwords == Subwords(3, 6, 1000)
    assert back.input.dtype == np.float32 and back.counts.dtype == np.int64
    # Written again, the file is byte for byte the same.
    write_bin(tmp_path / "again.bin", back)
    assert (tmp_path / "again.bin").read_bytes() == path.read_bytes()
    # The dictionary header says "not pruned" the way fastText does (-1, not 0).
    size, nwords, nlabels, ntokens, prune = struct.unpack_from("<iiiqq", path.read_bytes(), DICT_AT)
    assert (size, nwords, nlabels, ntokens, prune) == (30, 30, 0, 123_456, -1)


def test_word_vectors_and_unknown_words() -> None:
    model = small_model()
    vectors = model.word_vectors()
    assert vectors.shape == (len(WORDS), 8)
    for i, w in enumerate(WORDS):
        np.testing.assert_array_equal(model.vector(w), vectors[i])
    # "a": its own row and the n-grams of "<a>" (one 3-gram).
    assert not np.allclose(model.vector("a"), model.input[WORDS.index("a")])
    short = replace(small_model(), subwords=Subwords(5, 6, 1000))
    with pytest.raises(UnknownWordError, match="too short") as info:
        short.vector("ab")
    assert isinstance(info.value, KeyError)
    no_ngrams = replace(small_model(), subwords=Subwords(3, 0, 1000))
    np.testing.assert_array_equal(no_ngrams.vector("café"), no_ngrams.input[3])
    with pytest.raises(UnknownWordError, match="no n-grams"):
        no_ngrams.vector("zebra")


def test_write_refuses_what_fasttext_could_not_load(tmp_path: Path) -> None:
    good = small_model()
    path = tmp_path / "bad.bin"
    cases = {
        "appears twice": {"words": [*WORDS[:-1], "the"]},
        "NUL": {"words": [*WORDS[:-1], "a\0b"]},
        "rows": {"input": good.input[:-1]},
        "output": {"output": good.output[:-1]},
        "model must be": {"model": "sup"},
        "loss must be": {"loss": "nce"},
    }
    for message, change in cases.items():
        with pytest.raises(W2VError, match=message):
            write_bin(path, replace(good, **change))
        assert not path.exists()


# -- gensim ----------------------------------------------------------------------------------


def test_gensim_reads_ours(model_file: tuple[Path, FastTextModel]) -> None:
    from gensim.models.fasttext import load_facebook_model, load_facebook_vectors

    path, model = model_file
    for wv in (load_facebook_model(str(path)).wv, load_facebook_vectors(str(path))):
        assert list(wv.index_to_key) == WORDS
        for w in WORDS + UNSEEN:
            np.testing.assert_allclose(wv[w], model.vector(w), atol=1e-6, err_msg=w)


def sentences() -> list[list[str]]:
    rng = np.random.default_rng(3)
    vocab = [*WORDS, "zürich", "ğüş", "北京", "øre"]
    return [[vocab[i] for i in rng.integers(0, len(vocab), 12)] for _ in range(40)]


def test_we_read_gensims(tmp_path: Path) -> None:
    from gensim.models import FastText
    from gensim.models.fasttext import save_facebook_model

    gensim_model = FastText(
        sentences(), vector_size=8, bucket=1000, min_count=1, epochs=1, workers=1, seed=1
    )
    path = tmp_path / "gensim.bin"
    save_facebook_model(gensim_model, str(path))
    model = read_bin(path)
    wv = gensim_model.wv
    assert model.words == list(wv.index_to_key)
    assert (model.model, model.dim, model.subwords) == ("cbow", 8, Subwords(3, 6, 1000))
    for w in model.words + UNSEEN:
        np.testing.assert_allclose(model.vector(w), wv[w], atol=1e-6, err_msg=w)
    np.testing.assert_allclose(model.word_vectors(), wv.vectors, atol=1e-6)


# -- fastText itself (when its Python package is installed) ---------------------------------


def test_fasttext_reads_ours_and_we_read_fasttexts(tmp_path: Path) -> None:
    fasttext = pytest.importorskip("fasttext")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in sentences()) + "\n", encoding="utf-8")
    theirs = tmp_path / "theirs.bin"
    # fastText initialises its input matrix in 10 blocks, one per thread up to `thread`
    # (DenseMatrix::uniform): with thread=1, 90% of it is left uninitialised memory, and
    # training now and then dies of "Encountered NaN". thread=10 fills it all when
    # (words + bucket) * dim is a multiple of 10: 34 words and "</s>", bucket 1000, dim 8.
    trained = fasttext.train_unsupervised(
        str(corpus), model="skipgram", dim=8, bucket=1000, minCount=1, epoch=1, thread=10,
        verbose=0,
    )  # fmt: skip
    trained.save_model(str(theirs))

    model = read_bin(theirs)
    assert (len(model.words) + 1000) * 8 % 10 == 0
    assert "</s>" in model.words  # fastText's end-of-line token: its row alone
    assert model.words == trained.get_words()
    for w in model.words + UNSEEN:
        np.testing.assert_allclose(model.vector(w), trained.get_word_vector(w), atol=1e-6)
    # Written back, it is fastText's own file, byte for byte.
    ours = tmp_path / "ours.bin"
    write_bin(ours, model)
    assert ours.read_bytes() == theirs.read_bytes()

    other = small_model()
    write_bin(ours, other)
    loaded = fasttext.load_model(str(ours))
    assert loaded.get_words() == WORDS
    for w in WORDS + UNSEEN:
        np.testing.assert_allclose(loaded.get_word_vector(w), other.vector(w), atol=1e-6)


# -- hostile files ---------------------------------------------------------------------------


def to_bytes(model: FastTextModel) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.bin"
        write_bin(path, model)
        return path.read_bytes()


def read_bin_bytes(data: bytes) -> FastTextModel:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.bin"
        path.write_bytes(data)
        return read_bin(path)


def tiny_bytes() -> bytes:
    """A small valid file: 3 words, dim 2, 4 buckets."""
    return to_bytes(
        FastTextModel(
            words=["ab", "é", "東"],
            counts=np.array([3, 2, 1], dtype=np.int64),
            input=np.arange(14, dtype=np.float32).reshape(7, 2),
            output=np.ones((3, 2), dtype=np.float32),
            subwords=Subwords(3, 6, 4),
        )
    )


def matrix_headers(data: bytes) -> tuple[int, int]:
    """Where the input and the output matrix headers (the quant flag's next byte) are."""
    out_at = len(data) - 3 * 2 * 4 - 16
    in_at = out_at - 1 - 7 * 2 * 4 - 16
    return in_at, out_at


def patched(data: bytes, offset: int, fmt: str, *values: object) -> bytes:
    buf = bytearray(data)
    struct.pack_into(fmt, buf, offset, *values)
    return bytes(buf)


def hostile_cases() -> dict[str, tuple[bytes, str]]:
    data = tiny_bytes()
    in_at, out_at = matrix_headers(data)
    assert read_bin_bytes(data).words == ["ab", "é", "東"]
    args = 8  # dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn, lr
    return {
        "empty": (b"", "empty file"),
        "foreign": (b"PK\x03\x04" + bytes(100), "no fastText magic"),
        "text": (b"3 2\nab 0.1 0.2\n", "looks like text"),
        "short": (b"\xba\x16O/", "only 4 bytes"),
        "version 13": (patched(data, 4, "<i", 13), "version 13"),
        "version 10": (patched(data, 4, "<i", 10), "version 10"),
        "cut in header": (data[:30], "ends in the header"),
        "cut in dictionary header": (data[: DICT_AT + 10], "ends in the dictionary header"),
        "cut in dictionary": (data[: ENTRIES_AT + 6], "dictionary"),
        "cut in input": (data[: in_at + 20], "input matrix claims 7 x 2"),
        "cut in output": (data[:-1], "output matrix claims 3 x 2"),
        "trailing": (data + b"\0", "1 byte of trailing data"),
        "huge input": (patched(data, in_at, "<q", 10**12), "claims 1000000000000 x 2"),
        "huge dictionary": (patched(data, DICT_AT, "<ii", 2**31 - 1, 2**31 - 1), "claims"),
        "negative size": (patched(data, DICT_AT, "<i", -1), "-1 entries"),
        "negative rows": (patched(data, in_at, "<q", -7), "-7 x 2"),
        "negative cols": (patched(data, out_at + 8, "<q", -2), "3 x -2"),
        "rows mismatch": (patched(data, in_at, "<q", 6), "expected 7 x 2"),
        "bucket mismatch": (patched(data, args + 8 * 4, "<i", 5), "3 words + 5 buckets"),
        "dim mismatch": (patched(data, args, "<i", 3), "expected 7 x 3"),
        "dim zero": (patched(data, args, "<i", 0), "not positive"),
        "negative bucket": (patched(data, args + 8 * 4, "<i", -4), "negative bucket"),
        "quantized input": (patched(data, in_at - 1, "<B", 1), "quantized"),
        "quantized output": (patched(data, out_at - 1, "<B", 1), "quantized"),
        "bad flag": (patched(data, in_at - 1, "<B", 7), "flag 7"),
        "supervised": (patched(data, args + 7 * 4, "<i", 3), "supervised"),
        "unknown loss": (patched(data, args + 6 * 4, "<i", 9), "unknown loss 9"),
        "pruned": (patched(data, DICT_AT + 20, "<q", 0), "pruned"),
        "bad entry type": (patched(data, ENTRIES_AT + 3 + 8, "<b", 5), "type 5"),
        # "é" is 2 bytes, as "ab" is: the same layout, with a word twice
        "duplicate word": (data.replace("é".encode(), b"ab", 1), "'ab' appears twice"),
    }


@pytest.mark.parametrize("case", sorted(hostile_cases()))
def test_hostile_files_are_one_line_errors(case: str) -> None:
    data, message = hostile_cases()[case]
    tracemalloc.start()
    try:
        with pytest.raises(W2VError) as info:
            read_bin_bytes(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    text = str(info.value)
    assert "\n" not in text and "x.bin: " in text
    assert message in text, text
    assert peak < 1_000_000  # nothing sized by the header's claims was allocated


def test_every_truncation_and_corruption_is_a_w2verror(tmp_path: Path) -> None:
    data = tiny_bytes()
    path = tmp_path / "x.bin"
    for cut in range(len(data)):
        path.write_bytes(data[:cut])
        with pytest.raises(W2VError):
            read_bin(path)
    rng = np.random.default_rng(11)
    for _ in range(300):
        buf = bytearray(data)
        for at in rng.integers(0, len(buf), 3):
            buf[at] = int(rng.integers(0, 256))
        path.write_bytes(bytes(buf))
        try:
            read_bin(path)  # a corrupted float or count still reads
        except W2VError as exc:
            assert "\n" not in str(exc)


def test_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(W2VError, match="no such file"):
        read_bin(tmp_path / "missing.bin")
    with pytest.raises(W2VError, match="directory"):
        read_bin(tmp_path)
    assert not is_fasttext_bin(tmp_path / "missing.bin")
    assert not is_fasttext_bin(tmp_path)
    (tmp_path / "v13.bin").write_bytes(patched(tiny_bytes(), 4, "<i", 13))
    assert not is_fasttext_bin(tmp_path / "v13.bin")


def test_invalid_utf8_word_is_escaped(tmp_path: Path) -> None:
    data = tiny_bytes().replace("é".encode(), b"\xff\xfe", 1)
    model = read_bin_bytes(data)
    assert model.words == ["ab", "\\xff\\xfe", "東"]


def test_labels_are_skipped() -> None:
    """An unsupervised model whose dictionary has a label entry: the label has no rows."""
    data = bytearray(tiny_bytes())
    in_at, _ = matrix_headers(bytes(data))
    struct.pack_into("<iii", data, DICT_AT, 4, 3, 1)
    label = b"__label__x\0" + struct.pack("<qb", 1, 1)
    data[in_at - 1 : in_at - 1] = label
    model = read_bin_bytes(bytes(data))
    assert model.words == ["ab", "é", "東"]
