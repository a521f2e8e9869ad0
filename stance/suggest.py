"""Label what matters: the sentences of a document the model is least sure of.

    >>> from stance.suggest import suggest, write_suggestions
    >>> records = suggest(open("speech.txt", encoding="utf-8").read(), n=20, source="speech.txt")
    >>> write_suggestions(records, "to_label.jsonl")

A person then reads `to_label.jsonl`, corrects each `label` (it starts as the
model's guess, kept in `guess`), deletes the lines not worth keeping, and adds the
file with `stance add --file to_label.jsonl`, then retrains with `stance train`.

Uncertainty (uncertainty sampling, Lewis & Gale 1994):
- ``margin``: top-1 minus top-2 probability; the smallest margins come first;
- ``entropy``: Shannon entropy of the probabilities (nats); the largest come first.

This module is light to import: the model and the segmenter load inside `suggest`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable, Sequence

STRATEGIES = ("margin", "entropy")


def margin(probabilities: Sequence[float]) -> float:
    """Top-1 minus top-2 probability: 0 when the model cannot choose between two labels."""
    top = sorted((float(p) for p in probabilities), reverse=True)
    return top[0] - (top[1] if len(top) > 1 else 0.0)


def entropy(probabilities: Sequence[float]) -> float:
    """Shannon entropy in nats: 0 for a certain prediction, ln(5) for a uniform one."""
    return float(-sum(p * math.log(p) for p in (float(x) for x in probabilities) if p > 0))


def _known_texts() -> set[str]:
    """Normalised texts of every corpus sentence (shipped and user): no point in suggesting them again."""
    from stance.corpus import SCHEMAS, normalize, part_path, read_jsonl

    known: set[str] = set()
    for part in SCHEMAS:
        path = part_path(part)
        if path.exists():
            known.update(normalize(r["text"]) for _, r in read_jsonl(path, strict=False)[0]
                         if isinstance(r, dict) and isinstance(r.get("text"), str))
    return known


def suggest(text: str, n: int = 20, model: Any = None, strategy: str = "margin", source: str = "",
            skip_known: bool = True) -> list[dict[str, Any]]:
    """The `n` sentences of `text` the model is least sure of, least sure first.

    `text` is a whole document: it is split into sentences (`stance.segment.split_sentences`)
    and every sentence is classified. `model`: None (the default model), a model name, a
    model directory, or a fitted model. `strategy`: "margin" or "entropy". `source` (a file
    name) is copied into every record. `skip_known` leaves out sentences already in the
    corpus, and repeats within the document are suggested once.

    Each record: text, label (empty: a person sets it), guess (the model's label, kept apart so
    that an unreviewed guess never becomes a training label), margin or entropy, probabilities,
    source, rationale (empty, for the person).
    """
    from stance.api import predict
    from stance.corpus import normalize
    from stance.segment import split_sentences

    if not isinstance(text, str):
        raise TypeError(f"suggest expects the document as a str, got {type(text).__name__}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer (how many sentences to suggest), got {n!r}")
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: allowed strategies are {', '.join(STRATEGIES)}")
    if not isinstance(source, str):
        raise TypeError(f"source must be a str (a file name, or ''), got {type(source).__name__}")
    known = _known_texts() if skip_known else set()
    sentences, seen = [], set()
    for span in split_sentences(text):
        key = normalize(span.text)
        if key and key not in seen and key not in known:
            seen.add(key)
            sentences.append(span.text)
    if not sentences:
        return []
    preds = predict(sentences, model=model)
    scored = []
    for i, (sentence, p) in enumerate(zip(sentences, preds)):
        probs = list(p.probabilities.values())
        score = margin(probs) if strategy == "margin" else entropy(probs)
        record = {"text": sentence, "label": "", "guess": p.label, strategy: score,
                  "probabilities": p.probabilities, "source": source, "rationale": ""}
        # least sure first: smallest margin, or largest entropy; ties keep document order
        scored.append(((score if strategy == "margin" else -score, i), record))
    scored.sort(key=lambda x: x[0])
    return [record for _, record in scored[:n]]


def write_suggestions(records: Iterable[dict[str, Any]], path: str | Path) -> Path:
    """Write suggestion records as JSONL (one object a line, UTF-8), atomically.

    The file is what `stance add --file` reads once a person has filled each `label`: it takes
    `text`, `label`, `rationale` and `source` and ignores the rest; it refuses lines whose label is empty.
    """
    from stance.atomic import atomic_write_text

    lines = []
    for i, r in enumerate(records):
        if not isinstance(r, dict) or not isinstance(r.get("text"), str) or not isinstance(r.get("label"), str):
            raise ValueError(f"record {i} must be a dict with string 'text' and 'label', got {r!r:.80}")
        lines.append(json.dumps(r, ensure_ascii=False) + "\n")
    path = Path(path)
    atomic_write_text(path, "".join(lines))
    return path
