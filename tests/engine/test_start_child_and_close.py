"""A parent that asks for a child and closes in the same workflow task starts no child.

The ground truth is tests/fixtures/recorded/start_child_and_close_*: on a real dev
server, a parent whose first task issued StartChildWorkflowExecution and then completed,
failed or continued as new has StartChildWorkflowExecutionInitiated in its history and
nothing after its closing event, and the child's id is unknown to the server
(``closing.answers``: NOT_FOUND) for every parent close policy, ABANDON too. durasim used
to start the child anyway and then apply the policy (an abandoned child ran to the end).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import durasim
from durasim import History
from durasim.engine import ApplicationError, EventType, WorkflowContext, WorkflowRun
from tests.workflows import recorded as wf

E = EventType
RECORDED = Path(__file__).parent.parent / "fixtures" / "recorded"
CASES = {  # recording -> (policy, how the parent closes)
    "start_child_and_close_terminate": ("TERMINATE", "complete"),
    "start_child_and_close_request_cancel": ("REQUEST_CANCEL", "complete"),
    "start_child_and_close_abandon": ("ABANDON", "complete"),
    "start_child_and_close_terminate_fail": ("TERMINATE", "fail"),
    "start_child_and_close_abandon_fail": ("ABANDON", "fail"),
    "start_child_and_close_terminate_continue_as_new": ("TERMINATE", "continue_as_new"),
}
SECONDS = 2.0  # the child's sleep, as recorded (it would have completed alone)


@durasim.workflow
async def StartChildAndClose(ctx: WorkflowContext, policy: str, seconds: float, how: str
                             ) -> str:
    """The recorded parent (``closing_workflows.StartChildAndClose``) as plain code: ask
    for a Sleeper child without waiting for it to start, then close in the same task."""
    if not policy:  # the run after continue-as-new
        return "next run done"
    ctx.start_child(wf.Sleeper, seconds, id=f"{ctx.workflow_id}-child",
                    parent_close_policy=policy.lower())
    if how == "fail":
        raise ApplicationError("parent gave up", type="GaveUp", non_retryable=True)
    if how == "continue_as_new":
        ctx.continue_as_new("", 0.0, "")
    return "parent done"


def load(name: str) -> History:
    return History.from_temporal_json(RECORDED / f"{name}_parent.json")


def run_case(name: str, **options: Any) -> WorkflowRun:
    policy, how = CASES[name]
    return durasim.execute(StartChildAndClose, policy, SECONDS, how, id=name, **options)


@pytest.mark.parametrize("name", CASES)
def test_the_recording_has_no_child(name: str) -> None:
    """What the server answered when asked for the child, after waiting for it."""
    answers = json.loads((RECORDED / "closing.answers").read_text(encoding="utf-8"))
    refused = answers[name]["describe child"]
    assert refused == {"raised": "RPCError", "status": "NOT_FOUND",
                       "message": f"workflow not found for ID: {name}-child"}
    assert not (RECORDED / f"{name}_child.json").exists()


@pytest.mark.parametrize("name", CASES)
def test_durasim_starts_no_child_either(name: str) -> None:
    run = run_case(name)
    assert run.children == {}
    assert not run.store.runs(f"{name}-child")


@pytest.mark.parametrize("name", CASES)
def test_the_parents_history_is_the_recorded_one(name: str) -> None:
    run = run_case(name)
    first = run.histories[0]
    assert first.event_types() == load(name).event_types()
    initiated = first.events[4]
    assert initiated.attributes["parentClosePolicy"] == load(name).events[4].attributes[
        "parentClosePolicy"]


@pytest.mark.parametrize("name", CASES)
def test_the_recorded_parents_replay(name: str) -> None:
    result = durasim.Replayer(workflows=[StartChildAndClose]).replay(load(name))
    assert result.finished


@pytest.mark.parametrize("name", ["start_child_and_close_abandon",
                                  "start_child_and_close_terminate"])
def test_the_same_after_a_server_crash(name: str) -> None:
    """A server that crashes and restarts right after the parent closed starts no child
    on recovery (recovery looks at open runs only; the parent is closed)."""
    run = run_case(name, faults=durasim.Crash(node="server", after_events=6,
                                               restart_after=1.0))
    assert not run.unfired  # the crash happened
    assert run.status == "completed"
    assert run.children == {}


@pytest.mark.parametrize("name", ["start_child_and_close_abandon",
                                  "start_child_and_close_request_cancel"])
def test_the_recorded_sdk_parent_starts_no_child_on_durasim(name: str) -> None:
    """The very SDK workflow recorded, run by durasim: same history, no child."""
    from tests.fixtures.recorded.closing_workflows import StartChildAndClose as Recorded

    policy, how = CASES[name]
    run = durasim.execute(Recorded, policy, SECONDS, how, id=name)
    assert run.history.event_types() == load(name).event_types()
    assert run.children == {}
