"""A server on a small simulation, with a worker the test plays by hand.

The server's tests need to see exactly what it sends and answer exactly as they choose: a
late answer, no answer, a failure, a heartbeat. :class:`FakeWorker` is a real node on the
real network that runs no code: it writes down every message the server sends it, and the
test answers with the messages a worker would send (the same kinds and payloads as
:class:`~durasim.engine.worker.Worker`).
"""

from __future__ import annotations

from typing import Any

from durasim.core import Simulation
from durasim.engine import commands as C
from durasim.engine.history import EventType, HistoryEvent, make_failure
from durasim.engine.server import Server
from durasim.engine.store import HistoryStore
from durasim.network import Message, Network
from durasim.node import Node

E = EventType


class FakeWorker:
    """A worker node that only records what reaches it (and polls); the test answers."""

    def __init__(self, sim: Simulation, net: Network, name: str = "worker") -> None:
        self.net = net
        self.received: list[Message] = []
        self.node = Node(sim, name, on_start=lambda node: self.poll())
        self.node.handler = self._receive

    def _receive(self, message: Message) -> None:
        """Write it down; a restarted server forgot our poll, so poll again (as
        :class:`~durasim.engine.worker.Worker` does)."""
        self.received.append(message)
        if message.kind == "ServerUp":
            self.poll()

    def poll(self) -> None:
        """Open a poll on the server (as a worker does at start and after a restart)."""
        self.net.send(self.node.name, "server", "Poll", self.node.incarnation)

    def last(self, kind: str) -> dict[str, Any]:
        """The payload of the last message of ``kind`` received."""
        found = [m.payload for m in self.received if m.kind == kind]
        assert found, f"the worker never received a {kind}; it got " + ", ".join(
            m.kind for m in self.received)
        payload: dict[str, Any] = found[-1]
        return payload

    def count(self, kind: str) -> int:
        """How many messages of ``kind`` arrived."""
        return sum(1 for m in self.received if m.kind == kind)

    def complete_task(self, task: dict[str, Any], *commands: C.Command) -> None:
        """Answer workflow task ``task`` with ``commands``."""
        self.net.send(self.node.name, "server", "WorkflowTaskCompleted", {
            "workflow_id": task["workflow_id"], "run_id": task["run_id"],
            "scheduled": task["scheduled"], "incarnation": self.node.incarnation,
            "commands": list(commands), "rejections": []})

    def fail_task(self, task: dict[str, Any], message: str) -> None:
        """Report that workflow task ``task`` failed (a bug in the workflow code)."""
        self.net.send(self.node.name, "server", "WorkflowTaskFailed", {
            "workflow_id": task["workflow_id"], "run_id": task["run_id"],
            "scheduled": task["scheduled"],
            "cause": "WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE",
            "failure": make_failure(message, "KeyError")})

    def complete_activity(self, task: dict[str, Any], result: Any) -> None:
        self.net.send(self.node.name, "server", "ActivityTaskCompleted",
                      {"token": task["token"], "result": result})

    def fail_activity(self, task: dict[str, Any], message: str, *,
                      non_retryable: bool = False) -> None:
        self.net.send(self.node.name, "server", "ActivityTaskFailed", {
            "token": task["token"],
            "failure": make_failure(message, "Boom", non_retryable=non_retryable)})

    def heartbeat(self, task: dict[str, Any], *details: Any) -> None:
        self.net.send(self.node.name, "server", "ActivityHeartbeat",
                      {"token": task["token"], "details": list(details)})


class ServerRig:
    """A server, its store and a fake worker on one simulation (seed 0)."""

    def __init__(self, store: HistoryStore | None = None) -> None:
        self.sim = Simulation(seed=0)
        self.net = Network(self.sim)
        self.store = store if store is not None else HistoryStore()
        self.server = Server(self.sim, self.net, self.store)
        self.worker = FakeWorker(self.sim, self.net)
        self.net.attach(self.server.node, self.worker.node)

    def boot(self) -> ServerRig:
        """Start the server and the worker (which polls) and let the poll arrive."""
        self.server.node.start()
        self.worker.node.start()
        self.wait(1.0)
        return self

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass."""
        self.sim.run(until=self.sim.now + seconds)

    def next(self, kind: str) -> dict[str, Any]:
        """Run until the worker receives one more message of ``kind``; its payload."""
        before = self.worker.count(kind)
        while self.worker.count(kind) == before:
            self.sim.step()
        return self.worker.last(kind)

    def start(self, *args: Any, workflow_id: str = "pay-1",
              workflow_type: str = "Pay") -> tuple[str, str]:
        """Start a run directly on the server; returns (workflow id, run id)."""
        ex = self.server.start_workflow(workflow_id, workflow_type, list(args))
        return ex.record.workflow_id, ex.record.run_id

    def history(self, workflow_id: str = "pay-1") -> list[HistoryEvent]:
        """The last run's events, from the store (the source of truth)."""
        return self.store.runs(workflow_id)[-1].events

    def types(self, workflow_id: str = "pay-1") -> list[EventType]:
        return [e.event_type for e in self.history(workflow_id)]


def schedule(activity_type: str, *input: Any, start_to_close: float = 10.0,
             heartbeat_timeout: float = 0.0, maximum_attempts: int = 0) -> C.ScheduleActivity:
    """The command ``ctx.activity(activity_type, *input)`` issues."""
    return C.ScheduleActivity(
        activity_id="1", activity_type=activity_type, input=input, task_queue="durasim",
        start_to_close=start_to_close, schedule_to_close=0.0,
        retry_policy={"initialInterval": 1.0, "backoffCoefficient": 2.0,
                      "maximumInterval": 100.0, "maximumAttempts": maximum_attempts},
        heartbeat_timeout=heartbeat_timeout)
