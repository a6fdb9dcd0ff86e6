"""The runtime alone: hand-written histories fed to a WorkflowInstance, Activations read.

No server, no worker, no simulation: each test writes the few events a workflow task
would see and checks what :meth:`WorkflowInstance.feed` says the code did — the commands
of a new task, the recorded commands a replay matched, a mismatch, a task failure.
"""

from __future__ import annotations

from typing import Any

import pytest

from durasim.engine import commands as C
from durasim.engine.definitions import activity, workflow, workflow_definition
from durasim.engine.failures import ActivityError, ApplicationError, CancelledError
from durasim.engine.features import UpdateRequest
from durasim.engine.history import EventType
from durasim.engine.runtime import WorkflowInstance
from tests.engine.histories import HistoryBuilder

E = EventType


@activity
def withdraw(account: str, amount: int) -> int:
    raise AssertionError("the runtime never runs an activity: the worker does")


@activity
def double(x: int) -> int:
    return 2 * x


@workflow
async def Pay(ctx: Any, amount: int) -> int:
    ctx.logger.info("withdrawing %s", amount)
    balance: int = await ctx.activity(withdraw, "alice", amount)
    ctx.logger.info("sleeping")
    await ctx.sleep(60)
    ctx.logger.info("done")
    return balance


def instance_of(fn: Any, *args: Any, track_lines: bool = False) -> WorkflowInstance:
    return WorkflowInstance(workflow_definition(fn), workflow_id="w1", run_id="r1",
                            args=list(args), track_lines=track_lines)


def pay_history() -> HistoryBuilder:
    """Pay(25) up to its last workflow task, which is in flight (the timer has fired)."""
    h = HistoryBuilder(25)
    h.task()                                           # 2, 3, 4
    scheduled = h.activity("withdraw", "alice", 25)    # 5
    h.activity_completed(scheduled, 75)                # 6, 7
    h.task()                                           # 8, 9, 10
    started = h.timer("1", 60.0)                       # 11
    h.at(60.0).timer_fired("1", started)               # 12
    h.task(completed=False)                            # 13, 14
    return h


def test_a_first_task_issues_new_commands() -> None:
    h = HistoryBuilder(25)
    h.task(completed=False)
    activation = instance_of(Pay, 25).feed(h.events)
    assert activation.ok and not activation.replaying and not activation.finished
    assert activation.events == tuple(h.events)
    assert activation.matches == ()
    (command,) = activation.commands
    assert isinstance(command, C.ScheduleActivity)
    assert (command.activity_type, command.input) == ("withdraw", ("alice", 25))


def test_a_sticky_instance_is_fed_only_what_is_new() -> None:
    h = pay_history()
    instance = instance_of(Pay, 25)
    first = instance.feed(h.events[:3])
    second = instance.feed(h.events[instance.last_event_id:9])
    assert [m.event_id for m in second.matches] == [5]
    assert second.matches[0].command == first.commands[0]
    assert second.commands == (C.StartTimer("1", 60.0),)
    assert instance.now == 0.0


def test_a_fresh_instance_replays_the_whole_history_then_runs_the_new_task() -> None:
    h = pay_history()
    instance = instance_of(Pay, 25)
    activation = instance.feed(h.events)
    assert [m.event_id for m in activation.matches] == [5, 11]
    assert [type(m.command) for m in activation.matches] == [C.ScheduleActivity, C.StartTimer]
    assert activation.commands == (C.CompleteWorkflow(75),)
    assert activation.finished and not activation.replaying
    assert instance.now == 60.0  # the new task's time, as recorded
    # the logger is silent while replaying: only the new task's line is written
    assert instance.logs == ["done"]


def test_a_history_of_completed_tasks_is_replay_only() -> None:
    h = pay_history()
    activation = instance_of(Pay, 25).feed(h.events[:10])
    assert activation.replaying and activation.ok
    assert activation.commands == ()
    assert [m.event_id for m in activation.matches] == [5]


def test_a_different_recorded_command_is_a_mismatch_naming_both() -> None:
    h = HistoryBuilder(25)
    h.task()
    h.activity("deposit", "bob", 25)
    h.task(completed=False)
    activation = instance_of(Pay, 25).feed(h.events)
    error = activation.mismatch
    assert error is not None and not activation.ok
    assert (error.workflow_id, error.event_id) == ("w1", 5)
    assert error.recorded == "ActivityTaskScheduled(deposit, ['bob', 25])"
    assert error.issued == "ScheduleActivityTask(withdraw, ['alice', 25])"
    assert str(error).startswith("[TMPRL1100] workflow 'w1': history event 5 is")
    assert activation.events[-1].event_id == 5  # feeding stopped where they disagreed


