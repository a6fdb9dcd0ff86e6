"""The same durasim workflow, run on a real Temporal server and in the simulator, records
the same history.

The recorded fixtures fix what Temporal wrote once; these tests ask Temporal again, now,
through ``durasim.bridges.temporal``: each workflow of the conformance list runs on a real
dev server (started here on 127.0.0.1, stopped after) and in ``durasim.execute``, and the
two must agree on the full sequence of event types (workflow tasks included), the result
and the attempt numbers. If the server cannot start, every test here is skipped with the
reason; nothing passes without the real thing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

import durasim
from durasim import ActivityError, History, Signal, activity, activity_info, workflow
from durasim.bridges.temporal import (
    TemporalDevServer,
    TemporalRun,
    TemporalServerError,
    execute_on_temporal,
    fetch_history,
    require_temporalio,
)
from durasim.engine import EventType
from durasim.history_compare import compare_histories
from tests.workflows import recorded as wf

pytestmark = pytest.mark.temporal

#: Passed to both sides: another test module may define activities with the same names.
ACTIVITIES = [wf.withdraw, wf.deposit, wf.notify, wf.refund, wf.flaky, wf.pay, wf.tick]


@activity(name="conformance_whoami")
def whoami() -> str:
    info = activity_info()
    return f"{info.activity_type} {info.idempotency_key} attempt {info.attempt}"


@activity(name="conformance_flaky_saga_step")
def failing_step() -> str:
    raise durasim.ApplicationError(f"attempt {activity_info().attempt} failed", type="Down")


@workflow(name="ConformanceWhoAmI")
async def WhoAmI(ctx: durasim.engine.WorkflowContext) -> list[str]:
    """activity_info() inside an activity, and a retry policy that gives up: a saga again."""
    first = await ctx.activity(whoami, start_to_close=5)
    try:
        await ctx.activity(failing_step, start_to_close=5,
                           retry=durasim.RetryPolicy(initial_interval=1, maximum_attempts=2))
    except ActivityError as exc:
        return [first, exc.cause.message, exc.cause.type or "", exc.retry_state]
    return [first]


@pytest.fixture(scope="module")
def server() -> Iterator[TemporalDevServer]:
    """One real dev server for the module; skipped, with the reason, when it cannot start."""
    try:
        require_temporalio()
        dev = TemporalDevServer().start()
    except TemporalServerError as exc:
        pytest.skip(f"no Temporal dev server: {exc}")
    # The SDK logs every failed activity attempt with a traceback; here they are intended.
    quiet = logging.getLogger("temporalio.activity")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        yield dev
    finally:
        quiet.setLevel(level)
        dev.stop()
        _RUNS.clear()


def attempts(history: History) -> list[int]:
    return [e.attributes.get("attempt", 1) for e in history
            if e.event_type is EventType.ACTIVITY_TASK_STARTED]


_RUNS: dict[str, tuple[TemporalRun, durasim.engine.WorkflowRun]] = {}


def both(server: TemporalDevServer, name: str, workflow: Any, *args: Any,
         **options: Any) -> tuple[TemporalRun, durasim.engine.WorkflowRun]:
    """Run ``workflow`` on Temporal and in the simulator, once per name and server (real
    runs take seconds; several tests look at the same pair)."""
    key = f"{id(server)}/{name}"
    if key not in _RUNS:
        every = [*ACTIVITIES, whoami, failing_step]
        real = execute_on_temporal(workflow, *args, server=server, id=name,
                                   activities=every, **options)
        sim = durasim.execute(workflow, *args, id=name, activities=every, **options)
        _RUNS[key] = (real, sim)
    return _RUNS[key]


def assert_same_histories(real: list[History], sim: list[History]) -> None:
    assert len(sim) == len(real), "different numbers of runs (continue-as-new)"
    for r, s in zip(real, sim, strict=True):
        cmp = compare_histories(s, r, labels=("durasim", "temporal"))
        assert s.event_types() == r.event_types(), f"\n{cmp}"
        assert attempts(s) == attempts(r)


CASES = [
    pytest.param("transfer", wf.Transfer, (100,), {}, "completed", "ok", [1, 1, 1],
                 id="transfer"),
    pytest.param("transfer_with_timer", wf.TransferWithTimer, (100,), {}, "completed", "ok",
                 [1, 1], id="durable-timer"),
    pytest.param("retry_then_success", wf.RetryThenSuccess, (), {}, "completed",
                 "succeeded on attempt 3", [3], id="fails-twice-then-succeeds"),
    pytest.param("non_retryable_failure", wf.Transfer, (5000,), {}, "failed", None, [1],
                 id="non-retryable-failure"),
    pytest.param("saga_refund", wf.SagaTransfer, (100,), {}, "completed", "refunded",
                 [1, 1, 1], id="saga-refund"),
    pytest.param("signal_wait", wf.Approval, (100,),
                 {"requests": [Signal("approve", "manager", at=1.0)]}, "completed", "manager",
                 [1], id="signal-wait"),
    pytest.param("parent_child", wf.Payroll, (2,), {}, "completed", 300, [],
                 id="parent-children"),
    pytest.param("continue_as_new", wf.Counter, (0,), {}, "completed", 2, [],
                 id="continue-as-new"),
]


@pytest.mark.parametrize("name, workflow, args, options, status, result, attempt_numbers",
                         CASES)
def test_same_history_on_real_temporal_and_in_the_simulator(
        server: TemporalDevServer, name: str, workflow: Any, args: tuple[Any, ...],
        options: dict[str, Any], status: str, result: Any, attempt_numbers: list[int]) -> None:
    real, sim = both(server, name, workflow, *args, **options)
    assert (real.status, real.result) == (sim.status, sim.result) == (status, result)
    assert_same_histories(real.histories, sim.histories)
    assert attempts(real.history) == attempt_numbers
    # the real history is one the simulator's replayer accepts, run by run
    for history in real.histories:
        durasim.Replayer(workflows=[workflow]).replay(history)


@pytest.mark.parametrize("name, workflow, args, options, status, result, attempt_numbers", [
    pytest.param(*case.values, id=case.id) for case in CASES])
def test_same_key_attributes_event_by_event(
        server: TemporalDevServer, name: str, workflow: Any, args: tuple[Any, ...],
        options: dict[str, Any], status: str, result: Any, attempt_numbers: list[int]) -> None:
    """Beyond the types: activity names, inputs, results, attempts, timers, signals,
    failures and the ids that link events agree too (see durasim.history_compare.KEY_ATTRIBUTES)."""
    real, sim = both(server, name, workflow, *args, **options)
    for r, s in zip(real.histories, sim.histories, strict=True):
        cmp = compare_histories(s, r, labels=("durasim", "temporal"))
        assert cmp.same, f"\n{cmp}"


def test_non_retryable_failure_names_the_same_cause(server: TemporalDevServer) -> None:
    real, sim = both(server, "non_retryable_failure", wf.Transfer, 5000)
    assert real.failure is not None and sim.failure is not None
    assert real.failure["message"] == sim.failure["message"] == "Activity task failed"
    for key in ("message", "type", "nonRetryable"):
        assert real.failure["cause"][key] == sim.failure["cause"][key]
    assert real.failure["cause"]["type"] == "InsufficientFunds"
    failed = [e.attributes["retryState"] for run in (real, sim) for e in run.history
              if e.event_type is EventType.ACTIVITY_TASK_FAILED]
    assert failed == ["RETRY_STATE_NON_RETRYABLE_FAILURE"] * 2


def test_children_histories_match(server: TemporalDevServer) -> None:
    real, sim = both(server, "parent_child", wf.Payroll, 2)
    assert sorted(real.children) == sorted(sim.children) == [
        "parent_child-employee-1", "parent_child-employee-2"]
    for child_id, runs in real.children.items():
        assert_same_histories(runs, sim.children[child_id])
        assert runs[-1].events[-1].attributes["result"] == 100 * int(child_id[-1])


def test_continue_as_new_passes_the_next_runs_input(server: TemporalDevServer) -> None:
    real, sim = both(server, "continue_as_new", wf.Counter, 0)
    for run in (real, sim):
        assert [h.events[0].attributes["input"] for h in run.histories] == [[0], [1], [2]]
        assert run.histories[0].events[-1].attributes["newExecutionRunId"] == (
            run.histories[1].run_id)


def test_activity_info_and_a_given_up_retry_on_temporal(server: TemporalDevServer) -> None:
    """activity_info() answers inside activities on a real worker, and an exhausted retry
    policy reaches the workflow as durasim's ActivityError, with Temporal's retry state."""
    real, sim = both(server, "whoami", WhoAmI)
    assert real.status == sim.status == "completed"
    assert real.result == sim.result == [
        "conformance_whoami whoami/1 attempt 1", "attempt 2 failed", "Down",
        "RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED"]
    assert_same_histories(real.histories, sim.histories)
    assert attempts(real.history) == [1, 2]


def test_a_run_that_does_not_finish_is_reported_and_terminated(
        server: TemporalDevServer) -> None:
    """No signal ever comes: the run times out, is reported as running, and is terminated
    so that nothing is left on the server."""
    real = execute_on_temporal(wf.Approval, 100, server=server, id="never_approved",
                               activities=ACTIVITIES, timeout=1.5)
    assert real.status == "running" and real.result is None
    assert real.history.event_types()[-1] == "WorkflowTaskCompleted"
    sim = durasim.execute(wf.Approval, 100, id="never_approved", activities=ACTIVITIES)
    assert sim.status == "running"
    assert sim.history.event_types() == real.history.event_types()
    after = fetch_history(server, "never_approved")
    assert after.event_types()[-1] == "WorkflowExecutionTerminated"
    assert after.events[: len(real.history)] == real.history.events


def test_fetch_history_returns_what_the_run_returned(server: TemporalDevServer) -> None:
    real = execute_on_temporal(wf.Transfer, 7, server=server, id="fetched",
                               activities=ACTIVITIES)
    again = fetch_history(server, "fetched")
    assert again == real.history
    assert again.workflow_id == "fetched" and again.workflow_type == "Transfer"
    first = fetch_history(server.address, "fetched", real.history.run_id)
    assert first == real.history


def test_the_engine_benchmark_measures_a_rate_on_temporal(server: TemporalDevServer) -> None:
    """benchmarks/bench_engine.py's Temporal figure works (``make bench`` relies on it)."""
    from benchmarks.bench_engine import temporal_transfers_per_s

    rate = temporal_transfers_per_s(server, n=3)
    assert 0.1 < rate < 10_000


