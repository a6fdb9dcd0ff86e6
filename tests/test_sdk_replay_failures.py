"""Temporal's own Replayer fails on a bug in the code, and so does durasim's.

The real SDK's Replayer needs no server: it replays a real recording
(tests/fixtures/sdk/recorded/hello_activity.json) against a class with the recorded
workflow type whose code raises. Both Replayers must refuse it; durasim's used to return
an unfinished result and nothing else.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from durasim import History, Replayer
from durasim.errors import ReplayTaskError

pytest.importorskip("temporalio", reason="the Temporal SDK (the 'temporal' extra) is needed")

from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer as SdkReplayer
from temporalio.worker import UnsandboxedWorkflowRunner

RECORDING = Path(__file__).parent / "fixtures" / "sdk" / "recorded" / "hello_activity.json"


@workflow.defn(name="GreetingWorkflow")
class GreetingWithABug:
    """hello_activity's workflow type, with a typo that raises NameError."""

    @workflow.run
    async def run(self, name: str) -> str:
        raise NameError("nmae is not defined")


def test_the_real_sdk_replayer_raises_on_the_bug() -> None:
    real = WorkflowHistory.from_json("hello-activity", RECORDING.read_text(encoding="utf-8"))
    replayer = SdkReplayer(workflows=[GreetingWithABug],
                           workflow_runner=UnsandboxedWorkflowRunner())
    with pytest.raises(RuntimeError, match="nmae is not defined"):
        asyncio.run(replayer.replay_workflow(real))


def test_durasims_replayer_raises_on_the_same_bug() -> None:
    with pytest.raises(ReplayTaskError, match="nmae is not defined") as caught:
        Replayer(workflows=[GreetingWithABug]).replay(History.from_temporal_json(RECORDING))
    assert isinstance(caught.value.cause, NameError)
