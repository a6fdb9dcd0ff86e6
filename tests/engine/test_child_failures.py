"""A parent that lets a child's error escape fails with the failure Temporal writes.

The ground truth is tests/fixtures/recorded/child_*_uncaught_*.json: a parent awaiting a
child that failed, was cancelled, was terminated or timed out, catching nothing, on a real
dev server. Its WorkflowExecutionFailed failure says "Child Workflow execution <verb>",
names the child in ``childWorkflowExecutionFailureInfo`` and has as its cause the child's
own failure, or ``canceledFailureInfo`` (no message), ``terminatedFailureInfo``,
``timeoutFailureInfo``. durasim used to write the cause of a cancelled child as an
application error ``{message: "Cancelled", type: "CancelledError"}`` and no
``childWorkflowExecutionFailureInfo`` at all. These tests compare the failures field by
field, in the JSON both write (only the stack traces, which durasim has none of, and the
child's run id differ).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import durasim
from durasim import History
from durasim.engine import (
    ApplicationError,
    Cancel,
    EventType,
    Terminate,
    WorkflowContext,
    WorkflowRun,
)
from durasim.engine.failures import child_workflow_error, failure_of
from tests.workflows import recorded as wf

E = EventType
RECORDED = Path(__file__).parent.parent / "fixtures" / "recorded"
REASON = "stopped by the operator"  # as record_closing.py terminates the child


@durasim.workflow
async def Refuser(ctx: WorkflowContext) -> str:
    """The recorded failing child (``closing_workflows.Refuser``)."""
    raise ApplicationError("no way", type="Refused", non_retryable=True)


@durasim.workflow
async def FailWithFailedChild(ctx: WorkflowContext) -> str:
    """Await a Refuser child, catching nothing."""
    result: str = await ctx.start_child(Refuser, id=f"{ctx.workflow_id}-child")
    return result


@durasim.workflow
async def FailWithTimedChild(ctx: WorkflowContext, seconds: float, timeout: float) -> str:
    """The recorded parent of a timed-out child; durasim has no execution timeout, so this
    only replays ``child_timed_out_uncaught_parent``."""
    result: str = await ctx.start_child(wf.Sleeper, seconds, id=f"{ctx.workflow_id}-child")
    return result


def recorder_runs(failed_child_parent: Any, waiting_parent: Any
                  ) -> dict[str, Callable[[], WorkflowRun]]:
    """Each recording -> how durasim runs it as record_closing.py ran it, with these
    parents (durasim's own workflows here, the recorder's SDK classes elsewhere)."""
    return {
        "child_failed_uncaught": lambda: durasim.execute(failed_child_parent,
                                                         id="child_failed_uncaught"),
        "child_cancelled_uncaught": lambda: durasim.execute(
            waiting_parent, 60.0, id="child_cancelled_uncaught",
            requests=[Cancel(at=1.0, workflow_id="child_cancelled_uncaught-child")]),
        "child_terminated_uncaught": lambda: durasim.execute(
            waiting_parent, 60.0, id="child_terminated_uncaught",
            requests=[Terminate(REASON, at=1.0,
                                workflow_id="child_terminated_uncaught-child")]),
    }


RUNS = recorder_runs(FailWithFailedChild, wf.FailWithChild)
ALL = [*RUNS, "child_timed_out_uncaught"]
WORKFLOWS = {"child_failed_uncaught": FailWithFailedChild,
             "child_cancelled_uncaught": wf.FailWithChild,
             "child_terminated_uncaught": wf.FailWithChild,
             "child_timed_out_uncaught": FailWithTimedChild}


def raw_events(source: str | Path) -> list[dict[str, Any]]:
    """The events as Temporal's JSON writes them (a file, or durasim's to_temporal_json)."""
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    events: list[dict[str, Any]] = json.loads(text)["events"]
    return events


def attributes(event: dict[str, Any]) -> dict[str, Any]:
    (value,) = [v for k, v in event.items() if k.endswith("EventAttributes")]
    return dict(value)


def comparable(value: Any, run_id: str) -> Any:
    """``value`` without stack traces, the child's run id replaced by ``run_id``."""
    if isinstance(value, dict):
        return {k: run_id if k == "runId" else comparable(v, run_id)
                for k, v in value.items() if k != "stackTrace"}
    if isinstance(value, list):
        return [comparable(v, run_id) for v in value]
    return value


def failures(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Every ``failure`` in a history, by event type, and the closing event's attributes."""
    found = {e["eventType"]: attributes(e)["failure"] for e in events
             if "failure" in attributes(e)}
    return {**found, "closing": attributes(events[-1])}


@pytest.fixture(scope="module")
def runs() -> dict[str, WorkflowRun]:
    return {name: run() for name, run in RUNS.items()}


@pytest.mark.parametrize("name", RUNS)
def test_the_parents_failures_are_the_recorded_ones(name: str, runs: dict[str, WorkflowRun]
                                                    ) -> None:
    run = runs[name]
    assert run.status == "failed"
    ours = failures(raw_events(run.history.to_temporal_json()))
    real = failures(raw_events(RECORDED / f"{name}_parent.json"))
    assert comparable(ours, "child") == comparable(real, "child")


@pytest.mark.parametrize("name", RUNS)
def test_the_child_ends_as_recorded(name: str, runs: dict[str, WorkflowRun]) -> None:
    """The child's closing event, field by field (but who terminated it: the client's
    identity differs)."""
    (child,) = runs[name].children.values()
    ours = attributes(raw_events(child[-1].to_temporal_json())[-1])
    real = attributes(raw_events(RECORDED / f"{name}_child.json")[-1])
    ours.pop("identity", None)
    real.pop("identity", None)
    assert comparable(ours, "child") == comparable(real, "child")


@pytest.mark.parametrize("name", ALL)
def test_the_error_of_each_recorded_ending_fails_the_parent_as_recorded(name: str) -> None:
    """From the child's event in the recorded parent to the parent's failure, for every
    ending (the timeout, which durasim cannot run, too)."""
    history = History.from_temporal_json(RECORDED / f"{name}_parent.json")
    (ending,) = [e for e in history if e.event_type.value.startswith("ChildWorkflowExecution")
                 and e.event_type is not E.CHILD_WORKFLOW_EXECUTION_STARTED]
    error = child_workflow_error(ending.event_type, ending.attributes, f"{name}-child")
    recorded = history.events[-1].attributes["failure"]
    assert comparable(failure_of(error), "child") == comparable(recorded, "child")


@pytest.mark.parametrize("name", ALL)
def test_the_recorded_parents_replay(name: str) -> None:
    history = History.from_temporal_json(RECORDED / f"{name}_parent.json")
    assert durasim.Replayer(workflows=[WORKFLOWS[name]]).replay(history).finished


def test_the_parent_code_still_sees_the_childs_own_error() -> None:
    """What the code catches did not change: the ApplicationError the child raised."""
    @durasim.workflow
    async def Catcher(ctx: WorkflowContext) -> str:
        try:
            await ctx.start_child(Refuser, id="refuser")
        except durasim.engine.ChildWorkflowError as err:
            assert isinstance(err.cause, ApplicationError)
            return f"{err.cause.type}: {err.cause.message}"
        return "no error"

    assert durasim.execute(Catcher, id="catcher").result == "Refused: no way"
