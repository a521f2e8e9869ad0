"""Training a registered model on the corpus and replacing the user's copy atomically."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from stance.paths import user_models_dir

log = logging.getLogger(__name__)
DATA_CHOICES = {"train": ("seeds", "supplement", "writers", "user"), "seeds": ("seeds",),
                "shipped": ("seeds", "supplement", "writers")}


def train(model: str, data: str = "train", out: Path | None = None, seed: int = 0, fast: bool = False,
          limit: int | None = None, progress: bool = False, augment_names: int = 0, **overrides: Any) -> Path:
    """Fit registry model `model` on `data`; atomically replace `out` (default $STANCE_HOME/models/<model>).

    `augment_names`: add that many name-swapped variants of each sentence naming a country or city
    (see `stance.evaluation.robustness.augment`). The replaced model is kept as `<out>.prev` for `stance rollback`.
    """
    from stance.corpus import texts_and_labels
    from stance.models.registry import canonical_name, make_model

    if data not in DATA_CHOICES:
        raise ValueError(f"unknown training data {data!r}: allowed are {', '.join(DATA_CHOICES)}")
    name = canonical_name(model)
    texts, labels = texts_and_labels(DATA_CHOICES[data])
    if limit:
        texts, labels = texts[:limit], labels[:limit]
    if augment_names:
        from stance.evaluation.robustness import augment

        texts, labels = augment(texts, labels, augment_names, seed=seed + 1000)
    log.info("training %s on %d sentences (%s%s)", name, len(texts), data, ", name-swap augmented" if augment_names else "")
    fitted = make_model(name, random_state=seed, fast=fast, **overrides).fit(texts, labels, progress=progress)
    return fitted.save(Path(out) if out else user_models_dir() / name)


def compare_user_data(model: str = "tfidf", n_splits: int = 5, seed: int = 0, fast: bool = False) -> dict[str, float] | None:
    """Macro-F1 before/after adding the user corpus, on the same folds of the shipped corpus.

    Folds split the shipped sentences; "before" trains on a fold's shipped part, "after"
    adds every user sentence to it; both are tested on the same held-out shipped sentences.
    """
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from stance.corpus import texts_and_labels
    from stance.evaluation.metrics import label_scores
    from stance.models.registry import make_model

    texts, labels = texts_and_labels(DATA_CHOICES["shipped"])
    user_texts, user_labels = texts_and_labels(("user",))
    if not user_texts:
        return None
    before: list[float] = []
    after: list[float] = []
    for tr, te in StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(texts, labels):
        train_t, train_l = [texts[i] for i in tr], [labels[i] for i in tr]
        test_t, test_l = [texts[i] for i in te], [labels[i] for i in te]
        for scores, extra_t, extra_l in ((before, [], []), (after, user_texts, user_labels)):
            m = make_model(model, random_state=seed, fast=fast).fit(train_t + extra_t, train_l + extra_l)
            scores.append(label_scores(test_l, m.predict(test_t))["macro_f1"])
    result = {"before": float(np.mean(before)), "after": float(np.mean(after)), "user_sentences": len(user_texts)}
    log.info("%s: macro-F1 on the same %d folds of the shipped corpus: before %.3f, after adding %d user sentences %.3f",
             model, n_splits, result["before"], len(user_texts), result["after"])
    return result
