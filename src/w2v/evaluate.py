"""The standard word-embedding benchmarks: word-pair similarity and analogies.

Two kinds of test, each with a reader and an evaluator:

* **Word-pair similarity** (WordSim-353, SimLex-999, MEN, ...): Spearman's rho between the
  human scores and the cosine similarities of the pairs whose words are both known.
* **Analogies** (Google, MSR, BATS): "a is to b as c is to ?", answered by 3CosAdd
  (gensim's ``most_similar(positive=[b, c], negative=[a])``) and 3CosMul (Levy & Goldberg's
  multiplicative objective, gensim's ``most_similar_cosmul``) within the ``restrict_vocab``
  most frequent words, the question words themselves excluded.

Both follow gensim's ``evaluate_word_pairs`` / ``evaluate_word_analogies``: words are
matched case-insensitively (the most frequent spelling wins), a pair or question with an
unknown word is skipped and counted as out of vocabulary, and the scores agree with
gensim's on the same vectors (a test holds them to it).

Every benchmark ships inside the package (``datasets/eval``, sources and licences in its
README), so evaluation works offline. A user's own file in one of the same formats is
accepted wherever a benchmark name is.
"""

from __future__ import annotations

import gzip
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .errors import W2VError
from .vectors import KeyedVectors

__all__ = [
    "BENCHMARKS",
    "Analogies",
    "AnalogyResult",
    "Question",
    "SimilarityResult",
    "WordPairs",
    "evaluate",
    "evaluate_analogies",
    "evaluate_word_pairs",
    "format_table",
    "headline_scores",
    "load_benchmark",
    "spearman",
]

DEFAULT_RESTRICT_VOCAB = 30_000  # word2vec's compute-accuracy and gensim's docs use 30k
METHODS = ("add", "mul")
METHOD_NAMES = {"add": "3CosAdd", "mul": "3CosMul"}
_COSMUL_EPSILON = 1e-6  # gensim's guard against a zero denominator
_SCORE_CELLS = 1 << 21  # questions x candidates scored at once: 8 MiB, fits in cache


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


# -- scores --------------------------------------------------------------------------------


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing the mean of their ranks (as scipy.stats.rankdata)."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    mean_rank = (starts + ends + 1) / 2.0  # ranks starts+1 .. ends, averaged
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def pearson(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float | None:
    """Pearson's r; None for fewer than two points or a constant series."""
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if len(xa) < 2:
        return None
    xc, yc = xa - xa.mean(), ya - ya.mean()
    denominator = math.sqrt(float(xc @ xc) * float(yc @ yc))
    if denominator == 0.0:
        return None
    return max(-1.0, min(1.0, float(xc @ yc) / denominator))


def spearman(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float | None:
    """Spearman's rho (Pearson's r of the tie-averaged ranks), as scipy computes it."""
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if len(xa) != len(ya):
        raise ValueError("spearman needs two series of the same length")
    if len(xa) < 2:
        return None
    return pearson(_average_ranks(xa), _average_ranks(ya))


# -- evaluation ----------------------------------------------------------------------------


@dataclass
class SimilarityResult:
    benchmark: str
    spearman: float | None
    pearson: float | None
    covered: int  # pairs with both words known
    total: int

    kind = "similarity"

    @property
    def oov(self) -> int:
        return self.total - self.covered

    @property
    def score(self) -> float | None:
        return self.spearman

    def to_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "kind": self.kind,
            "spearman": self.spearman,
            "pearson": self.pearson,
            "covered": self.covered,
            "oov": self.oov,
            "total": self.total,
        }


@dataclass
class SectionScore:
    name: str
    covered: int
    total: int
    correct: dict[str, int]  # method -> right answers among the covered questions

    def accuracy(self, method: str = "add") -> float | None:
        if method not in self.correct or self.covered == 0:
            return None
        return self.correct[method] / self.covered

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "covered": self.covered, "total": self.total}
        for method, right in self.correct.items():
            out[METHOD_NAMES[method]] = {"correct": right, "accuracy": self.accuracy(method)}
        return out


