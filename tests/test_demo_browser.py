"""The demo app in a real browser: Debian's Chromium driven by Playwright, the Gradio app served in-process.

Needs /usr/bin/chromium (scripts/setup.sh: apt-get install -y chromium); skipped with a
reason where it is absent. Playwright never downloads a browser here. Set
STANCE_DEMO_SCREENSHOT to save a screenshot elsewhere.
"""

import csv
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import stance

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT = 30_000  # ms


@pytest.mark.slow
def test_demo_app_shows_the_labels_analyze_gives_and_takes_a_correction(tiny_data, home, tmp_path):
    if not Path(CHROMIUM).is_file() or not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent: install it with `apt-get install -y chromium` to run the browser test")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'")
    pytest.importorskip("gradio", reason='gradio is not installed: pip install -e ".[demo]"')
    from stance.corpus import load_records
    from stance.demo.app import EXAMPLES, launch
    from stance.models.tfidf import TfidfStance

    model = TfidfStance(search=False).fit(*tiny_data)
    example = EXAMPLES[0]
    expected = stance.analyze(example, model=model)
    assert len(expected) == 2
    demo = launch("127.0.0.1", 0, models={"tfidf": model}, block=False)
    origin = urlsplit(demo.local_url).netloc
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 900}, accept_downloads=True)
                errors: list[str] = []
                elsewhere: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("request", lambda r: elsewhere.append(r.url)
                        if r.url.split(":")[0] in ("http", "https", "ws", "wss") and urlsplit(r.url).netloc != origin else None)
                page.goto(demo.local_url)

                # one click on an example fills the box and analyses it
                page.locator("#examples button.gallery-item").first.click()
                rows = page.locator("#results tr.result")
                rows.nth(1).wait_for(timeout=TIMEOUT)
                assert page.input_value("#text textarea") == example
                assert rows.count() == 2
                assert [rows.nth(i).locator("td.label").inner_text().strip() for i in range(2)] == [p.label for p in expected]
                assert [rows.nth(i).locator("td.sentence").inner_text().strip() for i in range(2)] == [p.text for p in expected]
                assert "2 sentences" in page.inner_text("#summary")
                page.locator("#evidence").get_by_text(expected[0].text.split()[1]).first.wait_for(timeout=TIMEOUT)

                # the CSV download holds the same labels
                with page.expect_download(timeout=TIMEOUT) as download:
                    page.click("#download")
                saved = tmp_path / "results.csv"
                download.value.save_as(saved)
                with open(saved, encoding="utf-8", newline="") as f:
                    assert [r["label"] for r in csv.DictReader(f)] == [p.label for p in expected]

                # correct sentence 2: pick it, choose another label, add it to the user corpus
                new = next(l for l in stance.LABELS if l != expected[1].label)
                page.click("#pick input")
                page.get_by_role("option", name="2: ").click()
                page.get_by_role("option").first.wait_for(state="detached", timeout=TIMEOUT)
                page.click(f'#new-label [data-testid="{new}-radio-label"]')
                page.click("#correct")
                page.locator("#correct-status").get_by_text("Added sentence 2").wait_for(timeout=TIMEOUT)
                assert [(r["text"], r["label"]) for r in load_records("user")] == [(expected[1].text, new)]

                # a second correction of the same sentence is refused with a message, not a traceback
                page.click("#correct")
                page.get_by_text("already in the corpus").first.wait_for(timeout=TIMEOUT)
                assert len(load_records("user")) == 1

                page.screenshot(path=os.environ.get("STANCE_DEMO_SCREENSHOT", str(tmp_path / "demo.png")), full_page=True)
                assert errors == []  # no script errors
                assert elsewhere == []  # nothing fetched from anywhere but the app itself
            finally:
                browser.close()
    finally:
        demo.close()
