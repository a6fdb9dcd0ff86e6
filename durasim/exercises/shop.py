"""Exercise 2's outside world: the shop the order saga talks to, and its activities."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from durasim.engine import ApplicationError, activity, activity_info
from durasim.errors import DurasimError

ORDER: dict[str, Any] = {"id": "o1", "item": "book", "qty": 1, "price": 30,
                         "customer": "carol", "address": "1 Main St"}
"""An order that ships: reserve one book, charge carol 30, ship it."""
UNDELIVERABLE: dict[str, Any] = {**ORDER, "id": "o2", "address": "nowhere"}
"""An order the carrier refuses (no such address): after the charge, ``ship_order`` fails."""
DECLINED: dict[str, Any] = {**ORDER, "id": "o3", "customer": "erin"}
"""An order whose card is declined: erin has only 10."""
ORDERS: dict[str, dict[str, Any]] = {"ships": ORDER, "undeliverable": UNDELIVERABLE,
                                     "declined": DECLINED}
"""The three orders :func:`check_workflow` runs, by what should happen to them."""

MERCHANT = "shop"


class Shop:
    """The outside world of the saga: stock, card balances, parcels, and every effect.

    Every operation takes an optional idempotency ``key``: a repeated key returns the
    first call's result without doing anything (that is what a real payment API's
    ``Idempotency-Key`` header does). Each effect is recorded with whether it was done from
    inside an activity, so the check can tell a retried activity from workflow code that
    touches the world directly (and does it again on every replay).
    """

    def __init__(self) -> None:
        self.stock: dict[str, int] = {"book": 3}
        self.balances: dict[str, int] = {"carol": 100, "erin": 10, MERCHANT: 0}
        self.shipped: list[str] = []
        self.effects: list[dict[str, Any]] = []
        self._seen: dict[str, Any] = {}

    def _effect(self, op: str, order_id: str, key: str | None,
                apply: Callable[[], Any]) -> Any:
        if key is not None and key in self._seen:
            return self._seen[key]
        result = apply()
        try:
            inside = activity_info().activity_type
        except DurasimError:
            inside = None
        self.effects.append({"op": op, "order": order_id, "key": key, "activity": inside})
        if key is not None:
            self._seen[key] = result
        return result

    def reserve(self, order_id: str, item: str, qty: int, *, key: str | None = None) -> int:
        """Set ``qty`` of ``item`` aside; returns what is left. Out of stock: refused."""
        def apply() -> int:
            if self.stock.get(item, 0) < qty:
                raise ApplicationError(f"out of stock: {item}", "OutOfStock",
                                       non_retryable=True)
            self.stock[item] -= qty
            return self.stock[item]
        return int(self._effect("reserve", order_id, key, apply))

    def release(self, order_id: str, item: str, qty: int, *, key: str | None = None) -> int:
        """Put ``qty`` of ``item`` back on the shelf; returns the stock."""
        def apply() -> int:
            self.stock[item] = self.stock.get(item, 0) + qty
            return self.stock[item]
        return int(self._effect("release", order_id, key, apply))

    def charge(self, order_id: str, customer: str, amount: int, *,
               key: str | None = None) -> int:
        """Move ``amount`` from ``customer`` to the shop; declined when it is not there.

        Raises:
            ApplicationError: ``CardDeclined``, non-retryable: retrying will not help.
        """
        def apply() -> int:
            if self.balances.get(customer, 0) < amount:
                raise ApplicationError(f"card declined: {customer} cannot pay {amount}",
                                       "CardDeclined", non_retryable=True)
            self.balances[customer] -= amount
            self.balances[MERCHANT] += amount
            return self.balances[customer]
        return int(self._effect("charge", order_id, key, apply))

    def refund(self, order_id: str, customer: str, amount: int, *,
               key: str | None = None) -> int:
        """Give ``amount`` back to ``customer`` (it trusts you: it never checks a charge)."""
        def apply() -> int:
            self.balances[customer] = self.balances.get(customer, 0) + amount
            self.balances[MERCHANT] -= amount
            return self.balances[customer]
        return int(self._effect("refund", order_id, key, apply))

    def ship(self, order_id: str, address: str, *, key: str | None = None) -> str:
        """Hand the parcel to the carrier; an unknown address is refused for good."""
        def apply() -> str:
            if address == "nowhere":
                raise ApplicationError(f"the carrier cannot deliver to {address!r}",
                                       "Undeliverable", non_retryable=True)
            self.shipped.append(order_id)
            return f"parcel-{order_id}"
        return str(self._effect("ship", order_id, key, apply))

    def count(self, op: str) -> int:
        """How many times ``op`` took effect."""
        return sum(1 for e in self.effects if e["op"] == op)

    def state(self) -> dict[str, Any]:
        """What the checks compare: stock, balances, parcels and effect counts."""
        return {"stock": dict(self.stock), "balances": dict(self.balances),
                "shipped": list(self.shipped),
                "effects": [e["op"] for e in self.effects]}

    def __repr__(self) -> str:
        return (f"<Shop stock={self.stock} balances={self.balances} shipped={self.shipped} "
                f"effects={[e['op'] for e in self.effects]}>")


_CURRENT: list[Shop] = [Shop()]


def shop() -> Shop:
    """The shop the activities talk to right now."""
    return _CURRENT[0]


def new_shop() -> Shop:
    """Start from a fresh shop (3 books; carol 100, erin 10, the shop 0) and return it."""
    _CURRENT[0] = Shop()
    return _CURRENT[0]


def _key() -> str:
    return activity_info().idempotency_key


@activity
def reserve_stock(order: dict[str, Any]) -> int:
    """Set the order's items aside (idempotent: it passes its idempotency key)."""
    return shop().reserve(order["id"], order["item"], order["qty"], key=_key())


@activity
def release_stock(order: dict[str, Any]) -> int:
    """Compensation of :func:`reserve_stock` (idempotent)."""
    return shop().release(order["id"], order["item"], order["qty"], key=_key())


@activity
def ship_order(order: dict[str, Any]) -> str:
    """Hand the parcel to the carrier (idempotent); fails for good when undeliverable."""
    return shop().ship(order["id"], order["address"], key=_key())
