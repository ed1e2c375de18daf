"""PNG pictures: a run's loss curve, its benchmark scores per epoch, and a 2-D map of words.

matplotlib (and scikit-learn, for t-SNE) are optional, in the ``plot`` extra
(``pip install 'w2v[plot]'``): they are imported only when a picture is drawn, so the rest
of the package works without them. Figures are drawn on an Agg canvas directly, never
through pyplot, so drawing needs no display, opens no window and leaves no global figure
state behind.

The image is ``width x height`` inches at ``dpi``, exactly (no tight bounding box), so a
caller can rely on the pixel size. PNGs are written atomically.
"""

from __future__ import annotations

import importlib
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from .atomic import atomic_write
from .errors import UnknownWordError, W2VError
from .rundir import EVAL_FORMAT, RunDir
from .vectors import KeyedVectors

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_eval", "plot_loss", "plot_words", "project_2d"]

PathLike = str | os.PathLike[str]

METHODS = ("pca", "tsne")
_MIN_POINTS = {"pca": 2, "tsne": 3}
_TSNE_PERPLEXITY = 30.0  # scikit-learn's default, lowered for maps of few words


def plot_loss(
    run_dir: PathLike,
    out_png: PathLike,
    *,
    width: float = 8.0,
    height: float = 5.0,
    dpi: float = 120,
) -> Path:
    """Draw the loss of a run (``RUN_DIR/history.json``) against words trained.

    A line for the loss logged every few batches, and each epoch's mean loss as a marker
    where the epoch ended. Returns the path of the PNG.
    """
    return _save(_loss_figure(Path(run_dir), width, height, dpi), out_png, dpi)


def plot_eval(
    run_dir: PathLike,
    out_png: PathLike,
    *,
    width: float = 8.0,
    height: float = 5.0,
    dpi: float = 120,
) -> Path:
    """Draw the benchmark scores recorded per epoch (``RUN_DIR/eval.json``).

    Two panels side by side: similarity benchmarks (Spearman rho) and analogy benchmarks
    (accuracy in percent); a panel without benchmarks is left out. A benchmark missing
    from an epoch, or with a null score there, has no point at that epoch.
    """
    return _save(_eval_figure(Path(run_dir), width, height, dpi), out_png, dpi)


def plot_words(
    kv: KeyedVectors,
    out_png: PathLike,
    *,
    words: list[str] | None = None,
    top: int = 100,
    method: str = "pca",
    seed: int = 1,
    width: float = 10.0,
    height: float = 8.0,
    dpi: float = 120,
) -> Path:
    """Draw a labelled 2-D map of ``words``, or of the ``top`` most frequent words.

    The unit-length vectors are projected with PCA, or laid out with t-SNE
    (``method="tsne"``, needs scikit-learn), so that nearby points are words with a
    high cosine similarity. Repeated words are drawn once.
    """
    fig = _words_figure(kv, words, top, method, seed, width, height, dpi)
    return _save(fig, out_png, dpi)


def project_2d(vectors: np.ndarray, method: str = "pca", seed: int = 1) -> np.ndarray:
    """Project ``vectors`` (n, dim) to ``(n, 2)`` coordinates with PCA or t-SNE.

    PCA is exact and deterministic: each component's sign is chosen so that its
    largest-magnitude loading is positive, so the same vectors always give the same
    picture whatever sign the SVD happens to return. t-SNE is seeded by ``seed``.
    """
    _check_method(method)
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"vectors must be 2-D (points x dims), got shape {x.shape}")
    n = x.shape[0]
    if n < _MIN_POINTS[method]:
        raise W2VError(f"a {method} map needs at least {_MIN_POINTS[method]} words, got {n}")
    if method == "tsne":
        return _tsne(x, seed)
    centred = x - x.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    components = components[:2]
    largest = np.abs(components).argmax(axis=1)
    signs = np.sign(components[np.arange(len(components)), largest])
    components = components * np.where(signs == 0, 1.0, signs)[:, None]
    coords = centred @ components.T
    if coords.shape[1] < 2:  # one-dimensional vectors: the map is a line
        coords = np.hstack([coords, np.zeros((n, 2 - coords.shape[1]))])
    return coords


# ------------------------------------------------------------------------ figures


