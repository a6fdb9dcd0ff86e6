"""Where a node's SQLite database lives: a file (the default), or in memory.

A simulated crash does two things to a database: the open transaction is rolled back
and the node's connection is gone; what was committed survives. A file gives that
for free. So does memory, if the database outlives the connection: here the database
*is* one connection, which the node keeps as its durable store and reopens after a
restart, while a crash rolls its open transaction back and drops the node's hold on it.
What memory cannot give is durability across Python processes, which a simulated crash
never tests (the SIGKILL suite, in ``tests/properties/test_sqlite_kill.py``, keeps real
files). Thousands of runs (a property's crash plans, a bank's day) then skip creating,
opening and deleting files: :func:`databases_in_memory` turns it on for the worlds built
inside it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from durasim.architectures.operations import connect, template

__all__ = ["create_memory_database", "create_memory_log", "databases_in_memory",
           "drop_connection", "in_memory", "release_memory_database", "reopen"]

_IN_MEMORY: ContextVar[bool] = ContextVar("durasim_databases_in_memory", default=False)


@contextlib.contextmanager
def databases_in_memory() -> Iterator[None]:
    """Worlds built inside keep their SQLite databases in memory, not in files.

    Example:
        >>> with databases_in_memory():  # doctest: +SKIP
        ...     result = durasim.run("transfer", "durable", Crash(at_step=5))
    """
    token = _IN_MEMORY.set(True)
    try:
        yield
    finally:
        _IN_MEMORY.reset(token)


def in_memory() -> bool:
    """Are worlds built now to keep their databases in memory?"""
    return _IN_MEMORY.get()


_SNAPSHOTS: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
"""Initial databases (the schema and a service's opening rows) as bytes, by their rows:
a property checks thousands of runs that start from the same few."""
_SPARE: list[sqlite3.Connection] = []
"""In-memory connections whose run ended, ready to hold the next run's database."""
_KEEP = 64


def _memory_connection() -> sqlite3.Connection:
    # check_same_thread=False: a spare may serve a run in another thread than the one that
    # made it; one run uses it at a time, which is all SQLite asks.
    return sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)


def create_memory_database(accounts: Mapping[str, int] | None = None,
                           stock: Mapping[str, int] | None = None) -> sqlite3.Connection:
    """A service's database with every table and its opening rows, in memory.

    The connection returned *is* the database: the node keeps it as its durable store.
    Give it back with :func:`release_memory_database` when the run ends.
    """
    key = (tuple((accounts or {}).items()), tuple((stock or {}).items()))
    snapshot = _SNAPSHOTS.get(key)
    if snapshot is None:
        seed = _memory_connection()
        seed.deserialize(template())
        seed.execute("BEGIN")
        seed.executemany("INSERT INTO accounts VALUES (?, ?)", key[0])
        seed.executemany("INSERT INTO stock VALUES (?, ?)", key[1])
        seed.execute("COMMIT")
        snapshot = _SNAPSHOTS[key] = seed.serialize()
        seed.close()
        if len(_SNAPSHOTS) > _KEEP:
            _SNAPSHOTS.popitem(last=False)
    conn = _SPARE.pop() if _SPARE else _memory_connection()
    conn.deserialize(snapshot)
    return conn


def create_memory_log(schema: str) -> sqlite3.Connection:
    """An in-memory database made by running ``schema`` (the broker's log)."""
    conn = _memory_connection()
    conn.executescript(schema)
    return conn


def release_memory_database(conn: sqlite3.Connection) -> None:
    """A run's in-memory database is done: keep its connection for the next one."""
    if conn.in_transaction:
        conn.rollback()
    if len(_SPARE) < _KEEP:
        _SPARE.append(conn)
    else:
        conn.close()


def reopen(durable: str | sqlite3.Connection) -> sqlite3.Connection:
    """A restarted node's connection to its durable database: the in-memory one itself,
    or a new connection to its file."""
    return durable if isinstance(durable, sqlite3.Connection) else connect(durable)


def drop_connection(conn: sqlite3.Connection, durable: str | sqlite3.Connection) -> bool:
    """What a crash does to a node's connection: the open transaction is rolled back and
    the connection is gone (an in-memory database itself survives). Returns whether a
    transaction was open."""
    rolled_back = conn.in_transaction
    if rolled_back:
        conn.rollback()
    if conn is not durable:
        conn.close()
    return rolled_back
