"""KeyedVectors against gensim's on the same small vectors: the gensim names added for
issue 12 (lookups, means, distances, ranks, edits), called through both with the same
arguments, answers compared; queries after each edit compared with gensim's on its
edited table (its norms refreshed: gensim's own edits leave them stale)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from w2v.errors import UnknownWordError, W2VError
from w2v.vectors import KeyedVectors

gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
GensimKV = gensim_kv.KeyedVectors

V, D = 50, 8
ATOL = 1e-6
WORDS = ["king", "queen", "man", "woman", "café", "東京"] + [f"w{i}" for i in range(V - 6)]


def _table() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2024)
    vectors = rng.standard_normal((V, D)).astype(np.float32)
    vectors *= rng.uniform(0.2, 5.0, size=(V, 1)).astype(np.float32)  # lengths matter
    counts = rng.integers(1, 8, size=V)  # few values: many ties, for the sort
    return vectors, counts


@pytest.fixture
def kv() -> KeyedVectors:
    vectors, counts = _table()
    return KeyedVectors(WORDS, vectors, counts)


@pytest.fixture
def gkv() -> GensimKV:
    vectors, counts = _table()
    g = GensimKV(D)
    g.add_vectors(WORDS, vectors)
    for word, count in zip(WORDS, counts.tolist(), strict=True):
        g.set_vecattr(word, "count", count)
    return g


def _close(ours: object, theirs: object) -> None:
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=0, atol=ATOL)


def _same_neighbours(ours: list, theirs: list) -> None:
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    _close([s for _, s in ours], [s for _, s in theirs])


def _queries_agree(kv: KeyedVectors, g: GensimKV) -> None:
    """A battery of queries, old and new, gives gensim's answers on the same table."""
    g.fill_norms(force=True)  # gensim's edits leave its norms stale
    assert kv.index_to_key == g.index_to_key
    assert kv.key_to_index == g.key_to_index
    np.testing.assert_array_equal(kv.vectors, g.vectors)
    _close(kv.norms, g.norms)
    _close(kv.get_normed_vectors(), g.get_normed_vectors())
    probe = kv.index_to_key[:3] + kv.index_to_key[-2:]
    for word in probe:
        _same_neighbours(kv.most_similar(word, topn=7), g.most_similar(word, topn=7))
        _same_neighbours(
            kv.most_similar(word, topn=5, restrict_vocab=20),
            g.most_similar(word, topn=5, restrict_vocab=20),
        )
        _close(kv.get_vector(word, norm=True), g.get_vector(word, norm=True))
        _close(kv.distances(word), g.distances(word))
        assert kv.closer_than(word, probe[-1]) == g.closer_than(word, probe[-1])
        _close(kv.similarity(word, probe[0]), g.similarity(word, probe[0]))
    _close(kv.n_similarity(probe[:2], probe[2:]), g.n_similarity(probe[:2], probe[2:]))
    _close(kv.get_mean_vector(probe), g.get_mean_vector(probe))
    assert kv.doesnt_match(probe) == g.doesnt_match(probe)


def test_the_fixtures_agree(kv: KeyedVectors, gkv: GensimKV) -> None:
    _queries_agree(kv, gkv)


# ----------------------------------------------------------------- lookups


def test_has_index_for(kv: KeyedVectors, gkv: GensimKV) -> None:
    for key in ["king", "東京", "w43", "nope", "", "King"]:
        assert kv.has_index_for(key) == gkv.has_index_for(key) == (key in kv)
    # gensim also takes a row number; w2v's keys are words only.
    assert gkv.has_index_for(3) and not kv.has_index_for(3)


def test_get_vecattr_count(kv: KeyedVectors, gkv: GensimKV) -> None:
    for word in WORDS:
        ours = kv.get_vecattr(word, "count")
        assert ours == gkv.get_vecattr(word, "count") and isinstance(ours, int)
    with pytest.raises(UnknownWordError) as info:
        kv.get_vecattr("quen", "count")
    assert "queen" in info.value.suggestions
    with pytest.raises(KeyError):
        gkv.get_vecattr("quen", "count")
    for ours_or_theirs in (kv, gkv):
        with pytest.raises(KeyError):
            ours_or_theirs.get_vecattr("king", "sample_int")
    without = KeyedVectors(WORDS, kv.vectors)
    with pytest.raises(KeyError, match="no counts"):
        without.get_vecattr("king", "count")


