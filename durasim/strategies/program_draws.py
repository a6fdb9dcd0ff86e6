"""``workflow_programs()``: the hypothesis strategy that draws workflow programs.

Steps are drawn independently and then put in order: activities, signals, patches and
the rest get unique names in draw order, and the races (a timed wait against its signal,
a cancellation against the end of the workflow) get times chosen from the program's
earliest schedule, far enough apart that a crash cannot change who wins (see
:mod:`durasim.strategies.programs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from durasim.strategies.programs import (
    PROGRESS_SLACK,
    REQUEST_SLACK,
    ActivityStep,
    ChildStep,
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
    _expected_step,
)

__all__ = ["workflow_programs"]

_DURATIONS = (0.0, 0.5, 2.0)
_TIMERS = (1.0, 5.0, 60.0, 3600.0, 30 * 24 * 3600.0)
_SIGNAL_TIMES = (0.0, 0.5, 3.0, 90.0)
_REQUEST_TIMES = (0.5, 3.0, 90.0)
"""Updates and queries go after the start (one at time 0 could overtake it)."""
_WAIT_TIMEOUTS = (3600.0, 3 * 24 * 3600.0)
_RACE_SIGNALS = ("before", "during", "late", "never")
"""When a timed wait's signal comes: before the wait starts, during it, after it timed
out, or never (the first two win the race, the others lose it)."""
_CANCELS = (None, 1.0, 90.0, 900.0, "late")
"""No cancellation, one at a time (the workflow made to outlast it), or one after the
workflow's end (which changes nothing)."""
_MARGIN = 60.0
"""Seconds beyond the slack a race's losing side is placed at."""

_NAMED: dict[type, str] = {ActivityStep: "a", SignalStep: "s", PatchStep: "p",
                           HeartbeatStep: "h", LocalActivityStep: "l", UpdateStep: "u",
                           QueryStep: "q", WaitConditionStep: "w"}


@dataclass(frozen=True)
class _Race:
    """A timed wait still to be given its signal's time (by :func:`_timed`)."""

    name: str
    timeout: float
    signal: str


@lru_cache(maxsize=64)
def _step(depth: int, signals: bool, features: bool) -> st.SearchStrategy[ProgramStep]:
    """One step, nesting children and parallel groups up to ``depth``; built once per
    arguments because building strategies costs far more than drawing."""
    leaves: list[st.SearchStrategy[Any]] = [
        st.builds(ActivityStep, st.just("a"), st.integers(0, 9), st.sampled_from(_DURATIONS),
                  st.booleans()),
        st.builds(TimerStep, st.sampled_from(_TIMERS)),
        st.builds(PatchStep, st.just("p")),
    ]
    if signals:
        leaves.append(st.builds(SignalStep, st.just("s"), st.integers(0, 9),
                                st.sampled_from(_SIGNAL_TIMES)))
    if features:
        leaves += [
            st.builds(HeartbeatStep, st.just("h"), st.integers(1, 6),
                      st.sampled_from((0.5, 1.5)), st.sampled_from((2.0, 5.0))),
            st.builds(LocalActivityStep, st.just("l"), st.integers(0, 9), st.booleans()),
        ]
    if features and signals:
        leaves += [
            st.builds(UpdateStep, st.just("u"), st.integers(0, 9),
                      st.sampled_from(_REQUEST_TIMES), st.booleans()),
            st.builds(QueryStep, st.just("q"), st.integers(0, 9),
                      st.sampled_from(_REQUEST_TIMES)),
            st.builds(_Race, st.just("w"), st.sampled_from(_WAIT_TIMEOUTS),
                      st.sampled_from(_RACE_SIGNALS)),
        ]
    if depth > 0:
        inner = _step(depth - 1, False, features)
        leaves.append(st.lists(inner, min_size=1, max_size=3)
                      .map(lambda steps: ChildStep(Program(tuple(steps)))))
        branch = st.lists(_step(depth - 1, signals, features), min_size=1, max_size=3).map(tuple)
        leaves.append(st.lists(branch, min_size=2, max_size=3)
                      .map(lambda branches: ParallelStep(tuple(branches))))
    return st.one_of(leaves)


