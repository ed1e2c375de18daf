"""KeyedVectors: file formats against gensim, queries against gensim and numpy, errors."""

from __future__ import annotations

import itertools
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from w2v.errors import UnknownWordError, W2VError
from w2v.vectors import KeyedVectors, load_vectors

gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
GensimKV = gensim_kv.KeyedVectors

V, D = 300, 16


def _words(n: int) -> list[str]:
    # Mixed scripts and punctuation: the formats must carry any non-space UTF-8.
    special = ["king", "queen", "café", "naïve", "東京", "</s>", "a\tb", "x-y_z"]
    return special + [f"w{i}" for i in range(n - len(special))]


@pytest.fixture(scope="module")
def kv() -> KeyedVectors:
    rng = np.random.default_rng(1234)
    return KeyedVectors(_words(V), rng.standard_normal((V, D)).astype(np.float32))


@pytest.fixture(scope="module")
def gkv(kv: KeyedVectors) -> GensimKV:
    g = GensimKV(D)
    g.add_vectors(kv.index_to_key, kv.vectors.copy())
    return g


def _assert_same(a: KeyedVectors, b: KeyedVectors) -> None:
    assert a.index_to_key == b.index_to_key
    assert a.key_to_index == b.key_to_index
    np.testing.assert_array_equal(a.vectors, b.vectors)


def _assert_results_close(ours: list, theirs: list) -> None:
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=0, atol=1e-5)


# ----------------------------------------------------------------- basics


def test_lookup_api(kv: KeyedVectors) -> None:
    assert len(kv) == V and kv.vector_size == D and kv.counts is None
    assert "queen" in kv and "nope" not in kv and 3 not in kv
    assert kv.get_index("queen") == 1
    np.testing.assert_array_equal(kv["queen"], kv.vectors[1])
    both = kv[["queen", "king"]]
    assert both.shape == (2, D)
    np.testing.assert_array_equal(both, kv.vectors[[1, 0]])
    unit = kv.get_vector("king", norm=True)
    assert abs(np.linalg.norm(unit) - 1) < 1e-6
    with pytest.raises(ValueError):
        kv.get_vector("king")[0] = 1.0  # views are read-only: caches depend on it


def test_normed_vectors_zero_row_and_cache() -> None:
    vecs = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    kv = KeyedVectors(["a", "zero", "b"], vecs)
    normed = kv.get_normed_vectors()
    assert normed is kv.get_normed_vectors()
    assert not np.isnan(normed).any()
    np.testing.assert_allclose(normed, [[0.6, 0.8], [0, 0], [1, 0]], atol=1e-7)
    assert kv.similarity("a", "zero") == 0.0
    assert [w for w, _ in kv.most_similar("a")] == ["b", "zero"]


def test_constructor_rejects_inconsistent_input() -> None:
    with pytest.raises(ValueError):
        KeyedVectors(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="duplicate"):
        KeyedVectors(["a", "a"], np.zeros((2, 2)))
    with pytest.raises(ValueError):
        KeyedVectors(["a"], np.zeros((1, 2)), counts=np.array([1, 2]))


def test_unknown_word_is_keyerror_with_suggestions(kv: KeyedVectors) -> None:
    with pytest.raises(UnknownWordError) as info:
        kv["qeen"]
    assert isinstance(info.value, KeyError) and isinstance(info.value, W2VError)
    assert info.value.word == "qeen"
    assert "queen" in info.value.suggestions and len(info.value.suggestions) <= 3
    assert "queen" in str(info.value)
    for call in (
        lambda: kv.get_vector("kng"),
        lambda: kv.similarity("king", "kng"),
        lambda: kv.most_similar(positive=["king"], negative=["kng"]),
        lambda: kv.most_similar_cosmul(["kng"]),
        lambda: kv.analogy("king", "kng", "queen"),
        lambda: kv.most_similar("kng", metric="euclidean"),
    ):
        with pytest.raises(KeyError) as info:
            call()
        assert "king" in info.value.suggestions


