"""Issue 7 hardening: broken and hostile model directories.

Every damaged or tampered model directory must be refused by `stance.load(path)`
with a ModelFormatError (a ValueError) whose message says what is wrong -- never
a crash from torch/safetensors/skops/scikit-learn, never a half-working model,
and never code execution: each pickle payload below would create a marker file
if anything unpickled it, and every test asserts the marker does not exist.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

import stance
from stance.models.manifest import FORMAT_VERSION, MANIFEST, ModelFormatError


class Payload:
    """Unpickling this opens (creates) `marker`: proof that something unpickled the file."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


class Custom:
    """A class of this test module: not a type skops trusts."""

    def fit(self, X, y=None):
        return self


def payload(marker: Path) -> bytes:
    return pickle.dumps({"weights": Payload(marker)}, protocol=4)


def test_the_pickle_payload_is_live(tmp_path):
    """Control: the payload really does create its marker when unpickled, so the tests below are not vacuous."""
    marker = tmp_path / "control-marker"
    pickle.loads(payload(marker))
    assert marker.exists()


@pytest.fixture(scope="module")
def tfidf_dir(tiny_data, tmp_path_factory):
    from stance.models.tfidf import TfidfStance

    return TfidfStance(search=False).fit(*tiny_data).save(tmp_path_factory.mktemp("tfidf-src") / "tfidf")


@pytest.fixture(scope="module")
def transformer_dir(tiny_transformer):
    return tiny_transformer[1]


def copy(src: Path, tmp_path: Path, name: str = "model") -> Path:
    dst = tmp_path / name
    shutil.copytree(src, dst)
    return dst


def edit_manifest(directory: Path, change) -> None:
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    change(manifest)
    (directory / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def refused(directory: Path, *words: str) -> str:
    """Load `directory`; it must raise ModelFormatError whose message contains every word."""
    with pytest.raises(ModelFormatError) as info:
        stance.load(directory)
    message = str(info.value)
    for word in words:
        assert word in message, f"{message!r} should mention {word!r}"
    return message


def skops_dump(obj, path: Path) -> list[str]:
    import skops.io as sio

    sio.dump(obj, path)
    return sio.get_untrusted_types(file=path)


# ---------------------------------------------------------------- both kinds

def test_intact_copies_load(home, tmp_path, tfidf_dir):
    """Control: an untouched copy loads and predicts, so each refusal below is down to the damage done."""
    model = stance.load(copy(tfidf_dir, tmp_path))
    assert stance.predict("The UN must act.", model=model).label in stance.LABELS


@pytest.fixture(params=["tfidf", pytest.param("transformer", marks=pytest.mark.slow)])
def model_dir(request, tmp_path):
    src = request.getfixturevalue(f"{request.param}_dir")
    return copy(src, tmp_path)


MANIFEST_DAMAGE = {
    # name: (change applied to the parsed manifest, words the error must contain)
    "other labels": (lambda m: m.update(labels=["for", "against"]), ["trained for labels", "retrain"]),
    "labels reordered": (lambda m: m.update(labels=list(reversed(m["labels"]))), ["trained for labels"]),
    "future format_version": (lambda m: m.update(format_version=FORMAT_VERSION + 1), ["newer", "upgrade stance"]),
    "format_version a string": (lambda m: m.update(format_version="1"), ["format_version", "positive integer"]),
    "unknown kind": (lambda m: m.update(kind="gpt"), ["unknown kind", "'gpt'"]),
    "kind a list": (lambda m: m.update(kind=["tfidf"]), ["'kind' must be a JSON string"]),
    "training a list": (lambda m: m.update(training=[]), ["'training' must be a JSON object"]),
    "params a list": (lambda m: m["training"].update(params=[1, 2]), ["'training.params' must be a JSON object"]),
}


@pytest.mark.parametrize("damage", list(MANIFEST_DAMAGE))
def test_damaged_manifest_is_refused(home, model_dir, damage):
    change, words = MANIFEST_DAMAGE[damage]
    edit_manifest(model_dir, change)
    refused(model_dir, *words)


MANIFEST_BYTES = {
    "invalid JSON": (b'{"format_version": 1, "kind": ', ["not valid JSON", "retrain"]),
    "not an object": (b"[1, 2, 3]", ["must hold a JSON object"]),
    "Latin-1 bytes": ('{"kind": "caf\u00e9"}'.encode("latin-1"), ["not valid JSON", "UnicodeDecodeError"]),
    "nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, ["not valid JSON"]),
    "5,000-digit integer": (b'{"format_version": ' + b"9" * 5000 + b"}", ["not valid JSON"]),
    "empty file": (b"", ["not valid JSON"]),
}


@pytest.mark.parametrize("damage", list(MANIFEST_BYTES))
def test_unparseable_manifest_is_refused(home, model_dir, damage):
    raw, words = MANIFEST_BYTES[damage]
    (model_dir / MANIFEST).write_bytes(raw)
    refused(model_dir, *words)


def test_missing_manifest_is_refused(home, model_dir):
    (model_dir / MANIFEST).unlink()
    refused(model_dir, "not a stance model directory", "manifest.json is missing")


def test_missing_directory_is_refused(home, tmp_path):
    refused(tmp_path / "nowhere", "no model directory", "stance train")


# ---------------------------------------------------------------- TF-IDF (skops)

def test_tfidf_missing_weights_is_refused(home, tmp_path, tfidf_dir):
    d = copy(tfidf_dir, tmp_path)
    (d / "model.skops").unlink()
    refused(d, "no model.skops", "retrain")


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "zip without schema", "schema nested deep"])
def test_tfidf_unreadable_skops_is_refused(home, tmp_path, tfidf_dir, damage):
    d = copy(tfidf_dir, tmp_path)
    path = d / "model.skops"
    raw = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("schema.json" if damage == "schema nested deep" else "other.txt", "[" * 50_000 + "]" * 50_000)
    refused(d, "not a readable skops file", "retrain")


