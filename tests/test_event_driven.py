"""Event-driven: what each option buys, crash by crash.

The exhaustive test derives the expected number of executions of every step from the rule
of each option set (written out in ``expected_counts``), never from a previous output.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from durasim.api import run
from durasim.architectures.base import Run
from durasim.errors import ScenarioError
from durasim.faults import Crash, DropMessage, DuplicateMessage, FailActivity
from durasim.scenarios import get_scenario

TRANSFER = get_scenario("transfer")
N = len(TRANSFER.steps)
OPTION_SETS = [dict(zip(("at_least_once", "idempotent_consumers", "outbox"), flags, strict=True))
               for flags in itertools.product([False, True], repeat=3)]
SAFE = {"at_least_once": True, "idempotent_consumers": True, "outbox": True}


def counts(result: Run, scenario: Any = TRANSFER) -> list[int]:
    """How many times each forward step's operation committed, in step order."""
    return [sum(1 for e in result.state.effects if e.name == s.name)
            for s in scenario.steps]


def expected_counts(k: int, who: str, when: str, at_least_once: bool,
                    idempotent_consumers: bool, outbox: bool) -> list[int]:
    """The rule of each option set, for a crash of ``who`` at step ``k``.

    * A naive consumer acks on receipt: crashing before its commit loses the event (steps
      from k never run). Crashing after the commit loses the next event unless an outbox
      holds it (the relay publishes it after the restart).
    * At-least-once: no ack until the work is done, so the broker redelivers. Before the
      commit that is harmless; after it, step k runs again unless consumers are idempotent;
      with an outbox, both executions' events get published, so every later step runs
      twice too.
    * The broker crashing while storing step k's event: before storing, the event is lost
      unless its publisher waits for a confirm (at-least-once publishers, or the outbox
      relay, which never publishes step 1: the client does); after storing, a confirming
      publisher publishes again, so step k's event exists twice: every step from k runs
      twice unless consumers are idempotent.
    """
    once = [1] * N
    stop_before = [1 if j < k else 0 for j in range(1, N + 1)]
    stop_after = [1 if j <= k else 0 for j in range(1, N + 1)]
    twice_from_k = [2 if j >= k else 1 for j in range(1, N + 1)]
    twice_at_k = [2 if j == k else 1 for j in range(1, N + 1)]
    if who == "service":
        if when == "before_effect":
            return once if at_least_once else stop_before
        if at_least_once:
            if idempotent_consumers:
                return once
            return twice_from_k if outbox else twice_at_k
        return once if outbox else stop_after
    confirms = at_least_once or (outbox and k > 1)
    if when == "before_effect":
        return once if confirms else stop_before
    return twice_from_k if confirms and not idempotent_consumers else once


def lost_acks(result: Run) -> list[int]:
    """Steps whose ack reached the broker while it was down (so it will redeliver them)."""
    sent = {e.fields["id"]: e.fields["step"] for e in result.trace.filter(kind="send")}
    return [sent[e.fields["id"]] for e in result.trace.filter(node="broker", kind="lost")
            if e.fields["msg"] == "ack"]


@pytest.mark.parametrize("options", OPTION_SETS,
                         ids=lambda o: "+".join(k for k, v in o.items() if v) or "naive")
def test_every_step_every_node_both_whens(options: dict[str, bool]) -> None:
    """Exhaustive: 6 steps x {service, broker} x 2 whens, for this option set."""
    consistent = options["at_least_once"] and options["idempotent_consumers"]
    for step, who, when in itertools.product(TRANSFER.steps, ("service", "broker"),
                                             ("before_effect", "after_effect")):
        node = None if who == "service" else "broker"
        result = run("transfer", "event_driven", Crash(node=node, at_step=step.number,
                                                      when=when), **options)
        expected = expected_counts(step.number, who, when, **options)
        # A broker crash can also swallow an ack that was on its way (a race the seed
        # decides). The rule: the broker redelivers that message, so without idempotent
        # consumers the chain runs again from that step.
        for acked in lost_acks(result):
            assert who == "broker" and options["at_least_once"] and not options["outbox"]
            if not options["idempotent_consumers"]:
                expected = [c + (j >= acked) for j, c in enumerate(expected, 1)]
        where = f"{options} step {step.number} {who} {when}"
        assert result.unfired == [], where
        assert counts(result) == expected, where
        assert result.outcome == ("completed" if expected[-1] else "lost"), where
        withdrawn, deposited = expected[2], expected[4]
        assert result.balances == {"alice": 100 - 25 * withdrawn,
                                   "bob": 50 + 25 * deposited}, where
        checks = result.checks
        assert checks["money_conserved"].ok == (withdrawn == deposited), where
        assert checks["exactly_once"].ok == (len(set(expected[2:])) == 1
                                             and expected[2] <= 1), where
        assert checks["nothing_stuck"].ok, where
        # validate and fraud_check are pure checks: running them twice is harmless
        effects = [c for c, s in zip(expected, TRANSFER.steps, strict=True) if s.effect]
        assert checks.ok == (effects == [1] * len(effects)), where
        if consistent:
            assert checks.ok, where


