"""Where things live: the shipped data (read-only) and the user data home (every write).

Shipped data (models, corpus, seeds) travels inside the wheel as ``stance/_shipped/``
(mapped from the repository's top-level folders by ``pyproject.toml``) and is found
with ``importlib.resources``; in a source checkout it is read from the top-level
folders themselves. Nothing is ever written there.

Every write (user corpus, retrained models, reports, caches) goes under the user
data home: ``$STANCE_HOME`` if set, else the per-user data folder that
platformdirs names (``~/.local/share/stance`` on Linux).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

SHIPPED_PARTS = ("models", "corpus", "seeds")


def shipped(part: str) -> Path:
    """Folder of a shipped part ("models", "corpus" or "seeds"), inside the install or the checkout."""
    if part not in SHIPPED_PARTS:
        raise ValueError(f"unknown shipped part {part!r}: allowed parts are {', '.join(SHIPPED_PARTS)}")
    packaged = Path(str(resources.files("stance") / "_shipped" / part))
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / part
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the shipped {part!r} folder is missing (looked in {packaged} and {checkout}): "
                            "reinstall stance")


def stance_home() -> Path:
    """The user data home: $STANCE_HOME, else the per-user data folder (platformdirs)."""
    env = os.environ.get("STANCE_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("stance", appauthor=False)


def user_models_dir() -> Path:
    """Retrained models: $STANCE_HOME/models."""
    return stance_home() / "models"


def reports_dir() -> Path:
    """Evaluation reports and plots written by commands: $STANCE_HOME/reports."""
    return stance_home() / "reports"


def cache_dir() -> Path:
    """Rebuildable files (assembled encoders, embedding cache): $STANCE_HOME/cache."""
    return stance_home() / "cache"
