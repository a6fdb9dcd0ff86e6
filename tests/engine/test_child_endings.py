"""A child that ends without completing is reported to its parent as Temporal reports it.

The ground truth is tests/fixtures/recorded/child_{cancelled,terminated,timed_out}_*.json:
a parent awaiting a child that the client cancels or terminates, or whose execution
timeout runs out, on a real dev server (README.md there). The parent's history gets
ChildWorkflowExecutionCanceled / Terminated / TimedOut, and its code catches a
ChildWorkflowError caused by a cancellation / termination / timeout. durasim used to
report all three as ChildWorkflowExecutionFailed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import durasim
from durasim import History
from durasim.engine import Cancel, EventType, HistoryEvent, Terminate, WorkflowRun
from tests.workflows import recorded as wf

E = EventType
RECORDED = Path(__file__).parent.parent / "fixtures" / "recorded"
REASON = "stopped by the operator"  # as record_cancellations.py terminates the child
ENDINGS = {  # recording -> (what the client sends the child, the parent's event)
    "child_cancelled": (Cancel(at=1.0, workflow_id="child_cancelled-child"),
                        E.CHILD_WORKFLOW_EXECUTION_CANCELED),
    "child_terminated": (Terminate(REASON, at=1.0, workflow_id="child_terminated-child"),
                         E.CHILD_WORKFLOW_EXECUTION_TERMINATED),
}
LINKS = ("namespace", "initiatedEventId", "startedEventId", "workflowType")


def load(name: str) -> History:
    return History.from_temporal_json(RECORDED / f"{name}.json")


def run_case(name: str, **options: Any) -> WorkflowRun:
    request, _ = ENDINGS[name]
    return durasim.execute(wf.AwaitChild, 60.0, 0.0, id=name, requests=[request], **options)


def child_history(run: WorkflowRun) -> History:
    (runs,) = run.children.values()
    return runs[-1]


def child_closed(history: History) -> HistoryEvent:
    (event,) = [e for e in history if e.event_type.value.startswith("ChildWorkflowExecution")
                and e.event_type is not E.CHILD_WORKFLOW_EXECUTION_STARTED]
    return event


@pytest.mark.parametrize("name", ENDINGS)
def test_parent_and_child_histories_are_the_recorded_ones(name: str) -> None:
    run = run_case(name)
    assert run.history.event_types() == load(f"{name}_parent").event_types()
    assert child_history(run).event_types() == load(f"{name}_child").event_types()


@pytest.mark.parametrize("name", ENDINGS)
def test_the_parents_event_says_what_temporal_writes(name: str) -> None:
    run = run_case(name)
    ours, real = child_closed(run.history), child_closed(load(f"{name}_parent"))
    assert ours.event_type is real.event_type is ENDINGS[name][1]
    # the same attributes, but the namespace's id (durasim has one namespace, no ids)
    assert set(ours.attributes) == set(real.attributes) - {"namespaceId"}
    assert {k: ours.attributes[k] for k in LINKS} == {k: real.attributes[k] for k in LINKS}
    child = child_history(run)
    assert ours.attributes["workflowExecution"] == {"workflowId": child.workflow_id,
                                                    "runId": child.run_id}
    assert (ours.attributes["workflowExecution"]["workflowId"]
            == real.attributes["workflowExecution"]["workflowId"])


def test_the_terminated_child_keeps_the_reason_the_client_gave() -> None:
    ours = child_history(run_case("child_terminated")).events[-1]
    real = load("child_terminated_child").events[-1]
    assert ours.event_type is real.event_type is E.WORKFLOW_EXECUTION_TERMINATED
    assert ours.attributes["reason"] == real.attributes["reason"] == REASON
    assert set(ours.attributes) == set(real.attributes) == {"reason", "identity"}


@pytest.mark.parametrize("name", ENDINGS)
def test_the_parent_code_catches_what_the_sdk_raised(name: str) -> None:
    """The recorded parent returned a description of the error it caught (its type and
    message, its cause's type and message): durasim's parent returns the same words."""
    run = run_case(name)
    assert run.status == "completed"
    assert run.result == load(f"{name}_parent").events[-1].attributes["result"]


@pytest.mark.parametrize("name", [*ENDINGS, "child_timed_out"])
def test_the_recorded_parents_replay(name: str) -> None:
    result = durasim.Replayer(workflows=[wf.AwaitChild]).replay(load(f"{name}_parent"))
    assert result.finished


def test_a_duplicate_termination_does_nothing_more() -> None:
    """The client retries until acknowledged; a second request finds the run closed."""
    twice = [Terminate(REASON, at=1.0, workflow_id="child_terminated-child"),
             Terminate("again", at=2.0, workflow_id="child_terminated-child")]
    run = durasim.execute(wf.AwaitChild, 60.0, 0.0, id="child_terminated", requests=twice)
    assert child_history(run).event_types() == load("child_terminated_child").event_types()
    assert child_history(run).events[-1].attributes["reason"] == REASON


def test_terminating_the_started_workflow_ends_it_terminated() -> None:
    run = durasim.execute(wf.Sleeper, 60.0, id="sleeper", requests=[Terminate(REASON, at=1.0)])
    assert run.status == "terminated"
    assert run.history.event_types()[-2:] == ["TimerStarted", "WorkflowExecutionTerminated"]


@pytest.mark.parametrize("bad", [{"workflow_id": ""}, {"workflow_id": 3}])
def test_a_request_for_no_workflow_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="names a workflow by its id"):
        Cancel(**bad)
    with pytest.raises(ValueError, match="names a workflow by its id"):
        Terminate(REASON, **bad)


@pytest.mark.parametrize("name", ENDINGS)
def test_the_recorded_sdk_parent_catches_the_same_on_durasim(name: str) -> None:
    """The very SDK workflow recorded (``cancellation_workflows.AwaitChild``), run by
    durasim: same histories, and its code catches the SDK errors the real one caught."""
    from tests.fixtures.recorded.cancellation_workflows import AwaitChild

    request, _ = ENDINGS[name]
    run = durasim.execute(AwaitChild, 60.0, 0.0, id=name, requests=[request])
    assert run.result == load(f"{name}_parent").events[-1].attributes["result"]
    assert run.history.event_types() == load(f"{name}_parent").event_types()
    assert child_history(run).event_types() == load(f"{name}_child").event_types()


@durasim.workflow
async def Naps(ctx: durasim.engine.WorkflowContext) -> str:
    """A child whose history outgrows its parent's before it is terminated: three short
    naps, then a long one (its 21st event is the termination)."""
    for seconds in (1.0, 1.0, 1.0, 60.0):
        await ctx.sleep(seconds)
    return "rested"


@durasim.workflow
async def AwaitNaps(ctx: durasim.engine.WorkflowContext) -> str:
    try:
        result: str = await ctx.start_child(Naps, id="naps-child")
    except durasim.engine.ChildWorkflowError as err:
        return f"{type(err).__name__}: {err}; cause {type(err.cause).__name__}: {err.cause}"
    return result


def test_a_crash_between_the_childs_end_and_telling_the_parent_loses_nothing() -> None:
    """The server crashes as it commits the child's WorkflowExecutionTerminated (the
    child's 21st event; the parent has 9): only recovery can tell the parent."""
    terminate = Terminate(REASON, at=10.0, workflow_id="naps-child")
    crash = durasim.Crash(node="server", after_events=21, restart_after=1.0)
    run = durasim.execute(AwaitNaps, id="naps", requests=[terminate], faults=crash)
    assert not run.unfired
    assert child_history(run).event_types()[-1] == "WorkflowExecutionTerminated"
    assert len(child_history(run)) == 21
    assert run.history.event_types()[-5:] == [
        "ChildWorkflowExecutionTerminated", "WorkflowTaskScheduled", "WorkflowTaskStarted",
        "WorkflowTaskCompleted", "WorkflowExecutionCompleted"]
    assert run.result == load("child_terminated_parent").events[-1].attributes["result"]


def test_an_uncaught_child_ending_fails_the_parent_as_recorded() -> None:
    """``child_cancelled_uncaught``: the parent catches nothing, so the ChildWorkflowError
    fails it, with Temporal's message for a cancelled child (not "... failed")."""
    name = "child_cancelled_uncaught"
    run = durasim.execute(wf.FailWithChild, 60.0, id=name,
                          requests=[Cancel(at=1.0, workflow_id=f"{name}-child")])
    assert run.status == "failed"
    real = load(f"{name}_parent")
    assert run.history.event_types() == real.event_types()
    assert child_history(run).event_types() == load(f"{name}_child").event_types()
    ours = run.history.events[-1].attributes["failure"]
    assert ours["message"] == real.events[-1].attributes["failure"]["message"] == (
        "Child Workflow execution cancelled")


def test_the_recorded_uncaught_parent_replays() -> None:
    result = durasim.Replayer(workflows=[wf.FailWithChild]).replay(
        load("child_cancelled_uncaught_parent"))
    assert result.finished


def test_the_recorded_uncaught_sdk_parent_fails_the_same_on_durasim() -> None:
    from tests.fixtures.recorded.cancellation_workflows import FailWithChild

    name = "child_cancelled_uncaught"
    run = durasim.execute(FailWithChild, 60.0, id=name,
                          requests=[Cancel(at=1.0, workflow_id=f"{name}-child")])
    real = load(f"{name}_parent")
    assert run.history.event_types() == real.event_types()
    assert (run.history.events[-1].attributes["failure"]["message"]
            == real.events[-1].attributes["failure"]["message"])
