"""Property 4, the checks can fail: hypothesis breaks the systems that are meant to break.

A property suite that never fails proves nothing. Here hypothesis searches crash plans for
the two failures the talk is about and must find each within 500 examples: a plan that
breaks the naive event-driven transfer, and one that makes the durable engine apply a
non-idempotent activity twice (at-least-once, honestly). Each must shrink to a single
crash, the story a student can tell; the minimal plans are printed (``pytest -s``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import find, settings

from durasim.api import run
from durasim.architectures.base import Run
from durasim.faults import Crash, FaultPlan
from durasim.strategies import fault_plans

BUDGET = 500
SEARCH = settings(max_examples=BUDGET, database=None, derandomize=True, deadline=None)


def search(architecture: str, breaks: Callable[[Run], bool], **options: Any
           ) -> tuple[FaultPlan, int]:
    """The minimal crash plan that ``breaks`` the transfer, and how many plans were tried
    before the first one that did."""
    tried = [0]
    found_after: list[int] = []

    def broken(plan: FaultPlan) -> bool:
        tried[0] += 1
        bad = breaks(run("transfer", architecture, plan, **options))
        if bad and not found_after:
            found_after.append(tried[0])
        return bad

    plans = fault_plans("transfer", max_crashes=3, architecture=architecture,
                        message_faults=False)
    plan = find(plans, broken, settings=SEARCH)
    return plan, found_after[0]


def double_applied(result: Run) -> list[str]:
    """Effect steps (money moving, ledger lines) applied more than once for one transfer."""
    effect_steps = {s.name for s in result.scenario.steps if s.effect}
    counts = Counter((row.ref, row.name) for row in result.state.effects
                     if row.name in effect_steps)
    return [f"{name} x{n}" for (_, name), n in counts.items() if n > 1]


def test_hypothesis_breaks_the_naive_event_driven_transfer() -> None:
    assert run("transfer", "event_driven").checks.ok, "the crash-free run must pass"
    plan, first = search("event_driven", lambda r: not r.checks.ok)
    result = run("transfer", "event_driven", plan)
    print(f"\nnaive event-driven, broken after {first} plans; minimal plan: {plan}\n{result}")
    assert first <= BUDGET
    assert len(plan) == 1 and isinstance(plan.faults[0], Crash), plan
    assert not result.checks.ok
    assert result.checks.failed, "a failing run names the checks it failed"


def test_hypothesis_finds_money_destroyed_by_the_naive_event_driven_transfer() -> None:
    """The talk's own failure: money leaves alice and never reaches bob."""
    plan, first = search("event_driven", lambda r: not r.checks["money_conserved"].ok)
    result = run("transfer", "event_driven", plan)
    print(f"\nnaive event-driven, money destroyed after {first} plans; minimal plan: {plan}"
          f"\n{result}")
    assert len(plan) == 1 and isinstance(plan.faults[0], Crash), plan
    assert sum(result.balances.values()) < result.scenario.total_money
    durable = run("transfer", "durable", plan, idempotent_activities=True)
    assert durable.checks.ok, "the same crash is harmless to durable execution done right"


def test_hypothesis_finds_a_double_applied_activity_without_idempotency_keys() -> None:
    assert not double_applied(run("transfer", "durable"))
    plan, first = search("durable", lambda r: bool(double_applied(r)))
    result = run("transfer", "durable", plan)
    print(f"\ndurable without idempotency keys, double effect after {first} plans; "
          f"minimal plan: {plan} ({', '.join(double_applied(result))})\n{result}")
    assert first <= BUDGET
    assert len(plan) == 1 and isinstance(plan.faults[0], Crash), plan
    assert plan.faults[0].when == "after_effect", "only a crash after the effect repeats it"
    assert not result.checks["exactly_once"].ok
    fixed = run("transfer", "durable", plan, idempotent_activities=True)
    assert not double_applied(fixed) and fixed.checks.ok, "the idempotency key is the fix"
