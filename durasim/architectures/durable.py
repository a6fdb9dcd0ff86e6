"""Durable execution: the same services, driven by a workflow on the engine.

The bank's services are the event-driven system's (same SQLite databases, same
operations, same crash points); what changes is who remembers the process. Here it is the
engine's history: every step is an activity, so a crash of the worker, of the server or
of a service is followed by a retry or a replay, and the process picks up where it was.
Activities are at least once, honestly: without ``idempotent_activities=True`` a service
that crashed after its commit but before replying is asked again, and applies it twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, ClassVar

from durasim.architectures.base import HORIZON, Architecture, Run, World
from durasim.architectures.messaging import (
    ServiceTimeout,
    call_service,
)
from durasim.architectures.operations import ServiceError
from durasim.architectures.services import build_services
from durasim.architectures.state import Pending, ProcessRows, RunState, collect_state
from durasim.engine.activity import activity_info
from durasim.engine.api import EngineCluster
from durasim.engine.client import Signal
from durasim.engine.failures import ApplicationError
from durasim.engine.history import History
from durasim.faults import Fault, FaultPlan
from durasim.node import Node
from durasim.scenarios import Scenario
from durasim.scenarios.calls import BANK

DAY = 24 * 3600.0
DURABLE_HORIZON = 2 * 365 * DAY
"""A year of monthly charges must fit: durable runs may last far longer than others."""


class Durable(Architecture):
    """A workflow engine (server + worker) calls the services as activities."""

    name = "durable"
    title = "Durable execution: a workflow drives the services"
    options: ClassVar[Mapping[str, Any]] = {
        "idempotent_activities": False, "activity_timeout": 5.0, "max_attempts": 0}
    option_help: ClassVar[Mapping[str, str]] = {
        "idempotent_activities": "pass each activity's idempotency key to the service",
        "activity_timeout": "seconds an activity waits for the service's reply",
        "max_attempts": "attempts per activity before giving up (0 = unlimited)",
    }
    default_node = "worker"

    def simulate(self, scenario: Scenario, plan: FaultPlan, seed: int,
                 options: dict[str, Any]) -> Run:
        if scenario.workflow is None:
            raise TypeError(f"scenario {scenario.name!r} has no workflow code to run")
        world = World(scenario, plan, seed, default_node="worker")
        bank = self.bank(world, options)
        bank.begin(scenario)
        world.check_plan(self.name)
        world.start()
        try:
            world.run(horizon=max(HORIZON, DURABLE_HORIZON))
            outcome = bank.cluster.outcome(scenario.key)
            state = bank.read()
        finally:
            world.close()
        verdict, explanation = bank.verdict(scenario, state)
        world.logs["server"] = _history_log(outcome.history)
        return Run(scenario, self.name, options, plan, seed, world.sim.trace, state, verdict,
                   world.logs, history=outcome.history, result=outcome.result,
                   explanation=explanation, unfired=list[Fault](world.injector.unfired),
                   workflow=scenario.workflow)

    def bank(self, world: World, options: dict[str, Any]) -> DurableBank:
        """The engine (client, server, worker) and the services on ``world``."""
        return DurableBank(world, options)


class DurableBank:
    """The engine and the bank's services of one world; each process begun is a workflow
    (its workflow id is the process's business reference)."""

    def __init__(self, world: World, options: dict[str, Any]) -> None:
        scenario = world.scenario
        if scenario.workflow is None:
            raise TypeError(f"scenario {scenario.name!r} has no workflow code to run")
        self.world = world
        self.options = options
        self.services = build_services(world)
        steps = {s.name: s.number for s in scenario.all_steps}
        self.cluster = cluster = EngineCluster(
            sim=world.sim, net=world.net, injector=world.injector, nodes=world.nodes,
            executes_effects=False, step_numbers=steps, step_hook=world.crash_if_named,
            workflows=[scenario.workflow])
        cluster.worker.resources[BANK] = BankConnection(world, cluster.worker.node, options)
        for name in ("client", "server", "worker"):
            world.logs.setdefault(name, [])
        self.begun: list[Scenario] = []
        self.verdicts: dict[str, tuple[str, str]] = {}

    def begin(self, process: Scenario, at: float = 0.0) -> None:
        """The client starts ``process``'s workflow at time ``at`` (a signal follows where
        the process waits for one)."""
        self.begun.append(process)
        if at > self.world.sim.now:
            self.world.sim.schedule_at(at, partial(self._submit, process), kind="arrival")
        else:
            self._submit(process)

    def _submit(self, process: Scenario) -> None:
        if not self.cluster.client.node.up:
            self.world.log("client", f"{process.noun} {process.key} arrived while the client "
                                     "was down: never started")
            return
        signals = [Signal("approve", process.params.get("approved", True),
                          at=float(process.params.get("approve_after_days", 1)) * DAY)
                   ] if any(s.kind == "signal" for s in process.steps) else []
        self.cluster.submit(process.workflow, *process.workflow_args(
            self.options["max_attempts"]), workflow_id=process.key, requests=signals)

    def read(self) -> RunState:
        """The services' databases and each process's end, as its workflow stands (call
        before closing the world): ``pending`` lists the workflows still open."""
        pending: list[Pending] = []
        for process in self.begun:
            status, result, failure, _ = self.cluster.status(process.key)
            verdict, explanation, waiting = _verdict(process, status, result, failure)
            self.verdicts[process.key] = (verdict, explanation)
            pending += waiting
        return collect_state(self.services, pending=tuple(pending))

    def verdict(self, process: Scenario, state: RunState,
                rows: ProcessRows | None = None) -> tuple[str, str]:
        """The outcome word for ``process`` and the sentence explaining it (after read)."""
        return self.verdicts[process.key]


class BankConnection:
    """How the scenario's activities reach the services: requests over the network.

    Each call is sent from the worker's node to the service node, under the step number
    of the activity making it (so ``Crash(at_step=5)`` hits the service doing step 5),
    with the activity's idempotency key when ``idempotent_activities`` is on.
    """

    def __init__(self, world: World, worker: Node, options: Mapping[str, Any]) -> None:
        self.world = world
        self.worker = worker
        self.options = options

    async def call(self, service: str, op: str, ref: str, args: dict[str, Any]) -> Any:
        """Run ``op`` on ``service`` for business ``ref``; refusals become ApplicationError."""
        info = activity_info()
        step = self.world.scenario.step(info.activity_type)
        key = info.idempotency_key if self.options["idempotent_activities"] else None
        try:
            return await call_service(self.world.net, self.worker, service, op, args,
                                      step=step.number, key=key, ref=ref, name=step.name,
                                      timeout=self.options["activity_timeout"])
        except ServiceError as error:
            raise ApplicationError(error.reason, "TransientFailure" if error.retryable
                                   else "BusinessRefusal",
                                   non_retryable=not error.retryable) from None
        except ServiceTimeout as error:  # the service may or may not have done it
            raise ApplicationError(str(error), "ServiceTimeout") from None


def _verdict(scenario: Scenario, status: str, result: Any, failure: dict[str, Any] | None
             ) -> tuple[str, str, tuple[Pending, ...]]:
    """Outcome, one explaining sentence and what is left pending, from the workflow's end."""
    noun = scenario.noun
    if status == "completed" and isinstance(result, dict):
        if result.get("status") == "completed":
            return "completed", f"The workflow finished the {noun}.", ()
        if result.get("status") == "rejected":
            return "rejected", "The approver said no: no money moved.", ()
        undone = result.get("undone") or []
        tail = (f"; the compensations ran ({', '.join(undone)})" if undone
                else "; nothing needed undoing")
        refused = f"Step {result.get('step')} was refused ({result.get('reason')})"
        return "failed", f"{refused}{tail}.", ()
    if status == "failed":
        return "failed", f"The workflow failed: {(failure or {}).get('message')}.", ()
    where = ("stopped by a non-determinism error" if status == "nondeterministic"
             else "still waiting in the workflow engine")
    return "stuck", f"The {noun} did not finish: it is {where}.", (
        Pending(scenario.key, where, f"{noun} {scenario.key}"),)


def _history_log(history: History) -> list[str]:
    """The server's log is the history itself: one place that tells the whole story."""
    return [f"{e.time:9.3f}s  {e.event_id:>3} {e.event_type.value} {e.summary()}".rstrip()
            for e in history if not e.event_type.is_workflow_task]
