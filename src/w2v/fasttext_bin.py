"""Facebook fastText's binary model format (``.bin``), read and written in pure numpy.

A ``.bin`` is the whole model, not just its word vectors: the input table of word *and*
character n-gram rows is what lets a fastText model give a vector to a word it never saw,
so reading one here (or writing one that fastText, gensim or anyone else can load) keeps
that ability. Nothing in the file is ever executed: it is parsed field by field, and every
size it claims is checked against the file's length before anything is allocated, so a
truncated, foreign or hostile file is a one-line :class:`~w2v.errors.W2VError`.

The layout (little-endian; fastText's ``FastText::saveModel`` and the ``save`` methods of
``Args``, ``Dictionary`` and ``DenseMatrix``):

* int32 magic 793712314, int32 version. fastText writes 12 and loads any version up to
  12. Versions 11 and 12 are the same bytes: 12 only changed what a *supervised* model
  means (a version-11 one had no character n-grams, so fastText loads it with ``maxn``
  0). This module reads both and writes 12.
* Args: int32 dim, ws, epoch, minCount, neg, wordNgrams, loss (hs 1, ns 2, softmax 3,
  ova 4), model (cbow 1, sg 2, sup 3), bucket, minn, maxn, lrUpdateRate; float64 t.
* Dictionary: int32 size, nwords, nlabels; int64 ntokens, pruneidx_size; ``size``
  entries (the word's bytes, a NUL, int64 count, int8 type: 0 word, 1 label); then
  ``pruneidx_size`` pairs of int32. An unpruned dictionary says ``pruneidx_size`` -1:
  fastText reads 0 as "pruned to nothing" (no word has n-gram rows any more) and refuses
  a pruned dictionary in a model that is not quantized.
* bool quant_input; the input matrix (int64 rows, int64 cols, float32 row-major):
  ``nwords + bucket`` rows, the words' then the n-gram buckets'.
* bool qout; the output matrix: ``nwords`` rows for an unsupervised model, whatever the
  loss (hierarchical softmax keeps its tree nodes in those rows too).

Only unsupervised (``sg``/``cbow``) float models are supported: a quantized ``.ftz``
model or a supervised classifier is refused with a message saying so. Label entries in the
dictionary of an unsupervised model (fastText makes one of any ``__label__`` token) have no
rows, so reading skips them; writing such a model back drops them.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
from dataclasses import dataclass, fields
from functools import cached_property
from typing import IO, Any

import numpy as np

from .atomic import PathLike, atomic_write
from .engines.numba_kernel import njit
from .errors import UnknownWordError, W2VError
from .formats import FASTTEXT_MAGIC as MAGIC
from .subword_bags import Bags, bags, mean_rows
from .subwords import Subwords, unseen_rows

VERSION = 12
READABLE_VERSIONS = (11, 12)
EOS = "</s>"  # fastText's end-of-line token: known, it is its own row only (no n-grams)

LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
MODELS = {1: "cbow", 2: "sg", 3: "sup"}
_LOSS_IDS = {v: k for k, v in LOSSES.items()}
_MODEL_IDS = {v: k for k, v in MODELS.items()}

_HEADER = struct.Struct("<ii")
_ARGS = struct.Struct("<12id")
_DICT = struct.Struct("<iiiqq")
_MATRIX = struct.Struct("<qq")
_BOOL = struct.Struct("<B")
# A dictionary entry after its word: the NUL, then the int64 count and int8 type (_TAIL).
_ENTRY_TAIL = np.dtype([("nul", "u1"), ("count", "<i8"), ("type", "i1")])
_TAIL = np.dtype([("count", "<i8"), ("type", "i1")])
_FLOAT = np.dtype("<f4")
_INT32_MAX = 2**31 - 1
_QUANTIZED = "a quantized fastText model (.ftz): only full-precision models are supported"


@dataclass(eq=False)
class FastTextModel:
    """An unsupervised fastText model: what a ``.bin`` holds, as numpy arrays.

    ``input`` is fastText's input table (the words' rows, then ``bucket`` n-gram rows);
    a word's vector is the mean of its bag of rows (see :mod:`w2v.subwords`), never a row
    alone. The training settings are kept so that a model read and written back is the
    same file, and so that fastText could resume training from it.
    """

    words: list[str]  # the dictionary's words (type 0 entries), in file order
    counts: np.ndarray  # int64, one per word
    input: np.ndarray  # float32 (len(words) + bucket, dim)
    output: np.ndarray  # float32 (len(words), dim)
    subwords: Subwords
    model: str = "sg"  # "sg" | "cbow" | "sup"
    loss: str = "ns"  # "ns" | "hs" | "softmax" | "ova"
    window: int = 5
    epochs: int = 5
    min_count: int = 5
    negative: int = 5
    word_ngrams: int = 1
    lr_update_rate: int = 100
    sample: float = 1e-4
    ntokens: int = 0  # tokens of the training corpus (fastText stores it)

    @property
    def dim(self) -> int:
        """The vectors' size (the input table's columns)."""
        return int(self.input.shape[1])

    @cached_property
    def _index(self) -> dict[str, int]:
        """Each word's row; built on first use, so ``words`` is not to change after it."""
        return {w: i for i, w in enumerate(self.words)}

    @cached_property
    def vocabulary_bags(self) -> Bags:
        """Every word's input rows (hashing a large vocabulary takes a moment: once)."""
        return bags(self.words, self.subwords)

    def word_vectors(self) -> np.ndarray:
        """Every word's vector, in ``words`` order: the mean of the word's own row and its
        n-grams' rows, as fastText's ``getWordVector`` computes it (``</s>`` is its row)."""
        vectors = mean_rows(self.input, self.vocabulary_bags)
        eos = self._index.get(EOS)
        if eos is not None:
            vectors[eos] = self.input[eos]
        return vectors

    def vector(self, word: str) -> np.ndarray:
        """fastText's ``get_word_vector``: a known word's bag mean; an unknown word's mean of
        its n-gram rows. An unknown word without n-grams has no vector (fastText would
        answer zeros): that is an :class:`~w2v.errors.UnknownWordError`."""
        nwords = len(self.words)
        i = self._index.get(word)
        if i is not None:
            if word == EOS:
                rows = np.array([i], dtype=np.int64)
            else:
                rows = bags([word], self.subwords, first_row=nwords).rows.copy()
                rows[0] = i
        else:
            rows = (
                np.empty(0, np.int64) if word == EOS else unseen_rows(word, self.subwords, nwords)
            )
            if len(rows) == 0:
                raise UnknownWordError(word, why=_no_ngrams(word, self.subwords))
        return mean_rows(self.input, Bags(rows, np.array([0, len(rows)], dtype=np.int64)))[0]

    def __eq__(self, other: object) -> bool:
        """Field by field, arrays by value (dtype, shape and every element)."""
        if not isinstance(other, FastTextModel):
            return NotImplemented
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
                a, b = np.asarray(a), np.asarray(b)
                if a.dtype != b.dtype or not np.array_equal(a, b):
                    return False
            elif a != b:
                return False
        return True


