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
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import engines, rundir, sources
from .atomic import write_json
from .columns import Layout
from .config import TrainConfig, build_config
from .corpus import CorpusStats, Limit, ScannedCorpus, scan_corpus, scan_sentences
from .distributed import World, all_ok, merge_counts, sum_numbers
from .encoded import EncodedCorpus, encode_corpus, load_encoded
from .errors import W2VError, option
from .rundir import RunDir
from .trainer import Callback, EpochSummary, Position, Trainer, read_checkpoint
from .vectors import KeyedVectors
from .vocab import Vocab

if TYPE_CHECKING:
    from .phrases import JoinStats

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


def build_vocab(words: list[str], counts: np.ndarray, config: TrainConfig) -> Vocab:
    vocab = Vocab.build(words, counts, config.min_count, config.max_vocab)
    if len(vocab) == 0:
        best = int(np.argmax(counts))
        raise W2VError(
            f"the vocabulary is empty: no word occurs {config.min_count} times "
            f"({option('min_count')}; the most frequent, {words[best]!r}, occurs "
            f"{int(counts[best])} times)"
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
        self.phrase_stats: JoinStats | None = None  # with the phrases option
        self._written_at: Position | None = None  # where the outputs on disk are from

    # -- data ------------------------------------------------------------------------------

    def count(self, corpus: Corpus) -> tuple[ScannedCorpus, Vocab]:
        """Tokenize (or reuse the cached ids of) the corpus and build its vocabulary."""
        cfg, world = self.config, self.world
        limit = Limit(cfg.limit, cfg.limit_sentences)
        if corpus is None:
            corpus = bundled_corpus()
        if isinstance(corpus, (str, os.PathLike)):
            self.source = str(corpus)
            path = corpus
            scanned = all_ok(
                world,
                lambda: scan_corpus(
                    path,
                    cfg.make_tokenizer(),
                    Layout(cfg.text_column, cfg.delimiter, cfg.header),
                    max_sentence_length=cfg.max_sentence_length,
                    cache_dir=self.cache_dir,
                    share=(world.rank, world.size) if world else None,
                    limit=limit.per_rank(world.size) if world else limit,
                ),
            )
        elif world is not None:
            raise W2VError("training on several ranks needs a corpus file, not sentences")
        else:
            # An iterable of token lists (gensim style) cannot be re-read later: its ids
            # are kept in the run directory, or in the cache when there is none.
            ignored = [n for n in ("text_column", "delimiter") if getattr(cfg, n) is not None]
            if ignored or cfg.header != "auto":
                name = ignored[0] if ignored else "header"
                raise W2VError(f"{option(name)} applies to a corpus file, not to token lists")
            scanned = scan_sentences(
                corpus, self.run_dir or self.cache_dir, cfg.max_sentence_length, limit
            )
        if cfg.phrases is not None:
            from .phrases import join_for_run  # numba, only with phrases

            phrases = cfg.phrases
            scanned, self.phrase_stats = all_ok(world, lambda: join_for_run(scanned, phrases))
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
            phrases=self.phrase_stats.describe() if self.phrase_stats else None,
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
        # The run's own writers come first: a caller's callback that stops the run finds
        # the files of the moment written.
        writers: list[Callback] = [OutputWriter(self)] if self.run_dir is not None else []
        evaluator = None
        if self.config.eval and (self.world is None or self.world.is_main):
            evaluator = epoch_evaluator(self.vocab, self.config.eval_benchmarks)
            if self.run_dir is not None:
                writers.append(EvalWriter(self.run_dir))
        self.trainer = Trainer(
            self.config,
            self.vocab,
            self.encoded.ids,
            self.encoded.offsets,
            run_dir=self.run_dir,
            callbacks=writers + self.callbacks,
            evaluator=evaluator,
            world=self.world,
        )
        for cb in self.callbacks:
            cb.on_trainer_ready(self.trainer)
        return self.trainer

    def write_outputs(self) -> KeyedVectors:
        """The vectors as of now; in a run directory they and the loss history are written
        too. Every checkpoint calls this (a run stopped midway can be queried, evaluated and
        plotted), and the end of the run unless a checkpoint just did."""
        assert self.trainer is not None and self.vocab is not None
        if self.config.subwords:
            vectors: KeyedVectors = self.subword_vectors()
        else:
            vectors = KeyedVectors(
                self.vocab.words, self.trainer.input_vectors(), self.vocab.counts
            )
        if self.run_dir is not None and self._written_at != self.trainer.position:
            history = self.trainer.history.to_dict()
            rundir.write_outputs(self.run_dir, vectors, history, self.config.format == "binary")
            self._written_at = replace(self.trainer.position)  # a copy: the trainer's moves on
        return vectors

    def subword_vectors(self) -> KeyedVectors:
        """fastText's model as trained so far (its .bin is written with the vectors)."""
        from .fasttext_bin import FastTextModel
        from .subword_vectors import SubwordVectors

        assert self.trainer is not None and self.vocab is not None
        cfg, tables = self.config, self.trainer.tables
        subwords = cfg.make_subwords()
        assert subwords is not None
        model = FastTextModel(
            words=list(self.vocab.words),
            counts=np.asarray(self.vocab.counts, dtype=np.int64),
            # the tables at rest, without a copy of the n-gram table (800 MB by default):
            # the model is written at once, and at the end training no longer moves them
            input=tables.host_view(tables.input),
            output=tables.host_view(tables.output),
            subwords=subwords,
            model=cfg.model,
            window=cfg.window,
            epochs=cfg.epochs,
            min_count=cfg.min_count,
            negative=cfg.negative,
            sample=cfg.sample,
            ntokens=self.stats.tokens if self.stats else int(np.sum(self.vocab.counts)),
        )
        return SubwordVectors(model)

    def finish(self) -> KeyedVectors:
        return self.write_outputs()


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


class OutputWriter(Callback):
    """Writes the run's vectors and history.json with every checkpoint."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def on_checkpoint(self, trainer: Trainer) -> None:
        self.run.write_outputs()


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
    if not isinstance(options.get("phrases"), str | None):  # a path or a w2v.Phrases
        from .phrases import option_value

        cache = options.get("cache_dir") or (config and config.cache_dir) or default_cache_dir()
        options["phrases"] = option_value(options["phrases"], Path(cache))
    cfg = config.validate() if config is not None else build_config(preset, **options)
    # Where and with which engine, before anything is written: a run that cannot train
    # leaves no directory behind.
    engines.choose(cfg, engines.resolve_device(cfg.device, world))
    if isinstance(corpus, (str, os.PathLike)):
        sources.check_layout(corpus, Layout(cfg.text_column, cfg.delimiter, cfg.header))
    if cfg.phrases is not None:
        from .phrases import check_option

        check_option(cfg.phrases, distributed=world is not None)
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
    epochs: int | None = None,
    callbacks: list[Callback] | None = None,
    device: str | None = None,
    threads: int | None = None,
    world: World | None = None,
) -> KeyedVectors:
    """Continue a run from its checkpoint, with its own config and corpus, on any number of
    ranks (``world``); every rank must see the run directory.

    ``epochs`` trains it to that many epochs in all (more than it has finished), and is saved
    in its config.json: the learning rate then decays over the new total, so it goes on from
    where a run planned for ``epochs`` epochs would be at this point.
    """
    run_dir = Path(run_dir)
    files = RunDir(run_dir)
    saved = rundir.read_config(run_dir)
    values = dict(saved["config"])
    if device is not None:
        values["device"] = device
    if threads is not None:
        values["threads"] = threads
    if epochs is not None:
        values["epochs"] = epochs
    cfg = TrainConfig.from_dict(values, str(files.config))
    if not files.checkpoint.exists():
        raise W2VError(f"{run_dir}: no {files.checkpoint.name} to resume from")
    # Read first, so that a damaged checkpoint or a wrong --epochs fails before anything
    # is tokenized or written.
    state = read_checkpoint(files.checkpoint)
    check_epochs_left(run_dir, Position(**state["position"]).epoch, cfg.epochs, epochs)
    run = Run(cfg, run_dir, callbacks, world)
    if epochs is not None and run.run_dir is not None:  # the new plan, before it trains
        payload = {key: value for key, value in saved.items() if key != "format"}
        rundir.write_config(run_dir, {**payload, "config": {**saved["config"], "epochs": epochs}})
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
    trainer.load_state(state, files.checkpoint)
    del state  # the tables are in the trainer's now
    trainer.train()
    return run.finish()


def check_epochs_left(run_dir: Path, done: int, planned: int, asked: int | None) -> None:
    """A resumed run must have epochs left to train: ``done`` of ``planned`` are finished,
    ``asked`` is the new total when one was given."""
    if asked is not None and asked <= done:
        raise W2VError(
            f"{run_dir}: {option('epochs', asked)} is not more than the {done} epochs it has "
            f"trained already; give a larger total, such as {option('epochs', done + 1)}"
        )
    if done >= planned:
        raise W2VError(
            f"{run_dir}: the run has finished all its {done} epochs; to train it more, "
            f"resume it with a larger total ({option('epochs', done + 1)} or more)"
        )
