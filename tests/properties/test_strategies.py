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
import durasim.strategies.programs
from durasim import Crash, DropMessage, FaultPlan
from durasim.api import run
from durasim.strategies import (
    ActivityStep,
    ChildStep,
    Program,
    ProgramStep,
    SignalStep,
    build_workflow,
    fault_plans,
    node_names,
    scenario_steps,
    workflow_programs,
)
from tests.properties import examples

ARCHITECTURES = ("monolith", "event_driven", "durable")


@pytest.mark.parametrize("module", [durasim.strategies, durasim.strategies.plans,
                                    durasim.strategies.programs,
                                    durasim.strategies.histories])
def test_the_docstring_examples_run(module: ModuleType) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 2
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
