"""Models behind one contract (`base.StanceModel`), listed once in `registry`.

Importing this package is light: model classes (and torch / scikit-learn with them)
are imported when a model is made or loaded.
"""

from stance.models.manifest import FORMAT_VERSION, ModelFormatError
from stance.models.registry import MODEL_NAMES, REGISTRY, SHIPPED_NAMES, ModelSpec, get_spec, make_model, model_class

__all__ = ["FORMAT_VERSION", "MODEL_NAMES", "REGISTRY", "SHIPPED_NAMES", "ModelFormatError", "ModelSpec", "get_spec",
           "make_model", "model_class"]
