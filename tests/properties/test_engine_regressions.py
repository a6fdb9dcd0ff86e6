"""Engine bugs the property tests found, each pinned as the smallest failing example.

Each test is the shrunk counterexample hypothesis printed, rewritten by hand as a plain
workflow so it reads without the strategies. They fail until the engine is fixed; then
they keep the bug from coming back.
"""

from __future__ import annotations

import json

import pytest

import durasim
from durasim import Crash, DurasimError, History, Replayer, Signal, activity, workflow
from durasim.engine import EngineCluster, EventType
from durasim.engine.definitions import WorkflowDefinition
from durasim.errors import HistoryFormatError
from tests.conftest import FIXTURES


@activity
def regression_step(n: int) -> int:
    return n


@workflow
async def RegressionChild(ctx: durasim.engine.WorkflowContext) -> int:
    result: int = await ctx.activity(regression_step, 1)
    return result


@workflow
async def RegressionParent(ctx: durasim.engine.WorkflowContext) -> int:
    result: int = await ctx.child(RegressionChild)
    return result


@workflow
async def RegressionTimersThenChild(ctx: durasim.engine.WorkflowContext) -> list[int]:
    async def first() -> int:
        await ctx.sleep(60)
        result: int = await ctx.child(RegressionChild)
        return result

    async def second() -> int:
        await ctx.sleep(60)
        return 2

    results: list[int] = await ctx.gather(first(), second())
    return results


@workflow
async def RegressionSignalsAndChild(ctx: durasim.engine.WorkflowContext) -> list[int]:
    (a,) = await ctx.wait_signal("first")
    child: int = await ctx.child(RegressionChild)
    (b,) = await ctx.wait_signal("second")
    return [a, child, b]


@workflow
async def RegressionWaitsForSignal(ctx: durasim.engine.WorkflowContext) -> int:
    (value,) = await ctx.wait_signal("go")
    result: int = value
    return result


def closing(run: durasim.engine.WorkflowRun) -> str:
    return f"{run} error={run.error} history={run.history.event_types()}"


@pytest.mark.parametrize("events", [4, 5])
def test_server_crash_right_after_a_child_is_initiated_still_starts_the_child(
        events: int) -> None:
    """Found by property 2. The server writes StartChildWorkflowExecutionInitiated, then
    crashes before creating the child's run (``Crash(node="server", after_events=4)``).
    On restart ``Server._recover`` notes the child in ``ex.children`` but never starts it,
    so the parent waits for ever. Fix: on recovery, start every initiated child that has
    no run in the store (and write its ChildWorkflowExecutionStarted)."""
    run = durasim.execute(RegressionParent,
                          faults=Crash(node="server", after_events=events, restart_after=1.0))
    assert run.status == "completed", closing(run)
    assert run.result == 1


@pytest.mark.parametrize("events", [10, 11])
def test_server_crash_as_a_child_completes_still_tells_the_parent(events: int) -> None:
    """Found by property 2. The child's WorkflowExecutionCompleted is written (the child's
    run is closed in the store), then the server crashes before ``_close`` notifies the
    parent. On restart the child is not an open run, so nothing ever writes
    ChildWorkflowExecutionCompleted into the parent: it waits for ever. Fix: on recovery,
    for each initiated child without a closing event in the parent, look up the child's
    last run and, if it closed, notify the parent."""
    run = durasim.execute(RegressionParent,
                          faults=Crash(node="server", after_events=events, restart_after=1.0))
    assert run.status == "completed", closing(run)
    assert run.result == 1


