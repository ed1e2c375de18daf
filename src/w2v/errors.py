"""The one exception type a user can cause.

The CLI turns a ``W2VError`` into a single line on stderr and exit code 2; any other
exception escaping the library is a bug and keeps its traceback.
"""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class W2VError(Exception):
    """A problem with the user's input: a file, an option, a word."""


class UnknownWordError(W2VError, KeyError):
    """A word that is not in the vocabulary (a KeyError, as in gensim)."""

    def __init__(self, word: str, suggestions: list[str] | None = None) -> None:
        self.word = word
        self.suggestions = suggestions or []
        msg = f"word {word!r} is not in the vocabulary"
        if self.suggestions:
            msg += "; did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])
