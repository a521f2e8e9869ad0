"""`stance corpus check|stats` and `stance add`: the corpus and the user's own sentences."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from stance.cli.errors import UsageError
from stance.labels import LABELS


def cmd_corpus_check(args: argparse.Namespace) -> int:
    from stance.corpus import SHIPPED_PARTS, check

    parts = args.part or [*SHIPPED_PARTS, "user"]
    paths = {parts[0]: Path(args.file)} if args.file else None
    if args.file and len(parts) != 1:
        raise UsageError("--file checks one part: name it with exactly one --part")
    problems = check(parts, paths)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"corpus check: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"corpus check: OK ({', '.join(parts)})")
    return 0


def cmd_corpus_stats(args: argparse.Namespace) -> int:
    from stance.corpus_card import stats_markdown, write_card_stats

    if args.write_card:
        print(f"updated the statistics in {write_card_stats(Path(args.write_card))}")
    else:
        print(stats_markdown())
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from stance.corpus import add_examples, read_examples_file

    if args.file:
        if args.text:
            raise UsageError("give either a SENTENCE or --file, not both")
        examples, where = read_examples_file(Path(args.file)), args.file
    elif args.text:
        if not args.label:
            raise UsageError(f"--label is required with a sentence: one of {', '.join(LABELS)}")
        examples = [{"text": args.text, "label": args.label, "rationale": args.rationale, "source": args.source}]
        where = "command line"
    else:
        raise UsageError("give a SENTENCE with --label, or --file FILE")
    report = add_examples(examples, where=where)
    for text, reason in report.skipped:
        print(f"skipped ({reason}): {text[:80]}", file=sys.stderr)
    print(f"added {len(report.added)} sentence(s) to the user corpus; skipped {len(report.skipped)}")
    return 0


def register(sub: Any) -> None:
    from stance.corpus import SCHEMAS

    corpus = sub.add_parser("corpus", help="check or summarise the corpus").add_subparsers(dest="corpus_command",
                                                                                           required=True)
    p = corpus.add_parser("check", help="validate corpus files; one line per problem, exit 1 if any")
    p.add_argument("--part", action="append", choices=list(SCHEMAS))
    p.add_argument("--file", help="check this file as the given --part instead of the shipped one")
    p.set_defaults(func=cmd_corpus_check)
    p = corpus.add_parser("stats", help="label counts and inter-annotator agreement")
    p.add_argument("--write-card", metavar="CARD", help="regenerate the statistics in this dataset card "
                   "(corpus/README.md in a checkout)")
    p.set_defaults(func=cmd_corpus_stats)

    p = sub.add_parser("add", help="add labelled sentences to the user corpus")
    p.add_argument("text", nargs="?")
    p.add_argument("--label", help=", ".join(LABELS))
    p.add_argument("--rationale")
    p.add_argument("--source")
    p.add_argument("--file", help="JSONL or CSV with text,label[,rationale,source]")
    p.set_defaults(func=cmd_add)
