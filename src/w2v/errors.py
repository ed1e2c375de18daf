"""The one exception type a user can cause.

The CLI turns a ``W2VError`` into a single line on stderr and exit code 2; any other
exception escaping the library is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class W2VError(Exception):
    """A problem with the user's input: a file, an option, a word."""


class UnknownWordError(W2VError, KeyError):
    """A word that is not in the vocabulary (a KeyError, as in gensim)."""

    def __init__(
        self, word: str, suggestions: list[str] | None = None, why: str | None = None
    ) -> None:
        self.word = word
        self.suggestions = suggestions or []
        msg = f"word {word!r}: {why}" if why else f"word {word!r} is not in the vocabulary"
        if self.suggestions:
            msg += "; did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


# How a message names an option: the command line says `--min-count 5`, the Python API
# `min_count=5`. The library speaks Python unless the CLI asks for flags (cli.main does).
_OPTION_STYLE: ContextVar[str] = ContextVar("w2v_option_style", default="python")


def on_command_line() -> bool:
    """Whether messages now speak to a command-line user (flags) or a Python caller."""
    return _OPTION_STYLE.get() == "flag"


def option(name: str, value: object = None) -> str:
    """An option as the caller spelled it: ``--min-count 5`` / ``min_count=5`` (``value``
    None: the name alone; True: a switch, ``--overwrite`` / ``overwrite=True``)."""
    if on_command_line():
        flag = "--" + name.replace("_", "-")
        if value is None or value is True:
            return flag
        if value is False:
            return "--no-" + name.replace("_", "-")
        return f"{flag} {value}"
    if value is None:
        return name
    return f"{name}={value!r}"


@contextmanager
def flag_names() -> Iterator[None]:
    """Within this block, messages name options as command-line flags."""
    token = _OPTION_STYLE.set("flag")
    try:
        yield
    finally:
        _OPTION_STYLE.reset(token)
