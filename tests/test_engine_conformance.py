"""The engine records what real Temporal records.

Each recording in tests/fixtures/recorded/ (and the shared fixtures) was written by a real
Temporal server; the durasim equivalent (tests/workflows/recorded.py) must produce exactly
the same sequence of event types, workflow tasks included, the same results and the same
activity attempt numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import durasim
from durasim import Crash, History, Signal
from tests.workflows import recorded as wf

RECORDED = Path(__file__).parent / "fixtures" / "recorded"


def load(name: str) -> History:
    return History.from_temporal_json(RECORDED / f"{name}.json")


def attempts(history: History) -> list[int]:
    return [e.attributes.get("attempt", 1) for e in history
            if e.event_type is durasim.engine.EventType.ACTIVITY_TASK_STARTED]


def closing_value(history: History) -> Any:
    return history.events[-1].attributes.get("result")


CASES = [
    ("transfer", wf.Transfer, (100,), {}),
    ("transfer_with_timer", wf.TransferWithTimer, (100,), {}),
    ("retry_then_success", wf.RetryThenSuccess, (), {}),
    ("non_retryable_failure", wf.Transfer, (5000,), {}),
    ("saga_refund", wf.SagaTransfer, (100,), {}),
    ("signal_wait", wf.Approval, (100,), {"requests": [Signal("approve", "manager", at=1.0)]}),
    ("parent_child", wf.Payroll, (2,), {}),
    ("retry_exhausted", wf.RetryExhausted, (), {}),
    ("activity_timeout_retry", wf.ActivityTimeoutRetry, (), {}),
]


@pytest.mark.parametrize("name, workflow, args, options", CASES, ids=[c[0] for c in CASES])
def test_same_history_as_real_temporal(name: str, workflow: Any, args: tuple[Any, ...],
                                       options: dict[str, Any]) -> None:
    real = load(name)
    run = durasim.execute(workflow, *args, id=name, **options)
    assert run.history.event_types() == real.event_types()
    assert closing_value(run.history) == closing_value(real)
    assert attempts(run.history) == attempts(real)
    assert run.status == ("failed" if "Failed" in real.event_types()[-1] else "completed")


def test_retry_records_last_attempt_with_last_failure() -> None:
    run = durasim.execute(wf.RetryThenSuccess)
    started = next(e for e in run.history if e.event_type.value == "ActivityTaskStarted")
    real = next(e for e in load("retry_then_success")
            if e.event_type.value == "ActivityTaskStarted")
    assert started.attributes["attempt"] == real.attributes["attempt"] == 3
    assert started.attributes["lastFailure"]["type"] == real.attributes["lastFailure"]["type"]
    assert started.time == pytest.approx(real.time, abs=0.1)  # 1 s + 2 s of backoff


def test_failed_workflow_names_the_activity_failure_like_temporal() -> None:
    run = durasim.execute(wf.Transfer, 5000)
    ours = run.history.events[-1].attributes["failure"]
    real = load("non_retryable_failure").events[-1].attributes["failure"]
    assert ours["message"] == real["message"] == "Activity task failed"
    assert ours["cause"]["type"] == real["cause"]["type"] == "InsufficientFunds"
    failed = next(e for e in run.history if e.event_type.value == "ActivityTaskFailed")
    assert failed.attributes["retryState"] == "RETRY_STATE_NON_RETRYABLE_FAILURE"


def test_child_histories_match_too() -> None:
    run = durasim.execute(wf.Payroll, 2, id="parent_child")
    for i in (1, 2):
        child = run.children[f"parent_child-employee-{i}"][0]
        real = load(f"parent_child_employee{i}")
        assert child.event_types() == real.event_types()
        assert closing_value(child) == closing_value(real) == 100 * i


def test_continue_as_new_runs_match() -> None:
    run = durasim.execute(wf.Counter, 0, id="continue_as_new")
    assert [h.event_types() for h in run.histories] == [
        load(f"continue_as_new_run{i}").event_types() for i in (1, 2, 3)]
    assert run.result == 2
    first = run.histories[0].events[-1].attributes
    assert first["input"] == [1]
    assert first["newExecutionRunId"] == run.histories[1].run_id


def test_worker_crash_during_timer_matches_the_recorded_crash() -> None:
    real = load("worker_crash")
    # The worker dies once the timer has started (5 events), while the timer runs.
    run = durasim.execute(wf.TransferWithTimer, 100, id="worker_crash",
                          faults=Crash(node="worker", after_events=5, restart_after=1.0))
    assert run.history.event_types() == real.event_types()
    assert run.replays == 1


@pytest.mark.parametrize("fixture, workflow", [("money_transfer", wf.MoneyTransfer),
                                               ("delayed_transfer", wf.DelayedTransfer)])
def test_shared_fixtures(temporal_fixtures: Path, fixture: str, workflow: Any) -> None:
    real = History.from_temporal_json(temporal_fixtures / f"{fixture}.json")
    run = durasim.execute(workflow, 25, id=real.workflow_id)
    assert run.history.event_types() == real.event_types()
    assert run.result == closing_value(real) == 25
    # the real history replays cleanly against the durasim workflow
    durasim.Replayer(workflows=[workflow]).replay(real)


def test_export_and_reload_is_lossless() -> None:
    run = durasim.execute(wf.SagaTransfer, 100)
    again = History.from_temporal_json(run.history.to_temporal_json())
    assert again == run.history
    assert again.to_temporal_json() == run.history.to_temporal_json()
