"""Attacks on the kernel's and the fault plan's inputs: times, counts, and runs with no end.

Every bad time is refused at the door with a sentence: NaN compares false with everything,
and once on the event heap it silently stalled every event behind it. Every run ends at its
horizon, with what is stuck said by its checks, in bounded memory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import durasim
from durasim.architectures.base import HORIZON
from durasim.architectures.durable import DURABLE_HORIZON
from durasim.core import Simulation, Timeout
from durasim.errors import FaultPlanError
from durasim.faults import (
    MAX_COPIES,
    Crash,
    DelayMessage,
    DropMessage,
    DuplicateMessage,
    FaultPlan,
    Partition,
)
from durasim.network import Network

NAN, INF = math.nan, math.inf


def shown(value: Any) -> str:
    """A test id that is the same in every process (no memory addresses), so parallel
    workers collect the same tests."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))

NOT_NUMBERS: list[Any] = ["1", None, True, [1.0], object()]
BAD_DELAYS: list[Any] = [NAN, INF, -INF, -1, -0.5, *NOT_NUMBERS]


def error_for(value: Any) -> type[Exception]:
    """A time of the wrong type is a TypeError; a number that is no time is a ValueError."""
    return ValueError if isinstance(value, float | int) and not isinstance(value, bool) \
        else TypeError


# -- the kernel -------------------------------------------------------------------------

@pytest.mark.parametrize("delay", BAD_DELAYS, ids=shown)
def test_a_timeout_refuses_a_delay_that_is_no_time(delay: Any) -> None:
    sim = Simulation()
    with pytest.raises(error_for(delay), match=r"^Simulation\.timeout: delay .+"):
        sim.timeout(delay)
    assert sim.peek() == INF, "nothing reached the heap"


@pytest.mark.parametrize("delay", BAD_DELAYS, ids=shown)
def test_schedule_refuses_a_delay_that_is_no_time(delay: Any) -> None:
    sim = Simulation()
    with pytest.raises(error_for(delay), match=r"^Simulation\.schedule: delay .+"):
        sim.schedule(delay, lambda: None)
    assert sim.peek() == INF


@pytest.mark.parametrize("when", [NAN, INF, -1.0, 4.0, *NOT_NUMBERS], ids=shown)
def test_schedule_at_refuses_a_time_that_is_no_time_or_past(when: Any) -> None:
    sim = Simulation()
    sim.schedule(5.0, lambda: None)
    sim.run()
    with pytest.raises(error_for(when), match=r"^Simulation\.schedule_at: when.+"):
        sim.schedule_at(when, lambda: None)


def test_a_refused_nan_leaves_every_later_event_running() -> None:
    sim = Simulation()
    ran: list[float] = []
    for t in (1.0, 2.0, 3.0):
        sim.schedule(t, lambda: ran.append(sim.now))
    with pytest.raises(ValueError, match="NaN"):
        sim.schedule(NAN, lambda: ran.append(-1.0))
    with pytest.raises(ValueError, match="NaN"):
        sim.timeout(NAN)
    sim.run()
    assert ran == [1.0, 2.0, 3.0]


def test_a_delay_that_overflows_the_clock_is_refused() -> None:
    sim = Simulation()
    sim.schedule(1e308, lambda: None)
    sim.run()
    with pytest.raises(ValueError, match="beyond the largest time"):
        sim.timeout(1e308)
    with pytest.raises(ValueError, match="beyond the largest time"):
        sim.schedule(1e308, lambda: None)


@pytest.mark.parametrize("until, error", [
    (NAN, ValueError), (-1.0, ValueError), ("10", TypeError), (True, TypeError)], ids=shown)
def test_run_refuses_a_horizon_that_is_no_time(until: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"^Simulation\.run: until"):
        Simulation().run(until=until)


@pytest.mark.parametrize("max_steps, error", [
    (-1, ValueError), (1.5, TypeError), (True, TypeError), ("3", TypeError)], ids=shown)
def test_run_refuses_a_step_budget_that_is_no_count(max_steps: Any,
                                                    error: type[Exception]) -> None:
    with pytest.raises(error, match=r"^Simulation\.run: max_steps"):
        Simulation().run(max_steps=max_steps)


