"""Temporal SDK parents whose child did not complete fail, and see the error, as on a real server.

The recordings are tests/fixtures/recorded/child_*_uncaught_*.json, made by the very SDK
classes of ``closing_workflows`` on a real dev server. Run unchanged in durasim, a parent
that lets the ``ChildWorkflowError`` escape must fail with the failure the server wrote
(``childWorkflowExecutionFailureInfo`` naming the child, the cause as recorded), and a
parent that catches it must read the fields the SDK read there. The SDK bridge used to
rebuild the error from its message and write no ``childWorkflowExecutionFailureInfo``,
and told the code a run id of "" and a started event id of 0.
"""

from __future__ import annotations

from typing import Any

import pytest

import durasim
from durasim.engine import WorkflowRun
from tests.engine.test_child_failures import (
    RECORDED,
    comparable,
    failures,
    raw_events,
    recorder_runs,
)

pytest.importorskip("temporalio", reason="the Temporal SDK (the 'temporal' extra) is needed")

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

from tests.fixtures.recorded import closing_workflows as sdk

RUNS = recorder_runs(sdk.FailWithFailedChild, sdk.FailWithChild)


@pytest.mark.parametrize("name", RUNS)
def test_an_sdk_parent_fails_with_the_recorded_failure(name: str) -> None:
    run: WorkflowRun = RUNS[name]()
    assert run.status == "failed", run.error
    ours = failures(raw_events(run.history.to_temporal_json()))
    real = failures(raw_events(RECORDED / f"{name}_parent.json"))
    assert comparable(ours, "child") == comparable(real, "child")


@workflow.defn(name="ReadsChildError")
class ReadsChildError:
    """Catch the failed child's error and return what the SDK says about it."""

    @workflow.run
    async def run(self) -> dict[str, Any]:
        try:
            await workflow.execute_child_workflow(
                sdk.Refuser.run, id=f"{workflow.info().workflow_id}-child")
        except ChildWorkflowError as err:
            return {"namespace": err.namespace, "workflowType": err.workflow_type,
                    "runId": err.run_id, "initiatedEventId": err.initiated_event_id,
                    "startedEventId": err.started_event_id,
                    "retryState": f"RETRY_STATE_{err.retry_state.name}"
                    if err.retry_state is not None else None}
        return {}


def test_sdk_code_reads_the_childs_error_as_the_server_wrote_it() -> None:
    """The fields of the ChildWorkflowError are those of the recorded failure info (the
    recorded parent's child was initiated and started at the same event ids)."""
    run = durasim.execute(ReadsChildError, id="reads")
    (child,) = run.children["reads-child"]
    recorded = raw_events(RECORDED / "child_failed_uncaught_parent.json")[-1]
    info = recorded["workflowExecutionFailedEventAttributes"]["failure"][
        "childWorkflowExecutionFailureInfo"]
    assert run.result == {"namespace": info["namespace"],
                          "workflowType": info["workflowType"]["name"],
                          "runId": child.run_id,
                          "initiatedEventId": int(info["initiatedEventId"]),
                          "startedEventId": int(info["startedEventId"]),
                          "retryState": info["retryState"]}


@pytest.mark.parametrize("name", RUNS)
def test_the_recorded_parents_replay_with_the_sdk_classes(name: str) -> None:
    """(Not the timed-out child's parent: it sets execution_timeout=, which durasim does
    not simulate and refuses.)"""
    history = durasim.History.from_temporal_json(RECORDED / f"{name}_parent.json")
    result = durasim.Replayer(workflows=sdk.WORKFLOWS).replay(history)
    assert result.finished
