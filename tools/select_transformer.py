"""Choose fine-tuning settings by evidence over several seeds, not one lucky run, scored out of distribution.

Each candidate (a registry model and parameter overrides) is trained with several seeds on the same
stratified subsample of the training corpus and scored on the outside-writer test set (sentences
no training writer saw); the report gives mean and spread of macro-F1 and the training time.
Writes selection.json and selection.md to --out (default $STANCE_HOME/reports).

    python tools/select_transformer.py [--only "minilm lr=2e-3"] [--size 750] [--out reports]
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from stance.atomic import atomic_write_text
from stance.corpus import load_records, texts_and_labels
from stance.evaluation.metrics import label_scores
from stance.models.registry import make_model
from stance.paths import reports_dir

CANDIDATES = {
    "minilm lr=2e-3 attention": ("minilm", {"learning_rate": 2e-3}),
    "minilm lr=1e-3 all-linear": ("minilm", {"learning_rate": 1e-3, "lora_targets": "all-linear"}),
    "mpnet lr=5e-4 all-linear r=8": ("mpnet", {}),
    "mpnet lr=5e-4 attention r=16": ("mpnet", {"lora_targets": "attention", "lora_r": 16, "lora_alpha": 32}),
}


def main():
    from sklearn.model_selection import train_test_split

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="seeds,supplement,writers")
    ap.add_argument("--out", help="report directory (default: $STANCE_HOME/reports)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--only", help="comma-separated candidate names")
    ap.add_argument("--size", type=int, default=750, help="training sentences in the stratified subsample")
    args = ap.parse_args()
    texts, labels = texts_and_labels(tuple(args.data.split(",")))
    # A fixed stratified subsample keeps the sweep affordable on a 2-core CPU.
    texts, _, labels, _ = train_test_split(texts, labels, train_size=min(args.size, len(texts) - 5), stratify=labels, random_state=0)
    tr_t, tr_l = texts, labels
    outside = load_records("outside")
    te_t, te_l = [r["text"] for r in outside], [r["label"] for r in outside]
    results = {}
    for name, (model, params) in CANDIDATES.items():
        if args.only and name not in args.only.split(","):
            continue
        scores, secs = [], []
        for seed in range(args.seeds):
            t = time.perf_counter()
            m = make_model(model, random_state=seed, **params).fit(tr_t, tr_l)
            secs.append(time.perf_counter() - t)
            scores.append(label_scores(te_l, m.predict(te_t))["macro_f1"])
            print(f"{name} seed {seed}: macro-F1 {scores[-1]:.3f} ({secs[-1]:.0f}s)", flush=True)
        results[name] = {"params": params, "macro_f1": scores, "mean": float(np.mean(scores)),
                         "std": float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0, "fit_seconds": float(np.mean(secs))}
    out = Path(args.out) if args.out else reports_dir()
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "selection.json", json.dumps({"n_train": len(tr_t), "n_test": len(te_t), "results": results}, indent=1))
    lines = ["# Fine-tuning settings: selection over seeds", "",
             f"Same stratified subsample for every run: {len(tr_t)} training sentences ({args.data}); scored on the "
             f"{len(te_t)} sentences of the outside-writer test set.", "",
             "Fit times were taken while other jobs shared the 2 cores, so they are not comparable with each other; "
             "bench/results.md has the clean fine-tuning time.", "",
             "| setting | macro-F1 per seed | mean | std | fit time (s) |", "|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {', '.join(f'{s:.3f}' for s in r['macro_f1'])} | {r['mean']:.3f} | {r['std']:.3f} | {r['fit_seconds']:.0f} |")
    atomic_write_text(out / "selection.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