# ------------------------------------------------------------ lists of words


@pytest.mark.parametrize(
    "kwargs",
    [
        {"keys": ["king", "queen"]},
        {"keys": ["king", "queen", "w7"], "pre_normalize": False},
        {"keys": ["king", "queen"], "post_normalize": True},
        {"keys": ["king", "w3"], "pre_normalize": False, "post_normalize": True},
        {"keys": ["king", "queen", "man"], "weights": [2.0, -1.0, 0.5]},
        {"keys": ["king", "queen"], "weights": np.array([1.0, 3.0])},
        {"keys": ["king", "nope", "queen"], "weights": [1.0, 5.0, 2.0]},  # nope: weight gone
        {"keys": ["nope", "nada"]},  # nothing known: the zero vector
        {"keys": ["king", np.arange(D, dtype=np.float32)], "weights": [1.0, 3.0]},
        {"keys": [np.ones(D, dtype=np.float32)], "post_normalize": True},
        {"keys": ["w1", "w2"], "weights": [1.0, -1.0]},
        {"keys": ["w1", "w1", "w9"], "pre_normalize": False},
    ],
)
def test_get_mean_vector(kv: KeyedVectors, gkv: GensimKV, kwargs: dict) -> None:
    ours = kv.get_mean_vector(**kwargs)
    assert ours.dtype == np.float32 and ours.shape == (D,)
    _close(ours, gkv.get_mean_vector(**kwargs))


def test_get_mean_vector_errors(kv: KeyedVectors, gkv: GensimKV) -> None:
    with pytest.raises(UnknownWordError) as info:
        kv.get_mean_vector(["king", "qeen"], ignore_missing=False)
    assert "queen" in info.value.suggestions
    with pytest.raises(KeyError):
        gkv.get_mean_vector(["king", "qeen"], ignore_missing=False)
    for g_or_ours in (kv, gkv):
        with pytest.raises(ValueError):
            g_or_ours.get_mean_vector(["king", "queen"], weights=[1.0])
    with pytest.raises(ValueError):
        gkv.get_mean_vector([])
    with pytest.raises(W2VError):
        kv.get_mean_vector([])
    with pytest.raises(TypeError):
        kv.get_mean_vector("king")  # gensim would average the letters' vectors


@pytest.mark.parametrize(
    ("ws1", "ws2"),
    [
        (["king"], ["queen"]),
        (["king", "man"], ["queen", "woman"]),
        (["w1", "w2", "w3"], ["w4"]),
        (["king", "king"], ["king"]),
        (["king", "nope"], ["queen", "woman", "nada"]),  # unknown words are skipped
        (WORDS, WORDS[::-1]),
    ],
)
def test_n_similarity(kv: KeyedVectors, gkv: GensimKV, ws1: list, ws2: list) -> None:
    ours = kv.n_similarity(ws1, ws2)
    assert isinstance(ours, float)
    assert ours == pytest.approx(float(gkv.n_similarity(ws1, ws2)), abs=ATOL)


def test_n_similarity_needs_a_known_word_in_each_list(kv: KeyedVectors, gkv: GensimKV) -> None:
    # gensim: ZeroDivisionError for an empty list, 0.0 for a list of unknown words.
    with pytest.raises(ZeroDivisionError):
        gkv.n_similarity([], ["king"])
    assert gkv.n_similarity(["nope"], ["king"]) == 0.0
    for ws1, ws2 in [([], ["king"]), (["king"], []), (["nope"], ["king"]), (["king"], ["x"])]:
        with pytest.raises(W2VError):
            kv.n_similarity(ws1, ws2)


