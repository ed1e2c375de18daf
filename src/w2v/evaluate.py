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

The benchmarks and their readers are in benchmarks.py (its names are re-exported here, so
``from w2v.evaluate import evaluate, load_benchmark`` works). Only numpy is needed: a query
command never imports torch.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .benchmarks import (
    BENCHMARKS,
    DEFAULT_RESTRICT_VOCAB,
    Analogies,
    Question,
    WordPairs,
    bundled_path,
    load_benchmark,
)
from .errors import W2VError, option
from .stats import pearson, spearman

__all__ = [
    "BENCHMARKS",
    "COSMUL_EPSILON",
    "DEFAULT_RESTRICT_VOCAB",
    "Analogies",
    "AnalogyHits",
    "AnalogyResult",
    "Question",
    "SimilarityResult",
    "WordPairs",
    "analogy_hits",
    "bundled_path",
    "evaluate",
    "evaluate_analogies",
    "evaluate_word_pairs",
    "format_table",
    "headline_scores",
    "load_benchmark",
    "spearman",
]

COSMUL_EPSILON = 1e-6  # gensim's guard against dividing by a zero product (3CosMul)
METHODS = ("add", "mul")
# What evaluate does with a benchmark word that is not in the vocabulary: leave its pairs and
# questions out, or (vectors with subwords) compute its vector from its n-grams.
OOV_MODES = ("skip", "subwords")
METHOD_NAMES = {"add": "3CosAdd", "mul": "3CosMul"}
_SCORE_CELLS = 1 << 21  # questions x candidates scored at once: 8 MiB, fits in cache


class Vectors(Protocol):
    """What scoring reads of vectors: w2v's KeyedVectors, or anything shaped like them."""

    index_to_key: list[str]
    vectors: np.ndarray

    def __len__(self) -> int: ...

    def get_normed_vectors(self) -> np.ndarray: ...


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


def _known_words(kv: Vectors, limit: int | None, case_insensitive: bool) -> dict[str, int]:
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
    kv: Vectors,
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


@dataclass
class AnalogyHits:
    """Which questions were right, per section: (question as (a, b, c, d), right), for the
    covered questions only (gensim's ``evaluate_word_analogies`` shape is built from it)."""

    sections: list[tuple[str, list[tuple[tuple[str, str, str, str], bool]]]]


@dataclass
class _Asked:
    """The covered questions of a benchmark, as rows of the candidate vectors."""

    abc: np.ndarray  # (Q, 3) rows of a, b, c
    answers: list[list[int]]  # acceptable answers' rows
    section_of: np.ndarray  # (Q,) section index
    questions: list[Question]
    totals: list[int]  # questions per section, covered or not


def _ask(kv: Vectors, analogies: Analogies, end: int, case_insensitive: bool) -> _Asked:
    known = _known_words(kv, end, case_insensitive)
    fold = str.upper if case_insensitive else (lambda w: w)
    abc: list[tuple[int, int, int]] = []
    answers: list[list[int]] = []
    section_of: list[int] = []
    asked: list[Question] = []
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
            asked.append(q)
    return _Asked(
        np.asarray(abc, dtype=np.int64).reshape(-1, 3),
        answers,
        np.asarray(section_of, dtype=np.int64),
        asked,
        totals,
    )


def _as_analogies(analogies: Analogies | str | os.PathLike[str]) -> Analogies:
    if isinstance(analogies, Analogies):
        return analogies
    loaded = load_benchmark(analogies)
    if not isinstance(loaded, Analogies):
        raise W2VError(f"{analogies}: not an analogy file")
    return loaded


def _search_end(kv: Vectors, restrict_vocab: int | None) -> int:
    return min(restrict_vocab, len(kv)) if restrict_vocab else len(kv)


