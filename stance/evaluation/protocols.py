"""Evaluation protocols, each for every model row, out-of-distribution first.

1. the outside-writer test set (written blind by writers who never saw the corpus, on
   crises no training part covers): macro-F1 with a 95% bootstrap interval;
2. the challenge set (minimal pairs and hard cases): accuracy overall and per phenomenon;
3. name-swap invariance (`robustness`): the share of labels that change when countries
   and cities are swapped;
4. leave one seed article out: train on three seed articles + the rest of the training
   corpus, test on the fourth (small: never used alone to choose a model);
5. in-distribution repeated stratified k-fold on the training corpus, with the
   corrected resampled t-test interval: it flatters, and says so.

Protocols 1-3 share one fit per model on the whole training corpus.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Any, Sequence

import numpy as np

from stance.evaluation.metrics import bootstrap_label_f1, bootstrap_macro_f1, interval, label_scores
from stance.models.base import StanceModel
from stance.models.registry import make_model

log = logging.getLogger(__name__)
Data = tuple[list[str], list[str]]


def fit(name: str, train: Data, seed: int = 0, fast: bool = False, progress: bool = False,
        **overrides: Any) -> tuple[StanceModel, float]:
    """A fresh registry model fitted on `train`, and the seconds it took."""
    start = time.perf_counter()
    model = make_model(name, random_state=seed, fast=fast, **overrides).fit(*train, progress=progress)
    return model, time.perf_counter() - start


def outside(model: StanceModel, items: list[dict], n_resamples: int = 1000) -> dict[str, Any]:
    """Macro-F1 on the outside-writer set with a percentile bootstrap interval, and per-label figures."""
    truth = [r["label"] for r in items]
    pred = model.predict([r["text"] for r in items])
    scores = label_scores(truth, pred)
    by_origin = defaultdict(list)
    for r, p in zip(items, pred):
        by_origin[r.get("origin", "?")].append((r["label"], p))
    return {"n": len(items), "macro_f1": scores["macro_f1"], "accuracy": scores["accuracy"],
            "macro_f1_ci95": bootstrap_macro_f1(truth, pred, n_resamples),
            "per_label_f1": {k: v["f1"] for k, v in scores["per_label"].items()}, "confusion": scores["confusion"],
            "per_label_f1_ci95": bootstrap_label_f1(truth, pred, min(n_resamples, 300)),
            "per_writer_macro_f1": {o: label_scores([t for t, _ in v], [p for _, p in v])["macro_f1"]
                                    for o, v in sorted(by_origin.items())}}


def challenge(model: StanceModel, items: list[dict]) -> dict[str, Any]:
    """Accuracy on the challenge set, overall and per phenomenon."""
    pred = model.predict([r["text"] for r in items])
    hits = defaultdict(list)
    for r, p in zip(items, pred):
        hits[r["phenomenon"]].append(p == r["label"])
    return {"n": len(items), "accuracy": float(np.mean([p == r["label"] for r, p in zip(items, pred)])),
            "macro_f1": label_scores([r["label"] for r in items], pred)["macro_f1"],
            "per_phenomenon": {k: float(np.mean(v)) for k, v in sorted(hits.items())}}


def leave_one_document_out(name: str, seeds: list[dict], rest: list[dict], seed: int = 0,
                           fast: bool = False) -> dict[str, Any]:
    """Train on three seed articles + `rest`, test on the fourth, for each of the four."""
    docs = sorted({r["source"] for r in seeds})
    per_doc, y_true, y_pred = {}, [], []
    for doc in docs:
        train = [r for r in seeds if r["source"] != doc] + rest
        test = [r for r in seeds if r["source"] == doc]
        model, secs = fit(name, ([r["text"] for r in train], [r["label"] for r in train]), seed, fast)
        pred = model.predict([r["text"] for r in test])
        truth = [r["label"] for r in test]
        per_doc[doc] = label_scores(truth, pred)["macro_f1"]
        y_true += truth
        y_pred += pred
        log.info("  lodo %s test=%s: macro-F1 %.3f (%.1fs)", name, doc, per_doc[doc], secs)
    pooled = label_scores(y_true, y_pred)
    return {"per_document": per_doc, "mean_macro_f1": float(np.mean(list(per_doc.values()))),
            "pooled_macro_f1": pooled["macro_f1"],
            "pooled_per_label_f1": {k: v["f1"] for k, v in pooled["per_label"].items()}}


def cross_validate(name: str, texts: list[str], labels: list[str], n_splits: int = 5, n_repeats: int = 3,
                   seed: int = 0, fast: bool = False) -> dict[str, Any]:
    """Repeated stratified k-fold with the same folds for every row; repeat r trains with seed r."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    folds = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed).split(texts, labels)
    f1s, y_true, y_pred, seconds = [], [], [], []
    for i, (tr, te) in enumerate(folds):
        model, secs = fit(name, ([texts[j] for j in tr], [labels[j] for j in tr]), seed + i // n_splits, fast)
        pred, truth = model.predict([texts[j] for j in te]), [labels[j] for j in te]
        f1s.append(label_scores(truth, pred)["macro_f1"])
        y_true += truth
        y_pred += pred
        seconds.append(secs)
        log.info("  cv %s fold %d: macro-F1 %.3f (%.1fs)", name, i + 1, f1s[-1], secs)
    stats = interval(f1s, 1 / n_splits)
    scores = label_scores(y_true, y_pred)
    return {"n_splits": n_splits, "n_repeats": n_repeats, "fold_macro_f1": f1s, "macro_f1_mean": stats["mean"],
            "macro_f1_std": stats["std"], "macro_f1_ci95": stats["ci95"], "fit_seconds_mean": float(np.mean(seconds)),
            "per_label_f1": {k: v["f1"] for k, v in scores["per_label"].items()},
            "confusion_mean_per_repeat": (np.asarray(scores["confusion"]) / n_repeats).tolist()}


def sample(records: list[dict], n: int, seed: int) -> list[dict]:
    """Up to n records with every label kept (round-robin over labels), in a seeded order."""
    import random

    from stance.labels import LABELS

    by_label = defaultdict(list)
    for r in records:
        by_label[r["label"]].append(r)
    rng = random.Random(seed)
    for rs in by_label.values():
        rng.shuffle(rs)
    out: list[dict] = []
    i = 0
    while len(out) < min(n, len(records)):
        for label in LABELS:
            if i < len(by_label[label]) and len(out) < n:
                out.append(by_label[label][i])
        i += 1
    return out


def choose_default(report: dict[str, Any], candidates: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """The shippable model that is best out of distribution: mean of outside-set macro-F1 and challenge
    accuracy, minus the name-swap change share; never in-distribution CV."""
    scored = []
    for name in candidates:
        m = report["models"].get(name, {})
        if "outside" not in m or "challenge" not in m:
            continue
        swap = m.get("name_swap", {}).get("changed_share", 0.0)
        score = (m["outside"]["macro_f1"] + m["challenge"]["accuracy"]) / 2 - swap
        scored.append((score, name, {"outside_macro_f1": m["outside"]["macro_f1"],
                                     "challenge_accuracy": m["challenge"]["accuracy"], "name_swap_changed": swap,
                                     "score": score, "rule": "(outside macro-F1 + challenge accuracy) / 2 - name-swap share"}))
    if not scored:
        raise ValueError(f"the report has no out-of-distribution figures for any of {', '.join(candidates)}")
    best = max(scored)
    return best[1], best[2]