def test_tfidf_skops_with_a_custom_class_is_refused(home, tmp_path, tfidf_dir):
    from sklearn.pipeline import Pipeline

    d = copy(tfidf_dir, tmp_path)
    good = stance.load(tfidf_dir).pipeline_
    untrusted = skops_dump(Pipeline([("tfidf", good.named_steps["tfidf"]), ("clf", Custom())]), d / "model.skops")
    assert any(t.endswith("Custom") for t in untrusted), untrusted  # skops itself reports the type
    refused(d, "not trusted", "Custom", "refusing to load")


def test_tfidf_skops_with_a_function_reference_is_refused(home, tmp_path, tfidf_dir):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    d = copy(tfidf_dir, tmp_path)
    good = stance.load(tfidf_dir).pipeline_
    hostile = Pipeline([("tfidf", FunctionTransformer(os.system)), ("clf", good.named_steps["clf"])])
    untrusted = skops_dump(hostile, d / "model.skops")
    assert any(t.endswith(".system") for t in untrusted), untrusted
    refused(d, "not trusted", "system")


def test_tfidf_pickle_dropped_in_as_model_skops_is_not_unpickled(home, tmp_path, tfidf_dir):
    d = copy(tfidf_dir, tmp_path)
    marker = tmp_path / "pwned-skops"
    (d / "model.skops").write_bytes(payload(marker))
    refused(d, "not a readable skops file")
    assert not marker.exists(), "loading unpickled the file"


def _tampered_pipeline(tfidf_dir, how: str):
    import copy as copy_module

    from stance.models.tfidf import _pipeline

    if how == "unfitted":
        return _pipeline()
    pipe = copy_module.deepcopy(stance.load(tfidf_dir).pipeline_)
    clf = pipe.named_steps["clf"]
    if how == "NaN weights":
        clf.coef_[:] = np.nan
    elif how == "infinite idf":
        pipe.named_steps["tfidf"].idf_ = np.full_like(pipe.named_steps["tfidf"].idf_, np.inf)
    elif how == "class ids out of range":
        clf.classes_ = np.array([0, 1, 2, 3, 9])
    elif how == "string classes":
        clf.classes_ = np.array(list("abcde"))
    elif how == "weights of the wrong shape":
        clf.coef_ = clf.coef_[:, :10]
    elif how == "not a pipeline":
        return clf
    return pipe


TAMPERED = {"unfitted": "unfitted", "NaN weights": "non-finite", "infinite idf": "non-finite",
            "class ids out of range": "not label ids", "string classes": "not label ids",
            "weights of the wrong shape": "cannot classify", "not a pipeline": "does not hold a TF-IDF pipeline"}


@pytest.mark.parametrize("how", list(TAMPERED))
def test_tfidf_trusted_types_but_unusable_pipeline_is_refused(home, tmp_path, tfidf_dir, how):
    """Only trusted types (skops loads it), but predict would crash or give NaN: refused at load."""
    d = copy(tfidf_dir, tmp_path)
    assert skops_dump(_tampered_pipeline(tfidf_dir, how), d / "model.skops") == []
    refused(d, TAMPERED[how])


def test_tfidf_manifest_param_of_the_wrong_type_is_refused(home, tmp_path, tfidf_dir):
    d = copy(tfidf_dir, tmp_path)
    edit_manifest(d, lambda m: m["training"]["params"].update(ngram_range="ab"))
    refused(d, "training param 'ngram_range'", "'ab'")


# ---------------------------------------------------------------- transformer (safetensors)

slow = pytest.mark.slow
ADAPTER = "adapter_model.safetensors"


@slow
def test_transformer_intact_copy_loads(home, tmp_path, transformer_dir):
    model = stance.load(copy(transformer_dir, tmp_path))
    assert stance.predict("The UN must act.", model=model).label in stance.LABELS


