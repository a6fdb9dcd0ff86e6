"""A parent's close applies each running child's parent close policy, as Temporal's does.

The ground truth is tests/fixtures/recorded/parent_close_*.json: the parent's and the
child's history of each case, written by a real dev server (README.md there). Before this
was enforced, a child left running by its parent ran on alone whatever its policy said.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import durasim
from durasim import Crash, History
from durasim.engine import Cancel, EventType, HistoryEvent, WorkflowRun
from durasim.engine import commands as C
from durasim.engine.parent_close import TRANSFER_DELAY, recorded_policy
from tests.engine.server_rig import ServerRig
from tests.workflows import recorded as wf

E = EventType
RECORDED = Path(__file__).parent.parent / "fixtures" / "recorded"


def load(name: str) -> History:
    return History.from_temporal_json(RECORDED / f"{name}.json")


def initiated(history: History) -> dict[str, Any]:
    (event,) = [e for e in history if e.event_type is E.START_CHILD_WORKFLOW_EXECUTION_INITIATED]
    return event.attributes


def child_history(run: WorkflowRun) -> History:
    (runs,) = run.children.values()
    return runs[-1]


def only(history: History, event_type: EventType) -> HistoryEvent:
    (event,) = [e for e in history if e.event_type is event_type]
    return event


CASES = {  # recording -> (workflow, args, execute options, the child's status)
    "parent_close_terminate": (wf.LeaveChild, ("TERMINATE", 60.0), {}, "terminated"),
    "parent_close_request_cancel": (wf.LeaveChild, ("REQUEST_CANCEL", 60.0), {}, "canceled"),
    "parent_close_abandon": (wf.LeaveChild, ("ABANDON", 2.0), {}, "completed"),
    "parent_close_cancelled": (wf.WaitBesideChild, (60.0,), {"requests": [Cancel(at=1.0)]},
                               "terminated"),
    "parent_close_continue_as_new": (wf.ContinueBesideChild, (60.0,), {}, "terminated"),
}


def run_case(name: str, **options: Any) -> WorkflowRun:
    workflow, args, defaults, _ = CASES[name]
    return durasim.execute(workflow, *args, id=name, **{**defaults, **options})


@pytest.mark.parametrize("name", CASES)
def test_parent_and_child_histories_are_the_recorded_ones(name: str) -> None:
    run = run_case(name)
    parent, child = run.histories[0], child_history(run)
    assert parent.event_types() == load(f"{name}_parent").event_types()
    assert child.event_types() == load(f"{name}_child").event_types()
    assert (initiated(parent)["parentClosePolicy"]
            == initiated(load(f"{name}_parent"))["parentClosePolicy"])
    assert run.status == ("canceled" if name == "parent_close_cancelled" else "completed")


@pytest.mark.parametrize("name", ["parent_close_terminate", "parent_close_cancelled",
                                  "parent_close_continue_as_new"])
def test_the_termination_says_what_temporal_says(name: str) -> None:
    ours = child_history(run_case(name)).events[-1]
    real = load(f"{name}_child").events[-1]
    assert ours.event_type is real.event_type is E.WORKFLOW_EXECUTION_TERMINATED
    assert ours.attributes == real.attributes == {"reason": "by parent close policy",
                                                  "identity": "history-service"}


def test_the_cancel_request_names_the_parent_as_temporal_does() -> None:
    run = run_case("parent_close_request_cancel")
    ours = only(child_history(run), E.WORKFLOW_EXECUTION_CANCEL_REQUESTED).attributes
    real = only(load("parent_close_request_cancel_child"),
                E.WORKFLOW_EXECUTION_CANCEL_REQUESTED).attributes
    assert ours.keys() == real.keys() == {"externalWorkflowExecution", "identity"}
    assert ours["identity"] == real["identity"] == "history-service"
    assert real["externalWorkflowExecution"]["workflowId"] == "parent_close_request_cancel"
    assert ours["externalWorkflowExecution"] == {"workflowId": run.workflow_id,
                                                 "runId": run.history.run_id}


def at(run: WorkflowRun, history: History, event: HistoryEvent) -> float:
    """When ``event`` of ``history`` happened on the simulation's clock (a history counts
    from its own run's start)."""
    (record,) = [r for r in run.store.runs(history.workflow_id) if r.run_id == history.run_id]
    return float(record.state["started_at"]) + event.time


def test_a_child_does_not_outlive_its_parent() -> None:
    """The old bug: the child of a completed parent slept its 60 s and completed."""
    run = run_case("parent_close_terminate")
    child = child_history(run)
    assert E.TIMER_FIRED not in [e.event_type for e in child]
    assert child.events[-1].event_type is E.WORKFLOW_EXECUTION_TERMINATED
    parent_closed = at(run, run.history, run.history.events[-1])
    assert at(run, child, child.events[-1]) == pytest.approx(parent_closed + TRANSFER_DELAY)


@pytest.mark.parametrize("name", CASES)
def test_each_child_ends_as_its_policy_says(name: str) -> None:
    closing = child_history(run_case(name)).events[-1].event_type
    assert closing.value.removeprefix("WorkflowExecution").lower() == CASES[name][3]


def applied_after_the_restart(run: WorkflowRun, name: str, crashed_at: float) -> None:
    """The child ended as its policy says, the policy was applied once, after the
    server's restart, and the child's history is a valid one."""
    child = child_history(run)
    assert child.events[-1].event_type.value.removeprefix("WorkflowExecution").lower() == (
        CASES[name][3])
    (policy_event,) = [e for e in child if e.event_type in (
        E.WORKFLOW_EXECUTION_TERMINATED, E.WORKFLOW_EXECUTION_CANCEL_REQUESTED)]
    assert at(run, child, policy_event) >= crashed_at + 1.0
    assert History.from_temporal_json(child.to_temporal_json()) == child