def test_a_command_the_history_never_recorded_is_a_mismatch() -> None:
    h = HistoryBuilder(25)
    h.task()
    h.task(completed=False)  # the first task recorded no command at all
    activation = instance_of(Pay, 25).feed(h.events)
    error = activation.mismatch
    assert error is not None and error.event_id == 5
    assert "WorkflowTaskScheduled, with no more commands recorded before it" in str(error)
    assert error.issued == "ScheduleActivityTask(withdraw, ['alice', 25])"


def test_input_that_does_not_fit_the_code_is_a_mismatch_at_event_1() -> None:
    h = HistoryBuilder(25, "extra")
    h.task(completed=False)
    error = instance_of(Pay, 25, "extra").feed(h.events).mismatch
    assert error is not None and error.event_id == 1
    assert "does not fit its parameters" in str(error)


@workflow
async def Buggy(ctx: Any) -> None:
    accounts: dict[str, int] = {}
    accounts["missing"]  # a bug: KeyError is not a workflow failure


def test_a_bug_fails_the_task_and_keeps_the_workflow_open() -> None:
    h = HistoryBuilder()
    h.task(completed=False)
    activation = instance_of(Buggy).feed(h.events)
    assert isinstance(activation.task_failure, KeyError)
    assert not activation.ok and not activation.finished
    assert activation.commands == ()


@workflow
async def Refuse(ctx: Any) -> None:
    raise ApplicationError("no such account", "UnknownAccount", non_retryable=True)


def test_an_application_error_fails_the_workflow() -> None:
    h = HistoryBuilder()
    h.task(completed=False)
    activation = instance_of(Refuse).feed(h.events)
    (command,) = activation.commands
    assert isinstance(command, C.FailWorkflow) and activation.finished and activation.ok
    assert command.failure["message"] == "no such account"
    assert command.failure["type"] == "UnknownAccount"


@workflow
async def Careful(ctx: Any, amount: int) -> str:
    try:
        await ctx.activity(withdraw, "alice", amount)
    except ActivityError as error:
        return f"{error.activity}: {error.cause.message}"
    return "paid"


def test_a_failed_activity_raises_activity_error_in_the_code() -> None:
    h = HistoryBuilder(500)
    h.task()
    scheduled = h.activity("withdraw", "alice", 500)
    h.activity_failed(scheduled, "insufficient funds", "InsufficientFunds")
    h.task(completed=False)
    activation = instance_of(Careful, 500).feed(h.events)
    assert activation.commands == (C.CompleteWorkflow("withdraw: insufficient funds"),)


@workflow
async def Local(ctx: Any, x: int) -> int:
    result: int = await ctx.local_activity(double, x)
    return result


def test_a_local_activity_is_run_by_the_worker_within_the_task() -> None:
    h = HistoryBuilder(21, workflow_type="Local")
    h.task(completed=False)
    instance = instance_of(Local, 21)
    waiting = instance.feed(h.events)
    (request,) = waiting.local_activities
    assert waiting.commands == () and request.definition.name == "double"
    assert request.args == (21,)
    instance.local_activities.finish(request, result=42, now=0.5)
    done = instance.resume()
    marker, complete = done.commands
    assert isinstance(marker, C.LocalActivityMarker) and marker.details["result"] == 42
    assert complete == C.CompleteWorkflow(42)
    assert done.local_activities == ()


def test_a_replayed_local_activity_reads_its_marker_and_does_not_run() -> None:
    h = HistoryBuilder(21, workflow_type="Local")
    h.task()
    h.add(E.MARKER_RECORDED, markerName="core_local_activity", details={
        "data": {"seq": 1, "attempt": 1, "activity_type": "double"}, "result": 42})
    h.completed(42)
    activation = instance_of(Local, 21).feed(h.events)
    assert activation.local_activities == () and activation.ok
    assert [m.event_id for m in activation.matches] == [5, 6]


