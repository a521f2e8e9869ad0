"""stance.explain: the evidence it names must be what the model actually relies on."""

import re

import pytest

import stance
from stance import LABELS
from stance.explanation import Evidence, Explanation, explain

SENTENCES = [
    "The Security Council must authorise any use of force against Iraq.",
    "NATO allies should lead the peacekeeping force in Kosovo.",
    "Washington will act alone if it must, whatever the United Nations decides.",
    "The United Nations has proved useless and cannot be trusted to keep the peace.",
    "Only a UN mandate can give the intervention legitimacy in the eyes of the world.",
]


@pytest.fixture(scope="module")
def tfidf(tiny_data):
    from stance.models.tfidf import TfidfStance

    return TfidfStance(search=False).fit(*tiny_data)


def _delete(text, spans):
    """`text` without the given character spans, whitespace collapsed."""
    keep = [ch if not any(a <= i < b for a, b in spans) else " " for i, ch in enumerate(text)]
    return re.sub(r"\s+", " ", "".join(keep)).strip() or "-"


def _overlaps(ev, spans):
    return any(ev.start < b and a < ev.end for a, b in spans)


def _check_evidence_matters(model, k=2):
    """Deleting the top-k supporting pieces lowers p(label); deleting k of the weakest words changes it less."""
    for sentence in SENTENCES:
        e = explain(sentence, model, top_k=None)
        col = LABELS.index(e.label)
        top = [ev for ev in e.evidence if ev.weight > 0][:k]
        assert top, f"no supporting evidence for {e.label} in {sentence!r}"
        top_spans = [(ev.start, ev.end) for ev in top]
        weakest = [ev for ev in reversed(e.evidence) if " " not in ev.token and not _overlaps(ev, top_spans)][:len(top)]
        assert len(weakest) == len(top)
        p_top, p_weak = model.predict_proba([_delete(sentence, top_spans), _delete(sentence, [(w.start, w.end) for w in weakest])])
        drop = e.probability - p_top[col]
        assert drop > 0, f"deleting {[ev.token for ev in top]} did not lower p({e.label}) for {sentence!r}"
        assert abs(e.probability - p_weak[col]) < drop, (sentence, [ev.token for ev in top], [w.token for w in weakest])


def test_tfidf_evidence_is_what_the_model_relies_on(tfidf):
    _check_evidence_matters(tfidf)


def test_tfidf_weights_locate_ngrams_and_sum_to_the_score(tfidf):
    import numpy as np

    sentence = "The Security Council must authorise the mission; the Security Council decides."
    e = explain(sentence, tfidf, top_k=None)
    assert e.method == "n-gram weights" and e.model == "tfidf" and e.label == stance.predict(sentence, model=tfidf).label
    for ev in e.evidence:  # every n-gram is located where it occurs, case and all
        assert ev.start >= 0 and sentence[ev.start:ev.end].lower() == ev.token
    assert sum(ev.token == "security council" for ev in e.evidence) == 2  # one entry per occurrence
    # the weights add up to the label's decision score minus the intercept
    clf = tfidf.pipeline_.named_steps["clf"]
    pos = list(clf.classes_).index(LABELS.index(e.label))
    score = tfidf.pipeline_.decision_function([sentence])[0][pos] - clf.intercept_[pos]
    assert np.isclose(sum(ev.weight for ev in e.evidence), score)
    assert [abs(ev.weight) for ev in e.evidence] == sorted((abs(ev.weight) for ev in e.evidence), reverse=True)
    assert len(explain(sentence, tfidf).evidence) == 8 and len(explain(sentence, tfidf, top_k=3).evidence) == 3


def test_occlusion_works_for_any_model_and_keeps_word_offsets(tfidf):
    sentence = "NATO allies should   lead the force."
    e = explain(sentence, tfidf, top_k=None, method="occlusion")
    assert e.method == "occlusion" and len(e.evidence) == 6
    assert all(sentence[ev.start:ev.end] == ev.token for ev in e.evidence)
    solo = explain("NATO", tfidf, method="occlusion")  # a one-word text still gets an answer
    assert len(solo.evidence) == 1


def test_explain_rejects_bad_input_with_clear_messages(tfidf):
    with pytest.raises(ValueError, match="empty"):
        explain("   ", tfidf)
    with pytest.raises(TypeError, match="got list"):
        explain(["a"], tfidf)
    with pytest.raises(ValueError, match="top_k must be a positive integer"):
        explain("The UN must act.", tfidf, top_k=0)
    with pytest.raises(ValueError, match="unknown model 'bert'"):
        explain("The UN must act.", "bert")


def test_html_escapes_the_text_and_colours_by_sign():
    text = 'The UN <script>alert("x")</script> & NATO'
    n = text.index("NATO")
    e = Explanation(text, "pro-UN", 0.7, "tfidf", [Evidence("un", 0.5, 4, 6), Evidence("nato", -0.2, n, n + 4)],
                    {l: 0.2 for l in LABELS}, "n-gram weights")
    out = e.to_html()
    assert "<script>" not in out and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; " in out
    assert re.search(r'<mark style="background:rgba\(22,163,74,0.75\)[^>]*>UN</mark>', out)  # green toward
    assert re.search(r'<mark style="background:rgba\(220,38,38,0.39\)[^>]*>NATO</mark>', out)  # red against
    assert e._repr_html_() == out
    assert e.to_html(full_page=True).startswith("<!doctype html>")
    assert [s for s, w in e.segments() if w is not None] == ["UN", "NATO"]
    assert "".join(s for s, _ in e.segments()) == text


def test_stance_explain_stays_the_function():
    import stance.explanation as module_or_function  # noqa: F401  (a submodule import must not shadow it)

    assert callable(stance.explain) and stance.explain is explain


def test_cli_explain_prints_label_and_signed_weights(home, tfidf, capsys):
    from stance.cli import main

    tfidf.save(home / "m")
    sentence = "The Security Council must authorise any use of force."
    out_html = home / "e.html"
    assert main(["explain", sentence, "--model", str(home / "m"), "--top-k", "3", "--html", str(out_html)]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = stance.predict(sentence, model=tfidf)
    assert lines[0].startswith(f"{expected.label}  p={expected.confidence:.2f}  [tfidf, n-gram weights]")
    assert len([l for l in lines if re.match(r"^  [+-]\d\.\d{4}  ", l)]) == 3
    assert lines[-1] == f"wrote {out_html}" and "<mark" in out_html.read_text(encoding="utf-8")
    assert main(["explain", "   "]) == 2


@pytest.mark.slow
def test_transformer_occlusion_evidence_is_what_the_model_relies_on(tiny_transformer):
    model, _ = tiny_transformer  # conftest: trained once per session on 40 sentences
    e = explain(SENTENCES[0], model)
    assert e.method == "occlusion" and e.model == "minilm"
    assert abs(e.probability - model.predict_proba([SENTENCES[0]])[0].max()) < 1e-4
    _check_evidence_matters(model)