@pytest.mark.parametrize(
    ("key1", "keys_list"),
    [
        ("king", ["queen", "man", "woman"]),
        ("w5", WORDS),  # itself is the most similar
        ("東京", ["w1", "w2", "w3", "w4", "w5", "w6"]),
        ("queen", ["w9"]),
        ("man", ["w8", "w8", "w3"]),  # a tie: the first
    ],
)
def test_most_similar_to_given(kv: KeyedVectors, gkv: GensimKV, key1: str, keys_list: list) -> None:
    assert kv.most_similar_to_given(key1, keys_list) == gkv.most_similar_to_given(key1, keys_list)


def test_most_similar_to_given_errors(kv: KeyedVectors) -> None:
    with pytest.raises(UnknownWordError):
        kv.most_similar_to_given("king", ["queen", "qeen"])
    with pytest.raises(UnknownWordError):
        kv.most_similar_to_given("kng", ["queen"])
    with pytest.raises(W2VError):
        kv.most_similar_to_given("king", [])  # gensim: ValueError from argmax


@pytest.mark.parametrize("topn", [1, 3, 10, 20])
def test_relative_cosine_similarity(kv: KeyedVectors, gkv: GensimKV, topn: int) -> None:
    for wa, wb in [("king", "queen"), ("w3", "w40"), ("café", "café")]:
        ours = kv.relative_cosine_similarity(wa, wb, topn)
        assert isinstance(ours, float)
        assert ours == pytest.approx(gkv.relative_cosine_similarity(wa, wb, topn), rel=1e-5)
    # Past the vocabulary: all the neighbours (whose cosines nearly cancel, so the
    # quotient is too ill-conditioned to compare with gensim's float32 sum).
    everyone = kv.relative_cosine_similarity("king", "queen", V - 1)
    assert kv.relative_cosine_similarity("king", "queen", V + 5) == everyone
    with pytest.raises(W2VError):
        kv.relative_cosine_similarity("king", "queen", topn=0)  # gensim: ValueError


def test_doesnt_match_moved_unchanged(kv: KeyedVectors, gkv: GensimKV) -> None:
    rng = np.random.default_rng(5)
    for _ in range(30):
        words = [WORDS[i] for i in rng.choice(V, size=4, replace=False)]
        assert kv.doesnt_match(words) == gkv.doesnt_match(words)


# --------------------------------------------------------------- distances


def test_distances(kv: KeyedVectors, gkv: GensimKV) -> None:
    vector = kv.vectors[7] * 2.5 + 0.1
    for args in [
        ("king",),
        ("w20", ["king", "queen", "w20", "東京"]),
        ("queen", ()),
        ("queen", None),
        (vector,),
        (vector, ["w1", "w2"]),
    ]:
        ours = kv.distances(*args)
        assert ours.dtype == np.float32
        _close(ours, gkv.distances(*args))
    assert kv.distances("king").shape == (V,)
    assert abs(kv.distances("king")[0]) < ATOL  # itself included
    for g_or_ours in (kv, gkv):
        with pytest.raises(KeyError):
            g_or_ours.distances("king", ["queen", "qeen"])
        with pytest.raises(KeyError):
            g_or_ours.distances("kng")


def test_cosine_similarities(kv: KeyedVectors) -> None:
    rng = np.random.default_rng(3)
    one = rng.standard_normal(D).astype(np.float32)
    for many in [kv.vectors, kv.vectors[:5], rng.standard_normal((9, D))]:
        ours = KeyedVectors.cosine_similarities(one, many)
        theirs = GensimKV.cosine_similarities(one, many)
        assert ours.dtype == theirs.dtype
        _close(ours, theirs)
    _close(kv.cosine_similarities(one, [one, -one]), [1.0, -1.0])  # lists too
    # A zero vector has cosine 0 here, as in similarity(); gensim divides by zero (nan).
    zero_row = np.vstack([one, np.zeros(D, np.float32)])
    _close(KeyedVectors.cosine_similarities(one, zero_row), [1.0, 0.0])
    _close(KeyedVectors.cosine_similarities(np.zeros(D), zero_row), [0.0, 0.0])


