"""The recorded workflows, written for durasim (see tests/fixtures/recorded/README.md)."""

from __future__ import annotations

from typing import Any

import durasim
from durasim import ActivityError, ApplicationError, RetryPolicy, activity, activity_info, workflow
from durasim.engine import activity_sleep


@activity
def withdraw(account: str, amount: int) -> str:
    if amount > 1000:
        raise ApplicationError("insufficient funds", type="InsufficientFunds",
                               non_retryable=True)
    return f"withdrew {amount} from {account}"


@activity
def deposit(account: str, amount: int) -> str:
    if account == "carol":
        raise ApplicationError("account closed", type="AccountClosed", non_retryable=True)
    return f"deposited {amount} into {account}"


@activity
def notify(account: str) -> str:
    return f"notified {account}"


@activity
def refund(account: str, amount: int) -> str:
    return f"refunded {amount} to {account}"


@activity
def flaky() -> str:
    attempt = activity_info().attempt
    if attempt <= 2:
        raise ApplicationError(f"flaky failure on attempt {attempt}", type="Flaky")
    return f"succeeded on attempt {attempt}"


@activity
def pay(i: int) -> int:
    return 100 * i


@activity
def tick(n: int) -> int:
    return n


@activity
async def hang_then_succeed() -> str:
    if activity_info().attempt == 1:
        await activity_sleep(7.0)  # past its 5 s start-to-close timeout
    return f"succeeded on attempt {activity_info().attempt}"


@workflow
async def Transfer(ctx: durasim.engine.WorkflowContext, amount: int) -> str:
    await ctx.activity(withdraw, "alice", amount, start_to_close=5)
    await ctx.activity(deposit, "bob", amount, start_to_close=5)
    await ctx.activity(notify, "bob", start_to_close=5)
    return "ok"


@workflow
async def TransferWithTimer(ctx: durasim.engine.WorkflowContext, amount: int) -> str:
    await ctx.sleep(2)
    await ctx.activity(withdraw, "alice", amount, start_to_close=5)
    await ctx.activity(deposit, "bob", amount, start_to_close=5)
    return "ok"


@workflow
async def RetryThenSuccess(ctx: durasim.engine.WorkflowContext) -> str:
    result: str = await ctx.activity(flaky, start_to_close=5,
                                     retry=RetryPolicy(initial_interval=1, maximum_attempts=5))
    return result


@workflow
async def RetryExhausted(ctx: durasim.engine.WorkflowContext) -> str:
    result: str = await ctx.activity(flaky, start_to_close=5,
                                     retry=RetryPolicy(initial_interval=1, maximum_attempts=2))
    return result


@workflow
async def SagaTransfer(ctx: durasim.engine.WorkflowContext, amount: int) -> str:
    await ctx.activity(withdraw, "alice", amount, start_to_close=5)
    try:
        await ctx.activity(deposit, "carol", amount, start_to_close=5)
    except ActivityError:
        await ctx.activity(refund, "alice", amount, start_to_close=5)
        return "refunded"
    return "ok"


@workflow
async def Approval(ctx: durasim.engine.WorkflowContext, amount: int) -> str:
    (approver,) = await ctx.wait_signal("approve")
    await ctx.activity(withdraw, "alice", amount, start_to_close=5)
    return str(approver)


@workflow
async def PayEmployee(ctx: durasim.engine.WorkflowContext, i: int) -> int:
    paid: int = await ctx.activity(pay, i, start_to_close=5)
    return paid


@workflow
async def Payroll(ctx: durasim.engine.WorkflowContext, n: int) -> int:
    total = 0
    for i in range(1, n + 1):
        total += await ctx.child(PayEmployee, i, id=f"parent_child-employee-{i}")
    return total


@workflow
async def Counter(ctx: durasim.engine.WorkflowContext, n: int) -> Any:
    if n < 2:
        await ctx.activity(tick, n, start_to_close=5)
        ctx.continue_as_new(n + 1)
    return n


@workflow
async def ActivityTimeoutRetry(ctx: durasim.engine.WorkflowContext) -> str:
    result: str = await ctx.activity(hang_then_succeed, start_to_close=5,
                                     retry=RetryPolicy(initial_interval=1, maximum_attempts=5))
    return result