def _loss_figure(run_dir: Path, width: float, height: float, dpi: float) -> Figure:
    path = RunDir(run_dir).history
    history = _read_json_object(run_dir, path, _no_history)
    step_words = _number_list(history, "step_words", path)
    step_loss = _number_list(history, "step_loss", path)
    epoch_loss = _number_list(history, "epoch_loss", path)
    if step_words.size == 0 or step_loss.size == 0:
        raise W2VError(f"{path}: no loss was logged (the run trained no batches)")
    if step_words.size != step_loss.size:
        raise W2VError(
            f"{path}: corrupt: {step_words.size} step_words but {step_loss.size} step_loss"
        )
    ends = _epoch_ends(
        step_words, _number_list(history, "epoch_words", path, required=False), epoch_loss.size
    )

    mpl = _matplotlib()
    fig = _figure(width, height, dpi)
    ax = fig.add_subplot()
    ax.plot(step_words, step_loss, color="tab:blue", linewidth=1.0, label="loss per logged step")
    if epoch_loss.size:
        for x in ends:
            ax.axvline(x, color="0.85", linewidth=0.8, zorder=0)
        ax.plot(
            ends,
            epoch_loss,
            linestyle="none",
            marker="o",
            color="tab:orange",
            label="mean loss of the epoch",
        )
    ax.xaxis.set_major_formatter(mpl.ticker.EngFormatter())
    ax.set_xlabel("words trained")
    ax.set_ylabel("loss")
    ax.set_title(f"Training loss: {run_dir.resolve().name}")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def _eval_figure(run_dir: Path, width: float, height: float, dpi: float) -> Figure:
    path = RunDir(run_dir).eval
    data = _read_json_object(run_dir, path, _no_eval)
    series = _eval_series(data, path)
    panels = [
        (kind, ylabel, scale, {name: pts for (k, name), pts in series.items() if k == kind})
        for kind, ylabel, scale in (
            ("similarity", "Spearman ρ", 1.0),
            ("analogy", "accuracy (%)", 100.0),
        )
    ]
    panels = [p for p in panels if p[3]]
    if not panels:
        raise W2VError(f"{path}: holds no scores to plot")

    mpl = _matplotlib()
    fig = _figure(width, height, dpi)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (kind, ylabel, scale, benchmarks) in zip(axes, panels, strict=True):
        for name, points in benchmarks.items():
            epochs, scores = zip(*points, strict=True)
            ax.plot(epochs, np.asarray(scores) * scale, marker="o", markersize=4, label=name)
        ax.set_title(f"{kind} benchmarks")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(f"Scores per epoch: {run_dir.resolve().name}")
    return fig


def _words_figure(
    kv: KeyedVectors,
    words: list[str] | None,
    top: int,
    method: str,
    seed: int,
    width: float,
    height: float,
    dpi: float,
) -> Figure:
    _check_method(method)
    # The figure first: a missing matplotlib or a bad size fails before a slow t-SNE.
    fig = _figure(width, height, dpi)
    with_words = getattr(kv, "with_words", None)
    if words is not None and with_words is not None:  # subwords: unseen words drawn too
        kv = with_words(words)
    with_words = getattr(kv, "with_words", None)
    if words is not None and with_words is not None:  # subwords: unseen words drawn too
        kv = with_words(words)
    indices = _indices_of(kv, words) if words is not None else list(range(min(top, len(kv))))
    coords = project_2d(kv.get_normed_vectors()[indices], method, seed)

    ax = fig.add_subplot()
    ax.scatter(coords[:, 0], coords[:, 1], s=12, color="tab:blue")
    for index, (x, y) in zip(indices, coords, strict=True):
        ax.annotate(
            kv.index_to_key[index],
            (x, y),
            xytext=(3, 2),
            textcoords="offset points",
            fontsize=8,
        )
    ax.margins(0.08)  # room for the labels of the outermost points
    name = "PCA" if method == "pca" else "t-SNE"
    which = "chosen" if words is not None else "most frequent"
    ax.set_title(f"{len(indices)} {which} words ({name})")
    ax.set_xlabel(f"{name} 1")
    ax.set_ylabel(f"{name} 2")
    return fig


# ---------------------------------------------------------------------- helpers


def _tsne(x: np.ndarray, seed: int) -> np.ndarray:
    _require("sklearn", "t-SNE maps need scikit-learn")
    from sklearn.manifold import TSNE

    # scikit-learn refuses a perplexity that is not below the number of points.
    perplexity = min(_TSNE_PERPLEXITY, x.shape[0] - 1.0)
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return np.asarray(tsne.fit_transform(x), dtype=np.float64)


