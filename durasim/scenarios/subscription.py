"""A subscription: charge every month for a year, waiting 30 days between charges.

It teaches the characteristics "unlimited duration" and "durable timers": the process
lives for a year of virtual time and must survive any crash in between. Each month's
charge has its own reference (``sub1/month-3``) so the checks can tell a double charge
from the next month's charge.
"""

from __future__ import annotations

from durasim.scenarios.base import Scenario, Step

_NO_TIMERS = ("a 12-month subscription needs a timer that survives crashes for a year; "
              "there is no durable timer here. Run it on the durable architecture.")

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
)
