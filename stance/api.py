"""The public API behind `stance.predict` and friends.

This module imports nothing heavy: models (and torch / scikit-learn with them)
are imported on first use, loaded once per process and reused.
"""

from __future__ import annotations

import importlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence, Union

from stance.labels import LABELS
from stance.persist import PROJECT_ROOT, ModelFormatError, models_dir, read_manifest, resolve_model_dir

# kind in a manifest -> (module, class)
MODEL_CLASSES = {"tfidf": ("stance.baseline", "TfidfStance"), "transformer": ("stance.transformer", "MiniLMStance")}
MODEL_NAMES = tuple(MODEL_CLASSES)
DEFAULT_FILE = "default.json"
FALLBACK_DEFAULT = "tfidf"

_cache: dict[tuple[str, float], Any] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Prediction:
    """One classified text: the label, a probability per label (canonical order), the deciding model."""

    label: str
    probabilities: dict[str, float]
    model: str

    @property
    def confidence(self) -> float:
        return self.probabilities[self.label]


@dataclass(frozen=True)
class SentencePrediction(Prediction):
    """A prediction for one sentence of a longer text, with its offsets into that text."""

    text: str = ""
    start: int = 0
    end: int = 0


def model_class(kind: str):
    if kind not in MODEL_CLASSES:
        raise ValueError(f"unknown model {kind!r}: allowed models are {', '.join(MODEL_NAMES)}")
    module, name = MODEL_CLASSES[kind]
    return getattr(importlib.import_module(module), name)


def model_path(name: str) -> Path:
    """Where the named model lives: $STANCE_HOME/models/NAME, else the shipped models/NAME."""
    if name not in MODEL_CLASSES:
        raise ValueError(f"unknown model {name!r}: allowed models are {', '.join(MODEL_NAMES)}, or a path to a saved model")
    for root in (models_dir(), PROJECT_ROOT / "models"):
        try:
            return resolve_model_dir(root / name)
        except ModelFormatError:
            continue
    raise ModelFormatError(f"no trained {name!r} model in {models_dir()}: run `stance train --model {name}`")


def default_model_name() -> str:
    """The model `predict` uses when none is named: the best by the last evaluation (models/default.json)."""
    for root in (models_dir(), PROJECT_ROOT / "models"):
        try:
            name = json.loads((root / DEFAULT_FILE).read_text(encoding="utf-8"))["model"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if name in MODEL_CLASSES:
            return name
    return FALLBACK_DEFAULT


def load(path: Union[str, Path]):
    """Load a saved model directory (any kind), checked against its manifest; cached per process."""
    directory = resolve_model_dir(Path(path))
    key = (str(directory.resolve()), (directory / "manifest.json").stat().st_mtime)
    with _lock:
        if key not in _cache:
            kind = read_manifest(directory).get("kind")
            if kind not in MODEL_CLASSES:
                raise ModelFormatError(f"{directory} holds a model of unknown kind {kind!r}: allowed kinds are {', '.join(MODEL_NAMES)}")
            _cache[key] = model_class(kind).load(directory)
        return _cache[key]


def get_model(model: Any = None):
    """None -> the default model; a name -> that shipped/trained model; a path -> load it; a model -> itself."""
    if model is None:
        model = default_model_name()
    if isinstance(model, str) and model in MODEL_CLASSES:
        return load(model_path(model))
    if isinstance(model, (str, Path)):
        if not Path(model).exists() and not Path(str(model) + ".prev").exists():
            raise ValueError(f"unknown model {str(model)!r}: allowed models are {', '.join(MODEL_NAMES)}, or a path to a saved model directory")
        return load(model)
    if hasattr(model, "predict_proba"):
        return model
    raise TypeError(f"model must be None, one of {', '.join(MODEL_NAMES)}, a path, or a fitted model; got {type(model).__name__}")


def _as_list(text_or_texts: Any) -> tuple[list[str], bool]:
    from stance.base import check_text, check_texts

    if isinstance(text_or_texts, str):
        return [check_text(text_or_texts)], True
    if text_or_texts is None or isinstance(text_or_texts, (bytes, bytearray, int, float, dict)):
        raise TypeError(f"predict expects a string or a list of strings, got {type(text_or_texts).__name__}")
    return check_texts(text_or_texts), False


def predict(text_or_texts: Union[str, Sequence[str]], model: Any = None) -> Union[Prediction, list[Prediction]]:
    """Classify one string (-> Prediction) or a list of strings (-> list of Prediction).

    Each string is classified as one unit: pass sentences. A longer string is not
    split (use `analyze` for that); the transformer reads its first 128 tokens.
    """
    texts, single = _as_list(text_or_texts)
    m = get_model(model)
    proba = m.predict_proba(texts)
    name = getattr(m, "name", type(m).__name__)
    out = [Prediction(LABELS[int(p.argmax())], {l: float(v) for l, v in zip(LABELS, p)}, name) for p in proba]
    return out[0] if single else out


def analyze(text: str, model: Any = None) -> list[SentencePrediction]:
    """Split a longer text into sentences (with offsets into `text`) and classify each."""
    from stance.segment import split_sentences

    if not isinstance(text, str):
        raise TypeError(f"analyze expects a string, got {type(text).__name__}")
    spans = split_sentences(text)
    if not spans:
        return []
    preds = predict([s.text for s in spans], model=model)
    return [SentencePrediction(p.label, p.probabilities, p.model, text=s.text, start=s.start, end=s.end)
            for p, s in zip(preds, spans)]
