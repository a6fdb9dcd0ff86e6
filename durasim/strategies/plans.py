"""Fault plans for hypothesis: the crashes and message faults a property searches through.

A plan crashes the nodes that exist for an architecture at the scenario's steps, before or
after the step's effect, and always restarts them (a correct system can then finish);
message faults drop, duplicate or delay one step's message. Plans are data, so hypothesis
shrinks a failing one to the simplest story: fewer faults, the first step, the node
executing it, ``before_effect``, the shortest restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, cast

from hypothesis import strategies as st

from durasim.faults import (
    WHENS,
    Crash,
    DelayMessage,
    DropMessage,
    DuplicateMessage,
    FaultPlan,
    When,
)
from durasim.scenarios import get_scenario
from durasim.strategies.workflows import crash_points

__all__ = ["ARCHITECTURE_NODES", "ENGINE_NODES", "fault_plans", "node_names",
           "scenario_steps", "seeds"]


ENGINE_NODES: tuple[str, ...] = ("worker", "server")
"""The nodes of :func:`durasim.execute`'s cluster that a fault plan can crash."""

ACTIVITY_WORKER = "activity_worker"
"""The node running activities in ``durasim.execute(..., activity_worker=True)``: name it
in ``fault_plans(nodes=...)`` to crash it at steps and after history events too."""

ARCHITECTURE_NODES: dict[str | None, tuple[str, ...]] = {
    None: ("worker",),
    "monolith": ("app",),
    "event_driven": ("broker",),
    "durable": ENGINE_NODES,
}
"""Nodes (besides the scenario's services) that execute steps, by architecture.

``None`` is the bare engine (:func:`durasim.execute`), where only the worker runs
activities, so only it can crash *at a step*; the server crashes by ``after_events``.
"""

_RESTARTS: tuple[float, ...] = (1.0, 2.0, 5.0, 30.0)
_MESSAGE_FAULTS: tuple[type, ...] = (DropMessage, DuplicateMessage, DelayMessage)


def scenario_steps(scenario: Any = "transfer") -> tuple[str, ...]:
    """The names of a scenario's activity steps, in order (what ``at_step`` may name).

    Example:
        >>> scenario_steps("transfer")
        ('validate', 'fraud_check', 'withdraw', 'record_ledger', 'deposit', 'notify')
    """
    found = get_scenario(scenario)
    return tuple(s.name for s in found.all_steps if s.kind == "activity")


def node_names(architecture: str | None = None, scenario: Any = "transfer") -> tuple[str, ...]:
    """The nodes a step crash can name on ``architecture`` running ``scenario``.

    Example:
        >>> node_names("durable")[:2]
        ('worker', 'server')
        >>> node_names(None)
        ('worker',)
    """
    if architecture not in ARCHITECTURE_NODES:
        valid = ", ".join(repr(a) for a in ARCHITECTURE_NODES)
        raise ValueError(f"unknown architecture {architecture!r}; valid: {valid}")
    base = ARCHITECTURE_NODES[architecture]
    if architecture in (None, "monolith"):
        return base
    services: tuple[str, ...] = get_scenario(scenario).services
    return tuple(dict.fromkeys((*base, *services)))


