"""The training loop: optimizer, learning-rate decay, callbacks, checkpoints, resume.

The trainer reads its corpus as ``ids`` + sentence ``offsets`` and tracks its position as
(epoch, chunk, batch), so a checkpoint can be taken after any batch and resumed exactly:
every random draw is seeded from (seed, epoch, chunk[, batch]).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import batching, kernel
from .batching import Batch, BatchMaker
from .config import TrainConfig
from .distributed import RankLost, TableSync, World, sum_numbers
from .errors import W2VError
from .model import NoiseSampler, Word2Vec, context_matrix
from .vocab import Vocab

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_FORMAT = "w2v-checkpoint"
CHECKPOINT_VERSION = 1
LOSS_LOG_EVERY = 100  # batches between two points of the per-step loss history


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


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise W2VError(
            "--device cuda: no CUDA device is available (torch was built "
            f"{'without' if torch.version.cuda is None else 'with'} CUDA)"
        )
    if name == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise W2VError("--device mps: no MPS device is available")
    return torch.device(name)


def available_cores(world: World | None = None) -> int:
    """This process's cores; under torchrun, its part of them (the node's ranks share them)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // (world.local_size if world else 1))


def choose_engine(config: TrainConfig, device: torch.device) -> str:
    """numba where it applies (CPU, word2vec's loss and SGD) and is installed; else torch."""
    applies = device.type == "cpu" and config.loss == "ns" and config.optimizer == "sgd"
    if config.engine == "torch":
        return "torch"
    if config.engine == "numba":
        if not kernel.available():
            raise W2VError("--engine numba: numba is not installed (pip install numba)")
        if not applies:  # the config rules out the rest: here device auto found a GPU
            raise W2VError(
                f"--engine numba trains on the CPU, and --device auto chose {device.type}; "
                "add --device cpu, or use --engine torch"
            )
        return "numba"
    return "numba" if applies and kernel.available() else "torch"


def _seed_of(*parts: int) -> int:
    """A 63-bit seed mixed from integers (numpy's SeedSequence, so nearby inputs differ)."""
    return int(np.random.SeedSequence(list(parts)).generate_state(2, np.uint64)[0] >> 1)


