"""Sections 2 to 7: the systems the talk compares, drawn for a room.

Complexity, the monolith's transaction, where ACID stops, the event-driven plumbing, the
business logic scattered over handlers, and the durable engine. They are diagrams, not
runs, but they use the timelines' colours (a worker is the same purple, a crash the same
red) and the transfer's six steps, so they tell the same story as everything else.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from durasim.figures import board
from durasim.figures.board import INK, MID, MONO, SMALL
from durasim.figures.words import say, step_label
from durasim.viz import style

STEPS = ("validate", "fraud_check", "withdraw", "record_ledger", "deposit", "notify")
SERVICES = ("validation", "fraud", "bank_a", "ledger", "bank_b", "notifications")


def complexity() -> Figure:
    """Section 2: one process with six parts, six services, and n(n-1)/2 growing."""
    figure, ax = board.canvas()
    app, service = style.KIND_COLOURS["app"], style.KIND_COLOURS["service"]
    board.box(ax, 3, 8, 32, 38, "", app, fill=0.06)
    ax.text(19, 49, say("monolith"), ha="center", fontsize=MID, fontweight="bold", color=app)
    ring = [(19 + 10 * math.cos(a), 27 + 10 * math.sin(a))
            for a in (math.pi / 2 + k * math.pi / 3 for k in range(6))]
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        ax.plot([x1, x2], [y1, y2], color=app, linewidth=1.5, alpha=0.5)
    ax.scatter([p[0] for p in ring], [p[1] for p in ring], s=260, color=app, zorder=3)
    ax.text(19, 11.5, say("one_process"), ha="center", fontsize=SMALL, color=app)
    wide = [(60 + 14 * math.cos(a), 27 + 14 * math.sin(a))
            for a in (math.pi / 2 + k * math.pi / 3 for k in range(6))]
    for i, a in enumerate(wide):
        for b in wide[i + 1:]:
            ax.plot([a[0], b[0]], [a[1], b[1]], color="#8c959f", linewidth=1.4)
    ax.scatter([p[0] for p in wide], [p[1] for p in wide], s=420, color=service,
               zorder=3)
    ax.text(60, 49, say("services_n", n=6), ha="center", fontsize=MID, fontweight="bold",
            color=service)
    ax.text(60, 6.5, say("interactions_n", n=15), ha="center", fontsize=SMALL,
            color=style.CRASH, fontweight="bold")
    chart = figure.add_axes((0.70, 0.2, 0.27, 0.62))
    ns = list(range(1, 13))
    chart.plot(ns, [n * (n - 1) // 2 for n in ns], color=service, linewidth=3)
    chart.plot(ns, [0] * len(ns), color=app, linewidth=3, linestyle="--")
    chart.scatter([6], [15], color=style.CRASH, s=80, zorder=4)
    chart.annotate("15", (6, 15), textcoords="offset points", xytext=(-8, 8), ha="right",
                   fontsize=SMALL, color=style.CRASH, fontweight="bold")
    chart.annotate("66", (12, 66), textcoords="offset points", xytext=(-8, 0), ha="right",
                   fontsize=SMALL, color=service, fontweight="bold")
    chart.set_xticks([1, 6, 12])
    chart.set_yticks([0, 30, 60])
    chart.tick_params(labelsize=SMALL)
    chart.set_xlabel(say("services_axis"), fontsize=SMALL)
    chart.set_ylabel(say("interactions_axis"), fontsize=SMALL)
    for side in ("top", "right"):
        chart.spines[side].set_visible(False)
    return figure


def monolith_transaction() -> Figure:
    """Section 3: the transfer as one local transaction, committed or rolled back whole."""
    figure, ax = board.canvas()
    app = style.KIND_COLOURS["app"]
    for row, crashed in enumerate((False, True)):
        y = 38 - row * 18
        label = say("crash_step5") if crashed else say("no_crash")
        ax.text(2, y + 8.2, label, fontsize=MID, fontweight="bold",
                color=style.CRASH if crashed else style.EFFECT)
        board.box(ax, 2, y - 2, 86, 8.5, "", app, fill=0.03, dashed=True)
        for i, name in enumerate(STEPS, start=1):
            x = 3.2 + (i - 1) * 14.1
            done = not crashed or i < 5
            colour = app if done else "#8c959f"
            board.box(ax, x, y - 0.8, 12.4, 6.0, step_label(i, name).replace(" ", "\n", 1),
                      colour, fill=0.16 if done else 0.0, size=SMALL)
            if crashed and i == 5:
                board.crash(ax, x + 12.0, y + 5.0)
        colour = style.ROLLBACK if crashed else style.EFFECT
        board.arrow(ax, (89.5, y + 2.2), (95, y + 2.2), colour)
        ax.text(96, y + 2.2, say("rollback_all") if crashed else say("commit_all"),
                fontsize=SMALL, va="center", color=colour, fontweight="bold")
    board.database(ax, 31, 6.5, 40, 8, say("one_database"))
    board.caption(ax, say("all_or_nothing"))
    return figure


def transactionality() -> Figure:
    """Section 4: each service's database is ACID; the transfer across them is not."""
    figure, ax = board.canvas()
    service = style.KIND_COLOURS["service"]
    for x, name, text, ok in ((4, "bank_a", say("withdraw_done"), True),
                              (74, "bank_b", say("deposit_crashed"), False)):
        board.box(ax, x, 9, 42, 40, "", service, fill=0.05, dashed=True)
        ax.text(x + 21, 45, f"{name} · {say('acid_inside')}", ha="center", fontsize=MID,
                fontweight="bold", color=service)
        board.box(ax, x + 4, 30, 34, 8, text, style.EFFECT if ok else style.CRASH,
                  fill=0.15, bold=True)
        board.database(ax, x + 11, 12, 20, 12, name)
        if not ok:
            board.crash(ax, x + 38, 38, size=700)
    board.arrow(ax, (47, 34), (77, 34), style.MESSAGE, text=say("network"), dashed=True)
    ax.text(62, 24, "?", fontsize=60, ha="center", va="center", color=style.CRASH,
            fontweight="bold")
    board.caption(ax, say("no_tx"))
    return figure


