"""A bug in workflow code fails the workflow *task*, as on Temporal (issue 11.2).

The recordings ``workflow_bug_first_task`` and ``workflow_bug_later_task`` were made on a
real dev server: a worker with a ``NameError`` in the workflow ran for about 4 s, then a
worker with the fixed code took over. durasim must write the same events, with the same
attempt numbers and failure, and carry the workflow on with ``execute(Fixed, resume=run)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import durasim
from durasim import ApplicationError, History, activity, workflow
from durasim.errors import WorkflowTaskError

RECORDED = Path(__file__).parent / "fixtures" / "recorded"
BUGGY_WORKER_SECONDS = 4.0
"""How long the recorder let the buggy worker run before the fixed one took over."""


@activity
def withdraw(account: str, amount: int) -> str:
    return f"withdrew {amount} from {account}"


@activity
def deposit(account: str, amount: int) -> str:
    return f"deposited {amount} into {account}"


@workflow(name="TypoTransfer")
async def TypoTransferBuggy(ctx: Any, amount: int) -> str:
    await ctx.activity(withdraw, "alice", amounnt, start_to_close=5)  # type: ignore[name-defined] # noqa: F821
    return "ok"


@workflow(name="TypoAfterWithdraw")
async def TypoAfterWithdrawBuggy(ctx: Any, amount: int) -> str:
    await ctx.activity(withdraw, "alice", amount, start_to_close=5)
    await ctx.activity(deposit, "bob", ammount, start_to_close=5)  # type: ignore[name-defined] # noqa: F821
    return "ok"


async def _transfer(ctx: Any, amount: int) -> str:
    await ctx.activity(withdraw, "alice", amount, start_to_close=5)
    await ctx.activity(deposit, "bob", amount, start_to_close=5)
    return "ok"


@workflow(name="TypoTransfer")
async def TypoTransferFixed(ctx: Any, amount: int) -> str:
    return await _transfer(ctx, amount)


@workflow(name="TypoAfterWithdraw")
async def TypoAfterWithdrawFixed(ctx: Any, amount: int) -> str:
    return await _transfer(ctx, amount)


def _shape(history: History) -> list[tuple[str, Any, Any]]:
    """Event types with the attributes that carry meaning here."""
    rows = []
    for event in history:
        a = event.attributes
        failure = a.get("failure") or {}
        rows.append((event.event_type.value, a.get("attempt"),
                     (a.get("cause"), failure.get("message"), failure.get("type"))
                     if event.event_type.value == "WorkflowTaskFailed" else None))
    return rows


def _buggy_then_fixed(buggy: Any, fixed: Any) -> tuple[durasim.engine.WorkflowRun,
                                                       durasim.engine.WorkflowRun]:
    broken = durasim.execute(buggy, 100, until=BUGGY_WORKER_SECONDS)
    return broken, durasim.execute(fixed, resume=broken)


def test_a_bug_in_the_first_task_matches_the_real_server() -> None:
    real = History.from_temporal_json(RECORDED / "workflow_bug_first_task.json")
    broken, done = _buggy_then_fixed(TypoTransferBuggy, TypoTransferFixed)
    assert broken.status == "running"  # the workflow stays open, waiting for fixed code
    assert isinstance(broken.error, WorkflowTaskError)
    assert isinstance(broken.error.cause, NameError)
    assert broken.history.event_types()[-1] == "WorkflowTaskFailed"
    assert done.status == "completed" and done.result == "ok"
    assert _shape(done.history) == _shape(real)


def test_a_bug_in_a_later_task_matches_the_real_server() -> None:
    """The failure on the sticky queue is written and not counted (attempt 1 again)."""
    real = History.from_temporal_json(RECORDED / "workflow_bug_later_task.json")
    broken, done = _buggy_then_fixed(TypoAfterWithdrawBuggy, TypoAfterWithdrawFixed)
    assert broken.activity_calls == {"withdraw": 1}
    assert done.activity_calls == {"deposit": 1}  # the fixed worker replays withdraw
    assert _shape(done.history) == _shape(real)


def test_the_real_recording_replays_with_the_fixed_code() -> None:
    for name, fixed in (("workflow_bug_first_task", TypoTransferFixed),
                        ("workflow_bug_later_task", TypoAfterWithdrawFixed)):
        real = History.from_temporal_json(RECORDED / f"{name}.json")
        assert durasim.Replayer(workflows=[fixed]).replay(real).finished


def test_an_application_error_still_fails_the_workflow() -> None:
    @workflow
    async def Refuses(ctx: Any) -> str:
        raise ApplicationError("no", type="Refused")

    run = durasim.execute(Refuses)
    assert run.status == "failed"
    assert run.history.event_types()[-1] == "WorkflowExecutionFailed"


def test_a_failing_workflow_task_does_not_keep_the_simulation_busy() -> None:
    """The server retries for ever; with nothing else to do the run ends, still open."""
    run = durasim.execute(TypoTransferBuggy, 100)
    assert run.status == "running" and isinstance(run.error, WorkflowTaskError)
    assert "waiting for fixed code" in str(run.error)
