"""Section 9 and the demo: the talk's one crash story, drawn from the simulator's runs.

The story is always the same: the bank transfer, the worker running it crashes while step
5 (the deposit) runs, and the event history brings the transfer back. The same crash on
the monolith and the event-driven system ends differently, which is the comparison.
Every number on these figures (times, waits, events replayed, balances) is read from the
runs, including the two waits students ask about: the deposit's start-to-close timeout
before its retry, and the sticky queue's timeout before another worker replays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from durasim.api import run
from durasim.figures import board
from durasim.figures.board import GREY, INK, MID, MONO, SMALL
from durasim.figures.words import say, step_label
from durasim.i18n import outcome
from durasim.narrate import long_waits
from durasim.talk import story_crash, story_runs
from durasim.viz import style

LANE_START, LANE_END = 15.0, 114.0


def story_run() -> Any:
    """The durable transfer with the talk's crash: the worker dies during step 5."""
    return run("transfer", "durable", faults=[story_crash("durable")])


@dataclass(frozen=True)
class Beat:
    """One thing in the recovery picture: when, on which lane, how it is drawn."""

    time: float
    lane: int
    glyph: str
    colour: str
    label: str


def _beats(recovered: Any) -> list[Beat]:
    """What the recovery figure shows, in time order, read from the run's trace."""
    beats = []
    worker, server = style.KIND_COLOURS["worker"], style.KIND_COLOURS["server"]
    for event in recovered.trace.filter(kind=("step", "crash", "restart", "replay", "retry"),
                                        semantic=True):
        f = event.fields
        if event.kind == "step" and f.get("phase") == "effect" and int(f["step"]) >= 3:
            beats.append(Beat(event.time, 2, "D", style.EFFECT,
                              step_label(int(f["step"]), str(f["name"]))))
        elif event.kind == "crash":
            beats.append(Beat(event.time, 0, "X", style.CRASH, say("crash")))
        elif event.kind == "restart" and event.node:
            beats.append(Beat(event.time, 0, ">", style.EFFECT, say("restart")))
        elif event.kind == "replay":
            beats.append(Beat(event.time, 0, "*", worker,
                              say("replays_n", n=f.get("events"))))
        elif event.kind == "retry" and event.node == "server":
            beats.append(Beat(event.time, 1, "o", server,
                              f"{say('retry')}: {say('attempt_n', n=f.get('attempt'))}"))
    return beats


def step5_recovery() -> Figure:
    """Section 9: the worker dies during step 5; a retry and a replay finish the transfer."""
    recovered = story_run()
    beats = _beats(recovered)
    times = sorted({round(b.time, 3) for b in beats})
    columns = [LANE_START + 4 + (LANE_END - LANE_START - 10) * i / max(1, len(times) - 1)
               for i in range(len(times))]

    def x(time: float) -> float:
        """Columns in time order, evenly spaced (the long waits are drawn as brackets);
        a time between two columns sits between them in proportion."""
        return float(np.interp(time, times, columns))

    figure, ax = board.canvas()
    lanes = [("worker", "worker", 45.0), ("server", say("server_lane"), 34.0),
             ("bank_b", say("services"), 23.0)]
    for node, name, y in lanes:
        colour = style.node_colour(node)
        ax.plot([LANE_START, LANE_END], [y, y], color=colour, linewidth=1.6, alpha=0.5)
        ax.text(LANE_START - 1, y, name, ha="right", va="center", fontsize=SMALL,
                fontweight="bold", color=colour)
    crash = next(b for b in beats if b.glyph == "X")
    restart = next((b for b in beats if b.glyph == ">"), None)
    if restart is not None:
        ax.add_patch(Rectangle((x(crash.time), 43.6), x(restart.time) - x(crash.time), 2.8,
                               facecolor=style.DOWN, edgecolor="none", zorder=1))
    for i, beat in enumerate(beats):
        y = lanes[beat.lane][2]
        ax.scatter([x(beat.time)], [y], marker=beat.glyph, s=480 if beat.glyph in "X*" else 200,
                   color=beat.colour, zorder=5, edgecolors="white", linewidths=1.2)
        offset = 3.0 if i % 2 == 0 else -3.0
        ax.text(x(beat.time), y + offset, beat.label,
                ha=board.edge_align(x(beat.time), LANE_START, LANE_END),
                va="bottom" if offset > 0 else "top", fontsize=SMALL, color=beat.colour,
                fontweight="bold")
    for wait in long_waits(recovered):
        left, right = x(wait.start), x(wait.end)
        text = say(f"wait_{wait.kind}", t=style.format_time(wait.limit))
        ax.annotate("", (left, 14.0), (right, 14.0),
                    arrowprops={"arrowstyle": "<->", "color": GREY, "linewidth": 1.6})
        ax.text((left + right) / 2, 12.5, text.replace(": ", "\n", 1), ha="center",
                va="top", fontsize=SMALL, color=GREY, linespacing=1.2)
    board.caption(ax, say("recovery_caption"))
    return figure