def event_driven() -> Figure:
    """Section 5: producers publish events to a channel; consumers take and act on them."""
    figure, ax = board.canvas()
    broker = style.KIND_COLOURS["broker"]
    for x, key in ((14, "producers"), (60, "channel"), (106, "consumers")):
        ax.text(x, 49, say(key), ha="center", fontsize=MID, fontweight="bold",
                color=broker if key == "channel" else INK)
    board.box(ax, 40, 8, 40, 37, "", broker, fill=0.06)
    producers = ("client", *SERVICES[:5])
    for i, (producer, consumer) in enumerate(zip(producers, SERVICES, strict=True)):
        y = 40 - i * 6.2
        board.box(ax, 2, y, 24, 4.2, producer, style.node_colour(producer))
        board.arrow(ax, (27, y + 2.1), (43, y + 2.1), style.node_colour(producer), width=1.6)
        ax.text(60, y + 2.1, f"{say('event')} {i + 1}", ha="center", va="center",
                fontsize=SMALL, color=broker, family=MONO)
        board.arrow(ax, (77, y + 2.1), (93, y + 2.1), broker, width=1.6)
        board.box(ax, 94, y, 24, 4.2, consumer, style.node_colour(consumer))
    board.caption(ax, say("ed_caption"))
    return figure


def scattered_logic() -> Figure:
    """Section 6: the order of the transfer in one function, or spread over six handlers."""
    figure, ax = board.canvas()
    worker, broker = style.KIND_COLOURS["worker"], style.KIND_COLOURS["broker"]
    ax.text(3, 49, say("one_function"), fontsize=MID, fontweight="bold", color=worker)
    board.box(ax, 2, 10, 50, 36, "", worker, fill=0.05)
    code = ["async def Transfer(ctx, t):",
            *(f"  await ctx.activity({name}, t)" for name in STEPS)]
    for i, line in enumerate(code):
        ax.text(4, 42 - i * 4.5, line, fontsize=SMALL, family=MONO, color=INK, va="center")
    ax.text(62, 49, say("six_handlers"), fontsize=MID, fontweight="bold", color=broker)
    for i, (name, service) in enumerate(zip(STEPS, SERVICES, strict=True)):
        x, y = 62 + (i % 2) * 29, 38 - (i // 2) * 13
        board.box(ax, x, y, 26, 9, f"{name}_event\n→ {service}", broker, fill=0.06,
                  size=SMALL)
    ax.text(60, 5.5, say("who_knows"), ha="center", fontsize=SMALL, color=INK,
            fontweight="bold")
    ax.text(60, 1.8, say("nobody"), ha="center", fontsize=SMALL, color=style.CRASH)
    return figure


def durable_execution() -> Figure:
    """Section 7: the server keeps the history, the worker runs the code and activities."""
    figure, ax = board.canvas()
    worker, server = style.KIND_COLOURS["worker"], style.KIND_COLOURS["server"]
    service = style.KIND_COLOURS["service"]
    board.box(ax, 2, 8, 36, 40, "", server, fill=0.06)
    ax.text(20, 50, say("server"), ha="center", fontsize=MID, fontweight="bold", color=server)
    events = ("WorkflowExecutionStarted", "ActivityTaskScheduled", "ActivityTaskCompleted",
              "…", "ActivityTaskScheduled", "ActivityTaskCompleted")
    for i, event in enumerate(events):
        ax.text(4, 43 - i * 4.2, event, fontsize=SMALL, color=server, va="center")
    board.database(ax, 12, 10, 16, 8)
    board.box(ax, 46, 8, 40, 40, "", worker, fill=0.06)
    ax.text(66, 50, say("worker"), ha="center", fontsize=MID, fontweight="bold", color=worker)
    for i, name in enumerate(STEPS):
        y = 42 - i * 4.6
        if name == "deposit":
            ax.add_patch(Rectangle((47, y - 2.0), 38, 4.0, facecolor=style.DOWN,
                                   edgecolor="none", zorder=2))
            board.crash(ax, 84, y, size=300)
        ax.text(48, y, f"await {name}", fontsize=SMALL, family=MONO, va="center", zorder=3)
    ax.text(66, 11, say("crash_replay"), ha="center", fontsize=SMALL, color=style.CRASH,
            fontweight="bold")
    board.arrow(ax, (38.5, 36), (45.5, 36), server, text=say("tasks"))
    board.arrow(ax, (45.5, 22), (38.5, 22), worker, text=say("commands"))
    ax.text(106, 50, say("services"), ha="center", fontsize=MID, fontweight="bold",
            color=service)
    for i, name in enumerate(SERVICES):
        y = 42 - i * 6.4
        board.box(ax, 94, y - 2, 24, 4.4, name, service)
        board.arrow(ax, (86.5, 28), (93.5, y), worker, width=1.2)
    return figure
