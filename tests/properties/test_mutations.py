"""Property 6, mutations: every non-deterministic edit of the bank workflow is caught.

Each mutant is a plausible "small change" a developer ships while transfers are in flight:
reorder, drop, add or duplicate a step, change an argument or an activity, add or change
a timer, swap a child workflow, parallelise, misuse a patch, read a clock or a global.
Replaying the histories the original code recorded must raise NondeterminismError naming
an event of that history. Two controls show the Replayer does not cry wolf: the original
code, and a change correctly guarded by ``ctx.patched``, both replay cleanly.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import pytest

import durasim
from durasim import ApplicationError, Crash, Replayer, workflow
from durasim.engine.definitions import WorkflowDefinition
from durasim.errors import NondeterminismError
from tests.workflows import bank
from tests.workflows.bank import (
    BankTransfer,
    deposit,
    fraud_check,
    notify,
    record_ledger,
    validate,
    withdraw,
)

ARGS = ("alice", "bob", 25)
Mutant = tuple[str, str, Callable[..., Any]]
MUTANTS: list[Mutant] = []
"""(base workflow name, what changed, the changed workflow function)."""
CALLS = {"n": 0}
"""Module state a careless workflow reads: it differs between the run and the replay."""


def mutant(base: str, change: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a changed version of workflow ``base``, under ``base``'s name.

    The definition is attached by hand rather than with ``@durasim.workflow`` so that the
    mutants never replace the real workflow in the global registry other tests use.
    """
    def attach(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__durasim_workflow__ = WorkflowDefinition(base, fn)  # type: ignore[attr-defined]
        MUTANTS.append((base, change, fn))
        return fn
    return attach


# -- a richer bank transfer: a patch, a timer, a parallel group and a child workflow -------

@workflow
async def NotifyChild(ctx: durasim.engine.WorkflowContext, account: str) -> str:
    result: str = await ctx.activity(notify, account)
    return result


@workflow
async def AuditChild(ctx: durasim.engine.WorkflowContext, account: str) -> str:
    result: str = await ctx.activity(notify, account)
    return result


@workflow
async def RichTransfer(ctx: durasim.engine.WorkflowContext, source: str, target: str,
                       amount: int) -> str:
    """Validate, fraud check (added by a patch), a cooling-off hour, withdraw, ledger and
    deposit in parallel, then a child workflow notifies."""
    await ctx.activity(validate, source, target, amount)
    if ctx.patched("fraud-v2"):
        await ctx.activity(fraud_check, source, amount)
    await ctx.sleep(3600)
    await ctx.activity(withdraw, source, amount)
    await ctx.gather(ctx.activity(record_ledger, source, target, amount),
                     ctx.activity(deposit, target, amount))
    await ctx.child(NotifyChild, target)
    return "done"


# -- mutants of BankTransfer ----------------------------------------------------------------

B = "BankTransfer"


@mutant(B, "withdraw and deposit swapped")
async def m_swap_money(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(notify, t)
    return "done"


@mutant(B, "validate and fraud check swapped")
async def m_swap_checks(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(validate, s, t, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, t)
    return "done"


@mutant(B, "first step (validate) removed")
async def m_drop_first(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, t)
    return "done"


@mutant(B, "middle step (record_ledger) removed")
async def m_drop_middle(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, t)
    return "done"


@mutant(B, "last step (notify) removed")
async def m_drop_last(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    return "done"


@mutant(B, "an activity added at the start")
async def m_add_first(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(notify, s)
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, t)
    return "done"


@mutant(B, "an activity added at the end")
async def m_add_last(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, t)
    await ctx.activity(notify, s)
    return "done"


@mutant(B, "withdraw run twice")
async def m_duplicate(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, t)
    return "done"


@mutant(B, "withdraw amount doubled")
async def m_change_amount(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a * 2)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, t)
    return "done"


@mutant(B, "deposit into the wrong account")
async def m_change_account(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, s, a)
    await ctx.activity(notify, t)
    return "done"


@mutant(B, "a different activity with the same arguments")
async def m_change_activity(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(deposit, s, a)  # deposit where withdraw was
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, t)
    return "done"


@mutant(B, "a timer added at the start")
async def m_timer_first(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.sleep(10)
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, t)
    return "done"


@mutant(B, "a timer added between withdraw and deposit")
async def m_timer_middle(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.sleep(30 * 24 * 3600)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, t)
    return "done"


@mutant(B, "an activity replaced by a timer")
async def m_activity_to_timer(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.sleep(1)  # the ledger line is now written by a batch job
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, t)
    return "done"


@mutant(B, "ledger and deposit run in parallel")
async def m_parallel(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.gather(ctx.activity(record_ledger, s, t, a), ctx.activity(deposit, t, a))
    await ctx.activity(notify, t)
    return "done"


@mutant(B, "notification moved into a child workflow")
async def m_child(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.child(NotifyChild, t)
    return "done"


@mutant(B, "a different return value")
async def m_result(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, t)
    return "ok"


@mutant(B, "fails at the end instead of completing")
async def m_fail(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, t)
    raise ApplicationError("audit says no", "Audit")


@mutant(B, "continues as new instead of completing")
async def m_continue(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, t)
    ctx.continue_as_new(s, t, a)
    return "done"


@mutant(B, "global random decides the fraud limit")
async def m_global_random(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a + int(random.random() * 1_000_000) + 1)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, t)
    return "done"


@mutant(B, "wall-clock time in an argument")
async def m_wall_clock(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, f"{t} at {time.time()}")
    return "done"


@mutant(B, "a module-level counter in an argument")
async def m_global_state(ctx: Any, s: str, t: str, a: int) -> str:
    CALLS["n"] += 1
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.activity(notify, f"{t} #{CALLS['n']}")
    return "done"


# -- mutants of RichTransfer -----------------------------------------------------------------

R = "RichTransfer"


@mutant(R, "timer duration changed")
async def r_timer_duration(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    if ctx.patched("fraud-v2"):
        await ctx.activity(fraud_check, s, a)
    await ctx.sleep(60)
    await ctx.activity(withdraw, s, a)
    await ctx.gather(ctx.activity(record_ledger, s, t, a), ctx.activity(deposit, t, a))
    await ctx.child(NotifyChild, t)
    return "done"


@mutant(R, "timer removed")
async def r_no_timer(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    if ctx.patched("fraud-v2"):
        await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.gather(ctx.activity(record_ledger, s, t, a), ctx.activity(deposit, t, a))
    await ctx.child(NotifyChild, t)
    return "done"


@mutant(R, "timer moved after the withdrawal")
async def r_timer_moved(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    if ctx.patched("fraud-v2"):
        await ctx.activity(fraud_check, s, a)
    await ctx.activity(withdraw, s, a)
    await ctx.sleep(3600)
    await ctx.gather(ctx.activity(record_ledger, s, t, a), ctx.activity(deposit, t, a))
    await ctx.child(NotifyChild, t)
    return "done"


@mutant(R, "child workflow swapped for another type")
async def r_child_type(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    if ctx.patched("fraud-v2"):
        await ctx.activity(fraud_check, s, a)
    await ctx.sleep(3600)
    await ctx.activity(withdraw, s, a)
    await ctx.gather(ctx.activity(record_ledger, s, t, a), ctx.activity(deposit, t, a))
    await ctx.child(AuditChild, t)
    return "done"


@mutant(R, "child workflow argument changed")
async def r_child_args(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    if ctx.patched("fraud-v2"):
        await ctx.activity(fraud_check, s, a)
    await ctx.sleep(3600)
    await ctx.activity(withdraw, s, a)
    await ctx.gather(ctx.activity(record_ledger, s, t, a), ctx.activity(deposit, t, a))
    await ctx.child(NotifyChild, s)
    return "done"


@mutant(R, "child workflow replaced by an activity")
async def r_child_inlined(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    if ctx.patched("fraud-v2"):
        await ctx.activity(fraud_check, s, a)
    await ctx.sleep(3600)
    await ctx.activity(withdraw, s, a)
    await ctx.gather(ctx.activity(record_ledger, s, t, a), ctx.activity(deposit, t, a))
    await ctx.activity(notify, t)
    return "done"


@mutant(R, "parallel branches in the other order")
async def r_gather_order(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    if ctx.patched("fraud-v2"):
        await ctx.activity(fraud_check, s, a)
    await ctx.sleep(3600)
    await ctx.activity(withdraw, s, a)
    await ctx.gather(ctx.activity(deposit, t, a), ctx.activity(record_ledger, s, t, a))
    await ctx.child(NotifyChild, t)
    return "done"


@mutant(R, "parallel group made sequential")
async def r_sequential(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    if ctx.patched("fraud-v2"):
        await ctx.activity(fraud_check, s, a)
    await ctx.sleep(3600)
    await ctx.activity(withdraw, s, a)
    await ctx.activity(record_ledger, s, t, a)
    await ctx.activity(deposit, t, a)
    await ctx.child(NotifyChild, t)
    return "done"


@mutant(R, "patch removed but its code kept")
async def r_patch_removed(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    await ctx.activity(fraud_check, s, a)
    await ctx.sleep(3600)
    await ctx.activity(withdraw, s, a)
    await ctx.gather(ctx.activity(record_ledger, s, t, a), ctx.activity(deposit, t, a))
    await ctx.child(NotifyChild, t)
    return "done"


@mutant(R, "patch id renamed")
async def r_patch_renamed(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    if ctx.patched("fraud-v3"):
        await ctx.activity(fraud_check, s, a)
    await ctx.sleep(3600)
    await ctx.activity(withdraw, s, a)
    await ctx.gather(ctx.activity(record_ledger, s, t, a), ctx.activity(deposit, t, a))
    await ctx.child(NotifyChild, t)
    return "done"


@mutant(R, "patch condition inverted")
async def r_patch_inverted(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    if not ctx.patched("fraud-v2"):
        await ctx.activity(fraud_check, s, a)
    await ctx.sleep(3600)
    await ctx.activity(withdraw, s, a)
    await ctx.gather(ctx.activity(record_ledger, s, t, a), ctx.activity(deposit, t, a))
    await ctx.child(NotifyChild, t)
    return "done"


@mutant(R, "a new patch marker recorded before the recorded one")
async def r_patch_added_wrongly(ctx: Any, s: str, t: str, a: int) -> str:
    await ctx.activity(validate, s, t, a)
    ctx.patched("limits-v3")  # asked on every path, but its new code runs regardless:
    await ctx.activity(fraud_check, s, a + 1000)  # an unguarded change hides behind it
    if ctx.patched("fraud-v2"):
        await ctx.activity(fraud_check, s, a)
    await ctx.sleep(3600)
    await ctx.activity(withdraw, s, a)
    await ctx.gather(ctx.activity(record_ledger, s, t, a), ctx.activity(deposit, t, a))
    await ctx.child(NotifyChild, t)
    return "done"


async def guarded_change(ctx: Any, s: str, t: str, a: int) -> str:
    """The right way to change RichTransfer: the new step sits behind ``ctx.patched``."""
    await ctx.activity(validate, s, t, a)
    if ctx.patched("fraud-v2"):
        await ctx.activity(fraud_check, s, a)
    await ctx.sleep(3600)
    await ctx.activity(withdraw, s, a)
    await ctx.gather(ctx.activity(record_ledger, s, t, a), ctx.activity(deposit, t, a))
    if ctx.patched("audit-v1"):
        await ctx.activity(notify, s)  # new: tell the sender too
    await ctx.child(NotifyChild, t)
    return "done"


guarded_change.__durasim_workflow__ = WorkflowDefinition(R, guarded_change)  # type: ignore[attr-defined]


# -- the recorded histories -------------------------------------------------------------------

PLANS = {"clean": None, "deposit-repeated": Crash(at_step="deposit", when="after_effect"),
         "worker-crash": Crash(node="worker", after_events=14)}
BASES = {B: BankTransfer, R: RichTransfer}
_HISTORIES: dict[tuple[str, str], durasim.History] = {}


def recorded(base: str, plan: str) -> durasim.History:
    """The history the original ``base`` recorded under fault plan ``plan`` (cached)."""
    key = (base, plan)
    if key not in _HISTORIES:
        bank.reset()
        run = durasim.execute(BASES[base], *ARGS, faults=PLANS[plan])
        assert run.status == "completed", run
        _HISTORIES[key] = run.history
    return _HISTORIES[key]


def test_there_are_at_least_twenty_mutants() -> None:
    assert len(MUTANTS) >= 20
    assert len({(base, change) for base, change, _ in MUTANTS}) == len(MUTANTS)


@pytest.mark.parametrize("plan", list(PLANS))
@pytest.mark.parametrize("base", list(BASES))
def test_the_original_code_replays_cleanly(base: str, plan: str) -> None:
    assert Replayer(workflows=[BASES[base]]).replay(recorded(base, plan)).finished


@pytest.mark.parametrize("plan", list(PLANS))
def test_a_correctly_patched_change_replays_cleanly(plan: str) -> None:
    assert Replayer(workflows=[guarded_change]).replay(recorded(R, plan)).finished


@pytest.mark.parametrize("plan", list(PLANS))
@pytest.mark.parametrize(("base", "change", "fn"), MUTANTS,
                         ids=[f"{b}: {c}" for b, c, _ in MUTANTS])
def test_every_mutant_is_caught_by_the_replayer(base: str, change: str,
                                                fn: Callable[..., Any], plan: str) -> None:
    history = recorded(base, plan)
    random.seed(len(change))  # a "different process": the global generator moved on
    with pytest.raises(NondeterminismError) as caught:
        Replayer(workflows=[fn]).replay(history)
    error = caught.value
    assert 1 <= error.event_id <= len(history), error
    assert f"event {error.event_id}" in str(error), error
    assert str(error).startswith("[TMPRL1100]"), error
    assert error.recorded and error.issued, error
