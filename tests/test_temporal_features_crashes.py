"""Issue 13: the new mechanisms survive any crash, and misuse gets one clear error.

A crash of the worker, of the activity worker or of the server after any event of a
heartbeating workflow, an update workflow and a cancellation workflow must end in the
crash-free run's result: the history and the server's mutable state carry everything.
"""

from __future__ import annotations

from typing import Any

import pytest

import durasim
from durasim import Crash, DurasimError
from durasim.engine import Cancel, Query, Update, heartbeat
from durasim.engine.handlers import ReadOnlyError
from tests.workflows import features as wf

SCENARIOS: dict[str, tuple[Any, tuple[Any, ...], dict[str, Any]]] = {
    "heartbeat": (wf.SendFileWorkflow, (8,), {"activity_worker": True}),
    "update": (wf.SavingsWorkflow, (100,), {"requests": [Update("deposit", -5, at=1.0),
                                                         Update("deposit", 100, at=1.5)]}),
    "cancellation": (wf.OrderWorkflow, ("order-42",), {"requests": [Cancel(at=1.0)]}),
}
NODES = {"heartbeat": ("worker", "activity_worker", "server"),
         "update": ("worker", "server"), "cancellation": ("worker", "server")}


def _crash_plans() -> list[Any]:
    plans = []
    for name, (workflow, args, options) in SCENARIOS.items():
        clean = durasim.execute(workflow, *args, **options)
        for node in NODES[name]:
            for after in range(1, len(clean.history) + 1):
                plans.append(pytest.param(name, node, after, id=f"{name}-{node}-{after}"))
    return plans


@pytest.mark.parametrize("name, node, after", _crash_plans())
def test_a_crash_after_any_event_ends_as_the_crash_free_run(name: str, node: str,
                                                            after: int) -> None:
    workflow, args, options = SCENARIOS[name]
    clean = durasim.execute(workflow, *args, **options)
    crashed = durasim.execute(workflow, *args, **options,
                              faults=Crash(node=node, after_events=after, restart_after=1.0))
    assert (crashed.status, crashed.result) == (clean.status, clean.result)
    if name == "update":  # the accepted deposit is answered as without the crash (a
        # refused one may find the workflow already finished when a lost request is resent)
        assert crashed.answers[1].value == clean.answers[1].value == 100


def test_an_update_without_a_handler_is_refused_with_a_sentence() -> None:
    run = durasim.execute(wf.SavingsWorkflow, 100, requests=[Update("withdraw", 5, at=1.0)],
                          until=10.0)
    (answer,) = run.answers
    assert answer.error is not None and "has no update 'withdraw'" in answer.error
    assert "its updates: deposit" in answer.error
    assert "WorkflowExecutionUpdateAccepted" not in run.history.event_types()


def test_a_query_that_changes_the_workflow_is_refused() -> None:
    @durasim.workflow
    async def Meddler(ctx: Any) -> str:
        @ctx.query
        def peek() -> float:
            return ctx.random()  # advances the workflow's random stream: not a read

        await ctx.sleep(5)
        return "done"

    run = durasim.execute(Meddler, requests=[Query("peek", at=1.0)])
    (answer,) = run.answers
    assert answer.error is not None and answer.error.startswith("ReadOnlyError")
    assert "query handler 'peek' called ctx.random()" in answer.error
    assert run.result == "done"
    assert issubclass(ReadOnlyError, DurasimError)


def test_heartbeat_outside_an_activity_says_where_it_belongs() -> None:
    with pytest.raises(DurasimError, match=r"heartbeat\(\) is only available inside a "
                                           "running activity"):
        heartbeat("anything")


@pytest.mark.parametrize("call", [
    lambda ctx: ctx.activity(wf.withdraw, "a", 1, heartbeat_timeout=-1),
    lambda ctx: ctx.wait_condition(lambda: True, timeout=-2),
    lambda ctx: ctx.activity(wf.withdraw, "a", 1, start_to_close=float("nan")),
])
def test_negative_or_nan_timeouts_are_refused_with_the_argument_named(call: Any) -> None:
    @durasim.workflow
    async def BadTimeout(ctx: Any) -> str:
        try:
            await call(ctx)
        except ValueError as error:
            return str(error)
        return "accepted"

    run = durasim.execute(BadTimeout)
    assert run.status == "completed"
    assert run.result.split()[0] in ("heartbeat_timeout", "wait_condition's", "start_to_close")
    assert "seconds" in run.result
