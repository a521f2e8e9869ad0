"""Scores and their uncertainty: per-label figures, CV intervals, bootstrap intervals."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from stance.labels import LABELS


def label_scores(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    """Macro-F1 (over labels present in truth or prediction), accuracy, per-label P/R/F1, confusion matrix."""
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(LABELS), zero_division=0)
    present = sorted(set(y_true) | set(y_pred), key=LABELS.index)
    return {
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "accuracy": float(np.mean(np.asarray(y_true) == np.asarray(y_pred))),
        "per_label": {label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, label in enumerate(LABELS)},
        "confusion": confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist(),
    }


def interval(scores: Sequence[float], test_fraction: float) -> dict[str, Any]:
    """Mean, std and 95% interval of the mean by the corrected resampled t-test over CV fold scores.

    (Nadeau & Bengio 2003: folds share training data, so the naive interval is too narrow.)
    """
    from scipy import stats

    x = np.asarray(scores, dtype=float)
    k = len(x)
    mean, std = float(x.mean()), float(x.std(ddof=1)) if k > 1 else 0.0
    if k < 2:
        return {"mean": mean, "std": std, "ci95": [mean, mean], "n": k}
    corrected = math.sqrt((1 / k + test_fraction / (1 - test_fraction)) * std**2)
    half = float(stats.t.ppf(0.975, k - 1) * corrected)
    return {"mean": mean, "std": std, "ci95": [mean - half, mean + half], "n": k}


def _bootstrap_f1(y_true: Sequence[str], y_pred: Sequence[str], n_resamples: int, seed: int, average: str | None) -> np.ndarray:
    """F1 (macro, or per label with average=None) over `n_resamples` resamplings of the test sentences."""
    from sklearn.metrics import f1_score

    t, p = np.asarray(y_true), np.asarray(y_pred)
    rng = np.random.default_rng(seed)
    return np.array([f1_score(t[i], p[i], labels=list(LABELS), average=average, zero_division=0)
                     for i in (rng.integers(0, len(t), len(t)) for _ in range(n_resamples))])


def bootstrap_macro_f1(y_true: Sequence[str], y_pred: Sequence[str], n_resamples: int = 1000,
                       seed: int = 0) -> list[float]:
    """95% percentile bootstrap interval of macro-F1 over test sentences (resampled with replacement)."""
    scores = _bootstrap_f1(y_true, y_pred, n_resamples, seed, "macro")
    return [float(np.percentile(scores, 2.5)), float(np.percentile(scores, 97.5))]


def bootstrap_label_f1(y_true: Sequence[str], y_pred: Sequence[str], n_resamples: int = 1000,
                       seed: int = 0) -> dict[str, list[float]]:
    """95% percentile bootstrap interval of each label's F1 (for error bars)."""
    scores = _bootstrap_f1(y_true, y_pred, n_resamples, seed, None)
    lo, hi = np.percentile(scores, 2.5, axis=0), np.percentile(scores, 97.5, axis=0)
    return {label: [float(lo[k]), float(hi[k])] for k, label in enumerate(LABELS)}
