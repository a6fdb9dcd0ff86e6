"""HistoryStore: where the service keeps histories, so a crash cannot take them.

Two stores with one interface and one behaviour: :class:`MemoryStore` (fast; survives
simulated crashes because the simulation, not the store, decides what a crash forgets)
and :class:`SQLiteStore`, a real database file that survives the Python process itself
being killed. As in DBOS's step table, rows are keyed ``(workflow_id, run_id, event_id)``
and each batch of events is one transaction: a crash leaves a batch either fully written
or absent, never half. Both stores keep the same values (the rule is in
:mod:`durasim.engine.store_values`: what goes in is what a reload gives back) and both
change their records only once a batch is accepted, so memory never runs ahead of disk.
"""

from __future__ import annotations

import os
import sqlite3
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from durasim.engine import store_lock
from durasim.engine.history import EventType, HistoryEvent
from durasim.engine.sqlite_advice import advice
from durasim.engine.store_values import dumps, loads, normalised
from durasim.errors import StoreError

__all__ = ["HistoryStore", "MemoryStore", "RunRecord", "SQLiteStore", "StoreError"]


class RunRecord:
    """A workflow run as the store knows it: identity, status and its events.

    ``state`` is the server's own bookkeeping (what the history alone does not say),
    JSON-able and saved with every batch; its ``activities`` maps each open activity's
    scheduled event id (as text) to that activity's saved state.
    """

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
        self._run_ids: set[str] = set()

    def create_run(self, workflow_id: str, run_id: str, workflow_type: str,
                   parent: dict[str, Any] | None = None,
                   events: Sequence[HistoryEvent] = (),
                   state: dict[str, Any] | None = None) -> RunRecord:
        """Register a new run with its first events and state, atomically."""
        if (workflow_id, run_id) in self._runs:
            raise StoreError(f"run {workflow_id}/{run_id} already exists")
        record = RunRecord(workflow_id, run_id, workflow_type,
                           None if parent is None else normalised(parent, "parent"))
        self._accept(record, events)
        self._persist_run(record, events, state or {})
        self._register(record)
        record.events.extend(events)
        if state:
            record.state = merged_state({}, state)
        return record

    def append(self, workflow_id: str, run_id: str, events: Sequence[HistoryEvent],
               state: dict[str, Any] | None = None, status: str | None = None) -> None:
        """Append a batch atomically, with the changes to the run's state and its status.

        ``state`` replaces the saved state, except its ``activities``: those are only the
        activities that changed (``None`` for one that closed), merged into the ones
        kept, so a batch costs what it changed, not what is open.
        """
        record = self._runs.get((workflow_id, run_id))
        if record is None:
            raise StoreError(f"there is no run {workflow_id}/{run_id} in this store")
        self._accept(record, events)
        self._persist_append(record, events, state, status)
        record.events.extend(events)
        if state is not None:
            record.state = merged_state(record.state, state)
        if status is not None:
            record.status = status

    def _accept(self, record: RunRecord, events: Sequence[HistoryEvent]) -> None:
        """Refuse gaps and duplicates; give each event's attributes the stored form."""
        expected = len(record.events) + 1
        for offset, event in enumerate(events):
            if event.event_id != expected + offset:
                raise StoreError(f"{record.workflow_id}/{record.run_id}: event id "
                                 f"{event.event_id} where {expected + offset} was expected "
                                 "(no gaps, no duplicates)")
        for event in events:
            try:
                event.attributes = normalised(event.attributes, "attributes")
            except StoreError as error:
                raise StoreError(f"{record.workflow_id}/{record.run_id} event "
                                 f"{event.event_id} ({event.event_type.value}): {error}"
                                 ) from None

    def _persist_run(self, record: RunRecord, events: Sequence[HistoryEvent],
                     state: dict[str, Any]) -> None:
        """Write a new run durably before memory knows it (nothing to do in memory)."""

    def _persist_append(self, record: RunRecord, events: Sequence[HistoryEvent],
                        state: dict[str, Any] | None, status: str | None) -> None:
        """Write a batch durably before memory knows it (nothing to do in memory)."""

    def _register(self, record: RunRecord) -> None:
        key = (record.workflow_id, record.run_id)
        self._runs[key] = record
        self._order.append(key)
        self._by_workflow.setdefault(record.workflow_id, []).append(record)
        self._run_ids.add(record.run_id)

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

    def has_run_id(self, run_id: str) -> bool:
        """Whether any run of any workflow has this run id (new ones must not reuse it)."""
        return run_id in self._run_ids

    def close(self) -> None:
        """Release resources (nothing to do in memory)."""

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


MemoryStore = HistoryStore