@slow
def test_transformer_missing_weights_is_refused(home, tmp_path, transformer_dir):
    d = copy(transformer_dir, tmp_path)
    (d / ADAPTER).unlink()
    refused(d, f"no {ADAPTER}", "retrain")


@slow
@pytest.mark.parametrize("damage", ["truncated", "header only", "8-byte header length of 2**64-1", "empty"])
def test_transformer_unreadable_safetensors_is_refused(home, tmp_path, transformer_dir, damage):
    d = copy(transformer_dir, tmp_path)
    raw = (d / ADAPTER).read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    broken = {"truncated": raw[: len(raw) // 2], "header only": raw[: 8 + header_len],
              "8-byte header length of 2**64-1": b"\xff" * 8 + b"{}", "empty": b""}[damage]
    (d / ADAPTER).write_bytes(broken)
    refused(d, "not a valid safetensors file", "retrain")


@slow
def test_transformer_pickle_dropped_in_as_safetensors_is_not_unpickled(home, tmp_path, transformer_dir):
    d = copy(transformer_dir, tmp_path)
    marker = tmp_path / "pwned-safetensors"
    (d / ADAPTER).write_bytes(payload(marker))
    refused(d, "not a valid safetensors file")
    assert not marker.exists(), "loading unpickled the file"


@slow
def test_transformer_pickle_adapter_bin_beside_missing_safetensors_is_not_unpickled(home, tmp_path, transformer_dir):
    """peft/transformers would fall back to adapter_model.bin (torch.load = pickle); stance must not."""
    d = copy(transformer_dir, tmp_path)
    marker = tmp_path / "pwned-bin"
    (d / ADAPTER).unlink()
    for name in ("adapter_model.bin", "pytorch_model.bin"):
        (d / name).write_bytes(payload(marker))
    refused(d, f"no {ADAPTER}")
    assert not marker.exists(), "loading unpickled adapter_model.bin"


def _edit_tensors(directory: Path, change) -> None:
    from safetensors.torch import load_file, save_file

    state = load_file(directory / ADAPTER)
    change(state)
    save_file(state, directory / ADAPTER, metadata={"format": "pt"})


@slow
@pytest.mark.parametrize("damage", ["wrong shape", "NaN", "infinity", "no tensors", "extra tensor"])
def test_transformer_tampered_tensors_are_refused(home, tmp_path, transformer_dir, damage):
    import torch

    d = copy(transformer_dir, tmp_path)

    def change(state):
        key = next(k for k in state if "lora_A" in k)
        if damage == "wrong shape":
            state[key] = torch.zeros(3, 3)
        elif damage == "NaN":
            state[key] = torch.full_like(state[key], float("nan"))
        elif damage == "infinity":
            state[key][0, 0] = float("inf")
        elif damage == "no tensors":
            state.clear()
        else:
            state["base_model.model.backdoor.weight"] = torch.zeros(2)

    _edit_tensors(d, change)
    words = {"wrong shape": ["does not match the adapter"], "NaN": ["non-finite"], "infinity": ["non-finite"],
             "no tensors": ["does not match the adapter"], "extra tensor": ["does not match the adapter"]}
    refused(d, *words[damage])


@slow
def test_transformer_manifest_lora_rank_that_does_not_fit_the_weights_is_refused(home, tmp_path, transformer_dir):
    d = copy(transformer_dir, tmp_path)
    edit_manifest(d, lambda m: m["training"]["params"].update(lora_r=4))
    refused(d, "does not match the adapter its manifest describes")


@slow
@pytest.mark.parametrize("param,value,words", [
    ("lora_r", "8", ["training param 'lora_r'", "'8'"]),
    ("max_length", -5, ["'max_length'", "outside 8..512"]),
    ("max_length", 10**6, ["'max_length'", "outside 8..512"]),
    ("class_weighted", "yes", ["training param 'class_weighted'"]),
    ("learning_rate", None, ["training param 'learning_rate'"]),
    ("lora_dropout", 5.0, ["'lora_dropout'", "outside 0.0..0.9"]),
    ("lora_targets", "everything", ["lora_targets 'everything'"]),
    ("encoder", "gpt2", ["encoder 'gpt2'"]),
])
def test_transformer_manifest_param_out_of_range_or_wrong_type_is_refused(home, tmp_path, transformer_dir,
                                                                         param, value, words):
    d = copy(transformer_dir, tmp_path)
    edit_manifest(d, lambda m: m["training"]["params"].update({param: value}))
    refused(d, *words)


@slow
@pytest.mark.parametrize("base", [{"name": "x", "sha256": "0" * 64}, {}, None, "a string"])
def test_transformer_different_base_model_is_refused(home, tmp_path, transformer_dir, base):
    d = copy(transformer_dir, tmp_path)
    edit_manifest(d, lambda m: m.update(base_model=base))
    refused(d, "other minilm weights", "retrain")
