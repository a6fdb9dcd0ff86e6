"""The bank's services: real SQLite databases behind nodes that can crash.

Each service is a :class:`ServiceNode` whose durable store is one SQLite file in the run's
temporary folder, and whose open connection is volatile: a crash rolls back the open
transaction and drops the connection, a restart reopens the file. Every operation is one
SQLite transaction, and around its commit it passes the two crash points of its business
step, so ``Crash(at_step=5, when=...)`` hits the service executing step 5 either before
its effect commits or after the commit but before anyone hears about it.

Operations write what they did into tables every architecture reads the same way:
``effects`` (one row per executed operation, keyed by the business reference), ``postings``
(money moved), ``rejections`` (business refusals) and ``processed`` (idempotency keys, so a
repeated key returns the first result without a second effect).

The request/response protocol (what the durable architecture reuses):

* request: ``net.send(caller, service, kind=op, payload={"op", "args", "step", "name",
  "ref", "key"}, step=step, headers={"request_id": n})``;
* reply: ``kind="reply"``, ``payload={"ok", "result", "error", "retryable", "deduped"}``,
  ``headers={"in_reply_to": n}``, sent back to the caller;
* :func:`call_service` does both and returns ``result``, or raises :class:`ServiceError`
  (``retryable`` False for business refusals, True for injected ``FailActivity`` failures)
  or :class:`ServiceTimeout` when no reply arrives in time. Replies never reach the
  caller's ordinary inbox loop: :class:`ReplyMailbox` routes them to the waiting call.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from durasim.core import Event
from durasim.injector import activity_instance
from durasim.network import Message, Network
from durasim.node import Mailbox, Node

if TYPE_CHECKING:
    from durasim.architectures.base import World

SCHEMA = """
CREATE TABLE accounts(name TEXT PRIMARY KEY, balance INTEGER NOT NULL);
CREATE TABLE stock(item TEXT PRIMARY KEY, qty INTEGER NOT NULL);
CREATE TABLE effects(id INTEGER PRIMARY KEY, ref TEXT, step INTEGER, name TEXT, op TEXT,
                     detail TEXT);
CREATE TABLE postings(effect_id INTEGER, ref TEXT, account TEXT, delta INTEGER);
CREATE TABLE rejections(id INTEGER PRIMARY KEY, ref TEXT, step INTEGER, name TEXT,
                        reason TEXT);
CREATE TABLE processed(key TEXT PRIMARY KEY, result TEXT);
CREATE TABLE ledger(id INTEGER PRIMARY KEY, ref TEXT, src TEXT, dst TEXT, amount INTEGER);
CREATE TABLE notifications(id INTEGER PRIMARY KEY, ref TEXT, recipient TEXT, text TEXT);
CREATE TABLE shipments(id INTEGER PRIMARY KEY, ref TEXT, item TEXT, qty INTEGER,
                       address TEXT);
CREATE TABLE outbox(id INTEGER PRIMARY KEY, event_id TEXT, body TEXT,
                    published INTEGER NOT NULL DEFAULT 0);
