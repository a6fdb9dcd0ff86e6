"""The system as a graph: who talks to whom, who is down, what waits where, who has what.

A timeline answers "what happened when"; this answers "what does the system look like
right now": the node that crashed in red, the broker's queues with their depths, every
account's balance next to the service that holds it, and the money that has left one
account without reaching another. The talk's complexity figure lives here too: one
process versus N services, and how the number of possible interactions grows.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Any

import networkx as nx
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from durasim.architectures.state import RunState
from durasim.i18n import t
from durasim.viz import style
from durasim.viz.state import (
    DEAD_LETTER,
    balances_at,
    history_length,
    money_label,
    node_status,
    queue_depths,
)
from durasim.viz.story import semantic_events

_COLUMN = {"client": 0, "server": 1, "broker": 1, "app": 1, "worker": 2, "service": 3,
           "database": 3, "other": 3}


def system_graph(source: Any, at: float | None = None) -> nx.Graph:
    """The nodes of a run and who exchanged messages, with counts up to ``at``."""
    graph = nx.Graph()
    counts: Counter[tuple[str, str]] = Counter()
    for event in semantic_events(source):
        if event.node:
            graph.add_node(event.node)
        if event.kind == "send":
            other = str(event.fields.get("to", ""))
            graph.add_node(other)
            if at is None or event.time <= at:
                pair = tuple(sorted((event.node, other)))
                counts[(pair[0], pair[1])] += 1
            else:
                graph.add_edge(event.node, other, messages=0)
    for (a, b), count in counts.items():
        graph.add_edge(a, b, messages=count)
    return graph


@lru_cache(maxsize=64)
def _layout(nodes: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    """Columns by role (callers, hub, workers, services), spread evenly in each column."""
    kinds = {n: style.node_kind(n) for n in nodes}
    has_worker = any(k == "worker" for k in kinds.values())
    columns: dict[int, list[str]] = {}
    for node in style.lane_order(nodes):
        column = _COLUMN[kinds[node]]
        if column == 3 and not has_worker:
            column = 2
        columns.setdefault(column, []).append(node)
    pos: dict[str, tuple[float, float]] = {}
    for column, members in columns.items():
        for index, node in enumerate(members):
            pos[node] = (float(column), (len(members) - 1) / 2 - index)
    return pos


def architecture_graph(run: Any, *, at: float | None = None, ax: Axes | None = None,
                       figure: Figure | None = None, title: str | None = None) -> Figure:
    """Draw the system of ``run`` as it was at virtual time ``at`` (the end when None).

    Args:
        run: a Run from ``durasim.run`` (balances and queues are drawn when it has them),
            or a WorkflowRun / Trace (nodes and messages only).
        at: the instant to show.
        ax: draw into these axes.
        figure: clear and reuse this figure (widgets keep one to redraw fast).
        title: the title (default: "The system" and the instant).
    """
    graph = system_graph(run, at)
    nodes = tuple(sorted(graph.nodes))
    pos = _layout(nodes)
    status = node_status(run, at)
    with style.styled():
        if ax is None:
            rows = max((sum(1 for p in pos.values() if p[0] == c) for c in range(4)),
                       default=1)
            width, height = 6.4, max(2.6, 0.62 * rows + 1.1)
            if figure is None:
                figure = style.new_figure(width, height)
            ax = style.fresh_axes(figure, (0.02, 0.04, 0.96, 0.84), (width, height))
        else:
            figure = ax.get_figure(root=True)
        assert figure is not None
        ax.set_axis_off()
        _edges(ax, graph, pos)
        _nodes(ax, graph, pos, status)
        xs = [p[0] for p in pos.values()] or [0.0]
        ys = [p[1] for p in pos.values()] or [0.0]
        ax.set_xlim(min(xs) - 0.45, max(xs) + 1.25)
        ax.set_ylim(min(ys) - 0.75, max(ys) + 0.55)
        if isinstance(getattr(run, "state", None), RunState):
            _balances(ax, run, pos, at)
        if "broker" in pos:
            _queues(ax, run, pos["broker"], at)
        if "server" in pos:
            x, y = pos["server"]
            ax.text(x, y - 0.2, t("history_events", n=history_length(run, at)),
                    fontsize=style.SMALL, ha="center", va="top", color="#24292f", zorder=5)
        when = t("at_time", time=style.format_time(at)) if at is not None else ""
        style.title(ax, title if title is not None else f"{t('graph_title')} {when}".strip())
    return figure


def _edges(ax: Axes, graph: nx.Graph, pos: dict[str, tuple[float, float]]) -> None:
    edges = list(graph.edges(data="messages"))
    if not edges:
        return
    widths = [0.6 + min(3.0, (count or 0) ** 0.5 * 0.6) for _, _, count in edges]
    colours = ["#8c959f" if count else "#d0d7de" for _, _, count in edges]
    ax.add_collection(LineCollection([(pos[a], pos[b]) for a, b, _ in edges],
                                     linewidths=widths, colors=colours, zorder=1))


def _nodes(ax: Axes, graph: nx.Graph, pos: dict[str, tuple[float, float]],
           status: dict[str, bool]) -> None:
    names = list(graph.nodes)
    down = [n for n in names if not status.get(n, True)]
    colours = [style.CRASH if n in down else style.node_colour(n) for n in names]
    ax.scatter([pos[n][0] for n in names], [pos[n][1] for n in names], s=520, c=colours,
               edgecolors="white", linewidths=1.5, zorder=2)
    right = max(p[0] for p in pos.values())
    for name in names:
        x, y = pos[name]
        crashed = name in down
        text = name + (" ✖" if crashed else "")
        colour = style.CRASH if crashed else style.node_colour(name)
        if x == right and x > 0:  # the last column: names to the right, out of the edges
            ax.text(x + 0.16, y + 0.02, text, fontsize=style.FONT_SIZE, fontweight="bold",
                    color=colour, ha="left", va="bottom", zorder=5)
        else:  # callers and hubs: names above, where no edge runs
            ax.text(x, y + 0.2, text, fontsize=style.FONT_SIZE, fontweight="bold",
                    color=colour, ha="center", va="bottom", zorder=5)


def _balances(ax: Axes, run: Any, pos: dict[str, tuple[float, float]],
              at: float | None) -> None:
    balances = balances_at(run, at)
    homes = run.scenario.homes
    loose: list[str] = []
    for account, amount in balances.items():
        home = homes.get(account)
        initial = run.scenario.accounts.get(account, 0)
        text = f"{account} {amount}" + (f" ({amount - initial:+d})" if amount != initial else "")
        if home in pos and pos[home][0] == max(p[0] for p in pos.values()):
            x, y = pos[home]
            ax.text(x + 0.16, y - 0.03, text, fontsize=style.SMALL, ha="left", va="top",
                    color="#24292f", zorder=5)
        else:
            loose.append(text)
    hub = next((n for n in pos if style.node_kind(n) == "app"), None)
    if loose:
        x, y = pos[hub] if hub else (max(p[0] for p in pos.values()), min(
            p[1] for p in pos.values()))
        ax.text(x, y - 0.2, "\n".join(loose), fontsize=style.SMALL, ha="center",
                va="top", color="#24292f", zorder=5)
    text = money_label(run, at)
    if text:
        ax.text(0.0, 0.0, text, transform=ax.transAxes, fontsize=style.FONT_SIZE,
                fontweight="bold", color=style.MONEY_IN_FLIGHT, ha="left", va="bottom")


def _queues(ax: Axes, run: Any, where: tuple[float, float], at: float | None) -> None:
    depths = queue_depths(run, at)
    if not depths:
        return
    lines = []
    for queue, depth in depths.items():
        if depth or queue != DEAD_LETTER:
            lines.append(f"{queue:<14}{'▮' * min(depth, 6)}{' ' + str(depth) if depth else ' ·'}")
    x, y = where
    busy = any(depths.values())
    ax.text(x - 0.1, y - 0.2, t("queues") + "\n" + "\n".join(lines), family="DejaVu Sans Mono",
            fontsize=6.0, ha="center", va="top", zorder=6,
            color=style.KIND_COLOURS["broker"] if busy else "#57606a",
            bbox={"boxstyle": "round,pad=0.25", "fc": "#fff8f0", "ec": "#d0d7de", "lw": 0.6})


def complexity_figure(n_services: int = 6) -> Figure:
    """The talk's slide on system complexity: one process versus ``n_services`` services.

    Inside a monolith the parts call each other in-process; split them into services and
    every pair that may talk is a network interaction that can fail: n(n-1)/2 of them.
    The third panel shows that number growing with n.

    Raises:
        ValueError: fewer than 2 or more than 40 services.
    """
    if isinstance(n_services, bool) or not isinstance(n_services, int):
        raise TypeError(f"n_services must be a whole number, got {n_services!r}")
    if not 2 <= n_services <= 40:
        raise ValueError(f"n_services must be between 2 and 40, got {n_services}")
    pairs = n_services * (n_services - 1) // 2
    with style.styled():
        figure = style.new_figure(11.0, 3.8)
        left, middle, right = (figure.add_axes(box) for box in (
            (0.02, 0.04, 0.28, 0.70), (0.34, 0.04, 0.28, 0.70), (0.71, 0.16, 0.27, 0.62)))
        ring = nx.complete_graph(n_services)
        circle = nx.circular_layout(ring)
        for ax in (left, middle):
            ax.set_axis_off()
            ax.set_xlim(-1.45, 1.45)
            ax.set_ylim(-1.35, 1.35)
            ax.set_aspect("equal")
        app = style.KIND_COLOURS["app"]
        left.add_patch(_rounded((-1.3, -1.2), 2.6, 2.4, app))
        inner = {k: (0.72 * x, 0.72 * y) for k, (x, y) in circle.items()}
        nx.draw_networkx_edges(nx.cycle_graph(n_services), inner, ax=left, edge_color=app,
                               width=0.8, alpha=0.5, node_size=160)
        nx.draw_networkx_nodes(ring, inner, ax=left, node_color=app, node_size=160)
        left.set_title(f"{t('monolith')}\n{t('in_process')}",
                       fontsize=style.FONT_SIZE + 1)
        service = style.KIND_COLOURS["service"]
        nx.draw_networkx_edges(ring, circle, ax=middle, edge_color="#8c959f",
                               width=0.7, alpha=0.8, node_size=260)
        nx.draw_networkx_nodes(ring, circle, ax=middle, node_color=service, node_size=260)
        middle.set_title(f"{t('microservices', n=n_services)}\n{t('interactions', n=pairs)}",
                         fontsize=style.FONT_SIZE + 1)
        top = max(n_services, 12)
        ns = list(range(1, top + 1))
        right.plot(ns, [n * (n - 1) // 2 for n in ns], color=service, linewidth=2,
                   label=t("microservices", n="n"))
        right.plot(ns, [0 for _ in ns], color=app, linewidth=2,
                   linestyle="--", label=t("monolith"))
        right.scatter([n_services], [pairs], color=style.CRASH, zorder=5, s=36)
        right.annotate(str(pairs), (n_services, pairs), textcoords="offset points",
                       xytext=(-6, 6), ha="right", color=style.CRASH, fontweight="bold")
        right.set_xlabel(t("services_axis"))
        right.set_ylabel(t("interactions_axis"))
        right.legend(frameon=False, fontsize=style.SMALL, loc="upper left")
        figure.suptitle(t("complexity_title"), x=0.02, y=0.97, ha="left", fontweight="bold",
                        fontsize=style.FONT_SIZE + 3)
    return figure


def _rounded(xy: tuple[float, float], width: float, height: float, colour: str) -> Any:
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch(xy, width, height, boxstyle="round,pad=0.02,rounding_size=0.25",
                          facecolor=colour, alpha=0.10, edgecolor=colour, linewidth=1.5)
