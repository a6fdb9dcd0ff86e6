"""The workflow API: timers, signals, children, gather, retries, errors, logging."""

from __future__ import annotations

import pytest

import durasim
from durasim import (
    ActivityError,
    ApplicationError,
    Crash,
    FailActivity,
    RetryPolicy,
    Signal,
    activity,
    activity_info,
    workflow,
)
from durasim.engine import ChildWorkflowError

DAY = 24 * 3600.0


@activity
def charge(month: int) -> str:
    return f"charged month {month}"


@activity
def echo(value: object) -> object:
    return value


@activity
def always_fails() -> None:
    raise ApplicationError("no", "Nope")


@activity
def whoami() -> list[object]:
    info = activity_info()
    return [info.attempt, info.workflow_id, info.activity_id, info.idempotency_key]


def test_a_year_of_monthly_timers_takes_no_real_time() -> None:
    @workflow
    async def Subscription(ctx):  # type: ignore[no-untyped-def]
        for month in range(1, 13):
            await ctx.activity(charge, month)
            await ctx.sleep(30 * DAY)
        return ctx.now()

    run = durasim.execute(Subscription)
    assert run.status == "completed"
    assert run.result >= 360 * DAY
    assert run.history.event_types(compact=True).count("TimerFired") == 12


def test_signal_days_later_wakes_the_workflow() -> None:
    @workflow
    async def Approval(ctx, amount):  # type: ignore[no-untyped-def]
        (approver,) = await ctx.wait_signal("approve")
        return [approver, ctx.now() > 2 * DAY]

    run = durasim.execute(Approval, 5000, requests=[Signal("approve", "maria", at=3 * DAY)])
    assert run.result == ["maria", True]
    compact = run.history.event_types(compact=True)
    assert compact == ["WorkflowExecutionStarted", "WorkflowExecutionSignaled",
                       "WorkflowExecutionCompleted"]


def test_a_signal_before_the_wait_is_buffered() -> None:
    @workflow
    async def Late(ctx):  # type: ignore[no-untyped-def]
        await ctx.sleep(10)
        return await ctx.wait_signal("go")

    run = durasim.execute(Late, requests=[Signal("go", 1, 2, at=1.0)])
    assert run.result == [1, 2]


def test_gather_runs_activities_in_parallel_and_keeps_order() -> None:
    @workflow
    async def FanOut(ctx):  # type: ignore[no-untyped-def]
        return await ctx.gather(*(ctx.activity(echo, i) for i in range(5)))

    run = durasim.execute(FanOut)
    assert run.result == [0, 1, 2, 3, 4]
    types = run.history.event_types()
    first_done = types.index("ActivityTaskCompleted")
    assert types[:first_done].count("ActivityTaskScheduled") == 5  # all scheduled at once
    assert durasim.Replayer(workflows=[FanOut]).replay(run.history).finished


def test_gather_survives_a_worker_crash() -> None:
    @workflow
    async def FanOut2(ctx):  # type: ignore[no-untyped-def]
        return await ctx.gather(*(ctx.activity(echo, i) for i in range(4)))

    run = durasim.execute(FanOut2, faults=Crash(node="worker", after_events=12))
    assert run.result == [0, 1, 2, 3]


def test_retry_policy_exhausted_raises_activity_error_the_workflow_can_catch() -> None:
    @workflow
    async def Careful(ctx):  # type: ignore[no-untyped-def]
        try:
            await ctx.activity(always_fails, retry=RetryPolicy(maximum_attempts=3))
        except ActivityError as error:
            return [error.cause.type, error.retry_state]
        return "unreachable"

    run = durasim.execute(Careful)
    assert run.result == ["Nope", "RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED"]
    started = [e for e in run.history if e.event_type.value == "ActivityTaskStarted"]
    assert started[0].attributes["attempt"] == 3


def test_non_retryable_types_stop_retries() -> None:
    @workflow
    async def Strict(ctx):  # type: ignore[no-untyped-def]
        await ctx.activity(always_fails, retry=RetryPolicy(non_retryable_error_types=("Nope",)))

    run = durasim.execute(Strict)
    assert run.status == "failed"
    assert run.failure is not None and run.failure["cause"]["type"] == "Nope"
    with pytest.raises(durasim.errors.WorkflowFailed, match="Activity task failed"):
        run.raise_for_status()


def test_fail_activity_fault_and_backoff() -> None:
    @workflow
    async def Once(ctx):  # type: ignore[no-untyped-def]
        return await ctx.activity(whoami, retry=RetryPolicy(initial_interval=2.0))

    run = durasim.execute(Once, id="wf-1", faults=FailActivity("whoami", attempts=2))
    assert run.result == [3, "wf-1", "1", "wf-1/1"]
    started = next(e for e in run.history if e.event_type.value == "ActivityTaskStarted")
    assert started.time >= 2.0 + 4.0  # backoff 2 s then 4 s


def test_idempotency_key_is_stable_across_retries_and_crashes() -> None:
    @workflow
    async def Keys(ctx):  # type: ignore[no-untyped-def]
        return await ctx.activity(whoami)

    run = durasim.execute(Keys, id="k", faults=[Crash(at_step="whoami", when="after_effect")])
    assert run.result == [2, "k", "1", "k/1"]


def test_child_failure_reaches_the_parent() -> None:
    @workflow
    async def Child(ctx):  # type: ignore[no-untyped-def]
        raise ApplicationError("child gave up", "ChildBroke")

    @workflow
    async def Parent(ctx):  # type: ignore[no-untyped-def]
        try:
            await ctx.child(Child)
        except ChildWorkflowError as error:
            return [error.workflow_id, error.cause.type]
        return "unreachable"

    run = durasim.execute(Parent)
    assert run.result == ["Parent-child-1", "ChildBroke"]


def test_logger_is_silent_while_replaying() -> None:
    lines: list[str] = []

    @workflow
    async def Chatty(ctx):  # type: ignore[no-untyped-def]
        ctx.logger.info("step %s", 1)
        lines.append(f"replaying={ctx.is_replaying}")
        await ctx.activity(echo, 1)
        ctx.logger.info("step %s", 2)
        await ctx.activity(echo, 2)
        return "ok"

    run = durasim.execute(Chatty, faults=Crash(node="worker", after_events=11))
    assert run.status == "completed" and run.replays == 1
    assert "replaying=True" in lines and "replaying=False" in lines


def test_bad_arguments_are_refused_with_sentences() -> None:
    with pytest.raises(TypeError, match="async def"):
        workflow(lambda ctx: None)
    with pytest.raises(TypeError, match="not a workflow"):
        durasim.execute(charge)
    with pytest.raises(ValueError, match="maximum_attempts"):
        RetryPolicy(maximum_attempts=-1)
    with pytest.raises(ValueError, match="initial_interval"):
        RetryPolicy(initial_interval=0)
    with pytest.raises(ValueError, match="before time 0"):
        durasim.Signal("x", at=-1)
    with pytest.raises(durasim.DurasimError, match="inside a running activity"):
        activity_info()


def test_retry_policy_backoff_is_temporals() -> None:
    policy = RetryPolicy(initial_interval=1.0, backoff_coefficient=2.0)
    assert [policy.backoff(n) for n in (1, 2, 3, 8, 9)] == [1.0, 2.0, 4.0, 100.0, 100.0]
    assert policy.gives_up(5, None, False) is None
    assert RetryPolicy(maximum_attempts=5).gives_up(5, None, False) == "MaximumAttemptsReached"
