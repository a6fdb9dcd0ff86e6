"""The worker alone: a WorkflowTask message in, WorkflowTaskCompleted (or Failed) out.

The server here is a node that only records what reaches it; each test hands the worker
a task written by hand, as the server would send it, and reads the answer.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

from durasim.core import Simulation
from durasim.engine import commands as C
from durasim.engine.api import EngineCluster, deployment
from durasim.engine.definitions import activity, workflow
from durasim.engine.history import HistoryEvent
from durasim.engine.worker import NON_DETERMINISTIC, UNHANDLED_FAILURE, Worker
from durasim.network import Message, Network
from durasim.node import Node
from tests.engine.histories import HistoryBuilder


@activity
def withdraw(account: str, amount: int) -> int:
    return 100 - amount


@activity
def fee(amount: int) -> int:
    return amount // 10


@workflow
async def Pay(ctx: Any, amount: int) -> int:
    balance: int = await ctx.activity(withdraw, "alice", amount)
    charged: int = await ctx.local_activity(fee, amount)
    return balance - charged


@workflow
async def Buggy(ctx: Any) -> None:
    accounts: dict[str, int] = {}
    accounts["missing"]  # a bug: KeyError


class Rig:
    """A real Worker beside a server node that only listens (and accepts polls)."""

    def __init__(self) -> None:
        self.sim = Simulation(seed=0)
        self.net = Network(self.sim)
        workflows, activities = deployment([Pay, Buggy], [])
        self.worker = Worker(self.sim, self.net, workflows=workflows, activities=activities)
        self.heard: list[Message] = []
        server = Node(self.sim, "server")
        server.handler = self._hear
        self.net.attach(server, self.worker.node)
        self.worker.node.start()

    def _hear(self, message: Message) -> None:
        """Write down what the worker says, and accept its polls as the server does."""
        self.heard.append(message)
        if message.kind == "Poll":
            self.send("PollAccepted", {})

    def send(self, kind: str, payload: dict[str, Any]) -> None:
        self.net.send("server", "worker", kind, payload)

    def task(self, events: list[HistoryEvent], *, sticky: bool = False, attempt: int = 1,
             workflow_type: str = "Pay") -> None:
        """Hand the worker a workflow task whose last event is its WorkflowTaskStarted."""
        self.send("WorkflowTask", {
            "workflow_id": "pay-1", "run_id": "r1", "workflow_type": workflow_type,
            "events": events, "upto": len(events), "scheduled": len(events) - 1,
            "sticky": sticky, "attempt": attempt, "updates": [], "speculative": False})

    def answer(self, kind: str) -> dict[str, Any]:
        """Run until the worker says ``kind`` to the server; its payload."""
        while not any(m.kind == kind for m in self.heard):
            assert self.sim.peek() != float("inf"), f"the worker never sent {kind}; " + (
                ", ".join(m.kind for m in self.heard))
            self.sim.step()
        payload: dict[str, Any] = next(m.payload for m in self.heard if m.kind == kind)
        return payload

    def said(self, kind: str) -> int:
        self.sim.run()
        return sum(1 for m in self.heard if m.kind == kind)


@pytest.fixture
def rig() -> Rig:
    return Rig()


def test_a_worker_polls_the_server_when_it_starts(rig: Rig) -> None:
    assert rig.answer("Poll") == 1  # its incarnation


def test_a_first_task_is_answered_with_the_codes_commands(rig: Rig) -> None:
    h = HistoryBuilder(25)
    h.task(completed=False)
    rig.task(h.events)
    completed = rig.answer("WorkflowTaskCompleted")
    assert (completed["workflow_id"], completed["run_id"], completed["scheduled"]) == (
        "pay-1", "r1", 2)
    assert completed["incarnation"] == 1
    (command,) = completed["commands"]
    assert isinstance(command, C.ScheduleActivity) and command.input == ("alice", 25)
    assert rig.worker.replays == 0 and ("pay-1", "r1") in rig.worker.cache


def history_after_withdraw() -> HistoryBuilder:
    h = HistoryBuilder(25)
    h.task()
    scheduled = h.activity("withdraw", "alice", 25)
    h.activity_completed(scheduled, 75)
    h.task(completed=False)
    return h


def test_a_worker_without_the_workflow_in_memory_rebuilds_it_by_replay(rig: Rig) -> None:
    rig.task(history_after_withdraw().events)
    completed = rig.answer("WorkflowTaskCompleted")
    marker, complete = completed["commands"]  # the local activity ran within the task
    assert isinstance(marker, C.LocalActivityMarker) and marker.details["result"] == 2
    assert complete == C.CompleteWorkflow(73)
    assert rig.worker.replays == 1
    (replay,) = rig.sim.trace.filter(kind="replay")
    assert replay.fields == {"workflow": "pay-1", "events": 9}
    assert rig.worker.activity_calls == {"fee": 1}  # withdraw's result came from history
    assert ("pay-1", "r1") not in rig.worker.cache  # finished: evicted


def test_a_sticky_task_feeds_the_cached_instance_only_the_new_events(rig: Rig) -> None:
    h = history_after_withdraw()
    rig.task(h.events[:3])
    rig.answer("WorkflowTaskCompleted")
    rig.heard.clear()
    rig.task(h.events, sticky=True)
    assert rig.answer("WorkflowTaskCompleted")["commands"][-1] == C.CompleteWorkflow(73)
    assert rig.worker.replays == 0


def test_a_crash_loses_the_cache_and_a_sticky_task_then_replays(rig: Rig) -> None:
    h = history_after_withdraw()
    rig.task(h.events[:3])
    rig.answer("WorkflowTaskCompleted")
    rig.worker.node.crash()
    rig.worker.node.restart()
    assert rig.worker.cache == {}
    rig.heard.clear()
    rig.task(h.events, sticky=True)  # sent to the sticky queue before the server noticed
    assert rig.answer("WorkflowTaskCompleted")["incarnation"] == 2
    assert rig.worker.replays == 1


def test_a_history_the_code_does_not_match_fails_the_task_as_non_deterministic(
        rig: Rig) -> None:
    h = HistoryBuilder(25)
    h.task()
    h.activity("deposit", "bob", 25)
    h.task(completed=False)
    rig.task(h.events)
    failed = rig.answer("WorkflowTaskFailed")
    assert failed["cause"] == NON_DETERMINISTIC
    assert failed["failure"]["type"] == "NondeterminismError"
    assert "ActivityTaskScheduled(deposit, ['bob', 25])" in failed["failure"]["message"]
    assert [e.event_id for e in rig.worker.errors] == [5]
    assert ("pay-1", "r1") not in rig.worker.cache


def test_a_bug_fails_the_first_attempt_only_later_ones_time_out_silently(rig: Rig) -> None:
    h = HistoryBuilder(workflow_type="Buggy")
    h.task(completed=False)
    rig.task(h.events, workflow_type="Buggy")
    failed = rig.answer("WorkflowTaskFailed")
    assert failed["cause"] == UNHANDLED_FAILURE
    assert failed["failure"]["type"] == "KeyError"
    assert isinstance(rig.worker.task_failures["pay-1"], KeyError)
    rig.task(h.events, workflow_type="Buggy", attempt=2)
    assert rig.said("WorkflowTaskFailed") == 1


def test_a_workflow_the_worker_does_not_have_fails_the_task_naming_what_it_has(
        rig: Rig) -> None:
    h = HistoryBuilder(workflow_type="Refund")
    h.task(completed=False)
    rig.task(h.events, workflow_type="Refund")
    message = rig.answer("WorkflowTaskFailed")["failure"]["message"]
    assert message == "worker has no workflow named 'Refund'; known: Buggy, Pay"


def test_an_activity_task_runs_the_activity_and_reports_its_result(rig: Rig) -> None:
    token = ("pay-1", "r1", 5, 1)
    rig.send("ActivityTask", {"token": token, "activity_type": "withdraw",
                              "activity_id": "1", "input": ["alice", 25], "attempt": 1,
                              "heartbeat_timeout": 0.0, "heartbeat_details": []})
    assert rig.answer("ActivityTaskCompleted") == {"token": token, "result": 75}
    assert rig.worker.activity_calls == {"withdraw": 1}


def test_a_finished_workflow_is_freed_at_once_not_left_to_the_cyclic_collector() -> None:
    """A finished run's parts point back at it (context, handlers, futures' cancellers):
    left as they were, every workflow of a bank's day waited for the cyclic collector,
    and its first pass after the day walked them all. Evicted, the run is untied."""
    cluster = EngineCluster(workflows=[Pay], trace=False)
    cluster.start()
    cluster.submit(Pay, 30, workflow_id="pay")
    gc.disable()  # so that only reference counting can free the instance
    try:
        while not cluster.worker.cache:
            cluster.sim.step()
        instance = weakref.ref(next(iter(cluster.worker.cache.values())))
        cluster.sim.run()
        assert cluster.status("pay")[:2] == ("completed", 67)
        assert instance() is None, "the finished workflow is still alive"
    finally:
        gc.enable()
