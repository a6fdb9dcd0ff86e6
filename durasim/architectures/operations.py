"""The bank's operations: what a service does inside one SQLite transaction.

Every architecture runs the same statements for the same business step: the services one
transaction per operation, the monolith one transaction for the whole process. Each
operation records what it did in tables every architecture reads the same way:
``effects`` (one row per executed operation, keyed by the business reference),
``postings`` (money moved), ``rejections`` (business refusals) and ``processed``
(idempotency keys, so a repeated key returns the first result without a second effect).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

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


def template() -> bytes:
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
        file.write(template())
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


def template_tables() -> tuple[str, ...]:
    """The tables of :func:`template`, in creation order (what every service has)."""
    if not _TEMPLATE_TABLES:
        conn = sqlite3.connect(":memory:")
        conn.deserialize(template())
        _TEMPLATE_TABLES.extend(_table_names(conn))
        conn.close()
    return tuple(_TEMPLATE_TABLES)


_TEMPLATE_TABLES: list[str] = []


def _table_names(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")]


def read_tables(conn: sqlite3.Connection, names: tuple[str, ...] | None = None
                ) -> dict[str, list[dict[str, Any]]]:
    """Every non-empty table of a database as lists of row dicts (accounts always).

    ``names``: the database's tables when the caller knows them (a service's are
    :func:`template_tables`), which spares a query of the schema per database.
    """
    names = tuple(_table_names(conn)) if names is None else names
    counts = conn.execute(_count_rows(names)).fetchone()
    tables = {}
    for name, count in zip(names, counts, strict=True):
        if count or name == "accounts":
            cur = conn.execute(f"SELECT * FROM {name}")
            columns = [c[0] for c in cur.description]
            tables[name] = [dict(zip(columns, row, strict=True)) for row in cur]
    return tables


@functools.lru_cache(maxsize=16)
def _count_rows(names: tuple[str, ...]) -> str:
    """One statement counting the rows of every table in ``names``."""
    return "SELECT " + ", ".join(f"(SELECT count(*) FROM {n})" for n in names)
