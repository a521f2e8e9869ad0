"""The int8 predict path: built once, checked against fp32, cached, used without the torch network,
refused when it disagrees, rebuilt when damaged. A tiny MiniLM stands in (given a recipe here);
the shipped mpnet default is checked in the slow test at the end."""

import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from stance.models import int8
from stance.models.finetuned import FineTunedStance

pytest.importorskip("onnxruntime")
TEXTS = ["The Security Council must authorise the mission.", "NATO allies should lead the force.",
         "We will act alone if we must.", "Aid rarely arrives.", "The talks resume on Monday."]


DYNAMIC = {"scheme": "dynamic", "per_channel": True, "reduce_range": True, "fp32_nodes": [r"layer\.[5]/output/dense/MatMul$"]}


SCHEMES = {"per_token": int8.PER_TOKEN, "blockwise": int8.BLOCKWISE, "dynamic": DYNAMIC}


@pytest.fixture(params=list(SCHEMES))
def recipe(request, monkeypatch, home):
    monkeypatch.setenv("STANCE_RUNTIME", "auto")
    monkeypatch.setitem(int8.RECIPES, "minilm", SCHEMES[request.param])
    monkeypatch.setattr(int8, "MIN_AGREEMENT", 0.8)  # the tiny model's near-even probabilities flip easily
    return request.param


@pytest.mark.slow
def test_int8_copy_is_built_checked_cached_and_used_without_torch(tiny_transformer, recipe):
    import onnx

    model, directory = tiny_transformer
    first = FineTunedStance.load(directory)
    assert first.runtime_ is not None
    target = int8.copy_dir(directory, "minilm")
    info = json.loads((target / int8.BUILD_FILE).read_text())
    ops = {n.op_type for n in onnx.load(str(target / int8.MODEL_FILE)).graph.node}
    if recipe == "per_token":
        assert info["quantization"] == int8.PER_TOKEN and info["fp32_nodes"] == []
        assert "MatMulInteger" in ops and "MatMul" in ops and "DynamicQuantizeLinear" not in ops  # attention stays fp32
    elif recipe == "blockwise":
        assert info["quantization"] == int8.BLOCKWISE and info["fp32_nodes"] == [] and "MatMulNBits" in ops
    else:
        assert info["fp32_nodes"] == ["/encoder/encoder/layer.5/output/dense/MatMul"] and "MatMulInteger" in ops
    assert info["probe_agreement"] >= int8.MIN_AGREEMENT and info["probe_sentences"] > 100
    built_at = (target / int8.MODEL_FILE).stat().st_mtime_ns
    again = FineTunedStance.load(directory)
    assert again.runtime_ is not None and again.net_ is None  # the torch network is never built
    assert (target / int8.MODEL_FILE).stat().st_mtime_ns == built_at
    fast, slow = again.predict_proba(TEXTS), model.predict_proba(TEXTS)
    assert fast.shape == slow.shape and np.allclose(fast.sum(axis=1), 1)
    assert np.abs(fast - slow).max() < 0.1
    if recipe != "dynamic":  # activations quantized per token: a sentence's answer hardly depends on its batch
        assert np.allclose(again.predict_proba(TEXTS[2:3]), fast[2:3], atol=1e-6)
        assert np.allclose(again.runtime_.predict_proba(TEXTS, batch_size=1), fast, atol=1e-3)


@pytest.mark.slow
def test_a_copy_that_disagrees_is_refused_and_torch_predicts(tiny_transformer, recipe, monkeypatch, caplog):
    model, directory = tiny_transformer
    monkeypatch.setattr(int8, "MIN_AGREEMENT", 1.01)
    with caplog.at_level(logging.WARNING):
        loaded = FineTunedStance.load(directory)
    assert loaded.runtime_ is None and "predicting with torch instead" in caplog.text
    assert not int8.copy_dir(directory, "minilm").exists()
    assert np.allclose(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS), atol=1e-3)


@pytest.mark.slow
def test_a_damaged_copy_is_rebuilt(tiny_transformer, recipe, caplog):
    _, directory = tiny_transformer
    FineTunedStance.load(directory)
    target = int8.copy_dir(directory, "minilm")
    (target / int8.MODEL_FILE).write_bytes(b"not an onnx graph")
    with caplog.at_level(logging.WARNING):
        loaded = FineTunedStance.load(directory)
    assert "building it again" in caplog.text and loaded.runtime_ is not None
    assert (target / int8.MODEL_FILE).stat().st_size > 1000


def test_an_unknown_scheme_is_refused(tmp_path):
    with pytest.raises(ValueError, match="scheme is 'static': allowed values are per_token, blockwise, dynamic"):
        int8.quantize(tmp_path / "fp32.onnx", tmp_path / "int8.onnx", {"scheme": "static"})


def test_runtime_choice_is_checked(monkeypatch):
    monkeypatch.setenv("STANCE_RUNTIME", "torch")
    assert not int8.wanted("mpnet")
    monkeypatch.setenv("STANCE_RUNTIME", "gpu")
    with pytest.raises(ValueError, match="STANCE_RUNTIME is 'gpu': allowed values are auto, torch"):
        int8.wanted("mpnet")


@pytest.mark.slow
def test_shipped_default_predicts_through_int8_without_importing_torch(monkeypatch):
    """The shipped mpnet: its int8 copy passes the build check, then a fresh process predicts without torch.
    (Uses the suite's data home, so the copy is built once per run.)"""
    from stance.models.store import model_path

    monkeypatch.setenv("STANCE_RUNTIME", "auto")
    model = FineTunedStance.load(model_path("mpnet"))
    assert model.runtime_ is not None
    code = ("import sys, stance; p = stance.predict('Forget the UN; we should go in ourselves.', model='mpnet'); "
            "print(p.label, 'torch' in sys.modules)")
    env = {**os.environ, "STANCE_RUNTIME": "auto"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    label, torch_loaded = out.stdout.split()
    assert label == model.predict(["Forget the UN; we should go in ourselves."])[0] and torch_loaded == "False"
