"""Skip-gram and CBOW with negative sampling: the tables, the objectives, the update.

References followed:
- Mikolov et al. 2013, "Distributed Representations of Words and Phrases and their
  Compositionality", and word2vec.c: input vectors uniform in [-0.5/dim, 0.5/dim], output
  vectors zero; skip-gram predicts the centre word from each context word's input vector;
  CBOW predicts it from the mean of the context input vectors and adds the whole error to
  every context vector; a negative equal to the positive target is skipped.
- The original educational project (``loss="bce"``): one table, BCE-with-logits on the dot
  products of the centre word with its context words (label 1) and with its own negatives
  (label 0), averaged over all of them.

The torch engine (torch_engine.py) drives it; this module knows tensors, not words, files
or progress bars.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..subwords import MAX_SIGMOID, SIGMOID_STEPS, SIGMOID_TABLE
from .base import Tables
from .torch_batches import Batch

# Unigram-table size for drawing negatives, as word2vec.c's 1e8 table but scaled to the
# vocabulary: each word gets about count^0.75 / sum * size slots.
NOISE_TABLE_MIN = 10_000_000
NOISE_TABLE_MAX = 100_000_000


class NoiseSampler:
    """Draws negative word ids on the training device from a fixed distribution."""

    def __init__(self, probs: np.ndarray, device: torch.device) -> None:
        self.vocab_size = len(probs)
        self.uniform = bool(np.allclose(probs, probs[0]))
        self.table: torch.Tensor | None = None
        if not self.uniform:
            size = int(min(NOISE_TABLE_MAX, max(NOISE_TABLE_MIN, 100 * len(probs))))
            ends = np.round(np.cumsum(probs) * size).astype(np.int64)
            ends[-1] = size
            slots = np.diff(ends, prepend=0)
            table = np.repeat(np.arange(len(probs), dtype=np.int32), slots)
            self.table = torch.from_numpy(table).to(device)

    def sample(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        device = generator.device
        if self.table is None:
            return torch.randint(self.vocab_size, shape, generator=generator, device=device)
        slots = torch.randint(len(self.table), shape, generator=generator, device=device)
        return self.table[slots].long()

    def sample_excluding(
        self,
        n_rows: int,
        k: int,
        forbidden: torch.Tensor,
        generator: torch.Generator,
        max_rounds: int = 100,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(n_rows, k) negatives avoiding each row's ``forbidden`` ids (-1 pads them).

        Redraws the offending entries until none is left; an entry that still collides
        after ``max_rounds`` (a vocabulary too small to avoid them) is masked out.
        Returns the negatives and a float mask (1 = use).
        """
        negatives = self.sample((n_rows, k), generator)
        for _ in range(max_rounds):
            bad = (negatives.unsqueeze(2) == forbidden.unsqueeze(1)).any(2)
            if not bool(bad.any()):
                break
            redraw = self.sample((int(bad.sum()),), generator)
            negatives[bad] = redraw
        bad = (negatives.unsqueeze(2) == forbidden.unsqueeze(1)).any(2)
        return negatives, (~bad).float()


class TorchTables(Tables):
    """The tables as torch tensors on the training device."""

    input: torch.Tensor
    output: torch.Tensor

    @classmethod
    def on(cls, host: Tables, device: str | torch.device) -> TorchTables:
        """``host``'s numpy tables on ``device`` (sharing their memory on the CPU)."""
        table = torch.from_numpy(host.input).to(device)
        output = table if host.tied else torch.from_numpy(host.output).to(device)
        return cls(table, output)

    @classmethod
    def drawn(
        cls,
        vocab_size: int,
        dim: int,
        *,
        tied: bool = False,
        init: str = "word2vec",
        generator: torch.Generator | None = None,
    ) -> TorchTables:
        """New tables seeded from a torch generator, by Tables.new's rule (word2vec's start,
        or N(0, 1))."""
        seed = 1 if generator is None else int(torch.randint(1 << 62, (1,), generator=generator))
        return cls.on(Tables.new(vocab_size, dim, tied=tied, init=init, seed=seed), "cpu")

    def to_host(self, table: torch.Tensor) -> np.ndarray:
        return table.detach().to("cpu", torch.float32).numpy().copy()

    def host_view(self, table: torch.Tensor) -> np.ndarray:
        if table.device.type == "cpu" and table.dtype == torch.float32:
            return table.detach().numpy()
        return self.to_host(table)

    def assign(self, table: torch.Tensor, values: np.ndarray) -> None:
        with torch.no_grad():
            table.copy_(torch.from_numpy(np.ascontiguousarray(values)))


