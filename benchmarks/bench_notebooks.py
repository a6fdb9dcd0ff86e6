"""Notebook speed: seconds of cell time each course notebook takes, top to bottom.

A notebook a class waits on loses the class; the course's budget is 15 seconds of cell
execution per notebook (the kernel's start-up is not counted). The budget is measured
here rather than asserted in a test, so a slow CI machine cannot fail the build: the
tests only check that every notebook runs clean.

Both languages are measured (``es/`` before a Spanish notebook's name): make test runs
both, and total_s (every notebook's cell seconds, summed) is what they add to CI.

Last line: one JSON object with max_s (the slowest notebook), the slowest notebook's
name, total_s, seconds per notebook and budget_s. Target (issue 11.8): max_s <= 15.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the notebook runner the tests use lives in tests/
os.environ.setdefault("MPLBACKEND", "Agg")

from tests.notebook_runner import NOTEBOOKS, course_notebooks, execute  # noqa: E402

BUDGET_S = 15.0


def main() -> None:
    seconds: dict[str, float] = {}
    for path in [*course_notebooks(), *course_notebooks(NOTEBOOKS / "es")]:
        _, elapsed = execute(path)
        name = ("es/" if path.is_relative_to(NOTEBOOKS / "es") else "") + path.stem
        seconds[name] = round(elapsed, 2)
        mark = "" if elapsed <= BUDGET_S else "  (over budget)"
        print(f"{name:35s} {elapsed:6.2f} s{mark}", flush=True)
    slowest = max(seconds, key=seconds.__getitem__)
    print(json.dumps({"max_s": seconds[slowest], "slowest": slowest,
                      "total_s": round(sum(seconds.values()), 2), "seconds": seconds,
                      "budget_s": BUDGET_S}))


if __name__ == "__main__":
    main()
