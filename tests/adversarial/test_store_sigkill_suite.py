"""The SIGKILL suite: 500+ real kills of processes driving shared SQLite stores.

Each store holds eight workflows (durable timers, gather with racing timers, children,
continue-as-new; 23 runs and about 750 events when done). A process opens the store with
``durasim.execute(..., store=...)`` for every workflow, which resumes what the last
process left open, and is SIGKILLed at a varied moment:

- ``commit``: right after its K-th committed transaction (deterministic);
- ``vm``: inside SQLite, after K x 100 virtual-machine instructions: in the middle of a
  statement, of a transaction, or of loading the store (deterministic);
- ``moment``: at a named dangerous moment: a completion, timer or child result parked
  while a workflow task is in flight, a continue-as-new before its next run, a new run;
- ``timed``: by this test, after a random real delay (the asynchronous kill of real life).

Processes are forked by a fork server (``kill_workloads --serve``) that has imported
durasim and the workflows once, so a kill costs milliseconds, not an interpreter start.
Two lanes, each with its own fork server and stores, run side by side. After every kill,
everything the store held before is still there, unchanged, and every commit the killed
process logged is there too. When a store's
workflows have all finished: each result equals the crash-free run's, no event is
duplicated, every run is closed and every completed run replays.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from durasim import SQLiteStore
from durasim.engine import EventType
from tests.adversarial.kill_workloads import WORKLOADS, expected_results
from tests.adversarial.test_store_sigkill import duplicates
from tests.conftest import REPO

KILLS = 520
"""At least 500 kills in all, shared by the lanes."""
LANES = 2
MOMENTS = ("buffered:ActivityTask", "buffered:TimerFired", "buffered:ChildWorkflowExecution",
           "continued", "runs=5", "runs=12")
E = EventType
Rows = dict[tuple[str, str], list[tuple[Any, ...]]]


def rows(path: Path) -> Rows:
    """Every committed event, per run, read with plain sqlite3 (not durasim's code)."""
    found: Rows = {}
    if not path.exists():
        return found
    with sqlite3.connect(path, timeout=10) as db:
        try:
            cursor = db.execute("SELECT workflow_id, run_id, event_id, event_type, time, "
                                "attributes FROM events ORDER BY workflow_id, run_id, event_id")
        except sqlite3.OperationalError:  # killed before the schema was committed
            return found
        for workflow_id, run_id, *event in cursor:
            found.setdefault((workflow_id, run_id), []).append(tuple(event))
    db.close()
    return found


@dataclass
class Lane:
    """A sequence of stores whose writers are killed until the lane's quota is met."""

    number: int
    folder: Path
    quota: int
    expected: dict[str, Any]
    rng: random.Random = field(init=False)
    kills: Counter[str] = field(default_factory=Counter)
    before_first_commit: int = 0
    stores: list[Path] = field(default_factory=list)
    events: int = 0
    error: BaseException | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.number)

    @property
    def killed(self) -> int:
        return sum(self.kills.values())

    def run(self) -> None:
        server = subprocess.Popen([sys.executable, "-m", "tests.adversarial.kill_workloads",
                                   "--serve"], cwd=REPO, text=True, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)
        try:
            while self.killed < self.quota:
                self.fill_store(server, self.folder / f"store{len(self.stores)}.db")
        except BaseException as error:  # reported by the test's thread
            self.error = error
        finally:
            server.communicate(timeout=60)  # end of input: the server exits

    def fill_store(self, server: subprocess.Popen[str], path: Path) -> None:
        """Kill writers of one store until it finishes (or the quota is met), then finish
        it without a kill and check it."""
        self.stores.append(path)
        while True:
            kind, rule, delay = self.choose()
            if self.killed >= self.quota:
                kind, rule, delay = "none", "none", None
            if self.attempt(server, path, kind, rule, delay):
                break
        self.check_finished(path)

    def choose(self) -> tuple[str, str, float | None]:
        roll = self.rng.random()
        if roll < 0.45:
            return "commit", f"commit={self.rng.randint(1, 80)}", None
        if roll < 0.65:
            return "vm", f"vm={self.rng.randint(1, 600)}", None
        if roll < 0.8:
            return "moment", self.rng.choice(MOMENTS), None
        return "timed", "none", self.rng.uniform(0.0, 0.15)

    def attempt(self, server: subprocess.Popen[str], path: Path, kind: str, rule: str,
                delay: float | None) -> bool:
        """One process on the store; True when it finished every workload."""
        assert server.stdin is not None and server.stdout is not None
        before = rows(path)
        log = Path(f"{path}.commits")
        logged = log.stat().st_size if log.exists() else 0
        server.stdin.write(f"{path} {rule}\n")
        server.stdin.flush()
        started, pid = server.stdout.readline().split()
        assert started == "started", started
        if delay is not None:
            time.sleep(delay)
            with contextlib.suppress(ProcessLookupError):  # it may have finished already
                os.kill(int(pid), signal.SIGKILL)
        exitcode = int(server.stdout.readline().removeprefix("exit "))
        error = Path(f"{path}.error")
        assert exitcode in (0, -signal.SIGKILL), (
            f"failed resume: {path} {rule} exit {exitcode}\n"
            f"{error.read_text() if error.exists() else ''}")
        after = rows(path)
        for key, committed in before.items():
            assert after.get(key, [])[:len(committed)] == committed, \
                f"{path} {rule}: committed events of {key} lost or changed"
        new_lines = log.read_bytes()[logged:].decode().splitlines() if log.exists() else []
        for line in new_lines:
            workflow_id, run_id, last = line.split()
            assert len(after.get((workflow_id, run_id), [])) >= int(last), \
                f"{path} {rule}: the killed process committed {line!r}; it is gone"
        if exitcode == 0:
            return True
        self.kills[kind] += 1
        self.before_first_commit += not new_lines
        return False

    def check_finished(self, path: Path) -> None:
        with SQLiteStore(path) as store:
            for w in WORKLOADS:
                last = store.runs(w.workflow_id)[-1]
                closing = last.events[-1]
                assert closing.event_type is E.WORKFLOW_EXECUTION_COMPLETED, (path, w)
                assert closing.attributes["result"] == self.expected[w.workflow_id], (path, w)
            statuses = {r.status for r in store.runs()}
            self.events += sum(len(r.events) for r in store.runs())
        assert statuses <= {"completed", "continued"}, (path, statuses)
        assert duplicates(path) == [], path  # also replays every completed run


