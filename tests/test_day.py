"""A bank's day: many transfers on one system, crashes drawn from the seed (issue 16.1)."""

from __future__ import annotations

from typing import Any

import pytest

import durasim
from durasim import Crash, FaultPlan
from durasim.days import OUTCOMES, Day, plan_day
from durasim.errors import ScenarioError
from durasim.faults import FaultPlanError
from durasim.scenarios import get_scenario
from durasim.viz.day import day_figure

SMALL = {"transfers": 120, "crash_rate": 0.2, "seed": 3}
NOTEBOOK = {"transfers": 400, "crash_rate": 0.05, "seed": 0}
"""The day notebook 07 runs: its prose reads the lessons below off this day's table."""


def days_of(figures: dict[str, Any]) -> dict[str, Day]:
    """The same day on every architecture, and on durable with idempotent activities."""
    found = {name: durasim.day("transfer", name, **figures)
             for name in ("monolith", "event_driven", "durable")}
    found["durable+keys"] = durasim.day("transfer", "durable", idempotent_activities=True,
                                        **figures)
    return found


@pytest.fixture(scope="module")
def days() -> dict[str, Day]:
    """The small day, on every architecture."""
    return days_of(SMALL)


def test_the_same_seed_gives_the_same_day_table_and_trace() -> None:
    for architecture in ("monolith", "event_driven", "durable"):
        first = durasim.day("transfer", architecture, transfers=30, crash_rate=0.2, seed=7,
                            trace=True)
        again = durasim.day("transfer", architecture, transfers=30, crash_rate=0.2, seed=7,
                            trace=True)
        assert len(first.trace) > 30 * 20
        assert first.trace.digest() == again.trace.digest()
        assert first.table() == again.table() and first.outcomes == again.outcomes
        other = durasim.day("transfer", architecture, transfers=30, crash_rate=0.2, seed=8,
                            trace=True)
        assert other.trace.digest() != first.trace.digest()


def test_one_day_is_one_simulation_of_every_transfer(days: dict[str, Day]) -> None:
    for day in days.values():
        assert day.transfers == SMALL["transfers"]
        assert set(day.outcomes.values()) <= set(OUTCOMES)
        assert sum(day.table()[word] for word in OUTCOMES) == day.transfers
        assert day.faults == days["durable"].faults  # the same crashes everywhere
        assert 0 < len(day.faults) < day.transfers
        assert all(isinstance(f, Crash) and f.ref in day.outcomes for f in day.faults)


@pytest.mark.parametrize("figures", [SMALL, NOTEBOOK], ids=["small", "notebook"])
def test_each_architecture_shows_its_lesson_at_scale(figures: dict[str, Any]) -> None:
    days = days_of(figures)
    monolith, events = days["monolith"], days["event_driven"]
    durable, keys = days["durable"], days["durable+keys"]
    assert monolith.created == monolith.destroyed == 0  # one transaction: all or nothing
    assert monolith.counts["rolled back"] > 0
    assert events.destroyed > 0 and events.counts["lost"] > 0  # naive events lose money
    assert durable.counts["lost"] == durable.counts["stuck"] == 0  # every transfer finishes
    assert durable.counts["duplicated"] > 0  # at least once: a crash after an effect repeats it
    assert keys.created == keys.destroyed == 0 and keys.counts["duplicated"] == 0
    assert keys.counts["completed"] + keys.counts["failed"] == keys.transfers
    # the money each transfer left behind adds up to the day's
    for day in days.values():
        assert day.created == -sum(v for v in day.net.values() if v < 0)
        assert day.destroyed + day.money.in_flight == sum(v for v in day.net.values() if v > 0)


def test_a_day_without_crashes_completes_or_refuses_every_transfer() -> None:
    for architecture in ("monolith", "event_driven", "durable"):
        calm = durasim.day("transfer", architecture, transfers=60, crash_rate=0.0, seed=1)
        assert not calm.faults
        assert calm.counts["completed"] + calm.counts["failed"] == 60, calm
        assert calm.created == calm.destroyed == 0


def test_the_day_plan_is_drawn_from_the_seed() -> None:
    transfer = get_scenario("transfer")
    bank, arrivals, plan = plan_day(transfer, transfers=50, crash_rate=0.5, seed=4)
    again = plan_day(transfer, transfers=50, crash_rate=0.5, seed=4)
    assert (bank.accounts, [(a, p.params) for a, p in arrivals], plan) == (
        again[0].accounts, [(a, p.params) for a, p in again[1]], again[2])
    times = [at for at, _ in arrivals]
    assert times == sorted(times) and len({p.key for _, p in arrivals}) == 50
    for _, process in arrivals:
        assert bank.homes[process.params["src"]] == "bank_a"
        assert bank.homes[process.params["dst"]] == "bank_b"


def test_a_crash_for_one_transfer_hits_only_that_transfer() -> None:
    crash = Crash(at_step="deposit", when="after_effect", ref="t2")
    assert FaultPlan.from_json(FaultPlan([crash]).to_json()) == FaultPlan([crash])
    assert "ref" not in FaultPlan([Crash(at_step=5)]).to_dict()["faults"][0]
    with pytest.raises(FaultPlanError, match=r"ref.*at_step"):
        Crash(at_time=3.0, ref="t2")
    # the single transfer is "t1": a crash planned for t2 never fires
    result = durasim.run("transfer", "event_driven", crash)
    assert result.outcome == "completed" and result.unfired == [crash]


def test_bad_days_are_refused_with_a_sentence() -> None:
    with pytest.raises(ValueError, match="crash_rate is a probability"):
        durasim.day("transfer", "durable", transfers=5, crash_rate=1.5)
    with pytest.raises(ScenarioError, match="runs transfers"):
        durasim.day("order_saga", "durable", transfers=5)
    with pytest.raises(ValueError, match="transfers must be >= 1"):
        durasim.day("transfer", "durable", transfers=0)
    with pytest.raises(ScenarioError, match="no option"):
        durasim.day("transfer", "monolith", transfers=5, outbox=True)


def test_the_day_picture_draws_every_architecture(days: dict[str, Day]) -> None:
    figure = days["monolith"].show(days["event_driven"], days["durable"])
    assert figure is not None and figure is not day_figure  # drawn by durasim.viz
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels == ["durable", "event_driven", "monolith"]
    with pytest.raises(ValueError, match="at least one day"):
        day_figure([])
