"""The numba engine: word2vec's loop compiled for the CPU, chunks trained by Hogwild threads.

word2vec's own model (negative sampling, SGD) runs numba_kernel.train_chunk, a window at a
time; the original project's BCE objective and AdamW run numba_centre.train_chunk_centres, an
optimizer step per centre word, with AdamW's moments and step counts kept per row here;
fastText's model (``--subwords``: words as bags of n-gram rows) runs
numba_subwords.train_chunk_subwords.

Threads train different chunks of the corpus at once and write to the shared tables without
locks, as word2vec and gensim do; with one thread the result is bit-identical per seed. The
kernel (numba_kernel.py) reads the id memory map itself and decays the learning rate per
sentence from the chunk's place in the run, so a chunk trains the same whichever thread
runs it. A chunk is the unit of progress: one Report per chunk.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from ..subword_bags import Bags
from . import numba_centre, numba_subwords
from . import numba_kernel as kernel
from .base import ROW_ADAMW, Chunks, Engine, Report, Schedule, Setup, check_row_adamw_state


class RowAdamWState:
    """AdamW's moments and step counts, per row of each table (one table when tied)."""

    def __init__(self, tables: list[np.ndarray]) -> None:
        self.exp_avg = [np.zeros_like(t) for t in tables]
        self.exp_avg_sq = [np.zeros_like(t) for t in tables]
        self.steps = [np.zeros(len(t), dtype=np.int64) for t in tables]

    def kernel_args(self) -> tuple[np.ndarray, ...]:
        """(exp_avg, exp_avg_sq, step) of the input table, then of the output table (the
        input's again when tied)."""
        last = len(self.steps) - 1
        return (
            self.exp_avg[0], self.exp_avg_sq[0], self.steps[0],
            self.exp_avg[last], self.exp_avg_sq[last], self.steps[last],
        )  # fmt: skip

    def state_dict(self) -> dict:
        return {
            "kind": ROW_ADAMW,
            "tables": [
                {"exp_avg": m, "exp_avg_sq": v, "step": s}
                for m, v, s in zip(self.exp_avg, self.exp_avg_sq, self.steps, strict=True)
            ],
        }

    def load_state_dict(self, state: dict) -> None:
        shapes = [m.shape for m in self.exp_avg]
        for i, saved in enumerate(check_row_adamw_state(state, shapes)):  # in place: the
            self.exp_avg[i][...] = saved["exp_avg"]  # kernel holds these arrays
            self.exp_avg_sq[i][...] = saved["exp_avg_sq"]
            self.steps[i][...] = saved["step"]


NO_STATE = (np.zeros((0, 0), np.float32),) * 2 + (np.zeros(0, np.int64),)


