"""Property 3, crash equivalence: with idempotent activities, the durable transfer ends in
the crash-free run's state under any plan of up to three crashes.

Crashes hit the worker, the server or any bank service, at any step, before or after the
step's effect commits, with lost, duplicated and delayed messages on top. Whatever
happens, the run must end exactly as the run without faults: same outcome, same balances,
each effect applied once, and no money created or destroyed.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given, settings

from durasim.api import run
from durasim.architectures import get_architecture
from durasim.architectures.base import Run
from durasim.architectures.databases import databases_in_memory
from durasim.faults import FaultPlan
from durasim.scenarios import get_scenario
from durasim.strategies import fault_plans, seeds
from tests.properties import examples

OPTIONS = {"idempotent_activities": True}


def effects(result: Run) -> Counter[tuple[Any, ...]]:
    """Each effect row by (service, business reference, step): how often it was applied."""
    return Counter((row.service, row.ref, row.name) for row in result.state.effects)


def postings(result: Run) -> Counter[tuple[Any, ...]]:
    """Each money movement by (account, amount)."""
    return Counter((row.account, row.delta) for row in result.state.postings)


def check_equivalent(scenario: str, plan: FaultPlan, seed: int) -> Run:
    """Run the durable ``scenario`` under ``plan``; it must end as without faults.

    The services' databases are in memory: a simulated crash rolls back and drops a
    connection the same way there, and durability across processes is the SIGKILL
    suite's business (test_sqlite_kill.py), so thousands of plans skip the files.
    """
    with databases_in_memory():
        result = run(scenario, "durable", plan, seed=seed, **OPTIONS)
    durable = get_architecture("durable")  # the crash-free twin, cached by the run above
    baseline = durable.baseline(get_scenario(scenario), seed, durable.check_options(OPTIONS))
    story = f"under {plan}:\n{result}"
    assert result.outcome == baseline.outcome, story
    assert result.balances == baseline.balances, story
    assert sum(result.balances.values()) == result.scenario.total_money, story
    assert effects(result) == effects(baseline), story
    assert postings(result) == postings(baseline), story
    assert result.checks.ok, story
    return result


@settings(max_examples=examples(2000))
@given(plan=fault_plans("transfer", max_crashes=3, architecture="durable"), seed=seeds())
def test_durable_transfer_survives_any_three_crashes(plan: FaultPlan, seed: int) -> None:
    check_equivalent("transfer", plan, seed)


@settings(max_examples=examples(300, dev=20))
@given(plan=fault_plans("order_saga", max_crashes=3, architecture="durable"))
def test_durable_order_saga_survives_any_three_crashes(plan: FaultPlan) -> None:
    check_equivalent("order_saga", plan, 0)


def test_the_crash_free_transfer_is_what_the_property_compares_with() -> None:
    """The baseline is the talk's happy ending, so "the same as crash-free" means something."""
    baseline = run("transfer", "durable", **OPTIONS)
    assert baseline.outcome == "completed"
    assert baseline.balances == {"alice": 75, "bob": 75}
    assert effects(baseline)[("bank_b", "t1", "deposit")] == 1
