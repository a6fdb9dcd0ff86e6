"""Section 8: durable execution's six characteristics, one small figure each, from real runs.

Each figure is one run of the engine (the same small workflows notebook 04 runs) drawn as
a strip of virtual time: what the history recorded, where the fault hit, what the engine
did about it. Every number on a figure — days, attempts, waits, events replayed — is read
from the run, so a change in the engine shows up on the slide.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.figure import Figure

from durasim import (
    Crash,
    FailActivity,
    RetryPolicy,
    Signal,
    SQLiteStore,
    activity,
    execute,
    workflow,
)
from durasim.api import run as run_scenario
from durasim.figures import board
from durasim.figures.board import GREY, INK, MID, SMALL
from durasim.figures.words import say
from durasim.viz import style

DAY = 24 * 3600.0
AXIS_Y = 24.0
LEFT, RIGHT = 8.0, 112.0


@dataclass(frozen=True)
class Mark:
    """Something that happened at ``time``, drawn on the strip."""

    time: float
    label: str
    colour: str
    glyph: str = "o"
    level: float = 7.0
    """Where the label sits: grid units above (positive) or below (negative) the axis."""


@dataclass(frozen=True)
class Span:
    """An interval drawn as a bar along the axis (waiting, a node down, a timer)."""

    start: float
    end: float
    label: str
    colour: str


def strip(title: str, marks: Sequence[Mark], spans: Sequence[Span], caption: str, *,
          end: float, unit: float, unit_key: str, ticks: Sequence[float]) -> Figure:
    """One run as a strip of virtual time, ``end`` seconds long, ticks in ``unit``s."""
    figure, ax = board.canvas()
    ax.text(2, 50, title, fontsize=MID + 4, fontweight="bold", color=INK, va="center")

    def x(time: float) -> float:
        return LEFT + (RIGHT - LEFT) * min(time, end) / end

    ax.plot([LEFT, RIGHT], [AXIS_Y, AXIS_Y], color=GREY, linewidth=2.0)
    for tick in ticks:
        ax.plot([x(tick * unit)] * 2, [AXIS_Y - 0.8, AXIS_Y + 0.8], color=GREY)
        ax.text(x(tick * unit), AXIS_Y - 3.2, say(unit_key, n=f"{tick:g}"), ha="center",
                fontsize=SMALL, color=GREY, va="center")
    for i, span in enumerate(spans):
        y = AXIS_Y + 2.0 + 1.6 * i
        ax.plot([x(span.start), x(span.end)], [y, y], color=span.colour, linewidth=7,
                alpha=0.45, solid_capstyle="butt")
        ax.text((x(span.start) + x(span.end)) / 2, y + 1.3, span.label, ha="center",
                va="bottom", fontsize=SMALL, color=span.colour)
    for mark in marks:
        size = 420 if mark.glyph == "X" else 170
        hollow = mark.glyph == "x"  # a line marker: no face, so no white edge either
        ax.scatter([x(mark.time)], [AXIS_Y], marker=mark.glyph, s=size, color=mark.colour,
                   zorder=5, linewidths=3.0 if hollow else 1.2,
                   edgecolors=None if hollow else "white")
        y = AXIS_Y + mark.level
        ax.plot([x(mark.time)] * 2, [AXIS_Y, y - (0.8 if mark.level > 0 else -0.8)],
                color=mark.colour, linewidth=1.0, alpha=0.6)
        where = x(mark.time)
        ax.text(where, y, mark.label, ha=board.edge_align(where, LEFT, RIGHT),
                va="bottom" if mark.level > 0 else "top", fontsize=SMALL, color=mark.colour,
                fontweight="bold")
    board.caption(ax, caption)
    return figure


def _faults(trace: Any, kind: str) -> list[Any]:
    return list(trace.filter(kind=kind, semantic=True))


# -- the workflows the figures run (the same as notebook 04's) ---------------------------

@activity
def pay(person: str) -> str:
    """Pay one person (the payout of "fully persistent state")."""
    return f"paid {person}"


@workflow
async def Payout(ctx: Any, people: list[str]) -> int:
    """Pay one person a day."""
    for person in people:
        await ctx.activity(pay, person)
        await ctx.sleep(1 * DAY)
    return len(people)


@activity(duration=3 * DAY)
def identity_check(name: str) -> str:
    """A call that takes three days."""
    return f"{name} verified"


@workflow
async def Onboarding(ctx: Any, name: str) -> str:
    """One long call, with a start-to-close timeout a day longer than the call."""
    return str(await ctx.activity(identity_check, name, start_to_close=4 * DAY))


@activity
def score(customer: str) -> int:
    """A credit score from a flaky service."""
    return 720


@workflow
async def CreditScore(ctx: Any, customer: str) -> int:
    """The retry policy is configuration, not code."""
    policy = RetryPolicy(initial_interval=1.0, backoff_coefficient=2.0, maximum_attempts=5)
    return int(await ctx.activity(score, customer, retry=policy))


@workflow
async def BigTransfer(ctx: Any, amount: int) -> str:
    """Wait for a person's approval, however long it takes."""
    (approver,) = await ctx.wait_signal("approve")
    return f"{amount} approved by {approver}"


