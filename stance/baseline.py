"""TF-IDF + logistic regression: the inspectable baseline.

A scikit-learn Pipeline; `fit` picks the n-gram range and C by a stratified
cross-validated grid search on macro-F1 and records the choice in
`best_params_`. Saved with skops and loaded with an audit of every type in the
file: loading never unpickles.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin  # this module is imported only when a model is used

from stance.base import StanceModel, check_labels, check_texts
from stance.labels import LABELS
from stance.persist import ModelFormatError, atomic_dir, manifest_params, read_manifest, texts_sha256, write_manifest

MODEL_FILE = "model.skops"
KIND = "tfidf"
# Types trusted beyond skops's own defaults (scikit-learn estimators, numpy, builtins): none.
EXTRA_TRUSTED: tuple[str, ...] = ()
DEFAULT_GRID = {"tfidf__ngram_range": [(1, 1), (1, 2)], "clf__C": [1.0, 3.0, 10.0, 30.0]}


def _pipeline(ngram_range=(1, 2), C: float = 10.0, random_state: int = 0):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline([
        ("tfidf", TfidfVectorizer(sublinear_tf=True, ngram_range=ngram_range, strip_accents="unicode")),
        ("clf", LogisticRegression(C=C, class_weight="balanced", max_iter=5000, random_state=random_state)),
    ])


def _check_fitted_pipeline(pipeline, path: Path, model: "TfidfStance") -> None:
    """Refuse a pipeline that skops loaded safely but that cannot give valid probabilities."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(pipeline)
    except NotFittedError:
        raise ModelFormatError(f"{path} holds an unfitted pipeline; retrain the model") from None
    classes = np.asarray(getattr(pipeline.named_steps["clf"], "classes_", []))
    if classes.dtype.kind not in "iu" or len(classes) == 0 or classes.min() < 0 or classes.max() >= len(LABELS):
        raise ModelFormatError(f"{path}: the classifier's classes {classes.tolist()!r:.80} are not label ids "
                               f"0..{len(LABELS) - 1}; retrain the model")
    arrays = [getattr(pipeline.named_steps["clf"], a, None) for a in ("coef_", "intercept_")]
    arrays.append(getattr(pipeline.named_steps["tfidf"], "idf_", None))
    try:
        finite = all(np.isfinite(np.asarray(a, dtype=float)).all() for a in arrays if a is not None)
    except (TypeError, ValueError):
        finite = False
    if not finite:
        raise ModelFormatError(f"{path} holds non-finite or non-numeric weights (NaN or infinity); retrain the model")
    try:
        proba = model.predict_proba(["A check that the model can classify a sentence."])
    except Exception as e:  # mismatched shapes or types inside the pipeline
        raise ModelFormatError(f"{path} holds a pipeline that cannot classify ({type(e).__name__}: {str(e)[:200]}); "
                               "retrain the model") from None
    if not np.isfinite(proba).all():
        raise ModelFormatError(f"{path} holds a pipeline that gives non-finite probabilities; retrain the model")