def test_run_stops_at_its_horizon_exactly_however_far_the_next_event() -> None:
    sim = Simulation()
    ran: list[float] = []
    sim.schedule(3.0, lambda: ran.append(sim.now))
    sim.schedule(7.0, lambda: ran.append(sim.now))
    sim.schedule(1e300, lambda: ran.append(sim.now))
    assert sim.run(until=7.0) == 2, "an event at the horizon itself runs"
    assert (ran, sim.now) == ([3.0, 7.0], 7.0)
    assert sim.run(until=1e12) == 0
    assert sim.now == 1e12 and sim.peek() == 1e300
    sim.run(until=INF)
    assert ran[-1] == 1e300


def test_a_timeout_is_made_only_by_the_simulation() -> None:
    with pytest.raises(TypeError, match=r"Simulation\.timeout"):
        Timeout(Simulation(), 1.0)  # type: ignore[call-arg]


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10**400, 10**400))
def test_a_timeout_either_lands_on_the_clock_or_is_refused(delay: float) -> None:
    sim = Simulation()
    try:
        event = sim.timeout(delay)
    except ValueError as exc:
        assert "\n" not in str(exc)
        assert not 0 <= delay < 1e308 or (delay > 0 and sim.now + delay == INF)
        return
    assert delay >= 0 and math.isfinite(sim.now + delay)
    sim.run()
    assert event.callbacks is None and sim.now == 0.0 + delay


@pytest.mark.parametrize("latency", [
    (NAN, 1.0), (0.0, NAN), (0.0, INF), (-1.0, 1.0), (2.0, 1.0), (True, 1.0), ("a", "b"),
    (1.0,), 5.0], ids=shown)
def test_a_network_refuses_a_latency_that_is_no_time(latency: Any) -> None:
    with pytest.raises(ValueError, match="latency must be"):
        Network(Simulation(), latency=latency)


# -- the fault plan ---------------------------------------------------------------------

TIME_FIELDS: dict[str, Callable[[Any], Any]] = {
    "Crash.at_time": lambda v: Crash(at_time=v),
    "Crash.restart_after": lambda v: Crash(at_step=5, restart_after=v),
    "Partition.start": lambda v: Partition(("a",), start=v, end=1e9),
    "Partition.end": lambda v: Partition(("a",), start=0.0, end=v),
    "DelayMessage.by": lambda v: DelayMessage(by=v),
}


@pytest.mark.parametrize("field", TIME_FIELDS)
@pytest.mark.parametrize("value", [NAN, -1.0, -INF, "5", True, [1.0]], ids=shown)
def test_every_time_field_refuses_what_is_no_time(field: str, value: Any) -> None:
    with pytest.raises(FaultPlanError, match=rf"^{field}: must be .+"):
        TIME_FIELDS[field](value)


@pytest.mark.parametrize("field, hint", [
    ("Crash.at_time", "leave out"), ("Crash.restart_after", "None means"),
    ("Partition.start", ""), ("DelayMessage.by", "DropMessage")])
def test_infinity_is_refused_where_it_means_nothing_with_what_to_write(field: str,
                                                                     hint: str) -> None:
    with pytest.raises(FaultPlanError, match=rf"^{field}: must be finite, got inf.*{hint}"):
        TIME_FIELDS[field](INF)


def test_a_partition_may_never_heal_and_says_so_in_json() -> None:
    forever = Partition(("a",), start=2.0)
    assert forever.end == INF
    assert FaultPlan.from_json(FaultPlan([forever]).to_json()).faults == (forever,)
    with pytest.raises(FaultPlanError, match=r"Partition\.end: must be a number.+, got NaN"):
        FaultPlan.from_json('[{"kind": "Partition", "nodes": ["a"], "end": NaN}]')


