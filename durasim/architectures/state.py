"""Where a run ended, read from its databases: the :class:`RunState` every reader shares.

Each architecture keeps its business data in SQLite files (one per service, or the
monolith's one), in the tables :mod:`durasim.architectures.operations` writes: ``effects``
(one row per executed operation), ``postings`` (money moved), ``rejections`` (business
refusals). After a run :func:`collect_state` reads every database into one frozen
:class:`RunState`, and the architecture adds what only it knows: what is still pending
(an event in a queue or an outbox, a workflow that never finished), the broker's queues,
and what the waiting caller heard. The checks, :mod:`durasim.money`, the pictures and the
exercises read these typed records, never the tables, so all of them count the same rows.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from durasim.architectures.operations import read_tables, template_tables
from durasim.core import collector_paused
from durasim.node import Node

__all__ = ["Caller", "Effect", "Pending", "Posting", "ProcessRows", "QueuedMessage",
           "Rejection", "RunState", "collect_state", "rows_by_ref", "rows_of"]

Rows = list[dict[str, Any]]
"""A table's rows as dicts, column -> value."""


@dataclass(frozen=True)
class Effect:
    """One operation a service executed and committed (a row of its ``effects`` table).

    Attributes:
        service: the node whose database holds it.
        id: the row id in that database (rows of one service are in commit order).
        ref: the business reference it was done for ("tx-1", "payroll-1/dave").
        step: the business step number.
        name: the step's name ("deposit"); compensations have their own names.
        op: the service operation that ran ("deposit", "charge_card").
        detail: the operation's result, as JSON text.
    """

    service: str
    id: int
    ref: str
    step: int
    name: str
    op: str
    detail: str = ""


@dataclass(frozen=True)
class Posting:
    """Money moved on one account by one effect (a row of a ``postings`` table)."""

    service: str
    effect_id: int
    ref: str
    account: str
    delta: int


@dataclass(frozen=True)
class Rejection:
    """A business refusal a service committed instead of an effect ("insufficient funds")."""

    service: str
    id: int
    ref: str
    step: int
    name: str
    reason: str


@dataclass(frozen=True)
class Pending:
    """Work that never finished and still waits somewhere.

    Attributes:
        ref: the business reference.
        where: where it waits, as a phrase ("in the dead-letter queue after 5 deliveries").
        what: what waits ("the deposit event of tx-1", "transfer tx-1").
        step: the step it would run, when known.
    """

    ref: str
    where: str
    what: str
    step: int | None = None


@dataclass(frozen=True)
class QueuedMessage:
    """A message the broker still holds at the end (not acknowledged, or dead-lettered)."""

    id: int
    queue: str
    event_id: str
    ref: str
    step: int
    state: str
    deliveries: int


@dataclass(frozen=True)
class Caller:
    """The client that waited for an answer (the monolith's), and what it learned.

    Attributes:
        answered: whether any answer reached it.
        reply: the last answer it got (``ok``, ``result``, ``error``, ...), if any.
        attempts: how many times it asked.
        applied: whether the database committed the process (what the caller may not know).
    """

    answered: bool
    reply: Mapping[str, Any] | None
    attempts: int
    applied: bool


@dataclass(frozen=True)
class RunState:
    """Where a run ended: the databases' rows, and what is left in flight.

    Attributes:
        balances: account -> final balance, over every database.
        rows: node -> table -> rows, every non-empty table of every database (ledger,
            stock, outbox, ...), for what the typed fields below do not cover.
        effects, postings, rejections: every database's rows of those tables, each
            with the service it came from.
        pending: work that never finished and where it waits.
        queues: broker queue -> the messages still in it (event-driven only;
            ``"dead_letter"`` holds those given up on).
        caller: the client that waited for an answer (monolith only).
    """

    balances: Mapping[str, int] = field(default_factory=dict)
    rows: Mapping[str, Mapping[str, Rows]] = field(default_factory=dict)
    effects: tuple[Effect, ...] = ()
    postings: tuple[Posting, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    pending: tuple[Pending, ...] = ()
    queues: Mapping[str, tuple[QueuedMessage, ...]] = field(default_factory=dict)
    caller: Caller | None = None

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON-able data (what ``durasim simulate --json`` prints)."""
        return dataclasses.asdict(self)


@dataclass
class ProcessRows:
    """One business process's rows of a run's state: what its verdict is read from."""

    effects: list[Effect] = field(default_factory=list)
    postings: list[Posting] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)


def rows_by_ref(state: RunState) -> dict[str, ProcessRows]:
    """``state``'s effects, postings, rejections and pending work by business reference,
    in one pass over each (a bank's day reads thousands of processes from one state,
    with the cyclic collector paused: its passes over a day's objects free nothing)."""
    grouped: dict[str, ProcessRows] = {}
    with collector_paused():
        for table in ("effects", "postings", "rejections", "pending"):
            for row in getattr(state, table):
                mine = grouped.get(row.ref)
                if mine is None:
                    mine = grouped[row.ref] = ProcessRows()
                getattr(mine, table).append(row)
    return grouped


def rows_of(state: RunState, ref: str) -> ProcessRows:
    """One process's rows of ``state``."""
    return rows_by_ref(state).get(ref) or ProcessRows()


def collect_state(nodes: Mapping[str, Node], *, pending: tuple[Pending, ...] = (),
                  queues: Mapping[str, tuple[QueuedMessage, ...]] | None = None,
                  caller: Caller | None = None) -> RunState:
    """Read the databases of ``nodes`` after a run into a :class:`RunState`.

    Args:
        nodes: node name -> a node whose ``durable`` is its database file (its open
            ``conn``, if any, is used: opening a database is the slow part).
        pending, queues, caller: what the architecture knows beyond the databases.
    """
    balances: dict[str, int] = {}
    rows: dict[str, dict[str, Rows]] = {}
    effects: list[Effect] = []
    postings: list[Posting] = []
    rejections: list[Rejection] = []
    service_tables = template_tables()  # every service's database is made from it
    for name, node in nodes.items():
        conn = getattr(node, "conn", None)
        if conn is None and isinstance(node.durable, sqlite3.Connection):
            conn = node.durable  # in memory, and the node is down: its database is still here
        tables = (read_tables(conn, service_tables) if conn is not None
                  else _read_file(node.durable))
        rows[name] = tables
        balances.update((row["name"], row["balance"]) for row in tables.get("accounts", []))
        effects += [Effect(service=name, **row) for row in tables.get("effects", [])]
        postings += [Posting(service=name, **row) for row in tables.get("postings", [])]
        rejections += [Rejection(service=name, **row) for row in tables.get("rejections", [])]
    return RunState(balances, rows, tuple(effects), tuple(postings), tuple(rejections),
                    tuple(pending), dict(queues or {}), caller)


def _read_file(path: str) -> dict[str, Rows]:
    conn = sqlite3.connect(path)
    try:
        return read_tables(conn)
    finally:
        conn.close()
