"""SQLiteStore survives the process: a real SIGKILL mid-workflow loses nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import durasim
from durasim import SQLiteStore
from durasim.engine import EventType
from tests.workflows.bank import BankTransfer

REPO = Path(__file__).resolve().parents[1]


def count_events(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM events").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_store_round_trip_in_one_process(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    run = durasim.execute(BankTransfer, "alice", "bob", 25, store=SQLiteStore(path))
    reopened = SQLiteStore(path)
    record = reopened.runs("BankTransfer")[0]
    assert record.status == "completed"
    assert [e.event_type for e in record.events] == [e.event_type for e in run.history]
    assert [e.attributes for e in record.events] == [e.attributes for e in run.history]


def test_appends_with_gaps_or_duplicates_are_refused(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "g.db")
    store.create_run("w", "r", "T", events=[durasim.engine.HistoryEvent(
        1, EventType.WORKFLOW_EXECUTION_STARTED, 0.0, {})])
    with pytest.raises(durasim.DurasimError, match="event id 3 where 2 was expected"):
        store.append("w", "r", [durasim.engine.HistoryEvent(3, EventType.TIMER_STARTED, 0.0, {})])


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [6, 17, 30])
def test_sigkill_mid_workflow_then_resume_in_a_new_process(tmp_path: Path,
                                                           kill_after: int) -> None:
    path = tmp_path / "history.db"
    command = [sys.executable, "-m", "tests.workflows.slow_transfer", str(path)]
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while count_events(path) < kill_after and child.poll() is None:
        assert time.monotonic() < deadline, "the workflow never got going"
        time.sleep(0.002)
    assert child.poll() is None, "the child finished before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    written = count_events(path)
    assert 0 < written < 41

    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    status, result, _ = done.stdout.split()
    assert (status, result) == ("completed", "done")
    store = SQLiteStore(path)
    (record,) = store.runs("slow")
    ids = [e.event_id for e in record.events]
    assert ids == list(range(1, len(ids) + 1)), "no event lost or duplicated"
    completed = [e.attributes["scheduledEventId"] for e in record.events
                 if e.event_type is EventType.ACTIVITY_TASK_COMPLETED]
    assert len(completed) == len(set(completed)) == 6, "each activity completed once"
    assert record.events[-1].event_type is EventType.WORKFLOW_EXECUTION_COMPLETED
