"""The fine-tuned transformer (MiniLM + LoRA): training path, safe save/load, export to plain transformers.

Tiny data and one epoch: these tests check the code paths, not the quality.
"""

import json

import numpy as np
import pytest

import stance
from stance import LABELS
from stance.models.manifest import ModelFormatError


@pytest.fixture(scope="module")
def trained(tiny_transformer, tiny_data):
    """The session's tiny transformer (conftest), its directory, and sentences to try it on."""
    model, path = tiny_transformer
    return model, path, tiny_data[0]


def test_adapter_is_small_and_safetensors_only(trained):
    _, path, _ = trained
    files = {p.name: p.stat().st_size for p in path.iterdir()}
    assert set(files) == {"adapter_model.safetensors", "adapter_config.json", "head.safetensors", "manifest.json", "README.md"}
    assert files["adapter_model.safetensors"] < 5 * 2**20
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["kind"] == "minilm" and manifest["base_model"]["encoder"] == "minilm"
    assert manifest["id2label"] == {str(i): label for i, label in enumerate(LABELS)}


def test_load_reproduces_predictions(trained):
    model, path, texts = trained
    loaded = stance.load(path)
    assert np.allclose(loaded.predict_proba(texts[:10]), model.predict_proba(texts[:10]), atol=1e-5)
    p = stance.predict(texts[0], model=loaded)
    assert p.model == "minilm" and list(p.probabilities) == list(LABELS)


def test_long_input_is_truncated_not_an_error(trained):
    model, _, _ = trained
    p = stance.predict("The United Nations should lead. " * 3000, model=model)
    assert p.label in LABELS


def test_different_base_model_is_refused(trained, tmp_path):
    import shutil

    _, path, _ = trained
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["base_model"]["sha256"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFormatError, match="other minilm weights"):
        stance.load(copy)


def test_export_reproduces_predictions_with_plain_transformers(trained, tmp_path):
    """The exported directory is a plain encoder + head: transformers and safetensors alone give the same answer."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    model, path, texts = trained
    out = stance.load(path).export(tmp_path / "hf")
    tok, enc = AutoTokenizer.from_pretrained(out), AutoModel.from_pretrained(out).eval()
    head = load_file(out / "head.safetensors")
    assert enc.config.id2label == dict(enumerate(LABELS))
    batch = tok(texts[:3], padding=True, truncation=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = enc(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        proba = torch.softmax(pooled @ head["weight"].T + head["bias"], dim=-1).numpy()
    assert np.allclose(proba, model.predict_proba(texts[:3]), atol=1e-4)


def test_name_swaps_each_epoch_change_only_sentences_that_name_a_place():
    import random

    from stance.models.finetuned import FineTunedStance

    texts = ["France must act alone in Mali.", "The Security Council should decide.", "Kenya asked NATO for help."]
    model = FineTunedStance(name_swap_prob=1.0)
    swapped = model._name_swapped(texts, random.Random(0))
    assert swapped[1] == texts[1] and swapped[0] != texts[0] and swapped[2] != texts[2]
    assert " must act alone in " in swapped[0] and "France" not in swapped[0] and "Mali" not in swapped[0]
    assert FineTunedStance(name_swap_prob=0.0)._name_swapped(texts, random.Random(0)) is texts


@pytest.mark.parametrize("params, message", [({"precision": "fp8"}, "precision 'fp8' is not one of fp32, bf16"),
                                             ({"name_swap_prob": 1.5}, "'name_swap_prob' is 1.5, outside 0.0..1.0")])
def test_training_settings_are_checked(params, message, tiny_data):
    from stance.models.finetuned import FineTunedStance

    with pytest.raises(ModelFormatError, match=message):
        FineTunedStance(encoder="minilm", **params).fit(*tiny_data)


@pytest.mark.slow
def test_bf16_training_with_name_swaps_runs_and_saves(tiny_data, tmp_path):
    """The mpnet default's training switches (bf16 autocast, on-the-fly name swaps) on the tiny model."""
    from stance.models.finetuned import FineTunedStance

    texts, labels = tiny_data
    model = FineTunedStance(encoder="minilm", epochs=1, max_length=32, precision="bf16", name_swap_prob=0.5)
    model.fit(texts[:32], labels[:32])
    assert all(np.isfinite(model.loss_curve_)) and len(model.loss_curve_) == 2
    loaded = stance.load(model.save(tmp_path / "m"))
    assert loaded.get_params()["precision"] == "bf16"
    assert np.allclose(loaded.predict_proba(texts[:3]), model.predict_proba(texts[:3]), atol=1e-4)
