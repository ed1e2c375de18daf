"""The triton engine: word2vec on a CUDA GPU, a fused kernel per chunk (triton_kernel.py).

Everything of an epoch stays on the device: the corpus's ids (uploaded once when they fit in
a share of the free memory, else a chunk at a time), the keep probabilities, the alias table
of the noise and both tables. A chunk is subsampled on the device (torch's generator, seeded
from (seed, epoch, chunk)), its sentences closed up and cut into pieces, and one launch
trains them all; reaches and negatives are drawn in the kernel from another seed of the same
chunk. The next chunk is prepared on a CUDA stream of its own while the kernel trains this
one. Nothing goes back to the host but a chunk's loss and example count. A chunk is the unit
of progress, of checkpoints and of resuming, as with the numba engine.

The model is the numba engine's (skip-gram with negatives per window or per pair, CBOW;
negative sampling, SGD, word2vec's linear decay per sentence). With ``TRITON_INTERPRET=1``
the same code runs on the CPU through Triton's interpreter, a program at a time: slow, but
the whole engine can be tried and tested without a GPU.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import W2VError
from . import triton_kernel
from .base import Engine, Report, Setup, Tables
from .torch_model import TorchTables

# Centre words per program. A program trains its piece in order; more pieces keep more of
# the GPU busy, longer ones share more of a sentence's rows in cache.
PIECE_CENTRES = 32
# FULL-W2V's reuse: keep a window's input rows on chip while they stay in it (skip-gram per
# window and CBOW). Off until a GPU has measured it; bench/gpu.py --reuse-rows does.
REUSE_ROWS = False
# The corpus's ids are uploaded whole when they take at most this share of the free device
# memory; otherwise each chunk's ids are copied in before it trains.
RESIDENT_SHARE = 0.25


class DeviceIds:
    """The corpus's ids on the device, whole or a chunk at a time."""

    def __init__(self, ids: np.ndarray, device: torch.device) -> None:
        self.host = ids
        self.device = device
        free = torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else float("inf")
        self.resident: torch.Tensor | None = None
        if ids.nbytes <= RESIDENT_SHARE * free:
            self.resident = torch.from_numpy(np.array(ids, dtype=np.int32)).to(device)

    def slice(self, start: int, stop: int) -> torch.Tensor:
        if self.resident is not None:
            return self.resident[start:stop]
        part = torch.from_numpy(np.array(self.host[start:stop], dtype=np.int32))
        if self.device.type == "cuda":
            # torch's caching host allocator hands the same pinned block back once the copy
            # out of it is done, so this costs no allocation per chunk
            part = part.pin_memory()
        return part.to(self.device, non_blocking=True)


@dataclass(frozen=True)
class Prepared:
    """A chunk ready to launch: train_pieces's arguments but the tables and the noise."""

    ids: torch.Tensor
    piece_start: torch.Tensor
    piece_end: torch.Tensor
    sent_start: torch.Tensor
    sent_end: torch.Tensor
    piece_lr: torch.Tensor
    seed: int

    def tensors(self) -> tuple[torch.Tensor, ...]:
        return (
            self.ids, self.piece_start, self.piece_end, self.sent_start, self.sent_end,
            self.piece_lr,
        )  # fmt: skip


