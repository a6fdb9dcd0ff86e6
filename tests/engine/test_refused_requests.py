"""A signal, cancellation or termination that finds no running workflow is refused, as
Temporal's server refuses it.

The ground truth is tests/fixtures/recorded/closing.answers ("client_request_refusals"):
the SDK client, on a real dev server, cancelled, terminated and signalled an id nobody
started and runs that had completed, been cancelled and been terminated. An unknown id
is NOT_FOUND for all three; a closed run is NOT_FOUND ("workflow execution already
completed") for terminate and signal, while cancel is accepted. durasim used to
acknowledge all of them silently, so a typo in a child's id, or a request sent too late,
looked like it had worked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import durasim
from durasim.engine import Cancel, RequestRefused, Signal, Terminate, WorkflowRun
from durasim.engine.client import Request
from durasim.errors import DurasimError
from tests.workflows import recorded as wf

RECORDED = json.loads((Path(__file__).parent.parent / "fixtures" / "recorded"
                       / "closing.answers").read_text(encoding="utf-8"))[
    "client_request_refusals"]
UNKNOWN = "no-such-workflow"  # as record_closing.py names it
LATE = 5.0  # the request comes after the workflow closed
ENDINGS: dict[str, tuple[float, list[Request]]] = {  # state -> (the Sleeper's nap, requests)
    "completed": (2.0, []),
    "cancelled": (60.0, [Cancel(at=1.0)]),
    "terminated": (60.0, [Terminate("stopped by the operator", at=1.0)]),
}


def request(kind: str, workflow_id: str | None, at: float) -> Request:
    if kind == "cancel":
        return Cancel(at=at, workflow_id=workflow_id)
    if kind == "terminate":
        return Terminate("again", at=at, workflow_id=workflow_id)
    return Signal("nudge", at=at, workflow_id=workflow_id)


def run_case(kind: str, state: str) -> WorkflowRun:
    """The recorded request ``kind`` for a workflow in ``state``, on durasim."""
    if state == "unknown":
        return durasim.execute(wf.Sleeper, 2.0, id="sleeper",
                               requests=[request(kind, UNKNOWN, 1.0)])
    seconds, ending = ENDINGS[state]
    return durasim.execute(wf.Sleeper, seconds, id="sleeper",
                           requests=[*ending, request(kind, None, LATE)])


CASES = [(kind, state) for state in ("unknown", *ENDINGS)
         for kind in ("cancel", "terminate", "signal")]


def test_the_recording_holds_every_case() -> None:
    assert sorted(RECORDED) == sorted(f"{kind}_{state}" for kind, state in CASES)


@pytest.mark.parametrize(("kind", "state"), CASES)
def test_durasim_refuses_what_temporal_refused(kind: str, state: str) -> None:
    recorded = RECORDED[f"{kind}_{state}"]
    run = run_case(kind, state)
    if recorded["raised"] is None:
        assert run.refused == []
        return
    (refusal,) = run.refused
    assert recorded["raised"] == "RPCError"
    assert (refusal.status, refusal.reason) == (recorded["status"], recorded["message"])
    assert refusal.workflow_id == (UNKNOWN if state == "unknown" else "sleeper")


@pytest.mark.parametrize("state", ENDINGS)
@pytest.mark.parametrize("kind", ["cancel", "terminate", "signal"])
def test_a_late_request_writes_nothing(kind: str, state: str) -> None:
    """Refused or (a cancellation) accepted, a request for a closed run adds no event."""
    seconds, ending = ENDINGS[state]
    alone = durasim.execute(wf.Sleeper, seconds, id="sleeper", requests=ending)
    assert run_case(kind, state).history.event_types() == alone.history.event_types()


def test_a_refusal_says_what_to_do_in_one_line() -> None:
    run = run_case("terminate", "unknown")
    (refusal,) = run.refused
    assert isinstance(refusal, DurasimError)
    assert isinstance(refusal.request, Terminate)
    text = str(refusal)
    assert "\n" not in text
    assert text == ("Terminate for workflow 'no-such-workflow' at 1 s was refused (NOT_FOUND: "
                    "workflow not found for ID: no-such-workflow): check workflow_id (a child "
                    "exists once its parent started it)")
    late = run_case("signal", "completed").refused[0]
    assert str(late).endswith("(NOT_FOUND: workflow execution already completed): "
                              "send it before the workflow closes")
    assert "refused=" in repr(run)


def test_a_retried_termination_that_ended_the_run_is_not_refused() -> None:
    """The server crashes right after writing the termination, before acknowledging it;
    the client sends it again to the restarted server, which finds the run closed by
    this very request (saved with the run) and acknowledges it."""
    run = durasim.execute(wf.Sleeper, 60.0, id="sleeper",
                          requests=[Terminate("stop", at=1.0)],
                          faults=durasim.Crash(node="server", after_events=6,
                                               restart_after=1.0))
    assert not run.unfired  # the crash happened, after WorkflowExecutionTerminated (6)
    assert run.status == "terminated"
    assert run.refused == []


def test_a_child_can_be_signalled_by_its_id() -> None:
    """Signal(workflow_id=) reaches another workflow, as Cancel and Terminate do."""
    @durasim.workflow
    async def Waiter(ctx: durasim.engine.WorkflowContext) -> str:
        args = await ctx.wait_signal("go")
        return str(args[0])

    @durasim.workflow
    async def Parent(ctx: durasim.engine.WorkflowContext) -> str:
        result: str = await ctx.start_child(Waiter, id="waiter")
        return result

    run = durasim.execute(Parent, id="parent",
                          requests=[Signal("go", "now", at=1.0, workflow_id="waiter")])
    assert (run.status, run.result, run.refused) == ("completed", "now", [])


@pytest.mark.parametrize("bad", [{"workflow_id": ""}, {"workflow_id": 3},
                                 {"workflow_id": "x", "with_start": True}])
def test_a_signal_for_no_workflow_is_refused_at_once(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="workflow"):
        Signal("go", **bad)


def test_request_refused_is_exported() -> None:
    assert durasim.engine.RequestRefused is RequestRefused
