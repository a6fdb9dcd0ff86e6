"""Commands alone: which recorded event each one matches, and how errors name them.

:meth:`Command.matches` is the determinism rule in code: these tests hold each kind of
command against the events that record it, and against the ones that must not match.
"""

from __future__ import annotations

from typing import Any

import pytest

from durasim.engine import commands as C
from durasim.engine.history import EventType, HistoryEvent

E = EventType


def event(event_type: EventType, **attributes: Any) -> HistoryEvent:
    return HistoryEvent(5, event_type, 0.0, attributes)


WITHDRAW = C.ScheduleActivity(activity_id="1", activity_type="withdraw", input=("alice", 25),
                              task_queue="durasim", start_to_close=10.0, schedule_to_close=0.0,
                              retry_policy={"maximumAttempts": 0})


def test_an_activity_matches_by_type_and_input_not_by_timeouts() -> None:
    recorded = event(E.ACTIVITY_TASK_SCHEDULED, **WITHDRAW.attributes())
    assert WITHDRAW.matches(recorded)
    assert WITHDRAW.matches(event(E.ACTIVITY_TASK_SCHEDULED, activityType="withdraw",
                                  input=["alice", 25], startToCloseTimeout=99.0))
    assert not WITHDRAW.matches(event(E.ACTIVITY_TASK_SCHEDULED, activityType="withdraw",
                                      input=["alice", 26]))
    assert not WITHDRAW.matches(event(E.ACTIVITY_TASK_SCHEDULED, activityType="deposit",
                                      input=["alice", 25]))
    assert not WITHDRAW.matches(event(E.TIMER_STARTED, activityType="withdraw",
                                      input=["alice", 25]))


def test_an_activity_records_its_options_and_heartbeat_only_when_set() -> None:
    attributes = WITHDRAW.attributes()
    assert attributes == {"activityId": "1", "activityType": "withdraw", "taskQueue": "durasim",
                          "input": ["alice", 25], "startToCloseTimeout": 10.0,
                          "retryPolicy": {"maximumAttempts": 0},
                          "scheduleToCloseTimeout": 0.0}
    beating = C.ScheduleActivity("2", "poll", (), "durasim", 60.0, 0.0, {},
                                 heartbeat_timeout=5.0)
    assert beating.attributes()["heartbeatTimeout"] == 5.0


def test_a_timer_matches_its_duration_to_the_microsecond() -> None:
    timer = C.StartTimer("1", 60.0)
    assert timer.matches(event(E.TIMER_STARTED, timerId="7", startToFireTimeout=60.0000001))
    assert not timer.matches(event(E.TIMER_STARTED, timerId="1", startToFireTimeout=61.0))
    assert C.CancelTimer("1").matches(event(E.TIMER_CANCELED, timerId=1))
    assert not C.CancelTimer("1").matches(event(E.TIMER_CANCELED, timerId="2"))


def test_markers_match_by_name_and_details_patches_by_change_id_alone() -> None:
    marker = C.RecordMarker("note", {"x": 1})
    assert marker.matches(event(E.MARKER_RECORDED, markerName="note", details={"x": 1}))
    assert not marker.matches(event(E.MARKER_RECORDED, markerName="note", details={"x": 2}))
    patch = C.PatchMarker("core_patch", {"patch-data": {"id": "fee", "deprecated": True}})
    recorded = event(E.MARKER_RECORDED, markerName="core_patch",
                     details={"patch-data": {"id": "fee", "deprecated": False}})
    assert patch.matches(recorded)  # deprecating a patch still replays old histories
    assert not patch.matches(event(E.MARKER_RECORDED, markerName="core_patch",
                                   details={"patch-data": {"id": "other"}}))


def test_a_local_activity_marker_matches_by_sequence_and_type_not_times() -> None:
    mine = C.LocalActivityMarker("core_local_activity", {
        "data": {"seq": 2, "activity_type": "double", "complete_time": 9.0}, "result": 4})
    assert mine.matches(event(E.MARKER_RECORDED, markerName="core_local_activity", details={
        "data": {"seq": 2, "activity_type": "double", "complete_time": 1.0}, "result": 4}))
    assert not mine.matches(event(E.MARKER_RECORDED, markerName="core_local_activity",
                                  details={"data": {"seq": 3, "activity_type": "double"}}))
    assert mine.describe() == "RecordMarker(core_local_activity, double #2)"