@pytest.mark.parametrize("make, field", [
    (lambda v: DuplicateMessage(copies=v), "copies"),
    (lambda v: DropMessage(nth=v), "nth"),
    (lambda v: Crash(after_events=v), "after_events"),
])
@pytest.mark.parametrize("value", [0, -3, 1.5, NAN, True, "2", [2]], ids=shown)
def test_every_count_refuses_what_is_no_count(make: Callable[[Any], Any], field: str,
                                              value: Any) -> None:
    with pytest.raises(FaultPlanError, match=rf"\.{field}: must be an integer >= 1"):
        make(value)


def test_duplicates_are_capped_where_a_run_would_never_end_in_practice() -> None:
    assert DuplicateMessage(copies=MAX_COPIES).copies == MAX_COPIES
    with pytest.raises(FaultPlanError, match=r"copies: must be at most 100,000, got 10,000,000"):
        DuplicateMessage(copies=10_000_000)


number_like = (st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10**30, 10**30)
               | st.booleans() | st.none() | st.text(max_size=3))


@given(st.sampled_from(sorted(TIME_FIELDS)), number_like)
def test_a_time_field_holds_a_time_or_the_fault_is_refused(field: str, value: Any) -> None:
    try:
        fault = TIME_FIELDS[field](value)
    except FaultPlanError as exc:  # names this field, or the one it contradicts
        assert "\n" not in str(exc) and str(exc).startswith(field.split(".")[0] + ".")
        return
    held = getattr(fault, field.split(".")[1])
    if held is None:
        assert field == "Crash.restart_after"
        return
    assert not isinstance(held, bool) and isinstance(held, int | float)
    assert held >= 0 and (math.isfinite(held) or field == "Partition.end")


# -- runs with no end -------------------------------------------------------------------

def failing(run: Any) -> list[str]:
    return [check.sentence for check in run.checks if not check.ok]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("architecture, node", [
    ("event_driven", "broker"), ("event_driven", "bank_b"), ("durable", "server"),
    ("durable", "worker"), ("durable", "bank_b"), ("monolith", "app")])
def test_a_partition_that_never_heals_ends_in_a_failing_check(architecture: str,
                                                             node: str) -> None:
    run = durasim.run("transfer", architecture, Partition((node,), start=0.0))
    assert run.outcome != "completed"
    assert failing(run), "the checks must say what the partition did"
    # Bounded: today's durable run retried across the cut for two virtual years (13.8 GB).
    assert len(run.trace) < 100_000
    horizon = DURABLE_HORIZON if architecture == "durable" else HORIZON
    assert max(event.time for event in run.trace) <= horizon


@pytest.mark.timeout(120)
def test_a_partition_past_the_horizon_ends_the_durable_run_as_stuck() -> None:
    run = durasim.run("transfer", "durable", Partition(("server",), start=0.0, end=1e12))
    assert run.outcome == "stuck"
    assert any("stuck" in message for message in failing(run))
    assert len(run.trace) < 100_000


@pytest.mark.timeout(120)
@pytest.mark.parametrize("architecture", ["monolith", "event_driven", "durable"])
def test_a_message_delayed_by_1e308_ends_the_run_in_bounded_time(architecture: str) -> None:
    run = durasim.run("transfer", architecture, DelayMessage(by=1e308))
    assert len(run.trace) < 100_000
    assert max(event.time for event in run.trace) < 1e300, "it never arrives in the run"
    if run.outcome != "completed":
        assert failing(run)


@pytest.mark.timeout(120)
def test_later_messages_overtake_a_delayed_one_on_a_fifo_link() -> None:
    run = durasim.run("transfer", "durable", DelayMessage(message="WorkflowTask", by=1e308))
    assert run.outcome == "completed", "the retried workflow task is not stuck behind it"
    assert len(run.trace) < 10_000


@pytest.mark.timeout(120)
@pytest.mark.parametrize("architecture, node", [
    ("event_driven", "broker"), ("durable", "server"), ("durable", "worker")])
def test_a_node_that_never_restarts_ends_in_a_failing_check(architecture: str,
                                                           node: str) -> None:
    run = durasim.run("transfer", architecture,
                      Crash(node=node, at_time=0.02, restart_after=None))
    assert failing(run)
    assert len(run.trace) < 100_000
