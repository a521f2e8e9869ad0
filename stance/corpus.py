"""The corpus: reading, validating, loading and extending it.

Parts (one JSONL file each, one record a line, diffable):
- ``seeds``: every sentence of the four seed articles, double-annotated and adjudicated;
- ``supplement``: sentences written by the team on other crises, double-annotated;
- ``writers``: sentences from sixteen independent writer briefs (register x era x region x
  voice), with counterfactual pairs, double-annotated blind and adjudicated;
- ``challenge``: minimal pairs and hard cases, for evaluation only, never trained on;
- ``outside``: the outside-writer test set, written blind on crises no training part
  covers, double-annotated; for evaluation only, never trained on;
- ``user``: sentences users add (`stance add`), kept apart from the shipped corpus
  under $STANCE_HOME so the teaching corpus stays as shipped.

Training uses ``train`` = seeds + supplement + writers + user.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from stance.atomic import atomic_write_text
from stance.labels import LABELS, check_label
from stance.paths import shipped, stance_home
from stance.segment import repair

SEEDS_DIR = shipped("seeds")
CORPUS_DIR = shipped("corpus")
SHIPPED_PARTS = ("seeds", "supplement", "writers", "challenge", "outside")
TRAIN_PARTS = ("seeds", "supplement", "writers", "user")
TEST_PARTS = ("challenge", "outside")
ALIASES = {"train": TRAIN_PARTS, "all": TRAIN_PARTS, "shipped": ("seeds", "supplement", "writers")}

# Keys every record of a part must carry, with their types.
_COMMON = {"id": str, "text": str, "label": str, "rationale": str}
SCHEMAS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "seeds": {**_COMMON, "source": str, "index": int, "start": int, "end": int,
              "annotator_a": str, "annotator_b": str},
    "supplement": {**_COMMON, "origin": str, "annotator_a": str, "annotator_b": str},
    "writers": {**_COMMON, "origin": str, "annotator_a": str, "annotator_b": str, "pair": (str, type(None)),
                "implicit": bool},
    "challenge": {**_COMMON, "pair": (str, type(None)), "phenomenon": str},
    "outside": {**_COMMON, "origin": str, "annotator_a": str, "annotator_b": str},
    "user": {**_COMMON, "origin": str},
}


@dataclass(frozen=True)
class Problem:
    """One validation failure: file, 1-based line number, message."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class CorpusError(ValueError):
    """A corpus or input file failed validation; `problems` lists every failure."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:20])
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} problem(s):\n{shown}{more}")


def part_path(part: str) -> Path:
    if part == "user":
        return stance_home() / "corpus" / "user.jsonl"
    if part in SHIPPED_PARTS:
        return CORPUS_DIR / f"{part}.jsonl"
    raise ValueError(f"unknown corpus part {part!r}: allowed parts are {', '.join(SCHEMAS)} (or {', '.join(ALIASES)})")


def normalize(text: str) -> str:
    """Key for near-duplicate detection: NFKC, case-folded, straight quotes, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\u2018\u2019\u201a\u201b\u2032`]", "'", text)
    text = re.sub(r"[\u201c\u201d\u201e\u201f\u2033]", '"', text)
    return " ".join(text.casefold().split())


def read_jsonl(path: Path, strict: bool = True) -> tuple[list[tuple[int, Any]], list[Problem]]:
    """Parse a JSONL file into (line number, value) pairs and problems.

    `strict` (shipped corpus files) also rejects a byte-order mark and CRLF line ends,
    which make diffs noisy; input files from users are forgiven both.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        return [], [Problem(path, 0, f"cannot read file: {e.strerror or e}")]
    problems: list[Problem] = []
    if raw.startswith(b"\xef\xbb\xbf"):
        if strict:
            problems.append(Problem(path, 1, "file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM"))
        raw = raw[3:]
    rows: list[tuple[int, Any]] = []
    for lineno, line in enumerate(raw.split(b"\n"), start=1):
        if line.endswith(b"\r"):
            if strict:
                problems.append(Problem(path, lineno, "line ends with CRLF; use Unix line ends (LF)"))
            line = line[:-1]
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append(Problem(path, lineno, f"not valid UTF-8 (byte {line[e.start]:#04x} at column {e.start + 1}); re-save the file as UTF-8"))
            continue
        try:
            rows.append((lineno, json.loads(text)))
        except json.JSONDecodeError as e:
            problems.append(Problem(path, lineno, f"malformed JSON: {e.msg} at column {e.colno}"))
        except (ValueError, RecursionError) as e:  # an integer of thousands of digits; arrays nested thousands deep
            why = "nested too deeply" if isinstance(e, RecursionError) else str(e).split(";")[0]
            problems.append(Problem(path, lineno, f"malformed JSON: {why}"))
    return rows, problems


def check_record(record: Any, part: str) -> list[str]:
    """Messages for everything wrong with one record of `part` (empty if it is fine)."""
    if not isinstance(record, dict):
        return [f"expected a JSON object, got {type(record).__name__}"]
    errors = []
    for key, typ in SCHEMAS[part].items():
        if key not in record:
            errors.append(f"missing key {key!r}")
        elif not isinstance(record[key], typ) or (typ is int and isinstance(record[key], bool)):
            errors.append(f"key {key!r} has {type(record[key]).__name__} {record[key]!r}, expected {getattr(typ, '__name__', 'str or null')}")
    for key in ("label", "annotator_a", "annotator_b"):
        if isinstance(record.get(key), str):
            try:
                check_label(record[key])
            except ValueError as e:
                errors.append(f"{key}: {e}")
    if isinstance(record.get("text"), str) and not record["text"].strip():
        errors.append("empty text")
    return errors


def _seed_texts() -> dict[str, str]:
    return {p.stem: repair(p.read_text(encoding="utf-8")) for p in sorted(SEEDS_DIR.glob("*.txt"))}


def check(parts: Sequence[str] = (*SHIPPED_PARTS, "user"), paths: dict[str, Path] | None = None) -> list[Problem]:
    """Validate corpus files; return every problem found (empty list: all good).

    Checks per record: well-formed JSON object with the part's keys, known labels,
    non-empty text; across all files: unique ids, no duplicate text (after
    normalisation); for seeds: offsets that reproduce the text from the seed file.
    """
    paths = paths or {}
    problems: list[Problem] = []
    seen_ids: dict[str, tuple[Path, int]] = {}
    seen_text: dict[str, tuple[Path, int]] = {}
    seeds = None
    for part in parts:
        path = Path(paths.get(part) or part_path(part))
        if not path.exists():
            if part != "user":
                problems.append(Problem(path, 0, f"corpus part {part!r} is missing"))
            continue
        rows, file_problems = read_jsonl(path, strict=True)
        problems.extend(file_problems)
        for lineno, record in rows:
            errors = check_record(record, part)
            if not errors and part == "seeds":
                seeds = seeds if seeds is not None else _seed_texts()
                source = seeds.get(record["source"])
                if source is None:
                    errors.append(f"source {record['source']!r} is not a file in {SEEDS_DIR}")
                elif not (0 <= record["start"] < record["end"] <= len(source)) or source[record["start"]:record["end"]] != record["text"]:
                    errors.append(f"offsets {record['start']}:{record['end']} do not give this text in seeds/{record['source']}.txt")
            if not errors:
                rid, key = record["id"], normalize(record["text"])
                if rid in seen_ids:
                    errors.append(f"duplicate id {rid!r} (first at {seen_ids[rid][0].name}:{seen_ids[rid][1]})")
                if key in seen_text:
                    errors.append(f"duplicate text (first at {seen_text[key][0].name}:{seen_text[key][1]})")
                seen_ids.setdefault(rid, (path, lineno))
                seen_text.setdefault(key, (path, lineno))
            problems.extend(Problem(path, lineno, f"record {record.get('id', '?') if isinstance(record, dict) else '?'}: {e}") for e in errors)
    return problems


def load_records(part: str | Sequence[str] = "train") -> list[dict[str, Any]]:
    """Records of one or several parts, validated; raises CorpusError on any problem."""
    parts = _parts(part)
    problems = check(parts)
    if problems:
        raise CorpusError(problems)
    records = []
    for p in parts:
        path = part_path(p)
        if path.exists():
            for _, record in read_jsonl(path)[0]:
                records.append({**record, "part": p})
    return records


def _parts(part: str | Sequence[str]) -> tuple[str, ...]:
    names = [part] if isinstance(part, str) else list(part)
    out: list[str] = []
    for name in names:
        for p in ALIASES.get(name, (name,)):
            part_path(p)  # raises on unknown names
            if p not in out:
                out.append(p)
    return tuple(out)


def load(part: str | Sequence[str] = "train"):
    """The corpus as a `datasets.Dataset`; `label` is a ClassLabel in canonical order.

    `part`: "seeds", "supplement", "challenge", "user", "train" (seeds + supplement
    + user, the default), or a list of these.
    """
    from datasets import ClassLabel, Dataset, Features, Value

    records = load_records(part)
    features = Features({
        "id": Value("string"),
        "text": Value("string"),
        "label": ClassLabel(names=list(LABELS)),
        "rationale": Value("string"),
        "part": Value("string"),
        "source": Value("string"),
    })
    columns = {
        "id": [r["id"] for r in records],
        "text": [r["text"] for r in records],
        "label": [LABELS.index(r["label"]) for r in records],
        "rationale": [r["rationale"] for r in records],
        "part": [r["part"] for r in records],
        "source": [str(r.get("source") or r.get("crisis") or r.get("origin") or "") for r in records],
    }
    return Dataset.from_dict(columns, features=features)


def texts_and_labels(part: str | Sequence[str] = "train") -> tuple[list[str], list[str]]:
    records = load_records(part)
    return [r["text"] for r in records], [r["label"] for r in records]


# ---------------------------------------------------------------- adding sentences

@dataclass
class AddReport:
    added: list[dict[str, Any]]
    skipped: list[tuple[str, str]]  # (text, reason)


def _user_lock(path: Path):
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path) + ".lock", timeout=120)


MAX_SENTENCE_CHARS = 2000  # a sentence, not a document: longer input is refused, with its line
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def _text_problem(text: Any) -> str | None:
    """Why `text` cannot be a corpus sentence, or None."""
    if not isinstance(text, str) or not text.translate(_INVISIBLE).strip():
        return f"text must be a non-empty string (invisible characters alone do not count), got {str(text)[:60]!r}"
    if len(text) > MAX_SENTENCE_CHARS:
        return f"text has {len(text):,} characters; a sentence may have at most {MAX_SENTENCE_CHARS:,}: split it"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        return f"text holds a lone surrogate {text[e.start]!r} at character {e.start + 1}: fix the file's encoding"
    return None


def validate_examples(examples: Iterable[Any], where: str = "input") -> list[dict[str, Any]]:
    """Check user examples (dicts with text, label[, rationale, source]); raise CorpusError listing every bad one."""
    clean, problems = [], []
    for i, ex in enumerate(examples):
        line = ex.pop("_line", i + 1) if isinstance(ex, dict) else i + 1
        if not isinstance(ex, dict):
            problems.append(Problem(Path(where), line, f"item {i}: expected an object with 'text' and 'label', got {type(ex).__name__}"))
            continue
        errors = []
        text, label = ex.get("text"), ex.get("label")
        problem = _text_problem(text)
        if problem:
            errors.append(problem)
        if label in (None, ""):
            errors.append(f"label is empty: a person must set it (one of {', '.join(LABELS)}); "
                          "`stance suggest` leaves it empty and keeps the model's guess in 'guess'")
        else:
            try:
                check_label(label)
            except ValueError as e:
                errors.append(str(e))
        for key in ("rationale", "source"):
            if ex.get(key) is not None and not isinstance(ex[key], str):
                errors.append(f"{key} must be a string, got {type(ex[key]).__name__}")
        if errors:
            problems.extend(Problem(Path(where), line, f"item {i}: {e}") for e in errors)
            continue
        assert isinstance(text, str)  # checked above
        clean.append({"text": " ".join(text.split()), "label": label,
                      "rationale": ex.get("rationale") or "", "source": ex.get("source") or ""})
    if problems:
        raise CorpusError(problems)
    return clean


def add_examples(examples: Iterable[Any], where: str = "input") -> AddReport:
    """Validate, de-duplicate and append examples to the user corpus, atomically and under a lock.

    Every example is validated before anything is written; duplicates of any corpus
    sentence (exact or after whitespace/case/quote normalisation) are skipped and reported.
    """
    import datetime as dt

    clean = validate_examples(list(examples), where)
    path = part_path("user")
    with _user_lock(path):
        existing = load_records((*SHIPPED_PARTS, "user"))
        known = {normalize(r["text"]): r["id"] for r in existing}
        user_ids = [r["id"] for r in existing if r["part"] == "user"]
        next_n = 1 + max((int(i.split("-")[1]) for i in user_ids if re.fullmatch(r"user-\d+", i)), default=0)
        added, skipped = [], []
        stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        for ex in clean:
            key = normalize(ex["text"])
            if key in known:
                skipped.append((ex["text"], f"duplicate of {known[key]}"))
                continue
            record = {"id": f"user-{next_n:05d}", "origin": "user", **ex, "added": stamp}
            known[key] = record["id"]
            next_n += 1
            added.append(record)
        if added:
            old = path.read_text(encoding="utf-8") if path.exists() else ""
            if old and not old.endswith("\n"):
                old += "\n"
            atomic_write_text(path, old + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in added))
    return AddReport(added, skipped)


def read_examples_file(path: Path) -> list[dict[str, Any]]:
    """Read user examples from JSONL or CSV (columns text,label[,rationale,source]); line numbers kept."""
    import csv
    import io

    path = Path(path)
    if path.suffix.lower() == ".csv":
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise CorpusError([Problem(path, 0, f"not valid UTF-8 ({e.reason} at byte {e.start}); re-save as UTF-8")]) from None
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            raise CorpusError([Problem(path, 1, f"CSV header must name 'text' and 'label', got {reader.fieldnames!r}")])
        rows: list[dict[str, Any]] = []
        try:
            for row in reader:
                rows.append({**row, "_line": reader.line_num})
        except csv.Error as e:  # e.g. a field over csv.field_size_limit(), or a NUL byte
            raise CorpusError([Problem(path, reader.line_num + 1, f"unreadable CSV ({e}); a sentence may have at most "
                                       f"{MAX_SENTENCE_CHARS:,} characters")]) from None
        return rows
    parsed, problems = read_jsonl(path, strict=False)
    problems += [Problem(path, n, f"expected an object with 'text' and 'label', got {type(v).__name__}")
                 for n, v in parsed if not isinstance(v, dict)]
    if problems:
        raise CorpusError(sorted(problems, key=lambda p: p.line))
    return [{**v, "_line": n} for n, v in parsed]
