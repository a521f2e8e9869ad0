"""`stance evaluate`: every model row on the out-of-distribution protocols (and CV if asked)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from stance.cli.errors import UsageError


def cmd_evaluate(args: argparse.Namespace) -> int:
    from stance.evaluation.protocols import choose_default
    from stance.evaluation.report import run
    from stance.models.registry import MODEL_NAMES, SHIPPED_NAMES, canonical_name
    from stance.models.store import set_default
    from stance.paths import reports_dir

    rows = [canonical_name(m.strip()) for m in args.models.split(",")] if args.models else list(MODEL_NAMES)
    protocols = [p.strip() for p in args.protocols.split(",")]
    fitted = {}
    if args.shipped:
        from stance.api import get_model

        fitted = {name: get_model(name) for name in rows if name in SHIPPED_NAMES}
    out = Path(args.out) if args.out else reports_dir()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file: give a directory for the report")
    lodo_rows = [canonical_name(m.strip()) for m in args.lodo_models.split(",")] if args.lodo_models else None
    report = run(rows, out, protocols, seed=args.seed, fast=args.fast, limit=args.limit, fitted=fitted,
                 lodo_rows=lodo_rows, n_splits=args.folds, n_repeats=args.repeats)
    print(f"wrote {out / 'evaluation.md'} and {out / 'metrics.json'}")
    for name, m in report["models"].items():
        figures = [f"outside macro-F1 {m['outside']['macro_f1']:.3f}" if "outside" in m else "",
                   f"challenge {m['challenge']['accuracy']:.3f}" if "challenge" in m else "",
                   f"name swaps {100 * m['name_swap']['changed_share']:.1f}%" if "name_swap" in m else "",
                   f"LODO {m['lodo']['pooled_macro_f1']:.3f}" if "lodo" in m else "",
                   f"CV {m['cv']['macro_f1_mean']:.3f}" if "cv" in m else ""]
        print(f"  {name:<14} " + "; ".join(f for f in figures if f))
    if args.set_default:
        best, measure = choose_default(report, [r for r in rows if r in SHIPPED_NAMES])
        set_default(best, f"best out of distribution in the evaluation of {report['created']}", measure)
        print(f"default model: {best}")
    return 0


def register(sub: Any) -> None:
    from stance.evaluation.report import DEFAULT_PROTOCOLS, PROTOCOLS

    p = sub.add_parser("evaluate", help="outside-writer set, challenge set, name swaps, leave-one-article-out "
                       "(and in-distribution CV if asked); writes $STANCE_HOME/reports")
    p.add_argument("--models", help="comma-separated registry names (default: all)")
    p.add_argument("--protocols", default=",".join(DEFAULT_PROTOCOLS), help=f"comma-separated from {', '.join(PROTOCOLS)}")
    p.add_argument("--shipped", action="store_true", help="evaluate the trained models as they are (no refit) on "
                   "outside/challenge/name_swap")
    p.add_argument("--lodo-models", help="run leave-one-article-out only for these (it refits 4 times; default: all)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fast", action="store_true")
    p.add_argument("--limit", type=int, help="use at most this many sentences per corpus part (smoke runs)")
    p.add_argument("--out", help="report directory (default: $STANCE_HOME/reports)")
    p.add_argument("--set-default", action="store_true", help="make the best shippable model (out of distribution) "
                   "the default for this user")
    p.set_defaults(func=cmd_evaluate)
