"""No false lessons: a bug in the model stops the run loudly instead of posing as a fault.

A student who sees "the event for step 4 vanished" learns that event-driven systems lose
events; if a typo in the model is what really lost it, the lesson is false. Every
exception that model code raises, and that is not a simulated crash, must reach the
person running the simulation as a :class:`~durasim.errors.ModelError`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import durasim
from durasim.errors import ModelError
from durasim.faults import FailActivity
from durasim.scenarios import Scenario, get_scenario


def with_typo(op: str = "record_ledgr") -> Scenario:
    """The transfer whose step 4 asks the ledger for an operation that does not exist."""
    transfer = get_scenario("transfer")
    steps = tuple(dataclasses.replace(s, op=op) if s.name == "record_ledger" else s
                  for s in transfer.steps)
    return dataclasses.replace(transfer, steps=steps)


@pytest.mark.parametrize("architecture", ["monolith", "event_driven"])
def test_a_typo_in_a_step_operation_is_a_model_error_naming_it(architecture: str) -> None:
    with pytest.raises(ModelError, match="record_ledgr") as caught:
        durasim.run(with_typo(), architecture)
    error = caught.value
    assert error.node in ("app", "ledger") and error.process and error.time > 0
    assert isinstance(error.__cause__, ValueError)


def test_a_crash_is_still_silent() -> None:
    """The injected fault is the lesson: it ends the run normally, with checks."""
    result = durasim.run("transfer", "event_driven", durasim.Crash(at_step=5))
    assert result.outcome == "lost" and not result.checks["money_conserved"].ok


def test_an_exception_in_a_checker_is_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise KeyError("balances")

    monkeypatch.setattr("durasim.checks.money_conserved", broken)
    with pytest.raises(KeyError, match="balances"):
        durasim.run("transfer", "monolith", durasim.Crash(at_step=3))


@pytest.mark.parametrize("bug", ["typo", "checker"])
def test_a_bug_under_a_widget_callback_is_raised_not_shown_as_a_lesson(
        bug: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from durasim.widgets import CrashLab
    from durasim.widgets.base import ERROR_CLASS

    lab = CrashLab()
    lab.step.value = 4
    if bug == "typo":
        monkeypatch.setattr("durasim.api.get_scenario", lambda _: with_typo())
        error, match = ModelError, "record_ledgr"
    else:
        def broken(*_: object) -> None:
            raise KeyError("balances")

        monkeypatch.setattr("durasim.checks.money_conserved", broken)
        error, match = KeyError, "balances"
    with pytest.raises(error, match=match):
        lab._on_run()
    assert ERROR_CLASS in lab.output.value and error.__name__ in lab.output.value


def test_retry_backoff_is_finite_for_any_attempt() -> None:
    from durasim.engine.retry import RetryPolicy

    policy = RetryPolicy()
    assert [policy.backoff(n) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert policy.backoff(10_000) == policy.backoff(10**9) == 100.0
    assert RetryPolicy(backoff_coefficient=1.0).backoff(10**6) == 1.0


def test_a_node_that_never_comes_back_is_a_check_not_an_overflow() -> None:
    """Retrying a service that is gone for good: thousands of attempts, a finite backoff."""
    result = durasim.run("transfer", "durable",
                         [durasim.Crash(node="bank_b", at_time=0.05, restart_after=None)])
    assert result.outcome == "stuck"
    stuck = result.checks["nothing_stuck"]
    assert not stuck.ok and "bank_b crashed at 0.05 s and never came back" in stuck.sentence


# -- one meaning per fault ---------------------------------------------------------------

def started_attempts(history: Any, activity: str) -> list[int]:
    """The attempt of every ActivityTaskStarted of ``activity`` in a history."""
    scheduled = {e.event_id: e.attributes["activityType"] for e in history
                 if e.event_type.value == "ActivityTaskScheduled"}
    return [e.attributes["attempt"] for e in history
            if e.event_type.value == "ActivityTaskStarted"
            and scheduled[e.attributes["scheduledEventId"]] == activity]


def test_fail_activity_fails_the_first_attempts_on_every_architecture() -> None:
    """FailActivity("deposit", attempts=2): tries 1 and 2 fail, try 3 deposits, once."""
    fault = FailActivity("deposit", attempts=2)
    monolith = durasim.run("transfer", "monolith", fault, client_retries=2)
    assert monolith.outcome == "completed" and monolith.state.caller is not None
    assert monolith.state.caller.attempts == 3
    short = durasim.run("transfer", "monolith", fault, client_retries=1)
    assert short.outcome == "failed"
    event_driven = durasim.run("transfer", "event_driven", fault, at_least_once=True)
    redelivered = event_driven.trace.filter(kind="redeliver", semantic=True)
    assert event_driven.outcome == "completed"
    assert [e.fields["delivery"] for e in redelivered if e.fields["queue"] == "deposit"] == [2, 3]
    durable = durasim.run("transfer", "durable", fault)
    assert durable.outcome == "completed" and started_attempts(durable.history, "deposit") == [3]
    for result in (monolith, event_driven, durable):
        assert result.balances == {"alice": 75, "bob": 75}, result

    @durasim.activity
    async def deposit(account: str) -> str:
        return account

    @durasim.workflow
    async def Deposit(ctx: durasim.engine.WorkflowContext) -> str:
        return str(await ctx.activity(deposit, "bob"))

    executed = durasim.execute(Deposit, faults=fault)
    assert started_attempts(executed.history, "deposit") == [3]


def test_fail_activity_counts_each_activity_of_each_process_on_its_own() -> None:
    """Three deposits, each failing its first attempt: per instance, never per name."""
    @durasim.activity
    async def deposit(account: str) -> str:
        return account

    @durasim.workflow
    async def ThreeDeposits(ctx: durasim.engine.WorkflowContext) -> list[str]:
        return [await ctx.activity(deposit, who) for who in ("ana", "bea", "eva")]

    executed = durasim.execute(ThreeDeposits, faults=FailActivity("deposit", attempts=1))
    assert started_attempts(executed.history, "deposit") == [2, 2, 2]
    payroll = durasim.run("payroll", "durable", FailActivity("deposit", attempts=1))
    failures = [e for e in payroll.trace.filter(kind="rollback", semantic=True)
                if "injected failure" in str(e.fields.get("reason"))]
    employees = payroll.scenario.params["employees"]
    assert payroll.outcome == "completed" and len(failures) == len(employees) == 3
