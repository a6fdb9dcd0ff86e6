"""CrashLab in a real browser: Voilà serves it, Playwright drives Debian's chromium.

What the Python-driven widget tests cannot see is whether the widget works where students
use it: rendered by the widget manager in a page, talking to a kernel over a websocket.
This test serves tests/browser/crashlab.ipynb with Voilà on 127.0.0.1 (token auth on),
clicks the step-5 crash and Run like a student, and checks that the verdict and the
picture change. It uses the system's chromium and never downloads a browser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.voila import CHROMIUM, CHROMIUM_ARGS, NOTEBOOK, serve, voila_command

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

LOAD_MS = 120_000
"""Voilà starts a kernel and runs the notebook before the page shows: be patient."""


def _requirements() -> str | None:
    """Why the test cannot run here, or None."""
    if not CHROMIUM.exists():
        return (f"{CHROMIUM} is missing: install Debian's chromium (make chromium, or "
                "apt-get install chromium); browsers are never downloaded")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install 'durasim[dev]')"
    if voila_command() is None:
        return "voila is not installed (pip install 'durasim[lab]')"
    return None


def test_crashlab_in_chromium_shows_the_lost_deposit(tmp_path: Path) -> None:
    reason = _requirements()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with serve(NOTEBOOK, log=tmp_path / "voila.log") as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1400})
            page.goto(url, timeout=LOAD_MS)
            page.wait_for_selector(".durasim-crashlab .durasim-checks", timeout=LOAD_MS)
            checks = page.locator(".durasim-checks")
            picture = page.locator(".durasim-crashlab img").first
            before_text = checks.inner_text()
            before_picture = picture.screenshot()
            assert "✗" not in before_text  # the crash-free run passes every check

            page.get_by_role("button", name="5 deposit").click()
            page.get_by_role("button", name=re.compile(r"^\W*Run\s*$")).click()
            page.wait_for_function(
                "document.querySelector('.durasim-checks').innerText.includes('✗')",
                timeout=60_000)
            page.wait_for_timeout(500)  # let the new picture finish decoding

            after_text = checks.inner_text()
            assert "lost" in after_text and "Money was destroyed" in after_text
            assert picture.screenshot() != before_picture
            assert page.locator(".durasim-error").count() == 0
            page.screenshot(path=str(tmp_path / "crashlab.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "crashlab.png").stat().st_size > 10_000