def test_a_child_started_while_an_event_is_buffered_gets_one_workflow_task() -> None:
    """Found by properties 2 and 5, with no fault at all. Two timers fire together; the
    second fires while the workflow task for the first is running, so it is buffered.
    The task's command starts a child. ``Server._on_task_completed`` writes the batch
    [WorkflowTaskCompleted, StartChildWorkflowExecutionInitiated, TimerFired,
    WorkflowTaskScheduled] with ``ex.wt_scheduled = 0``, and only sets ``wt_scheduled``
    after ``_start_command``. Starting the child calls ``_wake`` (ChildWorkflowExecution
    Started), which sees no scheduled task and schedules and dispatches a second one.
    Then ``ex.wt_scheduled = len(ex.events)`` records the id of that task's
    WorkflowTaskStarted as the scheduled id, so the worker's answer is rejected as late
    and the task timeout does not match either: the workflow hangs, and the history has
    two WorkflowTaskScheduled with no WorkflowTaskStarted between them. Fix: set
    ``ex.wt_scheduled`` for the buffered wake before starting the commands."""
    run = durasim.execute(RegressionTimersThenChild)
    assert run.status == "completed", closing(run)
    assert run.result == [1, 2]
    types = run.history.event_types()
    assert types.count("WorkflowTaskScheduled") == types.count("WorkflowTaskStarted")


def test_a_signal_arriving_during_the_task_that_starts_a_child() -> None:
    """The same bug reached through signals (found by the state machine, property 5): the
    second signal arrives while the task that handles the first is starting a child."""
    run = durasim.execute(RegressionSignalsAndChild,
                          requests=[Signal("first", 7, at=1.0), Signal("second", 8, at=1.0)])
    assert run.status == "completed", closing(run)
    assert run.result == [7, 1, 8]


def test_signals_to_two_workflows_of_one_cluster_are_all_delivered() -> None:
    """Found while building property 5. ``EngineCluster.submit`` numbers each call's
    signals from 0 and the client waits for ``("SignalAccepted", seq)`` in one set shared
    by all workflows. Once the first workflow's signal 0 is accepted, the second
    workflow's signal 0 counts as accepted before it is ever sent, so it never is. Fix:
    key acknowledgements by (workflow id, seq), or number signals cluster-wide."""
    cluster = EngineCluster(workflows=[RegressionWaitsForSignal])
    cluster.start()
    cluster.submit(RegressionWaitsForSignal, workflow_id="one", requests=[Signal("go", 1)])
    cluster.submit(RegressionWaitsForSignal, workflow_id="two",
                   requests=[Signal("go", 2, at=5.0)])
    cluster.sim.run(until=3600)
    assert cluster.outcome("one").result == 1
    two = cluster.outcome("two")
    assert two.status == "completed", closing(two)
    assert two.result == 2


TEXT = (FIXTURES / "temporal" / "money_transfer.json").read_text(encoding="utf-8")


def test_json_text_starting_with_a_byte_order_mark_loads() -> None:
    """Found by property 7. ``from_temporal_json`` accepts bytes with a UTF-8 BOM, but
    the same document as ``str`` (what ``open(f).read()`` gives for a file saved with a
    BOM) is not recognised as JSON (``lstrip`` keeps the BOM) and is taken for a path."""
    assert History.from_temporal_json(TEXT.encode("utf-8-sig")).workflow_type
    history = History.from_temporal_json("\ufeff" + TEXT)
    assert history.workflow_type == "MoneyTransfer"


def test_damaged_json_text_is_refused_in_one_line() -> None:
    """Found by property 7. A ``str`` that does not start with ``{`` or ``[`` is taken for
    a file path; when it is really (damaged) JSON text, HistoryFormatError quotes the
    whole text as the "file name" -- hundreds of lines, where the docstring promises one
    line naming the source. Fix: when the "path" contains a newline or is very long,
    treat it as text (or quote only its first characters)."""
    with pytest.raises(HistoryFormatError) as caught:
        History.from_temporal_json("}" + TEXT)
    message = str(caught.value)
    assert "\n" not in message, message[:200]
    assert len(message) < 300, message[:300]


