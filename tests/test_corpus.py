import json
import subprocess
import sys

import pytest

from stance import LABELS
from stance.corpus import CORPUS_DIR, check, load, load_records, normalize


def test_shipped_corpus_passes_check():
    assert check() == []


def test_load_returns_dataset_with_canonical_classlabel():
    ds = load("seeds")
    assert ds.features["label"].names == list(LABELS)
    assert len(ds) == len(load_records("seeds")) > 250
    both = load("train")
    assert set(both["part"]) >= {"seeds", "supplement"}
    assert len(load(["seeds", "supplement", "writers"])) == len(both) - len(load_records("user"))
    assert set(both["part"]) >= {"writers"} and not set(both["part"]) & {"challenge", "outside"}  # test sets stay out


def test_every_seed_sentence_is_in_the_corpus_or_excluded_with_a_reason():
    from stance.corpus import SEEDS_DIR
    from stance.segment import split_sentences

    ids = {r["id"] for r in load_records("seeds")}
    excluded = [json.loads(l) for l in (CORPUS_DIR / "excluded.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(e["reason"] for e in excluded)
    ids |= {e["id"] for e in excluded}
    for path in SEEDS_DIR.glob("*.txt"):
        n = len(split_sentences(path.read_text(encoding="utf-8")))
        assert {f"{path.stem[:3]}-{i:03d}" for i in range(n)} <= ids


def test_supplement_size_and_balance():
    from collections import Counter

    counts = Counter(r["label"] for r in load_records("supplement"))
    assert sum(counts.values()) >= 1000 and min(counts[l] for l in LABELS) >= 150


def _corrupt(tmp_path, edit):
    lines = (CORPUS_DIR / "seeds.jsonl").read_text(encoding="utf-8").splitlines()
    edit(lines)
    path = tmp_path / "seeds.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("edit, line, message", [
    (lambda ls: ls.__setitem__(4, ls[4].replace('"label": "', '"label": "pro-EU', 1)), 5, "unknown label"),
    (lambda ls: ls.__setitem__(9, "{not json"), 10, "malformed JSON"),
    (lambda ls: ls.__setitem__(2, ls[1]), 3, "duplicate id"),
    (lambda ls: ls.__setitem__(6, json.dumps({**json.loads(ls[6]), "start": json.loads(ls[6])["start"] + 1})), 7, "offsets"),
    (lambda ls: ls.__setitem__(3, json.dumps({**json.loads(ls[3]), "text": "  "})), 4, "empty text"),
])
def test_check_reports_corrupted_records_with_line_numbers(tmp_path, edit, line, message):
    path = _corrupt(tmp_path, edit)
    problems = check(["seeds"], {"seeds": path})
    assert problems and problems[0].line == line and message in problems[0].message


def test_cli_check_exit_codes(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "stance.cli", "corpus", "check"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = _corrupt(tmp_path, lambda ls: ls.__setitem__(0, ls[0].replace('"label": "', '"label": "PRO', 1)))
    res = subprocess.run([sys.executable, "-m", "stance.cli", "corpus", "check", "--part", "seeds", "--file", str(bad)],
                         capture_output=True, text=True)
    assert res.returncode == 1 and f"{bad}:1:" in res.stderr and "unknown label" in res.stderr


def test_normalize_catches_quote_case_and_space_variants():
    assert normalize("The  U.N.\u2019s role") == normalize("the u.n.'s ROLE ")


def test_add_examples_validates_dedups_and_keeps_shipped_corpus(home):
    from stance.corpus import CorpusError, add_examples, part_path

    before = (CORPUS_DIR / "seeds.jsonl").read_bytes()
    seed_text = load_records("seeds")[0]["text"]
    report = add_examples([{"text": "Our parliament should let the regional bloc lead the mission.", "label": "pro-NATO"},
                           {"text": seed_text.upper(), "label": "none"}])
    assert len(report.added) == 1 and len(report.skipped) == 1
    with pytest.raises(CorpusError, match="allowed labels are pro-UN"):
        add_examples([{"text": "fine sentence here", "label": "pro-nato"}])
    assert part_path("user").parent == home / "corpus"
    assert (CORPUS_DIR / "seeds.jsonl").read_bytes() == before
    assert [r["id"] for r in load_records("user")] == ["user-00001"]
