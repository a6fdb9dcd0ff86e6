"""The long waits of a durable run, each explained by the timeout that ended it."""

from __future__ import annotations

import durasim
from durasim import Crash
from durasim.narrate import long_waits, wait_sentence
from tests.workflows.features import SendFileWorkflow


def test_a_worker_dying_in_a_workflow_task_is_a_start_to_close_wait_not_a_sticky_one(
        ) -> None:
    run = durasim.execute(SendFileWorkflow, 2, faults=Crash(node="worker", after_events=3))
    assert run.status == "completed"
    timed_out = [e for e in run.history.events if e.event_type.value == "WorkflowTaskTimedOut"]
    assert [e.attributes["timeoutType"] for e in timed_out] == ["TIMEOUT_TYPE_START_TO_CLOSE"]
    waits = [w for w in long_waits(run) if w.kind != "start_to_close"]
    assert [(w.kind, w.limit) for w in waits] == [("workflow_task", 10.0)]
    sentence = wait_sentence(waits[0])
    assert "start-to-close" in sentence and "sticky" not in sentence, sentence
