"""Training the shipped models, replacing them atomically, and measuring what new data bought."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from stance.persist import atomic_write_text, models_dir

DATA_CHOICES = {"train": ("seeds", "supplement", "user"), "seeds": ("seeds",), "shipped": ("seeds", "supplement")}


def train(model: str, data: str = "train", out: Path | None = None, seed: int = 0, fast: bool = False,
          limit: int | None = None) -> Path:
    """Fit `model` on `data` and atomically replace `out` (default models/<model>); the old one is kept as .prev."""
    from stance.api import MODEL_NAMES, model_class
    from stance.corpus import texts_and_labels
    from stance.evaluate import FAST_TRANSFORMER

    if data not in DATA_CHOICES:
        raise ValueError(f"unknown training data {data!r}: allowed are {', '.join(DATA_CHOICES)}")
    if model not in MODEL_NAMES:
        raise ValueError(f"unknown model {model!r}: allowed models are {', '.join(MODEL_NAMES)}")
    texts, labels = texts_and_labels(DATA_CHOICES[data])
    if limit:
        texts, labels = texts[:limit], labels[:limit]
    params: dict[str, Any] = {"random_state": seed} if model == "tfidf" else {"seed": seed, **(FAST_TRANSFORMER if fast else {})}
    fitted = model_class(model)(**params).fit(texts, labels)
    return fitted.save(Path(out) if out else models_dir() / model)


def compare_user_data(model: str = "tfidf", n_splits: int = 5, seed: int = 0, fast: bool = False,
                      log: Callable[[str], None] = print) -> dict[str, float] | None:
    """Macro-F1 before/after adding the user corpus, on the same folds of the shipped corpus.

    Folds split the shipped sentences; "before" trains on a fold's shipped part, "after"
    adds every user sentence to it; both are tested on the same held-out shipped sentences.
    """
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from stance.corpus import texts_and_labels
    from stance.evaluate import label_scores, make_model

    texts, labels = texts_and_labels(("seeds", "supplement"))
    user_texts, user_labels = texts_and_labels(("user",))
    if not user_texts:
        return None
    before, after = [], []
    for tr, te in StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(texts, labels):
        train_t, train_l = [texts[i] for i in tr], [labels[i] for i in tr]
        test_t, test_l = [texts[i] for i in te], [labels[i] for i in te]
        for scores, extra_t, extra_l in ((before, [], []), (after, user_texts, user_labels)):
            m = make_model(model, seed=seed, fast=fast).fit(train_t + extra_t, train_l + extra_l)
            scores.append(label_scores(test_l, m.predict(test_t))["macro_f1"])
    result = {"before": float(np.mean(before)), "after": float(np.mean(after)), "user_sentences": len(user_texts)}
    log(f"{model}: macro-F1 on the same {n_splits} folds of the shipped corpus: before {result['before']:.3f}, "
        f"after adding {len(user_texts)} user sentences {result['after']:.3f}")
    return result


def set_default(name: str, why: str) -> None:
    atomic_write_text(models_dir() / "default.json", json.dumps({"model": name, "why": why}, indent=2) + "\n")