def event_history() -> Figure:
    """Section 9: the recovered transfer's history, the crash drawn where it happened."""
    recovered = story_run()
    crash_at = next(e.time for e in recovered.trace if e.kind == "crash")
    replayed = max((int(e.fields.get("events", 0)) for e in recovered.trace
                    if e.kind == "replay"), default=0)
    shown = [e for e in recovered.history
             if not e.event_type.is_workflow_task or e.event_type.value.endswith("TimedOut")]
    shown = [e for e in shown if e.event_type.value != "ActivityTaskStarted"
             or int(e.attributes.get("attempt", 1)) > 1]
    figure, ax = board.canvas()
    server = style.KIND_COLOURS["server"]
    row = 50.0 / (len(shown) + 2)
    y = 52.0 - row
    crash_drawn = False
    for event in shown:
        if not crash_drawn and event.time > crash_at:
            ax.plot([2, 118], [y + row / 2] * 2, color=style.CRASH, linewidth=2.2)
            board.crash(ax, 4.0, y + row / 2, size=260)
            ax.text(117, y + row / 2, say("hist_crash"), fontsize=SMALL, color=style.CRASH,
                    va="center", ha="right", zorder=7,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": style.CRASH})
            crash_drawn = True
            y -= row * 0.6
        if event.event_id <= replayed:
            ax.add_patch(Rectangle((6, y - row / 2), 112, row * 0.92,
                                   facecolor=style.REPLAY, alpha=0.35, edgecolor="none"))
        detail = (event.attributes.get("activityType")
                  or (say("attempt_n", n=event.attributes["attempt"])
                      if event.event_type.value == "ActivityTaskStarted" else ""))
        ax.text(7, y, f"{event.event_id:>3}", fontsize=SMALL, family=MONO, color=GREY,
                va="center")
        ax.text(14, y, f"{style.format_time(event.time):>8}", fontsize=SMALL, family=MONO,
                color=GREY, va="center")
        ax.text(30, y, event.event_type.value, fontsize=SMALL, color=server, va="center")
        ax.text(72, y, str(detail), fontsize=SMALL, family=MONO, color=INK, va="center")
        y -= row
    ax.add_patch(Rectangle((6, 0.8), 3, 2.2, facecolor=style.REPLAY, alpha=0.35))
    ax.text(10, 1.9, say("hist_replayed", n=replayed), fontsize=SMALL, va="center",
            color="#8250df")
    return figure


def step5_outcomes() -> Figure:
    """Sections 6 and 9: alice's and bob's money after the same crash, three architectures."""
    runs = story_runs()
    figure = style.new_figure(board.WIDTH / 10, board.HEIGHT / 10)
    figure.set_dpi(board.DPI)
    before = next(iter(runs.values())).scenario.accounts
    accounts = list(before)
    axes = figure.subplots(1, len(runs), sharey=True)
    figure.subplots_adjust(left=0.06, right=0.99, top=0.80, bottom=0.17, wspace=0.12)
    top = max(before.values()) * 1.35
    for ax, (name, one) in zip(axes, runs.items(), strict=False):
        after = [one.balances.get(a, 0) for a in accounts]
        ax.bar([0, 1], [before[a] for a in accounts], width=0.7, color="#eaeef2",
               edgecolor="#8c959f", label=say("before"))
        colour = style.EFFECT if one.checks.ok else style.CRASH
        ax.bar([0, 1], after, width=0.4, color=colour, label=say("after"))
        for i, value in enumerate(after):
            ax.text(i, value + top * 0.02, str(value), ha="center", fontsize=MID,
                    fontweight="bold", color=colour)
        ax.set_xticks([0, 1], accounts)
        ax.tick_params(labelsize=SMALL)
        ax.set_ylim(0, top)
        ax.set_title(f"{say('arch_' + name)}\n{outcome(one.outcome)} · {say('total')} "
                     f"{sum(after)}", color=colour, fontsize=MID, fontweight="bold")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[0].legend(frameon=False, fontsize=SMALL, loc="upper right")
    figure.text(0.5, 0.04, say("outcomes_caption"), ha="center", fontsize=SMALL, color=INK)
    return figure
