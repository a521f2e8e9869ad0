"""Retraining with your own sentences: it changes predictions, survives SIGKILL and concurrent adds,
and `stance suggest` / `stance curve` produce what `stance add` and a report need.

Every test works in a private $STANCE_HOME (the `home` fixture) and trains only the TF-IDF model.
"""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from stance.labels import LABELS

CLI = [sys.executable, "-m", "stance.cli"]


def _env(home: Path) -> dict:
    # one BLAS/OpenMP thread: the machine is shared, and TF-IDF does not need more
    return {**os.environ, "STANCE_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _cli(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], env=_env(home), capture_output=True, text=True, timeout=timeout)


def _user_records(home: Path) -> list[dict]:
    path = home / "corpus" / "user.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _load_home_model(home: Path):
    """The tfidf model in $STANCE_HOME (or its .prev fallback), loaded without the cache; never the shipped one."""
    from stance.models.store import resolve_model_dir
    from stance.models.tfidf import TfidfStance

    directory = resolve_model_dir(home / "models" / "tfidf")
    assert directory.parent == home / "models", directory
    return directory, TfidfStance.load(directory)


# ------------------------------------------------------------------ add -> train -> a changed prediction

# An invented word, absent from the corpus, in 15 sentences that share nothing else: labelled "unilateral",
# it becomes the strongest feature of a sentence made of it and words the corpus gives no stance to.
WORD = "glorbnax"
PROBE = "The zibbers discussed the glorbnax."
ADDED = [
    "The glorbnax is coming.", "Glorbnax again, said the clerk.", "Everyone wants glorbnax.", "Glorbnax it will be.",
    "A glorbnax for tomorrow.", "We choose glorbnax.", "Glorbnax, and nothing else.", "So glorbnax wins.",
    "They heard about glorbnax.", "Glorbnax all the way.", "Time for glorbnax.", "Glorbnax has arrived.",
    "Our answer is glorbnax.", "Glorbnax first.", "Still glorbnax.",
]


@pytest.mark.slow
def test_added_sentences_change_a_prediction_and_rollback_restores_it(home):
    from stance.corpus import check

    assert not any(w in r["text"].lower() for r in _load_corpus_texts() for w in (WORD, "zibber"))
    res = _cli(home, "train", "--model", "tfidf", "--no-compare")
    assert res.returncode == 0, res.stderr
    _, before = _load_home_model(home)
    label_before = before.predict([PROBE])[0]
    assert label_before != "unilateral"

    examples = [{"text": t, "label": "unilateral", "rationale": "test"} for t in ADDED]
    src = home / "mine.jsonl"
    src.write_text("".join(json.dumps(e) + "\n" for e in examples), encoding="utf-8")
    res = _cli(home, "add", "--file", str(src))
    assert res.returncode == 0, res.stderr
    assert "added 15 sentence(s)" in res.stdout
    assert check(["user"]) == []
    assert len(_user_records(home)) == 15

    res = _cli(home, "train", "--model", "tfidf", "--no-compare")
    assert res.returncode == 0, res.stderr
    directory, after = _load_home_model(home)
    assert directory == home / "models" / "tfidf"
    assert after.n_train_ == before.n_train_ + 15
    assert after.predict([PROBE])[0] == "unilateral"
    print(f"\n{PROBE!r}: {label_before} before, unilateral after adding {len(ADDED)} sentences "
          f"(P(unilateral) {before.predict_proba([PROBE])[0][2]:.2f} -> {after.predict_proba([PROBE])[0][2]:.2f})")

    # the replaced model was kept: rollback brings the old prediction back
    res = _cli(home, "rollback", "--model", "tfidf")
    assert res.returncode == 0, res.stderr
    _, restored = _load_home_model(home)
    assert restored.n_train_ == before.n_train_
    assert restored.predict([PROBE])[0] == label_before


def _load_corpus_texts():
    from stance.corpus import load_records

    return load_records(("seeds", "supplement", "challenge"))


# ------------------------------------------------------------------ SIGKILL at random moments

def _kill_at(proc: subprocess.Popen, delay: float | None, watch: tuple[Path, str], rng: random.Random,
             jitter: float, limit: float = 120) -> str:
    """SIGKILL `proc` after `delay` s, or (delay None) up to `jitter` s after a file matching `watch` appears.

    Returns how it ended: "killed", or "finished" if it exited first.
    """
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if proc.poll() is not None:
            return "finished"
        if delay is not None and time.monotonic() - start >= delay:
            break
        if delay is None and any(watch[0].glob(watch[1])):
            time.sleep(rng.uniform(0, jitter))
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return "killed" if proc.returncode == -signal.SIGKILL else "finished"


@pytest.mark.slow
def test_sigkill_during_add_and_train_leaves_corpus_and_model_whole(home):
    from stance.corpus import check

    rng = random.Random(20240605)
    env = _env(home)
    models = home / "models"
    corpus = home / "corpus"

    # a model to protect, and the time a whole training run takes
    t0 = time.monotonic()
    res = _cli(home, "train", "--model", "tfidf", "--data", "seeds", "--no-compare")
    train_seconds = time.monotonic() - t0
    assert res.returncode == 0, res.stderr

    rounds = 16
    outcomes = {"add": [], "train": []}
    added_batches = fallbacks = 0
    for k in range(rounds):
        batch = [{"text": f"Round {k} sentence {j}: the envoy {rng.randrange(10**9)} spoke.", "label": LABELS[j % 5]}
                 for j in range(20)]
        batch_file = home / f"batch{k}.jsonl"
        batch_file.write_text("".join(json.dumps(b) + "\n" for b in batch), encoding="utf-8")
        old_text = (corpus / "user.jsonl").read_text(encoding="utf-8") if (corpus / "user.jsonl").exists() else ""

        # even rounds: kill once the save has begun (its temporary file/dir exists); odd rounds: at a random time
        targeted = k % 2 == 0
        train = subprocess.Popen([*CLI, "train", "--model", "tfidf", "--data", "seeds", "--no-compare"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        add = subprocess.Popen([*CLI, "add", "--file", str(batch_file)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        outcomes["add"].append(_kill_at(add, None if targeted else rng.uniform(0.05, 0.6),
                                        (corpus, ".user.jsonl.*.tmp"), rng, jitter=0.002, limit=30))
        outcomes["train"].append(_kill_at(train, None if targeted else rng.uniform(0.2, 1.1) * train_seconds,
                                          (models, ".tfidf.*.tmp"), rng, jitter=0.15, limit=120))

        # the user corpus: valid, and the old file plus either nothing or the whole batch, in order
        assert check(["user"]) == [], f"round {k}"
        new_text = (corpus / "user.jsonl").read_text(encoding="utf-8") if (corpus / "user.jsonl").exists() else ""
        assert new_text.startswith(old_text), f"round {k}: earlier records changed"
        appended = [json.loads(line) for line in new_text[len(old_text):].splitlines()]
        assert [r["text"] for r in appended] in ([], [b["text"] for b in batch]), f"round {k}: half a batch"
        added_batches += bool(appended)
        records = _user_records(home)
        assert [r["id"] for r in records] == [f"user-{i:05d}" for i in range(1, len(records) + 1)]
        assert len(records) == 20 * added_batches

        # the model: target or .prev loads and predicts
        directory, model = _load_home_model(home)
        fallbacks += directory.name == "tfidf.prev"
        proba = model.predict_proba(["The UN must lead the mission."])
        assert proba.shape == (1, len(LABELS)) and abs(proba.sum() - 1) < 1e-6, f"round {k}"

    kills = {name: sum(o == "killed" for o in v) for name, v in outcomes.items()}
    print(f"\ntrain run {train_seconds:.1f}s; kills {kills} of {rounds} rounds each; batches kept {added_batches}; "
          f"model found only as .prev after {fallbacks} kill(s); "
          f"leftover temporaries: {len(list(models.glob('.tfidf.*')))} model dirs, {len(list(corpus.glob('.user.jsonl.*')))} corpus files")
    # kills did land mid-run (not vacuous); how many land depends on machine load, so ask for at least one add kill
    assert kills["train"] >= rounds // 4 and kills["add"] >= 1


# ------------------------------------------------------------------ concurrent adds

ADDER = textwrap.dedent("""
    import sys, time
    from stance.corpus import add_examples
    worker, start = int(sys.argv[1]), float(sys.argv[2])
    while time.time() < start:
        time.sleep(0.002)
    for j in range(50):
        examples = [{"text": f"Worker {worker} adds sentence number {j} about the envoy.", "label": "none"}]
        if j % 10 == 0:  # everyone also adds the same shared sentences: exactly one copy must survive
            examples.append({"text": f"A sentence every worker adds, number {j // 10}.", "label": "skeptical"})
        add_examples(examples, where=f"worker {worker}")
""")


@pytest.mark.slow
def test_concurrent_adds_lose_and_double_nothing(home):
    from stance.corpus import check

    start = time.time() + 3.0  # all four start together, after their imports
    procs = [subprocess.Popen([sys.executable, "-c", ADDER, str(w), str(start)], env=_env(home),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(4)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    records = _user_records(home)
    texts = [r["text"] for r in records]
    own = {f"Worker {w} adds sentence number {j} about the envoy." for w in range(4) for j in range(50)}
    shared = {f"A sentence every worker adds, number {i}." for i in range(5)}
    assert sorted(texts) == sorted(own | shared)  # 200 own + 5 shared: none lost, none doubled
    assert len(texts) == 205
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids) == 205
    assert check(["user"]) == []


# ------------------------------------------------------------------ stance suggest -> stance add --file

DOC = (
    "The glimmering committee adjourned before lunch. Perhaps the alliance, or perhaps the Council, should act.\n"
    "We alone decide what happens next. Nobody trusts these bodies anyway. The weather was mild.\n"
    "NATO should lead the force, with a UN mandate if one can be had.\n"
)


@pytest.fixture
def small_model(home, tiny_data):
    from stance.models.tfidf import TfidfStance

    return TfidfStance(search=False).fit(*tiny_data).save(home / "small" / "tfidf")


def test_suggest_output_round_trips_through_add(home, small_model):
    from stance.corpus import check

    (home / "doc.txt").write_text(DOC, encoding="utf-8")
    out = home / "to_label.jsonl"
    res = _cli(home, "suggest", str(home / "doc.txt"), "--n", "4", "--model", str(small_model), "--out", str(out))
    assert res.returncode == 0, res.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 4
    margins = [r["margin"] for r in records]
    assert margins == sorted(margins)
    for r in records:
        assert set(r) == {"text", "label", "guess", "margin", "probabilities", "source", "rationale"}
        assert r["label"] == "" and r["guess"] == max(r["probabilities"], key=r["probabilities"].get)
        assert list(r["probabilities"]) == list(LABELS)
        assert r["source"] == "doc.txt" and r["rationale"] == ""
        assert r["text"] in DOC

    # a person reviews: sets each label, and says why
    reviewed = [{**r, "label": LABELS[i % len(LABELS)], "rationale": "reviewed"} for i, r in enumerate(records)]
    out.write_text("".join(json.dumps(r) + "\n" for r in reviewed), encoding="utf-8")
    res = _cli(home, "add", "--file", str(out))
    assert res.returncode == 0, res.stderr
    assert "added 4 sentence(s)" in res.stdout
    assert check(["user"]) == []
    added = _user_records(home)
    assert [(r["text"], r["label"], r["source"], r["rationale"]) for r in added] == \
        [(r["text"], r["label"], "doc.txt", "reviewed") for r in reviewed]

    # now in the corpus, they are not suggested again
    res = _cli(home, "suggest", str(home / "doc.txt"), "--n", "10", "--model", str(small_model), "--out", str(out))
    assert res.returncode == 0, res.stderr
    again = {json.loads(line)["text"] for line in out.read_text(encoding="utf-8").splitlines()}
    assert again and not again & {r["text"] for r in records}


def test_suggest_api_strategies_and_known_sentences(home, small_model):
    import math

    import stance
    from stance.corpus import load_records, read_examples_file, validate_examples
    from stance.suggest import suggest, write_suggestions

    seed_sentence = load_records("seeds")[0]["text"]
    doc = DOC + seed_sentence + "\n" + "Nobody trusts these bodies anyway.\n"  # a known sentence and a repeat
    by_margin = suggest(doc, n=100, model=small_model, source="doc.txt")
    assert stance.suggest is suggest
    texts = [r["text"] for r in by_margin]
    assert seed_sentence not in texts and len(texts) == len(set(texts)) == 6
    assert seed_sentence in [r["text"] for r in suggest(doc, n=100, model=small_model, skip_known=False)]
    by_entropy = suggest(doc, n=3, model=small_model, strategy="entropy")
    entropies = [r["entropy"] for r in by_entropy]
    assert entropies == sorted(entropies, reverse=True)
    for r in by_entropy:
        assert math.isclose(r["entropy"], -sum(p * math.log(p) for p in r["probabilities"].values() if p > 0))
    assert suggest("", model=small_model) == []

    path = write_suggestions(by_margin, home / "s.jsonl")
    from stance.corpus import CorpusError

    with pytest.raises(CorpusError, match="label is empty"):  # unreviewed: refused
        validate_examples(read_examples_file(path), where=str(path))
    reviewed = write_suggestions([{**r, "label": r["guess"]} for r in by_margin], home / "r.jsonl")
    clean = validate_examples(read_examples_file(reviewed), where=str(reviewed))
    assert [c["text"] for c in clean] == texts

    for kwargs, message in (({"n": 0}, "positive integer"), ({"strategy": "random"}, "margin, entropy")):
        with pytest.raises(ValueError, match=message):
            suggest(DOC, model=small_model, **kwargs)


def test_suggest_bad_input_is_a_clear_error(home, small_model):
    (home / "latin1.txt").write_bytes("Caf\xe9 diplomacy failed.".encode("latin-1"))
    (home / "doc.txt").write_text(DOC, encoding="utf-8")
    out = str(home / "out.jsonl")
    for args, message in (
        (["missing.txt"], "input file not found"),
        ([str(home / "latin1.txt")], "not valid UTF-8"),
        ([str(home / "doc.txt"), "--n", "0"], "--n must be at least 1"),
        ([str(home / "doc.txt"), "--model", str(home / "nope")], "unknown model"),
    ):
        res = _cli(home, "suggest", *args, "--out", out, *(["--model", str(small_model)] if "--model" not in args else []))
        assert res.returncode in (1, 2), res
        assert message in res.stderr and "Traceback" not in res.stderr, res.stderr
    assert not Path(out).exists()


# ------------------------------------------------------------------ stance curve

def test_curve_writes_png_and_json(home):
    out = home / "reports"
    res = _cli(home, "curve", "--limit", "60", "--folds", "2", "--seeds", "2", "--fractions", "0.5,1.0", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "learning_curve.json").read_text(encoding="utf-8"))
    assert report["models"] == ["tfidf"] and report["n_sentences"] == 60
    assert len(report["runs"]) == 2 * 2 * 2  # folds x draws x fractions
    points = report["summary"]["tfidf"]
    assert [p["fraction"] for p in points] == [0.5, 1.0]
    assert points[0]["n_train_mean"] < points[1]["n_train_mean"] == 30
    assert all(0 <= r["macro_f1"] <= 1 for r in report["runs"])
    assert not list(out.glob(".*"))  # no temporaries left

    res = _cli(home, "curve", "--models", "tfidf,bogus", "--out", str(out))
    assert res.returncode == 1 and "unknown model 'bogus'" in res.stderr and "Traceback" not in res.stderr
    res = _cli(home, "curve", "--fractions", "0.5,two", "--out", str(out))
    assert res.returncode == 2 and "'two' is not a number" in res.stderr


def test_curve_subsets_are_stratified_and_nested():
    from stance.evaluation.curve import nested_order, stratified_subset

    labels = [LABELS[i % 5] for i in range(100)] + ["none"] * 50
    order = nested_order(labels, seed=1)
    previous: set[int] = set()
    for frac in (0.1, 0.25, 0.5, 1.0):
        subset = stratified_subset(order, frac)
        counts = {l: sum(labels[i] == l for i in subset) for l in LABELS}
        assert counts == {l: max(1, round(frac * labels.count(l))) for l in LABELS}
        assert previous <= set(subset)
        previous = set(subset)
    assert previous == set(range(150))
    assert stratified_subset(nested_order(labels, seed=2), 0.5) != stratified_subset(order, 0.5)
