"""Tokenizer: text to tokens, by one of three rules (``--tokenizer``).

* ``words`` (the default): letters, digits and marks (Unicode categories L*, N*, M*, and
  ``_``) make words; every other character (punctuation, symbols, controls) splits them. An
  apostrophe, hyphen or period between two word characters stays inside the word (``don't``,
  ``self-governed``, ``u.s``, ``3.14``); anywhere else it splits too. So punctuation never
  glues two words together, and ``U.S.`` does not become the pronoun ``us``. A final ``'s``
  becomes a token of its own (``world's`` -> ``world``, ``'s``), so the possessive does not
  split a word's counts.
* ``seed``: the original project's rule: punctuation (category P*) is deleted, not replaced
  by a space (``dog's`` -> ``dogs``, ``and/or`` -> ``andor``); symbols stay.
* ``whitespace``: the text is split on white space and nothing else is touched.

Then the tokens are lowercased, unless asked not to. Before any rule, ``strip_markup`` drops
XML/HTML tags (``<doc id="12" ...>``, ``</doc>``, ``<br/>``) and comments.

Fast on mostly-ASCII text: whole blocks are translated as bytes, and only the spans holding
non-ASCII characters take the Unicode path.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

TOKENIZERS = ("words", "seed", "whitespace")

_ASCII_PUNCT = bytes(c for c in range(128) if unicodedata.category(chr(c)).startswith("P"))
# What may stay inside a word under the "words" rule, between two word characters.
_JOINERS = "'.-"
# Characters mapped onto a joiner first: typographic apostrophes and hyphens.
_JOINER_ALIASES = {"\u2019": "'", "\u02bc": "'", "\u2010": "-", "\u2011": "-"}
# A joiner with anything but a word character on either side (white space, another joiner,
# the start or end of the text) splits instead.
_LONE_JOINER = re.compile(r"(?<![^\s'.\-])['.\-]|['.\-](?![^\s'.\-])")
# The English possessive (and "it's") is split off, so that "world's" counts for "world".
_POSSESSIVE = re.compile(r"'([sS])(?!\S)")
# A tag: < then a letter, / or ! (so "a < b" survives), never across a line.
_MARKUP = re.compile(r"<!--.*?-->|</?[A-Za-z!][^<>\n]*>")
_ASCII_LOWER = bytes.maketrans(
    bytes(range(ord("A"), ord("Z") + 1)), bytes(range(ord("a"), ord("z") + 1))
)


# The "words" rule on ASCII: lowercase (when asked) and every character that is not a letter,
# digit, "_", white space or joiner becomes a space.
def _ascii_words_table(lowercase: bool) -> bytes:
    out = bytearray(range(256))
    for c in range(128):
        ch = chr(c)
        if ch.isalnum() or ch == "_" or ch in _JOINERS or ch in " \t\n\r":
            if lowercase and "A" <= ch <= "Z":
                out[c] = ord(ch.lower())
        else:
            out[c] = ord(" ")
    return bytes(out)


_ASCII_WORDS = {lowercase: _ascii_words_table(lowercase) for lowercase in (True, False)}
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


@functools.cache
def _non_word_table() -> dict[int, str | None]:
    """``str.translate`` table of the "words" rule for any character: punctuation (P*),
    symbols (S*) and controls (Cc) become a space, format characters (Cf: soft hyphen,
    zero-width joiners, BOM) vanish, typographic apostrophes and hyphens become ASCII ones.
    Letters, marks, digits and unassigned code points are left alone. Built on first use.
    """
    table: dict[int, str | None] = {}
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        category = unicodedata.category(ch)
        if ch in _JOINER_ALIASES:
            table[cp] = _JOINER_ALIASES[ch]
        elif ch == "_" or ch in _JOINERS or ch.isspace():
            continue
        elif category[0] in "PS" or category == "Cc":
            table[cp] = " "
        elif category == "Cf":
            table[cp] = None
    return table


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
    """Split text into tokens by one of :data:`TOKENIZERS` (see the module's docstring)."""

    rule: str = "words"
    lowercase: bool = True
    strip_markup: bool = False

    def __post_init__(self) -> None:
        if self.rule not in TOKENIZERS:
            raise ValueError(f"unknown tokenizer {self.rule!r}; choose from {TOKENIZERS}")

    def settings(self) -> dict[str, object]:
        """What decides the tokens (a corpus cache is keyed by it)."""
        return {"tokenizer": self.rule, "lowercase": self.lowercase, "markup": self.strip_markup}

    def normalize(self, text: str) -> str:
        """The text with its tokens separated by white space, on a whole block at once:
        ``normalize(text).split()`` equals tokenizing each line alone, and line breaks are
        kept."""
        if self.strip_markup and "<" in text:
            text = _MARKUP.sub(" ", text)
        if self.rule == "words":
            return self._words(text)
        if self.rule == "seed":
            return self._seed(text)
        return text.lower() if self.lowercase else text

    def __call__(self, text: str) -> list[str]:
        return self.normalize(text).split()

    # -- the "words" rule ------------------------------------------------------------------

    def _words(self, text: str) -> str:
        table = _ASCII_WORDS[self.lowercase]
        if text.isascii():
            text = text.encode("ascii").translate(table).decode("ascii")
        else:
            data = text.encode("utf-8", "surrogatepass")
            if len(data) - len(text) > len(text) >> 4:
                text = self._words_unicode(text)  # mostly non-ASCII: no span bookkeeping
            else:
                # ASCII bytes never occur inside a multi-byte UTF-8 sequence, so the byte
                # translate is safe; the non-ASCII spans are left for the Unicode path.
                text = data.translate(table).decode("utf-8", "surrogatepass")
                text = _widen_non_ascii(text, self._words_unicode)
        if "'" in text or "." in text or "-" in text:
            text = _LONE_JOINER.sub(" ", text)
            if "'" in text:
                text = _POSSESSIVE.sub(r" '\1", text)
        return text

    def _words_unicode(self, text: str) -> str:
        text = text.translate(_non_word_table())
        return text.lower() if self.lowercase else text

    # -- the "seed" rule -------------------------------------------------------------------

    def _seed(self, text: str) -> str:
        table = _ASCII_LOWER if self.lowercase else None
        if text.isascii():
            return text.encode("ascii").translate(table, _ASCII_PUNCT).decode("ascii")
        data = text.encode("utf-8", "surrogatepass")
        if len(data) - len(text) > len(text) >> 4:
            return self._seed_unicode(text)
        text = data.translate(table, _ASCII_PUNCT).decode("utf-8", "surrogatepass")
        return _widen_non_ascii(text, self._seed_unicode)

    def _seed_unicode(self, text: str) -> str:
        text = text.translate(_punct_table())
        return text.lower() if self.lowercase else text