def test_closer_than_and_rank(kv: KeyedVectors, gkv: GensimKV) -> None:
    probe = ["king", "queen", "東京", "w0", "w17", "w43"]
    for key1, key2 in itertools.product(probe, WORDS):
        closer = kv.closer_than(key1, key2)
        assert closer == gkv.closer_than(key1, key2)
        assert key1 not in closer and key2 not in closer
        assert kv.rank(key1, key2) == gkv.rank(key1, key2) == len(closer) + 1
    assert kv.closer_than("king", "king") == [] and kv.rank("king", "king") == 1
    nearest = kv.most_similar("king", topn=V)
    assert [kv.rank("king", w) for w, _ in nearest] == list(range(1, V))
    with pytest.raises(UnknownWordError):
        kv.closer_than("king", "qeen")
    with pytest.raises(UnknownWordError):
        kv.rank("kng", "queen")


@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")  # gensim's own
def test_words_closer_than_is_the_deprecated_alias(kv: KeyedVectors, gkv: GensimKV) -> None:
    with pytest.warns(DeprecationWarning, match="closer_than"):
        ours = kv.words_closer_than("w3", "w30")
    assert ours == kv.closer_than("w3", "w30") == gkv.words_closer_than("w3", "w30")


# ------------------------------------------------------------------ edits


def test_fill_norms(kv: KeyedVectors, gkv: GensimKV) -> None:
    gkv.fill_norms()
    kv.fill_norms()
    assert kv.norms.dtype == gkv.norms.dtype == np.float32
    _close(kv.norms, gkv.norms)
    with pytest.raises(ValueError):
        kv.norms[0] = 1.0  # read-only: a cache
    # Writing into .vectors directly: fill_norms(force=True) brings every cache back.
    kv.most_similar("king")  # warm the caches
    kv.most_similar("king", metric="euclidean")
    for table in (kv.vectors, gkv.vectors):
        table[1] *= -3.0
        table[10:20] = table[20:30] * 1.5 + 0.25
    kv.fill_norms(force=True)
    _queries_agree(kv, gkv)
    brute = np.linalg.norm(kv.vectors - kv.vectors[0], axis=1)
    assert kv.most_similar("king", topn=1, metric="euclidean")[0][1] == pytest.approx(
        np.sort(brute)[1], rel=1e-6
    )


def test_unit_normalize_all(kv: KeyedVectors, gkv: GensimKV) -> None:
    caller_table = kv.vectors
    before = caller_table.copy()
    kv.most_similar("king")  # warm the caches
    kv.unit_normalize_all()
    gkv.unit_normalize_all()
    np.testing.assert_array_equal(kv.vectors, gkv.vectors)
    np.testing.assert_array_equal(kv.norms, gkv.norms)  # 1, as gensim sets them
    np.testing.assert_array_equal(caller_table, before)  # never written in place
    _queries_agree(kv, gkv)
    np.testing.assert_array_equal(kv.get_normed_vectors(), kv.vectors)
    kv.unit_normalize_all()  # twice: nothing moves
    np.testing.assert_array_equal(kv.vectors, gkv.vectors)


def test_unit_normalize_all_keeps_zero_vectors_zero() -> None:
    kv = KeyedVectors(["a", "zero", "b"], np.float32([[3, 4], [0, 0], [0, 2]]))
    kv.unit_normalize_all()  # gensim: the zero row becomes nan
    np.testing.assert_array_equal(kv.vectors, np.float32([[0.6, 0.8], [0, 0], [0, 1]]))
    np.testing.assert_array_equal(kv.norms, [1, 0, 1])
    assert kv.most_similar("a") == [("b", pytest.approx(0.8)), ("zero", 0.0)]


