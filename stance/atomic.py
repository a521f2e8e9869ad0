"""Atomic writes: build the new file or directory beside its target, flush it, then rename.

A crash at any point leaves the old version or the new one, never half of each.
Temporaries are named uniquely (``.<name>.<random>.tmp``), so two writers never share
one; those that killed writers leave behind are removed after an hour.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


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


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
