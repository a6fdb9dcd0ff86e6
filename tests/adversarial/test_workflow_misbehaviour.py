"""Issue 17.5: workflow and activity code that misbehaves gets Temporal's answers.

Nothing it does may leave ``durasim.execute`` raw or hang it: a foreign awaitable is a
clear error naming the ctx call to use, a loop that never yields is stopped by the
deadlock detector (``[TMPRL1101]``), SystemExit, KeyboardInterrupt and an exception whose
``str()`` raises are failures like any other, and continue-as-new for ever or unbounded
child recursion stop at a documented limit with a sentence that names it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import durasim
from durasim import activity, workflow
from durasim.engine import deadlock
from durasim.engine.deadlock import DeadlockError
from durasim.engine.limits import MAX_CHILD_DEPTH, MAX_RUNS
from durasim.errors import WorkflowTaskError


@pytest.fixture(autouse=True)
def temporal_deadlock_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the watchdog: Temporal's 2 s, not the suite's longer limit."""
    monkeypatch.setattr(deadlock, "DEADLOCK_SECONDS", 2.0)


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("cannot print me")


@workflow
async def SleepsWithAsyncio(ctx: Any) -> str:
    await asyncio.sleep(1)
    return "woke"


@workflow
async def AwaitsAFuture(ctx: Any) -> str:
    class Plain:
        def __await__(self) -> Any:
            yield "not a durasim future"

    await Plain()
    return "done"


@pytest.mark.parametrize("workflow_fn", [SleepsWithAsyncio, AwaitsAFuture])
def test_a_foreign_awaitable_says_which_ctx_call_to_use(workflow_fn: Any) -> None:
    run = durasim.execute(workflow_fn)
    assert run.status == "running" and isinstance(run.error, WorkflowTaskError)
    assert "ctx.sleep(seconds) instead of asyncio.sleep" in str(run.error)


@workflow
async def Spins(ctx: Any) -> str:
    while True:
        pass


def test_a_workflow_that_never_yields_is_stopped_as_a_deadlock() -> None:
    run = durasim.execute(Spins)
    assert run.status == "running"
    assert isinstance(run.error, WorkflowTaskError)
    assert isinstance(run.error.cause, DeadlockError)
    assert "[TMPRL1101]" in str(run.error)
    failed = run.history.events[-1]
    assert failed.event_type.value == "WorkflowTaskFailed"
    assert "TMPRL1101" in failed.attributes["failure"]["message"]


AFTER_A_DEADLOCK = """
import sys
import durasim
from tests.adversarial.test_workflow_misbehaviour import Spins
durasim.execute(Spins)
seen = []
def tracer(frame, event, arg):
    seen.append(event)
    return tracer
def traced():
    return 1
sys.settrace(tracer)
traced()
sys.settrace(None)
print("traced", len(seen))
for _ in range(3):
    assert durasim.execute(Spins).status == "running"
print("three more deadlocks stopped")
"""


def test_the_interpreter_is_sound_after_a_deadlock() -> None:
    """The watchdog's interruption leaves nothing behind: tracing (coverage, hypothesis's
    explain phase) still works and later deadlocks are stopped the same way. Run in a
    child process, so a regression fails this test instead of hanging the suite."""
    done = subprocess.run([sys.executable, "-c", AFTER_A_DEADLOCK], capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "traced 3" in done.stdout and "three more deadlocks stopped" in done.stdout


@pytest.mark.parametrize("error", [SystemExit(3), KeyboardInterrupt(), Unprintable()],
                         ids=["SystemExit", "KeyboardInterrupt", "unprintable"])
def test_base_exceptions_from_workflow_code_fail_its_task(error: BaseException) -> None:
    @workflow
    async def Raises(ctx: Any) -> str:
        raise error

    run = durasim.execute(Raises)
    assert run.status == "running" and isinstance(run.error, WorkflowTaskError)
    assert type(error).__name__ in str(run.error)


@pytest.mark.parametrize("error", [SystemExit(3), KeyboardInterrupt(), Unprintable()],
                         ids=["SystemExit", "KeyboardInterrupt", "unprintable"])
def test_base_exceptions_from_activities_fail_the_attempt(error: BaseException) -> None:
    @activity
    def explode() -> str:
        raise error

    @workflow
    async def CallsIt(ctx: Any) -> str:
        try:
            return str(await ctx.activity(explode, retry=durasim.RetryPolicy(
                maximum_attempts=2)))
        except durasim.ActivityError as failed:
            return f"gave up: {failed.cause.type}"

    run = durasim.execute(CallsIt)
    assert (run.status, run.result) == ("completed", f"gave up: {type(error).__name__}")


@workflow
async def ForEver(ctx: Any, n: int) -> None:
    ctx.continue_as_new(n + 1)


def test_continue_as_new_for_ever_stops_at_the_limit() -> None:
    run = durasim.execute(ForEver, 0)
    assert run.status == "terminated"
    assert len(run.histories) == MAX_RUNS
    assert f"after {MAX_RUNS} runs of continue-as-new" in str(run.error)
    assert run.history.events[-1].event_type.value == "WorkflowExecutionTerminated"


@workflow
async def Recurses(ctx: Any, n: int) -> int:
    result: int = await ctx.child(Recurses, n + 1, id=f"level-{n + 1}")
    return result


def test_unbounded_child_recursion_stops_at_the_limit() -> None:
    run = durasim.execute(Recurses, 0)
    assert run.status == "failed"
    assert len(run.children) == MAX_CHILD_DEPTH
    assert run.failure is not None
    # each parent's failure holds its child's whole failure as its cause, as Temporal's
    # does (tests/fixtures/recorded/child_failed_uncaught_parent.json): the root is deepest
    failure, levels = run.failure, 0
    while failure.get("cause") is not None:
        assert failure["message"] == "Child Workflow execution failed"
        failure, levels = failure["cause"], levels + 1
    assert levels == MAX_CHILD_DEPTH + 1
    assert f"nested more than {MAX_CHILD_DEPTH} deep" in failure["message"]
