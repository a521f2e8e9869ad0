"""`stance curve`: learning curves, macro-F1 against the number of labelled sentences (see stance.curve)."""

from __future__ import annotations

from pathlib import Path


def _floats(value: str) -> list[float]:
    from stance.cli.errors import UsageError

    out = []
    for item in value.split(","):
        try:
            out.append(float(item))
        except ValueError:
            raise UsageError(f"--fractions: {item.strip()!r} is not a number; give numbers in (0, 1] such as 0.1,0.25,0.5,1.0") from None
    return out


def cmd_curve(args) -> int:
    from stance.cli.errors import UsageError
    from stance.evaluation.curve import learning_curve
    from stance.paths import reports_dir

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.by == "writers":
        from stance.evaluation.curve import writer_curve

        out = Path(args.out) if args.out else reports_dir()
        report = writer_curve(models, draws=args.seeds, out_dir=out)
        print(f"wrote {out / 'writer_curve.png'} and {out / 'writer_curve.json'} ({report['seconds']} s)")
        return 0
    if args.seeds < 1:
        raise UsageError(f"--seeds must be at least 1, got {args.seeds}")
    if args.folds < 2:
        raise UsageError(f"--folds must be at least 2, got {args.folds}")
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}")
    out = Path(args.out) if args.out else reports_dir()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file: give a directory for learning_curve.png and learning_curve.json")
    report = learning_curve(models, _floats(args.fractions), seeds=args.seeds, n_splits=args.folds, out_dir=out,
                            fast=args.fast, limit=args.limit)
    print(f"wrote {out / 'learning_curve.png'} and {out / 'learning_curve.json'} ({report['seconds']} s)")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("curve", help="learning curves: macro-F1 against the number of labelled training sentences")
    p.add_argument("--by", default="sentences", choices=["sentences", "writers"],
                   help="x-axis: labelled sentences (cross-validated), or writer briefs (scored on the outside-writer set)")
    p.add_argument("--models", default="tfidf", help="comma-separated registry names: tfidf (default), majority, frozen-mpnet, minilm, ...")
    p.add_argument("--fractions", default="0.25,1.0", help="shares of each fold's training part (default 0.25,1.0: quick)")
    p.add_argument("--seeds", type=int, default=3, help="random draws of each subset (default 3)")
    p.add_argument("--folds", type=int, default=5, help="stratified folds, the same for every model (default 5)")
    p.add_argument("--out", help="report directory (default: $STANCE_HOME/reports)")
    p.add_argument("--fast", action="store_true", help="tiny transformer settings (tests, demos)")
    p.add_argument("--limit", type=int, help="use a label-balanced sample of this many sentences (smoke runs)")
    p.set_defaults(func=cmd_curve)
