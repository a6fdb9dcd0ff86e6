"""From a :class:`~durasim.strategies.programs.Program` to a real, runnable workflow.

:func:`build_workflow` writes the workflow a program describes with the public ``ctx``
API, and hands it back with the client's requests and everything the run must show,
all computed from the program (:mod:`durasim.strategies.programs`), never by running it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from durasim.engine import (
    ActivityError,
    ApplicationError,
    CancelledError,
    activity,
    activity_info,
    activity_sleep,
    heartbeat,
    workflow,
)
from durasim.engine.client import Request, Signal
from durasim.engine.context import WorkflowContext
from durasim.strategies.programs import (
    REQUEST_STEPS,
    ActivityStep,
    ChildStep,
    ExpectedAnswer,
    HeartbeatStep,
    LocalActivityStep,
    PatchStep,
    Program,
    ProgramStep,
    QueryStep,
    SignalStep,
    TimerStep,
    UpdateStep,
    WaitConditionStep,
    _walk,
)

__all__ = ["BuiltProgram", "build_workflow", "program_cleanup", "program_heartbeat",
           "program_step"]

CLEANUP_NAME = "program_cleanup"
"""The activity a cancelled program runs before it ends as canceled."""


@activity(name="program_step")
async def program_step(name: str, arg: int, duration: float, fails: bool) -> str:
    """The one activity generated programs call; ``duration`` is virtual time spent."""
    if duration:
        await activity_sleep(duration)
    if fails:
        raise ApplicationError(f"{name} refused", "ProgramStepRefused", non_retryable=True)
    return f"{name}:{arg}"


@activity(name="program_heartbeat")
async def program_heartbeat(name: str, chunks: int, chunk_seconds: float) -> str:
    """Add up 1..chunks, one chunk at a time, resuming from the last checkpoint.

    A checkpoint names its activity: finding another's (a server that mixed up two
    activities' details) is a model bug, and fails loudly rather than resuming from it.
    """
    details = activity_info().heartbeat_details
    done, total = 0, 0
    if details:
        owner, done, total = details
        if owner != name or not 0 <= done <= chunks:
            raise ApplicationError(f"{name} was handed the checkpoint {details!r}",
                                   "WrongCheckpoint", non_retryable=True)
    for chunk in range(done + 1, chunks + 1):
        await activity_sleep(chunk_seconds)
        total += chunk
        heartbeat(name, chunk, total)
    return f"{name}:{total}"


@activity(name=CLEANUP_NAME)
def program_cleanup(steps: int) -> str:
    """What a cancelled program does before it stops (release what it holds)."""
    return f"cleaned up after {steps} steps"


@dataclass(frozen=True)
class BuiltProgram:
    """A program made runnable: ``execute(built.workflow, requests=built.requests)``.

    Attributes:
        program: the program.
        workflow: the top-level ``@durasim.workflow``.
        workflows: it and every child's workflow (what a Replayer needs).
        signals: the signals to send (all the requests of a program with only signals).
        expected: the result the workflow must return if it completes.
        requests: everything the client sends: signals, updates, queries, a cancellation.
        status: how the run must end, "completed" or "canceled" (then its result is None
            and it ran :func:`program_cleanup`).
        answers: what ``run.answers`` must be, one :class:`ExpectedAnswer` per query and
            update, in the order of ``requests``.
    """

    program: Program
    workflow: Callable[..., Any]
    workflows: tuple[Callable[..., Any], ...]
    signals: tuple[Signal, ...]
    expected: list[Any] = field(default_factory=list)
    requests: tuple[Request, ...] = ()
    status: str = "completed"
    answers: tuple[ExpectedAnswer, ...] = ()

    @property
    def result(self) -> Any:
        """The run's result: ``expected`` if it completes, None if it is canceled."""
        return self.expected if self.status == "completed" else None


_BUILT: dict[Program, Callable[..., Any]] = {}


def _register_handlers(ctx: WorkflowContext, steps: Sequence[ProgramStep],
                       state: dict[str, Any]) -> None:
    """Set up every query, update and timed wait before the first ``await``, as Temporal
    workflows do, so no request can arrive before its handler."""
    def no_negatives(value: int) -> None:
        if value < 0:
            raise ValueError(f"values must not be negative, got {value}")

    for step in _walk(steps):
        if isinstance(step, QueryStep):
            state[step.name] = step.value
            ctx.query(lambda name=step.name: state[name], name=step.name)
        elif isinstance(step, UpdateStep):
            def store(value: int, name: str = step.name) -> str:
                state[name] = value
                return f"{name} set to {value}"

            ctx.update(store, name=step.name, validator=no_negatives)
        elif isinstance(step, WaitConditionStep):
            ctx.signal(lambda *_, name=step.name: state.__setitem__(name, True),
                       name=step.name)


