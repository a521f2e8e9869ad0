import json
import subprocess
import sys

import numpy as np
import pytest

import stance
import stance.models
from stance import LABELS
from stance.models.manifest import ModelFormatError


def test_import_stance_is_light():
    code = "import sys, stance; heavy = [m for m in ('torch', 'transformers', 'sklearn', 'datasets') if m in sys.modules]; print(heavy)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_tfidf_contract_save_load_roundtrip(tmp_path, tiny_data):
    from stance.models.tfidf import TfidfStance

    texts, labels = tiny_data
    model = TfidfStance(search=True, cv=3).fit(texts, labels)
    assert model.best_params_ and model.search_["cv_folds"] == 3
    proba = model.predict_proba(texts[:7])
    assert proba.shape == (7, 5) and np.allclose(proba.sum(axis=1), 1)
    assert model.predict(texts[:7]) == [LABELS[i] for i in proba.argmax(1)]
    model.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["labels"] == list(LABELS) and manifest["kind"] == "tfidf" and manifest["format_version"] == 1
    assert (tmp_path / "m" / "README.md").read_text().startswith("---\n")
    again = stance.load(tmp_path / "m")
    assert np.allclose(again.predict_proba(texts[:7]), proba)
    top = again.top_features(3)
    assert set(top) == set(LABELS) and all(len(v) == 3 for v in top.values())


def test_fit_rejects_bad_labels_naming_index(tiny_data):
    from stance.models.tfidf import TfidfStance

    texts, labels = tiny_data
    with pytest.raises(ValueError, match=r"labels\[2\] is 'pro-un'.*allowed labels are pro-UN"):
        TfidfStance(search=False).fit(texts[:3], labels[:2] + ["pro-un"])


def test_manifest_with_other_labels_or_newer_format_is_refused(tmp_path, tiny_data):
    from stance.models.tfidf import TfidfStance

    texts, labels = tiny_data
    TfidfStance(search=False).fit(texts, labels).save(tmp_path / "m")
    path = tmp_path / "m" / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "labels": ["a", "b"]}))
    with pytest.raises(ModelFormatError, match="retrain"):
        stance.load(tmp_path / "m")
    path.write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(ModelFormatError, match="upgrade stance"):
        stance.load(tmp_path / "m")


def test_atomic_replace_keeps_previous_and_rollback_restores(tmp_path, tiny_data):
    from stance.models.store import resolve_model_dir, rollback
    from stance.models.tfidf import TfidfStance

    texts, labels = tiny_data
    TfidfStance(search=False, C=1.0).fit(texts, labels).save(tmp_path / "m")
    TfidfStance(search=False, C=30.0).fit(texts, labels).save(tmp_path / "m")
    assert stance.load(tmp_path / "m").C == 30.0 and (tmp_path / "m.prev").is_dir()
    rollback(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "manifest.json").read_text())["training"]["params"]["C"] == 1.0
    # a crash between the two renames leaves only .prev: it is found and loads
    (tmp_path / "m").rename(tmp_path / "gone")
    assert resolve_model_dir(tmp_path / "m") == tmp_path / "m.prev"


def test_predict_api_shapes_and_errors(tiny_data):
    from stance.models.tfidf import TfidfStance

    model = TfidfStance(search=False).fit(*tiny_data)
    one = stance.predict("The Security Council should authorise a peacekeeping force.", model=model)
    assert one.label in LABELS and list(one.probabilities) == list(LABELS) and one.model == "tfidf"
    assert abs(sum(one.probabilities.values()) - 1) < 1e-9
    many = stance.predict(["NATO should lead.", "We go alone."], model=model)
    assert len(many) == 2
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str, got int"):
        stance.predict(["ok", 3], model=model)
    with pytest.raises(ValueError, match="empty"):
        stance.predict("   ", model=model)
    with pytest.raises(ValueError, match="unknown model 'bert'"):
        stance.predict("x y", model="bert")


def test_analyze_splits_long_text_with_offsets(tiny_data):
    from stance.models.tfidf import TfidfStance

    model = TfidfStance(search=False).fit(*tiny_data)
    text = "The UN must lead. NATO should help.\nWashington will act alone."
    out = stance.analyze(text, model=model)
    assert [text[p.start:p.end] for p in out] == ["The UN must lead.", "NATO should help.", "Washington will act alone."]


def test_shipped_default_model_predicts_without_training():
    p = stance.predict("The United Nations should lead the reconstruction of Iraq.")
    assert p.label in LABELS and p.model in stance.models.SHIPPED_NAMES


def test_predict_file_streams_jsonl(tmp_path, tiny_data):
    from stance.cli.predict import predict_file
    from stance.models.tfidf import TfidfStance

    model = TfidfStance(search=False).fit(*tiny_data)
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "NATO should lead the force."}\n\n{bad json\n{"text": "The UN must act."}\n', encoding="utf-8")
    done, errors = predict_file(src, tmp_path / "out.jsonl", model=model, batch_size=1, progress=False)
    rows = [json.loads(l) for l in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert (done, errors) == (2, 1)
    assert rows[0]["id"] == 1 and rows[1] == {"line": 3, "error": "malformed JSON: Expecting property name enclosed in double quotes at column 2"}
    assert rows[2]["line"] == 4 and rows[2]["label"] in LABELS


def test_saves_remove_temporaries_left_by_killed_saves(tmp_path):
    import os
    import time

    from stance.atomic import STALE_SECONDS, atomic_dir, atomic_write_text

    old_dir, fresh_dir = tmp_path / ".m.abc.tmp", tmp_path / ".m.def.tmp"
    old_file = tmp_path / ".f.jsonl.xyz.tmp"
    for d in (old_dir, fresh_dir):
        d.mkdir()
    old_file.write_text("half")
    past = time.time() - STALE_SECONDS - 10
    for p in (old_dir, old_file):
        os.utime(p, (past, past))
    with atomic_dir(tmp_path / "m") as tmp:
        (tmp / "x").write_text("1")
    atomic_write_text(tmp_path / "f.jsonl", "{}\n")
    assert not old_dir.exists() and not old_file.exists()
    assert fresh_dir.exists()  # could be another process's save in progress: left alone
    assert (tmp_path / "m" / "x").read_text() == "1"
