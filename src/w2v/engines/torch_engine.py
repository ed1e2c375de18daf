"""The torch engine: batched tensor steps on any device, and the reference the others are
tested against (the numba engine's per-centre steps with ``--batch-size 1``).

Each chunk is cut into batches of centre words and their contexts (torch_batches.py, on a
producer thread); a step draws the batch's negatives on the device and updates the tables,
either with word2vec's sparse SGD written out (torch_model.Word2Vec.sgd_step, every gradient
from the tables as they were before the step) or through autograd and an optimizer: SGD,
AdamW per row (torch_optim.RowAdamW, the original project's) or dense AdamW. A batch
is one step: one Report per batch, so Ctrl-C can checkpoint in the middle of a chunk.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import numpy as np
import torch

from .base import ADAMW_BETAS, ADAMW_EPS, Engine, Report, Setup, Tables
from .torch_batches import Batch, BatchMaker
from .torch_model import NoiseSampler, TorchBags, TorchTables, Word2Vec, context_matrix
from .torch_optim import RowAdamW


class TorchEngine(Engine):
    @classmethod
    def place_tables(cls, host: Tables, device: str) -> Tables:
        return TorchTables.on(host, device)

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        cfg, device = setup.config, torch.device(setup.device)
        self.device = device
        if device.type == "cuda":  # cuBLAS is deterministic only with a fixed workspace
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.model = Word2Vec(
            len(setup.noise),
            cfg.dim,
            model=cfg.model,
            loss=cfg.loss,
            negative_sharing=cfg.negative_sharing,
            tables=setup.tables,  # TorchTables: made by new_tables
            sparse_grads=cfg.optimizer == "adamw",
        )
        self.batches = BatchMaker(
            setup.chunks,
            setup.keep_prob,
            window=cfg.window,
            shrink_windows=cfg.shrink_windows,
            batch_size=cfg.batch_size,
            seed=cfg.seed,
        )
        self.noise = NoiseSampler(setup.noise, device)
        self.uses_autograd = cfg.optimizer != "sgd" or cfg.loss == "bce"
        self.optimizer: torch.optim.Optimizer | RowAdamW | None = None
        params = list(self.model.parameters())  # one table when tied
        if cfg.optimizer == "adamw":
            self.optimizer = RowAdamW(params, cfg.learning_rate, cfg.weight_decay)
        elif cfg.optimizer == "adamw-dense":
            self.optimizer = torch.optim.AdamW(
                params, lr=cfg.learning_rate, betas=ADAMW_BETAS, eps=ADAMW_EPS,
                weight_decay=cfg.weight_decay,
            )  # fmt: skip
        elif self.uses_autograd:
            self.optimizer = torch.optim.SGD(params, lr=cfg.learning_rate)
        self.generator = torch.Generator(device=device)
        # with subwords (fastText's model): each word's input rows, on the device
        self.bags = (
            None if setup.bags is None else TorchBags(setup.bags.rows, setup.bags.offsets, device)
        )

    # -- one step ----------------------------------------------------------------------------

    def negatives(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor | None]:
        cfg = self.setup.config
        k = cfg.negative
        if self.model.negatives_per_row() == "pair":
            return self.noise.sample((len(batch.contexts), k), self.generator), None
        if cfg.loss == "bce":
            forbidden = torch.cat(
                [batch.centers.unsqueeze(1), context_matrix(batch, 2 * cfg.window)], 1
            )
            return self.noise.sample_excluding(len(batch.centers), k, forbidden, self.generator)
        return self.noise.sample((len(batch.centers), k), self.generator), None

    def step(self, batch: Batch, lr: float) -> tuple[torch.Tensor, int]:
        """One update from ``batch`` at learning rate ``lr``: (summed loss, examples)."""
        negatives, mask = self.negatives(batch)
        if self.bags is not None:
            return self.model.subword_sgd_step(batch, negatives, lr, self.bags)
        if not self.uses_autograd:
            return self.model.sgd_step(batch, negatives, lr)
        optimizer = self.optimizer
        assert optimizer is not None
        if isinstance(optimizer, RowAdamW):
            optimizer.lr = lr
        else:
            for group in optimizer.param_groups:
                group["lr"] = lr
        loss_sum, n = self.model(batch, negatives, mask)
        if n == 0:
            return loss_sum.detach(), 0
        optimizer.zero_grad()
        # AdamW (the original) minimises the mean; plain SGD follows word2vec's per-example
        # steps, i.e. the sum.
        (loss_sum if self.setup.config.optimizer == "sgd" else loss_sum / n).backward()
        optimizer.step()
        return loss_sum.detach(), n

    # -- chunks ------------------------------------------------------------------------------

    def train(
        self, epoch: int, chunks: range, first_step: int = 0
    ) -> Generator[Report, None, None]:
        setup = self.setup
        device = self.device
        # CUDA's index_add_ adds floats atomically in a varying order; the deterministic
        # variant keeps "same seed, same device, same vectors" on a GPU too. (Switching it
        # imports torch's compiler, seconds of start-up: only where it matters.)
        switch = (
            device.type == "cuda"
            and setup.config.deterministic
            and not torch.are_deterministic_algorithms_enabled()
        )
        if switch:
            torch.use_deterministic_algorithms(True, warn_only=True)
        epoch_words = epoch * setup.chunks.total_words
        made = self.batches.epoch(epoch, chunks, pin=device.type == "cuda")
        try:
            for chunk, batches in made:
                n = len(batches)
                chunk_words = int(setup.chunks.words[chunk])
                words_before = epoch_words + int(setup.chunks.words_before[chunk])
                for b in range(first_step if chunk == chunks.start else 0, n):
                    self.generator.manual_seed(setup.seed_of(epoch, chunk, b))
                    # the words of batches 0..b-1 of a chunk add up to b * words // n
                    lr = setup.schedule.at(words_before + b * chunk_words // n)
                    loss, examples = self.step(batches[b].to(device), lr)
                    yield Report(chunk, b + 1, b + 1 == n, batches[b].words, loss, examples)
        finally:  # stops the producer thread now, not when the generator is collected
            made.close()
            if switch:
                torch.use_deterministic_algorithms(False)

    def state_dict(self) -> dict[str, Any] | None:
        return None if self.optimizer is None else self.optimizer.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if isinstance(self.optimizer, RowAdamW):
            self.optimizer.load_state_dict(state)
        elif self.optimizer is not None:
            self.optimizer.load_state_dict(_as_tensors(state))


def _as_tensors(value: Any) -> Any:
    """A saved optimizer state with its arrays (as a checkpoint holds them) as tensors."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, dict):
        return {k: _as_tensors(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_tensors(v) for v in value]
    return value
