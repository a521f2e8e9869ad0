"""The demo app's handlers, called as plain Python (no server, no browser: see test_demo_browser.py for the page)."""

import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import stance
from stance.corpus import MAX_SENTENCE_CHARS, load_records
from stance.demo.app import EXAMPLES, LABEL_COLORS, LABEL_DEFINITIONS, MAX_CHARS, MAX_SENTENCES, DemoError, DemoHandlers
from stance.labels import LABELS

REPO = Path(__file__).resolve().parents[1]
TEXT = "The Security Council must authorise the mission. NATO allies should lead the <b>force</b>."


@pytest.fixture(scope="module")
def tfidf(tiny_data):
    from stance.models.tfidf import TfidfStance

    return TfidfStance(search=False).fit(*tiny_data)


@pytest.fixture
def handlers(tfidf, tmp_path):
    return DemoHandlers({"tfidf": tfidf}, csv_dir=tmp_path / "csv")


def test_analyze_gives_what_stance_analyze_gives(handlers, tfidf):
    analysis = handlers.analyze(TEXT, "tfidf")
    expected = stance.analyze(TEXT, model=tfidf)
    assert [r.label for r in analysis.rows] == [p.label for p in expected]
    assert [(r.start, r.end, r.text) for r in analysis.rows] == [(p.start, p.end, p.text) for p in expected]
    assert [r.index for r in analysis.rows] == [1, 2] and analysis.model_name == "tfidf" and analysis.cut_at is None


def test_results_are_colour_coded_escaped_and_summarised(handlers):
    analysis = handlers.analyze(TEXT, "tfidf")
    page = handlers.results_html(analysis)
    assert page.count('<tr class="result"') == 2
    assert "&lt;b&gt;force&lt;/b&gt;" in page and "<b>" not in page  # the text is shown as text
    for r in analysis.rows:
        assert f'data-label="{r.label}" style="background:{LABEL_COLORS[r.label]}"' in page
    summary = handlers.summary_html(analysis)
    assert "2 sentences" in summary
    for label in LABELS:
        n = sum(r.label == label for r in analysis.rows)
        assert f'data-label="{label}" style="background:{LABEL_COLORS[label]}">{label}</span> {n}</span>' in summary
    key = handlers.key_html()
    assert all(LABEL_DEFINITIONS[l] in key and LABEL_COLORS[l] in key for l in LABELS)
    assert len(set(LABEL_COLORS.values())) == len(LABELS)


def test_evidence_highlights_the_picked_sentence(handlers, tfidf):
    analysis = handlers.analyze(TEXT, "tfidf")
    pieces, note = handlers.evidence(analysis, 2)
    assert "".join(p for p, _ in pieces) == analysis.rows[1].text
    assert {c for _, c in pieces} - {None} and {c for _, c in pieces} <= {None, "toward the label", "against the label"}
    e = stance.explain(analysis.rows[1].text, model=tfidf)
    assert note.startswith(f"Sentence 2: **{e.label}**") and "n-gram weights" in note


def test_csv_export_is_written_to_a_temp_dir_with_every_sentence(handlers, tfidf):
    analysis = handlers.analyze(TEXT, "tfidf")
    path = handlers.write_csv(analysis)
    assert path.parent == handlers.csv_dir() and REPO not in path.parents
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    expected = stance.analyze(TEXT, model=tfidf)
    assert [r["label"] for r in rows] == [p.label for p in expected]
    assert [r["text"] for r in rows] == [p.text for p in expected]
    assert [int(r["start"]) for r in rows] == [p.start for p in expected]
    assert abs(float(rows[0][f"p_{expected[0].label}"]) - expected[0].confidence) < 1e-4


def test_default_csv_dir_is_a_private_temp_dir_outside_the_checkout(tfidf):
    h = DemoHandlers({"tfidf": tfidf})
    d = h.csv_dir()
    assert Path(tempfile.gettempdir()) in d.parents and REPO not in d.parents and d.name.startswith("stance-demo-")


def test_correction_goes_to_the_user_corpus(handlers, home):
    analysis = handlers.analyze(TEXT, "tfidf")
    new = next(l for l in LABELS if l != analysis.rows[0].label)
    message = handlers.correct(analysis, 1, new)
    assert "Added sentence 1" in message and "user-00001" in message
    user = load_records("user")
    assert [(r["text"], r["label"]) for r in user] == [(analysis.rows[0].text, new)]
    assert str(home) in message or "user.jsonl" in message
    with pytest.raises(DemoError, match="already in the corpus"):
        handlers.correct(analysis, 1, new)


@pytest.mark.parametrize("index, label, message", [
    (None, "none", "Pick a sentence"),
    (5, "none", "No sentence 5: pick one of 1 to 2"),
    (0, "none", "No sentence 0"),
    (1, None, "Choose the correct label"),
    (1, "Pro-UN", "unknown label 'Pro-UN': allowed labels are pro-UN, pro-NATO"),
])
def test_bad_corrections_get_a_clear_message(handlers, home, index, label, message):
    analysis = handlers.analyze(TEXT, "tfidf")
    with pytest.raises(DemoError, match=message):
        handlers.correct(analysis, index, label)
    assert not (home / "corpus" / "user.jsonl").exists()


