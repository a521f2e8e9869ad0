"""Why did the model say that? Word-level evidence for one prediction.

Two methods, chosen by the model:

- TF-IDF + logistic regression ("n-gram weights"): exact. Each n-gram present in
  the text contributes `coef[label] * tfidf_value` to the predicted label's score;
  positive pushes toward the label. An n-gram that occurs several times gets one
  evidence entry per occurrence, sharing its contribution, so every occurrence can
  be highlighted.
- Any other model, e.g. the transformer ("occlusion"): remove each whitespace-
  separated word in turn and measure how much the predicted label's probability
  drops (all variants go through one `predict_proba` call). Positive: the word
  supported the label. Approximate: words interact, and each is judged alone.

Importing this module is cheap (it is imported by `import stance`); models and
their libraries load on first use.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from stance.labels import LABELS

METHOD_WEIGHTS = "n-gram weights"
METHOD_OCCLUSION = "occlusion"
# Occlusion costs one forward pass per word: explain sentences, not documents.
MAX_OCCLUSION_WORDS = 512
_WORD = re.compile(r"\S+")

# Highlight colours (also used by the demo app in stance/demo/app.py).
TOWARD_RGB = (22, 163, 74)  # green: pushes toward the predicted label
AGAINST_RGB = (220, 38, 38)  # red: pushes against it


class Evidence(NamedTuple):
    """One n-gram or word and its signed weight toward the predicted label; `text[start:end]` is it
    (start = end = -1 for a rare n-gram the vectorizer found but that could not be located)."""

    token: str
    weight: float
    start: int
    end: int


@dataclass(frozen=True)
class Explanation:
    """A prediction and the evidence behind it, strongest first (by |weight|)."""

    text: str
    label: str
    probability: float
    model: str
    evidence: list[Evidence]
    probabilities: dict[str, float] = field(default_factory=dict)
    method: str = ""

    def segments(self) -> list[tuple[str, float | None]]:
        """The whole text cut at evidence boundaries: (piece, summed weight or None if no evidence covers it).

        Overlapping n-grams ("security" inside "security council") add up, so a
        highlighted piece shows everything the model counted there.
        """
        spans = [e for e in self.evidence if 0 <= e.start < e.end <= len(self.text)]
        cuts = sorted({0, len(self.text), *(e.start for e in spans), *(e.end for e in spans)})
        out: list[tuple[str, float | None]] = []
        for a, b in zip(cuts, cuts[1:]):
            covering = [e.weight for e in spans if e.start <= a and b <= e.end]
            out.append((self.text[a:b], float(sum(covering)) if covering else None))
        return out

    def to_text(self) -> str:
        """A terminal summary: label and probability, then each piece of evidence with its signed weight."""
        lines = [f"{self.label}  p={self.probability:.2f}  [{self.model}, {self.method}]"]
        if not self.evidence:
            lines.append("  (no evidence: none of the text's words or n-grams is known to the model)")
            return "\n".join(lines)
        lines.append(f"evidence (+ pushes toward {self.label}, - against):")
        width = max(len(e.token) for e in self.evidence)
        for e in self.evidence:
            where = f"[{e.start}:{e.end}]" if e.start >= 0 else ""
            lines.append(f"  {e.weight:+.4f}  {e.token:<{width}}  {where}".rstrip())
        return "\n".join(lines)

    def to_html(self, full_page: bool = False) -> str:
        """The text with evidence highlighted (green toward the label, red against); all text escaped.

        full_page: a standalone HTML document (for `stance explain --html`), else a fragment.
        """
        esc = html.escape
        scale = max((abs(w) for _, w in self.segments() if w is not None), default=0.0)
        pieces = []
        for piece, weight in self.segments():
            if weight is None or scale == 0:
                pieces.append(esc(piece))
                continue
            pieces.append(f'<mark style="background:{highlight_color(weight, scale)};border-radius:2px" '
                          f'title="{weight:+.4f}">{esc(piece)}</mark>')
        probs = " ".join(f"{esc(l)}&nbsp;{p:.2f}" for l, p in self.probabilities.items())
        fragment = (
            '<div class="stance-explanation" style="font-family:sans-serif;line-height:1.6">'
            f'<div><strong>{esc(self.label)}</strong> p={self.probability:.2f} '
            f'<span style="color:#666">[{esc(self.model)}, {esc(self.method)}]</span></div>'
            + (f'<div style="color:#666;font-size:90%">{probs}</div>' if probs else "")
            + f'<div style="white-space:pre-wrap">{"".join(pieces)}</div>'
            '<div style="color:#666;font-size:85%">'
            f'<span style="background:{highlight_color(1, 1)}">green</span> pushes toward {esc(self.label)}, '
            f'<span style="background:{highlight_color(-1, 1)}">red</span> against</div></div>'
        )
        if not full_page:
            return fragment
        return ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
                f"<title>stance: {esc(self.label)}</title></head><body>{fragment}</body></html>\n")

    def _repr_html_(self) -> str:
        return self.to_html()


def highlight_color(weight: float, scale: float) -> str:
    """An rgba() background: hue by sign, opacity by |weight| relative to the strongest (`scale`)."""
    r, g, b = TOWARD_RGB if weight > 0 else AGAINST_RGB
    alpha = 0.15 + 0.6 * min(1.0, abs(weight) / scale) if scale > 0 else 0.0
    return f"rgba({r},{g},{b},{alpha:.2f})"


def explain(text: str, model: Any = None, top_k: int | None = 8, method: str = "auto") -> Explanation:
    """Explain the model's prediction for `text` (one sentence) by its top_k strongest pieces of evidence.

    model: None (the default model), a registry name (`stance.MODEL_NAMES`), a model directory, or a fitted model.
    top_k: how many pieces of evidence to keep, strongest by |weight|; None keeps all.
    method: "auto" (n-gram weights for TF-IDF, occlusion otherwise), "weights" or "occlusion".
    """
    from stance.api import get_model

    if not isinstance(text, str):
        raise TypeError(f"explain expects a string, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("text is empty or whitespace only: give a sentence to explain")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be a positive integer or None (all evidence), got {top_k!r}")
    if method not in ("auto", "weights", "occlusion"):
        raise ValueError(f"unknown method {method!r}: use auto, weights or occlusion")
    m = get_model(model)
    pipeline = _tfidf_pipeline(m)
    if method == "weights" and pipeline is None:
        raise ValueError(f"method='weights' needs a TF-IDF model; {type(m).__name__} has no TF-IDF pipeline: use occlusion")
    if method == "weights" or (method == "auto" and pipeline is not None):
        expl = _explain_weights(text, m, pipeline)
    else:
        expl = _explain_occlusion(text, m)
    evidence = sorted(expl.evidence, key=lambda e: (-abs(e.weight), e.start))
    return Explanation(expl.text, expl.label, expl.probability, expl.model,
                       evidence if top_k is None else evidence[:top_k], expl.probabilities, expl.method)


# ------------------------------------------------------------------ internals

def _tfidf_pipeline(m: Any):
    """The model's fitted tfidf+clf Pipeline if it has one we can read weights from, else None."""
    pipe = getattr(m, "pipeline_", None)
    steps = getattr(pipe, "named_steps", None) or {}
    vec, clf = steps.get("tfidf"), steps.get("clf")
    if vec is None or clf is None or not hasattr(clf, "coef_") or not hasattr(vec, "vocabulary_"):
        return None
    if getattr(vec, "analyzer", "word") != "word" or getattr(vec, "tokenizer", None) is not None:
        return None  # custom tokenisation: occurrences cannot be located reliably
    return pipe


