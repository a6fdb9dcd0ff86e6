"""The public strategies themselves: valid data, sensible shrinking, runnable examples.

Notebook 07 hands these strategies to students, so they are tested like any public API:
every generated plan is valid and names only nodes that exist, plans and programs shrink
to the simplest story, and the examples in the docstrings run.
"""

from __future__ import annotations

import doctest
import warnings
from types import ModuleType

import pytest
from hypothesis import find, given, settings
from hypothesis.errors import NonInteractiveExampleWarning

import durasim
import durasim.strategies
import durasim.strategies.histories
import durasim.strategies.plans
import durasim.strategies.program_draws
import durasim.strategies.program_workflows
import durasim.strategies.programs
from durasim import Crash, DropMessage, FaultPlan
from durasim.api import run
from durasim.strategies import (
    ActivityStep,
    ChildStep,
    HeartbeatStep,
    LocalActivityStep,
    ParallelStep,
    Program,
    ProgramStep,
    QueryStep,
    SignalStep,
    TimerStep,
    UpdateStep,
    WaitConditionStep,
    build_workflow,
    fault_plans,
    node_names,
    scenario_steps,
    workflow_programs,
)
from durasim.strategies.programs import PROGRESS_SLACK, REQUEST_SLACK
from tests.properties import examples

ARCHITECTURES = ("monolith", "event_driven", "durable")


@pytest.mark.parametrize("module", [durasim.strategies, durasim.strategies.plans,
                                    durasim.strategies.programs,
                                    durasim.strategies.program_workflows,
                                    durasim.strategies.program_draws,
                                    durasim.strategies.histories])
def test_the_docstring_examples_run(module: ModuleType) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 1
    assert result.failed == 0


def test_program_steps_do_not_clash_with_scenario_steps() -> None:
    """A notebook importing both must not get one ``Step`` shadowing the other."""
    assert not hasattr(durasim.strategies, "Step")
    assert ActivityStep in ProgramStep.__args__


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_plans_only_name_nodes_the_architecture_has(architecture: str) -> None:
    nodes = set(run("transfer", architecture).logs)
    assert set(node_names(architecture)) <= nodes, nodes


def test_scenario_steps_are_the_activity_steps() -> None:
    assert scenario_steps() == ("validate", "fraud_check", "withdraw", "record_ledger",
                                "deposit", "notify")
    assert "charge_card" in scenario_steps("order_saga")
    with pytest.raises(ValueError, match="unknown architecture"):
        node_names("mainframe")


@settings(max_examples=examples(300))
@given(plan=fault_plans(architecture="durable", max_events=40))
def test_every_plan_is_valid_and_round_trips_through_json(plan: FaultPlan) -> None:
    assert FaultPlan.from_json(plan.to_json()) == plan
    assert len(plan.of(Crash)) <= 3
    assert all(f.restart_after is not None for f in plan.of(Crash)), "nodes come back"


def test_plans_shrink_to_one_fault_at_the_first_step() -> None:
    search = settings(database=None, derandomize=True)
    simplest = find(fault_plans(), lambda plan: len(plan) > 0, settings=search)
    assert len(simplest) == 1
    assert simplest == FaultPlan([DropMessage(step="validate")])
    crash = find(fault_plans(), lambda plan: bool(plan.of(Crash)), settings=search)
    assert crash == FaultPlan([Crash(at_step="validate", restart_after=1.0)])


def test_programs_shrink_to_fewer_flatter_steps() -> None:
    simplest = find(workflow_programs(), lambda program: True,
                    settings=settings(database=None, derandomize=True))
    assert len(simplest.steps) == 1 and not simplest.children()
    with_activity = find(workflow_programs(), lambda program: any(
        isinstance(s, ActivityStep) for s in program.steps),
        settings=settings(database=None, derandomize=True))
    assert with_activity == Program((ActivityStep("a1", 0),))


def test_build_workflow_refuses_programs_execute_cannot_run() -> None:
    with pytest.raises(ValueError, match="unique"):
        build_workflow(Program((SignalStep("s", 1), SignalStep("s", 2))))
    with pytest.raises(ValueError, match="child program cannot wait for a signal"):
        build_workflow(Program((ChildStep(Program((SignalStep("s", 1),))),)))


def test_a_built_program_runs_to_its_expected_result() -> None:
    program = Program((ActivityStep("a1", 3), ChildStep(Program((ActivityStep("a2", 4),))),
                       SignalStep("s1", 9, at=2.0), ActivityStep("a3", 1, fails=True)))
    built = build_workflow(program)
    assert built.expected == ["a1:3", ["a2:4"], 9, "failed:a3"]
    assert len(built.workflows) == 2
    result = durasim.execute(built.workflow, requests=built.signals)
    assert (result.status, result.result) == ("completed", built.expected)


