"""Property 3, crash equivalence: a run under any plan of up to three crashes ends as the
run without them.

For the durable transfer and saga (with idempotent activities), crashes hit the worker,
the server or any bank service, at any step, before or after the step's effect commits,
with lost, duplicated and delayed messages on top: the run must end with the same
outcome, the same balances, each effect applied once, and no money created or destroyed.

For generated workflow programs using every mechanism of the engine (activities, timers,
signals, children, parallel groups, heartbeats, local activities, updates, queries, timed
waits and cancellation), crashes hit the worker, the server or the activity worker, after
any history event or at any activity: the run must end with the status and result its
program says, and the client must hear the answers its program says, all computed from
the program, never from a run.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from durasim.api import run
from durasim.architectures import get_architecture
from durasim.architectures.base import Run
from durasim.architectures.databases import databases_in_memory
from durasim.engine import EventType, WorkflowRun, execute
from durasim.faults import FaultPlan
from durasim.scenarios import get_scenario
from durasim.strategies import Program, build_workflow, fault_plans, seeds, workflow_programs
from durasim.strategies.plans import ACTIVITY_WORKER, ENGINE_NODES
from durasim.strategies.program_workflows import CLEANUP_NAME
from tests.properties import examples

OPTIONS = {"idempotent_activities": True}


def effects(result: Run) -> Counter[tuple[Any, ...]]:
    """Each effect row by (service, business reference, step): how often it was applied."""
    return Counter((row.service, row.ref, row.name) for row in result.state.effects)


def postings(result: Run) -> Counter[tuple[Any, ...]]:
    """Each money movement by (account, amount)."""
    return Counter((row.account, row.delta) for row in result.state.postings)


def check_equivalent(scenario: str, plan: FaultPlan, seed: int) -> Run:
    """Run the durable ``scenario`` under ``plan``; it must end as without faults.

    The services' databases are in memory: a simulated crash rolls back and drops a
    connection the same way there, and durability across processes is the SIGKILL
    suite's business (test_sqlite_kill.py), so thousands of plans skip the files.
    """
    with databases_in_memory():
        result = run(scenario, "durable", plan, seed=seed, **OPTIONS)
    durable = get_architecture("durable")  # the crash-free twin, cached by the run above
    baseline = durable.baseline(get_scenario(scenario), seed, durable.check_options(OPTIONS))
    story = f"under {plan}:\n{result}"
    assert result.outcome == baseline.outcome, story
    assert result.balances == baseline.balances, story
    assert sum(result.balances.values()) == result.scenario.total_money, story
    assert effects(result) == effects(baseline), story
    assert postings(result) == postings(baseline), story
    assert result.checks.ok, story
    return result


BATCH = 8
"""At most this many cases per example (about 4 on average: hence examples(n) / 4)."""


def batches(scenario: str, seed: st.SearchStrategy[int]
            ) -> st.SearchStrategy[list[tuple[FaultPlan, int]]]:
    """Up to :data:`BATCH` (plan, seed) cases per example, each checked on its own.

    Hypothesis spends about 2 ms on each example, half as long as durasim checking a
    plan; cases in batches halve that share. A failing batch shrinks to its one failing
    case (the list first, then the plan), so the story printed is still a single plan.
    The cases of a batch are distinct: hypothesis likes to repeat a list's elements, and
    a repeated case is the same deterministic check again (without ``unique``, only a
    third of the cases checked were different).
    """
    case = st.tuples(fault_plans(scenario, max_crashes=3, architecture="durable"), seed)
    return st.lists(case, min_size=1, max_size=BATCH, unique=True)


def test_the_batched_property_checks_different_cases() -> None:
    drawn: list[tuple[FaultPlan, int]] = []

    @settings(max_examples=200, database=None)
    @given(cases=batches("transfer", seeds()))
    def draw(cases: list[tuple[FaultPlan, int]]) -> None:
        drawn.extend(cases)

    draw()
    distinct_seeds = {seed for _, seed in drawn}
    assert len(set(drawn)) >= 0.9 * len(drawn) and len(distinct_seeds) >= 0.5 * len(drawn)


@settings(max_examples=examples(500, dev=12))  # about 2,000 plans
@given(cases=batches("transfer", seeds()))
def test_durable_transfer_survives_any_three_crashes(cases: list[tuple[FaultPlan, int]]
                                                     ) -> None:
    for plan, seed in cases:
        check_equivalent("transfer", plan, seed)


@settings(max_examples=examples(75, dev=5))  # about 300 plans
@given(cases=batches("order_saga", st.just(0)))
def test_durable_order_saga_survives_any_three_crashes(cases: list[tuple[FaultPlan, int]]
                                                       ) -> None:
    for plan, seed in cases:
        check_equivalent("order_saga", plan, seed)


def test_the_crash_free_transfer_is_what_the_property_compares_with() -> None:
    """The baseline is the talk's happy ending, so "the same as crash-free" means something."""
    baseline = run("transfer", "durable", **OPTIONS)
    assert baseline.outcome == "completed"
    assert baseline.balances == {"alice": 75, "bob": 75}
    assert effects(baseline)[("bank_b", "t1", "deposit")] == 1


PROGRAM_STEPS = (1, 2, 3, 4, "program_step", "program_heartbeat")
"""Crash points in programs: the n-th activity, or the first of a kind to run."""


@st.composite
def program_plans(draw: st.DrawFn) -> tuple[FaultPlan, bool]:
    """Crash plans for a program run, and whether its activities run on a node of their
    own (then that node is crashed too)."""
    activity_worker = draw(st.booleans())
    nodes = (*ENGINE_NODES, ACTIVITY_WORKER) if activity_worker else ENGINE_NODES
    plan = draw(fault_plans(steps=PROGRAM_STEPS, nodes=nodes, max_events=60,
                            message_faults=False))
    return plan, activity_worker


def check_program(program: Program, plan: FaultPlan, seed: int = 0,
                  activity_worker: bool = False) -> WorkflowRun:
    """Run ``program`` under ``plan``: status, result and answers as the program says, and
    histories that Temporal's rules allow."""
    built = build_workflow(program)
    result = execute(built.workflow, faults=plan, seed=seed, requests=built.requests,
                     activity_worker=activity_worker, trace=False, until=program.horizon())
    story = (f"{program} under {plan} (seed {seed}, activity_worker={activity_worker}): "
             f"{result} ({result.error}), answers {result.answers}")
    assert (result.status, result.result) == (built.status, built.result), story
    assert len(result.answers) == len(built.answers), story
    for expected, answer in zip(built.answers, result.answers, strict=True):
        assert expected.matches(answer), f"{answer} should be {expected}: {story}"
    cleanup = {e.event_id for e in result.history
               if e.event_type is EventType.ACTIVITY_TASK_SCHEDULED
               and e.attributes.get("activityType") == CLEANUP_NAME}
    cleaned = [e for e in result.history if e.event_type is EventType.ACTIVITY_TASK_COMPLETED
               and e.attributes["scheduledEventId"] in cleanup]
    assert len(cleaned) == (built.status == "canceled"), f"cleanup: {story}"
    for history in (*result.histories, *(h for runs in result.children.values() for h in runs)):
        history.to_temporal_json()  # checks the history is one Temporal could have written
    return result


@settings(max_examples=examples(750, dev=30))
@given(program=workflow_programs(features=True), plan=program_plans(), seed=seeds())
def test_generated_programs_end_as_their_program_says_under_any_three_crashes(
        program: Program, plan: tuple[FaultPlan, bool], seed: int) -> None:
    check_program(program, plan[0], seed, activity_worker=plan[1])
