"""w2v on a GPU: the triton engine measured on one CUDA device, in one short script.

    python bench/gpu.py                          # the whole check, aimed at < 5 min on an H200
    python bench/gpu.py --corpus data/enwiki2015_text8style.gz --skip-tests
    python bench/gpu.py --quick                  # the first 2M words, 1 epoch: a smoke test
    python bench/gpu.py --dry-run                # no GPU: the script's plumbing, interpreted

In order, each step in a child process of its own (its own peak GPU memory):

1. the CUDA tests: tests/test_triton_kernel.py with W2V_TEST_DEVICE=cuda (the kernel
   compiled for the GPU, not interpreted, against the reference on fixed tiny cases);
2. skip-gram and CBOW on enwiki2015_text8style (defaults: dim 100, window 5, negative 5,
   sample 1e-3; 5 epochs) with ``--engine triton``, and 1 epoch of each with ``--engine
   torch`` for the ratio: words/s, seconds, Google analogies (within the 30,000 most frequent
   words), WS-353 and SimLex-999, and for triton the kernel's words/s alone on one chunk
   (the profile that says whether the kernel or the work around it limits the run); and
   1 epoch of skip-gram with ``--deterministic`` (the torch engine's deterministic path,
   which CUDA keeps for it): what that costs;
3. skip-gram at dim 300, and on a synthetic corpus of a 1,000,000-word vocabulary (bench/
   scale.py's Zipf corpus), 1 epoch each: words/s and peak GPU memory;
4. with ``--piece-sizes 8,128`` (say), skip-gram for 1 epoch with the kernel's programs
   cut to those many centre words (triton_engine.PIECE_CENTRES, 32 by default): how the
   launch's shape moves words/s;
5. with ``--reuse-rows``, skip-gram and CBOW for 5 epochs with FULL-W2V's reuse of a
   window's rows on chip (triton_engine.REUSE_ROWS): words/s and quality against step 2.

Words/s is corpus words x epochs / training seconds (the sum of the epochs' clocks, scan and
Triton's compile apart). Writes bench/results/gpu-<device>.md after every run (a script cut
short keeps what it measured; a run that fails is a row that says so) and prints it at the
end. No run starts after ``--budget-s`` (480) seconds: the rest are listed as not run.

``--dry-run`` runs the same steps on the CPU through Triton's interpreter, on the first
5,000 words for 1 epoch and without the scale runs: it checks the script before a GPU's
minutes are spent on it, and measures nothing (its file goes to /tmp).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import report, run_child, write_corpus

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("W2V_SHARED_DATA", REPO.parent / "shared" / "data"))
QUICK_WORDS = 2_000_000
DRY_RUN_WORDS = 5_000


def child(args: argparse.Namespace) -> None:
    """One training run: --child-options is 'key=value,...' for w2v.build_config."""
    import torch
    from compare import quality  # bench/ is this script's folder, first on sys.path

    import w2v
    from w2v.run import Run

    options: dict[str, object] = {}
    for item in filter(None, args.child_options.split(",")):
        key, value = item.split("=", 1)
        flags = {"true": True, "false": False}
        options[key] = int(value) if value.isdigit() else flags.get(value, value)
    from w2v.engines import triton_engine

    triton_engine.PIECE_CENTRES = int(options.pop("piece_centres", triton_engine.PIECE_CENTRES))
    triton_engine.REUSE_ROWS = options.pop("reuse_rows", triton_engine.REUSE_ROWS)
    cuda = torch.cuda.is_available()
    cfg = w2v.build_config(checkpoint_every=0, device="cuda" if cuda else "cpu", **options)
    run = Run(cfg, None)
    t = time.perf_counter()
    run.prepare(args.child_corpus)
    scan = time.perf_counter() - t
    trainer = run.make_trainer()
    t = time.perf_counter()
    trainer.compile()
    compile_s = time.perf_counter() - t
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    if cuda:
        torch.cuda.synchronize()
    seconds = sum(trainer.history.epoch_seconds)
    vectors = run.finish()
    # what limits the run: the kernel alone on one chunk, against the run's chunks
    kernel_words_s = kernel_alone(trainer) if args.child_profile else None
    report(
        {
            "kernel_words_s": kernel_words_s,
            "chunks": len(trainer.chunks.words) * trainer.config.epochs,
            "engine": trainer.engine_name,
            "device": torch.cuda.get_device_name() if cuda else "cpu (dry run)",
            "words": trainer.total_words,
            "vocab": len(run.vocab),
            "scan_s": scan,
            "compile_s": compile_s,
            "train_s": seconds,
            "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20 if cuda else 0.0,
            "quality": quality(vectors) if args.child_quality else None,
        }
    )


def kernel_alone(trainer, repeats: int = 5) -> float:
    """Words/s of the triton kernel by itself: the first chunk prepared once and trained
    ``repeats`` times (after the run: the tables' values do not matter), timed between
    CUDA events. Its gap to the run's words/s is what the work around the kernel costs."""
    import torch

    engine = trainer.engine
    prepared = engine._prepare(0, 0)
    if engine.device.type != "cuda":
        started = time.perf_counter()
        engine._launch(prepared)
        return float(trainer.chunks.words[0]) / (time.perf_counter() - started)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeats):
        engine._launch(prepared)
    end.record()
    torch.cuda.synchronize()
    return repeats * float(trainer.chunks.words[0]) / (start.elapsed_time(end) / 1000)