def test_works_where_an_event_loop_already_runs(server: TemporalDevServer) -> None:
    """A Jupyter kernel runs a loop in its main thread; the sync API must still work there,
    and the async one is there for code that wants to await it."""
    import asyncio

    from durasim.bridges.temporal import execute_on_temporal_async

    async def inside_a_loop() -> tuple[TemporalRun, TemporalRun]:
        sync = execute_on_temporal(wf.Transfer, 1, server=server, id="in_loop_sync",
                                   activities=ACTIVITIES)
        awaited = await execute_on_temporal_async(wf.Transfer, 2, server=server,
                                                  id="in_loop_async", activities=ACTIVITIES)
        return sync, awaited

    sync, awaited = asyncio.run(inside_a_loop())
    assert sync.result == awaited.result == "ok"
    assert sync.history.events[4].attributes["input"] == ["alice", 1]
    assert awaited.history.events[4].attributes["input"] == ["alice", 2]


def test_patched_records_what_the_sdk_records(server: TemporalDevServer) -> None:
    """``ctx.patched`` writes a MarkerRecorded and a search-attribute upsert, as the SDK."""

    @durasim.workflow
    async def PatchedTransfer(ctx: durasim.engine.WorkflowContext, amount: int) -> str:
        if ctx.patched("notify-first"):
            await ctx.activity(wf.notify, "bob", start_to_close=5)
        await ctx.activity(wf.withdraw, "alice", amount, start_to_close=5)
        return "ok"

    activities = [wf.notify, wf.withdraw]
    real = execute_on_temporal(PatchedTransfer, 10, server=server, activities=activities)
    sim = durasim.execute(PatchedTransfer, 10, activities=activities)
    assert sim.history.event_types() == real.history.event_types()
    durasim.Replayer(workflows=[PatchedTransfer]).replay(real.history)