@st.composite
def fault_plans(draw: st.DrawFn, scenario: Any = "transfer", max_crashes: int = 3,
                nodes: Sequence[str] | None = None, architecture: str | None = None, *,
                steps: Sequence[int | str] | None = None,
                whens: Sequence[str] = WHENS,
                max_events: int | None = None,
                message_faults: bool = True, max_message_faults: int = 2,
                restarts: Sequence[float] = _RESTARTS, workflow: Any = None,
                args: Sequence[Any] = (), requests: Sequence[Any] = ()) -> FaultPlan:
    """Fault plans of up to ``max_crashes`` crashes, plus optional message faults.

    Each crash hits a step of the scenario (``at_step``), before or after its effect, on
    the node executing it (``node=None``) or on a named node that exists for the
    architecture; with ``max_events`` it may instead hit the engine's worker or server
    after that many history events. Every crashed node restarts, so a correct system can
    always finish. Plans shrink towards fewer faults, then to the first step, the
    executing node, ``before_effect`` and the shortest restart: the minimal plan
    hypothesis prints is the simplest story that breaks the property. (A lone message
    fault counts as simpler than a crash; pass ``message_faults=False`` when the story
    should be told with crashes only.)

    Args:
        scenario: scenario name (its activity steps are the crash points).
        max_crashes: at most this many crashes.
        nodes: nodes a step crash may name besides None, "the node executing the step"
            (default: :func:`node_names`); with ``"activity_worker"`` among them, the
            crashes after ``max_events`` may hit it too.
        architecture: "monolith", "event_driven", "durable", or None for the bare engine.
        steps: crash points instead of the scenario's (numbers or names).
        whens: which of "before_effect", "after_effect" to use.
        max_events: also generate ``Crash(after_events=k)`` with k up to this.
        message_faults: also drop, duplicate or delay a message of some step.
        max_message_faults: at most this many message faults.
        restarts: the restart delays to choose from (seconds; the first is the simplest).
        workflow, args, requests: crash this workflow (any ``@durasim.workflow`` or
            Temporal SDK class) run as ``durasim.execute(workflow, *args,
            requests=requests)`` instead of a scenario: at
            its activities (numbered in order) and after any event of its history, on
            the worker or the server (crashes only: its messages name no steps). Its
            crash points come from one crash-free run
            (:func:`~durasim.strategies.workflows.crash_points`).

    Example:
        >>> plan = fault_plans(architecture="durable").example()
        >>> isinstance(plan, FaultPlan)
        True
        >>> all(f.node in (None, *node_names("durable")) for f in plan.of(Crash))
        True
    """
    if workflow is not None:
        points = crash_points(workflow, args, requests=requests)
        steps = points.steps if steps is None else steps
        max_events = points.events if max_events is None else max_events
        message_faults = False
    step_choices = tuple(steps) if steps is not None else scenario_steps(scenario)
    if not step_choices and not (workflow is not None and max_events):
        raise ValueError(f"scenario {scenario!r} has no activity steps to crash at")
    if max_crashes < 0:
        raise ValueError(f"max_crashes must be >= 0, got {max_crashes}")
    crash_nodes = tuple(nodes) if nodes is not None else node_names(architecture, scenario)
    parts = _plan_parts(step_choices, crash_nodes, max_crashes, tuple(whens), max_events,
                        max_message_faults if message_faults else 0, tuple(restarts))
    crashes, messages = draw(parts)
    return FaultPlan([*crashes, *messages])


@lru_cache(maxsize=128)
def _plan_parts(steps: tuple[int | str, ...], nodes: tuple[str, ...], max_crashes: int,
                whens: tuple[str, ...], max_events: int | None, max_messages: int,
                restarts: tuple[float, ...]) -> st.SearchStrategy[tuple[Any, Any]]:
    """The plan strategy for one set of arguments, built once: building strategies is far
    slower than drawing from them, and properties draw thousands of plans."""
    # Each fault is one choice among all of them, listed simplest first (the executing
    # node, the first step, before the effect, the shortest restart): hypothesis draws
    # and shrinks one index instead of four, and the faults are built once, not per plan.
    crash: st.SearchStrategy[Crash] = st.sampled_from([
        Crash(node=node, at_step=step, when=cast(When, when), restart_after=restart)
        for node in (None, *nodes) for step in steps for when in whens
        for restart in restarts])
    if max_events:
        engine = (*ENGINE_NODES, *(n for n in nodes if n == ACTIVITY_WORKER))
        crash = crash | st.builds(Crash, node=st.sampled_from(engine),
                                  after_events=st.integers(1, max_events),
                                  restart_after=st.sampled_from(restarts))
    crashes = st.lists(crash, max_size=max_crashes, unique=True)
    if not max_messages:
        return st.tuples(crashes, st.just(()))
    message = st.sampled_from([cls(step=step, nth=nth) for cls in _MESSAGE_FAULTS
                               for step in steps for nth in (1, 2)])
    return st.tuples(crashes, st.lists(message, max_size=max_messages, unique=True))


def seeds() -> st.SearchStrategy[int]:
    """Simulation seeds; they shrink towards 0.

    Example:
        >>> 0 <= seeds().example() < 2**31
        True
    """
    return st.integers(min_value=0, max_value=2**31 - 1)
