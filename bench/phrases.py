"""Phrases: w2v against gensim's Phrases / FrozenPhrases, one sitting, tools taking turns.

    python bench/phrases.py --repeat 2                       # speed and memory, both corpora
    python bench/phrases.py --quality                        # what phrases do to the vectors

Speed. Both tools read the same sentences: the corpus tokenized once, before timing, into a
file of one sentence a line (text8-style lines of 10,000 words; the raw Wikipedia text by
w2v's default tokenizer with markup stripped, one paragraph a line), which w2v reads with
``--tokenizer whitespace``. Each tool runs in its own process, so each has its own peak
memory, and with --repeat the tools take turns. Settings: gensim's defaults, one pass (min
count 5, threshold 10, default score, no connectors).

* counting: gensim ``Phrases(sentences)`` on token lists already in memory; w2v
  ``find_phrases`` on the scanned corpus (int32 ids, cached), numba's kernels loaded before
  the clock starts. "From the file" adds reading: gensim reading and splitting the lines,
  w2v scanning them into its id cache.
* applying: gensim ``list(frozen[sentences])``; w2v the same call on its ``Phrases`` (token
  lists in, token lists out), and the training path, ``join_scanned`` (ids in, a cached
  corpus of ids out, as ``w2v train --phrases`` does). Beside them, one dictionary lookup
  per token and nothing else: the least that any joiner of Python token lists does.

Quality (--quality): ``w2v train`` on the raw Wikipedia text, skip-gram, defaults, 5
epochs, without phrases, with ``--phrases auto`` and with a table of gensim's defaults
(``w2v phrases``, threshold 10); then Google's phrase analogies (coverage and accuracy), the
single-word Google analogies, WS-353 and SimLex-999.
Writes markdown tables to bench/results/. Needs gensim (the test extra).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from common import cores, peak_rss_mb, report, run_child, write_corpus

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("W2V_SHARED_DATA", REPO.parent / "shared" / "data"))
CORPORA = {
    "text8style": DATA / "enwiki2015_text8style.gz",
    "wiki": DATA / "enwiki2015_wikiextractor_AA00-96.txt.gz",
}
TOOLS = ("gensim", "w2v")


def read_sentences(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8") as f:
        return [line.split() for line in f]


# -- children ----------------------------------------------------------------------------------


def child_write(name: str, out: Path) -> dict:
    if name == "text8style":
        return {"words": write_corpus(CORPORA[name], None, out)}
    from w2v.corpus import iter_sentences
    from w2v.tokenize import Tokenizer

    words = 0
    with open(out, "w", encoding="utf-8") as f:
        for sentence in iter_sentences(CORPORA[name], Tokenizer("words", True, True)):
            f.write(" ".join(sentence) + "\n")
            words += len(sentence)
    return {"words": words}


def child_gensim(corpus: Path) -> dict:
    import gensim
    from gensim.models.phrases import Phrases

    t = time.perf_counter()
    sentences = read_sentences(corpus)
    read_s = time.perf_counter() - t
    t = time.perf_counter()
    model = Phrases(sentences)
    count_s = time.perf_counter() - t
    count_peak = peak_rss_mb()
    frozen = model.freeze()
    t = time.perf_counter()
    joined = list(frozen[sentences])
    apply_s = time.perf_counter() - t
    return {
        "name": f"gensim {gensim.__version__}",
        "read_s": read_s,
        "count_s": count_s,
        "count_peak_mb": count_peak,
        "apply_s": apply_s,
        "phrases": len(frozen.phrasegrams),
        "joined_tokens": sum(map(len, joined)),
    }


def child_w2v(corpus: Path, cache: Path) -> dict:
    import w2v
    from w2v.corpus import scan_corpus, scan_sentences
    from w2v.phrase_table import PhraseConfig
    from w2v.phrases import Phrases, find_phrases, join_scanned
    from w2v.tokenize import Tokenizer

    t = time.perf_counter()  # numba's kernels, loaded (or compiled once) before the clocks
    with tempfile.TemporaryDirectory() as tmp:
        warm = scan_sentences([["a", "b", "a", "b"]] * 3, tmp)
        table, _ = find_phrases(warm, PhraseConfig(min_count=1, threshold=0.01, passes=2))
        list(Phrases(table=table)[[["a", "b"]]])
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    scanned = scan_corpus(corpus, Tokenizer("whitespace", lowercase=False), cache_dir=cache)
    read_s = time.perf_counter() - t
    t = time.perf_counter()
    table, _ = find_phrases(scanned, PhraseConfig(passes=1), cache)
    count_s = time.perf_counter() - t
    count_peak = peak_rss_mb()
    t = time.perf_counter()
    joined, _ = join_scanned(scanned, table, "bench")
    join_s = time.perf_counter() - t
    sentences = read_sentences(corpus)
    phrases = Phrases(table=table)
    t = time.perf_counter()
    out = list(phrases[sentences])
    apply_s = time.perf_counter() - t
    # The least any joiner of Python token lists does: look each token up once (in C).
    index = {w: i for i, w in enumerate({w for r in table.rows for w in r.words})}
    t = time.perf_counter()
    list(map(index.get, itertools.chain.from_iterable(sentences), itertools.repeat(-1)))
    lookup_s = time.perf_counter() - t
    return {
        "name": f"w2v {w2v.__version__}",
        "load_s": load_s,
        "read_s": read_s,
        "count_s": count_s,
        "count_peak_mb": count_peak,
        "join_s": join_s,
        "apply_s": apply_s,
        "lookup_s": lookup_s,
        "phrases": len(table),
        "joined_tokens": sum(map(len, out)),
        "joined_ids": joined.n_tokens,
    }


# The runs of --quality: what each passes to `w2v train`, and how the table says it.
VARIANTS = {
    "none": ("none", []),
    "auto": ("--phrases auto (threshold 50)", ["--phrases", "auto"]),
    "gensim": ("gensim's defaults (w2v phrases, threshold 10)", ["--phrases", "{table}"]),
}


def scores_of(kv: object) -> dict:
    """Google's phrase and word analogies (within the 30,000 most frequent tokens, and
    within all), WS-353, SimLex-999."""
    from w2v.evaluate import AnalogyResult, evaluate

    scores = {}
    names = ["google-phrases", "google", "ws353", "simlex999"]
    for restrict in (30_000, 0):
        for r in evaluate(kv, names, restrict_vocab=restrict, methods=("add",)):
            key = f"{r.benchmark}@{restrict}"
            if isinstance(r, AnalogyResult):
                scores[key] = {
                    "acc": r.total.accuracy("add"),
                    "covered": r.total.covered,
                    "total": r.total.total,
                    "sections": {s.name: [s.accuracy("add"), s.covered] for s in r.sections},
                }
            else:
                scores[key] = {"rho": r.spearman, "covered": r.covered, "total": r.total}
    return scores


def child_train(corpus: Path, out: Path, cache: Path, variant: str) -> dict:
    from w2v.evaluate import evaluate
    from w2v.vectors import KeyedVectors, load_vectors

    w2v_cmd = [sys.executable, "-m", "w2v"]
    table = out.parent / f"{variant}.tsv"
    if variant == "gensim":
        subprocess.run([*w2v_cmd, "phrases", str(corpus), "-o", str(table), "--cache-dir",
                        str(cache)], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    cmd = [*w2v_cmd, "train", str(corpus), "-o", str(out), "-q", "--cache-dir", str(cache)]
    cmd += [a.format(table=table) for a in VARIANTS[variant][1]]
    subprocess.run(cmd, check=True)
    config = json.loads((out / "config.json").read_text())
    history = json.loads((out / "history.json").read_text())
    kv = load_vectors(str(out))
    # Words only: the phrase tokens taken out before the 30,000 most frequent are cut, so
    # that both runs answer from words (and nearly the same questions are covered).
    words = [w for w in kv.index_to_key if "_" not in w]
    rows = [kv.key_to_index[w] for w in words]
    only_words = KeyedVectors(words, kv.vectors[rows], kv.counts[rows])
    (google_words,) = evaluate(only_words, ["google"], methods=("add",))
    scores = scores_of(kv)
    scores["google-words@30000"] = {
        "acc": google_words.total.accuracy("add"),
        "covered": google_words.total.covered,
        "total": google_words.total.total,
    }
    return {
        "variant": variant,
        "train_s": sum(history["epoch_seconds"]),
        "stats": config["stats"],
        "vocab": len(kv),
        "scores": scores,
    }


def child(args: argparse.Namespace) -> None:
    path = Path(args.child_path)
    if args.child == "write":
        out = child_write(args.child_corpus, path)
    elif args.child == "gensim":
        out = child_gensim(path)
    elif args.child == "w2v":
        out = child_w2v(path, Path(args.child_cache))
    else:  # train-VARIANT
        variant = args.child.removeprefix("train-")
        out = child_train(path, Path(args.child_out), Path(args.child_cache), variant)
    out["peak_mb"] = peak_rss_mb()
    report(out)


def run(kind: str, path: Path, **extra: str) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--child-path", str(path)]
    for key, value in extra.items():
        cmd += [f"--child-{key}", value]
    return run_child(cmd, f"{kind} {path.name}")


# -- the sitting -------------------------------------------------------------------------------


def speed(name: str, repeat: int, tmp: Path) -> list[str]:
    corpus = tmp / f"{name}.txt"
    words = run("write", corpus, corpus=name)["words"]
    rows = []
    for round_ in range(1, repeat + 1):
        for tool in TOOLS:
            cache = tmp / f"cache-{name}-{tool}-{round_}"
            r = run(tool, corpus, cache=str(cache))
            r["round"] = round_
            rows.append(r)
            print(f"{name} round {round_}: {tool}: count {words / r['count_s']:,.0f} words/s",
                  file=sys.stderr)  # fmt: skip
    lines = [
        f"### {CORPORA[name].name}: {words:,} words",
        "",
        "| round | tool | phrases | count words/s | from the file words/s | peak MB (count) "
        "| apply words/s (token lists) | apply words/s (ids, cached for training) "
        "| peak MB (all) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        join = f"{words / r['join_s']:,.0f}" if "join_s" in r else "-"
        lines.append(
            f"| {r['round']} | {r['name']} | {r['phrases']:,} | {words / r['count_s']:,.0f} | "
            f"{words / (r['read_s'] + r['count_s']):,.0f} | {r['count_peak_mb']:,.0f} | "
            f"{words / r['apply_s']:,.0f} | {join} | {r['peak_mb']:,.0f} |"
        )
    lines += ["", "w2v / gensim, each round:", ""]
    for round_ in range(1, repeat + 1):
        g, w = (next(r for r in rows if r["round"] == round_ and r["name"].startswith(t))
                for t in TOOLS)  # fmt: skip
        lines.append(
            f"- round {round_}: counting {g['count_s'] / w['count_s']:.1f}x, from the file "
            f"{(g['read_s'] + g['count_s']) / (w['read_s'] + w['count_s']):.1f}x, applying to "
            f"token lists {g['apply_s'] / w['apply_s']:.1f}x, applying to ids "
            f"{g['apply_s'] / w['join_s']:.1f}x; peak memory while counting "
            f"{w['count_peak_mb'] / g['count_peak_mb']:.2f}x gensim's; tokens after joining "
            f"{w['joined_tokens']:,} (w2v) and {g['joined_tokens']:,} (gensim)"
        )
    lookup = [words / r["lookup_s"] for r in rows if "lookup_s" in r]
    lines += ["", f"One dictionary lookup per token and nothing else, `list(map(index.get, "
              f"tokens, ...))`, the least any joiner of Python token lists does: "
              f"{min(lookup):,.0f}-{max(lookup):,.0f} words/s."]  # fmt: skip
    load = [r["load_s"] for r in rows if "load_s" in r]
    lines += ["", f"w2v loaded its numba kernels in {min(load):.1f}-{max(load):.1f}s, "
              "before the clocks started.", ""]  # fmt: skip
    return lines


def _accuracy(cell: dict) -> str:
    """'37.2 (1,234/3,218; 14.3 of all)': accuracy among the questions covered."""
    acc, covered, total = cell["acc"], cell["covered"], cell["total"]
    if acc is None:
        return f"- (0/{total:,})"
    return f"{100 * acc:.1f} ({covered:,}/{total:,}; {100 * acc * covered / total:.1f} of all)"


def quality(tmp: Path, repeat: int) -> list[str]:
    corpus = CORPORA["wiki"]
    cache = tmp / "cache-train"
    rows = []
    for round_ in range(1, repeat + 1):  # the variants take turns
        for v in VARIANTS:
            out = str(tmp / f"run-{v}-{round_}")
            rows.append(run(f"train-{v}", corpus, out=out, cache=str(cache)))
            rows[-1]["round"] = round_
            print(f"round {round_}: {v} trained", file=sys.stderr)
    lines = [
        f"### {corpus.name}: skip-gram, defaults, 5 epochs",
        "",
        "Analogy accuracy % among the questions covered (covered / all; right answers as % "
        "of all). Top 30k: asked and answered within the 30,000 most frequent tokens, phrase "
        "tokens among them (the standard evaluation); words only: phrase tokens taken out "
        "first.",
        "",
        "| round | phrases | tokens | vocabulary | train s | google-phrases, top 30k "
        "| google-phrases, all tokens | Google, top 30k | Google, words only (top 30k) "
        "| WS-353 | SimLex-999 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s = r["scores"]
        lines.append(
            f"| {r['round']} | {VARIANTS[r['variant']][0]} | {r['stats']['tokens']:,} | "
            f"{r['vocab']:,} | "
            f"{r['train_s']:.0f} | {_accuracy(s['google-phrases@30000'])} | "
            f"{_accuracy(s['google-phrases@0'])} | {_accuracy(s['google@30000'])} | "
            f"{_accuracy(s['google-words@30000'])} | "
            f"{s['ws353@30000']['rho']:.3f} | {s['simlex999@30000']['rho']:.3f} |"
        )
    lines += ["", "google-phrases by section, round 1 (all tokens; accuracy %, covered):", ""]
    sections = list(rows[0]["scores"]["google-phrases@0"]["sections"])
    lines += ["| phrases | " + " | ".join(sections) + " |", "|---" * (len(sections) + 1) + "|"]
    for r in rows[: len(VARIANTS)]:  # the first round
        cells = []
        for name in sections:
            a, covered = r["scores"]["google-phrases@0"]["sections"][name]
            cells.append(f"{'-' if a is None else f'{100 * a:.1f}'} ({covered})")
        lines.append(f"| {VARIANTS[r['variant']][0]} | " + " | ".join(cells) + " |")
    lines += ["", "What `w2v train` said:", ""]
    lines += [f"- {r['stats']['phrases']}" for r in rows[: len(VARIANTS)] if r["stats"]["phrases"]]
    return [*lines, ""]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", choices=[*CORPORA, "both"], default="both")
    p.add_argument("--repeat", type=int, default=1, help="rounds of taking turns")
    p.add_argument("--quality", action="store_true", help="train and evaluate instead")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    for hidden in ("child", "child-path", "child-corpus", "child-cache", "child-out"):
        p.add_argument(f"--{hidden}", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    machine = f"{platform.machine()}, {cores()} cores, gensim {version('gensim')}"
    command = f"`python bench/phrases.py {' '.join(sys.argv[1:])}`".replace(" `", "`")
    with tempfile.TemporaryDirectory() as tmp:
        if args.quality:
            body = quality(Path(tmp), args.repeat)
            title, name = "Phrases in training", "phrases-quality"
        else:
            names = list(CORPORA) if args.corpus == "both" else [args.corpus]
            body = [line for n in names for line in speed(n, args.repeat, Path(tmp))]
            title, name = "Phrases: finding and joining, w2v and gensim", "phrases-speed"
    text = "\n".join([f"# {title} ({machine})", "", command, "", *body])
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"{name}-cpu-{cores()}core.md"
    out.write_text(text)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
