"""One store, one writer: real processes contend for one SQLite store.

A process that opens a store holds it until it closes it or exits (however it exits).
Another process that opens it meanwhile gets one clear StoreError naming the holder; once
the holder is gone (even SIGKILLed in the middle of a run) the next one takes over and
finishes every run. Never two processes driving the same runs, never an IntegrityError,
never a finished run left "running".
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from durasim import SQLiteStore
from durasim.engine import EventType, HistoryEvent
from durasim.errors import StoreError
from tests.adversarial.kill_workloads import WORKLOADS, expected_results
from tests.adversarial.test_store_sigkill import duplicates
from tests.conftest import REPO

TARGET = [sys.executable, "-m", "tests.adversarial.kill_workloads"]
PROBE = """
import sys
from durasim import SQLiteStore
from durasim.engine import EventType, HistoryEvent
from durasim.errors import StoreError
try:
    SQLiteStore(sys.argv[1]).close()
except StoreError as error:
    print("StoreError", error)
else:
    print("opened")
"""


def holder(path: Path, rule: str = "none") -> subprocess.Popen[str]:
    """A process that opens the store, says ``ready`` and waits for a line to drive it."""
    process = subprocess.Popen([*TARGET, str(path), rule, "--hold"], cwd=REPO, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready", process.communicate()[1]
    return process


def contenders(path: Path, count: int) -> list[str]:
    """``count`` processes try to open the store at once; what each one says."""
    started = [subprocess.Popen([sys.executable, "-c", PROBE, str(path)], cwd=REPO,
                                text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for _ in range(count)]
    answers = []
    for process in started:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0 and not err, err
        answers.append(out.strip())
    return answers


def finish(process: subprocess.Popen[str]) -> dict[str, tuple[str, object]]:
    out, err = process.communicate("go\n", timeout=120)
    assert process.returncode == 0, err[-2000:]
    return {workflow_id: (status, json.loads(result))
            for workflow_id, status, result in (line.split(" ", 2)
                                                 for line in out.splitlines())}


@pytest.fixture(scope="module")
def expected() -> dict[str, object]:
    return expected_results()


def all_completed(path: Path, expected: dict[str, object],
                  outcomes: dict[str, tuple[str, object]]) -> None:
    assert outcomes == {w.workflow_id: ("completed", expected[w.workflow_id])
                        for w in WORKLOADS}
    with SQLiteStore(path) as store:
        assert {r.status for r in store.runs()} <= {"completed", "continued"}, \
            "no finished run left running"
    assert duplicates(path) == []


def test_a_second_process_is_refused_while_the_first_drives(
        tmp_path: Path, expected: dict[str, object]) -> None:
    path = tmp_path / "h.db"
    first = holder(path)
    answers = contenders(path, 3)
    pattern = (rf"StoreError {re.escape(str(path))} is held by process {first.pid} since "
               r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*: one store has one writer\. Wait for that "
               r"process to finish, or stop it")
    for answer in answers:
        assert re.fullmatch(pattern + r".*", answer), answer
    all_completed(path, expected, finish(first))
    assert contenders(path, 1) == ["opened"], "a closed store is free again"


def test_a_store_left_by_a_killed_process_is_taken_over(
        tmp_path: Path, expected: dict[str, object]) -> None:
    path = tmp_path / "h.db"
    first = holder(path, "commit=40")  # it will die in the middle of its runs
    first.communicate("go\n", timeout=120)
    assert first.returncode == -signal.SIGKILL
    with SQLiteStore(path) as store:
        assert store.open_runs(), "the killed process left runs open"
    second = holder(path)  # takes the store over, though the lock file names the dead one
    for answer in contenders(path, 2):
        assert f"is held by process {second.pid} since" in answer, answer
    all_completed(path, expected, finish(second))


def test_one_process_two_stores_on_one_file(tmp_path: Path) -> None:
    """A notebook may open the same file twice: the newer object works, the stale one
    refuses to write instead of corrupting what the newer one wrote."""
    path = tmp_path / "h.db"
    start = [HistoryEvent(1, EventType.WORKFLOW_EXECUTION_STARTED, 0.0, {})]
    old = SQLiteStore(path)
    old.create_run("w1", "r1", "T", events=start)
    new = SQLiteStore(path)
    assert [r.workflow_id for r in new.runs()] == ["w1"]
    new.create_run("w2", "r2", "T", events=start)
    with pytest.raises(StoreError, match="changed by another connection since this "
                                         "SQLiteStore loaded it"):
        old.create_run("w3", "r3", "T", events=start)
    assert [r.workflow_id for r in old.runs()] == ["w1"], "memory did not run ahead"
    old.close()
    new.close()
    with SQLiteStore(path) as store:
        assert [r.workflow_id for r in store.runs()] == ["w1", "w2"]


def test_the_lock_is_released_when_the_last_store_of_a_process_closes(tmp_path: Path
                                                                       ) -> None:
    path = tmp_path / "h.db"
    first, second = SQLiteStore(path), SQLiteStore(path)
    first.close()
    assert contenders(path, 1)[0].startswith("StoreError"), "still held by `second`"
    second.close()
    assert contenders(path, 1) == ["opened"]
    assert os.path.exists(f"{path}.lock"), "the lock file stays (deleting it would race)"