def _workflow_for(program: Program) -> Callable[..., Any]:
    cached = _BUILT.get(program)
    if cached is not None:
        return cached
    children = {s.program: _workflow_for(s.program) for s in _walk(program.steps)
                if isinstance(s, ChildStep)}

    async def run_step(ctx: WorkflowContext, step: ProgramStep, state: dict[str, Any]) -> Any:
        if isinstance(step, ActivityStep | LocalActivityStep):
            try:
                if isinstance(step, LocalActivityStep):
                    return await ctx.local_activity(program_step, step.name, step.arg, 0.0,
                                                    step.fails)
                return await ctx.activity(program_step, step.name, step.arg, step.duration,
                                          step.fails)
            except ActivityError:
                return f"failed:{step.name}"
        if isinstance(step, HeartbeatStep):
            return await ctx.activity(
                program_heartbeat, step.name, step.chunks, step.chunk_seconds,
                start_to_close=step.chunks * step.chunk_seconds + 10.0,
                heartbeat_timeout=step.heartbeat_timeout)
        if isinstance(step, TimerStep):
            await ctx.sleep(step.seconds)
            return f"slept {step.seconds:g}"
        if isinstance(step, SignalStep):
            args = await ctx.wait_signal(step.name)
            return args[0]
        if isinstance(step, UpdateStep):
            await ctx.wait_condition(lambda: step.name in state)
            return state[step.name]
        if isinstance(step, WaitConditionStep):
            return await ctx.wait_condition(lambda: step.name in state, timeout=step.timeout)
        if isinstance(step, QueryStep):
            return state[step.name]
        if isinstance(step, PatchStep):
            return ctx.patched(step.change_id)
        if isinstance(step, ChildStep):
            return await ctx.child(children[step.program])
        return await ctx.gather(*(run_sequence(ctx, branch, state)
                                  for branch in step.branches))

    async def run_sequence(ctx: WorkflowContext, steps: Sequence[ProgramStep],
                           state: dict[str, Any]) -> list[Any]:
        return [await run_step(ctx, step, state) for step in steps]

    async def program_workflow(ctx: WorkflowContext) -> list[Any]:
        state: dict[str, Any] = {}
        _register_handlers(ctx, program.steps, state)
        try:
            return await run_sequence(ctx, program.steps, state)
        except CancelledError:
            await ctx.activity(program_cleanup, len(program.steps))
            raise

    program_workflow.__name__ = program_workflow.__qualname__ = program.name
    built: Callable[..., Any] = workflow(program_workflow, name=program.name)
    _BUILT[program] = built
    return built


def build_workflow(program: Program) -> BuiltProgram:
    """Turn a program into a real workflow, the client's requests, and what must happen.

    Child programs become workflows of their own (named by their content, so equal
    programs share a workflow). Signals, updates, queries and timed waits are only
    allowed in the top-level program: ``durasim.execute`` sends requests to the
    workflow it started, not to its children.

    Raises:
        ValueError: a child program waits for a request, two steps share a name, or a
            race in the program is too close to call (see :class:`WaitConditionStep`).

    Example:
        >>> import durasim
        >>> program = Program((ActivityStep("pay", 7), TimerStep(60.0),
        ...                    SignalStep("approve", 1, at=5.0)))
        >>> built = build_workflow(program)
        >>> built.expected
        ['pay:7', 'slept 60', 1]
        >>> run = durasim.execute(built.workflow, requests=built.requests)
        >>> run.status, run.result == built.expected
        ('completed', True)

        An update, a query and a cancellation, each answered as the program says:

        >>> program = Program((UpdateStep("limit", 5, at=1.0, refused=True),
        ...                    QueryStep("owner", 3, at=2.0), TimerStep(3600.0)),
        ...                   cancel_at=900.0)
        >>> built = build_workflow(program)
        >>> run = durasim.execute(built.workflow, requests=built.requests)
        >>> run.status == built.status, [a.value for a in run.answers]
        (True, [None, 'limit set to 5', 3])
        >>> all(e.matches(a) for e, a in zip(built.answers, run.answers))
        True
    """
    names = [s.name for s in _walk(program.steps)
             if isinstance(s, SignalStep | UpdateStep | QueryStep | WaitConditionStep)]
    if len(set(names)) != len(names):
        raise ValueError(f"signal, update, query and wait names must be unique in a program, "
                         f"got {names}")
    pending = list(program.children())
    while pending:
        child = pending.pop()
        if child.cancel_at is not None or any(isinstance(s, REQUEST_STEPS)
                                              for s in _walk(child.steps)):
            raise ValueError("a child program cannot wait for a signal, an update or a "
                             "query, nor be cancelled: durasim.execute only sends requests "
                             "to the top-level workflow")
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
                        program.expected(), tuple(program.requests()), program.status(),
                        tuple(program.answers()))
