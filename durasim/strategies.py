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
  waits, child workflows, parallel groups); :func:`build_workflow` turns one into a real
  ``@durasim.workflow`` with the signals it needs and its expected result, computed from
  the program alone, never by running it.
* :func:`temporal_histories` -- valid and mutated Temporal JSON histories, for fuzzing
  the history loader.

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
    ...     run = durasim.execute(built.workflow, faults=plan, signals=built.signals)
    ...     assert run.result == built.expected
    >>> test_crashes_do_not_change_the_result()
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from durasim.engine import ActivityError, ApplicationError, activity, activity_sleep, workflow
from durasim.engine.api import Signal
from durasim.engine.context import WorkflowContext
from durasim.faults import (
    WHENS,
    Crash,
    DelayMessage,
    DropMessage,
    DuplicateMessage,
    FaultPlan,
)

__all__ = [
    "ARCHITECTURE_NODES",
    "ENGINE_NODES",
    "TRANSFER_STEPS",
    "ActivityStep",
    "BuiltProgram",
    "ChildStep",
    "ParallelStep",
    "PatchStep",
    "Program",
    "SignalStep",
    "TimerStep",
    "build_workflow",
    "fault_plans",
    "history_sources",
    "node_names",
    "scenario_steps",
    "seeds",
    "temporal_histories",
    "workflow_programs",
]

# ---------------------------------------------------------------------------- fault plans

TRANSFER_STEPS: tuple[str, ...] = ("validate", "fraud_check", "withdraw", "record_ledger",
                                   "deposit", "notify")
"""The talk's six steps, used when :mod:`durasim.scenarios` cannot be imported."""

ENGINE_NODES: tuple[str, ...] = ("worker", "server")
"""The nodes of :func:`durasim.execute`'s cluster that a fault plan can crash."""

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

    Imported lazily so the strategies work even where the scenarios are not available;
    then the transfer's six steps are used.

    Example:
        >>> scenario_steps("transfer")
        ('validate', 'fraud_check', 'withdraw', 'record_ledger', 'deposit', 'notify')
    """
    try:
        from durasim.scenarios import get_scenario
    except ImportError:  # pragma: no cover - only before the scenarios exist
        return TRANSFER_STEPS
    found = get_scenario(scenario)
    return tuple(s.name for s in found.all_steps if s.kind == "activity")


def _scenario_services(scenario: Any) -> tuple[str, ...]:
    try:
        from durasim.scenarios import get_scenario
    except ImportError:  # pragma: no cover - only before the scenarios exist
        return ()
    services: tuple[str, ...] = get_scenario(scenario).services
    return services


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
    return tuple(dict.fromkeys((*base, *_scenario_services(scenario))))


@st.composite
def fault_plans(draw: st.DrawFn, scenario: Any = "transfer", max_crashes: int = 3,
                nodes: Sequence[str] | None = None, architecture: str | None = None, *,
                steps: Sequence[int | str] | None = None,
                whens: Sequence[str] = WHENS,
                max_events: int | None = None,
                message_faults: bool = True, max_message_faults: int = 2,
                restarts: Sequence[float] = _RESTARTS) -> FaultPlan:
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
            (default: :func:`node_names`).
        architecture: "monolith", "event_driven", "durable", or None for the bare engine.
        steps: crash points instead of the scenario's (numbers or names).
        whens: which of "before_effect", "after_effect" to use.
        max_events: also generate ``Crash(after_events=k)`` with k up to this.
        message_faults: also drop, duplicate or delay a message of some step.
        max_message_faults: at most this many message faults.
        restarts: the restart delays to choose from (seconds; the first is the simplest).

    Example:
        >>> plan = fault_plans(architecture="durable").example()
        >>> isinstance(plan, FaultPlan)
        True
        >>> all(f.node in (None, *node_names("durable")) for f in plan.of(Crash))
        True
    """
    step_choices = tuple(steps) if steps is not None else scenario_steps(scenario)
    if not step_choices:
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
    restart = st.sampled_from(restarts)
    crash: st.SearchStrategy[Crash] = st.builds(
        Crash, node=st.sampled_from((None, *nodes)), at_step=st.sampled_from(steps),
        when=st.sampled_from(whens), restart_after=restart)
    if max_events:
        crash = crash | st.builds(Crash, node=st.sampled_from(ENGINE_NODES),
                                  after_events=st.integers(1, max_events),
                                  restart_after=restart)
    crashes = st.lists(crash, max_size=max_crashes, unique=True)
    if not max_messages:
        return st.tuples(crashes, st.just(()))
    message = st.builds(lambda cls, step, nth: cls(step=step, nth=nth),
                        st.sampled_from(_MESSAGE_FAULTS), st.sampled_from(steps),
                        st.integers(1, 2))
    return st.tuples(crashes, st.lists(message, max_size=max_messages, unique=True))


