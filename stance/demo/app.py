"""The demo web app (Gradio): paste a text, see each sentence's stance, the words behind it, and correct a label.

    stance serve                      # http://127.0.0.1:8000/
    python -c "from stance.demo.app import launch; launch(port=0)"

`build_app(models)` returns the `gradio.Blocks` (tests pass small fitted models);
`launch(host, port)` serves it. The handlers live on `DemoHandlers`, plain Python
methods that tests call directly. It is a demo for one user on one machine: it binds
127.0.0.1 by default, caps the input, runs one analysis at a time through Gradio's
queue, and fetches nothing from the internet (analytics off, system fonts). There is
no authentication: do not expose it.

Gradio is imported only inside the functions here, so `import stance` (and this
module) stays light; `pip install -e ".[demo]"` installs it.
"""

from __future__ import annotations

import csv
import html
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from stance.corpus import MAX_SENTENCE_CHARS
from stance.explanation import AGAINST_RGB, TOWARD_RGB
from stance.labels import LABELS

if TYPE_CHECKING:
    import gradio

log = logging.getLogger(__name__)

MAX_CHARS = 20_000  # characters of input per analysis
MAX_SENTENCES = 200  # sentences per analysis; a longer text is cut after this many
TOP_K = 8  # pieces of evidence highlighted per sentence
QUEUE_CONCURRENCY = 1  # analyses run one at a time: a big paste cannot starve the CPU
QUEUE_MAX_SIZE = 16  # requests waiting beyond this are refused ("queue is full")
LOOPBACK = ("127.0.0.1", "localhost", "::1")

# One fixed colour per label (background of the label chip and of the sentence in the overview).
LABEL_COLORS: dict[str, str] = {
    "pro-UN": "#60a5fa",  # blue
    "pro-NATO": "#a78bfa",  # violet
    "unilateral": "#fb923c",  # orange
    "skeptical": "#facc15",  # yellow
    "none": "#d1d5db",  # grey
}
# The codebook's definitions (corpus/CODEBOOK.md), one line each.
LABEL_DEFINITIONS: dict[str, str] = {
    "pro-UN": "backs a role for the United Nations (mandates, agencies, peacekeepers) or for the whole world acting together",
    "pro-NATO": "backs a role for NATO, an allied coalition, the EU or a regional organisation",
    "unilateral": "backs one state acting on its own, or treats institutions as not worth the trouble",
    "skeptical": "doubts that multilateral help will come, work or last, without arguing for going alone",
    "none": "takes no position on who should be involved: narrative, facts, other topics",
}
TOWARD, AGAINST = "toward the label", "against the label"
EVIDENCE_COLORS = {TOWARD: "#{:02x}{:02x}{:02x}".format(*TOWARD_RGB),  # green and red, as `stance explain --html`
                   AGAINST: "#{:02x}{:02x}{:02x}".format(*AGAINST_RGB)}

# Short texts written for this demo (no real quotes): one click fills the box and analyses it.
EXAMPLES = [
    "The Security Council should give the relief mission a clear mandate before the rains come. "
    "Until then, the convoys wait at the border.",
    "Regional partners are ready to share the burden of patrolling the coast. The alliance has already sent two frigates.",
    "Our country needs nobody's permission to protect its own citizens, and we will act alone if we must.",
    "Everyone applauds the peace plan, but donors rarely deliver what they pledge. The talks resume on Monday.",
]

SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]

CSS = """
#results table { border-collapse: collapse; width: 100%; }
#results th, #results td { border-bottom: 1px solid #e5e7eb; padding: 0.35em 0.5em; vertical-align: top; text-align: left; }
#results td.num { color: #6b7280; width: 2.5em; }
#results td.label { white-space: nowrap; }
.stance-chip { display: inline-block; padding: 0 0.5em; border-radius: 0.6em; color: #111827; font-weight: 600; }
.stance-flag { color: #b45309; font-size: 0.85em; }
#key ul { list-style: none; padding-left: 0; margin: 0; } #key li { margin: 0.15em 0; }
"""


