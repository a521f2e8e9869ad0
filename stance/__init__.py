"""stance: classify English sentences for their stance on multilateral involvement.

    >>> import stance
    >>> p = stance.predict("The Security Council must authorise the mission.")
    >>> p.label, p.probabilities["pro-UN"], p.model

Labels (canonical order): pro-UN, pro-NATO, unilateral, skeptical, none.
Importing this package is cheap; models load on first use and are cached.
"""

from stance.api import Prediction, SentencePrediction, analyze, load, predict
from stance.labels import LABELS

__version__ = "0.1.0"

__all__ = ["LABELS", "Prediction", "SentencePrediction", "analyze", "load", "predict", "__version__"]