def test_sort_by_descending_frequency(kv: KeyedVectors, gkv: GensimKV) -> None:
    kv.most_similar("king")  # warm the caches
    kv.most_similar("king", metric="euclidean")
    assert _suggestions(kv, "w4O") == ["w40", "w41", "w42"]  # the speller, warmed
    kv.sort_by_descending_frequency()
    gkv.sort_by_descending_frequency()
    assert kv.index_to_key == gkv.index_to_key != WORDS
    assert kv.counts.tolist() == [gkv.get_vecattr(w, "count") for w in gkv.index_to_key]
    assert kv.counts.tolist() == sorted(kv.counts.tolist(), reverse=True)
    _queries_agree(kv, gkv)
    word = kv.index_to_key[5]
    brute = np.linalg.norm(kv.vectors - kv[word], axis=1)
    expected = [kv.index_to_key[i] for i in np.argsort(brute)[1:4]]
    assert [w for w, _ in kv.most_similar(word, topn=3, metric="euclidean")] == expected
    for word in WORDS:
        assert kv.get_vecattr(word, "count") == gkv.get_vecattr(word, "count")
    # Among equals the speller prefers the word in the earlier row: the new order.
    fresh = KeyedVectors(kv.index_to_key, kv.vectors)
    assert _suggestions(kv, "w4O") == _suggestions(fresh, "w4O") != ["w40", "w41", "w42"]


def _suggestions(kv: KeyedVectors, typo: str) -> list[str]:
    with pytest.raises(UnknownWordError) as info:
        kv[typo]
    return info.value.suggestions


def test_sort_ties_go_as_gensims() -> None:
    words = ["a", "b", "c", "d", "e"]
    counts = [2, 5, 2, 5, 9]
    kv = KeyedVectors(words, np.eye(5, dtype=np.float32), counts)
    kv.sort_by_descending_frequency()
    assert kv.index_to_key == ["e", "d", "b", "c", "a"]  # the later row first on a tie
    np.testing.assert_array_equal(kv.vectors, np.eye(5, dtype=np.float32)[[4, 3, 1, 2, 0]])


def test_sort_needs_counts() -> None:
    kv = KeyedVectors(["a", "b"], np.eye(2, dtype=np.float32))
    with pytest.raises(KeyError, match="no counts"):
        kv.sort_by_descending_frequency()
    empty = KeyedVectors([], np.zeros((0, 3), dtype=np.float32))
    empty.sort_by_descending_frequency()  # nothing to sort, as gensim
    assert len(empty) == 0


@pytest.mark.parametrize("replace", [False, True])
def test_add_vectors(kv: KeyedVectors, gkv: GensimKV, replace: bool) -> None:
    rng = np.random.default_rng(11)
    keys = ["newa", "king", "newb", "w3", "kingdom"]
    weights = rng.standard_normal((len(keys), D)).astype(np.float32)
    kv.most_similar("king")  # warm the caches
    kv.most_similar("king", metric="euclidean")
    assert "kingdom" not in _suggestions(kv, "kingdon")
    kv.add_vectors(keys, weights, replace=replace)
    gkv.add_vectors(keys, weights, replace=replace)
    assert len(kv) == V + 3
    _queries_agree(kv, gkv)
    expected_king = weights[1] if replace else _table()[0][0]
    np.testing.assert_array_equal(kv["king"], expected_king)
    assert kv.get_vecattr("newa", "count") == 0  # gensim: IndexError, its counts not grown
    assert kv.get_vecattr("king", "count") == gkv.get_vecattr("king", "count")
    assert _suggestions(kv, "kingdon")[0] == "kingdom"  # the speller knows the new words
    brute = np.linalg.norm(kv.vectors - kv["newb"], axis=1)
    got = kv.most_similar("newb", topn=1, metric="euclidean")[0]
    assert got == (kv.index_to_key[np.argsort(brute)[1]], pytest.approx(np.sort(brute)[1]))


