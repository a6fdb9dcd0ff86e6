"""HistoryStore: where the service keeps histories, so a crash cannot take them.

Two stores with one interface: :class:`MemoryStore` (fast; survives simulated crashes
because the simulation, not the store, decides what a crash forgets) and
:class:`SQLiteStore`, a real database file that survives the Python process itself being
killed. As in DBOS's step table, rows are keyed ``(workflow_id, run_id, event_id)`` and
each batch of events is one transaction: a crash leaves a batch either fully written or
absent, never half.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from durasim.engine.history import EventType, HistoryEvent
from durasim.errors import DurasimError


class StoreError(DurasimError):
    """The history store refused an append (a gap or a duplicate event id)."""


class RunRecord:
    """A workflow run as the store knows it: identity, status and its events."""

    __slots__ = ("events", "parent", "run_id", "state", "status", "workflow_id",
                 "workflow_type")

    def __init__(self, workflow_id: str, run_id: str, workflow_type: str,
                 parent: dict[str, Any] | None = None) -> None:
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.workflow_type = workflow_type
        self.parent = parent
        self.status = "running"
        self.state: dict[str, Any] = {}
        self.events: list[HistoryEvent] = []


class HistoryStore:
    """The interface (and the in-memory implementation) of a history store."""

    def __init__(self) -> None:
        self._runs: dict[tuple[str, str], RunRecord] = {}
        self._order: list[tuple[str, str]] = []
        self._by_workflow: dict[str, list[RunRecord]] = {}

    def create_run(self, workflow_id: str, run_id: str, workflow_type: str,
                   parent: dict[str, Any] | None = None,
                   events: Sequence[HistoryEvent] = ()) -> RunRecord:
        """Register a new run with its first events, atomically."""
        key = (workflow_id, run_id)
        if key in self._runs:
            raise StoreError(f"run {workflow_id}/{run_id} already exists")
        record = RunRecord(workflow_id, run_id, workflow_type, parent)
        self._runs[key] = record
        self._order.append(key)
        self._by_workflow.setdefault(workflow_id, []).append(record)
        if events:
            HistoryStore.append(self, workflow_id, run_id, events)
        return record

    def append(self, workflow_id: str, run_id: str, events: Sequence[HistoryEvent],
               state: dict[str, Any] | None = None, status: str | None = None) -> None:
        """Append a batch atomically, with the run's mutable state and status."""
        record = self._runs[(workflow_id, run_id)]
        expected = len(record.events) + 1
        for offset, event in enumerate(events):
            if event.event_id != expected + offset:
                raise StoreError(f"{workflow_id}/{run_id}: event id {event.event_id} where "
                                 f"{expected + offset} was expected (no gaps, no duplicates)")
        record.events.extend(events)
        if state is not None:
            record.state = state
        if status is not None:
            record.status = status

    def run(self, workflow_id: str, run_id: str) -> RunRecord:
        """One run's record."""
        return self._runs[(workflow_id, run_id)]

    def runs(self, workflow_id: str | None = None) -> list[RunRecord]:
        """All runs in creation order (of one workflow id, if given)."""
        if workflow_id is not None:
            return list(self._by_workflow.get(workflow_id, ()))
        return [self._runs[k] for k in self._order]

    def open_runs(self) -> list[RunRecord]:
        """Runs that have not closed: what a restarted service must resume."""
        return [r for r in self.runs() if r.status == "running"]

    def close(self) -> None:
        """Release resources (nothing to do in memory)."""


MemoryStore = HistoryStore


_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow_id TEXT NOT NULL, run_id TEXT NOT NULL, workflow_type TEXT NOT NULL,
    parent TEXT, status TEXT NOT NULL, state TEXT NOT NULL,
    UNIQUE (workflow_id, run_id));
CREATE TABLE IF NOT EXISTS events (
    workflow_id TEXT NOT NULL, run_id TEXT NOT NULL, event_id INTEGER NOT NULL,
    event_type TEXT NOT NULL, time REAL NOT NULL, attributes TEXT NOT NULL,
    PRIMARY KEY (workflow_id, run_id, event_id));
"""


class SQLiteStore(HistoryStore):
    """A history store in a SQLite file: histories survive the process being killed.

    Args:
        path: the database file (created if missing). Keep it in a temporary folder.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")  # a killed writer never corrupts it
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._load()

    def _load(self) -> None:
        rows = self._db.execute("SELECT workflow_id, run_id, workflow_type, parent, status, "
                                "state FROM runs ORDER BY seq").fetchall()
        for workflow_id, run_id, workflow_type, parent, status, state in rows:
            record = super().create_run(workflow_id, run_id, workflow_type,
                                        json.loads(parent) if parent else None)
            record.status = status
            record.state = json.loads(state)
            record.events = [
                HistoryEvent(event_id, EventType(event_type), time, json.loads(attributes))
                for event_id, event_type, time, attributes in self._db.execute(
                    "SELECT event_id, event_type, time, attributes FROM events "
                    "WHERE workflow_id=? AND run_id=? ORDER BY event_id", (workflow_id, run_id))
            ]

    def create_run(self, workflow_id: str, run_id: str, workflow_type: str,
                   parent: dict[str, Any] | None = None,
                   events: Sequence[HistoryEvent] = ()) -> RunRecord:
        record = super().create_run(workflow_id, run_id, workflow_type, parent, events)
        with self._transaction() as db:
            db.execute("INSERT INTO runs (workflow_id, run_id, workflow_type, parent, "
                       "status, state) VALUES (?, ?, ?, ?, 'running', '{}')",
                       (workflow_id, run_id, workflow_type,
                        json.dumps(parent) if parent else None))
            db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
                           _rows(workflow_id, run_id, events))
        return record

    def append(self, workflow_id: str, run_id: str, events: Sequence[HistoryEvent],
               state: dict[str, Any] | None = None, status: str | None = None) -> None:
        super().append(workflow_id, run_id, events, state, status)
        record = self.run(workflow_id, run_id)
        with self._transaction() as db:
            db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
                           _rows(workflow_id, run_id, events))
            db.execute("UPDATE runs SET status=?, state=? WHERE workflow_id=? AND run_id=?",
                       (record.status, json.dumps(record.state), workflow_id, run_id))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()


def _rows(workflow_id: str, run_id: str, events: Iterable[HistoryEvent]
          ) -> Iterable[tuple[Any, ...]]:
    for event in events:
        yield (workflow_id, run_id, event.event_id, event.event_type.value, event.time,
               json.dumps(event.attributes, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return value.decode("latin-1")
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"a history can only hold JSON-like values, not {type(value).__name__}")