def context_matrix(batch: Batch, width: int) -> torch.Tensor:
    """Each centre's context ids in a (N, width) matrix, padded with -1."""
    n = len(batch.centers)
    out = torch.full((n, width), -1, dtype=torch.long, device=batch.centers.device)
    if len(batch.owner):
        first = torch.searchsorted(batch.owner, torch.arange(n, device=batch.owner.device))
        slot = torch.arange(len(batch.owner), device=batch.owner.device) - first[batch.owner]
        out[batch.owner, slot] = batch.contexts
    return out


class Word2Vec(nn.Module):
    """Input and output embedding tables (one shared table when ``tied``), and the
    objectives over them."""

    def __init__(
        self,
        vocab_size: int,
        dim: int,
        *,
        model: str = "sg",
        loss: str = "ns",
        tied: bool = False,
        init: str = "word2vec",
        negative_sharing: str = "window",
        generator: torch.Generator | None = None,
        tables: TorchTables | None = None,
        sparse_grads: bool = False,
    ) -> None:
        """New tables (TorchTables.drawn from ``generator``), or ``tables`` as they are: the
        module's weights then share their storage, so that its updates are the tables'.
        ``sparse_grads``: autograd gives the tables sparse gradients holding the rows a step
        used (what a per-row optimizer needs), instead of dense ones."""
        super().__init__()
        self.sparse_grads = sparse_grads
        self.model = model
        self.loss_kind = loss
        self.negative_sharing = negative_sharing
        if tables is None:
            tables = TorchTables.drawn(vocab_size, dim, tied=tied, init=init, generator=generator)
        self.tied = tables.tied
        self.input = nn.Embedding.from_pretrained(tables.input, freeze=False)
        if self.tied:
            self.output = self.input
        else:
            self.output = nn.Embedding.from_pretrained(tables.output, freeze=False)

    # -- shared pieces ---------------------------------------------------------------------

    def rows(self, weight: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """``weight[ids]``, its gradient sparse when asked."""
        return F.embedding(ids, weight, sparse=self.sparse_grads)

    def negatives_per_row(self) -> str:
        """Whether negatives are drawn per pair or per centre word for this model."""
        per_pair = self.model == "sg" and self.loss_kind == "ns" and self.negative_sharing == "pair"
        return "pair" if per_pair else "centre"

    def cbow_input(self, batch: Batch, weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean context vector of each centre that has contexts, and those centres' rows."""
        n, dim = len(batch.centers), weight.shape[1]
        counts = torch.bincount(batch.owner, minlength=n)
        summed = torch.zeros(n, dim, dtype=weight.dtype, device=weight.device)
        summed = summed.index_add(0, batch.owner, self.rows(weight, batch.contexts))
        rows = torch.nonzero(counts, as_tuple=True)[0]
        return summed[rows] / counts[rows].unsqueeze(1).to(weight.dtype), rows

    def examples(
        self, batch: Batch, negatives: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Input vectors (E, D), targets (E, 1 + K: the positive, then negatives) and, for
        CBOW, which centre each example is (centres without contexts have none)."""
        if self.model == "sg":
            h = self.rows(self.input.weight, batch.contexts)
            if self.negatives_per_row() == "centre":  # a window shares its centre's negatives
                negatives = negatives[batch.owner]
            targets = torch.cat([batch.centers[batch.owner].unsqueeze(1), negatives], 1)
            return h, targets, None
        h, rows = self.cbow_input(batch, self.input.weight)
        targets = torch.cat([batch.centers[rows].unsqueeze(1), negatives[rows]], 1)
        return h, targets, rows

    # -- the objective, through autograd -----------------------------------------------------

    def forward(
        self, batch: Batch, negatives: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, int]:
        """Summed loss of the batch and the number of examples it is summed over.

        Negatives: (P, K) for skip-gram with ``ns`` and per-pair sharing (one set per pair),
        else (N, K), one set per centre word; ``mask`` (same shape, 1 = use) drops some.
        """
        if self.loss_kind == "bce" and self.model == "sg":
            return self._seed_loss(batch, negatives, mask)
        h, targets, rows = self.examples(batch, negatives)
        if mask is not None and rows is not None:
            mask = mask[rows]
        logits = torch.bmm(self.rows(self.output.weight, targets), h.unsqueeze(2)).squeeze(2)
        weights = self._negative_weights(targets, mask)
        if self.loss_kind == "bce":
            labels = torch.zeros_like(logits)
            labels[:, 0] = 1
            full = torch.cat([torch.ones_like(logits[:, :1]), weights], 1)
            losses = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
            return (losses * full).sum(), int(full.sum().item())
        nll = -F.logsigmoid(logits[:, 0]) - (F.logsigmoid(-logits[:, 1:]) * weights).sum(1)
        return nll.sum(), len(nll)

    def _seed_loss(
        self, batch: Batch, negatives: torch.Tensor, mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, int]:
        w_in, w_out = self.input.weight, self.output.weight
        centre_vecs = self.rows(w_in, batch.centers)
        pos = (centre_vecs[batch.owner] * self.rows(w_out, batch.contexts)).sum(1)
        neg = torch.bmm(self.rows(w_out, negatives), centre_vecs.unsqueeze(2)).squeeze(2)
        weights = torch.ones_like(neg) if mask is None else mask
        pos_loss = F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos), reduction="sum")
        neg_loss = F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg), reduction="none")
        return pos_loss + (neg_loss * weights).sum(), len(pos) + int(weights.sum().item())

    @staticmethod
    def _negative_weights(targets: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """word2vec skips a negative that happens to be the positive target."""
        weights = (targets[:, 1:] != targets[:, :1]).to(torch.float32)
        return weights if mask is None else weights * mask

    # -- word2vec's sparse SGD, without autograd -------------------------------------------

    @torch.no_grad()
    def sgd_step(
        self, batch: Batch, negatives: torch.Tensor, lr: float
    ) -> tuple[torch.Tensor, int]:
        """One batched word2vec update for ``loss="ns"``; returns (summed loss, examples).

        The loss stays a tensor on the device, so that a GPU is not synchronised per step.

        Every gradient of the batch is computed from the tables as they were before the
        step, then all are added at once (a word that is both a context and a negative
        must not feed its own update back within the step).
        """
        w_in, w_out = self.input.weight, self.output.weight
        h, targets, rows = self.examples(batch, negatives)
        if len(targets) == 0:
            return h.new_zeros(()), 0
        u = w_out.index_select(0, targets.reshape(-1)).view(*targets.shape, -1)
        logits = torch.bmm(u, h.unsqueeze(2)).squeeze(2)
        weights = self._negative_weights(targets, None)
        # d(-log sigmoid(x))/dx = sigmoid(x) - 1 for the positive, sigmoid(x) for negatives.
        g = torch.sigmoid(logits)
        g[:, 0] -= 1
        g[:, 1:] *= weights
        g *= -lr
        loss = -F.logsigmoid(logits[:, 0]) - (F.logsigmoid(-logits[:, 1:]) * weights).sum(1)
        grad_h = torch.bmm(g.unsqueeze(1), u).squeeze(1)
        grad_u = g.unsqueeze(2) * h.unsqueeze(1)
        if rows is None:  # skip-gram: one input word per example
            grad_in = grad_h
        else:  # CBOW: word2vec adds the whole error to every context word of the window
            per_centre = grad_h.new_zeros(len(batch.centers), h.shape[1])
            per_centre[rows] = grad_h
            grad_in = per_centre[batch.owner]
        w_out.index_add_(0, targets.reshape(-1), grad_u.reshape(-1, h.shape[1]))
        w_in.index_add_(0, batch.contexts, grad_in)
        return loss.sum(), len(loss)

    # -- fastText's model (--subwords), word2vec's SGD written out ---------------------------

    @torch.no_grad()
    def subword_sgd_step(
        self, batch: Batch, negatives: torch.Tensor, lr: float, bags: TorchBags
    ) -> tuple[torch.Tensor, int]:
        """One batched update of fastText's model (numba_subwords.py is the same, a window
        at a time): skip-gram's input is the centre's bag, predicting each context; CBOW's
        the bags of all its contexts together, predicting the centre. ``negatives`` are
        (P, K) per pair or (N, K) per centre, as ``sgd_step`` takes them. Per pair, the
        pairs of a window go in fastText's order (_subword_pairs_in_order); otherwise
        every gradient is computed from the tables as they were, then all are added. Each
        row of an input bag gets the whole gradient of its input vector (fastText).
        Returns (summed loss, examples)."""
        w_in = self.input.weight
        n = len(batch.centers)
        counts = torch.bincount(batch.owner, minlength=n)
        if self.model == "sg":
            rows, row_owner = bags.gather(batch.centers)
        else:
            rows, row_context = bags.gather(batch.contexts)
            row_owner = batch.owner[row_context]
        summed = w_in.new_zeros(n, w_in.shape[1]).index_add_(0, row_owner, w_in[rows])
        sizes = torch.bincount(row_owner, minlength=n).clamp(min=1).unsqueeze(1)
        h = summed / sizes.to(w_in.dtype)
        groups = []  # (targets, weights, input vector of each row, positive columns)
        if self.model == "sg" and negatives.shape[0] == len(batch.contexts):  # per pair
            loss = self._subword_pairs_in_order(batch, negatives, lr, h, rows, row_owner)
            return loss, len(batch.contexts)
        if self.model == "sg":  # each pair's context is a positive of its centre's vector
            # shared negatives: one counts once for each pair whose context it is not
            ones = torch.ones(len(batch.contexts), 1, dtype=w_in.dtype, device=h.device)
            groups.append((batch.contexts.unsqueeze(1), ones, batch.owner, 1))
            same = (negatives[batch.owner] == batch.contexts.unsqueeze(1)).to(w_in.dtype)
            hits = w_in.new_zeros(negatives.shape).index_add_(0, batch.owner, same)
            uses = counts.unsqueeze(1).to(w_in.dtype) - hits
            groups.append((negatives, uses, torch.arange(n, device=h.device), 0))
            return self._subword_apply(h, rows, row_owner, lr, groups), len(batch.contexts)
        has = torch.nonzero(counts, as_tuple=True)[0]  # centres with contexts
        targets = torch.cat([batch.centers[has].unsqueeze(1), negatives[has]], 1)
        weights = (targets != targets[:, :1]).to(w_in.dtype)
        weights[:, 0] = 1
        groups.append((targets, weights, has, 1))
        return self._subword_apply(h, rows, row_owner, lr, groups), len(has)

    def _subword_pairs_in_order(
        self,
        batch: Batch,
        negatives: torch.Tensor,
        lr: float,
        h: torch.Tensor,
        rows: torch.Tensor,
        row_owner: torch.Tensor,
    ) -> torch.Tensor:
        """Skip-gram with negatives per pair as fastText orders it (numba_subwords.
        subword_pairs_update): within a window, pair after pair, each of its targets (the
        context, then its negatives) scored and its output row moved before the next, and
        the bag's rows moved by the pair's gradient before the next pair. The windows of
        the batch go side by side: the first pair of every window, then the second, ...
        A negative equal to its pair's context is skipped. Returns the summed loss."""
        w_in, w_out = self.input.weight, self.output.weight
        n, device = len(h), h.device
        owner, contexts = batch.owner, batch.contexts
        counts = torch.bincount(owner, minlength=n)
        rank = torch.arange(len(owner), device=device) - (torch.cumsum(counts, 0) - counts)[owner]
        # Each entry of a bag gets the pair's gradient, so a row in it m times moves m times
        # as far: the mean moves by sum(m^2) / entries times the gradient.
        entries = row_owner * w_in.shape[0] + rows
        distinct, times = torch.unique(entries, return_counts=True)
        squares = h.new_zeros(n).index_add_(0, distinct // w_in.shape[0], times.to(h.dtype) ** 2)
        drift = squares / torch.bincount(row_owner, minlength=n).clamp(min=1).to(h.dtype)
        h = h.clone()
        grad_h = torch.zeros_like(h)
        loss = h.new_zeros(())
        targets = torch.cat([contexts.unsqueeze(1), negatives], 1)
        for r in range(int(counts.max()) if len(owner) else 0):
            pairs = torch.nonzero(rank == r, as_tuple=True)[0]
            centre = owner[pairs]
            grad_pair = torch.zeros(len(pairs), h.shape[1], dtype=h.dtype, device=device)
            for k in range(targets.shape[1]):
                target = targets[pairs, k]
                label = 1.0 if k == 0 else 0.0
                weight = (target != contexts[pairs]).to(h.dtype) if k else 1.0
                u = w_out[target]
                logit = (u * h[centre]).sum(1)
                g = lr * (label - fasttext_sigmoid(logit)) * weight
                nll = -F.logsigmoid(logit if k == 0 else -logit)
                loss = loss + (nll * weight).sum()
                grad_pair += g.unsqueeze(1) * u
                w_out.index_add_(0, target, g.unsqueeze(1) * h[centre])
            h.index_add_(0, centre, grad_pair * drift[centre].unsqueeze(1))
            grad_h.index_add_(0, centre, grad_pair)
        w_in.index_add_(0, rows, grad_h[row_owner])
        return loss

    def _subword_apply(
        self,
        h: torch.Tensor,
        rows: torch.Tensor,
        row_owner: torch.Tensor,
        lr: float,
        groups: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]],
    ) -> torch.Tensor:
        """Score groups of targets against the input vectors ``h`` and add every gradient;
        returns the summed loss. A group is (targets (E, T), weights (E, T): how many
        examples each counts for, the input vector of each of its E rows, how many leading
        columns are positives). The input vectors' gradients go, whole, to every row of
        their bags (``rows``, of input vector ``row_owner``)."""
        w_in, w_out = self.input.weight, self.output.weight
        grad_h = torch.zeros_like(h)
        loss = h.new_zeros(())
        updates = []
        for targets, weights, h_of, positives in groups:
            hv = h[h_of]
            u = w_out[targets]  # (E, T, D)
            logits = torch.bmm(u, hv.unsqueeze(2)).squeeze(2)
            labels = torch.zeros_like(logits)
            labels[:, :positives] = 1
            # d(log-likelihood)/dx = label - sigmoid(x); word2vec adds lr times it
            g = lr * (labels - fasttext_sigmoid(logits)) * weights
            nll = -F.logsigmoid(torch.where(labels > 0, logits, -logits))
            loss = loss + (nll * weights).sum()
            grad_h.index_add_(0, h_of, torch.bmm(g.unsqueeze(1), u).squeeze(1))
            updates.append((targets.reshape(-1), (g.unsqueeze(2) * hv.unsqueeze(1)).flatten(0, 1)))
        for targets, grads in updates:
            w_out.index_add_(0, targets, grads)
        w_in.index_add_(0, rows, grad_h[row_owner])
        return loss


@functools.cache
def _sigmoid_table(device: torch.device) -> torch.Tensor:
    """SIGMOID_TABLE on a device, copied there once (it is read for every target)."""
    return torch.from_numpy(SIGMOID_TABLE).to(device)


def fasttext_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """fastText's table sigmoid (subwords.sigmoid), elementwise: the step is found in
    float64, as the compiled kernel finds it, so both read the same entry."""
    table = _sigmoid_table(x.device)
    wide = x.to(torch.float64)
    step = torch.floor((wide + MAX_SIGMOID) * (SIGMOID_STEPS / MAX_SIGMOID / 2))
    inside = table[step.clamp(0, SIGMOID_STEPS).to(torch.int64)].to(x.dtype)
    return torch.where(wide < -MAX_SIGMOID, 0.0, torch.where(wide > MAX_SIGMOID, 1.0, inside))


class TorchBags:
    """subword_bags.Bags on the training device: each word's input rows."""

    def __init__(self, rows: np.ndarray, offsets: np.ndarray, device: torch.device | str) -> None:
        self.rows = torch.from_numpy(np.asarray(rows, dtype=np.int64)).to(device)
        self.offsets = torch.from_numpy(np.asarray(offsets, dtype=np.int64)).to(device)

    def gather(self, words: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The input rows of every word of ``words`` together, and for each row the
        position in ``words`` it belongs to."""
        starts = self.offsets[words]
        sizes = self.offsets[words + 1] - starts
        owner = torch.repeat_interleave(torch.arange(len(words), device=words.device), sizes)
        first = torch.cumsum(sizes, 0) - sizes  # where each word's rows start in the result
        within = torch.arange(len(owner), device=words.device) - first[owner]
        return self.rows[starts[owner] + within], owner
