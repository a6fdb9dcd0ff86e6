"""The mutable state saved with each batch: only what changed, and never less than needed.

Each batch saves only the activities that changed since the last one (issue 17.8: a
gather of 8,000 activities rewrote all 8,000 at every step). The risk of sending changes
is forgetting one, which recovery would then read as "attempt 1, never started". These
tests audit every batch of fan-outs that retry, heartbeat and time out, through a server
crash: after each commit, what the store keeps (in memory and in the SQLite file) must
rebuild exactly the activities the live server has open.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import durasim
from durasim import ActivityError, ApplicationError, Crash, RetryPolicy, activity, workflow
from durasim.engine import EngineCluster, activity_info, activity_sleep, heartbeat
from durasim.engine.execution import ActivityState
from durasim.engine.history import EventType, HistoryEvent
from durasim.engine.server import Server
from durasim.engine.store import SQLiteStore
from durasim.engine.store_values import dumps, loads

ATTEMPTS = RetryPolicy(initial_interval=1, maximum_attempts=4)


@activity
def flaky(n: int) -> int:
    """Fails ``n % 3`` times before it answers: attempts and last failures to save."""
    if activity_info().attempt <= n % 3:
        raise ApplicationError(f"flaky {n} down", type="Unavailable")
    return n


@activity
async def upload(chunks: int) -> int:
    """Heartbeats its progress and resumes from it: heartbeat details to save."""
    details = activity_info().heartbeat_details
    done = int(details[0]) if details else 0
    for chunk in range(done, chunks):
        await activity_sleep(1.0)
        heartbeat(chunk + 1)
    return chunks


@activity
async def stalls(seconds: float) -> str:
    await activity_sleep(seconds)
    return "late"


@workflow
async def FanOutWithTrouble(ctx: durasim.WorkflowContext, n: int) -> list[Any]:
    calls = [ctx.start_activity(flaky, i, retry=ATTEMPTS) for i in range(n)]
    calls.append(ctx.start_activity(upload, 6, start_to_close=60, heartbeat_timeout=3,
                                    retry=ATTEMPTS))
    calls.append(ctx.start_activity(stalls, 30.0, start_to_close=5,
                                    retry=RetryPolicy(maximum_attempts=2)))
    results: list[Any] = []
    for call in calls:
        try:
            results.append(await call)
        except ActivityError as error:
            results.append(f"gave up: {error.timeout_type}")
    return results


class AuditingStore(SQLiteStore):
    """A SQLite store that, after each commit, compares what it keeps with the live
    server's open activities (``server`` is set once the cluster is built)."""

    server: Server | None = None
    audited = 0

    def append(self, workflow_id: str, run_id: str, events: Sequence[HistoryEvent],
               state: dict[str, Any] | None = None, status: str | None = None) -> None:
        super().append(workflow_id, run_id, events, state, status)
        assert self.server is not None
        ex = self.server.executions.get((workflow_id, run_id))
        if ex is None or not self.server.node.up:
            return
        live = {str(k): a.to_dict() for k, a in ex.activities.items()}
        kept = self.run(workflow_id, run_id).state.get("activities", {})
        assert rebuilt(kept, live) == live, f"memory after {len(ex.events)} events"
        with sqlite3.connect(self.path) as reader:  # a second reader sees the commit
            on_disk = {str(k): loads(v) for k, v in reader.execute(
                "SELECT scheduled_id, state FROM activities WHERE workflow_id=? AND run_id=?",
                (workflow_id, run_id))}
        assert rebuilt(on_disk, live) == live, f"disk after {len(ex.events)} events"
        assert set(on_disk) <= set(live), "closed activities are removed, not kept"
        self.audited += 1


def rebuilt(saved: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """What recovery would give each live activity from ``saved`` (nothing saved:
    a first attempt not handed out yet)."""
    states = {}
    for key in live:
        state = ActivityState(int(key), {})
        state.restore(saved.get(key, {}))
        states[key] = state.to_dict()
    return states


@pytest.mark.parametrize("crash_at", [None, 2.5, 7.0])
def test_every_batch_keeps_exactly_the_open_activities(tmp_path: Path,
                                                        crash_at: float | None) -> None:
    store = AuditingStore(tmp_path / "audit.db")
    faults = [] if crash_at is None else [Crash(node="server", at_time=crash_at)]
    cluster = EngineCluster(workflows=[FanOutWithTrouble], store=store, faults=faults,
                            trace=False)
    store.server = cluster.server
    cluster.start()
    cluster.submit(FanOutWithTrouble, 9, workflow_id="fan-out")
    cluster.sim.run(until=3600)
    run = cluster.outcome("fan-out")
    store.close()
    assert run.status == "completed", run.status
    assert run.result == [*range(9), 6, "gave up: START_TO_CLOSE"]
    assert store.audited > 40, "the audit saw the batches"
    assert cluster.server.node.incarnation == (1 if crash_at is None else 2)


def test_a_batch_saves_only_the_activities_it_changed() -> None:
    run = durasim.execute(FanOutWithTrouble, 30, trace=False)
    assert run.status == "completed"
    sizes = []
    store = run.store
    original = store.append

    def measuring(workflow_id: str, run_id: str, events: Sequence[HistoryEvent],
                  state: dict[str, Any] | None = None, status: str | None = None) -> None:
        sizes.append(len((state or {}).get("activities", {})))
        original(workflow_id, run_id, events, state, status)

    store.append = measuring  # type: ignore[method-assign]
    again = durasim.execute(FanOutWithTrouble, 30, store=store, id="second", trace=False)
    assert again.status == "completed"
    assert sizes and max(sizes) <= 2, (
        f"a batch rewrote {max(sizes)} activities: it should send one or two (the one that "
        "changed, and at most one closed meanwhile), not all 32 open")


def started() -> list[HistoryEvent]:
    return [HistoryEvent(1, EventType.WORKFLOW_EXECUTION_STARTED, 0.0, {"input": []})]


def test_a_new_run_keeps_its_state_from_its_first_commit(tmp_path: Path) -> None:
    """A run started at t=5 that crashes before its next batch still began at t=5."""
    with SQLiteStore(tmp_path / "h.db") as store:
        store.create_run("w", "r", "T", events=started(), state={"started_at": 5.0})
    with SQLiteStore(tmp_path / "h.db") as again:
        assert again.run("w", "r").state["started_at"] == 5.0


def test_a_store_written_before_the_activities_table_keeps_its_activities(
        tmp_path: Path) -> None:
    """Older stores kept every activity inside the run's state; the first open moves
    them to their own table, so a later batch of changes cannot lose them."""
    path = tmp_path / "old.db"
    saved = {"attempt": 3, "last_failure": {"message": "down"}, "started_at": 2.0}
    with SQLiteStore(path) as store:
        store.create_run("w", "r", "T", events=started())
    with sqlite3.connect(path) as db:  # the old layout
        db.execute("DROP TABLE activities")
        db.execute("UPDATE runs SET state=?", (
            '{"started_at": 0.0, "activities": {"5": ' + dumps(saved) + "}}",))
    db.close()
    with SQLiteStore(path) as store:
        assert store.run("w", "r").state["activities"] == {"5": saved}
        store.append("w", "r", [], state={"started_at": 0.0,
                                          "activities": {"7": {"attempt": 2}}})
    with SQLiteStore(path) as store:
        assert store.run("w", "r").state["activities"] == {"5": saved, "7": {"attempt": 2}}
        store.append("w", "r", [], state={"activities": {"5": None}})
    with SQLiteStore(path) as store:
        assert store.run("w", "r").state["activities"] == {"7": {"attempt": 2}}
