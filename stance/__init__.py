"""stance: classify English sentences for their stance on multilateral involvement.

    >>> import stance
    >>> p = stance.predict("The Security Council must authorise the mission.")
    >>> p.label, p.probabilities["pro-UN"], p.model

    >>> print(stance.explain("NATO should lead the force.").to_text())  # why: the evidence
    >>> stance.add_examples([{"text": "...", "label": "skeptical"}]); stance.train("tfidf")  # retrain

Labels (canonical order): pro-UN, pro-NATO, unilateral, skeptical, none.
Importing this package is cheap; models load on first use and are cached.
"""

from stance.api import Prediction, SentencePrediction, analyze, load, predict
from stance.active import suggest  # light: the model and segmenter load inside suggest()
from stance.corpus import add_examples
# Imported eagerly (it is light: models load inside explain()). Binding the function here also
# keeps `stance.explain` the function: a lazy first import of the submodule would overwrite it.
from stance.explain import Explanation, explain
from stance.labels import LABELS
from stance.train import train  # light, like explain: models and their libraries load inside train()

__version__ = "0.1.0"

__all__ = ["LABELS", "Explanation", "Prediction", "SentencePrediction", "add_examples", "analyze", "explain", "load",
           "predict", "suggest", "train", "__version__"]