def _numbered(steps: Sequence[ProgramStep], counters: dict[str, int]) -> tuple[ProgramStep, ...]:
    """Give activities, signals, patches... unique names (a1, s1, p1...) in draw order."""
    out: list[ProgramStep] = []
    for step in steps:
        prefix = _NAMED.get(type(step)) or ("w" if isinstance(step, _Race) else None)
        if prefix is not None:
            counters[prefix] = counters.get(prefix, 0) + 1
            label = f"{prefix}{counters[prefix]}"
            named: Any = step  # (one of the named kinds: _NAMED's, or a _Race)
            out.append(replace(named, change_id=label) if isinstance(step, PatchStep)
                       else replace(named, name=label))
        elif isinstance(step, ChildStep):
            out.append(ChildStep(Program(_numbered(step.program.steps, counters))))
        elif isinstance(step, ParallelStep):
            out.append(ParallelStep(tuple(_numbered(b, counters) for b in step.branches)))
        else:
            out.append(step)
    return tuple(out)


def _race(race: _Race, start: float) -> WaitConditionStep:
    """The timed wait of ``race``, starting at ``start`` at the earliest, with its signal
    placed where the race is decided whatever the crashes."""
    deadline = start + race.timeout
    signal_at = {"before": max(1.0, start - 1.0),
                 "during": deadline - REQUEST_SLACK - _MARGIN,
                 "late": deadline + PROGRESS_SLACK + _MARGIN,
                 "never": None}[race.signal]
    return WaitConditionStep(race.name, race.timeout, signal_at)


def _timed(steps: Sequence[ProgramStep], start: float) -> tuple[tuple[ProgramStep, ...], float]:
    """Resolve the races of ``steps`` (run from ``start``); also return when they end."""
    out: list[ProgramStep] = []
    for step in steps:
        if isinstance(step, _Race):
            step = _race(step, start)
        elif isinstance(step, ParallelStep):
            timed = [_timed(branch, start) for branch in step.branches]
            step = ParallelStep(tuple(branch for branch, _ in timed))
        _, start = _expected_step(step, start)
        out.append(step)
    return tuple(out), start


def _spaced(step: ProgramStep, cancel: float) -> ProgramStep:
    """``step``, with an update too close to a cancellation at ``cancel`` sent well after
    it (when the workflow has closed: the update is refused)."""
    if isinstance(step, UpdateStep) and not step.at + PROGRESS_SLACK < cancel:
        return replace(step, at=cancel + PROGRESS_SLACK + _MARGIN)
    if isinstance(step, ParallelStep):
        return ParallelStep(tuple(tuple(_spaced(s, cancel) for s in b) for b in step.branches))
    return step


def _with_cancel(steps: tuple[ProgramStep, ...], cancel: float | str | None) -> Program:
    """The program with its races timed and its cancellation: an early one gets a
    workflow that outlasts it (an hour's timer at the end when needed)."""
    if isinstance(cancel, float):
        steps = tuple(_spaced(step, cancel) for step in steps)
    timed, end = _timed(steps, 0.0)
    if cancel is None:
        return Program(timed)
    if not isinstance(cancel, float):
        return Program(timed, cancel_at=end + PROGRESS_SLACK + _MARGIN)
    if end <= cancel + REQUEST_SLACK:
        timed += (TimerStep(3600.0),)
    return Program(timed, cancel_at=cancel)


@st.composite
def workflow_programs(draw: st.DrawFn, max_steps: int = 5, max_depth: int = 2,
                      signals: bool = True, features: bool = False) -> Program:
    """Random workflow programs: activities, timers, patches, signal waits, children and
    parallel groups, nested up to ``max_depth``.

    With ``features``, also Temporal's other mechanisms: heartbeating and local
    activities, updates (some refused first), queries, timed waits raced against a
    signal, and a cancellation of the whole workflow (before or after its end). Run
    those with all their requests: ``execute(built.workflow, requests=built.requests)``.

    Programs are data, so hypothesis shrinks them (fewer steps, no nesting, short timers,
    no failures) and prints them; :func:`~durasim.strategies.build_workflow` makes them
    runnable.

    Example:
        >>> from durasim.strategies import build_workflow
        >>> program = workflow_programs(features=True).example()
        >>> build_workflow(program).status in ("completed", "canceled")
        True
    """
    steps = _numbered(draw(_program_steps(max_steps, max_depth, signals, features)), {})
    if not features:
        return Program(steps)
    return _with_cancel(steps, draw(_CANCEL_DRAW) if signals else None)


_CANCEL_DRAW = st.sampled_from(_CANCELS)


@lru_cache(maxsize=64)
def _program_steps(max_steps: int, max_depth: int, signals: bool, features: bool
                   ) -> st.SearchStrategy[list[ProgramStep]]:
    return st.lists(_step(max_depth, signals, features), min_size=1, max_size=max_steps)