def _no_ngrams(word: str, subwords: Subwords) -> str:
    """Why an unknown word has no vector."""
    if word == EOS:
        return "it is not in the vocabulary (fastText gives it no n-grams)"
    if not subwords.enabled:
        return "it is not in the vocabulary and the model has no n-grams (maxn 0)"
    return (
        f"it is not in the vocabulary and has no n-gram of {subwords.minn}-{subwords.maxn} "
        "characters to make a vector from (too short)"
    )


# -- writing ------------------------------------------------------------------------------


def write_bin(path: PathLike, model: FastTextModel) -> None:
    """``model`` as a fastText ``.bin`` (version 12) that fastText and gensim load, written
    atomically. A model that fastText could not load the same way is refused first."""
    name = os.fspath(path)
    joined = _check_writable(name, model)
    header = _HEADER.pack(MAGIC, VERSION) + _ARGS.pack(
        model.dim,
        model.window,
        model.epochs,
        model.min_count,
        model.negative,
        model.word_ngrams,
        _LOSS_IDS[model.loss],
        _MODEL_IDS[model.model],
        model.subwords.bucket,
        model.subwords.minn,
        model.subwords.maxn,
        model.lr_update_rate,
        float(model.sample),
    )
    n = len(model.words)
    # pruneidx_size -1: not pruned (fastText reads 0 as "every n-gram pruned away").
    dictionary = _DICT.pack(n, n, 0, int(model.ntokens), -1) + _entries(joined, model.counts)
    inp = np.ascontiguousarray(model.input, dtype=_FLOAT)
    out = np.ascontiguousarray(model.output, dtype=_FLOAT)

    def write(f: IO[bytes]) -> None:
        f.write(header)
        f.write(dictionary)
        f.write(b"\0" + _MATRIX.pack(*inp.shape))
        f.write(inp.reshape(-1).view(np.uint8))
        f.write(b"\0" + _MATRIX.pack(*out.shape))
        f.write(out.reshape(-1).view(np.uint8))

    atomic_write(path, write)