@dataclass
class Position:
    """Where training stands: the next batch to run is ``batch`` of ``chunk`` of ``epoch``."""

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
    """Hooks for progress reporting; the library itself never prints."""

    def on_train_begin(self, trainer: Trainer) -> None: ...

    def on_batch_end(self, trainer: Trainer, words: int) -> None: ...

    def on_epoch_end(self, trainer: Trainer, summary: EpochSummary) -> None: ...

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
        self.device = resolve_device(config.device)
        if self.device.type == "cuda" and world is not None:
            self.device = torch.device("cuda", world.local_rank)
            torch.cuda.set_device(self.device)
        if self.device.type == "cuda":  # cuBLAS is deterministic only with a fixed workspace
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        if config.threads:
            torch.set_num_threads(config.threads)
        generator = torch.Generator().manual_seed(config.seed)
        self.model = Word2Vec(
            len(vocab),
            config.dim,
            model=config.model,
            loss=config.loss,
            tied=config.tied,
            init=config.init,
            negative_sharing=config.negative_sharing,
            generator=generator,
        ).to(self.device)
        self.engine = choose_engine(config, self.device)
        chunk_tokens = batching.CHUNK_TOKENS
        if world is not None:
            # A merge every sync_words words of a rank, each thread with a chunk of its own in
            # the round between two merges.
            chunk_tokens = min(chunk_tokens, max(1024, config.sync_words // self.threads()))
        self.batches = BatchMaker(
            ids,
            offsets,
            vocab.keep_probabilities(config.sample),
            window=config.window,
            shrink_windows=config.shrink_windows,
            batch_size=config.batch_size,
            seed=config.seed,
            chunk_tokens=chunk_tokens,
        )
        # The numba engine draws its negatives by itself (kernel.noise_table).
        self.noise = (
            NoiseSampler(vocab.noise_distribution(config.ns_exponent), self.device)
            if self.engine == "torch"
            else None
        )
        # This rank's words; total_words counts all ranks' (the progress bar, the lr).
        self.words_per_epoch = int(offsets[-1])
        self.total_words = self.words_per_epoch * config.epochs
        self.sync: TableSync | None = None
        if world is not None:
            self.total_words = int(sum_numbers(world, [float(self.words_per_epoch)])[0])
            self.total_words *= config.epochs
            tables = [self.model.input.weight.data]
            if not config.tied:
                tables.append(self.model.output.weight.data)
            every = max(1, round(config.sync_words / chunk_tokens))
            self.sync = TableSync(world, tables, len(self.batches.bounds) - 1, every)
        self.uses_autograd = config.optimizer == "adamw" or config.loss == "bce"
        self.optimizer: torch.optim.Optimizer | None = None
        if config.optimizer == "adamw":
            self.optimizer = torch.optim.AdamW(
                self.model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
            )
        elif self.uses_autograd:
            self.optimizer = torch.optim.SGD(self.model.parameters(), lr=config.learning_rate)
        self.position = Position()
        self.history = History()
        self.lr = config.learning_rate
        # The epoch's summed loss stays on the device; reading it synchronises a GPU, so
        # it is read only when someone asks (running_loss) and at the end of the epoch.
        self._epoch_loss = torch.zeros((), dtype=torch.float64, device=self.device)
        self._epoch_examples = 0
        self._generator = torch.Generator(device=self.device)
        self._runner: kernel.ChunkRunner | None = None  # see _chunk_runner

    # -- the schedule ------------------------------------------------------------------------

    @property
    def running_loss(self) -> float:
        """Mean loss per example since the epoch began (nan before the first example)."""
        if self._epoch_examples == 0:
            return float("nan")
        return float(self._epoch_loss) / self._epoch_examples

    def learning_rate(self, words_done: int) -> float:
        """Linear decay from alpha to min_alpha over all words of all epochs (word2vec)."""
        start, end = self.config.learning_rate, self.config.min_alpha
        progress = min(words_done / max(self.total_words, 1), 1.0)
        return start - (start - end) * progress

    # -- one step ----------------------------------------------------------------------------

    def _negatives(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor | None]:
        k = self.config.negative
        assert self.noise is not None
        if self.model.negatives_per_row() == "pair":
            return self.noise.sample((len(batch.contexts), k), self._generator), None
        if self.config.loss == "bce":
            forbidden = torch.cat(
                [batch.centers.unsqueeze(1), context_matrix(batch, 2 * self.config.window)], 1
            )
            return self.noise.sample_excluding(len(batch.centers), k, forbidden, self._generator)
        return self.noise.sample((len(batch.centers), k), self._generator), None

    def step(self, batch: Batch, lr: float) -> tuple[torch.Tensor, int]:
        negatives, mask = self._negatives(batch)
        if not self.uses_autograd:
            return self.model.sgd_step(batch, negatives, lr)
        assert self.optimizer is not None
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        loss_sum, n = self.model(batch, negatives, mask)
        if n == 0:
            return loss_sum.detach(), 0
        self.optimizer.zero_grad(set_to_none=True)
        # AdamW (the original) minimises the mean; plain SGD follows word2vec's per-example
        # steps, i.e. the sum.
        (loss_sum / n if self.config.optimizer == "adamw" else loss_sum).backward()
        self.optimizer.step()
        return loss_sum.detach(), n

    # -- the loop ----------------------------------------------------------------------------

    def compile(self) -> None:
        """Make the compiled engine ready (numba compiles on first use, then caches); training
        does it anyway, this lets a benchmark time it apart."""
        if self.engine == "numba":
            self._chunk_runner().compile()

    def train(self) -> Word2Vec:
        """Run (or continue) training to the last epoch; Ctrl-C checkpoints and raises."""
        self.compile()  # before the clock of the first epoch starts
        for cb in self.callbacks:
            cb.on_train_begin(self)
        was_deterministic = torch.are_deterministic_algorithms_enabled()
        # CUDA's index_add_ adds floats atomically in a varying order; the deterministic
        # variant keeps "same seed, same device, same vectors" on a GPU too. (Switching it
        # imports torch's compiler, seconds of start-up: only where it matters.)
        switch = self.device.type == "cuda" and self.config.deterministic and not was_deterministic
        if switch:
            torch.use_deterministic_algorithms(True, warn_only=True)
        try:
            try:
                self._loop()
            except RankLost as lost:  # the others' tables are gone; the last checkpoint stays
                epochs = self.position.epoch
                raise TrainingInterrupted(self.run_dir, False, epochs, str(lost)) from None
        except KeyboardInterrupt:  # (also when it lands while the above is raised)
            if self.world is None:
                self.save_checkpoint()
            raise TrainingInterrupted(
                self.run_dir, self.world is None, self.position.epoch
            ) from None
        finally:
            if switch:
                torch.use_deterministic_algorithms(False)
            for cb in self.callbacks:
                cb.on_train_end(self)
        return self.model

    def _loop(self) -> None:
        cfg, pos = self.config, self.position
        started = time.perf_counter()
        while pos.epoch < cfg.epochs:
            epoch_start, epoch_words0 = time.perf_counter(), pos.words_done
            self._epoch_loss.zero_()
            self._epoch_examples = 0
            if self.engine == "numba":
                self._kernel_epoch()
            else:
                self._torch_epoch()
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
                raise W2VError(
                    f"training diverged in epoch {pos.epoch} (loss is {mean_loss});"
                    " try a smaller --alpha or --batch-size"
                )
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

    def _torch_epoch(self) -> None:
        pos, sync = self.position, self.sync
        window_loss = torch.zeros_like(self._epoch_loss)
        window_n = batches_seen = 0
        n_chunks = len(self.batches.bounds) - 1
        first_chunk = pos.chunk
        if sync is not None:
            sync.start_epoch(sync.round_of_chunk(first_chunk))
            first_chunk = min(first_chunk, n_chunks)
        round_words = round_n = 0
        round_loss = torch.zeros_like(self._epoch_loss)
        # between two merges the other ranks' words are estimated as ours
        scale = 1 if sync is None else sync.world.size
        chunks = self.batches.epoch(pos.epoch, first_chunk, pin=self.device.type == "cuda")
        try:
            for chunk, batches in chunks:
                for b in range(pos.batch, len(batches)):
                    self._generator.manual_seed(self._seed_of(pos.epoch, chunk, b))
                    self.lr = self.learning_rate(pos.words_done + scale * round_words)
                    loss_sum, n = self.step(batches[b].to(self.device), self.lr)
                    pos.batch = b + 1
                    words = batches[b].words
                    batches_seen += 1
                    if sync is not None:
                        round_loss += loss_sum
                        round_n += n
                        round_words += words
                        continue
                    self._epoch_loss += loss_sum
                    self._epoch_examples += n
                    window_loss += loss_sum
                    window_n += n
                    pos.words_done += words
                    if batches_seen % LOSS_LOG_EVERY == 0 and window_n:
                        self._log_step(window_loss, window_n)
                        window_n = 0
                    for cb in self.callbacks:
                        cb.on_batch_end(self, words)
                pos.chunk, pos.batch = chunk + 1, 0
                if sync is not None and ((chunk + 1) % sync.every == 0 or chunk + 1 == n_chunks):
                    self._merge(float(round_loss), round_n, round_words)
                    round_loss.zero_()
                    round_words = round_n = 0
        finally:  # stops the producer thread now, not when the generator is collected
            chunks.close()
        if sync is not None:
            while sync.done < sync.rounds:  # ranks with more chunks are still training
                self._merge(0.0, 0, 0)
        if window_n:
            self._log_step(window_loss, window_n)

    def _merge(self, loss: float, examples: int, words: int) -> None:
        """Merge the ranks' tables; count all ranks' words, loss and examples."""
        assert self.sync is not None
        pos = self.position
        words, loss, examples = self.sync.merge(words, loss, examples)
        pos.chunk = self.sync.done * self.sync.every
        self._epoch_loss += loss
        self._epoch_examples += examples
        pos.words_done += words
        self.lr = self.learning_rate(pos.words_done)
        if examples:
            self.history.step_words.append(pos.words_done)
            self.history.step_loss.append(loss / examples)
        for cb in self.callbacks:
            cb.on_batch_end(self, words)

    def _kernel_epoch(self) -> None:
        """One epoch through the compiled kernel: a chunk is the unit of progress, of the
        loss history and of resuming; on several ranks, a round of chunks between two
        merges is."""
        pos = self.position
        epoch = pos.epoch
        runner = self._chunk_runner()
        words_before = epoch * self.words_per_epoch
        if self.sync is not None:
            sync = self.sync
            sync.start_epoch(sync.round_of_chunk(pos.chunk))
            for r in range(sync.done, sync.rounds):
                todo = sync.chunks_of_round(r)
                loss, examples, words = 0.0, 0, 0
                chunks = runner.epoch(
                    words_before, todo.start, lambda c: self._seed_of(epoch, c), todo.stop
                )
                try:  # the round ends with every chunk done: nothing races the merge
                    for _, loss_sum, n, w in chunks:
                        loss, examples, words = loss + loss_sum, examples + n, words + w
                finally:
                    chunks.close()
                self._merge(loss, examples, words)
            return
        chunks = runner.epoch(words_before, pos.chunk, lambda c: self._seed_of(epoch, c))
        try:
            for chunk, loss_sum, n, words in chunks:
                self._epoch_loss += loss_sum
                self._epoch_examples += n
                pos.chunk, pos.batch = chunk + 1, 0
                pos.words_done += words
                self.lr = self.learning_rate(pos.words_done)
                if n:
                    self.history.step_words.append(pos.words_done)
                    self.history.step_loss.append(loss_sum / n)
                for cb in self.callbacks:
                    cb.on_batch_end(self, words)
        finally:  # waits for the threads, so a checkpoint sees the tables at rest
            chunks.close()

    def threads(self) -> int:
        """The numba engine's threads."""
        cfg = self.config
        return 1 if cfg.deterministic else (cfg.threads or available_cores(self.world))

    def _chunk_runner(self) -> kernel.ChunkRunner:
        """The numba engine's runner, made once: it holds views of the tables (a checkpoint
        is loaded into them in place) and the noise table, which every epoch shares."""
        if self._runner is not None:
            return self._runner
        cfg = self.config
        threads = self.threads()
        self._runner = kernel.ChunkRunner(
            self.model.input.weight.detach().numpy(),
            self.model.output.weight.detach().numpy(),
            self.batches.ids,
            self.batches.offsets,
            self.batches.bounds,
            self.batches.keep_prob,
            kernel.noise_table(self.vocab.noise_distribution(cfg.ns_exponent)),
            window=cfg.window,
            shrink_windows=cfg.shrink_windows,
            negative=cfg.negative,
            cbow=cfg.model == "cbow",
            shared_negatives=cfg.negative_sharing == "window",
            lr_start=cfg.learning_rate,
            lr_end=cfg.min_alpha,
            total_words=self.words_per_epoch * cfg.epochs,  # this rank's: its own schedule
            threads=threads,
        )
        return self._runner

    def _log_step(self, window_loss: torch.Tensor, window_n: int) -> None:
        self.history.step_words.append(self.position.words_done)
        self.history.step_loss.append(float(window_loss) / window_n)
        window_loss.zero_()

    # -- results and checkpoints -------------------------------------------------------------

    def input_vectors(self) -> np.ndarray:
        return self.model.input.weight.detach().to("cpu", torch.float32).numpy().copy()

    def checkpoint_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "vocab_size": len(self.vocab),
            "dim": self.config.dim,
            "input": self.model.input.weight.detach().cpu(),
            "position": dict(self.position.__dict__),
            "history": self.history.to_dict(),
        }
        if not self.config.tied:
            state["output"] = self.model.output.weight.detach().cpu()
        if self.optimizer is not None:
            state["optimizer"] = self.optimizer.state_dict()
        return state

    def save_checkpoint(self) -> None:
        if self.run_dir is None:
            return
        path = self.run_dir / CHECKPOINT_NAME
        tmp = path.with_name(path.name + ".tmp")
        torch.save(self.checkpoint_state(), tmp)
        os.replace(tmp, path)
        log.info("checkpoint written to %s", path)

    def load_checkpoint(self, path: Path) -> None:
        state = read_checkpoint(path)
        if state["vocab_size"] != len(self.vocab) or state["dim"] != self.config.dim:
            raise W2VError(f"{path}: checkpoint does not match this run's vocabulary or --dim")
        if ("output" in state) == self.config.tied:
            raise W2VError(f"{path}: checkpoint does not match this run's --tied setting")
        with torch.no_grad():
            self.model.input.weight.copy_(state["input"])
            if not self.config.tied:
                self.model.output.weight.copy_(state["output"])
        if self.optimizer is not None and "optimizer" in state:
            self.optimizer.load_state_dict(state["optimizer"])
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
    """Load a checkpoint as plain tensors and numbers; never unpickles arbitrary objects."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise W2VError(f"{path}: no checkpoint found") from None
    except Exception as exc:  # torch raises many kinds for a damaged or foreign file
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise W2VError(f"{path}: not a readable w2v checkpoint ({reason[:120]})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise W2VError(f"{path}: not a w2v checkpoint")
    if state.get("version") != CHECKPOINT_VERSION:
        raise W2VError(f"{path}: checkpoint version {state.get('version')} is not supported")
    try:
        Position(**state["position"])
        History(**state["history"])
        if not isinstance(state["input"], torch.Tensor):
            raise TypeError
    except (KeyError, TypeError):
        raise W2VError(f"{path}: checkpoint is incomplete or damaged") from None
    return state
