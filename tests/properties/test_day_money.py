"""The durable day never creates or destroys money, whatever the crash rate (issue 16.1).

A bank's day on durable execution with idempotent activities: any number of transfers hit
by crashes of the node running any of their steps, before or after the step's effect.
Every transfer ends completed or refused, each effect once, and the accounts hold exactly
what they held in the morning.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import durasim
from tests.properties import examples


@settings(max_examples=examples(60, dev=8), deadline=None)
@given(transfers=st.integers(1, 25), crash_rate=st.floats(0.0, 1.0),
       seed=st.integers(0, 2**32 - 1))
def test_the_durable_day_never_creates_or_destroys_money(transfers: int, crash_rate: float,
                                                         seed: int) -> None:
    day = durasim.day("transfer", "durable", transfers=transfers, crash_rate=crash_rate,
                      seed=seed, idempotent_activities=True)
    assert day.created == day.destroyed == 0, day
    assert day.money.missing == 0 and day.money.held == day.money.total, day
    assert not day.net, day
    assert set(day.outcomes.values()) <= {"completed", "failed"}, day
