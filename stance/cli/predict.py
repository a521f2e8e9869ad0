"""`stance predict` (sentences, or a file streamed in batches) and `stance export`."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any, Iterator

from stance.cli.errors import UsageError
from stance.labels import LABELS


def _read_inputs(path: Path) -> Iterator[tuple[int, str | None, str | None]]:
    """Yield (line number, id, text) lazily; text None with id=error message for a bad line."""
    from stance.inputs import check_text

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
            try:
                check_text(obj["text"], "text")
            except ValueError as e:  # a lone surrogate ("\ud800") decoded from JSON escapes
                yield n, str(e), None
                continue
            yield n, obj.get("id"), obj["text"]


class _Writer:
    """Records out as JSONL or CSV (chosen by the output name)."""

    FIELDS = ["line", "id", "text", "label", *[f"p_{label}" for label in LABELS], "model", "error"]

    def __init__(self, stream: IO[str], csv_format: bool):
        self.stream = stream
        self.csv = csv.DictWriter(stream, self.FIELDS, extrasaction="ignore") if csv_format else None
        if self.csv:
            self.csv.writeheader()

    def write(self, record: dict[str, Any]) -> None:
        if self.csv:
            flat = {**record, **{f"p_{k}": f"{v:.4f}" for k, v in record.get("probabilities", {}).items()}}
            self.csv.writerow(flat)
        else:
            self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")


def predict_file(src: Path, dst: Path | None, model: Any = None, batch_size: int = 256,
                 progress: bool = True) -> tuple[int, int]:
    """Stream `src` (.txt: one sentence a line; .jsonl: {"text", "id"?}) to `dst` (.jsonl or .csv; None: stdout).

    Memory holds one batch at a time. Bad lines become {"line", "error"} records and are
    counted. `dst` appears only when complete: it is written to a uniquely named temporary
    beside it and renamed, so concurrent runs never mix their records.
    """
    from tqdm.auto import tqdm

    from stance.api import get_model, predict

    if not src.is_file():
        raise UsageError(f"input file not found: {src}")
    m = get_model(model)
    with open(src, "rb") as f:
        total = sum(1 for line in f if line.strip())
    tmp: Path | None = None
    if dst is None:
        out: IO[str] = sys.stdout
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
        tmp, out = Path(name), os.fdopen(fd, "w", encoding="utf-8", newline="")
    writer = _Writer(out, dst is not None and dst.suffix.lower() == ".csv")
    done = errors = 0
    try:
        with tqdm(total=total, unit="sent", desc="predicting", disable=not progress, file=sys.stderr) as bar:
            batch: list[tuple[int, str | None, str | None]] = []  # in file order; text None: an error record

            def flush() -> None:
                nonlocal done, errors
                texts = [t for _, _, t in batch if t is not None]
                preds = iter(predict(texts, model=m)) if texts else iter(())
                for n, rid, text in batch:
                    if text is None:
                        writer.write({"line": n, "error": rid})
                        errors += 1
                        continue
                    p = next(preds)
                    writer.write({"line": n, **({"id": rid} if rid is not None else {}), "text": text, "label": p.label,
                                  "probabilities": p.probabilities, "model": p.model})
                    done += 1
                bar.update(len(batch))
                batch.clear()

            for item in _read_inputs(src):
                batch.append(item)
                if len(batch) >= batch_size:
                    flush()
            if batch:
                flush()
        if tmp is not None and dst is not None:
            out.flush()
            os.fsync(out.fileno())
            out.close()
            os.replace(tmp, dst)
            tmp = None
    except UnicodeDecodeError as e:
        raise UsageError(f"{src} is not valid UTF-8 (byte {e.start}): re-save it as UTF-8") from None
    finally:
        if tmp is not None:
            out.close()
            tmp.unlink(missing_ok=True)
    return done, errors


def cmd_predict(args: argparse.Namespace) -> int:
    from stance.api import analyze, predict

    if args.file:
        out = Path(args.out) if args.out else None
        done, errors = predict_file(Path(args.file), out, args.model, progress=not args.quiet)
        print(f"wrote {done} predictions to {out or 'stdout'}"
              + (f"; {errors} bad line(s) recorded as errors" if errors else ""), file=sys.stderr)
        return 1 if errors else 0
    if not args.text:
        raise UsageError("give one or more sentences to classify, or --file FILE [--out OUT.jsonl|.csv]")
    for text in args.text:  # each argument is one text
        preds = analyze(text, model=args.model) if args.split else [predict(text, model=args.model)]
        for p in preds:
            if args.json:
                print(json.dumps({"text": getattr(p, "text", text), "label": p.label, "probabilities": p.probabilities,
                                  "model": p.model}, ensure_ascii=False))
            else:
                probs = "  ".join(f"{label} {p.probabilities[label]:.2f}" for label in LABELS)
                shown = getattr(p, "text", "") if args.split else (text if len(args.text) > 1 else "")
                print(f"{p.label:<10}  [{p.model}]  {probs}" + (f"\n    {shown}" if shown else ""))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from stance.api import get_model

    model = get_model(args.model)
    if not hasattr(model, "export"):
        raise UsageError(f"model {args.model!r} cannot be exported as a Hugging Face directory: use minilm or mpnet")
    print(f"exported to {model.export(Path(args.dir))}")
    return 0


def register(sub: Any) -> None:
    from stance.models.registry import MODEL_NAMES

    p = sub.add_parser("predict", help="classify sentences, or a file of them")
    p.add_argument("text", nargs="*", help="one or more sentences; each is classified on its own")
    p.add_argument("--model", help=f"{', '.join(MODEL_NAMES)}, or a model directory (default: `stance models`)")
    p.add_argument("--file", help="input .txt (one sentence a line) or .jsonl ({'text', 'id'})")
    p.add_argument("--out", help="output .jsonl or .csv for --file (default: JSONL on stdout)")
    p.add_argument("--split", action="store_true", help="split each text into sentences first")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_predict)
    p = sub.add_parser("export", help="write a fine-tuned model as a plain Hugging Face encoder directory")
    p.add_argument("dir")
    p.add_argument("--model", default="minilm")
    p.set_defaults(func=cmd_export)