def _base(text: str, m: Any, proba_row) -> tuple[str, int, float, dict[str, float], str]:
    label_id = int(proba_row.argmax())
    probs = {l: float(p) for l, p in zip(LABELS, proba_row)}
    return LABELS[label_id], label_id, float(proba_row[label_id]), probs, getattr(m, "name", type(m).__name__)


def _locate_ngrams(text: str, vec) -> dict[str, list[tuple[int, int]]]:
    """Every n-gram the vectorizer would extract from `text`, with character spans into `text`."""
    pre = vec.build_preprocessor()
    # Preprocess (lowercase, strip accents) one character at a time, keeping a map back to the original.
    pieces, origin = [], []
    for i, ch in enumerate(text):
        p = pre(ch)
        pieces.append(p)
        origin.extend([i] * len(p))
    processed = "".join(pieces)
    stop = vec.get_stop_words() or frozenset()
    tokens = [(t.group(), origin[t.start()], origin[t.end() - 1] + 1)
              for t in re.finditer(vec.token_pattern, processed) if t.group() not in stop]
    lo, hi = vec.ngram_range
    found: dict[str, list[tuple[int, int]]] = {}
    for n in range(lo, hi + 1):
        for i in range(len(tokens) - n + 1):
            gram = " ".join(t for t, _, _ in tokens[i:i + n])
            found.setdefault(gram, []).append((tokens[i][1], tokens[i + n - 1][2]))
    return found


def _explain_weights(text: str, m: Any, pipeline) -> Explanation:
    import numpy as np

    label, label_id, prob, probs, name = _base(text, m, m.predict_proba([text])[0])
    vec, clf = pipeline.named_steps["tfidf"], pipeline.named_steps["clf"]
    classes = [int(c) for c in clf.classes_]
    coef = np.atleast_2d(clf.coef_)
    pos = classes.index(label_id)
    row = coef[pos] if coef.shape[0] > 1 else (coef[0] if pos == 1 else -coef[0])  # binary: one row for class 1
    x = vec.transform([text]).tocsr()
    features = vec.get_feature_names_out()
    located = _locate_ngrams(text, vec)
    evidence = []
    for j, value in zip(x.indices, x.data):
        gram = str(features[j])
        weight = float(row[j] * value)
        spans = located.get(gram) or [(-1, -1)]
        evidence += [Evidence(gram, weight / len(spans), a, b) for a, b in spans]
    return Explanation(text, label, prob, name, evidence, probs, METHOD_WEIGHTS)


def _explain_occlusion(text: str, m: Any) -> Explanation:
    words = [(w.group(), w.start(), w.end()) for w in _WORD.finditer(text)]
    if len(words) > MAX_OCCLUSION_WORDS:
        raise ValueError(f"text has {len(words)} words; occlusion explains at most {MAX_OCCLUSION_WORDS}: "
                         "split it into sentences (stance.analyze) and explain each")
    variants = []
    for i in range(len(words)):
        rest = " ".join(w for k, (w, _, _) in enumerate(words) if k != i)
        variants.append(rest if rest.strip() else "-")  # a one-word text: compare with a neutral stand-in
    proba = m.predict_proba([text] + variants)
    label, label_id, prob, probs, name = _base(text, m, proba[0])
    evidence = [Evidence(w, float(prob - proba[i + 1][label_id]), a, b) for i, (w, a, b) in enumerate(words)]
    return Explanation(text, label, prob, name, evidence, probs, METHOD_OCCLUSION)
