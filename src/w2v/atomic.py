"""Writing a file so that it is either there whole or not changed at all.

Every file w2v writes (vectors, the run directory's files, checkpoints, pictures, projector
files) goes through :func:`atomic_write`: the bytes go to a fresh temporary name in the same
directory, are flushed and fsynced, and only then renamed over the target. A crash or Ctrl-C
midway leaves the old file (or none) under the target's name, never a half one.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .errors import W2VError

PathLike = str | os.PathLike[str]


def atomic_write(path: PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write`` with a binary file that becomes ``path`` once it returns."""
    name = os.fspath(path)
    target = Path(path)
    if target.is_dir():
        raise W2VError(f"{name}: is a directory")
    # A random name, so two writers of the same target never share a temporary file.
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as out:
            write(out)
            out.flush()
            # Without the fsync a crash just after the rename could leave an empty file
            # under the final name on some filesystems. Filesystems that cannot fsync at
            # all are no reason to refuse to save.
            try:
                os.fsync(out.fileno())
            except OSError as exc:
                if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            reason = exc.strerror or str(exc)
            raise W2VError(f"{name}: cannot write: {reason}") from exc
        raise


def write_text(path: PathLike, text: str) -> None:
    """``text`` as UTF-8, atomically."""
    data = text.encode("utf-8")
    atomic_write(path, lambda out: out.write(data))


def write_json(path: PathLike, data: Any) -> None:
    """``data`` as indented JSON, atomically."""
    write_text(path, json.dumps(data, indent=2) + "\n")


def publish_dir(
    parent: Path,
    name: str,
    write: Callable[[Path], None],
    complete: Callable[[Path], bool],
    what: str,
) -> Path:
    """Build the directory ``parent/name`` in a temporary sibling, then rename it into place.

    An interrupted build never leaves a half directory under the final name; if another
    process published the same one first, theirs is kept (``complete`` tells whether it is
    whole). ``what`` names it in errors.
    """
    final = parent / name
    tmp = parent / f".tmp-{name}-{secrets.token_hex(4)}"
    try:
        try:
            tmp.mkdir(parents=True)
        except OSError as e:
            raise W2VError(f"{parent}: cannot create the {what} ({e.strerror or e})") from e
        try:
            write(tmp)
            os.replace(tmp, final)
        except OSError as e:
            # Reading errors are W2VErrors by now; this is the writing side (disk full...).
            if not complete(final):
                raise W2VError(f"{parent}: cannot write the {what} ({e.strerror or e})") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
