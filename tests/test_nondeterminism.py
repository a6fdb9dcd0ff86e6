"""Replaying changed code against a recorded history: each kind of drift is caught, and
the error names the event, what was recorded and what the code issued."""

from __future__ import annotations

import random

import pytest

import durasim
from durasim import Replayer, workflow
from durasim.errors import NondeterminismError
from tests.workflows import bank
from tests.workflows.bank import (
    BankTransfer,
    deposit,
    fraud_check,
    notify,
    record_ledger,
    validate,
    withdraw,
)

ARGS = ("alice", "bob", 25)


@pytest.fixture(scope="module")
def history() -> durasim.History:
    bank.reset()
    run = durasim.execute(BankTransfer, *ARGS)
    assert run.status == "completed"
    return run.history


def replay_as(fn: object, history: durasim.History) -> NondeterminismError:
    with pytest.raises(NondeterminismError) as caught:
        Replayer(workflows=[fn]).replay(history)
    return caught.value


def test_the_unchanged_workflow_replays_cleanly(history: durasim.History) -> None:
    result = Replayer(workflows=[BankTransfer]).replay(history)
    assert result.finished
    assert result.command_kinds == ["ScheduleActivityTask"] * 6 + ["CompleteWorkflowExecution"]


def test_reordered_activities(history: durasim.History) -> None:
    @workflow(name="BankTransfer")
    async def reordered(ctx, source, target, amount):  # type: ignore[no-untyped-def]
        await ctx.activity(validate, source, target, amount)
        await ctx.activity(fraud_check, source, amount)
        await ctx.activity(deposit, target, amount)  # deposit before withdraw
        await ctx.activity(withdraw, source, amount)
        await ctx.activity(record_ledger, source, target, amount)
        await ctx.activity(notify, target)
        return "done"

    error = replay_as(reordered, history)
    assert error.event_id == 17
    assert "history event 17 is ActivityTaskScheduled(withdraw" in str(error)
    assert "the code issued ScheduleActivityTask(deposit" in str(error)


def test_added_timer(history: durasim.History) -> None:
    @workflow(name="BankTransfer")
    async def with_timer(ctx, source, target, amount):  # type: ignore[no-untyped-def]
        await ctx.activity(validate, source, target, amount)
        await ctx.sleep(10)
        await ctx.activity(fraud_check, source, amount)
        return "done"

    error = replay_as(with_timer, history)
    assert error.event_id == 11
    assert "but the code issued StartTimer(10.0)" in str(error)
    assert "ActivityTaskScheduled(fraud_check" in str(error)


def test_removed_activity(history: durasim.History) -> None:
    @workflow(name="BankTransfer")
    async def no_fraud_check(ctx, source, target, amount):  # type: ignore[no-untyped-def]
        await ctx.activity(validate, source, target, amount)
        await ctx.activity(withdraw, source, amount)
        return "done"

    error = replay_as(no_fraud_check, history)
    assert error.event_id == 11
    assert "ActivityTaskScheduled(fraud_check" in error.recorded
    assert "ScheduleActivityTask(withdraw" in error.issued


def test_changed_argument(history: durasim.History) -> None:
    @workflow(name="BankTransfer")
    async def double_amount(ctx, source, target, amount):  # type: ignore[no-untyped-def]
        await ctx.activity(validate, source, target, amount)
        await ctx.activity(fraud_check, source, amount)
        await ctx.activity(withdraw, source, amount * 2)
        return "done"

    error = replay_as(double_amount, history)
    assert error.event_id == 17
    assert "['alice', 25]" in error.recorded and "['alice', 50]" in error.issued


def test_global_random_instead_of_ctx_random() -> None:
    @workflow
    async def Lottery(ctx):  # type: ignore[no-untyped-def]
        prize = int(random.random() * 1_000_000)  # the bug: not ctx.random()
        await ctx.activity(deposit, "bob", prize)
        return prize

    bank.reset()
    random.seed(1)
    run = durasim.execute(Lottery)
    random.seed(2)  # a different process, a different global generator
    error = replay_as(Lottery, run.history)
    assert error.event_id == 5
    assert "ActivityTaskScheduled(deposit" in str(error)


def test_ctx_random_replays_identically() -> None:
    @workflow
    async def FairLottery(ctx):  # type: ignore[no-untyped-def]
        prize = int(ctx.random() * 1_000_000)
        ticket = ctx.uuid()
        await ctx.activity(deposit, "bob", prize)
        return [prize, ticket]

    bank.reset()
    run = durasim.execute(FairLottery)
    result = Replayer(workflows=[FairLottery]).replay(run.history)
    assert result.finished


def test_extra_activity_at_the_end(history: durasim.History) -> None:
    @workflow(name="BankTransfer")
    async def extra(ctx, source, target, amount):  # type: ignore[no-untyped-def]
        await ctx.activity(validate, source, target, amount)
        await ctx.activity(fraud_check, source, amount)
        await ctx.activity(withdraw, source, amount)
        await ctx.activity(record_ledger, source, target, amount)
        await ctx.activity(deposit, target, amount)
        await ctx.activity(notify, target)
        await ctx.activity(notify, source)
        return "done"

    error = replay_as(extra, history)
    assert "WorkflowExecutionCompleted" in error.recorded
    assert "ScheduleActivityTask(notify, ['alice'])" in error.issued


def test_patched_takes_the_old_path_on_old_histories_and_the_new_path_on_new(
        history: durasim.History) -> None:
    @workflow(name="BankTransfer")
    async def patched_transfer(ctx, source, target, amount):  # type: ignore[no-untyped-def]
        await ctx.activity(validate, source, target, amount)
        if ctx.patched("skip-fraud-check"):
            pass  # the new code no longer runs the fraud check
        else:
            await ctx.activity(fraud_check, source, amount)
        await ctx.activity(withdraw, source, amount)
        await ctx.activity(record_ledger, source, target, amount)
        await ctx.activity(deposit, target, amount)
        await ctx.activity(notify, target)
        return "done"

    assert Replayer(workflows=[patched_transfer]).replay(history).finished  # old history
    bank.reset()
    new = durasim.execute(patched_transfer, *ARGS)
    assert "MarkerRecorded" in new.history.event_types()
    assert "fraud_check" not in str(new.history.events)
    assert Replayer(workflows=[patched_transfer]).replay(new.history).finished


def test_nondeterminism_during_execution_stops_the_run() -> None:
    flip = {"value": False}

    @workflow
    async def Flaky(ctx):  # type: ignore[no-untyped-def]
        await ctx.activity(validate, "a", "b", 1)
        if flip["value"]:  # code "deployed" differently after the crash
            await ctx.sleep(5)
        flip["value"] = True
        await ctx.activity(notify, "a")
        return "done"

    run = durasim.execute(Flaky, faults=durasim.Crash(node="worker", after_events=11))
    assert run.status == "nondeterministic"
    assert isinstance(run.error, NondeterminismError)
    assert "WorkflowTaskFailed" in run.history.event_types()
