"""fastText's model trained end to end: unseen words land by their n-grams, on both engines;
the run answers for any word from its files, resumes exactly and reads back through gensim."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import w2v
from w2v.cli import main
from w2v.trainer import TrainingInterrupted

from helpers import StopAfterBatches

# Six topics whose words share a stem (their n-grams) and nothing else: a topic's words are
# its stem with different endings, and each sentence draws from one topic.
STEMS = ["bradok", "quimel", "zafrun", "tovesh", "glinta", "purnox"]
SEEN_ENDINGS = ["a", "er", "ing", "ly", "ous", "ist", "ed", "s", "al", "ment"]
UNSEEN_ENDINGS = ["ism", "ful", "ize"]  # never in the corpus
FILLERS = ["the", "of", "and", "a"]
FAST = dict(dim=24, min_count=1, bucket=4000, epochs=8, seed=5, subwords=True)


def topic_corpus(path: Path, n_sentences: int = 2500, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n_sentences):
        stem = STEMS[rng.integers(len(STEMS))]
        words = [
            FILLERS[rng.integers(len(FILLERS))]
            if rng.random() < 0.2
            else stem + SEEN_ENDINGS[rng.integers(len(SEEN_ENDINGS))]
            for _ in range(rng.integers(6, 12))
        ]
        lines.append(" ".join(words))
    path.write_text("\n".join(lines) + "\n")
    return path


def nearest_topic(kv, vector: np.ndarray) -> int:
    """The topic of the vocabulary word nearest to ``vector`` (fillers skipped)."""
    for word, _ in kv.most_similar(positive=[vector], topn=10):
        for t, stem in enumerate(STEMS):
            if word.startswith(stem):
                return t
    return -1


def unseen_hits(kv) -> float:
    """Share of unseen words (a topic's stem, a new ending) whose nearest word is of their
    topic."""
    hits = [
        nearest_topic(kv, kv[stem + ending]) == t
        for t, stem in enumerate(STEMS)
        for ending in UNSEEN_ENDINGS
    ]
    return float(np.mean(hits))


@pytest.fixture
def topics(tmp_path: Path) -> Path:
    return topic_corpus(tmp_path / "topics.txt")


@pytest.mark.parametrize(("engine", "model"), [("numba", "sg"), ("numba", "cbow"), ("torch", "sg")])
def test_unseen_words_land_near_the_topic_of_their_ngrams(topics, engine, model):
    kv = w2v.train(topics, engine=engine, model=model, **FAST)
    assert all(stem + "ism" not in kv for stem in STEMS)  # unseen: not in the vocabulary
    hits = unseen_hits(kv)
    # random vectors of the same size land on a topic by chance (1 in 6)
    rng = np.random.default_rng(0)
    chance = np.mean(
        [
            nearest_topic(kv, rng.normal(size=kv.vector_size).astype(np.float32)) == t
            for t in range(len(STEMS))
            for _ in range(3)
        ]
    )
    assert hits >= 0.9, hits
    assert chance <= 0.5, chance


def test_without_ngrams_an_unseen_word_has_no_vector(topics, tmp_path):
    kv = w2v.train(topics, tmp_path / "run", **{**FAST, "maxn": 0, "epochs": 1})
    assert len(kv.model.input) == len(kv)  # no n-gram rows at all
    assert kv.model.subwords.bucket == 0
    np.testing.assert_array_equal(w2v.load(tmp_path / "run")["bradoka"], kv["bradoka"])
    with pytest.raises(KeyError, match="has no n-gram"):
        kv["bradokism"]
    assert kv["bradoka"].shape == (24,)


def test_a_word_too_short_for_an_ngram_is_an_error_not_zeros(topics, tmp_path, capsys):
    run = tmp_path / "run"
    assert main([*train_args(topics, run), "--minn", "4", "--maxn", "5", "-q"]) == 0
    capsys.readouterr()
    assert main(["similarity", str(run), "bradoka", "q"]) == 2  # "<q>" has 3 characters
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no n-gram of 4-5 characters" in err[0], err
    # "<qz>" is an n-gram, but no word of the corpus has it: its row never trained
    assert main(["similarity", str(run), "bradoka", "qz"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none of its n-grams is in a bucket" in err[0], err


def train_args(corpus: Path, run: Path) -> list[str]:
    return [
        "train", str(corpus), "-o", str(run), "--subwords", "--dim", "24", "--min-count", "1",
        "--bucket", "4000", "--epochs", "4", "--seed", "5",
    ]  # fmt: skip


def test_the_run_answers_for_unseen_words_from_its_files(topics, tmp_path, capsys):
    run = tmp_path / "run"
    assert main([*train_args(topics, run), "-q"]) == 0
    assert (run / "fasttext.bin").is_file() and (run / "vectors.txt").is_file()
    capsys.readouterr()
    assert main(["neighbors", str(run), "quimelism", "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "nearest to 'quimelism'" in out
    neighbours = [line.split()[-1] for line in out.splitlines()[1:] if line.strip()]
    assert neighbours and all(w.startswith("quimel") for w in neighbours), out
    assert main(["similarity", str(run), "zafruning", "zafrunize"]) == 0
    assert "cosine similarity" in capsys.readouterr().out
    kv = w2v.load(run)
    assert type(kv).__name__ == "SubwordVectors"
    assert kv.most_similar("toveshize", topn=1)[0][0].startswith("tovesh")
    # the vocabulary's vectors in vectors.txt are the model's word vectors
    plain = w2v.KeyedVectors.load_word2vec_format(run / "vectors.txt")
    np.testing.assert_allclose(plain["bradoka"], kv["bradoka"], atol=1e-5)


def test_evaluate_oov_subwords_scores_every_pair(topics, tmp_path, capsys):
    run = tmp_path / "run"
    assert main([*train_args(topics, run), "-q"]) == 0
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("bradoka\tbradokism\t9\nbradoka\tquimelful\t1\nzafruner\tzafrunize\t8\n")
    capsys.readouterr()
    assert main(["evaluate", str(run), "-b", str(pairs)]) == 0
    out = capsys.readouterr().out
    assert "left out (--oov skip)" in out and "0/3" in out
    assert main(["evaluate", str(run), "-b", str(pairs), "--oov", "subwords"]) == 0
    out = capsys.readouterr().out
    assert "from their n-grams (--oov subwords)" in out and "3/3" in out


def test_a_stopped_subword_run_resumes_exactly(topics, tmp_path):
    options = {**FAST, "epochs": 2, "deterministic": True}
    whole = w2v.train(topics, tmp_path / "whole", **options)
    with pytest.raises(TrainingInterrupted):
        w2v.train(topics, tmp_path / "stopped", callbacks=[StopAfterBatches(1)], **options)
    resumed = w2v.resume(tmp_path / "stopped")
    np.testing.assert_array_equal(resumed.model.input, whole.model.input)
    np.testing.assert_array_equal(resumed.model.output, whole.model.output)
    np.testing.assert_array_equal(resumed["bradokism"], whole["bradokism"])


def test_gensim_reads_the_runs_model_and_agrees_on_unseen_words(topics, tmp_path):
    fasttext = pytest.importorskip("gensim.models.fasttext")
    kv = w2v.train(topics, tmp_path / "run", **{**FAST, "epochs": 1})
    theirs = fasttext.load_facebook_vectors(str(tmp_path / "run" / "fasttext.bin"))
    for word in ["bradoka", "glintaing", "glintaize", "purnoxful", "naïveté"]:
        np.testing.assert_allclose(theirs[word], kv[word], rtol=0, atol=1e-6)
    # n-grams no word of the corpus has: gensim (as fastText) answers with the untrained
    # rows' random start; w2v refuses
    np.testing.assert_allclose(theirs["日本語"], kv.model.vector("日本語"), rtol=0, atol=1e-6)
    with pytest.raises(KeyError, match="none of its n-grams is in a bucket"):
        kv["日本語"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tied"], "separate input and output tables"),
        (["--loss", "bce"], "negative sampling with sgd"),
        (["--minn", "7", "--maxn", "6"], "--minn must not exceed --maxn"),
        (["--bucket", "0"], "--bucket must be >= 1"),
    ],
)
def test_subword_options_that_cannot_work_are_one_line(topics, tmp_path, capsys, flags, message):
    assert main([*train_args(topics, tmp_path / "bad"), *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "bad").exists()


def test_export_plot_and_a_hostile_bin_on_the_command_line(topics, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    run = tmp_path / "run"
    assert main([*train_args(topics, run), "-q"]) == 0
    out = tmp_path / "model.bin"
    vec = tmp_path / "m.vec"
    assert main(["export", str(run), "--fasttext", str(out), "--word2vec", str(vec)]) == 0
    assert out.read_bytes() == (run / "fasttext.bin").read_bytes()
    np.testing.assert_array_equal(w2v.load(out)["glintaful"], w2v.load(run)["glintaful"])
    # unseen words are drawn from their n-grams; one without a vector is named
    png = tmp_path / "words.png"
    words = "bradoka,bradokism,quimelize"
    assert main(["plot", "words", str(run), "--words", words, "-o", str(png)]) == 0
    assert png.stat().st_size > 0
    capsys.readouterr()
    # a plain run has no model to write as a .bin
    plain = tmp_path / "plain"
    argv = ["train", str(topics), "-o", str(plain), "--min-count", "1", "--epochs", "1", "-q"]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["export", str(plain), "--fasttext", str(tmp_path / "no.bin")]) == 2
    assert "--fasttext writes a model trained with --subwords" in capsys.readouterr().err
    assert main(["evaluate", str(plain), "-b", "ws353", "--oov", "subwords"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--oov subwords needs vectors with subwords" in err[0], err
    assert main(["export", str(run), "--fasttext", str(tmp_path / "x.bin"), "--limit", "5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--limit does not apply to --fasttext" in err[0], err
    # a .bin cut short: one line, exit 2, whatever reads it
    cut = tmp_path / "cut.bin"
    cut.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    for argv in (["neighbors", str(cut), "bradoka"], ["evaluate", str(cut), "-b", "ws353"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and str(cut) in err[0], err


def test_the_query_methods_take_unseen_words(topics):
    kv = w2v.train(topics, **{**FAST, "epochs": 4})
    assert kv.has_vector("glintaize") and "glintaize" not in kv
    assert not kv.has_vector("日本語")  # n-grams no vocabulary word trained
    # gensim's positional arguments (positive, negative, topn)
    best = kv.most_similar("glintaize", None, 3)
    assert len(best) == 3 and all(w.startswith("glinta") for w, _ in best)
    assert kv.most_similar_cosmul(["purnoxful"], topn=1)[0][0].startswith("purnox")
    assert kv.distance("zafrunize", "zafruning") == pytest.approx(
        1 - kv.similarity("zafrunize", "zafruning")
    )
    assert kv.similarity("zafrunize", "zafruning") > kv.similarity("zafrunize", "toveshing")
