"""Temporal SDK code on durasim keeps its children's parent close policy.

The very SDK workflows recorded in tests/fixtures/recorded/parent_close_*.json
(``cancellation_workflows.py``), run by durasim: ``start_child_workflow``
returns once the child runs, its ``parent_close_policy`` reaches the history, and the
server applies it as the real one did.
"""

from __future__ import annotations

import pytest

import durasim
from tests.engine.test_parent_close import child_history, initiated, load
from tests.fixtures.recorded.cancellation_workflows import LeaveChild


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
