"""Where saved models live and which one `predict` uses.

A named model is looked up first among the user's retrained models
(``$STANCE_HOME/models/NAME``), then among the shipped ones (``models/NAME`` in the
install or checkout). ``models/default.json`` names the default and records the
measure that chose it; a user's ``$STANCE_HOME/models/default.json`` overrides it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from stance.atomic import _fsync_dir, _prev, atomic_write_text
from stance.models.manifest import MANIFEST, ModelFormatError
from stance.models.registry import REGISTRY, canonical_name
from stance.paths import shipped, user_models_dir

log = logging.getLogger(__name__)
DEFAULT_FILE = "default.json"
FALLBACK_DEFAULT = "tfidf"


def resolve_model_dir(path: Path) -> Path:
    """`path` if it holds a manifest, else its `.prev` sibling left by an interrupted save."""
    path = Path(path)
    if (path / MANIFEST).is_file():
        return path
    prev = _prev(path)
    if not path.exists() and (prev / MANIFEST).is_file():
        return prev
    if not path.exists():
        raise ModelFormatError(f"no model directory at {path}: train one with `stance train` or pass an existing path")
    raise ModelFormatError(f"{path} is not a stance model directory: {MANIFEST} is missing")


def model_path(name: str) -> Path:
    """Where the named model lives: $STANCE_HOME/models/NAME if the user trained one, else the shipped one."""
    name = canonical_name(name)
    user = user_models_dir() / name
    if user.exists() or _prev(user).exists():
        try:
            return resolve_model_dir(user)
        except ModelFormatError as e:
            log.warning("ignoring the damaged user model %s (%s); using the shipped %r model", user, e, name)
    try:
        return resolve_model_dir(shipped("models") / name)
    except ModelFormatError:
        raise ModelFormatError(f"no trained {name!r} model in {user_models_dir()} or the shipped models: "
                               f"run `stance train --model {name}`") from None


def default_model_name() -> str:
    """The model `predict` uses when none is named (the user's choice, else the shipped default.json)."""
    for root in (user_models_dir(), shipped("models")):
        try:
            name = json.loads((root / DEFAULT_FILE).read_text(encoding="utf-8"))["model"]
            return canonical_name(name)
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return FALLBACK_DEFAULT


def default_record() -> dict[str, Any]:
    """The default.json in force (user's, else shipped), with where it came from."""
    for root in (user_models_dir(), shipped("models")):
        try:
            record = json.loads((root / DEFAULT_FILE).read_text(encoding="utf-8"))
            if isinstance(record, dict) and canonical_name(record.get("model", "")) in REGISTRY:
                return {**record, "path": str(root / DEFAULT_FILE)}
        except (OSError, ValueError, TypeError):
            continue
    return {"model": FALLBACK_DEFAULT, "why": "no default.json found", "path": None}


def set_default(name: str, why: str, measure: dict[str, Any] | None = None) -> Path:
    """Make `name` the default for this user ($STANCE_HOME/models/default.json)."""
    name = canonical_name(name)
    path = user_models_dir() / DEFAULT_FILE
    atomic_write_text(path, json.dumps({"model": name, "why": why, **({"measure": measure} if measure else {})},
                                       indent=2) + "\n")
    return path


def rollback(target: Path) -> Path:
    """Swap `target` and `<target>.prev`; return the restored directory.

    Crash-safe at every step: the swap goes through `<target>.swap`, and a run that finds a
    `.swap` left by a killed rollback finishes that rollback instead of starting a new one.
    """
    target = Path(target)
    prev, swap = _prev(target), target.with_name(target.name + ".swap")
    if swap.exists():  # a killed rollback: target was moved aside; finish it
        if not target.exists() and (prev / MANIFEST).is_file():
            os.replace(prev, target)
        if not prev.exists():
            os.replace(swap, prev)
        else:
            shutil.rmtree(swap, ignore_errors=True)
        _fsync_dir(target.parent)
        return target
    if not (prev / MANIFEST).is_file():
        raise ModelFormatError(f"nothing to roll back to: {prev} does not hold a saved model")
    if target.exists():
        os.replace(target, swap)
    os.replace(prev, target)
    if swap.exists():
        os.replace(swap, prev)
    _fsync_dir(target.parent)
    return target