class DemoError(ValueError):
    """A problem to show the user as a message (a gr.Error in the page), never a traceback."""


@dataclass
class Row:
    """One analysed sentence."""

    index: int  # 1-based
    text: str
    start: int
    end: int
    label: str
    probabilities: dict[str, float]
    model: str

    @property
    def long(self) -> bool:
        return len(self.text) > MAX_SENTENCE_CHARS

    @property
    def confidence(self) -> float:
        return self.probabilities[self.label]


@dataclass
class Analysis:
    """The last analysis of a session (kept in a gr.State): its sentences and the menu name of its model."""

    model_name: str
    rows: list[Row] = field(default_factory=list)
    cut_at: int | None = None  # sentences in the whole text when it was cut after MAX_SENTENCES, else None


# ------------------------------------------------------------------ handlers (plain Python: tests call them)

class DemoHandlers:
    """What the page's buttons run. Errors meant for the user are raised as DemoError; the gradio
    wrappers in build_app turn them (and anything unexpected) into gr.Error messages."""

    def __init__(self, models: Mapping[str, Any] | None = None, csv_dir: Path | None = None):
        from stance.models.registry import SHIPPED_NAMES
        from stance.models.store import default_model_name

        if models is None:  # the shipped models, by name: each loads (once, cached) when first chosen
            models = {name: name for name in SHIPPED_NAMES}
        if not models:
            raise ValueError("models is empty: offer at least one, e.g. {'tfidf': 'tfidf'}")
        self.models: dict[str, Any] = dict(models)
        default = default_model_name()
        self.default_model = default if default in self.models else next(iter(self.models))
        self._csv_dir = csv_dir

    # ---- analysis

    def model(self, name: str) -> Any:
        if name not in self.models:
            raise DemoError(f"unknown model {name!r}: choose one of {', '.join(self.models)}")
        return self.models[name]

    def analyze(self, text: str | None, model_name: str | None) -> Analysis:
        """Split and classify `text` with the chosen model (stance.analyze); caps the input size."""
        from stance.api import analyze
        from stance.models.manifest import ModelFormatError
        from stance.segment import split_sentences

        text = text or ""
        if not text.strip():
            raise DemoError("The text is empty: paste a paragraph or click one of the examples.")
        if len(text) > MAX_CHARS:
            raise DemoError(f"The text has {len(text):,} characters; the demo takes at most {MAX_CHARS:,}: "
                            "paste a shorter part.")
        name = model_name or self.default_model
        model = self.model(name)
        spans = split_sentences(text)
        cut_at = None
        if len(spans) > MAX_SENTENCES:
            cut_at = len(spans)
            text = text[:spans[MAX_SENTENCES - 1].end]
        try:
            preds = analyze(text, model=model)
        except ModelFormatError as e:
            raise DemoError(f"Model {name!r} is not available: {e}") from None
        except ValueError as e:  # e.g. text that is not valid Unicode
            raise DemoError(str(e)) from None
        rows = [Row(i, p.text, p.start, p.end, p.label, dict(p.probabilities), p.model)
                for i, p in enumerate(preds[:MAX_SENTENCES], 1)]
        if not rows:
            raise DemoError("No sentence found in the text: paste a paragraph or click one of the examples.")
        return Analysis(name, rows, cut_at)

    def evidence(self, analysis: Analysis | None, index: int | None) -> tuple[list[tuple[str, str | None]], str]:
        """The picked sentence cut into pieces with 'toward/against the label' (for gr.HighlightedText), and a note."""
        from stance.explanation import explain

        row = self._row(analysis, index)
        assert analysis is not None
        text = row.text[:MAX_SENTENCE_CHARS]
        try:
            e = explain(text, model=self.model(analysis.model_name), top_k=TOP_K)
        except ValueError as err:  # e.g. too many words for occlusion: the page still shows the sentence
            return [(row.text, None)], f"Sentence {row.index}: no evidence ({err})."
        pieces = [(piece, None if w is None or w == 0 else TOWARD if w > 0 else AGAINST) for piece, w in e.segments()]
        if row.long:
            pieces.append((row.text[MAX_SENTENCE_CHARS:MAX_SENTENCE_CHARS + 80] + "…", None))
        note = (f"Sentence {row.index}: **{e.label}** (p={e.probability:.2f}), model `{e.model}`, {e.method}. "
                f"Highlights push toward {e.label} (green) or against it (red).")
        if row.long:
            note += f" The sentence has {len(row.text):,} characters: evidence for its first {MAX_SENTENCE_CHARS:,} only."
        if e.label != row.label:
            note += (f" (The evidence is for {e.label}; the table shows {row.label}: a near-tie of two labels, "
                     "or a long sentence read only in part.)")
        return pieces, note

    # ---- rendering

    @staticmethod
    def summary_html(analysis: Analysis) -> str:
        counts = Counter(r.label for r in analysis.rows)
        chips = " ".join(f'<span class="stance-count" data-label="{html.escape(l)}">{_chip(l)} {counts[l]}</span>'
                         for l in LABELS)
        n = len(analysis.rows)
        head = f"<strong>{n} sentence{'s' if n != 1 else ''}</strong>, model <code>{html.escape(analysis.model_name)}</code>: "
        cut = (f'<div class="stance-flag">The text has {analysis.cut_at:,} sentences: only the first {MAX_SENTENCES} '
               "were analysed.</div>" if analysis.cut_at else "")
        return f'<div class="stance-summary">{head}{chips}{cut}</div>'

    @staticmethod
    def results_html(analysis: Analysis) -> str:
        body = []
        for r in analysis.rows:
            shown = r.text if not r.long else r.text[:MAX_SENTENCE_CHARS] + "…"
            flag = (f'<div class="stance-flag">long sentence ({len(r.text):,} characters): shortened here, '
                    "and a model reads only its beginning</div>" if r.long else "")
            probs = ", ".join(f"{html.escape(l)} {p:.2f}" for l, p in r.probabilities.items())
            body.append(f'<tr class="result" data-label="{html.escape(r.label)}"><td class="num">{r.index}</td>'
                        f'<td class="sentence">{html.escape(shown)}{flag}</td>'
                        f'<td class="label" title="{probs}">{_chip(r.label)}</td>'
                        f'<td class="conf">{r.confidence:.2f}</td></tr>')
        return ('<table><thead><tr><th>#</th><th>Sentence</th><th>Label</th><th>p</th></tr></thead>'
                f'<tbody>{"".join(body)}</tbody></table>')

    @staticmethod
    def key_html() -> str:
        items = "".join(f"<li>{_chip(l)} {html.escape(LABEL_DEFINITIONS[l])}</li>" for l in LABELS)
        return f"<ul>{items}</ul>"

    @staticmethod
    def choices(analysis: Analysis) -> list[tuple[str, int]]:
        """The sentence menu for evidence and correction: ("3: The Security Council…", 3)."""
        return [(f"{r.index}: {r.text[:70]}{'…' if len(r.text) > 70 else ''}  [{r.label}]", r.index) for r in analysis.rows]

    # ---- CSV export

    def csv_dir(self) -> Path:
        """A private temporary folder for the CSV files (never the checkout); removed when the process exits."""
        if self._csv_dir is None:
            import atexit

            self._csv_dir = Path(tempfile.mkdtemp(prefix="stance-demo-"))
            atexit.register(shutil.rmtree, self._csv_dir, True)
        self._csv_dir.mkdir(parents=True, exist_ok=True)
        return self._csv_dir

    def write_csv(self, analysis: Analysis) -> Path:
        """The results as CSV: one row per sentence with offsets, label, every probability and the text."""
        fd, name = tempfile.mkstemp(prefix=f"stance-{time.strftime('%Y%m%d-%H%M%S')}-", suffix=".csv",
                                    dir=self.csv_dir())
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["sentence", "start", "end", "label", "confidence", "model", *(f"p_{l}" for l in LABELS), "text"])
            for r in analysis.rows:
                w.writerow([r.index, r.start, r.end, r.label, f"{r.confidence:.4f}", r.model,
                            *(f"{r.probabilities[l]:.4f}" for l in LABELS), r.text])
        return Path(name)

    # ---- correction

    def correct(self, analysis: Analysis | None, index: int | None, label: str | None) -> str:
        """Add the picked sentence with the chosen label to the user corpus (validated like `stance add`)."""
        from stance.corpus import CorpusError, add_examples, part_path

        row = self._row(analysis, index)
        assert analysis is not None
        if not label:
            raise DemoError(f"Choose the correct label for sentence {row.index}: one of {', '.join(LABELS)}.")
        try:
            report = add_examples([{"text": row.text, "label": label,
                                    "source": f"demo correction ({analysis.model_name} said {row.label})"}],
                                  where="demo correction")
        except CorpusError as e:
            raise DemoError("Not added: " + "; ".join(p.message.removeprefix("item 0: ") for p in e.problems)) from None
        if report.skipped:
            raise DemoError(f"Not added: sentence {row.index} is already in the corpus ({report.skipped[0][1]}).")
        rec = report.added[0]
        where = str(part_path("user")).replace("`", "'")
        return (f"Added sentence {row.index} as **{label}** to your corpus: {rec['id']} in `{where}`. "
                "Retrain with `stance train` to use it.")

    @staticmethod
    def _row(analysis: Analysis | None, index: int | None) -> Row:
        if analysis is None or not analysis.rows:
            raise DemoError("Analyse a text first, then pick one of its sentences.")
        if index is None:
            raise DemoError("Pick a sentence first.")
        try:
            i = int(index)
        except (ValueError, TypeError):
            i = 0
        if not 1 <= i <= len(analysis.rows):
            raise DemoError(f"No sentence {index!r}: pick one of 1 to {len(analysis.rows)}.")
        return analysis.rows[i - 1]


