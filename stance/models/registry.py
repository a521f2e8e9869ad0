"""The one list of models: every CLI choice, error message, evaluation row, card and demo menu reads it.

Adding a model is one entry here (and its class on the `StanceModel` contract).
Classes are named by import path and imported only when a model is used, so that
`import stance` stays light.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stance.models.base import StanceModel


@dataclass(frozen=True)
class ModelSpec:
    """One registered model: where its class lives, its fixed parameters and what its card says."""

    name: str
    target: str  # "module:Class"
    description: str
    shipped: bool  # ships trained in models/ (else evaluation-only)
    params: dict[str, Any] = field(default_factory=dict)  # fixed constructor arguments (e.g. the encoder)
    fast_params: dict[str, Any] = field(default_factory=dict)  # tiny settings for tests and smoke runs
    library: str = "sklearn"  # the model card's library_name
    base_model: str | None = None


_FAST_FT = {"epochs": 1, "max_length": 48}
SPECS = (
    ModelSpec("majority", "stance.models.majority:MajorityStance",
              "Always the most frequent training label (scikit-learn's DummyClassifier): the floor.", shipped=False),
    ModelSpec("tfidf", "stance.models.tfidf:TfidfStance",
              "TF-IDF word n-grams and a class-balanced logistic regression (scikit-learn), hyperparameters chosen "
              "by cross-validated grid search. Saved with skops. The inspectable teaching baseline.", shipped=True),
    ModelSpec("frozen-minilm", "stance.models.frozen:FrozenEncoderStance",
              "Frozen all-MiniLM-L6-v2 sentence embeddings (mean-pooled) and a class-balanced logistic regression.",
              shipped=False, params={"encoder": "minilm"}, base_model="sentence-transformers/all-MiniLM-L6-v2"),
    ModelSpec("frozen-mpnet", "stance.models.frozen:FrozenEncoderStance",
              "Frozen all-mpnet-base-v2 sentence embeddings (mean-pooled) and a class-balanced logistic regression; "
              "retrains in seconds (embeddings are cached on disk).", shipped=True, params={"encoder": "mpnet"},
              base_model="sentence-transformers/all-mpnet-base-v2"),
    ModelSpec("minilm", "stance.models.finetuned:FineTunedStance",
              "all-MiniLM-L6-v2 fine-tuned with a LoRA adapter (peft) and a linear head over mean-pooled tokens; "
              "the fast transformer.", shipped=True, params={"encoder": "minilm"}, fast_params=_FAST_FT,
              library="peft", base_model="sentence-transformers/all-MiniLM-L6-v2"),
    ModelSpec("mpnet", "stance.models.finetuned:FineTunedStance",
              "all-mpnet-base-v2 fine-tuned with a LoRA adapter (peft, every linear layer) and a linear head over "
              "mean-pooled tokens; trained in bfloat16 autocast with country and city names swapped on the fly.",
              shipped=True, params={"encoder": "mpnet", "lora_r": 8, "lora_alpha": 16, "lora_targets": "all-linear",
                                    "lora_dropout": 0.0,  # without it a CPU training step is 27% faster (reports/selection.md)
                                    "learning_rate": 5e-4, "epochs": 3, "max_length": 96, "precision": "bf16",
                                    "name_swap_prob": 0.5},
              fast_params=_FAST_FT, library="peft", base_model="sentence-transformers/all-mpnet-base-v2"),
)
REGISTRY: dict[str, ModelSpec] = {s.name: s for s in SPECS}
ALIASES = {"transformer": "minilm", "frozen-minilm-lr": "frozen-minilm"}  # names of earlier versions
MODEL_NAMES = tuple(REGISTRY)
SHIPPED_NAMES = tuple(s.name for s in SPECS if s.shipped)


def canonical_name(name: str) -> str:
    """`name` (or an older alias of it) as a registry name; ValueError naming the allowed ones."""
    if not isinstance(name, str) or ALIASES.get(name, name) not in REGISTRY:
        raise ValueError(f"unknown model {name!r}: allowed models are {', '.join(MODEL_NAMES)}")
    return ALIASES.get(name, name)


def get_spec(name: str) -> ModelSpec:
    return REGISTRY[canonical_name(name)]


def model_class(name: str) -> type["StanceModel"]:
    module, cls = get_spec(name).target.split(":")
    return getattr(importlib.import_module(module), cls)


def make_model(name: str, random_state: int = 0, fast: bool = False, **overrides: Any) -> "StanceModel":
    """A fresh, unfitted model of registry entry `name`."""
    spec = get_spec(name)
    params = {**spec.params, **(spec.fast_params if fast else {}), **overrides}
    return model_class(name)(random_state=random_state, **params)


def spec_for(model: "StanceModel") -> ModelSpec | None:
    """The registry entry whose class and fixed parameters match a model instance."""
    for spec in SPECS:
        module, cls = spec.target.split(":")
        if type(model).__module__ == module and type(model).__name__ == cls and all(
                getattr(model, k, None) == v for k, v in spec.params.items() if k == "encoder"):
            return spec
    return None
