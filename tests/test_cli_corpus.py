"""The corpus options end to end (`w2v train`, `w2v vocab`, `w2v.train`): delimited text,
the tokenizer rules, --limit, and errors that name what the caller typed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import w2v
from w2v.cli import main
from w2v.errors import W2VError

from helpers import planted_sentences, topic_accuracy

FAST = ["--dim", "16", "--min-count", "1", "--epochs", "2", "--seed", "3", "-q"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def captions_tsv(tmp_path) -> Path:
    """Flickr8k's layout: IMAGE.jpg#i<TAB>caption, planted topics in the captions."""
    lines = [
        f"{1000 + n // 5}_{n:06x}.jpg#{n % 5}\t{' '.join(sentence)}"
        for n, sentence in enumerate(planted_sentences(1500, seed=4))
    ]
    path = tmp_path / "Flickr8k.token.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_delimited_captions_train_without_the_image_ids(captions_tsv, tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run_cli(
        capsys, "train", str(captions_tsv), "-o", str(out), "--delimiter", "tab",
        "--text-column", "2", "--dim", "24", "--epochs", "3", "--min-count", "1", "-q",
    )  # fmt: skip
    assert code == 0, err
    vectors = w2v.load(out)
    assert not [w for w in vectors.index_to_key if "jpg" in w]
    assert topic_accuracy(vectors) >= 0.9


def test_a_column_option_on_plain_text_is_one_line_and_blocks_nothing(
    captions_tsv, tmp_path, capsys
):
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", str(captions_tsv), "-o", str(out), "--text-column",
                           "2", *FAST)  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "plain text has no columns, so --text-column does not apply" in err
    assert "give --delimiter" in err
    assert not out.exists()  # refused before the run directory was made
    # the retry with the missing flag goes through in the same directory
    code, _, err = run_cli(capsys, "train", str(captions_tsv), "-o", str(out), "--text-column",
                           "2", "--delimiter", "tab", *FAST)  # fmt: skip
    assert code == 0, err


def test_limit_trains_on_the_first_words_only(captions_tsv, tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, err = run_cli(
        capsys, "train", str(captions_tsv), "-o", str(out), "--delimiter", "tab",
        "--text-column", "2", "--limit", "500", *FAST[:-1],
    )  # fmt: skip
    assert code == 0, err
    assert "500 tokens" in stdout
    stats = json.loads((out / "config.json").read_text())["stats"]
    assert stats["tokens"] == 500
    code, stdout, _ = run_cli(capsys, "vocab", str(captions_tsv), "--delimiter", "tab",
                              "--text-column", "2", "--limit-sentences", "10")  # fmt: skip
    assert code == 0 and "sentences:       10\n" in stdout


def test_the_seed_preset_tokenizes_as_the_original(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("The dog's yard, and/or the U.S.\n" * 20, encoding="utf-8")
    out = tmp_path / "seed"
    code, _, err = run_cli(capsys, "train", str(corpus), "-o", str(out), "--preset", "seed",
                           "--epochs", "1", "--dim", "8", "-q")  # fmt: skip
    assert code == 0, err
    assert set(w2v.load(out).index_to_key) == {"the", "dogs", "yard", "andor", "us"}
    out = tmp_path / "words"
    code, _, err = run_cli(capsys, "train", str(corpus), "-o", str(out), *FAST)
    assert code == 0, err
    assert set(w2v.load(out).index_to_key) == {"the", "dog", "'s", "yard", "and", "or", "u.s"}
    # a query is spelled as the run spelled its corpus
    code, stdout, err = run_cli(capsys, "similarity", str(out), "U.S.", "Yard")
    assert code == 0, err
    assert stdout.startswith("cosine similarity:")


def test_the_python_api_names_python_arguments(captions_tsv, tmp_path):
    with pytest.raises(W2VError, match="text_column does not apply; for delimited text give "
                       "delimiter") as info:  # fmt: skip
        w2v.train(captions_tsv, text_column="2", min_count=1, dim=8, epochs=1)
    assert "--" not in str(info.value)
    with pytest.raises(W2VError, match=r"^dim must be > 0$"):
        w2v.train(captions_tsv, dim=0)
    with pytest.raises(W2VError, match="applies to a corpus file, not to token lists"):
        w2v.train([["a", "b"]], delimiter="\t")