def test_replaying_a_history_whose_input_does_not_fit_the_workflow() -> None:
    """Found by property 7's replay check. A history whose WorkflowExecutionStarted lost
    its ``input`` loads fine, but replaying it calls the workflow with too few arguments
    and a bare TypeError escapes the Replayer (and ``durasim replay`` would show a
    traceback). It should be a DurasimError naming event 1 and the workflow's
    parameters."""
    bad = json.loads(TEXT)
    bad["events"][0]["workflowExecutionStartedEventAttributes"].pop("input")
    history = History.from_temporal_json(bad)
    assert history.events[0].event_type is EventType.WORKFLOW_EXECUTION_STARTED

    async def money_transfer(ctx: durasim.engine.WorkflowContext, amount: int) -> int:
        return amount

    # attached by hand: a @workflow here would replace "MoneyTransfer" for other tests
    money_transfer.__durasim_workflow__ = WorkflowDefinition(  # type: ignore[attr-defined]
        "MoneyTransfer", money_transfer)
    with pytest.raises(DurasimError):
        Replayer(workflows=[money_transfer]).replay(history)


@activity
def regression_cleanup() -> str:
    return "cleaned up"


@activity
async def regression_slow_call() -> str:
    await durasim.engine.activity_sleep(2.0)
    return "answered"


@workflow
async def RegressionCancelDuringGather(ctx: durasim.engine.WorkflowContext) -> list[None]:
    try:
        results: list[None] = await ctx.gather(ctx.sleep(3600), ctx.sleep(7200))
        return results
    except durasim.engine.CancelledError:
        await ctx.activity(regression_cleanup)
        raise


@workflow
async def RegressionCancelDuringActivity(ctx: durasim.engine.WorkflowContext) -> str:
    result: str = await ctx.activity(regression_slow_call)
    return result


def test_a_workflow_cancelled_inside_gather_waits_for_its_cleanup() -> None:
    """Property 3 (cancellation during a parallel step): the gather's branch, cancelled
    after the workflow's own wait, resolved its abandoned future and woke the workflow
    out of its cleanup ``await`` with None, so it ended as canceled with the cleanup
    activity scheduled but never run (and the server retrying it for ever)."""
    run = durasim.execute(RegressionCancelDuringGather,
                          requests=[durasim.engine.Cancel(at=1.0)], until=3600.0)
    assert run.status == "canceled"
    types = run.history.event_types()
    assert types.index("ActivityTaskCompleted") < types.index("WorkflowExecutionCanceled")
    assert run.activity_calls == {"regression_cleanup": 1}


def test_an_activity_of_a_closed_workflow_is_not_retried() -> None:
    """Property 3 (cancellation during an activity): after WorkflowExecutionCanceled the
    server kept the cancel-requested activity's start-to-close timeout and retry, ignoring
    each completion, about every 108 s until the horizon (millions of attempts in the
    default ten years: the run never seemed to end). Temporal drops a closed workflow's
    activities: the attempt running finishes into the void, and none follows."""
    run = durasim.execute(RegressionCancelDuringActivity,
                          requests=[durasim.engine.Cancel(at=1.0)], until=3600.0)
    assert run.status == "canceled"
    assert run.activity_calls == {"regression_slow_call": 1}


@workflow
async def RegressionLocalBesideActivity(ctx: durasim.engine.WorkflowContext) -> list[int]:
    async def local() -> int:
        result: int = await ctx.local_activity(regression_step, 1)
        return result

    async def timer_then_state() -> int:
        await ctx.sleep(1.0)
        return 2

    results: list[int] = await ctx.gather(local(), ctx.activity(regression_step, 3),
                                          timer_then_state())
    return results


def test_a_local_activity_beside_other_commands_replays() -> None:
    """Property 3 (a local activity in one parallel branch, an activity or a timer in
    another): the new task recorded the activity, then the local activity's marker (the
    worker runs local activities once the code waits), but replay issued the marker at
    the call, first: a worker crash, or any query, failed with [TMPRL1100]."""
    clean = durasim.execute(RegressionLocalBesideActivity)
    assert clean.history.event_types()[4:7] == ["ActivityTaskScheduled", "TimerStarted",
                                                "MarkerRecorded"]
    crashed = durasim.execute(RegressionLocalBesideActivity,
                              faults=Crash(node="worker", after_events=4))
    assert (crashed.status, crashed.result) == ("completed", [1, 3, 2])
    assert crashed.replays >= 1
    assert Replayer(workflows=[RegressionLocalBesideActivity]).replay(clean.history).finished


