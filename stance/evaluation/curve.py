"""Learning curves: how macro-F1 grows with the number of labelled training sentences.

Protocol: one StratifiedKFold over the training corpus (seeds + supplement + user),
the same folds for every model. In each fold, every model trains on growing,
stratified, nested subsets of the fold's training part (for each draw seed, the 10%
subset lies inside the 25% one, and so on) and is scored by macro-F1 on the fold's
whole test part. The spread at a point covers folds and draws. If the curve is still
rising at 100%, more labelled sentences are likely to help.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Sequence

_log = logging.getLogger(__name__)
DEFAULT_FRACTIONS = (0.1, 0.25, 0.5, 1.0)


def _check(models: Sequence[str], fractions: Sequence[float], seeds: int, n_splits: int) -> tuple[list[str], list[float]]:
    from stance.models.registry import ALIASES, MODEL_NAMES

    allowed = MODEL_NAMES + tuple(ALIASES)
    models = list(models)
    if not models:
        raise ValueError(f"no models given: allowed models are {', '.join(allowed)}")
    for m in models:
        if m not in allowed:
            raise ValueError(f"unknown model {m!r}: allowed models are {', '.join(allowed)}")
    if not fractions:
        raise ValueError("no fractions given: give numbers in (0, 1], e.g. 0.1,0.25,0.5,1.0")
    for f in fractions:
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f <= 1:
            raise ValueError(f"fraction {f!r} is not a number in (0, 1]: fractions are shares of each fold's training part")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer (draws per fraction), got {seeds!r}")
    if isinstance(n_splits, bool) or not isinstance(n_splits, int) or n_splits < 2:
        raise ValueError(f"folds must be an integer of at least 2, got {n_splits!r}")
    return list(dict.fromkeys(models)), sorted(set(float(f) for f in fractions))


def nested_order(labels: Sequence[str], seed: int) -> dict[str, list[int]]:
    """Per label, the positions of `labels` in a seeded random order (prefixes give nested subsets)."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    rng = random.Random(seed)
    for idx in by_label.values():
        rng.shuffle(idx)
    return dict(by_label)


def stratified_subset(order: dict[str, list[int]], fraction: float) -> list[int]:
    """round(fraction x count) positions of each label (at least one), sorted."""
    out: list[int] = []
    for idx in order.values():
        out += idx[: max(1, round(fraction * len(idx)))]
    return sorted(out)


def time_left(started: float, done: float, total: float) -> str:
    """ ", about 3 min left": the time so far, scaled by the training sentences still to fit."""
    if done <= 0 or done >= total:
        return ""
    left = (time.time() - started) * (total - done) / done
    return f", about {left / 60:.0f} min left" if left >= 90 else f", about {left:.0f} s left"


def learning_curve(models: Sequence[str] = ("tfidf",), fractions: Sequence[float] = DEFAULT_FRACTIONS, seeds: int = 3,
                   n_splits: int = 5, out_dir: str | Path | None = None, fast: bool = False, limit: int | None = None,
                   seed: int = 0, overrides: dict[str, dict] | None = None,
                   log: Callable[[str], None] = _log.info) -> dict[str, Any]:
    """Compute the curves, write learning_curve.json and learning_curve.png to `out_dir`, return the report.

    `limit`: a label-balanced sample of that many training sentences (smoke runs).
    `overrides`: per model, keyword arguments for `stance.models.registry.make_model`.
    """
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from stance.atomic import atomic_write_text
    from stance.corpus import TRAIN_PARTS, load_records
    from stance.evaluation import plots
    from stance.evaluation.metrics import label_scores
    from stance.evaluation.protocols import sample
    from stance.models.registry import make_model
    from stance.paths import reports_dir

    models, fractions = _check(models, fractions, seeds, n_splits)
    overrides = overrides or {}
    out_dir = Path(out_dir) if out_dir is not None else reports_dir()
    records = load_records(TRAIN_PARTS)
    if limit:
        records = sample(records, limit, seed)
    texts, labels = [r["text"] for r in records], [r["label"] for r in records]
    smallest = min(labels.count(l) for l in set(labels))
    if smallest < n_splits:
        raise ValueError(f"{n_splits} folds need at least {n_splits} sentences of every label, but one label has "
                         f"{smallest} in the {len(texts)} sentences used: use fewer folds or a larger --limit")
    started = time.time()
    folds = list(StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(texts, labels))
    runs = []
    log(f"learning curve on {len(texts)} sentences: {n_splits} folds x {len(fractions)} fractions x {seeds} draw(s), "
        f"models {', '.join(models)}")
    total_work = sum(len(tr) for tr, _ in folds) * seeds * sum(fractions) * len(models)  # training sentences to fit
    done_work = 0.0
    for k, (tr, te) in enumerate(folds):
        test_t, test_l = [texts[i] for i in te], [labels[i] for i in te]
        fold_l = [labels[i] for i in tr]
        for draw in range(seeds):
            order = nested_order(fold_l, seed + draw)
            for frac in fractions:
                subset = [tr[i] for i in stratified_subset(order, frac)]
                train_t, train_l = [texts[i] for i in subset], [labels[i] for i in subset]
                for name in models:
                    t0 = time.perf_counter()
                    model = make_model(name, random_state=seed + draw, fast=fast, **overrides.get(name, {})).fit(train_t, train_l)
                    f1 = label_scores(test_l, model.predict(test_t))["macro_f1"]
                    secs = time.perf_counter() - t0
                    runs.append({"model": name, "fold": k, "draw": draw, "fraction": frac, "n_train": len(subset),
                                 "macro_f1": f1, "seconds": round(secs, 2)})
                    done_work += len(subset)
                    log(f"  fold {k + 1}/{n_splits} draw {draw + 1}/{seeds} {name} {frac:g} "
                        f"({len(subset)} sentences): macro-F1 {f1:.3f} ({secs:.1f}s){time_left(started, done_work, total_work)}")
    summary: dict[str, list[dict[str, Any]]] = {}
    curves: dict[str, dict[int, list[float]]] = {}
    for name in models:
        for frac in fractions:
            rs = [r for r in runs if r["model"] == name and r["fraction"] == frac]
            scores = [r["macro_f1"] for r in rs]
            n_mean = int(round(float(np.mean([r["n_train"] for r in rs]))))
            summary.setdefault(name, []).append({
                "fraction": frac, "n_train_mean": n_mean, "macro_f1_mean": float(np.mean(scores)),
                "macro_f1_std": float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0,
                "macro_f1_min": float(min(scores)), "macro_f1_max": float(max(scores)), "runs": len(scores)})
            curves.setdefault(name, {}).setdefault(n_mean, []).extend(scores)  # tiny data: two fractions, one size
    report = {"created": time.strftime("%Y-%m-%d %H:%M:%S"), "seconds": round(time.time() - started, 1),
              "n_sentences": len(texts), "parts": list(TRAIN_PARTS), "n_splits": n_splits, "seeds": seeds,
              "fractions": fractions, "models": models, "fast": fast, "limit": limit, "seed": seed,
              "summary": summary, "runs": runs}
    out_dir.mkdir(parents=True, exist_ok=True)
    png = out_dir / "learning_curve.png"
    tmp = out_dir / f".learning_curve.{os.getpid()}.png"
    try:
        plots.learning_curve(curves, tmp)
        os.replace(tmp, png)
    finally:
        tmp.unlink(missing_ok=True)
    atomic_write_text(out_dir / "learning_curve.json", json.dumps(report, indent=1) + "\n")
    for name, points in summary.items():
        log(f"{name}: " + ", ".join(f"{p['n_train_mean']} -> {p['macro_f1_mean']:.3f}" for p in points))
    return report


