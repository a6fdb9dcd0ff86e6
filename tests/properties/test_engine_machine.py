"""Property 5: a stateful test over the engine, interleaving everything that can happen.

Hypothesis plays operator: it starts workflows, lets the simulation deliver the next few
events, crashes and restarts the worker and the server, sends signals and moves the clock
on, in any order. After every step the histories must hold what a durable-execution
engine promises: append-only with ids 1, 2, 3, ...; no activity completed twice; and
the current history of every run replays cleanly against its code. At the end, with
every node back up and every signal sent, every workflow finishes with the result its
program says.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

from durasim import History, Replayer, Signal
from durasim.engine import EngineCluster
from durasim.network import Message
from durasim.node import Node
from durasim.strategies import BuiltProgram, Program, build_workflow, seeds, workflow_programs
from tests.properties import examples
from tests.properties.replay_checks import check_history_shape

pytestmark = pytest.mark.filterwarnings(
    # A crash drops coroutines a node spawned but never ran (the kernel keeps them so their
    # finally blocks cannot run behind the simulation's back); Python warns when the dead
    # simulation is collected. That is the crash model working, not a bug under test.
    "ignore:coroutine .* was never awaited:RuntimeWarning")

SIGNAL_RETRY = 1.0
SIGNAL_ATTEMPTS = 600
DAY = 24 * 3600.0


class Operator:
    """Someone sending signals with retries until the server acknowledges, on its own node.

    Each signal has its own sequence number and request id; the server acknowledges the
    sequence number to the sender, so acknowledgements of different signals are never
    confused, and drops the duplicates the retries make by request id.
    A signal is retried at most ``SIGNAL_ATTEMPTS`` times: should the acknowledgement never
    come, the teardown reports it instead of the simulation retrying for ever.
    """

    def __init__(self, cluster: EngineCluster) -> None:
        self.cluster = cluster
        self.node = Node(cluster.sim, "operator")
        self.node.handler = self._on_message
        cluster.net.attach(self.node)
        self.accepted: set[Any] = set()
        self.pending: set[tuple[str, int]] = set()
        self.sent = 0

    def _on_message(self, message: Message) -> None:
        if message.kind == "SignalAccepted":
            self.accepted.add(message.payload)

    def signal(self, workflow_id: str, signal: Signal) -> None:
        """Send ``signal`` to ``workflow_id`` until the server says it has it."""
        self.sent += 1
        body = {"workflow_id": workflow_id, "name": signal.name, "args": list(signal.args),
                "seq": 10_000 + self.sent, "request_id": f"operator-{self.sent}"}
        self.pending.add((workflow_id, body["seq"]))
        self.node.spawn(self._until_accepted(body), "signal")

    @property
    def unacknowledged(self) -> set[tuple[str, int]]:
        """Signals the server never acknowledged."""
        return {(w, seq) for w, seq in self.pending if seq not in self.accepted}

    async def _until_accepted(self, body: dict[str, Any]) -> None:
        for _ in range(SIGNAL_ATTEMPTS):
            if body["seq"] in self.accepted:
                return
            self.cluster.net.send(self.node.name, "server", "Signal", body)
            await self.cluster.sim.timeout(SIGNAL_RETRY)


class EngineMachine(RuleBasedStateMachine):
    """The engine under an operator who starts, crashes, restarts, signals and waits."""

    workflows = Bundle("workflows")

    def __init__(self) -> None:
        super().__init__()
        self.cluster: EngineCluster | None = None
        self.operator: Operator | None = None
        self.built: dict[str, BuiltProgram] = {}
        self.unsent: dict[str, list[Signal]] = {}
        self.seen: dict[tuple[str, str], list[str]] = {}
        self.replayer: Replayer | None = None

    @initialize(target=workflows, seed=seeds(),
                program=workflow_programs(max_steps=3, max_depth=1))
    def boot(self, seed: int, program: Program) -> str:
        """A fresh engine with one workflow submitted (more may follow)."""
        self.cluster = EngineCluster(seed=seed, trace=False)
        self.cluster.start()
        self.operator = Operator(self.cluster)
        return self.start_workflow(program)

    @property
    def engine(self) -> EngineCluster:
        assert self.cluster is not None
        return self.cluster

    # -- rules ----------------------------------------------------------------------------
    @rule(target=workflows, program=workflow_programs(max_steps=3, max_depth=1))
    def another_workflow(self, program: Program) -> str:
        return self.start_workflow(program)

    def start_workflow(self, program: Program) -> str:
        """Submit ``program`` as workflow ``wf<n>``; its signals wait for the operator."""
        workflow_id = f"wf{len(self.built) + 1}"
        built = build_workflow(program)
        self.built[workflow_id] = built
        self.unsent[workflow_id] = list(built.signals)
        self.replayer = Replayer(workflows=[w for b in self.built.values()
                                            for w in b.workflows])
        self.engine.submit(built.workflow, workflow_id=workflow_id)
        return workflow_id

    @rule(steps=st.integers(1, 40))
    def deliver_next_events(self, steps: int) -> None:
        self.engine.sim.run(max_steps=steps)

    @rule(seconds=st.sampled_from([0.01, 1.0, 10.0]))
    def advance_time(self, seconds: float) -> None:
        self.engine.sim.run(until=self.engine.sim.now + seconds)

    @precondition(lambda self: self.cluster is not None and self.cluster.server.node.up)
    @rule(seconds=st.sampled_from([3600.0, 31 * DAY]))
    def advance_time_a_lot(self, seconds: float) -> None:
        """Hours or a month: durable timers fire. Only with the server up, since clients
        retry every second while it is down (a month of that is millions of events)."""
        self.engine.sim.run(until=self.engine.sim.now + seconds)

    @precondition(lambda self: self.cluster is not None and self.cluster.worker.node.up)
    @rule()
    def crash_worker(self) -> None:
        self.engine.worker.node.crash(reason="operator")

    @precondition(lambda self: self.cluster is not None and not self.cluster.worker.node.up)
    @rule()
    def restart_worker(self) -> None:
        self.engine.worker.node.restart()

    @precondition(lambda self: self.cluster is not None and self.cluster.server.node.up)
    @rule()
    def crash_server(self) -> None:
        self.engine.server.node.crash(reason="operator")

    @precondition(lambda self: self.cluster is not None and not self.cluster.server.node.up)
    @rule()
    def restart_server(self) -> None:
        self.engine.server.node.restart()

    @rule(workflow_id=consumes(workflows))
    def signal(self, workflow_id: str) -> None:
        """Send the next signal the workflow waits for (once the server knows the run)."""
        if self.engine.store.runs(workflow_id) and self.unsent[workflow_id]:
            assert self.operator is not None
            self.operator.signal(workflow_id, self.unsent[workflow_id].pop(0))

    # -- invariants -----------------------------------------------------------------------
    @invariant()
    def histories_are_append_only(self) -> None:
        if self.cluster is None:
            return
        for record in self.cluster.store.runs():
            key = (record.workflow_id, record.run_id)
            now = [json.dumps([e.event_id, e.event_type.value, e.attributes], sort_keys=True,
                              default=repr) for e in record.events]
            before = self.seen.get(key, [])
            assert now[:len(before)] == before, f"{key}: recorded events changed or vanished"
            self.seen[key] = now

    @invariant()
    def ids_increase_and_no_activity_completes_twice(self) -> None:
        if self.cluster is None:
            return
        for record in self.cluster.store.runs():
            check_history_shape(History(list(record.events), workflow_id=record.workflow_id))

    @invariant()
    def the_current_history_replays_cleanly(self) -> None:
        if self.cluster is None or self.replayer is None:
            return
        for record in self.cluster.store.runs():
            if record.events:
                self.replayer.replay(History(list(record.events),
                                             workflow_id=record.workflow_id))

    def teardown(self) -> None:
        """Everything back up, every signal sent: every workflow must finish, correctly."""
        if self.cluster is None:
            return
        cluster = self.cluster
        for node in (cluster.server.node, cluster.worker.node):
            if not node.up:
                node.restart()
        cluster.sim.run(until=cluster.sim.now + 60)
        assert self.operator is not None
        for workflow_id, signals in self.unsent.items():
            assert cluster.store.runs(workflow_id), f"{workflow_id} was never started"
            for signal in signals:
                self.operator.signal(workflow_id, signal)
        cluster.sim.run(until=cluster.sim.now + 400 * DAY)
        assert not self.operator.unacknowledged, "the server never acknowledged these signals"
        event(f"workflows started: {min(len(self.built), 3)}{'+' if len(self.built) > 3 else ''}")
        event(f"worker replayed a history: {cluster.worker.replays > 0}")
        event(f"server crashed: {cluster.server.node.crashes > 0}")
        for workflow_id, built in self.built.items():
            run = cluster.outcome(workflow_id)
            assert run.status == "completed", f"{workflow_id}: {run} {run.error}"
            assert run.result == built.expected, workflow_id


EngineMachine.TestCase.settings = settings(max_examples=examples(500, dev=25),
                                           stateful_step_count=40)
TestEngineMachine = EngineMachine.TestCase
