"""News that reaches the server while the task that closes the run is running.

Recorded on Temporal's dev server (``tests/fixtures/recorded/record_unhandled.py``): the
server does not drop a signal (or an activity's completion) that arrived while the
closing workflow task ran. It refuses the whole completion, writes ``WorkflowTaskFailed
{cause: WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, failure: {message:
"UnhandledCommand", serverFailureInfo: {}}}``, then the news, then a new workflow task
(attempt 1, not sticky), in which the code sees the news and closes again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import durasim
from durasim import ApplicationError, History
from durasim.engine import EventType, Signal, SQLiteStore, activity_sleep
from durasim.engine import commands as C
from durasim.engine.history import HistoryEvent, make_failure
from durasim.faults import Crash, DelayMessage
from tests.engine.server_rig import ServerRig
from tests.fixtures.recorded import unhandled_workflows as sdk

E = EventType
RECORDED = Path(__file__).parent.parent / "fixtures" / "recorded"
UNHANDLED = "WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND"
NEWS = "late news"
#: The closing task runs from about 0.03 s; its answer is held back this long ...
HELD = 1.0
#: ... and the client's signal is sent meanwhile.
SIGNAL_AT = 0.5


def load(name: str) -> History:
    return History.from_temporal_json(RECORDED / f"{name}.json")


@durasim.workflow
async def CloseWithNews(ctx: durasim.engine.WorkflowContext, how: str,
                        before: list[str]) -> Any:
    """``unhandled_workflows.CloseWithNews``: close at once (``how``), with the signals seen."""
    seen: list[str] = []
    ctx.signal(seen.append, name="nudge")
    if how == "next run":
        return [*before, *seen]
    if how == "fail":
        raise ApplicationError(f"gave up, having seen {seen}", type="GaveUp",
                               non_retryable=True)
    if how == "continue_as_new":
        ctx.continue_as_new("next run", seen)
    return seen


@durasim.workflow
async def CloseIgnoringNews(ctx: durasim.engine.WorkflowContext) -> str:
    """``unhandled_workflows.CloseIgnoringNews``: no handler for the signal."""
    return "done"


@durasim.activity
async def report() -> str:
    await activity_sleep(1.0)
    return "reported"


@durasim.workflow
async def CloseBesideActivity(ctx: durasim.engine.WorkflowContext) -> str:
    """``unhandled_workflows.CloseBesideActivity``: start ``report``, close on ``close``."""
    ctx.start_activity(report, start_to_close=5)
    await ctx.wait_signal("close")
    return "closed without waiting for the report"


def failed_task(events: list[HistoryEvent]) -> dict[str, Any]:
    """The attributes of the history's WorkflowTaskFailed that tell what happened."""
    (failed,) = [e for e in events if e.event_type is E.WORKFLOW_TASK_FAILED]
    a = failed.attributes
    return {"scheduledEventId": a["scheduledEventId"], "startedEventId": a["startedEventId"],
            "cause": a["cause"], "message": a["failure"]["message"],
            "serverFailureInfo": a["failure"].get("serverFailureInfo")}


def types(events: list[HistoryEvent]) -> list[EventType]:
    return [e.event_type for e in events]


CLOSINGS = {
    "signal_during_completing_task": C.CompleteWorkflow([]),
    "signal_during_failing_task": C.FailWorkflow(make_failure("gave up", "GaveUp")),
    "signal_during_continue_as_new_task": C.ContinueAsNew("CloseWithNews", "durasim",
                                                          ("next run", [])),
    "signal_during_closing_task_ignored": C.CompleteWorkflow("done"),
}


@pytest.mark.parametrize("name", CLOSINGS)
def test_the_server_refuses_to_close_while_a_signal_waits(name: str) -> None:
    """The worker is played by hand: the signal arrives while it holds the first task."""
    real = load(name)
    rig = ServerRig().boot()
    workflow_id, _ = rig.start(workflow_type="CloseWithNews")
    first = rig.next("WorkflowTask")
    rig.net.send("worker", "server", "Signal", {"workflow_id": workflow_id, "name": "nudge",
                                                "args": [NEWS], "request_id": "s1", "seq": 1})
    rig.wait(0.1)
    rig.worker.complete_task(first, CLOSINGS[name])
    second = rig.next("WorkflowTask")
    assert (second["attempt"], second["sticky"]) == (1, False)  # a new task, full history
    assert [e.event_type for e in second["events"][:second["upto"]]] == real.event_types()[:7]
    rig.worker.complete_task(second, CLOSINGS[name])
    rig.wait(1.0)
    history = rig.store.runs(workflow_id)[0].events
    assert types(history) == real.event_types()
    assert failed_task(history) == failed_task(list(real)) == {
        "scheduledEventId": 2, "startedEventId": 3, "cause": UNHANDLED,
        "message": "UnhandledCommand", "serverFailureInfo": {}}
    assert history[4].attributes["input"] == [NEWS]