@workflow
async def RegressionUpdateWhileWorkerDown(ctx: durasim.engine.WorkflowContext) -> int:
    state = {"value": 0}

    @ctx.update
    def set_value(value: int) -> int:
        state["value"] = value
        return value

    await ctx.activity(regression_slow_call)
    await ctx.wait_condition(lambda: state["value"] > 0)
    return state["value"]


def test_a_speculative_task_whose_sticky_worker_died_is_written_before_its_timeout(
        ) -> None:
    """Property 3 (an update arriving while the worker that ran the workflow is down):
    the update's speculative task, queued for the dead sticky worker, timed out and the
    server wrote WorkflowTaskTimedOut for its scheduled event -1, an event that does not
    exist, so the history could not be saved as Temporal JSON (and then wrote two
    WorkflowTaskScheduled in a row). As Temporal's server does, the speculative task's
    WorkflowTaskScheduled is written first and the timeout points at it."""
    run = durasim.execute(RegressionUpdateWhileWorkerDown,
                          requests=[durasim.engine.Update("set_value", 7, at=1.0)],
                          faults=Crash(at_step=1, restart_after=1.0))
    assert (run.status, run.result) == ("completed", 7)
    assert History.from_temporal_json(run.history.to_temporal_json()).event_types() == (
        run.history.event_types())
    twice = "WorkflowTaskScheduled, WorkflowTaskScheduled"
    assert twice not in ", ".join(run.history.event_types())
    timed_out = [e for e in run.history.events if e.event_type.value == "WorkflowTaskTimedOut"]
    assert [e.attributes["timeoutType"] for e in timed_out] == ["TIMEOUT_TYPE_SCHEDULE_TO_START"]
    pointed = run.history.events[timed_out[0].attributes["scheduledEventId"] - 1]
    assert pointed.event_type.value == "WorkflowTaskScheduled"


@workflow
async def RegressionUpdateThenLocal(ctx: durasim.engine.WorkflowContext) -> int:
    state: dict[str, int] = {}

    @ctx.update
    def set_value(value: int) -> int:
        state["value"] = value
        return value

    await ctx.wait_condition(lambda: "value" in state)
    result: int = await ctx.local_activity(regression_step, state["value"])
    return result


def test_a_speculative_task_that_times_out_is_written_before_its_timeout() -> None:
    """Property 3 (an update whose task runs a local activity, and the worker dies in it):
    the speculative task timed out and the server wrote WorkflowTaskTimedOut for events
    that were never written (its transient ids), then a second WorkflowTaskScheduled.
    Temporal's server converts the speculative task to a normal one: its Scheduled and
    Started are written, then the timeout pointing at them; the next attempt is counted."""
    run = durasim.execute(RegressionUpdateThenLocal,
                          requests=[durasim.engine.Update("set_value", 7, at=0.5)],
                          faults=Crash(at_step=1, restart_after=1.0))
    assert (run.status, run.result) == ("completed", 7)
    events = run.history.events
    timed_out = [e for e in events if e.event_type.value == "WorkflowTaskTimedOut"]
    assert len(timed_out) == 1
    scheduled, started = (events[timed_out[0].attributes[key] - 1]
                          for key in ("scheduledEventId", "startedEventId"))
    assert (scheduled.event_type.value, started.event_type.value) == (
        "WorkflowTaskScheduled", "WorkflowTaskStarted")
    assert timed_out[0].attributes["timeoutType"] == "TIMEOUT_TYPE_START_TO_CLOSE"
    following = events[timed_out[0].event_id]
    assert (following.event_type.value, following.attributes["attempt"]) == (
        "WorkflowTaskScheduled", 2)
    run.history.to_temporal_json()  # (refuses a history that breaks Temporal's rules)


