"""The spine of a training run: corpus -> vocabulary -> encoded ids -> trainer -> run directory.

The library (``w2v.train``, ``w2v.resume``) and the ``w2v train`` command both go through
:func:`train` and :func:`resume`; the command adds its printing through callbacks
(``Callback.on_corpus_ready`` and ``on_trainer_ready`` are called here, between the stages),
never through a second copy of the stages. The files of the run directory are rundir.py's.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from . import engines, rundir
from .atomic import write_json
from .config import TrainConfig, build_config
from .corpus import CorpusStats, ScannedCorpus, scan_corpus, scan_sentences
from .distributed import World, all_ok, merge_counts, sum_numbers
from .encoded import EncodedCorpus, encode_corpus, load_encoded
from .errors import W2VError
from .rundir import RunDir
from .tokenize import Tokenizer
from .trainer import Callback, EpochSummary, Trainer
from .vectors import KeyedVectors
from .vocab import Vocab

log = logging.getLogger(__name__)

Corpus = str | os.PathLike[str] | Iterable[list[str]] | None


def bundled_corpus() -> Path:
    """The default corpus that ships inside the package: Flickr30k captions."""
    return Path(str(resources.files("w2v") / "datasets" / "flickr30k_captions.txt.gz"))


def default_cache_dir() -> Path:
    if os.environ.get("W2V_CACHE_DIR"):
        return Path(os.environ["W2V_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "w2v"


def tokenizer_for(config: TrainConfig) -> Tokenizer:
    return Tokenizer(lowercase=not config.keep_case, strip_punctuation=not config.keep_punctuation)


def build_vocab(words: list[str], counts: np.ndarray, config: TrainConfig) -> Vocab:
    vocab = Vocab.build(words, counts, config.min_count, config.max_vocab)
    if len(vocab) == 0:
        best = int(np.argmax(counts))
        raise W2VError(
            f"the vocabulary is empty: no word occurs --min-count {config.min_count} times "
            f"(the most frequent, {words[best]!r}, occurs {int(counts[best])} times)"
        )
    return vocab


class Run:
    """Prepares the data of a run and drives its trainer."""

    def __init__(
        self,
        config: TrainConfig,
        run_dir: Path | None,
        callbacks: list[Callback] | None = None,
        world: World | None = None,
    ) -> None:
        self.config = config
        self.world = world
        # Only rank 0 writes the run directory; the other ranks train and write nothing.
        self.run_dir = run_dir if world is None or world.is_main else None
        self.callbacks = callbacks or []
        self.cache_dir = Path(config.cache_dir) if config.cache_dir else default_cache_dir()
        self.stats: CorpusStats | None = None
        self.vocab: Vocab | None = None
        self.encoded: EncodedCorpus | None = None
        self.source: str | None = None
        self.trainer: Trainer | None = None
        self.distinct_words: int | None = None  # of the whole corpus, on several ranks

    # -- data ------------------------------------------------------------------------------

    def count(self, corpus: Corpus) -> tuple[ScannedCorpus, Vocab]:
        """Tokenize (or reuse the cached ids of) the corpus and build its vocabulary."""
        cfg, world = self.config, self.world
        if corpus is None:
            corpus = bundled_corpus()
        if isinstance(corpus, (str, os.PathLike)):
            self.source = str(corpus)
            path = corpus
            scanned = all_ok(
                world,
                lambda: scan_corpus(
                    path,
                    tokenizer_for(cfg),
                    text_column=cfg.text_column,
                    max_sentence_length=cfg.max_sentence_length,
                    cache_dir=self.cache_dir,
                    share=(world.rank, world.size) if world else None,
                ),
            )
        elif world is not None:
            raise W2VError("training on several ranks needs a corpus file, not sentences")
        else:
            # An iterable of token lists (gensim style) cannot be re-read later: its ids
            # are kept in the run directory, or in the cache when there is none.
            scanned = scan_sentences(
                corpus, self.run_dir or self.cache_dir, cfg.max_sentence_length
            )
        if world is None:
            return scanned, build_vocab(scanned.words, scanned.counts, cfg)
        # Each rank counted its share; the vocabulary is built from the sums, on every rank.
        words, counts = merge_counts(world, scanned.words, scanned.counts)
        self.distinct_words = len(words)
        return scanned, build_vocab(words, counts, cfg)

    def prepare(self, corpus: Corpus) -> None:
        cfg = self.config
        scanned, vocab = self.count(corpus)
        self.encoded = all_ok(self.world, lambda: encode_corpus(scanned, vocab))
        self.vocab = vocab
        sentences, tokens = scanned.n_sentences, scanned.n_tokens
        if self.world is not None:
            totals = sum_numbers(self.world, [float(sentences), float(tokens)])
            sentences, tokens = int(totals[0]), int(totals[1])
        self.stats = CorpusStats(
            sentences=sentences,
            tokens=tokens,
            distinct_words=self.distinct_words or len(scanned.words),
            vocab_size=len(vocab),
            vocab_tokens=vocab.total,
            min_count=cfg.min_count,
        )
        if self.run_dir is not None:
            rundir.write_config(
                self.run_dir,
                {
                    "config": cfg.to_dict(),
                    "corpus": self.source,
                    # a rank's shard is not the corpus: a resumed run encodes it again
                    "encoded": (
                        str(self.encoded.path.resolve())
                        if self.encoded.path and self.world is None
                        else None
                    ),
                    "ranks": self.world.size if self.world else 1,
                    "stats": self.stats.__dict__,
                },
            )
            vocab.save(RunDir(self.run_dir).vocab)
        for cb in self.callbacks:
            cb.on_corpus_ready(self.stats)

    # -- training --------------------------------------------------------------------------

    def make_trainer(self) -> Trainer:
        assert self.vocab is not None and self.encoded is not None
        callbacks = list(self.callbacks)
        evaluator = None
        if self.config.eval and (self.world is None or self.world.is_main):
            evaluator = epoch_evaluator(self.vocab, self.config.eval_benchmarks)
            if self.run_dir is not None:
                callbacks.insert(0, EvalWriter(self.run_dir))
        self.trainer = Trainer(
            self.config,
            self.vocab,
            self.encoded.ids,
            self.encoded.offsets,
            run_dir=self.run_dir,
            callbacks=callbacks,
            evaluator=evaluator,
            world=self.world,
        )
        for cb in self.callbacks:
            cb.on_trainer_ready(self.trainer)
        return self.trainer

    def finish(self) -> KeyedVectors:
        assert self.trainer is not None and self.vocab is not None
        vectors = KeyedVectors(self.vocab.words, self.trainer.input_vectors(), self.vocab.counts)
        if self.run_dir is not None:
            files = RunDir(self.run_dir)
            binary = self.config.format == "binary"
            vectors.save_word2vec_format(files.vectors(binary), binary=binary)
            # a stale file of the other format from an overwritten run
            files.vectors(not binary).unlink(missing_ok=True)
            write_json(files.history, self.trainer.history.to_dict())
        return vectors


def epoch_evaluator(
    vocab: Vocab, benchmarks: str | None
) -> Callable[[np.ndarray], dict[str, dict[str, Any]]]:
    """Scores of the vectors on the benchmarks (3CosAdd for analogies), one per benchmark.

    The benchmarks are read here, before training starts, so a bad name fails at once.
    """
    from .evaluate import BENCHMARKS, evaluate, headline_scores, load_benchmark

    names = [n.strip() for n in (benchmarks or "").split(",") if n.strip()]
    loaded = [load_benchmark(name) for name in names or BENCHMARKS]

    def scores(vectors: np.ndarray) -> dict[str, dict[str, Any]]:
        kv = KeyedVectors(vocab.words, vectors, vocab.counts)
        return headline_scores(evaluate(kv, loaded, methods=("add",)))

    return scores


class EvalWriter(Callback):
    """Keeps RUN_DIR/eval.json up to date with the scores of every finished epoch."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def on_epoch_end(self, trainer: Trainer, summary: EpochSummary) -> None:
        write_json(
            RunDir(self.run_dir).eval,
            {"format": rundir.EVAL_FORMAT, "epochs": trainer.history.epoch_eval},
        )


