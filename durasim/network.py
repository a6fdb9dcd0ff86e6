"""The network: messages between nodes, with latency, loss, duplication and partitions.

Latency comes from the simulation's RNG, so it is random yet repeatable. Message faults
from the fault plan are applied here, to every message of every architecture, which is
why "drop the deposit message" means the same thing for the event-driven system and for
the durable engine.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from durasim.core import Event, NodeCrashed, Simulation
from durasim.faults import (
    DelayMessage,
    DropMessage,
    DuplicateMessage,
    FaultPlan,
    Partition,
    _MessageFault,
)
from durasim.node import Node

_LAST_MOMENT = sys.float_info.max
"""The latest time a message can be scheduled for: beyond every horizon, yet finite."""


class Message:
    """One message on the wire. ``step`` is the business step it belongs to, if any."""

    __slots__ = ("copy", "dst", "headers", "id", "kind", "payload", "src", "step")

    def __init__(self, id: int, src: str, dst: str, kind: str, payload: Any = None,
                 step: int | str | None = None, copy: int = 0,
                 headers: dict[str, Any] | None = None) -> None:
        self.id = id
        self.src = src
        self.dst = dst
        self.kind = kind
        self.payload = payload
        self.step = step
        self.copy = copy
        self.headers = headers if headers is not None else {}

    def __repr__(self) -> str:
        return (f"Message(id={self.id}, {self.src}->{self.dst}, kind={self.kind!r}, "
                f"step={self.step!r}, copy={self.copy})")


class Network:
    """Delivers messages between registered nodes.

    Args:
        sim: the simulation.
        latency: (low, high) seconds; each message's latency is uniform in it.
        reorder: when False (default) each link is FIFO, like a TCP connection; when True
            a later message may overtake an earlier one.
        faults: the plan whose message faults and partitions apply.
    """

    def __init__(
        self, sim: Simulation, *, latency: tuple[float, float] = (0.001, 0.005),
        reorder: bool = False, faults: FaultPlan | None = None,
    ) -> None:
        try:
            low, high = latency
            valid = (not isinstance(low, bool) and not isinstance(high, bool)
                     and 0 <= low <= high < math.inf)  # False for NaN
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise ValueError("latency must be (low, high) seconds with 0 <= low <= high, both "
                             f"finite, got {latency!r}")
        self.sim = sim
        self.latency = (low, high)
        self.reorder = reorder
        self.nodes: dict[str, Node] = {}
        plan = faults or FaultPlan()
        self._message_faults: list[_MessageFault] = plan.of(DropMessage, DuplicateMessage,
                                                            DelayMessage)
        self._seen = [0] * len(self._message_faults)
        self._partitions: list[Partition] = plan.of(Partition)
        self._link_clock: dict[tuple[str, str], float] = {}
        self._next_id = 0
        self.sent = 0
        self.delivered = 0
        self.lost = 0

    def cut_past(self, horizon: float) -> bool:
        """True once a partition has begun that lasts past ``horizon`` (one that never
        heals does): whoever retries across it retries to the end of the run in vain."""
        now = self.sim.now
        return any(p.start <= now and p.end > horizon for p in self._partitions)

    def attach(self, *nodes: Node) -> None:
        """Make nodes reachable by name."""
        for node in nodes:
            self.nodes[node.name] = node

    def send(
        self, src: str, dst: str, kind: str, payload: Any = None, *,
        step: int | str | None = None, headers: dict[str, Any] | None = None,
    ) -> Message:
        """Send a message; it arrives in ``dst``'s inbox later, or never."""
        if dst not in self.nodes:
            raise ValueError(f"unknown node {dst!r}; known: {', '.join(sorted(self.nodes))}")
        self._next_id += 1
        self.sent += 1
        message = Message(self._next_id, src, dst, kind, payload, step, headers=headers)
        if self.sim.trace.enabled:
            self.sim.record(src, "send", id=message.id, to=dst, msg=kind, step=step)
        if not self._message_faults and not self._partitions:  # the common, fast path
            self._transmit(message, 0.0)
            return message
        extra_delay, copies = 0.0, 0
        for index, fault in enumerate(self._message_faults):
            if not fault.matches(kind, src, dst, step):
                continue
            self._seen[index] += 1
            if self._seen[index] != fault.nth:
                continue
            if isinstance(fault, DropMessage):
                self.lost += 1
                self.sim.record(src, "drop", id=message.id, to=dst, msg=kind, reason="fault plan")
                return message
            if isinstance(fault, DuplicateMessage):
                copies += fault.copies
            elif isinstance(fault, DelayMessage):
                extra_delay += fault.by
        for partition in self._partitions:
            if partition.cuts(src, dst, self.sim.now):
                self.lost += 1
                self.sim.record(src, "drop", id=message.id, to=dst, msg=kind, reason="partition")
                return message
        self._transmit(message, extra_delay)
        for n in range(copies):
            duplicate = Message(message.id, src, dst, kind, payload, step, copy=n + 1,
                                headers=message.headers)
            self._transmit(duplicate, extra_delay)
        return message

    def _transmit(self, message: Message, extra_delay: float) -> None:
        """Schedule the arrival: the link's latency, in order behind what the link already
        carries, then ``extra_delay`` (a DelayMessage) for this message alone, so later
        messages overtake a delayed one instead of waiting behind it for ever."""
        sim = self.sim
        low, high = self.latency
        arrival = sim.now + (low + (high - low) * sim.rng.random())  # rng.uniform(low, high)
        if not self.reorder:                                         # without a call more
            link = (message.src, message.dst)
            arrival = max(arrival, self._link_clock.get(link, 0.0))
            self._link_clock[link] = arrival
        arrival = min(arrival + extra_delay, _LAST_MOMENT)  # a delay of 1e308 stays a number
        sim.call_at(arrival, self._deliver, message, "deliver")

    def _deliver(self, arrival: Event) -> None:
        message: Message = arrival.value
        node = self.nodes[message.dst]
        if not node.up:
            self.lost += 1
            self.sim.record(message.dst, "lost", id=message.id, msg=message.kind,
                            reason="receiver down")
            return
        self.delivered += 1
        if self.sim.trace.enabled:
            self.sim.record(message.dst, "receive", id=message.id, frm=message.src,
                            msg=message.kind, step=message.step, copy=message.copy)
        handler = node.handler
        if handler is None:
            node.inbox.put(message)
            return
        try:
            handler(message)
        except NodeCrashed:  # the handler's node crashed while handling it
            node.crash(reason="crashed while handling a message")