def test_correction_before_any_analysis_is_refused(handlers):
    with pytest.raises(DemoError, match="Analyse a text first"):
        handlers.correct(None, 1, "none")
    with pytest.raises(DemoError, match="Analyse a text first"):
        handlers.evidence(None, 1)


@pytest.mark.parametrize("text, message", [
    ("", "The text is empty"),
    ("  \n ", "The text is empty"),
    ("a" * (MAX_CHARS + 1), f"the demo takes at most {MAX_CHARS:,}"),
])
def test_input_is_capped_with_a_clear_message(handlers, text, message):
    with pytest.raises(DemoError, match=message):
        handlers.analyze(text, "tfidf")


def test_a_text_with_too_many_sentences_is_cut_and_says_so(handlers):
    text = " ".join(f"Sentence number {i} is here." for i in range(MAX_SENTENCES + 30))
    assert len(text) <= MAX_CHARS
    analysis = handlers.analyze(text, "tfidf")
    assert len(analysis.rows) == MAX_SENTENCES and analysis.cut_at == MAX_SENTENCES + 30
    assert f"only the first {MAX_SENTENCES} were analysed" in handlers.summary_html(analysis)


def test_a_sentence_over_the_length_limit_is_flagged_not_an_error(handlers, home):
    long = "The mission " + "and the mission " * 200 + "needs a mandate."
    assert len(long) > MAX_SENTENCE_CHARS
    analysis = handlers.analyze(long + " The UN must act.", "tfidf")
    row = analysis.rows[0]
    assert row.long and not analysis.rows[1].long
    assert "long sentence" in handlers.results_html(analysis)
    pieces, note = handlers.evidence(analysis, 1)
    assert "evidence for its first 2,000 only" in note
    assert "".join(p for p, _ in pieces).startswith(long[:MAX_SENTENCE_CHARS])
    with pytest.raises(DemoError, match="at most 2,000"):  # the corpus takes sentences, not documents
        handlers.correct(analysis, 1, "pro-UN")


def test_unknown_or_missing_models_are_messages(handlers, tfidf, tmp_path):
    with pytest.raises(DemoError, match="unknown model 'bert': choose one of tfidf"):
        handlers.analyze("The UN must act.", "bert")
    (tmp_path / "empty").mkdir()
    h = DemoHandlers({"broken": tmp_path / "empty"})
    with pytest.raises(DemoError, match="Model 'broken' is not available"):
        h.analyze("The UN must act.", "broken")


def test_default_menu_is_the_shipped_models_with_the_library_default(home):
    from stance.models.registry import SHIPPED_NAMES
    from stance.models.store import default_model_name

    h = DemoHandlers()
    assert list(h.models) == list(SHIPPED_NAMES) and h.default_model == default_model_name()
    with pytest.raises(ValueError, match="models is empty"):
        DemoHandlers({})


def test_examples_are_short_and_analysable(handlers):
    assert 3 <= len(EXAMPLES) <= 4
    for text in EXAMPLES:
        assert len(text) < 300 and handlers.analyze(text, "tfidf").rows


def test_build_app_wires_a_bounded_queue_and_stable_ids(tfidf):
    gr = pytest.importorskip("gradio")
    from stance.demo.app import QUEUE_CONCURRENCY, QUEUE_MAX_SIZE, build_app

    demo = build_app({"tfidf": tfidf})
    assert isinstance(demo, gr.Blocks) and demo.analytics_enabled is False
    assert demo._queue.max_size == QUEUE_MAX_SIZE and demo._queue.default_concurrency_limit == QUEUE_CONCURRENCY
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"text", "model", "analyze", "examples", "key", "summary", "results", "pick", "evidence", "download",
            "new-label", "correct", "correct-status"} <= ids


def test_handler_errors_become_gradio_messages_not_tracebacks():
    gr = pytest.importorskip("gradio")
    from stance.demo.app import _user_error

    def bad_input():
        raise DemoError("The text is empty")

    def crash():
        raise RuntimeError("boom")

    with pytest.raises(gr.Error, match="The text is empty"):
        _user_error(gr, bad_input)()
    with pytest.raises(gr.Error, match=r"Internal error \(RuntimeError\): boom"):
        _user_error(gr, crash)()


def test_import_stance_does_not_import_gradio():
    code = "import sys, stance, stance.demo.app, stance.cli.serve; assert 'gradio' not in sys.modules, 'gradio imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_serve_refuses_a_bad_port(capsys):
    from stance.cli.main import main

    assert main(["serve", "--port", "70000"]) == 2
    assert "--port must be between 0 and 65535" in capsys.readouterr().err
