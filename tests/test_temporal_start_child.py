"""``ctx.start_child`` on a real Temporal server gives the history it gives in durasim.

The same durasim workflow runs on the dev server through the adapter
(``durasim.bridges.temporal``: ``workflow.start_child_workflow`` with the SDK's
``ParentClosePolicy``) and in ``durasim.execute``; the parent's and each child's histories
must agree event by event, as in tests/test_temporal_conformance.py. Before the adapter had
``start_child``, none of these workflows could run on a real server.
"""

from __future__ import annotations

from typing import Any

import pytest

import durasim
from durasim import activity, workflow
from durasim.bridges.temporal import TemporalDevServer, TemporalRun, execute_on_temporal
from durasim.engine import ChildWorkflowError, EventType, WorkflowContext, activity_sleep
from durasim.history_compare import compare_histories
from tests.test_temporal_conformance import assert_same_histories
from tests.test_temporal_conformance import server as dev_server  # noqa: F401 (a fixture)
from tests.workflows import recorded as wf
from tests.workflows.recorded import Sleeper, Transfer

pytestmark = pytest.mark.temporal

E = EventType


@activity(name="start_child_slow_step")
async def slow_step(seconds: float) -> str:
    """Takes ``seconds`` (real ones on a Temporal worker): long enough that the child's
    events come first on both sides."""
    await activity_sleep(seconds)
    return f"slept {seconds}"


@workflow(name="StartChildBesideActivity")
async def ChildBesideActivity(ctx: WorkflowContext, seconds: float) -> list[Any]:
    """Start a child (default id and policy), run an activity while it starts and runs,
    then wait for its start and its result: the child's command comes first, as issued."""
    handle = ctx.start_child(Sleeper, seconds)
    step = await ctx.activity(slow_step, 3 * seconds, start_to_close=10)
    await handle.started
    return [step, await handle]


@workflow(name="StartChildThatFails")
async def ChildThatFails(ctx: WorkflowContext, amount: int) -> str:
    """A child that fails for good: the parent catches what durasim's engine raises."""
    handle = ctx.start_child(Transfer, amount, id=f"{ctx.workflow_id}-transfer")
    await handle.started
    try:
        await handle
    except ChildWorkflowError as err:
        return f"{err.workflow_id}: {type(err.cause).__name__}: {err.cause}"
    return "the child completed"


@workflow(name="StartChildAndLeave")
async def LeaveChild(ctx: WorkflowContext, policy: str, seconds: float) -> str:
    """tests/workflows/recorded.py's LeaveChild, with a 1 s nap before the parent closes:
    on a busy machine the real child might otherwise not have run its first task yet when
    its parent's close ends it (a race of the real server the simulator does not have)."""
    await ctx.start_child(Sleeper, seconds, id=f"{ctx.workflow_id}-child",
                          parent_close_policy=policy.lower()).started
    await ctx.sleep(1)
    return "parent done"


_RUNS: dict[str, tuple[TemporalRun, durasim.engine.WorkflowRun]] = {}


def both(server: TemporalDevServer, name: str, workflow: Any, *args: Any
         ) -> tuple[TemporalRun, durasim.engine.WorkflowRun]:
    """Run ``workflow`` on Temporal and in the simulator once per server."""
    key = f"{id(server)}/{name}"
    if key not in _RUNS:
        every = [slow_step, wf.withdraw, wf.deposit, wf.notify]
        real = execute_on_temporal(workflow, *args, server=server, id=name,
                                   activities=every, timeout=30)
        sim = durasim.execute(workflow, *args, id=name, activities=every)
        _RUNS[key] = (real, sim)
    return _RUNS[key]


def initiated(history: durasim.History) -> dict[str, Any]:
    (event,) = [e for e in history if e.event_type is E.START_CHILD_WORKFLOW_EXECUTION_INITIATED]
    return event.attributes


POLICIES = [  # (policy as the workflow names it, child's seconds, how the child ends)
    pytest.param("TERMINATE", 60.0, E.WORKFLOW_EXECUTION_TERMINATED, id="terminate"),
    pytest.param("REQUEST_CANCEL", 60.0, E.WORKFLOW_EXECUTION_CANCELED, id="request-cancel"),
    pytest.param("ABANDON", 2.0, E.WORKFLOW_EXECUTION_COMPLETED, id="abandon"),
]


@pytest.mark.parametrize("policy, seconds, child_end", POLICIES)
def test_each_parent_close_policy_gives_the_same_histories(
        dev_server: TemporalDevServer, policy: str, seconds: float,  # noqa: F811
        child_end: EventType) -> None:
    """The parent awaits ``start_child(...).started``, naps and completes; the server ends
    (or abandons) the child as its policy says, and so does durasim."""
    name = f"start_child_{policy.lower()}"
    real, sim = both(dev_server, name, LeaveChild, policy, seconds)
    assert real.status == sim.status == "completed"
    assert real.result == sim.result == "parent done"
    assert_same_histories(real.histories, sim.histories)
    assert (initiated(real.history)["parentClosePolicy"]
            == initiated(sim.history)["parentClosePolicy"] == f"PARENT_CLOSE_POLICY_{policy}")
    child_id = f"{name}-child"
    assert list(real.children) == list(sim.children) == [child_id]
    assert_same_histories(real.children[child_id], sim.children[child_id])
    for runs in (real.children[child_id], sim.children[child_id]):
        assert runs[-1].events[-1].event_type is child_end
    for r, s in zip(real.histories + real.children[child_id],
                    sim.histories + sim.children[child_id], strict=True):
        cmp = compare_histories(s, r, labels=("durasim", "temporal"))
        assert cmp.same, f"\n{cmp}"


def test_a_started_child_runs_beside_the_parent(dev_server: TemporalDevServer  # noqa: F811
                                                ) -> None:
    """The child's start is issued where ``start_child`` is called (before the activity
    awaited next), ``started`` and the result resolve as in durasim; default id too."""
    real, sim = both(dev_server, "start_child_beside", ChildBesideActivity, 0.5)
    assert real.status == sim.status == "completed"
    assert real.result == sim.result == ["slept 1.5", "slept"]
    first_commands = [e.event_type for e in real.history.events[4:6]]
    assert first_commands == [E.START_CHILD_WORKFLOW_EXECUTION_INITIATED,
                              E.ACTIVITY_TASK_SCHEDULED]
    assert_same_histories(real.histories, sim.histories)
    assert list(real.children) == list(sim.children) == ["start_child_beside-child-1"]
    for r, s in zip(real.histories + real.children["start_child_beside-child-1"],
                    sim.histories + sim.children["start_child_beside-child-1"], strict=True):
        cmp = compare_histories(s, r, labels=("durasim", "temporal"))
        assert cmp.same, f"\n{cmp}"


def test_a_failed_child_is_reported_as_durasim_reports_it(
        dev_server: TemporalDevServer) -> None:  # noqa: F811
    real, sim = both(dev_server, "start_child_fails", ChildThatFails, 5000)
    assert real.status == sim.status == "completed"
    assert real.result == sim.result == (
        "start_child_fails-transfer: ApplicationError: insufficient funds")
    assert_same_histories(real.histories, sim.histories)
    child = "start_child_fails-transfer"
    assert_same_histories(real.children[child], sim.children[child])