def _chip(label: str) -> str:
    return (f'<span class="stance-chip" data-label="{html.escape(label)}" '
            f'style="background:{LABEL_COLORS.get(label, "#e5e7eb")}">{html.escape(label)}</span>')


# ------------------------------------------------------------------ the page

def _gradio():
    """Import gradio with its analytics off (set before the import: it reads the variable then)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    try:
        import gradio as gr
    except ImportError:
        raise ImportError('the demo needs gradio: pip install -e ".[demo]"') from None
    return gr


def _user_error(gr: Any, fn: Any) -> Any:
    """Wrap a handler: DemoError -> gr.Error with its message; anything else -> gr.Error naming it, logged."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        try:
            return fn(*args)
        except gr.Error:
            raise
        except DemoError as e:
            raise gr.Error(str(e), print_exception=False) from None
        except Exception as e:
            log.exception("demo handler %s failed", getattr(fn, "__name__", fn))
            raise gr.Error(f"Internal error ({type(e).__name__}): {e}", print_exception=False) from None

    return wrapper


def theme() -> Any:
    """Gradio's default look with system fonts: nothing is fetched from Google Fonts or a CDN."""
    gr = _gradio()
    return gr.themes.Default(font=SYSTEM_FONTS, font_mono=MONO_FONTS)


