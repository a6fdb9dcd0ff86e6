"""durasim-native equivalents of the issue-13 recordings (tests/fixtures/recorded and
tests/fixtures/sdk/recorded): the same workflow types, inputs and steps, written with ctx."""

from __future__ import annotations

from typing import Any

from durasim import ApplicationError, RetryPolicy, activity, workflow
from durasim.engine import ActivityError, CancelledError, activity_info, activity_sleep, heartbeat

DAY = 24 * 3600.0


@activity
def withdraw(account: str, amount: int) -> str:
    return f"withdrew {amount} from {account}"


@activity
def unreachable_bank() -> str:
    raise ApplicationError(f"bank unreachable (attempt {activity_info().attempt})",
                           type="Unavailable")


@activity
async def hang(seconds: float) -> str:
    await activity_sleep(seconds)
    return f"answered after {seconds} s"


@activity
async def heartbeat_once_then_hang(seconds: float) -> str:
    heartbeat("halfway")
    await activity_sleep(seconds)
    return f"answered after {seconds} s"


@activity
async def send_file(chunks: int) -> str:
    details = activity_info().heartbeat_details
    first = int(details[0]) if details else 0
    for chunk in range(first, chunks):
        await activity_sleep(0.5)  # send one chunk
        heartbeat(chunk + 1)
    return f"sent chunks {first + 1}-{chunks} of {chunks}"


@activity
def release_stock(order_id: str) -> str:
    return f"released the stock held for {order_id}"


@activity
def convert_currency(amount: int) -> float:
    return round(amount * 0.92, 2)


@activity
def pay(amount: int) -> str:
    return f"paid {amount}"


@activity
def send_receipt(amount: int) -> str:
    return f"receipt for {amount}"


@activity
def fetch_quote(bank: str) -> dict[str, Any]:
    return {"bank": bank, "rate": {"north": 1.08, "south": 1.07}[bank]}


@workflow(name="ApprovalWithDeadline")
async def ApprovalWithDeadline(ctx: Any, timeout: float) -> str:
    state: dict[str, str | None] = {"approver": None}

    @ctx.signal
    def approve(by: str) -> None:
        state["approver"] = by

    if await ctx.wait_condition(lambda: state["approver"] is not None, timeout=timeout):
        return f"approved by {state['approver']}"
    return "timed out"


@workflow(name="PaymentReminder")
async def PaymentReminder(ctx: Any, amount: int) -> str:
    payment = ctx.start_activity(withdraw, "alice", amount, start_to_close=5)
    reminder = ctx.start_timer(60)
    await payment
    reminder.cancel()
    try:
        await reminder
    except CancelledError:
        return "paid; reminder cancelled"
    return "paid; reminder fired"


@workflow(name="RetryUntilDeadline")
async def RetryUntilDeadline(ctx: Any) -> str:
    result: str = await ctx.activity(unreachable_bank, schedule_to_close=5,
                                     retry=RetryPolicy(initial_interval=1,
                                                       backoff_coefficient=2.0))
    return result


@workflow(name="ActivityTimeouts")
async def ActivityTimeouts(ctx: Any) -> list[str]:
    once = RetryPolicy(maximum_attempts=1)
    found = []
    for call in (ctx.activity(hang, 4.0, start_to_close=2, retry=once),
                 ctx.activity(heartbeat_once_then_hang, 4.0, start_to_close=10,
                              heartbeat_timeout=1, retry=once)):
        try:
            await call
        except ActivityError as error:
            found.append(error.timeout_type)
    return found


@workflow(name="SendFileWorkflow")
async def SendFileWorkflow(ctx: Any, chunks: int) -> str:
    result: str = await ctx.activity(send_file, chunks, start_to_close=600, heartbeat_timeout=2,
                                     retry=RetryPolicy(initial_interval=1))
    return result


@workflow(name="InvoiceWorkflow")
async def InvoiceWorkflow(ctx: Any, customer: str) -> str:
    state = {"status": "created"}

    @ctx.query
    def status() -> str:
        return state["status"]

    state["status"] = f"invoice for {customer} waiting for approval"
    await ctx.sleep(2)
    state["status"] = f"invoice for {customer} sent"
    return state["status"]


@workflow(name="ApprovalsWorkflow")
async def ApprovalsWorkflow(ctx: Any) -> list[str]:
    approvers: list[str] = []
    closed = []

    @ctx.signal
    def approve(approver: str) -> None:
        approvers.append(approver)

    @ctx.signal
    def close() -> None:
        closed.append(True)

    await ctx.wait_condition(lambda: bool(closed))
    return approvers


@workflow(name="SavingsWorkflow")
async def SavingsWorkflow(ctx: Any, goal: int) -> str:
    state = {"balance": 0}

    def positive(amount: int) -> None:
        if amount <= 0:
            raise ValueError(f"a deposit must be positive, got {amount}")

    @ctx.update(validator=positive)
    def deposit(amount: int) -> int:
        state["balance"] += amount
        return state["balance"]

    await ctx.wait_condition(lambda: state["balance"] >= goal)
    return f"goal of {goal} reached with {state['balance']}"


@workflow(name="OrderWorkflow")
async def OrderWorkflow(ctx: Any, order_id: str) -> str:
    try:
        await ctx.sleep(3 * DAY)  # the customer has three days to pay
    except CancelledError:
        await ctx.activity(release_stock, order_id, start_to_close=10)
        raise
    return f"order {order_id} expired"


@workflow(name="ConvertWorkflow")
async def ConvertWorkflow(ctx: Any, amount: int) -> float:
    result: float = await ctx.local_activity(convert_currency, amount, start_to_close=5)
    return result


@workflow(name="PaymentWorkflow")
async def PatchedPayment(ctx: Any, amount: int) -> str:
    paid: str = await ctx.activity(pay, amount)
    if ctx.patched("send-receipt"):
        await ctx.activity(send_receipt, amount)
    return paid


@workflow(name="PaymentWorkflow")
async def DeprecatedPatchPayment(ctx: Any, amount: int) -> str:
    paid: str = await ctx.activity(pay, amount)
    ctx.deprecate_patch("send-receipt")
    await ctx.activity(send_receipt, amount)
    return paid


@workflow(name="BestQuoteWorkflow")
async def BestQuoteWorkflow(ctx: Any) -> dict[str, Any]:
    quotes = await ctx.gather(ctx.activity(fetch_quote, "north"),
                              ctx.activity(fetch_quote, "south"))
    return min(quotes, key=lambda quote: quote["rate"])


@activity
async def slow_transfer(seconds: float) -> str:
    """The recorded LongActivity's activity: heartbeats every 0.5 s for ``seconds``."""
    for _ in range(int(seconds / 0.5)):
        await activity_sleep(0.5)
        heartbeat()
    return f"done after {seconds} s"


@workflow(name="LongActivity")
async def LongActivity(ctx: Any, seconds: float) -> str:
    result: str = await ctx.activity(slow_transfer, seconds, start_to_close=5,
                                     heartbeat_timeout=2)
    return result