def seeds() -> st.SearchStrategy[int]:
    """Simulation seeds; they shrink towards 0.

    Example:
        >>> 0 <= seeds().example() < 2**31
        True
    """
    return st.integers(min_value=0, max_value=2**31 - 1)


# ---------------------------------------------------------------------- workflow programs

@dataclass(frozen=True)
class ActivityStep:
    """``await ctx.activity(program_step, name, arg, duration, fails)``.

    Its result is ``"<name>:<arg>"``; one that ``fails`` raises a non-retryable error,
    which the workflow catches (a saga's first move) and records as ``"failed:<name>"``.
    """

    name: str
    arg: int
    duration: float = 0.0
    fails: bool = False


@dataclass(frozen=True)
class TimerStep:
    """``await ctx.sleep(seconds)``: a durable timer; its result is ``"slept <s>"``."""

    seconds: float


@dataclass(frozen=True)
class SignalStep:
    """``await ctx.wait_signal(name)``; the client sends ``value`` at virtual time ``at``.

    Names are unique in a program, so which wait gets which signal never depends on
    timing, and the result (``value``) can be known in advance.
    """

    name: str
    value: int
    at: float = 0.0


@dataclass(frozen=True)
class PatchStep:
    """``ctx.patched(change_id)``: records a marker; on a fresh run its result is True."""

    change_id: str


@dataclass(frozen=True)
class ChildStep:
    """``await ctx.child(<program as a workflow>)``: its result is the child's result."""

    program: Program


@dataclass(frozen=True)
class ParallelStep:
    """``await ctx.gather(*branches)``: each branch a sequence of steps, run concurrently;
    its result is the list of the branches' results."""

    branches: tuple[tuple[Step, ...], ...]


Step = ActivityStep | TimerStep | SignalStep | PatchStep | ChildStep | ParallelStep


@dataclass(frozen=True)
class Program:
    """A workflow as data: its steps run in order; its result is their results, a list."""

    steps: tuple[Step, ...] = ()

    @property
    def name(self) -> str:
        """A stable workflow type name derived from the program's content."""
        digest = hashlib.sha256(repr(self).encode()).hexdigest()[:12]
        return f"Program_{digest}"

    def expected(self) -> list[Any]:
        """The result the workflow must return, computed from the program alone."""
        return _expected_sequence(self.steps)

    def signals(self) -> list[Signal]:
        """The signals the program waits for, each sent once at its time."""
        return [Signal(s.name, s.value, at=s.at) for s in _walk(self.steps)
                if isinstance(s, SignalStep)]

    def children(self) -> list[Program]:
        """Every child program, depth first (each needs its own workflow)."""
        return [s.program for s in _walk(self.steps) if isinstance(s, ChildStep)]


def _walk(steps: Iterable[Step]) -> Iterable[Step]:
    """Steps of this program's own workflow (not inside children), depth first."""
    for step in steps:
        yield step
        if isinstance(step, ParallelStep):
            for branch in step.branches:
                yield from _walk(branch)


def _expected_step(step: Step) -> Any:
    if isinstance(step, ActivityStep):
        return f"failed:{step.name}" if step.fails else f"{step.name}:{step.arg}"
    if isinstance(step, TimerStep):
        return f"slept {step.seconds:g}"
    if isinstance(step, SignalStep):
        return step.value
    if isinstance(step, PatchStep):
        return True
    if isinstance(step, ChildStep):
        return step.program.expected()
    return [_expected_sequence(branch) for branch in step.branches]