def test_suggestions_first_letter_typo_and_case() -> None:
    words = ["elephant", "elegant", "relevant", "cat", "Paris"]
    kv = KeyedVectors(words, np.ones((len(words), 2), dtype=np.float32))
    assert kv_suggest(kv, "xlephant")[0] == "elephant"
    assert kv_suggest(kv, "elephnat")[0] == "elephant"
    assert kv_suggest(kv, "paris") == ["Paris"]
    assert kv_suggest(kv, "zzzzzzzzzz") == []


def kv_suggest(kv: KeyedVectors, word: str) -> list[str]:
    with pytest.raises(UnknownWordError) as info:
        kv.get_index(word)
    return info.value.suggestions


def test_suggestions_fast_for_large_vocabulary() -> None:
    import time

    rng = np.random.default_rng(0)
    letters = np.array(list("etaoinshrdlucmfwyp"))[rng.integers(0, 18, size=(200_000, 13))]
    lengths = rng.integers(3, 14, size=200_000)
    rows = zip(letters.tolist(), lengths.tolist(), strict=True)
    words = sorted({"".join(row[:n]) for row, n in rows} | {"elephant"})
    kv = KeyedVectors(words, np.zeros((len(words), 1), dtype=np.float32))
    start = time.perf_counter()
    assert kv_suggest(kv, "elephnat")[0] == "elephant"
    assert kv_suggest(kv, "seatstones")  # common letters: many candidates
    assert time.perf_counter() - start < 1.0


# ------------------------------------------------------------ queries vs gensim


def test_similarity_and_distance_match_gensim(kv: KeyedVectors, gkv: GensimKV) -> None:
    for w1, w2 in [("king", "queen"), ("café", "東京"), ("w10", "w200"), ("w5", "w5")]:
        assert kv.similarity(w1, w2) == pytest.approx(float(gkv.similarity(w1, w2)), abs=1e-6)
        assert kv.distance(w1, w2) == pytest.approx(float(gkv.distance(w1, w2)), abs=1e-6)
    expected = np.linalg.norm(kv.vectors[0].astype(np.float64) - kv.vectors[1])
    assert kv.euclidean_distance("king", "queen") == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"positive": "king"},
        {"positive": ["king"], "topn": 5},
        {"positive": ["king", "café"], "negative": ["queen"]},
        {"positive": ["w1", "w2", "w3"], "negative": ["w4", "w5"], "topn": 20},
        {"negative": ["king"], "topn": 3},
        {"positive": ["king", "queen"], "restrict_vocab": 50},
        {"positive": ["w100"], "negative": ["king"], "restrict_vocab": 120, "topn": 7},
        {"positive": [("king", 2.0), "queen"], "negative": [("w7", -0.5)]},
        {"positive": ["king"], "topn": V + 10},
    ],
)
def test_most_similar_matches_gensim(kv: KeyedVectors, gkv: GensimKV, kwargs: dict) -> None:
    _assert_results_close(kv.most_similar(**kwargs), gkv.most_similar(**kwargs))


def test_most_similar_by_vector_and_word_match_gensim(kv: KeyedVectors, gkv: GensimKV) -> None:
    vec = kv.vectors[42] * 3.0
    _assert_results_close(kv.similar_by_vector(vec, topn=8), gkv.similar_by_vector(vec, topn=8))
    _assert_results_close(
        kv.similar_by_word("w9", topn=8, restrict_vocab=100),
        gkv.similar_by_word("w9", topn=8, restrict_vocab=100),
    )
    # a vector goes into the mean as it is, next to unit-length words (gensim's rule)
    mixed = {"positive": ["king", vec], "negative": [kv.vectors[7] * 0.1]}
    _assert_results_close(kv.most_similar(**mixed), gkv.most_similar(**mixed))
    # A vector is not an input word, so its own word comes back first.
    assert kv.similar_by_vector(vec, topn=1)[0][0] == kv.index_to_key[42]
    assert kv.most_similar("king", topn=0) == []