def writer_curve(models: Sequence[str] = ("tfidf", "frozen-mpnet"), counts: Sequence[int] = (0, 1, 2, 4, 8, 12),
                 draws: int = 3, out_dir: str | Path | None = None, seed: int = 0,
                 log: Callable[[str], None] = _log.info) -> dict[str, Any]:
    """Macro-F1 on the outside-writer test set against the number of writer briefs added to seeds + supplement.

    Writers, not sentences, on the x-axis: for each count k, `draws` random sets of k briefs (every
    brief's sentences, or none); the same sets for every model. If the curve still climbs at the right,
    another writer is likely to pay. The outside-writer set and the challenge set stay test sets.
    """
    import random

    import numpy as np

    from stance.atomic import atomic_write_text
    from stance.corpus import load_records
    from stance.evaluation import plots
    from stance.evaluation.metrics import label_scores
    from stance.models.registry import make_model
    from stance.paths import reports_dir

    base = load_records(("seeds", "supplement"))
    by_brief: dict[str, list[dict]] = {}
    for r in load_records("writers"):
        by_brief.setdefault(r["origin"], []).append(r)
    briefs = sorted(by_brief)
    counts = [k for k in counts if 0 <= k <= len(briefs)]
    outside = load_records("outside")
    test_t, test_l = [r["text"] for r in outside], [r["label"] for r in outside]
    rng = random.Random(seed)
    started = time.time()
    runs = []
    plan = [(k, draw, chosen) for k in counts for draw, chosen in enumerate(
        [briefs] if k == len(briefs) else [[]] if k == 0 else [rng.sample(briefs, k) for _ in range(draws)])]
    total_work = sum(len(base) + sum(len(by_brief[b]) for b in chosen) for _, _, chosen in plan) * len(models)
    done_work = 0.0
    for k, draw, chosen in plan:
        train = base + [r for b in chosen for r in by_brief[b]]
        for name in models:
            model = make_model(name, random_state=seed, **({"search": False} if name == "tfidf" else {}))
            model.fit([r["text"] for r in train], [r["label"] for r in train])
            scores = label_scores(test_l, model.predict(test_t))
            runs.append({"model": name, "writers": k, "draw": draw, "briefs": chosen, "n_train": len(train),
                         "macro_f1": scores["macro_f1"],
                         "per_label_f1": {label: v["f1"] for label, v in scores["per_label"].items()}})
            done_work += len(train)
            log(f"  {name} with {k} writer brief(s) (draw {draw + 1}, {len(train)} sentences): "
                f"outside macro-F1 {scores['macro_f1']:.3f}{time_left(started, done_work, total_work)}")
    curves: dict[str, dict[int, list[float]]] = {}
    for r in runs:
        curves.setdefault(r["model"], {}).setdefault(r["writers"], []).append(r["macro_f1"])
    summary = {m: [{"writers": k, "macro_f1_mean": float(np.mean(v)), "macro_f1_min": float(min(v)),
                    "macro_f1_max": float(max(v)), "runs": len(v)} for k, v in sorted(c.items())] for m, c in curves.items()}
    report = {"created": time.strftime("%Y-%m-%d %H:%M:%S"), "seconds": round(time.time() - started, 1),
              "test_set": f"outside ({len(outside)} sentences)", "base": "seeds + supplement", "briefs": briefs,
              "draws": draws, "summary": summary, "runs": runs}
    out = Path(out_dir) if out_dir is not None else reports_dir()
    out.mkdir(parents=True, exist_ok=True)
    plots.learning_curve(curves, out / "writer_curve.png", xlabel="writer briefs added to seeds + supplement",
                         title="macro-F1 on the outside-writer test set, by number of writers")
    atomic_write_text(out / "writer_curve.json", json.dumps(report, indent=1) + "\n")
    return report
