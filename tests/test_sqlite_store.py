"""SQLiteStore survives the process: a real SIGKILL mid-workflow loses nothing."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
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
    reopened = SQLiteStore(path)  # a second store of the same process: allowed
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


@pytest.mark.parametrize("kill_after", [6, 17, 30])
def test_sigkill_mid_workflow_then_resume_in_a_new_process(tmp_path: Path,
                                                           kill_after: int) -> None:
    """The process SIGKILLs itself right after its ``kill_after``-th commit (see
    tests/adversarial/kill_workloads.py); a new process resumes from the file."""
    path = tmp_path / "history.db"
    command = [sys.executable, "-m", "tests.adversarial.kill_workloads", str(path)]
    killed = subprocess.run([*command, f"commit={kill_after}", "ticker-1"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    written = count_events(path)
    assert 0 < written < 71, "killed in the middle (71 events when done)"

    done = subprocess.run([*command, "none", "ticker-1"], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ticker-1", "completed", "30"]
    with SQLiteStore(path) as store:
        (record,) = store.runs("ticker-1")
    ids = [e.event_id for e in record.events]
    assert ids == list(range(1, len(ids) + 1)), "no event lost or duplicated"
    completed = [e.attributes["scheduledEventId"] for e in record.events
                 if e.event_type is EventType.ACTIVITY_TASK_COMPLETED]
    assert len(completed) == len(set(completed)) == 6, "each activity completed once"
    assert record.events[-1].event_type is EventType.WORKFLOW_EXECUTION_COMPLETED
