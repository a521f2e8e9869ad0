"""Choose the fine-tuning settings by evidence over several seeds, not one lucky run.

Each candidate setting is trained with 3 seeds on the same stratified 80% of the
training corpus and scored on the same held-out 20%; the report gives mean and spread
of macro-F1 and the training time. Writes reports/selection.json and selection.md.

    python tools/select_transformer.py [--data seeds,supplement]
"""

import argparse
import json
import time

import numpy as np

from stance.corpus import texts_and_labels
from stance.evaluate import label_scores
from stance.persist import PROJECT_ROOT, atomic_write_text
from stance.transformer import MiniLMStance

CANDIDATES = {
    "lora lr=1e-3 ep=4": {"learning_rate": 1e-3, "epochs": 4},
    "lora lr=2e-3 ep=4": {"learning_rate": 2e-3, "epochs": 4},
    "full lr=5e-5 ep=4": {"learning_rate": 5e-5, "epochs": 4, "full_finetune": True},
}


def main():
    from sklearn.model_selection import train_test_split

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="seeds,supplement")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--only", help="comma-separated candidate names")
    ap.add_argument("--size", type=int, default=750, help="sentences in the subsample (2/3 train, 1/3 held out)")
    args = ap.parse_args()
    texts, labels = texts_and_labels(tuple(args.data.split(",")))
    # A fixed stratified subsample keeps the sweep affordable on a 2-core CPU.
    texts, _, labels, _ = train_test_split(texts, labels, train_size=min(args.size, len(texts) - 5), stratify=labels, random_state=0)
    tr_t, te_t, tr_l, te_l = train_test_split(texts, labels, test_size=1 / 3, stratify=labels, random_state=0)
    results = {}
    for name, params in CANDIDATES.items():
        if args.only and name not in args.only.split(","):
            continue
        scores, secs = [], []
        for seed in range(args.seeds):
            t = time.perf_counter()
            m = MiniLMStance(seed=seed, progress=False, **params).fit(tr_t, tr_l)
            secs.append(time.perf_counter() - t)
            scores.append(label_scores(te_l, m.predict(te_t))["macro_f1"])
            print(f"{name} seed {seed}: macro-F1 {scores[-1]:.3f} ({secs[-1]:.0f}s)", flush=True)
        results[name] = {"params": params, "macro_f1": scores, "mean": float(np.mean(scores)),
                         "std": float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0, "fit_seconds": float(np.mean(secs))}
    out = PROJECT_ROOT / "reports"
    out.mkdir(exist_ok=True)
    atomic_write_text(out / "selection.json", json.dumps({"n_train": len(tr_t), "n_test": len(te_t), "results": results}, indent=1))
    lines = ["# Fine-tuning settings: selection over seeds", "",
             f"Same stratified split for every run: {len(tr_t)} training, {len(te_t)} held-out sentences ({args.data}).", "",
             "Fit times were taken while other jobs shared the 2 cores, so they are not comparable with each other; "
             "bench/results.md has the clean fine-tuning time.", "",
             "| setting | macro-F1 per seed | mean | std | fit time (s) |", "|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {', '.join(f'{s:.3f}' for s in r['macro_f1'])} | {r['mean']:.3f} | {r['std']:.3f} | {r['fit_seconds']:.0f} |")
    atomic_write_text(out / "selection.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