def train(
    corpus: Corpus = None,
    output: str | os.PathLike[str] | None = None,
    *,
    config: TrainConfig | None = None,
    preset: str | None = None,
    callbacks: list[Callback] | None = None,
    overwrite: bool = False,
    world: World | None = None,
    **options: Any,
) -> KeyedVectors:
    """Train word vectors and return them (and write a run directory if ``output`` is set).

    ``corpus`` is a path (text, compressed, folder, arrow/parquet/jsonl, "-" for stdin), an
    iterable of token lists, or None for the bundled Flickr30k captions. ``options`` are
    TrainConfig fields (``dim=50``, ``model="cbow"``, ...), applied over ``preset``.
    ``world`` (distributed.from_environment(), under torchrun) trains on several ranks; the
    process group must be started (distributed.start).
    """
    cfg = config.validate() if config is not None else build_config(preset, **options)
    # Where and with which engine, before anything is written: a run that cannot train
    # leaves no directory behind.
    engines.choose(cfg, engines.resolve_device(cfg.device, world))
    run_dir = None
    if output is not None:
        if world is None or world.is_main:
            run_dir = all_ok(world, lambda: rundir.prepare(output, overwrite))
        else:
            all_ok(world, lambda: None)
            run_dir = Path(output)
    run = Run(cfg, run_dir, callbacks, world)
    run.prepare(corpus)
    run.make_trainer().train()
    return run.finish()


def resume(
    run_dir: str | os.PathLike[str],
    *,
    callbacks: list[Callback] | None = None,
    device: str | None = None,
    threads: int | None = None,
    world: World | None = None,
) -> KeyedVectors:
    """Continue an interrupted run from its checkpoint, with its own config and corpus, on
    any number of ranks (``world``); every rank must see the run directory."""
    run_dir = Path(run_dir)
    files = RunDir(run_dir)
    saved = rundir.read_config(run_dir)
    values = dict(saved["config"])
    if device is not None:
        values["device"] = device
    if threads is not None:
        values["threads"] = threads
    cfg = TrainConfig.from_dict(values, str(files.config))
    if not files.checkpoint.exists():
        raise W2VError(f"{run_dir}: no {files.checkpoint.name} to resume from")
    run = Run(cfg, run_dir, callbacks, world)
    vocab = Vocab.load(files.vocab)
    encoded = load_encoded(saved.get("encoded")) if world is None else None
    if encoded is None:  # the cache was cleared: tokenize the corpus again
        if saved.get("corpus") is None:
            raise W2VError(f"{run_dir}: the corpus was not a file and its ids are gone")
        run.prepare(saved["corpus"])
        if run.vocab is None or run.vocab.words != vocab.words:
            raise W2VError(f"{run_dir}: the corpus changed since this run started")
    else:
        run.vocab, run.encoded, run.source = vocab, encoded, saved.get("corpus")
    trainer = run.make_trainer()
    trainer.load_checkpoint(files.checkpoint)
    trainer.train()
    return run.finish()
