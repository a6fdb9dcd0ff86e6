"""CrashLab and Predict in a real browser: Voilà serves them, Playwright drives chromium.

What the Python-driven widget tests cannot see is whether the widgets work where students
use them: rendered by the widget manager in a page, talking to a kernel over a websocket.
This test serves tests/browser/crashlab.ipynb with Voilà on 127.0.0.1 (token auth on),
changes the crash step like a student (without pressing Run: the picture must follow the
controls), and makes a prediction and reveals it. It uses the system's chromium and never
downloads a browser.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.voila import (
    CHROMIUM,
    CHROMIUM_ARGS,
    NOTEBOOK,
    requirements,
    serve,
    settled_after,
    watch_mutations,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

LOAD_MS = 120_000
"""Voilà starts a kernel and runs the notebook before the page shows: be patient."""


def test_changing_the_step_changes_the_picture_and_a_prediction_is_revealed(
        tmp_path: Path) -> None:
    reason = requirements()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with serve(NOTEBOOK, log=tmp_path / "voila.log") as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(url, timeout=LOAD_MS)
            page.wait_for_selector(".durasim-crashlab .durasim-checks", timeout=LOAD_MS)
            page.wait_for_selector(".durasim-predict", timeout=LOAD_MS)
            lab = page.locator(".durasim-crashlab")
            checks = lab.locator(".durasim-checks")
            picture = lab.locator("img").first
            assert "✗" not in checks.inner_text()  # the crash-free run passes every check
            assert lab.locator(".durasim-scroll").count() == 1, "the history box (anywidget)"
            before = picture.screenshot()
            watch_mutations(page, ".durasim-crashlab")

            lab.get_by_role("button", name="5 deposit").click()  # no Run
            page.wait_for_function(
                "document.querySelector('.durasim-crashlab .durasim-checks')"
                ".innerText.includes('✗')", timeout=60_000)
            settled_after(page, 0.0, quiet_ms=500)
            text = checks.inner_text()
            assert "lost" in text and "Money was destroyed" in text
            assert picture.screenshot() != before
            box = picture.bounding_box()
            assert box is not None and box["width"] <= 1280

            predict = page.locator(".durasim-predict")
            reveal = predict.get_by_role("button", name="Reveal")
            assert reveal.is_disabled()
            predict.locator(".widget-toggle-buttons").nth(0).get_by_role(
                "button", name="-25").click()
            predict.locator(".widget-toggle-buttons").nth(1).get_by_role(
                "button", name="+25").click()
            reveal.click()
            page.wait_for_selector(".durasim-predict .durasim-answer", timeout=60_000)
            answer = predict.locator(".durasim-answer")
            assert answer.get_attribute("data-right") == "false"
            assert "you said +25 ✗" in answer.inner_text()
            assert page.locator(".durasim-error").count() == 0
            page.screenshot(path=str(tmp_path / "crashlab.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "crashlab.png").stat().st_size > 10_000
