"""export: the Embedding Projector's two TSV files, read back and compared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from w2v.errors import W2VError
from w2v.export import export_projector
from w2v.vectors import KeyedVectors

WORDS = ["the", "king", "café", "東京", "</s>", "x-y_z", "naïve"]


@pytest.fixture
def kv() -> KeyedVectors:
    rng = np.random.default_rng(3)
    # Magnitudes from 1e-4 to 1e4 exercise %.6g's switch to exponent notation.
    scale = 10.0 ** rng.integers(-4, 5, size=(len(WORDS), 5))
    vectors = (rng.standard_normal((len(WORDS), 5)) * scale).astype(np.float32)
    return KeyedVectors(WORDS, vectors)


def read_back(vectors_path: Path, metadata_path: Path) -> tuple[np.ndarray, list[str]]:
    vectors = np.loadtxt(vectors_path, delimiter="\t", dtype=np.float64, ndmin=2)
    text = metadata_path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return vectors, text[:-1].split("\n")


def test_round_trip(kv: KeyedVectors, tmp_path: Path):
    vectors_path, metadata_path = export_projector(kv, tmp_path / "proj")
    assert vectors_path == tmp_path / "proj" / "vectors.tsv"
    assert metadata_path == tmp_path / "proj" / "metadata.tsv"
    vectors, words = read_back(vectors_path, metadata_path)
    assert words == WORDS  # one word a line, no header row
    assert vectors.shape == kv.vectors.shape
    np.testing.assert_allclose(vectors, kv.vectors, rtol=1e-5)  # six significant digits
    first = vectors_path.read_text().splitlines()[0].split("\t")
    assert len(first) == kv.vector_size
    assert sorted(p.name for p in metadata_path.parent.iterdir()) == [
        "metadata.tsv",
        "vectors.tsv",
    ]  # no temp files left behind


def test_limit_keeps_the_first_words(kv: KeyedVectors, tmp_path: Path):
    vectors, words = read_back(*export_projector(kv, tmp_path, limit=3))
    assert words == WORDS[:3]
    np.testing.assert_allclose(vectors, kv.vectors[:3], rtol=1e-5)
    # A limit past the end keeps every word; a later export replaces the files.
    vectors, words = read_back(*export_projector(kv, tmp_path, limit=100))
    assert len(words) == len(vectors) == len(WORDS)


def test_bad_limit(kv: KeyedVectors, tmp_path: Path):
    with pytest.raises(W2VError, match="limit must be at least 1"):
        export_projector(kv, tmp_path, limit=0)


@pytest.mark.parametrize("bad", ["a\tb", "line\nbreak", "carriage\rreturn"])
def test_words_that_would_break_the_tsv_are_refused(tmp_path: Path, bad: str):
    kv = KeyedVectors(["ok", bad, "also\tbad"], np.eye(3, dtype=np.float32))
    with pytest.raises(W2VError, match=r"contains a tab or line break") as err:
        export_projector(kv, tmp_path / "proj")
    assert repr(bad) in str(err.value) and "1 more" in str(err.value)
    assert not (tmp_path / "proj").exists()  # nothing written, not even the directory


def test_bad_word_past_the_limit_is_not_exported(tmp_path: Path):
    kv = KeyedVectors(["ok", "fine", "a\tb"], np.eye(3, dtype=np.float32))
    _, words = read_back(*export_projector(kv, tmp_path, limit=2))
    assert words == ["ok", "fine"]


def test_out_dir_that_is_a_file(kv: KeyedVectors, tmp_path: Path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(W2VError, match="exists and is not a directory"):
        export_projector(kv, target)


def test_no_vectors(tmp_path: Path):
    empty = KeyedVectors([], np.zeros((0, 4), dtype=np.float32))
    with pytest.raises(W2VError, match="no vectors"):
        export_projector(empty, tmp_path)