@dataclass
class AnalogyResult:
    benchmark: str
    restrict_vocab: int
    methods: tuple[str, ...]
    sections: list[SectionScore]
    groups: list[SectionScore]
    total: SectionScore

    kind = "analogy"

    @property
    def score(self) -> float | None:
        return self.total.accuracy(self.methods[0])

    def to_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "kind": self.kind,
            "restrict_vocab": self.restrict_vocab,
            "total": self.total.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
            "sections": [s.to_dict() for s in self.sections],
        }


Result = SimilarityResult | AnalogyResult


def _known_words(kv: KeyedVectors, limit: int | None, case_insensitive: bool) -> dict[str, int]:
    """Word -> row among the first ``limit`` rows; folded to upper case, the most
    frequent spelling wins (gensim's rule)."""
    end = min(limit, len(kv)) if limit else len(kv)
    words = kv.index_to_key[:end]
    if not case_insensitive:
        return {w: i for i, w in enumerate(words)}
    known: dict[str, int] = {}
    for i in range(end - 1, -1, -1):
        known[words[i].upper()] = i
    return known


def evaluate_word_pairs(
    kv: KeyedVectors,
    pairs: WordPairs | str | os.PathLike[str],
    *,
    restrict_vocab: int | None = None,
    case_insensitive: bool = True,
) -> SimilarityResult:
    """Spearman's rho (and Pearson's r) of the model's cosines against the human scores.

    Pairs with a word outside the first ``restrict_vocab`` words (default: all) are
    skipped and counted as out of vocabulary.
    """
    if not isinstance(pairs, WordPairs):
        loaded = load_benchmark(pairs)
        if not isinstance(loaded, WordPairs):
            raise W2VError(f"{pairs}: not a word-pair similarity file")
        pairs = loaded
    known = _known_words(kv, restrict_vocab, case_insensitive)
    fold = str.upper if case_insensitive else (lambda w: w)
    rows_a, rows_b, gold = [], [], []
    for a, b, score in pairs.pairs:
        ia, ib = known.get(fold(a)), known.get(fold(b))
        if ia is None or ib is None:
            continue
        rows_a.append(ia)
        rows_b.append(ib)
        gold.append(score)
    normed = kv.get_normed_vectors()
    model = np.einsum("ij,ij->i", normed[rows_a], normed[rows_b]) if gold else np.zeros(0)
    return SimilarityResult(
        pairs.name,
        spearman(gold, model),
        pearson(gold, model),
        covered=len(gold),
        total=len(pairs.pairs),
    )


def evaluate_analogies(
    kv: KeyedVectors,
    analogies: Analogies | str | os.PathLike[str],
    *,
    restrict_vocab: int | None = DEFAULT_RESTRICT_VOCAB,
    methods: Sequence[str] = METHODS,
    case_insensitive: bool = True,
) -> AnalogyResult:
    """Accuracy of 3CosAdd and/or 3CosMul, per section, group and in total.

    Only the first ``restrict_vocab`` words (None or 0: all) are candidates, and a
    question with a word outside them is skipped (out of vocabulary). The question's
    a, b and c are never the answer. Ties go to the more frequent word.
    """
    if not isinstance(analogies, Analogies):
        loaded = load_benchmark(analogies)
        if not isinstance(loaded, Analogies):
            raise W2VError(f"{analogies}: not an analogy file")
        analogies = loaded
    methods = tuple(methods)
    if not methods or any(m not in METHODS for m in methods):
        raise W2VError(f"analogy methods are {', '.join(METHODS)}; got {', '.join(methods)}")
    end = min(restrict_vocab, len(kv)) if restrict_vocab else len(kv)
    known = _known_words(kv, end, case_insensitive)
    fold = str.upper if case_insensitive else (lambda w: w)

    # Each covered question as rows (a, b, c) and its acceptable answers (padded with -1).
    abc: list[tuple[int, int, int]] = []
    answers: list[list[int]] = []
    section_of: list[int] = []
    totals: list[int] = []
    for s, (_, questions) in enumerate(analogies.sections):
        totals.append(len(questions))
        for q in questions:
            ia, ic = known.get(fold(q.a)), known.get(fold(q.c))
            ib = next((known[fold(w)] for w in q.b if fold(w) in known), None)
            good = [known[fold(w)] for w in q.d if fold(w) in known]
            if ia is None or ib is None or ic is None or not good:
                continue
            abc.append((ia, ib, ic))
            answers.append(good)
            section_of.append(s)

    n_sections = len(analogies.sections)
    section_of_arr = np.asarray(section_of, dtype=np.int64)
    covered = np.bincount(section_of_arr, minlength=n_sections)
    correct: dict[str, np.ndarray] = {}
    if abc:
        right = _answer(kv, end, np.asarray(abc, dtype=np.int64), answers, methods)
        for method, ok in right.items():
            hits = np.bincount(section_of_arr, weights=ok, minlength=n_sections)
            correct[method] = hits.round().astype(np.int64)
    else:
        correct = {m: np.zeros(n_sections, dtype=np.int64) for m in methods}

    sections = [
        SectionScore(
            title,
            int(covered[s]),
            totals[s],
            {m: int(correct[m][s]) for m in methods},
        )
        for s, (title, _) in enumerate(analogies.sections)
    ]
    by_name = {s.name: s for s in sections}
    groups = [_combine(title, [by_name[n] for n in names]) for title, names in analogies.groups]
    return AnalogyResult(
        analogies.name,
        end,
        methods,
        sections,
        groups,
        _combine("total", sections),
    )


