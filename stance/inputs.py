"""Checking what callers pass in: texts and labels, with errors that name the bad item and its index."""

from __future__ import annotations

from typing import Any

from stance.labels import LABEL2ID, LABELS


def check_texts(texts: Any, what: str = "texts") -> list[str]:
    """Return `texts` as a list of non-empty strings, or raise naming the bad item and its index."""
    if isinstance(texts, str):
        raise TypeError(f"{what} must be a list of strings; wrap a single string in a list")
    if texts is None or isinstance(texts, (bytes, bytearray, dict)) or not hasattr(texts, "__iter__"):
        raise TypeError(f"{what} must be a list of strings, got {type(texts).__name__}")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise TypeError(f"{what}[{i}] must be a str, got {type(t).__name__}: {t!r:.60}")
        check_text(t, f"{what}[{i}]")
    return out


def check_text(text: str, what: str = "text") -> str:
    """Raise ValueError, naming `what`, for an empty string or one that is not valid Unicode text."""
    if not text.strip():
        raise ValueError(f"{what} is empty or whitespace only: give a sentence to classify")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:  # lone surrogates, e.g. from decoding bytes with errors="surrogateescape"
        raise ValueError(f"{what} holds {text[e.start]!r} at position {e.start}, a lone surrogate that is not valid "
                         "Unicode text: decode the input with errors='replace' or fix its encoding") from None
    return text


def check_labels(labels: Any, n: int) -> list[int]:
    """Label strings -> ids, checking every one; the error names the index and the allowed labels."""
    if isinstance(labels, str):
        raise TypeError("labels must be a list of label strings, not one string")
    out = []
    for i, label in enumerate(labels):
        if label not in LABEL2ID:
            raise ValueError(f"labels[{i}] is {label!r}: allowed labels are {', '.join(LABELS)}")
        out.append(LABEL2ID[label])
    if len(out) != n:
        raise ValueError(f"got {n} texts but {len(out)} labels: they must match one to one")
    if n == 0:
        raise ValueError("cannot fit on zero examples")
    return out
