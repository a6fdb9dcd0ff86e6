"""Nodes: machines that have memory they can lose and a store they cannot.

A crash is the central event of the course, and it means one precise thing here: the node's
volatile state and its running coroutines are gone and never resume; what it wrote to its
durable store survives. ``restart()`` brings it back fresh, running its start-up code again
against the same durable store, which is where recovery logic lives.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from durasim.core import Event, NodeCrashed, Process, Simulation


class Mailbox:
    """A FIFO of items with awaitable ``get()``; volatile, so a crash empties it."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.items: deque[Any] = deque()
        self._getters: deque[Event] = deque()

    def put(self, item: Any) -> None:
        """Hand ``item`` to the oldest waiting getter, or keep it until someone asks."""
        while self._getters:
            getter = self._getters.popleft()
            if getter.callbacks:  # someone is still waiting on it
                getter.succeed(item)
                return
        self.items.append(item)

    def get(self) -> Event:
        """An event that succeeds with the next item."""
        event = self.sim.event("receive")
        if self.items:
            event.succeed(self.items.popleft())
        else:
            self._getters.append(event)
        return event

    def clear(self) -> None:
        """Forget everything (what a crash does to memory)."""
        self.items.clear()
        self._getters.clear()

    def __len__(self) -> int:
        return len(self.items)


class NodeProcess(Process):
    """A process that runs on a node: a crash raised inside it brings the whole node down."""

    __slots__ = ("node",)

    def __init__(self, sim: Simulation, coro: Coroutine[Any, Any, Any], name: str,
                 node: Node) -> None:
        super().__init__(sim, coro, name, node.name)
        self.node = node

    def _crashed(self, crash: NodeCrashed) -> None:
        self.node.crash(reason="crashed while running")


class Node:
    """A simulated machine.

    Args:
        sim: the simulation it lives in.
        name: its name in traces and fault plans ("worker", "bank-db", ...).
        durable: its durable store (a SQLite path, a broker log, a history store): kept
            across crashes.
        on_start: called with the node at start and after every restart; this is where a
            node launches its processes and runs its recovery.
    """

    def __init__(
        self, sim: Simulation, name: str, *, durable: Any = None,
        on_start: Callable[[Node], None] | None = None,
    ) -> None:
        self.sim = sim
        self.name = name
        self.durable = durable
        self.volatile: dict[str, Any] = {}
        self.inbox = Mailbox(sim)
        self.up = True
        self.incarnation = 1
        self.crashes = 0
        self.on_start = on_start
        self.on_crash: list[Callable[[Node], None]] = []
        self.handler: Callable[[Any], None] | None = None
        """If set, messages are handed to it on arrival instead of queued in ``inbox``:
        for nodes that react to each message at once (servers), this saves a wake-up."""
        self._processes: list[NodeProcess] = []
        self._prune_at = 64

    def start(self) -> None:
        """Run the start-up code (call once after building the model)."""
        self.sim.record(self.name, "node_start", incarnation=self.incarnation)
        self._run_start_up()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str = "",
              process_class: type[NodeProcess] = NodeProcess) -> NodeProcess:
        """Run ``coro`` as one of this node's processes (killed if the node crashes)."""
        if not self.up:
            coro.close()
            raise RuntimeError(f"node {self.name!r} is down; it cannot start {name or coro}")
        process = process_class(self.sim, coro, name, self)
        processes = self._processes
        if len(processes) >= self._prune_at:  # amortized: pruning every spawn is O(n^2)
            self._processes = processes = [p for p in processes if p.alive]
            self._prune_at = max(64, 2 * len(processes))
        processes.append(process)
        return process

    def crash(self, reason: str = "") -> bool:
        """Lose all memory now. Returns False if the node was already down."""
        if not self.up:
            return False
        self.up = False
        self.crashes += 1
        self.sim.record(self.name, "crash", reason=reason)
        for process in self._processes:
            process.kill()
        self._processes = []
        self.volatile = {}
        self.inbox.clear()
        for hook in self.on_crash:
            hook(self)
        return True

    def restart(self) -> bool:
        """Come back with empty memory and the same durable store; runs ``on_start``."""
        if self.up:
            return False
        self.up = True
        self.incarnation += 1
        self.sim.record(self.name, "restart", incarnation=self.incarnation)
        self._run_start_up()
        return True

    def _run_start_up(self) -> None:
        if self.on_start is None:
            return
        try:
            self.on_start(self)
        except NodeCrashed:  # it crashed again while starting (a fault planned there)
            self.crash(reason="crashed while starting")

    def __repr__(self) -> str:
        return f"<Node {self.name} {'up' if self.up else 'DOWN'} #{self.incarnation}>"
