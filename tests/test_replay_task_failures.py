"""Workflow code that raises while the Replayer replays a history fails the replay.

Temporal's Replayer raises when the code fails a workflow task during a replay (its
``replay_failure``; checked on the real SDK's Replayer in test_sdk_replay_failures.py): code
that cannot replay a history cannot take over the workflow it records. durasim's Replayer
used to return ``finished=False`` and nothing else, so ``durasim replay`` printed
"replay ok" for broken code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import durasim
from durasim import History, Replayer
from durasim.engine import EventType
from durasim.errors import ReplayTaskError
from tests.test_workflow_task_failures import TypoAfterWithdrawBuggy, TypoTransferBuggy

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED = FIXTURES / "recorded"


@durasim.activity
def greet(name: str) -> str:
    return f"hello {name}"


@durasim.workflow(name="Greeter")
async def Greeter(ctx: Any, name: str) -> str:
    return str(await ctx.activity(greet, name))


@durasim.workflow(name="Greeter")
async def GreeterWithABug(ctx: Any, name: str) -> str:
    raise NameError("nmae is not defined")


def test_a_bug_while_replaying_raises_naming_the_error_and_the_task() -> None:
    history = durasim.execute(Greeter, "ada", id="greeter").history
    with pytest.raises(ReplayTaskError) as caught:
        Replayer(workflows=[GreeterWithABug]).replay(history)
    error = caught.value
    assert isinstance(error.cause, NameError) and error.__cause__ is error.cause
    assert error.workflow_id == "greeter" and error.event_id == 3
    assert history.events[2].event_type is EventType.WORKFLOW_TASK_STARTED
    assert "NameError: nmae is not defined" in str(error)
    assert "started at event 3" in str(error)


@pytest.mark.parametrize("name, buggy", [("workflow_bug_first_task", TypoTransferBuggy),
                                         ("workflow_bug_later_task", TypoAfterWithdrawBuggy)])
def test_the_real_recordings_of_a_fixed_bug_do_not_replay_with_the_buggy_code(
        name: str, buggy: Any) -> None:
    """The server recorded the failed tasks, then the fixed code's: the buggy code fails
    the first task the history shows completed (the failed ones are not replayed)."""
    history = History.from_temporal_json(RECORDED / f"{name}.json")
    with pytest.raises(ReplayTaskError) as caught:
        Replayer(workflows=[buggy]).replay(history)
    assert isinstance(caught.value.cause, NameError)
    by_id = {e.event_id: e for e in history.events}
    assert by_id[caught.value.event_id].event_type is EventType.WORKFLOW_TASK_STARTED
    assert by_id[caught.value.event_id + 1].event_type is EventType.WORKFLOW_TASK_COMPLETED