def _check_writable(name: str, model: FastTextModel) -> bytes:
    """The words as UTF-8, each ending in a NUL, once the model is known to make a file
    that fastText loads as it is."""
    prefix = f"{name}: cannot write a fastText model:"
    if model.model not in ("sg", "cbow"):
        raise W2VError(f"{prefix} model must be 'sg' or 'cbow', got {model.model!r}")
    if model.loss not in _LOSS_IDS:
        raise W2VError(f"{prefix} loss must be one of {', '.join(_LOSS_IDS)}, got {model.loss!r}")
    nwords, bucket = len(model.words), model.subwords.bucket
    if model.input.ndim != 2 or model.output.ndim != 2:
        raise W2VError(f"{prefix} input and output must be 2-d arrays")
    if model.dim < 1:
        raise W2VError(f"{prefix} vector size must be positive")
    if model.input.shape[0] != nwords + bucket:
        raise W2VError(
            f"{prefix} input has {model.input.shape[0]} rows, expected {nwords} words "
            f"+ {bucket} buckets"
        )
    if model.output.shape != (nwords, model.dim):
        raise W2VError(f"{prefix} output is {model.output.shape}, expected ({nwords}, {model.dim})")
    if np.shape(model.counts) != (nwords,):
        raise W2VError(f"{prefix} {np.shape(model.counts)} counts for {nwords} words")
    ints = {
        "window": model.window,
        "epochs": model.epochs,
        "min_count": model.min_count,
        "negative": model.negative,
        "word_ngrams": model.word_ngrams,
        "lr_update_rate": model.lr_update_rate,
        "dim": model.dim,
        "words + bucket": nwords + bucket,
    }
    for what, value in ints.items():
        if not -(2**31) <= int(value) <= _INT32_MAX:
            raise W2VError(f"{prefix} {what} {value} does not fit fastText's int32")
    if model.ntokens < 0:
        raise W2VError(f"{prefix} ntokens must be >= 0, got {model.ntokens}")
    dup = _first_duplicate(model.words)
    if dup is not None:
        raise W2VError(f"{prefix} word {dup!r} appears twice")
    return _encode_words(prefix, model.words)


def _encode_words(prefix: str, words: list[str]) -> bytes:
    """Every word as UTF-8 followed by a NUL (which therefore no word may contain)."""
    text = "\0".join(words)
    if words and text.count("\0") != len(words) - 1:
        bad = next(w for w in words if "\0" in w)
        raise W2VError(f"{prefix} word {bad!r} contains a NUL character")
    try:
        return (text + "\0").encode("utf-8") if words else b""
    except UnicodeEncodeError as exc:
        bad = words[text.count("\0", 0, exc.start)]
        raise W2VError(f"{prefix} word {bad!r} is not valid Unicode") from None


