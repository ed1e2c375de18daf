"""The bundled evaluation sets: their registry, and readers for their formats.

Two kinds of test (scored in evaluate.py):

* **Word-pair similarity** (WordSim-353, SimLex-999, MEN, ...): ``word1 word2 score``.
* **Analogies** (Google, MSR, BATS): "a is to b as c is to d".

Every benchmark ships inside the package (``datasets/eval``, sources and licences in its
README), so evaluation works offline. A user's own file in one of the same formats is
accepted wherever a benchmark name is.
"""

from __future__ import annotations

import gzip
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .errors import W2VError

__all__ = [
    "BENCHMARKS",
    "DEFAULT_RESTRICT_VOCAB",
    "Analogies",
    "Benchmark",
    "Question",
    "WordPairs",
    "bundled_path",
    "load_benchmark",
    "read_analogies",
    "read_bats",
    "read_word_pairs",
]

# Analogies are asked and answered within this many of the most frequent words, as
# word2vec's compute-accuracy and gensim's documentation do.
DEFAULT_RESTRICT_VOCAB = 30_000


# -- the data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WordPairs:
    """Word pairs with human similarity scores."""

    name: str
    pairs: list[tuple[str, str, float]]


@dataclass(frozen=True)
class Question:
    """ "a is to b as c is to d". ``b`` and ``d`` may list several acceptable words (BATS):
    the first known ``b`` is used, and any known ``d`` is a right answer."""

    a: str
    b: tuple[str, ...]
    c: str
    d: tuple[str, ...]


@dataclass(frozen=True)
class Analogies:
    """Analogy questions in named sections; ``groups`` names sets of sections
    (Google's semantic and syntactic halves, BATS's four kinds of relation)."""

    name: str
    sections: list[tuple[str, list[Question]]]
    groups: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def n_questions(self) -> int:
        return sum(len(questions) for _, questions in self.sections)


@dataclass(frozen=True)
class Benchmark:
    name: str
    kind: str  # "similarity" or "analogy"
    path: str  # inside datasets/eval
    title: str
    items: int  # pairs or questions in the file, as its documentation counts them


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in [
        Benchmark("ws353", "similarity", "wordsim353/combined.csv", "WordSim-353", 353),
        Benchmark(
            "ws353-sim",
            "similarity",
            "wordsim353/wordsim_similarity_goldstandard.txt",
            "WordSim-353 similarity",
            203,
        ),
        Benchmark(
            "ws353-rel",
            "similarity",
            "wordsim353/wordsim_relatedness_goldstandard.txt",
            "WordSim-353 relatedness",
            252,
        ),
        Benchmark("simlex999", "similarity", "SimLex-999/SimLex-999.txt", "SimLex-999", 999),
        Benchmark("men", "similarity", "MEN/MEN_dataset_natural_form_full", "MEN", 3000),
        Benchmark("rw", "similarity", "rw.txt", "Stanford Rare Words", 2034),
        Benchmark("mturk771", "similarity", "MTURK-771.csv", "MTurk-771", 771),
        Benchmark("rg65", "similarity", "EN-RG-65.txt", "RG-65", 65),
        Benchmark("google", "analogy", "questions-words.txt", "Google analogies", 19544),
        Benchmark(
            "google-phrases",
            "analogy",
            "questions-phrases.txt",
            "Google phrase analogies",
            3218,
        ),
        Benchmark("msr", "analogy", "msr.txt", "MSR analogies", 8000),
        Benchmark("bats", "analogy", "BATS_3.0", "BATS 3.0", 98000),
    ]
}


def bundled_path(benchmark: Benchmark) -> Path:
    return Path(str(resources.files("w2v") / "datasets" / "eval" / benchmark.path))


def load_benchmark(name_or_path: str | os.PathLike[str]) -> WordPairs | Analogies:
    """A bundled benchmark by name, or a user's file in one of the same formats.

    A folder is read as BATS (``word<TAB>answer1/answer2`` files, one per relation); a
    file whose first entry has four words (or a ``: section`` line) as analogies; any
    other file as word pairs with a score.
    """
    key = os.fspath(name_or_path)
    if key in BENCHMARKS:
        bench = BENCHMARKS[key]
        path = bundled_path(bench)
        if bench.kind == "similarity":
            return read_word_pairs(path, name=bench.name)
        if path.is_dir():
            return read_bats(path, name=bench.name)
        return read_analogies(path, name=bench.name)
    path = Path(key)
    if not path.exists():
        raise W2VError(
            f"unknown benchmark {key!r}: not a file, and not one of {', '.join(BENCHMARKS)}"
        )
    if path.is_dir():
        return read_bats(path)
    first = next(_data_lines(path), None)
    if first is None:
        raise W2VError(f"{path}: no pairs or questions in this file")
    _, line = first
    if line.startswith(":") or (len(line.split()) == 4 and not _numbers_in(line.split())):
        return read_analogies(path)
    return read_word_pairs(path)


# -- readers -------------------------------------------------------------------------------


