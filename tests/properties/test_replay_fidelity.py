"""Property 2, replay fidelity: whatever the program and the crashes, the recorded history
replays to the same commands and the same result.

This is the claim the course rests on: a worker that lost its memory rebuilds the workflow
from the history alone. Hypothesis writes the workflows (activities, timers, signal waits,
patches, child workflows, parallel groups) and the crashes (worker or server, after any
number of events or at any activity, before or after its effect, plus lost, duplicated and
delayed messages and failing attempts).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import durasim
from durasim import FailActivity, FaultPlan, History, Replayer
from durasim.engine.definitions import workflow_definition
from durasim.strategies import (
    ActivityStep,
    ChildStep,
    ParallelStep,
    Program,
    SignalStep,
    TimerStep,
    build_workflow,
    fault_plans,
    seeds,
    workflow_programs,
)
from tests.properties import examples
from tests.properties.replay_checks import check_every_workflow_task, check_history_shape

STEPS = (1, 2, 3, 4, "program_step")
"""Crash points: the n-th activity of a workflow, or any activity (the first to run)."""


@st.composite
def program_plans(draw: st.DrawFn) -> FaultPlan:
    """Crashes and message faults for generated programs, sometimes failing attempts."""
    plan = draw(fault_plans(steps=STEPS, max_events=60, max_message_faults=1))
    failing = draw(st.lists(st.builds(FailActivity, name=st.just("program_step"),
                                      attempts=st.integers(1, 2)), max_size=1))
    return FaultPlan([*plan, *failing])


def check_replay(program: Program, plan: FaultPlan, seed: int) -> durasim.engine.WorkflowRun:
    """Run ``program`` under ``plan``; check its result and every history it recorded."""
    built = build_workflow(program)
    run = durasim.execute(built.workflow, faults=plan, seed=seed, requests=built.signals,
                          trace=False)
    assert run.status == "completed", f"{run} ({run.error}) under {plan}"
    assert run.result == built.expected
    replayer = Replayer(workflows=built.workflows)
    by_type = {workflow_definition(w).name: w for w in built.workflows}
    histories = [run.history, *(h for runs in run.children.values() for h in runs)]
    for history in histories:
        check_history_shape(history)
        replayed = replayer.replay(history)
        assert replayed.finished, f"{history!r} did not replay to its end"
        check_every_workflow_task(by_type[history.workflow_type], history)
    reloaded = History.from_temporal_json(run.history.to_temporal_json())
    assert [e.attributes for e in reloaded] == [e.attributes for e in run.history]
    assert replayer.replay(reloaded).finished
    return run


@settings(max_examples=examples(2000))
@given(program=workflow_programs(), plan=program_plans(), seed=seeds())
def test_replaying_a_recorded_history_issues_the_same_commands(
        program: Program, plan: FaultPlan, seed: int) -> None:
    check_replay(program, plan, seed)


@pytest.mark.parametrize("program", [
    Program((ActivityStep("a1", 1), TimerStep(60.0), SignalStep("s1", 5, at=3.0))),
    Program((ParallelStep(((ActivityStep("a1", 1, duration=2.0),),
                           (TimerStep(1.0), ActivityStep("a2", 2)))),)),
    Program((ChildStep(Program((ActivityStep("a1", 1), TimerStep(5.0)))),
             ActivityStep("a2", 2, fails=True))),
], ids=["sequence", "parallel", "child-and-failure"])
@pytest.mark.parametrize("events", [4, 7, 11, 15])
def test_worker_crashes_in_known_programs_replay(program: Program, events: int) -> None:
    """Fixed examples, so the property's machinery is exercised even with few examples."""
    run = check_replay(program, FaultPlan([durasim.Crash(node="worker", after_events=events)]),
                       0)
    assert run.replays >= 1, "the crash should have forced a replay"
