"""``durasim.exercises``: a right answer passes, and each wrong answer is told what is wrong.

A checker that accepts wrong answers teaches the wrong thing, and one that rejects with
"assert failed" teaches nothing; so every mistake a student is likely to make is here,
with the kind of problem and the words of the fix it must receive.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

import durasim
from durasim import exercises
from durasim.exercises import release_stock, reserve_stock, ship_order, shop
from durasim.exercises.event_driven import _DUPLICATE_FIX

# ------------------------------------------------------------------ exercise 1


def test_the_right_options_pass() -> None:
    feedback = exercises.check_event_driven({"at_least_once": True,
                                             "idempotent_consumers": True})
    assert feedback.ok, str(feedback)
    assert len(feedback.passed) == 4  # the service and the broker, before and after
    assert "correct" in str(feedback)


def test_all_three_options_pass_with_a_note_about_the_outbox() -> None:
    feedback = exercises.check_event_driven(at_least_once=True, idempotent_consumers=True,
                                            outbox=True)
    assert feedback.ok
    assert any("outbox=True is not needed" in n for n in feedback.notes)


def test_the_naive_system_loses_the_event_and_is_told_to_ack_after_processing() -> None:
    feedback = exercises.check_event_driven({})
    assert not feedback.ok
    assert feedback.kinds == ["lost"]
    assert any("at_least_once=True" in f for f in feedback.fixes)
    lost = feedback.problems[0]
    assert "step 5" in lost.case
    assert "Money was destroyed" in lost.sentence


def test_at_least_once_alone_deposits_twice_and_is_told_to_be_idempotent() -> None:
    feedback = exercises.check_event_driven({"at_least_once": True})
    assert feedback.kinds == ["duplicate"]
    assert all("after the effect" in p.case for p in feedback.problems)
    assert "deposit" in feedback.problems[0].sentence
    assert "twice" in feedback.problems[0].sentence
    assert feedback.fixes == [_DUPLICATE_FIX]


def test_outbox_alone_is_not_enough() -> None:
    feedback = exercises.check_event_driven({"outbox": True})
    assert set(feedback.kinds) == {"lost", "duplicate"}
    assert len(feedback.fixes) == 2


def test_every_step_can_be_asked_for() -> None:
    feedback = exercises.check_event_driven({"at_least_once": True}, steps="all")
    cases = {p.case.split(" on ")[0] for p in feedback.problems}
    assert len(cases) > 1, "crashes at other steps than 5 were not run"


@pytest.mark.parametrize("answer, words", [
    ({"magic": True}, "has no option 'magic'"),
    ({"outbox": 1}, "must be True or False"),
    ("outbox", "must be a dict"),
])
def test_malformed_answers_are_explained_not_raised(answer: Any, words: str) -> None:
    feedback = exercises.check_event_driven(answer)
    assert feedback.kinds == ["bad_option"]
    assert words in feedback.problems[0].sentence


# ------------------------------------------------------------------ exercise 2: answers


@durasim.activity
def charge_card(order: dict[str, Any]) -> int:
    key = durasim.activity_info().idempotency_key
    return shop().charge(order["id"], order["customer"], order["price"], key=key)


@durasim.activity
def refund_card(order: dict[str, Any]) -> int:
    key = durasim.activity_info().idempotency_key
    return shop().refund(order["id"], order["customer"], order["price"], key=key)


@durasim.activity
def charge_card_without_key(order: dict[str, Any]) -> int:
    return shop().charge(order["id"], order["customer"], order["price"])


@durasim.workflow
async def Saga(ctx: Any, order: dict[str, Any]) -> str:
    return await _saga_steps(ctx, order)


async def _saga_steps(ctx: Any, order: dict[str, Any]) -> str:
    """A correct answer's steps (its own awaits: workflow code may call helpers)."""
    await ctx.activity(reserve_stock, order)
    try:
        await ctx.activity(charge_card, order)
    except durasim.ActivityError:
        await ctx.activity(release_stock, order)
        return "declined"
    try:
        await ctx.activity(ship_order, order)
    except durasim.ActivityError:
        await ctx.activity(refund_card, order)
        await ctx.activity(release_stock, order)
        return "cancelled"
    return "shipped"