"""
"""Every service database has every table (cheap, and one reader fits all)."""


class ServiceError(Exception):
    """A service refused or failed an operation.

    Attributes:
        op: the operation.
        reason: a sentence for students ("insufficient funds: alice has 10, needs 25").
        retryable: False for business refusals (retrying cannot help), True for transient
            failures (an injected ``FailActivity``).
    """

    def __init__(self, op: str, reason: str, *, retryable: bool = False) -> None:
        super().__init__(f"{op}: {reason}")
        self.op = op
        self.reason = reason
        self.retryable = retryable


class TransientError(ServiceError):
    """A failure that a retry may fix (injected by ``FailActivity``); nothing was written."""

    def __init__(self, op: str, reason: str) -> None:
        super().__init__(op, reason, retryable=True)


class ServiceTimeout(Exception):
    """No reply came within the timeout: the caller cannot know whether the work happened."""


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


# -- operations -------------------------------------------------------------------------

class Tx:
    """An open transaction handed to an operation: the connection and the money it moves."""

    def __init__(self, conn: sqlite3.Connection, op: str, ref: str) -> None:
        self.conn = conn
        self.op = op
        self.ref = ref
        self.postings: list[tuple[str, int]] = []

    def reject(self, reason: str) -> ServiceError:
        """A business refusal of this operation (to ``raise``)."""
        return ServiceError(self.op, reason)

    def move(self, account: str, delta: int) -> int:
        """Change a balance by ``delta``; refuses unknown accounts and overdrafts."""
        row = self.conn.execute("SELECT balance FROM accounts WHERE name = ?",
                                (account,)).fetchone()
        if row is None:
            raise self.reject(f"there is no account {account!r} here")
        if row[0] + delta < 0:
            raise self.reject(f"insufficient funds: {account} has {row[0]}, needs {-delta}")
        self.conn.execute("UPDATE accounts SET balance = balance + ? WHERE name = ?",
                          (delta, account))
        self.postings.append((account, delta))
        return int(row[0] + delta)


def _validate(tx: Tx, src: str, dst: str, amount: int) -> dict[str, Any]:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise tx.reject(f"the amount must be a positive whole number, got {amount!r}")
    if src == dst:
        raise tx.reject(f"cannot transfer from {src} to itself")
    return {"valid": True}


def _fraud_check(tx: Tx, account: str, amount: int, limit: int) -> dict[str, Any]:
    if amount > limit:
        raise tx.reject(f"flagged as possible fraud: {amount} is above the limit of {limit}")
    return {"score": round(amount / limit, 3)}


def _withdraw(tx: Tx, account: str, amount: int) -> dict[str, Any]:
    return {"account": account, "balance": tx.move(account, -amount)}


def _deposit(tx: Tx, account: str, amount: int) -> dict[str, Any]:
    return {"account": account, "balance": tx.move(account, amount)}


def _record_ledger(tx: Tx, src: str, dst: str, amount: int) -> dict[str, Any]:
    cur = tx.conn.execute("INSERT INTO ledger(ref, src, dst, amount) VALUES (?, ?, ?, ?)",
                          (tx.ref, src, dst, amount))
    return {"entry": cur.lastrowid}


def _notify(tx: Tx, to: str, amount: int | None = None, text: str = "") -> dict[str, Any]:
    text = text or (f"{tx.ref}: {amount}" if amount is not None else tx.ref)
    tx.conn.execute("INSERT INTO notifications(ref, recipient, text) VALUES (?, ?, ?)",
                    (tx.ref, to, text))
    return {"sent_to": to}


def _reserve_stock(tx: Tx, item: str, qty: int) -> dict[str, Any]:
    row = tx.conn.execute("SELECT qty FROM stock WHERE item = ?", (item,)).fetchone()
    if row is None or row[0] < qty:
        raise tx.reject(f"only {row[0] if row else 0} {item} left, {qty} ordered")
    tx.conn.execute("UPDATE stock SET qty = qty - ? WHERE item = ?", (qty, item))
    return {"item": item, "left": row[0] - qty}


def _release_stock(tx: Tx, item: str, qty: int) -> dict[str, Any]:
    tx.conn.execute("UPDATE stock SET qty = qty + ? WHERE item = ?", (qty, item))
    return {"item": item, "released": qty}


def _charge_card(tx: Tx, customer: str, merchant: str, amount: int) -> dict[str, Any]:
    tx.move(customer, -amount)
    tx.move(merchant, amount)
    return {"charged": amount}


def _refund_card(tx: Tx, customer: str, merchant: str, amount: int) -> dict[str, Any]:
    tx.move(merchant, -amount)
    tx.move(customer, amount)
    return {"refunded": amount}


def _ship(tx: Tx, item: str, qty: int, address: str, deliverable: bool = True
          ) -> dict[str, Any]:
    if not deliverable:
        raise tx.reject(f"the carrier cannot deliver to {address!r}")
    tx.conn.execute("INSERT INTO shipments(ref, item, qty, address) VALUES (?, ?, ?, ?)",
                    (tx.ref, item, qty, address))
    return {"tracking": f"TRK-{tx.ref}"}


def _compute_payroll(tx: Tx, employees: Mapping[str, int]) -> dict[str, Any]:
    return {"employees": dict(employees), "total": sum(employees.values())}


OPS: dict[str, Callable[..., dict[str, Any]]] = {
    "validate": _validate, "fraud_check": _fraud_check, "withdraw": _withdraw,
    "deposit": _deposit, "record_ledger": _record_ledger, "notify": _notify,
    "reserve_stock": _reserve_stock, "release_stock": _release_stock,
    "charge_card": _charge_card, "refund_card": _refund_card, "ship": _ship,
    "compute_payroll": _compute_payroll,
}
"""Every operation a service can run: ``op(tx, **args) -> result``."""


def apply_op(conn: sqlite3.Connection, op: str, args: Mapping[str, Any], *, ref: str,
             step: int, name: str) -> dict[str, Any]:
    """Run operation ``op`` inside the caller's open transaction and record its effect.

    Shared by the services (one transaction per operation) and the monolith (one for the
    whole process): the same statements, a different transaction boundary.

    Raises:
        ServiceError: the operation refused (its statements are still in the
            transaction: the caller rolls back).
        ValueError: no such operation.
    """
    fn = OPS.get(op)
    if fn is None:
        raise ValueError(f"unknown service operation {op!r}; operations: {', '.join(OPS)}")
    tx = Tx(conn, op, ref)
    result = fn(tx, **args)
    cur = conn.execute("INSERT INTO effects(ref, step, name, op, detail) VALUES (?, ?, ?, ?, ?)",
                       (ref, step, name, op, json.dumps(result, sort_keys=True)))
    for account, delta in tx.postings:
        conn.execute("INSERT INTO postings(effect_id, ref, account, delta) VALUES (?, ?, ?, ?)",
                     (cur.lastrowid, ref, account, delta))
    return result


_TEMPLATE: list[bytes] = []


def _template() -> bytes:
    """An empty database with every table, as bytes: copying it beats running the DDL."""
    if not _TEMPLATE:
        conn = sqlite3.connect(":memory:")
        conn.executescript(SCHEMA)
        _TEMPLATE.append(conn.serialize())
        conn.close()
    return _TEMPLATE[0]


def create_database(path: str, accounts: Mapping[str, int] | None = None,
                    stock: Mapping[str, int] | None = None) -> sqlite3.Connection:
    """Create a service's database file with every table and its initial rows.

    Returns:
        An open connection to it (opening a WAL database costs more than using one, so the
        node's first incarnation keeps this one).
    """
    with open(path, "wb") as file:
        file.write(_template())
    conn = connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO accounts VALUES (?, ?)", (accounts or {}).items())
    conn.executemany("INSERT INTO stock VALUES (?, ?)", (stock or {}).items())
    conn.execute("COMMIT")
    return conn


def connect(path: str) -> sqlite3.Connection:
    """Open a database the way every node does: explicit transactions, no fsync."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    return conn


def read_tables(conn: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    """Every non-empty table of a database as lists of row dicts (accounts always)."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")]
    counts = conn.execute("SELECT " + ", ".join(
        f"(SELECT count(*) FROM {n})" for n in names)).fetchone()
    tables = {}
    for name, count in zip(names, counts, strict=True):
        if count or name == "accounts":
            cur = conn.execute(f"SELECT * FROM {name}")
            columns = [c[0] for c in cur.description]
            tables[name] = [dict(zip(columns, row, strict=True)) for row in cur]
    return tables


# -- request / response over the network ----------------------------------------------

class ReplyMailbox(Mailbox):
    """An inbox that hands replies to the call waiting for them, and the rest to the node.

    A node's own loop reads its inbox for work; a call it makes meanwhile must not steal
    that work, nor may the loop swallow the call's reply. Replies carry the header
    ``in_reply_to``; those whose call is still waiting wake it, the others (late or
    duplicated replies) are dropped. A crash clears both, as it clears all memory.
    """

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self.waiting: dict[int, Event] = {}
        self._ids = itertools.count(1)

    def new_call(self) -> tuple[int, Event]:
        """A fresh request id and the event its reply will succeed."""
        request_id = next(self._ids)
        event = self.sim.event("reply")
        self.waiting[request_id] = event
        return request_id, event

    def put(self, item: Any) -> None:
        """Route replies to their call; queue everything else as usual."""
        headers = getattr(item, "headers", None)
        if headers and "in_reply_to" in headers:
            event = self.waiting.pop(headers["in_reply_to"], None)
            if event is not None and not event.triggered:
                event.succeed(item)
            return
        super().put(item)

    def clear(self) -> None:
        """Forget queued work and waiting calls (a crash)."""
        super().clear()
        self.waiting.clear()


def enable_replies(node: Node) -> ReplyMailbox:
    """Give ``node`` a :class:`ReplyMailbox` (once), keeping what its inbox already holds."""
    box = node.inbox
    if isinstance(box, ReplyMailbox):
        return box
    new = ReplyMailbox(node.sim)
    new.items, new._getters = box.items, box._getters
    node.inbox = new
    return new


async def request(net: Network, src: Node, dst: str, kind: str, payload: Any, *,
                  step: int | str | None, timeout: float) -> Message:
    """Send a request and wait for its reply message.

    Raises:
        ServiceTimeout: no reply within ``timeout`` seconds (the request or the reply was
            lost, or the other side crashed: the caller cannot tell which).
    """
    box = enable_replies(src)
    request_id, done = box.new_call()
    net.send(src.name, dst, kind, payload, step=step, headers={"request_id": request_id})

    def expire() -> None:
        if not done.triggered:
            box.waiting.pop(request_id, None)
            done.fail(ServiceTimeout(f"no reply from {dst} to {kind!r} within {timeout:g} s"))

    net.sim.schedule(timeout, expire, kind="reply_timeout")
    reply: Message = await done
    return reply


def reply(net: Network, node: Node, to: Message, payload: Any, kind: str = "reply") -> None:
    """Answer request ``to`` (a message sent by :func:`request`)."""
    net.send(node.name, to.src, kind, payload, step=to.step,
             headers={"in_reply_to": to.headers.get("request_id")})


async def call_service(net: Network, src_node: Node, service_name: str, op: str,
                       args: Mapping[str, Any], *, step: int, key: str | None = None,
                       timeout: float = 5.0, ref: str | None = None, name: str | None = None
                       ) -> Any:
    """Ask a service to run ``op`` and wait for the answer (one attempt, no retry).

    Args:
        net: the network (its message faults apply to the request and the reply).
        src_node: the caller; replies are routed back to this call.
        service_name: the service node.
        op: an operation of :data:`OPS`.
        args: its arguments.
        step: the business step number (what ``Crash(at_step=...)`` matches).
        key: an idempotency key; a repeated key returns the first result, no new effect.
        timeout: seconds to wait for the reply.
        ref: the business reference the effect is filed under (default: the scenario's key;
            payroll passes ``payroll-1/dave``, a subscription ``sub1/month-3``).
        name: the step name (default: the scenario's name for ``step``).

    Returns:
        The operation's result.

    Raises:
        ServiceError: the service refused (``retryable`` False) or failed transiently
            (``retryable`` True).
        ServiceTimeout: no reply in time; the effect may or may not have happened.
    """
    payload = {"op": op, "args": dict(args), "step": step, "name": name, "ref": ref, "key": key}
    message = await request(net, src_node, service_name, op, payload, step=step,
                            timeout=timeout)
    answer = message.payload
    if not answer["ok"]:
        raise ServiceError(op, answer["error"], retryable=answer["retryable"])
    return answer["result"]


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
        path = world.path(name)
        super().__init__(world.sim, name, durable=path, on_start=self._start)
        self.world = world
        self.loops: tuple[Loop, ...] = (serve_requests,) if loops is None else loops
        self.conn: sqlite3.Connection | None = create_database(path, accounts, stock)
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
            self.conn = connect(self.durable)
        for loop in self.loops:
            self.spawn(loop(self), f"{self.name}.{loop.__name__}")

    def _lose_connection(self, node: Node) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        if conn.in_transaction:
            conn.rollback()
            self.sim.record(self.name, "rollback", reason="crash")
            self.log("crashed in the middle of a transaction: rolled back")
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
        self.world.injector.at_step(self.name, step, name, "before_effect")
        conn.execute("COMMIT")
        sim.record(self.name, "commit", step=step, name=name, ref=ref)
        if outcome.ok:
            sim.record(self.name, "step", step=step, name=name, phase="effect", ref=ref)
            self.log(f"step {step} {name} {_describe(args)}: committed")
        else:
            self.log(f"step {step} {name}: refused ({outcome.error})")
        self.world.injector.at_step(self.name, step, name, "after_effect")
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


def collect_state(nodes: Mapping[str, Node]) -> dict[str, Any]:
    """Read databases after a run into the shape every architecture's ``Run.state`` has.

    Args:
        nodes: node name -> a node whose ``durable`` is its database file (its open
            ``conn``, if any, is used: opening a database is the slow part).

    Returns:
        ``balances`` (account -> balance, every database's accounts), ``rows`` (node ->
        table -> rows), ``effects`` and ``postings`` and ``rejections`` (all nodes'
        rows, each with its ``service``).
    """
    state: dict[str, Any] = {"balances": {}, "rows": {}, "effects": [], "postings": [],
                             "rejections": []}
    for name, node in nodes.items():
        conn = getattr(node, "conn", None)
        tables = read_tables(conn) if conn is not None else _read_file(node.durable)
        state["rows"][name] = tables
        for row in tables.get("accounts", []):
            state["balances"][row["name"]] = row["balance"]
        for table in ("effects", "postings", "rejections"):
            state[table] += [{"service": name, **row} for row in tables.get(table, [])]
    return state


def _read_file(path: str) -> dict[str, list[dict[str, Any]]]:
    conn = sqlite3.connect(path)
    try:
        return read_tables(conn)
    finally:
        conn.close()
