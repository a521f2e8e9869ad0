"""Issue 10: retraining that tells the truth, and the defects found under faults and bad input.

One test (or more) per numbered item of the issue; each says what it tries.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import stance
from stance.labels import LABELS
from stance.models.manifest import ModelFormatError

CLI = [sys.executable, "-m", "stance"]


def _cli(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "STANCE_HOME": str(home), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def tfidf_small(tmp_path_factory, tiny_data):
    from stance.models.tfidf import TfidfStance

    return TfidfStance(search=False).fit(*tiny_data).save(tmp_path_factory.mktemp("tfidf") / "tfidf")





# 1. the first train claims no .prev; rollback can return to the shipped model
def test_first_train_claims_no_previous_and_rollback_can_return_to_shipped(home):
    res = _cli(home, "train", "--model", "tfidf", "--data", "seeds", "--no-compare", "--quiet")
    assert res.returncode == 0, res.stderr
    assert "previous kept" not in res.stdout and not (home / "models" / "tfidf.prev").exists()
    res = _cli(home, "rollback", "--model", "tfidf")
    assert res.returncode == 1 and "--to-shipped" in res.stderr and "Traceback" not in res.stderr
    res = _cli(home, "rollback", "--model", "tfidf", "--to-shipped")
    assert res.returncode == 0 and not (home / "models" / "tfidf").exists()
    assert stance.api.get_model("tfidf").n_train_ > 1000  # the shipped model again


# 2. a rollback killed after its first rename, run again, keeps both models
def test_rollback_killed_after_first_rename_finishes_instead_of_deleting(tmp_path, tiny_data):
    from stance.models.store import rollback
    from stance.models.tfidf import TfidfStance

    target = tmp_path / "tfidf"
    old = TfidfStance(search=False, C=1.0).fit(*tiny_data).save(target)
    time.sleep(1.1)
    TfidfStance(search=False, C=2.0).fit(*tiny_data).save(target)  # old becomes tfidf.prev
    newest = json.loads((target / "manifest.json").read_text())["training"]["params"]["C"]
    os.replace(target, target.with_name("tfidf.swap"))  # the kill: after rollback's first rename
    restored = rollback(target)
    assert restored == old
    assert json.loads((target / "manifest.json").read_text())["training"]["params"]["C"] == 1.0
    assert json.loads((tmp_path / "tfidf.prev" / "manifest.json").read_text())["training"]["params"]["C"] == newest
    assert not (tmp_path / "tfidf.swap").exists()


# 3. suggest keeps the guess apart and leaves label empty; add refuses rows without a label, naming lines
def test_unreviewed_suggestions_cannot_become_training_labels(home, tfidf_small):
    doc = home / "doc.txt"
    doc.write_text("NATO should lead the force. The UN has failed again. The weather was fine. Paris will go it alone.")
    out = home / "s.jsonl"
    res = _cli(home, "suggest", str(doc), "--n", "3", "--out", str(out), "--model", str(tfidf_small))
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and all(r["label"] == "" and r["guess"] in LABELS for r in rows)
    res = _cli(home, "add", "--file", str(out))
    assert res.returncode == 1 and f"{out}:1:" in res.stderr and "label is empty" in res.stderr
    assert not (home / "corpus" / "user.jsonl").exists()


# 4. `stance models` says what predict uses; train --set-default changes it
def test_models_lists_every_model_and_set_default_switches(home):
    res = _cli(home, "models", "--json")
    assert res.returncode == 0, res.stderr
    listing = json.loads(res.stdout)
    shipped = {r["model"] for r in listing["models"] if r["origin"] == "shipped"}
    assert "tfidf" in shipped and sum(r["default"] for r in listing["models"]) == 1
    assert all(r["n_train"] and r["trained_at"] and r["data_sha256"] for r in listing["models"])
    res = _cli(home, "train", "--model", "tfidf", "--data", "seeds", "--no-compare", "--quiet", "--set-default")
    assert res.returncode == 0, res.stderr
    listing = json.loads(_cli(home, "models", "--json").stdout)
    (default,) = [r for r in listing["models"] if r["default"]]
    assert default["model"] == "tfidf" and default["origin"] == "user"
    assert json.loads(_cli(home, "predict", "--json", "NATO should lead.").stdout)["model"] == "tfidf"


# 5. an empty user model directory is not silently replaced by the shipped model
def test_empty_user_model_directory_is_reported(home, caplog):
    (home / "models" / "tfidf").mkdir(parents=True)
    with caplog.at_level("WARNING"):
        from stance.models.store import model_path

        path = model_path("tfidf")
    assert path.parent != home / "models" and "ignoring the damaged user model" in caplog.text


# 6. each argument is one text; stdout JSONL without --out; CSV by extension; progress counts sentences
def test_predict_each_argument_stdout_jsonl_and_csv(home, tfidf_small):
    res = _cli(home, "predict", "--json", "--model", str(tfidf_small), "NATO should lead.", "The UN must act.")
    assert [json.loads(line)["text"] for line in res.stdout.splitlines()] == ["NATO should lead.", "The UN must act."]
    src = home / "in.txt"
    src.write_text("NATO should lead.\nThe UN must act.\nWe go alone.\n")
    res = _cli(home, "predict", "--file", str(src), "--model", str(tfidf_small))
    assert res.returncode == 0 and len([json.loads(x) for x in res.stdout.splitlines()]) == 3
    assert "3/3" in res.stderr and "sent" in res.stderr  # the bar counts sentences
    res = _cli(home, "predict", "--file", str(src), "--out", str(home / "o.csv"), "--model", str(tfidf_small))
    lines = (home / "o.csv").read_text().splitlines()
    assert res.returncode == 0 and lines[0].startswith("line,id,text,label,p_pro-UN") and len(lines) == 4


# 7. two runs writing the same --out never mix their records
def test_concurrent_predict_runs_leave_one_whole_result(home, tfidf_small):
    src = home / "in.txt"
    src.write_text("".join(f"Sentence number {i} about NATO and the UN.\n" for i in range(3000)))
    out = home / "out.jsonl"
    env = {**os.environ, "STANCE_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    procs = [subprocess.Popen([*CLI, "predict", "--quiet", "--file", str(src), "--out", str(out), "--model",
                               str(tfidf_small)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    assert all(p.wait(300) == 0 for p in procs)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in records] == list(range(1, 3001))
    assert not list(home.glob(".out.jsonl.*"))


# 8. a lone surrogate in a JSONL line is an error record for that line, not an aborted run
def test_lone_surrogate_line_becomes_an_error_record(home, tfidf_small):
    src = home / "in.jsonl"
    src.write_text('{"text": "NATO should lead."}\n{"text": "bad \\ud800 text"}\n{"text": "The UN must act."}\n')
    out = home / "out.jsonl"
    res = _cli(home, "predict", "--quiet", "--file", str(src), "--out", str(out), "--model", str(tfidf_small))
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert res.returncode == 1 and [r["line"] for r in records] == [1, 2, 3]
    assert "surrogate" in records[1]["error"] and records[0]["label"] in LABELS
    assert not list(home.glob(".out.jsonl.*"))


# 9. bad input to `stance add`: huge CSV field, lone surrogate, invisible-only and over-long sentences
@pytest.mark.parametrize("make, message", [
    (lambda p: p.with_suffix(".csv").write_text("text,label\n" + "x" * 140_000 + ",none\n"), "unreadable CSV"),
    (lambda p: p.write_text('{"text": "a \\ud800 b", "label": "none"}\n'), "lone surrogate"),
    (lambda p: p.write_text('{"text": "\\u200b\\u200b", "label": "none"}\n'), "invisible characters"),
    (lambda p: p.write_text('{"text": "\\ufeff", "label": "none"}\n'), "invisible characters"),
    (lambda p: p.write_text(json.dumps({"text": "word " * 500, "label": "none"}) + "\n"), "at most 2,000"),
])
def test_add_refuses_bad_sentences_with_their_line(home, make, message):
    path = home / "in.jsonl"
    make(path)
    path = path.with_suffix(".csv") if path.with_suffix(".csv").exists() else path
    res = _cli(home, "add", "--file", str(path))
    assert res.returncode == 1 and message in res.stderr and f"{path}:" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and not (home / "corpus" / "user.jsonl").exists()


# 10. out-of-range configuration and non-finite weights are refused; no NaN probability is ever returned
@pytest.mark.parametrize("alpha", [1e30, -16, float("nan")])
def test_transformer_manifest_alpha_out_of_range_is_refused(home, tmp_path, tiny_transformer, alpha):
    d = tmp_path / "m"
    shutil.copytree(tiny_transformer[1], d)
    manifest = json.loads((d / "manifest.json").read_text())
    manifest["training"]["params"]["lora_alpha"] = alpha
    (d / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFormatError):
        stance.load(d)


def test_tfidf_huge_weights_never_give_nan(home, tmp_path, tiny_data):
    from stance.models.tfidf import TfidfStance

    model = TfidfStance(search=False).fit(*tiny_data)
    model.pipeline_.named_steps["clf"].coef_[0, :] = 1.7e308  # the decision function overflows to inf
    with pytest.raises(ModelFormatError, match="invalid probabilities"):  # the last guard, in predict itself
        stance.predict("NATO should lead.", model=model)
    with pytest.raises(ModelFormatError, match="huge"):  # and such a file is refused on load
        stance.load(model.save(tmp_path / "tfidf"))


# 11. a skops file of trusted types but a catastrophically backtracking token_pattern is refused at once
def test_tfidf_backtracking_token_pattern_is_refused(home, tmp_path, tiny_data):
    from stance.models.tfidf import TfidfStance

    model = TfidfStance(search=False).fit(*tiny_data)
    model.pipeline_.named_steps["tfidf"].token_pattern = r"(a+)+$"
    d = model.save(tmp_path / "tfidf")
    start = time.perf_counter()
    with pytest.raises(ModelFormatError, match="token_pattern"):
        stance.load(d)
    assert time.perf_counter() - start < 30