def delayed_close(nth: int = 1) -> DelayMessage:
    """Hold back the worker's ``nth`` answer: the closing task runs that much longer."""
    return DelayMessage(message="WorkflowTaskCompleted", nth=nth, by=HELD)


def test_the_workflow_code_sees_the_signal_in_the_next_task() -> None:
    real = load("signal_during_completing_task")
    run = durasim.execute(CloseWithNews, "complete", [], faults=[delayed_close()],
                          requests=[Signal("nudge", NEWS, at=SIGNAL_AT)])
    assert (run.status, run.result, run.unfired) == ("completed", [NEWS], [])
    assert run.history.event_types() == real.event_types()
    assert failed_task(list(run.history)) == failed_task(list(real))


def test_a_failing_task_is_refused_too_and_the_failure_tells_the_news() -> None:
    real = load("signal_during_failing_task")
    run = durasim.execute(CloseWithNews, "fail", [], faults=[delayed_close()],
                          requests=[Signal("nudge", NEWS, at=SIGNAL_AT)])
    assert (run.status, run.unfired) == ("failed", [])
    assert run.failure is not None and NEWS in run.failure["message"]
    assert run.history.event_types() == real.event_types()


def test_continue_as_new_is_refused_and_the_next_run_gets_the_signal() -> None:
    run = durasim.execute(CloseWithNews, "continue_as_new", [], faults=[delayed_close()],
                          requests=[Signal("nudge", NEWS, at=SIGNAL_AT)])
    assert (run.status, run.result, run.unfired) == ("completed", [NEWS], [])
    first, second = run.histories
    assert first.event_types() == load("signal_during_continue_as_new_task").event_types()
    assert second.event_types() == load("signal_during_continue_as_new_task_run2").event_types()


def test_code_that_ignores_the_signal_closes_in_the_next_task() -> None:
    real = load("signal_during_closing_task_ignored")
    run = durasim.execute(CloseIgnoringNews, faults=[delayed_close()],
                          requests=[Signal("nudge", NEWS, at=SIGNAL_AT)])
    assert (run.status, run.result, run.unfired) == ("completed", "done", [])
    assert run.history.event_types() == real.event_types()


@pytest.mark.parametrize(("name", "how"), [("signal_during_completing_task", "complete"),
                                          ("signal_during_failing_task", "fail")])
def test_the_recorded_sdk_code_on_durasim_writes_the_recorded_history(name: str,
                                                                      how: str) -> None:
    run = durasim.execute(sdk.CloseWithNews.run, how, [], faults=[delayed_close()],
                          requests=[Signal("nudge", NEWS, at=SIGNAL_AT)])
    assert run.unfired == []
    assert run.history.event_types() == load(name).event_types()
    assert failed_task(list(run.history)) == failed_task(list(load(name)))


def test_an_activity_completed_during_the_closing_task_is_not_dropped() -> None:
    """``report`` ends at about 1 s, while the task the signal ``close`` started (at
    0.5 s) is held: its completion is written after the refused task."""
    real = load("activity_completed_during_closing_task")
    run = durasim.execute(CloseBesideActivity, faults=[delayed_close(nth=2)],
                          requests=[Signal("close", at=SIGNAL_AT)])
    assert (run.status, run.unfired) == ("completed", [])
    assert run.history.event_types() == real.event_types()
    assert failed_task(list(run.history)) == failed_task(list(real))


def test_a_timer_the_closing_task_cancels_does_not_refuse_it() -> None:
    """A TimerFired the task's own CancelTimer drops is no news (Temporal's server
    clears it before it looks at what is buffered; ``timer_fired_during_cancel``)."""
    rig = ServerRig().boot()
    workflow_id, _ = rig.start(workflow_type="CloseWithNews")
    rig.worker.complete_task(rig.next("WorkflowTask"), C.StartTimer("1", 1.0))
    rig.wait(0.1)
    rig.net.send("worker", "server", "Signal", {"workflow_id": workflow_id, "name": "nudge",
                                                "args": [NEWS], "request_id": "s1", "seq": 1})
    signalled = rig.next("WorkflowTask")
    rig.wait(1.5)  # the timer fires while the task runs
    rig.worker.complete_task(signalled, C.CancelTimer("1"), C.CompleteWorkflow([NEWS]))
    rig.wait(1.0)
    assert types(rig.history(workflow_id))[-2:] == [E.TIMER_CANCELED,
                                                    E.WORKFLOW_EXECUTION_COMPLETED]


