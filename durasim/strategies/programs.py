"""Workflow programs: random workflows as data, and what they must do, known in advance.

A property about "every workflow" needs workflows hypothesis can generate, shrink and
print. A :class:`Program` is a tuple of steps (an activity, a durable timer, a signal
wait, a patch, a child workflow, a parallel group, and Temporal's other mechanisms: a
heartbeating activity, a local activity, an update, a query, a timed wait) and, perhaps,
a cancellation; :func:`~durasim.strategies.program_workflows.build_workflow` turns it
into a real ``@durasim.workflow``. What the workflow must return, how it must end and
what the client must hear back are computed here from the program alone, never by
running it. The steps are ``ProgramStep``s, not to be confused with a scenario's
business ``Step``.

Timing. Crashes delay a run, so a result that depends on *when* things happen (a timed
wait raced against a signal, a cancellation raced against the end of the workflow, an
update raced against that cancellation) is only predictable when the times involved are
far apart. The model bounds the delays a crash plan can add (see :data:`REQUEST_SLACK`
and :data:`PROGRESS_SLACK`) and computes, for each step, the earliest time it can start
(:meth:`Program.earliest`): a race is called only when its sides are further apart than
those bounds, and a program whose race is too close to call is refused with a
ValueError rather than given a guess.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from durasim.engine.client import Cancel, Query, Request, Signal, Update

__all__ = ["PROGRESS_SLACK", "REQUEST_SLACK", "ActivityStep", "ChildStep", "ExpectedAnswer",
           "HeartbeatStep", "LocalActivityStep", "ParallelStep", "PatchStep", "Program",
           "ProgramStep", "QueryStep", "SignalStep", "TimerStep", "UpdateStep",
           "WaitConditionStep"]

REQUEST_SLACK = 120.0
"""Seconds by which crashes can delay a client request reaching the history.

The client resends a request every second until the server acknowledges it, so only the
server's downtime delays it: :func:`~durasim.strategies.fault_plans` restarts a node
within 30 s, at most three times (93 s with the resends)."""

PROGRESS_SLACK = 600.0
"""Seconds by which crashes and network latency can delay any step of a run.