@durasim.workflow
async def SagaThatFails(ctx: Any, order: dict[str, Any]) -> str:
    """Compensates, then lets the workflow fail: a valid way to report it."""
    done = []
    try:
        await ctx.activity(reserve_stock, order)
        done.append(release_stock)
        await ctx.activity(charge_card, order)
        done.append(refund_card)
        await ctx.activity(ship_order, order)
    except durasim.ActivityError:
        for undo in reversed(done):
            await ctx.activity(undo, order)
        raise
    return "shipped"


@durasim.workflow
async def NoCompensation(ctx: Any, order: dict[str, Any]) -> str:
    await ctx.activity(reserve_stock, order)
    await ctx.activity(charge_card, order)
    await ctx.activity(ship_order, order)
    return "shipped"


@durasim.workflow
async def ForwardOrderUndo(ctx: Any, order: dict[str, Any]) -> str:
    await ctx.activity(reserve_stock, order)
    try:
        await ctx.activity(charge_card, order)
    except durasim.ActivityError:
        await ctx.activity(release_stock, order)
        return "declined"
    try:
        await ctx.activity(ship_order, order)
    except durasim.ActivityError:
        await ctx.activity(release_stock, order)
        await ctx.activity(refund_card, order)
        return "cancelled"
    return "shipped"


@durasim.workflow
async def RefundsWhatWasNeverCharged(ctx: Any, order: dict[str, Any]) -> str:
    await ctx.activity(reserve_stock, order)
    try:
        await ctx.activity(charge_card, order)
        await ctx.activity(ship_order, order)
    except durasim.ActivityError:
        await ctx.activity(refund_card, order)
        await ctx.activity(release_stock, order)
        return "cancelled"
    return "shipped"


@durasim.workflow
async def WithoutIdempotencyKey(ctx: Any, order: dict[str, Any]) -> str:
    await ctx.activity(reserve_stock, order)
    try:
        await ctx.activity(charge_card_without_key, order)
    except durasim.ActivityError:
        await ctx.activity(release_stock, order)
        return "declined"
    try:
        await ctx.activity(ship_order, order)
    except durasim.ActivityError:
        await ctx.activity(refund_card, order)
        await ctx.activity(release_stock, order)
        return "cancelled"
    return "shipped"


@durasim.workflow
async def ChargesFromWorkflowCode(ctx: Any, order: dict[str, Any]) -> str:
    await ctx.activity(reserve_stock, order)
    try:
        shop().charge(order["id"], order["customer"], order["price"])
    except durasim.ApplicationError:
        await ctx.activity(release_stock, order)
        return "declined"
    try:
        await ctx.activity(ship_order, order)
    except durasim.ActivityError:
        await ctx.activity(refund_card, order)
        await ctx.activity(release_stock, order)
        return "cancelled"
    return "shipped"


@durasim.workflow
async def ReadsTheClock(ctx: Any, order: dict[str, Any]) -> str:
    stamped = {**order, "at": time.time()}
    await ctx.activity(reserve_stock, order)
    try:
        await ctx.activity(charge_card, stamped)
    except durasim.ActivityError:
        await ctx.activity(release_stock, order)
        return "declined"
    try:
        await ctx.activity(ship_order, order)
    except durasim.ActivityError:
        await ctx.activity(refund_card, order)
        await ctx.activity(release_stock, order)
        return "cancelled"
    return "shipped"


@durasim.workflow
async def ChargesDouble(ctx: Any, order: dict[str, Any]) -> str:
    await ctx.activity(reserve_stock, order)
    await ctx.activity(charge_card, {**order, "price": 2 * order["price"]})
    await ctx.activity(ship_order, order)
    return "shipped"


# ------------------------------------------------------------------ exercise 2: checks


@pytest.mark.parametrize("answer", [Saga, SagaThatFails])
def test_a_right_saga_passes_every_order_and_every_crash(answer: Any) -> None:
    feedback = exercises.check_workflow(answer)
    assert feedback.ok, str(feedback)
    assert len(feedback.passed) == 6  # three orders, crash-free and under crashes
    assert any("under" in p and "crashes" in p for p in feedback.passed)


def test_no_compensation_is_named_for_both_failing_orders() -> None:
    feedback = exercises.check_workflow(NoCompensation)
    assert feedback.kinds == ["missing_compensation"]
    sentences = " ".join(p.sentence for p in feedback.problems)
    assert "carol paid 30 for an order that never shipped" in sentences
    assert "never released" in sentences
    assert {p.case for p in feedback.problems} == {"order o2 (undeliverable)",
                                                   "order o3 (declined)"}
    assert any("crashes were not run yet" in n for n in feedback.notes)