def merged_state(kept: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A run's state after a batch: ``changes`` as it is, with its ``activities`` merged
    into the ``kept`` ones (``None`` removes one).

    The kept activities are updated in place: call it only once the batch is durable.
    """
    activities = kept.get("activities", {})
    for key, saved in changes.get("activities", {}).items():
        if saved is None:
            activities.pop(key, None)
        else:
            activities[key] = saved
    return {**changes, "activities": activities}


_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow_id TEXT NOT NULL, run_id TEXT NOT NULL, workflow_type TEXT NOT NULL,
    parent TEXT, status TEXT NOT NULL, state TEXT NOT NULL,
    UNIQUE (workflow_id, run_id));
CREATE TABLE IF NOT EXISTS activities (
    workflow_id TEXT NOT NULL, run_id TEXT NOT NULL, scheduled_id INTEGER NOT NULL,
    state TEXT NOT NULL, PRIMARY KEY (workflow_id, run_id, scheduled_id));
CREATE TABLE IF NOT EXISTS events (
    workflow_id TEXT NOT NULL, run_id TEXT NOT NULL, event_id INTEGER NOT NULL,
    event_type TEXT NOT NULL, time REAL NOT NULL, attributes TEXT NOT NULL,
    PRIMARY KEY (workflow_id, run_id, event_id));
"""
_INSERT_EVENT = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)"