@workflow
async def Account(ctx: Any, balance: int) -> int:
    state = {"balance": balance}

    def positive(amount: int) -> None:
        if amount <= 0:
            raise ValueError("deposit a positive amount")

    @ctx.update(validator=positive)
    def deposit(amount: int) -> int:
        state["balance"] += amount
        return state["balance"]

    await ctx.wait_condition(lambda: state["balance"] >= 200)
    return state["balance"]


def test_updates_are_validated_accepted_and_answered_in_the_task() -> None:
    h = HistoryBuilder(100, workflow_type="Account")
    h.task(completed=False)
    activation = instance_of(Account, 100).feed(h.events, updates=[
        UpdateRequest("u1", "deposit", (50,)), UpdateRequest("u2", "deposit", (-5,))])
    assert activation.commands == (C.AcceptUpdate("u1", "deposit", (50,)),
                                   C.CompleteUpdate("u1", 150))
    ((refused_id, error),) = activation.update_rejections
    assert refused_id == "u2" and str(error) == "deposit a positive amount"


def test_a_replay_delivers_accepted_updates_again_without_validating() -> None:
    h = HistoryBuilder(100, workflow_type="Account")
    h.task()
    h.add(E.WORKFLOW_EXECUTION_UPDATE_ACCEPTED, protocolInstanceId="u1", acceptedRequest={
        "meta": {"updateId": "u1"}, "input": {"name": "deposit", "args": [100]}})
    h.add(E.WORKFLOW_EXECUTION_UPDATE_COMPLETED, meta={"updateId": "u1"},
          outcome={"success": [200]})
    h.completed(200)
    activation = instance_of(Account, 100).feed(h.events)
    assert activation.ok and activation.finished
    assert [m.event_id for m in activation.matches] == [5, 6, 7]


@workflow
async def Approval(ctx: Any) -> str:
    (approver,) = await ctx.wait_signal("approve")
    return f"approved by {approver}"


def test_a_signal_in_the_history_wakes_the_code_waiting_for_it() -> None:
    h = HistoryBuilder(workflow_type="Approval")
    h.task()
    h.at(3600.0).add(E.WORKFLOW_EXECUTION_SIGNALED, signalName="approve", input=["maria"])
    h.task(completed=False)
    activation = instance_of(Approval).feed(h.events)
    assert activation.commands == (C.CompleteWorkflow("approved by maria"),)


def test_a_cancel_request_cancels_what_the_code_awaits_and_the_workflow() -> None:
    h = HistoryBuilder(25)
    h.task()
    scheduled = h.activity("withdraw", "alice", 25)
    h.add(E.WORKFLOW_EXECUTION_CANCEL_REQUESTED)
    h.task(completed=False)
    activation = instance_of(Pay, 25).feed(h.events)
    assert activation.commands == (C.RequestCancelActivity(scheduled), C.CancelWorkflow())


@workflow
async def Cancellable(ctx: Any) -> str:
    try:
        await ctx.sleep(3600)
    except CancelledError:
        return f"cancel requested: {ctx.is_cancel_requested}"
    return "slept"


def test_code_that_catches_the_cancel_sees_it_was_requested() -> None:
    h = HistoryBuilder(workflow_type="Cancellable")
    h.task()
    h.timer("1", 3600.0)
    h.add(E.WORKFLOW_EXECUTION_CANCEL_REQUESTED)
    h.task(completed=False)
    activation = instance_of(Cancellable).feed(h.events)
    assert activation.commands == (C.CancelTimer("1"),
                                   C.CompleteWorkflow("cancel requested: True"))


def test_tracked_lines_point_into_the_workflow_code() -> None:
    h = pay_history()
    activation = instance_of(Pay, 25, track_lines=True).feed(h.events[:10])
    (match,) = activation.matches
    assert match.line is not None and match.line.function == "Pay"
    assert activation.line is not None and activation.line.function == "Pay"
    source = Pay.__code__.co_firstlineno
    assert match.line.line == source + 3  # balance = await ctx.activity(...)
    assert activation.line.line == source + 5  # await ctx.sleep(60)


@pytest.mark.parametrize("upto", [3, 9, 14])
def test_random_and_uuid_replay_identically(upto: int) -> None:
    h = pay_history()
    first, second = instance_of(Pay, 25), instance_of(Pay, 25)
    first.feed(h.events[:upto])
    second.feed(h.events[:upto])
    assert first.ctx.random() == second.ctx.random()
    assert first.ctx.uuid() == second.ctx.uuid()
