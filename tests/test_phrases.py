"""Phrases: scores by hand, the connector rules, passes, pruning, the joining rule, and the
compiled counting and joining held to a plain-Python reference on small random corpora."""

from __future__ import annotations

import math
from collections import Counter
from itertools import pairwise

import numpy as np
import pytest

import w2v
from w2v.errors import W2VError
from w2v.phrase_table import ENGLISH_CONNECTOR_WORDS, Phrase, PhraseConfig, PhraseTable
from w2v.phrases import Phrases, check_option, find_phrases, join_scanned

# -- a plain reference: gensim's counting rule, scores, and our joining rule, in Python ------


def reference_counts(sentences, connectors):
    words, pairs, total = Counter(), Counter(), 0
    for sentence in sentences:
        start, inside = None, []
        for w in sentence:
            total += 1
            if w not in connectors:
                words[w] += 1
                if start is not None:
                    pairs[(start, *inside, w)] += 1
                start, inside = w, []
            elif start is not None:
                inside.append(w)
    return words, pairs, total


def reference_scores(sentences, connectors, min_count, scoring):
    words, pairs, total = reference_counts(sentences, connectors)
    out = {}
    for parts, n in pairs.items():
        a, b = words[parts[0]], words[parts[-1]]
        if scoring == "default":
            out[parts] = (n - min_count) / float(a * b) * (len(words) + len(pairs))
        elif n >= min_count:
            pa, pb, pab = a / total, b / total, n / total
            out[parts] = math.log(pab / (pa * pb)) / -math.log(pab)
    return out, pairs


def reference_join(sentence, table, connectors):
    """``table``: parts -> score. Candidates in the table; where they overlap, the highest
    score first (ties: leftmost), then the next that overlaps nothing joined."""
    anchors = [i for i, w in enumerate(sentence) if w not in connectors]
    found = []
    for i, j in pairwise(anchors):
        parts = tuple(sentence[i : j + 1])
        if parts in table:
            found.append((i, j, table[parts]))
    kept = set()
    for k in sorted(range(len(found)), key=lambda k: (-found[k][2], k)):
        i, j, _ = found[k]
        if not any(a <= j and i <= b for a, b, _ in (found[x] for x in kept)):
            kept.add(k)
    out, p = [], 0
    for i, j, _ in sorted(found[k] for k in kept):
        out += [*sentence[p:i], "_".join(sentence[i : j + 1])]
        p = j + 1
    return out + sentence[p:]


def reference_table(sentences, connectors, min_count, threshold, scoring, passes):
    """After pass 1, only pairs that extend a phrase of an earlier pass."""
    rows, made = {}, set()
    for number in range(1, passes + 1):
        scores, pairs = reference_scores(sentences, connectors, min_count, scoring)
        found = {
            parts: s
            for parts, s in scores.items()
            if s > threshold and (number == 1 or parts[0] in made or parts[-1] in made)
        }
        if not found:
            break
        for parts, s in found.items():
            rows[(number, parts)] = (pairs[parts], s)
        made |= {"_".join(parts) for parts in found}
        sentences = [reference_join(s, found, connectors) for s in sentences]
    return rows, sentences


