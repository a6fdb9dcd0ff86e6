"""SDK calls durasim does not simulate fail with one clear durasim error naming the call.

Never an ``AttributeError`` or ``NotImplementedError`` from the SDK's insides, never a
history that silently differs from Temporal's: workflow code that reaches for such a call
fails its workflow task with :class:`UnsupportedFeatureError` (so the run stays open, as a
run with a bug would on Temporal, and ``run.error`` says why); an activity that does
fails for good with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest

pytest.importorskip("temporalio", reason="the Temporal SDK (the 'temporal' extra) is needed")

from temporalio import activity, workflow
from temporalio.common import (
    Priority,
    RawValue,
    RetryPolicy,
    SearchAttributeKey,
)

import durasim
from durasim.bridges.temporal.sdk_errors import UnsupportedFeatureError

TEN_SECONDS = timedelta(seconds=10)


@activity.defn
async def noop() -> str:
    return "done"


@activity.defn
async def asks_for_a_client() -> str:
    await activity.client().get_workflow_handle("someone-else").signal("poke")
    return "never"


@workflow.defn
class Child:
    @workflow.run
    async def run(self) -> str:
        return "child"


async def _then(value: Any) -> Any:
    return value


async def _child_signal() -> None:
    handle = await workflow.start_child_workflow(Child.run, id="child-signalled")
    await handle.signal("poke")


async def _continue_elsewhere() -> None:
    workflow.continue_as_new(workflow=Child.run)


# (the call as the error names it, the body of a workflow making it)
CALLS: list[tuple[str, Callable[[], Any]]] = [
    ("workflow.get_external_workflow_handle()",
     lambda: workflow.get_external_workflow_handle("other").signal("poke")),
    ("workflow.upsert_memo()", lambda: _then(workflow.upsert_memo({"note": "x"}))),
    ("workflow.upsert_search_attributes()",
     lambda: _then(workflow.upsert_search_attributes(
         [SearchAttributeKey.for_keyword("CustomKeywordField").value_set("x")]))),
    ("get_current_history_size()",
     lambda: _then(workflow.info().get_current_history_size())),
    ("Nexus operations",
     lambda: workflow.create_nexus_client(service="svc", endpoint="ep")
     .execute_operation("op", None)),
    ("ChildWorkflowHandle.signal()", _child_signal),
    ("workflow.start_activity() by name",
     lambda: workflow.execute_activity("noop", start_to_close_timeout=TEN_SECONDS)),
    ("workflow.start_child_workflow() by name",
     lambda: workflow.execute_child_workflow("Child")),
    ("workflow.start_activity() with schedule_to_start_timeout=",
     lambda: workflow.execute_activity(noop, start_to_close_timeout=TEN_SECONDS,
                                       schedule_to_start_timeout=TEN_SECONDS)),
    ("workflow.start_activity() with activity_id=",
     lambda: workflow.execute_activity(noop, start_to_close_timeout=TEN_SECONDS,
                                       activity_id="mine")),
    ("workflow.start_activity() with cancellation_type=",
     lambda: workflow.execute_activity(
         noop, start_to_close_timeout=TEN_SECONDS,
         cancellation_type=workflow.ActivityCancellationType.ABANDON)),
    ("workflow.start_activity() with priority=",
     lambda: workflow.execute_activity(noop, start_to_close_timeout=TEN_SECONDS,
                                       priority=Priority(priority_key=1))),
    ("workflow.start_child_workflow() with execution_timeout=",
     lambda: workflow.execute_child_workflow(Child.run, execution_timeout=TEN_SECONDS)),
    ("workflow.start_child_workflow() with retry_policy=",
     lambda: workflow.execute_child_workflow(Child.run, retry_policy=RetryPolicy())),
    ("workflow.continue_as_new() with memo=",
     lambda: _then(workflow.continue_as_new(memo={"note": "x"}))),
    ("workflow.continue_as_new() into another workflow type", _continue_elsewhere),
]


BODIES = dict(CALLS)


@workflow.defn
class Reaches:
    """Makes the call it is started with."""

    @workflow.run
    async def run(self, call: str) -> Any:
        return await BODIES[call]()


@workflow.defn
class AsksForClient:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity(asks_for_a_client,
                                               start_to_close_timeout=TEN_SECONDS)


@workflow.defn
class DynamicSignal:
    @workflow.run
    async def run(self) -> str:
        return "ran"

    @workflow.signal(dynamic=True)
    def on_any(self, name: str, args: Sequence[RawValue]) -> None:
        return None


@workflow.defn
class DynamicQuery:
    @workflow.run
    async def run(self) -> str:
        return "ran"

    @workflow.query(dynamic=True)
    def on_any(self, name: str, args: Sequence[RawValue]) -> str:
        return name


@workflow.defn
class DynamicUpdate:
    @workflow.run
    async def run(self) -> str:
        return "ran"

    @workflow.update(dynamic=True)
    def on_any(self, name: str, args: Sequence[RawValue]) -> str:
        return name


@workflow.defn(dynamic=True)
class AnyWorkflow:
    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> str:
        return "ran"


@pytest.mark.parametrize("call", list(BODIES))
def test_an_unsimulated_workflow_call_fails_the_task_naming_it(call: str) -> None:
    run = durasim.execute(Reaches, call, activities=[noop])
    assert run.status == "running"
    assert isinstance(run.error, durasim.DurasimError)
    cause = getattr(run.error, "cause", None)
    assert isinstance(cause, UnsupportedFeatureError), run.error
    message = str(cause)
    assert call in message and "\n" not in message
    assert "is not simulated by durasim" in message


def test_an_activity_asking_for_a_client_fails_for_good_naming_the_call() -> None:
    run = durasim.execute(AsksForClient, activities=[asks_for_a_client])
    assert run.status == "failed"
    cause = (run.failure or {}).get("cause") or {}
    assert cause.get("type") == "UnsupportedFeatureError"
    assert "activity.client()" in cause.get("message", "")


@pytest.mark.parametrize("kind, cls", [("signal", DynamicSignal), ("query", DynamicQuery),
                                       ("update", DynamicUpdate)])
def test_a_dynamic_handler_is_refused_naming_it(kind: str, cls: type) -> None:
    run = durasim.execute(cls)
    cause = getattr(run.error, "cause", None)
    assert isinstance(cause, UnsupportedFeatureError), run.error
    assert f"dynamic {kind} handler" in str(cause)


def test_a_dynamic_workflow_is_refused_at_once() -> None:
    with pytest.raises(UnsupportedFeatureError, match=r"@workflow.defn\(dynamic=True\)"):
        durasim.execute(AnyWorkflow)
