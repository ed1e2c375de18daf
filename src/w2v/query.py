"""Asking a model about words as a user types them: a query word is spelled the way the
run's tokenizer spelled its corpus (a run directory knows its tokenizer, so ``Dog`` finds
``dog`` in a lowercased run; a bare vectors file matches words exactly). The query commands
and `w2v serve` both ask through a :class:`Query`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import W2VError
from .rundir import RunDir, read_config
from .vectors import KeyedVectors, load_vectors


@dataclass
class Query:
    kv: KeyedVectors
    normalize: Callable[[str], str] | None = None  # a tokenizer's; None: exact words

    @classmethod
    def load(cls, path: str | Path) -> Query:
        """The vectors of a run directory or a vectors file, with the run's spelling."""
        return cls(load_vectors(path), run_normalizer(Path(path)))

    def word(self, word: str) -> str:
        """``word`` as the vocabulary spells it, when its normalized form is one known word;
        else as given (so an unknown word's error names what the user typed)."""
        if word in self.kv or self.normalize is None:
            return word
        tokens = self.normalize(word).split()
        return tokens[0] if len(tokens) == 1 and tokens[0] in self.kv else word


def run_normalizer(path: Path) -> Callable[[str], str] | None:
    """The normalize() of the tokenizer that made a run (None for a vectors file)."""
    from .config import TrainConfig

    if not (path.is_dir() and RunDir(path).config.is_file()):
        return None
    try:
        tokenizer = TrainConfig.from_dict(read_config(path)["config"]).make_tokenizer()
    except (W2VError, KeyError, TypeError):
        return None  # an odd config.json does not stop a query on exact words
    return tokenizer.normalize
