"""The server's recovery alone: what a restarted server rebuilds from its store.

Recovery reads two things back (:mod:`durasim.engine.recovery`): the history, for what is
in flight (a workflow task, activities, timers), and the *mutable state* saved with the
last batch, for what the history does not say (attempt counters, the last failure, when
an attempt was handed out, heartbeat details, events parked during a task). The first
tests rebuild runs from records written by hand; the last ones crash a real server in the
middle of a run and check that nothing in flight was forgotten or restarted from zero.
"""

from __future__ import annotations

from typing import Any

import pytest

from durasim.engine import commands as C
from durasim.engine.execution import TRANSIENT
from durasim.engine.history import EventType, HistoryEvent
from durasim.engine.recovery import rebuild
from durasim.engine.store import RunRecord
from tests.engine.histories import HistoryBuilder
from tests.engine.server_rig import ServerRig, schedule

E = EventType


def record_of(h: HistoryBuilder, state: dict[str, Any] | None = None) -> RunRecord:
    """The store's record of an open run with ``h``'s events and saved ``state``."""
    record = RunRecord("pay-1", "r1", "Pay")
    record.events = list(h.events)
    record.state = state or {}
    return record


def test_what_is_in_flight_is_read_from_the_history() -> None:
    h = HistoryBuilder(25)
    h.task()
    withdraw = h.activity("withdraw", "alice", 25)
    timer = h.timer("1", 60.0)
    ex = rebuild(record_of(h, {"started_at": 100.0}))
    assert ex.started_at == 100.0
    assert list(ex.activities) == [withdraw]
    assert ex.activities[withdraw].scheduled_at == 100.0  # history times count from the start
    assert ex.activities[withdraw].attempt == 1  # nothing saved: a first attempt
    assert ex.timers == {"1": timer}
    assert (ex.wt_scheduled, ex.wt_started) == (0, 0)  # the task completed


def test_what_closed_is_not_in_flight_and_the_open_task_is() -> None:
    h = HistoryBuilder(25)
    h.task()
    h.activity_completed(h.activity("withdraw", "alice", 25), 75)
    h.task()
    h.at(60.0).timer_fired("1", h.timer("1", 60.0))
    last = h.task(completed=False)
    ex = rebuild(record_of(h))
    assert ex.activities == {} and ex.timers == {}
    assert (ex.wt_scheduled, ex.wt_started) == (last - 1, last)
    assert not ex.failing


def test_what_the_history_cannot_say_comes_from_the_saved_state() -> None:
    h = HistoryBuilder(25)
    h.task()
    withdraw = h.activity("withdraw", "alice", 25)
    saved_activities = {str(withdraw): {"attempt": 3, "last_failure": {"message": "bank down"},
                                        "started_at": 12.0, "heartbeat_details": ["page 2"]}}
    ex = rebuild(record_of(h, {
        "activities": saved_activities, "wake_after_task": True,
        "buffered": [["WorkflowExecutionSignaled", {"signalName": "approve"}, 11.0]]}))
    state = ex.activities[withdraw]
    assert (state.attempt, state.last_failure, state.started_at, state.heartbeat_details) == (
        3, {"message": "bank down"}, 12.0, ("page 2",))
    assert ex.buffered == [(E.WORKFLOW_EXECUTION_SIGNALED, {"signalName": "approve"}, 11.0)]
    assert ex.wake_after_task
    # the rebuilt activities hold exactly what was saved, and nothing is stale: the
    # next batch rewrites no activity it did not change
    assert {str(k): a.to_dict() for k, a in ex.activities.items()} == saved_activities
    assert ex.state()["activities"] == {}


def test_a_workflow_task_being_retried_comes_back_transient() -> None:
    h = HistoryBuilder(25)
    h.task(completed=False)
    h.add(E.WORKFLOW_TASK_FAILED, scheduledEventId=2, startedEventId=3,
          cause="WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE")
    ex = rebuild(record_of(h, {"wt_attempt": 3, "wt_attempt_started": 40.0}))
    assert ex.failing and ex.wt_attempt == 3
    assert (ex.wt_scheduled, ex.wt_started) == (TRANSIENT, 0)  # no event of its own
    assert ex.wt_attempt_started == 40.0