@workflow
async def MoneyTransfer(ctx: durasim.engine.WorkflowContext, amount: int) -> Any:
    """The shared fixture money_transfer.json: debit, credit, notify; returns credit's."""
    await ctx.activity(debit, "alice", amount, start_to_close=5)
    credited = await ctx.activity(credit, "bob", amount, start_to_close=5)
    await ctx.activity(notify, "bob", start_to_close=5)
    return credited


@workflow
async def DelayedTransfer(ctx: durasim.engine.WorkflowContext, amount: int) -> Any:
    """The shared fixture delayed_transfer.json: sleep 3 s, debit, credit."""
    await ctx.sleep(3)
    await ctx.activity(debit, "alice", amount, start_to_close=5)
    return await ctx.activity(credit, "bob", amount, start_to_close=5)


@activity
def debit(account: str, amount: int) -> int:
    return amount


@activity
def credit(account: str, amount: int) -> int:
    return amount


@workflow
async def Sleeper(ctx: durasim.engine.WorkflowContext, seconds: float) -> str:
    """The parent-close recordings' child: sleep, then return ``"slept"``."""
    await ctx.sleep(seconds)
    return "slept"


@workflow
async def LeaveChild(ctx: durasim.engine.WorkflowContext, policy: str, seconds: float) -> str:
    """Start a Sleeper child with ``policy`` (Temporal's enum name) and, once it runs,
    complete without waiting for it (``"TERMINATE_SLOW_CHILD"``: a SlowStart child, policy
    terminate, as recorded in ``parent_close_task_in_flight``)."""
    child = SlowStart if policy == "TERMINATE_SLOW_CHILD" else Sleeper
    await ctx.start_child(child, seconds, id=f"{ctx.workflow_id}-child",
                          parent_close_policy=policy.removesuffix("_SLOW_CHILD").lower()
                          ).started
    return "parent done"


@workflow
async def SlowStart(ctx: durasim.engine.WorkflowContext, seconds: float) -> str:
    """The recorded slow child's workflow type: on the real server its first task held the
    worker for a second (a simulated worker is never held); here it only sleeps."""
    await ctx.sleep(seconds)
    return "slept"


@workflow
async def AwaitChild(ctx: durasim.engine.WorkflowContext, seconds: float, timeout: float) -> str:
    """Run a Sleeper child and await it; if it does not complete, describe what was caught.

    durasim has no execution timeout: ``timeout`` is taken only so that the recorded
    ``child_timed_out_parent`` history (``AwaitChild(60.0, 1.0)``) replays.
    """
    try:
        result: str = await ctx.start_child(Sleeper, seconds, id=f"{ctx.workflow_id}-child")
    except durasim.engine.ChildWorkflowError as err:
        return f"{type(err).__name__}: {err}; cause {type(err.cause).__name__}: {err.cause}"
    return result


@workflow
async def FailWithChild(ctx: durasim.engine.WorkflowContext, seconds: float) -> str:
    """Run a Sleeper child and await it, catching nothing."""
    result: str = await ctx.start_child(Sleeper, seconds, id=f"{ctx.workflow_id}-child")
    return result


@workflow
async def WaitBesideChild(ctx: durasim.engine.WorkflowContext, seconds: float) -> str:
    """Start a Sleeper child (default policy), then sleep: a cancel reaches the timer."""
    await ctx.start_child(Sleeper, seconds, id=f"{ctx.workflow_id}-child").started
    await ctx.sleep(seconds)
    return "parent done"


@workflow
async def ContinueBesideChild(ctx: durasim.engine.WorkflowContext, seconds: float) -> str:
    """First run: start a Sleeper child (default policy) and continue as new."""
    if seconds:
        await ctx.start_child(Sleeper, seconds, id=f"{ctx.workflow_id}-child").started
        ctx.continue_as_new(0.0)
    return "parent done"


@activity(duration=30.0)
def slow_transfer(seconds: float) -> str:
    return f"done after {seconds} s"


@activity
def clean_up() -> str:
    return "cleaned up"


@workflow
async def GatherWithCleanup(ctx: durasim.engine.WorkflowContext) -> str:
    """Await an activity and a timer together; on cancellation, clean up, then end
    cancelled."""
    try:
        await ctx.gather(ctx.activity(slow_transfer, 30.0, start_to_close=60),
                         ctx.sleep(60))
    except durasim.engine.CancelledError:
        await ctx.activity(clean_up, start_to_close=5)
        raise
    return "both finished"
