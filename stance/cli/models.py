"""`stance train`, `stance rollback`, `stance models`: the analyst's loop over registered models."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from stance.cli.errors import UsageError


def cmd_train(args: argparse.Namespace) -> int:
    from stance.models.registry import SHIPPED_NAMES
    from stance.models.store import set_default
    from stance.training import compare_user_data, train

    names = list(SHIPPED_NAMES) if args.model == "all" else [args.model]
    if args.set_default and len(names) != 1:
        raise UsageError("--set-default needs one --model")
    if args.compare:
        compare_user_data("tfidf", fast=args.fast)
    for name in names:
        path = train(name, data=args.data, out=Path(args.out) / name if args.out else None, seed=args.seed,
                     fast=args.fast, progress=not args.quiet, augment_names=args.augment_names)
        prev = path.with_name(path.name + ".prev")
        print(f"trained {name} on {args.data}: saved to {path}"
              + (f" (previous kept as {prev.name}: `stance rollback --model {name}`)" if prev.exists() else ""))
    if args.set_default:
        print(f"default model is now {names[0]} ({set_default(names[0], 'chosen with stance train --set-default')})")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from stance.models.manifest import ModelFormatError
    from stance.models.registry import SHIPPED_NAMES
    from stance.models.store import rollback
    from stance.paths import user_models_dir

    names = list(SHIPPED_NAMES) if args.model == "all" else [args.model]
    done = 0
    for name in names:
        target = user_models_dir() / name
        if args.to_shipped:
            if target.exists():
                trash = target.with_name(f".{name}.removed")
                target.rename(trash)  # one atomic step; the delete after it can be interrupted harmlessly
                shutil.rmtree(trash, ignore_errors=True)
                print(f"removed the retrained {name}: predict uses the shipped {name} model again")
                done += 1
            continue
        try:
            print(f"restored the previous {name} model: {rollback(target)}")
            done += 1
        except ModelFormatError as e:
            if args.model != "all":
                raise ModelFormatError(f"{e}; `stance rollback --model {name} --to-shipped` returns to the "
                                       "shipped model") from None
    if not done:
        print("nothing to roll back")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from stance.models.manifest import ModelFormatError, read_manifest
    from stance.models.registry import SPECS
    from stance.models.store import default_record, resolve_model_dir
    from stance.paths import shipped, user_models_dir

    default = default_record()
    rows = []
    for spec in SPECS:
        for origin, root in (("user", user_models_dir()), ("shipped", shipped("models"))):
            try:
                directory = resolve_model_dir(root / spec.name)
                manifest = read_manifest(directory)
            except ModelFormatError:
                continue
            training = manifest.get("training", {})
            rows.append({"model": spec.name, "origin": origin, "path": str(directory),
                         "default": spec.name == default["model"] and (origin == "user" or not (user_models_dir() / spec.name).exists()),
                         "trained_at": training.get("trained_at"), "n_train": training.get("n_train"),
                         "label_counts": training.get("label_counts"),
                         "data_sha256": str(manifest.get("corpus_sha256"))[:12], "evaluation": manifest.get("evaluation")})
    if args.json:
        print(json.dumps({"default": default, "models": rows}, indent=1))
        return 0
    print(f"default: {default['model']} ({default.get('why', '')})")
    for r in rows:
        ev = r["evaluation"] or {}
        ood = (f"outside macro-F1 {ev['outside_macro_f1']:.3f}, challenge {ev['challenge_accuracy']:.3f}"
               if "outside_macro_f1" in ev else "not evaluated")
        print(f"{'*' if r['default'] else ' '} {r['model']:<14} {r['origin']:<8} trained {r['trained_at']} on "
              f"{r['n_train']} sentences (data {r['data_sha256']}); {ood}\n    {r['path']}")
    return 0


def register(sub: Any) -> None:
    from stance.models.registry import MODEL_NAMES, SHIPPED_NAMES

    p = sub.add_parser("train", help="train a model on the corpus; replaces $STANCE_HOME/models/NAME atomically")
    p.add_argument("--model", default="tfidf", choices=[*MODEL_NAMES, "all"], help="default: tfidf")
    p.add_argument("--data", default="train", choices=["train", "seeds", "shipped"],
                   help="train = seeds + supplement + writers + your sentences (default); seeds = the seed articles")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="directory to hold the model directories (default: $STANCE_HOME/models)")
    p.add_argument("--fast", action="store_true", help="tiny transformer settings (tests, demos)")
    p.add_argument("--set-default", action="store_true", help="make this model the default for predict")
    p.add_argument("--augment-names", type=int, default=0, metavar="N",
                   help="add N name-swapped variants of each sentence naming a country or city (default 0: off)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-compare", dest="compare", action="store_false",
                   help="skip the before/after comparison of the user corpus")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("rollback", help="restore the model that the last `stance train` replaced")
    p.add_argument("--model", default="all", choices=[*SHIPPED_NAMES, "all"])
    p.add_argument("--to-shipped", action="store_true", help="drop the retrained model: use the shipped one again")
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("models", help="every model, shipped or yours: when and on what it was trained, its "
                       "out-of-distribution figures, which is the default")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)
