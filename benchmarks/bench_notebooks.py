"""Notebook speed: seconds of cell time each course notebook takes, top to bottom.

A notebook a class waits on loses the class; the course's budget is 15 seconds of cell
execution per notebook (the kernel's start-up is not counted). The budget is measured
here rather than asserted in a test, so a slow CI machine cannot fail the build: the
tests only check that every notebook runs clean.

Last line: one JSON object with max_s (the slowest notebook), the slowest notebook's
name, seconds per notebook and budget_s. Target (issue 11.8): max_s <= 15.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the notebook runner the tests use lives in tests/
os.environ.setdefault("MPLBACKEND", "Agg")

from tests.notebook_runner import course_notebooks, execute  # noqa: E402

BUDGET_S = 15.0


def main() -> None:
    seconds: dict[str, float] = {}
    for path in course_notebooks():
        _, elapsed = execute(path)
        seconds[path.stem] = round(elapsed, 2)
        mark = "" if elapsed <= BUDGET_S else "  (over budget)"
        print(f"{path.stem:32s} {elapsed:6.2f} s{mark}", flush=True)
    slowest = max(seconds, key=seconds.__getitem__)
    print(json.dumps({"max_s": seconds[slowest], "slowest": slowest, "seconds": seconds,
                      "budget_s": BUDGET_S}))


if __name__ == "__main__":
    main()
