"""Two cancellation races checked against what Temporal recorded (``record_cancellations``).

``timer_fired_during_cancel.json``: a timer fires while a workflow task runs and that task
cancels it. The server drops the TimerFired it had buffered and, with nothing else new,
schedules *no* further workflow task: the next event is the new timer's TimerFired.
``gather_cancelled_with_cleanup.json``: cancelling a workflow that awaits a gather of an
activity and a timer sends the branches' cancellations first, then the clean-up activity
of its ``except CancelledError``.
"""

from __future__ import annotations

from pathlib import Path

import durasim
from durasim import History
from durasim.engine import Cancel, EventType
from durasim.engine import commands as C
from tests.engine.server_rig import ServerRig
from tests.fixtures.recorded import cancellation_workflows as sdk
from tests.workflows import recorded as wf

E = EventType
RECORDED = Path(__file__).parent.parent / "fixtures" / "recorded"


def load(name: str) -> History:
    return History.from_temporal_json(RECORDED / f"{name}.json")


def test_a_timer_cancelled_after_it_fired_leaves_no_task_behind() -> None:
    """The worker is played by hand: it holds the signal's task until the timer fired."""
    rig = ServerRig().boot()
    workflow_id, _ = rig.start(workflow_type="CancelFiredTimer")
    rig.worker.complete_task(rig.next("WorkflowTask"), C.StartTimer("1", 1.0))
    rig.wait(0.1)
    rig.net.send("worker", "server", "Signal", {"workflow_id": workflow_id, "name": "proceed",
                                                "args": [], "request_id": "s1", "seq": 1})
    signalled = rig.next("WorkflowTask")
    rig.wait(1.5)  # the timer fires while the task runs: its TimerFired waits for the task
    rig.worker.complete_task(signalled, C.StartTimer("2", 2.0), C.CancelTimer("1"))
    rig.wait(0.5)
    assert rig.worker.count("WorkflowTask") == 2  # no task for the dropped TimerFired
    rig.worker.complete_task(rig.next("WorkflowTask"), C.CompleteWorkflow("done"))
    rig.wait(1.0)
    (record,) = rig.store.runs(workflow_id)
    real = load("timer_fired_during_cancel")
    assert [e.event_type for e in record.events] == real.event_types()
    canceled = next(e for e in record.events if e.event_type is E.TIMER_CANCELED)
    assert canceled.attributes["startedEventId"] == 5 == next(
        e for e in real if e.event_type is E.TIMER_CANCELED).attributes["startedEventId"]


def command_events(history: History) -> list[tuple[str, str]]:
    """The cancellation task's command events, named: (event type, activity or timer)."""
    completed = [e.event_id for e in history if e.event_type is E.WORKFLOW_TASK_COMPLETED]
    return [(e.event_type.value, str(e.attributes.get("activityType")
                                     or e.attributes.get("timerId")
                                     or e.attributes.get("scheduledEventId")))
            for e in history if e.attributes.get("workflowTaskCompletedEventId") == completed[1]]


def test_a_cancelled_gather_cancels_its_branches_before_the_clean_up_runs() -> None:
    real = load("gather_cancelled_with_cleanup")
    run = durasim.execute(wf.GatherWithCleanup, requests=[Cancel(at=0.5)],
                          id="gather_cancelled_with_cleanup")
    assert run.status == "canceled"
    assert run.history.event_types() == real.event_types()
    assert command_events(run.history) == command_events(real) == [
        ("ActivityTaskCancelRequested", "5"), ("TimerCanceled", "1"),
        ("ActivityTaskScheduled", "clean_up")]
    durasim.Replayer(workflows=[wf.GatherWithCleanup]).replay(real)


def test_the_sdk_workflow_on_durasim_sends_them_in_the_same_order() -> None:
    real = load("gather_cancelled_with_cleanup")
    run = durasim.execute(sdk.GatherWithCleanup, requests=[Cancel(at=0.5)],
                          activities=sdk.ACTIVITIES)
    assert run.status == "canceled"
    assert run.history.event_types() == real.event_types()
    assert command_events(run.history) == command_events(real)
