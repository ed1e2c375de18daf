"""AdamW per row ("lazy"), as the original project's dict of one tensor per word trained.

The original kept each word's vector as its own tensor, so ``optimizer.step()`` skipped every
word without a gradient: each row had its own first and second moments and its own step
count, and weight decay touched only the rows used in that step. A dense AdamW over a whole
table (``--optimizer adamw-dense``: torch.optim.AdamW) decays and moves every row at every
step, with one step count for all: a different optimizer.

:class:`RowAdamW` takes sparse gradients (``F.embedding(..., sparse=True)``), sums a row's
entries (``coalesce``) and applies PyTorch's AdamW formulas to those rows only. Its state,
per table, is ``exp_avg``, ``exp_avg_sq`` (the table's shape) and ``step`` (a count per row):
the same arrays the numba engine keeps, so a checkpoint of either resumes on the other.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .base import ADAMW_BETAS, ADAMW_EPS, ROW_ADAMW, check_row_adamw_state


class RowAdamW:
    def __init__(
        self,
        tables: list[torch.Tensor],
        lr: float,
        weight_decay: float,
        betas: tuple[float, float] = ADAMW_BETAS,
        eps: float = ADAMW_EPS,
    ) -> None:
        self.tables = tables
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.exp_avg = [torch.zeros_like(t) for t in tables]
        self.exp_avg_sq = [torch.zeros_like(t) for t in tables]
        self.steps = [torch.zeros(len(t), dtype=torch.int64, device=t.device) for t in tables]

    def zero_grad(self) -> None:
        for table in self.tables:
            table.grad = None

    @torch.no_grad()
    def step(self) -> None:
        b1, b2 = self.betas
        for table, m, v, steps in zip(
            self.tables, self.exp_avg, self.exp_avg_sq, self.steps, strict=True
        ):
            if table.grad is None:
                continue
            grad = table.grad.coalesce()  # a row used twice: the sum of its gradients
            rows, g = grad.indices()[0], grad.values()
            steps[rows] += 1
            t = steps[rows].to(torch.float64).unsqueeze(1)
            w = table[rows] * (1 - self.lr * self.weight_decay)
            m_rows = m[rows].lerp_(g, 1 - b1)
            v_rows = v[rows].mul_(b2).addcmul_(g, g, value=1 - b2)
            step_size = (self.lr / (1 - b1**t)).to(table.dtype)
            root = torch.sqrt(1 - b2**t).to(table.dtype)
            w -= step_size * m_rows / (v_rows.sqrt() / root + self.eps)
            table[rows] = w
            m[rows] = m_rows
            v[rows] = v_rows

    def state_dict(self) -> dict[str, Any]:
        return {
            "kind": ROW_ADAMW,
            "tables": [
                {"exp_avg": m, "exp_avg_sq": v, "step": s}
                for m, v, s in zip(self.exp_avg, self.exp_avg_sq, self.steps, strict=True)
            ],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        shapes = [tuple(t.shape) for t in self.tables]
        for i, saved in enumerate(check_row_adamw_state(state, shapes)):
            self.exp_avg[i].copy_(torch.as_tensor(np.asarray(saved["exp_avg"])))
            self.exp_avg_sq[i].copy_(torch.as_tensor(np.asarray(saved["exp_avg_sq"])))
            self.steps[i].copy_(torch.as_tensor(np.asarray(saved["step"])))
