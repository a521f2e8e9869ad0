"""The `stance` command line. Each subcommand is a thin layer over the Python API."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Iterator

from stance.labels import LABELS


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit code 2."""


# ------------------------------------------------------------------ corpus

def cmd_corpus_check(args) -> int:
    from stance.corpus import check

    parts = args.part or ["seeds", "supplement", "challenge", "user"]
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


def cmd_corpus_stats(args) -> int:
    from stance.corpus_stats import stats_markdown, write_card_stats

    if args.write_card:
        path = write_card_stats()
        print(f"updated the statistics in {path}")
    else:
        print(stats_markdown())
    return 0


# ------------------------------------------------------------------ prediction

def _read_inputs(path: Path) -> Iterator[tuple[int, str | None, str | None]]:
    """Yield (line number, id, text) lazily; text None with id=error message for a bad line."""
    jsonl = path.suffix.lower() in (".jsonl", ".json")
    with open(path, encoding="utf-8-sig", errors="strict", newline=None) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            if not jsonl:
                yield n, None, line.strip()
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                yield n, f"malformed JSON: {e.msg} at column {e.colno}", None
                continue
            except (ValueError, RecursionError) as e:  # huge integers; arrays nested thousands deep
                yield n, f"malformed JSON: {'nested too deeply' if isinstance(e, RecursionError) else str(e).split(';')[0]}", None
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
                yield n, "expected an object with a non-empty string 'text'", None
                continue
            yield n, obj.get("id"), obj["text"]


def predict_file(src: Path, dst: Path, model=None, batch_size: int = 256, progress: bool = True) -> tuple[int, int]:
    """Stream `src` (.txt: one sentence a line; .jsonl: {"text", "id"?}) to `dst` JSONL, in batches.

    Memory holds one batch at a time. Bad lines are written as {"line", "error"} records and
    counted. `dst` appears only when complete (written beside it, then renamed).
    """
    from tqdm.auto import tqdm

    from stance.api import get_model, predict

    m = get_model(model)
    if not src.is_file():
        raise UsageError(f"input file not found: {src}")
    tmp = dst.with_name(f".{dst.name}.tmp")
    done = errors = 0
    with open(tmp, "w", encoding="utf-8") as out, tqdm(total=src.stat().st_size, unit="B", unit_scale=True,
                                                        desc="predicting", disable=not progress) as bar:
        batch: list[tuple[int, str | None, str]] = []

        def flush():
            nonlocal done
            for (n, rid, text), p in zip(batch, predict([t for _, _, t in batch], model=m)):
                rec = {"line": n, **({"id": rid} if rid is not None else {}), "text": text, "label": p.label,
                       "probabilities": p.probabilities, "model": p.model}
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                bar.update(len(text.encode("utf-8")) + 1)
            done += len(batch)
            batch.clear()

        try:
            for n, rid, text in _read_inputs(src):
                if text is None:
                    out.write(json.dumps({"line": n, "error": rid}) + "\n")
                    errors += 1
                    continue
                batch.append((n, rid, text))
                if len(batch) >= batch_size:
                    flush()
            if batch:
                flush()
        except UnicodeDecodeError as e:
            tmp.unlink(missing_ok=True)
            raise UsageError(f"{src} is not valid UTF-8 (byte {e.start}): re-save it as UTF-8") from None
    os.replace(tmp, dst)
    return done, errors


def cmd_predict(args) -> int:
    from stance.api import analyze, predict

    if args.file:
        if not args.out:
            raise UsageError("--file needs --out OUT.jsonl")
        done, errors = predict_file(Path(args.file), Path(args.out), args.model, progress=not args.quiet)
        print(f"wrote {done} predictions to {args.out}" + (f"; {errors} bad line(s) recorded as errors" if errors else ""))
        return 1 if errors else 0
    if not args.text:
        raise UsageError("give a sentence to classify, or --file FILE --out OUT.jsonl")
    text = " ".join(args.text)
    preds = analyze(text, model=args.model) if args.split else [predict(text, model=args.model)]
    for p in preds:
        if args.json:
            print(json.dumps({"text": getattr(p, "text", text), "label": p.label, "probabilities": p.probabilities, "model": p.model}))
        else:
            probs = "  ".join(f"{l} {p.probabilities[l]:.2f}" for l in LABELS)
            print(f"{p.label:<10}  [{p.model}]  {probs}" + (f"\n    {p.text}" if args.split else ""))
    return 0


# ------------------------------------------------------------------ training and evaluation

def cmd_train(args) -> int:
    from stance.train import compare_user_data, train

    names = ["tfidf", "transformer"] if args.model == "all" else [args.model]
    if args.compare:
        compare_user_data("tfidf", fast=args.fast)
    for name in names:
        path = train(name, data=args.data, out=Path(args.out) / name if args.out else None, seed=args.seed, fast=args.fast)
        print(f"trained {name} on {args.data}: saved to {path} (previous kept as {path.name}.prev)")
    return 0


def cmd_evaluate(args) -> int:
    from stance.evaluate import MODEL_ROWS, best_model, run
    from stance.train import set_default

    rows = args.models.split(",") if args.models else list(MODEL_ROWS)
    report = run(rows, Path(args.out) if args.out else None, n_splits=args.folds, n_repeats=args.repeats,
                 fast=args.fast, limit=args.limit)
    from stance.persist import PROJECT_ROOT

    out = Path(args.out) if args.out else PROJECT_ROOT / "reports"
    print(f"wrote {out / 'evaluation.md'} and {out / 'metrics.json'}")
    for name, m in report["models"].items():
        print(f"  {name:<18} macro-F1 {m['macro_f1_mean']:.3f} ± {m['macro_f1_std']:.3f}")
    if args.set_default:
        best = best_model(report)
        set_default(best, f"highest mean cross-validated macro-F1 in the evaluation of {report['created']}")
        print(f"default model: {best}")
    return 0


