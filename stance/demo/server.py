"""A small demo web page: paste a text, see each sentence's stance and the words behind it.

Standard library only (http.server): `stance serve` or `make_server(...).serve_forever()`.

    GET  /             the page (textarea, model selector, results table)
    POST /api/analyze  {"text": "...", "model": "tfidf"} -> {"model", "sentences": [...]}

Each sentence comes from `stance.analyze` (label, probabilities, offsets) with its
evidence from `stance.explain`. It is a demo for one user on one machine: it binds
127.0.0.1 by default, caps the request body, and runs one analysis at a time so a
big paste cannot starve the CPU. There is no authentication: do not expose it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Mapping

from stance.labels import LABELS
from stance.models.registry import SHIPPED_NAMES

MAX_BODY = 200_000  # bytes: a long article is ~50 KB
DRAIN_LIMIT = 10 * MAX_BODY  # an oversized body up to this is read and discarded before the 413
MAX_EXPLAINED = 200  # sentences given evidence per request; later ones get labels only
TOP_K = 8
DEFAULT_MODELS: dict[str, Any] = {name: name for name in SHIPPED_NAMES}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class RequestError(Exception):
    """A bad request: answered with `status` and {"error": message}."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


def analyze_text(text: str, model: Any, top_k: int = TOP_K) -> list[dict]:
    """Every sentence of `text` with its label, probabilities and highlighted evidence, as JSON-ready dicts."""
    from stance.api import analyze
    from stance.explanation import explain, highlight_color

    rows = []
    for i, p in enumerate(analyze(text, model=model)):
        row = {"text": p.text, "start": p.start, "end": p.end, "label": p.label,
               "probabilities": p.probabilities, "model": p.model, "evidence": None, "segments": None}
        if i < MAX_EXPLAINED:
            e = explain(p.text, model=model, top_k=top_k)
            segments = e.segments()
            scale = max((abs(w) for _, w in segments if w is not None), default=0.0)
            row["evidence_label"] = e.label  # equals label except in a near-tie of two labels
            row["method"] = e.method
            row["evidence"] = [{"token": t, "weight": w, "start": a, "end": b} for t, w, a, b in e.evidence]
            row["segments"] = [{"text": s, "weight": w, "color": highlight_color(w, scale) if w is not None and scale else None}
                               for s, w in segments]
        rows.append(row)
    return rows