def _entries(joined: bytes, counts: np.ndarray) -> bytes:
    """The dictionary's entries (word, NUL, int64 count, int8 type 0) from ``joined`` (each
    word and its NUL), without a loop over words: the bytes of ``joined`` move 9 places
    further on per word before them, and the 9-byte tails fill the gaps."""
    data = np.frombuffer(joined, dtype=np.uint8)
    n = len(counts)
    nuls = np.flatnonzero(data == 0)
    bump = np.zeros(len(data), dtype=np.int64)
    bump[nuls[:-1] + 1] = _TAIL.itemsize
    dest = np.arange(len(data)) + np.cumsum(bump)
    out = np.empty(len(data) + n * _TAIL.itemsize, dtype=np.uint8)
    out[dest] = data
    tails = np.zeros(n, dtype=_TAIL)
    tails["count"] = np.asarray(counts, dtype=np.int64)
    out[(dest[nuls] + 1)[:, None] + np.arange(_TAIL.itemsize)] = tails.view(np.uint8).reshape(
        n, _TAIL.itemsize
    )
    return out.tobytes()


# -- reading ------------------------------------------------------------------------------


def is_fasttext_bin(path: PathLike) -> bool:
    """Whether the file starts as a fastText ``.bin`` this module reads (magic, version)."""
    try:
        with open(path, "rb") as f:
            head = f.read(_HEADER.size)
    except OSError:
        return False
    if len(head) < _HEADER.size:
        return False
    magic, version = _HEADER.unpack(head)
    return magic == MAGIC and version in READABLE_VERSIONS