class TritonEngine(Engine):
    @classmethod
    def place_tables(cls, host: Tables, device: str) -> Tables:
        return TorchTables.on(host, device)

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        if not triton_kernel.available():
            raise W2VError(triton_kernel.INSTALL_HINT)
        cfg = setup.config
        self.device = device = torch.device(setup.device)
        tables = setup.tables
        if tables.tied or setup.bags is not None:  # the registry rules these out first
            raise W2VError("the triton engine trains separate tables, without subwords")
        self.w_in, self.w_out = tables.input, tables.output
        self.mode = "cbow" if cfg.model == "cbow" else cfg.negative_sharing
        self.keep_prob = torch.as_tensor(setup.keep_prob, dtype=torch.float32, device=device)
        self.subsample = bool((self.keep_prob < 1).any())
        self.noise_prob, self.noise_alias = triton_kernel.alias_table(setup.noise, device)
        self.ids = DeviceIds(setup.chunks.ids, device)
        self.offsets = torch.as_tensor(setup.chunks.offsets, dtype=torch.int64, device=device)
        self.side: torch.cuda.Stream | None = None
        if device.type == "cuda":
            self.side = torch.cuda.Stream(device)
            self.side.wait_stream(torch.cuda.current_stream(device))  # the uploads above

    def compile(self) -> None:
        """Triton compiles a kernel for its shapes at its first launch: launch one on a
        sentence of one word (no window: the tables do not change)."""
        one_word = torch.zeros(1, dtype=torch.int32, device=self.device)
        bounds = torch.tensor([0, 1], dtype=torch.int64, device=self.device)
        lr = torch.zeros(1, dtype=torch.float64, device=self.device)
        self._launch(self._pieces(one_word, bounds, lr, 1))

    def _prepare(self, epoch: int, chunk: int) -> Prepared:
        """Chunk ``chunk`` of ``epoch`` made ready on the device, without touching the tables.
        On CUDA this runs on a stream of its own, so that the steps that make the host wait
        (a boolean mask, repeat_interleave) wait for that stream only, not for the kernel
        training the chunk before."""
        if self.side is None:
            return self._prepare_here(epoch, chunk)
        with torch.cuda.stream(self.side):
            return self._prepare_here(epoch, chunk)

    def _prepare_here(self, epoch: int, chunk: int) -> Prepared:
        setup, chunks, device = self.setup, self.setup.chunks, self.device
        s0, s1 = int(chunks.bounds[chunk]), int(chunks.bounds[chunk + 1])
        start, stop = int(chunks.offsets[s0]), int(chunks.offsets[s1])
        ids = self.ids.slice(start, stop)
        bounds = self.offsets[s0 : s1 + 1] - start  # the sentences within the chunk
        # word2vec's decay, at the start of each sentence, as numba_kernel._sentence_lr
        before = epoch * chunks.total_words + int(chunks.words_before[chunk]) - start
        done = before + chunks.offsets[s0:s1]
        sentence_lr = torch.as_tensor(setup.schedule.at_each(done), device=device)
        if self.subsample:
            generator = torch.Generator(device=device)
            generator.manual_seed(setup.seed_of(epoch, chunk))
            keep = torch.rand(len(ids), generator=generator, device=device)
            keep = keep < self.keep_prob[ids.to(torch.int64)]
            lengths = torch.diff(bounds)
            sentence_of = torch.repeat_interleave(
                torch.arange(len(lengths), device=device), lengths
            )
            kept = torch.bincount(sentence_of[keep], minlength=len(lengths))
            bounds = torch.cat([bounds.new_zeros(1), torch.cumsum(kept, 0)])
            ids = ids[keep]
        # the kernel's draws get a seed of their own, not the subsampling's stream again
        return self._pieces(ids, bounds, sentence_lr, setup.seed_of(epoch, chunk, 1))

    @staticmethod
    def _pieces(
        ids: torch.Tensor, bounds: torch.Tensor, sentence_lr: torch.Tensor, seed: int
    ) -> Prepared:
        """The launch's arguments: sentences (``bounds`` into ``ids``) cut into pieces, each
        at its sentence's learning rate."""
        pieces = triton_kernel.cut_pieces(bounds, PIECE_CENTRES)
        sentence = torch.searchsorted(bounds, pieces[0], right=True) - 1
        return Prepared(ids, *pieces, sentence_lr[sentence].to(torch.float32), seed)

    def _launch(self, prepared: Prepared) -> tuple[torch.Tensor, torch.Tensor]:
        """Train a prepared chunk once: (summed loss, examples) on the device."""
        if self.side is not None:
            # the kernel waits for the preparation; its tensors, made on the side stream,
            # are not handed out again until the kernel is done with them
            main = torch.cuda.current_stream(self.device)
            main.wait_stream(self.side)
            for tensor in prepared.tensors():
                tensor.record_stream(main)
        cfg = self.setup.config
        return triton_kernel.train_pieces(
            self.w_in, self.w_out, *prepared.tensors(), self.noise_prob, self.noise_alias,
            seed=prepared.seed, window=cfg.window, shrink_windows=cfg.shrink_windows,
            negative=cfg.negative, mode=self.mode,
            reuse_rows=REUSE_ROWS and self.mode != "pair",
        )  # fmt: skip

    def train(
        self, epoch: int, chunks: range, first_step: int = 0
    ) -> Generator[Report, None, None]:
        """A chunk is one step (first_step is always 0 here). The next chunk is prepared
        while this one trains, but launched only once this one is reported: stopped between
        two chunks, the tables hold exactly the chunks reported, so resuming is exact."""
        words = self.setup.chunks.words
        todo = list(chunks)
        prepared = self._prepare(epoch, todo[0]) if todo else None
        try:
            for i, chunk in enumerate(todo):
                assert prepared is not None
                loss, examples = self._launch(prepared)
                if i + 1 < len(todo):
                    prepared = self._prepare(epoch, todo[i + 1])
                # int() waits for this chunk's kernel
                yield Report(chunk, 1, True, int(words[chunk]), loss, int(examples))
        finally:  # the tables at rest before a checkpoint is taken
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
