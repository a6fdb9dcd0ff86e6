"""Deterministic SIGKILL reproductions: each kill lands at the one moment that broke.

A process drives workflows on a SQLiteStore and SIGKILLs itself at a chosen moment (see
tests/adversarial/kill_workloads.py); a new process opens the store and resumes. Before
the fixes each of these left a wrong history or a stuck or refused run:

- an activity that completes while a workflow task is in flight has its completion
  parked in the run's state; recovery counted only the written history, so it ran the
  activity again and wrote ActivityTaskStarted+ActivityTaskCompleted twice;
- the same for a timer that fires and a child that finishes during a workflow task;
- a kill between a continue-as-new and the next run's creation left the workflow waiting
  for ever;
- a new process draws run ids from the seeded RNG again from the start, so a resumed
  workflow's next run got an id the store already held: ``StoreError: run ... already
  exists``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from durasim import Replayer, SQLiteStore
from durasim.engine import EventType
from durasim.engine.history import History
from tests.adversarial.kill_workloads import WORKFLOWS, WORKLOADS, expected_results
from tests.conftest import REPO

E = EventType
TARGET = [sys.executable, "-m", "tests.adversarial.kill_workloads"]
CLOSING = (E.ACTIVITY_TASK_COMPLETED, E.ACTIVITY_TASK_FAILED, E.ACTIVITY_TASK_TIMED_OUT)


def run_target(path: Path, rule: str, *workloads: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TARGET, str(path), rule, *workloads], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)


def killed_then_resumed(path: Path, rule: str, *workloads: str) -> dict[str, tuple[str, object]]:
    """Kill a process at ``rule``, resume in a new one; each workload's status and result."""
    first = run_target(path, rule, *workloads)
    assert first.returncode == -signal.SIGKILL, ("the kill never happened", first.stderr)
    second = run_target(path, "none", *workloads)
    assert second.returncode == 0, second.stderr[-2000:]
    outcomes = {}
    for line in second.stdout.splitlines():
        workflow_id, status, result = line.split(" ", 2)
        outcomes[workflow_id] = (status, json.loads(result))
    return outcomes


def duplicates(path: Path) -> list[str]:
    """Everything written twice in any run of the store (empty when all is well)."""
    found = []
    with SQLiteStore(path) as store:
        for record in store.runs():
            seen = Counter()
            for event in record.events:
                a = event.attributes
                if event.event_type is E.ACTIVITY_TASK_STARTED or event.event_type in CLOSING:
                    seen[(event.event_type.value, a["scheduledEventId"])] += 1
                elif event.event_type is E.TIMER_FIRED:
                    seen[(event.event_type.value, a["timerId"])] += 1
                elif "initiatedEventId" in a:
                    seen[(event.event_type.value, a["initiatedEventId"])] += 1
            found += [f"{record.workflow_id}/{record.run_id}: {what} x{n}"
                      for what, n in seen.items() if n > 1]
            if record.status == "completed":
                history = History(list(record.events), workflow_id=record.workflow_id)
                Replayer(workflows=WORKFLOWS).replay(history)
    return found


@pytest.fixture(scope="module")
def expected() -> dict[str, object]:
    return expected_results()


@pytest.mark.parametrize(("rule", "workload"), [
    ("buffered:ActivityTask", "fanout-2"),
    ("buffered:TimerFired", "fanout-1"),
    ("buffered:ChildWorkflowExecutionCompleted", "tree-1"),
], ids=["activity", "timer", "child"])
def test_a_completion_parked_during_a_workflow_task_is_written_once(
        tmp_path: Path, expected: dict[str, object], rule: str, workload: str) -> None:
    path = tmp_path / "h.db"
    outcomes = killed_then_resumed(path, rule, workload)
    assert outcomes == {workload: ("completed", expected[workload])}
    assert duplicates(path) == []


def test_a_kill_between_continue_as_new_and_the_next_run_is_resumed(
        tmp_path: Path, expected: dict[str, object]) -> None:
    path = tmp_path / "h.db"
    outcomes = killed_then_resumed(path, "continued", "looper-1")
    assert outcomes == {"looper-1": ("completed", expected["looper-1"])}
    with SQLiteStore(path) as store:
        runs = store.runs("looper-1")
    assert [r.status for r in runs] == ["continued"] * 5 + ["completed"]
    chain = [r.events[-1].attributes.get("newExecutionRunId") for r in runs[:-1]]
    assert chain == [r.run_id for r in runs[1:]], "each run continued into the next"


@pytest.mark.parametrize("kills", [1, 2, 3])
def test_resumed_runs_never_reuse_a_run_id(tmp_path: Path, expected: dict[str, object],
                                           kills: int) -> None:
    path = tmp_path / "h.db"
    for n in range(kills):  # each process dies right after creating one more run
        killed = run_target(path, f"runs={n + 2}", "looper-1")
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    done = run_target(path, "none", "looper-1")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["looper-1", "completed", json.dumps(expected["looper-1"])]
    with SQLiteStore(path) as store:
        ids = [r.run_id for r in store.runs()]
    assert len(ids) == len(set(ids)) == 6


def test_run_ids_stay_deterministic_for_a_fresh_store(tmp_path: Path) -> None:
    ids = []
    for name in ("a.db", "b.db"):
        done = run_target(tmp_path / name, "none", "looper-2", "tree-2")
        assert done.returncode == 0, done.stderr[-2000:]
        with SQLiteStore(tmp_path / name) as store:
            ids.append([(r.workflow_id, r.run_id) for r in store.runs()])
    assert ids[0] == ids[1]
    assert len({run_id for _, run_id in ids[0]}) == len(ids[0]), "unique in the store"


def test_every_workload_completes_after_a_kill_at_each_tenth_commit(
        tmp_path: Path, expected: dict[str, object]) -> None:
    """A coarse sweep over one shared store: kill after commit 10, 20, ... then finish."""
    path = tmp_path / "h.db"
    for k in range(10, 60, 10):
        first = run_target(path, f"commit={k}")
        assert first.returncode == -signal.SIGKILL, first.stderr[-2000:]
    outcomes = killed_then_resumed(path, "commit=10")
    assert outcomes == {w.workflow_id: ("completed", expected[w.workflow_id])
                        for w in WORKLOADS}
    assert duplicates(path) == []
