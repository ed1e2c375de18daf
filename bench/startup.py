"""What a command costs before it does its work: query commands, and `w2v train`'s fixed cost.

    python bench/startup.py                       # 3M words of enwiki2015_text8style, 5 rounds
    python bench/startup.py --words 3000000 --repeat 7 --run runs/train

Every figure is a whole process, start to exit, timed from the parent; the commands take
turns round by round, so a drift of the machine hits them alike, and the medians are
reported.

- Query commands: `python -c pass` (the interpreter alone), `import w2v`, `w2v --help` and
  `w2v similarity RUN man woman` on a run trained on the bundled captions (--run, or one
  trained here for one epoch: the vocabulary, not the epochs, sets the load time). Each
  child also says whether torch or numba ended up in sys.modules.
- `w2v train SLICE -o OUT --epochs 1 --overwrite -q` against gensim 4's corpus_file mode on
  the same slice (build_vocab and train, then save_word2vec_format or nothing; w2v always
  writes its run directory: vectors.txt, vocab.tsv, a checkpoint), one epoch, workers =
  cores, word2vec's defaults on both sides. w2v runs with its id cache warm (a rerun, its normal
  case) and cold (a first run: tokenizing and counting included).
- The breakdown of one w2v training process, stage by stage, timed inside it.

Writes a markdown table to bench/results/. Needs gensim (the test extra).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from common import cores, write_corpus

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("W2V_SHARED_DATA", REPO.parent / "shared" / "data"))
HEAVY = ("torch", "numba")
GENSIM = "gensim corpus_file, 1 epoch, save_word2vec_format"
GENSIM_NO_SAVE = "gensim corpus_file, 1 epoch, nothing saved"

GENSIM_SCRIPT = """
import sys
from gensim.models import Word2Vec
corpus, out, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = Word2Vec(corpus_file=corpus, vector_size=100, window=5, negative=5, sample=1e-3,
                 min_count=5, sg=1, workers=workers, epochs=1, seed=1)
if out != "-":
    model.wv.save_word2vec_format(out)
"""

LOADED_SCRIPT = """
import sys, runpy
sys.argv = {argv!r}
try:
    runpy.run_module("w2v", run_name="__main__")
except SystemExit:
    pass
