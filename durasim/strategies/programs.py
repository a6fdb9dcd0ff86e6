"""Workflow programs: random workflows as data, and the real workflows built from them.

A property about "every workflow" needs workflows hypothesis can generate, shrink and
print. A :class:`Program` is a tuple of steps (an activity, a durable timer, a signal
wait, a patch, a child workflow, a parallel group); :func:`build_workflow` turns it into
a real ``@durasim.workflow`` together with the signals it waits for and the result it
must return, computed from the program alone, never by running it. The steps are
``ProgramStep``s, not to be confused with a scenario's business ``Step``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from durasim.engine import ActivityError, ApplicationError, activity, activity_sleep, workflow
from durasim.engine.client import Signal
from durasim.engine.context import WorkflowContext

__all__ = ["ActivityStep", "BuiltProgram", "ChildStep", "ParallelStep", "PatchStep", "Program",
           "ProgramStep", "SignalStep", "TimerStep", "build_workflow", "program_step",
           "workflow_programs"]


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

    branches: tuple[tuple[ProgramStep, ...], ...]


ProgramStep = ActivityStep | TimerStep | SignalStep | PatchStep | ChildStep | ParallelStep
"""One step of a generated workflow program (a scenario's business step is ``Step``)."""


@dataclass(frozen=True)
class Program:
    """A workflow as data: its steps run in order; its result is their results, a list."""

    steps: tuple[ProgramStep, ...] = ()

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


def _walk(steps: Iterable[ProgramStep]) -> Iterable[ProgramStep]:
    """Steps of this program's own workflow (not inside children), depth first."""
    for step in steps:
        yield step
        if isinstance(step, ParallelStep):
            for branch in step.branches:
                yield from _walk(branch)


def _expected_step(step: ProgramStep) -> Any:
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


def _expected_sequence(steps: Sequence[ProgramStep]) -> list[Any]:
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
    """A program made runnable: ``execute(built.workflow, requests=built.signals)``.

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

    async def run_step(ctx: WorkflowContext, step: ProgramStep) -> Any:
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

    async def run_sequence(ctx: WorkflowContext, steps: Sequence[ProgramStep]) -> list[Any]:
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
        >>> run = durasim.execute(built.workflow, requests=built.signals)
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
def _step(depth: int, signals: bool) -> st.SearchStrategy[ProgramStep]:
    """One step, nesting children and parallel groups up to ``depth``; built once per
    (depth, signals) because building strategies costs far more than drawing."""
    leaves: list[st.SearchStrategy[ProgramStep]] = [
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


def _numbered(steps: Sequence[ProgramStep], counters: dict[str, int]) -> tuple[ProgramStep, ...]:
    """Give activities, signals and patches unique names (a1, s1, p1...) in draw order."""
    out: list[ProgramStep] = []
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
                   ) -> st.SearchStrategy[list[ProgramStep]]:
    return st.lists(_step(max_depth, signals), min_size=1, max_size=max_steps)
