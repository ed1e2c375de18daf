"""Data-parallel training over several processes: torch.distributed, launched by torchrun.

torchrun starts one process per rank and tells each where it stands through the environment
(RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT). ``w2v train``
reads it and, with more than one rank:

1. each rank tokenizes and counts its share of the corpus (every world-th line; corpus.py);
   the counts are summed over the ranks (``merge_counts``) into one vocabulary, the same on
   every rank;
2. each rank encodes its share with that vocabulary: its shard, which is all it holds;
3. each rank trains its shard with the usual engine, and every ``sync_words`` words of its
   own the ranks merge their tables (``TableSync``): every rank's change since the last
   merge is added to the tables as they were then, with one all-reduce per table. Every
   rank merges the same number of times per epoch, the last time after its last chunk, so
   all ranks end each epoch with the same tables, and rank 0 writes the checkpoint.

Summing the changes, not averaging the tables: averaging N replicas divides every update by
N, which trained to 31.6 % analogies where one process reached 37.5 % (2 ranks, enwiki, 5
epochs; bench/results/distributed-sg-5ep-cpu-2core.md). The sum is what one process would
have applied, computed from tables up to one merge old, like Hogwild across processes.

Whole tables, not the rows a step touched: word2vec's updates are sparse per step but not
per merge (a quarter of a million words touch most rows of a 70k vocabulary), and one dense
all-reduce is what NCCL and Gloo do fastest. What that costs on 8 GPUs and on 32 nodes is in
bench/results/distributed-model.md.
"""

from __future__ import annotations

import math
import os
import re
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from .errors import W2VError

if TYPE_CHECKING:
    import torch

T = TypeVar("T")

# How long a rank waits in a collective for the others (scanning a large share of a corpus
# happens between two collectives, so this is generous); torchrun stops the others sooner
# when a rank dies.
TIMEOUT = timedelta(minutes=30)


@dataclass(frozen=True)
class World:
    """Where this process stands among the ranks of a torchrun job."""

    rank: int
    size: int
    local_rank: int
    local_size: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_environment(environ: Mapping[str, str] = os.environ) -> World | None:
    """The torchrun world this process is part of; None when it runs alone (no torchrun,
    or a world of one)."""
    if "WORLD_SIZE" not in environ:
        return None
    try:
        size = int(environ["WORLD_SIZE"])
        rank = int(environ.get("RANK", "0"))
        local_rank = int(environ.get("LOCAL_RANK", str(rank)))
        local_size = int(environ.get("LOCAL_WORLD_SIZE", str(size)))
    except ValueError:
        raise W2VError(
            "RANK, WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE must be integers "
            "(they are set by torchrun)"
        ) from None
    if size < 1 or not 0 <= rank < size or not 0 <= local_rank < local_size:
        raise W2VError(f"rank {rank} of a world of {size} makes no sense (set by torchrun?)")
    if size == 1:
        return None
    return World(rank, size, local_rank, local_size)


def start(world: World) -> None:
    """Join the process group: Gloo for tensors on the CPU, NCCL for tensors on a GPU."""
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return
    backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
    try:
        dist.init_process_group(backend, rank=world.rank, world_size=world.size, timeout=TIMEOUT)
    except (RuntimeError, ValueError) as exc:
        reason = _first_line(exc)
        raise W2VError(f"rank {world.rank}: cannot join the other ranks: {reason}") from None


def stop() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def _first_line(exc: BaseException) -> str:
    """The gist of a backend's error: its first sentence, without a [source:line] tag."""
    text = re.sub(r"\[[^\]]*\.(?:cc|cpp|h|hpp):\d+\]\s*", "", str(exc).strip())
    if not text:
        return type(exc).__name__
    line = text.splitlines()[0]
    return line.split(". ")[0].rstrip(".")[:160]


def _collective(world: World, what: str, run: Callable[[], T]) -> T:
    """Run a collective; a rank that is gone becomes one clear error, not a traceback."""
    try:
        return run()
    except RuntimeError as exc:  # DistBackendError and Gloo's connection errors
        raise RankLost(
            f"rank {world.rank}: lost the other ranks while {what} ({_first_line(exc)}); "
            "another rank stopped or died"
        ) from None


class RankLost(W2VError):
    """A collective failed: another rank stopped or died."""


def agree(world: World, ok: bool) -> bool:
    """True when every rank says ok: lets a rank that failed alone stop the others."""
    import torch
    import torch.distributed as dist

    flag = torch.tensor([1 if ok else 0], dtype=torch.int64)
    _collective(world, "checking in", lambda: dist.all_reduce(flag, op=dist.ReduceOp.MIN))
    return bool(flag.item())


def all_ok(world: World | None, work: Callable[[], T]) -> T:
    """Run ``work`` on every rank; if it fails on any, every rank stops with an error (the
    rank that failed with its own, the others saying so)."""
    if world is None:
        return work()
    try:
        result = work()
    except W2VError:
        agree(world, False)
        raise
    if not agree(world, True):
        raise W2VError(f"rank {world.rank}: stopped, because another rank failed")
    return result


