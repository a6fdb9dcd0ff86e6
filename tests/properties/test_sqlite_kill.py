"""Property 8, SQLite crash safety: 200 real SIGKILLs, and not one event lost or duplicated.

Simulated crashes only prove what the simulation models. Here the operating system does
the killing: a subprocess writes workflow histories to a ``SQLiteStore`` and is SIGKILLed
at a random moment (mostly while it writes, sometimes while it is still opening the
database), 200 times. Each new process opens the store, replays what is there and goes
on. After every kill, everything the database held before must still be there, unchanged;
at the end every workflow's history has ids 1..n, each activity scheduled and completed
exactly once, replays cleanly, and the workflow returned the right result.

Two lanes (two processes at a time) share the 200 kills so the test takes about half a
minute on two cores; each workflow has its own database file.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from durasim import History, Replayer, SQLiteStore
from durasim.engine import EventType
from tests.conftest import REPO
from tests.properties.replay_checks import check_history_shape
from tests.properties.sqlite_kill_target import LongWriter

KILLS = 200
LANES = 2
STEPS = 300
"""Activities per workflow: a run takes a few tenths of a second, a few kills' worth."""
TARGET = [sys.executable, "-m", "tests.properties.sqlite_kill_target"]
E = EventType


@dataclass
class Lane:
    """A sequence of workflows, each in its own database, whose writer is killed ``kills``
    times in all; what it saw along the way."""

    folder: Path
    kills: int
    rng: random.Random
    killed: int = 0
    killed_while_opening: int = 0
    finished: list[str] = field(default_factory=list)
    resumed_with_replay: int = 0
    snapshot: dict[tuple[str, str], list[tuple[object, ...]]] = field(default_factory=dict)
    error: BaseException | None = None

    def database(self, workflow_id: str) -> Path:
        """Where ``workflow_id``'s history lives (one file each keeps every restart's load
        and every check proportional to one history, not to all of them)."""
        return self.folder / f"{workflow_id}.db"


def rows(path: Path) -> dict[tuple[str, str], list[tuple[object, ...]]]:
    """Every committed event, per run, read with plain sqlite3 (not durasim's code)."""
    if not path.exists():
        return {}
    found: dict[tuple[str, str], list[tuple[object, ...]]] = {}
    with sqlite3.connect(path, timeout=10) as db:
        try:
            cursor = db.execute("SELECT workflow_id, run_id, event_id, event_type, time, "
                                "attributes FROM events ORDER BY workflow_id, run_id, event_id")
        except sqlite3.OperationalError:  # killed before the schema was committed
            return {}
        for workflow_id, run_id, *event in cursor:
            found.setdefault((workflow_id, run_id), []).append(tuple(event))
    return found


def check_nothing_lost(lane: Lane, path: Path) -> None:
    """What the database held before this kill is still there, unchanged, in order."""
    now = rows(path)
    for key, before in lane.snapshot.items():
        after = now.get(key, [])
        assert after[:len(before)] == before, f"{key}: committed events lost or changed"
    lane.snapshot = now


def run_once(lane: Lane, workflow_id: str, kill: bool) -> str | None:
    """Start the target; kill it at a random moment (or let it finish). Returns its last
    line when it finished."""
    path = lane.database(workflow_id)
    errors = path.with_suffix(".stderr")
    with errors.open("w") as stderr:
        child = subprocess.Popen([*TARGET, str(path), workflow_id, str(STEPS)],
                                 cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True)
    assert child.stdout is not None
    try:
        opening = kill and lane.rng.random() < 0.1
        if not opening:
            assert child.stdout.readline().strip() == "ready", errors.read_text()
        if kill:
            pause = lane.rng.uniform(0.0, 0.3)
            try:
                child.wait(timeout=pause)
            except subprocess.TimeoutExpired:
                os.kill(child.pid, signal.SIGKILL)
                child.wait()
                lane.killed += 1
                lane.killed_while_opening += opening
                check_nothing_lost(lane, path)
                return None
        child.wait(timeout=120)
        out = child.stdout.read()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
    assert child.returncode == 0, errors.read_text()
    return out.strip().splitlines()[-1]


def drive(lane: Lane) -> None:
    """Kill the lane's writer ``kills`` times; start a new workflow whenever one finishes."""
    try:
        number = 1
        while lane.killed < lane.kills:
            line = run_once(lane, f"w{number}", kill=True)
            if line is not None:
                finish(lane, f"w{number}", line)
                number += 1
        last = run_once(lane, f"w{number}", kill=False)
        assert last is not None
        finish(lane, f"w{number}", last)
    except BaseException as error:  # reported by the test thread
        lane.error = error


def finish(lane: Lane, workflow_id: str, last: str) -> None:
    """A finished workflow: check the target's own report and record it."""
    status, result, _, replays = last.split()
    assert (status, json.loads(result)) == ("completed", STEPS * (STEPS - 1)), last
    lane.resumed_with_replay += int(replays) > 0
    lane.finished.append(workflow_id)
    check_nothing_lost(lane, lane.database(workflow_id))
    lane.snapshot = {}


def verify(path: Path, workflow_id: str) -> None:
    """One finished workflow, read back through durasim: whole, once, and replayable."""
    store = SQLiteStore(path)
    try:
        (record,) = store.runs(workflow_id)
    finally:
        store.close()
    history = History(list(record.events), workflow_id=workflow_id)
    check_history_shape(history)
    scheduled = Counter(e.attributes["activityId"] for e in history
                        if e.event_type is E.ACTIVITY_TASK_SCHEDULED)
    assert sorted(scheduled) == sorted(str(i) for i in range(1, STEPS + 1))
    assert set(scheduled.values()) == {1}, "an activity was scheduled twice"
    completed = [e for e in history if e.event_type is E.ACTIVITY_TASK_COMPLETED]
    assert len(completed) == STEPS, "every activity completed exactly once"
    assert [e.attributes["result"] for e in completed] == [2 * i for i in range(STEPS)]
    closing = history.events[-1]
    assert closing.event_type is E.WORKFLOW_EXECUTION_COMPLETED
    assert closing.attributes["result"] == STEPS * (STEPS - 1)
    assert record.status == "completed"
    assert Replayer(workflows=[LongWriter]).replay(history).finished


@pytest.mark.slow
def test_two_hundred_sigkills_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    lanes = [Lane(tmp_path / f"lane{n}", KILLS // LANES, random.Random(n))
             for n in range(LANES)]
    for lane in lanes:
        lane.folder.mkdir()
    threads = [threading.Thread(target=drive, args=(lane,)) for lane in lanes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for lane in lanes:
        if lane.error is not None:
            raise lane.error
    assert sum(lane.killed for lane in lanes) == KILLS
    for lane in lanes:
        assert lane.finished, "the lane never finished a workflow"
        for workflow_id in lane.finished:
            verify(lane.database(workflow_id), workflow_id)
    assert sum(lane.resumed_with_replay for lane in lanes) > 0, "restarts must replay"
    killed_opening = sum(lane.killed_while_opening for lane in lanes)
    assert 0 < killed_opening < KILLS, "kills must land both at start-up and while writing"
    print(f"\n{KILLS} SIGKILLs ({killed_opening} while opening the store); workflows "
          f"finished: {sum(len(lane.finished) for lane in lanes)}, "
          f"{sum(lane.resumed_with_replay for lane in lanes)} of them by a process that "
          "replayed a killed one's history")
