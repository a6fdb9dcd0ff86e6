"""One look for every picture: colours per kind of node, fonts, sizes, PNG export.

Students compare pictures across architectures and across slides, so a worker must be the
same purple and a crash the same red everywhere. Every figure function draws inside
:func:`styled` and reads its colours from here; nothing else hard-codes a colour.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

KIND_COLOURS: dict[str, str] = {
    "client": "#6e7781",
    "app": "#0969da",
    "service": "#1a7f37",
    "broker": "#bc4c00",
    "worker": "#8250df",
    "server": "#0a3069",
    "database": "#4d2d00",
    "other": "#57606a",
}
"""Colour of each kind of node (lanes, graph nodes, labels)."""

CRASH = "#cf222e"
"""A crash mark, a crashed node."""
DOWN = "#ffd8d3"
"""The shading of the interval a node is down."""
REPLAY = "#d8b9ff"
"""The shading of a replay or a recovery (its own colour, never the crash's)."""
EFFECT = "#1a7f37"
"""A committed business effect."""
ROLLBACK = "#d4a72c"
"""A rolled-back transaction."""
LOST = "#cf222e"
"""A message that never arrived."""
MESSAGE = "#8c959f"
"""An ordinary message arrow."""
STEP_BOX = "#fff8c5"
"""The background of a business step's label."""
FUTURE = "#ffffff"
"""The veil over what has not happened yet, when a picture is cut at "now"."""
NOW = "#0969da"
"""The "now" line."""
MONEY_IN_FLIGHT = "#bc4c00"
HEARTBEAT = "#bf3989"
"""A heartbeat: an activity telling the server it is alive (and how far it got)."""

EVENT_KIND_COLOURS: dict[str, str] = {
    "timeout": "#e16f24",
    "cancel": "#a40e26",
    "update": "#0550ae",
    "signal": "#218bff",
    "local_activity": "#6639ba",
    "patch": "#57606a",
    "marker": "#57606a",
    "task_retry": "#82071e",
}
"""Colour of each kind of history event that carries a lesson (see viz.event_kinds):
the same in the history view and on the timeline."""

OUTCOME_COLOURS: dict[str, str] = {
    "completed": EFFECT, "failed": "#8c959f", "rolled back": ROLLBACK, "lost": LOST,
    "duplicated": "#8250df", "unknown to caller": "#bc4c00", "stuck": "#57606a",
    "dead-lettered": "#4d2d00"}
"""How a business process ended, the same colour in every picture of many of them."""

FONT = "DejaVu Sans"
FONT_SIZE = 9.0
SMALL = 7.5
DPI = 90
"""Widgets redraw often; 90 dpi keeps a redraw fast and still sharp on screen."""

_RC: dict[str, Any] = {
    "font.family": FONT,
    "font.size": FONT_SIZE,
    "axes.titlesize": FONT_SIZE + 2,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "svg.fonttype": "none",
    "text.hinting": "none",  # a third faster to draw, and still crisp at 90 dpi
    "text.parse_math": False,  # "$amount" in a label is text, not TeX
}

_KIND_RANK = {"client": 0, "server": 1, "broker": 1, "app": 2, "worker": 2,
              "service": 3, "database": 4, "other": 5}


def node_kind(name: str) -> str:
    """The kind of a node from its name: what decides its colour and its lane's place.

    Architectures name their nodes after their role ("client", "broker", "worker",
    "server", "app"); every other node is one of the business's services (or a database
    when its name says so).
    """
    full = name.lower()
    if full.endswith(("db", "-database", "_database")) or full in ("store", "sqlite"):
        return "database"
    base = full.split(":")[0].split("-")[0]
    if base in ("client", "caller", "user", "human"):
        return "client"
    if base in ("app", "monolith"):
        return "app"
    if base in ("broker", "queue", "kafka"):
        return "broker"
    if base.startswith("worker"):
        return "worker"
    if base in ("server", "temporal", "engine"):
        return "server"
    return "service" if base else "other"


def node_colour(name: str) -> str:
    """The colour of node ``name``."""
    return KIND_COLOURS[node_kind(name)]


def lane_order(nodes: Iterable[str]) -> list[str]:
    """Nodes in the order lanes are drawn: callers, the hub, workers, then services.

    Putting the hub (broker or server) near the top keeps most message arrows short; ties
    keep the order nodes first appeared in, which follows the business steps.
    """
    seen = list(dict.fromkeys(nodes))
    return sorted(seen, key=lambda n: (_KIND_RANK[node_kind(n)], seen.index(n)))


@contextmanager
def styled() -> Iterator[None]:
    """Draw inside durasim's look without changing the caller's matplotlib settings."""
    with mpl.rc_context(cast(Any, _RC)):  # matplotlib's stubs differ between versions
        yield


class ShownFigure(Figure):
    """A Figure that shows itself as a picture in Jupyter, with or without pyplot.

    durasim's figures are not registered with pyplot (so widgets that redraw often
    never leak figures); without pyplot's inline backend a notebook would print
    ``<Figure size ...>`` instead of the picture, so the figure renders itself.
    """

    def _repr_png_(self) -> bytes:
        return to_png(self)


def new_figure(width: float, height: float) -> Figure:
    """A figure not registered with pyplot: widgets make many, and none should leak."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = ShownFigure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def fresh_axes(figure: Figure, rect: tuple[float, float, float, float],
               size: tuple[float, float]) -> Axes:
    """Empty axes at ``rect`` in ``figure`` resized to ``size`` inches, reused if possible.

    Widgets redraw into the same figure on every click. Creating axes (and their ticks)
    costs more than drawing a timeline, and a new size throws away matplotlib's text
    caches, so the one axes durasim made is emptied and moved instead, and the figure is
    only resized when the size really changes.
    """
    if tuple(figure.get_size_inches()) != size:
        figure.set_size_inches(*size, forward=False)
    axes = figure.axes
    if len(axes) == 1 and getattr(axes[0], "_durasim_reusable", False):
        ax = axes[0]
        for artist in [*ax.texts, *ax.collections, *ax.patches, *ax.lines, *ax.images]:
            artist.remove()
        if ax.legend_ is not None:
            ax.legend_.remove()
        ax.set_position(rect)
        return ax
    figure.clear()
    ax = figure.add_axes(rect)
    ax.set_axis_off()
    ax._durasim_reusable = True  # type: ignore[attr-defined]
    return ax


def title(ax: Axes, text: str, *, size: float | None = None) -> None:
    """A left-aligned title above ``ax``: a plain text, because ``set_title`` asks the
    (hidden) axis for its extent on every draw, which costs more than the picture."""
    ax.text(0.0, 1.0, text, transform=ax.transAxes, ha="left", va="bottom",
            fontsize=size or FONT_SIZE + 1, fontweight="bold")


def to_png(figure: Figure, dpi: float | None = None) -> bytes:
    """The figure as PNG bytes (what widgets show and tests compare)."""
    buffer = io.BytesIO()
    with styled():
        figure.savefig(buffer, format="png", dpi=dpi or DPI, facecolor="white",
                       pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def format_time(seconds: float) -> str:
    """Virtual time for people: milliseconds for quick steps, days for durable timers."""
    t = abs(seconds)
    if t < 0.995:
        text = f"{t * 1000:.0f} ms" if t >= 0.01 or t == 0 else f"{t * 1000:.1f} ms"
    elif t < 60:
        text = f"{t:.2f} s" if t < 10 else f"{t:.1f} s"
    elif t < 3600:
        text = f"{t / 60:.1f} min"
    elif t < 86400:
        text = f"{t / 3600:.1f} h"
    else:
        text = f"{t / 86400:.1f} d"
    return ("-" if seconds < 0 else "") + text
