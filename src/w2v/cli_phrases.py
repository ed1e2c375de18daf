"""``w2v phrases``: find phrases in a corpus and write their table (phrases.py finds them).

Its flags: the corpus options of ``w2v train`` (how the text is read and tokenized, so the
table matches what training reads) and one per :class:`~w2v.phrase_table.PhraseConfig`
field, generated from the fields as the train flags are from TrainConfig's.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
from typing import Any

from .cli_args import _plain_type, _shown_default, add_config_flags
from .phrase_table import PhraseConfig

# TrainConfig's fields that decide what the corpus's tokens are (and where it is cached).
CORPUS_FLAGS = {
    "text_column",
    "delimiter",
    "header",
    "tokenizer",
    "keep_case",
    "strip_markup",
    "limit",
    "limit_sentences",
    "max_sentence_length",
    "cache_dir",
}


def add_phrases_parser(sub: Any) -> None:
    p = sub.add_parser(
        "phrases",
        help="find phrases (new_york) in a corpus and write their table",
        description="Count words and adjacent pairs, score the pairs as word2phrase and "
        "gensim do, and write the phrases that score above the threshold as a table for "
        "w2v train --phrases FILE.",
    )
    p.add_argument("corpus", nargs="?", help="as for train (default: the bundled corpus)")
    p.add_argument(
        "-o", "--output", metavar="FILE.tsv", help="write the table here (default: to stdout)"
    )
    p.add_argument(
        "--top",
        type=int,
        default=10,
        help="with -o: how many of the most frequent phrases to show (default: 10)",
    )
    hints = typing.get_type_hints(PhraseConfig)
    group = p.add_argument_group("phrase options")
    for f in dataclasses.fields(PhraseConfig):
        group.add_argument(
            "--" + f.name.replace("_", "-"),
            type=_plain_type(hints[f.name]),
            default=None,
            choices=f.metadata["choices"],
            metavar=None if f.metadata["choices"] else f.name.upper(),
            help=f.metadata["help"] + _shown_default(f.default),
        )
    add_config_flags(p, CORPUS_FLAGS)
    p.set_defaults(func=cmd_phrases)


def cmd_phrases(args: argparse.Namespace) -> int:
    from .phrases import Phrases, prune_note
    from .run import bundled_corpus

    knobs = {f.name: getattr(args, f.name) for f in dataclasses.fields(PhraseConfig)}
    reading = {k: getattr(args, k) for k in CORPUS_FLAGS if getattr(args, k) is not None}
    corpus = args.corpus or bundled_corpus()
    show = args.output is not None
    if show:
        print(f"reading {args.corpus or 'the bundled Flickr30k captions'} ...", flush=True)
    phrases = Phrases(corpus, **knobs, **reading)
    report = phrases.report
    assert report is not None
    if not show:
        sys.stdout.write(phrases.table.to_tsv())
        return 0
    print(f"{report.tokens:,} tokens; {report.settings}")
    for p in report.passes:
        print(
            f"pass {p['pass']}: {p['candidates']:,} distinct pairs counted, "
            f"{p['phrases']:,} phrases ({p['seconds']:.1f}s)"
        )
    note = prune_note(dict(dataclasses.asdict(report)))
    if note:
        print(note[2:])
    phrases.save(args.output)
    print(f"wrote {args.output}: {len(phrases):,} phrases")
    # The file is sorted by score, where rare names lead; the most frequent say more here.
    rows = sorted(phrases.export(), key=lambda r: (-r.count, -r.score))[: args.top]
    if rows:
        print(f"most frequent {len(rows)}:")
        print(f"{'score':>12}  {'count':>10}  phrase")
        for r in rows:
            score = f"{r.score:,.1f}" if abs(r.score) >= 100 else f"{r.score:.4f}"
            print(f"{score:>12}  {r.count:>10,}  {r.phrase}")
    return 0
