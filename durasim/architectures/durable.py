"""Durable execution: the same services, driven by a workflow on the engine.

The bank's services are the event-driven system's (same SQLite databases, same
operations, same crash points); what changes is who remembers the process. Here it is the
engine's history: every step is an activity, so a crash of the worker, of the server or
of a service is followed by a retry or a replay, and the process picks up where it was.
Activities are at least once, honestly: without ``idempotent_activities=True`` a service
that crashed after its commit but before replying is asked again, and applies it twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar

from durasim.architectures.base import HORIZON, Architecture, Run, World
from durasim.architectures.services import (
    ServiceError,
    ServiceTimeout,
    build_services,
    call_service,
    collect_state,
)
from durasim.engine.api import EngineCluster, Signal
from durasim.engine.history import History
from durasim.engine.workflow import (
    ActivityDefinition,
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    RetryPolicy,
    WorkflowDefinition,
    activity_info,
)
from durasim.faults import Fault, FaultPlan
from durasim.node import Node
from durasim.scenarios import Scenario, Step

DAY = 24 * 3600.0
DURABLE_HORIZON = 2 * 365 * DAY
"""A year of monthly charges must fit: durable runs may last far longer than others."""

Activity = Callable[..., Awaitable[Any]]


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
        world = World(scenario, plan, seed, default_node="worker")
        services = build_services(world)
        steps = {s.name: s.number for s in scenario.all_steps}
        cluster = EngineCluster(sim=world.sim, net=world.net, injector=world.injector,
                                nodes=world.nodes, executes_effects=False, step_numbers=steps,
                                step_hook=world.crash_if_named)
        for name in ("client", "server", "worker"):
            world.logs.setdefault(name, [])
        activities = _activities(world, cluster.worker.node, scenario, options)
        workflow = _workflow(scenario, activities, options)
        signals = [Signal("approve", scenario.params.get("approved", True),
                          at=float(scenario.params.get("approve_after_days", 1)) * DAY)
                   ] if any(s.kind == "signal" for s in scenario.steps) else []
        cluster.submit(workflow, workflow_id=scenario.key, signals=signals)
        world.check_plan(self.name)
        world.start()
        try:
            world.run(horizon=max(HORIZON, DURABLE_HORIZON))
            outcome = cluster.outcome(scenario.key)
            state = collect_state(services)
        finally:
            world.close()
        state["queues"] = {}
        verdict, explanation, pending = _verdict(scenario, outcome.status, outcome.result,
                                                 outcome.failure, outcome.error)
        state["pending"] = pending
        world.logs["server"] = _history_log(outcome.history)
        return Run(scenario, self.name, options, plan, seed, world.sim.trace, state, verdict,
                   world.logs, history=outcome.history, result=outcome.result,
                   explanation=explanation, unfired=list[Fault](world.injector.unfired),
                   workflow=workflow)


def _activities(world: World, worker: Node, scenario: Scenario, options: dict[str, Any]
                ) -> dict[str, Activity]:
    """One activity per service step: it asks the step's service and waits for the answer."""
    acts: dict[str, Activity] = {}
    for step in scenario.all_steps:
        if step.kind == "activity":
            acts[step.name] = _service_activity(world, worker, step, options)
    return acts


def _service_activity(world: World, worker: Node, step: Step, options: dict[str, Any]
                      ) -> Activity:
    async def call(args: dict[str, Any], ref: str) -> Any:
        key = activity_info().idempotency_key if options["idempotent_activities"] else None
        try:
            return await call_service(world.net, worker, step.service, step.op, args,
                                      step=step.number, key=key, ref=ref, name=step.name,
                                      timeout=options["activity_timeout"])
        except ServiceError as error:
            raise ApplicationError(error.reason, "TransientFailure" if error.retryable
                                   else "BusinessRefusal",
                                   non_retryable=not error.retryable) from None
        except ServiceTimeout as error:  # the service may or may not have done it
            raise ApplicationError(str(error), "ServiceTimeout") from None

    call.__name__ = step.name
    call.__durasim_activity__ = ActivityDefinition(step.name, call, True)  # type: ignore[attr-defined]
    return call


