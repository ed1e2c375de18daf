"""Tokenizer: text to tokens.

The original project's rule: punctuation (every character whose Unicode category starts
with ``P``) is deleted, not replaced by a space, then the text is split on whitespace and
lowercased. Fast on mostly-ASCII text: whole blocks are translated as bytes, and only the
spans holding non-ASCII characters take the Unicode path.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

_ASCII_PUNCT = bytes(c for c in range(128) if unicodedata.category(chr(c)).startswith("P"))
_ASCII_LOWER = bytes.maketrans(
    bytes(range(ord("A"), ord("Z") + 1)), bytes(range(ord("a"), ord("z") + 1))
)
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_ASCII_SPACE = re.compile(r"[\t\n\x0b\x0c\r\x1c-\x1f ]")


@functools.cache
def _punct_table() -> dict[int, None]:
    """``str.translate`` table deleting every character of Unicode category P*.

    A translate table rather than a regex character class: CPython's ``re`` spends
    ~100 ns per character on an 800-character class, ``str.translate`` half that.
    Built on first use (scanning all code points takes ~0.1 s).
    """
    return dict.fromkeys(
        cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)).startswith("P")
    )


def _widen_non_ascii(text: str, fix: Callable[[str], str]) -> str:
    """Apply ``fix`` to every whitespace-bounded span of ``text`` holding non-ASCII.

    The spans reach whitespace on both sides because ``str.lower`` looks at
    neighbouring letters (Greek final sigma) but never across whitespace, so the
    result equals ``fix`` on the whole text while mostly-ASCII text stays on the
    fast byte path.
    """
    out: list[str] = []
    done = 0
    search_run = _NON_ASCII_RUN.search
    search_space = _ASCII_SPACE.search
    m = search_run(text)
    while m is not None:
        start, end = m.span()
        left = max(
            done,
            text.rfind(" ", done, start) + 1,
            text.rfind("\n", done, start) + 1,
            text.rfind("\t", done, start) + 1,
        )
        space = search_space(text, end)
        right = space.start() if space is not None else len(text)
        out.append(text[done:left])
        out.append(fix(text[left:right]))
        done = right
        m = search_run(text, right)
    out.append(text[done:])
    return "".join(out)


@dataclass(frozen=True)
class Tokenizer:
    """Split text into tokens the way the original project did.

    Punctuation (every character whose Unicode category starts with ``P``) is deleted,
    not replaced by a space: ``"dog's" -> "dogs"``. The text is then split on any
    whitespace (``str.split()``) and lowercased with ``str.lower()`` if asked.
    """

    lowercase: bool = True
    strip_punctuation: bool = True

    def normalize(self, text: str) -> str:
        """Delete punctuation and lowercase, on a whole block of text at once.

        ``normalize(text).split()`` equals splitting first and normalizing each token.
        """
        if not (self.lowercase or self.strip_punctuation):
            return text
        table = _ASCII_LOWER if self.lowercase else None
        delete = _ASCII_PUNCT if self.strip_punctuation else b""
        if text.isascii():
            return text.encode("ascii").translate(table, delete).decode("ascii")
        data = text.encode("utf-8", "surrogatepass")
        if len(data) - len(text) > len(text) >> 4:
            # Mostly non-ASCII (Cyrillic, CJK...): per-span bookkeeping would cost more
            # than it saves.
            return self._fix(text)
        # ASCII bytes never occur inside a multi-byte UTF-8 sequence, so the byte-level
        # translate is safe; only the non-ASCII spans are left for the slow path.
        text = data.translate(table, delete).decode("utf-8", "surrogatepass")
        return _widen_non_ascii(text, self._fix)

    def _fix(self, text: str) -> str:
        if self.strip_punctuation:
            text = text.translate(_punct_table())
        return text.lower() if self.lowercase else text

    def __call__(self, text: str) -> list[str]:
        return self.normalize(text).split()