def _expected_sequence(steps: Sequence[Step]) -> list[Any]:
    return [_expected_step(s) for s in steps]


@activity(name="program_step")
async def program_step(name: str, arg: int, duration: float, fails: bool) -> str:
    """The one activity generated programs call; ``duration`` is virtual time spent."""
    if duration:
        await activity_sleep(duration)
    if fails:
        raise ApplicationError(f"{name} refused", "ProgramStepRefused", non_retryable=True)
    return f"{name}:{arg}"


@dataclass(frozen=True)
class BuiltProgram:
    """A program made runnable: pass ``workflow`` and ``signals`` to ``durasim.execute``.

    Attributes:
        program: the program.
        workflow: the top-level ``@durasim.workflow``.
        workflows: it and every child's workflow (what a Replayer needs).
        signals: the signals to send.
        expected: the result the workflow must return.
    """

    program: Program
    workflow: Callable[..., Any]
    workflows: tuple[Callable[..., Any], ...]
    signals: tuple[Signal, ...]
    expected: list[Any] = field(default_factory=list)


_BUILT: dict[Program, Callable[..., Any]] = {}


def _workflow_for(program: Program) -> Callable[..., Any]:
    cached = _BUILT.get(program)
    if cached is not None:
        return cached
    children = {s.program: _workflow_for(s.program) for s in _walk(program.steps)
                if isinstance(s, ChildStep)}

    async def run_step(ctx: WorkflowContext, step: Step) -> Any:
        if isinstance(step, ActivityStep):
            try:
                return await ctx.activity(program_step, step.name, step.arg, step.duration,
                                          step.fails)
            except ActivityError:
                return f"failed:{step.name}"
        if isinstance(step, TimerStep):
            await ctx.sleep(step.seconds)
            return f"slept {step.seconds:g}"
        if isinstance(step, SignalStep):
            args = await ctx.wait_signal(step.name)
            return args[0]
        if isinstance(step, PatchStep):
            return ctx.patched(step.change_id)
        if isinstance(step, ChildStep):
            return await ctx.child(children[step.program])
        return await ctx.gather(*(run_sequence(ctx, branch) for branch in step.branches))

    async def run_sequence(ctx: WorkflowContext, steps: Sequence[Step]) -> list[Any]:
        return [await run_step(ctx, step) for step in steps]

    async def program_workflow(ctx: WorkflowContext) -> list[Any]:
        return await run_sequence(ctx, program.steps)

    program_workflow.__name__ = program_workflow.__qualname__ = program.name
    built: Callable[..., Any] = workflow(program_workflow, name=program.name)
    _BUILT[program] = built
    return built


def build_workflow(program: Program) -> BuiltProgram:
    """Turn a program into a real workflow, the signals it waits for, and its result.

    Child programs become workflows of their own (named by their content, so equal
    programs share a workflow). Signals are only allowed in the top-level program:
    ``durasim.execute`` signals the workflow it started, not its children.

    Raises:
        ValueError: a child program waits for a signal, or two waits share a name.

    Example:
        >>> import durasim
        >>> program = Program((ActivityStep("pay", 7), TimerStep(60.0),
        ...                    SignalStep("approve", 1, at=5.0)))
        >>> built = build_workflow(program)
        >>> built.expected
        ['pay:7', 'slept 60', 1]
        >>> run = durasim.execute(built.workflow, signals=built.signals)
        >>> run.status, run.result == built.expected
        ('completed', True)
    """
    names = [s.name for s in _walk(program.steps) if isinstance(s, SignalStep)]
    if len(set(names)) != len(names):
        raise ValueError(f"signal names must be unique in a program, got {names}")
    pending = list(program.children())
    while pending:
        child = pending.pop()
        if any(isinstance(s, SignalStep) for s in _walk(child.steps)):
            raise ValueError("a child program cannot wait for a signal: durasim.execute only "
                             "signals the top-level workflow")
        pending += child.children()
    main = _workflow_for(program)
    workflows = [main]
    pending = list(program.children())
    while pending:
        child = pending.pop(0)
        built = _workflow_for(child)
        if built not in workflows:
            workflows.append(built)
        pending += child.children()
    return BuiltProgram(program, main, tuple(workflows), tuple(program.signals()),
                        program.expected())


