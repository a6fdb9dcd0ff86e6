"""Crash recovery: any crash of the worker or the server ends as if nothing happened,
except for what at-least-once honestly repeats."""

from __future__ import annotations

from typing import Any

import pytest

import durasim
from durasim import Crash, activity, workflow
from durasim.engine import EventType
from tests.workflows import bank
from tests.workflows.bank import BankTransfer

ARGS = ("alice", "bob", 25)


def completed_activities(run: durasim.engine.WorkflowRun) -> list[str]:
    scheduled = {e.event_id: e.attributes["activityType"] for e in run.history
                 if e.event_type is EventType.ACTIVITY_TASK_SCHEDULED}
    return [scheduled[e.attributes["scheduledEventId"]] for e in run.history
            if e.event_type is EventType.ACTIVITY_TASK_COMPLETED]


def crash_free() -> durasim.engine.WorkflowRun:
    bank.reset()
    return durasim.execute(BankTransfer, *ARGS)


BASELINE = crash_free()
BASE_EVENTS = len(BASELINE.history)


def test_crash_free_run() -> None:
    assert BASELINE.status == "completed" and BASELINE.result == "done"
    assert completed_activities(BASELINE) == ["validate", "fraud_check", "withdraw",
                                              "record_ledger", "deposit", "notify"]
    assert BASE_EVENTS == 1 + 3 + 6 * (3 + 3) + 1  # started, WT, 6 x (activity, WT), done


@pytest.mark.parametrize("node", ["worker", "server"])
@pytest.mark.parametrize("k", range(1, BASE_EVENTS + 1))
def test_crash_after_any_history_event_ends_the_same(node: str, k: int) -> None:
    world = bank.reset()
    run = durasim.execute(BankTransfer, *ARGS,
                          faults=Crash(node=node, after_events=k, restart_after=2.0))
    assert run.status == "completed", run
    assert run.result == BASELINE.result
    assert completed_activities(run) == completed_activities(BASELINE)
    assert world.balances == {"alice": 75, "bob": 75}
    ids = [e.event_id for e in run.history]
    assert ids == list(range(1, len(ids) + 1)), "history ids must be gap-free"
    crashes = [e for e in run.trace.filter(node=node, kind="crash")]
    assert len(crashes) == 1, "the crash fault must actually fire"


def test_worker_crash_replays_the_history() -> None:
    bank.reset()
    run = durasim.execute(BankTransfer, *ARGS,
                          faults=Crash(node="worker", after_events=20, restart_after=1.0))
    assert run.replays == 1
    replay = run.trace.filter(kind="replay")[0]
    assert replay.fields["events"] > 20
    # completed activities were not run again: one call each
    assert run.activity_calls == {name: 1 for name in completed_activities(BASELINE)}


def test_crash_after_effect_repeats_the_deposit_without_idempotency_key() -> None:
    world = bank.reset(idempotent=False)
    run = durasim.execute(BankTransfer, *ARGS,
                          faults=Crash(at_step="deposit", when="after_effect"))
    assert run.status == "completed"
    assert world.effects.count(("deposit", "bob", 25)) == 2
    assert world.balances == {"alice": 75, "bob": 100}  # money created: honest at-least-once
    started = [e for e in run.history if e.event_type is EventType.ACTIVITY_TASK_STARTED]
    assert [e.attributes["attempt"] for e in started] == [1, 1, 1, 1, 2, 1]
    assert started[4].attributes["lastFailure"]["message"] == "activity StartToClose timeout"


def test_idempotency_key_makes_the_repeat_harmless() -> None:
    world = bank.reset(idempotent=True)
    run = durasim.execute(BankTransfer, *ARGS,
                          faults=Crash(at_step="deposit", when="after_effect"))
    assert run.status == "completed"
    assert world.effects.count(("deposit", "bob", 25)) == 1
    assert world.balances == {"alice": 75, "bob": 75}


def test_crash_before_effect_runs_it_once() -> None:
    world = bank.reset()
    run = durasim.execute(BankTransfer, *ARGS, faults=Crash(at_step=5))
    assert run.status == "completed"
    assert world.effects.count(("deposit", "bob", 25)) == 1


def test_server_crash_rebuilds_from_the_store() -> None:
    bank.reset()
    run = durasim.execute(BankTransfer, *ARGS,
                          faults=Crash(node="server", after_events=12, restart_after=5.0))
    recover = run.trace.filter(node="server", kind="recover")
    assert len(recover) == 1 and recover[0].fields["events"] >= 12
    assert run.status == "completed"


def test_a_node_that_never_restarts_leaves_the_workflow_running() -> None:
    bank.reset()
    run = durasim.execute(BankTransfer, *ARGS,
                          faults=Crash(node="worker", after_events=10, restart_after=None),
                          until=3600)
    assert run.status == "running"
    with pytest.raises(durasim.errors.WorkflowFailed, match="running"):
        run.raise_for_status()


def test_same_seed_same_trace_different_seed_different_trace() -> None:
    plan = [Crash(node="worker", after_events=9)]
    bank.reset()
    a = durasim.execute(BankTransfer, *ARGS, faults=plan, seed=4).trace.digest()
    bank.reset()
    b = durasim.execute(BankTransfer, *ARGS, faults=plan, seed=4).trace.digest()
    bank.reset()
    c = durasim.execute(BankTransfer, *ARGS, faults=plan, seed=5).trace.digest()
    assert a == b != c


@activity
def process_batch(iteration: int) -> int:
    return 10 * iteration


@workflow
async def Looping(ctx: Any, iteration: int) -> str:
    if iteration == 2:
        return "finished after 2 continue-as-new"
    await ctx.activity(process_batch, iteration)
    ctx.continue_as_new(iteration + 1)
    return "unreachable"


def test_a_server_crash_between_continue_as_new_and_the_next_run_loses_nothing() -> None:
    """The crash falls after ContinuedAsNew is written, before the next run exists: the
    restarted server starts the run that event names (it read status "continued")."""
    clean = durasim.execute(Looping, 0)
    for after in range(1, 2 * len(clean.history) + 6):
        crashed = durasim.execute(Looping, 0, faults=Crash(node="server", after_events=after))
        assert (crashed.status, crashed.result) == (clean.status, clean.result), after
        assert len(crashed.histories) == len(clean.histories) == 3
