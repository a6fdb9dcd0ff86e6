"""The server alone: workflow tasks and activity tasks, driven by hand-sent messages.

A :class:`~tests.engine.server_rig.FakeWorker` stands where the worker would: it runs no
workflow code, so each test decides what the worker answers, when, or whether it answers
at all, and reads what the server wrote in its store.
"""

from __future__ import annotations

import pytest

from durasim.engine import commands as C
from durasim.engine.execution import WORKFLOW_TASK_TIMEOUT
from durasim.engine.history import EventType
from durasim.engine.workflow_tasks import (
    POLL_DELAY,
    STICKY_SCHEDULE_TO_START,
    task_timeout,
)
from tests.engine.server_rig import ServerRig, schedule

E = EventType


@pytest.fixture
def rig() -> ServerRig:
    return ServerRig().boot()


def first_task(rig: ServerRig) -> dict:
    rig.start(25)
    return rig.next("WorkflowTask")


def test_a_new_run_hands_its_first_task_to_the_polling_worker(rig: ServerRig) -> None:
    workflow_id, run_id = rig.start(25)
    assert rig.types() == [E.WORKFLOW_EXECUTION_STARTED, E.WORKFLOW_TASK_SCHEDULED]
    task = rig.next("WorkflowTask")
    assert (task["workflow_id"], task["run_id"], task["workflow_type"]) == (workflow_id,
                                                                            run_id, "Pay")
    assert (task["upto"], task["scheduled"], task["attempt"]) == (3, 2, 1)
    assert not task["sticky"]
    assert [e.event_type for e in task["events"]] == [
        E.WORKFLOW_EXECUTION_STARTED, E.WORKFLOW_TASK_SCHEDULED, E.WORKFLOW_TASK_STARTED]
    assert rig.history()[0].attributes["input"] == [25]
    started = rig.history()[2]
    assert started.event_type is E.WORKFLOW_TASK_STARTED
    assert 0.0 < started.time <= POLL_DELAY  # history time counts from the run's start


def test_a_task_waits_for_a_worker_to_poll() -> None:
    rig = ServerRig()
    rig.server.node.start()
    rig.start(25)
    rig.wait(30.0)
    assert rig.worker.count("WorkflowTask") == 0
    rig.worker.node.start()  # it polls now
    rig.wait(1.0)
    assert rig.worker.count("WorkflowTask") == 1


def test_completed_commands_are_written_after_workflow_task_completed(rig: ServerRig) -> None:
    task = first_task(rig)
    rig.worker.complete_task(task, schedule("withdraw", "alice", 25))
    rig.wait(1.0)
    completed, scheduled = rig.history()[3:5]
    assert completed.event_type is E.WORKFLOW_TASK_COMPLETED
    assert completed.attributes["scheduledEventId"] == 2
    assert completed.attributes["startedEventId"] == 3
    assert scheduled.event_type is E.ACTIVITY_TASK_SCHEDULED
    assert scheduled.attributes["workflowTaskCompletedEventId"] == 4
    assert scheduled.attributes["scheduleToStartTimeout"] == 0.0  # the server's default
    activity = rig.worker.last("ActivityTask")
    assert activity["token"][2:] == (5, 1)  # scheduled event 5, attempt 1
    assert (activity["activity_type"], activity["input"]) == ("withdraw", ["alice", 25])


def test_a_completed_activity_writes_started_completed_and_a_sticky_task(rig: ServerRig) -> None:
    task = first_task(rig)
    rig.worker.complete_task(task, schedule("withdraw", "alice", 25))
    rig.wait(1.0)
    rig.worker.complete_activity(rig.worker.last("ActivityTask"), 75)
    rig.wait(1.0)
    assert rig.types()[5:] == [E.ACTIVITY_TASK_STARTED, E.ACTIVITY_TASK_COMPLETED,
                                 E.WORKFLOW_TASK_SCHEDULED, E.WORKFLOW_TASK_STARTED]
    started, completed = rig.history()[5:7]
    assert started.attributes["attempt"] == 1 and "lastFailure" not in started.attributes
    assert completed.attributes == {**completed.attributes, "result": 75,
                                    "scheduledEventId": 5, "startedEventId": 6}
    second = rig.worker.last("WorkflowTask")
    assert second["sticky"] and second["upto"] == 9


def test_a_closing_command_closes_the_run(rig: ServerRig) -> None:
    task = first_task(rig)
    rig.worker.complete_task(task, C.CompleteWorkflow("done"))
    rig.wait(1.0)
    record = rig.store.runs("pay-1")[-1]
    assert record.status == "completed"
    assert rig.types()[-1] is E.WORKFLOW_EXECUTION_COMPLETED
    assert not rig.server.executions