finally:
    print("LOADED " + ",".join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""

IMPORT_SCRIPT = f"""
import sys
import w2v
print("LOADED " + ",".join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)
"""

BREAKDOWN_SCRIPT = """
import json, sys, time
t0 = time.perf_counter()
import w2v
from w2v import rundir
from w2v.run import Run
t1 = time.perf_counter()
run = Run(w2v.build_config(epochs=1), rundir.prepare(sys.argv[2], overwrite=True))
run.prepare(sys.argv[1])
t2 = time.perf_counter()
trainer = run.make_trainer()
t3 = time.perf_counter()
trainer.compile()
t4 = time.perf_counter()
trainer.train()
t5 = time.perf_counter()
run.finish()
t6 = time.perf_counter()
print("BREAKDOWN " + json.dumps({
    "import w2v and its run module": t1 - t0,
    "corpus: cache check and load, vocabulary, config.json and vocab.tsv": t2 - t1,
    "trainer set-up (the engine's module: numba; tables; noise table)": t3 - t2,
    "kernel load (numba cache)": t4 - t3,
    "training (and the epoch's checkpoint)": t5 - t4,
    "vectors.txt and history.json": t6 - t5,
    "torch imported": "torch" in sys.modules,
}))
"""


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall seconds of one whole process, and its stderr."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"failed (exit {proc.returncode}): {' '.join(cmd)}")
    return seconds, proc.stderr


def loaded_modules(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("LOADED ")]
    return lines[-1][len("LOADED ") :] if lines else "?"


def w2v_command(*argv: str) -> list[str]:
    """`w2v ARGV` run so that the child reports which heavy modules it imported."""
    script = LOADED_SCRIPT.format(argv=["w2v", *argv], heavy=HEAVY)
    return [sys.executable, "-c", script]


def w2v_train(corpus: Path, out: Path, *extra: str) -> list[str]:
    """One epoch of `w2v train` with the defaults, as a user runs it."""
    return [sys.executable, "-m", "w2v", "train", str(corpus), "-o", str(out),
            "--epochs", "1", "--overwrite", "-q", *extra]  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=DATA / "enwiki2015_text8style.gz")
    p.add_argument("--words", type=int, default=3_000_000, help="words of the training slice")
    p.add_argument("--repeat", type=int, default=5, help="rounds of taking turns")
    p.add_argument("--run", type=Path, help="a run on the bundled captions (default: train one)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    p.add_argument("--name", default="startup-cpu", help="file name of the result")
    args = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="w2v-startup-"))
    env = {**os.environ, "W2V_CACHE_DIR": str(tmp / "cache")}
    try:
        corpus = tmp / "slice.txt"
        n_words = write_corpus(args.corpus, args.words, corpus)
        run_dir = args.run
        if run_dir is None:
            run_dir = tmp / "bundled"
            timed([sys.executable, "-m", "w2v", "train", "-o", str(run_dir), "--epochs", "1",
                   "-q"], env)  # fmt: skip
        # warm both caches (ids, numba's kernel) and the page cache
        timed(w2v_train(corpus, tmp / "warm"), env)
        gensim_cmd = [sys.executable, "-c", GENSIM_SCRIPT, str(corpus), str(tmp / "g.txt")]
        commands: dict[str, list[str]] = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "import w2v": [sys.executable, "-c", IMPORT_SCRIPT],
            "w2v --help": w2v_command("--help"),
            "w2v similarity RUN man woman": w2v_command("similarity", str(run_dir), "man", "woman"),
            "w2v train SLICE --epochs 1 (ids cached)": w2v_train(corpus, tmp / "a"),
            GENSIM: [*gensim_cmd, str(cores())],
            GENSIM_NO_SAVE: [sys.executable, "-c", GENSIM_SCRIPT, str(corpus), "-", str(cores())],
            "w2v train SLICE --epochs 1 (first run: scan included)": w2v_train(
                corpus, tmp / "b", "--cache-dir", str(tmp / "cold")
            ),
        }
        seconds: dict[str, list[float]] = {name: [] for name in commands}
        loaded: dict[str, str] = {}
        for round_ in range(args.repeat):
            for name, cmd in commands.items():
                shutil.rmtree(tmp / "cold", ignore_errors=True)
                s, err = timed(cmd, env)
                seconds[name].append(s)
                if "LOADED " in err:
                    loaded[name] = loaded_modules(err) or "neither"
            print(f"round {round_ + 1} done", file=sys.stderr)
        stages = breakdown_medians(corpus, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    med = {name: statistics.median(values) for name, values in seconds.items()}
    gensim, bare = med[GENSIM], med[GENSIM_NO_SAVE]
    header = (
        f"{args.corpus.name}, first {n_words:,} words, skip-gram defaults; {platform.machine()}, "
        f"{cores()} cores, torch {version('torch')}, gensim {version('gensim')}"
    )
    lines = [
        f"# {header}",
        "",
        f"`python bench/startup.py {' '.join(sys.argv[1:])}`".replace(" `", "`"),
        "",
        f"Whole processes, median of {args.repeat} rounds taking turns:",
        "",
        "| command | median s | min s | max s | heavy modules imported "
        "| gensim (saving) time / this | gensim (not saving) time / this |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, values in seconds.items():
        ratios = ["", ""]
        if "w2v train" in name:
            ratios = [f"{gensim / med[name]:.2f}x", f"{bare / med[name]:.2f}x"]
        lines.append(
            f"| {name} | {med[name]:.3f} | {min(values):.3f} | {max(values):.3f} | "
            f"{loaded.get(name, '')} | {' | '.join(ratios)} |"
        )
    lines += ["", "Inside one `w2v train` process (ids cached; median of 3):", ""]
    lines += ["| stage | s |", "|---|---|"]
    lines += [
        f"| {stage} | {value if isinstance(value, bool) else f'{value:.3f}'} |"
        for stage, value in stages.items()
    ]
    lines.append("")
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / (args.name if args.name.endswith(".md") else args.name + ".md")
    out.write_text(text)
    print(f"wrote {out}", file=sys.stderr)


def breakdown_medians(corpus: Path, env: dict[str, str], runs: int = 3) -> dict[str, float | bool]:
    """Each stage of a training process, timed inside it; medians over ``runs`` processes."""
    samples: list[dict[str, float]] = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-c", BREAKDOWN_SCRIPT, str(corpus), str(corpus.parent / "run")],
            capture_output=True,
            text=True,
            env=env,
        )
        line = next((x for x in proc.stdout.splitlines() if x.startswith("BREAKDOWN ")), None)
        if proc.returncode != 0 or line is None:
            sys.stderr.write(proc.stderr[-3000:])
            raise SystemExit("the breakdown run failed")
        samples.append(json.loads(line[len("BREAKDOWN ") :]))
    return {
        stage: statistics.median(s[stage] for s in samples)
        for stage in samples[0]
        if not isinstance(samples[0][stage], bool)
    } | {"torch imported": any(s["torch imported"] for s in samples)}


if __name__ == "__main__":
    main()