Besides the restarts (at most three, of at most 30 s), each crash can cost a timeout
(an attempt lost with its worker: start-to-close, at most 10 s here; a heartbeat timeout;
a workflow task's timeout) and a retry's backoff; latencies are milliseconds. Three of
those stay well under ten minutes."""


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


@dataclass(frozen=True)
class HeartbeatStep:
    """A long call that survives its worker: ``chunks`` pieces of ``chunk_seconds`` each.

    The activity heartbeats ``(name, chunks done, sum so far)`` after every chunk, under
    ``heartbeat_timeout``; a retry (its worker crashed) resumes from
    ``activity_info().heartbeat_details`` instead of starting over. Its result,
    ``"<name>:<1 + 2 + ... + chunks>"``, does not depend on how often it restarted, and
    a checkpoint that is lost, stale or another activity's makes it wrong.
    """

    name: str
    chunks: int
    chunk_seconds: float = 0.5
    heartbeat_timeout: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.chunk_seconds < self.heartbeat_timeout:
            raise ValueError(f"{self.name}: a chunk of {self.chunk_seconds:g} s must be "
                             f"shorter than the heartbeat timeout ({self.heartbeat_timeout:g}"
                             " s), or every attempt times out before its first heartbeat")


@dataclass(frozen=True)
class LocalActivityStep:
    """``await ctx.local_activity(program_step, name, arg)``: run inside the workflow task
    and recorded as a marker; results as :class:`ActivityStep`'s (no duration)."""

    name: str
    arg: int
    fails: bool = False


@dataclass(frozen=True)
class UpdateStep:
    """Wait (``ctx.wait_condition``) until the client's update ``name`` set ``value``.

    The client sends ``Update(name, value, at=at)``; the handler, registered when the
    workflow starts, stores the value in the workflow's state and answers
    ``"<name> set to <value>"``; the step's result is the stored value. With ``refused``
    the client first sends ``Update(name, -1, at=at)``, which the validator refuses
    (values must not be negative): nothing is written, the client hears an error.
    """

    name: str
    value: int
    at: float = 0.5
    refused: bool = False


@dataclass(frozen=True)
class QueryStep:
    """The client queries ``name`` at ``at``; the answer is ``value``.

    What a query reads depends on when it is answered, and a crash moves that: a query
    may be answered by a replay on a fresh worker, or after the workflow closed. So the
    handler reads state the workflow sets before its first ``await`` (where Temporal
    workflows set up their handlers), which every one of those answers must rebuild the
    same. The step itself is a no-op whose result is ``value``.
    """

    name: str
    value: int
    at: float = 0.5


@dataclass(frozen=True)
class WaitConditionStep:
    """``await ctx.wait_condition(lambda: <signal name arrived>, timeout=timeout)``.

    The approve-or-time-out race: the client sends signal ``name`` at ``signal_at``
    (None: never). The result is True when the signal wins, False when the timer does,
    decided from the times alone: the wait starts no earlier than its step's earliest
    time ``t`` (:meth:`Program.earliest`), so its timer fires no earlier than
    ``t + timeout``, and the signal is in the history by ``signal_at + REQUEST_SLACK``:
    True when that is sooner. The timer has fired (and the workflow moved on) by
    ``t + timeout + PROGRESS_SLACK``: False when the signal is sent later than that, or
    never. Between the two the race is too close to call, and the program is refused.
    """

    name: str
    timeout: float
    signal_at: float | None = None


ProgramStep = (ActivityStep | TimerStep | SignalStep | PatchStep | ChildStep | ParallelStep
               | HeartbeatStep | LocalActivityStep | UpdateStep | QueryStep
               | WaitConditionStep)
"""One step of a generated workflow program (a scenario's business step is ``Step``)."""

REQUEST_STEPS = (SignalStep, UpdateStep, QueryStep, WaitConditionStep)
"""Steps that need the client (so they only fit the top-level workflow)."""


@dataclass(frozen=True)
class ExpectedAnswer:
    """What the client must hear back for one query or update (``run.answers``).

    A refused update is an error whatever its wording: "rejected" by the validator, or
    "not running" when a crash delayed it past the workflow's end (Temporal's client gets
    an error either way).
    """

    value: Any = None
    refused: bool = False

    def matches(self, answer: Any) -> bool:
        """True when ``answer`` (a :class:`durasim.engine.Answer`) is this one."""
        if self.refused:
            return answer.error is not None and answer.value is None
        return answer.error is None and answer.value == self.value


@dataclass(frozen=True)
class Program:
    """A workflow as data: its steps run in order; its result is their results, a list.

    With ``cancel_at`` the client asks to cancel the workflow at that time; the workflow
    then runs a cleanup activity and ends as canceled (or, when the request comes after
    the end, completes as if it never came). Which of the two is decided from the times,
    as for :class:`WaitConditionStep`.
    """

    steps: tuple[ProgramStep, ...] = ()
    cancel_at: float | None = None

    @property
    def name(self) -> str:
        """A stable workflow type name derived from the program's content."""
        digest = hashlib.sha256(repr(self).encode()).hexdigest()[:12]
        return f"Program_{digest}"

    def expected(self) -> list[Any]:
        """The result the workflow must return when it completes, from the program alone.

        Example:
            >>> Program((ActivityStep("pay", 7), TimerStep(60.0), HeartbeatStep("send", 4),
            ...          WaitConditionStep("approve", 3600.0, signal_at=10.0))).expected()
            ['pay:7', 'slept 60', 'send:10', True]
        """
        return _expected_sequence(self.steps, 0.0)[0]

    def earliest(self) -> float:
        """The earliest virtual time the workflow can finish its steps (no latency, no
        crash): a lower bound that crashes only push later, by at most PROGRESS_SLACK."""
        return _expected_sequence(self.steps, 0.0)[1]

    def status(self) -> str:
        """How the workflow must end: "completed" or "canceled".

        Raises:
            ValueError: the cancellation is too close to the end to call.

        Example:
            >>> program = Program((TimerStep(3600.0),), cancel_at=5.0)
            >>> program.status(), Program(program.steps, cancel_at=7200.0).status()
            ('canceled', 'completed')
        """
        if self.cancel_at is None:
            return "completed"
        end = self.earliest()
        if self.cancel_at + REQUEST_SLACK < end:
            return "canceled"
        if self.cancel_at > end + PROGRESS_SLACK:
            return "completed"
        raise ValueError(f"a cancellation at {self.cancel_at:g} s races the workflow's end "
                         f"(at {end:g} s at the earliest) too closely to call: keep them "
                         f"{REQUEST_SLACK:g} s (before) or {PROGRESS_SLACK:g} s (after) apart")

    def requests(self) -> list[Request]:
        """Everything the client sends, each once at its time, in the program's order
        (the order of ``run.answers``); the cancellation last."""
        found: list[Request] = []
        for step in _walk(self.steps):
            if isinstance(step, SignalStep):
                found.append(Signal(step.name, step.value, at=step.at))
            elif isinstance(step, WaitConditionStep) and step.signal_at is not None:
                found.append(Signal(step.name, at=step.signal_at))
            elif isinstance(step, UpdateStep):
                if step.refused:
                    found.append(Update(step.name, -1, at=step.at))
                found.append(Update(step.name, step.value, at=step.at))
            elif isinstance(step, QueryStep):
                found.append(Query(step.name, at=step.at))
        if self.cancel_at is not None:
            found.append(Cancel(at=self.cancel_at))
        return found

    def horizon(self) -> float:
        """A virtual time by which a run of the program is over whatever the crashes:
        every step done, every request sent and answered (``execute(until=...)``)."""
        latest = max([self.earliest(), *(r.at for r in self.requests())])
        return latest + 2 * PROGRESS_SLACK

    def signals(self) -> list[Signal]:
        """The signals the program waits for, each sent once at its time."""
        return [r for r in self.requests() if isinstance(r, Signal)]

    def answers(self) -> list[ExpectedAnswer]:
        """What each query and update of :meth:`requests` must be answered, in order.

        An update is accepted while the workflow runs; in a canceled workflow, one sent
        after the cancellation (by more than PROGRESS_SLACK: the workflow has closed) is
        refused, and one too close to the cancellation is refused as a program.

        Raises:
            ValueError: an update races the cancellation too closely to call.
        """
        canceled = self.status() == "canceled"
        found: list[ExpectedAnswer] = []
        for step in _walk(self.steps):
            if isinstance(step, QueryStep):
                found.append(ExpectedAnswer(step.value))
            elif isinstance(step, UpdateStep):
                if step.refused:
                    found.append(ExpectedAnswer(refused=True))
                found.append(self._update_answer(step, canceled))
        return found

    def _update_answer(self, step: UpdateStep, canceled: bool) -> ExpectedAnswer:
        accepted = ExpectedAnswer(f"{step.name} set to {step.value}")
        if not canceled or self.cancel_at is None:
            return accepted
        if step.at + PROGRESS_SLACK < self.cancel_at:
            return accepted
        if step.at > self.cancel_at + PROGRESS_SLACK:
            return ExpectedAnswer(refused=True)
        raise ValueError(f"update {step.name!r} at {step.at:g} s races the cancellation at "
                         f"{self.cancel_at:g} s too closely to call: keep them "
                         f"{PROGRESS_SLACK:g} s apart")

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


def wait_outcome(step: WaitConditionStep, start: float) -> bool:
    """Whether the signal wins the race of ``step``, a wait starting at ``start`` at the
    earliest (see :class:`WaitConditionStep`).

    Raises:
        ValueError: the signal and the deadline are too close to call.
    """
    deadline = start + step.timeout
    if step.signal_at is None or step.signal_at > deadline + PROGRESS_SLACK:
        return False
    if step.signal_at + REQUEST_SLACK < deadline:
        return True
    raise ValueError(f"wait {step.name!r}: the signal at {step.signal_at:g} s races the "
                     f"timeout (at {deadline:g} s at the earliest) too closely to call: send "
                     f"it {REQUEST_SLACK:g} s before or {PROGRESS_SLACK:g} s after")


def _expected_step(step: ProgramStep, start: float) -> tuple[Any, float]:
    """A step's result, and the earliest time it can be done if it starts at ``start``."""
    if isinstance(step, ActivityStep):
        return (f"failed:{step.name}" if step.fails else f"{step.name}:{step.arg}",
                start + step.duration)
    if isinstance(step, LocalActivityStep):
        return f"failed:{step.name}" if step.fails else f"{step.name}:{step.arg}", start
    if isinstance(step, HeartbeatStep):
        return (f"{step.name}:{step.chunks * (step.chunks + 1) // 2}",
                start + step.chunks * step.chunk_seconds)
    if isinstance(step, TimerStep):
        return f"slept {step.seconds:g}", start + step.seconds
    if isinstance(step, SignalStep | UpdateStep):
        return step.value, max(start, step.at)
    if isinstance(step, QueryStep):
        return step.value, start
    if isinstance(step, WaitConditionStep):
        won = wait_outcome(step, start)
        return won, max(start, step.signal_at or 0.0) if won else start + step.timeout
    if isinstance(step, PatchStep):
        return True, start
    if isinstance(step, ChildStep):
        return _expected_sequence(step.program.steps, start)
    branches = [_expected_sequence(branch, start) for branch in step.branches]
    return [result for result, _ in branches], max(end for _, end in branches)


def _expected_sequence(steps: Sequence[ProgramStep], start: float) -> tuple[list[Any], float]:
    results = []
    for step in steps:
        result, start = _expected_step(step, start)
        results.append(result)
    return results, start