def test_an_unanswered_task_times_out_and_is_handed_out_again(rig: ServerRig) -> None:
    first_task(rig)
    rig.wait(WORKFLOW_TASK_TIMEOUT)
    assert rig.types()[3:] == [E.WORKFLOW_TASK_TIMED_OUT]
    assert rig.history()[3].attributes["timeoutType"] == "TIMEOUT_TYPE_START_TO_CLOSE"
    # attempt 2 is transient, as after a failure (Temporal's server counts a timed-out
    # attempt): its Scheduled/Started pair (events 5 and 6) is written only if it completes
    retry = rig.next("WorkflowTask")
    assert (retry["upto"], retry["scheduled"], retry["sticky"], retry["attempt"]) == (
        6, 5, False, 2)
    assert len(rig.history()) == 4


def test_a_late_answer_to_a_timed_out_task_is_rejected(rig: ServerRig) -> None:
    task = first_task(rig)
    rig.wait(WORKFLOW_TASK_TIMEOUT)
    rig.worker.complete_task(task, C.CompleteWorkflow("late"))
    rig.wait(0.5)
    assert E.WORKFLOW_EXECUTION_COMPLETED not in rig.types()


def test_a_sticky_task_goes_to_the_normal_queue_when_its_worker_is_gone(rig: ServerRig) -> None:
    task = first_task(rig)
    rig.worker.complete_task(task, C.StartTimer("1", 30.0))
    rig.wait(1.0)
    rig.worker.node.crash()  # its cache is gone; the restarted worker polls again
    rig.worker.node.restart()
    rig.wait(30.0)  # the timer fires: a task is due, for a sticky queue nobody polls
    assert rig.types()[-1] is E.WORKFLOW_TASK_SCHEDULED
    rig.wait(STICKY_SCHEDULE_TO_START)
    timed_out = [e for e in rig.history() if e.event_type is E.WORKFLOW_TASK_TIMED_OUT]
    assert [e.attributes["timeoutType"] for e in timed_out] == [
        "TIMEOUT_TYPE_SCHEDULE_TO_START"]
    retry = rig.worker.last("WorkflowTask")
    assert not retry["sticky"] and retry["upto"] == len(rig.history())


def test_a_failed_task_is_written_once_then_retried_as_transient_attempts(
        rig: ServerRig) -> None:
    task = first_task(rig)
    rig.worker.fail_task(task, "'missing'")
    rig.wait(1.0)
    assert rig.types() == [E.WORKFLOW_EXECUTION_STARTED, E.WORKFLOW_TASK_SCHEDULED,
                             E.WORKFLOW_TASK_STARTED, E.WORKFLOW_TASK_FAILED]
    failed = rig.history()[3].attributes
    assert failed["failure"]["message"] == "'missing'"
    retry = rig.worker.last("WorkflowTask")
    assert retry["attempt"] == 2
    # the worker sees a Scheduled/Started pair the store does not hold (transient)
    assert [e.event_type for e in retry["events"][4:]] == [E.WORKFLOW_TASK_SCHEDULED,
                                                           E.WORKFLOW_TASK_STARTED]
    assert len(rig.history()) == 4
    rig.wait(task_timeout(2))  # the retry is not answered: attempt 3, still nothing written
    assert rig.worker.last("WorkflowTask")["attempt"] == 3 and len(rig.history()) == 4
    rig.worker.complete_task(rig.worker.last("WorkflowTask"), C.CompleteWorkflow("fixed"))
    rig.wait(1.0)
    assert rig.types()[4:] == [E.WORKFLOW_TASK_SCHEDULED, E.WORKFLOW_TASK_STARTED,
                                 E.WORKFLOW_TASK_COMPLETED, E.WORKFLOW_EXECUTION_COMPLETED]
    assert rig.history()[4].attributes["attempt"] == 3


def test_task_timeouts_grow_from_the_fourth_attempt_up_to_a_cap() -> None:
    assert [task_timeout(n) for n in (1, 2, 3)] == [WORKFLOW_TASK_TIMEOUT] * 3
    assert task_timeout(4) == WORKFLOW_TASK_TIMEOUT + 5.0
    assert task_timeout(5) == WORKFLOW_TASK_TIMEOUT + 10.0
    assert task_timeout(10_000) == task_timeout(21) == WORKFLOW_TASK_TIMEOUT + 600.0


def scheduled_activity(rig: ServerRig, command: C.ScheduleActivity) -> dict:
    rig.worker.complete_task(first_task(rig), command)
    return rig.next("ActivityTask")


