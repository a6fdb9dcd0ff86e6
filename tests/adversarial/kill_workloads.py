"""Workflows that a process drives on a shared SQLiteStore until it is SIGKILLed.

The SIGKILL tests open one store per lane, put many workflows in it (timers, gather,
children, continue-as-new) and run them with ``durasim.execute(..., store=store)``, which
resumes whatever a killed process left open. :class:`KillingStore` is a real
``SQLiteStore`` that SIGKILLs its own process at a chosen moment, so a kill lands exactly
where a test wants it, every time:

- ``commit=K``: right after this process's K-th committed transaction;
- ``vm=K``: inside SQLite, at the K-th progress callback (every 100 virtual-machine
  instructions), i.e. in the middle of a statement or a transaction, or of the load;
- ``runs=N``: right after the store's N-th run is created;
- ``buffered:PREFIX``: right after a run's state is saved with an event whose type starts
  with PREFIX parked in it (e.g. ``buffered:ActivityTask``: an activity completed while a
  workflow task was in flight, so its completion waits to be written with the task's);
- ``continued``: right after a run's continue-as-new is committed, before the next run
  exists.

Every commit is first logged to ``<db>.commits`` (``workflow run last_event_id`` per line,
written with one ``os.write`` so a kill cannot tear it), so the test can check that every
event a killed process committed is still there.

Usage: ``python -m tests.adversarial.kill_workloads DB RULE [--hold] [WORKLOAD...]`` (RULE
``none`` lets it finish) prints ``<workflow id> <status> <result as JSON>`` per workload;
``python -m tests.adversarial.kill_workloads --serve`` is a fork server (see serve()).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import durasim
from durasim import activity, workflow
from durasim.engine.history import HistoryEvent

HOUR = 3600.0


@activity
def double(i: int) -> int:
    return 2 * i


async def ticker(ctx: durasim.engine.WorkflowContext, rounds: int) -> int:
    """An activity and an hour's durable timer per round."""
    total = 0
    for i in range(rounds):
        total += await ctx.activity(double, i)
        await ctx.sleep(HOUR)
    return total


async def fanout(ctx: durasim.engine.WorkflowContext, width: int, waves: int) -> int:
    """``waves`` rounds of ``ctx.gather`` over ``width`` activities and short timers that
    race them (some fire while a workflow task is in flight)."""
    total = 0
    for wave in range(waves):
        results = await ctx.gather(*(ctx.sleep(0.004 * i) for i in range(1, 6)),
                                   *(ctx.activity(double, wave * width + i)
                                     for i in range(width)))
        total += sum(r for r in results if r is not None)
    return total


@workflow
async def Leaf(ctx: durasim.engine.WorkflowContext, base: int) -> int:
    """A child: two activities around a timer."""
    first = await ctx.activity(double, base)
    await ctx.sleep(HOUR)
    return first + await ctx.activity(double, base + 1)


async def tree(ctx: durasim.engine.WorkflowContext, children: int) -> int:
    """Children started together (gather) and one more after them."""
    results = await ctx.gather(*(ctx.child(Leaf, 10 * i) for i in range(children)))
    return sum(results) + await ctx.child(Leaf, 1000)


async def looper(ctx: durasim.engine.WorkflowContext, left: int, total: int) -> int:
    """An activity and a timer per run, then continue-as-new until ``left`` is 0."""
    total += await ctx.activity(double, left)
    await ctx.sleep(HOUR)
    if left:
        ctx.continue_as_new("looper", left - 1, total)
    return total


@workflow
async def Job(ctx: durasim.engine.WorkflowContext, shape: str, *args: Any) -> int:
    """One workflow type for every shape a store holds.

    A worker runs only the workflows it was deployed with (``durasim.execute`` deploys
    the one it is given and those its code names), yet it resumes every open run of the
    store: with one type (and its child, Leaf) each process can finish them all.
    """
    if shape == "ticker":
        return await ticker(ctx, *args)
    if shape == "fanout":
        return await fanout(ctx, *args)
    if shape == "tree":
        return await tree(ctx, *args)
    return await looper(ctx, *args)


@dataclass(frozen=True)
class Workload:
    """One workflow of a store: its id and the arguments of :func:`Job`."""

    workflow_id: str
    args: tuple[Any, ...]


WORKLOADS = (
    Workload("ticker-1", ("ticker", 6)),
    Workload("fanout-1", ("fanout", 5, 3)),
    Workload("tree-1", ("tree", 3)),
    Workload("looper-1", ("looper", 5, 0)),
    Workload("ticker-2", ("ticker", 4)),
    Workload("fanout-2", ("fanout", 20, 2)),
    Workload("tree-2", ("tree", 2)),
    Workload("looper-2", ("looper", 3, 0)),
)
"""What each store holds: eight workflows, 23 runs with children and continuations."""
WORKFLOWS = (Job, Leaf)


