"""The contract every stance model keeps, and the save/load bookkeeping written once for all.

Models follow scikit-learn's estimator API: `__init__` only stores parameters (one of
them `random_state`), `fit(texts, labels)` returns self, learned state ends in `_`, and
`predict_proba` has one column per label in `LABELS` order. Progress display is a
`fit` argument, never a hyperparameter.

`save` and `load` do the bookkeeping (atomic directory, manifest, model card, checks);
each model fills two hooks, as setfit's `_save_pretrained` / `_from_pretrained` do:
`_save_weights(directory) -> extra manifest fields` and `_load_weights(directory, manifest)`.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections import Counter
from pathlib import Path
from typing import Any, Sequence, TypeVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from stance.atomic import atomic_dir
from stance.labels import LABELS
from stance.models.manifest import ModelFormatError, manifest_params, read_manifest, texts_sha256, write_manifest

M = TypeVar("M", bound="StanceModel")


class StanceModel(ClassifierMixin, BaseEstimator, ABC):
    """Abstract base: fit, predict_proba in canonical label order, save, load."""

    random_state: int

    @property
    def name(self) -> str:
        """The registry name of this model (the manifest's `kind`)."""
        from stance.models.registry import spec_for

        spec = spec_for(self)
        return spec.name if spec else type(self).__name__

    @abstractmethod
    def fit(self: M, texts: Sequence[str], labels: Sequence[str], progress: bool = False) -> M:
        """Learn from texts and their label strings; return self."""

    @abstractmethod
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, one column per label in `LABELS` order, rows summing to 1."""

    def predict(self, texts: Sequence[str]) -> list[str]:
        proba = self.predict_proba(texts)
        return [LABELS[i] for i in proba.argmax(axis=1)]

    def _record_training(self, texts: list[str], labels: Sequence[str]) -> None:
        """What the manifest will say about the data: size, label counts, hash, when."""
        self.n_train_ = len(texts)
        self.label_counts_ = {label: int(n) for label, n in sorted(Counter(labels).items())}
        self.training_data_sha256_ = texts_sha256(texts, list(labels))
        self.trained_at_ = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

    # ------------------------------------------------------------------ persistence hooks

    def _save_weights(self, directory: Path) -> dict[str, Any]:
        raise NotImplementedError

    def _load_weights(self, directory: Path, manifest: dict[str, Any]) -> None:
        raise NotImplementedError

    @classmethod
    def _check_params(cls, params: dict[str, Any], directory: Path) -> None:
        """Refuse parameters outside the ranges this model can run with (a damaged or hostile manifest)."""

    # ------------------------------------------------------------------ persistence

    def save(self, directory: str | Path) -> Path:
        """Write the model to `directory` atomically (the replaced one is kept as `.prev`)."""
        from stance.models.card import write_model_card

        directory = Path(directory)
        with atomic_dir(directory) as tmp:
            extra = self._save_weights(tmp)
            manifest = write_manifest(tmp, self.name, training={
                "params": self.get_params(), "n_train": self.n_train_, "label_counts": self.label_counts_,
                "trained_at": self.trained_at_}, corpus_sha256=self.training_data_sha256_, **extra)
            write_model_card(tmp, manifest)
        return directory

    @classmethod
    def load(cls: type[M], directory: str | Path) -> M:
        """Load a saved model, checked against its manifest; never runs code from the directory."""
        from stance.models.registry import canonical_name, get_spec

        directory = Path(directory)
        manifest = read_manifest(directory)
        try:
            spec = get_spec(canonical_name(str(manifest.get("kind"))))
        except ValueError as e:
            raise ModelFormatError(f"{directory} holds a model of unknown kind: {e}") from None
        defaults = {**cls().get_params(), **spec.params}
        params = {**spec.params, **manifest_params(manifest, defaults, directory)}
        cls._check_params(params, directory)
        model = cls(**params)
        model._load_weights(directory, manifest)
        training = manifest.get("training", {})
        model.n_train_ = training.get("n_train")
        model.label_counts_ = training.get("label_counts")
        model.trained_at_ = str(training.get("trained_at"))
        model.training_data_sha256_ = str(manifest.get("corpus_sha256"))
        model.manifest_ = manifest
        return model


MAX_WEIGHT = 1e4  # far above any weight scikit-learn learns here (the largest is about 10); 1e300 overflows


def load_skops(path: Path, what: str) -> Any:
    """Load a skops file after auditing every type in it: only skops's defaults (scikit-learn, numpy,
    builtins) are trusted, so loading never runs code; any failure is a ModelFormatError naming the file."""
    import skops.io as sio

    if not path.is_file():
        raise ModelFormatError(f"{path.parent} has no {path.name}: the model directory is incomplete; retrain it")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as e:  # a truncated or foreign file: skops raises zip/json errors
        raise ModelFormatError(f"{path} is not a readable skops file ({type(e).__name__}: {e}); retrain the model") from None
    if untrusted:
        raise ModelFormatError(f"{path} contains types that are not trusted: {', '.join(untrusted)}; refusing to load it")
    try:
        return sio.load(path, trusted=[])
    except Exception as e:
        raise ModelFormatError(f"{path} could not be loaded as {what} ({type(e).__name__}: {e}); retrain the model") from None


def weights_ok(*arrays: Any) -> bool:
    """Every array numeric, finite and no larger than MAX_WEIGHT in magnitude."""
    try:
        return all(np.isfinite(a := np.asarray(x, dtype=float)).all() and np.abs(a).max(initial=0) <= MAX_WEIGHT
                   for x in arrays if x is not None)
    except (TypeError, ValueError):
        return False


def proba_in_label_order(classes: Sequence[int], raw: np.ndarray, n: int) -> np.ndarray:
    """Place a classifier's columns (for `classes` it saw) into all-label order; unseen labels get 0."""
    proba = np.zeros((n, len(LABELS)))
    proba[:, list(classes)] = raw
    return proba

