"""Trained word vectors: lookup, similarity queries, and the word2vec file formats.

``KeyedVectors`` follows gensim 4's ``KeyedVectors`` names and semantics where they
overlap, so code written against gensim reads the same here. Files are the word2vec
text and binary formats exactly as Mikolov's C tool and gensim write and read them.

Format notes a caller may need:

* Text values are written with ``%.9g``: enough digits that every float32 survives a
  save/load round trip bit for bit.
* ``load_word2vec_format(binary=None)`` sniffs the format: after the header, a file
  whose first 64 KiB are valid UTF-8 without control bytes (other than tab, newline,
  vertical tab, form feed, carriage return) is text, anything else is binary. Raw
  float32 data practically never passes that test unless the vectors have only a
  handful of dimensions; pass ``binary`` explicitly for such files.
* A word that occurs twice in a file keeps its first vector; later ones are dropped
  (as gensim does), so ``len(kv)`` can be smaller than the header's count.
* Bytes of a word that are not valid UTF-8 (the C tool cuts long words mid-character)
  become U+FFFD instead of failing the whole load.
* Anything after the header's last entry other than whitespace is an error, unless
  ``limit`` stopped reading earlier.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import heapq
import mmap
import os
import re
import secrets
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

import numpy as np

from w2v.errors import UnknownWordError, W2VError

__all__ = ["KeyedVectors", "load_vectors"]

PathLike = str | os.PathLike[str]
# What most_similar accepts per item: a word, a vector, or either with a weight.
Query = str | np.ndarray | tuple[str | np.ndarray, float]

_COSMUL_EPSILON = 1e-6  # gensim's guard against dividing by a zero product
_SNIFF_BYTES = 64 * 1024
# The C tool caps words at 100 bytes; this much looser bound only exists so that a
# foreign file fails fast with a clear message instead of yielding a megabyte "word".
_MAX_WORD_BYTES = 10_000
_CHUNK_ROWS = 4096
_SPELL_WIDTH = 16
_SUGGEST_CUTOFF = 0.6  # difflib.get_close_matches' default
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")
_WHITESPACE_TO_SPACE = bytes.maketrans(b"\t\r\x0b\x0c", b"    ")


class KeyedVectors:
    """Word vectors: one float32 row per word, most frequent words first.

    The arrays are treated as immutable once constructed: normalised vectors and
    squared norms are computed on first use and cached.
    """

    def __init__(
        self,
        index_to_key: list[str],
        vectors: np.ndarray,
        counts: np.ndarray | None = None,
    ) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be 2-D (words x dims), got shape {vectors.shape}")
        if vectors.shape[0] != len(index_to_key):
            raise ValueError(f"{len(index_to_key)} words but {vectors.shape[0]} vectors")
        key_to_index = {word: i for i, word in enumerate(index_to_key)}
        if len(key_to_index) != len(index_to_key):
            dup = next(w for i, w in enumerate(index_to_key) if key_to_index[w] != i)
            raise ValueError(f"duplicate word {dup!r} in index_to_key")
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (len(index_to_key),):
                raise ValueError(f"counts has shape {counts.shape}, expected ({len(vectors)},)")
        self.index_to_key: list[str] = list(index_to_key)
        self.key_to_index: dict[str, int] = key_to_index
        self.vectors: np.ndarray = vectors
        self.vector_size: int = int(vectors.shape[1])
        self.counts: np.ndarray | None = counts
        self._normed: np.ndarray | None = None
        self._sq_norms: np.ndarray | None = None
        self._spelling: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # see _suggest

    # ------------------------------------------------------------------ lookup

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self.key_to_index

    def __repr__(self) -> str:
        return f"KeyedVectors({len(self)} words x {self.vector_size} dims)"

    def __getitem__(self, key: str | Iterable[str]) -> np.ndarray:
        if isinstance(key, str):
            return self.get_vector(key)
        indices = [self.get_index(word) for word in key]
        return self.vectors[np.asarray(indices, dtype=np.intp)].reshape(-1, self.vector_size)

    def get_index(self, word: str) -> int:
        """Row of ``word``; raises ``UnknownWordError`` (a ``KeyError``) with suggestions."""
        if not isinstance(word, str):
            raise TypeError(f"words are str, got {type(word).__name__}")
        index = self.key_to_index.get(word)
        if index is None:
            raise UnknownWordError(word, self._suggest(word))
        return index

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        """Read-only view of the vector of ``word`` (unit length with ``norm=True``)."""
        index = self.get_index(word)
        if norm:
            return self.get_normed_vectors()[index]
        row = self.vectors[index]
        row.flags.writeable = False  # a view: writing through it would stale the caches
        return row

    def get_normed_vectors(self) -> np.ndarray:
        """All vectors scaled to unit length (zero vectors stay zero); cached, read-only."""
        if self._normed is None:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            normed = np.zeros_like(self.vectors)
            np.divide(self.vectors, norms, out=normed, where=norms > 0)
            normed.flags.writeable = False
            self._normed = normed
        return self._normed

    # -------------------------------------------------------------- similarity

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words (0.0 when either vector is zero)."""
        normed = self.get_normed_vectors()
        return float(np.dot(normed[self.get_index(w1)], normed[self.get_index(w2)]))

    def distance(self, w1: str, w2: str) -> float:
        """Cosine distance, ``1 - similarity``, as gensim defines it."""
        return 1.0 - self.similarity(w1, w2)

    def euclidean_distance(self, w1: str, w2: str) -> float:
        """Euclidean distance between the raw (unnormalised) vectors of two words."""
        v1 = self.vectors[self.get_index(w1)].astype(np.float64)
        v2 = self.vectors[self.get_index(w2)].astype(np.float64)
        return float(np.linalg.norm(v1 - v2))

    def most_similar(
        self,
        positive: Query | Sequence[Query] | np.ndarray | None = None,
        negative: Query | Sequence[Query] | np.ndarray | None = None,
        topn: int = 10,
        restrict_vocab: int | None = None,
        metric: str = "cosine",
    ) -> list[tuple[str, float]]:
        """The ``topn`` words nearest to the combination of the inputs, best first.

        Cosine (gensim's semantics): each input, word or vector, is scaled to unit
        length; they are averaged with weight +1 for positives and -1 for negatives
        (a ``(item, weight)`` tuple sets the weight outright, in either list, as in
        gensim); the mean is normalised and compared with every normalised vector.
        Input words are never returned. ``restrict_vocab=N`` searches only the first
        N words (``None`` or 0: all). Returns ``(word, cosine)`` pairs.

        ``metric="euclidean"`` takes exactly one positive word or vector and no
        negatives, and returns ``(word, distance)`` pairs, nearest first, measured on
        the raw vectors.
        """
        if metric == "euclidean":
            return self._most_similar_euclidean(positive, negative, topn, restrict_vocab)
        if metric != "cosine":
            raise W2VError(f"unknown metric {metric!r}; expected 'cosine' or 'euclidean'")
        if topn < 1:
            return []
        items = [(item, 1.0) for item in _as_list(positive)]
        items += [(item, -1.0) for item in _as_list(negative)]
        if not items:
            raise W2VError("most_similar needs at least one word or vector")
        mean = np.zeros(self.vector_size, dtype=np.float64)
        total_weight = 0.0
        exclude: set[int] = set()
        for raw_item, default_weight in items:
            item, weight = _split_weight(raw_item, default_weight)
            unit, index = self._unit_input(item)
            if index is not None:
                exclude.add(index)
            mean += weight * unit
            total_weight += abs(weight)
        if total_weight > 0:
            mean /= total_weight
        query = _unit(mean).astype(np.float32)
        end = self._search_end(restrict_vocab)
        scores = self.get_normed_vectors()[:end] @ query
        return self._top(scores, topn, exclude, largest=True)

    def most_similar_cosmul(
        self,
        positive: str | np.ndarray | Sequence[str | np.ndarray] | None = None,
        negative: str | np.ndarray | Sequence[str | np.ndarray] | None = None,
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """Levy & Goldberg's 3CosMul, as gensim computes it.

        Score = prod over positives of (1 + cos) / 2, divided by (the same product over
        negatives + 1e-6). Vector inputs are normalised first; unlike gensim,
        ``restrict_vocab`` is honoured.
        """
        if topn < 1:
            return []
        pos = _as_list(positive)
        neg = _as_list(negative)
        if not pos:
            raise W2VError("most_similar_cosmul needs at least one positive word or vector")
        end = self._search_end(restrict_vocab)
        normed = self.get_normed_vectors()[:end]
        exclude: set[int] = set()

        def shifted_cosines(item: Any) -> np.ndarray:
            if isinstance(item, tuple):
                raise TypeError("most_similar_cosmul takes words or vectors, not (item, weight)")
            unit, index = self._unit_input(item)
            if index is not None:
                exclude.add(index)
            return (1.0 + normed @ unit.astype(np.float32)) / 2.0

        numerator = np.prod([shifted_cosines(item) for item in pos], axis=0)
        denominator = np.prod([shifted_cosines(item) for item in neg], axis=0)
        scores = numerator / (denominator + _COSMUL_EPSILON)
        return self._top(scores, topn, exclude, largest=True)

    def similar_by_word(
        self, word: str, topn: int = 10, restrict_vocab: int | None = None
    ) -> list[tuple[str, float]]:
        """The words with the highest cosine similarity to ``word`` (itself excluded)."""
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_vector(
        self, vector: np.ndarray, topn: int = 10, restrict_vocab: int | None = None
    ) -> list[tuple[str, float]]:
        """The words with the highest cosine similarity to ``vector``."""
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def doesnt_match(self, words: Iterable[str]) -> str:
        """The word furthest from the mean of the (normalised) words, as gensim.

        Unknown words are ignored; ``W2VError`` when none is left.
        """
        if isinstance(words, str):
            raise TypeError("doesnt_match takes a list of words, not a single string")
        used = [word for word in words if word in self]
        if not used:
            raise W2VError("doesnt_match: none of the words is in the vocabulary")
        normed = self.get_normed_vectors()[[self.key_to_index[w] for w in used]]
        centre = _unit(normed.astype(np.float64).mean(axis=0)).astype(np.float32)
        scores = normed @ centre
        # gensim takes the last of sorted(zip(scores, words), reverse=True): on a tie
        # in score that is the smallest word, which min() over the same pairs gives.
        return min(zip(scores.tolist(), used, strict=True))[1]

    def analogy(
        self, a: str, b: str, c: str, topn: int = 1, method: str = "add"
    ) -> list[tuple[str, float]]:
        """Solve "``a`` is to ``b`` as ``c`` is to ?" by 3CosAdd (``"add"``) or 3CosMul.

        ``"add"`` is ``most_similar(positive=[b, c], negative=[a])``, ``"mul"`` the same
        through ``most_similar_cosmul``.
        """
        if method == "add":
            return self.most_similar(positive=[b, c], negative=[a], topn=topn)
        if method == "mul":
            return self.most_similar_cosmul(positive=[b, c], negative=[a], topn=topn)
        raise W2VError(f"unknown analogy method {method!r}; expected 'add' or 'mul'")

    # ------------------------------------------------------------------- files

    def save_word2vec_format(self, path: PathLike, binary: bool = False) -> None:
        """Write the word2vec text or binary format, atomically.

        The file is written under a temporary name in the same directory and renamed
        over ``path`` only when complete, so a failure leaves any old file untouched.
        Words must be non-empty and contain neither spaces nor newlines, which the
        format cannot represent.
        """
        name = os.fspath(path)
        self._check_writable_words(name)
        if binary:
            _atomic_write(path, self._write_binary)
        else:
            _atomic_write(path, self._write_text)

    @classmethod
    def load_word2vec_format(
        cls, path: PathLike, binary: bool | None = None, limit: int | None = None
    ) -> KeyedVectors:
        """Read a word2vec text or binary file (``binary=None``: sniff the format).

        ``limit`` reads only the first that many words. Every problem with the file
        raises ``W2VError`` naming the file.
        """
        name = os.fspath(path)
        if limit is not None and limit < 1:
            raise W2VError(f"{name}: limit must be a positive number of words, got {limit}")
        with _open_buffer(name) as buf:
            if len(buf) == 0:
                raise W2VError(f"{name}: empty file, expected a word2vec header '<words> <dims>'")
            n_words, dim, body_start = _parse_header(name, buf)
            wanted = n_words if limit is None else min(n_words, limit)
            if binary is None:
                binary = not _looks_like_text(buf[body_start : body_start + _SNIFF_BYTES])
            if binary:
                words, vectors = _read_binary(name, buf, body_start, n_words, dim, wanted)
            else:
                words, vectors = _read_text(name, buf, body_start, n_words, dim, wanted)
        return cls(words, vectors)

    # ---------------------------------------------------------------- internals

    def _unit_input(self, item: Any) -> tuple[np.ndarray, int | None]:
        """Unit-length float64 vector of a word or vector input, and the word's row."""
        if isinstance(item, str):
            index = self.get_index(item)
            return self.get_normed_vectors()[index].astype(np.float64), index
        if isinstance(item, np.ndarray):
            if item.shape != (self.vector_size,):
                raise ValueError(
                    f"query vector has shape {item.shape}, expected ({self.vector_size},)"
                )
            return _unit(item.astype(np.float64)), None
        raise TypeError(f"expected a word or a vector, got {type(item).__name__}")

    def _search_end(self, restrict_vocab: int | None) -> int:
        if restrict_vocab is not None and restrict_vocab < 0:
            raise ValueError(f"restrict_vocab must be >= 0, got {restrict_vocab}")
        # gensim treats 0 like None: no restriction.
        return min(restrict_vocab, len(self)) if restrict_vocab else len(self)

    def _top(
        self, scores: np.ndarray, topn: int, exclude: set[int], *, largest: bool
    ) -> list[tuple[str, float]]:
        """Best ``topn`` rows by score, skipping ``exclude``; ties go to the lower row."""
        n = scores.shape[0]
        k = min(n, topn + len(exclude))
        if k == 0:
            return []
        keyed = -scores if largest else scores
        candidates = np.argpartition(keyed, k - 1)[:k] if k < n else np.arange(n)
        order = candidates[np.lexsort((candidates, keyed[candidates]))]
        result = [(self.index_to_key[i], float(scores[i])) for i in order if i not in exclude]
        return result[:topn]

    def _most_similar_euclidean(
        self,
        positive: Any,
        negative: Any,
        topn: int,
        restrict_vocab: int | None,
    ) -> list[tuple[str, float]]:
        pos = _as_list(positive)
        if len(pos) != 1 or _as_list(negative):
            raise W2VError("metric='euclidean' takes exactly one word or vector and no negatives")
        item = pos[0]
        exclude: set[int] = set()
        if isinstance(item, str):
            index = self.get_index(item)
            exclude.add(index)
            query = self.vectors[index]
        elif isinstance(item, np.ndarray) and item.shape == (self.vector_size,):
            query = item.astype(np.float32)
        else:
            raise TypeError(f"expected a word or a {self.vector_size}-d vector, got {item!r}")
        if topn < 1:
            return []
        end = self._search_end(restrict_vocab)
        if self._sq_norms is None:
            self._sq_norms = np.einsum("ij,ij->i", self.vectors, self.vectors)
        # |v - q|^2 = |v|^2 - 2 v.q + |q|^2 ranks all rows with one matrix-vector
        # product; its cancellation error only matters for the few rows we keep, whose
        # distances are then recomputed directly.
        approx = self._sq_norms[:end] - 2.0 * (self.vectors[:end] @ query)
        k = min(end, topn + len(exclude))
        if k == 0:
            return []
        candidates = np.argpartition(approx, k - 1)[:k] if k < end else np.arange(end)
        diffs = self.vectors[candidates].astype(np.float64) - query.astype(np.float64)
        dists = np.sqrt(np.einsum("ij,ij->i", diffs, diffs))
        order = np.lexsort((candidates, dists))
        result = [
            (self.index_to_key[candidates[j]], float(dists[j]))
            for j in order
            if candidates[j] not in exclude
        ]
        return result[:topn]

    def _suggest(self, word: str, n: int = 3) -> list[str]:
        """Up to ``n`` known words spelled like ``word``, best first, by difflib's ratio.

        difflib takes microseconds per word, too slow for a million of them. So the
        vocabulary is first cut down with vectorised tests (length within 2, the same
        first or last character in either case), then the survivors are scored in
        order of an upper bound on their ratio (difflib's quick_ratio: characters
        shared, with multiplicity), stopping once no remaining word can make the top n.
        """
        if not word or not self.index_to_key:
            return []
        keys = self.index_to_key
        if self._spelling is None:
            lengths = np.fromiter(map(len, keys), dtype=np.int32, count=len(keys))
            # Fixed-width code points; longer words are cut, so their bound is unknown.
            chars = np.array(keys, dtype=f"<U{_SPELL_WIDTH}").view(np.uint32)
            chars = chars.reshape(len(keys), _SPELL_WIDTH)
            last_column = np.clip(lengths, 1, _SPELL_WIDTH) - 1
            lasts = chars[np.arange(len(keys)), last_column]
            self._spelling = (lengths, chars, lasts)
        lengths, chars, lasts = self._spelling

        def variants(ch: str) -> list[int]:
            return [ord(c) for c in {ch, ch.lower(), ch.upper()} if len(c) == 1]

        size = len(word)
        long = lengths > _SPELL_WIDTH
        mask = np.abs(lengths - size) <= 2
        mask &= np.isin(chars[:, 0], variants(word[0])) | np.isin(lasts, variants(word[-1])) | long
        index = np.flatnonzero(mask)
        rows = chars[index]
        shared = np.zeros(len(index), dtype=np.int64)
        for ch, times in Counter(word).items():
            shared += np.minimum((rows == ord(ch)).sum(axis=1), times)
        bound = np.where(long[index], 1.0, 2.0 * shared / (lengths[index] + size))
        keep = np.flatnonzero(bound >= _SUGGEST_CUTOFF)
        keep = keep[np.argsort(-bound[keep], kind="stable")]

        matcher = difflib.SequenceMatcher()
        matcher.set_seq2(word)
        best: list[tuple[float, str]] = []  # min-heap of the n best (ratio, word)
        for j in keep.tolist():
            if len(best) == n and best[0][0] > bound[j]:
                break
            candidate = keys[index[j]]
            matcher.set_seq1(candidate)
            score = matcher.ratio()
            if score < _SUGGEST_CUTOFF:
                continue
            if len(best) < n:
                heapq.heappush(best, (score, candidate))
            elif (score, candidate) > best[0]:
                heapq.heapreplace(best, (score, candidate))
        return [candidate for _, candidate in sorted(best, reverse=True)]

    def _check_writable_words(self, name: str) -> None:
        words = self.index_to_key
        joined = "\n".join(words)
        if " " in joined or joined.count("\n") != max(len(words) - 1, 0) or not all(words):
            bad = next(w for w in words if not w or " " in w or "\n" in w)
            raise W2VError(
                f"{name}: cannot save word {bad!r}: word2vec files need words that are "
                "non-empty and have no spaces or newlines"
            )

    def _write_text(self, out: IO[bytes]) -> None:
        out.write(f"{len(self)} {self.vector_size}\n".encode())
        # One %-format per row keeps float formatting in C; %.9g is the shortest
        # fixed precision that round-trips every float32.
        row_format = "%s " + " ".join(["%.9g"] * self.vector_size) + "\n"
        for start in range(0, len(self), _CHUNK_ROWS):
            rows = self.vectors[start : start + _CHUNK_ROWS].tolist()
            words = self.index_to_key[start : start + _CHUNK_ROWS]
            text = "".join([row_format % (w, *r) for w, r in zip(words, rows, strict=True)])
            out.write(text.encode())

    def _write_binary(self, out: IO[bytes]) -> None:
        out.write(f"{len(self)} {self.vector_size}\n".encode())
        row_bytes = 4 * self.vector_size
        for start in range(0, len(self), _CHUNK_ROWS):
            raw = self.vectors[start : start + _CHUNK_ROWS].astype("<f4").tobytes()
            words = self.index_to_key[start : start + _CHUNK_ROWS]
            rows = [raw[i * row_bytes : (i + 1) * row_bytes] for i in range(len(words))]
            # The trailing newline is what the C tool writes; gensim omits it, and
            # both readers accept either.
            entries = [w.encode() + b" " + r + b"\n" for w, r in zip(words, rows, strict=True)]
            out.write(b"".join(entries))


def load_vectors(path: PathLike) -> KeyedVectors:
    """Load a word2vec file, or the vectors of a training run directory.

    A directory must hold ``vectors.bin`` or ``vectors.txt`` (``.bin`` wins when both
    exist). If it also holds ``vocab.tsv`` (``word<TAB>count`` lines, optionally under a
    ``word<TAB>count`` header) and every loaded word has a count there, the counts are
    attached as ``kv.counts``; a vocab.tsv that does not cover the words is ignored,
    one that cannot be parsed is an error.
    """
    name = os.fspath(path)
    p = Path(path)
    if not p.exists():
        raise W2VError(f"{name}: no such file or directory")
    if not p.is_dir():
        return KeyedVectors.load_word2vec_format(path)
    for candidate in ("vectors.bin", "vectors.txt"):
        if (p / candidate).is_file():
            kv = KeyedVectors.load_word2vec_format(p / candidate)
            break
    else:
        raise W2VError(f"{name}: no vectors.bin or vectors.txt in this run directory")
    vocab_path = p / "vocab.tsv"
    if vocab_path.is_file():
        counts = _read_vocab_counts(vocab_path)
        if all(word in counts for word in kv.index_to_key):
            kv.counts = np.array([counts[w] for w in kv.index_to_key], dtype=np.int64)
    return kv


# --------------------------------------------------------------------- helpers


def _as_list(value: Any) -> list[Any]:
    """gensim's convention: a single word or 1-D vector stands for a list of one."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, np.ndarray):
        if value.ndim == 1:
            return [value]
        if value.ndim == 2:
            return list(value)
        raise ValueError(f"expected a vector or a matrix of vectors, got shape {value.shape}")
    return list(value)


def _split_weight(item: Any, default: float) -> tuple[Any, float]:
    if isinstance(item, tuple):
        if len(item) != 2:
            raise TypeError(f"expected (word or vector, weight), got a {len(item)}-tuple")
        return item[0], float(item[1])
    return item, default


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _atomic_write(path: PathLike, write: Callable[[IO[bytes]], None]) -> None:
    name = os.fspath(path)
    target = Path(path)
    if target.is_dir():
        raise W2VError(f"{name}: is a directory")
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as out:
            write(out)
            out.flush()
            # Without the fsync a crash just after the rename could leave an empty
            # file under the final name on some filesystems. Filesystems that cannot
            # fsync at all are no reason to refuse to save.
            try:
                os.fsync(out.fileno())
            except OSError as exc:
                if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            reason = exc.strerror or str(exc)
            raise W2VError(f"{name}: cannot write: {reason}") from exc
        raise


@contextlib.contextmanager
def _open_buffer(name: str) -> Iterator[Any]:
    """The file's bytes: memory-mapped when possible, so a multi-GB binary file is not
    also copied into memory before it is parsed."""
    if os.path.isdir(name):
        raise W2VError(f"{name}: is a directory, not a word2vec file")
    try:
        f = open(name, "rb")  # noqa: SIM115 - closed in the finally below
    except FileNotFoundError:
        raise W2VError(f"{name}: no such file") from None
    except OSError as exc:
        raise W2VError(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        try:
            buf: Any = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):
            # Empty files and pipes cannot be mapped.
            try:
                buf = f.read()
            except OSError as exc:
                raise W2VError(f"{name}: cannot read: {exc.strerror or exc}") from None
        try:
            yield buf
        finally:
            if isinstance(buf, mmap.mmap):
                # A stray numpy view would make close() fail; the mapping then simply
                # lives until garbage collection.
                with contextlib.suppress(BufferError):
                    buf.close()
    finally:
        f.close()


# Signatures of files people mistake for vectors, to say what they are instead.
_FOREIGN_SIGNATURES = (
    (b"PK\x03\x04", "a zip archive (PyTorch checkpoints and .npz files are zips)"),
    (b"\x93NUMPY", "a numpy .npy array"),
    (b"\x80", "a Python pickle, which is never loaded"),
    (b"\x1f\x8b", "gzip-compressed; decompress it first"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF", "a PDF document"),
)


def _parse_header(name: str, buf: Any) -> tuple[int, int, int]:
    end = buf.find(b"\n", 0, 256)
    line = bytes(buf[: end if end >= 0 else 64]).rstrip(b"\r")
    fields = line.split()
    if end >= 0 and len(fields) == 2 and all(f.isdigit() for f in fields):
        n_words, dim = int(fields[0]), int(fields[1])
        if dim == 0:
            raise W2VError(f"{name}: bad header: vector size is 0")
        return n_words, dim, end + 1
    for signature, what in _FOREIGN_SIGNATURES:
        if line.startswith(signature):
            raise W2VError(f"{name}: not a word2vec file: this is {what}")
    expected = "the first line should be '<number of words> <vector size>'"
    if not _looks_like_text(line):
        raise W2VError(f"{name}: not a word2vec file: {expected}, but it is not text")
    preview = line[:60].decode("utf-8", errors="replace")
    hint = ""
    if len(fields) > 2 and not fields[0].isdigit():
        hint = " (GloVe-style files have no header line)"
    raise W2VError(f"{name}: not a word2vec file: {expected}, got {preview!r}{hint}")


def _looks_like_text(sample: bytes) -> bool:
    if _CONTROL_BYTES.search(sample):
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The sample may end in the middle of a multi-byte character.
        return exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data"
    return True


def _words(n: int) -> str:
    return f"{n} word" if n == 1 else f"{n} words"


def _decode_word(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace")


def _read_binary(
    name: str, buf: Any, pos: int, n_words: int, dim: int, wanted: int
) -> tuple[list[str], np.ndarray]:
    size = len(buf)
    row_bytes = 4 * dim
    # A word, a space and the floats: no file can hold more entries than this, which
    # also keeps a bogus header from allocating terabytes.
    fits = (size - pos) // (row_bytes + 2)
    vectors = np.empty((min(wanted, fits + 1), dim), dtype=np.float32)
    words: list[str] = []
    seen: set[str] = set()
    for entry in range(1, wanted + 1):
        while pos < size and buf[pos] == 0x0A:  # the C tool's newline after each vector
            pos += 1
        space = buf.find(b" ", pos, pos + _MAX_WORD_BYTES + 1)
        if space < 0:
            if pos >= size:
                raise W2VError(
                    f"{name}: truncated: the header promises {_words(n_words)} but the data "
                    f"ends after {entry - 1}"
                )
            if size - pos > _MAX_WORD_BYTES:
                raise W2VError(
                    f"{name}: entry {entry} of {n_words}: no space-terminated word within "
                    f"{_MAX_WORD_BYTES} bytes; not a word2vec binary file?"
                )
            raise W2VError(
                f"{name}: truncated: entry {entry} of {n_words} has a word but no vector"
            )
        if space == pos:
            raise W2VError(f"{name}: entry {entry} of {n_words}: empty word")
        word = _decode_word(bytes(buf[pos:space]))
        start = space + 1
        if start + row_bytes > size:
            raise W2VError(
                f"{name}: truncated: expected {dim} floats for word {word!r} "
                f"(entry {entry} of {n_words}), found {(size - start) // 4}"
            )
        if word not in seen:
            seen.add(word)
            vectors[len(words)] = np.frombuffer(buf, dtype="<f4", count=dim, offset=start)
            words.append(word)
        pos = start + row_bytes
    if wanted == n_words and bytes(buf[pos:]).strip():
        raise W2VError(f"{name}: unexpected data after the {_words(n_words)} the header announces")
    return words, vectors[: len(words)].copy() if len(words) < len(vectors) else vectors


def _read_text(
    name: str, buf: Any, pos: int, n_words: int, dim: int, wanted: int
) -> tuple[list[str], np.ndarray]:
    body = bytes(buf[pos:])
    # Tabs and CRs are rare; when absent, lines need no per-line translation.
    odd_whitespace = any(c in body for c in (b"\t", b"\r", b"\x0b", b"\x0c"))
    if wanted == n_words:
        body = body.rstrip()
        lines = body.split(b"\n") if body else []
        if len(lines) > n_words:
            raise W2VError(
                f"{name}: more lines than the {_words(n_words)} the header announces"
                " (or not a text word2vec file)"
            )
    else:
        # Split no further than needed: the rest of the file is never looked at.
        lines = body.split(b"\n", wanted)[:wanted]
        while lines and not lines[-1].strip():
            lines.pop()
    del body
    if len(lines) < wanted:
        raise W2VError(
            f"{name}: truncated: the header promises {_words(n_words)} but the file has "
            f"only {len(lines)} lines of vectors"
        )
    words: list[str] = []
    entries: list[int] = []
    values: list[bytes] = []
    seen: set[str] = set()
    for entry, line in enumerate(lines, start=1):
        space = line.find(b" ")
        if space <= 0:
            what = "empty word" if space == 0 else "expected a word followed by values"
            preview = line[:40].decode("utf-8", errors="backslashreplace")
            raise W2VError(f"{name}: entry {entry} of {n_words}: {what}, got {preview!r}")
        word = _decode_word(line[:space])
        rest = line[space + 1 :]
        if odd_whitespace:
            rest = rest.translate(_WHITESPACE_TO_SPACE)
        rest = rest.strip()
        # Counting separators is a C-speed check for the common single-spaced line;
        # only odd spacing pays for a split.
        if rest.count(b" ") != dim - 1 or b"  " in rest or not rest:
            tokens = rest.split()
            if len(tokens) != dim:
                raise W2VError(
                    f"{name}: entry {entry} of {n_words} ({word!r}): expected {dim} values, "
                    f"got {len(tokens)}"
                )
            rest = b" ".join(tokens)
        if word in seen:
            continue
        seen.add(word)
        words.append(word)
        entries.append(entry)
        values.append(rest)
    if not words:
        return words, np.empty((0, dim), dtype=np.float32)
    try:
        with warnings.catch_warnings():
            # numpy < 2.3 warns and returns a short array instead of raising.
            warnings.simplefilter("ignore", DeprecationWarning)
            flat = np.fromstring(b" ".join(values), dtype=np.float32, sep=" ")
    except ValueError:
        flat = None
    if flat is None or flat.size != len(words) * dim:
        _raise_bad_number(name, n_words, words, entries, values)
    return words, flat.reshape(len(words), dim)


def _raise_bad_number(
    name: str, n_words: int, words: list[str], entries: list[int], values: list[bytes]
) -> NoReturn:
    """Find and report the value the bulk parser stopped at."""
    for word, entry, rest in zip(words, entries, values, strict=True):
        for token in rest.split():
            try:
                float(token)
            except ValueError:
                bad = token[:30].decode("utf-8", errors="backslashreplace")
                raise W2VError(
                    f"{name}: entry {entry} of {n_words} ({word!r}): not a number: {bad!r}"
                ) from None
    raise W2VError(f"{name}: could not parse the vector values as numbers")


def _read_vocab_counts(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise W2VError(f"{path}: cannot read: {exc.strerror or exc}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        word, tab, count = line.rpartition("\t")
        if number == 1 and (word, count) == ("word", "count"):
            continue
        if not tab or not count.strip().isdigit():
            raise W2VError(f"{path}: line {number}: expected 'word<TAB>count', got {line[:60]!r}")
        counts.setdefault(word, int(count))
    return counts
