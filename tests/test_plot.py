"""plot: PNG files of the right size, PCA on hand-made points, the data behind each figure,
and one-line errors for bad input and a missing matplotlib or scikit-learn."""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from w2v import plot
from w2v.errors import W2VError
from w2v.plot import plot_eval, plot_loss, plot_words, project_2d
from w2v.vectors import KeyedVectors

# The plot extra is optional: without matplotlib only the tests of the pure-numpy parts
# and of the install hint run.
try:
    import matplotlib  # noqa: F401
except ImportError:
    HAVE_MPL = False
else:
    HAVE_MPL = True
needs_mpl = pytest.mark.skipif(not HAVE_MPL, reason="needs matplotlib (w2v[plot])")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WORDS = ["king", "queen", "man", "woman", "apple", "pear", "plum", "car", "bus", "train"]

# Two epochs: the first ends at 300 words (logged between two regular steps), the second
# at 1000.
HISTORY = {
    "step_words": [100, 200, 300, 400, 500, 600, 1000],
    "step_loss": [4.0, 3.5, 3.2, 3.0, 2.9, 2.8, 2.7],
    "epoch_loss": [3.6, 2.85],
    "epoch_seconds": [2.0, 3.5],
    "epoch_words_per_sec": [150.0, 200.0],
    "epoch_words": [300, 1000],
}

