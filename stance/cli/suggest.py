"""`stance suggest`: the sentences of a document most worth labelling (see stance.active)."""

from __future__ import annotations

import sys
from pathlib import Path


def cmd_suggest(args) -> int:
    from stance.cli.errors import UsageError
    from stance.suggest import STRATEGIES, suggest, write_suggestions

    if args.n < 1:
        raise UsageError(f"--n must be at least 1 (how many sentences to suggest), got {args.n}")
    if args.strategy not in STRATEGIES:
        raise UsageError(f"unknown --strategy {args.strategy!r}: allowed are {', '.join(STRATEGIES)}")
    src, out = Path(args.file), Path(args.out)
    if not src.is_file():
        raise UsageError(f"input file not found: {src}" + (" (it is a directory)" if src.is_dir() else ""))
    if out.resolve() == src.resolve():
        raise UsageError(f"--out {out} would overwrite the input file: choose another name")
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory: give a file name such as {out / 'to_label.jsonl'}")
    try:
        text = src.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UsageError(f"{src} is not valid UTF-8 (byte {e.start}): re-save it as UTF-8") from None
    records = suggest(text, n=args.n, model=args.model, strategy=args.strategy, source=src.name,
                      skip_known=not args.include_known)
    write_suggestions(records, out)
    print(f"wrote {len(records)} sentence(s) to {out}, least sure first ({args.strategy})")
    if records:
        print(f"next: fill each empty 'label' in {out} ('guess' holds the model's), delete lines not worth keeping, "
              f"then `stance add --file {out}` and `stance train`", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("suggest", help="the sentences of a document the model is least sure of, to label next")
    p.add_argument("file", help="a UTF-8 text file (a whole document; it is split into sentences)")
    p.add_argument("--n", type=int, default=20, help="how many sentences (default 20)")
    p.add_argument("--strategy", default="margin", choices=["margin", "entropy"],
                   help="margin: smallest top-1 minus top-2 probability (default); entropy: highest entropy")
    p.add_argument("--model", help="tfidf, transformer, or a model directory (default: the default model)")
    p.add_argument("--out", required=True, help="output JSONL, readable by `stance add --file` once labels are checked")
    p.add_argument("--include-known", action="store_true", help="also suggest sentences already in the corpus")
    p.set_defaults(func=cmd_suggest)
