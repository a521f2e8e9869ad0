"""The floor every model must clear: scikit-learn's DummyClassifier behind the stance contract."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from stance.inputs import check_labels, check_texts
from stance.models.base import StanceModel, proba_in_label_order


class MajorityStance(StanceModel):
    """Always the most frequent training label (evaluation only; never shipped)."""

    def __init__(self, random_state: int = 0):
        self.random_state = random_state

    def fit(self, texts: Sequence[str], labels: Sequence[str], progress: bool = False) -> "MajorityStance":
        from sklearn.dummy import DummyClassifier

        texts = check_texts(texts)
        y = check_labels(labels, len(texts))
        self.clf_ = DummyClassifier(strategy="most_frequent", random_state=self.random_state)
        self.clf_.fit(np.zeros((len(y), 1)), y)
        self._record_training(texts, labels)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = check_texts(texts)
        return proba_in_label_order(self.clf_.classes_, self.clf_.predict_proba(np.zeros((len(texts), 1))), len(texts))
