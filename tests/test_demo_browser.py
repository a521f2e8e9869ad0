"""The demo page in a real browser: Debian's Chromium driven by Playwright.

Needs /usr/bin/chromium (scripts/setup.sh: apt-get install -y chromium); skipped with a
reason where it is absent. Set STANCE_DEMO_SCREENSHOT to save a screenshot elsewhere.
"""

import os
import shutil
import threading
from pathlib import Path

import pytest

import stance

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.slow
def test_demo_page_shows_the_labels_analyze_gives(tiny_data, tmp_path):
    if not Path(CHROMIUM).is_file() or not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent: install it with `apt-get install -y chromium` to run the browser test")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'")
    from stance.demo.server import make_server
    from stance.models.tfidf import TfidfStance

    model = TfidfStance(search=False).fit(*tiny_data)
    server = make_server("127.0.0.1", 0, models={"tfidf": model}, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    text = "The Security Council must authorise the mission. NATO allies should lead the <b>force</b>."
    expected = [p.label for p in stance.analyze(text, model=model)]
    assert len(expected) == 2
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 700})
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.goto(server.url)
                page.fill("#text", text)
                page.select_option("#model", "tfidf")
                page.click("#submit")
                page.wait_for_selector("#results tbody tr.result >> nth=1", timeout=30_000)
                rows = page.locator("#results tbody tr.result")
                assert rows.count() == 2
                assert [rows.nth(i).locator("td.label").inner_text() for i in range(2)] == expected
                # the text is shown as text (no markup injected) and evidence is highlighted
                assert rows.nth(1).locator("td.sentence").inner_text() == "NATO allies should lead the <b>force</b>."
                assert page.locator("#results td.sentence mark").count() > 0
                assert "2 sentence(s)" in page.inner_text("#status")
                page.screenshot(path=os.environ.get("STANCE_DEMO_SCREENSHOT", str(tmp_path / "demo.png")), full_page=True)
                assert errors == []  # no script errors, no CSP violations
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
