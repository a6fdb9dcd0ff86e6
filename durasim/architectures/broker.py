"""The event-driven system's message broker: persistent queues that survive crashes.

One message per published event, in a SQLite database (the broker's durable store);
delivery to one consumer at a time, forgotten on ack, delivered again when no ack came
within the visibility timeout, dead-lettered after ``max_deliveries``. Its timers and its
connection are volatile; on restart it reads its queues back.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

from durasim.architectures.databases import create_memory_log, drop_connection, reopen
from durasim.architectures.messaging import reply
from durasim.architectures.operations import connect
from durasim.network import Message
from durasim.node import Node

if TYPE_CHECKING:
    from durasim.architectures.base import World

BROKER_SCHEMA = """
CREATE TABLE messages(id INTEGER PRIMARY KEY, queue TEXT, event_id TEXT, ref TEXT,
                      step INTEGER, body TEXT, state TEXT, deliveries INTEGER,
                      visible_at REAL)
"""
BROKER_INDEX = "CREATE INDEX messages_by_queue ON messages(queue, state, id)"
"""What dispatch looks up on every publish and ack: without it each is a scan of every
message ever published (a DuplicateMessage of N copies cost O(N^2))."""

class Broker(Node):
    """A message broker with persistent queues (its durable store is a SQLite database).

    It keeps one message per published event, delivers the oldest ready message of a
    queue to that queue's consumer (one at a time), forgets it on ack, makes it ready again
    when no ack came within the visibility timeout, and moves it to the dead-letter queue
    after ``max_deliveries``. Its timers and connection are volatile; on restart it reads
    its database and carries on.
    """

    def __init__(self, world: World, queues: dict[str, str], options: dict[str, Any]) -> None:
        if world.in_memory:  # see durasim.architectures.databases
            self.conn: sqlite3.Connection | None = create_memory_log(BROKER_SCHEMA)
            durable: str | sqlite3.Connection = self.conn
        else:
            durable = world.path("broker")
            self.conn = connect(durable)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute(BROKER_SCHEMA)
        self.conn.execute(BROKER_INDEX)
        super().__init__(world.sim, "broker", durable=durable, on_start=self._start)
        self.world = world
        self.queues = queues
        self.max_deliveries: int = options["max_deliveries"]
        self.visibility: float = options["visibility_timeout"]
        self.on_crash.append(self._lose_connection)
        world.add(self)

    @property
    def db(self) -> sqlite3.Connection:
        assert self.conn is not None, "the broker is down"
        return self.conn

    def _start(self, node: Node) -> None:
        if self.conn is None:  # a restart: the crash dropped the connection
            self.conn = reopen(self.durable)
        for mid, visible_at in self.db.execute(
                "SELECT id, visible_at FROM messages WHERE state = 'inflight'").fetchall():
            self._expire_at(mid, visible_at)
        self.spawn(self.serve(), "broker.serve")
        for queue in self.queues:
            self.dispatch(queue)

    def _lose_connection(self, node: Node) -> None:
        conn, self.conn = self.conn, None
        if conn is not None and drop_connection(conn, self.durable):
            self.sim.record(self.name, "rollback", reason="crash")

    async def serve(self) -> None:
        """Handle publishes and acks as they arrive."""
        while True:
            message = await self.inbox.get()
            if message.kind == "publish":
                self.on_publish(message)
            elif message.kind == "ack":
                self.on_ack(message)

    def on_publish(self, message: Message) -> None:
        """Store the event in its queue (one transaction), confirm if asked, deliver."""
        world, event = self.world, message.payload
        queue = event["name"]
        conn = self.db
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO messages(queue, event_id, ref, step, body, state, deliveries, "
                     "visible_at) VALUES (?, ?, ?, ?, ?, 'ready', 0, 0)",
                     (queue, event["event_id"], event["ref"], event["step"], json.dumps(event)))
        world.crash_if_named(self.name, event["step"], queue, "before_effect")
        conn.execute("COMMIT")
        world.log(self.name, f"stored {event['event_id']} in queue '{queue}'")
        world.crash_if_named(self.name, event["step"], queue, "after_effect")
        if message.headers.get("request_id") is not None:
            reply(world.net, self, message, {"ok": True}, kind="confirm")
        self.dispatch(queue)

    def on_ack(self, message: Message) -> None:
        """Forget an acknowledged message; deliver the next one of its queue."""
        mid, queue = message.payload["message_id"], message.payload["queue"]
        cur = self.db.execute("UPDATE messages SET state = 'acked' WHERE id = ? "
                              "AND state = 'inflight'", (mid,))
        if cur.rowcount:
            self.world.log(self.name, f"message {mid} in '{queue}' acknowledged")
        self.dispatch(queue)

    def dispatch(self, queue: str) -> None:
        """Deliver the queue's oldest ready message, unless one is already out."""
        conn = self.db
        if conn.execute("SELECT 1 FROM messages WHERE queue = ? AND state = 'inflight'",
                        (queue,)).fetchone():
            return
        row = conn.execute("SELECT id, body, step, deliveries FROM messages WHERE queue = ? "
                           "AND state = 'ready' ORDER BY id LIMIT 1", (queue,)).fetchone()
        if row is None:
            return
        mid, body, step, deliveries = row
        deliveries += 1
        visible_at = self.sim.now + self.visibility
        conn.execute("UPDATE messages SET state = 'inflight', deliveries = ?, visible_at = ? "
                     "WHERE id = ?", (deliveries, visible_at, mid))
        if deliveries > 1:
            self.sim.record(self.name, "redeliver", message=mid, queue=queue, step=step,
                            delivery=deliveries)
            self.world.log(self.name, f"redelivering message {mid} of '{queue}' "
                                      f"(delivery {deliveries})")
        self.world.net.send(self.name, self.queues[queue], queue, json.loads(body), step=step,
                            headers={"message_id": mid, "delivery": deliveries})
        self._expire_at(mid, visible_at)

    def _expire_at(self, mid: int, visible_at: float) -> None:
        incarnation = self.incarnation

        def expire() -> None:
            if self.up and self.incarnation == incarnation:
                self.expire(mid)

        self.sim.schedule_at(max(visible_at, self.sim.now), expire, kind="visibility")

    def expire(self, mid: int) -> None:
        """No ack in time: redeliver the message, or dead-letter it after too many tries."""
        row = self.db.execute("SELECT queue, step, deliveries, visible_at FROM messages "
                              "WHERE id = ? AND state = 'inflight'", (mid,)).fetchone()
        if row is None or row[3] > self.sim.now:
            return
        queue, step, deliveries, _ = row
        if deliveries >= self.max_deliveries:
            self.db.execute("UPDATE messages SET state = 'dead' WHERE id = ?", (mid,))
            self.sim.record(self.name, "dead_letter", message=mid, queue=queue, step=step,
                            deliveries=deliveries)
            self.world.log(self.name, f"message {mid} of '{queue}' moved to the dead-letter "
                                      f"queue after {deliveries} deliveries")
        else:
            self.db.execute("UPDATE messages SET state = 'ready' WHERE id = ?", (mid,))
            self.world.log(self.name, f"message {mid} of '{queue}' not acknowledged within "
                                      f"{self.visibility:g} s")
        self.dispatch(queue)
