"""Phrases against gensim's, on a slice of real text (the first 300,000 words of text8):
the same phrases with the same scores, and the same joined sentences except where two
phrases overlap, which is the one place the joining rules differ (README: Phrases)."""

from __future__ import annotations

import gzip
from itertools import pairwise
from pathlib import Path

import pytest

from test_phrases import reference_join
from w2v.phrase_table import ENGLISH_CONNECTOR_WORDS
from w2v.phrases import Phrases

gensim_phrases = pytest.importorskip("gensim.models.phrases")

WORDS = 300_000
LINE = 1_000


@pytest.fixture(scope="module")
def slice_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import SHARED_DATA

    source = SHARED_DATA / "text8_prefix.gz"
    if not source.exists():
        pytest.skip(f"the shared data is not at {SHARED_DATA} (set W2V_SHARED_DATA)")
    with gzip.open(source, "rt", encoding="utf-8") as f:
        words = f.read(4 * 8 * WORDS).split()[:WORDS]
    path = tmp_path_factory.mktemp("slice") / "text8-300k.txt"
    lines = [" ".join(words[i : i + LINE]) for i in range(0, len(words), LINE)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sentences_of(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text(encoding="utf-8").splitlines()]


SETTINGS = [
    ({}, {}),
    ({"scoring": "npmi", "threshold": 0.5}, {"scoring": "npmi"}),
    ({"connector_words": ENGLISH_CONNECTOR_WORDS}, {"connectors": "english"}),
    ({"min_count": 3, "threshold": 20.0}, {"min_count": 3, "threshold": 20.0}),
]


@pytest.mark.parametrize(("theirs", "ours"), SETTINGS, ids=["default", "npmi", "english", "t20"])
def test_the_same_phrases_with_the_same_scores(slice_file, theirs, ours):
    sentences = sentences_of(slice_file)
    expected = gensim_phrases.Phrases(sentences, **theirs).export_phrases()
    found = Phrases(slice_file, passes=1, **ours).export_phrases()  # read as training reads
    assert len(expected) > 300
    assert set(found) == set(expected)
    for phrase, score in expected.items():
        assert found[phrase] == pytest.approx(score, rel=1e-9, abs=1e-12), phrase


def greedy_left_join(sentence, table, connectors):
    """gensim's rule, as a reference: the leftmost candidate in the table is joined."""
    out, i, n = [], 0, len(sentence)
    while i < n:
        if sentence[i] in connectors:
            out.append(sentence[i])
            i += 1
            continue
        j = i + 1
        while j < n and sentence[j] in connectors:
            j += 1
        if j < n and tuple(sentence[i : j + 1]) in table:
            out.append("_".join(sentence[i : j + 1]))
            i = j + 1
        else:
            out.append(sentence[i])
            i += 1
    return out


@pytest.mark.parametrize(("theirs", "ours"), SETTINGS[::2], ids=["default", "english"])
def test_joining_differs_from_gensims_only_where_phrases_overlap(slice_file, theirs, ours):
    sentences = [s[k : k + 40] for s in sentences_of(slice_file) for k in range(0, LINE, 40)]
    frozen = gensim_phrases.Phrases(sentences, **theirs).freeze()
    phrases = Phrases(sentences, passes=1, **ours)
    connectors = set(phrases.table.connectors())
    table = {r.words: r.score for r in phrases.export()}
    joined = list(phrases[sentences])
    differ = 0
    for sentence, mine in zip(sentences, joined, strict=True):
        theirs_joined = frozen[sentence]
        assert theirs_joined == greedy_left_join(sentence, table, connectors)
        assert mine == reference_join(sentence, table, connectors)
        if mine != theirs_joined:
            differ += 1
            anchors = [i for i, w in enumerate(sentence) if w not in connectors]
            spans = [(i, j) for i, j in pairwise(anchors) if tuple(sentence[i : j + 1]) in table]
            assert any(a[1] == b[0] for a, b in pairwise(spans))  # two phrases overlap
    assert differ > 0  # about one 40-word sentence in seven
