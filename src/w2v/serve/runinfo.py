"""What a run directory tells the page about its training: the settings it ran with, its loss
curve and, for a run trained with ``--eval``, the scores after every epoch.

The files are read with the readers `w2v plot` uses (plot.py), so the page and the PNGs agree
on what a history or an eval file holds and on what makes one corrupt. A missing file is
simply absent from the answer; a corrupt one is reported in ``problems`` and the rest is
still shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import W2VError
from ..plot import _epoch_ends, _eval_series, _number_list, _read_json_object
from ..rundir import RunDir, read_config
from .limits import HISTORY_POINTS


def read(run_dir: Path) -> dict[str, Any]:
    """``{"settings", "corpus", "stats", "history", "eval", "problems"}``; each of the first
    five is None when the run has no such file."""
    files = RunDir(run_dir)
    out: dict[str, Any] = {"settings": None, "corpus": None, "stats": None}
    out.update(history=None, eval=None, problems=[])
    try:
        config = read_config(run_dir)
        out["settings"], out["corpus"], out["stats"] = (
            config.get("config"),
            config.get("corpus"),
            config.get("stats"),
        )
    except W2VError as exc:
        out["problems"].append(str(exc))
    for key, path, reader in (
        ("history", files.history, _history),
        ("eval", files.eval, _eval),
    ):
        if not path.is_file():
            continue
        try:
            out[key] = reader(run_dir, path)
        except W2VError as exc:
            out["problems"].append(str(exc))
    return out


def _history(run_dir: Path, path: Path) -> dict[str, Any]:
    data = _read_json_object(run_dir, path, lambda _: f"{path}: no such file")
    step_words = _number_list(data, "step_words", path)
    step_loss = _number_list(data, "step_loss", path)
    epoch_loss = _number_list(data, "epoch_loss", path)
    if step_words.size != step_loss.size:
        raise W2VError(f"{path}: corrupt: {step_words.size} step_words but {step_loss.size} loss")
    epoch_words = _number_list(data, "epoch_words", path, required=False)
    ends = _epoch_ends(step_words, epoch_words, epoch_loss.size) if step_words.size else []
    # A long run logs many thousands of points; the page's curve needs a few per pixel.
    every = max(1, -(-step_words.size // HISTORY_POINTS))
    keep = list(range(0, step_words.size, every))
    if step_words.size and keep[-1] != step_words.size - 1:
        keep.append(step_words.size - 1)
    return {
        "step_words": step_words[keep].tolist(),
        "step_loss": step_loss[keep].tolist(),
        "epoch_words": [float(x) for x in ends],
        "epoch_loss": epoch_loss.tolist(),
    }


def _eval(run_dir: Path, path: Path) -> list[dict[str, Any]]:
    data = _read_json_object(run_dir, path, lambda _: f"{path}: no such file")
    series = _eval_series(data, path)
    return [
        {"benchmark": name, "kind": kind, "points": [[epoch, score] for epoch, score in points]}
        for (kind, name), points in series.items()
    ]
