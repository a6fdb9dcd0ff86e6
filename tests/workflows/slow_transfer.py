"""A transfer whose activities take real time, run in a subprocess that tests kill.

Usage: ``python -m tests.workflows.slow_transfer DB_PATH``. The activities sleep a little
real time so a SIGKILL from the test lands in the middle of the workflow; the simulation
itself stays deterministic (the sleeps are outside its clock).
"""

from __future__ import annotations

import sys
import time

import durasim
from durasim import activity, workflow


@activity
def slow_step(name: str) -> str:
    time.sleep(0.02)  # real time: gives the test a window to kill us
    return f"{name} done"


@workflow
async def SlowTransfer(ctx: durasim.engine.WorkflowContext) -> str:
    for name in ("validate", "fraud_check", "withdraw", "record_ledger", "deposit", "notify"):
        await ctx.activity(slow_step, name)
    return "done"


def main(path: str) -> None:
    run = durasim.execute(SlowTransfer, id="slow", store=durasim.SQLiteStore(path),
                          trace=False)
    print(run.status, run.result, len(run.history), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
