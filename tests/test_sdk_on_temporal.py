"""One workflow, two engines: the same SDK class on a real Temporal server and in durasim.

``run_on_temporal`` / ``execute_on_temporal`` take the student's ``@workflow.defn`` class
and ``@activity.defn`` functions as they are and serve them with a plain Temporal worker;
``durasim.execute`` runs the very same objects in the simulator. ``compare_histories``
must find no difference in any run (event types and their key attributes: activities,
inputs, results, attempts, timers, failures). If the dev server cannot start, every test
here is skipped with the reason.
"""

from __future__ import annotations

import pytest

import durasim
from durasim.bridges.temporal import TemporalDevServer, execute_on_temporal, run_on_temporal
from tests.sdk_cases import CASES, SdkCase
from tests.test_temporal_conformance import server as dev_server  # noqa: F401 (a fixture)

pytestmark = pytest.mark.temporal


#: The cases whose client only starts the workflow: the bridge sends signals but not yet
#: signal-with-start, queries, updates or cancel requests to a real server.
STARTED_ONLY = [c for c in CASES if c.options is dict]


@pytest.mark.parametrize("case", STARTED_ONLY, ids=[c.name for c in STARTED_ONLY])
def test_the_same_class_records_the_same_history_on_temporal(
        dev_server: TemporalDevServer, case: SdkCase) -> None:  # noqa: F811 (the fixture)
    sim = case.run()
    # a case with a race on the real server's side gets three live runs to show the
    # outcome durasim models (the common one); every other case gets exactly one
    for _ in range(3 if case.race else 1):
        real = execute_on_temporal(case.workflow, *case.args(), server=dev_server,
                                   id=case.entry["workflow_id"],
                                   activities=case.activities,
                                   activity_task_queues=case.activity_queues, timeout=30)
        differences = differences_from(sim, real)
        if not differences:
            break
    assert not differences, "\n".join(differences)


def differences_from(sim: durasim.engine.WorkflowRun, real: durasim.engine.WorkflowRun
                     ) -> list[str]:
    """How the durasim run and the live run differ (nothing: the same histories)."""
    if (sim.status, sim.result) != (real.status, real.result):
        return [f"durasim ended {sim.status} {sim.result!r}, temporal {real.status} "
                f"{real.result!r}"]
    ours = [*sim.histories, *(h for runs in sim.children.values() for h in runs)]
    theirs = [*real.histories, *(h for runs in real.children.values() for h in runs)]
    if len(ours) != len(theirs):
        return [f"durasim wrote {len(ours)} histories, temporal {len(theirs)}"]
    comparisons = [durasim.compare_histories(mine, recorded, labels=("durasim", "temporal"))
                   for mine, recorded in zip(ours, theirs, strict=True)]
    return [str(c) for c in comparisons if c.differences]


def test_run_on_temporal_takes_the_sdk_class_and_gives_its_history(
        dev_server: TemporalDevServer) -> None:  # noqa: F811 (the fixture)
    case = next(c for c in CASES if c.name == "hello_activity")
    history = run_on_temporal(case.workflow, *case.args(), server=dev_server,
                              id="run-on-temporal-sdk", activities=case.activities)
    assert history.event_types() == case.recorded()[0].event_types()
    assert history[4].attributes["input"] == [{"greeting": "Hello", "name": "World"}]
