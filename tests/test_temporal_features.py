"""Issue 13: each feature the talk's six characteristics need, held to a real recording.

For every recording of tests/fixtures/recorded (record_features.py) and
tests/fixtures/sdk/recorded (the SDK suite) that shows an issue-13 feature, the
durasim-native equivalent in tests/workflows/features.py must write the same full event
types (workflow tasks included), return the same result, and durasim's Replayer must
replay the real history with that code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import durasim
from durasim import Crash, History
from durasim.engine import Cancel, Query, Signal, Update
from durasim.errors import NondeterminismError
from tests.workflows import features as wf

FIXTURES = Path(__file__).parent / "fixtures"
RESULTS = json.loads((FIXTURES / "sdk" / "recorded" / "results.json").read_text())


def recorded(name: str) -> History:
    """A recording: the SDK suite's if it has one of that name, else record_features'."""
    sdk = FIXTURES / "sdk" / "recorded" / f"{name}.json"
    return History.from_temporal_json(sdk if sdk.exists() else
                                      FIXTURES / "recorded" / f"{name}.json")


def returned(name: str) -> Any:
    return RESULTS[name]["returned"]


CASES: list[tuple[str, Any, tuple[Any, ...], dict[str, Any]]] = [
    ("wait_condition_signal_wins", wf.ApprovalWithDeadline, (60.0,),
     {"requests": [Signal("approve", "manager", at=1.0)]}),
    ("wait_condition_timeout_wins", wf.ApprovalWithDeadline, (2.0,), {}),
    ("timer_cancel", wf.PaymentReminder, (100,), {}),
    ("schedule_to_close_retries", wf.RetryUntilDeadline, (), {}),
    ("activity_timeouts", wf.ActivityTimeouts, (), {}),
    ("heartbeat", wf.SendFileWorkflow, (8,), {"activity_worker": True}),
    ("query", wf.InvoiceWorkflow, ("acme",), {"requests": [Query("status", at=0.0)]}),
    ("signal_with_start", wf.ApprovalsWorkflow, (),
     {"requests": [Signal("approve", "manager", with_start=True), Signal("close", at=1.0)]}),
    ("update", wf.SavingsWorkflow, (100,),
     {"requests": [Update("deposit", -5, at=1.0), Update("deposit", 100, at=1.5)]}),
    ("cancellation", wf.OrderWorkflow, ("order-42",), {"requests": [Cancel(at=1.0)]}),
    ("local_activity", wf.ConvertWorkflow, (100,), {}),
    ("patched", wf.PatchedPayment, (40,), {}),
    ("deprecate_patch", wf.DeprecatedPatchPayment, (40,), {}),
    ("parallel_activities", wf.BestQuoteWorkflow, (), {}),
]


def closing_value(history: History) -> Any:
    return history.events[-1].attributes.get("result")


@pytest.mark.parametrize("name, workflow, args, options", CASES, ids=[c[0] for c in CASES])
def test_same_history_as_the_real_server(name: str, workflow: Any, args: tuple[Any, ...],
                                         options: dict[str, Any]) -> None:
    real = recorded(name)
    run = durasim.execute(workflow, *args, id=name, **options)
    assert run.history.event_types() == real.event_types()
    assert closing_value(run.history) == closing_value(real)


@pytest.mark.parametrize("name, workflow", [(name, workflow) for name, workflow, _, _ in CASES],
                         ids=[c[0] for c in CASES])
def test_the_real_history_replays_with_durasim_code(name: str, workflow: Any) -> None:
    result = durasim.Replayer(workflows=[workflow]).replay(recorded(name))
    assert result.finished


def test_an_accepted_update_the_code_cannot_handle_is_nondeterminism() -> None:
    """A recorded update whose handler the code lacks (renamed, removed) cannot be
    replayed: the Replayer says which event and which name, never a raw KeyError."""
    doc = recorded("update").to_temporal_json()
    events = json.loads(doc)["events"]
    accepted = next(e for e in events
                    if e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED")
    accepted["workflowExecutionUpdateAcceptedEventAttributes"]["acceptedRequest"][
        "input"]["name"] = "withdraw"
    damaged = History.from_temporal_json({"events": events})
    with pytest.raises(NondeterminismError, match=r"update 'withdraw'.*has no update"):
        durasim.Replayer(workflows=[wf.SavingsWorkflow]).replay(damaged)


def test_timed_out_activities_carry_temporal_failure_shape() -> None:
    run = durasim.execute(wf.ActivityTimeouts)
    assert run.result == ["START_TO_CLOSE", "HEARTBEAT"]
    real = recorded("activity_timeouts")
    for mine, theirs in zip([e for e in run.history if e.event_type.value.endswith("TimedOut")],
                            [e for e in real if e.event_type.value.endswith("TimedOut")],
                            strict=True):
        for key in ("source", "message"):
            assert mine.attributes["failure"][key] == theirs.attributes["failure"][key]
        assert (mine.attributes["failure"]["timeoutFailureInfo"]["timeoutType"]
                == theirs.attributes["failure"]["timeoutFailureInfo"]["timeoutType"])
        assert mine.attributes["retryState"] == theirs.attributes["retryState"]
        assert "identity" not in mine.attributes


def test_schedule_to_close_gives_up_at_the_last_real_attempt() -> None:
    run = durasim.execute(wf.RetryUntilDeadline)
    real = recorded("schedule_to_close_retries")
    for history in (run.history, real):
        started = next(e for e in history if e.event_type.value == "ActivityTaskStarted")
        failed = next(e for e in history if e.event_type.value == "ActivityTaskFailed")
        scheduled = next(e for e in history if e.event_type.value == "ActivityTaskScheduled")
        assert started.attributes["attempt"] == 3
        assert failed.attributes["retryState"] == "RETRY_STATE_TIMEOUT"
        assert scheduled.attributes["scheduleToStartTimeout"] == 5.0
    assert run.status == "failed"


def test_queries_and_updates_answer_as_recorded() -> None:
    query = durasim.execute(wf.InvoiceWorkflow, "acme", requests=[
        Query("status", at=0.0), Query("status", at=10.0)])
    expected = returned("query")
    assert [a.value for a in query.answers] == [expected[0], expected[2]]
    assert query.result == expected[1]
    update = durasim.execute(wf.SavingsWorkflow, 100, requests=[
        Update("deposit", -5, at=1.0), Update("deposit", 100, at=1.5)])
    refused, balance, result = returned("update")
    assert update.answers[0].error == refused and update.answers[1].value == balance
    assert update.result == result


def test_heartbeats_resume_after_the_activity_worker_is_killed() -> None:
    """heartbeat_worker_killed: the attempt's death is seen by the heartbeat timeout (2 s),
    not the 10-minute start-to-close, and attempt 2 resumes from the last heartbeat sent."""
    real = recorded("heartbeat_worker_killed")
    run = durasim.execute(wf.SendFileWorkflow, 8, activity_worker=True,
                          faults=Crash(node="activity_worker", at_time=2.2, restart_after=0.1))
    assert run.result == closing_value(real) == "sent chunks 5-8 of 8"
    assert run.history.event_types() == real.event_types()
    started = next(e for e in run.history if e.event_type.value == "ActivityTaskStarted")
    assert started.attributes["attempt"] == 2
    assert started.attributes["lastFailure"]["timeoutFailureInfo"] == {
        "timeoutType": "TIMEOUT_TYPE_HEARTBEAT"}
    assert started.time < 60  # noticed by heartbeats, long before the 600 s timeout


def test_cancellation_ends_canceled_after_cleanup() -> None:
    run = durasim.execute(wf.OrderWorkflow, "order-42", requests=[Cancel(at=1.0)])
    assert run.status == "canceled"
    assert run.activity_calls == {"release_stock": 1}


def test_activity_task_started_carries_the_time_the_attempt_started() -> None:
    """Issue 11.4: recorded heartbeat.json (slow_transfer(3.0)) shows ActivityTaskStarted at
    0.029 s, when the attempt started, and ActivityTaskCompleted at 3.053 s."""
    real = History.from_temporal_json(FIXTURES / "recorded" / "heartbeat.json")
    run = durasim.execute(wf.LongActivity, 3.0)
    assert run.history.event_types() == real.event_types()
    for history in (run.history, real):
        by_type = {e.event_type.value: e for e in history}
        scheduled, started, completed = (by_type[f"ActivityTask{k}"]
                                         for k in ("Scheduled", "Started", "Completed"))
        assert started.time - scheduled.time < 0.5  # started right away, not at the end
        assert completed.time - started.time >= 3.0  # the whole three-second call
    assert run.result == real.events[-1].attributes["result"]
