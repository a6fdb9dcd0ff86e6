"""An order as a saga: reserve stock, charge the card, ship; undo in reverse on failure.

It teaches what replaces a transaction across services: every step that has an effect has
a compensation, and a failure runs the compensations of what already happened, newest
first. ``with_params(deliverable=False)`` makes shipping fail so the compensations run.
"""

from __future__ import annotations

from durasim.scenarios.base import Scenario, Step

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
)