class ChunkRunner:
    """Trains chunks with ``kernel.train_chunk`` on a pool of threads.

    Chunks are handed out in order and their results come back in order. Hogwild: up to
    two chunks per thread are queued, so no thread waits for a slow neighbour; with one
    thread exactly one chunk is in flight, which keeps a resumed run bit-identical.
    """

    def __init__(
        self,
        w_in: np.ndarray,
        w_out: np.ndarray,
        chunks: Chunks,
        keep_prob: np.ndarray,
        noise: np.ndarray,
        schedule: Schedule,
        *,
        window: int,
        shrink_windows: bool,
        negative: int,
        cbow: bool,
        shared_negatives: bool,
        threads: int,
        bce: bool = False,
        adamw: RowAdamWState | None = None,
        weight_decay: float = 0.0,
        bags: Bags | None = None,
    ) -> None:
        self.w_in, self.w_out = w_in, w_out
        self.bags = bags  # fastText's model: each word's input rows
        # word2vec's loop, or a step per centre word (the BCE objective, or AdamW)
        self.centre_steps = bce or adamw is not None
        self.bce, self.adamw, self.weight_decay = bce, adamw, weight_decay
        self.chunks = chunks
        self.ids = np.asarray(chunks.ids)
        self.keep_prob = np.ascontiguousarray(keep_prob, dtype=np.float64)
        self.noise = np.ascontiguousarray(noise)
        self.schedule = schedule
        self.window, self.shrink_windows, self.negative = window, shrink_windows, negative
        self.cbow, self.shared_negatives = cbow, shared_negatives
        self.threads = threads

    def _train(self, words_before: int, chunk: int, seed: int) -> tuple[float, int]:
        bounds = self.chunks.bounds
        return self._kernel(int(bounds[chunk]), int(bounds[chunk + 1]), words_before, seed)

    def _kernel(self, first: int, end: int, words_before: int, seed: int) -> tuple[float, int]:
        s = self.schedule
        if self.bags is not None:
            return numba_subwords.train_chunk_subwords(
                self.w_in, self.w_out, self.bags.rows, self.bags.offsets, self.ids,
                self.chunks.offsets, first, end, self.keep_prob, self.noise, self.window,
                self.shrink_windows, self.negative, self.cbow, self.shared_negatives, s.start,
                s.end, words_before, s.total_words, seed, kernel.LOSS_EVERY,
            )  # fmt: skip
        if self.centre_steps:
            state = self.adamw.kernel_args() if self.adamw is not None else NO_STATE * 2
            return numba_centre.train_chunk_centres(
                self.w_in, self.w_out, *state, self.w_in is self.w_out, self.ids,
                self.chunks.offsets, first, end, self.keep_prob, self.noise, self.window,
                self.shrink_windows, self.negative, self.cbow, not self.shared_negatives,
                self.bce, self.adamw is not None, self.weight_decay, s.start, s.end,
                words_before, s.total_words, seed, kernel.LOSS_EVERY,
            )  # fmt: skip
        return kernel.train_chunk(
            self.w_in, self.w_out, self.ids, self.chunks.offsets, first, end, self.keep_prob,
            self.noise, self.window, self.shrink_windows, self.negative, self.cbow,
            self.shared_negatives, s.start, s.end, words_before, s.total_words, seed,
            kernel.LOSS_EVERY,
        )  # fmt: skip

    def compile(self) -> None:
        """Compile (or load from numba's cache) the kernel for these arrays' types, by
        training zero sentences; the first call of a fresh install takes seconds."""
        self._kernel(0, 0, 0, 1)

    def run(
        self, epoch_words_before: int, chunks: range, seed_of: Callable[[int], int]
    ) -> Generator[tuple[int, float, int, int], None, None]:
        """Yield (chunk, summed loss, examples, corpus words) for each of ``chunks``, in
        order. ``epoch_words_before`` counts the earlier epochs' words."""
        depth = 1 if self.threads == 1 else 2 * self.threads
        pending: deque[tuple[int, Future]] = deque()
        todo = iter(chunks)
        with ThreadPoolExecutor(self.threads, thread_name_prefix="w2v-chunk") as pool:
            try:
                while True:
                    while len(pending) < depth and (chunk := next(todo, None)) is not None:
                        before = epoch_words_before + int(self.chunks.words_before[chunk])
                        future = pool.submit(self._train, before, chunk, seed_of(chunk))
                        pending.append((chunk, future))
                    if not pending:
                        return
                    chunk, future = pending.popleft()
                    loss, examples = future.result()
                    yield chunk, float(loss), int(examples), int(self.chunks.words[chunk])
            finally:  # interrupted: let running chunks finish, drop the queued ones
                for _, future in pending:
                    future.cancel()


class NumbaEngine(Engine):
    """The compiled CPU engine: word2vec's model, and the original project's (BCE, AdamW)."""

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        cfg = setup.config
        tables = setup.tables.all()  # one when tied
        self.adamw = RowAdamWState(tables) if cfg.optimizer == "adamw" else None
        # The tables themselves: the kernel writes straight into them, and a checkpoint loaded
        # into the tables in place is what the next chunk trains on.
        self.runner = ChunkRunner(
            setup.tables.input,
            setup.tables.output,
            setup.chunks,
            setup.keep_prob,
            kernel.noise_table(setup.noise),
            setup.schedule,
            window=cfg.window,
            shrink_windows=cfg.shrink_windows,
            negative=cfg.negative,
            cbow=cfg.model == "cbow",
            shared_negatives=cfg.negative_sharing == "window",
            threads=setup.threads,
            bce=cfg.loss == "bce",
            adamw=self.adamw,
            weight_decay=cfg.weight_decay,
            bags=setup.bags,
        )

    def compile(self) -> None:
        self.runner.compile()

    def train(
        self, epoch: int, chunks: range, first_step: int = 0
    ) -> Generator[Report, None, None]:
        seed_of = self.setup.seed_of
        words_before = epoch * self.setup.chunks.total_words
        results = self.runner.run(words_before, chunks, lambda chunk: seed_of(epoch, chunk))
        try:  # a chunk is one step: first_step is always 0 here
            for chunk, loss, examples, words in results:
                yield Report(chunk, 1, True, words, loss, examples)
        finally:  # waits for the threads, so the tables are at rest
            results.close()

    def state_dict(self) -> dict | None:
        return None if self.adamw is None else self.adamw.state_dict()

    def load_state_dict(self, state: dict) -> None:
        if self.adamw is not None:
            self.adamw.load_state_dict(state)
