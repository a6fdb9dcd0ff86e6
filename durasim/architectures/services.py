"""The bank's services: real SQLite databases behind nodes that can crash.

Each service is a :class:`ServiceNode` whose durable store is one SQLite file in the run's
temporary folder, and whose open connection is volatile: a crash rolls back the open
transaction and drops the connection, a restart reopens the file. Every operation
(:mod:`~durasim.architectures.operations`) is one SQLite transaction, and around its
commit it passes the two crash points of its business step, so ``Crash(at_step=5,
when=...)`` hits the service executing step 5 either before its effect commits or after
the commit but before anyone hears about it. Requests reach it as
:mod:`~durasim.architectures.messaging` describes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from durasim.architectures.databases import (
    create_memory_database,
    drop_connection,
    release_memory_database,
    reopen,
)
from durasim.architectures.messaging import enable_replies, reply
from durasim.architectures.operations import (
    ServiceError,
    TransientError,
    apply_op,
    create_database,
)
from durasim.injector import activity_instance
from durasim.node import Node

if TYPE_CHECKING:
    from durasim.architectures.base import World


@dataclass
class Outcome:
    """What one execution of an operation came to.

    Attributes:
        ok: False when the service refused it (a business rejection, committed as such).
        result: the operation's result when ok.
        error: the refusal's sentence when not ok.
        deduped: True when the idempotency key had been seen: nothing was executed and
            this is the first execution's outcome.
        extra: what the caller's ``extra`` hook returned inside the transaction (stored
            with the idempotency key, so a deduplicated call gets it back).
    """

    ok: bool
    result: Any = None
    error: str = ""
    deduped: bool = False
    extra: Any = None


# -- the service node -------------------------------------------------------------------

Loop = Callable[["ServiceNode"], Coroutine[Any, Any, Any]]


class ServiceNode(Node):
    """A service: a node with its own SQLite database and a loop serving requests.

    Args:
        world: the run it belongs to.
        name: its node name ("bank_b").
        accounts: the accounts its database holds, with their initial balances.
        stock: items in stock (the inventory service).
        loops: the processes started at start and after every restart (default: serve
            requests from the inbox); the event-driven architecture runs consumers instead.
    """

    def __init__(self, world: World, name: str, *, accounts: Mapping[str, int] = {},
                 stock: Mapping[str, int] = {},
                 loops: tuple[Loop, ...] | None = None) -> None:
        if world.in_memory:  # see durasim.architectures.databases
            self.conn: sqlite3.Connection | None = create_memory_database(accounts, stock)
            durable: str | sqlite3.Connection = self.conn
        else:
            durable = world.path(name)
            self.conn = create_database(durable, accounts, stock)
        super().__init__(world.sim, name, durable=durable, on_start=self._start)
        self.world = world
        self.loops: tuple[Loop, ...] = (serve_requests,) if loops is None else loops
        self.on_crash.append(self._lose_connection)
        enable_replies(self)
        world.add(self)

    @property
    def db(self) -> sqlite3.Connection:
        """The open connection (volatile: gone after a crash until the restart)."""
        if self.conn is None:
            raise RuntimeError(f"service {self.name!r} has no open database (it is down)")
        return self.conn

    def _start(self, node: Node) -> None:
        if self.conn is None:  # a restart: the crash dropped the connection
            self.conn = reopen(self.durable)
        for loop in self.loops:
            self.spawn(loop(self), f"{self.name}.{loop.__name__}")

    def _lose_connection(self, node: Node) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        if drop_connection(conn, self.durable):
            self.sim.record(self.name, "rollback", reason="crash")
            self.log("crashed in the middle of a transaction: rolled back")

    def close_database(self) -> None:
        """The run is over: close the database (an in-memory one is kept for the next)."""
        conn, self.conn = self.conn, None
        if isinstance(self.durable, sqlite3.Connection):
            release_memory_database(self.durable)
        elif conn is not None:
            conn.close()

    def log(self, text: str) -> None:
        """Write a line to this service's own log (the talk's scattered logs)."""
        self.world.log(self.name, text)

    def perform(self, op: str, args: Mapping[str, Any], *, ref: str, step: int, name: str,
                key: str | None = None,
                extra: Callable[[sqlite3.Connection, Outcome], Any] | None = None) -> Outcome:
        """Run one operation as one transaction, with the step's two crash points.

        ``before_effect`` comes after the statements, right before the commit (a crash
        there rolls them back); ``after_effect`` right after the commit, before the caller
        is told anything. A business refusal rolls the statements back and commits a
        ``rejections`` row instead; ``extra(conn, outcome)`` writes more in the same
        transaction (the event-driven outbox) and its value is kept with ``key``.

        Raises:
            TransientError: an injected ``FailActivity`` failure; nothing was written.
            NodeCrashed: the fault plan crashed this service here.
        """
        sim, conn = self.sim, self.db
        sim.record(self.name, "step", step=step, name=name, phase="start", ref=ref)
        conn.execute("BEGIN IMMEDIATE")
        try:
            if key is not None:
                row = conn.execute("SELECT result FROM processed WHERE key = ?",
                                   (key,)).fetchone()
                if row is not None:
                    conn.execute("ROLLBACK")
                    self.log(f"step {step} {name}: key {key} already processed; "
                             "returning the first result, no new effect")
                    return Outcome(deduped=True, **json.loads(row[0]))
            if self.world.injector.activity_fails(name, activity_instance(ref, name)):
                raise TransientError(op, "injected failure (FailActivity)")
            try:
                outcome = Outcome(True, apply_op(conn, op, args, ref=ref, step=step, name=name))
            except ServiceError as exc:
                conn.execute("ROLLBACK")
                sim.record(self.name, "rollback", step=step, name=name, reason=exc.reason)
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO rejections(ref, step, name, reason) VALUES (?, ?, ?, ?)",
                             (ref, step, name, exc.reason))
                outcome = Outcome(False, error=exc.reason)
            if extra is not None:
                outcome.extra = extra(conn, outcome)
            if key is not None:
                stored = {"ok": outcome.ok, "result": outcome.result, "error": outcome.error,
                          "extra": outcome.extra}
                conn.execute("INSERT INTO processed(key, result) VALUES (?, ?)",
                             (key, json.dumps(stored)))
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
                sim.record(self.name, "rollback", step=step, name=name, reason=str(exc))
            if isinstance(exc, TransientError):
                self.log(f"step {step} {name}: failed ({exc.reason}); rolled back")
            raise
        self.world.injector.at_step(self.name, step, name, "before_effect", ref=ref)
        conn.execute("COMMIT")
        sim.record(self.name, "commit", step=step, name=name, ref=ref)
        if outcome.ok:
            sim.record(self.name, "step", step=step, name=name, phase="effect", ref=ref)
            self.log(f"step {step} {name} {_describe(args)}: committed")
        else:
            self.log(f"step {step} {name}: refused ({outcome.error})")
        self.world.injector.at_step(self.name, step, name, "after_effect", ref=ref)
        return outcome


def _describe(args: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in args.items() if not isinstance(v, dict | list))


async def serve_requests(node: ServiceNode) -> None:
    """The request/response loop: one request at a time, each one transaction."""
    world = node.world
    while True:
        message = await node.inbox.get()
        body = message.payload
        if not isinstance(body, dict) or "op" not in body:
            node.log(f"ignored a {message.kind!r} message from {message.src}")
            continue
        step = body.get("step") or 0
        name = body.get("name") or world.step_name(step, body["op"])
        ref = body.get("ref") or world.scenario.key
        await world.sim.timeout(world.service_time)
        try:
            outcome = node.perform(body["op"], body.get("args") or {}, ref=ref, step=step,
                                   name=name, key=body.get("key"))
        except TransientError as exc:
            reply(world.net, node, message, {"ok": False, "result": None, "error": exc.reason,
                                             "retryable": True, "deduped": False})
            continue
        reply(world.net, node, message, {"ok": outcome.ok, "result": outcome.result,
                                         "error": outcome.error, "retryable": False,
                                         "deduped": outcome.deduped})
        world.sim.record(node.name, "step", step=step, name=name, phase="done", ref=ref)


# -- building the bank ------------------------------------------------------------------

def build_services(world: World, loops: tuple[Loop, ...] | None = None
                   ) -> dict[str, ServiceNode]:
    """One :class:`ServiceNode` per service of the scenario, with its accounts and stock.

    Stock (``params["stock"]``) goes to the service that reserves it.
    """
    scenario = world.scenario
    stock_home = next((s.service for s in scenario.all_steps if s.op == "reserve_stock"), None)
    services = {}
    for name in scenario.services:
        accounts = {a: b for a, b in scenario.accounts.items() if scenario.homes[a] == name}
        stock = scenario.params.get("stock", {}) if name == stock_home else {}
        services[name] = ServiceNode(world, name, accounts=accounts, stock=stock, loops=loops)
    return services

