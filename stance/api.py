"""The public API behind `stance.predict` and friends.

This module imports nothing heavy: models (and torch / scikit-learn with them) are
imported on first use, loaded once per process and reused.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence, Union, overload

from stance.inputs import check_text, check_texts
from stance.labels import LABELS
from stance.models.manifest import ModelFormatError, read_manifest
from stance.models.registry import ALIASES, MODEL_NAMES, REGISTRY, canonical_name, model_class
from stance.models.store import default_model_name, model_path, resolve_model_dir

if TYPE_CHECKING:
    from stance.models.base import StanceModel

ModelArg = Union[None, str, Path, "StanceModel"]
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


def load(path: Union[str, Path]) -> "StanceModel":
    """Load a saved model directory (any kind), checked against its manifest; cached per process."""
    directory = resolve_model_dir(Path(path))
    key = (str(directory.resolve()), (directory / "manifest.json").stat().st_mtime)
    with _lock:
        if key not in _cache:
            kind = read_manifest(directory).get("kind")
            try:
                cls = model_class(str(kind))
            except ValueError:
                raise ModelFormatError(f"{directory} holds a model of unknown kind {kind!r}: allowed kinds are "
                                       f"{', '.join(MODEL_NAMES)}") from None
            _cache[key] = cls.load(directory)
        return _cache[key]


def get_model(model: ModelArg = None) -> "StanceModel":
    """None -> the default model; a name -> that trained/shipped model; a path -> load it; a model -> itself."""
    if model is None:
        model = default_model_name()
    if isinstance(model, str) and (model in REGISTRY or model in ALIASES):
        return load(model_path(canonical_name(model)))
    if isinstance(model, (str, Path)):
        if not Path(model).exists() and not Path(str(model) + ".prev").exists():
            raise ValueError(f"unknown model {str(model)!r}: allowed models are {', '.join(MODEL_NAMES)}, "
                             "or a path to a saved model directory")
        return load(model)
    if hasattr(model, "predict_proba"):
        return model
    raise TypeError(f"model must be None, one of {', '.join(MODEL_NAMES)}, a path, or a fitted model; "
                    f"got {type(model).__name__}")


@overload
def predict(text_or_texts: str, model: ModelArg = None) -> Prediction: ...  # type: ignore[overload-overlap]
@overload
def predict(text_or_texts: Sequence[str], model: ModelArg = None) -> list[Prediction]: ...


def predict(text_or_texts: Union[str, Sequence[str]], model: ModelArg = None) -> Union[Prediction, list[Prediction]]:
    """Classify one string (-> Prediction) or a list of strings (-> list of Prediction).

    Each string is classified as one unit: pass sentences. A longer string is not
    split (use `analyze` for that); the transformers read their first tokens only.
    """
    if isinstance(text_or_texts, str):
        texts, single = [check_text(text_or_texts)], True
    elif text_or_texts is None or isinstance(text_or_texts, (bytes, bytearray, int, float, dict)):
        raise TypeError(f"predict expects a string or a list of strings, got {type(text_or_texts).__name__}")
    else:
        texts, single = check_texts(text_or_texts), False
    m = get_model(model)
    proba = m.predict_proba(texts)
    name = getattr(m, "name", type(m).__name__)
    out = []
    for i, p in enumerate(proba):
        probabilities = {label: float(v) for label, v in zip(LABELS, p)}
        if not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in probabilities.values()):  # never hand out NaN
            raise ModelFormatError(f"model {name!r} gave invalid probabilities {list(probabilities.values())!r:.120} for "
                                   f"text {i}: its weights are damaged or hostile; retrain it")
        out.append(Prediction(LABELS[int(p.argmax())], probabilities, name))
    return out[0] if single else out


def analyze(text: str, model: ModelArg = None) -> list[SentencePrediction]:
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
