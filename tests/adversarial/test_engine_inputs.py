"""Issue 17.6: what a user passes to the engine is checked at the door, with a sentence.

Times that are no time (NaN, infinite, negative, not a number) would poison the event
heap; a seed that is no seed would make a run that cannot be repeated; a string where a
list of error names belongs would be split into letters; a fault naming a node the run
does not have could never fire. Each is refused before the run starts, naming the
argument, or (a crash whose moment never came) reported on the run, as ``durasim.run``
does.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import durasim
from durasim import Crash, Partition, RetryPolicy, Signal
from durasim.errors import FaultPlanError, WorkflowTaskError

NAN, INF = math.nan, math.inf


@durasim.workflow
async def Nap(ctx: Any, seconds: float = 1.0) -> str:
    await ctx.sleep(seconds)
    return "rested"


@pytest.mark.parametrize("at, error, words", [
    (NAN, ValueError, "NaN"), (INF, ValueError, "finite"), (-1, ValueError, "before time 0"),
    ("soon", TypeError, "number of seconds"), (True, TypeError, "number of seconds"),
])
def test_a_request_time_that_is_no_time_is_refused(at: Any, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        Signal("approve", at=at)


@pytest.mark.parametrize("field", ["initial_interval", "maximum_interval"])
@pytest.mark.parametrize("value", [NAN, -1.0, "1s"])
def test_retry_policy_intervals_are_numbers_of_seconds(field: str, value: Any) -> None:
    with pytest.raises((ValueError, TypeError), match=field):
        RetryPolicy(**{field: value})


def test_a_string_of_error_names_is_not_split_into_letters() -> None:
    with pytest.raises(TypeError, match=r"list of error type names.*'Boom'"):
        RetryPolicy(non_retryable_error_types="Boom")  # type: ignore[arg-type]
    assert RetryPolicy(non_retryable_error_types=["Boom"]).non_retryable_error_types == (
        ("Boom",))


@pytest.mark.parametrize("seed", [None, NAN, 1.5, "7"])
def test_execute_refuses_a_seed_as_run_does(seed: Any) -> None:
    with pytest.raises(TypeError, match="seed must be a whole number") as by_execute:
        durasim.execute(Nap, seed=seed)
    with pytest.raises(TypeError, match="seed must be a whole number") as by_run:
        durasim.run("transfer", "durable", seed=seed)
    assert str(by_execute.value) == str(by_run.value)


@pytest.mark.parametrize("seconds", [NAN, INF, -5])
def test_a_sleep_that_is_no_time_fails_the_workflow_task_naming_it(seconds: float) -> None:
    """Inside workflow code the refusal is a bug in that code: the task fails, as any
    exception there does, and the run waits for fixed code with the sentence shown."""
    run = durasim.execute(Nap, seconds)
    assert run.status == "running" and isinstance(run.error, WorkflowTaskError)
    assert "ctx.sleep's seconds" in str(run.error)


@pytest.mark.parametrize("fault", [
    Crash(node="mars", at_time=0.1),
    Partition(["worker", "mars"], start=0.0, end=1.0),
])
def test_a_fault_naming_a_node_the_run_lacks_is_refused(fault: Any) -> None:
    with pytest.raises(FaultPlanError, match=r"'mars', which this run does not have; "
                                             r"its nodes: client, server, worker"):
        durasim.execute(Nap, faults=[fault])


def test_a_crash_that_never_found_its_moment_is_reported_on_the_run() -> None:
    """Nap has no activity, so a crash at its 99th step never comes; the run says so
    instead of passing as if the crash had been survived."""
    never = Crash(at_step=99)
    run = durasim.execute(Nap, faults=[never, Crash(node="worker", at_time=0.5)])
    assert run.status == "completed"
    assert run.unfired == [never]
    assert "unfired=[Crash(at_step=99)]" in repr(run)
    assert "Crash(at_step=99) never fired" in run._repr_html_()
    assert durasim.execute(Nap, faults=[Crash(node="worker", at_time=0.5)]).unfired == []
