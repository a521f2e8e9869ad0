"""The demo server's HTTP API (no browser: see test_demo_browser.py for the page)."""

import json
import threading
import urllib.error
import urllib.request

import pytest

import stance


@pytest.fixture(scope="module")
def tfidf(tiny_data):
    from stance.models.tfidf import TfidfStance

    return TfidfStance(search=False).fit(*tiny_data)


@pytest.fixture(scope="module")
def server(tfidf):
    from stance.demo.server import make_server

    srv = make_server("127.0.0.1", 0, models={"tfidf": tfidf}, quiet=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _post(server, body: bytes):
    req = urllib.request.Request(server.url + "api/analyze", data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_page_is_served_with_a_csp_and_the_model_selector(server):
    with urllib.request.urlopen(server.url, timeout=30) as resp:
        page = resp.read().decode("utf-8")
        assert resp.headers["Content-Type"].startswith("text/html")
        assert "script-src 'sha256-" in resp.headers["Content-Security-Policy"]
    assert '<option value="tfidf">tfidf</option>' in page and '<textarea id="text"' in page
    assert server.server_address[0] == "127.0.0.1"


def test_analyze_returns_each_sentence_with_label_and_evidence(server, tfidf):
    text = "The Security Council must authorise the mission. NATO allies should lead the force."
    status, data = _post(server, json.dumps({"text": text, "model": "tfidf"}).encode())
    assert status == 200 and data["model"] == "tfidf"
    expected = stance.analyze(text, model=tfidf)
    assert [s["label"] for s in data["sentences"]] == [p.label for p in expected]
    assert [(s["start"], s["end"]) for s in data["sentences"]] == [(p.start, p.end) for p in expected]
    first = data["sentences"][0]
    assert first["evidence"] and "".join(seg["text"] for seg in first["segments"]) == first["text"]
    assert any(seg["color"] for seg in first["segments"])


@pytest.mark.parametrize("body, status, message", [
    (b"{not json", 400, "not valid JSON"),
    (b"[1, 2]", 400, "expected a JSON object"),
    (b'{"text": 3}', 400, '"text" must be a string'),
    (b'{"text": "   "}', 400, '"text" is empty'),
    (b'{"text": "The UN must act.", "model": "bert"}', 400, "unknown model 'bert': allowed models are tfidf"),
    (b"\xff\xfe", 400, "not UTF-8"),
    (json.dumps({"text": "a" * 250_000}).encode(), 413, "the limit is 200000"),
])
def test_bad_requests_get_a_clear_json_error(server, body, status, message):
    got_status, data = _post(server, body)
    assert got_status == status and message in data["error"]


def test_unknown_path_is_404_json(server):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server.url + "nope", timeout=30)
    assert err.value.code == 404 and "error" in json.loads(err.value.read())
