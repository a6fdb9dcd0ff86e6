"""Checks for the course's exercises, each explaining in plain words what is wrong.

An exercise a student cannot check alone is an exercise abandoned, and "assert failed" does
not teach anything. Each check here runs the student's answer through the crashes the
course is about, then says which crash broke it, what happened to the money or the order,
why, and what to change. Two exercises (notebook ``09_exercises``):

* :func:`check_event_driven` -- choose the event-driven options that make every crash at
  step 5 of the bank transfer safe. The check runs the exhaustive step-5 crash set (the
  service running the deposit and the broker, before and after the effect) and, for each
  crash that breaks the transfer, says whether the event was lost or applied twice, and
  which option prevents that.
* :func:`check_workflow` -- write an order saga (reserve stock, charge the card, ship;
  compensate in reverse order on failure) on the durable engine, with your own payment
  activities. The check runs it crash-free on three orders (one that ships, one that
  cannot be delivered, one whose card is declined), then under a worker crash after every
  history event and a crash after the effect of every activity, replays every history,
  and explains non-determinism, missing or extra compensations and effects applied twice.

The shop the saga talks to is :class:`Shop`; :func:`shop` returns the current one and
:func:`new_shop` starts a fresh one (the checks do so before every run).
"""

from __future__ import annotations

from durasim.exercises.event_driven import check_event_driven
from durasim.exercises.feedback import Feedback, Problem
from durasim.exercises.saga_check import check_workflow
from durasim.exercises.shop import (
    DECLINED,
    ORDER,
    ORDERS,
    UNDELIVERABLE,
    Shop,
    new_shop,
    release_stock,
    reserve_stock,
    ship_order,
    shop,
)

__all__ = [
    "DECLINED",
    "ORDER",
    "ORDERS",
    "UNDELIVERABLE",
    "Feedback",
    "Problem",
    "Shop",
    "check_event_driven",
    "check_workflow",
    "new_shop",
    "release_stock",
    "reserve_stock",
    "ship_order",
    "shop",
]