@workflow
async def RegressionCancelAsTimerFires(ctx: durasim.engine.WorkflowContext) -> str:
    try:
        await ctx.sleep(1.0)
        await ctx.sleep(3600.0)
    except durasim.engine.CancelledError:
        await ctx.activity(regression_cleanup)
        raise
    return "slept"


def test_a_timer_cancelled_in_the_task_during_which_it_fired_is_only_cancelled() -> None:
    """Property 3 (a cancellation requested just before a timer fires): the timer fired
    while the task that cancels it ran; the server wrote TimerCanceled with
    startedEventId 0 (it had forgotten the timer) and then the buffered TimerFired, a
    history Temporal refuses. Temporal drops the buffered TimerFired: the cancel wins."""
    raced = 0
    for seed in range(12):
        run = durasim.execute(RegressionCancelAsTimerFires, seed=seed,
                              requests=[durasim.engine.Cancel(at=1.0)], until=7200.0)
        assert run.status == "canceled"
        run.history.to_temporal_json()  # (refuses a history that breaks Temporal's rules)
        canceled = [e for e in run.history if e.event_type is EventType.TIMER_CANCELED]
        if canceled and canceled[0].attributes["timerId"] == "1":
            raced += 1
            assert canceled[0].attributes["startedEventId"] == 5
            assert "TimerFired" not in run.history.event_types()
    assert raced, "no seed made the cancellation race the first timer's firing"


@workflow
async def RegressionPatchBesideWithdrawnActivity(ctx: durasim.engine.WorkflowContext) -> str:
    async def patch() -> bool:
        return ctx.patched("p1")

    try:
        await ctx.gather(ctx.activity(regression_step, 1), patch())
        await ctx.sleep(3600.0)
    except durasim.engine.CancelledError:
        await ctx.activity(regression_cleanup)
        raise
    return "slept"


def test_a_patch_after_a_withdrawn_command_replays() -> None:
    """Property 3 (a cancellation already waiting when the first task runs): the task
    issued an activity, a patch marker, and withdrew the activity (cancelled before it
    was sent). Replay looked for the marker after as many recorded commands as it had
    issued, so it skipped the marker, took the old path and failed with [TMPRL1100]."""
    run = durasim.execute(RegressionPatchBesideWithdrawnActivity,
                          requests=[durasim.engine.Cancel(at=1.0)],
                          faults=Crash(node="worker", after_events=1, restart_after=1.0))
    assert run.status == "canceled", run.error
    assert run.history.event_types()[5:8] == ["MarkerRecorded", "UpsertWorkflowSearchAttributes",
                                              "ActivityTaskScheduled"]
    assert Replayer(workflows=[RegressionPatchBesideWithdrawnActivity]).replay(
        run.history).finished


@workflow
async def RegressionCancelEveryBranch(ctx: durasim.engine.WorkflowContext) -> str:
    try:
        await ctx.gather(ctx.sleep(3600), ctx.sleep(7200),
                         ctx.activity(regression_slow_call, start_to_close=60))
        return "all done"
    except durasim.engine.CancelledError:
        await ctx.activity(regression_cleanup)
        raise


def test_cancelling_the_workflow_cancels_every_branch_of_its_gather() -> None:
    """Found by H10 with property 3: cancelling a workflow inside ``ctx.gather`` cancelled
    only the branch it was awaiting; the other timers (and activities) stayed pending, as
    no asyncio.gather leaves them. Every branch is cancelled now, the cleanup still runs."""
    run = durasim.execute(RegressionCancelEveryBranch,
                          requests=[durasim.engine.Cancel(at=1.0)], until=3600.0)
    assert run.status == "canceled"
    types = run.history.event_types()
    assert types.count("TimerCanceled") == 2, types
    assert "ActivityTaskCancelRequested" in types, types
    assert types.index("TimerCanceled") < types.index("WorkflowExecutionCanceled")
    assert run.activity_calls["regression_cleanup"] == 1
    run.history.to_temporal_json()  # (refuses a history that breaks Temporal's rules)