@workflow
async def Reminder(ctx: Any, who: str) -> str:
    """Sleep thirty days on a timer the server keeps."""
    await ctx.sleep(30 * DAY)
    return f"reminded {who}"


# -- the six figures ---------------------------------------------------------------------

def persistent_state() -> Figure:
    """1: a payout stops after a day and a half; a second process carries on from SQLite."""
    people, stop = ["ana", "ben", "eva"], 1.5 * DAY
    switched_off = [Crash(node=node, at_time=stop, restart_after=None)
                    for node in ("server", "worker")]  # the machine goes away
    with tempfile.TemporaryDirectory(prefix="durasim-figure-") as folder:
        path = os.path.join(folder, "histories.sqlite")
        first = execute(Payout, people, id="payout-1", store=SQLiteStore(path),
                        faults=switched_off)
        second = execute(Payout, people, id="payout-1", store=SQLiteStore(path))
    worker = style.KIND_COLOURS["worker"]

    def payments(one: Any) -> list[tuple[float, str]]:
        return [(e.time, str(e.attributes["result"]).split()[-1]) for e in one.history
                if e.event_type.value == "ActivityTaskCompleted"]

    before = payments(first)
    after = payments(second)[len(before):]  # the second history starts with the first's
    marks = [Mark(time, say("paid", who=who), style.EFFECT, level=level)
             for level, paid in ((7.0, before), (-7.0, after)) for time, who in paid]
    read = max(int(e.fields.get("events", 0)) for e in _faults(second.trace, "recover"))
    marks += [Mark(stop, say("stops"), style.CRASH, "X", level=13.0),
              Mark(stop, say("reads_n", n=read), worker, "*", level=-13.0)]
    spans = [Span(0, stop, say("process_n", n=1), GREY),
             Span(stop, second.history[-1].time, say("process_n", n=2), worker)]
    who = ", ".join(name for _, name in after)
    return strip(say("trait_state"), marks, spans, say("state_caption", who=who),
                 end=3 * DAY, unit=DAY, unit_key="day_n", ticks=(0, 1, 2, 3))


def unlimited_duration() -> Figure:
    """2: a year of monthly charges; the worker crashes on day 200 and nobody notices."""
    crash_day = 200
    year = run_scenario("subscription", "durable",
                        faults=[Crash(node="worker", at_time=crash_day * DAY)])
    charges = [e.time for e in year.history if e.event_type.value == "ActivityTaskScheduled"
               and e.attributes.get("activityType") == "charge"]
    marks = [Mark(t, say("charge") if i in (0, len(charges) - 1) else "", style.EFFECT,
                  level=7.0) for i, t in enumerate(charges)]
    marks.append(Mark(crash_day * DAY, say("crash"), style.CRASH, "X", level=-7.0))
    end = year.history[-1].time
    caption = say("duration_caption", charges=len(charges), days=round(end / DAY),
                  crash=crash_day)
    return strip(say("trait_duration"), marks, [], caption, end=360 * DAY, unit=DAY,
                 unit_key="day_n", ticks=(0, 90, 180, 270, 360))


def _attempts(trace: Any) -> list[Mark]:
    marks = []
    for event in _faults(trace, "activity"):
        phase, n = event.fields.get("phase"), event.fields.get("attempt")
        if phase == "failed":
            marks.append(Mark(event.time, say("attempt_failed", n=n), style.ROLLBACK, "x"))
        elif phase == "done":
            marks.append(Mark(event.time, say("attempt_ok", n=n), style.EFFECT, "D"))
    return marks


