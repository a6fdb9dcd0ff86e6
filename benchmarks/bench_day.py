"""A bank's day in seconds: how long ``durasim.day`` takes on each architecture.

Each architecture runs the same day (transfers arriving through eight business hours,
one in a hundred hit by a crash) twice: with 1,000 transfers and with 10,000, so
``scaling`` = time(10,000) / time(1,000) shows whether a day costs what its transfers
cost (10 is linear). The durable day also reports the memory one open workflow holds:
that many workflows are started and left waiting on a durable timer, and what they hold
together (server, history store, worker cache, coroutines) is divided by their number.

Run ``python benchmarks/bench_day.py [TRANSFERS]``; the last line is one JSON object with
``transfers``, ``seconds``, ``cpu_seconds`` and ``transfers_per_s`` (each by architecture),
``scaling`` (by architecture: CPU time of the big day over the small one's, steadier than
the wall clock on a shared machine; ``scaling_wall`` is the same from wall seconds) and
``memory_per_open_workflow_kb``. Targets (issue 16): the durable day of 10,000 transfers
in at most 5 s, ``scaling`` at most 11. Every time is the best of ``REPEATS`` runs.
"""

from __future__ import annotations

import gc
import json
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import durasim
from durasim import workflow
from durasim.engine.api import EngineCluster
from durasim.engine.context import WorkflowContext

ARCHITECTURES = ("monolith", "event_driven", "durable")
REPEATS = 2
CRASH_RATE = 0.01


def timed_day(architecture: str, transfers: int) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds) of a day of ``transfers`` on ``architecture``."""
    wall_best = cpu_best = float("inf")
    for _ in range(REPEATS):
        wall, cpu = time.perf_counter(), time.process_time()
        durasim.day("transfer", architecture, transfers=transfers, crash_rate=CRASH_RATE,
                    seed=0)
        wall_best = min(wall_best, time.perf_counter() - wall)
        cpu_best = min(cpu_best, time.process_time() - cpu)
        gc.collect()
    return wall_best, cpu_best


@workflow
async def Waiting(ctx: WorkflowContext) -> None:
    """An open workflow: started, then waiting an hour on a durable timer."""
    await ctx.sleep(3600)


def memory_per_open_workflow(count: int = 2000) -> float:
    """KiB that one open workflow holds, all parts of the engine counted."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    cluster = EngineCluster(workflows=[Waiting], trace=False)
    cluster.start()
    for i in range(count):
        cluster.submit(Waiting, workflow_id=f"w{i}")
    cluster.sim.run(until=60.0)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    still_open = sum(1 for r in cluster.store.runs() if r.status == "running")
    assert still_open == count, f"only {still_open} of {count} workflows are open"
    return held / count / 1024


def main() -> None:
    transfers = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    small = max(1, transfers // 10)
    durasim.day("transfer", "durable", transfers=50, crash_rate=CRASH_RATE)  # warm up
    figures: dict[str, Any] = {"transfers": transfers, "seconds": {}, "cpu_seconds": {},
                               "transfers_per_s": {}, "scaling": {}, "scaling_wall": {}}
    for architecture in ARCHITECTURES:
        small_s, small_cpu = timed_day(architecture, small)
        seconds, cpu = timed_day(architecture, transfers)
        figures["seconds"][architecture] = round(seconds, 2)
        figures["cpu_seconds"][architecture] = round(cpu, 2)
        figures["transfers_per_s"][architecture] = round(transfers / seconds)
        figures["scaling"][architecture] = round(cpu / small_cpu, 2)
        figures["scaling_wall"][architecture] = round(seconds / small_s, 2)
        print(f"{architecture}: {small} transfers in {small_s:.2f} s ({small_cpu:.2f} s CPU), "
              f"{transfers} in {seconds:.2f} s ({cpu:.2f} s CPU)", file=sys.stderr)
    figures["memory_per_open_workflow_kb"] = round(memory_per_open_workflow(), 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
