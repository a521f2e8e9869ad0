"""The manifest every saved model directory carries, and how it is checked on load.

``manifest.json`` records the format version, the package version, the labels in
order, the model's kind and training configuration, the hash of its training data
and of its base encoder.

Format policy: FORMAT_VERSION is bumped whenever the files a model directory holds,
or their meaning, change. A loader reads its own version and the older ones it
knows; a newer version is refused with a message to upgrade `stance`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from stance.atomic import atomic_write_text
from stance.labels import LABELS

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class ModelFormatError(ValueError):
    """A model directory is missing, damaged, or not one this version can load."""


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stance")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def texts_sha256(texts: list[str], labels: list[str]) -> str:
    """Hash of the training data, so a manifest says exactly what a model saw."""
    h = hashlib.sha256()
    for text, label in zip(texts, labels):
        h.update(text.encode("utf-8"))
        h.update(b"\x00")
        h.update(label.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def write_manifest(directory: Path, kind: str, training: dict[str, Any], **extra: Any) -> dict[str, Any]:
    manifest = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "stance_version": package_version(),
        "labels": list(LABELS),
        "training": training,
        **extra,
    }
    atomic_write_text(Path(directory) / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def read_manifest(directory: Path, kind: str | None = None) -> dict[str, Any]:
    """Read and check a manifest: known format version, the canonical labels, the expected kind."""
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFormatError(f"{directory} is not a stance model directory: {MANIFEST} is missing") from None
    except IsADirectoryError:
        raise ModelFormatError(f"{directory} is not a stance model directory: {MANIFEST} is not a file") from None
    except (ValueError, RecursionError) as e:  # bad UTF-8 or JSON; also JSON nested too deeply or huge integers
        raise ModelFormatError(f"{path} is not valid JSON ({type(e).__name__}: {str(e)[:200]}); "
                               "the model directory is damaged: retrain it") from None
    if not isinstance(manifest, dict):
        raise ModelFormatError(f"{path} must hold a JSON object, got {type(manifest).__name__}")
    for key in ("kind", "training"):
        want = str if key == "kind" else dict
        if key in manifest and not isinstance(manifest[key], want):
            raise ModelFormatError(f"{path}: {key!r} must be a JSON {'string' if want is str else 'object'}, "
                                   f"got {type(manifest[key]).__name__}; the manifest is damaged: retrain the model")
    params = manifest.get("training", {}).get("params", {})
    if not isinstance(params, dict):
        raise ModelFormatError(f"{path}: 'training.params' must be a JSON object, got {type(params).__name__}; "
                               "the manifest is damaged: retrain the model")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFormatError(f"{path}: format_version {version!r} is not a positive integer")
    if version > FORMAT_VERSION:
        raise ModelFormatError(
            f"{directory} was saved in model format {version}, newer than this stance "
            f"({package_version()}, format {FORMAT_VERSION}): upgrade stance to load it"
        )
    if manifest.get("labels") != list(LABELS):
        raise ModelFormatError(
            f"{directory} was trained for labels {manifest.get('labels')!r}, but this stance uses "
            f"{list(LABELS)!r}: retrain the model with `stance train`"
        )
    if kind is not None and manifest.get("kind") != kind:
        raise ModelFormatError(f"{directory} holds a {manifest.get('kind')!r} model, expected {kind!r}")
    return manifest


def manifest_params(manifest: dict[str, Any], defaults: dict[str, Any], directory: Path) -> dict[str, Any]:
    """The manifest's training params that `defaults` knows, each checked to have its default's JSON type.

    Unknown keys are ignored (a newer minor version may add some); a wrong type is a ModelFormatError.
    """
    out = {}
    for key, value in manifest.get("training", {}).get("params", {}).items():
        if key not in defaults:
            continue
        default = defaults[key]
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif isinstance(default, (tuple, list)):
            ok = isinstance(value, (tuple, list)) and len(value) == len(default) and all(
                isinstance(v, type(d)) and not isinstance(v, bool) for v, d in zip(value, default))
        else:
            ok = value is None or isinstance(value, type(default))
        if not ok:
            raise ModelFormatError(f"{Path(directory) / MANIFEST}: training param {key!r} is {value!r:.60}, expected "
                                   f"a value like {default!r}; the manifest is damaged: retrain the model")
        out[key] = tuple(value) if isinstance(default, tuple) else value
    return out