def _combine(name: str, parts: Iterable[SectionScore]) -> SectionScore:
    parts = list(parts)
    methods = parts[0].correct.keys() if parts else []
    return SectionScore(
        name,
        sum(p.covered for p in parts),
        sum(p.total for p in parts),
        {m: sum(p.correct[m] for p in parts) for m in methods},
    )


def _answer(
    kv: KeyedVectors,
    end: int,
    abc: np.ndarray,
    answers: list[list[int]],
    methods: Sequence[str],
) -> dict[str, np.ndarray]:
    """Whether each question's best candidate is one of its answers, per method.

    Scores are computed as gensim does: the raw vectors of the candidates dotted with a
    unit query, divided by the candidates' norms. For 3CosMul the three cosines of each
    question are scored separately, then combined as ``cos_b * cos_c / (cos_a + eps)``
    on the shifted scale (1 + cos) / 2.
    """
    vectors = torch.from_numpy(np.ascontiguousarray(kv.vectors[:end]))
    norms = vectors.norm(dim=1)
    safe_norms = torch.where(norms > 0, norms, torch.ones_like(norms))
    unit = vectors / safe_norms[:, None]
    width = max(len(a) for a in answers)
    padded = torch.full((len(answers), width), -1, dtype=torch.int64)
    for i, good in enumerate(answers):
        padded[i, : len(good)] = torch.tensor(good)
    abc_t = torch.from_numpy(abc)
    out = {m: np.zeros(len(abc), dtype=np.float64) for m in methods}
    step = max(1, _SCORE_CELLS // max(end, 1))
    for start in range(0, len(abc), step):
        rows = abc_t[start : start + step]
        good = padded[start : start + step]
        for method in methods:
            if method == "add":
                a, b, c = (unit[rows[:, i]].double() for i in range(3))
                query = b + c - a
                query = query / query.norm(dim=1, keepdim=True).clamp_min(1e-30)
                scores = (query.float() @ vectors.T) / safe_norms
            else:
                # A word's shifted cosines do not depend on the question: score each
                # distinct word of the chunk once, then combine rows.
                words, where = torch.unique(rows, return_inverse=True)
                shifted = (unit[words] @ vectors.T).div_(safe_norms).add_(1).div_(2)
                scores = shifted.index_select(0, where[:, 1])
                scores.mul_(shifted.index_select(0, where[:, 2]))
                scores.div_(shifted.index_select(0, where[:, 0]).add_(_COSMUL_EPSILON))
            scores.scatter_(1, rows, float("-inf"))
            best = scores.argmax(dim=1)
            hit = (good == best[:, None]).any(dim=1)
            out[method][start : start + len(rows)] = hit.numpy()
    return out


def evaluate(
    kv: KeyedVectors,
    benchmarks: Sequence[str | os.PathLike[str] | WordPairs | Analogies] | None = None,
    *,
    restrict_vocab: int | None = DEFAULT_RESTRICT_VOCAB,
    methods: Sequence[str] = METHODS,
    case_insensitive: bool = True,
) -> list[Result]:
    """Evaluate on benchmarks given by name, file or as loaded data (default: every
    bundled benchmark).

    ``restrict_vocab`` applies to analogies; similarity pairs use the whole vocabulary.
    """
    results: list[Result] = []
    for item in benchmarks if benchmarks is not None else list(BENCHMARKS):
        data = item if isinstance(item, (WordPairs, Analogies)) else load_benchmark(item)
        if isinstance(data, WordPairs):
            results.append(evaluate_word_pairs(kv, data, case_insensitive=case_insensitive))
        else:
            results.append(
                evaluate_analogies(
                    kv,
                    data,
                    restrict_vocab=restrict_vocab,
                    methods=methods,
                    case_insensitive=case_insensitive,
                )
            )
    return results


def headline_scores(results: Iterable[Result]) -> dict[str, dict[str, Any]]:
    """One number per benchmark: Spearman's rho, or total accuracy of the first method."""
    out: dict[str, dict[str, Any]] = {}
    for r in results:
        covered = r.covered if isinstance(r, SimilarityResult) else r.total.covered
        total = r.total if isinstance(r, SimilarityResult) else r.total.total
        out[r.benchmark] = {"kind": r.kind, "score": r.score, "covered": covered, "total": total}
    return out


# -- reporting -----------------------------------------------------------------------------


def _fmt_rho(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _fmt_acc(score: SectionScore, method: str) -> str:
    acc = score.accuracy(method)
    return "-" if acc is None else f"{100 * acc:.2f}%"


def format_table(results: Sequence[Result], *, sections: bool = True) -> str:
    """One plain-text table: Spearman's rho of each similarity benchmark, then the
    accuracy of each analogy benchmark per section, group and in total, with coverage."""
    methods: list[str] = []
    for r in results:
        if isinstance(r, AnalogyResult):
            methods += [m for m in r.methods if m not in methods]
    rows: list[tuple[str, list[str], str]] = []  # label, score cells, covered
    for r in results:
        if isinstance(r, SimilarityResult):
            cells = [_fmt_rho(r.spearman)] + [""] * max(0, len(methods) - 1)
            rows.append((r.benchmark, cells, f"{r.covered}/{r.total}"))
            continue
        parts: list[tuple[str, SectionScore]] = []
        if sections and len(r.sections) > 1:
            parts += [(f"  {s.name}", s) for s in r.sections]
        parts += [(f"  {g.name}", g) for g in r.groups]
        if parts:
            rows.append((f"{r.benchmark} (top {r.restrict_vocab:,} words)", [], ""))
            parts.append(("  total", r.total))
        else:
            parts.append((f"{r.benchmark} (top {r.restrict_vocab:,} words)", r.total))
        for label, score in parts:
            cells = [_fmt_acc(score, m) if m in r.methods else "-" for m in methods]
            rows.append((label, cells, f"{score.covered}/{score.total}"))
    first = "rho / " + METHOD_NAMES[methods[0]] if methods else "rho"
    headers = [first] + [METHOD_NAMES[m] for m in methods[1:]]
    width = max(len("benchmark"), *(len(label) for label, _, _ in rows))
    widths = [max(len(h), 8) for h in headers]
    cover = max(len("covered"), *(len(c) for _, _, c in rows))

    def line(label: str, cells: list[str], covered: str) -> str:
        text = f"{label:<{width}}"
        for cell, w in zip(cells or [""] * len(widths), widths, strict=True):
            text += f"  {cell:>{w}}"
        return (text + f"  {covered:>{cover}}").rstrip()

    out = [line("benchmark", headers, "covered")]
    out.append(line("-" * width, ["-" * w for w in widths], "-" * cover))
    out += [line(label, cells, covered) for label, cells, covered in rows]
    return "\n".join(out)


def to_json(results: Sequence[Result]) -> list[dict[str, Any]]:
    return [r.to_dict() for r in results]
