"""`stance explain "TEXT"`: the prediction and the words behind it (see stance/explain.py)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"--top-k must be a positive integer, got {value!r}")
    return n


def cmd_explain(args) -> int:
    from stance.cli.errors import UsageError
    from stance.explanation import explain

    text = " ".join(args.text)
    if not text.strip():
        raise UsageError('give a sentence to explain: stance explain "The UN must lead."')
    expl = explain(text, model=args.model, top_k=args.top_k)
    print(expl.to_text())
    if args.html:
        out = Path(args.html)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(expl.to_html(full_page=True), encoding="utf-8")
        os.replace(tmp, out)  # never leave a half-written page
        print(f"wrote {out}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("explain", help="show which words pushed a sentence toward its label")
    p.add_argument("text", nargs="*", help="the sentence (quote it)")
    p.add_argument("--model", help="tfidf, transformer, or a model directory (default: the best by evaluation)")
    p.add_argument("--top-k", type=_positive_int, default=8, help="how many words / n-grams to show (default 8)")
    p.add_argument("--html", metavar="OUT.html", help="also write the highlighted sentence as an HTML page")
    p.set_defaults(func=cmd_explain)