class DemoServer(ThreadingHTTPServer):
    """The HTTP server plus what the handler needs: the offered models and a lock serialising analyses."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], models: Mapping[str, Any], quiet: bool = False):
        if not models:
            raise ValueError("models is empty: offer at least one, e.g. {'tfidf': 'tfidf'}")
        self.models = dict(models)
        self.quiet = quiet
        self.work_lock = threading.Lock()
        super().__init__(address, DemoHandler)

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), self.server_address[1]
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"


class DemoHandler(BaseHTTPRequestHandler):
    server: DemoServer
    timeout = 30  # seconds a client may take to send its request
    server_version = "stance-demo"

    def do_GET(self) -> None:
        if self.path.split("?")[0] not in ("/", "/index.html"):
            return self._json(HTTPStatus.NOT_FOUND, {"error": f"no page at {self.path}: open / or POST /api/analyze"})
        body = render_page(list(self.server.models)).encode("utf-8")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        try:
            if self.path.split("?")[0] != "/api/analyze":
                raise RequestError(HTTPStatus.NOT_FOUND, f"no endpoint at {self.path}: POST to /api/analyze")
            text, name = self._read_request()
            from stance.api import get_model
            from stance.models.manifest import ModelFormatError

            try:
                with self.server.work_lock:
                    model = get_model(self.server.models[name])
                    rows = analyze_text(text, model)
            except ModelFormatError as e:
                raise RequestError(HTTPStatus.SERVICE_UNAVAILABLE, f"model {name!r} is not available: {e}") from None
            self._json(HTTPStatus.OK, {"model": name, "sentences": rows})
        except RequestError as e:
            self._json(e.status, {"error": str(e)})
        except Exception as e:  # keep the server up and tell the page what happened
            self.log_error("analysis failed: %s: %s", type(e).__name__, e)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error: {type(e).__name__}: {e}"})

    def _read_request(self) -> tuple[str, str]:
        """Validate size, JSON and fields; return (text, model name)."""
        length = self.headers.get("Content-Length")
        if length is None:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length header with the JSON body")
        try:
            size = int(length)
            if size < 0:
                raise ValueError
        except ValueError:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"Content-Length is not a byte count: {length!r}") from None
        if size > MAX_BODY:
            self.close_connection = True
            if size <= DRAIN_LIMIT:  # read and discard it, so the client sees the 413 rather than a reset
                left = size
                while left > 0 and self.rfile.read(min(left, 65536)):
                    left -= 65536
            raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               f"request body is {size} bytes; the limit is {MAX_BODY}: paste a shorter text")
        raw = self.rfile.read(size)
        try:
            payload = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise RequestError(HTTPStatus.BAD_REQUEST, "request body is not UTF-8: send JSON encoded as UTF-8") from None
        except json.JSONDecodeError as e:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"request body is not valid JSON ({e.msg} at position {e.pos}): "
                               'send {"text": "...", "model": "tfidf"}') from None
        if not isinstance(payload, dict):
            raise RequestError(HTTPStatus.BAD_REQUEST, f'expected a JSON object {{"text", "model"}}, got {type(payload).__name__}')
        text = payload.get("text")
        if not isinstance(text, str):
            raise RequestError(HTTPStatus.BAD_REQUEST, f'"text" must be a string, got {type(text).__name__}')
        if not text.strip():
            raise RequestError(HTTPStatus.BAD_REQUEST, '"text" is empty: paste one or more sentences')
        name = payload.get("model", next(iter(self.server.models)))
        if not isinstance(name, str) or name not in self.server.models:
            raise RequestError(HTTPStatus.BAD_REQUEST,
                               f"unknown model {name!r}: allowed models are {', '.join(self.server.models)}")
        return text, name

    def _json(self, status: HTTPStatus, obj: dict) -> None:
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)


def make_server(host: str = "127.0.0.1", port: int = 8000, models: Mapping[str, Any] | None = None,
                quiet: bool = False) -> DemoServer:
    """A ready server (not yet serving). models: name shown in the selector -> "tfidf" / "transformer" /
    a model directory / a fitted model object (tests pass small models); port 0 picks a free port."""
    try:
        return DemoServer((host, port), DEFAULT_MODELS if models is None else models, quiet=quiet)
    except OSError as e:
        raise OSError(f"cannot listen on {host}:{port} ({e.strerror or e}): choose another --port or --host") from None


def serve(host: str = "127.0.0.1", port: int = 8000, models: Mapping[str, Any] | None = None) -> None:
    """Serve until Ctrl-C."""
    server = make_server(host, port, models)
    if host not in LOOPBACK:
        print(f"warning: listening on {host}: anyone who can reach this address can use the demo "
              "(there is no authentication)", file=sys.stderr)
    print(f"stance demo on {server.url}  (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


# ------------------------------------------------------------------ the page

SCRIPT = r"""
const form = document.getElementById("form");
const button = document.getElementById("submit");
const statusLine = document.getElementById("status");
const tbody = document.querySelector("#results tbody");

function cell(row, cls) { const td = document.createElement("td"); td.className = cls; row.appendChild(td); return td; }