def test_a_child_and_continue_as_new_match_by_type_and_input() -> None:
    child = C.StartChild("pay-1", "PayEmployee", ("dave", 10), "durasim")
    assert child.matches(event(E.START_CHILD_WORKFLOW_EXECUTION_INITIATED,
                               workflowId="another-id", workflowType="PayEmployee",
                               input=["dave", 10]))
    assert not child.matches(event(E.START_CHILD_WORKFLOW_EXECUTION_INITIATED,
                                   workflowType="PayEmployee", input=["erin", 10]))
    again = C.ContinueAsNew("Subscription", "durasim", (2,))
    assert again.matches(event(E.WORKFLOW_EXECUTION_CONTINUED_AS_NEW, input=[2]))
    assert not again.matches(event(E.WORKFLOW_EXECUTION_CONTINUED_AS_NEW, input=[3]))


def test_closing_commands_close_the_workflow_and_match_their_result() -> None:
    assert C.CompleteWorkflow(75).matches(event(E.WORKFLOW_EXECUTION_COMPLETED, result=75))
    assert not C.CompleteWorkflow(75).matches(event(E.WORKFLOW_EXECUTION_COMPLETED, result=76))
    assert C.CancelWorkflow().matches(event(E.WORKFLOW_EXECUTION_CANCELED))
    closing = {c for c in C.COMMAND_CLASSES if c.closes_workflow}
    assert closing == {C.CompleteWorkflow, C.FailWorkflow, C.CancelWorkflow, C.ContinueAsNew}


def test_updates_match_by_update_id() -> None:
    accept = C.AcceptUpdate("u1", "deposit", (50,))
    accepted = event(E.WORKFLOW_EXECUTION_UPDATE_ACCEPTED, **accept.attributes())
    assert C.update_id_of(accepted) == "u1" and accept.matches(accepted)
    complete = C.CompleteUpdate("u1", 150)
    assert complete.attributes()["outcome"] == {"success": [150]}
    completed = event(E.WORKFLOW_EXECUTION_UPDATE_COMPLETED, **complete.attributes())
    assert complete.matches(completed) and not C.CompleteUpdate("u2").matches(completed)


@pytest.mark.parametrize(("command", "text"), [
    (WITHDRAW, "ScheduleActivityTask(withdraw, ['alice', 25])"),
    (C.StartTimer("1", 60.0), "StartTimer(60.0)"),
    (C.CancelTimer("1"), "CancelTimer(timer 1)"),
    (C.RequestCancelActivity(5), "RequestCancelActivityTask(event 5)"),
    (C.StartChild("c", "PayEmployee", ("dave",), "q"), "StartChildWorkflowExecution("
                                                        "PayEmployee, ['dave'])"),
    (C.CompleteWorkflow("ok"), "CompleteWorkflowExecution('ok')"),
    (C.FailWorkflow({"message": "boom"}), "FailWorkflowExecution('boom')"),
    (C.CancelWorkflow(), "CancelWorkflowExecution()"),
    (C.ContinueAsNew("S", "q", (2,)), "ContinueAsNewWorkflowExecution([2])"),
])
def test_describe_names_the_command_as_errors_show_it(command: C.Command, text: str) -> None:
    assert command.describe() == text


@pytest.mark.parametrize("command", [
    WITHDRAW, C.StartTimer("1", 60.0), C.StartChild("c", "PayEmployee", ("dave",), "q"),
    C.CompleteWorkflow("ok"), C.RequestCancelActivity(5), C.CancelTimer("1"),
])
def test_an_event_is_described_in_the_words_of_its_command(command: C.Command) -> None:
    """A mismatch message puts the two side by side: the keys must read the same."""
    recorded = event(command.event_type, **command.attributes())
    assert C.describe_event(recorded) == f"{command.event_type.value}({command.key_text()})"


def test_every_command_event_type_is_known_and_no_other() -> None:
    assert {c.event_type for c in C.COMMAND_CLASSES} == C.COMMAND_EVENTS
    assert E.ACTIVITY_TASK_COMPLETED not in C.COMMAND_EVENTS  # the server's, not the code's
    assert E.WORKFLOW_TASK_COMPLETED not in C.COMMAND_EVENTS