def expected_results() -> dict[str, Any]:
    """Each workload's result on a crash-free run in memory."""
    return {w.workflow_id: durasim.execute(Job, *w.args, id=w.workflow_id,
                                           trace=False).result for w in WORKLOADS}


class KillingStore(durasim.SQLiteStore):
    """A SQLiteStore that SIGKILLs its own process at the moment ``rule`` names."""

    def __init__(self, path: str | Path, rule: str = "none") -> None:
        self.rule, _, count = rule.partition("=")
        self.count = int(count or 0)
        self.commits = 0
        self.log = os.open(f"{path}.commits", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if self.rule == "vm":
            self.callbacks = 0
        super().__init__(path)

    def close(self) -> None:
        super().close()
        if self.log >= 0:
            os.close(self.log)
            self.log = -1

    def _connect(self) -> Any:
        db = super()._connect()
        if self.rule == "vm":
            db.set_progress_handler(self._vm_tick, 100)
        return db

    def _vm_tick(self) -> int:
        self.callbacks += 1
        if self.callbacks == self.count:
            die()
        return 0

    def create_run(self, workflow_id: str, run_id: str, workflow_type: str,
                   parent: dict[str, Any] | None = None,
                   events: Sequence[HistoryEvent] = (),
                   state: dict[str, Any] | None = None) -> Any:
        record = super().create_run(workflow_id, run_id, workflow_type, parent, events,
                                    state)
        self._committed(workflow_id, run_id, events, None, None, created=True)
        return record

    def append(self, workflow_id: str, run_id: str, events: Sequence[HistoryEvent],
               state: dict[str, Any] | None = None, status: str | None = None) -> None:
        super().append(workflow_id, run_id, events, state, status)
        self._committed(workflow_id, run_id, events, state, status, created=False)

    def _committed(self, workflow_id: str, run_id: str, events: Sequence[HistoryEvent],
                   state: dict[str, Any] | None, status: str | None, *, created: bool) -> None:
        last = len(self.run(workflow_id, run_id).events)
        os.write(self.log, f"{workflow_id} {run_id} {last}\n".encode())
        self.commits += 1
        if ((self.rule == "commit" and self.commits == self.count)
                or (self.rule == "runs" and created and len(self.runs()) == self.count)
                or (self.rule.startswith("buffered") and not events and state
                    and any(t.startswith(self.rule.partition(":")[2])
                            for t, *_ in state.get("buffered", ())))
                or (self.rule == "continued" and status == "continued")):
            die()


def die() -> None:
    """SIGKILL this process: no cleanup, no flush, no atexit; what is on disk stays."""
    os.kill(os.getpid(), signal.SIGKILL)


def drive(store: durasim.SQLiteStore, workloads: Sequence[Workload] = WORKLOADS
          ) -> dict[str, tuple[str, Any]]:
    """Run (or resume) every workload in ``store``, then close it; status and result."""
    try:
        outcomes = {}
        for w in workloads:
            run = durasim.execute(Job, *w.args, id=w.workflow_id, store=store,
                                  trace=False)
            outcomes[w.workflow_id] = (run.status, run.result)
        return outcomes
    finally:
        store.close()


def child_main(path: str, rule: str) -> None:
    """A forked child: drive every workload, then exit 0; any error goes to ``<db>.error``
    and exit status 3 (a SIGKILL shows as -9). It never returns to its caller."""
    try:
        drive(KillingStore(path, rule))
    except BaseException:
        Path(f"{path}.error").write_text(traceback.format_exc())
        os._exit(3)
    os._exit(0)


def serve() -> None:
    """A fork server: for each ``DB RULE`` line on stdin, fork a child that runs
    :func:`child_main`, print ``started PID``, wait for it and print ``exit CODE``.

    Forking from a process that has already imported durasim and these workflows makes a
    kill cost milliseconds instead of an interpreter start.
    """
    for line in sys.stdin:
        path, rule = line.split()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            child_main(path, rule)
        print(f"started {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)


def main(argv: Sequence[str]) -> None:
    """``DB RULE [--hold] [WORKLOAD...]``; ``--hold`` opens the store, prints ``ready`` and
    waits for a line on stdin before it drives the workloads."""
    if list(argv) == ["--serve"]:
        serve()
        return
    path, rule, *names = argv
    hold = "--hold" in names
    chosen = [w for w in WORKLOADS if w.workflow_id in names] or list(WORKLOADS)
    store = KillingStore(path, rule)
    if hold:
        print("ready", flush=True)
        sys.stdin.readline()
    for workflow_id, (status, result) in drive(store, chosen).items():
        print(workflow_id, status, json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
