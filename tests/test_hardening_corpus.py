"""Issue 7 hardening: malformed corpus and input files.

`stance.corpus.check` (strict: the shipped corpus format) and `read_examples_file`
(lenient about BOM and CRLF: files from users) must report each problem with its
file, its 1-based line number and a clear message -- never crash -- and
`add_examples` must write nothing when any record is bad.
All files live in tmp dirs; the user corpus is the `home` fixture's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stance.corpus import CorpusError, add_examples, check, part_path, read_examples_file

GOOD = [
    {"id": "u-1", "text": "The Security Council must authorise the mission.", "label": "pro-UN", "rationale": "r", "origin": "t"},
    {"id": "u-2", "text": "NATO should lead the response.", "label": "pro-NATO", "rationale": "r", "origin": "t"},
    {"id": "u-3", "text": "We will act alone if we must.", "label": "unilateral", "rationale": "r", "origin": "t"},
]


def line(record) -> str:
    return json.dumps(record, ensure_ascii=False)


def write(tmp_path: Path, lines: list[str], name: str = "part.jsonl", newline: str = "\n", bom: bool = False) -> Path:
    path = tmp_path / name
    raw = newline.join(lines).encode("utf-8") + newline.encode()
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + raw)
    return path


def problems_of(path: Path) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in check(["user"], paths={"user": path})]


def only(problems: list[tuple[int, str]], lineno: int, *words: str) -> None:
    assert [n for n, _ in problems] == [lineno], problems
    for word in words:
        assert word in problems[0][1], f"{problems[0][1]!r} should mention {word!r}"


def test_good_file_has_no_problems(home, tmp_path):
    assert problems_of(write(tmp_path, [line(r) for r in GOOD])) == []


@pytest.mark.parametrize("bad,words", [
    ('{"id": "u-9", "text": "unterminated', ["malformed JSON", "column"]),
    ("{'id': 'u-9'}", ["malformed JSON", "property name"]),
    ('{"id": "u-9",}', ["malformed JSON"]),
    ("[" * 100_000 + "]" * 100_000, ["malformed JSON", "nested too deeply"]),
    ('{"id": ' + "1" * 5000 + "}", ["malformed JSON", "4300 digits"]),
    ("[1, 2]", ["expected a JSON object, got list"]),
    ("null", ["expected a JSON object, got NoneType"]),
])
def test_malformed_json_line_is_reported_with_its_line_number(home, tmp_path, bad, words):
    path = write(tmp_path, [line(GOOD[0]), "", bad, line(GOOD[1])])  # line 2 blank: numbers count raw lines
    only(problems_of(path), 3, *words)


def test_bom_is_a_problem_on_line_1_for_the_corpus_but_forgiven_in_input_files(home, tmp_path):
    path = write(tmp_path, [line(r) for r in GOOD], bom=True)
    only(problems_of(path), 1, "byte-order mark")
    assert [r["text"] for r in read_examples_file(path)] == [r["text"] for r in GOOD]


def test_crlf_is_a_problem_on_every_line_for_the_corpus_but_forgiven_in_input_files(home, tmp_path):
    path = write(tmp_path, [line(r) for r in GOOD], newline="\r\n")
    problems = problems_of(path)
    assert [n for n, _ in problems] == [1, 2, 3]
    assert all("CRLF" in m for _, m in problems)
    rows = read_examples_file(path)
    assert [r["_line"] for r in rows] == [1, 2, 3]
    assert not any(r["text"].endswith("\r") for r in rows)


def test_duplicate_id_is_reported_on_the_second_line_naming_the_first(home, tmp_path):
    dup = {**GOOD[1], "id": "u-1"}
    only(problems_of(write(tmp_path, [line(GOOD[0]), line(dup)])), 2, "duplicate id 'u-1'", "part.jsonl:1")


def test_duplicate_text_after_normalisation_is_reported(home, tmp_path):
    dup = {**GOOD[1], "id": "u-9", "text": "  THE Security   Council must authorise the mission.  "}
    only(problems_of(write(tmp_path, [line(GOOD[0]), line(GOOD[2]), line(dup)])), 3, "duplicate text", "part.jsonl:1")


def test_unknown_label_is_reported_naming_the_allowed_labels(home, tmp_path):
    bad = {**GOOD[1], "label": "pro-EU"}
    only(problems_of(write(tmp_path, [line(GOOD[0]), line(bad)])), 2, "'pro-EU'", "allowed labels are pro-UN")


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_text_is_reported(home, tmp_path, text):
    only(problems_of(write(tmp_path, [line(GOOD[0]), line({**GOOD[1], "text": text})])), 2, "empty text")


def test_wrong_types_and_missing_keys_are_each_reported(home, tmp_path):
    bad = {"id": 7, "text": "Some text here.", "label": "none"}
    problems = problems_of(write(tmp_path, [line(bad)]))
    messages = " | ".join(m for _, m in problems)
    assert {n for n, _ in problems} == {1}
    assert "key 'id' has int 7, expected str" in messages
    assert "missing key 'rationale'" in messages and "missing key 'origin'" in messages


def test_latin1_bytes_are_reported_with_line_and_column(home, tmp_path):
    path = tmp_path / "latin1.jsonl"
    bad = line({**GOOD[1], "text": "caf\u00e9 diplomacy"}).encode("latin-1")
    path.write_bytes(line(GOOD[0]).encode() + b"\n" + bad + b"\n")
    only(problems_of(path), 2, "not valid UTF-8", "0xe9", "column", "re-save")
    with pytest.raises(CorpusError) as info:
        read_examples_file(path)
    assert [p.line for p in info.value.problems] == [2]


def test_latin1_csv_input_is_refused_with_a_clear_message(home, tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes("text,label\ncaf\u00e9 diplomacy,none\n".encode("latin-1"))
    with pytest.raises(CorpusError, match="not valid UTF-8"):
        read_examples_file(path)


def test_every_problem_of_a_file_is_reported_not_just_the_first(home, tmp_path):
    lines = [line(GOOD[0]), "{oops", line({**GOOD[1], "label": "bogus"}), line({**GOOD[2], "id": "u-1"}),
             line({**GOOD[2], "id": "u-8", "text": ""})]
    assert [n for n, _ in problems_of(write(tmp_path, lines))] == [2, 3, 4, 5]


def test_input_file_problems_carry_file_line_numbers(home, tmp_path):
    """Non-object lines are reported at their line in the file, not their position among the records."""
    path = write(tmp_path, [json.dumps({"text": "Fine.", "label": "none"}), "", "", '["not", "an object"]',
                            "{bad json"], name="in.jsonl")
    with pytest.raises(CorpusError) as info:
        read_examples_file(path)
    assert [(p.line, p.path) for p in info.value.problems] == [(4, path), (5, path)]
    assert "expected an object with 'text' and 'label', got list" in info.value.problems[0].message


# ---------------------------------------------------------------- add_examples is all or nothing

def user_corpus_bytes() -> bytes | None:
    path = part_path("user")
    return path.read_bytes() if path.exists() else None


def test_add_examples_with_one_bad_record_among_good_ones_writes_nothing(home, tmp_path):
    first = add_examples([{"text": "A hardening test sentence about the UN.", "label": "pro-UN"}])
    assert len(first.added) == 1
    before = user_corpus_bytes()
    assert before is not None and part_path("user").is_relative_to(home)

    path = write(tmp_path, [json.dumps({"text": "Another sentence for the test.", "label": "none"}),
                            json.dumps({"text": "And one more, fine as well.", "label": "skeptical"}),
                            json.dumps({"text": "This one has a bad label.", "label": "maybe"}),
                            json.dumps({"text": "Good again at the end.", "label": "unilateral"})], name="in.jsonl")
    examples = read_examples_file(path)
    with pytest.raises(CorpusError) as info:
        add_examples(examples, where=str(path))
    assert [(p.line, str(p.path)) for p in info.value.problems] == [(3, str(path))]
    assert "'maybe'" in info.value.problems[0].message
    assert user_corpus_bytes() == before, "the user corpus changed although a record was bad"


@pytest.mark.parametrize("bad", [{"text": "", "label": "none"}, {"text": None, "label": "none"},
                                 {"label": "none"}, {"text": "x y z", "label": "none", "rationale": 3},
                                 "just a string", None])
def test_add_examples_refuses_bad_items_naming_the_item_and_writes_nothing(home, bad):
    before = user_corpus_bytes()
    with pytest.raises(CorpusError) as info:
        add_examples([{"text": "A perfectly good sentence here.", "label": "none"}, bad])
    assert [p.line for p in info.value.problems][:1] == [2]
    assert all("item 1" in p.message for p in info.value.problems)
    assert user_corpus_bytes() == before


def test_predict_input_file_reader_reports_hostile_json_lines_by_line_number(tmp_path):
    """`stance predict --file x.jsonl` reads lazily: a hostile line becomes an error record, not a crash."""
    from stance.cli.predict import _read_inputs

    path = write(tmp_path, ['{"text": "Fine."}', "[" * 100_000 + "]" * 100_000, '{"text": ' + "1" * 5000 + "}",
                            "{bad", '{"text": ""}', '{"id": 7, "text": "Also fine."}'], name="in.jsonl")
    rows = list(_read_inputs(path))
    assert [(n, text) for n, _, text in rows] == [(1, "Fine."), (2, None), (3, None), (4, None), (5, None),
                                                 (6, "Also fine.")]
    assert "nested too deeply" in rows[1][1] and "4300 digits" in rows[2][1] and "malformed JSON" in rows[3][1]
