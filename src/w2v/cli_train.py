"""``w2v train``: alone or as one rank under torchrun; the run itself is run.py's.

Imported only by this command (it brings torch): the query commands stay light.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from . import distributed, rundir
from .cli_args import EXIT_INTERRUPTED, config_from_args, given_flags, say
from .corpus import CorpusStats
from .distributed import World
from .errors import W2VError
from .progress import ProgressBar
from .run import resume, train
from .rundir import RunDir
from .trainer import Callback, Trainer, TrainingInterrupted


def cmd_train(args: argparse.Namespace) -> int:
    world = distributed.from_environment()
    if world is None:
        return train_here(args, None)
    # Under torchrun: one process per rank. torchrun stops the other ranks with SIGTERM when
    # one dies; that becomes an interruption with a message, not a silent death.
    distributed.start(world)
    restore = distributed.stop_on_sigterm()
    try:
        code = train_here(args, world)
    except BaseException:  # (W2VError too) the others may be gone: leave, do not wait
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise
    if code != 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        return code
    restore()
    distributed.stop()
    return code


# A kernel loaded from numba's cache is ready well within this; compiling takes seconds.
COMPILE_NOTICE_AFTER_S = 1.0


class Report(Callback):
    """What ``w2v train`` prints between the stages of a run."""

    def __init__(self, args: argparse.Namespace, world: World | None) -> None:
        self.args = args
        self.world = world
        self.trainer: Trainer | None = None
        self._compile_notice: threading.Timer | None = None
        self._compile_said = False

    def on_corpus_ready(self, stats: CorpusStats) -> None:
        s = stats
        ranks = ""
        if self.world is not None:
            ranks = f"; {self.world.size} ranks, each counting and training its share"
        say(
            self.args,
            f"corpus: {s.sentences:,} sentences, {s.tokens:,} tokens, "
            f"{s.distinct_words:,} distinct words; vocabulary: {s.vocab_size:,} words "
            f"seen >= {s.min_count} times ({s.vocab_tokens:,} tokens){ranks}",
        )
        if s.phrases:
            say(self.args, s.phrases)

    def on_trainer_ready(self, trainer: Trainer) -> None:
        self.trainer = trainer
        cfg = trainer.config
        say(
            self.args,
            f"training {cfg.model} ({cfg.loss}, {cfg.optimizer}), dim {cfg.dim}, "
            f"window {cfg.window}, {cfg.epochs} epoch{'s' if cfg.epochs != 1 else ''} on "
            f"{trainer.device} "
            f"({trainer.engine_name} engine)",
        )
        subwords = cfg.make_subwords()
        if subwords is not None:
            ngram_rows = trainer.input_rows - len(trainer.vocab)
            table_mb = ngram_rows * cfg.dim * 4 / 2**20
            say(
                self.args,
                f"subwords: character n-grams of {subwords.minn}-{subwords.maxn} characters "
                f"in {ngram_rows:,} buckets: a table of {table_mb:,.0f} MB "
                f"({ngram_rows:,} x {cfg.dim} float32; --bucket shrinks it)"
                if ngram_rows
                else "subwords: no n-grams (--maxn 0): each word is its own row",
            )

    def on_compile_begin(self, trainer: Trainer) -> None:
        # Only a slow start says so: a kernel found in the cache loads silently.
        message = (
            f"compiling the {trainer.engine_name} engine's kernel (once after an install, "
            "then cached) ..."
        )
        self._compile_said = False
        self._compile_notice = threading.Timer(
            COMPILE_NOTICE_AFTER_S, self._say_compiling, [message]
        )
        self._compile_notice.daemon = True
        self._compile_notice.start()

    def _say_compiling(self, message: str) -> None:
        say(self.args, message)
        self._compile_said = True

    def on_compile_end(self, trainer: Trainer, seconds: float) -> None:
        if self._compile_notice is not None:
            self._compile_notice.cancel()
            self._compile_notice.join()
        if self._compile_said:
            say(self.args, f"compiled in {seconds:.1f}s")


def train_here(args: argparse.Namespace, world: World | None) -> int:
    """``w2v train`` in this process: alone (world None) or as one rank of several."""
    if world is not None and not world.is_main:
        args.quiet = True  # one bar and one log: rank 0's
    report = Report(args, world)
    callbacks: list[Callback] = [report] + ([] if args.quiet else [ProgressBar()])
    try:
        if args.resume:
            extra = set(given_flags(args)) - {"device", "threads", "epochs"}
            if args.corpus or args.config or args.preset or extra:
                raise W2VError(
                    "--resume continues a run with its own corpus and settings; "
                    "only --epochs (a larger total), --device, --threads and --quiet may be "
                    "given with it"
                )
            run_dir = Path(args.resume)
            say(args, f"resuming {run_dir}" + (f" on {world.size} ranks" if world else ""))
            resume(
                run_dir,
                epochs=args.epochs,
                callbacks=callbacks,
                device=args.device,
                threads=args.threads,
                world=world,
            )
            say(args, f"done; vectors in {run_dir}")
            return 0
        cfg = config_from_args(args)
        run_dir = Path(args.output) if args.output else rundir.default_run_dir()
        say(args, f"reading {args.corpus or 'the bundled Flickr30k captions'} ...")
        train(
            args.corpus,
            run_dir,
            config=cfg,
            callbacks=callbacks,
            overwrite=args.overwrite,
            world=world,
        )
        assert report.trainer is not None
        h = report.trainer.history
        vectors = RunDir(run_dir).vectors(cfg.format == "binary")
        say(
            args,
            f"done: final loss {h.epoch_loss[-1]:.4f}, {sum(h.epoch_seconds):.1f}s training; "
            f"vectors in {vectors}; try: w2v neighbors {run_dir} <word>",
        )
        return 0
    except TrainingInterrupted as stop:
        print(interrupted_message(stop, world), file=sys.stderr)
        return EXIT_INTERRUPTED


def interrupted_message(stop: TrainingInterrupted, world: World | None) -> str:
    who = f"w2v: rank {world.rank}" if world else "w2v"
    where = stop.run_dir
    if where is None:
        return f"{who}: interrupted"
    if stop.saved:
        return (
            f"{who}: interrupted; the run so far is saved (vectors, history, checkpoint); "
            f"resume with: w2v train --resume {where}"
        )
    if stop.reason:  # it names the rank itself
        who = "w2v"
    why = stop.reason or "stopped (Ctrl-C, or torchrun stopping the ranks because one died)"
    if not RunDir(where).checkpoint.exists():
        return f"{who}: {why}; no epoch had ended, so there is no checkpoint to resume"
    return (
        f"{who}: {why}; the checkpoint of the last finished epoch resumes the run, on any "
        f"number of ranks: w2v train --resume {where}"
    )