def train(
    corpus: Path, quality: bool, env: dict[str, str], profile: bool = False, **options: object
) -> dict:
    opts = ",".join(f"{k}={v}" for k, v in options.items())
    cmd = [sys.executable, __file__, "--child-corpus", str(corpus), "--child-options", opts]
    if quality:
        cmd.append("--child-quality")
    if profile:
        cmd.append("--child-profile")
    return run_child(cmd, f"train {opts}", env)


def zipf_file(vocab: int, out: Path) -> Path:
    """bench/scale.py's synthetic corpus: every word 5 times plus a Zipf draw as large."""
    from scale import write_lines, zipf_corpus

    names = np.array([f"w{i}" for i in range(vocab)])
    write_lines(out, names[zipf_corpus(vocab)], 1000)
    return out


def cell(q: dict | None, name: str) -> str:
    if not q or name not in q:
        return "-"
    c = q[name]
    value = c["add"] if c["kind"] == "analogy" else c["rho"]
    if value is None:  # nothing of the set in the vocabulary
        return "-"
    return f"{100 * value:.1f}" if c["kind"] == "analogy" else f"{value:.3f}"


def row(label: str, r: dict) -> str:
    rate = r["words"] / r["train_s"]
    alone = f"{r['kernel_words_s']:,.0f}" if r["kernel_words_s"] else "-"
    chunk_ms = 1000 * r["train_s"] / r["chunks"]
    return (
        f"| {label} | {r['engine']} | {r['words']:,} | {r['train_s']:.1f} | {rate:,.0f} | "
        f"{alone} | {chunk_ms:.1f} | "
        f"{r['compile_s']:.1f} | {r['peak_gpu_mb']:,.0f} | {cell(r['quality'], 'google')} | "
        f"{cell(r['quality'], 'ws353')} | {cell(r['quality'], 'simlex999')} |"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=DATA / "enwiki2015_text8style.gz")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--quick", action="store_true", help=f"{QUICK_WORDS:,} words, 1 epoch")
    p.add_argument("--skip-tests", action="store_true")
    p.add_argument("--skip-scale", action="store_true", help="no dim 300, no 1M vocabulary")
    p.add_argument("--dry-run", action="store_true", help="on the CPU, interpreted: a check")
    p.add_argument(
        "--piece-sizes", default="", help="also sg, 1 epoch, with programs of these many centres"
    )
    p.add_argument(
        "--reuse-rows", action="store_true", help="also sg and CBOW with rows kept on chip"
    )
    p.add_argument(
        "--budget-s", type=float, default=480, help="start no run after this many seconds"
    )
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    p.add_argument("--child-corpus", help=argparse.SUPPRESS)
    p.add_argument("--child-options", default="", help=argparse.SUPPRESS)
    p.add_argument("--child-quality", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--child-profile", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_corpus:
        child(args)
        return
    started = time.perf_counter()
    lines = []
    env = {**os.environ, "TRITON_INTERPRET": "1"} if args.dry_run else dict(os.environ)
    if args.dry_run:
        args.quick, args.skip_scale = True, True
        args.out = Path(tempfile.gettempdir())
    if not args.skip_tests:
        t = time.perf_counter()
        tests_env = dict(os.environ) if args.dry_run else {**env, "W2V_TEST_DEVICE": "cuda"}
        tests_env.pop("TRITON_INTERPRET", None)  # the tests set up the interpreter themselves
        tests = subprocess.run(
            [sys.executable, "-m", "pytest", "-o", "addopts=", "-q", "tests/test_triton_kernel.py"],
            cwd=REPO, env=tests_env, capture_output=True, text=True,
        )  # fmt: skip
        summary = (tests.stdout.strip().splitlines() or ["(no output)"])[-1]
        how = "interpreted" if args.dry_run else "`W2V_TEST_DEVICE=cuda`, compiled for the GPU"
        lines += [f"Kernel tests (`pytest tests/test_triton_kernel.py`, {how}): {summary}, "
                  f"{time.perf_counter() - t:.0f} s", ""]  # fmt: skip
        print(lines[-2], file=sys.stderr)
        if tests.returncode != 0:
            print(tests.stdout[-4000:], tests.stderr[-2000:], file=sys.stderr)
    epochs = 1 if args.quick else args.epochs
    words = DRY_RUN_WORDS if args.dry_run else QUICK_WORDS
    n = f"{epochs} epoch{'s' if epochs > 1 else ''}"
    plan: list[tuple[str, dict, bool, str]] = []  # (label, options, quality?, corpus)

    def add(label: str, quality: bool = False, corpus: str = "text", **options: object) -> None:
        plan.append((label, options, quality, corpus))

    for model in ("sg", "cbow"):
        add(f"{model}, {n}", True, engine="triton", model=model, profile=True)
        add(f"{model}, 1 epoch", True, engine="torch", model=model, epochs=1)
    add("sg, 1 epoch, --deterministic", engine="torch", epochs=1, deterministic="true")
    if not args.skip_scale:
        add("sg, dim 300, 1 epoch", engine="triton", dim=300, epochs=1)
        add("sg, 1M-word vocabulary (Zipf), 1 epoch", corpus="zipf", engine="triton", epochs=1)
    for piece in map(int, filter(None, args.piece_sizes.split(","))):
        add(
            f"sg, 1 epoch, {piece} centres a program",
            engine="triton",
            epochs=1,
            piece_centres=piece,
        )
    if args.reuse_rows:
        for model in ("sg", "cbow"):
            add(f"{model}, {n}, rows kept on chip", True, engine="triton", model=model,
                reuse_rows="true")  # fmt: skip

    rows: list[str] = []
    device = "cpu (dry run)" if args.dry_run else None
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        corpora = {"text": args.corpus}
        if args.quick:
            corpora["text"] = Path(tmp) / "quick.txt"
            write_corpus(args.corpus, words, corpora["text"])
        for i, (label, options, quality, corpus) in enumerate(plan):
            if time.perf_counter() - started > args.budget_s:
                rows.append(f"| {label} | not run: past the {args.budget_s:.0f} s budget |")
            else:
                if corpus not in corpora:
                    corpora[corpus] = zipf_file(1_000_000, Path(tmp) / "zipf.txt")
                options = {"epochs": epochs, "cache_dir": str(Path(tmp) / "cache"), **options}
                profile = bool(options.pop("profile", False))
                try:
                    r = train(corpora[corpus], quality, env, profile, **options)
                except SystemExit as failed:  # one failed run must not lose the others
                    rows.append(f"| {label} | failed: {failed} |")
                else:
                    device = device or r["device"]
                    rows.append(row(label, r))
            print(rows[-1], file=sys.stderr)
            # written after every run: a script cut short by the device's clock keeps the rest
            done = i + 1 == len(plan)
            write(args, device or "unknown device", words, lines, rows, started, done)


def write(args, device: str, words: int, lines: list[str], rows: list[str], started, done):
    head = [
        f"# w2v on {device}: the triton engine ({platform.machine()})",
        "",
        f"`python bench/gpu.py {' '.join(sys.argv[1:])}`".replace(" `", "`"),
        "",
        f"{args.corpus.name}{f' (first {words:,} words)' if args.quick else ''}; defaults "
        "otherwise "
        "(dim 100, window 5, negative 5, sample 1e-3). Words/s: corpus words x epochs / the "
        "epochs' seconds (scan and Triton's compile apart). Kernel alone: the first chunk "
        "trained 5 more times after the run, between CUDA events, nothing around it; the gap "
        "to words/s is what the work around the kernel costs. A chunk: about 262,144 words, "
        "the unit of progress. Google: analogies within the 30,000 most frequent words.",
        "",
    ]
    table = [
        "| run | engine | words | train s | words/s | kernel alone, words/s | ms a chunk "
        "| compile s | peak GPU MB | Google % | WS-353 | SimLex-999 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    took = f"whole script: {time.perf_counter() - started:.0f} s" + ("" if done else " so far")
    text = "\n".join([*head, *lines, *table, "", took, ""])
    name = "gpu-" + "".join(ch if ch.isalnum() else "-" for ch in device.lower()).strip("-")
    out = args.out / f"{name}{'-quick' if args.quick else ''}.md"
    partial = out.with_suffix(".md.partial")
    partial.write_text(text)
    partial.replace(out)  # atomic: a reader never sees half a file
    if done:
        print(text)
        print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
