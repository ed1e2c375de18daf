import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import w2v
from w2v import evaluate as ev
from w2v.cli import main
from w2v.errors import W2VError
from w2v.vectors import KeyedVectors

EVAL_DIR = ev.bundled_path(ev.BENCHMARKS["google"]).parent


# -- the bundled files --------------------------------------------------------------------


def test_bundled_files_are_the_originals():
    listed = {}
    for line in (EVAL_DIR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    on_disk = {
        p.relative_to(EVAL_DIR).as_posix()
        for p in EVAL_DIR.rglob("*")
        if p.is_file() and p.name not in ("SHA256SUMS", "README.md")
    }
    assert on_disk == set(listed)
    for name, digest in listed.items():
        assert hashlib.sha256((EVAL_DIR / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize(
    ("name", "count", "first"),
    [
        ("ws353", 353, ("love", "sex", 6.77)),
        ("ws353-sim", 203, ("tiger", "cat", 7.35)),
        ("ws353-rel", 252, ("computer", "keyboard", 7.62)),
        ("simlex999", 999, ("old", "new", 1.58)),  # the SimLex999 column, not POS or conc
        ("men", 3000, ("sun", "sunlight", 50.0)),
        ("rw", 2034, ("squishing", "squirt", 5.88)),  # the mean, not the first rating
        ("mturk771", 771, ("access", "gateway", 3.791666667)),
        ("rg65", 65, ("gem", "jewel", 3.94)),
    ],
)
def test_word_pair_readers_on_the_real_files(name, count, first):
    data = ev.load_benchmark(name)
    assert isinstance(data, ev.WordPairs)
    assert len(data.pairs) == count == ev.BENCHMARKS[name].items
    assert data.pairs[0] == first
    assert all(isinstance(s, float) for _, _, s in data.pairs)


def test_google_analogies_reader():
    data = ev.load_benchmark("google")
    assert isinstance(data, ev.Analogies)
    assert data.n_questions == 19544
    assert len(data.sections) == 14
    assert data.sections[0][0] == "capital-common-countries"
    assert data.sections[0][1][0] == ev.Question("Athens", ("Greece",), "Baghdad", ("Iraq",))
    groups = dict(data.groups)
    assert len(groups["semantic"]) == 5 and len(groups["syntactic"]) == 9
    sizes = {title: len(qs) for title, qs in data.sections}
    assert sum(sizes[t] for t in groups["semantic"]) == 8869
    assert sum(sizes[t] for t in groups["syntactic"]) == 10675


def test_msr_and_bats_readers():
    msr = ev.load_benchmark("msr")
    assert msr.n_questions == 8000 and [t for t, _ in msr.sections] == ["msr"]
    assert msr.sections[0][1][0] == ev.Question("good", ("better",), "rough", ("rougher",))
    bats = ev.load_benchmark("bats")
    assert len(bats.sections) == 40
    assert all(len(qs) == 50 * 49 for _, qs in bats.sections)
    assert bats.n_questions == 98000
    assert [g for g, _ in bats.groups] == [
        "1_inflectional_morphology",
        "2_derivational_morphology",
        "3_encyclopedic_semantics",
        "4_lexicographic_semantics",
    ]
    languages = dict(bats.sections)["E02 [country - language]"]
    # several acceptable answers, split on "/"; CRLF line ends stripped
    assert ev.Question("andorra", ("catalan",), "bangladesh", ("bengali", "bangla")) in languages


def test_user_files_are_sniffed(tmp_path):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("# my set\nw1 w2 score\ncat dog 8\ncat car 1.5\n")
    analogies = tmp_path / "ana.txt"
    analogies.write_text("man woman king queen\n")
    assert ev.load_benchmark(pairs) == ev.WordPairs(
        "pairs", [("cat", "dog", 8.0), ("cat", "car", 1.5)]
    )
    loaded = ev.load_benchmark(analogies)
    assert loaded.sections == [("ana", [ev.Question("man", ("woman",), "king", ("queen",))])]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cat dog 8\ncat car\n", "pairs.txt:2: expected 'word1 word2 score'"),
        ("", "no pairs or questions"),
        ("# only a comment\n", "no pairs or questions"),
    ],
)
def test_bad_user_files(tmp_path, text, message):
    path = tmp_path / "pairs.txt"
    path.write_text(text)
    with pytest.raises(W2VError, match=message):
        ev.load_benchmark(path)


def test_bad_analogy_line_and_unknown_name(tmp_path):
    path = tmp_path / "ana.txt"
    path.write_text(": s\na b c d\na b c\n")
    with pytest.raises(W2VError, match=r"ana\.txt:3: expected four words"):
        ev.load_benchmark(path)
    with pytest.raises(W2VError, match="unknown benchmark 'simlex'"):
        ev.load_benchmark("simlex")


# -- Spearman without scipy ----------------------------------------------------------------


def test_spearman_matches_scipy_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.integers(0, 8, size=40).astype(float)  # many ties
        y = x + rng.normal(size=40)
        assert ev.spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
        assert ev.pearson(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)


def test_spearman_by_hand():
    # ranks of x: 1, 2.5, 2.5, 4; of y: 1, 2, 3, 4 -> r of the ranks = 0.9486832980505138
    assert ev.spearman([1, 2, 2, 3], [10, 20, 30, 40]) == pytest.approx(0.9486832980505138)
    assert ev.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert ev.spearman([1], [2]) is None
    assert ev.spearman([1, 1, 1], [1, 2, 3]) is None  # constant: undefined, not nan


# -- analogy arithmetic on hand-made spaces --------------------------------------------------


def royal_space() -> KeyedVectors:
    # axes: royal, male, female, person, fruit
    words = ["man", "woman", "king", "queen", "apple", "prince"]
    vectors = np.array(
        [
            [0, 1, 0, 1, 0],
            [0, 0, 1, 1, 0],
            [1, 1, 0, 0, 0],
            [1, 0, 1, 0, 0],
            [0, 0, 0, 0.2, 1],
            [1, 1.1, 0, 0.1, 0],
        ],
        dtype=np.float32,
    )
    return KeyedVectors(words, vectors)


def test_analogies_on_a_space_where_the_answers_are_known():
    kv = royal_space()
    questions = ev.Analogies(
        "t",
        [
            (
                "royal",
                [
                    ev.Question("man", ("woman",), "king", ("queen",)),
                    ev.Question("Woman", ("man",), "Queen", ("king",)),  # case folded
                    ev.Question("man", ("woman",), "king", ("princess",)),  # unknown answer
                ],
            )
        ],
    )
    result = ev.evaluate_analogies(kv, questions)
    assert result.total.covered == 2 and result.total.total == 3
    assert result.total.correct == {"add": 2, "mul": 2}
    assert result.total.accuracy("add") == 1.0


def test_question_words_are_never_the_answer():
    # b - a + c is nearest to c itself (cos 0.995), then to d (0.982): the answer is d.
    words = ["a", "b", "c", "d", "e"]
    vectors = np.array(
        [[1, 0, 0], [1, 0.1, 0], [0, 0, 1], [0, 0.3, 1], [0, -1, 0.2]], dtype=np.float32
    )
    kv = KeyedVectors(words, vectors)
    unit = kv.get_normed_vectors()
    target = unit[1] - unit[0] + unit[2]
    assert np.argmax(unit @ target) == 2
    data = ev.Analogies("t", [("s", [ev.Question("a", ("b",), "c", ("d",))])])
    assert ev.evaluate_analogies(kv, data).total.correct == {"add": 1, "mul": 1}


def test_3cosadd_and_3cosmul_disagree_where_they_should():
    # Solved by hand: for "a : b :: c : ?", 3CosAdd scores x -1.043 and y -1.136 (x wins),
    # 3CosMul scores x 0.060 and y 0.158 (y wins: x is too close to a for the quotient).
    words = ["a", "b", "c", "x", "y"]
    vectors = np.array([[0.3, -0.6], [-1.1, 0.3], [1.0, -0.1], [0.4, -0.4], [0.1, -0.3]])
    kv = KeyedVectors(words, vectors)
    unit = kv.get_normed_vectors().astype(np.float64)
    cos = unit @ unit.T
    add = cos[1] + cos[2] - cos[0]
    mul = ((1 + cos[1]) / 2) * ((1 + cos[2]) / 2) / ((1 + cos[0]) / 2 + 1e-6)
    np.testing.assert_allclose(add[3:], [-1.0430, -1.1356], atol=1e-4)
    np.testing.assert_allclose(mul[3:], [0.0600, 0.1577], atol=1e-4)

    asks_x = ev.Analogies("t", [("s", [ev.Question("a", ("b",), "c", ("x",))])])
    asks_y = ev.Analogies("t", [("s", [ev.Question("a", ("b",), "c", ("y",))])])
    assert ev.evaluate_analogies(kv, asks_x).total.correct == {"add": 1, "mul": 0}
    assert ev.evaluate_analogies(kv, asks_y).total.correct == {"add": 0, "mul": 1}
    assert kv.analogy("a", "b", "c", method="add")[0][0] == "x"
    assert kv.analogy("a", "b", "c", method="mul")[0][0] == "y"


def test_restrict_vocab_and_bats_style_answers():
    kv = royal_space()
    q = ev.Question("man", ("woman",), "king", ("queen",))
    data = ev.Analogies("t", [("s", [q])])
    # queen is row 3: outside the 3 most frequent words the question is out of vocabulary
    assert ev.evaluate_analogies(kv, data, restrict_vocab=3).total.covered == 0
    assert ev.evaluate_analogies(kv, data, restrict_vocab=4).total.correct["add"] == 1
    # several acceptable answers: the first known b is used, any known d is right
    multi = ev.Question("man", ("lady", "woman"), "king", ("empress", "queen"))
    result = ev.evaluate_analogies(kv, ev.Analogies("t", [("s", [multi])]), methods=["add"])
    assert result.total.correct == {"add": 1} and result.total.covered == 1


def test_case_folding_prefers_the_most_frequent_spelling():
    words = ["paris", "Paris", "france", "rome", "italy"]
    vectors = np.eye(5, dtype=np.float32)
    vectors[1] = vectors[4]  # "Paris" points where italy does, "paris" does not
    kv = KeyedVectors(words, vectors)
    pairs = ev.WordPairs(
        "p", [("PARIS", "italy", 1.0), ("rome", "italy", 0.5), ("Paris", "france", 0.0)]
    )
    # folded, every "paris" is row 0 (the more frequent): cosines 0, 0, 0 -> no ranking
    folded = ev.evaluate_word_pairs(kv, pairs)
    assert folded.covered == 3 and folded.spearman is None
    # exact: PARIS is unknown; Paris is row 1 -> cosines (rome, italy) 0, (Paris, france) 0
    exact = ev.evaluate_word_pairs(kv, pairs, case_insensitive=False)
    assert exact.covered == 2
    swapped = ev.WordPairs("p", [("Paris", "italy", 1.0), ("rome", "italy", 0.0)])
    assert ev.evaluate_word_pairs(kv, swapped, case_insensitive=False).spearman == 1.0


# -- against gensim, on the same vectors --------------------------------------------------


@pytest.fixture(scope="module")
def flickr_vectors():
    """Real vectors with real coverage of every benchmark: the bundled captions."""
    return w2v.train(None, dim=32, epochs=1, seed=1, max_vocab=6000)


@pytest.fixture(scope="module")
def gensim_kv(flickr_vectors):
    from gensim.models import KeyedVectors as GensimKV

    g = GensimKV(flickr_vectors.vector_size)
    g.add_vectors(flickr_vectors.index_to_key, flickr_vectors.vectors)
    return g


@pytest.mark.parametrize("name", [n for n, b in ev.BENCHMARKS.items() if b.kind == "similarity"])
def test_word_pairs_agree_with_gensim(name, flickr_vectors, gensim_kv, tmp_path):
    data = ev.load_benchmark(name)
    tsv = tmp_path / "pairs.tsv"  # the same pairs in the one layout gensim reads
    tsv.write_text("".join(f"{a}\t{b}\t{s!r}\n" for a, b, s in data.pairs))
    pearson, spearman, oov_ratio = gensim_kv.evaluate_word_pairs(
        str(tsv), restrict_vocab=len(gensim_kv)
    )
    ours = ev.evaluate_word_pairs(flickr_vectors, data)
    assert ours.covered >= 10
    assert ours.spearman == pytest.approx(spearman.statistic, abs=1e-4)
    assert ours.pearson == pytest.approx(pearson.statistic, abs=1e-4)
    assert 100 * ours.oov / ours.total == pytest.approx(oov_ratio)


@pytest.mark.parametrize("name", ["google", "msr"])
def test_analogies_agree_with_gensim(name, flickr_vectors, gensim_kv, tmp_path):
    data = ev.load_benchmark(name)
    path = tmp_path / "questions.txt"  # gensim needs a section header before MSR's lines
    path.write_text(
        "".join(
            f": {title}\n" + "".join(f"{q.a} {q.b[0]} {q.c} {q.d[0]}\n" for q in questions)
            for title, questions in data.sections
        )
    )
    _, sections = gensim_kv.evaluate_word_analogies(str(path), restrict_vocab=30000)
    ours = ev.evaluate_analogies(flickr_vectors, data, restrict_vocab=30000)
    theirs = {s["section"]: s for s in sections}
    # enough covered and right answers that an off-by-one anywhere would show
    assert ours.total.covered > 500 and ours.total.correct["add"] > 20
    for section in ours.sections:
        g = theirs[section.name]
        assert section.correct["add"] == len(g["correct"]), section.name
        assert section.covered == len(g["correct"]) + len(g["incorrect"]), section.name
    total = theirs["Total accuracy"]
    assert ours.total.correct["add"] == len(total["correct"])


@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")  # gensim's own
def test_3cosmul_agrees_with_gensims_most_similar_cosmul(flickr_vectors, gensim_kv):
    data = ev.load_benchmark("google")
    known = set(flickr_vectors.index_to_key)
    questions = [q for _, qs in data.sections for q in qs if {q.a, q.b[0], q.c, q.d[0]} <= known][
        ::4
    ]
    right = sum(
        gensim_kv.most_similar_cosmul(positive=[q.b[0], q.c], negative=[q.a], topn=1)[0][0]
        == q.d[0]
        for q in questions
    )
    ours = ev.evaluate_analogies(
        flickr_vectors, ev.Analogies("g", [("s", questions)]), methods=["mul"]
    )
    assert ours.total.covered == len(questions) > 400
    assert ours.total.correct["mul"] == right > 20


def test_bats_agrees_with_one_question_at_a_time(flickr_vectors):
    bats = ev.load_benchmark("bats")
    section = dict(bats.sections)["I01 [noun - plural_reg]"]
    ours = ev.evaluate_analogies(flickr_vectors, ev.Analogies("b", [("s", section)]))
    right = {"add": 0, "mul": 0}
    covered = 0
    for q in section:
        b = next((w for w in q.b if w in flickr_vectors), None)
        if q.a not in flickr_vectors or q.c not in flickr_vectors or b is None:
            continue
        if not any(d in flickr_vectors for d in q.d):
            continue
        covered += 1
        for method in right:
            best = flickr_vectors.analogy(q.a, b, q.c, method=method)[0][0]
            right[method] += best in q.d
    assert ours.total.covered == covered > 100
    assert ours.total.correct == right
    assert right["add"] > 5  # the captions do teach some plurals


# -- the command ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vectors_file(flickr_vectors, tmp_path_factory):
    path = tmp_path_factory.mktemp("vectors") / "v.txt"
    flickr_vectors.save_word2vec_format(path)
    return path


def test_evaluate_command_table_and_json(vectors_file, capsys):
    assert main(["evaluate", str(vectors_file), "-b", "ws353,google", "--method", "add"]) == 0
    out = capsys.readouterr().out
    assert "ws353" in out and "capital-common-countries" in out and "3CosMul" not in out
    assert main(["evaluate", str(vectors_file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["benchmark"] for r in report["results"]] == list(ev.BENCHMARKS)
    google = report["results"][list(ev.BENCHMARKS).index("google")]
    assert google["total"]["total"] == 19544
    assert set(google["total"]) == {"name", "covered", "total", "3CosAdd", "3CosMul"}
    assert [g["name"] for g in google["groups"]] == ["semantic", "syntactic"]


def test_evaluate_command_user_file_and_errors(vectors_file, tmp_path, capsys):
    mine = tmp_path / "mine.tsv"
    mine.write_text("man\twoman\t8\nman\tdog\t3\nman\tstreet\t1\n")
    assert main(["evaluate", str(vectors_file), "-b", str(mine)]) == 0
    assert "mine" in capsys.readouterr().out
    assert main(["evaluate", str(vectors_file), "-b", "simlex"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown benchmark 'simlex'" in err
    assert main(["evaluate"]) == 2
    assert main(["evaluate", "--list"]) == 0
    assert "bats" in capsys.readouterr().out


def test_train_eval_keeps_scores_per_epoch_across_a_resume(planted_file, tmp_path):
    from test_trainer import FAST, StopAfterEpoch
    from w2v.trainer import TrainingInterrupted

    pairs = tmp_path / "topics.txt"
    pairs.write_text("t0w1 t0w2 9\nt0w1 t1w1 1\nt2w3 t2w4 9\nt2w4 t3w0 1\nt4w0 t4w9 9\n")
    opts = dict(FAST, epochs=3, eval=True, eval_benchmarks=f"ws353,{pairs}")
    run_dir = tmp_path / "run"
    with pytest.raises(TrainingInterrupted):
        w2v.train(planted_file, run_dir, callbacks=[StopAfterEpoch()], **opts)
    first = json.loads((run_dir / "eval.json").read_text())
    assert [e["epoch"] for e in first["epochs"]] == [1]
    w2v.resume(run_dir)
    saved = json.loads((run_dir / "eval.json").read_text())
    assert saved["format"] == "w2v-eval"
    assert [e["epoch"] for e in saved["epochs"]] == [1, 2, 3]
    assert saved["epochs"][0] == first["epochs"][0]
    last = saved["epochs"][-1]["scores"]
    assert last["ws353"]["score"] is None  # no WS-353 word in the planted corpus
    assert last["topics"]["covered"] == 5 and last["topics"]["score"] > 0.5
    history = json.loads((run_dir / "history.json").read_text())
    assert history["epoch_eval"] == saved["epochs"]


def test_train_eval_with_a_bad_benchmark_fails_before_training(planted_file, tmp_path):
    with pytest.raises(W2VError, match="unknown benchmark 'nope'"):
        w2v.train(planted_file, tmp_path / "run", eval=True, eval_benchmarks="nope", epochs=1)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_benchmarks_ship_inside_the_package():
    assert Path(ev.__file__).parent in EVAL_DIR.parents


def test_gensims_evaluate_methods_are_doors_to_the_evaluator(flickr_vectors, gensim_kv, tmp_path):
    pairs = tmp_path / "pairs.tsv"
    data = ev.load_benchmark("simlex999")
    pairs.write_text("".join(f"{a}\t{b}\t{s!r}\n" for a, b, s in data.pairs))
    (pearson, _), (spearman, _), oov = flickr_vectors.evaluate_word_pairs(pairs)
    g_pearson, g_spearman, g_oov = gensim_kv.evaluate_word_pairs(str(pairs))
    assert pearson == pytest.approx(g_pearson.statistic, abs=1e-4)
    assert spearman == pytest.approx(g_spearman.statistic, abs=1e-4)
    assert oov == pytest.approx(g_oov)

    score, sections = flickr_vectors.evaluate_word_analogies(EVAL_DIR / "questions-words.txt")
    g_score, g_sections = gensim_kv.evaluate_word_analogies(str(EVAL_DIR / "questions-words.txt"))
    assert score == pytest.approx(g_score) and 0.01 < score < 1
    assert [s["section"] for s in sections] == [s["section"] for s in g_sections]
    for ours, theirs in zip(sections, g_sections, strict=True):
        assert len(ours["correct"]) == len(theirs["correct"]), ours["section"]
        assert len(ours["incorrect"]) == len(theirs["incorrect"]), ours["section"]
