from pathlib import Path

from stance.segment import repair, split_sentences

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def test_repair_keeps_length_and_fixes_seed_003_artifacts():
    raw = (SEEDS / "003_4b50d196cfa6574c.txt").read_text(encoding="utf-8")
    fixed = repair(raw)
    assert len(fixed) == len(raw)
    assert "America\u2019s most resolute" in fixed
    assert "\u201ccoalition of the willing\u201d together" in fixed
    assert "is falling apart? Michele" in fixed  # a real question mark stays


def test_offsets_point_into_the_original_file():
    for path in SEEDS.glob("*.txt"):
        raw = path.read_text(encoding="utf-8")
        for s in split_sentences(raw):
            assert repair(raw)[s.start:s.end] == s.text
            assert s.text == s.text.strip() and s.text


def test_no_sentence_spans_a_line_break_and_lowercase_fragments_merge():
    spans = split_sentences("First one here. Second one.\nMadeleine K. Albright, secretary of state of the EE.UU. from 1997 to 2001.")
    assert [s.text for s in spans] == ["First one here.", "Second one.",
                                       "Madeleine K. Albright, secretary of state of the EE.UU. from 1997 to 2001."]


def test_question_mark_artifact_does_not_split_a_sentence():
    spans = split_sentences("Poland is America?s ally and its leader hinted his country?s commitment is limited.")
    assert len(spans) == 1
