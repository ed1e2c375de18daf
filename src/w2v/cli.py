"""The ``w2v`` command: parses, calls the library, prints. Nothing else lives here.

Light on purpose: the query commands (similarity, neighbors, analogy, evaluate, export,
plot, serve) and ``--help`` import neither torch nor numba; ``w2v train`` (cli_train.py) does.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .benchmarks import DEFAULT_RESTRICT_VOCAB
from .cli_args import (
    EXIT_INTERRUPTED,
    EXIT_USER_ERROR,
    Parser,
    add_config_flags,
    given_flags,
)
from .cli_phrases import CORPUS_FLAGS, add_phrases_parser
from .config import PRESETS, build_config
from .errors import W2VError, flag_names
from .rundir import RunDir
from .serve.limits import DEFAULT_HOST, DEFAULT_PORT

# -- commands ----------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    from .cli_train import cmd_train as train_command  # torch, only for this command

    return train_command(args)


def cmd_vocab(args: argparse.Namespace) -> int:
    from .run import Run

    cfg = build_config(None, **given_flags(args))
    run = Run(cfg, None)
    scanned, vocab = run.count(args.corpus)
    print(f"sentences:       {scanned.n_sentences:,}")
    print(f"tokens:          {scanned.n_tokens:,}")
    print(f"distinct words:  {len(scanned.words):,}")
    print(
        f"vocabulary size: {len(vocab):,} (min count {cfg.min_count}"
        + (f", max {cfg.max_vocab:,})" if cfg.max_vocab else ")")
    )
    print(f"tokens in vocab: {vocab.total:,} ({100 * vocab.total / scanned.n_tokens:.1f}%)")
    if run.phrase_stats is not None:
        print(run.phrase_stats.describe())
    print(f"most frequent {min(args.top, len(vocab))}:")
    for word, count in zip(vocab.words[: args.top], vocab.counts[: args.top].tolist(), strict=True):
        print(f"  {count:>12,}  {word}")
    return 0


def load_vectors_arg(path: str) -> Any:
    from .vectors import load_vectors

    return load_vectors(path)


def ask(path: str) -> Any:
    """A query.Query on the vectors at ``path`` (imported here: `w2v --help` stays light)."""
    from .query import Query

    return Query.load(path)


def cmd_similarity(args: argparse.Namespace) -> int:
    import numpy as np

    query = ask(args.vectors)
    kv, word_a, word_b = query.kv, query.word(args.word_a), query.word(args.word_b)
    a, b = kv[word_a], kv[word_b]
    print(f"cosine similarity:  {kv.similarity(word_a, word_b):.4f}")
    print(f"euclidean distance: {float(np.linalg.norm(a - b)):.4f}")
    return 0


def cmd_neighbors(args: argparse.Namespace) -> int:
    query = ask(args.vectors)
    words = args.word
    if words == ["-"]:  # one word a line, the vectors loaded once
        words = [line.strip() for line in sys.stdin if line.strip()]
    failed = False
    for n, asked in enumerate(words):
        try:
            results = query.kv.most_similar(query.word(asked), topn=args.k, metric=args.metric)
        except W2VError as exc:
            if len(words) == 1:
                raise
            print(f"w2v: error: {exc}", file=sys.stderr)
            failed = True
            continue
        if n:
            print()
        print(f"{args.k} nearest to {asked!r} ({args.metric}):")
        for word, score in results:
            print(f"  {score:8.4f}  {word}")
        if not results:
            print("  (no other words)")
    return EXIT_USER_ERROR if failed else 0


def cmd_analogy(args: argparse.Namespace) -> int:
    query = ask(args.vectors)
    a, b, c = (query.word(w) for w in (args.a, args.b, args.c))
    results = query.kv.analogy(a, b, c, topn=args.k, method=args.method)
    print(f"{args.a} : {args.b} :: {args.c} : ?")
    for word, score in results:
        print(f"  {score:8.4f}  {word}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from .evaluate import BENCHMARKS, bundled_path, evaluate, format_table, to_json

    if args.list:
        width = max(len(name) for name in BENCHMARKS)
        for b in BENCHMARKS.values():
            unit = "pairs" if b.kind == "similarity" else "questions"
            print(f"{b.name:<{width}} {b.kind:<10} {b.items:>6,} {unit:<9}  {b.title}")
        print(f"(files in {bundled_path(BENCHMARKS['google']).parent})")
        return 0
    if not args.vectors:
        raise W2VError("evaluate needs VECTORS: a run directory or a vectors file")
    names = [n.strip() for item in args.benchmark or [] for n in item.split(",") if n.strip()]
    methods = ("add", "mul") if args.method == "both" else (args.method,)
    if args.restrict_vocab is not None and args.restrict_vocab < 0:
        raise W2VError("--restrict-vocab must be >= 0 (0: the whole vocabulary)")
    kv = load_vectors_arg(args.vectors)
    results = evaluate(
        kv,
        names or None,
        restrict_vocab=args.restrict_vocab,
        methods=methods,
        case_insensitive=not args.case_sensitive,
        oov=args.oov,
    )
    if args.json:
        report = {
            "vectors": args.vectors,
            "words": len(kv),
            "dim": kv.vector_size,
            "oov": args.oov,
            "results": to_json(results),
        }
        print(json.dumps(report, indent=2))
    else:
        print(f"{args.vectors}: {len(kv):,} words x {kv.vector_size} dims")
        print(
            "words not in the vocabulary: vectors from their n-grams (--oov subwords)"
            if args.oov == "subwords"
            else "words not in the vocabulary: left out (--oov skip)"
        )
        print(format_table(results, sections=not args.totals_only))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from . import plot

    source = Path(args.source)
    folder = source if source.is_dir() else source.parent
    out = Path(args.output) if args.output else RunDir(folder).picture(args.what)
    size = {"width": args.width, "height": args.height, "dpi": args.dpi}
    size = {k: v for k, v in size.items() if v is not None}
    if args.what == "loss":
        written = plot.plot_loss(source, out, **size)
    elif args.what == "eval":
        written = plot.plot_eval(source, out, **size)
    else:
        words = [w for item in args.words or [] for w in item.split(",") if w]
        if args.top < 1:
            raise W2VError("--top must be >= 1")
        written = plot.plot_words(
            load_vectors_arg(args.source),
            out,
            words=words or None,
            top=args.top,
            method=args.method,
            seed=args.seed,
            **size,
        )
    print(f"wrote {written}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    if not args.projector and not args.word2vec and not args.fasttext:
        raise W2VError(
            "export needs --projector OUT_DIR, --word2vec OUT_FILE and/or --fasttext OUT.bin"
        )
    if args.limit is not None and args.limit < 1:
        raise W2VError("--limit must be >= 1")
    kv = load_vectors_arg(args.vectors)
    if args.fasttext:
        save_model = getattr(kv, "save_facebook_model", None)
        if save_model is None:
            raise W2VError(
                f"{args.vectors}: --fasttext writes a model trained with --subwords (or read "
                "from a fastText .bin); these are word vectors only (--word2vec writes them "
                "as a .vec)"
            )
        if args.limit is not None:
            raise W2VError("--limit does not apply to --fasttext: the model is written whole")
        save_model(args.fasttext)
        print(f"wrote {args.fasttext} (fastText's .bin: {len(kv):,} words and their n-grams)")
    if args.projector:
        from .export import export_projector

        vectors_tsv, metadata_tsv = export_projector(kv, args.projector, limit=args.limit)
        rows = min(len(kv), args.limit or len(kv))
        print(f"wrote {vectors_tsv} and {metadata_tsv} ({rows:,} words)")
        print("load them at https://projector.tensorflow.org (Load -> choose both files)")
    if args.word2vec:
        from .vectors import KeyedVectors

        out = kv
        if args.limit is not None and args.limit < len(kv):
            counts = kv.counts[: args.limit] if kv.counts is not None else None
            out = KeyedVectors(kv.index_to_key[: args.limit], kv.vectors[: args.limit], counts)
        out.save_word2vec_format(args.word2vec, binary=args.binary)
        kind = "binary" if args.binary else "text"
        print(f"wrote {args.word2vec} (word2vec {kind} format, {len(out):,} words)")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import server

    server.require_extra()  # one line saying how to install it, before any work
    server.one_blas_thread()  # before numpy is imported
    from .serve.app import create_app
    from .serve.models import Model

    with server.bind(args.host, args.port) as sock:  # a port in use fails before loading
        if not server.is_loopback(args.host):
            print(
                f"w2v: warning: --host {args.host} lets other machines open the page: it is "
                "read-only, but whoever reaches it can read your vectors",
                file=sys.stderr,
            )
        paths = [args.vectors] + ([args.vectors_b] if args.vectors_b else [])
        models = [Model.load(path) for path in paths]
        app = create_app(models, allowed_hosts=server.allowed_hosts(args.host))
        url = server.url(sock, args.host)
        print(f"serving {' and '.join(paths)} at {url} (Ctrl-C stops)", flush=True)
        if args.open:
            import webbrowser

            webbrowser.open(url)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a server stops
            server.run(app, [sock])
    return 0


# -- the parser --------------------------------------------------------------------------------


def build_parser() -> Parser:
    parser = Parser(prog="w2v", description="word2vec in PyTorch: train, query, evaluate.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    parser.add_argument("--version", action="version", version=f"w2v {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser(
        "train",
        help="train word vectors on a corpus",
        description="Train skip-gram or CBOW vectors with negative sampling.",
    )
    p.add_argument(
        "corpus",
        nargs="?",
        help="text file (.gz/.bz2/.xz/.zip), folder, '-' for stdin, .tsv/.csv, "
        ".arrow/.parquet/.jsonl or a saved HF dataset; default: the bundled "
        "Flickr30k captions",
    )
    p.add_argument("-o", "--output", help="run directory (default: runs/train, runs/train-2, ...)")
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="start from a preset (seed: the original educational project's model)",
    )
    p.add_argument(
        "--config",
        metavar="FILE.toml",
        help="read options from a TOML file (same keys as the flags)",
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue a run from its checkpoint (with --epochs N: on to N epochs in all)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace a run already in -o")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summaries")
    add_config_flags(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("vocab", help="corpus statistics and the most frequent words")
    p.add_argument("corpus", nargs="?", help="as for train (default: the bundled corpus)")
    p.add_argument("--top", type=int, default=20, help="how many words to list (default: 20)")
    add_config_flags(p, CORPUS_FLAGS | {"min_count", "max_vocab", "phrases"})
    p.set_defaults(func=cmd_vocab)
    add_phrases_parser(sub)

    vectors_help = "a run directory or a word2vec text/binary vectors file"
    p = sub.add_parser("similarity", help="cosine similarity and Euclidean distance of two words")
    p.add_argument("vectors", help=vectors_help)
    p.add_argument("word_a")
    p.add_argument("word_b")
    p.set_defaults(func=cmd_similarity)

    p = sub.add_parser("neighbors", aliases=["neighbours"], help="the K nearest words")
    p.add_argument("vectors", help=vectors_help)
    p.add_argument("word", nargs="+", help="one or more words; '-': one a line from stdin")
    p.add_argument("-k", type=int, default=10, help="how many (default: 10)")
    p.add_argument("--metric", choices=["cosine", "euclidean"], default="cosine")
    p.set_defaults(func=cmd_neighbors)

    p = sub.add_parser("analogy", help="A is to B as C is to ?")
    p.add_argument("vectors", help=vectors_help)
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("c")
    p.add_argument("-k", type=int, default=5, help="how many answers (default: 5)")
    p.add_argument(
        "--method", choices=["add", "mul"], default="add", help="3CosAdd or 3CosMul (default: add)"
    )
    p.set_defaults(func=cmd_analogy)

    p = sub.add_parser(
        "evaluate",
        help="scores on the standard word-similarity and analogy benchmarks",
        description="Spearman's rho on word-pair similarity sets and analogy accuracy "
        "(3CosAdd, 3CosMul) on Google, MSR and BATS; every set ships with w2v.",
    )
    p.add_argument("vectors", nargs="?", help=vectors_help)
    p.add_argument(
        "-b",
        "--benchmark",
        action="append",
        metavar="NAME|FILE",
        help="a bundled benchmark (see --list) or your own file in the same format; "
        "repeat or separate by commas (default: all bundled benchmarks)",
    )
    p.add_argument(
        "--restrict-vocab",
        type=int,
        default=DEFAULT_RESTRICT_VOCAB,
        metavar="N",
        help="analogies: ask and answer within the N most frequent words, as word2vec "
        f"and gensim do (default: {DEFAULT_RESTRICT_VOCAB}; 0: all)",
    )
    p.add_argument(
        "--method",
        choices=["add", "mul", "both"],
        default="both",
        help="analogy method: 3CosAdd, 3CosMul or both (default: both)",
    )
    p.add_argument("--case-sensitive", action="store_true", help="match words exactly")
    p.add_argument(
        "--oov",
        choices=["skip", "subwords"],
        default="skip",
        help="a benchmark word not in the vocabulary: skip its pairs and questions (default), "
        "or compute its vector from its n-grams (vectors with subwords: a --subwords run or a "
        "fastText .bin), as fastText's evaluation does",
    )
    p.add_argument("--totals-only", action="store_true", help="no per-section analogy rows")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--list", action="store_true", help="list the bundled benchmarks")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "plot",
        help="PNG pictures: loss curve, 2-D word map, scores per epoch",
        description="Draw a PNG (needs the plot extra: pip install 'w2v[plot]').",
    )
    p.add_argument(
        "what",
        choices=["loss", "words", "eval"],
        help="loss: a run's loss over training; words: a 2-D map of words; "
        "eval: a run's benchmark scores per epoch (train with --eval)",
    )
    p.add_argument("source", help="a run directory (loss, eval) or vectors (words)")
    p.add_argument(
        "-o", "--output", metavar="PNG", help="where to write (default: WHAT.png in the run dir)"
    )
    p.add_argument(
        "--words",
        action="append",
        metavar="W1,W2,...",
        help="words: the words to draw (default: the --top most frequent)",
    )
    p.add_argument("--top", type=int, default=100, help="words: how many (default: 100)")
    p.add_argument("--method", choices=["pca", "tsne"], default="pca", help="words: 2-D projection")
    p.add_argument("--seed", type=int, default=1, help="words: t-SNE's random seed")
    p.add_argument("--width", type=float, help="inches (default: 8, words: 10)")
    p.add_argument("--height", type=float, help="inches (default: 5, words: 8)")
    p.add_argument("--dpi", type=float, help="pixels per inch (default: 120)")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser(
        "export",
        help="write vectors for other tools (Embedding Projector, word2vec formats, fastText)",
    )
    p.add_argument("vectors", help=vectors_help)
    p.add_argument(
        "--projector",
        metavar="OUT_DIR",
        help="write vectors.tsv and metadata.tsv for TensorBoard's Embedding Projector",
    )
    p.add_argument("--word2vec", metavar="OUT_FILE", help="write a word2vec-format file")
    p.add_argument(
        "--binary", action="store_true", help="--word2vec in the binary format (else text: a .vec)"
    )
    p.add_argument(
        "--fasttext",
        metavar="OUT.bin",
        help="a --subwords model (or a fastText .bin) as fastText's .bin, which fastText and "
        "gensim's load_facebook_model read",
    )
    p.add_argument("--limit", type=int, help="only the N most frequent words")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "serve",
        help="a local web page to explore one model or compare two",
        description="Serve a page to search the vocabulary, ask for neighbours, "
        "similarities and analogies, see a 2-D map and a run's training, and compare two "
        "models side by side (needs the serve extra: pip install 'w2v[serve]').",
    )
    p.add_argument("vectors", help=vectors_help)
    p.add_argument("vectors_b", nargs="?", metavar="VECTORS_B", help="a second model to compare")
    p.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default: {DEFAULT_HOST}, this machine only)",
    )
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"default: {DEFAULT_PORT}; 0: any free port"
    )
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error already printed on one line
        return stop.code if isinstance(stop.code, int) else EXIT_USER_ERROR
    if args.command is None:  # bare `w2v`: what it can do
        parser.print_help()
        return 0
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        for name in ("k", "top"):
            if getattr(args, name, 1) < 1:
                raise W2VError(f"-{'-' if len(name) > 1 else ''}{name} must be >= 1")
        with flag_names():  # the library's messages name --flags, not Python arguments
            return int(args.func(args))
    except W2VError as exc:
        print(f"w2v: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("w2v: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `w2v neighbors ... | head`
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
