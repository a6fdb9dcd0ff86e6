"""A subscription: charge every month for a year, waiting 30 days between charges.

It teaches the characteristics "unlimited duration" and "durable timers": the process
lives for a year of virtual time and must survive any crash in between. Each month's
charge has its own reference (``sub1/month-3``) so the checks can tell a double charge
from the next month's charge. :func:`Subscription` is the process as workflow code.
"""

from __future__ import annotations

from typing import Any

from durasim.engine.context import WorkflowContext
from durasim.engine.definitions import activity, workflow
from durasim.engine.failures import ActivityError
from durasim.engine.retry import RetryPolicy
from durasim.scenarios.base import Scenario, Step
from durasim.scenarios.calls import call
from durasim.scenarios.transfer import refusal

DAY = 24 * 3600.0

_NO_TIMERS = ("a 12-month subscription needs a timer that survives crashes for a year; "
              "there is no durable timer here. Run it on the durable architecture.")


@activity
async def charge(customer: str, merchant: str, amount: int, ref: str) -> Any:
    """Step 1: charge this month's price (billing)."""
    return await call("billing", "charge_card", ref, customer=customer, merchant=merchant,
                      amount=amount)


@activity
async def send_receipt(to: str, amount: int, ref: str) -> Any:
    """Step 2: email the receipt (notifications)."""
    return await call("notifications", "notify", ref, to=to, amount=amount)


@workflow
async def Subscription(ctx: WorkflowContext, customer: str, merchant: str, price: int,
                       months: int, period_days: float, ref: str = "sub1",
                       max_attempts: int = 0) -> dict[str, Any]:
    """Charge ``price`` every ``period_days`` days, ``months`` times, with a receipt each."""
    retry = RetryPolicy(maximum_attempts=max_attempts)
    for month in range(1, months + 1):
        this_month = f"{ref}/month-{month}"
        try:
            await ctx.activity(charge, customer, merchant, price, this_month, retry=retry)
            await ctx.activity(send_receipt, customer, price, this_month, retry=retry)
        except ActivityError as refused:
            return refusal(refused)
        if month < months:
            await ctx.sleep(period_days * DAY)  # step 3: a durable timer of 30 days
    return {"status": "completed", "months": months}


SUBSCRIPTION = Scenario(
    name="subscription",
    title="Monthly subscription (a year of durable timers)",
    description="Charge dana every 30 days, 12 times, and send a receipt each time.",
    noun="charge",
    key="sub1",
    steps=(
        Step(1, "charge", "billing", "Charge this month's price (reference sub1/month-N).",
             op="charge_card",
             args={"customer": "$customer", "merchant": "$merchant", "amount": "$price"}),
        Step(2, "send_receipt", "notifications", "Email the receipt.", op="notify",
             args={"to": "$customer", "amount": "$price"}),
        Step(3, "wait_month", "workflow", "Sleep 30 days on a durable timer.", kind="timer",
             args={"days": "$period_days"}, effect=False),
    ),
    accounts={"dana": 200, "streamco": 0},
    homes={"dana": "billing", "streamco": "billing"},
    params={"customer": "dana", "merchant": "streamco", "price": 10, "months": 12,
            "period_days": 30},
    unsupported={"monolith": _NO_TIMERS, "event_driven": _NO_TIMERS},
    workflow=Subscription,
    inputs=("customer", "merchant", "price", "months", "period_days"),
)