class TfidfStance(StanceModel, ClassifierMixin, BaseEstimator):
    """TF-IDF features + class-balanced logistic regression, tuned by grid search.

    search: choose ngram_range and C by `cv`-fold grid search (else use the given ones).
    """

    name = "tfidf"

    def __init__(self, ngram_range=(1, 2), C: float = 10.0, search: bool = True, cv: int = 5, random_state: int = 0):
        self.ngram_range = ngram_range
        self.C = C
        self.search = search
        self.cv = cv
        self.random_state = random_state

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> "TfidfStance":
        from threadpoolctl import threadpool_limits

        # One BLAS thread: the solver's dense steps are tiny, and on a busy machine extra BLAS threads
        # spin against other processes (measured: one fit on the corpus 0.5 s with one thread, 5-10 s with two).
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(texts, labels)

    def _fit(self, texts: Sequence[str], labels: Sequence[str]) -> "TfidfStance":
        texts = check_texts(texts)
        y = np.asarray(check_labels(labels, len(texts)))
        params = {"tfidf__ngram_range": tuple(self.ngram_range), "clf__C": float(self.C)}
        pipe = _pipeline(self.ngram_range, self.C, self.random_state)
        folds = min(self.cv, int(np.bincount(y).min() if len(set(y)) > 1 else 0))
        self.search_ = None
        if self.search and folds >= 2:
            from sklearn.model_selection import GridSearchCV, StratifiedKFold

            grid = GridSearchCV(pipe, DEFAULT_GRID, scoring="f1_macro",
                                cv=StratifiedKFold(folds, shuffle=True, random_state=self.random_state), n_jobs=1)
            grid.fit(texts, y)
            params = {k: (tuple(v) if isinstance(v, tuple) else float(v)) for k, v in grid.best_params_.items()}
            self.search_ = {"cv_folds": folds, "best_macro_f1": float(grid.best_score_), "grid": {k: [list(x) if isinstance(x, tuple) else x for x in v] for k, v in DEFAULT_GRID.items()}}
            pipe = grid.best_estimator_
        else:
            pipe.fit(texts, y)
        self.best_params_ = {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()}
        self.pipeline_ = pipe
        self.training_data_sha256_ = texts_sha256(texts, [LABELS[i] for i in y])
        self.n_train_ = len(texts)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = check_texts(texts)
        proba = np.zeros((len(texts), len(LABELS)))
        if not texts:  # scikit-learn refuses zero samples; no texts, no predictions
            return proba
        raw = self.pipeline_.predict_proba(texts)
        proba[:, self.pipeline_.classes_] = raw  # labels absent from training keep probability 0
        return proba

    def top_features(self, k: int = 10) -> dict[str, list[tuple[str, float]]]:
        """The k n-grams with the largest weight for each label (what students inspect)."""
        vocab = self.pipeline_.named_steps["tfidf"].get_feature_names_out()
        clf = self.pipeline_.named_steps["clf"]
        out = {}
        for row, cls in zip(np.atleast_2d(clf.coef_), clf.classes_):
            top = np.argsort(row)[::-1][:k]
            out[LABELS[cls]] = [(str(vocab[j]), float(row[j])) for j in top]
        return out

    def save(self, directory: str | Path) -> Path:
        import skops.io as sio

        from stance.model_card import write_model_card

        directory = Path(directory)
        with atomic_dir(directory) as tmp:
            sio.dump(self.pipeline_, tmp / MODEL_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
            manifest = write_manifest(tmp, KIND, training={
                "params": self.get_params(), "best_params": self.best_params_, "search": self.search_,
                "n_train": self.n_train_}, corpus_sha256=self.training_data_sha256_)
            write_model_card(tmp, manifest)
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "TfidfStance":
        import skops.io as sio

        directory = Path(directory)
        manifest = read_manifest(directory, KIND)
        path = directory / MODEL_FILE
        if not path.is_file():
            raise ModelFormatError(f"{directory} has no {MODEL_FILE}: the model directory is incomplete; retrain it")
        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as e:  # a truncated or foreign file: skops raises zip/json errors
            raise ModelFormatError(f"{path} is not a readable skops file ({type(e).__name__}: {e}); retrain the model") from None
        bad = [t for t in untrusted if t not in EXTRA_TRUSTED]
        if bad:
            raise ModelFormatError(f"{path} contains types that are not trusted: {', '.join(bad)}; refusing to load it")
        try:
            pipeline = sio.load(path, trusted=list(EXTRA_TRUSTED))
        except Exception as e:
            raise ModelFormatError(f"{path} could not be loaded ({type(e).__name__}: {e}); retrain the model") from None
        from sklearn.pipeline import Pipeline

        if not isinstance(pipeline, Pipeline) or set(pipeline.named_steps) != {"tfidf", "clf"}:
            raise ModelFormatError(f"{path} does not hold a TF-IDF pipeline (got {type(pipeline).__name__})")
        training = manifest.get("training", {})
        model = cls(**manifest_params(manifest, cls().get_params(), directory))
        model.pipeline_ = pipeline
        _check_fitted_pipeline(pipeline, path, model)
        model.best_params_ = training.get("best_params")
        model.search_ = training.get("search")
        model.n_train_ = training.get("n_train")
        model.training_data_sha256_ = manifest.get("corpus_sha256")
        model.manifest_ = manifest
        return model
