"""The checks: each verdict and its sentence, from hand-made end states."""

from __future__ import annotations

from typing import Any

import pytest

from durasim.architectures.base import Run
from durasim.architectures.state import Caller, Effect, Pending, Posting, RunState
from durasim.checks import (
    CheckReport,
    CheckResult,
    caller_informed,
    evaluate,
    exactly_once,
    money_conserved,
    nothing_stuck,
    same_outcome,
    times,
)
from durasim.faults import FaultPlan
from durasim.scenarios import get_scenario
from durasim.trace import Trace

TRANSFER = get_scenario("transfer")


def fake_run(done: list[str], *, outcome: str = "completed", pending: tuple[Pending, ...] = (),
             scenario: Any = TRANSFER, caller: Caller | None = None,
             amount: int = 25, explanation: str = "") -> Run:
    """A transfer run whose databases hold one effect row per name in ``done``."""
    effects: list[Effect] = []
    postings: list[Posting] = []
    balances = dict(scenario.accounts)
    moves = {"withdraw": ("alice", -amount), "deposit": ("bob", amount)}
    for i, name in enumerate(done, 1):
        effects.append(Effect("svc", i, scenario.key, scenario.step(name).number, name, name,
                              "{}"))
        if name in moves:
            account, delta = moves[name]
            balances[account] += delta
            postings.append(Posting("svc", i, scenario.key, account, delta))
    state = RunState(balances, effects=tuple(effects), postings=tuple(postings),
                     pending=pending, caller=caller)
    return Run(scenario=scenario, architecture="event_driven", options={}, faults=FaultPlan(),
               seed=0, trace=Trace(), state=state, outcome=outcome, logs={},
               explanation=explanation)


FULL = ["validate", "fraud_check", "withdraw", "record_ledger", "deposit", "notify"]
BASELINE = fake_run(FULL)


def test_times_reads_like_speech() -> None:
    assert [times(n) for n in (1, 2, 3, 5)] == ["once", "twice", "three times", "5 times"]


def test_money_conserved() -> None:
    assert money_conserved(BASELINE, BASELINE) == CheckResult(
        "money_conserved", True, "Money is conserved: the accounts hold 150 in total, as before.")


def test_money_destroyed_names_who_lost_and_who_never_received() -> None:
    half = fake_run(FULL[:4], outcome="lost")
    assert money_conserved(half, BASELINE).sentence == (
        "Money was destroyed: alice lost 25 but bob never received it; 25 is missing.")
    assert not money_conserved(half, BASELINE).ok


def test_money_created_by_a_double_deposit() -> None:
    double = fake_run([*FULL[:5], "deposit", "notify"])
    result = money_conserved(double, BASELINE)
    assert not result.ok
    assert result.sentence == ("Money was created: alice lost 25 but bob received 50 (25 "
                               "twice); 25 appeared from nowhere.")


def test_money_in_flight_is_conserved_but_said_so() -> None:
    waiting = fake_run(FULL[:4], outcome="stuck", pending=(
        Pending("t1", "waiting in the broker's 'deposit' queue", "the deposit event of t1", 5),))
    result = money_conserved(waiting, BASELINE)
    assert result.ok
    assert result.sentence == ("Money is conserved only counting 25 still in flight (waiting "
                               "in the broker's 'deposit' queue): the accounts hold 125 of 150.")
    stuck = nothing_stuck(waiting)
    assert not stuck.ok
    assert stuck.sentence == ("Something is stuck: the deposit event of t1 is waiting in the "
                              "broker's 'deposit' queue.")
    assert "(what is left is waiting in the broker's 'deposit' queue)" in exactly_once(
        waiting, BASELINE).sentence


def test_exactly_once_verdicts() -> None:
    assert exactly_once(BASELINE, BASELINE).sentence == (
        "Transfer t1 was applied exactly once (withdraw, record_ledger, deposit and notify "
        "once each).")
    assert exactly_once(fake_run(FULL[:2]), BASELINE).sentence == (
        "Transfer t1 was not applied at all.")
    half = exactly_once(fake_run(FULL[:4]), BASELINE)
    assert not half.ok
    assert half.sentence == ("Transfer t1 was half applied: withdraw and record_ledger ran but "
                             "deposit and notify never did.")
    twice = exactly_once(fake_run([*FULL, "withdraw", "deposit"]), BASELINE)
    assert not twice.ok
    assert twice.sentence == ("Transfer t1 was applied more than once: withdraw ran twice "
                              "(alice debited twice) and deposit ran twice (bob credited "
                              "twice).")


def test_pure_checks_may_run_twice() -> None:
    assert exactly_once(fake_run(["validate", *FULL]), BASELINE).ok


def test_compensations_cancel_what_they_undo() -> None:
    saga = get_scenario("order_saga")
    undone = fake_run(["reserve_stock", "charge_card", "refund_card", "release_stock"],
                      scenario=saga)
    assert exactly_once(undone).sentence == "Order o1 was fully undone by its compensations."
    partly = fake_run(["reserve_stock", "charge_card", "release_stock"], scenario=saga)
    assert exactly_once(partly).sentence == (
        "Order o1 was half applied: charge_card ran but reserve_stock was undone.")
    stopped = fake_run(["reserve_stock"], scenario=saga)
    baseline = fake_run(["reserve_stock", "charge_card", "ship"], scenario=saga)
    assert exactly_once(stopped, baseline).sentence == (
        "Order o1 was half applied: reserve_stock ran but charge_card and ship never did.")


def test_same_outcome() -> None:
    assert same_outcome(BASELINE, BASELINE).ok
    lost = fake_run(FULL[:4], outcome="lost", explanation="The event for step 5 vanished.")
    assert same_outcome(lost, BASELINE).sentence == (
        "Without the faults this run ended 'completed'; with them it ended 'lost' (the event "
        "for step 5 vanished).")
    double = fake_run([*FULL, "deposit"])
    result = same_outcome(double, BASELINE)
    assert not result.ok
    assert result.sentence == ("Same outcome as without the faults ('completed'), but "
                               "different balances: bob has 100 instead of 75.")
    assert same_outcome(fake_run(FULL), BASELINE).ok


def test_caller_informed_only_when_someone_waits() -> None:
    assert caller_informed(BASELINE) is None
    answered = fake_run(FULL, caller=Caller(True, {"ok": True}, attempts=2, applied=True))
    assert caller_informed(answered) == CheckResult(
        "caller_informed", True, "The caller got an answer after 2 attempts: it worked.")
    silent = fake_run([], caller=Caller(False, None, attempts=1, applied=False))
    result = caller_informed(silent)
    assert result is not None and not result.ok
    assert result.sentence.endswith("(it did not: nothing was committed).")


def test_report_iterates_indexes_and_renders() -> None:
    report = evaluate(fake_run(FULL[:4], outcome="lost"), BASELINE)
    assert [r.name for r in report] == ["money_conserved", "exactly_once", "nothing_stuck",
                                        "same_outcome"]
    assert not report.ok and len(report.failed) == 3
    assert report[2] is report["nothing_stuck"]
    with pytest.raises(KeyError, match="no check 'nope'"):
        report["nope"]
    text = str(report)
    assert text.splitlines()[0].startswith("✗ Money was destroyed")
    assert text.splitlines()[2].startswith("✓ Nothing is stuck")
    assert report._repr_html_().count("<li>") == 4
    assert "FAILED" in repr(report)
    assert CheckReport().ok