def cmd_export(args) -> int:
    from stance.api import get_model

    model = get_model(args.model)
    if not hasattr(model, "export"):
        raise UsageError(f"model {args.model!r} cannot be exported as a Hugging Face directory: use the transformer")
    print(f"exported to {model.export(Path(args.dir))}")
    return 0


# ------------------------------------------------------------------ user data

def cmd_add(args) -> int:
    from stance.corpus import add_examples, read_examples_file

    if args.file:
        if args.text:
            raise UsageError("give either a SENTENCE or --file, not both")
        examples, where = read_examples_file(Path(args.file)), args.file
    elif args.text:
        if not args.label:
            raise UsageError(f"--label is required with a sentence: one of {', '.join(LABELS)}")
        examples, where = [{"text": args.text, "label": args.label, "rationale": args.rationale, "source": args.source}], "command line"
    else:
        raise UsageError("give a SENTENCE with --label, or --file FILE")
    report = add_examples(examples, where=where)
    for text, reason in report.skipped:
        print(f"skipped ({reason}): {text[:80]}", file=sys.stderr)
    print(f"added {len(report.added)} sentence(s) to the user corpus; skipped {len(report.skipped)}")
    return 0


def cmd_rollback(args) -> int:
    from stance.api import MODEL_NAMES
    from stance.persist import models_dir, rollback

    names = MODEL_NAMES if args.model == "all" else [args.model]
    for name in names:
        print(f"restored the previous {name} model: {rollback(models_dir() / name)}")
    return 0


# ------------------------------------------------------------------ parser

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stance", description="Stance on multilateral involvement: "
                                     + ", ".join(LABELS))
    sub = parser.add_subparsers(dest="command", required=True)

    corpus = sub.add_parser("corpus", help="check or summarise the corpus").add_subparsers(dest="corpus_command", required=True)
    p = corpus.add_parser("check", help="validate corpus files; one line per problem, exit 1 if any")
    p.add_argument("--part", action="append", choices=["seeds", "supplement", "challenge", "user"])
    p.add_argument("--file", help="check this file as the given --part instead of the shipped one")
    p.set_defaults(func=cmd_corpus_check)
    p = corpus.add_parser("stats", help="label counts and inter-annotator agreement")
    p.add_argument("--write-card", action="store_true", help="regenerate the statistics in corpus/README.md")
    p.set_defaults(func=cmd_corpus_stats)

    p = sub.add_parser("predict", help="classify a sentence, or a file of them")
    p.add_argument("text", nargs="*")
    p.add_argument("--model", help="tfidf, transformer, or a model directory (default: the best by evaluation)")
    p.add_argument("--file", help="input .txt (one sentence a line) or .jsonl ({'text', 'id'})")
    p.add_argument("--out", help="output .jsonl for --file")
    p.add_argument("--split", action="store_true", help="split the text into sentences first")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("train", help="train models on the corpus and replace models/ atomically")
    p.add_argument("--model", default="all", choices=["tfidf", "transformer", "all"])
    p.add_argument("--data", default="train", choices=["train", "seeds", "shipped"],
                   help="train = seeds + supplement + user corpus (default); seeds = the seed articles only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="directory to hold the model directories (default: models/)")
    p.add_argument("--fast", action="store_true", help="tiny transformer settings (tests, demos)")
    p.add_argument("--no-compare", dest="compare", action="store_false",
                   help="skip the before/after comparison of the user corpus")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="cross-validation, leave-one-document-out, challenge set; writes reports/")
    p.add_argument("--models", help=f"comma-separated rows (default: majority,tfidf,frozen-minilm-lr,transformer)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--fast", action="store_true")
    p.add_argument("--limit", type=int, help="use at most this many sentences per corpus part (smoke runs)")
    p.add_argument("--out", help="report directory (default: reports/)")
    p.add_argument("--set-default", action="store_true", help="make the best shippable model the default")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("export", help="write the transformer as a plain Hugging Face model directory")
    p.add_argument("dir")
    p.add_argument("--model", default="transformer")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("add", help="add labelled sentences to the user corpus")
    p.add_argument("text", nargs="?")
    p.add_argument("--label", help=", ".join(LABELS))
    p.add_argument("--rationale")
    p.add_argument("--source")
    p.add_argument("--file", help="JSONL or CSV with text,label[,rationale,source]")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("rollback", help="restore the model that the last `stance train` replaced")
    p.add_argument("--model", default="all", choices=["tfidf", "transformer", "all"])
    p.set_defaults(func=cmd_rollback)

    from stance import cli_curve, cli_explain, cli_serve, cli_suggest

    for module in (cli_suggest, cli_curve, cli_explain, cli_serve):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from stance.corpus import CorpusError
    from stance.persist import ModelFormatError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        print(f"stance: error: {e}", file=sys.stderr)
        return 2
    except (CorpusError, ModelFormatError, ValueError, TypeError, OSError) as e:
        print(f"stance {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    # `python -m stance.cli` runs this file as __main__, a second copy of the module: delegate to the
    # importable stance.cli so that the UsageError raised by subcommand modules is the one main() catches.
    from stance.cli import main as _main

    sys.exit(_main())