def sum_numbers(world: World, values: list[float]) -> list[float]:
    import torch
    import torch.distributed as dist

    t = torch.tensor(values, dtype=torch.float64)
    _collective(world, "summing", lambda: dist.all_reduce(t))
    return t.tolist()


def max_int(world: World, value: int) -> int:
    import torch
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.int64)
    _collective(world, "comparing", lambda: dist.all_reduce(t, op=dist.ReduceOp.MAX))
    return int(t.item())


def _gather_bytes(world: World, payload: np.ndarray) -> list[np.ndarray]:
    """Every rank's 1-D uint8/int64 array, in rank order."""
    import torch
    import torch.distributed as dist

    size = torch.tensor([len(payload)], dtype=torch.int64)
    sizes = [torch.zeros_like(size) for _ in range(world.size)]
    _collective(world, "merging counts", lambda: dist.all_gather(sizes, size))
    longest = max(int(s.item()) for s in sizes)
    mine = torch.zeros(longest, dtype=torch.from_numpy(payload[:0]).dtype)
    mine[: len(payload)] = torch.from_numpy(payload)
    parts = [torch.zeros_like(mine) for _ in range(world.size)]
    _collective(world, "merging counts", lambda: dist.all_gather(parts, mine))
    return [p[: int(s.item())].numpy() for p, s in zip(parts, sizes, strict=True)]


def merge_counts(
    world: World, words: list[str], counts: np.ndarray
) -> tuple[list[str], np.ndarray]:
    """Every rank's (word, count) pairs summed: the same words, in the same order (rank by
    rank, first seen first), on every rank."""
    text = ("\n".join(words) + "\n").encode("utf-8", "surrogatepass")
    all_text = _gather_bytes(world, np.frombuffer(text, dtype=np.uint8).copy())
    all_counts = _gather_bytes(world, np.asarray(counts, dtype=np.int64))
    merged: dict[str, int] = {}
    for raw, part in zip(all_text, all_counts, strict=True):
        names = raw.tobytes().decode("utf-8", "surrogatepass").split("\n")[:-1]
        for name, count in zip(names, part.tolist(), strict=True):
            merged[name] = merged.get(name, 0) + count
    return list(merged), np.fromiter(merged.values(), dtype=np.int64, count=len(merged))


class TableSync:
    """Merges the tables of all ranks, the same number of times per epoch on every rank.

    A rank merges after every ``every`` of its chunks and after its last one; a rank with
    fewer chunks than the largest shard joins the merges it has no chunks for, so all ranks
    make ``rounds`` of them and end the epoch with the same tables.
    """

    def __init__(self, world: World, tables: list[Any], local_chunks: int, every: int) -> None:
        import torch

        self.world = world
        # numpy tables (the numba engine's) as tensors sharing their memory: merged in place
        self.tables: list[torch.Tensor] = [
            t if isinstance(t, torch.Tensor) else torch.from_numpy(t) for t in tables
        ]
        self.local_chunks = local_chunks
        self.every = max(1, every)
        self.rounds = math.ceil(max_int(world, local_chunks) / self.every)
        self.done = 0  # merges made in this epoch
        # The tables as they were at the last merge, the same on every rank.
        self.base = [t.detach().clone() for t in self.tables]

    def start_epoch(self, round_: int) -> None:
        """Every rank holds the same tables here (an epoch starts after a merge, or from a
        checkpoint): they are the base the next rounds' changes are counted from."""
        self.done = round_
        for base, table in zip(self.base, self.tables, strict=True):
            base.copy_(table)

    def round_of_chunk(self, chunk: int) -> int:
        return chunk // self.every

    def chunks_of_round(self, r: int) -> range:
        last = self.local_chunks
        return range(min(r * self.every, last), min((r + 1) * self.every, last))

    def merge(self, words: int, loss: float, examples: int) -> tuple[int, float, int]:
        """Add up every rank's changes to the tables; returns the (words, summed loss,
        examples) of all ranks since the last merge."""
        import torch.distributed as dist

        world = self.world
        for table, base in zip(self.tables, self.base, strict=True):
            _collective(world, "merging the tables", lambda t=table: dist.all_reduce(t))
            # base + the sum of every rank's change since: sum(table_r) - (N - 1) base
            table.sub_(base, alpha=world.size - 1)
            base.copy_(table)
        total = sum_numbers(world, [float(words), loss, float(examples)])
        self.done += 1
        return int(total[0]), total[1], int(total[2])


def stop_on_sigterm() -> Callable[[], None]:
    """torchrun stops the other ranks with SIGTERM when one dies: make that a
    KeyboardInterrupt, so a rank ends with its message instead of vanishing. Returns the
    function that puts the old handler back."""
    previous: Any = signal.getsignal(signal.SIGTERM)

    def interrupt(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once is enough: let it unwind
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    return lambda: signal.signal(signal.SIGTERM, previous)
