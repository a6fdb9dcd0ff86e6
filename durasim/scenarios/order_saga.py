"""An order as a saga: reserve stock, charge the card, ship; undo in reverse on failure.

It teaches what replaces a transaction across services: every step that has an effect has
a compensation, and a failure runs the compensations of what already happened, newest
first. ``with_params(deliverable=False)`` makes shipping fail so the compensations run.
:func:`OrderSaga` is the same saga as plain workflow code.
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


@activity
async def reserve_stock(item: str, qty: int, ref: str) -> Any:
    """Step 1: set aside the ordered items (inventory)."""
    return await call("inventory", "reserve_stock", ref, item=item, qty=qty)


@activity
async def charge_card(customer: str, merchant: str, amount: int, ref: str) -> Any:
    """Step 2: charge the customer and pay the shop (payments)."""
    return await call("payments", "charge_card", ref, customer=customer, merchant=merchant,
                      amount=amount)


@activity
async def ship(item: str, qty: int, address: str, deliverable: bool, ref: str) -> Any:
    """Step 3: hand the parcel to the carrier (shipping)."""
    return await call("shipping", "ship", ref, item=item, qty=qty, address=address,
                      deliverable=deliverable)


@activity
async def refund_card(customer: str, merchant: str, amount: int, ref: str) -> Any:
    """Compensation of step 2: give the customer the money back."""
    return await call("payments", "refund_card", ref, customer=customer, merchant=merchant,
                      amount=amount)


@activity
async def release_stock(item: str, qty: int, ref: str) -> Any:
    """Compensation of step 1: put the reserved items back on the shelf."""
    return await call("inventory", "release_stock", ref, item=item, qty=qty)


@workflow
async def OrderSaga(ctx: WorkflowContext, customer: str, merchant: str, item: str, qty: int,
                    price: int, address: str, deliverable: bool, ref: str = "o1",
                    max_attempts: int = 0) -> dict[str, Any]:
    """Reserve, charge, ship; if a step is refused, undo what was done, newest first."""
    retry = RetryPolicy(maximum_attempts=max_attempts)
    undo: list[tuple[Any, ...]] = []
    try:
        await ctx.activity(reserve_stock, item, qty, ref, retry=retry)
        undo.append((release_stock, item, qty, ref))
        await ctx.activity(charge_card, customer, merchant, price, ref, retry=retry)
        undo.append((refund_card, customer, merchant, price, ref))
        await ctx.activity(ship, item, qty, address, deliverable, ref, retry=retry)
    except ActivityError as refused:
        undone = []
        for compensation, *args in reversed(undo):
            await ctx.activity(compensation, *args, retry=retry)
            undone.append(compensation.__name__)
        return refusal(refused, undone=undone)
    return {"status": "completed"}


ORDER_SAGA = Scenario(
    name="order_saga",
    title="Order saga (compensate in reverse order)",
    description="Reserve stock, charge the card, ship; if a step fails, refund the card and "
                "release the stock, in that order.",
    noun="order",
    key="o1",
    steps=(
        Step(1, "reserve_stock", "inventory", "Set aside the ordered items.",
             args={"item": "$item", "qty": "$qty"}),
        Step(2, "charge_card", "payments", "Charge the customer and pay the shop.",
             args={"customer": "$customer", "merchant": "$merchant", "amount": "$price"}),
        Step(3, "ship", "shipping", "Hand the parcel to the carrier.",
             args={"item": "$item", "qty": "$qty", "address": "$address",
                   "deliverable": "$deliverable"}),
    ),
    compensations=(
        Step(4, "refund_card", "payments", "Give the customer the money back.",
             args={"customer": "$customer", "merchant": "$merchant", "amount": "$price"},
             compensates="charge_card"),
        Step(5, "release_stock", "inventory", "Put the reserved items back on the shelf.",
             args={"item": "$item", "qty": "$qty"}, compensates="reserve_stock"),
    ),
    accounts={"carol": 100, "shop": 0},
    homes={"carol": "payments", "shop": "payments"},
    params={"item": "book", "qty": 1, "price": 30, "customer": "carol", "merchant": "shop",
            "address": "1 Main St", "deliverable": True, "stock": {"book": 3}},
    workflow=OrderSaga,
    inputs=("customer", "merchant", "item", "qty", "price", "address", "deliverable"),
)