def long_calls() -> Figure:
    """3: a three-day call; the worker crashes on day 1; the timeout hands it out again."""
    crash_day, limit = 1, 4
    onboarding = execute(Onboarding, "ana",
                         faults=[Crash(node="worker", at_time=crash_day * DAY)])
    worker = style.KIND_COLOURS["worker"]
    starts = [e for e in _faults(onboarding.trace, "activity")
              if e.fields.get("phase") == "start"]
    marks = [Mark(e.time, say("attempt_n", n=e.fields.get("attempt")), worker,
                  level=7.0 if i == 0 else 13.0) for i, e in enumerate(starts)]
    marks.append(Mark(crash_day * DAY, say("crash"), style.CRASH, "X", level=-7.0))
    marks += [Mark(m.time, m.label, m.colour, m.glyph, level=7.0)
              for m in _attempts(onboarding.trace)]
    retried = [e.time for e in _faults(onboarding.trace, "retry") if e.node == "server"]
    spans = [Span(starts[0].time, starts[0].time + limit * DAY, say("timeout"), GREY)]
    caption = say("calls_caption", d=3, crash=crash_day, limit=limit)
    if not retried:
        raise RuntimeError("the long call was never retried: the figure would lie")
    return strip(say("trait_calls"), marks, spans, caption, end=8 * DAY, unit=DAY,
                 unit_key="day_n", ticks=(0, 2, 4, 6, 8))


def retries() -> Figure:
    """4: the first three attempts fail; the server waits 1, 2, 4 s between them."""
    retried = execute(CreditScore, "ana", faults=[FailActivity(name="score", attempts=3)])
    attempts = _attempts(retried.trace)
    marks = [Mark(m.time, m.label, m.colour, m.glyph, level=-7.0 - 6.0 * (i % 2))
             for i, m in enumerate(attempts)]
    waits = [float(e.fields["backoff"]) for e in _faults(retried.trace, "retry")
             if "backoff" in e.fields]
    server = style.KIND_COLOURS["server"]
    spans = [Span(a.time, b.time, say("retry_wait", s=style.format_time(w)), server)
             for a, b, w in zip(attempts, attempts[1:], waits, strict=False)]
    caption = say("retry_caption", waits=", ".join(style.format_time(w) for w in waits))
    return strip(say("trait_retry"), marks, spans, caption, end=8.0, unit=1.0,
                 unit_key="seconds_n", ticks=(0, 1, 3, 7))


def asynchronous() -> Figure:
    """5: the workflow waits three days for a signal; a worker crash on day 1 changes nothing."""
    crash_day, answer_day = 1, 3
    approved = execute(BigTransfer, 5000, requests=[Signal("approve", "maria",
                                                          at=answer_day * DAY)],
                       faults=[Crash(node="worker", at_time=crash_day * DAY)])
    signalled = next(e.time for e in approved.history
                     if e.event_type.value == "WorkflowExecutionSignaled")
    finished = approved.history[-1].time
    marks = [Mark(crash_day * DAY, say("crash"), style.CRASH, "X", level=-7.0),
             Mark(signalled, say("signal"), style.KIND_COLOURS["client"], "v", level=-7.0),
             Mark(finished, say("done"), style.EFFECT, "D", level=7.0)]
    spans = [Span(0, signalled, say("waiting"), style.KIND_COLOURS["worker"])]
    caption = say("async_caption", days=round(signalled / DAY), crash=crash_day)
    return strip(say("trait_async"), marks, spans, caption, end=4 * DAY, unit=DAY,
                 unit_key="day_n", ticks=(0, 1, 2, 3, 4))


def durable_timers() -> Figure:
    """6: a 30-day timer; the server crashes on day 12; the timer fires on day 30."""
    crash_day = 12
    reminder = execute(Reminder, "ana", faults=[Crash(node="server", at_time=crash_day * DAY,
                                                      restart_after=3600)])
    started = next(e for e in reminder.history if e.event_type.value == "TimerStarted")
    fired = next(e.time for e in reminder.history if e.event_type.value == "TimerFired")
    days = round(float(started.attributes["startToFireTimeout"]) / DAY)
    marks = [Mark(crash_day * DAY, say("crash"), style.CRASH, "X", level=-7.0),
             Mark(fired, say("timer_fired"), style.EFFECT, "D", level=7.0)]
    spans = [Span(started.time, fired, say("timer_started", days=days),
                  style.KIND_COLOURS["server"])]
    caption = say("timers_caption", crash=crash_day, fired=round(fired / DAY))
    return strip(say("trait_timers"), marks, spans, caption, end=32 * DAY, unit=DAY,
                 unit_key="day_n", ticks=(0, 10, 20, 30))