def _require(module: str, need: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name == module:
            raise W2VError(f"{need}: pip install 'w2v[plot]'") from None
        # Installed but broken (one of its own dependencies is missing): say so.
        raise W2VError(
            f"{module} failed to import ({exc}); reinstall it: pip install 'w2v[plot]'"
        ) from exc


def _matplotlib() -> ModuleType:
    """matplotlib with the modules the plots use, or a W2VError with the install hint."""
    # Importing the top-level package first matters: a submodule already in sys.modules
    # would import even when the package itself is gone.
    mpl = _require("matplotlib", "w2v's plots need matplotlib")
    import matplotlib.backends.backend_agg
    import matplotlib.figure
    import matplotlib.ticker  # noqa: F401 - used as mpl.ticker

    return mpl


def _figure(width: float, height: float, dpi: float) -> Figure:
    mpl = _matplotlib()
    for name, value in (("width", width), ("height", height), ("dpi", dpi)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise W2VError(f"the picture's {name} must be a positive number, got {value!r}")
    fig = mpl.figure.Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    mpl.backends.backend_agg.FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, out_png: PathLike, dpi: float) -> Path:
    path = Path(out_png)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise W2VError(f"{path.parent}: cannot create the directory: {exc.strerror}") from None
    atomic_write(path, lambda out: fig.savefig(out, format="png", dpi=dpi))
    return path


def _check_method(method: str) -> None:
    if method not in METHODS:
        expected = " or ".join(repr(m) for m in METHODS)
        raise W2VError(f"unknown map method {method!r}; expected {expected}")


def _indices_of(kv: KeyedVectors, words: list[str]) -> list[int]:
    """Rows of ``words`` in their order, repeats dropped; all unknown words in one error."""
    indices: dict[int, None] = {}
    unknown: list[UnknownWordError] = []
    for word in words:
        try:
            indices[kv.get_index(word)] = None
        except UnknownWordError as err:
            unknown.append(err)
    if len(unknown) == 1:
        raise W2VError(str(unknown[0])) from None
    if unknown:
        names = ", ".join(repr(err.word) for err in unknown)
        raise W2VError(f"{len(unknown)} words are not in the vocabulary: {names}")
    return list(indices)


def _no_history(run_dir: Path) -> str:
    return f"{RunDir(run_dir).history}: no such file (is {run_dir} a training run?)"


def _no_eval(run_dir: Path) -> str:
    name = RunDir(run_dir).eval.name
    return f"{run_dir} has no {name}: train with --eval to record scores per epoch"


def _read_json_object(run_dir: Path, path: Path, missing: Callable[[Path], str]) -> dict[str, Any]:
    if not run_dir.is_dir():
        raise W2VError(f"{run_dir}: no such run directory")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise W2VError(missing(run_dir)) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise W2VError(f"{path}: cannot read: {reason or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise W2VError(f"{path}: corrupt: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise W2VError(f"{path}: corrupt: expected a JSON object")
    return data


def _is_number(value: Any) -> bool:
    # bool is an int to Python, but a true/false in a list of losses is corruption.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_list(
    data: dict[str, Any], key: str, path: Path, *, required: bool = True
) -> np.ndarray:
    value = data.get(key)
    if value is None and not required:
        return np.zeros(0)
    if not isinstance(value, list) or not all(_is_number(v) for v in value):
        raise W2VError(f"{path}: corrupt: {key!r} must be a list of numbers")
    return np.asarray(value, dtype=np.float64)


def _epoch_ends(step_words: np.ndarray, epoch_words: np.ndarray, n_epochs: int) -> np.ndarray:
    """Words trained at the end of each epoch, as x positions for the epoch markers.

    The trainer records them (``epoch_words``); a history without them has its epochs
    spread evenly over the words trained.
    """
    if n_epochs == 0:
        return np.zeros(0)
    if epoch_words.size == n_epochs:
        return epoch_words
    return float(step_words.max()) * np.arange(1, n_epochs + 1) / n_epochs


def _eval_series(
    data: dict[str, Any], path: Path
) -> dict[tuple[str, str], list[tuple[int, float]]]:
    """``(kind, benchmark) -> [(epoch, score), ...]`` from eval.json, in order of appearance."""
    if data.get("format", EVAL_FORMAT) != EVAL_FORMAT:
        raise W2VError(f"{path}: not a w2v eval file (format {data.get('format')!r})")
    epochs = data.get("epochs")
    if not isinstance(epochs, list):
        raise W2VError(f"{path}: corrupt: 'epochs' must be a list")
    series: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for entry in epochs:
        if not isinstance(entry, dict):
            raise W2VError(f"{path}: corrupt: each entry of 'epochs' must be an object")
        epoch, scores = entry.get("epoch"), entry.get("scores")
        if not _is_number(epoch) or not isinstance(scores, dict):
            raise W2VError(f"{path}: corrupt: an epoch entry needs a number 'epoch' and 'scores'")
        for name, result in scores.items():
            if not isinstance(result, dict):
                raise W2VError(f"{path}: corrupt: score of {name!r} must be an object")
            kind, score = result.get("kind"), result.get("score")
            if score is not None and not _is_number(score):
                raise W2VError(f"{path}: corrupt: score of {name!r} must be a number or null")
            # A kind this version cannot draw is skipped rather than refused, so that a
            # newer trainer's eval.json still plots what this version knows.
            if kind not in ("similarity", "analogy"):
                continue
            points = series.setdefault((kind, name), [])
            if score is not None and math.isfinite(score):
                points.append((epoch, float(score)))
    return {key: points for key, points in series.items() if points}