def read_bin(path: PathLike) -> FastTextModel:
    """Read a fastText ``.bin``. Anything wrong with the file is a :class:`W2VError` whose
    one line names the file and the problem.

    A word that is not valid UTF-8 (fastText's words are any bytes) is decoded with
    ``errors="backslashreplace"``, as gensim does: it keeps its own row, but its n-grams
    are those of the replaced text. Label entries are skipped (see the module's doc).
    """
    name = os.fspath(path)
    if os.path.isdir(name):
        raise W2VError(f"{name}: is a directory, not a fastText model")
    try:
        f = open(name, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise W2VError(f"{name}: no such file") from None
    except OSError as exc:
        raise W2VError(f"{name}: cannot read: {exc.strerror or exc}") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            raise W2VError(f"{name}: empty file, not a fastText model")
        try:
            buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            raise W2VError(f"{name}: cannot read: {exc}") from None
        try:
            return _Reader(name, buf).model()
        finally:
            # A stray numpy view would make close() fail; then the mapping lives until
            # garbage collection.
            with contextlib.suppress(BufferError):
                buf.close()


class _Reader:
    """One pass over a ``.bin`` held in ``buf``, checking each field as it goes."""

    def __init__(self, name: str, buf: Any) -> None:
        self.name = name
        self.buf = buf
        self.size = len(buf)
        self.pos = 0

    def fail(self, message: str) -> W2VError:
        return W2VError(f"{self.name}: {message}")

    def unpack(self, fmt: struct.Struct, where: str) -> tuple[Any, ...]:
        if self.pos + fmt.size > self.size:
            raise self.fail(f"truncated fastText model: the file ends in the {where}")
        values = fmt.unpack_from(self.buf, self.pos)
        self.pos += fmt.size
        return values

    def model(self) -> FastTextModel:
        self.check_signature()
        (dim, ws, epoch, min_count, neg, word_ngrams, loss, model, bucket, minn, maxn,
         lr_update_rate, t) = self.unpack(_ARGS, "header")  # fmt: skip
        if model not in MODELS:
            raise self.fail(f"bad fastText header: unknown model type {model}")
        if MODELS[model] == "sup":
            raise self.fail(
                "a supervised fastText model (classifier): only unsupervised models "
                "(skipgram, cbow) are supported"
            )
        if loss not in LOSSES:
            raise self.fail(f"bad fastText header: unknown loss {loss}")
        if dim < 1:
            raise self.fail(f"bad fastText header: vector size (dim) {dim} is not positive")
        if bucket < 0 or minn < 0 or maxn < 0:
            raise self.fail(
                f"bad fastText header: negative bucket, minn or maxn ({bucket}, {minn}, {maxn})"
            )
        try:
            subwords = Subwords(minn, maxn, bucket)
        except ValueError as exc:
            raise self.fail(f"unsupported fastText n-gram settings: {exc}") from None
        words, counts, ntokens, prune = self.dictionary()
        nwords = len(words)
        # A pruned dictionary comes with a quantized input: say the more useful of the two.
        if self.flag("input"):
            raise self.fail(_QUANTIZED)
        if prune >= 0:
            raise self.fail(
                "bad fastText model: a pruned dictionary in a model that is not quantized "
                "(fastText refuses it too)"
            )
        inp = self.matrix("input", nwords + bucket, dim, f"{nwords} words + {bucket} buckets")
        out = self.matrix("output", nwords, dim, f"{nwords} words")
        if self.pos != self.size:
            extra = self.size - self.pos
            raise self.fail(
                f"{extra} byte{'s' if extra != 1 else ''} of trailing data after the fastText model"
            )
        return FastTextModel(
            words=words,
            counts=counts,
            input=inp,
            output=out,
            subwords=subwords,
            model=MODELS[model],
            loss=LOSSES[loss],
            window=ws,
            epochs=epoch,
            min_count=min_count,
            negative=neg,
            word_ngrams=word_ngrams,
            lr_update_rate=lr_update_rate,
            sample=t,
            ntokens=ntokens,
        )

    def check_signature(self) -> None:
        if self.size < _HEADER.size:
            raise self.fail(f"not a fastText model: only {self.size} bytes")
        magic, version = self.unpack(_HEADER, "header")
        if magic != MAGIC:
            head = bytes(self.buf[:8])
            hint = ""
            if all(32 <= c < 127 or c in b"\t\r\n" for c in head):
                hint = " (it looks like text: a .vec file? read it as word2vec text)"
            raise self.fail(f"not a fastText .bin model: no fastText magic number{hint}")
        if version not in READABLE_VERSIONS:
            raise self.fail(
                f"unsupported fastText format version {version} (this reads versions "
                f"{' and '.join(map(str, READABLE_VERSIONS))})"
            )

    def dictionary(self) -> tuple[list[str], np.ndarray, int, int]:
        """The words and their counts (labels skipped), ntokens and pruneidx_size."""
        size, nwords, nlabels, ntokens, prune = self.unpack(_DICT, "dictionary header")
        if size < 0 or nwords < 0 or nlabels < 0 or size != nwords + nlabels:
            raise self.fail(
                f"bad fastText dictionary: {size} entries, {nwords} words, {nlabels} labels"
            )
        if ntokens < 0:
            raise self.fail(f"bad fastText dictionary: negative token count {ntokens}")
        if prune < -1:
            raise self.fail(f"bad fastText dictionary: pruned index of size {prune}")
        left = self.size - self.pos
        if size * (1 + _ENTRY_TAIL.itemsize) > left:
            raise self.fail(
                f"truncated fastText model: the dictionary claims {size} entries, which "
                f"need at least {size * (1 + _ENTRY_TAIL.itemsize)} bytes, but only {left} remain"
            )
        start = self.pos
        data = np.frombuffer(self.buf, dtype=np.uint8)
        nuls, end = _find_entries(data, start, size, _ENTRY_TAIL.itemsize)
        if len(nuls) < size:
            raise self.fail(
                f"truncated fastText model: the file ends in the dictionary "
                f"(entry {len(nuls) + 1} of {size})"
            )
        self.pos = end
        region = data[start:end]
        del data
        tail_at = (nuls - start)[:, None] + np.arange(1, _ENTRY_TAIL.itemsize)
        counts = region[tail_at[:, :8]].view("<i8").reshape(size)
        types = region[tail_at[:, 8]].view(np.int8)
        keep = np.ones(len(region), dtype=bool)
        keep[tail_at.ravel()] = False
        joined = region[keep].tobytes()  # every word followed by its NUL
        del region
        expected = np.zeros(size, dtype=np.int8)
        expected[nwords:] = 1
        if not np.array_equal(types, expected):
            bad = int(np.flatnonzero(types != expected)[0])
            raise self.fail(
                f"bad fastText dictionary: entry {bad + 1} has type {int(types[bad])}, "
                f"expected the {nwords} words (type 0) before the {nlabels} labels (type 1)"
            )
        if prune >= 0:
            pairs = prune * 8
            if pairs > self.size - self.pos:
                raise self.fail(f"truncated fastText model: the pruned index claims {prune} pairs")
            self.pos += pairs
        words = _decode(joined)[:nwords]
        dup = _first_duplicate(words)
        if dup is not None:
            raise self.fail(f"bad fastText dictionary: word {dup!r} appears twice")
        return words, counts[:nwords].astype(np.int64), ntokens, prune

    def flag(self, which: str) -> bool:
        """A bool byte (quant_input / qout): it must be 0 or 1."""
        (value,) = self.unpack(_BOOL, f"{which} matrix")
        if value > 1:
            raise self.fail(f"bad fastText model: quantization flag {value} before the {which}")
        return bool(value)

    def matrix(self, which: str, rows: int, cols: int, expected: str) -> np.ndarray:
        """A dense float32 matrix, checked against the header before it is allocated."""
        if which == "output" and self.flag(which):
            raise self.fail(_QUANTIZED)
        m, n = self.unpack(_MATRIX, f"{which} matrix header")
        if m < 0 or n < 0:
            raise self.fail(f"bad fastText model: the {which} matrix claims {m} x {n}")
        left = self.size - self.pos
        need = m * n * _FLOAT.itemsize
        if need > left:
            raise self.fail(
                f"truncated fastText model: the {which} matrix claims {m} x {n} floats "
                f"({need} bytes) but only {left} bytes remain"
            )
        if (m, n) != (rows, cols):
            raise self.fail(
                f"bad fastText model: the {which} matrix is {m} x {n}, expected "
                f"{rows} x {cols} ({expected}, dim {cols})"
            )
        view = np.frombuffer(self.buf, dtype=_FLOAT, count=m * n, offset=self.pos)
        array = view.astype(np.float32).reshape(m, n)
        del view
        self.pos += need
        return array


def _first_duplicate(words: list[str]) -> str | None:
    """The first word seen twice, if any (a dictionary maps each word to one row)."""
    if len(set(words)) == len(words):
        return None
    seen: set[str] = set()
    for w in words:
        if w in seen:
            return w
        seen.add(w)
    return None


def _decode(joined: bytes) -> list[str]:
    """The words of ``word NUL word NUL ...``: all at once when the dictionary is valid
    UTF-8 (the usual case), else word by word with invalid bytes backslash-escaped."""
    try:
        return joined.decode("utf-8").split("\0")[:-1]
    except UnicodeDecodeError:
        return [w.decode("utf-8", errors="backslashreplace") for w in joined.split(b"\0")[:-1]]


@njit(cache=True)
def _find_entries(data, pos, size, tail):
    """The NUL ending each of ``size`` dictionary entries' word, walking from ``pos``, and
    where the walk ended. A word ends at its first NUL, but the ``tail`` bytes after it
    (the NUL, count and type) may hold NULs too: hence a walk rather than a split. Fewer
    than ``size`` positions when the file ends first."""
    nuls = np.empty(size, dtype=np.int64)
    end = len(data)
    for i in range(size):
        j = pos
        while j < end and data[j] != 0:
            j += 1
        if j + tail > end:
            return nuls[:i], pos
        nuls[i] = j
        pos = j + tail
    return nuls, pos