def test_programs_without_features_draw_none_of_the_new_steps() -> None:
    """Notebook 07 and properties 1 and 2 run programs with ``requests=built.signals``:
    the default programs must stay within what that runs."""
    newer = (HeartbeatStep, LocalActivityStep, UpdateStep, QueryStep, WaitConditionStep)

    @settings(max_examples=examples(200, dev=30), database=None)
    @given(program=workflow_programs())
    def plain(program: Program) -> None:
        steps = list(durasim.strategies.programs._walk(program.steps))
        steps += [s for child in program.children() for s in child.steps]
        assert program.cancel_at is None
        assert not any(isinstance(s, newer) for s in steps)
        assert build_workflow(program).requests == build_workflow(program).signals

    plain()


def test_feature_programs_draw_every_new_command() -> None:
    """``features=True`` reaches each mechanism, and both sides of each race."""
    seen: set[str] = set()

    @settings(max_examples=examples(300, dev=300), database=None, derandomize=True)
    @given(program=workflow_programs(features=True))
    def draw(program: Program) -> None:
        built = build_workflow(program)  # every drawn race is decided, or this raises
        seen.add(built.status)
        for step in durasim.strategies.programs._walk(program.steps):
            seen.add(type(step).__name__)
            if isinstance(step, WaitConditionStep):
                seen.add(f"wait {step.signal_at is not None}")
            if isinstance(step, UpdateStep) and step.refused:
                seen.add("refused update")
        seen.update(f"answer refused={a.refused}" for a in built.answers)

    draw()
    assert {"HeartbeatStep", "LocalActivityStep", "UpdateStep", "QueryStep",
            "WaitConditionStep", "completed", "canceled", "wait True", "wait False",
            "refused update", "answer refused=True", "answer refused=False"} <= seen, seen


def test_races_are_decided_from_the_times_or_refused() -> None:
    wait = WaitConditionStep("w", 3600.0, signal_at=3600.0 - REQUEST_SLACK - 1)
    assert Program((wait,)).expected() == [True]
    late = WaitConditionStep("w", 3600.0, signal_at=3600.0 + PROGRESS_SLACK + 1)
    assert Program((TimerStep(1000.0), late)).expected() == ["slept 1000", True]  # starts later
    assert Program((late,)).expected() == [False]
    assert Program((WaitConditionStep("w", 60.0),)).expected() == [False]
    with pytest.raises(ValueError, match="too closely to call"):
        Program((WaitConditionStep("w", 3600.0, signal_at=3600.0),)).expected()
    with pytest.raises(ValueError, match="races the workflow's end"):
        Program((TimerStep(60.0),), cancel_at=30.0).status()
    update = UpdateStep("u", 1, at=3.0)
    with pytest.raises(ValueError, match="races the cancellation"):
        Program((update, TimerStep(3600.0)), cancel_at=100.0).answers()
    with pytest.raises(ValueError, match="shorter than the heartbeat timeout"):
        HeartbeatStep("h", 3, chunk_seconds=2.0, heartbeat_timeout=2.0)


def test_a_built_program_with_every_new_command_runs_as_it_says() -> None:
    program = Program((
        HeartbeatStep("h1", 4), LocalActivityStep("l1", 5),
        ParallelStep(((UpdateStep("u1", 2, at=1.0, refused=True),),
                      (QueryStep("q1", 7, at=2.0), LocalActivityStep("l2", 1, fails=True)))),
        WaitConditionStep("w1", 3600.0, signal_at=10.0),
        WaitConditionStep("w2", 3600.0)))
    built = build_workflow(program)
    assert built.expected == ["h1:10", "l1:5", [[2], [7, "failed:l2"]], True, False]
    run = durasim.execute(built.workflow, requests=built.requests,
                          faults=Crash(node="worker", after_events=6, restart_after=5.0))
    assert (run.status, run.result) == ("completed", built.expected)
    assert [a.value for a in run.answers] == [None, "u1 set to 2", 7]
    assert all(e.matches(a) for e, a in zip(built.answers, run.answers, strict=True))
    cancelled = Program(program.steps, cancel_at=1000.0)  # during w2
    built = build_workflow(cancelled)
    assert (built.status, built.result) == ("canceled", None)
    run = durasim.execute(built.workflow, requests=built.requests, until=cancelled.horizon())
    assert (run.status, run.result) == ("canceled", None)
    assert "program_cleanup" in run.activity_calls