_DURATIONS = (0.0, 0.5, 2.0)
_TIMERS = (1.0, 5.0, 60.0, 3600.0, 30 * 24 * 3600.0)
_SIGNAL_TIMES = (0.0, 0.5, 3.0, 90.0)


@lru_cache(maxsize=32)
def _step(depth: int, signals: bool) -> st.SearchStrategy[Step]:
    """One step, nesting children and parallel groups up to ``depth``; built once per
    (depth, signals) because building strategies costs far more than drawing."""
    leaves: list[st.SearchStrategy[Step]] = [
        st.builds(ActivityStep, st.just("a"), st.integers(0, 9), st.sampled_from(_DURATIONS),
                  st.booleans()),
        st.builds(TimerStep, st.sampled_from(_TIMERS)),
        st.builds(PatchStep, st.just("p")),
    ]
    if signals:
        leaves.append(st.builds(SignalStep, st.just("s"), st.integers(0, 9),
                                st.sampled_from(_SIGNAL_TIMES)))
    if depth > 0:
        inner = _step(depth - 1, False)
        leaves.append(st.lists(inner, min_size=1, max_size=3)
                      .map(lambda steps: ChildStep(Program(tuple(steps)))))
        branch = st.lists(_step(depth - 1, signals), min_size=1, max_size=3).map(tuple)
        leaves.append(st.lists(branch, min_size=2, max_size=3)
                      .map(lambda branches: ParallelStep(tuple(branches))))
    return st.one_of(leaves)


def _numbered(steps: Sequence[Step], counters: dict[str, int]) -> tuple[Step, ...]:
    """Give activities, signals and patches unique names (a1, s1, p1...) in draw order."""
    out: list[Step] = []
    for step in steps:
        if isinstance(step, ActivityStep | SignalStep | PatchStep):
            prefix = {ActivityStep: "a", SignalStep: "s", PatchStep: "p"}[type(step)]
            counters[prefix] = counters.get(prefix, 0) + 1
            label = f"{prefix}{counters[prefix]}"
            out.append(replace(step, change_id=label) if isinstance(step, PatchStep)
                       else replace(step, name=label))
        elif isinstance(step, ChildStep):
            out.append(ChildStep(Program(_numbered(step.program.steps, counters))))
        elif isinstance(step, ParallelStep):
            out.append(ParallelStep(tuple(_numbered(b, counters) for b in step.branches)))
        else:
            out.append(step)
    return tuple(out)


@st.composite
def workflow_programs(draw: st.DrawFn, max_steps: int = 5, max_depth: int = 2,
                      signals: bool = True) -> Program:
    """Random workflow programs: activities, timers, patches, signal waits, children and
    parallel groups, nested up to ``max_depth``.

    Programs are data, so hypothesis shrinks them (fewer steps, no nesting, short timers,
    no failures) and prints them; :func:`build_workflow` makes them runnable.

    Example:
        >>> program = workflow_programs().example()
        >>> isinstance(build_workflow(program).expected, list)
        True
    """
    steps = draw(_program_steps(max_steps, max_depth, signals))
    return Program(_numbered(steps, {}))


@lru_cache(maxsize=32)
def _program_steps(max_steps: int, max_depth: int, signals: bool
                   ) -> st.SearchStrategy[list[Step]]:
    return st.lists(_step(max_depth, signals), min_size=1, max_size=max_steps)


# ----------------------------------------------------------------------- temporal histories

