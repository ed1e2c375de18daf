"""The training loop: learning-rate schedule, accounting, callbacks, checkpoints, resume.

The Trainer cuts the corpus (``ids`` + sentence ``offsets``) into chunks, makes the tables and
an engine (engines/), and drives it chunk by chunk; it never asks which engine it drives. It
tracks its position as (epoch, chunk, step), so a checkpoint can be taken after any step and
resumed exactly: every random draw is seeded from (seed, epoch, chunk[, step]). Under
torchrun it merges the ranks' tables every ``sync_words`` words (distributed.TableSync).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import checkpoint, engines
from .config import TrainConfig
from .distributed import RankLost, TableSync, World, sum_numbers
from .engines import base
from .engines.base import Chunks, Schedule, Setup, Tables
from .errors import W2VError, first_line, option
from .rundir import RunDir
from .vocab import Vocab

if TYPE_CHECKING:
    from .corpus import CorpusStats
    from .subword_bags import Bags

log = logging.getLogger(__name__)

# Words between two points of the per-step loss history (an engine reporting coarser steps,
# such as numba's chunks of 262k words, gives one point per step).
LOSS_POINT_WORDS = 1 << 16


class TrainingInterrupted(Exception):
    """Ctrl-C (or torchrun's SIGTERM) during training. Alone, a checkpoint of the moment
    was written to ``run_dir``; on several ranks the tables of the ranks differ mid-epoch, so
    the last checkpoint stays the one of the last finished epoch (``saved`` is False)."""

    def __init__(
        self, run_dir: Path | None, saved: bool = True, epochs_done: int = 0, reason: str = ""
    ) -> None:
        super().__init__(run_dir)
        self.run_dir = run_dir
        self.saved = saved
        self.epochs_done = epochs_done
        self.reason = reason  # why it stopped, when it was not Ctrl-C


def input_rows(vocab_size: int, config: TrainConfig) -> int:
    """Rows of the input table: one per word, and with subwords the n-gram buckets too."""
    subwords = config.make_subwords()
    return vocab_size + (subwords.bucket if subwords and subwords.enabled else 0)


def check_memory(vocab_size: int, config: TrainConfig) -> None:
    """Refuse tables larger than the machine's memory, before allocating them: a MemoryError
    (or the machine swapping for an hour) is a worse answer than one line."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: let it try
        return
    rows = input_rows(vocab_size, config) + (0 if config.tied else vocab_size)
    if config.optimizer == "adamw":
        rows *= 3  # two moments per row
    needed = rows * config.dim * 4
    if needed > memory:
        ngrams = input_rows(vocab_size, config) - vocab_size
        what = f"{vocab_size:,} words" + (f" and {ngrams:,} n-gram rows" if ngrams else "")
        raise W2VError(
            f"the model needs {needed / 2**30:,.1f} GiB for its tables ({what} x "
            f"{config.dim} dims of float32), more than this machine's "
            f"{memory / 2**30:,.1f} GiB; lower {option('dim')} or {option('max_vocab')}"
            + (f" or {option('bucket')}" if ngrams else "")
        )


def available_cores(world: World | None = None) -> int:
    """This process's cores; under torchrun, its part of them (the node's ranks share them)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // (world.local_size if world else 1))


def diverged(epoch: int, loss: float) -> str:
    """The message of a run whose loss stopped being a number."""
    return (
        f"training diverged in epoch {epoch} (loss is {loss}); "
        f"try a smaller {option('alpha')} or {option('batch_size')}"
    )


def _seed_of(*parts: int) -> int:
    """A 63-bit seed mixed from integers (numpy's SeedSequence, so nearby inputs differ)."""
    return int(np.random.SeedSequence(list(parts)).generate_state(2, np.uint64)[0] >> 1)


@dataclass
class Position:
    """Where training stands: the next step to run is ``batch`` of ``chunk`` of ``epoch``
    (a step is a batch of the torch engine; the numba engine's chunk is one step)."""

    epoch: int = 0
    chunk: int = 0
    batch: int = 0
    words_done: int = 0


@dataclass
class History:
    """Loss per logged step and per epoch, kept in checkpoints and written as history.json."""

    step_words: list[int] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    epoch_words_per_sec: list[float] = field(default_factory=list)
    epoch_words: list[int] = field(default_factory=list)  # words trained when each epoch ended
    # with --eval: {"epoch": n, "words_done": w, "scores": {benchmark: {"kind", "score"}}}
    epoch_eval: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class EpochSummary:
    epoch: int  # 1-based
    epochs: int
    loss: float
    words_per_sec: float
    seconds: float
    elapsed: float
    scores: dict[str, dict[str, Any]] | None = None  # with --eval: benchmark -> kind, score


class Callback:
    """Hooks for progress reporting; the library itself never prints.

    ``on_corpus_ready`` and ``on_trainer_ready`` come from the run's stages (run.py), the
    others from the Trainer, in the order they are listed. ``on_checkpoint`` follows every
    checkpoint written (run.py writes the run's vectors and history there: the Trainer knows
    no words or files).
    """

    def on_corpus_ready(self, stats: CorpusStats) -> None: ...

    def on_trainer_ready(self, trainer: Trainer) -> None: ...

    def on_compile_begin(self, trainer: Trainer) -> None:
        """The engine gets ready: a compiled engine compiles its kernel now (seconds, the
        first time after an install) or loads it from its cache."""

    def on_compile_end(self, trainer: Trainer, seconds: float) -> None: ...

    def on_train_begin(self, trainer: Trainer) -> None: ...

    def on_batch_end(self, trainer: Trainer, words: int) -> None: ...

    def on_epoch_end(self, trainer: Trainer, summary: EpochSummary) -> None: ...

    def on_checkpoint(self, trainer: Trainer) -> None: ...

    def on_train_end(self, trainer: Trainer) -> None: ...


class Trainer:
    def __init__(
        self,
        config: TrainConfig,
        vocab: Vocab,
        ids: np.ndarray,
        offsets: np.ndarray,
        *,
        run_dir: Path | None = None,
        callbacks: list[Callback] | None = None,
        evaluator: Callable[[np.ndarray], dict[str, dict[str, Any]]] | None = None,
        world: World | None = None,
    ) -> None:
        self.config = config
        # Under torchrun: this rank's place; ids/offsets are its shard of the corpus.
        self.world = world
        self.vocab = vocab
        self.run_dir = run_dir
        self.callbacks = callbacks or []
        # Scores the input vectors after each epoch; the scores go into the history, so
        # the checkpoint written right after keeps them for a resumed run.
        self.evaluator = evaluator
        self.device = engines.resolve_device(config.device, world)  # "cpu", "cuda:0", ...
        spec = engines.choose(config, self.device)
        self.engine_name = spec.name
        engine_class = engines.load(spec)
        if self.device == "cpu":
            check_memory(len(vocab), config)
        self.input_rows = input_rows(len(vocab), config)
        self.tables: Tables = engine_class.new_tables(
            len(vocab),
            config.dim,
            tied=config.tied,
            init=config.init,
            seed=config.seed,
            device=self.device,
            input_rows=self.input_rows if config.subwords else None,
        )
        self.bags: Bags | None = None  # with subwords: each word's input rows
        subwords = config.make_subwords()
        if subwords is not None:
            from .subword_bags import bags  # numba, only with subwords

            self.bags = bags(vocab.words, subwords)
        chunk_tokens = base.CHUNK_TOKENS
        if world is not None:
            # A merge every sync_words words of a rank, each thread with a chunk of its own in
            # the round between two merges.
            chunk_tokens = min(chunk_tokens, max(1024, config.sync_words // self.threads()))
        self.chunks = Chunks(ids, offsets, chunk_tokens)
        # This rank's words; total_words counts all ranks' (the progress bar, the lr shown).
        self.words_per_epoch = self.chunks.total_words
        self.total_words = self.words_per_epoch * config.epochs
        self.sync: TableSync | None = None
        if world is not None:
            self.total_words = int(sum_numbers(world, [float(self.words_per_epoch)])[0])
            self.total_words *= config.epochs
            every = max(1, round(config.sync_words / chunk_tokens))
            self.sync = TableSync(world, self.tables.all(), len(self.chunks), every)
        # The run's schedule over all ranks' words: what progress shows as the learning rate.
        self.schedule = Schedule(config.learning_rate, config.min_alpha, self.total_words)
        self.engine = engine_class(
            Setup(
                config=config,
                tables=self.tables,
                chunks=self.chunks,
                keep_prob=vocab.keep_probabilities(config.sample),
                noise=vocab.noise_distribution(config.ns_exponent),
                # each rank decays over its own words: its place in its shard
                schedule=Schedule(
                    config.learning_rate, config.min_alpha, self.words_per_epoch * config.epochs
                ),
                device=self.device,
                threads=self.threads(),
                seed_of=self._seed_of,
                bags=self.bags,
            )
        )
        self.position = Position()
        self.history = History()
        self.lr = config.learning_rate
        # The summed losses are what the engine reports: floats, or tensors that stay on
        # the device (reading one synchronises a GPU, so it is read only when someone asks,
        # per point of the loss history and at the end of the epoch).
        self._epoch_loss: Any = 0.0
        self._epoch_examples = 0
        self._point_loss: Any = 0.0
        self._point_examples = self._point_words = 0

    # -- the schedule ------------------------------------------------------------------------

    @property
    def running_loss(self) -> float:
        """Mean loss per example since the epoch began (nan before the first example)."""
        if self._epoch_examples == 0:
            return float("nan")
        return float(self._epoch_loss) / self._epoch_examples

    def learning_rate(self, words_done: int) -> float:
        """Linear decay from alpha to min_alpha over all words of all epochs (word2vec)."""
        return self.schedule.at(words_done)

    def threads(self) -> int:
        """Threads an engine may use: one with --deterministic, else --threads or the cores."""
        cfg = self.config
        return 1 if cfg.deterministic else (cfg.threads or available_cores(self.world))

    # -- the loop ----------------------------------------------------------------------------

    def compile(self) -> None:
        """Make the engine ready (numba compiles on first use, then caches); training does
        it anyway, this lets a benchmark time it apart."""
        self.engine.compile()

    def train(self) -> Tables:
        """Run (or continue) training to the last epoch; Ctrl-C checkpoints and raises."""
        for cb in self.callbacks:
            cb.on_compile_begin(self)
        started = time.perf_counter()
        self.compile()  # before the clock of the first epoch starts
        for cb in self.callbacks:
            cb.on_compile_end(self, time.perf_counter() - started)
        for cb in self.callbacks:
            cb.on_train_begin(self)
        try:
            try:
                self._loop()
            except RankLost as lost:  # the others' tables are gone; the last checkpoint stays
                epochs = self.position.epoch
                raise TrainingInterrupted(self.run_dir, False, epochs, str(lost)) from None
        except KeyboardInterrupt:  # (also when it lands while the above is raised)
            if self.world is None:
                self._log_finite_point()  # the history up to the moment it stopped
                self.save_checkpoint()
            raise TrainingInterrupted(
                self.run_dir, self.world is None, self.position.epoch
            ) from None
        finally:
            for cb in self.callbacks:
                cb.on_train_end(self)
        return self.tables

    def _loop(self) -> None:
        cfg, pos = self.config, self.position
        started = time.perf_counter()
        while pos.epoch < cfg.epochs:
            epoch_start, epoch_words0 = time.perf_counter(), pos.words_done
            self._epoch_loss = 0.0
            self._epoch_examples = 0
            if self.sync is None:
                self._train_chunks(pos.epoch)
            else:
                self._train_rounds(pos.epoch)
            self._log_point()
            seconds = time.perf_counter() - epoch_start
            mean_loss = self.running_loss
            words_per_sec = (pos.words_done - epoch_words0) / max(seconds, 1e-9)
            self.history.epoch_loss.append(mean_loss)
            self.history.epoch_seconds.append(seconds)
            self.history.epoch_words_per_sec.append(words_per_sec)
            self.history.epoch_words.append(pos.words_done)
            pos.epoch, pos.chunk, pos.batch = pos.epoch + 1, 0, 0
            scores = None
            if self.evaluator is not None and math.isfinite(mean_loss):
                scores = self.evaluator(self.input_vectors())
                self.history.epoch_eval.append(
                    {"epoch": pos.epoch, "words_done": pos.words_done, "scores": scores}
                )
            summary = EpochSummary(
                pos.epoch,
                cfg.epochs,
                mean_loss,
                words_per_sec,
                seconds,
                time.perf_counter() - started,
                scores,
            )
            log.info(
                "epoch %d/%d: loss %.4f, %.0f words/s, %.1fs",
                summary.epoch,
                cfg.epochs,
                mean_loss,
                words_per_sec,
                seconds,
            )
            if self._epoch_examples and not math.isfinite(mean_loss):
                raise W2VError(diverged(pos.epoch, mean_loss))
            if cfg.checkpoint_every and (
                pos.epoch % cfg.checkpoint_every == 0 or pos.epoch == cfg.epochs
            ):
                self.save_checkpoint()
            for cb in self.callbacks:
                cb.on_epoch_end(self, summary)

    def _seed_of(self, epoch: int, chunk: int, *more: int) -> int:
        cfg = self.config
        if self.world is None:
            return _seed_of(cfg.seed, epoch, chunk, *more)
        return _seed_of(cfg.seed, epoch, chunk, *more, self.world.rank, self.world.size)

    def _train_chunks(self, epoch: int) -> None:
        """The rest of the epoch, alone: a Report is the unit of progress and resuming."""
        pos = self.position
        reports = self.engine.train(epoch, range(pos.chunk, len(self.chunks)), pos.batch)
        try:
            for report in reports:
                if report.finished:
                    pos.chunk, pos.batch = report.chunk + 1, 0
                else:
                    pos.chunk, pos.batch = report.chunk, report.steps
                self._count(report.loss, report.examples, report.words)
        finally:  # the engine stops with the tables at rest, so a checkpoint can follow
            reports.close()

    def _train_rounds(self, epoch: int) -> None:
        """The rest of the epoch on several ranks: a round of chunks between two merges is
        the unit of progress; every rank makes the same number of merges."""
        sync, pos = self.sync, self.position
        assert sync is not None
        sync.start_epoch(sync.round_of_chunk(pos.chunk))
        for r in range(sync.done, sync.rounds):
            loss: Any = 0.0
            examples = words = 0
            reports = self.engine.train(epoch, sync.chunks_of_round(r))
            try:  # the round ends with every chunk done: nothing races the merge
                for report in reports:
                    loss, examples = loss + report.loss, examples + report.examples
                    words += report.words
            finally:
                reports.close()
            words, merged_loss, examples = sync.merge(words, float(loss), examples)
            pos.chunk, pos.batch = sync.done * sync.every, 0
            self._count(merged_loss, examples, words)

    def _count(self, loss: Any, examples: int, words: int) -> None:
        """Account for a step (of all ranks, after a merge): loss, position, progress."""
        self._epoch_loss += loss
        self._epoch_examples += examples
        self._point_loss += loss
        self._point_examples += examples
        self._point_words += words
        self.position.words_done += words
        if self._point_words >= LOSS_POINT_WORDS:
            self._log_point()
        self.lr = self.learning_rate(self.position.words_done)
        for cb in self.callbacks:
            cb.on_batch_end(self, words)

    def _log_point(self) -> None:
        """A point of the loss history: the mean loss since the last one. A loss that is
        not a number stops training at once: the run diverged."""
        if self._point_examples:
            loss = float(self._point_loss) / self._point_examples
            if not math.isfinite(loss):
                raise W2VError(diverged(self.position.epoch + 1, loss))
            self.history.step_words.append(self.position.words_done)
            self.history.step_loss.append(loss)
        self._point_loss = 0.0
        self._point_examples = self._point_words = 0

    def _log_finite_point(self) -> None:
        """The loss since the last point as a point of its own, unless it is not a number
        (a stop is not the place to report that the run diverged)."""
        if self._point_examples and math.isfinite(float(self._point_loss)):
            self._log_point()

    # -- results and checkpoints -------------------------------------------------------------

    def input_vectors(self) -> np.ndarray:
        """Every word's vector: its input row, or with subwords the mean of its bag."""
        if self.bags is None:
            return self.tables.input_vectors()
        from .subword_bags import mean_rows

        return mean_rows(self.tables.host_view(self.tables.input), self.bags)

    def save_checkpoint(self) -> None:
        if self.run_dir is None:
            return
        tables = self.tables  # at rest: written as they are, without a copy
        arrays = {"input": tables.host_view(tables.input)}
        if not tables.tied:
            arrays["output"] = tables.host_view(tables.output)
        meta = {
            "vocab_size": len(self.vocab),
            "dim": self.config.dim,
            "position": dict(self.position.__dict__),
            "history": self.history.to_dict(),
            "engine": self.engine.state_dict(),
        }
        path = RunDir(self.run_dir).checkpoint
        checkpoint.write(path, arrays, meta)
        log.info("checkpoint written to %s", path)
        for cb in self.callbacks:
            cb.on_checkpoint(self)

    def load_checkpoint(self, path: Path) -> None:
        self.load_state(read_checkpoint(path), path)

    def load_state(self, state: dict[str, Any], path: Path) -> None:
        """Continue from a checkpoint already read (read_checkpoint) from ``path``."""
        if state["vocab_size"] != len(self.vocab) or state["dim"] != self.config.dim:
            raise W2VError(
                f"{path}: checkpoint does not match this run's vocabulary or {option('dim')}"
            )
        if ("output" in state) == self.config.tied:
            raise W2VError(f"{path}: checkpoint does not match this run's {option('tied')} setting")
        shapes = {
            "input": (self.input_rows, self.config.dim),
            "output": (len(self.vocab), self.config.dim),
        }
        if any(state[n].shape != shape for n, shape in shapes.items() if n in state):
            raise W2VError(f"{path}: checkpoint is incomplete or damaged")
        # in place: the engine holds the tables
        self.tables.assign(self.tables.input, state["input"])
        if not self.tables.tied:
            self.tables.assign(self.tables.output, state["output"])
        if state.get("engine") is not None:
            try:
                self.engine.load_state_dict(state["engine"])
            except (ValueError, KeyError, TypeError) as exc:
                raise W2VError(f"{path}: {first_line(exc)}") from None
        self.position = Position(**state["position"])
        self.history = History(**state["history"])
        if self.sync is not None and (self.position.chunk or self.position.batch):
            self._resume_mid_epoch()

    def _resume_mid_epoch(self) -> None:
        """A checkpoint from inside an epoch (Ctrl-C of a run alone), resumed on several
        ranks: each rank starts at the round that covers as much of its shard as the run
        had done of the corpus."""
        assert self.sync is not None
        pos = self.position
        epoch_start = self.history.epoch_words[-1] if self.history.epoch_words else 0
        per_epoch = max(1, self.total_words // self.config.epochs)
        done = min(max((pos.words_done - epoch_start) / per_epoch, 0.0), 1.0)
        pos.chunk, pos.batch = int(done * self.sync.rounds) * self.sync.every, 0


def read_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint's tables (numpy), position, history and engine state, checked to be
    whole; never unpickles anything (checkpoint.read)."""
    state = checkpoint.read(path)
    try:
        Position(**state["position"])
        History(**state["history"])
        if not isinstance(state["input"], np.ndarray) or state["input"].ndim != 2:
            raise TypeError
        int(state["vocab_size"]), int(state["dim"])
    except (KeyError, TypeError, ValueError):
        raise W2VError(f"{path}: checkpoint is incomplete or damaged") from None
    return state