def test_a_retried_task_that_closes_is_refused_without_losing_the_signal() -> None:
    """A transient attempt (the code failed before) writes nothing of itself: the
    signal is written and the next attempt sees it. (How Temporal's server counts the
    attempts here is read from its source, ``failWorkflowTask``; not recorded.)"""
    rig = ServerRig().boot()
    workflow_id, _ = rig.start(workflow_type="CloseWithNews")
    rig.worker.fail_task(rig.next("WorkflowTask"), "a bug")
    retried = rig.next("WorkflowTask")
    rig.net.send("worker", "server", "Signal", {"workflow_id": workflow_id, "name": "nudge",
                                                "args": [NEWS], "request_id": "s1", "seq": 1})
    rig.wait(0.1)
    rig.worker.complete_task(retried, C.CompleteWorkflow([]))
    again = rig.next("WorkflowTask")
    assert again["attempt"] == retried["attempt"] + 1
    assert E.WORKFLOW_EXECUTION_SIGNALED in [e.event_type for e in again["events"]]
    rig.worker.complete_task(again, C.CompleteWorkflow([NEWS]))
    rig.wait(1.0)
    history = rig.history(workflow_id)
    assert types(history) == [
        E.WORKFLOW_EXECUTION_STARTED, E.WORKFLOW_TASK_SCHEDULED, E.WORKFLOW_TASK_STARTED,
        E.WORKFLOW_TASK_FAILED, E.WORKFLOW_EXECUTION_SIGNALED, E.WORKFLOW_TASK_SCHEDULED,
        E.WORKFLOW_TASK_STARTED, E.WORKFLOW_TASK_COMPLETED, E.WORKFLOW_EXECUTION_COMPLETED]
    assert history[3].attributes["cause"] != UNHANDLED  # only the bug's failure is written


def test_a_refused_speculative_task_is_written_before_its_failure() -> None:
    """An update's speculative task that closes the run while a signal waits: its
    Scheduled and Started are written first, so the failure points at real events (as
    for a speculative task that times out or is terminated)."""
    rig = ServerRig().boot()
    workflow_id, _ = rig.start(workflow_type="CloseWithNews")
    rig.worker.complete_task(rig.next("WorkflowTask"), C.StartTimer("1", 60.0))
    rig.wait(1.0)
    rig.net.send("worker", "server", "Update", {"workflow_id": workflow_id, "request_id": "u1",
                                                "name": "set", "args": [1], "seq": 1})
    speculative = rig.next("WorkflowTask")
    assert speculative["speculative"]
    rig.net.send("worker", "server", "Signal", {"workflow_id": workflow_id, "name": "nudge",
                                                "args": [NEWS], "request_id": "s1", "seq": 2})
    rig.wait(0.1)
    rig.worker.complete_task(speculative, C.CompleteWorkflow([]))
    rig.next("WorkflowTask")
    history = rig.history(workflow_id)
    assert types(history)[4:] == [
        E.TIMER_STARTED, E.WORKFLOW_TASK_SCHEDULED, E.WORKFLOW_TASK_STARTED,
        E.WORKFLOW_TASK_FAILED, E.WORKFLOW_EXECUTION_SIGNALED, E.WORKFLOW_TASK_SCHEDULED,
        E.WORKFLOW_TASK_STARTED]
    assert failed_task(history) == {
        "scheduledEventId": 6, "startedEventId": 7, "cause": UNHANDLED,
        "message": "UnhandledCommand", "serverFailureInfo": {}}


@pytest.mark.parametrize("name", ["signal_during_completing_task",
                                  "signal_during_failing_task",
                                  "signal_during_continue_as_new_task",
                                  "signal_during_continue_as_new_task_run2"])
def test_the_recorded_histories_replay_in_durasim(name: str) -> None:
    durasim.Replayer(workflows=[CloseWithNews]).replay(load(name))


def test_the_other_recordings_replay_in_durasim() -> None:
    replayer = durasim.Replayer(workflows=[CloseIgnoringNews, CloseBesideActivity])
    replayer.replay(load("signal_during_closing_task_ignored"))
    replayer.replay(load("activity_completed_during_closing_task"))


@pytest.mark.parametrize("crash", [Crash(node="server", at_time=0.7, restart_after=1.0),
                                   Crash(node="server", after_events=6, restart_after=1.0)],
                         ids=["while the task runs", "right after the refusal"])
def test_a_server_crash_does_not_lose_the_signal(tmp_path: Path, crash: Crash) -> None:
    store = SQLiteStore(tmp_path / "histories.sqlite")
    run = durasim.execute(CloseWithNews, "complete", [], store=store,
                          faults=[delayed_close(), crash],
                          requests=[Signal("nudge", NEWS, at=SIGNAL_AT)])
    assert (run.status, run.result, run.unfired) == ("completed", [NEWS], [])
    assert E.WORKFLOW_EXECUTION_SIGNALED in run.history.event_types()