def history_sources() -> list[Path]:
    """Temporal JSON histories shipped with the repository (when running from a checkout).

    The histories recorded from a real Temporal server in ``tests/fixtures`` (``temporal``
    and ``recorded``); an installed package without the repository has none, and
    :func:`temporal_histories` then uses engine runs only.
    """
    fixtures = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
    folders = (fixtures / "temporal", fixtures / "recorded")
    return sorted(p for folder in folders if folder.is_dir() for p in folder.glob("*.json"))


@lru_cache(maxsize=64)
def _read_source(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


@lru_cache(maxsize=256)
def _engine_history_text(program: Program, seed: int) -> str:
    from durasim.engine.api import execute

    built = build_workflow(program)
    run = execute(built.workflow, seed=seed, signals=built.signals, trace=False)
    return run.history.to_temporal_json()


@st.composite
def _valid_text(draw: st.DrawFn, sources: Sequence[Path]) -> str:
    from_file: bool = draw(st.booleans()) if sources else False
    if from_file:
        return _read_source(str(draw(st.sampled_from(list(sources)))))
    program = draw(workflow_programs(max_steps=3, max_depth=1))
    return _engine_history_text(program, draw(st.integers(0, 3)))


_JUNK: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats()
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=6)
"""Any JSON value (NaN and infinities included: Python's json reads and writes them)."""