@pytest.mark.parametrize("name", ["parent_close_terminate", "parent_close_request_cancel"])
def test_the_policy_survives_a_server_crash_right_after_the_parent_closed(name: str) -> None:
    """The crash hits as the parent's closing event (its 10th) is committed: the server
    dies before it even learns the run closed, so only its restart can apply the policy."""
    run = run_case(name, faults=Crash(node="server", after_events=10, restart_after=1.0))
    assert not run.unfired
    assert run.history.event_types() == load(f"{name}_parent").event_types()
    applied_after_the_restart(run, name, crashed_at=at(run, run.history, run.history.events[-1]))


def test_a_crash_between_the_close_and_the_policy_delays_it_but_does_not_lose_it() -> None:
    crash_free = run_case("parent_close_terminate")
    closed = at(crash_free, crash_free.history, crash_free.history.events[-1])
    crash_at = closed + TRANSFER_DELAY / 2
    run = run_case("parent_close_terminate",
                   faults=Crash(node="server", at_time=crash_at, restart_after=1.0))
    assert not run.unfired
    assert at(run, run.history, run.history.events[-1]) == closed  # the same run so far
    applied_after_the_restart(run, "parent_close_terminate", crashed_at=crash_at)


def test_a_terminated_child_takes_its_own_children_with_it() -> None:
    @durasim.workflow
    async def Middle(ctx: Any) -> str:
        await ctx.start_child(wf.Sleeper, 60.0, id="grandchild").started
        await ctx.sleep(60.0)
        return "middle done"

    @durasim.workflow
    async def Top(ctx: Any) -> str:
        await ctx.start_child(Middle, id="middle").started
        await ctx.sleep(1.0)
        return "top done"

    run = durasim.execute(Top)
    for child_id in ("middle", "grandchild"):
        assert run.children[child_id][-1].events[-1].event_type is (
            E.WORKFLOW_EXECUTION_TERMINATED)


def test_a_workflow_task_in_flight_is_failed_first_as_recorded() -> None:
    """The child's worker still holds its first task when the parent closes (the worker
    here is played by hand: it never answers until told)."""
    rig = ServerRig().boot()
    parent_id, _ = rig.start(workflow_type="LeaveChild")
    rig.worker.complete_task(rig.next("WorkflowTask"), C.StartChild(
        "child", "SlowStart", (60.0,), "durasim"))
    first, second = rig.next("WorkflowTask"), rig.next("WorkflowTask")
    child_task, parent_task = ((first, second) if first["workflow_id"] == "child"
                               else (second, first))
    rig.worker.complete_task(parent_task, C.CompleteWorkflow("parent done"))
    rig.wait(1.0)
    (child,) = rig.store.runs("child")
    real = load("parent_close_task_in_flight_child")
    assert [e.event_type for e in child.events] == real.event_types()
    ours, theirs = child.events[3].attributes, real.events[3].attributes
    assert ours == theirs == {"scheduledEventId": 2, "startedEventId": 3,
                              "cause": "WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND",
                              "identity": "history-service"}
    rig.worker.complete_task(child_task, C.StartTimer("1", 60.0))  # too late: refused
    rig.wait(1.0)
    assert [e.event_type for e in rig.store.runs("child")[0].events] == real.event_types()
    assert rig.store.runs(parent_id)[0].events[-1].event_type is E.WORKFLOW_EXECUTION_COMPLETED


@pytest.mark.parametrize("name", ["parent_close_terminate", "parent_close_request_cancel",
                                  "parent_close_abandon", "parent_close_continue_as_new"])
def test_the_recorded_parents_replay_against_the_durasim_workflows(name: str) -> None:
    workflow = CASES[name][0]
    durasim.Replayer(workflows=[workflow]).replay(load(f"{name}_parent"))


def test_an_unknown_policy_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="'terminate', 'request_cancel', 'abandon'"):
        recorded_policy("TERMINATE")


def test_a_speculative_task_in_flight_is_written_then_failed() -> None:
    """An update's task leaves no trace until it counts; terminating the run makes it
    count, as Temporal's TerminateWorkflow does ("Failing speculative WT creates 3 events:
    WTScheduled, WTStarted, and WTFailed")."""
    rig = ServerRig().boot()
    rig.start(workflow_type="LeaveChild")
    rig.worker.complete_task(rig.next("WorkflowTask"), C.StartChild(
        "child", "Sleeper", (60.0,), "durasim"))
    first, second = rig.next("WorkflowTask"), rig.next("WorkflowTask")
    child_task, parent_task = ((first, second) if first["workflow_id"] == "child"
                               else (second, first))
    rig.worker.complete_task(child_task, C.StartTimer("1", 60.0))
    rig.wait(1.0)
    rig.net.send("worker", "server", "Update", {"workflow_id": "child", "request_id": "u1",
                                                "name": "set", "args": [1], "seq": 1})
    assert rig.next("WorkflowTask")["speculative"]
    rig.worker.complete_task(parent_task, C.CompleteWorkflow("parent done"))
    rig.wait(1.0)
    (child,) = rig.store.runs("child")
    assert [e.event_type for e in child.events][-5:] == [
        E.TIMER_STARTED, E.WORKFLOW_TASK_SCHEDULED, E.WORKFLOW_TASK_STARTED,
        E.WORKFLOW_TASK_FAILED, E.WORKFLOW_EXECUTION_TERMINATED]
    failed = child.events[-2].attributes
    assert (failed["scheduledEventId"], failed["startedEventId"]) == (6, 7)
