"""Checkpoint files: arrays and plain values, written atomically, read without running code.

A checkpoint is a zip of numpy arrays (``np.savez``): the tables, any arrays of an engine's
state (an optimizer's moments), and one member holding everything else (format, position,
loss history, the structure of the engine's state) as JSON. It is read with
``allow_pickle=False``, so loading one never runs code from it, and neither writing nor
reading it needs torch: a run on the numba engine never imports torch.

Checkpoints of format 1 (w2v 0.1 before this format: plain tensors saved by torch) are
still read, with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import numpy as np

from .atomic import atomic_write
from .errors import W2VError, first_line

FORMAT = "w2v-checkpoint"
VERSION = 2
_META = "meta"  # the member holding the JSON


def write(path: str | os.PathLike[str], arrays: dict[str, np.ndarray], meta: dict) -> None:
    """``arrays`` by name and ``meta`` (JSON values; numpy arrays and tensors anywhere in
    it are stored as arrays), atomically."""
    payload = dict(arrays)
    encoded = _encode(meta, payload)
    text = json.dumps({"format": FORMAT, "version": VERSION, **encoded})
    payload[_META] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda out: np.savez(out, **payload))


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The arrays and values of a checkpoint, in one dict; a W2VError for anything that is
    not a readable w2v checkpoint."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except FileNotFoundError:
        raise W2VError(f"{path}: no checkpoint found") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise W2VError(f"{path}: not a readable w2v checkpoint ({exc})") from None
    if any(name.endswith("data.pkl") for name in names):
        return _read_format_1(path)
    if f"{_META}.npy" not in names:
        raise W2VError(f"{path}: not a w2v checkpoint")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        meta = json.loads(arrays.pop(_META).tobytes().decode("utf-8"))
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise W2VError(f"{path}: not a readable w2v checkpoint ({first_line(exc)[:120]})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise W2VError(f"{path}: not a w2v checkpoint")
    if meta.get("version") != VERSION:
        raise W2VError(f"{path}: checkpoint version {meta.get('version')} is not supported")
    try:
        values = _decode(meta, arrays)
    except (KeyError, TypeError, ValueError):
        raise W2VError(f"{path}: checkpoint is incomplete or damaged") from None
    stored = {name: array for name, array in arrays.items() if "." not in name}
    return {**stored, **values}


def _encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """``value`` as JSON, its arrays moved to ``arrays`` (named ``state.<n>``) and its dicts
    kept with their key types (an optimizer's state is keyed by parameter number)."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        name = f"state.{len(arrays)}"
        arrays[name] = value
        return {"__array__": name}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _encode(v, arrays) for k, v in value.items()}
        return {"__items__": [[k, _encode(v, arrays)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_encode(v, arrays) for v in value]
    return value


def _decode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return arrays[value["__array__"]]
        if set(value) == {"__items__"}:
            return {k: _decode(v, arrays) for k, v in value["__items__"]}
        return {k: _decode(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    return value


def _read_format_1(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A checkpoint that torch saved (format 1): plain tensors and numbers only."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a damaged or foreign file
        raise W2VError(f"{path}: not a readable w2v checkpoint ({first_line(exc)[:120]})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise W2VError(f"{path}: not a w2v checkpoint")
    if state.get("version") != 1:
        raise W2VError(f"{path}: checkpoint version {state.get('version')} is not supported")
    for name in ("input", "output"):
        if isinstance(state.get(name), torch.Tensor):
            state[name] = state[name].numpy()
    if "optimizer" in state:  # its tensors as arrays, as format 2 holds them
        arrays: dict[str, np.ndarray] = {}
        state["engine"] = _decode(_encode(state.pop("optimizer"), arrays), arrays)
    return state