def _workflow(scenario: Scenario, acts: dict[str, Activity], options: dict[str, Any]
              ) -> Callable[..., Any]:
    """The scenario as workflow code: its steps in order, compensating on refusal."""
    retry = RetryPolicy(maximum_attempts=options["max_attempts"])

    async def activity(ctx: Any, step: Step, args: dict[str, Any], ref: str) -> Any:
        return await ctx.activity(acts[step.name], args, ref, retry=retry)

    async def run_steps(ctx: Any, steps: tuple[Step, ...], ref: str,
                        extra: Callable[[Step], dict[str, Any]] | None = None) -> dict[str, Any]:
        done: list[Step] = []
        for step in steps:
            if step.kind == "timer":
                await ctx.sleep(float(scenario.args_for(step).get("days", 1)) * DAY)
            elif step.kind == "signal":
                (answer,) = await ctx.wait_signal(scenario.args_for(step)["signal"])
                if not answer:
                    return {"status": "rejected", "step": step.name}
            elif step.kind == "child":
                return await pay_children(ctx, step)
            else:
                args = {**scenario.args_for(step), **(extra(step) if extra else {})}
                try:
                    await activity(ctx, step, args, ref)
                except ActivityError as error:
                    undone = await compensate(ctx, done, ref)
                    return {"status": "failed", "step": step.name,
                            "reason": error.cause.message, "undone": undone}
                done.append(step)
                ctx.logger.info("step %s %s done", step.number, step.name)
        return {"status": "completed"}

    async def compensate(ctx: Any, done: list[Step], ref: str) -> list[str]:
        undone = []
        for step in reversed(done):
            comp = scenario.compensation_for(step.name)
            if comp is not None:
                await activity(ctx, comp, scenario.args_for(comp), ref)
                undone.append(comp.name)
        return undone

    async def pay_children(ctx: Any, step: Step) -> dict[str, Any]:
        employees = scenario.params["employees"]
        try:
            results = await ctx.gather(*(
                ctx.child(child, name, amount, id=f"{scenario.key}/{name}")
                for name, amount in employees.items()))
        except ChildWorkflowError as error:
            return {"status": "failed", "step": step.name, "reason": error.cause.message}
        failed = [r for r in results if r.get("status") != "completed"]
        return failed[0] if failed else {"status": "completed", "paid": len(results)}

    async def child(ctx: Any, employee: str, amount: int) -> dict[str, Any]:
        later = tuple(s for s in scenario.steps if s.kind == "activity"
                      and s.number > _child_step(scenario))
        account_args: dict[str, dict[str, Any]] = {
            "deposit": {"account": employee, "amount": amount},
                        "withdraw": {"amount": amount},
                        "notify": {"to": employee, "amount": amount}}
        return await run_steps(ctx, later, f"{scenario.key}/{employee}",
                               lambda s: account_args.get(s.op, {}))

    async def subscription(ctx: Any) -> dict[str, Any]:
        months = int(scenario.params["months"])
        charge = tuple(s for s in scenario.steps if s.kind == "activity")
        wait = tuple(s for s in scenario.steps if s.kind == "timer")
        for month in range(1, months + 1):
            result = await run_steps(ctx, charge, f"{scenario.key}/month-{month}")
            if result["status"] != "completed":
                return result
            if month < months:
                await run_steps(ctx, wait, scenario.key)
        return {"status": "completed", "months": months}

    async def main(ctx: Any) -> dict[str, Any]:
        if scenario.name == "subscription":
            return await subscription(ctx)
        first = tuple(s for s in scenario.steps
                      if s.number <= _child_step(scenario) or not _child_step(scenario))
        return await run_steps(ctx, first, scenario.key)

    name = "".join(part.title() for part in scenario.name.split("_"))
    main.__durasim_workflow__ = WorkflowDefinition(name, main)  # type: ignore[attr-defined]
    child.__durasim_workflow__ = WorkflowDefinition(  # type: ignore[attr-defined]
        f"{name}Child", child)
    return main


def _child_step(scenario: Scenario) -> int:
    return next((s.number for s in scenario.steps if s.kind == "child"), 0)


def _verdict(scenario: Scenario, status: str, result: Any, failure: dict[str, Any] | None,
             error: Exception | None) -> tuple[str, str, list[dict[str, Any]]]:
    """Outcome, one explaining sentence and what is left pending, from the workflow's end."""
    noun = scenario.noun
    if status == "completed" and isinstance(result, dict):
        if result.get("status") == "completed":
            return "completed", f"The workflow finished the {noun}.", []
        if result.get("status") == "rejected":
            return "rejected", "The approver said no: no money moved.", []
        undone = result.get("undone") or []
        tail = (f"; the compensations ran ({', '.join(undone)})" if undone
                else "; nothing needed undoing")
        refused = f"Step {result.get('step')} was refused ({result.get('reason')})"
        return "failed", f"{refused}{tail}.", []
    if status == "failed":
        return "failed", f"The workflow failed: {(failure or {}).get('message')}.", []
    where = ("stopped by a non-determinism error" if status == "nondeterministic"
             else "still waiting in the workflow engine")
    return "stuck", f"The {noun} did not finish: it is {where}.", [
        {"ref": scenario.key, "where": where, "what": f"{noun} {scenario.key}"}]


def _history_log(history: History) -> list[str]:
    """The server's log is the history itself: one place that tells the whole story."""
    return [f"{e.time:9.3f}s  {e.event_id:>3} {e.event_type.value} {e.summary()}".rstrip()
            for e in history if not e.event_type.is_workflow_task]