class SQLiteStore(HistoryStore):
    """A history store in a SQLite file: histories survive the process being killed.

    One process at a time may hold a file (see :mod:`durasim.engine.store_lock`); a
    second one gets a :class:`StoreError` saying who holds it. Every problem with the
    file (a folder, a damaged or foreign file, a read-only one, a damaged row) is a
    one-line :class:`StoreError` naming the path and what to do.

    Args:
        path: the database file (created if missing). Keep it in a temporary folder.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._version = 0
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder; give SQLiteStore the path of a file "
                             "inside it (it is created if missing)")
        folder = self.path.parent
        if not folder.is_dir():
            raise StoreError(f"{self.path}: the folder {folder} does not exist; create it "
                             "first")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StoreError(f"{self.path}: the folder {folder} is read-only, and SQLite "
                             "writes -wal, -shm and .lock files beside the store; use a "
                             "writable folder (or copy the store to one)")
        if self.path.exists() and not os.access(self.path, os.R_OK | os.W_OK):
            raise StoreError(f"{self.path} is read-only, and a store is written at every "
                             "step of a run; make it writable (chmod u+rw) or work on a copy")
        self._lock = store_lock.acquire(self.path)
        try:
            with self._sqlite("open"):
                self._db = self._connect()
                self._db.executescript(_SCHEMA)
                self._load()
        except BaseException:
            self._release(self._db, self._lock)
            raise
        self._finalizer = weakref.finalize(self, self._release, self._db, self._lock)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # a killed writer never corrupts it
            db.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            db.close()
            raise
        return db

    @staticmethod
    def _release(db: sqlite3.Connection | None, lock: Path) -> None:
        if db is not None:
            db.close()
        store_lock.release(lock)

    def close(self) -> None:
        """Close the database and let another process take the file."""
        if self._db is not None:
            self._finalizer()
            self._db = None

    # -- reading ----------------------------------------------------------------------
    def _load(self) -> None:
        db = self._live()
        db.execute("BEGIN")  # one snapshot of both tables
        runs = db.execute("SELECT workflow_id, run_id, workflow_type, parent, status, state "
                          "FROM runs ORDER BY seq").fetchall()
        rows = db.execute("SELECT workflow_id, run_id, event_id, event_type, time, "
                          "attributes FROM events ORDER BY workflow_id, run_id, "
                          "event_id").fetchall()
        activities = db.execute("SELECT workflow_id, run_id, scheduled_id, state FROM "
                                "activities ORDER BY workflow_id, run_id, scheduled_id"
                                ).fetchall()
        self._version = db.execute("PRAGMA data_version").fetchone()[0]
        db.execute("COMMIT")
        written_before_the_table: list[RunRecord] = []
        for workflow_id, run_id, workflow_type, parent, status, state in runs:
            record = RunRecord(workflow_id, run_id, workflow_type,
                               self._json(parent, f"run {workflow_id}/{run_id} parent")
                               if parent else None)
            record.status = status
            record.state = self._json(state, f"run {workflow_id}/{run_id} state")
            self._register(record)
            if record.state.get("activities"):
                written_before_the_table.append(record)
        for workflow_id, run_id, scheduled_id, state in activities:
            where = f"run {workflow_id}/{run_id} activity {scheduled_id}"
            owner = self._runs.get((workflow_id, run_id))
            if owner is None:
                raise self._damaged(f"{where} belongs to no run")
            owner.state.setdefault("activities", {})[str(scheduled_id)] = self._json(
                state, f"{where} state")
        for row in rows:
            self._load_event(*row)
        if written_before_the_table:
            self._move_activities_out_of_runs(written_before_the_table)

    def _move_activities_out_of_runs(self, records: list[RunRecord]) -> None:
        """Stores written before activities had their own table kept them all inside the
        run's state: move them to the table once, so the next batch, which writes only
        what changed, cannot lose them."""
        with self._transaction() as db:
            for record in records:
                saved, activities = self._state_rows(record, record.state)
                db.execute("UPDATE runs SET state=? WHERE workflow_id=? AND run_id=?",
                           (saved, record.workflow_id, record.run_id))
                self._write_activities(db, activities)

    def _load_event(self, workflow_id: str, run_id: str, event_id: Any, event_type: Any,
                    time: Any, attributes: Any) -> None:
        where = f"run {workflow_id}/{run_id} event {event_id}"
        record = self._runs.get((workflow_id, run_id))
        if record is None:
            raise self._damaged(f"{where} belongs to no run")
        expected = len(record.events) + 1
        if type(event_id) is not int or event_id != expected:
            raise self._damaged(f"run {workflow_id}/{run_id} has event {event_id} where "
                                f"{expected} was expected (events missing)")
        try:
            kind = EventType(event_type)
        except ValueError:
            raise self._damaged(f"{where} has the unknown event type {event_type!r}") from None
        if type(time) not in (int, float):
            raise self._damaged(f"{where} has the time {time!r}, not a number")
        record.events.append(HistoryEvent(event_id, kind, float(time),
                                          self._json(attributes, f"{where} attributes")))

    def _json(self, text: Any, where: str) -> Any:
        try:
            value = loads(text)
        except (TypeError, ValueError, RecursionError) as error:
            raise self._damaged(f"{where} is not valid store JSON ({error})") from None
        if not isinstance(value, dict):
            raise self._damaged(f"{where} is {type(value).__name__}, not an object")
        return value

    def _damaged(self, what: str) -> StoreError:
        return StoreError(f"{self.path}: {what}; the file was damaged or written by another "
                          "program: restore it from a copy, or move it away and start afresh")

    # -- writing ----------------------------------------------------------------------
    def _persist_run(self, record: RunRecord, events: Sequence[HistoryEvent],
                     state: dict[str, Any]) -> None:
        rows = _rows(record, events)
        parent = None if record.parent is None else dumps(record.parent)
        saved, activities = self._state_rows(record, state)
        with self._transaction() as db:
            db.execute("INSERT INTO runs (workflow_id, run_id, workflow_type, parent, "
                       "status, state) VALUES (?, ?, ?, ?, ?, ?)",
                       (record.workflow_id, record.run_id, record.workflow_type, parent,
                        record.status, saved))
            db.executemany(_INSERT_EVENT, rows)
            self._write_activities(db, activities)

    def _persist_append(self, record: RunRecord, events: Sequence[HistoryEvent],
                        state: dict[str, Any] | None, status: str | None) -> None:
        rows = _rows(record, events)
        saved, activities = self._state_rows(record, state)
        with self._transaction() as db:
            db.executemany(_INSERT_EVENT, rows)
            db.execute("UPDATE runs SET status=?, state=COALESCE(?, state) "  # None: kept
                       "WHERE workflow_id=? AND run_id=?",
                       (status or record.status, saved, record.workflow_id, record.run_id))
            self._write_activities(db, activities)

    @staticmethod
    def _state_rows(record: RunRecord, state: dict[str, Any] | None
                    ) -> tuple[str | None, list[tuple[Any, ...]]]:
        """A run's state as the ``runs`` row keeps it, and one row per changed activity
        (its state, or None once it closed): each in its own row, so a batch writes only
        the activities it changed."""
        if state is None:
            return None, []
        where = f"{record.workflow_id}/{record.run_id}"
        try:
            saved = dumps({k: v for k, v in state.items() if k != "activities"})
            activities = [(None if value is None else dumps(value), record.workflow_id,
                           record.run_id, int(key))
                          for key, value in state.get("activities", {}).items()]
        except (TypeError, ValueError) as error:
            raise StoreError(f"{where}: the run's state cannot be written as JSON ({error})"
                             ) from None
        return saved, activities

    @staticmethod
    def _write_activities(db: sqlite3.Connection, activities: list[tuple[Any, ...]]) -> None:
        closed = [row[1:] for row in activities if row[0] is None]
        if closed:
            db.executemany("DELETE FROM activities WHERE workflow_id=? AND run_id=? AND "
                           "scheduled_id=?", closed)
        changed = [row for row in activities if row[0] is not None]
        if changed:
            db.executemany("INSERT OR REPLACE INTO activities (state, workflow_id, run_id, "
                           "scheduled_id) VALUES (?, ?, ?, ?)", changed)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write, refused if another connection wrote since this store loaded."""
        with self._sqlite("write to"):
            db = self._live()
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("PRAGMA data_version").fetchone()[0] != self._version:
                    raise StoreError(
                        f"{self.path} was changed by another connection since this "
                        "SQLiteStore loaded it (another SQLiteStore on the same file, or a "
                        "program editing it); open it again and use only that one")
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def _live(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"{self.path}: this SQLiteStore is closed; open the file again "
                             "with SQLiteStore(path)")
        return self._db

    @contextmanager
    def _sqlite(self, doing: str) -> Iterator[None]:
        """Turn SQLite's exceptions into one StoreError that says what to do."""
        try:
            yield
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: cannot {doing} the store: {advice(error)}"
                             ) from None


def _rows(record: RunRecord, events: Sequence[HistoryEvent]) -> list[tuple[Any, ...]]:
    return [(record.workflow_id, record.run_id, e.event_id, e.event_type.value, e.time,
             dumps(e.attributes)) for e in events]
