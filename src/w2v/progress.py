"""A tqdm progress bar for training, as a trainer callback."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from tqdm import tqdm

from .trainer import Callback, EpochSummary, Trainer


class ProgressBar(Callback):
    """One bar over all epochs: words/s, learning rate, running mean loss.

    With ``summaries`` it also writes a line per epoch (mean loss, words/s, elapsed).
    """

    def __init__(self, summaries: bool = True, file: TextIO | None = None) -> None:
        self.summaries = summaries
        self.file = file
        self.bar: tqdm | None = None
        self._last_refresh = 0.0

    def on_train_begin(self, trainer: Trainer) -> None:
        self.bar = tqdm(
            total=trainer.total_words,
            initial=trainer.position.words_done,
            unit="word",
            unit_scale=True,
            dynamic_ncols=True,
            file=self.file or sys.stderr,
            desc=f"epoch {trainer.position.epoch + 1}/{trainer.config.epochs}",
        )

    def on_batch_end(self, trainer: Trainer, words: int) -> None:
        assert self.bar is not None
        self.bar.update(words)
        now = time.monotonic()
        if now - self._last_refresh > 1.0:
            self._last_refresh = now
            self.bar.set_postfix(
                lr=f"{trainer.lr:.2e}", loss=f"{trainer.running_loss:.4f}", refresh=False
            )

    def on_epoch_end(self, trainer: Trainer, summary: EpochSummary) -> None:
        assert self.bar is not None
        if summary.epoch < summary.epochs:
            self.bar.set_description(f"epoch {summary.epoch + 1}/{summary.epochs}")
        if self.summaries:
            self.bar.write(
                f"epoch {summary.epoch}/{summary.epochs}: loss {summary.loss:.4f}, "
                f"{summary.words_per_sec:,.0f} words/s, {summary.seconds:.1f}s "
                f"(elapsed {summary.elapsed:.1f}s)",
                file=sys.stdout,
            )
            if summary.scores:
                self.bar.write(f"  scores: {format_scores(summary.scores)}", file=sys.stdout)
            sys.stdout.flush()  # a pipe (tee, a log file) should see each epoch as it ends

    def on_train_end(self, trainer: Trainer) -> None:
        if self.bar is not None:
            self.bar.close()


def format_scores(scores: dict[str, dict[str, Any]]) -> str:
    """``ws353 0.612, google 31.2%``: rho as is, analogy accuracy in percent."""
    parts = []
    for name, entry in scores.items():
        value = entry.get("score")
        if value is None:
            parts.append(f"{name} -")
        elif entry.get("kind") == "analogy":
            parts.append(f"{name} {100 * value:.1f}%")
        else:
            parts.append(f"{name} {value:.3f}")
    return ", ".join(parts)
