"""A process that writes workflow histories to a SQLiteStore until someone SIGKILLs it.

Usage: ``python -m tests.properties.sqlite_kill_target DB WORKFLOW_ID STEPS``. It opens
the store, prints ``ready``, then runs (or resumes) workflow ``WORKFLOW_ID``: STEPS
activities in a row, each a few history events and SQLite transactions, so a kill at a
random moment usually lands while a batch of events is being written. Each activity
spends a little real time (outside the simulation's clock, which stays deterministic) so
a run lasts long enough to be killed many times. When the workflow finishes it prints
``<status> <result as JSON> <events> <replays>``.
"""

from __future__ import annotations

import json
import sys
import time

import durasim
from durasim import activity, workflow

PAUSE = 0.0004
"""Real seconds each activity takes: sets how many events a process writes before a kill."""


@activity
def tick(i: int) -> int:
    time.sleep(PAUSE)
    return 2 * i


@workflow
async def LongWriter(ctx: durasim.engine.WorkflowContext, steps: int) -> int:
    """``steps`` activities in sequence; returns the sum of their results, n(n-1)."""
    total = 0
    for i in range(steps):
        total += await ctx.activity(tick, i)
    return total


def main(path: str, workflow_id: str, steps: int) -> None:
    store = durasim.SQLiteStore(path)
    print("ready", flush=True)
    run = durasim.execute(LongWriter, steps, id=workflow_id, store=store, trace=False)
    print(run.status, json.dumps(run.result), len(run.history), run.replays, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
