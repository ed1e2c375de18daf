"""Phrases end to end: `w2v phrases`, `w2v train --phrases FILE|auto`, `w2v vocab`, the
Python API into training, bad tables, and the google-phrases benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import w2v
from w2v import evaluate as ev
from w2v.cli import main
from w2v.phrase_table import AUTO_THRESHOLD, PhraseTable

from helpers import planted_sentences

FAST = ["--dim", "8", "--min-count", "1", "--epochs", "1", "--seed", "3", "-q"]
PHRASES = [["new", "york"], ["los", "angeles", "times"], ["bank", "of", "america"]]


def phrase_sentences(n: int = 1200, seed: int = 5) -> list[list[str]]:
    """Planted topic sentences, with a phrase put into every twelfth one, and a rare word
    into each (the words and pairs that a corpus has plenty of, and that the default
    score's N counts): the phrases score above --phrases auto's threshold."""
    rng = np.random.default_rng(seed)
    out = []
    for k, sentence in enumerate(planted_sentences(n, seed=seed)):
        at = int(rng.integers(0, len(sentence) + 1))
        sentence = [*sentence[:at], f"r{rng.integers(3000)}", *sentence[at:]]
        if k % 12 == 1:
            at = int(rng.integers(0, len(sentence) + 1))
            sentence = sentence[:at] + PHRASES[(k // 12) % 3] + sentence[at:]
        out.append(sentence)
    return out


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in phrase_sentences()) + "\n")
    return path


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def trained_ids(run: Path) -> tuple[list[str], np.ndarray]:
    saved = json.loads((run / "config.json").read_text())
    encoded = Path(saved["encoded"])
    words = [line.split("\t")[0] for line in (run / "vocab.tsv").read_text().splitlines()[1:]]
    return words, np.fromfile(encoded / "ids.int32", dtype="<i4")


def test_a_table_file_and_auto_join_the_same(corpus, tmp_path, capsys):
    table = tmp_path / "phrases.tsv"
    threshold = str(AUTO_THRESHOLD)  # what auto keeps; the flag's default is gensim's 10
    code, out, err = run_cli(capsys, "phrases", str(corpus), "-o", str(table), "--threshold",
                             threshold)  # fmt: skip
    assert code == 0, err
    assert "pass 1:" in out and f"wrote {table}" in out and "new_york" in out
    rows = {r.phrase: r for r in PhraseTable.read(table).rows}
    assert {"new_york", "los_angeles_times"} <= set(rows)  # the second is of pass 2
    assert rows["los_angeles_times"].pass_number == 2
    runs = []
    for name, phrases in (("file", str(table)), ("auto", "auto")):
        run = tmp_path / name
        code, out, err = run_cli(
            capsys, "train", str(corpus), "-o", str(run), "--phrases", phrases,
            "--cache-dir", str(tmp_path / f"cache-{name}"), *FAST[:-1],
        )  # fmt: skip
        assert code == 0, err
        assert f"phrases from {phrases}" in out and "made as tokens" in out
        runs.append(trained_ids(run))
    (words_file, ids_file), (words_auto, ids_auto) = runs
    assert words_file == words_auto and "new_york" in words_file
    assert np.array_equal(ids_file, ids_auto)
    vectors = w2v.load(tmp_path / "auto")
    assert "los_angeles_times" in vectors and "bank" in vectors
    assert json.loads((tmp_path / "auto" / "config.json").read_text())["config"]["phrases"] == (
        "auto"
    )


def test_without_output_the_table_goes_to_stdout_and_vocab_counts_phrase_tokens(
    corpus, tmp_path, capsys
):
    code, out, err = run_cli(capsys, "phrases", str(corpus), "--passes", "1")
    assert code == 0, err
    table = tmp_path / "t.tsv"
    table.write_text(out)
    assert {r.pass_number for r in PhraseTable.read(table).rows} == {1}
    code, out, err = run_cli(capsys, "vocab", str(corpus), "--phrases", str(table))
    assert code == 0, err
    line = next(x for x in out.splitlines() if x.startswith("phrases from"))
    assert "made as tokens, joined" in line


def test_the_api_trains_on_a_phrases_object_and_on_auto(tmp_path):
    sentences = phrase_sentences(600)
    phrases = w2v.Phrases(sentences, threshold=AUTO_THRESHOLD)
    assert phrases[["i", "like", "new", "york"]] == ["i", "like", "new_york"]
    vectors = w2v.train(sentences, phrases=phrases, dim=8, epochs=1, min_count=1)
    assert "new_york" in vectors and "new" not in vectors  # "new" only ever came before york
    again = w2v.train(sentences, phrases="auto", dim=8, epochs=1, min_count=1)
    assert again.index_to_key == vectors.index_to_key


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "phrase table not found"),
        (b"\x00\x01\xff", "not a phrase table"),
        (b"phrase\tcount\n", "expected the header line"),
        (b"phrase\tcount\tscore\tpass\twords\nnew_york\t3\t1.5\t1\n", "expected 5"),
    ],
)
def test_a_bad_table_is_one_line_exit_2_and_no_run(corpus, tmp_path, capsys, content, message):
    table = tmp_path / "bad.tsv"
    if content is not None:
        table.write_bytes(content)
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", str(corpus), "-o", str(out), "--phrases", str(table),
                           *FAST)  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert message in err and str(table) in err
    assert not out.exists()
    code, _, err = run_cli(capsys, "vocab", str(corpus), "--phrases", str(table))
    assert code == 2 and message in err


def test_bad_phrase_flags_are_one_line(corpus, capsys):
    code, _, err = run_cli(capsys, "phrases", str(corpus), "--scoring", "npmi", "--threshold", "5")
    assert code == 2 and "--threshold must be in [-1, 1] for --scoring npmi" in err
    code, _, err = run_cli(capsys, "phrases", str(corpus), "--passes", "0")
    assert code == 2 and "--passes must be >= 1" in err


def test_the_google_phrase_analogies_ship_with_their_sections():
    data = ev.load_benchmark("google-phrases")
    assert isinstance(data, ev.Analogies)
    assert data.n_questions == 3218 == ev.BENCHMARKS["google-phrases"].items
    assert [t for t, _ in data.sections] == [
        "newspapers", "ice_hockey", "basketball", "airlines", "people-companies",
    ]  # fmt: skip
    assert data.sections[0][1][0] == ev.Question(
        "Albuquerque", ("Albuquerque_Journal",), "Baltimore", ("Baltimore_Sun",)
    )