function sentenceRow(s, i) {
  const tr = document.createElement("tr");
  tr.className = "result";
  tr.dataset.label = s.label;
  cell(tr, "num").textContent = String(i + 1);
  const sent = cell(tr, "sentence");
  if (s.segments) {
    for (const seg of s.segments) {
      if (seg.color) {
        const mark = document.createElement("mark");
        mark.textContent = seg.text;
        mark.style.background = seg.color;
        mark.title = (seg.weight > 0 ? "+" : "") + seg.weight.toFixed(3) + " toward " + s.evidence_label;
        sent.appendChild(mark);
      } else {
        sent.appendChild(document.createTextNode(seg.text));
      }
    }
  } else {
    sent.textContent = s.text;
    sent.title = "not explained: only the first sentences of a long text get evidence";
  }
  const label = cell(tr, "label");
  label.textContent = s.label;
  label.classList.add("l-" + s.label.replace(/[^A-Za-z]/g, ""));
  const probs = cell(tr, "probs");
  for (const [name, p] of Object.entries(s.probabilities)) {
    const line = document.createElement("div");
    line.className = "prob" + (name === s.label ? " top" : "");
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = Math.round(p * 60) + "px";
    const txt = document.createElement("span");
    txt.textContent = name + " " + p.toFixed(2);
    line.append(bar, txt);
    probs.appendChild(line);
  }
  return tr;
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const text = document.getElementById("text").value;
  const model = document.getElementById("model").value;
  button.disabled = true;
  statusLine.className = "";
  statusLine.textContent = "Analysing\u2026";
  tbody.replaceChildren();
  try {
    const resp = await fetch("api/analyze", {method: "POST", headers: {"Content-Type": "application/json"},
                                             body: JSON.stringify({text: text, model: model})});
    const data = await resp.json();
    if (!resp.ok) throw new Error(data.error || resp.statusText);
    data.sentences.forEach((s, i) => tbody.appendChild(sentenceRow(s, i)));
    statusLine.textContent = data.sentences.length + " sentence(s), model " + data.model +
      ". Highlights: green pushes toward the sentence's label, red against.";
  } catch (err) {
    statusLine.className = "error";
    statusLine.textContent = "Error: " + err.message;
  } finally {
    button.disabled = false;
  }
});
document.getElementById("text").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) form.requestSubmit();
});
"""

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; } .sub { color: #666; margin-top: 0; }
textarea { width: 100%; box-sizing: border-box; height: 9em; font: inherit; padding: 0.5em; }
.controls { margin: 0.5em 0 1em; display: flex; gap: 0.8em; align-items: center; }
button { padding: 0.4em 1.2em; font: inherit; cursor: pointer; } select { font: inherit; padding: 0.3em; }
#status { color: #555; min-height: 1.3em; } #status.error { color: #b91c1c; font-weight: 600; }
table { border-collapse: collapse; width: 100%; } th, td { border-bottom: 1px solid #ddd; padding: 0.45em; vertical-align: top; text-align: left; }
th { background: #f5f5f5; } td.num { color: #888; width: 2em; } td.sentence { line-height: 1.7; }
td.label { font-weight: 600; white-space: nowrap; } td.probs { font-size: 0.8em; white-space: nowrap; color: #555; }
mark { border-radius: 2px; padding: 0; color: inherit; }
.prob { display: flex; align-items: center; gap: 4px; } .prob.top { color: #111; font-weight: 600; }
.bar { display: inline-block; height: 0.7em; background: #6b8fd6; border-radius: 2px; }
"""

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>stance demo</title><style>{style}</style></head>
<body>
<h1>stance</h1>
<p class="sub">Stance on multilateral involvement, sentence by sentence: {labels}.</p>
<form id="form">
<textarea id="text" name="text" placeholder="Paste a paragraph or an article (Ctrl+Enter to analyse)" required></textarea>
<div class="controls"><label>Model <select id="model" name="model">{options}</select></label>
<button type="submit" id="submit">Analyse</button></div>
</form>
<p id="status" role="status"></p>
<table id="results"><thead><tr><th>#</th><th>Sentence (evidence highlighted)</th><th>Label</th><th>Probabilities</th></tr></thead>
<tbody></tbody></table>
<script>{script}</script>
</body></html>
"""

_script_hash = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
CSP = (f"default-src 'none'; script-src 'sha256-{_script_hash}'; style-src 'unsafe-inline'; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def render_page(model_names: list[str]) -> str:
    options = "".join(f'<option value="{html.escape(n)}">{html.escape(n)}</option>' for n in model_names)
    return _PAGE.format(style=STYLE, labels=html.escape(", ".join(LABELS)), options=options, script=SCRIPT)