def evaluate_analogies(
    kv: Vectors,
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
    analogies = _as_analogies(analogies)
    methods = tuple(methods)
    if not methods or any(m not in METHODS for m in methods):
        raise W2VError(f"analogy methods are {', '.join(METHODS)}; got {', '.join(methods)}")
    end = _search_end(kv, restrict_vocab)
    asked = _ask(kv, analogies, end, case_insensitive)
    n_sections = len(analogies.sections)
    covered = np.bincount(asked.section_of, minlength=n_sections)
    correct: dict[str, np.ndarray] = {}
    if len(asked.abc):
        right = _answer(kv, end, asked.abc, asked.answers, methods)
        for method, ok in right.items():
            hits = np.bincount(asked.section_of, weights=ok, minlength=n_sections)
            correct[method] = hits.round().astype(np.int64)
    else:
        correct = {m: np.zeros(n_sections, dtype=np.int64) for m in methods}

    sections = [
        SectionScore(
            title,
            int(covered[s]),
            asked.totals[s],
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


def analogy_hits(
    kv: Vectors,
    analogies: Analogies | str | os.PathLike[str],
    *,
    restrict_vocab: int | None = DEFAULT_RESTRICT_VOCAB,
    method: str = "add",
    case_insensitive: bool = True,
) -> AnalogyHits:
    """Each covered question and whether ``method`` answered it right, per section."""
    analogies = _as_analogies(analogies)
    end = _search_end(kv, restrict_vocab)
    asked = _ask(kv, analogies, end, case_insensitive)
    right = (
        _answer(kv, end, asked.abc, asked.answers, (method,))[method]
        if len(asked.abc)
        else np.zeros(0)
    )
    per_section: list[list[tuple[tuple[str, str, str, str], bool]]] = [
        [] for _ in analogies.sections
    ]
    for q, s, ok in zip(asked.questions, asked.section_of.tolist(), right.tolist(), strict=True):
        per_section[s].append(((q.a, q.b[0], q.c, q.d[0]), bool(ok)))
    titles = [title for title, _ in analogies.sections]
    return AnalogyHits(list(zip(titles, per_section, strict=True)))


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
    kv: Vectors,
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
    vectors = np.ascontiguousarray(kv.vectors[:end], dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1)
    safe_norms = np.where(norms > 0, norms, np.float32(1)).astype(np.float32)
    unit = vectors / safe_norms[:, None]
    width = max(len(a) for a in answers)
    padded = np.full((len(answers), width), -1, dtype=np.int64)
    for i, good in enumerate(answers):
        padded[i, : len(good)] = good
    out = {m: np.zeros(len(abc), dtype=np.float64) for m in methods}
    step = max(1, _SCORE_CELLS // max(end, 1))
    for start in range(0, len(abc), step):
        rows = abc[start : start + step]
        good = padded[start : start + step]
        for method in methods:
            if method == "add":
                a, b, c = (unit[rows[:, i]].astype(np.float64) for i in range(3))
                query = b + c - a
                query /= np.maximum(np.linalg.norm(query, axis=1, keepdims=True), 1e-30)
                scores = (query.astype(np.float32) @ vectors.T) / safe_norms
            else:
                # A word's shifted cosines do not depend on the question: score each
                # distinct word of the chunk once, then combine rows.
                words, where = np.unique(rows, return_inverse=True)
                where = where.reshape(rows.shape)
                shifted = (unit[words] @ vectors.T) / safe_norms
                shifted += 1
                shifted /= 2
                scores = shifted[where[:, 1]] * shifted[where[:, 2]]
                scores /= shifted[where[:, 0]] + np.float32(COSMUL_EPSILON)
            np.put_along_axis(scores, rows, -np.inf, axis=1)
            best = scores.argmax(axis=1)
            out[method][start : start + len(rows)] = (good == best[:, None]).any(axis=1)
    return out


def benchmark_words(data: WordPairs | Analogies) -> list[str]:
    """Every word a benchmark asks about, once, in order of appearance."""
    if isinstance(data, WordPairs):
        words = [w for a, b, _ in data.pairs for w in (a, b)]
    else:
        words = [
            w for _, questions in data.sections for q in questions for w in (q.a, *q.b, q.c, *q.d)
        ]
    return list(dict.fromkeys(words))


def evaluate(
    kv: Vectors,
    benchmarks: Sequence[str | os.PathLike[str] | WordPairs | Analogies] | None = None,
    *,
    restrict_vocab: int | None = DEFAULT_RESTRICT_VOCAB,
    methods: Sequence[str] = METHODS,
    case_insensitive: bool = True,
    oov: str = "skip",
) -> list[Result]:
    """Evaluate on benchmarks given by name, file or as loaded data (default: every
    bundled benchmark).

    ``restrict_vocab`` applies to analogies; similarity pairs use the whole vocabulary.
    ``oov="subwords"`` (vectors with subwords: a ``--subwords`` run or a fastText model)
    gives every benchmark word that is not in the vocabulary its vector from its n-grams,
    as fastText's own evaluation does, so that every pair is scored; it comes after the
    vocabulary, so analogies restricted to the most frequent words are unchanged. The
    default, ``"skip"``, leaves such pairs and questions out (and counts them).
    """
    if oov not in OOV_MODES:
        raise W2VError(f"{option('oov')} must be one of {', '.join(OOV_MODES)}, not {oov!r}")
    with_words = getattr(kv, "with_words", None)
    if oov == "subwords" and with_words is None:
        subword_run = option("subwords", True)
        raise W2VError(
            f"{option('oov', 'subwords')} needs vectors with subwords (a {subword_run} run "
            "or a fastText .bin); these vectors know their vocabulary only"
        )
    results: list[Result] = []
    for item in benchmarks if benchmarks is not None else list(BENCHMARKS):
        data = item if isinstance(item, (WordPairs, Analogies)) else load_benchmark(item)
        if oov == "subwords":
            fold = str.lower if case_insensitive else str
            kv = with_words(fold(word) for word in benchmark_words(data))
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