# gensim's cosmul still calls its own deprecated init_sims().
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(
    "kwargs",
    [
        {"positive": ["king"]},
        {"positive": ["queen", "café"], "negative": ["king"], "topn": 15},
        {"positive": ["w1", "w2"], "negative": ["w3", "w4"]},
    ],
)
def test_most_similar_cosmul_matches_gensim(kv: KeyedVectors, gkv: GensimKV, kwargs: dict) -> None:
    _assert_results_close(kv.most_similar_cosmul(**kwargs), gkv.most_similar_cosmul(**kwargs))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_most_similar_cosmul_restrict_vocab(kv: KeyedVectors, gkv: GensimKV) -> None:
    # gensim accepts but ignores restrict_vocab here, so compare with its full score
    # array cut to the first 80 words.
    ours = kv.most_similar_cosmul(["queen", "w30"], ["king"], topn=10, restrict_vocab=80)
    scores = gkv.most_similar_cosmul(["queen", "w30"], ["king"], topn=None)[:80]
    inputs = {kv.key_to_index[w] for w in ("queen", "w30", "king")}
    best = [i for i in np.argsort(-scores, kind="stable") if i not in inputs][:10]
    _assert_results_close(ours, [(kv.index_to_key[i], float(scores[i])) for i in best])


def test_doesnt_match_matches_gensim(kv: KeyedVectors, gkv: GensimKV) -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        words = [kv.index_to_key[i] for i in rng.choice(V, size=5, replace=False)]
        assert kv.doesnt_match(words) == gkv.doesnt_match(words)
    assert kv.doesnt_match(["king", "queen", "unknown-word", "w1"]) == gkv.doesnt_match(
        ["king", "queen", "w1"]
    )
    with pytest.raises(W2VError):
        kv.doesnt_match(["nope", "nada"])


def test_euclidean_neighbours_brute_force(kv: KeyedVectors) -> None:
    for word, restrict in [("king", None), ("w17", 100), ("東京", 9)]:
        limit = restrict or V
        dists = np.linalg.norm(
            kv.vectors[:limit].astype(np.float64) - kv.vectors[kv.key_to_index[word]], axis=1
        )
        ranked = [i for i in np.argsort(dists, kind="stable") if kv.index_to_key[i] != word]
        expected = [(kv.index_to_key[i], dists[i]) for i in ranked[:7]]
        got = kv.most_similar(word, topn=7, restrict_vocab=restrict, metric="euclidean")
        assert [w for w, _ in got] == [w for w, _ in expected]
        np.testing.assert_allclose([d for _, d in got], [d for _, d in expected], rtol=1e-6)
        assert all(a[1] <= b[1] for a, b in itertools.pairwise(got))
    with pytest.raises(W2VError):
        kv.most_similar(["king", "queen"], metric="euclidean")
    with pytest.raises(W2VError):
        kv.most_similar("king", metric="manhattan")


def test_analogy_in_a_hand_made_space() -> None:
    # Axes: royalty, gender (+male), and a little of everything else.
    space = {
        "man": [0.0, 1.0, 0.2],
        "woman": [0.0, -1.0, 0.2],
        "king": [1.0, 1.0, 0.2],
        "queen": [1.0, -1.0, 0.2],
        "apple": [0.0, 0.0, 1.0],
        "car": [-1.0, 0.1, 0.3],
    }
    kv = KeyedVectors(list(space), np.array(list(space.values()), dtype=np.float32))
    for method in ("add", "mul"):
        (answer, score), *_ = kv.analogy("man", "king", "woman", method=method)
        assert answer == "queen" and score > 0.9
    # 3CosAdd also runs the analogy backwards; 3CosMul does not here, as the product
    # punishes "woman" for being the opposite of "man".
    assert kv.analogy("king", "man", "queen")[0][0] == "woman"
    assert kv.analogy("king", "man", "queen", method="mul")[0][0] == "apple"
    assert len(kv.analogy("man", "king", "woman", topn=3)) == 3
    with pytest.raises(W2VError):
        kv.analogy("man", "king", "woman", method="sub")


# ---------------------------------------------------------------- file formats