@pytest.mark.slow
def test_five_hundred_sigkills_on_shared_stores(tmp_path: Path) -> None:
    expected = expected_results()
    lanes = [Lane(n, tmp_path / f"lane{n}", KILLS // LANES, expected) for n in range(LANES)]
    for lane in lanes:
        lane.folder.mkdir()
    started = time.monotonic()
    threads = [threading.Thread(target=lane.run) for lane in lanes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for lane in lanes:
        if lane.error is not None:
            raise lane.error
    kills = sum((lane.kills for lane in lanes), Counter())
    assert sum(kills.values()) >= 500
    assert all(kills[kind] > 0 for kind in ("commit", "vm", "moment", "timed")), kills
    early = sum(lane.before_first_commit for lane in lanes)
    assert 0 < early < sum(kills.values()), "kills land both while opening and writing"
    stores = sum(len(lane.stores) for lane in lanes)
    print(f"\n{sum(kills.values())} SIGKILLs ({dict(kills)}; {early} before the process's "
          f"first commit) on {stores} stores of {len(WORKLOADS)} workflows "
          f"({sum(lane.events for lane in lanes)} events): 0 events lost, 0 duplicated, "
          f"0 failed resumes, every result as crash-free; "
          f"{time.monotonic() - started:.0f} s")