EVAL = {
    "format": "w2v-eval",
    "epochs": [
        {
            "epoch": 1,
            "words_done": 300,
            "scores": {
                "ws353": {"kind": "similarity", "score": 0.41},
                "google": {"kind": "analogy", "score": None},
            },
        },
        {
            "epoch": 2,
            "words_done": 1000,
            "scores": {
                "ws353": {"kind": "similarity", "score": 0.55},
                "simlex": {"kind": "similarity", "score": 0.2},
                "google": {"kind": "analogy", "score": 0.25},
            },
        },
        {
            "epoch": 3,
            "words_done": 1700,
            "scores": {
                "ws353": {"kind": "similarity", "score": 0.61},
                "google": {"kind": "analogy", "score": 0.312},
            },
        },
    ],
}


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, which a valid PNG has first."""
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def run_dir_with(tmp_path: Path, name: str, content: object) -> Path:
    run = tmp_path / "run"
    run.mkdir(exist_ok=True)
    text = content if isinstance(content, str) else json.dumps(content)
    (run / name).write_text(text, encoding="utf-8")
    return run


@pytest.fixture
def kv() -> KeyedVectors:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((len(WORDS), 6)).astype(np.float32)
    return KeyedVectors(WORDS, vectors, counts=np.arange(len(WORDS), 0, -1) * 10)


@pytest.fixture
def one_openmp_thread() -> Iterator[None]:
    """t-SNE of a few points in one thread: with more, OpenMP's barriers can stall for
    seconds when other processes keep every core busy (seen: 15 s instead of 0.05 s)."""
    pytest.importorskip("sklearn.manifold")
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        yield


def labels(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts]


# ------------------------------------------------------------------------ PCA


def test_pca_puts_points_along_an_axis_on_the_first_component():
    # Spread along x, a little zig-zag along y: x is the first component, y the second.
    vectors = np.array([[-2, 0.1, 0], [-1, -0.1, 0], [1, -0.1, 0], [2, 0.1, 0]])
    coords = project_2d(vectors, "pca")
    assert coords.shape == (4, 2)
    np.testing.assert_allclose(coords[:, 0], [-2, -1, 1, 2], atol=1e-12)
    np.testing.assert_allclose(coords[:, 1], [0.1, -0.1, -0.1, 0.1], atol=1e-12)


def test_pca_signs_do_not_depend_on_the_svd():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((20, 8))
    coords = project_2d(vectors, "pca")
    # Each component's largest loading is positive, so mirrored inputs give a mirrored map
    # and reordered inputs give the same points reordered, whatever signs the SVD picks.
    np.testing.assert_allclose(project_2d(-vectors, "pca"), -coords, atol=1e-10)
    order = rng.permutation(20)
    np.testing.assert_allclose(project_2d(vectors[order], "pca"), coords[order], atol=1e-10)
    np.testing.assert_array_equal(project_2d(vectors, "pca"), coords)


def test_pca_matches_scikit_learn_up_to_sign():
    decomposition = pytest.importorskip("sklearn.decomposition")
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((30, 5)) * [5, 3, 1, 0.5, 0.1]
    ours = project_2d(vectors, "pca")
    theirs = decomposition.PCA(n_components=2).fit_transform(vectors)
    for k in range(2):
        sign = np.sign(ours[:, k] @ theirs[:, k])
        np.testing.assert_allclose(ours[:, k], sign * theirs[:, k], atol=1e-8)
    assert ours[:, 0].var() >= ours[:, 1].var()


def test_pca_of_one_dimensional_vectors_is_a_line():
    coords = project_2d(np.array([[1.0], [2.0], [4.0]]), "pca")
    np.testing.assert_allclose(coords, [[-4 / 3, 0], [-1 / 3, 0], [5 / 3, 0]])


def test_tsne_is_seeded(one_openmp_thread: None):
    rng = np.random.default_rng(2)
    vectors = rng.standard_normal((8, 4))
    first = project_2d(vectors, "tsne", seed=3)
    assert first.shape == (8, 2)
    assert np.isfinite(first).all()
    np.testing.assert_array_equal(project_2d(vectors, "tsne", seed=3), first)


@pytest.mark.parametrize(("method", "n"), [("pca", 1), ("tsne", 2)])
def test_too_few_points(method: str, n: int):
    with pytest.raises(W2VError, match=f"at least {n + 1} words, got {n}"):
        project_2d(np.ones((n, 3)), method)


def test_unknown_method():
    with pytest.raises(W2VError, match="unknown map method 'umap'"):
        project_2d(np.eye(3), "umap")


# ---------------------------------------------------------------------- words


@needs_mpl
def test_plot_words_top(kv: KeyedVectors, tmp_path: Path):
    out = plot_words(kv, tmp_path / "maps" / "top.png", top=4, width=5, height=4, dpi=40)
    assert out == tmp_path / "maps" / "top.png"
    assert png_size(out) == (200, 160)
    assert [p.name for p in out.parent.iterdir()] == ["top.png"]  # no temp file left


@needs_mpl
def test_plot_words_default_size(kv: KeyedVectors, tmp_path: Path):
    assert png_size(plot_words(kv, tmp_path / "w.png")) == (1200, 960)


@needs_mpl
def test_words_figure_labels_each_point_with_its_word(kv: KeyedVectors):
    fig = plot._words_figure(kv, None, 4, "pca", 1, 5, 4, 40)
    assert labels(fig) == WORDS[:4]
    chosen = ["pear", "king", "pear", "bus"]  # the repeat is drawn once
    fig = plot._words_figure(kv, chosen, 100, "pca", 1, 5, 4, 40)
    assert labels(fig) == ["pear", "king", "bus"]
    offsets = fig.axes[0].collections[0].get_offsets()
    expected = project_2d(kv.get_normed_vectors()[[5, 0, 8]], "pca")
    np.testing.assert_allclose(np.asarray(offsets), expected, rtol=1e-6)


@needs_mpl
def test_plot_words_tsne(kv: KeyedVectors, tmp_path: Path, one_openmp_thread: None):
    out = plot_words(kv, tmp_path / "t.png", words=WORDS[:5], method="tsne", dpi=20)
    assert png_size(out) == (200, 160)


@needs_mpl
def test_unknown_words_are_all_named_on_one_line(kv: KeyedVectors, tmp_path: Path):
    with pytest.raises(W2VError) as err:
        plot_words(kv, tmp_path / "w.png", words=["king", "kingg", "zebra", "queen"])
    message = str(err.value)
    assert "'kingg'" in message and "'zebra'" in message and "\n" not in message
    assert not (tmp_path / "w.png").exists()


@needs_mpl
def test_one_unknown_word_gets_a_suggestion(kv: KeyedVectors, tmp_path: Path):
    with pytest.raises(W2VError, match="'quen' is not in the vocabulary; did you mean 'queen'"):
        plot_words(kv, tmp_path / "w.png", words=["king", "quen"])


@needs_mpl
def test_plot_words_needs_enough_words(kv: KeyedVectors, tmp_path: Path):
    with pytest.raises(W2VError, match="at least 2 words, got 1"):
        plot_words(kv, tmp_path / "w.png", words=["king"])
    with pytest.raises(W2VError, match="at least 3 words, got 2"):
        plot_words(kv, tmp_path / "w.png", words=["king", "queen"], method="tsne")


@needs_mpl
def test_bad_picture_size(kv: KeyedVectors, tmp_path: Path):
    with pytest.raises(W2VError, match="dpi must be a positive number"):
        plot_words(kv, tmp_path / "w.png", dpi=0)


@needs_mpl
def test_output_path_that_is_a_directory(kv: KeyedVectors, tmp_path: Path):
    with pytest.raises(W2VError, match="is a directory"):
        plot_words(kv, tmp_path, top=3)


# ----------------------------------------------------------------------- loss


@needs_mpl
def test_plot_loss(tmp_path: Path):
    run = run_dir_with(tmp_path, "history.json", HISTORY)
    out = plot_loss(run, tmp_path / "out" / "loss.png", width=4, height=3, dpi=50)
    assert png_size(out) == (200, 150)
    assert png_size(plot_loss(run, tmp_path / "default.png")) == (960, 600)


@needs_mpl
def test_loss_figure_puts_epoch_means_where_epochs_ended(tmp_path: Path):
    run = run_dir_with(tmp_path, "history.json", HISTORY)
    ax = plot._loss_figure(run, 4, 3, 50).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    steps, epochs = lines["loss per logged step"], lines["mean loss of the epoch"]
    np.testing.assert_array_equal(steps.get_xdata(), HISTORY["step_words"])
    np.testing.assert_array_equal(steps.get_ydata(), HISTORY["step_loss"])
    np.testing.assert_array_equal(epochs.get_xdata(), [300, 1000])
    np.testing.assert_array_equal(epochs.get_ydata(), HISTORY["epoch_loss"])
    assert ax.get_xlabel() == "words trained"
    assert ax.get_legend() is not None


def test_epoch_ends():
    words = np.array(HISTORY["step_words"], dtype=float)
    # Recorded by the trainer: used as they are.
    ends = plot._epoch_ends(words, np.array([300.0, 1000.0]), 2)
    np.testing.assert_array_equal(ends, [300, 1000])
    # Not recorded (a history from before they were): spread evenly.
    np.testing.assert_array_equal(plot._epoch_ends(words, np.zeros(0), 4), [250, 500, 750, 1000])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"history\.json: corrupt: not valid JSON"),
        ("[1, 2]", r"history\.json: corrupt: expected a JSON object"),
        ({**HISTORY, "step_loss": [1.0, "x"]}, r"history\.json: corrupt: 'step_loss'"),
        ({**HISTORY, "step_loss": [1.0]}, r"7 step_words but 1 step_loss"),
        ({**HISTORY, "step_words": [], "step_loss": []}, r"history\.json: no loss was logged"),
        ({"epoch_loss": [1.0]}, r"history\.json: corrupt: 'step_words'"),
    ],
)
def test_bad_history(tmp_path: Path, content: object, message: str):
    run = run_dir_with(tmp_path, "history.json", content)
    with pytest.raises(W2VError, match=message):
        plot_loss(run, tmp_path / "loss.png")
    assert not (tmp_path / "loss.png").exists()


def test_missing_history(tmp_path: Path):
    with pytest.raises(W2VError, match=r"history\.json: no such file"):
        plot_loss(tmp_path, tmp_path / "loss.png")
    with pytest.raises(W2VError, match="no such run directory"):
        plot_loss(tmp_path / "nope", tmp_path / "loss.png")


# ----------------------------------------------------------------------- eval


@needs_mpl
def test_plot_eval(tmp_path: Path):
    run = run_dir_with(tmp_path, "eval.json", EVAL)
    out = plot_eval(run, tmp_path / "eval.png", width=6, height=3, dpi=50)
    assert png_size(out) == (300, 150)


@needs_mpl
def test_eval_figure_draws_a_panel_per_kind(tmp_path: Path):
    run = run_dir_with(tmp_path, "eval.json", EVAL)
    similarity, analogy = plot._eval_figure(run, 6, 3, 50).axes
    lines = {line.get_label(): line for line in similarity.get_lines()}
    assert list(lines) == ["ws353", "simlex"]
    np.testing.assert_array_equal(lines["ws353"].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(lines["ws353"].get_ydata(), [0.41, 0.55, 0.61])
    np.testing.assert_array_equal(lines["simlex"].get_xdata(), [2])  # missing elsewhere
    (google,) = analogy.get_lines()
    np.testing.assert_array_equal(google.get_xdata(), [2, 3])  # null in epoch 1
    np.testing.assert_allclose(google.get_ydata(), [25.0, 31.2])  # percent
    assert "%" in analogy.get_ylabel()


@needs_mpl
def test_eval_figure_leaves_out_an_empty_panel(tmp_path: Path):
    only_similarity = {
        "format": "w2v-eval",
        "epochs": [
            {
                "epoch": 1,
                "scores": {
                    "men": {"kind": "similarity", "score": 0.3},
                    "msr": {"kind": "analogy", "score": None},
                },
            }
        ],
    }
    run = run_dir_with(tmp_path, "eval.json", only_similarity)
    (ax,) = plot._eval_figure(run, 6, 3, 50).axes
    assert ax.get_title() == "similarity benchmarks"


def test_missing_eval_says_to_train_with_eval(tmp_path: Path):
    run = run_dir_with(tmp_path, "history.json", HISTORY)
    with pytest.raises(W2VError, match=r"has no eval\.json: train with --eval"):
        plot_eval(run, tmp_path / "eval.png")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"format": "w2v-run", "epochs": []}, "not a w2v eval file"),
        ({"format": "w2v-eval", "epochs": {}}, "'epochs' must be a list"),
        ({"format": "w2v-eval", "epochs": []}, "no scores to plot"),
        (
            {"epochs": [{"epoch": 1, "scores": {"a": {"kind": "analogy", "score": "high"}}}]},
            "score of 'a' must be a number or null",
        ),
        ({"epochs": [{"scores": {}}]}, "needs a number 'epoch'"),
    ],
)
def test_bad_eval(tmp_path: Path, content: object, message: str):
    run = run_dir_with(tmp_path, "eval.json", content)
    with pytest.raises(W2VError, match=message):
        plot_eval(run, tmp_path / "eval.png")


# ------------------------------------------------------- optional dependencies


def test_missing_matplotlib_gives_the_install_hint(
    kv: KeyedVectors, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    loss_run = run_dir_with(tmp_path, "history.json", HISTORY)
    eval_run = run_dir_with(tmp_path, "eval.json", EVAL)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    hint = r"need matplotlib: pip install 'w2v\[plot\]'$"
    with pytest.raises(W2VError, match=hint):
        plot_loss(loss_run, tmp_path / "loss.png")
    with pytest.raises(W2VError, match=hint):
        plot_eval(eval_run, tmp_path / "eval.png")
    with pytest.raises(W2VError, match=hint):
        plot_words(kv, tmp_path / "words.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@needs_mpl
def test_missing_scikit_learn_only_matters_for_tsne(
    kv: KeyedVectors, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(W2VError, match=r"need scikit-learn: pip install 'w2v\[plot\]'$"):
        plot_words(kv, tmp_path / "t.png", method="tsne")
    assert png_size(plot_words(kv, tmp_path / "p.png", method="pca", dpi=10)) == (100, 80)
