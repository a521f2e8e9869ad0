"""A packaged encoder fine-tuned with LoRA: the transformer models (MiniLM, the fast one; mpnet, the strong one).

Architecture: the sentence encoder (no pooler), masked mean pooling (how both encoders
were trained to pool), dropout and a linear head. Training updates a LoRA adapter
(peft) on the chosen linear layers and the head, with a class-weighted loss, the head
at `head_lr_ratio` times the adapter's learning rate, warm-up then linear decay,
gradient clipping, and length-bucketed batches (several times faster on CPU).

A saved model is the adapter (``adapter_model.safetensors``, stored in fp16, and
peft's ``adapter_config.json``) plus ``head.safetensors``, over the packaged base
weights whose sha256 the manifest records. Loading reads JSON and safetensors only.
Where the encoder has a measured int8 recipe (mpnet), predictions come from an int8
ONNX Runtime copy built once and checked against this fp32 model (see `int8.py`).
"""

from __future__ import annotations

import copy
import json
import logging
import math
import random
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from stance.inputs import check_labels, check_texts
from stance.labels import ID2LABEL, LABEL2ID, LABELS
from stance.models import int8
from stance.models.base import StanceModel
from stance.models.encoders import ENCODERS, get_encoder, length_sorted_batches, load_encoder, tokenizer
from stance.models.frozen import check_base_model
from stance.models.manifest import ModelFormatError

if TYPE_CHECKING:
    from stance.models.classifier_net import MeanPoolClassifier

log = logging.getLogger(__name__)

ADAPTER_FILE = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
HEAD_FILE = "head.safetensors"
PRECISIONS = ("fp32", "bf16")  # of the training passes; predictions are fp32 (torch) or the int8 copy
# LoRA target modules by encoder family and choice: module-name suffixes peft matches.
TARGETS = {
    "minilm": {"attention": ["query", "key", "value"], "all-linear": ["query", "key", "value", "dense"]},
    "mpnet": {"attention": ["q", "k", "v"], "all-linear": ["q", "k", "v", "o", "dense"]},
}


