"""Where things live, and how they are written and read back safely.

Writes are atomic: build the new file or directory beside its target, flush it
to disk, then rename it into place, so a crash leaves the old version or the new
one, never half of each. Every saved model directory carries `manifest.json`
(format version, package version, labels in order, training config, corpus hash)
and is checked against it on load.

Format policy: FORMAT_VERSION is bumped whenever the files a model directory
holds, or their meaning, change. A loader reads its own version and older ones
it knows; a newer version is refused with a message to upgrade `stance`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from stance.labels import LABELS

FORMAT_VERSION = 1
MANIFEST = "manifest.json"

# The shipped teaching data (seeds, corpus, models) sits beside the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ModelFormatError(ValueError):
    """A model directory is missing, damaged, or not one this version can load."""


def stance_home() -> Path:
    """Directory for user data (user corpus, retrained models): $STANCE_HOME or the project root."""
    return Path(os.environ.get("STANCE_HOME") or PROJECT_ROOT)


def models_dir() -> Path:
    return stance_home() / "models"


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stance")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` via a temporary sibling and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


STALE_SECONDS = 3600  # a temporary left by a save killed this long ago is garbage, not a save in progress


def _remove_stale(target: Path) -> None:
    """Delete temporaries that killed saves of `target` left beside it (`.<name>.*.tmp` / `.trash`)."""
    import time

    for pattern in (f".{target.name}.*.tmp", f".{target.name}.*.trash"):
        for leftover in target.parent.glob(pattern):
            try:
                if time.time() - leftover.stat().st_mtime > STALE_SECONDS:
                    shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
            except OSError:
                pass  # another process removed it first


def _prev(target: Path) -> Path:
    return target.with_name(target.name + ".prev")


@contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary directory; on success it replaces `target`.

    The replaced version is kept as `<target>.prev` (what `rollback` restores).
    Sequence: build tmp -> drop old .prev -> target becomes .prev -> tmp becomes
    target. A crash at any point leaves either `target` or `<target>.prev` whole,
    and `resolve_model_dir` falls back to `.prev` when `target` is missing.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        for f in tmp.rglob("*"):
            if f.is_file():
                os.chmod(f, 0o666 & ~_umask())
                with open(f, "rb+") as fh:
                    os.fsync(fh.fileno())
        _fsync_dir(tmp)
        prev = _prev(target)
        if target.exists():
            if prev.exists():
                trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".trash", dir=target.parent))
                os.replace(prev, trash / "old")
                shutil.rmtree(trash, ignore_errors=True)
            os.replace(target, prev)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


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


def rollback(target: Path) -> Path:
    """Swap `target` and `<target>.prev`; return the restored directory."""
    target = Path(target)
    prev = _prev(target)
    if not (prev / MANIFEST).is_file():
        raise ModelFormatError(f"nothing to roll back to: {prev} does not hold a saved model")
    swap = target.with_name(target.name + ".swap")
    if swap.exists():
        shutil.rmtree(swap)
    if target.exists():
        os.replace(target, swap)
    os.replace(prev, target)
    if swap.exists():
        os.replace(swap, prev)
    _fsync_dir(target.parent)
    return target


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