def test_talks_case_naive_destroys_money() -> None:
    result = run("transfer", "event_driven", Crash(at_step=5))
    assert result.outcome == "lost"
    assert result.balances == {"alice": 75, "bob": 50}
    assert result.checks["money_conserved"].sentence == (
        "Money was destroyed: alice lost 25 but bob never received it; 25 is missing.")
    assert not result.checks["exactly_once"].ok
    assert "step 5 deposit vanished" in result.explanation
    assert any("acknowledged ev-5 on receipt" in line for line in result.logs["bank_b"])


def test_at_least_once_after_effect_deposits_twice() -> None:
    result = run("transfer", "event_driven", Crash(at_step=5, when="after_effect"),
                 at_least_once=True)
    assert result.outcome == "completed"
    assert result.balances == {"alice": 75, "bob": 100}
    assert "deposit ran twice (bob credited twice)" in result.checks["exactly_once"].sentence
    assert "bob received 50 (25 twice)" in result.checks["money_conserved"].sentence
    assert [e.fields["delivery"] for e in result.trace.filter(kind="redeliver")] == [2]


def test_at_least_once_before_effect_is_redelivered_and_completes() -> None:
    result = run("transfer", "event_driven", Crash(at_step=5), at_least_once=True)
    assert result.outcome == "completed"
    assert result.checks.ok
    assert result.balances == {"alice": 75, "bob": 75}


@pytest.mark.parametrize("step", range(1, N + 1))
@pytest.mark.parametrize("when", ["before_effect", "after_effect"])
def test_outbox_at_least_once_idempotent_is_consistent(step: int, when: str) -> None:
    result = run("transfer", "event_driven", Crash(at_step=step, when=when), **SAFE)
    assert result.checks.ok, str(result)
    assert result.balances == {"alice": 75, "bob": 75}


def test_dual_write_loses_the_next_event_and_the_outbox_keeps_it() -> None:
    naive = run("transfer", "event_driven", Crash(at_step=3, when="after_effect"))
    assert naive.balances == {"alice": 75, "bob": 50}
    assert naive.outcome == "lost"
    kept = run("transfer", "event_driven", Crash(at_step=3, when="after_effect"), outbox=True)
    assert kept.balances == {"alice": 75, "bob": 75}
    assert kept.checks.ok
    # the relay published the withdraw step's next event after the restart
    relay = [e for e in kept.trace.filter(node="bank_a", kind="publish")]
    assert relay and relay[0].time > 1.0


def test_a_service_that_never_returns_ends_in_the_dead_letter_queue() -> None:
    result = run("transfer", "event_driven", Crash(at_step=5, restart_after=None),
                 at_least_once=True, max_deliveries=3)
    assert result.outcome == "dead-lettered"
    assert [m.queue for m in result.state.queues["dead_letter"]] == ["deposit"]
    assert len(result.trace.filter(kind="dead_letter")) == 1
    stuck = result.checks["nothing_stuck"]
    assert not stuck.ok
    assert "the deposit event of t1 is in the dead-letter queue after 3 deliveries" in (
        stuck.sentence)
    # the money is not destroyed: it is visibly in flight
    assert result.checks["money_conserved"].ok
    assert "25 still in flight" in result.checks["money_conserved"].sentence


