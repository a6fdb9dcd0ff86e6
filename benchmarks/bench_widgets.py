"""CrashLab speed: one click (re-simulate the transfer, redraw every picture), in process
and in a real browser.

A class clicks and waits; past ~200 ms the widget feels sluggish. In process, this
measures what a click of Run does: the talk's case (crash at step 5) simulated again on
each architecture, and the timeline, the system graph, the history and the checks redrawn
and encoded as the widget sends them. In the browser (Voilà serving CrashLab, Debian's
chromium driven by Playwright), it measures what a student waits: from the click on a
step until the widget's output stops changing (a MutationObserver records the last
change; the output counts as settled after 400 ms without one). Every click picks a step
different from the one shown, so no click is served from an unchanged picture.

Last line: one JSON object with median_ms (in process, all clicks), per-architecture
medians, browser_median_ms (null when chromium, Playwright or Voilà is missing, with the
reason), the number of clicks and the targets. Targets: median_ms <= 150 (issue 5),
browser_median_ms <= 200 (issue 15.7).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib

matplotlib.use("Agg")

from durasim.widgets import CrashLab

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' Voilà helpers
from tests.browser.voila import (
    CHROMIUM,
    CHROMIUM_ARGS,
    NOTEBOOK,
    click_at,
    requirements,
    serve,
    settled_after,
    watch_mutations,
)

TARGET_MS = 150.0
BROWSER_TARGET_MS = 200.0
ARCHITECTURES = ("monolith", "event_driven", "durable")
STEPS = ("3 withdraw", "5 deposit", "no crash", "4 record_ledger", "6 notify", "2 fraud_check")


def clicks(architecture: str, rounds: int) -> list[float]:
    """Milliseconds of ``rounds`` Run clicks on the talk's case, after a warm-up click."""
    lab = CrashLab("transfer", architecture=architecture)
    lab.step.value = 5
    lab.run_button.click()  # warm-up: imports, fonts, the crash-free baseline's cache
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        lab.run_button.click()
        times.append((time.perf_counter() - start) * 1000)
    if "durasim-error" in lab.output.value:
        raise SystemExit(f"the widget reported an error: {lab.output.value}")
    return times


def browser_clicks(rounds: int) -> tuple[list[float], str]:
    """Milliseconds from a click on a step to a settled widget, in chromium; (times, why
    none were measured)."""
    reason = requirements()
    if reason:
        return [], reason
    from playwright.sync_api import sync_playwright

    times: list[float] = []
    with tempfile.TemporaryDirectory() as folder, \
            serve(NOTEBOOK, log=Path(folder) / "voila.log") as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(url, timeout=180_000)
            page.wait_for_selector(".durasim-crashlab .durasim-checks", timeout=180_000)
            lab = page.locator(".durasim-crashlab")
            watch_mutations(page, ".durasim-crashlab")
            settled_after(page, 0.0)  # the first drawing is not a click
            for i in range(rounds + 1):
                step = lab.get_by_role("button", name=STEPS[i % len(STEPS)], exact=True)
                elapsed = settled_after(page, click_at(page, step))
                if i:  # the first click warms the kernel's caches up
                    times.append(elapsed)
            if page.locator(".durasim-error").count():
                raise SystemExit("the widget reported an error in the browser")
        finally:
            browser.close()
    return times, ""


def main(rounds: int = 15) -> None:
    per_arch = {name: clicks(name, rounds) for name in ARCHITECTURES}
    every = [t for times in per_arch.values() for t in times]
    result = {
        "median_ms": round(statistics.median(every), 1),
        **{f"{name}_median_ms": round(statistics.median(times), 1)
           for name, times in per_arch.items()},
        "clicks": len(every),
        "target_ms": TARGET_MS,
    }
    for name, times in per_arch.items():
        print(f"{name:13s} median {statistics.median(times):6.1f} ms  "
              f"min {min(times):6.1f}  max {max(times):6.1f}")
    in_browser, why = browser_clicks(rounds)
    if in_browser:
        print(f"{'browser':13s} median {statistics.median(in_browser):6.1f} ms  "
              f"min {min(in_browser):6.1f}  max {max(in_browser):6.1f}")
    else:
        print(f"browser: not measured ({why})")
    result["browser_median_ms"] = (round(statistics.median(in_browser), 1)
                                   if in_browser else None)
    result["browser_clicks"] = len(in_browser)
    result["browser_target_ms"] = BROWSER_TARGET_MS
    print(json.dumps(result))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
