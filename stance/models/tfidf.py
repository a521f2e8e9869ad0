"""TF-IDF + logistic regression: the inspectable baseline.

A scikit-learn Pipeline; `fit` picks the n-gram range and C by a stratified
cross-validated grid search on macro-F1 and records the choice in
`best_params_`. Saved with skops and loaded with an audit of every type in the
file: loading never unpickles.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from stance.inputs import check_labels, check_texts
from stance.labels import LABELS
from stance.models.base import MAX_WEIGHT, StanceModel, load_skops, proba_in_label_order, weights_ok
from stance.models.manifest import ModelFormatError

MODEL_FILE = "model.skops"
KIND = "tfidf"
DEFAULT_GRID: dict[str, list[Any]] = {"tfidf__ngram_range": [(1, 1), (1, 2)], "clf__C": [1.0, 3.0, 10.0, 30.0]}


def _pipeline(ngram_range: tuple[int, int] = (1, 2), C: float = 10.0, random_state: int = 0) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline([
        ("tfidf", TfidfVectorizer(sublinear_tf=True, ngram_range=ngram_range, strip_accents="unicode")),
        ("clf", LogisticRegression(C=C, class_weight="balanced", max_iter=5000, random_state=random_state)),
    ])


def _check_analyzer(pipeline: Any, path: Path) -> None:
    """Accept only the text-analysis settings this project writes: a file holding only trusted types
    could still carry a catastrophically backtracking `token_pattern` that hangs every predict."""
    reference = _pipeline().named_steps["tfidf"].get_params()
    vec = pipeline.named_steps["tfidf"].get_params()
    for key in ("analyzer", "token_pattern", "tokenizer", "preprocessor", "strip_accents", "lowercase", "stop_words",
                "vocabulary", "input", "decode_error", "encoding"):
        if vec.get(key) != reference.get(key):
            raise ModelFormatError(f"{path}: the TF-IDF setting {key!r} is {vec.get(key)!r:.80}, not the project's "
                                   f"{reference.get(key)!r}; refusing a model this project did not write")
    ngram = vec.get("ngram_range")
    if not (isinstance(ngram, tuple) and len(ngram) == 2 and all(isinstance(n, int) for n in ngram)
            and 1 <= ngram[0] <= ngram[1] <= 3):
        raise ModelFormatError(f"{path}: the TF-IDF ngram_range {ngram!r:.60} is outside (1, 1)..(3, 3); retrain the model")


def _check_fitted_pipeline(pipeline, path: Path, model: "TfidfStance") -> None:
    """Refuse a pipeline that skops loaded safely but that cannot give valid probabilities."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    _check_analyzer(pipeline, path)
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
    finite = weights_ok(*arrays)
    if not finite:
        raise ModelFormatError(f"{path} holds non-finite, huge (over {MAX_WEIGHT:g}) or non-numeric weights; retrain the model")
    try:
        proba = model.predict_proba(["A check that the model can classify a sentence."])
    except Exception as e:  # mismatched shapes or types inside the pipeline
        raise ModelFormatError(f"{path} holds a pipeline that cannot classify ({type(e).__name__}: {str(e)[:200]}); "
                               "retrain the model") from None
    if not np.isfinite(proba).all():
        raise ModelFormatError(f"{path} holds a pipeline that gives non-finite probabilities; retrain the model")


class TfidfStance(StanceModel):
    """TF-IDF features + class-balanced logistic regression, tuned by grid search.

    search: choose ngram_range and C by `cv`-fold grid search (else use the given ones).
    """

    def __init__(self, ngram_range: tuple[int, int] = (1, 2), C: float = 10.0, search: bool = True, cv: int = 5,
                 random_state: int = 0):
        self.ngram_range = ngram_range
        self.C = C
        self.search = search
        self.cv = cv
        self.random_state = random_state

    def fit(self, texts: Sequence[str], labels: Sequence[str], progress: bool = False) -> "TfidfStance":
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
            grid_json = {k: [list(x) if isinstance(x, tuple) else x for x in v] for k, v in DEFAULT_GRID.items()}
            self.search_ = {"cv_folds": folds, "best_macro_f1": float(grid.best_score_), "grid": grid_json}
            pipe = grid.best_estimator_
        else:
            pipe.fit(texts, y)
        self.best_params_ = {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()}
        self.pipeline_ = pipe
        self._record_training(texts, [LABELS[i] for i in y])
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = check_texts(texts)
        if not texts:  # scikit-learn refuses zero samples; no texts, no predictions
            return np.zeros((0, len(LABELS)))
        return proba_in_label_order(self.pipeline_.classes_, self.pipeline_.predict_proba(texts), len(texts))

    def top_features(self, k: int = 10) -> dict[str, list[tuple[str, float]]]:
        """The k n-grams with the largest weight for each label (what students inspect)."""
        vocab = self.pipeline_.named_steps["tfidf"].get_feature_names_out()
        clf = self.pipeline_.named_steps["clf"]
        out = {}
        for row, cls in zip(np.atleast_2d(clf.coef_), clf.classes_):
            top = np.argsort(row)[::-1][:k]
            out[LABELS[cls]] = [(str(vocab[j]), float(row[j])) for j in top]
        return out

    def _save_weights(self, directory: Path) -> dict[str, Any]:
        import skops.io as sio

        sio.dump(self.pipeline_, directory / MODEL_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
        return {"best_params": self.best_params_, "search": self.search_}

    def _load_weights(self, directory: Path, manifest: dict[str, Any]) -> None:
        from sklearn.pipeline import Pipeline

        path = directory / MODEL_FILE
        pipeline = load_skops(path, "a TF-IDF pipeline")
        if not isinstance(pipeline, Pipeline) or set(pipeline.named_steps) != {"tfidf", "clf"}:
            raise ModelFormatError(f"{path} does not hold a TF-IDF pipeline (got {type(pipeline).__name__})")
        self.pipeline_ = pipeline
        _check_fitted_pipeline(pipeline, path, self)
        self.best_params_ = manifest.get("best_params", manifest.get("training", {}).get("best_params"))
        self.search_ = manifest.get("search", manifest.get("training", {}).get("search"))