def _open_text(path: Path) -> Iterator[str]:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8-sig") as fh:
                yield from fh
        else:
            with open(path, encoding="utf-8-sig") as fh:
                yield from fh
    except FileNotFoundError:
        raise W2VError(f"{path}: no such file") from None
    except (UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise W2VError(f"{path}: not a UTF-8 text file ({exc.__class__.__name__})") from None
    except OSError as exc:
        raise W2VError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _data_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, stripped line) of the lines that are not blank or ``#`` comments."""
    for number, raw in enumerate(_open_text(path), 1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, line


def _numbers_in(fields: Sequence[str]) -> list[float]:
    out = []
    for f in fields:
        try:
            out.append(float(f))
        except ValueError:
            continue
    return out


def _split_fields(line: str) -> list[str]:
    if "\t" in line:
        return [f.strip() for f in line.split("\t")]
    if "," in line:
        return [f.strip() for f in line.split(",")]
    return line.split()


def read_word_pairs(path: str | os.PathLike[str], name: str | None = None) -> WordPairs:
    """``word1 word2 score`` lines, split by tabs, commas or spaces.

    The score is the first number after the two words, so the original SimLex-999
    (``word1 word2 POS SimLex999 ...``) and Rare Words (mean, then each rating) files read
    as they are. A first line without a number is a header; ``#`` lines are comments.
    """
    path = Path(path)
    pairs: list[tuple[str, str, float]] = []
    for number, line in _data_lines(path):
        fields = _split_fields(line)
        score = None
        if len(fields) >= 3:
            for f in fields[2:]:
                try:
                    score = float(f)
                    break
                except ValueError:
                    continue
        if score is None or not math.isfinite(score) or not fields[0] or not fields[1]:
            if not pairs and score is None:
                continue  # a header line
            raise W2VError(f"{path}:{number}: expected 'word1 word2 score', got {line[:60]!r}")
        pairs.append((fields[0], fields[1], score))
    if not pairs:
        raise W2VError(f"{path}: no word pairs in this file")
    return WordPairs(name or path.stem, pairs)


def read_analogies(path: str | os.PathLike[str], name: str | None = None) -> Analogies:
    """The questions-words.txt format: ``: section`` lines, then ``a b c d`` per line.

    Questions before any section header (MSR's file has none) form one section named
    after the benchmark. Sections whose names start with ``gram`` are syntactic, the
    others semantic, as Google's file is laid out.
    """
    path = Path(path)
    name = name or path.stem
    sections: list[tuple[str, list[Question]]] = []
    current: list[Question] | None = None
    for number, line in _data_lines(path):
        if line.startswith(":"):
            current = []
            sections.append((line[1:].strip(), current))
            continue
        words = line.split()
        if len(words) != 4:
            raise W2VError(f"{path}:{number}: expected four words 'a b c d', got {line[:60]!r}")
        if current is None:
            current = []
            sections.append((name, current))
        a, b, c, d = words
        current.append(Question(a, (b,), c, (d,)))
    sections = [(title, qs) for title, qs in sections if qs]
    if not sections:
        raise W2VError(f"{path}: no analogy questions in this file")
    groups: list[tuple[str, list[str]]] = []
    titles = [title for title, _ in sections]
    syntactic = [t for t in titles if t.startswith("gram")]
    if syntactic and len(syntactic) < len(titles):
        groups = [
            ("semantic", [t for t in titles if not t.startswith("gram")]),
            ("syntactic", syntactic),
        ]
    return Analogies(name, sections, groups)


def read_bats(path: str | os.PathLike[str], name: str | None = None) -> Analogies:
    """BATS: one ``.txt`` file per relation of ``word<TAB>answer1/answer2/...`` lines.

    Every ordered pair of distinct entries (a, a') and (b, b') of a relation asks
    "a is to a' as b is to ?", right when the answer is any of b's; a' is a's first
    known answer. Relations are grouped by their folder (BATS's four kinds).
    """
    root = Path(path)
    files = sorted(p for p in root.rglob("*.txt") if p.is_file())
    if not files:
        raise W2VError(f"{root}: no BATS relation files (*.txt) in this folder")
    sections: list[tuple[str, list[Question]]] = []
    groups: dict[str, list[str]] = {}
    for file in files:
        entries: list[tuple[str, tuple[str, ...]]] = []
        for number, line in _data_lines(file):
            fields = line.split("\t") if "\t" in line else line.split(None, 1)
            answers = tuple(a.strip() for a in fields[-1].split("/") if a.strip())
            if len(fields) != 2 or not fields[0].strip() or not answers:
                raise W2VError(f"{file}:{number}: expected 'word<TAB>answer1/answer2/...'")
            entries.append((fields[0].strip(), answers))
        questions = [
            Question(a, a_answers, b, b_answers)
            for i, (a, a_answers) in enumerate(entries)
            for j, (b, b_answers) in enumerate(entries)
            if i != j
        ]
        title = file.stem
        sections.append((title, questions))
        group = file.parent.name if file.parent != root else root.name
        groups.setdefault(group, []).append(title)
    group_list = list(groups.items()) if len(groups) > 1 else []
    return Analogies(name or root.name, sections, group_list)