# -- a real server crashes mid-run ---------------------------------------------------------

@pytest.fixture
def rig() -> ServerRig:
    return ServerRig().boot()


def crash_server(rig: ServerRig, *, down_for: float) -> None:
    """Crash the server node, keep it down ``down_for`` seconds, restart it."""
    rig.server.node.crash()
    rig.wait(down_for)
    rig.server.node.restart()
    (recovered,) = rig.sim.trace.filter(node="server", kind="recover")
    assert recovered.fields["workflow"] == "pay-1"  # it rebuilt the run from the store


def first_task(rig: ServerRig, *commands: C.Command) -> dict[str, Any]:
    """Start Pay(25) and answer its first task with ``commands``."""
    rig.start(25)
    rig.worker.complete_task(rig.next("WorkflowTask"), *commands)
    rig.wait(1.0)
    return rig.worker.last("WorkflowTask")


def event_of(rig: ServerRig, event_type: EventType) -> HistoryEvent:
    return next(e for e in rig.history() if e.event_type is event_type)


def test_a_timer_fires_at_its_original_time_after_a_restart(rig: ServerRig) -> None:
    first_task(rig, C.StartTimer("1", 30.0))
    started = event_of(rig, E.TIMER_STARTED)
    crash_server(rig, down_for=10.0)
    rig.wait(30.0)
    fired = event_of(rig, E.TIMER_FIRED)
    assert fired.time == pytest.approx(started.time + 30.0)  # not 30 s after the restart
    # the worker polled again when told ServerUp, and was handed the task TimerFired made
    tasks = [m.payload for m in rig.worker.received if m.kind == "WorkflowTask"]
    after = [task for task in tasks if task["upto"] > fired.event_id]
    assert after and after[0]["upto"] == fired.event_id + 2  # its Scheduled and Started


def test_an_activity_out_at_the_crash_keeps_its_attempt_and_last_failure(
        rig: ServerRig) -> None:
    rig.start(25)
    rig.worker.complete_task(rig.next("WorkflowTask"), schedule("withdraw", "alice", 25))
    attempt_1 = rig.next("ActivityTask")
    rig.worker.fail_activity(attempt_1, "bank down")
    attempt_2 = rig.next("ActivityTask")
    assert attempt_2["attempt"] == 2
    crash_server(rig, down_for=2.0)
    assert rig.worker.count("ActivityTask") == 2  # it waits for attempt 2, not resends 1
    rig.worker.complete_activity(attempt_2, 75)  # the answer reaches the restarted server
    rig.wait(1.0)
    started = event_of(rig, E.ACTIVITY_TASK_STARTED)
    assert started.attributes["attempt"] == 2
    assert started.attributes["lastFailure"]["message"] == "bank down"
    assert event_of(rig, E.ACTIVITY_TASK_COMPLETED).attributes["result"] == 75


def test_an_activity_never_handed_out_is_dispatched_after_the_restart(rig: ServerRig) -> None:
    rig.start(25)
    task = rig.next("WorkflowTask")
    rig.worker.node.crash()  # nobody polls: the activity waits in the server's memory
    rig.worker.complete_task(task, schedule("withdraw", "alice", 25))
    rig.wait(1.0)
    assert rig.types()[-1] is E.ACTIVITY_TASK_SCHEDULED
    crash_server(rig, down_for=1.0)  # the memory is gone, the history is not
    rig.worker.node.restart()
    rig.wait(1.0)
    handed = rig.worker.last("ActivityTask")
    assert (handed["activity_type"], handed["attempt"]) == ("withdraw", 1)


def test_a_task_in_flight_at_the_crash_times_out_as_planned(rig: ServerRig) -> None:
    rig.start(25)
    rig.next("WorkflowTask")
    started = event_of(rig, E.WORKFLOW_TASK_STARTED)
    crash_server(rig, down_for=4.0)
    rig.wait(8.0)  # past the task's deadline, before its retry's
    timed_out = event_of(rig, E.WORKFLOW_TASK_TIMED_OUT)
    assert timed_out.time == pytest.approx(started.time + 10.0)  # the task's 10 s, no reset
    retry = rig.worker.last("WorkflowTask")
    assert retry["scheduled"] == timed_out.event_id + 1
