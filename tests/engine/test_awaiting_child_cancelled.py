"""A parent cancelled while it awaits a child asks the server to cancel the child, and
waits for the child's end, as Temporal's SDK does by default.

The ground truth is tests/fixtures/recorded/awaiting_child_cancelled*.json (README.md
there): the parent's cancelled wait sends RequestCancelExternalWorkflowExecution
(childWorkflowOnly), the server answers ExternalWorkflowExecutionCancelRequested and
writes WorkflowExecutionCancelRequested in the child, the child ends cancelled (after its
clean-up, if it has one), and only then the parent ends: cancelled if it lets the
ChildWorkflowError escape, completed if it catches it. durasim used to end the parent
cancelled at once and terminate the child by the parent close policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import durasim
from durasim import History
from durasim.engine import Cancel, CancelledError, EventType, HistoryEvent, WorkflowRun
from tests.workflows import recorded as wf

E = EventType
RECORDED = Path(__file__).parent.parent / "fixtures" / "recorded"


@durasim.workflow
async def CleanupSleeper(ctx: durasim.engine.WorkflowContext, seconds: float) -> str:
    """The child of ``awaiting_child_cancelled_cleanup``: sleep; when cancelled, run the
    ``clean_up`` activity, then re-raise."""
    try:
        await ctx.sleep(seconds)
    except CancelledError:
        await ctx.activity(wf.clean_up, start_to_close=5.0)
        raise
    return "slept"


@durasim.workflow
async def FailWithCleanupChild(ctx: durasim.engine.WorkflowContext, seconds: float) -> str:
    """Await a CleanupSleeper child, catching nothing."""
    result: str = await ctx.start_child(CleanupSleeper, seconds, id=f"{ctx.workflow_id}-child")
    return result


CASES: dict[str, tuple[Any, tuple[Any, ...], Any]] = {  # recording -> parent, args, child
    "awaiting_child_cancelled": (wf.FailWithChild, (60.0,), wf.Sleeper),
    "awaiting_child_cancelled_cleanup": (FailWithCleanupChild, (60.0,), CleanupSleeper),
    "awaiting_child_cancelled_caught": (wf.AwaitChild, (60.0, 0.0), wf.Sleeper),
}


def load(name: str) -> History:
    return History.from_temporal_json(RECORDED / f"{name}.json")


def run_case(name: str, **options: Any) -> WorkflowRun:
    parent, args, _ = CASES[name]
    return durasim.execute(parent, *args, id=name, requests=[Cancel(at=1.0)], **options)


def child_history(run: WorkflowRun) -> History:
    (runs,) = run.children.values()
    return runs[-1]


def without_tasks(history: History) -> list[str]:
    """The event types but the workflow tasks': after a restart the server hands out the
    parent's and the child's tasks in another order, so the child's end may join the
    parent's pending task (the same events, one task fewer)."""
    return [t for t in history.event_types() if not t.startswith("WorkflowTask")]


def only(history: History, event_type: EventType) -> HistoryEvent:
    (event,) = [e for e in history if e.event_type is event_type]
    return event


@pytest.mark.parametrize("name", CASES)
def test_parent_and_child_histories_are_the_recorded_ones(name: str) -> None:
    run = run_case(name)
    assert run.history.event_types() == load(f"{name}_parent").event_types()
    assert child_history(run).event_types() == load(f"{name}_child").event_types()


def test_the_parent_ends_as_recorded() -> None:
    """Cancelled when the child's ChildWorkflowError escapes (not failed: the run was
    asked to cancel); completed with what it caught when it catches it."""
    assert run_case("awaiting_child_cancelled").status == "canceled"
    caught = run_case("awaiting_child_cancelled_caught")
    recorded = load("awaiting_child_cancelled_caught_parent").events[-1].attributes["result"]
    assert caught.status == "completed"
    assert caught.result == recorded
    assert child_history(caught).event_types()[-1] == "WorkflowExecutionCanceled"


