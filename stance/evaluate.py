"""Honest evaluation: the same folds for every model, intervals, and tests outside the seeds.

Three views, each for every model row:
1. repeated stratified k-fold on the training corpus (seeds + supplement): macro-F1
   mean, std and a 95% interval by the corrected resampled t-test (Nadeau & Bengio
   2003: fold scores overlap in training data, so the naive interval is too narrow),
   per-label precision/recall/F1 and a summed confusion matrix;
2. leave-one-document-out on the seeds: train on three articles (with or without the
   supplement), test on the fourth: does the model learn stance or the topic?
3. the challenge set (minimal pairs, hard cases), never trained on: accuracy overall
   and per phenomenon, for a model trained on seeds only and on seeds + supplement.

The fine-tuned transformer is trained with a different seed in each repeat, so its
spread includes seed variance.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from stance.base import StanceModel
from stance.labels import LABELS

MODEL_ROWS = ("majority", "tfidf", "frozen-minilm-lr", "transformer")
# Transformer settings small enough for tests and classroom demos (quality is not the point there).
FAST_TRANSFORMER = {"epochs": 1, "batch_size": 16, "max_length": 48}


class MajorityStance(StanceModel):
    """Always the most frequent training label: the floor every model must clear."""

    name = "majority"

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> "MajorityStance":
        counts = np.bincount([LABELS.index(l) for l in labels], minlength=len(LABELS))
        self.prior_ = counts / counts.sum()
        self.majority_ = int(counts.argmax())
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        proba = np.zeros((len(texts), len(LABELS)))
        proba[:, self.majority_] = 1.0
        return proba


def make_model(name: str, seed: int = 0, fast: bool = False, **overrides: Any) -> StanceModel:
    """A fresh, unfitted model for an evaluation row."""
    if name == "majority":
        return MajorityStance()
    if name == "tfidf":
        from stance.baseline import TfidfStance

        return TfidfStance(random_state=seed, **overrides)
    if name == "frozen-minilm-lr":
        from stance.transformer import FrozenMiniLM

        return FrozenMiniLM(**overrides)
    if name in ("transformer", "transformer-full"):
        from stance.transformer import MiniLMStance

        params = {**(FAST_TRANSFORMER if fast else {}), **overrides}
        if name == "transformer-full":
            params = {"full_finetune": True, "learning_rate": 5e-5, **params}
        return MiniLMStance(seed=seed, progress=False, **params)
    raise ValueError(f"unknown model row {name!r}: allowed rows are {', '.join(MODEL_ROWS + ('transformer-full',))}")


# ------------------------------------------------------------------ statistics

def label_scores(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(LABELS), zero_division=0)
    present = sorted(set(y_true) | set(y_pred), key=LABELS.index)
    return {
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "accuracy": float(np.mean(np.asarray(y_true) == np.asarray(y_pred))),
        "per_label": {l: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, l in enumerate(LABELS)},
        "confusion": confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist(),
    }


def interval(scores: Sequence[float], test_fraction: float) -> dict[str, Any]:
    """Mean, std and 95% interval by the corrected resampled t-test over CV fold scores."""
    from scipy import stats

    x = np.asarray(scores, dtype=float)
    k = len(x)
    mean, std = float(x.mean()), float(x.std(ddof=1)) if k > 1 else 0.0
    if k < 2:
        return {"mean": mean, "std": std, "ci95": [mean, mean], "n": k}
    corrected = math.sqrt((1 / k + test_fraction / (1 - test_fraction)) * std**2)
    half = float(stats.t.ppf(0.975, k - 1) * corrected)
    return {"mean": mean, "std": std, "ci95": [mean - half, mean + half], "n": k}


# ------------------------------------------------------------------ protocols

def _fit_predict(name: str, seed: int, fast: bool, train: tuple[list, list], test: list[str], overrides: dict) -> tuple[list[str], float]:
    start = time.perf_counter()
    model = make_model(name, seed=seed, fast=fast, **overrides.get(name, {})).fit(*train)
    return model.predict(test), time.perf_counter() - start


def cross_validate(texts: list[str], labels: list[str], rows: Sequence[str], n_splits: int = 5, n_repeats: int = 3,
                   seed: int = 0, fast: bool = False, overrides: dict | None = None,
                   log: Callable[[str], None] = print) -> dict[str, Any]:
    """Repeated stratified k-fold with identical folds for every row; repeat r trains with seed r."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    overrides = overrides or {}
    folds = list(RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed).split(texts, labels))
    out = {}
    for name in rows:
        f1s, y_true, y_pred, seconds = [], [], [], []
        for i, (tr, te) in enumerate(folds):
            repeat = i // n_splits
            pred, secs = _fit_predict(name, seed + repeat, fast, ([texts[j] for j in tr], [labels[j] for j in tr]),
                                      [texts[j] for j in te], overrides)
            truth = [labels[j] for j in te]
            f1s.append(label_scores(truth, pred)["macro_f1"])
            y_true += truth
            y_pred += pred
            seconds.append(secs)
            log(f"  cv {name} fold {i + 1}/{len(folds)}: macro-F1 {f1s[-1]:.3f} ({secs:.1f}s)")
        stats = interval(f1s, 1 / n_splits)
        out[name] = {"fold_macro_f1": f1s, "macro_f1_mean": stats["mean"], "macro_f1_std": stats["std"],
                     "macro_f1_ci95": stats["ci95"], "fit_seconds_mean": float(np.mean(seconds)),
                     **{k: v for k, v in label_scores(y_true, y_pred).items() if k != "macro_f1"}}
    return {"n_splits": n_splits, "n_repeats": n_repeats, "n": len(texts), "models": out}


