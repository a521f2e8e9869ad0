"""Name-swap augmentation on and off: outside-writer macro-F1 and the share of labels name swaps change.

    python tools/augmentation_check.py [--models tfidf,frozen-mpnet] [--out reports]

Trains each model on the whole training corpus twice (without, and with one name-swapped variant of
every sentence naming a country or city), scores both on the outside-writer set and on name swaps of
the outside and challenge sentences (drawn with another seed than the training variants).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stance.atomic import atomic_write_text
from stance.corpus import load_records, texts_and_labels
from stance.evaluation.metrics import label_scores
from stance.evaluation.robustness import augment, name_swap
from stance.models.registry import make_model
from stance.paths import reports_dir


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="tfidf,frozen-mpnet")
    ap.add_argument("--out")
    args = ap.parse_args()
    texts, labels = texts_and_labels("shipped")
    aug_t, aug_l = augment(texts, labels, 1, seed=1000)
    outside, challenge = load_records("outside"), load_records("challenge")
    results = {}
    for name in args.models.split(","):
        for cond, (t, y) in (("off", (texts, labels)), ("on", (aug_t, aug_l))):
            model = make_model(name).fit(t, y)
            f1 = label_scores([r["label"] for r in outside], model.predict([r["text"] for r in outside]))["macro_f1"]
            swap = name_swap(model, [r["text"] for r in outside + challenge], seed=0)
            results[f"{name} augmentation {cond}"] = {"n_train": len(t), "outside_macro_f1": f1,
                                                      "name_swap_changed": swap["changed_share"], "variants": swap["variants"]}
            print(name, cond, len(t), f"{f1:.3f}", f"{100 * swap['changed_share']:.1f}%", flush=True)
    out = Path(args.out) if args.out else reports_dir()
    lines = ["# Name-swap augmentation, on and off", "",
             "One name-swapped variant of every training sentence that names a country or city (same label); "
             "test swaps drawn with another seed.", "",
             "| model | training sentences | outside macro-F1 | name swaps changing the label |", "|---|---|---|---|"]
    lines += [f"| {k} | {v['n_train']} | {v['outside_macro_f1']:.3f} | {100 * v['name_swap_changed']:.1f}% of {v['variants']} |"
              for k, v in results.items()]
    atomic_write_text(out / "augmentation.json", json.dumps(results, indent=1) + "\n")
    atomic_write_text(out / "augmentation.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
