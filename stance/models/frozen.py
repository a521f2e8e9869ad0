"""Frozen sentence embeddings + logistic regression: cheap, strong peers of fine-tuning.

The encoder (MiniLM or mpnet, from the packaged weights) is never trained; only a
class-balanced logistic regression over its mean-pooled, normalised sentence vectors.
Embeddings are cached on disk, so retraining after `stance add` takes seconds. The
head is saved with skops (only scikit-learn and numpy types, audited on load).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from stance.inputs import check_labels, check_texts
from stance.labels import LABELS
from stance.models.base import MAX_WEIGHT, StanceModel, load_skops, proba_in_label_order, weights_ok
from stance.models.encoders import ENCODERS, embed, get_encoder
from stance.models.manifest import ModelFormatError

HEAD_FILE = "head.skops"


class FrozenEncoderStance(StanceModel):
    """Logistic regression over frozen `encoder` embeddings ("minilm" or "mpnet")."""

    def __init__(self, encoder: str = "mpnet", C: float = 2.0, max_length: int = 128, random_state: int = 0):
        self.encoder = encoder
        self.C = C
        self.max_length = max_length
        self.random_state = random_state

    def _embed(self, texts: list[str], progress: bool = False, cache: bool = True) -> np.ndarray:
        from tqdm.auto import tqdm

        with tqdm(total=len(texts), desc=f"embedding ({self.encoder})", unit="sent", disable=not progress) as bar:
            return embed(self.encoder, texts, self.max_length, cache=cache, progress=bar.update)

    def fit(self, texts: Sequence[str], labels: Sequence[str], progress: bool = False) -> "FrozenEncoderStance":
        from sklearn.linear_model import LogisticRegression

        get_encoder(self.encoder)
        texts = check_texts(texts)
        y = np.asarray(check_labels(labels, len(texts)))
        self.clf_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=5000, random_state=self.random_state)
        self.clf_.fit(self._embed(texts, progress), y)
        self._record_training(texts, labels)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = check_texts(texts)
        if not texts:  # scikit-learn refuses zero samples
            return np.zeros((0, len(LABELS)))
        # the disk cache serves training (re-fits after `stance add`); predictions neither read nor grow it
        return proba_in_label_order(self.clf_.classes_, self.clf_.predict_proba(self._embed(texts, cache=False)), len(texts))

    @classmethod
    def _check_params(cls, params: dict[str, Any], directory: Path) -> None:
        if params.get("encoder") not in ENCODERS or not 1 <= params.get("max_length", 128) <= 512:
            raise ModelFormatError(f"{directory}: encoder {params.get('encoder')!r} / max_length "
                                   f"{params.get('max_length')!r} are not ones this model runs with; retrain it")

    def _save_weights(self, directory: Path) -> dict[str, Any]:
        import skops.io as sio

        sio.dump(self.clf_, directory / HEAD_FILE, compression=zipfile.ZIP_DEFLATED)
        spec = get_encoder(self.encoder)
        return {"base_model": {"name": spec.upstream, "encoder": spec.name, "sha256": spec.sha256}}

    def _load_weights(self, directory: Path, manifest: dict[str, Any]) -> None:
        from sklearn.linear_model import LogisticRegression

        check_base_model(directory, manifest, self.encoder)
        path = directory / HEAD_FILE
        clf = load_skops(path, "a logistic regression head")
        dim = get_encoder(self.encoder).dim
        coef = np.asarray(getattr(clf, "coef_", np.zeros(0)), dtype=float)
        if (not isinstance(clf, LogisticRegression) or coef.ndim != 2 or coef.shape[1] != dim
                or not weights_ok(coef, getattr(clf, "intercept_", None))):
            raise ModelFormatError(f"{path} does not hold a finite logistic regression (weights within {MAX_WEIGHT:g}) "
                                   f"over {dim}-dimensional {self.encoder} embeddings; retrain the model")
        self.clf_ = clf


def check_base_model(directory: Path, manifest: dict[str, Any], encoder: str) -> None:
    """Refuse a model saved over other encoder weights than the packaged ones."""
    base = manifest.get("base_model")
    want = get_encoder(encoder).sha256
    if not isinstance(base, dict) or base.get("sha256") != want:
        got = base.get("sha256") if isinstance(base, dict) else None
        raise ModelFormatError(f"{directory} was trained over other {encoder} weights (sha256 {str(got)[:12]}..., "
                               f"packaged {want[:12]}...): retrain it")