def test_add_one_vector_and_counts(kv: KeyedVectors, gkv: GensimKV) -> None:
    vector = np.arange(D, dtype=np.float32)
    kv.add_vectors("one", vector)
    gkv.add_vectors("one", vector)
    _queries_agree(kv, gkv)
    kv.add_vectors(["two", "one"], np.ones((2, D)), extras={"count": [7, 99]})
    assert kv.get_vecattr("two", "count") == 7
    assert kv.get_vecattr("one", "count") == 0  # kept, as its vector: no replace
    kv.add_vectors(["one"], np.ones((1, D)), extras={"count": np.array([99])}, replace=True)
    assert kv.get_vecattr("one", "count") == 99
    np.testing.assert_array_equal(kv["one"], np.ones(D))
    no_counts = KeyedVectors(["a"], np.ones((1, D)))
    no_counts.add_vectors(["b"], np.ones((1, D)))
    assert no_counts.counts is None
    no_counts.add_vectors(["c"], np.ones((1, D)), extras={"count": [4]})
    assert no_counts.counts.tolist() == [0, 0, 4]


def test_add_vectors_errors(kv: KeyedVectors) -> None:
    for keys, weights, extras, error in [
        (["x", "x"], np.ones((2, D)), None, ValueError),  # gensim: an unreachable row
        (["x", "y"], np.ones((3, D)), None, ValueError),
        (["x"], np.ones((1, D + 1)), None, ValueError),
        ([3], np.ones((1, D)), None, TypeError),
        (["x"], np.ones((1, D)), {"sample_int": [1]}, ValueError),
        (["x"], np.ones((1, D)), {"count": [1, 2]}, ValueError),
    ]:
        with pytest.raises(error):
            kv.add_vectors(keys, weights, extras=extras)
        assert len(kv) == V and "x" not in kv  # nothing half done


@pytest.mark.parametrize("binary", [False, True])
def test_intersect_word2vec_format(
    kv: KeyedVectors, gkv: GensimKV, tmp_path: Path, binary: bool
) -> None:
    rng = np.random.default_rng(8)
    file_words = ["w30", "unseen", "queen", "w2", "東京", "other"]
    other = KeyedVectors(file_words, rng.standard_normal((len(file_words), D)))
    path = tmp_path / "pretrained"
    other.save_word2vec_format(path, binary=binary)
    # gensim 4.4 cannot read binary here (np.fromstring is gone from numpy 2): the same
    # vectors as text for gensim.
    text_path = tmp_path / "pretrained.txt"
    other.save_word2vec_format(text_path)
    kv.most_similar("king")  # warm the caches
    kv.most_similar("king", metric="euclidean")
    caller_table = kv.vectors
    before = caller_table.copy()
    kv.intersect_word2vec_format(path, lockf=1.0)  # binary sniffed
    # gensim's KeyedVectors has no lock factors of its own (AttributeError without them).
    gkv.vectors_lockf = np.ones(len(gkv), dtype=np.float32)
    gkv.intersect_word2vec_format(str(text_path), lockf=1.0)
    _queries_agree(kv, gkv)
    assert kv.index_to_key == WORDS  # no word added
    np.testing.assert_array_equal(kv["queen"], other["queen"])
    np.testing.assert_array_equal(kv["king"], before[0])
    np.testing.assert_array_equal(caller_table, before)  # never written in place
    brute = np.linalg.norm(kv.vectors.astype(np.float64) - kv["queen"], axis=1)
    got = kv.most_similar("queen", topn=1, metric="euclidean")[0]
    assert got == (WORDS[np.argsort(brute)[1]], pytest.approx(np.sort(brute)[1]))


def test_intersect_word2vec_format_errors(kv: KeyedVectors, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.txt"
    KeyedVectors(["king"], np.ones((1, D + 1))).save_word2vec_format(wrong)
    with pytest.raises(W2VError, match="dimensions"):
        kv.intersect_word2vec_format(wrong)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"2 8\nking 1 2\n")
    with pytest.raises(W2VError, match=r"bad\.txt"):
        kv.intersect_word2vec_format(bad)
    np.testing.assert_array_equal(kv.vectors, _table()[0])


def test_most_similar_takes_a_vector_input_as_it_is(kv: KeyedVectors, gkv: GensimKV) -> None:
    vector = kv.vectors[9] * 7.0
    _same_neighbours(
        kv.most_similar(positive=["king", vector], negative=["w4"]),
        gkv.most_similar(positive=["king", vector], negative=["w4"]),
    )
