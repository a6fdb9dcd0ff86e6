"""fault_plans(workflow=...): hypothesis searches the crashes of any workflow, SDK or durasim.

A student's own workflow has no business steps; its crash points are its activities (in
order) and the events of its history. With them hypothesis finds, and shrinks to one
line, the crash that makes a non-idempotent activity run twice (a worker crash after the
effect, before the completion is recorded), and finds nothing once the activity uses its
idempotency key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, find, given, settings

import durasim
from durasim import Crash, FaultPlan
from durasim.strategies import crash_points, fault_plans

pytest.importorskip("temporalio", reason="the Temporal SDK (the 'temporal' extra) is needed")

from temporalio import activity, workflow

QUICK = settings(max_examples=40, derandomize=True, database=None, deadline=None,
                 suppress_health_check=list(HealthCheck))
CHARGES: dict[str, int] = {}
"""The card processor's ledger: how many times each order was charged."""
SEEN: set[str] = set()
"""Idempotency keys the processor has already charged for (it ignores repeats)."""


def processor_charge(order_id: str, key: str | None = None) -> None:
    if key is not None and key in SEEN:
        return
    if key is not None:
        SEEN.add(key)
    CHARGES[order_id] = CHARGES.get(order_id, 0) + 1


@dataclass
class Order:
    order_id: str
    amount: int


@activity.defn
def charge_card(order: Order) -> str:
    processor_charge(order.order_id)
    return f"charged {order.amount}"


@activity.defn
def charge_card_once(order: Order) -> str:
    info = activity.info()  # the same key on every attempt of this activity
    processor_charge(order.order_id, key=f"{info.workflow_id}/{info.activity_id}")
    return f"charged {order.amount}"


@workflow.defn
class Checkout:
    @workflow.run
    async def run(self, order: Order) -> str:
        charged = await workflow.execute_activity(
            charge_card, order, start_to_close_timeout=timedelta(seconds=10))
        await workflow.sleep(60)
        return charged


@workflow.defn
class IdempotentCheckout:
    @workflow.run
    async def run(self, order: Order) -> str:
        charged = await workflow.execute_activity(
            charge_card_once, order, start_to_close_timeout=timedelta(seconds=10))
        await workflow.sleep(60)
        return charged


ORDER = Order("o-1", 40)


def charged_times(cls: type, plan: FaultPlan) -> int:
    CHARGES.clear()
    SEEN.clear()
    run = durasim.execute(cls, ORDER, faults=plan)
    assert run.status == "completed", run.error
    return CHARGES[ORDER.order_id]


def test_crash_points_are_read_off_a_crash_free_run() -> None:
    points = crash_points(Checkout, (ORDER,))
    assert points.steps == (1,)
    assert points.events == len(durasim.execute(Checkout, ORDER).history)


@QUICK
@given(plan=fault_plans(workflow=Checkout, args=(ORDER,), max_crashes=2))
def test_plans_crash_only_what_the_workflow_has(plan: FaultPlan) -> None:
    events = crash_points(Checkout, (ORDER,)).events
    for crash in plan.of(Crash):
        assert crash.at_step in (None, 1)
        assert crash.after_events is None or 1 <= crash.after_events <= events
        assert crash.node in (None, "worker", "server")
    assert len(plan) == len(plan.of(Crash))  # crashes only


def test_hypothesis_finds_the_crash_that_charges_twice_and_shrinks_it() -> None:
    minimal = find(fault_plans(workflow=Checkout, args=(ORDER,), max_crashes=2),
                   lambda plan: charged_times(Checkout, plan) > 1, settings=QUICK)
    assert list(minimal) == [Crash(at_step=1, when="after_effect", restart_after=1.0)]


@QUICK
@given(plan=fault_plans(workflow=IdempotentCheckout, args=(ORDER,), max_crashes=2))
def test_with_the_idempotency_key_no_plan_charges_twice(plan: FaultPlan) -> None:
    assert charged_times(IdempotentCheckout, plan) == 1
