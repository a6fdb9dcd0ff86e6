"""Every ``ctx`` feature of durasim's engine either runs on a real Temporal server through the
adapter, giving the history it gives in the simulator, or is refused by name.

The workflows are tests/workflows/features.py's (the issue-13 features, whose simulated
histories tests/test_temporal_features.py checks against recordings); here each runs on a
dev server through ``durasim.bridges.temporal`` and in ``durasim.execute``, and the two
histories must agree event by event, as in tests/test_temporal_conformance.py.
"""

from __future__ import annotations

from typing import Any

import pytest

import durasim
from durasim import Signal, workflow
from durasim.bridges.temporal import (
    NotOnTemporalError,
    TemporalDevServer,
    TemporalWorkflowContext,
    execute_on_temporal,
)
from durasim.bridges.temporal.adapter import _DurasimWorkflow, _sdk
from durasim.engine import Cancel, CancelledError, Query, Update, WorkflowContext
from durasim.engine.client import Request
from durasim.engine.definitions import workflow_definition
from durasim.history_compare import compare_histories
from tests.test_temporal_conformance import assert_same_histories
from tests.test_temporal_conformance import server as dev_server  # noqa: F401 (a fixture)
from tests.workflows import features as wf
from tests.workflows import recorded


@workflow(name="AdapterNoticesCancel")
async def NoticesCancel(ctx: WorkflowContext) -> list[bool]:
    """Catch the cancellation and complete, saying what ``is_cancel_requested`` said."""
    before = ctx.is_cancel_requested
    try:
        await ctx.sleep(3600)
    except CancelledError:
        return [before, ctx.is_cancel_requested]
    return [before]


CASES = [  # (workflow, args, execute options), named by the features they need
    pytest.param(wf.ApprovalWithDeadline, (60.0,),
                 {"requests": [Signal("approve", "manager", at=1.0)]},
                 id="signal-handler-and-wait-condition"),
    pytest.param(wf.ApprovalWithDeadline, (2.0,), {}, id="wait-condition-times-out"),
    pytest.param(wf.PaymentReminder, (100,), {}, id="start-activity-start-timer-cancel"),
    pytest.param(wf.ActivityTimeouts, (), {}, id="heartbeat-timeout"),
    pytest.param(wf.SendFileWorkflow, (8,), {}, id="heartbeats-keep-an-activity-alive"),
    pytest.param(wf.ConvertWorkflow, (100,), {}, id="local-activity"),
    pytest.param(wf.DeprecatedPatchPayment, (40,), {}, id="deprecate-patch"),
    pytest.param(wf.InvoiceWorkflow, ("acme",), {"requests": [Query("status", at=0.0)]},
                 id="query-handler"),
    pytest.param(wf.ApprovalsWorkflow, (), {"requests": [
        Signal("approve", "manager", with_start=True), Signal("close", at=1.0)]},
        id="signal-handlers-and-signal-with-start"),
    pytest.param(wf.SavingsWorkflow, (100,), {"requests": [
        Update("deposit", -5, at=1.0), Update("deposit", 100, at=1.5)]},
        id="update-handler-and-validator"),
    pytest.param(wf.OrderWorkflow, ("order-42",), {"requests": [Cancel(at=1.0)]},
                 id="cancellation-caught-to-clean-up"),
    pytest.param(NoticesCancel, (), {"requests": [Cancel(at=1.0)]},
                 id="is-cancel-requested"),
]


@pytest.mark.temporal
@pytest.mark.parametrize("workflow, args, options", CASES)
def test_the_feature_gives_the_same_history_on_temporal(
        dev_server: TemporalDevServer, workflow: Any, args: tuple[Any, ...],  # noqa: F811
        options: dict[str, Any], request: pytest.FixtureRequest) -> None:
    name = f"adapter_{request.node.callspec.id}"
    real = execute_on_temporal(workflow, *args, server=dev_server, id=name, timeout=30,
                               **options)
    sim = durasim.execute(workflow, *args, id=name, **options)
    assert real.status == sim.status
    assert real.status in ("completed", "canceled")
    assert real.result == sim.result
    assert [(a.value, a.error) for a in real.answers] == [(a.value, a.error)
                                                          for a in sim.answers]
    assert_same_histories(real.histories, sim.histories)
    for r, s in zip(real.histories, sim.histories, strict=True):
        cmp = compare_histories(s, r, labels=("durasim", "temporal"))
        assert cmp.same, f"\n{cmp}"


@pytest.mark.temporal
def test_requests_are_refused_for_the_reasons_the_simulator_gives(
        dev_server: TemporalDevServer) -> None:  # noqa: F811
    """A signal after the workflow completed and a cancel for an id nobody started: the
    real server refuses both (NOT_FOUND), as ``run.refused`` says the simulator does."""
    requests: list[Request] = [Signal("approve", "late", at=2.0),
                               Cancel(at=2.0, workflow_id="nobody")]
    every = [recorded.withdraw, recorded.deposit, recorded.notify]
    real = execute_on_temporal(recorded.Transfer, 100, server=dev_server, id="adapter_refused",
                               activities=every, requests=requests, timeout=30)
    sim = durasim.execute(recorded.Transfer, 100, id="adapter_refused", activities=every,
                          requests=requests)
    assert real.status == sim.status == "completed"
    facts = [[(r.request, r.workflow_id, r.status, r.reason) for r in run.refused]
             for run in (real, sim)]
    assert facts[0] == facts[1]
    assert [r.reason for r in real.refused] == [
        "workflow execution already completed", "workflow not found for ID: nobody"]


def public_names() -> list[str]:
    return [*sorted(n for n in dir(WorkflowContext) if not n.startswith("_")), "logger"]


@pytest.fixture
def ctx() -> TemporalWorkflowContext:
    """The adapter's ctx, made as its worker makes it (outside a workflow: no SDK call)."""
    definition = workflow_definition(wf.PaymentReminder)
    return TemporalWorkflowContext(_DurasimWorkflow(), definition, _sdk())


REFUSED = {"set_frames_source"}


@pytest.mark.parametrize("name", public_names())
def test_every_engine_feature_is_there_or_refused_by_name(ctx: TemporalWorkflowContext,
                                                          name: str) -> None:
    if name not in REFUSED:
        assert name in vars(TemporalWorkflowContext) or name in vars(ctx)
        return
    with pytest.raises(NotOnTemporalError, match=rf"^ctx\.{name} is not available on a real "
                       "Temporal server: ") as raised:
        getattr(ctx, name)
    assert "\n" not in str(raised.value)


def test_a_name_the_engine_lacks_is_a_plain_attribute_error(
        ctx: TemporalWorkflowContext) -> None:
    with pytest.raises(AttributeError) as raised:
        ctx.no_such_feature  # noqa: B018
    assert not isinstance(raised.value, NotOnTemporalError)