def test_the_request_and_its_answers_carry_the_recorded_fields() -> None:
    name = "awaiting_child_cancelled"
    run = run_case(name)
    ours, real = run.history, load(f"{name}_parent")
    child, real_child = child_history(run), load(f"{name}_child")
    ours_started = only(ours, E.CHILD_WORKFLOW_EXECUTION_STARTED).attributes
    child_run = ours_started["workflowExecution"]
    for event_type in (E.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
                       E.EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED):
        mine, theirs = only(ours, event_type), only(real, event_type)
        assert mine.event_id == theirs.event_id
        assert set(mine.attributes) == set(theirs.attributes) - {"namespaceId"}
        assert mine.attributes["workflowExecution"] == child_run
    initiated = only(ours, E.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)
    assert initiated.attributes["childWorkflowOnly"] is True
    assert initiated.attributes["workflowTaskCompletedEventId"] == initiated.event_id - 1
    answer = only(ours, E.EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED).attributes
    assert answer["initiatedEventId"] == initiated.event_id
    told = only(child, E.WORKFLOW_EXECUTION_CANCEL_REQUESTED).attributes
    real_told = only(real_child, E.WORKFLOW_EXECUTION_CANCEL_REQUESTED).attributes
    assert set(told) == set(real_told)
    assert told["externalInitiatedEventId"] == initiated.event_id
    parent_run = run.history.events[0].attributes["originalExecutionRunId"]
    assert told["externalWorkflowExecution"] == {"workflowId": name, "runId": parent_run}
    assert told["identity"] == real_told["identity"] == "history-service"
    canceled = only(ours, E.CHILD_WORKFLOW_EXECUTION_CANCELED).attributes
    assert canceled["workflowExecution"] == child_run


@pytest.mark.parametrize("name", CASES)
def test_the_recorded_histories_replay(name: str) -> None:
    parent, _, child = CASES[name]
    assert durasim.Replayer(workflows=[parent]).replay(load(f"{name}_parent")).finished
    assert durasim.Replayer(workflows=[child]).replay(load(f"{name}_child")).finished


def test_the_sdk_workflows_end_on_durasim_as_on_temporal() -> None:
    """The recorded SDK classes, run on durasim, write the recorded histories."""
    from tests.fixtures.recorded import child_cancel_workflows as sdk

    for name, parent, args in (("awaiting_child_cancelled", sdk.FailWithChild, (60.0,)),
                               ("awaiting_child_cancelled_cleanup", sdk.FailWithCleanupChild,
                                (60.0,)),
                               ("awaiting_child_cancelled_caught", sdk.AwaitChild,
                                (60.0, 0.0))):
        run = durasim.execute(parent, *args, id=name, requests=[Cancel(at=1.0)])
        assert run.history.event_types() == load(f"{name}_parent").event_types(), name
        assert child_history(run).event_types() == load(f"{name}_child").event_types(), name
        assert run.status == ("completed" if name.endswith("caught") else "canceled")


def test_a_crash_after_the_request_is_written_loses_nothing() -> None:
    """The server crashes as it commits the parent's
    RequestCancelExternalWorkflowExecutionInitiated (event 14), before delivering it:
    recovery delivers it."""
    name = "awaiting_child_cancelled"
    crash = durasim.Crash(node="server", after_events=14, restart_after=1.0)
    run = run_case(name, faults=crash)
    assert not run.unfired
    assert run.status == "canceled"
    assert without_tasks(run.history) == without_tasks(load(f"{name}_parent"))
    assert child_history(run).event_types() == load(f"{name}_child").event_types()


@durasim.workflow
async def ChattyChild(ctx: durasim.engine.WorkflowContext) -> str:
    """A child whose history outgrows its parent's before the cancel: four short naps,
    then a long one."""
    for _ in range(4):
        await ctx.sleep(0.1)
    await ctx.sleep(60.0)
    return "slept"


@durasim.workflow
async def FailWithChattyChild(ctx: durasim.engine.WorkflowContext) -> str:
    result: str = await ctx.start_child(ChattyChild, id=f"{ctx.workflow_id}-child")
    return result


def test_a_crash_between_telling_the_child_and_answering_the_parent_loses_nothing() -> None:
    """The child is told first; the server crashes as it commits that (the child's 26th
    event, a count its parent never reaches), before the parent's
    ExternalWorkflowExecutionCancelRequested: recovery answers the parent, and does not
    tell the child twice (the child's history is the crash-free one)."""
    calm = durasim.execute(FailWithChattyChild, id="chatty", requests=[Cancel(at=1.0)])
    told = only(child_history(calm), E.WORKFLOW_EXECUTION_CANCEL_REQUESTED).event_id
    assert told == 26 and len(calm.history) < told
    crash = durasim.Crash(node="server", after_events=told, restart_after=1.0)
    run = durasim.execute(FailWithChattyChild, id="chatty", requests=[Cancel(at=1.0)],
                          faults=crash)
    assert not run.unfired
    assert run.status == calm.status == "canceled"
    assert without_tasks(run.history) == without_tasks(calm.history)
    assert child_history(run).event_types() == child_history(calm).event_types()