def test_transient_failures_are_retried_by_redelivery_or_lost_when_acked_early() -> None:
    healed = run("transfer", "event_driven", FailActivity("deposit", attempts=2),
                 at_least_once=True)
    assert healed.outcome == "completed" and healed.checks.ok
    assert len(healed.trace.filter(kind="redeliver")) == 2
    lost = run("transfer", "event_driven", FailActivity("deposit", attempts=1))
    assert lost.outcome == "lost"
    assert any("already acknowledged: the event is lost" in line
               for line in lost.logs["bank_b"])


def test_network_duplicates_need_idempotent_consumers() -> None:
    dup = DuplicateMessage(message="deposit")
    assert run("transfer", "event_driven", dup).balances["bob"] == 100
    assert run("transfer", "event_driven", dup, idempotent_consumers=True).balances["bob"] == 75


def test_a_dropped_delivery_is_redelivered_even_in_naive_mode() -> None:
    result = run("transfer", "event_driven", DropMessage(message="deposit"))
    assert result.outcome == "completed"
    assert result.checks.ok
    assert len(result.trace.filter(kind="redeliver")) == 1


def test_order_saga_compensates_in_reverse_order() -> None:
    saga = get_scenario("order_saga").with_params(deliverable=False)
    result = run(saga, "event_driven", at_least_once=True)
    assert result.outcome == "failed"
    names = [e.name for e in sorted(result.state.effects, key=lambda e: e.id)
             if e.service in ("payments", "inventory")]
    order = [e.fields["name"] for e in result.trace.filter(kind="step")
             if e.fields["phase"] == "effect"]
    assert order == ["reserve_stock", "charge_card", "refund_card", "release_stock"]
    assert sorted(names) == sorted(order)
    assert result.balances == {"carol": 100, "shop": 0}
    assert result.state.rows["inventory"]["stock"] == [{"item": "book", "qty": 3}]
    assert result.checks.ok
    assert "fully undone by its compensations" in result.checks["exactly_once"].sentence


def test_order_saga_with_a_crash_in_a_compensation() -> None:
    saga = get_scenario("order_saga").with_params(deliverable=False)
    naive = run(saga, "event_driven", Crash(at_step="refund_card"))
    assert naive.outcome == "failed"
    assert naive.balances == {"carol": 70, "shop": 30}
    assert "half applied" in naive.checks["exactly_once"].sentence
    safe = run(saga, "event_driven", Crash(at_step="refund_card", when="after_effect"), **SAFE)
    assert safe.checks.ok
    assert safe.balances == {"carol": 100, "shop": 0}


def test_each_service_writes_its_own_log() -> None:
    result = run("transfer", "event_driven", Crash(at_step=5))
    services = ["validation", "fraud", "bank_a", "ledger", "bank_b"]
    assert all(result.logs[name] for name in services)
    assert not any("deposit" in line for line in result.logs["bank_a"])
    assert result.logs["notifications"] == []  # it never heard of the transfer


def test_same_seed_same_trace_and_seeds_matter() -> None:
    plan = [Crash(at_step=4, when="after_effect"), DuplicateMessage(message="notify")]
    first = run("transfer", "event_driven", plan, seed=7, at_least_once=True)
    again = run("transfer", "event_driven", plan, seed=7, at_least_once=True)
    other = run("transfer", "event_driven", plan, seed=8, at_least_once=True)
    assert first.trace.digest() == again.trace.digest()
    assert first.logs == again.logs
    assert first.trace.digest() != other.trace.digest()


def test_unknown_options_and_nodes_are_refused_with_sentences() -> None:
    with pytest.raises(ScenarioError, match=r"no option 'exactly_once'.*at_least_once"):
        run("transfer", "event_driven", exactly_once=True)
    with pytest.raises(TypeError, match=r"'outbox'.*True or False"):
        run("transfer", "event_driven", outbox="yes")
    with pytest.raises(ScenarioError, match=r"node 'worker'.*its nodes: broker"):
        run("transfer", "event_driven", Crash(node="worker", at_step=5))
    with pytest.raises(ScenarioError, match=r"does not run scenario 'payroll'.*durable"):
        run("payroll", "event_driven")
