"""An int8 ONNX Runtime copy of a fine-tuned encoder: the fast CPU predict path, without torch.

Naive int8 breaks mpnet (every Linear quantized per tensor: 22% of labels change).
What keeps it: weights quantized per output channel (``per_channel``), 7-bit weights
(``reduce_range``, safe on CPUs without VNNI), activations quantized per batch at run
time (ONNX Runtime's dynamic quantization), and the most sensitive matrices left in fp32:
the feed-forward output projections of mpnet's layers 6-8 (their inputs carry outliers).
tools/quantization_check.py measured that choice against others (reports/quantization.md).

The copy is built once per trained model (export with torch, quantize, then check it
against the fp32 model on a probe set and refuse it when too many labels change) into
``$STANCE_HOME/cache/int8/<hash of the adapter, head and settings>/``, atomically and
under a lock. Predicting then needs only onnxruntime and tokenizers. Set
``STANCE_RUNTIME=torch`` to predict with the fp32 torch model instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from stance.atomic import atomic_dir
from stance.labels import LABELS
from stance.paths import cache_dir

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the export or the quantization settings change: old copies are then rebuilt
# Encoders with a measured int8 recipe: patterns of the MatMul nodes that stay fp32.
FP32_NODES: dict[str, tuple[str, ...]] = {
    "mpnet": (r"layer\.[678]/output/dense/MatMul$",),  # feed-forward output (not attention/output), layers 6-8
}
PER_CHANNEL, REDUCE_RANGE = True, True
QUANTIZATION = {"per_channel": PER_CHANNEL, "reduce_range": REDUCE_RANGE, "weight_type": "QInt8", "op_types": ["MatMul"]}
# A guard against a broken copy (the acceptance measure is tools/quantization_check.py): refuse a copy whose
# labels differ from the fp32 model's on more than 5% of the probe (the shipped copy: 2.6% of the challenge set).
MIN_AGREEMENT = 0.95
MODEL_FILE, TOKENIZER_FILE, BUILD_FILE = "model.onnx", "tokenizer.json", "build.json"
RUNTIMES = ("auto", "torch")
# Sentences per ONNX Runtime call, after sorting the whole input by length: small batches pad less and stay in
# cache (measured on 2 cores, 64-sentence calls: 51 sent/s at 1, 59 at 8, 55 at 16, 36 at 64).
BATCH = 8


class Int8Unavailable(RuntimeError):
    """No int8 copy can be used for this model; the caller predicts with torch instead."""


def runtime_choice() -> str:
    """`STANCE_RUNTIME`: "auto" (int8 where an encoder has a measured recipe) or "torch" (always fp32)."""
    choice = os.environ.get("STANCE_RUNTIME", "auto").strip().lower() or "auto"
    if choice not in RUNTIMES:
        raise ValueError(f"STANCE_RUNTIME is {choice!r}: allowed values are {', '.join(RUNTIMES)}")
    return choice


def wanted(encoder: str) -> bool:
    """Whether this encoder predicts through an int8 copy (a measured recipe, onnxruntime present, not opted out)."""
    if runtime_choice() == "torch" or encoder not in FP32_NODES:
        return False
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def copy_dir(model_dir: Path, encoder: str) -> Path:
    """Where the int8 copy of the model saved in `model_dir` lives: named by its weights and the settings."""
    import onnxruntime

    digest = hashlib.sha256()
    for name in ("adapter_model.safetensors", "head.safetensors", "manifest.json"):
        digest.update((model_dir / name).read_bytes())
    digest.update(json.dumps([FORMAT, encoder, FP32_NODES[encoder], QUANTIZATION,
                              onnxruntime.__version__]).encode())
    return cache_dir() / "int8" / f"{encoder}-{digest.hexdigest()[:16]}"


def fp32_nodes(graph: Any, patterns: Sequence[str]) -> list[str]:
    """Names of the MatMul nodes of an exported graph that match any of `patterns`."""
    return [n.name for n in graph.node if n.op_type == "MatMul" and any(re.search(p, n.name) for p in patterns)]


@contextlib.contextmanager
def _quiet() -> Any:
    """Silence the exporter's deprecation notice and the quantizer's per-tensor log lines (root logger)."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def export_onnx(net: "torch.nn.Module", hf_tokenizer: Any, path: Path) -> Path:
    """`net` (input_ids, attention_mask -> logits) as an fp32 ONNX graph with dynamic batch and length."""
    import torch

    sample = hf_tokenizer(["a sentence", "another, longer sentence"], padding=True, return_tensors="pt")
    with torch.inference_mode(), _quiet():  # the TorchScript exporter: its node names carry the module paths
        torch.onnx.export(net.eval(), (sample["input_ids"], sample["attention_mask"]), str(path), dynamo=False,
                          opset_version=17, input_names=["input_ids", "attention_mask"], output_names=["logits"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"}, "logits": {0: "batch"}})
    return path


def quantize(fp32: Path, out: Path, patterns: Sequence[str], per_channel: bool = True, reduce_range: bool = True) -> list[str]:
    """Dynamic int8 quantization of every MatMul with a constant weight except those matching `patterns`;
    returns the names of the nodes left in fp32."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    keep = fp32_nodes(onnx.load(str(fp32), load_external_data=False).graph, patterns)
    with _quiet():
        quantize_dynamic(str(fp32), str(out), per_channel=per_channel, reduce_range=reduce_range,
                         weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"], nodes_to_exclude=keep,
                         extra_options={"MatMulConstBOnly": True})
    return keep


def write_copy(directory: Path, fp32: Path, hf_tokenizer: Any, max_length: int, patterns: Sequence[str],
               per_channel: bool = PER_CHANNEL, reduce_range: bool = REDUCE_RANGE, **info: Any) -> dict[str, Any]:
    """Quantize `fp32` into `directory` with the tokenizer and build.json beside it: what Int8Runtime reads."""
    keep = quantize(fp32, directory / MODEL_FILE, patterns, per_channel, reduce_range)
    hf_tokenizer.backend_tokenizer.save(str(directory / TOKENIZER_FILE))
    info = {"format": FORMAT, "max_length": max_length, "fp32_nodes": keep, "pad_token": hf_tokenizer.pad_token,
            "quantization": {**QUANTIZATION, "per_channel": per_channel, "reduce_range": reduce_range}, **info}
    (directory / BUILD_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def build(net: "torch.nn.Module", hf_tokenizer: Any, encoder: str, max_length: int, target: Path,
          probe: Sequence[str], fp32_proba: Callable[[Sequence[str]], np.ndarray]) -> Path:
    """Export `net`, quantize it by the encoder's recipe, and keep it only if it agrees with `fp32_proba` on `probe`."""
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=1200):
        if (target / BUILD_FILE).is_file():  # another process built it meanwhile
            return target
        log.warning("building the int8 copy of the %s model once (about a minute); it is cached in %s", encoder, target)
        with atomic_dir(target) as tmp:
            fp32 = export_onnx(net, hf_tokenizer, tmp / "fp32.onnx")
            info = write_copy(tmp, fp32, hf_tokenizer, max_length, FP32_NODES[encoder], encoder=encoder)
            fp32.unlink()
            agreement = float(np.mean(Int8Runtime(tmp).predict_proba(probe).argmax(1) == fp32_proba(probe).argmax(1)))
            if agreement < MIN_AGREEMENT:
                raise Int8Unavailable(f"the int8 copy agrees with the fp32 model on {agreement:.1%} of {len(probe)} "
                                      f"probe sentences (< {MIN_AGREEMENT:.0%}): predicting with torch instead")
            info.update(probe_sentences=len(probe), probe_agreement=agreement)
            (tmp / BUILD_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return target


class Int8Runtime:
    """An ONNX Runtime session over the int8 copy and a `tokenizers` tokenizer: logits -> probabilities."""

    def __init__(self, directory: Path, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        try:
            info = json.loads((directory / BUILD_FILE).read_text(encoding="utf-8"))
            if info.get("format") != FORMAT:
                raise Int8Unavailable(f"{directory} is an int8 copy of format {info.get('format')!r}, not {FORMAT}")
            self.tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 8)
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self.session = ort.InferenceSession(str(directory / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # unreadable, truncated or foreign files (onnxruntime raises its own types)
            raise Int8Unavailable(f"the int8 copy in {directory} cannot be used ({type(e).__name__}: {e})") from None
        pad = info.get("pad_token") or "[PAD]"
        self.tokenizer.enable_truncation(int(info["max_length"]))
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id(pad) or 0, pad_token=pad)
        self.directory = directory

    def predict_proba(self, texts: Sequence[str], batch_size: int = BATCH) -> np.ndarray:
        """Probabilities per label; the input is sorted by length and run in small batches (less padding)."""
        proba = np.zeros((len(texts), len(LABELS)))
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            encoded = self.tokenizer.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            logits = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0].astype(np.float64)
            logits -= logits.max(axis=1, keepdims=True)
            e = np.exp(logits)
            proba[idx] = e / e.sum(axis=1, keepdims=True)
        return proba
