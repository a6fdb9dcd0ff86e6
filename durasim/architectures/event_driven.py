"""Event-driven: services with their own databases, chained by events through a broker.

The talk's "event-driven architecture to the rescue", built the way it is commonly built
and then fixed option by option, so the cost of each guarantee is visible:

* **naive (the default):** a consumer acknowledges an event as soon as it receives it,
  then does its work; a producer commits to its database, then publishes (a dual write).
  A crash after the ack loses the event; a crash between the commit and the publish
  loses the next one. ``Crash(at_step=5)`` destroys money: alice was debited, bob never
  credited, and nothing anywhere will ever finish the transfer.
* ``at_least_once=True``: consumers acknowledge only after the work (and its publish)
  is done, and every publisher waits for the broker's confirm and publishes again when
  none comes. Nothing is lost, but a crash after the commit makes the broker redeliver,
  and the effect happens twice (bob credited twice).
* ``idempotent_consumers=True``: each consumer records the event ids it processed in its
  own database, in the same transaction as the effect, and skips a repeated id (re-sending
  the events the first run produced, since that run may have crashed before publishing).
* ``outbox=True``: the next event is written to an ``outbox`` table in the same transaction
  as the state change, and a relay process publishes it (with confirms) even after a crash.

Together, ``at_least_once + idempotent_consumers + outbox`` is consistent for every crash.

Nodes: ``client`` (publishes the first event), ``broker`` (persistent queues in its own
SQLite database, one queue per step, acknowledgements, redelivery after
``visibility_timeout``, dead-letter after ``max_deliveries``) and one node per service. A
delivery's message kind is the step's name ("deposit"); producers send "publish" (the
broker answers "confirm" when asked to), consumers send "ack". The broker takes part in
every step: ``Crash(node="broker", at_step=5)`` crashes it while it stores the event that
starts step 5 (``before_effect``: before storing; ``after_effect``: stored, not confirmed).
Every service writes its own log, which is the talk's "scattered logs".
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections import defaultdict
from collections.abc import Mapping
from typing import Any, ClassVar

from durasim.architectures.base import Architecture, Run, World
from durasim.architectures.broker import Broker
from durasim.architectures.databases import reopen
from durasim.architectures.messaging import (
    ServiceTimeout,
    enable_replies,
    request,
)
from durasim.architectures.operations import TransientError
from durasim.architectures.services import (
    Outcome,
    ServiceNode,
    build_services,
)
from durasim.architectures.state import (
    Pending,
    ProcessRows,
    QueuedMessage,
    RunState,
    collect_state,
    rows_of,
)
from durasim.faults import FaultPlan
from durasim.network import Message
from durasim.node import Node
from durasim.scenarios import Scenario, Step

PUBLISH_ATTEMPTS = 10
"""How often a confirming publisher tries before giving up (the broker may never return)."""


class EventDriven(Architecture):
    """Services chained by events through a broker with persistent queues.

    Options:
        at_least_once: acknowledge after processing; publishers wait for confirms.
        idempotent_consumers: consumers skip event ids they already processed.
        outbox: events are written in the state change's transaction; a relay publishes.
        max_deliveries: deliveries before a message goes to the dead-letter queue.
        visibility_timeout: seconds an unacknowledged message waits before redelivery.
        confirm_timeout: seconds a publisher waits for the broker's confirm.
    """

    name = "event_driven"
    title = "Event-driven: services, a broker, events"
    options: ClassVar[Mapping[str, Any]] = {"at_least_once": False,
                                            "idempotent_consumers": False, "outbox": False,
                                            "max_deliveries": 5, "visibility_timeout": 10.0,
                                            "confirm_timeout": 2.0}
    option_help: ClassVar[Mapping[str, str]] = {
        "at_least_once": "ack after processing; publishers wait for the broker's confirm",
        "idempotent_consumers": "consumers skip event ids they already processed",
        "outbox": "events written in the same transaction; a relay publishes them",
        "max_deliveries": "deliveries before the dead-letter queue",
        "visibility_timeout": "seconds before an unacknowledged message is redelivered",
        "confirm_timeout": "seconds a publisher waits for the broker's confirm",
    }
    default_node = "broker"

    def simulate(self, scenario: Scenario, plan: FaultPlan, seed: int,
                 options: dict[str, Any]) -> Run:
        """Build client, broker and services, publish the first event, read every database."""
        world = World(scenario, plan, seed, default_node="broker")
        system = self.bank(world, options)
        state = self.play(world, system, scenario)
        outcome, explanation = system.verdict(scenario, state)
        return Run(scenario=scenario, architecture=self.name, options=options,
                   faults=plan,  # as given (the world's copy names message steps by number)
                   seed=seed, trace=world.sim.trace, state=state, outcome=outcome,
                   logs=world.logs, explanation=explanation,
                   unfired=list(world.injector.unfired))

    def bank(self, world: World, options: dict[str, Any]) -> EventDrivenBank:
        """The client, the broker and the services on ``world``, ready for processes."""
        return EventDrivenBank(world, options)


class EventDrivenBank:
    """One event-driven bank: the wiring and the behaviour of every participant."""

    def __init__(self, world: World, options: dict[str, Any]) -> None:
        self.world = world
        self.scenario = world.scenario
        self.at_least_once: bool = options["at_least_once"]
        self.idempotent: bool = options["idempotent_consumers"]
        self.outbox: bool = options["outbox"]
        self.options = options
        self.arrivals: list[tuple[float, Scenario]] = []
        loops = (self.consume, self.relay) if self.outbox else (self.consume,)
        queues = {s.name: s.service for s in self.scenario.all_steps if s.kind == "activity"}
        self.broker = Broker(world, queues, options)
        self.services = build_services(world, loops=loops)
        self.client = world.add(Node(world.sim, "client"))
        enable_replies(self.client)
        self.client.on_start = self._start_client

    def begin(self, process: Scenario, at: float = 0.0) -> None:
        """The client will publish the event that starts ``process`` at time ``at``."""
        self.arrivals.append((at, process))

    def _start_client(self, me: Node) -> None:
        me.spawn(self._arrive(me), "arrivals")

    async def _arrive(self, me: Node) -> None:
        """Start each process when it arrives (a restarted client, keeping no record,
        starts again those that arrived before)."""
        sim = self.world.sim
        for at, process in sorted(self.arrivals, key=lambda arrival: arrival[0]):
            if at > sim.now:
                await sim.timeout(at - sim.now)
            me.spawn(self.start_process(me, process), "client")

    # -- reading the result ---------------------------------------------------------------
    def read(self) -> RunState:
        """Every database, the queues and what is still in flight (call before closing)."""
        state = collect_state(self.services)
        queues, pending = self._read_queues(state)
        return dataclasses.replace(state, queues=queues, pending=pending)

    def _read_queues(self, state: RunState
                     ) -> tuple[dict[str, tuple[QueuedMessage, ...]], tuple[Pending, ...]]:
        """Queue contents and unpublished outbox rows: what is still in flight, and where."""
        queues: dict[str, list[QueuedMessage]] = defaultdict(list)
        pending = []
        conn = self.broker.conn or reopen(self.broker.durable)
        try:
            rows = conn.execute("SELECT id, queue, event_id, ref, step, state, deliveries "
                                "FROM messages WHERE state != 'acked' ORDER BY id").fetchall()
        finally:
            if conn is not self.broker.conn and conn is not self.broker.durable:
                conn.close()
        for row in rows:
            message = QueuedMessage(*row)
            name = "dead_letter" if message.state == "dead" else message.queue
            queues[name].append(message)
            where = (f"in the dead-letter queue after {message.deliveries} deliveries"
                     if message.state == "dead"
                     else f"waiting in the broker's '{message.queue}' queue")
            pending.append(Pending(message.ref, where, f"the {message.queue} event of "
                                   f"{message.ref}", message.step))
        for service, tables in state.rows.items():
            for row in tables.get("outbox", []):
                if row["published"]:
                    continue
                event = json.loads(row["body"])
                pending.append(Pending(event["ref"], f"in {service}'s outbox, never published",
                                       f"the {event['name']} event of {event['ref']}",
                                       event["step"]))
        return {q: tuple(m) for q, m in queues.items()}, tuple(pending)

    def verdict(self, process: Scenario, state: RunState,
                rows: ProcessRows | None = None) -> tuple[str, str]:
        """The outcome word for ``process`` and the sentence explaining it (``rows``: its
        own rows of ``state``, when the caller grouped them already)."""
        scenario = self.scenario
        mine = rows if rows is not None else rows_of(state, process.key)
        done = {e.name for e in mine.effects}
        last = scenario.steps[-1]
        rejected = mine.rejections
        pending = mine.pending
        if last.name in done:
            return "completed", (f"Every event was delivered and processed, up to step "
                                 f"{last.label}.")
        if rejected:
            first = rejected[0]
            needed = [c.name for s in reversed(scenario.steps[:first.step - 1])
                      if s.name in done and (c := scenario.compensation_for(s.name))]
            missing = [n for n in needed if n not in done]
            if not needed:
                tail = "; nothing needed undoing"
            elif missing:
                tail = f"; the compensations did not all run ({', '.join(missing)} never did)"
            else:
                tail = f"; the compensations ran in reverse order ({', '.join(needed)})"
            return "failed", (f"Step {first.step} {first.name} refused "
                              f"({first.reason}){tail}.")
        dead = [p for p in pending if "dead-letter" in p.where]
        if dead:
            return "dead-lettered", (f"{dead[0].what.capitalize()} gave up after "
                                     f"{self.options['max_deliveries']} deliveries and sits in "
                                     "the dead-letter queue: someone must look at it by hand.")
        if pending:
            return "stuck", f"The chain is stuck: {pending[0].what} is {pending[0].where}."
        ran = [s for s in scenario.steps if s.name in done]
        if not ran:
            return "lost", (f"The event for step {scenario.steps[0].label} vanished: nothing "
                            "ran, and nothing anywhere will ever run it.")
        stop = ran[-1]
        following = scenario.steps[scenario.steps.index(stop) + 1]
        return "lost", (f"The chain stopped after step {stop.label}: the event for step "
                        f"{following.label} vanished, and nothing anywhere will ever run it.")

    # -- events -------------------------------------------------------------------------
    def event(self, step: Step, ref: str, undo: list[str] | None = None) -> dict[str, Any]:
        """A fresh event that asks for ``step`` (ids are new every time)."""
        return {"event_id": self.world.new_id("ev"), "ref": ref, "step": step.number,
                "name": step.name, "undo": undo or []}

    def next_events(self, step: Step, event: dict[str, Any], outcome: Outcome
                    ) -> list[dict[str, Any]]:
        """What follows ``step``: the next step, the next compensation, or nothing."""
        scenario, ref = self.scenario, event["ref"]
        if outcome.ok and step.compensates is None:
            forward = list(scenario.steps)
            following = forward[forward.index(step) + 1:] if step in forward else []
            nxt = next((s for s in following if s.kind == "activity"), None)
            return [self.event(nxt, ref)] if nxt is not None else []
        if outcome.ok:
            undo = list(event.get("undo", []))
        else:
            undo = []
            for earlier in reversed(scenario.steps[:scenario.steps.index(step)]
                                    if step in scenario.steps else []):
                comp = scenario.compensation_for(earlier.name)
                if comp is not None:
                    undo.append(comp.name)
        if not undo:
            return []
        return [self.event(scenario.step(undo[0]), ref, undo[1:])]

    async def publish(self, node: Node, event: dict[str, Any], *, confirm: bool) -> bool:
        """Send ``event`` to the broker; with ``confirm``, until the broker says it stored it."""
        world = self.world
        step = event["step"]
        if not confirm:
            world.sim.record(node.name, "publish", event=event["event_id"], queue=event["name"],
                             step=step)
            world.net.send(node.name, "broker", "publish", event, step=step)
            world.log(node.name, f"published {event['event_id']} ({event['name']}), without "
                                 "waiting for a confirm")
            return True
        for attempt in range(1, PUBLISH_ATTEMPTS + 1):
            world.sim.record(node.name, "publish", event=event["event_id"], queue=event["name"],
                             step=step, attempt=attempt)
            try:
                await request(world.net, node, "broker", "publish", event, step=step,
                              timeout=self.options["confirm_timeout"])
            except ServiceTimeout:
                world.log(node.name, f"no confirm for {event['event_id']} ({event['name']}); "
                                     "publishing it again")
                continue
            world.log(node.name, f"published {event['event_id']} ({event['name']}); the "
                                 "broker confirmed")
            return True
        world.log(node.name, f"gave up publishing {event['event_id']} after "
                             f"{PUBLISH_ATTEMPTS} attempts")
        return False

    def ack(self, node: ServiceNode, message: Message) -> None:
        """Tell the broker the message may be forgotten."""
        mid = message.headers["message_id"]
        self.world.sim.record(node.name, "ack", message=mid, step=message.step)
        self.world.net.send(node.name, "broker", "ack", {"message_id": mid, "queue": message.kind},
                            step=message.step)

    # -- the participants --------------------------------------------------------------
    async def start_process(self, me: Node, process: Scenario) -> None:
        """The client: publish the event asking for step 1 of ``process``."""
        first = next(s for s in self.scenario.steps if s.kind == "activity")
        self.world.log(me.name, f"requesting {process.noun} {process.key}")
        await self.publish(me, self.event(first, process.key), confirm=self.at_least_once)

    async def consume(self, node: ServiceNode) -> None:
        """A service's consumer: one delivered event at a time."""
        while True:
            message = await node.inbox.get()
            if "message_id" not in message.headers:
                node.log(f"ignored a {message.kind!r} message from {message.src}")
                continue
            await self.handle(node, message)

    async def handle(self, node: ServiceNode, message: Message) -> None:
        """Process one event: ack (naive: first), effect, next events, ack (at least once)."""
        world, event = self.world, message.payload
        step = self.scenario.step(event["step"])
        delivery = message.headers.get("delivery", 1)
        node.log(f"received {event['event_id']} ({step.name}), delivery {delivery}")
        if not self.at_least_once:
            self.ack(node, message)
            node.log(f"acknowledged {event['event_id']} on receipt, before doing the work")
        await world.sim.timeout(world.service_time)

        def extra(conn: sqlite3.Connection, outcome: Outcome) -> list[dict[str, Any]]:
            events = self.next_events(step, event, outcome)
            if self.outbox:
                conn.executemany("INSERT INTO outbox(event_id, body) VALUES (?, ?)",
                                 [(e["event_id"], json.dumps(e)) for e in events])
            return events

        try:
            outcome = node.perform(step.op, world.process(event["ref"]).args_for(step),
                                   ref=event["ref"],
                                   step=step.number, name=step.name,
                                   key=event["event_id"] if self.idempotent else None,
                                   extra=extra)
        except TransientError as exc:
            node.log(f"{step.name} failed ({exc.reason}); " + (
                "not acknowledged, so the broker will redeliver it" if self.at_least_once
                else "it was already acknowledged: the event is lost"))
            return
        events: list[dict[str, Any]] = outcome.extra or []
        if outcome.deduped:
            node.log(f"{event['event_id']} was already processed: no new effect")
        if self.outbox:
            wake = node.volatile.get("relay_wake")
            if wake is not None and not wake.triggered:
                wake.succeed()
        else:
            for nxt in events:
                published = await self.publish(node, nxt, confirm=self.at_least_once)
                if not published:
                    return  # not acknowledged: the broker will redeliver
        if self.at_least_once:
            self.ack(node, message)
        world.sim.record(node.name, "step", step=step.number, name=step.name, phase="done",
                         ref=event["ref"])

    async def relay(self, node: ServiceNode) -> None:
        """The outbox relay: publish committed events (with confirms), then mark them."""
        while True:
            rows = node.db.execute(
                "SELECT id, body FROM outbox WHERE published = 0 ORDER BY id").fetchall()
            for oid, body in rows:
                if not await self.publish(node, json.loads(body), confirm=True):
                    break
                node.db.execute("UPDATE outbox SET published = 1 WHERE id = ?", (oid,))
            else:
                if rows:
                    continue
            wake = node.volatile["relay_wake"] = self.world.sim.event("relay_wake")
            await wake
