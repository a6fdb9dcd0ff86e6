"""Hypothesis strategies for durasim: fault plans, seeds, workflow programs, histories.

Durable execution makes a strong promise ("your code runs to completion whatever
crashes"), and the only convincing way to check a promise about *every* crash is to let
a machine search for the crash that breaks it. These strategies are that search space,
written as plain data so hypothesis can generate it, shrink it to the smallest
counterexample, and print it in a form a student can paste back into a notebook:

* :func:`fault_plans` -- crashes at the steps of a scenario, before or after the step's
  effect, on the nodes the architecture has, plus optional message faults.
* :func:`seeds` -- simulation seeds (message latencies and run ids come from them).
* :func:`workflow_programs` -- random workflows as data (activities, timers, signal
  waits, child workflows, parallel groups; with ``features=True`` also heartbeats, local
  activities, updates, queries, timed waits and cancellation); :func:`build_workflow`
  turns one into a real ``@durasim.workflow`` with the requests it needs, its expected
  result, status and answers, computed from the program alone, never by running it.
* :func:`temporal_histories` -- valid and mutated Temporal JSON histories, for fuzzing
  whatever reads them; :func:`history_mutations` damages a history of your own.
* ``fault_plans(workflow=MyWorkflow, args=(...))`` -- crashes for any workflow, an
  ``@durasim.workflow`` or a Temporal SDK class, at the crash points
  :func:`crash_points` reads off one crash-free run.

Each family lives in its own module (:mod:`~durasim.strategies.plans`,
:mod:`~durasim.strategies.programs` with :mod:`~durasim.strategies.program_workflows`
and :mod:`~durasim.strategies.program_draws`, :mod:`~durasim.strategies.histories`,
:mod:`~durasim.strategies.workflows`); import them from here.

Example:
    A property in five lines: whatever the workflow and the crashes of the worker or the
    server, the workflow returns what its program says.

    >>> from hypothesis import given, settings
    >>> import durasim
    >>> from durasim.strategies import build_workflow, fault_plans, workflow_programs
    >>> @settings(max_examples=10, deadline=None)
    ... @given(workflow_programs(), fault_plans(steps=[1, 2], max_events=30))
    ... def test_crashes_do_not_change_the_result(program, plan):
    ...     built = build_workflow(program)
    ...     run = durasim.execute(built.workflow, faults=plan, requests=built.signals)
    ...     assert run.result == built.expected
    >>> test_crashes_do_not_change_the_result()
"""

from __future__ import annotations

from durasim.strategies.histories import (
    history_mutations,
    history_sources,
    temporal_histories,
)
from durasim.strategies.plans import (
    ARCHITECTURE_NODES,
    ENGINE_NODES,
    fault_plans,
    node_names,
    scenario_steps,
    seeds,
)
from durasim.strategies.program_draws import workflow_programs
from durasim.strategies.program_workflows import BuiltProgram, build_workflow
from durasim.strategies.programs import (
    ActivityStep,
    ChildStep,
    ExpectedAnswer,
    HeartbeatStep,
    LocalActivityStep,
    ParallelStep,
    PatchStep,
    Program,
    ProgramStep,
    QueryStep,
    SignalStep,
    TimerStep,
    UpdateStep,
    WaitConditionStep,
)
from durasim.strategies.workflows import CrashPoints, crash_points

__all__ = [
    "ARCHITECTURE_NODES",
    "ENGINE_NODES",
    "ActivityStep",
    "BuiltProgram",
    "ChildStep",
    "CrashPoints",
    "ExpectedAnswer",
    "HeartbeatStep",
    "LocalActivityStep",
    "ParallelStep",
    "PatchStep",
    "Program",
    "ProgramStep",
    "QueryStep",
    "SignalStep",
    "TimerStep",
    "UpdateStep",
    "WaitConditionStep",
    "build_workflow",
    "crash_points",
    "fault_plans",
    "history_mutations",
    "history_sources",
    "node_names",
    "scenario_steps",
    "seeds",
    "temporal_histories",
    "workflow_programs",
]