@pytest.mark.parametrize("binary", [False, True])
def test_round_trip(kv: KeyedVectors, tmp_path: Path, binary: bool) -> None:
    path = tmp_path / ("v.bin" if binary else "v.txt")
    kv.save_word2vec_format(path, binary=binary)
    for mode in (binary, None):
        loaded = KeyedVectors.load_word2vec_format(path, binary=mode)
        _assert_same(loaded, kv)  # text too: %.9g round-trips float32 exactly
        assert loaded.counts is None
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left
    head = path.read_bytes()[:20]
    assert head.startswith(f"{V} {D}\n".encode())


def test_binary_layout_is_the_c_tools(tmp_path: Path) -> None:
    kv = KeyedVectors(["ab", "ç"], np.array([[1.5, -2.0], [0.25, 3.0]], dtype=np.float32))
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    expected = (
        b"2 2\n"
        + b"ab "
        + struct.pack("<2f", 1.5, -2.0)
        + b"\n"
        + "ç".encode()
        + b" "
        + struct.pack("<2f", 0.25, 3.0)
        + b"\n"
    )
    assert (tmp_path / "v.bin").read_bytes() == expected
    kv.save_word2vec_format(tmp_path / "v.txt")
    assert (tmp_path / "v.txt").read_text("utf-8") == "2 2\nab 1.5 -2\nç 0.25 3\n"


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_our_files(kv: KeyedVectors, tmp_path: Path, binary: bool) -> None:
    path = tmp_path / "ours"
    kv.save_word2vec_format(path, binary=binary)
    g = GensimKV.load_word2vec_format(str(path), binary=binary)
    assert g.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(g.vectors, kv.vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_we_read_gensim_files(kv: KeyedVectors, gkv: GensimKV, tmp_path: Path, binary: bool):
    path = tmp_path / "theirs"
    gkv.save_word2vec_format(str(path), binary=binary)  # binary: no newline after vectors
    loaded = KeyedVectors.load_word2vec_format(path)  # sniffed
    assert loaded.index_to_key == gkv.index_to_key
    np.testing.assert_array_equal(loaded.vectors, gkv.vectors)


def test_reads_c_tool_text_trailing_space(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_bytes(b"2 3\nfoo 0.100000 -2.500000 3.000000 \nbar 1 2  3\r\n")
    kv = KeyedVectors.load_word2vec_format(path)
    assert kv.index_to_key == ["foo", "bar"]
    np.testing.assert_array_equal(kv.vectors, np.float32([[0.1, -2.5, 3.0], [1, 2, 3]]))


def test_limit_and_sniffing_ignores_extension(kv: KeyedVectors, tmp_path: Path) -> None:
    kv.save_word2vec_format(tmp_path / "looks.txt", binary=True)
    kv.save_word2vec_format(tmp_path / "looks.bin", binary=False)
    for name in ("looks.txt", "looks.bin"):
        loaded = KeyedVectors.load_word2vec_format(tmp_path / name, limit=10)
        assert loaded.index_to_key == kv.index_to_key[:10]
        np.testing.assert_array_equal(loaded.vectors, kv.vectors[:10])
    with pytest.raises(W2VError):
        KeyedVectors.load_word2vec_format(tmp_path / "looks.bin", limit=0)


@pytest.mark.parametrize("binary", [False, True])
def test_duplicate_words_keep_the_first(tmp_path: Path, binary: bool) -> None:
    path = tmp_path / "dup"
    if binary:
        entries = [(b"a", [1.0, 2.0]), (b"b", [3.0, 4.0]), (b"a", [5.0, 6.0])]
        body = b"".join(w + b" " + struct.pack("<2f", *v) + b"\n" for w, v in entries)
        path.write_bytes(b"3 2\n" + body)
    else:
        path.write_bytes(b"3 2\na 1 2\nb 3 4\na 5 6\n")
    kv = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert kv.index_to_key == ["a", "b"]
    np.testing.assert_array_equal(kv.vectors, [[1, 2], [3, 4]])
    g = GensimKV.load_word2vec_format(str(path), binary=binary)
    # gensim agrees, though it leaves an empty (None) slot where the duplicate was.
    assert [w for w in g.index_to_key if w is not None] == kv.index_to_key
    np.testing.assert_array_equal(g["a"], kv["a"])


def test_invalid_utf8_in_a_word_is_replaced(tmp_path: Path) -> None:
    # The C tool cuts words at 100 bytes, possibly inside a multi-byte character.
    path = tmp_path / "cut.bin"
    path.write_bytes(b"2 1\ncaf\xc3 " + struct.pack("<f", 1.0) + b"\nok " + struct.pack("<f", 2.0))
    kv = KeyedVectors.load_word2vec_format(path)
    assert kv.index_to_key == ["caf\ufffd", "ok"]
    np.testing.assert_array_equal(kv.vectors, [[1.0], [2.0]])


def _binary_file(n: int = 3, dim: int = 4) -> bytes:
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((n, dim)).astype("<f4")
    return f"{n} {dim}\n".encode() + b"".join(
        f"w{i} ".encode() + rows[i].tobytes() + b"\n" for i in range(n)
    )


def _torch_checkpoint(path: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.save({"weight": torch.zeros(3, 4)}, path)


def _zip_file(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("vectors.txt", "2 2\na 1 2\nb 3 4\n")


CORRUPT: dict[str, object] = {
    "empty": b"",
    "header-words": b"hello world\nfoo 1 2\n",
    "header-three-fields": b"2 2 2\na 1 2\nb 3 4\n",
    "header-negative": b"-2 2\na 1 2\n",
    "header-zero-dim": b"2 0\na\nb\n",
    "header-only-no-newline": b"2 2",
    "glove-no-header": b"the 0.1 0.2 0.3\nof 0.4 0.5 0.6\n",
    "text-short-row": b"2 3\na 1 2 3\nb 4 5\n",
    "text-long-row": b"2 3\na 1 2 3\nb 4 5 6 7\n",
    "text-not-a-number": b"2 3\na 1 2 3\nb 4 five 6\n",
    "text-half-number": b"2 3\na 1 2 3\nb 4 5e 6\n",
    "text-missing-lines": b"3 2\na 1 2\nb 3 4\n",
    "text-extra-lines": b"1 2\na 1 2\nb 3 4\n",
    "text-empty-word": b"2 2\na 1 2\n 3 4\n",
    "text-blank-line": b"3 2\na 1 2\n\nb 3 4\n",
    "binary-truncated": _binary_file()[:-9],
    "binary-missing-entry": _binary_file(3)[: -(4 * 4 + 4)],
    "binary-bogus-count": b"1000000000 300\n" + _binary_file()[4:],
    "binary-trailing-garbage": _binary_file() + b"garbage\xff\x00",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
    "random-bytes": np.random.default_rng(3).bytes(5000),
    "zip": _zip_file,
    "torch-checkpoint": _torch_checkpoint,
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
@pytest.mark.parametrize("binary", [None, True, False])
def test_corrupt_files_raise_w2verror(tmp_path: Path, case: str, binary: bool | None) -> None:
    path = tmp_path / f"{case}.vec"
    content = CORRUPT[case]
    if callable(content):
        content(path)
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    with pytest.raises(W2VError) as info:
        KeyedVectors.load_word2vec_format(path, binary=binary)
    message = str(info.value)
    assert path.name in message and "\n" not in message


def test_truncated_binary_message_names_the_word(tmp_path: Path) -> None:
    path = tmp_path / "vectors.bin"
    path.write_bytes(_binary_file(3, 4)[:-9])
    with pytest.raises(
        W2VError, match=r"truncated: expected 4 floats for word 'w2' \(entry 3 of 3"
    ):
        KeyedVectors.load_word2vec_format(path)


def test_text_error_messages_locate_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "vectors.txt"
    path.write_bytes(b"3 3\na 1 2 3\nb 4 5 6\nc 7 x8 9\n")
    with pytest.raises(W2VError, match=r"entry 3 of 3 \('c'\): not a number: 'x8'"):
        KeyedVectors.load_word2vec_format(path)
    path.write_bytes(b"3 3\na 1 2 3\nb 4 5\nc 7 8 9\n")
    with pytest.raises(W2VError, match=r"entry 2 of 3 \('b'\): expected 3 values, got 2"):
        KeyedVectors.load_word2vec_format(path)


def test_missing_path_and_directory(tmp_path: Path) -> None:
    with pytest.raises(W2VError, match=r"nope\.bin"):
        KeyedVectors.load_word2vec_format(tmp_path / "nope.bin")
    with pytest.raises(W2VError, match="is a directory"):
        KeyedVectors.load_word2vec_format(tmp_path)
    with pytest.raises(W2VError, match="nope"):
        load_vectors(tmp_path / "nope")


# -------------------------------------------------------------------- saving


def test_save_rejects_words_the_format_cannot_hold(tmp_path: Path) -> None:
    for bad in ["two words", "line\nbreak", ""]:
        kv = KeyedVectors(["ok", bad], np.zeros((2, 2), dtype=np.float32))
        with pytest.raises(W2VError, match="cannot save word"):
            kv.save_word2vec_format(tmp_path / "v.txt")
    assert list(tmp_path.iterdir()) == []


def test_save_into_missing_directory(kv: KeyedVectors, tmp_path: Path) -> None:
    with pytest.raises(W2VError, match="cannot write"):
        kv.save_word2vec_format(tmp_path / "no" / "such" / "dir" / "v.bin", binary=True)


@pytest.mark.parametrize("binary", [False, True])
def test_failed_save_leaves_old_file_intact(kv: KeyedVectors, tmp_path: Path, binary: bool):
    resource = pytest.importorskip("resource")  # POSIX only
    import signal

    path = tmp_path / "vectors.out"
    old = b"2 1\nold 1\nfile 2\n"
    path.write_bytes(old)
    # A real write failure: cap the size of any file this process writes (EFBIG, as
    # on a full disk) while saving, so the temp file cannot be completed.
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
    try:
        with pytest.raises(W2VError, match=r"vectors\.out: cannot write"):
            kv.save_word2vec_format(path, binary=binary)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["vectors.out"]
    kv.save_word2vec_format(path, binary=binary)  # and it works once there is room
    _assert_same(KeyedVectors.load_word2vec_format(path), kv)


# -------------------------------------------------------------- run directories


def test_run_directory_with_vocab_counts(kv: KeyedVectors, tmp_path: Path) -> None:
    kv.save_word2vec_format(tmp_path / "vectors.bin", binary=True)
    counts = np.arange(V, 0, -1) * 10
    lines = ["word\tcount"] + [f"{w}\t{c}" for w, c in zip(kv.index_to_key, counts, strict=True)]
    (tmp_path / "vocab.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = load_vectors(tmp_path)
    _assert_same(loaded, kv)
    assert loaded.counts is not None
    np.testing.assert_array_equal(loaded.counts, counts)


def test_run_directory_prefers_bin_and_ignores_foreign_vocab(tmp_path: Path) -> None:
    KeyedVectors(["bin"], np.ones((1, 2), dtype=np.float32)).save_word2vec_format(
        tmp_path / "vectors.bin", binary=True
    )
    KeyedVectors(["txt"], np.ones((1, 2), dtype=np.float32)).save_word2vec_format(
        tmp_path / "vectors.txt"
    )
    (tmp_path / "vocab.tsv").write_text("other\t5\n", encoding="utf-8")
    loaded = load_vectors(tmp_path)
    assert loaded.index_to_key == ["bin"] and loaded.counts is None
    (tmp_path / "vectors.bin").unlink()
    assert load_vectors(tmp_path).index_to_key == ["txt"]
    assert load_vectors(tmp_path / "vectors.txt").index_to_key == ["txt"]
    (tmp_path / "vocab.tsv").write_text("txt\tmany\n", encoding="utf-8")
    with pytest.raises(W2VError, match=r"vocab\.tsv: line 1"):
        load_vectors(tmp_path)


def test_run_directory_without_vectors(tmp_path: Path) -> None:
    (tmp_path / "vocab.tsv").write_text("a\t1\n", encoding="utf-8")
    with pytest.raises(W2VError, match=r"no vectors\.bin or vectors\.txt in this run directory"):
        load_vectors(tmp_path)
