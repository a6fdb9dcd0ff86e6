"""CrashLab speed: one click of Run (re-simulate the transfer, redraw every picture).

A class clicks Run and waits; past ~150 ms the widget feels sluggish. This measures what
a click does, end to end and in process: the talk's case (crash at step 5) is simulated
again on each architecture, and the timeline, the system graph, the history and the
checks are redrawn and encoded as the widget sends them.

Last line: one JSON object with median_ms (all clicks), per-architecture medians, the
number of clicks and target_ms. Target (issue 5): median_ms <= 150.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib

matplotlib.use("Agg")

from durasim.widgets import CrashLab

TARGET_MS = 150.0
ARCHITECTURES = ("monolith", "event_driven", "durable")


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
    print(json.dumps(result))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