class FineTunedStance(StanceModel):
    """`encoder` ("minilm" or "mpnet") fine-tuned with a LoRA adapter and a linear head."""

    def __init__(self, encoder: str = "minilm", epochs: int = 4, learning_rate: float = 2e-3, head_lr_ratio: float = 5.0,
                 batch_size: int = 16, max_length: int = 128, lora_r: int = 8, lora_alpha: int = 16,
                 lora_dropout: float = 0.1, lora_targets: str = "attention", lora_from_layer: int = 0,
                 weight_decay: float = 0.01, warmup_ratio: float = 0.1, class_weighted: bool = True,
                 precision: str = "fp32", name_swap_prob: float = 0.0, random_state: int = 0):
        self.encoder = encoder
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.head_lr_ratio = head_lr_ratio
        self.batch_size = batch_size
        self.max_length = max_length
        self.lora_r = lora_r
        self.lora_alpha = lora_alpha
        self.lora_dropout = lora_dropout
        self.lora_targets = lora_targets
        self.lora_from_layer = lora_from_layer  # adapt only layers >= this: no backward pass through those below
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.class_weighted = class_weighted
        self.precision = precision  # "bf16": matmuls of the training passes in bfloat16 (autocast), weights in fp32
        self.name_swap_prob = name_swap_prob  # per epoch, a sentence naming a country or city has them swapped
        self.random_state = random_state

    def _lora_config(self) -> Any:
        from peft import LoraConfig

        layers = get_encoder(self.encoder).layers
        upper = list(range(self.lora_from_layer, layers)) if self.lora_from_layer else None
        return LoraConfig(r=self.lora_r, lora_alpha=self.lora_alpha, lora_dropout=self.lora_dropout,
                          target_modules=TARGETS[self.encoder][self.lora_targets], layers_to_transform=upper,
                          layers_pattern="layer" if upper else None)

    def _build(self) -> "MeanPoolClassifier":
        from peft import get_peft_model

        from stance.models.classifier_net import MeanPoolClassifier

        return MeanPoolClassifier(get_peft_model(load_encoder(self.encoder), self._lora_config()),
                                  get_encoder(self.encoder).dim)

    def fit(self, texts: Sequence[str], labels: Sequence[str], progress: bool = False) -> "FineTunedStance":
        import torch
        from tqdm.auto import tqdm
        from transformers import get_linear_schedule_with_warmup

        from stance.models.classifier_net import length_bucketed, set_seed

        self._check_params(self.get_params(), Path("(constructor)"))
        texts = check_texts(texts)
        y = torch.tensor(check_labels(labels, len(texts)))
        set_seed(self.random_state)
        net = self._build()
        counts = torch.bincount(y, minlength=len(LABELS)).float()
        weight = (counts.sum() / (len(LABELS) * counts.clamp(min=1))) if self.class_weighted else None
        loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
        adapter = [p for p in net.encoder.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW([{"params": adapter, "lr": self.learning_rate},
                                       {"params": net.head.parameters(), "lr": self.learning_rate * self.head_lr_ratio}],
                                      weight_decay=self.weight_decay)
        steps = self.epochs * math.ceil(len(texts) / self.batch_size)
        schedule = get_linear_schedule_with_warmup(optimizer, int(self.warmup_ratio * steps), steps)
        tok = tokenizer(self.encoder)
        generator = torch.Generator().manual_seed(self.random_state)
        rng = random.Random(self.random_state)
        self.loss_curve_: list[float] = []
        net.train()
        with tqdm(total=steps, desc=f"fine-tuning {self.encoder}", unit="step", disable=not progress) as bar:
            for _ in range(self.epochs):
                encoded = tok(self._name_swapped(texts, rng), truncation=True, max_length=self.max_length)["input_ids"]
                for idx in length_bucketed(encoded, self.batch_size, generator):
                    batch = tok.pad({"input_ids": [encoded[i] for i in idx]}, return_tensors="pt")
                    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
                        logits = net(batch["input_ids"], batch["attention_mask"])
                    loss = loss_fn(logits.float(), y[idx])
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(adapter + list(net.head.parameters()), 1.0)
                    optimizer.step()
                    schedule.step()
                    optimizer.zero_grad()
                    self.loss_curve_.append(float(loss.item()))
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss.item():.3f}")
        net.eval()
        self.net_: MeanPoolClassifier | None = net
        self.runtime_: int8.Int8Runtime | None = None  # predictions of a fresh fit come from torch
        self._record_training(texts, labels)
        return self

    def _name_swapped(self, texts: list[str], rng: random.Random) -> list[str]:
        """This epoch's inputs: each sentence naming a listed country or city has, with probability
        `name_swap_prob`, every such name swapped for another of its kind (same label, same number of steps)."""
        if not self.name_swap_prob:
            return texts
        from stance.evaluation.robustness import swap_variants

        out = []
        for text in texts:
            variants = swap_variants(text, 1, rng) if rng.random() < self.name_swap_prob else []
            out.append(variants[0] if variants else text)
        return out

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        texts = check_texts(texts)
        runtime = getattr(self, "runtime_", None)
        proba = runtime.predict_proba(texts) if runtime else self._torch_proba(texts, batch_size)
        if not np.isfinite(proba).all():  # never hand out NaN probabilities
            raise ModelFormatError("the model produced non-finite probabilities: its weights are damaged; retrain it")
        return proba

    def _torch_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Probabilities from the fp32 torch network (the reference the int8 copy is checked against)."""
        import torch

        proba = np.zeros((len(texts), len(LABELS)), dtype=np.float64)
        tok, net = tokenizer(self.encoder), self._net()
        with torch.inference_mode():
            for idx in length_sorted_batches(list(texts), batch_size):
                batch = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=self.max_length,
                            return_tensors="pt")
                proba[idx] = torch.softmax(net(batch["input_ids"], batch["attention_mask"]).float(), dim=-1).numpy()
        return proba

    def _net(self) -> "MeanPoolClassifier":
        """The torch network, loaded from the saved directory on first need when predictions use the int8 copy."""
        if getattr(self, "net_", None) is None:
            self._load_torch(self.source_dir_)
        assert self.net_ is not None
        return self.net_

    # ------------------------------------------------------------------ persistence

    @classmethod
    def _check_params(cls, params: dict[str, Any], directory: Path) -> None:
        encoder = params.get("encoder")
        if encoder not in ENCODERS:
            raise ModelFormatError(f"{directory}: encoder {encoder!r} is not one of {', '.join(ENCODERS)}")
        ranges = {"max_length": (8, 512), "lora_r": (1, 256), "lora_alpha": (1, 1024), "lora_dropout": (0.0, 0.9),
                  "epochs": (1, 100), "batch_size": (1, 1024), "learning_rate": (1e-7, 1.0), "head_lr_ratio": (0.01, 1000),
                  "lora_from_layer": (0, get_encoder(encoder).layers - 1), "name_swap_prob": (0.0, 1.0)}
        for key, (low, high) in ranges.items():
            value = params.get(key)
            if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high):
                raise ModelFormatError(f"{directory}: parameter {key!r} is {value!r}, outside {low}..{high}; "
                                       "the manifest is damaged: retrain the model")
        if params.get("precision", "fp32") not in PRECISIONS:
            raise ModelFormatError(f"{directory}: precision {params.get('precision')!r} is not one of {', '.join(PRECISIONS)}")
        if params.get("lora_targets", "attention") not in TARGETS[encoder]:
            raise ModelFormatError(f"{directory}: lora_targets {params.get('lora_targets')!r} is not one of "
                                   f"{', '.join(TARGETS[encoder])}")

    def _save_weights(self, directory: Path) -> dict[str, Any]:
        import torch
        from peft import get_peft_model_state_dict
        from safetensors.torch import save_file

        peft_model = self._net().encoder
        state = {k: v.detach().to(torch.float16).contiguous() for k, v in get_peft_model_state_dict(peft_model).items()}
        save_file(state, directory / ADAPTER_FILE, metadata={"format": "pt"})
        config = self._lora_config()
        config.base_model_name_or_path = get_encoder(self.encoder).upstream
        config.save_pretrained(str(directory))  # peft's adapter_config.json, for the ecosystem's tools
        head = {k: v.detach().float().contiguous() for k, v in self._net().head.state_dict().items()}
        save_file(head, directory / HEAD_FILE, metadata={"format": "pt"})
        spec = get_encoder(self.encoder)
        return {"base_model": {"name": spec.upstream, "encoder": spec.name, "sha256": spec.sha256},
                "id2label": {str(i): label for i, label in ID2LABEL.items()}, "pooling": "mean"}

    def _load_weights(self, directory: Path, manifest: dict[str, Any]) -> None:
        """The int8 copy when one is cached for these exact files (torch is then never imported), else the
        torch network, from which the int8 copy is built and checked once for encoders with a recipe."""
        check_base_model(directory, manifest, self.encoder)
        self.source_dir_, self.net_, self.runtime_ = directory, None, None
        target = None
        if int8.wanted(self.encoder):
            try:
                target = int8.copy_dir(directory, self.encoder)
            except OSError as e:  # missing files: the torch load below names them
                log.info("not using an int8 copy: %s", e)
            if target is not None and (target / int8.BUILD_FILE).is_file():
                try:
                    self.runtime_ = int8.Int8Runtime(target)
                    return
                except int8.Int8Unavailable as e:  # a damaged copy: build it again
                    log.warning("%s; building it again", e)
                    shutil.rmtree(target, ignore_errors=True)
        self._load_torch(directory)
        if target is not None:
            self._build_int8(target)

    def _build_int8(self, target: Path) -> None:
        from stance.corpus import load_records

        probe = [r["text"] for r in load_records("challenge")]
        try:
            built = int8.build(self._net(), tokenizer(self.encoder), self.encoder, self.max_length, target, probe,
                               self._torch_proba)
            self.runtime_ = int8.Int8Runtime(built)
        except int8.Int8Unavailable as e:
            log.warning("%s", e)
        except Exception as e:  # an exporter or quantizer failure costs speed, never the prediction
            log.warning("could not build the int8 copy (%s: %s); predicting with torch", type(e).__name__, e)

    def _load_torch(self, directory: Path) -> None:
        import torch
        from peft import get_peft_model_state_dict, set_peft_model_state_dict
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        states = {}
        for name in (ADAPTER_FILE, HEAD_FILE):
            path = directory / name
            if not path.is_file():
                raise ModelFormatError(f"{directory} has no {name}: the model directory is incomplete; retrain it")
            try:
                states[name] = load_file(path)
            except (SafetensorError, OSError, ValueError, RuntimeError) as e:
                raise ModelFormatError(f"{path} is not a valid safetensors file ({e}); retrain the model") from None
            bad = [k for k, v in states[name].items() if not torch.isfinite(v.float()).all()]
            if bad:
                raise ModelFormatError(f"{path} holds non-finite weights (NaN or infinity) in {bad[:3]}; retrain it")
        net = self._build()
        layout = get_peft_model_state_dict(net.encoder)
        adapter = states[ADAPTER_FILE]
        if set(adapter) != set(layout) or any(adapter[k].shape != layout[k].shape for k in layout):
            raise ModelFormatError(f"{directory / ADAPTER_FILE} does not match the adapter its manifest describes "
                                   f"(missing {sorted(set(layout) - set(adapter))[:2]}, unexpected "
                                   f"{sorted(set(adapter) - set(layout))[:2]}); retrain the model")
        set_peft_model_state_dict(net.encoder, adapter)
        head = states[HEAD_FILE]
        expected = {k: v.shape for k, v in net.head.state_dict().items()}
        if {k: v.shape for k, v in head.items()} != expected:
            raise ModelFormatError(f"{directory / HEAD_FILE} does not fit a {get_encoder(self.encoder).dim} x "
                                   f"{len(LABELS)} head; retrain the model")
        net.head.load_state_dict(head)
        net.encoder = net.encoder.merge_and_unload()  # plain weights: faster inference, same outputs
        self.net_ = net.eval()

    def export(self, directory: str | Path) -> Path:
        """A plain Hugging Face encoder directory (merged weights, tokenizer) with the head beside it."""
        from safetensors.torch import save_file

        from stance.atomic import atomic_dir

        encoder: Any = self._net().encoder
        if hasattr(encoder, "merge_and_unload"):  # freshly trained: merge a copy, keep the adapter usable
            encoder = copy.deepcopy(encoder).merge_and_unload()
        directory = Path(directory)
        with atomic_dir(directory) as tmp:
            encoder.config.id2label, encoder.config.label2id = dict(ID2LABEL), dict(LABEL2ID)
            encoder.save_pretrained(tmp, safe_serialization=True)
            tok = copy.deepcopy(tokenizer(self.encoder))
            tok.model_max_length = self.max_length
            tok.save_pretrained(tmp)
            save_file({k: v.contiguous() for k, v in self._net().head.state_dict().items()}, tmp / HEAD_FILE)
            (tmp / "stance_head.json").write_text(json.dumps({
                "pooling": "mean", "head": HEAD_FILE, "labels": list(LABELS),
                "usage": "logits = head(mean of last_hidden_state over attention_mask); softmax gives label order"},
                indent=2) + "\n", encoding="utf-8")
        return directory