_JUNK_STRINGS = st.sampled_from([
    "", "x", "-1", "0", "1e309", "NaN", "EVENT_TYPE_UNSPECIFIED", "EVENT_TYPE_NOPE",
    "EVENT_TYPE_TIMER_FIRED", "ActivityTaskCompleted", "2026-13-45T99:99:99Z",
    "2026-01-01T00:00:00Z", "P1D", "10", "10x", "-5s", "1e400s", "%%%", "AAAA", "e30=",
    "eyJhIjo=", "\u0000", "\ud7ff"]) | st.text(max_size=10)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every (container path, key) inside ``doc``, to pick a place to mutate."""
    found: list[tuple[Any, ...]] = []
    items: Iterable[tuple[Any, Any]] = (doc.items() if isinstance(doc, dict)
                                        else enumerate(doc) if isinstance(doc, list) else ())
    for key, value in items:
        found.append((*prefix, key))
        found += _paths(value, (*prefix, key))
    return found


def _container(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        doc = doc[key]
    return doc


def _events(doc: Any) -> list[Any] | None:
    if isinstance(doc, dict) and isinstance(doc.get("events"), list):
        events: list[Any] = doc["events"]
        return events
    return doc if isinstance(doc, list) else None


@st.composite
def _mutate(draw: st.DrawFn, doc: Any) -> Any:
    """One structural mutation of a parsed history (returns the new document)."""
    events = _events(doc)
    kind = draw(st.sampled_from([
        "set_value", "delete_key", "drop_event", "duplicate_event", "swap_events",
        "event_field", "payload", "rename_attributes", "events_junk", "top_junk",
        "empty"]))
    if kind in ("drop_event", "duplicate_event", "swap_events", "event_field", "payload",
                "rename_attributes") and not events:
        kind = "set_value"
    if kind == "set_value" or kind == "delete_key":
        paths = _paths(doc)
        if not paths:
            return draw(_JUNK)
        path = draw(st.sampled_from(paths))
        holder = _container(doc, path)
        if kind == "delete_key":
            del holder[path[-1]]
        else:
            holder[path[-1]] = draw(_JUNK | _JUNK_STRINGS)
        return doc
    assert events is not None or kind in ("events_junk", "top_junk", "empty")
    if kind == "drop_event" and events:
        del events[draw(st.integers(0, len(events) - 1))]
    elif kind == "duplicate_event" and events:
        i = draw(st.integers(0, len(events) - 1))
        events.insert(i, copy.deepcopy(events[i]))
    elif kind == "swap_events" and events and len(events) > 1:
        i = draw(st.integers(0, len(events) - 2))
        events[i], events[i + 1] = events[i + 1], events[i]
    elif kind == "event_field" and events:
        event = events[draw(st.integers(0, len(events) - 1))]
        if isinstance(event, dict):
            key = draw(st.sampled_from(["eventId", "eventType", "eventTime", "taskId"]))
            if draw(st.booleans()):
                event.pop(key, None)
            else:
                event[key] = draw(_JUNK_STRINGS | _JUNK)
    elif kind == "payload" and events:
        payloads = [p for p in _paths(doc) if p[-1] in ("data", "metadata", "payloads")]
        if payloads:
            path = draw(st.sampled_from(payloads))
            _container(doc, path)[path[-1]] = draw(_JUNK_STRINGS | _JUNK)
    elif kind == "rename_attributes" and events:
        event = events[draw(st.integers(0, len(events) - 1))]
        if isinstance(event, dict):
            keys = [k for k in event if isinstance(k, str) and k.endswith("EventAttributes")]
            if keys:
                value = event.pop(keys[0])
                other = draw(st.sampled_from([
                    "timerFiredEventAttributes", "activityTaskScheduledEventAttributes",
                    "workflowExecutionStartedEventAttributes", "bogusEventAttributes"]))
                event[other] = value
    elif kind == "events_junk":
        junk = draw(_JUNK)
        if isinstance(doc, dict):
            doc["events"] = junk
        else:
            return {"events": junk}
    elif kind == "top_junk":
        return draw(_JUNK)
    elif kind == "empty":
        return draw(st.sampled_from([{}, [], {"events": []}, {"events": [{}]}]))
    return doc


@st.composite
def _text_damage(draw: st.DrawFn, text: str) -> str | bytes:
    """Damage at the byte level: truncation, stray bytes, bad UTF-8, deep nesting."""
    kind = draw(st.sampled_from(["truncate", "insert", "bad_utf8", "nesting", "bom"]))
    if kind == "truncate":
        return text[:draw(st.integers(0, max(0, len(text) - 1)))]
    if kind == "insert":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(["}", "]", ",", "\"", "\\", "\x00", "{"])) \
            + text[at:]
    if kind == "bad_utf8":
        data = text.encode()
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"])) + data[at:]
    if kind == "nesting":
        depth = draw(st.sampled_from([10, 1000, 100_000]))
        return '{"events": ' + "[" * depth + "]" * depth + "}"
    return "\ufeff" + text


@st.composite
def temporal_histories(draw: st.DrawFn, *, valid: bool | None = None, form: str = "any",
                       sources: Sequence[str | Path] | None = None) -> Any:
    """Temporal JSON histories, valid or mutated, for fuzzing whatever reads them.

    Valid ones are real recordings (:func:`history_sources`) and histories of generated
    programs run on the engine; mutated ones get one to three structural mutations
    (a value replaced by junk, a key or an event removed, events duplicated or swapped,
    bad ids, types, times and payloads) or byte-level damage (truncation, bad UTF-8,
    absurd nesting). The promise to fuzz against: loading any of them either works or
    raises :class:`~durasim.errors.HistoryFormatError`, nothing else.

    Args:
        valid: True for valid histories only, False for mutated only, None for both.
        form: "text" (str or bytes), "json" (parsed: a dict or list) or "any".
        sources: JSON files to start from (default: :func:`history_sources`).

    Example:
        >>> from durasim import History
        >>> doc = temporal_histories(valid=True, form="text").example()
        >>> len(History.from_temporal_json(doc)) > 0
        True
    """
    if form not in ("text", "json", "any"):
        raise ValueError(f"form must be 'text', 'json' or 'any', got {form!r}")
    files = [Path(p) for p in sources] if sources is not None else history_sources()
    text = draw(_valid_text(files))
    mutated = draw(st.booleans()) if valid is None else not valid
    as_text = form == "text" or (form == "any" and draw(st.booleans()))
    if not mutated:
        return text if as_text else json.loads(text)
    if as_text and draw(st.booleans()):
        return draw(_text_damage(text))
    doc = json.loads(text)
    for _ in range(draw(st.integers(1, 3))):
        doc = draw(_mutate(doc))
    if as_text or not isinstance(doc, dict | list):
        return json.dumps(doc) if draw(st.booleans()) else json.dumps(doc, indent=1)
    return doc
