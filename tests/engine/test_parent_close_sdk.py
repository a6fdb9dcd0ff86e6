"""Temporal SDK code on durasim keeps its children's parent close policy.

The recorded workflows of tests/fixtures/recorded/parent_close_*.json, written with the
SDK (as ``record_parent_close.py`` has them) and run by durasim: ``start_child_workflow``
returns once the child runs, its ``parent_close_policy`` reaches the history, and the
server applies it as the real one did.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

import durasim
from tests.engine.test_parent_close import child_history, initiated, load


@workflow.defn(name="Sleeper")
class Sleeper:
    @workflow.run
    async def run(self, seconds: float) -> str:
        await workflow.sleep(timedelta(seconds=seconds))
        return "slept"


@workflow.defn(name="LeaveChild")
class LeaveChild:
    @workflow.run
    async def run(self, policy: str, seconds: float) -> str:
        await workflow.start_child_workflow(
            Sleeper.run, seconds, id=f"{workflow.info().workflow_id}-child",
            parent_close_policy=ParentClosePolicy[policy])
        return "parent done"


@pytest.mark.parametrize("policy, seconds", [("TERMINATE", 60.0), ("REQUEST_CANCEL", 60.0),
                                             ("ABANDON", 2.0)])
def test_sdk_parent_and_child_histories_are_the_recorded_ones(policy: str,
                                                               seconds: float) -> None:
    name = f"parent_close_{policy.lower()}"
    run = durasim.execute(LeaveChild, policy, seconds, id=name)
    assert run.result == "parent done"
    assert run.history.event_types() == load(f"{name}_parent").event_types()
    assert initiated(run.history)["parentClosePolicy"] == f"PARENT_CLOSE_POLICY_{policy}"
    assert child_history(run).event_types() == load(f"{name}_child").event_types()