def test_a_failed_attempt_is_retried_after_its_backoff_and_nothing_is_written(
        rig: ServerRig) -> None:
    attempt_1 = scheduled_activity(rig, schedule("withdraw", "alice", 25))
    rig.worker.fail_activity(attempt_1, "bank down")
    rig.wait(0.5)
    assert rig.worker.count("ActivityTask") == 1  # waiting out the 1 s backoff
    assert rig.types()[-1] is E.ACTIVITY_TASK_SCHEDULED
    rig.wait(1.0)
    attempt_2 = rig.worker.last("ActivityTask")
    assert attempt_2["attempt"] == 2 and attempt_2["token"][3] == 2
    rig.worker.complete_activity(attempt_2, 75)
    rig.wait(1.0)
    started = next(e for e in rig.history() if e.event_type is E.ACTIVITY_TASK_STARTED)
    assert started.attributes["attempt"] == 2
    assert started.attributes["lastFailure"]["message"] == "bank down"


def test_an_answer_from_an_old_attempt_is_ignored(rig: ServerRig) -> None:
    attempt_1 = scheduled_activity(rig, schedule("withdraw", "alice", 25))
    rig.worker.fail_activity(attempt_1, "bank down")
    rig.wait(2.0)
    rig.worker.complete_activity(attempt_1, "too late")
    rig.wait(0.5)
    assert E.ACTIVITY_TASK_COMPLETED not in rig.types()


def test_a_non_retryable_failure_or_the_last_attempt_closes_the_activity(
        rig: ServerRig) -> None:
    attempt_1 = scheduled_activity(rig, schedule("withdraw", "alice", 500,
                                                   maximum_attempts=3))
    rig.worker.fail_activity(attempt_1, "insufficient funds", non_retryable=True)
    rig.wait(1.0)
    failed = next(e for e in rig.history() if e.event_type is E.ACTIVITY_TASK_FAILED)
    assert failed.attributes["retryState"] == "RETRY_STATE_NON_RETRYABLE_FAILURE"
    assert rig.types()[-2:] == [E.WORKFLOW_TASK_SCHEDULED, E.WORKFLOW_TASK_STARTED]


def test_a_silent_attempt_times_out_start_to_close_and_is_retried(rig: ServerRig) -> None:
    scheduled_activity(rig, schedule("deposit", "bob", 25, start_to_close=5.0))
    rig.wait(5.0 + 1.0 + 0.5)  # the timeout, then the 1 s backoff
    attempt_2 = rig.worker.last("ActivityTask")
    assert attempt_2["attempt"] == 2
    rig.worker.complete_activity(attempt_2, 75)
    rig.wait(1.0)
    started = next(e for e in rig.history() if e.event_type is E.ACTIVITY_TASK_STARTED)
    failure = started.attributes["lastFailure"]
    assert failure["timeoutFailureInfo"]["timeoutType"] == "TIMEOUT_TYPE_START_TO_CLOSE"


def test_heartbeats_keep_an_attempt_alive_and_their_details_reach_the_next(
        rig: ServerRig) -> None:
    attempt_1 = scheduled_activity(rig, schedule("export", start_to_close=60.0,
                                                   heartbeat_timeout=2.0))
    for page in (1, 2, 3):
        rig.wait(1.5)
        rig.worker.heartbeat(attempt_1, page)
    assert rig.worker.count("ActivityTask") == 1  # 4.5 s with no 2 s silence
    rig.wait(2.0 + 1.0 + 0.5)  # silence: the heartbeat timeout, then the backoff
    attempt_2 = rig.worker.last("ActivityTask")
    assert attempt_2["attempt"] == 2 and attempt_2["heartbeat_details"] == [3]
    assert E.ACTIVITY_TASK_TIMED_OUT not in rig.types()  # retried: nothing written


def test_without_retries_left_a_heartbeat_timeout_is_written_with_the_details(
        rig: ServerRig) -> None:
    attempt_1 = scheduled_activity(rig, schedule("export", start_to_close=60.0,
                                                   heartbeat_timeout=2.0,
                                                   maximum_attempts=1))
    rig.worker.heartbeat(attempt_1, "page 7")
    rig.wait(3.0)
    timed_out = next(e for e in rig.history() if e.event_type is E.ACTIVITY_TASK_TIMED_OUT)
    info = timed_out.attributes["failure"]["timeoutFailureInfo"]
    assert info == {"timeoutType": "TIMEOUT_TYPE_HEARTBEAT", "lastHeartbeatDetails": ["page 7"]}
    assert timed_out.attributes["retryState"] == "RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED"
