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
from stance.corpus import add_examples
from stance.explanation import Explanation, explain
from stance.labels import LABELS
from stance.models.registry import MODEL_NAMES
from stance.suggest import suggest
from stance.training import train

__version__ = "0.2.0"

__all__ = ["LABELS", "MODEL_NAMES", "Explanation", "Prediction", "SentencePrediction", "add_examples", "analyze",
           "explain", "load", "predict", "suggest", "train", "__version__"]
