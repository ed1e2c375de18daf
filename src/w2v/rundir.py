"""The run directory: the one owner of its file names, and of reading a run back.

A run directory holds everything a run made and needs to go on:

    config.json      the TrainConfig, the corpus it read and where its encoded copy is cached
    vocab.tsv        word<TAB>count, in id order, under a ``word<TAB>count`` header
    checkpoint.pt    tables, optimizer, position, loss history (plain tensors, no pickle)
    history.json     loss per logged step and per epoch
    eval.json        with --eval: benchmark scores after every epoch
    vectors.txt|bin  the input vectors in word2vec's format (the text one is fastText's .vec)
    fasttext.bin     with --subwords: the whole model in fastText's binary format
    loss.png, eval.png, words.png   what `w2v plot` draws there

history.json and the vectors are written with every checkpoint as well as at the end, so a
run stopped midway is a run to query, evaluate and plot as of its last checkpoint.

Nothing else in w2v spells these names: it asks a :class:`RunDir` for the path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import atomic_write, write_json
from .errors import W2VError, on_command_line, option

if TYPE_CHECKING:
    from .vectors import KeyedVectors

RUN_FORMAT = "w2v-run"
EVAL_FORMAT = "w2v-eval"
VOCAB_HEADER = "word\tcount"
PICTURES = ("loss", "eval", "words")  # what `w2v plot` can draw into a run directory
DEFAULT_BASE = Path("runs") / "train"  # where `w2v train` puts a run when not told


@dataclass(frozen=True)
class RunDir:
    """The files of one run directory."""

    path: Path

    @property
    def config(self) -> Path:
        return self.path / "config.json"

    @property
    def vocab(self) -> Path:
        return self.path / "vocab.tsv"

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint.pt"

    @property
    def history(self) -> Path:
        return self.path / "history.json"

    @property
    def eval(self) -> Path:
        return self.path / "eval.json"

    @property
    def fasttext(self) -> Path:
        return self.path / "fasttext.bin"

    def vectors(self, binary: bool) -> Path:
        return self.path / ("vectors.bin" if binary else "vectors.txt")

    def picture(self, what: str) -> Path:
        if what not in PICTURES:
            raise ValueError(f"no picture named {what!r}")
        return self.path / f"{what}.png"

    def files(self) -> list[Path]:
        """Everything a run and `w2v plot` write here; --overwrite removes all of it."""
        fixed = [self.config, self.vocab, self.history, self.eval, self.checkpoint, self.fasttext]
        vectors = [self.vectors(binary=False), self.vectors(binary=True)]
        return fixed + vectors + [self.picture(what) for what in PICTURES]

    def find_vectors(self) -> Path:
        """The run's vectors file (``vectors.bin`` wins when both exist)."""
        for binary in (True, False):
            if self.vectors(binary).is_file():
                return self.vectors(binary)
        raise W2VError(f"{self.path}: no vectors.bin or vectors.txt in this run directory")

    def holds_a_run(self) -> bool:
        """Whether there is a run here to lose: one that trained (a checkpoint) or finished
        (vectors). A run that failed before its first step left only its config and vocab,
        and does not block its own retry."""
        trained = [self.checkpoint, self.vectors(binary=False), self.vectors(binary=True)]
        return self.config.exists() and any(path.exists() for path in trained)


def default_run_dir() -> Path:
    """runs/train, or runs/train-2, runs/train-3, ...: the first that does not exist yet."""
    run_dir, n = DEFAULT_BASE, 1
    while run_dir.exists():
        n += 1
        run_dir = DEFAULT_BASE.with_name(f"{DEFAULT_BASE.name}-{n}")
    return run_dir


def prepare(output: str | os.PathLike[str], overwrite: bool) -> Path:
    """The directory ``output`` made ready for a new run: a run already there is refused (or
    with ``overwrite`` its files are removed first); what a run that never trained left is
    removed."""
    run_dir = Path(output)
    if run_dir.exists() and not run_dir.is_dir():
        raise W2VError(f"{run_dir}: exists and is not a directory")
    files = RunDir(run_dir)
    if files.config.exists():
        # a w2v run that never trained is cleared; anything else only with --overwrite
        untrained = _is_a_run_config(run_dir) and not files.holds_a_run()
        if not untrained and not overwrite:
            how = f"--resume {run_dir}" if on_command_line() else f"w2v.resume({str(run_dir)!r})"
            raise W2VError(
                f"{run_dir}: already holds a run; continue it with {how}, "
                f"or pass {option('overwrite', True)} to replace it"
            )
        for path in files.files():  # nothing old may pass for the new run's
            path.unlink(missing_ok=True)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise W2VError(f"{run_dir}: cannot create the run directory: {exc.strerror}") from None
    return run_dir


def write_outputs(
    run_dir: Path, vectors: KeyedVectors, history: dict[str, Any], binary: bool
) -> None:
    """What a run has made so far, each file atomically: the vectors in word2vec's binary or
    text format, fastText's .bin of a subword model, and history.json."""
    files = RunDir(run_dir)
    vectors.save_word2vec_format(files.vectors(binary), binary=binary)
    save_model = getattr(vectors, "save_facebook_model", None)  # subwords: the whole model
    if save_model is not None:
        save_model(files.fasttext)
    # a file of the other format would win or pass for this run's (an overwritten run's)
    files.vectors(not binary).unlink(missing_ok=True)
    write_json(files.history, history)


# -- config.json --------------------------------------------------------------------------


def _is_a_run_config(run_dir: Path) -> bool:
    try:
        read_config(run_dir)
    except W2VError:
        return False
    return True


def write_config(run_dir: Path, payload: dict[str, Any]) -> None:
    write_json(RunDir(run_dir).config, {"format": RUN_FORMAT, **payload})


def read_config(run_dir: Path) -> dict[str, Any]:
    """config.json of a run, checked to be one."""
    path = RunDir(run_dir).config
    if not run_dir.is_dir():
        raise W2VError(f"{run_dir}: no such run directory")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise W2VError(f"{run_dir}: not a run directory (no {path.name})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise W2VError(f"{path}: unreadable run config: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
        raise W2VError(f"{path}: not a w2v run config")
    return data


# -- vocab.tsv ----------------------------------------------------------------------------


def write_vocab(path: Path, words: Sequence[str], counts: Sequence[int]) -> None:
    """``word<TAB>count`` lines under a header, atomically."""
    lines = [VOCAB_HEADER] + [f"{w}\t{c}" for w, c in zip(words, counts, strict=True)]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    atomic_write(path, lambda out: out.write(data))


def read_vocab(path: Path) -> tuple[list[str], list[int]]:
    """The words and counts of a vocab.tsv, in file order.

    The header line is optional; blank lines are skipped; a word may hold anything but a
    tab or a line break (the count is after the last tab). Anything else is an error
    naming the line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise W2VError(f"{path}: vocabulary file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise W2VError(f"{path}: cannot read vocabulary: {exc}") from None
    words: list[str] = []
    counts: list[int] = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip() or (number == 1 and line == VOCAB_HEADER):
            continue
        word, tab, count = line.rpartition("\t")
        if not tab or not word or not count.isdigit():
            raise W2VError(f"{path}: line {number}: expected 'word<TAB>count', got {line[:60]!r}")
        words.append(word)
        counts.append(int(count))
    return words, counts
