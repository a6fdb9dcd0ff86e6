"""The talk's bank transfer: six named steps from alice's account to bob's.

This is the scenario every architecture runs and the one the talk's argument rests on:
step 3 takes money out of one service's database and step 5 puts it into another's, so a
crash between them is exactly the failure a local transaction cannot cover once the two
accounts live in different services.

The module holds the scenario twice, on purpose: as data (:data:`TRANSFER`, the numbered
steps the monolith and the event-driven system run) and as plain workflow code
(:func:`Transfer`, what the durable engine runs and what a student steps through when the
history is replayed). Each activity is one step, and asks the step's service to do it.
"""

from __future__ import annotations

from typing import Any

from durasim.engine.context import WorkflowContext
from durasim.engine.definitions import activity, workflow
from durasim.engine.failures import ActivityError
from durasim.engine.retry import RetryPolicy
from durasim.scenarios.base import Scenario, Step
from durasim.scenarios.calls import call

# -- the activities: one per step, each a call to the service that owns the data ---------


@activity
async def validate(src: str, dst: str, amount: int, ref: str) -> Any:
    """Step 1: check the request makes sense (positive amount, two different accounts)."""
    return await call("validation", "validate", ref, src=src, dst=dst, amount=amount)


@activity
async def fraud_check(account: str, amount: int, limit: int, ref: str) -> Any:
    """Step 2: refuse amounts above the fraud limit."""
    return await call("fraud", "fraud_check", ref, account=account, amount=amount, limit=limit)


@activity
async def withdraw(account: str, amount: int, ref: str) -> Any:
    """Step 3: take the amount out of the source account (bank_a's database)."""
    return await call("bank_a", "withdraw", ref, account=account, amount=amount)


@activity
async def record_ledger(src: str, dst: str, amount: int, ref: str) -> Any:
    """Step 4: write the transfer into the bank's ledger."""
    return await call("ledger", "record_ledger", ref, src=src, dst=dst, amount=amount)


@activity
async def deposit(account: str, amount: int, ref: str) -> Any:
    """Step 5: put the amount into the destination account (bank_b's database)."""
    return await call("bank_b", "deposit", ref, account=account, amount=amount)


@activity
async def notify(to: str, amount: int, ref: str) -> Any:
    """Step 6: tell the receiver the money arrived."""
    return await call("notifications", "notify", ref, to=to, amount=amount)


# -- the workflow: the business process, in order, as plain code -----------------------


@workflow
async def Transfer(ctx: WorkflowContext, src: str, dst: str, amount: int, fraud_limit: int,
                   ref: str = "t1", max_attempts: int = 0) -> dict[str, Any]:
    """Move ``amount`` from ``src`` to ``dst``; a step the bank refuses ends it as failed."""
    retry = RetryPolicy(maximum_attempts=max_attempts)
    try:
        await ctx.activity(validate, src, dst, amount, ref, retry=retry)
        await ctx.activity(fraud_check, src, amount, fraud_limit, ref, retry=retry)
        await ctx.activity(withdraw, src, amount, ref, retry=retry)
        await ctx.activity(record_ledger, src, dst, amount, ref, retry=retry)
        await ctx.activity(deposit, dst, amount, ref, retry=retry)
        await ctx.activity(notify, dst, amount, ref, retry=retry)
    except ActivityError as refused:
        return refusal(refused)
    return {"status": "completed"}


def refusal(error: ActivityError, **more: Any) -> dict[str, Any]:
    """The result of a process that a step refused: which step, and why."""
    return {"status": "failed", "step": error.activity, "reason": error.cause.message, **more}


# -- the same process as data -----------------------------------------------------------

_TRANSFER = {"src": "$src", "dst": "$dst", "amount": "$amount"}

TRANSFER = Scenario(
    name="transfer",
    title="Bank transfer (the talk's example)",
    description="Move money from alice to bob in six steps; a crash at step 5 (the deposit) "
                "is the talk's case.",
    noun="transfer",
    key="t1",
    steps=(
        Step(1, "validate", "validation", "Check the request makes sense (positive amount, "
             "two different accounts).", args=_TRANSFER, effect=False),
        Step(2, "fraud_check", "fraud", "Refuse amounts above the fraud limit.",
             args={"account": "$src", "amount": "$amount", "limit": "$fraud_limit"},
             effect=False),
        Step(3, "withdraw", "bank_a", "Take the amount out of alice's account.",
             args={"account": "$src", "amount": "$amount"}),
        Step(4, "record_ledger", "ledger", "Write the transfer into the bank's ledger.",
             args=_TRANSFER),
        Step(5, "deposit", "bank_b", "Put the amount into bob's account.",
             args={"account": "$dst", "amount": "$amount"}),
        Step(6, "notify", "notifications", "Tell bob the money arrived.",
             args={"to": "$dst", "amount": "$amount"}),
    ),
    accounts={"alice": 100, "bob": 50},
    homes={"alice": "bank_a", "bob": "bank_b"},
    params={"src": "alice", "dst": "bob", "amount": 25, "fraud_limit": 1000},
    workflow=Transfer,
    inputs=("src", "dst", "amount", "fraud_limit"),
)
