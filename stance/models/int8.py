"""An int8 ONNX Runtime copy of a fine-tuned encoder: the fast CPU predict path, without torch.

Three recipes were measured on mpnet (tools/quantization_check.py, reports/quantization.md):

- dynamic int8 (ONNX Runtime's ``quantize_dynamic``): one activation scale per *call* lets outlier
  tokens (and the padding of batch-mates) blur every other token; 1.3-1.7% of labels changed and a
  sentence's label depended on which sentences shared its batch;
- blockwise int8 (``MatMulNBits``, one weight scale per 128 weights, activations per row and block):
  0.2% of labels changed, but 1.6x slower than an int8 GEMM on 2 cores;
- **per-token int8** (per_token.py, shipped): int8 weights per output column, activations quantized
  per token at run time, ONNX Runtime's integer GEMM. Each token keeps its own scale, so answers do
  not depend on the batch; about 1% of labels changed, at dynamic int8's speed.

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

# Bump when the export or the quantization settings change: old copies are then rebuilt.
# 1: dynamic int8; 2: blockwise (MatMulNBits); 3: per-token int8.
FORMAT = 3
# A recipe is "per_token" (bits), "blockwise" (bits, block_size, accuracy_level) or "dynamic" (per_channel,
# reduce_range, and the patterns of MatMul nodes left in fp32). Encoders with a measured recipe predict through an
# int8 copy.
PER_TOKEN = {"scheme": "per_token", "bits": 8}
BLOCKWISE = {"scheme": "blockwise", "bits": 8, "block_size": 128, "accuracy_level": 4}
SCHEMES = ("per_token", "blockwise", "dynamic")
RECIPES: dict[str, dict[str, Any]] = {"mpnet": PER_TOKEN}
# A guard against a broken copy (the acceptance measure is tools/quantization_check.py): refuse a copy whose
# labels differ from the fp32 model's on more than 5% of the probe (the shipped copy: 1.0% of the challenge set, its probe).
MIN_AGREEMENT = 0.95
MODEL_FILE, TOKENIZER_FILE, BUILD_FILE = "model.onnx", "tokenizer.json", "build.json"
RUNTIMES = ("auto", "torch")
# Sentences per ONNX Runtime call, after sorting the whole input by length: small batches pad less and stay in
# cache (measured on 2 cores, calls of 64 corpus sentences, best of 3: per-token copy 80 sent/s at 8, 70 at 16,
# 56 at 32, 59 at 4; the blockwise copy 54 at 8, 45 at 16).
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
    if runtime_choice() == "torch" or encoder not in RECIPES:
        return False
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def copy_dir(model_dir: Path, encoder: str) -> Path:
    """Where the int8 copy of the model saved in `model_dir` lives: named by its weights and the settings."""
    import onnxruntime

    digest = hashlib.sha256()
    for name in ("adapter_model.safetensors", "head.safetensors", "manifest.json"):
        digest.update((model_dir / name).read_bytes())
    digest.update(json.dumps([FORMAT, encoder, RECIPES[encoder], onnxruntime.__version__]).encode())
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


def quantize(fp32: Path, out: Path, recipe: dict[str, Any]) -> list[str]:
    """Quantize every MatMul with a constant weight by `recipe` (see RECIPES); returns the nodes left in fp32."""
    import onnx

    if recipe.get("scheme") not in SCHEMES:
        raise ValueError(f"int8 recipe scheme is {recipe.get('scheme')!r}: allowed values are {', '.join(SCHEMES)}")
    model = onnx.load(str(fp32))
    with _quiet():
        if recipe["scheme"] == "per_token":
            from stance.models.per_token import quantize_per_token

            onnx.save(quantize_per_token(model, recipe["bits"])[0], str(out))
            return []
        if recipe["scheme"] == "blockwise":
            from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

            quantizer = MatMulNBitsQuantizer(model, bits=recipe["bits"], block_size=recipe["block_size"],
                                             is_symmetric=True, accuracy_level=recipe["accuracy_level"])
            quantizer.process()
            quantizer.model.save_model_to_file(str(out), use_external_data_format=False)
            return []
        from onnxruntime.quantization import QuantType, quantize_dynamic

        keep = fp32_nodes(model.graph, recipe.get("fp32_nodes", ()))
        quantize_dynamic(str(fp32), str(out), per_channel=recipe["per_channel"], reduce_range=recipe["reduce_range"],
                         weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"], nodes_to_exclude=keep,
                         extra_options={"MatMulConstBOnly": True})
    return keep


def write_copy(directory: Path, fp32: Path, hf_tokenizer: Any, max_length: int, recipe: dict[str, Any],
               **info: Any) -> dict[str, Any]:
    """Quantize `fp32` into `directory` with the tokenizer and build.json beside it: what Int8Runtime reads."""
    keep = quantize(fp32, directory / MODEL_FILE, recipe)
    hf_tokenizer.backend_tokenizer.save(str(directory / TOKENIZER_FILE))
    info = {"format": FORMAT, "max_length": max_length, "fp32_nodes": keep, "pad_token": hf_tokenizer.pad_token,
            "quantization": recipe, **info}
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
            info = write_copy(tmp, fp32, hf_tokenizer, max_length, RECIPES[encoder], encoder=encoder)
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