def leave_one_document_out(seeds: list[dict], supplement: list[dict], rows: Sequence[str], seed: int = 0,
                           fast: bool = False, overrides: dict | None = None,
                           log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train on three seed articles (+ supplement or not), test on the fourth, for each of the four."""
    overrides = overrides or {}
    docs = sorted({r["source"] for r in seeds})
    out: dict[str, Any] = {}
    for with_supp in (False, True):
        cond = "seeds+supplement" if with_supp else "seeds"
        for name in rows:
            per_doc, y_true, y_pred = {}, [], []
            for doc in docs:
                train = [r for r in seeds if r["source"] != doc] + (supplement if with_supp else [])
                test = [r for r in seeds if r["source"] == doc]
                pred, secs = _fit_predict(name, seed, fast, ([r["text"] for r in train], [r["label"] for r in train]),
                                          [r["text"] for r in test], overrides)
                truth = [r["label"] for r in test]
                per_doc[doc] = label_scores(truth, pred)["macro_f1"]
                y_true += truth
                y_pred += pred
                log(f"  lodo {cond} {name} test={doc}: macro-F1 {per_doc[doc]:.3f} ({secs:.1f}s)")
            pooled = label_scores(y_true, y_pred)
            out.setdefault(cond, {})[name] = {"per_document": per_doc, "mean_macro_f1": float(np.mean(list(per_doc.values()))),
                                              "pooled_macro_f1": pooled["macro_f1"],
                                              "pooled_per_label_f1": {l: v["f1"] for l, v in pooled["per_label"].items()}}
    return out


def challenge(train_sets: dict[str, tuple[list, list]], items: list[dict], rows: Sequence[str], seed: int = 0,
              fast: bool = False, overrides: dict | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Accuracy on the challenge set, overall and per phenomenon, for each training set."""
    overrides = overrides or {}
    texts = [r["text"] for r in items]
    out: dict[str, Any] = {}
    for cond, train in train_sets.items():
        for name in rows:
            pred, _ = _fit_predict(name, seed, fast, train, texts, overrides)
            hits = defaultdict(list)
            for r, p in zip(items, pred):
                hits[r["phenomenon"]].append(p == r["label"])
            acc = float(np.mean([p == r["label"] for r, p in zip(items, pred)]))
            out.setdefault(cond, {})[name] = {"accuracy": acc, "macro_f1": label_scores([r["label"] for r in items], pred)["macro_f1"],
                                              "per_phenomenon": {k: float(np.mean(v)) for k, v in sorted(hits.items())}}
            log(f"  challenge {cond} {name}: accuracy {acc:.3f}")
    return out


# ------------------------------------------------------------------ the whole report

def run(rows: Sequence[str] = MODEL_ROWS, out_dir: Path | None = None, n_splits: int = 5, n_repeats: int = 3,
        seed: int = 0, fast: bool = False, limit: int | None = None, overrides: dict | None = None,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run all three protocols and write metrics.json, evaluation.md and the plots to `out_dir`.

    `limit` keeps a stratified sample of that many training sentences per part (for tests).
    """
    from stance.corpus import load_records
    from stance.persist import PROJECT_ROOT, atomic_write_text
    from stance import plots

    out_dir = Path(out_dir or PROJECT_ROOT / "reports")
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = load_records("seeds")
    supplement = load_records("supplement") + load_records("user")
    items = load_records("challenge")
    if limit:
        seeds, supplement, items = (_sample(x, limit, seed) for x in (seeds, supplement, items))
    train = seeds + supplement
    texts, labels = [r["text"] for r in train], [r["label"] for r in train]
    started = time.time()
    log(f"cross-validation on {len(texts)} sentences ({n_repeats}x{n_splits}-fold)")
    cv = cross_validate(texts, labels, rows, n_splits, n_repeats, seed, fast, overrides, log)
    log("leave one seed document out")
    lodo = leave_one_document_out(seeds, supplement, rows, seed, fast, overrides, log)
    log("challenge set")
    chal = challenge({"seeds": ([r["text"] for r in seeds], [r["label"] for r in seeds]), "seeds+supplement": (texts, labels)},
                     items, rows, seed, fast, overrides, log)
    report = {"created": time.strftime("%Y-%m-%d %H:%M:%S"), "seconds": round(time.time() - started, 1),
              "fast": fast, "limit": limit, "overrides": overrides or {}, "labels": list(LABELS),
              "cv": {k: v for k, v in cv.items() if k != "models"}, "models": cv["models"],
              "leave_one_document_out": lodo, "challenge": chal}
    plots.confusion_matrices({n: m["confusion"] for n, m in cv["models"].items()}, out_dir / "confusion.png",
                             "cross-validation, summed over folds")
    plots.per_label_f1({n: {l: s["f1"] for l, s in m["per_label"].items()} for n, m in cv["models"].items()},
                       out_dir / "per_label_f1.png")
    atomic_write_text(out_dir / "metrics.json", json.dumps(report, indent=1) + "\n")
    atomic_write_text(out_dir / "evaluation.md", render(report))
    return report


def _sample(records: list[dict], n: int, seed: int) -> list[dict]:
    """Up to n records with every label kept (round-robin over labels), in a seeded order."""
    import random

    by_label = defaultdict(list)
    for r in records:
        by_label[r["label"]].append(r)
    rng = random.Random(seed)
    for rs in by_label.values():
        rng.shuffle(rs)
    out, i = [], 0
    while len(out) < min(n, len(records)):
        for l in LABELS:
            if i < len(by_label[l]) and len(out) < n:
                out.append(by_label[l][i])
        i += 1
    return out


def best_model(report: dict[str, Any], candidates: Sequence[str] = ("tfidf", "transformer")) -> str:
    """The shippable model with the highest mean cross-validated macro-F1."""
    scored = [(report["models"][n]["macro_f1_mean"], n) for n in candidates if n in report["models"]]
    if not scored:
        raise ValueError(f"the report has none of the shippable models {candidates}")
    return max(scored)[1]


def render(report: dict[str, Any]) -> str:
    """The markdown report: every figure comes from `report`."""
    cv, models = report["cv"], report["models"]
    lines = ["# Evaluation report", "",
             f"Generated by `stance evaluate` on {report['created']} in {report['seconds']} s"
             + (" — FAST SETTINGS (a smoke run, not the real figures)" if report["fast"] else "") + ".", "",
             f"## Cross-validation: {cv['n_repeats']} x {cv['n_splits']}-fold repeated stratified, {cv['n']} sentences (seeds + supplement)", "",
             "Identical folds for every model; the transformer trains with seed r in repeat r. The 95% interval uses the "
             "corrected resampled t-test (Nadeau & Bengio), which widens the naive interval because folds share training data.", "",
             "| model | macro-F1 mean | std | 95% interval | accuracy | fit time (s) |", "|---|---|---|---|---|---|"]
    for name, m in models.items():
        lo, hi = m["macro_f1_ci95"]
        lines.append(f"| {name} | {m['macro_f1_mean']:.3f} | {m['macro_f1_std']:.3f} | {lo:.3f}–{hi:.3f} | {m['accuracy']:.3f} | {m['fit_seconds_mean']:.1f} |")
    lines += ["", "### Per-label precision / recall / F1 (pooled over all folds)", "",
              "| model | " + " | ".join(LABELS) + " |", "|---|" + "---|" * len(LABELS)]
    for name, m in models.items():
        cells = [f"{m['per_label'][l]['precision']:.2f} / {m['per_label'][l]['recall']:.2f} / **{m['per_label'][l]['f1']:.2f}**" for l in LABELS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "![confusion matrices](confusion.png)", "", "![per-label F1](per_label_f1.png)", "",
              "## Leave one seed document out", "",
              "Train on three seed articles (with or without the supplement), test on the fourth. "
              "Macro-F1 per held-out article, their mean, and macro-F1 of the pooled predictions.", ""]
    lodo = report["leave_one_document_out"]
    docs = sorted(next(iter(next(iter(lodo.values())).values()))["per_document"])
    lines += ["| training data | model | " + " | ".join(d[:3] for d in docs) + " | mean | pooled |",
              "|---|---|" + "---|" * (len(docs) + 2)]
    for cond, per_model in lodo.items():
        for name, m in per_model.items():
            lines.append(f"| {cond} | {name} | " + " | ".join(f"{m['per_document'][d]:.3f}" for d in docs)
                         + f" | {m['mean_macro_f1']:.3f} | {m['pooled_macro_f1']:.3f} |")
    lines += ["", "Pooled per-label F1, leave-one-document-out:", "",
              "| training data | model | " + " | ".join(LABELS) + " |", "|---|---|" + "---|" * len(LABELS)]
    for cond, per_model in lodo.items():
        for name, m in per_model.items():
            lines.append(f"| {cond} | {name} | " + " | ".join(f"{m['pooled_per_label_f1'][l]:.2f}" for l in LABELS) + " |")
    chal = report["challenge"]
    lines += ["", "## Challenge set (minimal pairs and hard cases; never trained on)", "",
              "| training data | model | accuracy | macro-F1 |", "|---|---|---|---|"]
    for cond, per_model in chal.items():
        for name, m in per_model.items():
            lines.append(f"| {cond} | {name} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} |")
    phen = sorted(next(iter(next(iter(chal.values())).values()))["per_phenomenon"])
    last = list(chal)[-1]
    lines += ["", f"Accuracy per phenomenon ({last}):", "", "| phenomenon | " + " | ".join(chal[last]) + " |",
              "|---|" + "---|" * len(chal[last])]
    for p in phen:
        lines.append(f"| {p} | " + " | ".join(f"{m['per_phenomenon'][p]:.2f}" for m in chal[last].values()) + " |")
    return "\n".join(lines) + "\n"
