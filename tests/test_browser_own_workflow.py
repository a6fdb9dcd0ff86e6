"""A student's own Temporal workflow in a real browser: run.show(), CrashLab, replay by click.

tests/browser/own_workflow.ipynb defines a Temporal SDK workflow in a cell, as a student
would, shows a crashed run with ``run.show()`` and opens ``CrashLab(workflow=...)``. Voilà
serves it on 127.0.0.1 (token auth on) and Playwright drives Debian's chromium: the run's
picture and history are on the page, and a click on a history event moves the highlighted
line of the student's code to the line that issued that event's command.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.voila import CHROMIUM, CHROMIUM_ARGS, HERE, requirements, serve
from tests.test_browser import LOAD_MS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

NOTEBOOK = HERE / "own_workflow.ipynb"
CURRENT_LINE = ".durasim-workflow-lab .durasim-current-line"


def test_a_click_on_a_history_event_moves_the_line_in_the_students_code(
        tmp_path: Path) -> None:
    reason = requirements()
    if reason:
        pytest.skip(reason)
    pytest.importorskip("temporalio", reason="the notebook's workflow is a Temporal SDK class")
    from playwright.sync_api import sync_playwright

    with serve(NOTEBOOK, log=tmp_path / "voila.log") as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1600})
            page.goto(url, timeout=LOAD_MS)
            page.wait_for_selector(".durasim-workflow-lab select", timeout=LOAD_MS)
            shown = page.locator(".durasim-workflow-run")  # run.show()
            assert "Checkout: completed" in shown.inner_text()
            assert shown.locator("img").count() == 1
            assert "↺" in shown.inner_text()  # the events the restarted worker replayed

            events = page.locator(".durasim-workflow-lab select")
            for event, line in (
                    ("ActivityTaskScheduled · charge_card",
                     "charged = await workflow.execute_activity("),
                    ("TimerStarted", "await workflow.sleep(timedelta(days=1))"),
                    ("ActivityTaskScheduled · send_receipt", "await workflow.execute_activity(")):
                options = [text.replace("\xa0", " ")  # the widget pads with no-break spaces
                           for text in events.locator("option").all_inner_texts()]
                index = next((i for i, text in enumerate(options) if event in text), None)
                assert index is not None, options
                events.select_option(index=index)  # a click on the event
                page.wait_for_function(  # "  27      <the line>": its number, then the code
                    "([selector, line]) => ((document.querySelector(selector) || {}).innerText"
                    " || '').replace(/^\\s*\\d+\\s*/, '').trim() === line",
                    arg=[CURRENT_LINE, line], timeout=30_000)
            assert page.locator(".durasim-error").count() == 0
            page.screenshot(path=str(tmp_path / "own_workflow.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "own_workflow.png").stat().st_size > 10_000