def random_corpus(seed, n_sentences=300, connectors=("of", "the")):
    """Few words and many repeats: lots of phrases, overlapping each other."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(12)] + list(connectors)
    weights = np.linspace(2.0, 0.5, len(vocab))
    weights /= weights.sum()
    return [
        [vocab[k] for k in rng.choice(len(vocab), size=rng.integers(1, 15), p=weights)]
        for _ in range(n_sentences)
    ]


def as_rows(phrases: Phrases) -> dict:
    return {(r.pass_number, r.words): (r.count, r.score) for r in phrases.export()}


@pytest.mark.parametrize(
    ("scoring", "connectors"), [("default", "none"), ("default", "of,the"), ("npmi", "of,the")]
)
@pytest.mark.parametrize("seed", [1, 2])
def test_compiled_counting_scoring_and_joining_equal_the_plain_reference(seed, scoring, connectors):
    sentences = random_corpus(seed)
    conn = set() if connectors == "none" else set(connectors.split(","))
    # the median score: half the candidates are phrases, and many of them overlap
    threshold = float(np.median(list(reference_scores(sentences, conn, 2, scoring)[0].values())))
    ref_rows, ref_joined = reference_table(sentences, conn, 2, threshold, scoring, passes=3)
    assert {number for number, _ in ref_rows} >= {1, 2}
    ours = Phrases(
        sentences, min_count=2, threshold=threshold, scoring=scoring, connectors=connectors,
        passes=3,
    )  # fmt: skip
    rows = as_rows(ours)
    assert ref_rows and set(rows) == set(ref_rows)
    for key, (count, score) in ref_rows.items():
        assert rows[key][0] == count
        assert rows[key][1] == pytest.approx(score, rel=1e-12)
    assert list(ours[sentences]) == ref_joined


# -- scores and rules on tiny corpora, by hand -------------------------------------------------


def test_the_default_score_and_npmi_by_hand():
    # a b: 3 times; a: 4, b: 3, c: 2 (in "a c", "c b"); 10 tokens
    sentences = [["a", "b"], ["a", "b"], ["a", "b", "c"], ["a", "c"]]
    words = {"a": 4, "b": 3, "c": 2}
    # candidates: "a b" x3, "b c" x1, "a c" x1 -> N = 3 words + 3 pairs = 6
    p = Phrases(sentences, min_count=1, threshold=0.1, passes=1)
    rows = {r.phrase: r for r in p.export()}
    assert rows["a_b"].count == 3
    assert rows["a_b"].score == (3 - 1) / (words["a"] * words["b"]) * 6
    assert "a_c" not in rows  # (1 - 1) / ... = 0, not above the threshold
    npmi = Phrases(sentences, min_count=1, scoring="npmi", threshold=-1.0, passes=1)
    total = 9
    pab, pa, pb = 3 / total, 4 / total, 3 / total
    expected = math.log(pab / (pa * pb)) / -math.log(pab)
    assert {r.phrase: r.score for r in npmi.export()}["a_b"] == pytest.approx(expected, 1e-15)


def test_connectors_sit_inside_a_phrase_but_never_start_or_end_one():
    sentences = [["the", "bank", "of", "america", "said", "of"]] * 6 + [["bank"], ["america"]]
    p = Phrases(sentences, min_count=1, threshold=0.5, connectors="english", passes=1)
    phrases = {r.phrase for r in p.export()}
    assert "bank_of_america" in phrases
    assert not any(x.split("_")[0] in ENGLISH_CONNECTOR_WORDS for x in phrases)
    assert not any(x.split("_")[-1] in ENGLISH_CONNECTOR_WORDS for x in phrases)
    assert p[["the", "bank", "of", "america", "of"]] == ["the", "bank_of_america", "of"]
    # without connectors, "of" is a word like any other
    plain = Phrases(sentences, min_count=1, threshold=0.5, passes=1)
    assert "bank_of_america" not in {r.phrase for r in plain.export()}
    # a table remembers its connectors: the words inside its phrases
    assert p.table.connectors() == ["of"]


def test_a_second_pass_joins_phrases_of_phrases():
    sentences = [["new", "york", "times"], ["new", "york"], ["the", "times"], ["new", "car"]] * 8
    one = Phrases(sentences, min_count=1, threshold=0.1, passes=1)
    two = Phrases(sentences, min_count=1, threshold=0.1, passes=2)
    # pass 1: new_york (15 / (24 x 16) x 9) beats york_times (7 / (16 x 16) x 9)
    assert one[["new", "york", "times"]] == ["new_york", "times"]
    assert two[["new", "york", "times"]] == ["new_york_times"]
    (row,) = [r for r in two.export() if r.phrase == "new_york_times"]
    assert row.pass_number == 2 and row.words == ("new_york", "times") and row.count == 8
    assert row.score == (8 - 1) / (16 * 8) * 5  # new_york, times, the_times, new_car + 1 pair


def test_where_phrases_overlap_the_higher_score_wins_where_gensim_takes_the_leftmost():
    """ "civil war" is a stronger phrase than "spanish civil": gensim joins spanish_civil
    because it comes first; we join civil_war (a second pass then makes
    spanish_civil_war)."""
    gensim = pytest.importorskip("gensim.models.phrases")
    sentences = [["spanish", "civil", "war"]] * 5 + [["civil", "war"]] * 20
    sentences += [["spanish", "x"], ["civil", "y"]] * 5 + [["war", "z"]] * 30
    kw = {"min_count": 1, "threshold": 0.1}
    ours = Phrases(sentences, passes=1, **kw)
    theirs = gensim.Phrases(sentences, **kw).freeze()
    scores = ours.export_phrases()
    assert scores["civil_war"] > scores["spanish_civil"]
    assert theirs[["spanish", "civil", "war"]] == ["spanish_civil", "war"]
    assert ours[["spanish", "civil", "war"]] == ["spanish", "civil_war"]
    # where nothing overlaps the two agree
    assert ours[["civil", "war", "x"]] == theirs[["civil", "war", "x"]] == ["civil_war", "x"]


def test_a_chain_of_overlaps_keeps_every_phrase_that_overlaps_no_stronger_one():
    table = PhraseTable(
        [
            Phrase("a_b", 1, 5.0, 1, ("a", "b")),
            Phrase("b_c", 1, 10.0, 1, ("b", "c")),
            Phrase("c_d", 1, 20.0, 1, ("c", "d")),
        ]
    )
    p = Phrases(table=table)
    assert p[["a", "b", "c", "d"]] == ["a_b", "c_d"]  # one step of lookahead gives a b c_d
    assert p[["a", "b", "c"]] == ["a", "b_c"]
    assert p[["x", "a", "b"]] == ["x", "a_b"]
    assert p[[]] == []


def test_pruning_drops_the_rarest_pairs_and_keeps_the_frequent_ones_exact():
    rng = np.random.default_rng(0)
    frequent = [["new", "york"], ["los", "angeles"]] * 50
    rare = [[f"r{k}", f"s{k}"] for k in rng.permutation(3000)]
    sentences = [s for pair in zip(frequent * 30, rare, strict=False) for s in pair]
    sentences += frequent
    pruned = Phrases(sentences, min_count=1, threshold=0.001, max_pairs=500, passes=1)
    full = Phrases(sentences, min_count=1, threshold=0.001, passes=1)
    (found,) = pruned.report.passes
    assert found["prunes"] > 0 and found["dropped_at_most"] >= 1
    assert found["candidates"] <= 500
    counts = {r.phrase: r.count for r in pruned.export()}
    exact = {r.phrase: r.count for r in full.export()}
    assert counts == exact == {"new_york": 1550, "los_angeles": 1550}
    assert full.report.passes[0]["candidates"] > 3000 and not full.report.passes[0]["prunes"]


# -- the table file ----------------------------------------------------------------------------


def test_a_table_survives_its_file_to_the_last_bit(tmp_path):
    p = Phrases(random_corpus(3), min_count=2, threshold=1.0, connectors="of,the", passes=2)
    p.save(tmp_path / "t.tsv")
    back = Phrases.load(tmp_path / "t.tsv")
    assert back.export() == p.export() and back.table.key() == p.table.key()
    lines = (tmp_path / "t.tsv").read_text().splitlines()
    assert (
        lines[0].startswith("# w2v phrases in 2,314 tokens: default score > 1,")
        and lines[1] == "phrase\tcount\tscore\tpass\twords"
    )
    scores = [float(line.split("\t")[2]) for line in lines[2:]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"", "it is empty"),
        (b"new_york\t10\t3.5\n", "expected the header line"),
        (b"phrase\tcount\tscore\tpass\twords\nnew_york\t10\t3.5\n", ":2: expected 5"),
        (b"phrase\tcount\tscore\tpass\twords\nnew_york\tten\t3.5\t1\tnew york\n", "integers"),
        (b"phrase\tcount\tscore\tpass\twords\nnew_york\t1\tnan\t1\tnew york\n", "finite"),
        (b"phrase\tcount\tscore\tpass\twords\nnew_york\t1\t2\t1\tnew yorks\n", "do not join"),
        (b"phrase\tcount\tscore\tpass\twords\nnewyork\t1\t2\t1\tnewyork\n", "two or more"),
        (
            b"phrase\tcount\tscore\tpass\twords\na_b\t1\t2\t1\ta b\na_b\t1\t3\t1\ta b\n",
            "listed twice",
        ),
    ],
)
def test_a_bad_table_is_one_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.tsv"
    path.write_bytes(content)
    with pytest.raises(W2VError, match=message) as info:
        PhraseTable.read(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(W2VError, match="not found"):
        PhraseTable.read(tmp_path / "missing.tsv")


def test_auto_is_refused_on_several_ranks_and_a_table_is_checked_early(tmp_path):
    with pytest.raises(W2VError, match=r"w2v phrases CORPUS -o phrases\.tsv"):
        check_option("auto", distributed=True)
    check_option("auto")
    with pytest.raises(W2VError, match="not found"):
        check_option(str(tmp_path / "nope.tsv"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"threshold": 0}, "threshold must be > 0"),
        ({"scoring": "npmi", "threshold": 2}, r"\[-1, 1\]"),
        ({"min_count": 0}, "min_count must be >= 1"),
        ({"passes": 0}, "passes must be >= 1"),
        ({"scoring": "pmi"}, "scoring must be one of"),
        ({"max_pairs": "many"}, "max_pairs"),
        ({"colour": 1}, "unknown"),
    ],
)
def test_bad_phrase_options_name_their_python_argument(options, message):
    with pytest.raises(W2VError, match=message):
        Phrases([["a", "b"]], **options)


def test_the_defaults_are_gensims():
    c = PhraseConfig()
    assert (c.min_count, c.score_threshold, c.scoring, c.connector_words()) == (
        5, 10.0, "default", frozenset()
    )  # fmt: skip
    assert PhraseConfig(scoring="npmi").score_threshold == 0.5
    assert PhraseConfig(connectors="english").connector_words() == ENGLISH_CONNECTOR_WORDS


# -- the API and the corpus cache --------------------------------------------------------------


def test_the_api_reads_a_corpus_path_with_the_training_tokenizer(tmp_path):
    text = "New York is big. I left New-York for New York!\n" * 30 + "new car\nold york\n"
    path = tmp_path / "c.txt"
    path.write_text(text)
    p = w2v.Phrases(path, min_count=2, threshold=0.1, passes=1)
    assert "new_york" in p.export_phrases()
    assert p[["i", "love", "new", "york"]] == ["i", "love", "new_york"]
    corpus = [["new", "york"], ["old", "york"], ["new"]]
    assert list(p[corpus]) == [["new_york"], ["old", "york"], ["new"]]
    assert p.freeze() is p and len(p) == len(p.export())
    with pytest.raises(W2VError, match="not a string"):
        p["new york"]


def test_a_joined_corpus_is_cached_under_the_tables_key(tmp_path):
    from w2v.corpus import scan_corpus
    from w2v.tokenize import Tokenizer

    path = tmp_path / "c.txt"
    path.write_text("a b c a b d a b\n" * 10 + "e f\n")
    scanned = scan_corpus(path, Tokenizer(), cache_dir=tmp_path / "cache")
    table, _ = find_phrases(scanned, PhraseConfig(min_count=1, threshold=0.1, passes=1))
    joined, stats = join_scanned(scanned, table, "t")
    assert joined.path == scanned.path / f"phrases-{table.key()}"
    assert "a_b" in joined.words and stats.phrase_tokens == 30 and stats.phrase_types >= 1
    assert joined.n_tokens == scanned.n_tokens - 30
    assert int(joined.counts.sum()) == joined.n_tokens and joined.counts.min() > 0
    again, stats_again = join_scanned(scanned, table, "t")
    assert again.path == joined.path and stats_again == stats
    words = [joined.words[i] for i in joined.ids[: joined.offsets[1]]]
    assert words[:4] == ["a_b", "c", "a_b", "d"]


def test_pruning_in_place_leaves_every_kept_pair_where_a_probe_finds_it():
    """Deleting from a linear-probing table shifts the rest of a run back; a full table
    with runs that wrap around its end is where that goes wrong if it does."""
    from w2v import phrase_kernel as k

    rng = np.random.default_rng(7)
    n_words = 40
    ids = rng.integers(0, n_words, 900).astype(np.int32)
    offsets = np.array([0, len(ids)], dtype=np.int64)
    table = np.zeros((1024, 2), dtype=np.int64)
    conn = np.zeros(n_words, dtype=np.int32)
    _, size = k.count_candidates(ids, offsets, 0, conn, 1, 31, n_words, table, 0, 1 << 40)
    expected = Counter(int(a) * n_words + int(b) for a, b in pairwise(ids))
    assert size == len(expected) > 600  # a load near 0.7 (its most before it grows): long runs
    removed = k.prune(table, 2)
    kept = {key: n for key, n in expected.items() if n > 2}
    assert removed == len(expected) - len(kept)
    mask = len(table) - 1
    for key, n in kept.items():
        i = k._home(key, 0, mask)
        while table[i, 0] != key or table[i, 1] == 0:
            assert table[i, 1] != 0, "a kept pair is no longer where a probe looks"
            i = (i + 1) & mask
        assert table[i, 1] & 0xFFFFFFFF == n
    assert np.count_nonzero(table[:, 1]) == len(kept)