def test_compensations_in_the_wrong_order() -> None:
    feedback = exercises.check_workflow(ForwardOrderUndo)
    assert feedback.kinds == ["wrong_order"]
    assert "refund the card first, then release the stock" in feedback.fixes[0]


def test_refunding_a_declined_charge_creates_money() -> None:
    feedback = exercises.check_workflow(RefundsWhatWasNeverCharged)
    assert feedback.kinds == ["extra_compensation"]
    assert "erin received 30 from nowhere" in feedback.problems[0].sentence
    assert "compensate only the steps that completed" in feedback.fixes[0]


def test_a_charge_without_idempotency_key_is_applied_twice_after_a_crash() -> None:
    feedback = exercises.check_workflow(WithoutIdempotencyKey)
    assert feedback.kinds == ["duplicate"]
    problem = feedback.problems[0]
    assert "after charge_card_without_key's effect" in problem.case
    assert "charge 2 times" in problem.sentence
    assert "idempotency_key" in problem.fix
    assert exercises.check_workflow(WithoutIdempotencyKey, crashes=False).ok


def test_a_side_effect_in_workflow_code_repeats_on_replay() -> None:
    feedback = exercises.check_workflow(ChargesFromWorkflowCode)
    assert feedback.kinds == ["side_effect_in_workflow"]
    assert "called directly from workflow code" in feedback.problems[0].sentence
    assert "crashes broke this order" in feedback.problems[0].sentence
    assert "only inside activities" in feedback.problems[0].fix


def test_reading_the_wall_clock_is_non_deterministic_and_the_call_is_named() -> None:
    feedback = exercises.check_workflow(ReadsTheClock)
    assert feedback.kinds == ["nondeterminism"]
    assert "[TMPRL1100]" in feedback.problems[0].sentence
    assert "time.time(), which reads the wall clock (use ctx.now())" in feedback.fixes[0]


ORDERS_SEEN: set[str] = set()


@durasim.workflow
async def RemembersOrdersInAGlobal(ctx: Any, order: dict[str, Any]) -> str:
    if order["id"] in ORDERS_SEEN:  # only a replay looks at the same order again
        raise RuntimeError(f"order {order['id']} was already handled")
    ORDERS_SEEN.add(order["id"])
    return await _saga_steps(ctx, order)


def test_code_that_raises_only_when_replayed_is_caught_by_the_replay() -> None:
    """Every crash-free run is right; replaying its history raises (the replay used to
    pass in silence: the Replayer returned an unfinished result)."""
    ORDERS_SEEN.clear()
    feedback = exercises.check_workflow(RemembersOrdersInAGlobal, crashes=False)
    assert feedback.kinds and set(feedback.kinds) == {"replay"}, feedback.kinds
    assert "RuntimeError" in feedback.problems[0].sentence
    assert "already handled" in feedback.problems[0].sentence


def test_a_wrong_amount_is_caught_by_the_end_state() -> None:
    feedback = exercises.check_workflow(ChargesDouble)
    assert "wrong_result" in feedback.kinds
    assert any("'carol': 40" in p.sentence for p in feedback.problems)


def test_not_a_workflow() -> None:
    async def plain(ctx: Any, order: dict[str, Any]) -> None:
        return None

    feedback = exercises.check_workflow(plain)
    assert feedback.kinds == ["not_a_workflow"]
    assert "@durasim.workflow" in feedback.fixes[0]


def test_feedback_renders_as_text_and_html() -> None:
    feedback = exercises.check_workflow(NoCompensation, crashes=False)
    text, page = str(feedback), feedback._repr_html_()
    assert text.startswith("Exercise 2") and "What to change:" in text
    assert "never released" in page and "<li>" in page
    assert repr(feedback).startswith("<Feedback Exercise 2")


def test_the_shop_is_idempotent_with_a_key_and_fresh_on_demand() -> None:
    fresh = exercises.new_shop()
    assert shop() is fresh
    fresh.charge("o1", "carol", 30, key="k")
    fresh.charge("o1", "carol", 30, key="k")
    assert fresh.balances["carol"] == 70 and fresh.count("charge") == 1
    fresh.charge("o1", "carol", 30)
    assert fresh.balances["carol"] == 40 and fresh.count("charge") == 2
    with pytest.raises(durasim.ApplicationError, match="card declined"):
        fresh.charge("o3", "erin", 30)
    assert exercises.new_shop().balances["carol"] == 100