def build_app(models: Mapping[str, Any] | None = None, handlers: DemoHandlers | None = None) -> "gradio.Blocks":
    """The demo as a gradio.Blocks with its queue set. models: menu name -> registry name, model directory
    or fitted model (default: the shipped models, loaded by name when first used)."""
    gr = _gradio()
    h = handlers or DemoHandlers(models)

    def on_analyze(text, model_name):
        analysis = h.analyze(text, model_name)
        if analysis.cut_at:
            gr.Warning(f"The text has {analysis.cut_at:,} sentences: only the first {MAX_SENTENCES} were analysed.")
        pieces, note = h.evidence(analysis, 1)
        choices = h.choices(analysis)
        return (analysis, h.summary_html(analysis), h.results_html(analysis), pieces, note,
                gr.update(choices=choices, value=1, interactive=True),
                gr.update(value=h.write_csv(analysis), interactive=True), "")

    def on_pick(analysis, index):
        return h.evidence(analysis, index)

    def on_correct(analysis, index, label):
        return h.correct(analysis, index, label)

    with gr.Blocks(title="stance demo", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        state = gr.State(None)
        gr.Markdown("# stance\nStance on multilateral involvement, sentence by sentence. "
                    f"Paste up to {MAX_CHARS:,} characters ({MAX_SENTENCES} sentences are analysed at most; "
                    f"a sentence over {MAX_SENTENCE_CHARS:,} characters is shortened for its evidence).")
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(label="Text", lines=6, elem_id="text",
                                  placeholder="Paste a paragraph or an article, or click an example below")
                with gr.Row():
                    model = gr.Dropdown(choices=list(h.models), value=h.default_model, label="Model", elem_id="model",
                                        scale=2)
                    run = gr.Button("Analyse", variant="primary", elem_id="analyze", scale=1)
                examples = gr.Examples(examples=[[t] for t in EXAMPLES], inputs=[text], label="Examples (click one)",
                                       elem_id="examples", cache_examples=False)
            with gr.Column(scale=2):
                gr.Markdown("### Labels")
                gr.HTML(h.key_html(), elem_id="key")
        summary = gr.HTML(elem_id="summary")
        results = gr.HTML(elem_id="results")
        with gr.Row():
            with gr.Column(scale=3):
                pick = gr.Dropdown(label="Sentence (for its evidence and to correct it)", choices=[], interactive=False,
                                   elem_id="pick")
                note = gr.Markdown(elem_id="evidence-note")
                evidence = gr.HighlightedText(label="Evidence", color_map=EVIDENCE_COLORS, show_legend=True,
                                              combine_adjacent=False, elem_id="evidence")
            with gr.Column(scale=2):
                csv_file = gr.DownloadButton("Download the results (CSV)", elem_id="download", interactive=False)
                new_label = gr.Radio(choices=list(LABELS), label="Correct label for the chosen sentence",
                                     elem_id="new-label")
                correct = gr.Button("Add it to my corpus", elem_id="correct")
                status = gr.Markdown(elem_id="correct-status")

        outputs = [state, summary, results, evidence, note, pick, csv_file, status]
        run.click(_user_error(gr, on_analyze), [text, model], outputs, api_name="analyze")
        text.submit(_user_error(gr, on_analyze), [text, model], outputs, api_visibility="undocumented")
        examples.load_input_event.then(_user_error(gr, on_analyze), [text, model], outputs, api_visibility="undocumented")
        pick.input(_user_error(gr, on_pick), [state, pick], [evidence, note], api_name="evidence")
        correct.click(_user_error(gr, on_correct), [state, pick, new_label], [status], api_name="correct")
    demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY, max_size=QUEUE_MAX_SIZE)
    return demo


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free on `host` now (Gradio itself cannot bind port 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def launch(host: str = "127.0.0.1", port: int = 8000, models: Mapping[str, Any] | None = None,
           block: bool = True) -> "gradio.Blocks":
    """Serve the demo on host:port (0: a free port). block=False returns the running app (demo.local_url;
    demo.close() stops it), as the browser test does."""
    demo = build_app(models)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's start-up checks of its own URL: not news
    if port == 0:
        port = free_port(host)
    if host not in LOOPBACK:
        print(f"warning: listening on {host}: anyone who can reach this address can use the demo "
              "(there is no authentication)", file=sys.stderr)
    try:
        demo.launch(server_name=host, server_port=port, share=False, inbrowser=False, prevent_thread_lock=True,
                    quiet=True, show_error=False, ssr_mode=False, pwa=False, mcp_server=False, enable_monitoring=False,
                    theme=theme(), css=CSS, max_file_size="1mb")
    except OSError as e:
        raise OSError(f"cannot listen on {host}:{port} ({e}): choose another --port or --host") from None
    print(f"stance demo on {demo.local_url}  (Ctrl-C to stop)", flush=True)
    if block:
        try:
            demo.block_thread()
        except KeyboardInterrupt:
            pass
        finally:
            demo.close()
    return demo
