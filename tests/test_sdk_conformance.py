"""Temporal SDK programs run unchanged in durasim and record what the real server recorded.

Each module of tests/fixtures/sdk/ is a Temporal "hello"-sized program, deployable as it
is; tests/fixtures/sdk/recorded/ holds what a real dev server wrote when the module's own
``main`` ran. Here the very same classes and activities run in ``durasim.execute``: what
``main`` would have returned, how the workflow closed, and every event type of every run
(workflow-task events included, children too) must equal the recording, and durasim's
Replayer must replay each real history with the unchanged class.
"""

from __future__ import annotations

import pytest

from durasim import Replayer
from tests.sdk_cases import CASES, SdkCase

pytest.importorskip("temporalio", reason="the Temporal SDK (the 'temporal' extra) is needed")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_result_and_every_event_type_equal_the_recording(case: SdkCase) -> None:
    run = case.run()
    recorded = case.recorded()
    ours = [*run.histories, *(h for runs in run.children.values() for h in runs)]
    assert [h.event_types() for h in ours] == [h.event_types() for h in recorded], run.error
    assert run.status == case.entry["status"], run.error
    assert case.returned(run) == case.entry["returned"]


def _replay_param(case: SdkCase, index: int) -> object:
    file = case.entry["histories"][index]
    return pytest.param(case, file, id=file.removesuffix(".json"))


@pytest.mark.parametrize("case, file", [_replay_param(c, i) for c in CASES
                                         for i in range(len(c.entry["histories"]))])
def test_the_replayer_replays_the_real_history(case: SdkCase, file: str) -> None:
    history = next(h for h, f in zip(case.recorded(), case.entry["histories"], strict=True)
                   if f == file)
    classes = [v for v in vars(case.module).values()
               if getattr(v, "__temporal_workflow_definition", None) is not None]
    result = Replayer(workflows=classes).replay(history)
    assert result.finished, f"{file}: the code did not reach the end the history records"
