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
from typing import Any, ClassVar

from durasim.architectures.base import HORIZON, Architecture, Run, World
from durasim.architectures.messaging import (
    ServiceTimeout,
    call_service,
)
from durasim.architectures.operations import ServiceError
from durasim.architectures.services import build_services
from durasim.architectures.state import Pending, collect_state
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
        workflow = scenario.workflow
        if workflow is None:
            raise TypeError(f"scenario {scenario.name!r} has no workflow code to run")
        world = World(scenario, plan, seed, default_node="worker")
        services = build_services(world)
        steps = {s.name: s.number for s in scenario.all_steps}
        cluster = EngineCluster(sim=world.sim, net=world.net, injector=world.injector,
                                nodes=world.nodes, executes_effects=False, step_numbers=steps,
                                step_hook=world.crash_if_named, workflows=[workflow])
        cluster.worker.resources[BANK] = BankConnection(world, cluster.worker.node, options)
        for name in ("client", "server", "worker"):
            world.logs.setdefault(name, [])
        signals = [Signal("approve", scenario.params.get("approved", True),
                          at=float(scenario.params.get("approve_after_days", 1)) * DAY)
                   ] if any(s.kind == "signal" for s in scenario.steps) else []
        cluster.submit(workflow, *scenario.workflow_args(options["max_attempts"]),
                       workflow_id=scenario.key, requests=signals)
        world.check_plan(self.name)
        world.start()
        try:
            world.run(horizon=max(HORIZON, DURABLE_HORIZON))
            outcome = cluster.outcome(scenario.key)
            verdict, explanation, pending = _verdict(scenario, outcome.status, outcome.result,
                                                     outcome.failure)
            state = collect_state(services, pending=pending)
        finally:
            world.close()
        world.logs["server"] = _history_log(outcome.history)
        return Run(scenario, self.name, options, plan, seed, world.sim.trace, state, verdict,
                   world.logs, history=outcome.history, result=outcome.result,
                   explanation=explanation, unfired=list[Fault](world.injector.unfired),
                   workflow=workflow)


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
