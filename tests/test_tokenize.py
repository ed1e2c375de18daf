"""Tests for w2v.tokenize: the original project's rule, fast paths equal to the reference."""

from __future__ import annotations

import unicodedata

import pytest

from w2v import tokenize
from w2v.tokenize import Tokenizer


def reference_tokens(text: str, lowercase: bool = True, strip: bool = True) -> list[str]:
    """Naive per-token reference: delete P* characters, split, lowercase."""
    out = []
    for token in text.split():
        if strip:
            token = "".join(c for c in token if not unicodedata.category(c).startswith("P"))
        if token:
            out.append(token.lower() if lowercase else token)
    return out


def test_tokenizer_deletes_punctuation_and_lowercases():
    tok = Tokenizer()
    assert tok("Two young guys look at the yard.") == [
        "two",
        "young",
        "guys",
        "look",
        "at",
        "the",
        "yard",
    ]
    assert tok("dog's") == ["dogs"]
    assert tok("«Привет!»") == ["привет"]
    assert tok("¿Qué? ¡Sí! — «Non…» 「日本」") == ["qué", "sí", "non", "日本"]
    assert tok("state-of-the-art e.g. U.S.A.") == ["stateoftheart", "eg", "usa"]
    assert tok("... -- !!") == []  # tokens of punctuation only vanish
    assert tok("$5 + 3=8 ^_^ a|b") == ["$5", "+", "3=8", "^^", "a|b"]  # symbols (S*) stay


def test_tokenizer_flags():
    text = "The Dog's «Yard»."
    assert Tokenizer(lowercase=False)(text) == ["The", "Dogs", "Yard"]
    assert Tokenizer(strip_punctuation=False)(text) == ["the", "dog's", "«yard»."]
    assert Tokenizer(lowercase=False, strip_punctuation=False)(text) == text.split()


def test_tokenizer_whitespace_kinds():
    text = "a\tb\r\nc\x0bd\x0ce\xa0f\u3000g\u2028h\u2009i\x1cj  \n k"
    assert Tokenizer()(text) == list("abcdefghijk")


def test_tokenizer_unicode_lowercase():
    tok = Tokenizer()
    assert tok("ÉCOLE Straße ΑΘΗΝΑ İ") == ["école", "straße", "αθηνα", "i̇"]
    # Greek final sigma depends on the neighbouring letters, never across whitespace.
    assert tok("ΟΔΟΣ ΟΔΟΣa aΣ Σ") == ["οδος", "οδοσa", "aς", "σ"]


@pytest.mark.parametrize(
    "text",
    [
        "plain ascii text, with punctuation! and CAPS.",
        "mostly ASCII with a café, naïve «quotes» and ΟΔΟΣ. " * 50,
        "Почти всё по-русски: «Привет, мир!» — сказал он… ΣΟΦΙΑ. " * 50,
        "中文文本，没有空格。日本語の「テスト」です！ ABC " * 30,
        "mixed\u3000ideographic\u3000space Σ\u3000Σa ΑΣ\xa0ΒΣ x\u2028Σ\u0301 ǅ ẞ",
    ],
)
@pytest.mark.parametrize("lowercase", [True, False])
@pytest.mark.parametrize("strip", [True, False])
def test_tokenizer_matches_per_token_reference(text, lowercase, strip):
    tok = Tokenizer(lowercase=lowercase, strip_punctuation=strip)
    assert tok(text) == reference_tokens(text, lowercase, strip)


def test_punctuation_table_is_exactly_category_p():
    table = tokenize._punct_table()
    assert all(unicodedata.category(chr(cp)).startswith("P") for cp in table)
    assert {ord(c) for c in "!\"#%&'()*,-./:;?@[\\]_{}«»—…¿¡「」"} <= table.keys()
    assert not {ord(c) for c in "$+<=>^`|~"} & table.keys()
