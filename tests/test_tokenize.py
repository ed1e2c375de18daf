"""Tests for w2v.tokenize: the three rules, markup, fast paths equal to per-character
references."""

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


def test_seed_rule_deletes_punctuation_and_lowercases():
    tok = Tokenizer("seed")
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
    assert Tokenizer("seed", lowercase=False)(text) == ["The", "Dogs", "Yard"]
    assert Tokenizer("whitespace")(text) == ["the", "dog's", "«yard»."]
    assert Tokenizer("whitespace", lowercase=False)(text) == text.split()
    assert Tokenizer("words", lowercase=False)(text) == ["The", "Dog", "'s", "Yard"]


@pytest.mark.parametrize("rule", tokenize.TOKENIZERS)
def test_tokenizer_whitespace_kinds(rule):
    text = "a\tb\r\nc\x0bd\x0ce\xa0f\u3000g\u2028h\u2009i\x1cj  \n k"
    assert Tokenizer(rule)(text) == list("abcdefghijk")


@pytest.mark.parametrize("rule", ["words", "seed"])
def test_tokenizer_unicode_lowercase(rule):
    tok = Tokenizer(rule)
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
def test_seed_rule_matches_per_token_reference(text, lowercase, strip):
    tok = Tokenizer("seed" if strip else "whitespace", lowercase=lowercase)
    assert tok(text) == reference_tokens(text, lowercase, strip)


def test_punctuation_table_is_exactly_category_p():
    table = tokenize._punct_table()
    assert all(unicodedata.category(chr(cp)).startswith("P") for cp in table)
    assert {ord(c) for c in "!\"#%&'()*,-./:;?@[\\]_{}«»—…¿¡「」"} <= table.keys()
    assert not {ord(c) for c in "$+<=>^`|~"} & table.keys()


# -- the "words" rule ---------------------------------------------------------------------------

MESSY = (
    '<doc id="12" url="http://en.wikipedia.org/wiki?curid=12" title="Anarchism">\n'
    "The U.S. isn't \"self-governed\" (and/or) -- it's well-known: 3.14% of Café-goers said "
    "«don’t»... see http://www.youtube.com/AudiUSA!\n</doc>"
)


def test_words_rule_on_a_messy_sentence():
    assert Tokenizer("words", strip_markup=True)(MESSY) == [
        "the", "u.s", "isn't", "self-governed", "and", "or", "it", "'s", "well-known", "3.14",
        "of", "café-goers", "said", "don't", "see", "http", "www.youtube.com", "audiusa",
    ]  # fmt: skip
    # the original rule glues words where punctuation was, and keeps the markup's words
    assert Tokenizer("seed")(MESSY)[:6] == ["<doc", "id=12", "url=httpenwikipediaorgwikicurid=12",
                                            "title=anarchism>", "the", "us"]  # fmt: skip


def test_words_rule_joiners_only_inside_words():
    tok = Tokenizer("words")
    assert tok("'quoted' dogs' 'tis rock'n'roll") == ["quoted", "dogs", "tis", "rock'n'roll"]
    assert tok("The world's KING'S o'neil's don't") == [
        "the", "world", "'s", "king", "'s", "o'neil", "'s", "don't"
    ]  # fmt: skip
    assert Tokenizer("words", lowercase=False)("KING'S") == ["KING", "'S"]
    assert tok("a--b a-.b -x x- .5 end. e.g.") == ["a", "b", "a", "b", "x", "x", "5", "end", "e.g"]
    assert tok("a_b __init__ new_york") == ["a_b", "__init__", "new_york"]  # "_" is a letter
    assert tok("1,000 $5 3=8 ^_^ a|b a/b") == ["1", "000", "5", "3", "8", "_", "a", "b", "a", "b"]
    # typographic apostrophes and hyphens become ASCII ones; a soft hyphen vanishes
    assert tok("don\u2019t x\u2010y co\u00adop") == ["don't", "x-y", "coop"]


def test_words_rule_keeps_letters_marks_and_digits_of_any_script():
    tok = Tokenizer("words")
    assert tok("हिन्दी भाषा।") == ["हिन्दी", "भाषा"]  # virama and vowel signs are marks
    assert tok("日本語の「テスト」です！") == ["日本語の", "テスト", "です"]
    assert tok("Ἀθῆναι ٣٤ e\u0301cole") == ["ἀθῆναι", "٣٤", "e\u0301cole"]


def test_markup_is_dropped_only_when_asked_and_only_tags():
    text = "<p>Hello <b>big</b> world</p> <!-- note --> a < b and c > d <br/>"
    assert Tokenizer("words", strip_markup=True)(text) == [
        "hello", "big", "world", "a", "b", "and", "c", "d"
    ]  # fmt: skip
    assert "p" in Tokenizer("words")(text)
    # a tag never swallows a line break: the lines stay lines
    assert Tokenizer("words", strip_markup=True).normalize("a <x\ny> b").count("\n") == 1


def reference_words(text: str, lowercase: bool) -> list[str]:
    """The "words" rule, one character at a time: classify, then split."""
    aliases = {"\u2019": "'", "\u02bc": "'", "\u2010": "-", "\u2011": "-"}
    chars = []
    for ch in text:
        ch = aliases.get(ch, ch)
        category = unicodedata.category(ch)
        if category == "Cf":
            continue
        is_word = category[0] in "LMN" or ch == "_" or category in ("Cn", "Co", "Cs")
        chars.append(ch if is_word or ch.isspace() or ch in "'.-" else " ")
    out = []
    for i, ch in enumerate(chars):
        if ch in "'.-":
            before = chars[i - 1] if i else " "
            after = chars[i + 1] if i + 1 < len(chars) else " "
            inside = not (before.isspace() or before in "'.-" or after.isspace() or after in "'.-")
            ch = ch if inside else " "
        out.append(ch)
    tokens = []
    for token in "".join(out).split():
        if len(token) > 2 and token[-2:] in ("'s", "'S"):
            tokens += [token[:-2], token[-2:]]
        else:
            tokens.append(token)
    return [t.lower() for t in tokens] if lowercase else tokens


@pytest.mark.parametrize(
    "text",
    [
        MESSY,
        "plain ascii text, with punctuation! and CAPS. O'Neil's state-of-the-art U.S.A. x--y",
        "mostly ASCII with a café-goer, naïve «quotes» don’t and ΟΔΟΣ. " * 50,
        "Почти всё по-русски: «Привет, мир!» — сказал он… ΣΟΦΙΑ. " * 50,
        "中文文本，没有空格。日本語の「テスト」です！ ABC " * 30,
        "mixed\u3000ideographic\u3000space Σ\u3000Σa ΑΣ\xa0ΒΣ x\u2028Σ\u0301 ǅ ẞ \x00\x07 €£",
    ],
)
@pytest.mark.parametrize("lowercase", [True, False])
def test_words_rule_matches_per_character_reference(text, lowercase):
    assert Tokenizer("words", lowercase=lowercase)(text) == reference_words(text, lowercase)


def test_normalize_keeps_lines():
    text = "First line, U.S.\nsecond: don't\n\nfourth-"
    lines = Tokenizer("words").normalize(text).split("\n")
    assert [line.split() for line in lines] == [
        Tokenizer("words")(line) for line in text.split("\n")
    ]


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="unknown tokenizer"):
        Tokenizer("spacy")
