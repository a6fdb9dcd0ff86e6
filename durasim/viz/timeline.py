"""The space-time diagram: one lane per node, messages as arrows, crashes in red.

This is the picture the talk keeps coming back to: where each business step ran, which
message carried it, where the crash hit, how long the node was down, and what recovery
did afterwards (a redelivery, a replay of the history). Lamport drew distributed runs this
way; students read it left to right.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from durasim.i18n import t
from durasim.viz import style
from durasim.viz.event_kinds import KINDS
from durasim.viz.story import Arrow, Story, tell, time_ticks

_GLYPHS: dict[str, tuple[str, str, float]] = {
    # kind: (marker, colour, size)
    "effect": ("D", style.EFFECT, 34),
    "commit": ("s", style.EFFECT, 30),
    "rollback": ("<", style.ROLLBACK, 42),
    "crash": ("X", style.CRASH, 120),
    "restart": (">", style.EFFECT, 46),
    "replay": ("*", "#8250df", 110),
    "recover": ("*", "#8250df", 110),
    "history": ("s", "#8c959f", 12),
    "activity": ("o", "#8250df", 14),
    "failed": ("x", style.ROLLBACK, 46),
    "redeliver": ("o", style.KIND_COLOURS["broker"], 40),
    "dead_letter": ("v", "#24292f", 50),
    "retry": ("o", "#8250df", 30),
    "nondeterminism": ("P", style.CRASH, 70),
    # history events that carry a lesson (durasim.viz.event_kinds), one glyph each
    "timeout": ("h", style.EVENT_KIND_COLOURS["timeout"], 70),
    "cancel": ("8", style.EVENT_KIND_COLOURS["cancel"], 60),
    "update": ("^", style.EVENT_KIND_COLOURS["update"], 60),
    "signal": ("d", style.EVENT_KIND_COLOURS["signal"], 60),
    "local_activity": ("p", style.EVENT_KIND_COLOURS["local_activity"], 60),
    "patch": ("p", style.EVENT_KIND_COLOURS["patch"], 60),
    "marker": ("p", style.EVENT_KIND_COLOURS["marker"], 50),
    "task_retry": ("x", style.EVENT_KIND_COLOURS["task_retry"], 60),
    "other": ("o", "#8c959f", 10),
}
_LABELLED = {"replay", "recover", "redeliver", "dead_letter", "retry", "nondeterminism",
             *KINDS}
_LEGEND = ("crash", "down", "replay", "effect", "rollback", "failed", "lost", "redeliver",
           "dead_letter", "heartbeat", *KINDS)
_HEARTBEAT = "ActivityHeartbeat"
"""The message an activity's heartbeat travels in: drawn in its own colour."""


def timeline(run_or_trace: Any, *, window: tuple[float | None, float | None] | None = None,
             collapse: bool = True, until: float | None = None, ax: Axes | None = None,
             title: str | None = None, figure: Figure | None = None,
             width: float | None = None) -> Figure:
    """Draw the space-time diagram of a run.

    Args:
        run_or_trace: a durasim Run, a WorkflowRun from ``durasim.execute``, or a Trace.
        window: ``(start, end)`` virtual seconds to zoom into (either end may be None).
        collapse: merge bursts and hide what arrows already say (keeps big runs readable).
        until: draw a "now" line at this virtual time and veil what comes after it
            (the widgets' Step; the layout stays put so nothing jumps between steps).
        ax: draw into these axes instead of a new figure (animations, comparisons).
        title: the title (default: what the run was).
        figure: clear and reuse this figure (widgets: a kept figure keeps matplotlib's
            text caches warm, which halves the time of a redraw).
        width: the figure's width in inches (default: grows with the run).

    Returns:
        The figure (also when ``ax`` was given: its figure). The run is never changed.
    """
    story = tell(run_or_trace, window=window, collapse=collapse)
    with style.styled():
        if ax is None:
            figure, ax = _canvas(story, figure, width)
        else:
            figure = ax.get_figure(root=True)
        assert figure is not None
        draw_story(ax, story, until=until)
        style.title(ax, title if title is not None else run_title(run_or_trace))
    return figure


def _canvas(story: Story, figure: Figure | None = None,
            width: float | None = None) -> tuple[Figure, Axes]:
    """A figure sized to the story: wide enough per column, tall enough per lane, with
    margins in inches so long node names and the legend always fit."""
    width_cols = story.x(story.columns - 1) + 2 if story.columns else 2
    names = max((len(n) for n in story.lanes), default=4)
    left_in = 0.25 + 0.075 * names
    if width is None:
        plot_in = min(max(5.5, 0.13 * width_cols), 20.0)
        width = left_in + plot_in + 0.2
    else:
        plot_in = max(1.0, width - left_in - 0.2)
    lanes_in = max(1.5, 0.45 * max(1, len(story.lanes)) + 0.5)
    top_in, bottom_in = 0.45, 0.55
    height = top_in + lanes_in + bottom_in
    if figure is None:
        figure = style.new_figure(width, height)
    rect = (left_in / width, bottom_in / height, plot_in / width, lanes_in / height)
    return figure, style.fresh_axes(figure, rect, (width, height))


def draw_story(ax: Axes, story: Story, *, until: float | None = None) -> None:
    """Draw ``story`` into ``ax`` (shared by the timeline and the animation).

    Lane names and time labels are plain texts rather than axis ticks: a widget redraws
    this on every click, and matplotlib's tick machinery costs more than the picture.
    """
    lanes = {name: -index for index, name in enumerate(story.lanes)}
    columns = max(1, story.columns)
    last = story.x(columns - 1) if story.columns else 0.0
    right = last + 1.0 + 0.05 * last  # room for the last step's label
    ax.set_axis_off()
    ax.set_xlim(-1.0, right)
    bottom = -len(story.lanes) + 0.35
    ax.set_ylim(bottom - 0.25, 1.2)
    ax.hlines(list(lanes.values()), -1.0, right,
              colors=[style.node_colour(n) for n in lanes], linewidth=1.0, alpha=0.45,
              zorder=1)
    for name, y in lanes.items():
        ax.text(-1.15, y, name, color=style.node_colour(name), fontweight="bold",
                ha="right", va="center", fontsize=style.FONT_SIZE)
    _spans(ax, story, lanes, right)
    _arrows(ax, story, lanes, label=columns <= 160)
    _marks(ax, story, lanes)
    _time_axis(ax, story, bottom, right)
    if until is not None:
        _now(ax, story, until, right, bottom)
    _legend(ax, story)


def run_title(source: Any) -> str:
    scenario = getattr(source, "scenario", None)
    if scenario is not None and hasattr(source, "architecture"):
        faults = ", ".join(_fault_text(f) for f in source.faults) or t("no_faults")
        return (f"{scenario.name} · {source.architecture} · {faults} → "
                f"{source.outcome}")
    if hasattr(source, "workflow_id"):
        return f"{source.workflow_id} · {source.status}"
    return t("timeline_title")


def _fault_text(fault: Any) -> str:
    """``Crash(at_step=5)`` without the fields left at their defaults."""
    from dataclasses import fields

    parts = [f"{f.name}={getattr(fault, f.name)!r}" for f in fields(fault)
             if getattr(fault, f.name) != f.default]
    return f"{type(fault).__name__}({', '.join(parts)})"


def _spans(ax: Axes, story: Story, lanes: dict[str, int], right: float) -> None:
    for span in story.spans:
        y = lanes.get(span.node)
        if y is None:
            continue
        if span.kind == "down":
            x0 = story.x(span.start)
            x1 = right if span.end is None else story.x(span.end)
            ax.add_patch(Rectangle((x0, y - 0.32), x1 - x0, 0.64, facecolor=style.DOWN,
                                   edgecolor="none", zorder=0))
        else:
            ax.add_patch(Rectangle((story.x(span.start) - 0.6, y - 0.4), 1.2, 0.8,
                                   facecolor=style.REPLAY, edgecolor="none", zorder=0))


def _arrows(ax: Axes, story: Story, lanes: dict[str, int], *, label: bool) -> None:
    xs: list[float] = []
    ys: list[float] = []
    us: list[float] = []
    vs: list[float] = []
    colours: list[str] = []
    stubs: list[list[tuple[float, float]]] = []
    losses: list[tuple[float, float]] = []
    labelled: set[str] = set()
    placed: list[tuple[float, float, float]] = []
    char = _char(ax) * 5.5 / style.SMALL
    for arrow in story.arrows:
        y0, y1 = lanes.get(arrow.src), lanes.get(arrow.dst)
        if y0 is None or y1 is None:
            continue
        if arrow.start is not None and arrow.end is not None:
            x0, x1 = story.x(arrow.start), story.x(arrow.end)
            xs.append(x0)
            ys.append(y0)
            us.append(x1 - x0)
            vs.append(y1 - y0)
            colours.append(style.LOST if arrow.fate == "lost" else
                           style.HEARTBEAT if arrow.label == _HEARTBEAT else style.MESSAGE)
            if arrow.fate == "lost":
                losses.append((x1, y1))
            text = _message_text(arrow)
            if label and text and text not in labelled:
                x, y = (x0 + x1) / 2, (y0 + y1) / 2
                half = len(text) * char / 2 + 0.2
                if not any(abs(y - py) < 0.22 and x - half < px1 and x + half > px0
                           for px0, px1, py in placed):
                    labelled.add(text)
                    placed.append((x - half, x + half, y))
                    _arrow_label(ax, text, x, y)
        elif arrow.start is not None:  # dropped, in flight, or leaving the window
            x0 = story.x(arrow.start)
            end = (x0 + 0.8, y0 + (y1 - y0) * 0.5)
            stubs.append([(x0, y0), end])
            if arrow.fate == "lost":
                losses.append(end)
        elif arrow.end is not None:  # arriving from before the window
            x1 = story.x(arrow.end)
            stubs.append([(x1 - 0.8, y0 + (y1 - y0) * 0.5), (x1, y1)])
    if xs:
        ax.quiver(xs, ys, us, vs, angles="xy", scale_units="xy", scale=1, color=colours,
                  units="inches", width=0.011, headwidth=4.5, headlength=5.5,
                  headaxislength=5, zorder=2)
    if stubs:
        ax.add_collection(LineCollection(stubs, colors=style.MESSAGE, linestyles="dashed",
                                         linewidths=0.8, zorder=2))
    if losses:
        ax.scatter([x for x, _ in losses], [y for _, y in losses], marker="x", s=40,
                   color=style.LOST, linewidths=1.8, zorder=4)


def _message_text(arrow: Arrow) -> str:
    """What an arrow is labelled: its kind, and the business step when the kind is
    generic ("ActivityTask · deposit"). Each text is written once per picture: the first
    arrow teaches the pattern, and forty identical labels would hide the arrows."""
    step = arrow.step
    if arrow.label == _HEARTBEAT:
        return t("heartbeat")
    if step is None or str(step) == arrow.label or isinstance(step, int):
        return arrow.label
    return f"{arrow.label} · {step}"


def _arrow_label(ax: Axes, text: str, x: float, y: float) -> None:
    ax.text(x, y, text, fontsize=5.5, color="#57606a", ha="center", va="center", zorder=3)


def _marks(ax: Axes, story: Story, lanes: dict[str, int]) -> None:
    by_kind: dict[str, tuple[list[float], list[float]]] = {}
    steps: list[tuple[float, float, str]] = []
    last_label: dict[int, tuple[float, int]] = {}
    below: dict[int, float] = {}  # where each lane's last label under the line is
    for mark in story.marks:
        y = lanes.get(mark.node)
        if y is None:
            continue
        x = story.x(mark.column)
        if mark.kind == "step":
            steps.append((x, y, style.node_colour(mark.node)))
            previous = last_label.get(y)
            level = 0
            if previous is not None and x - previous[0] < 0.9 * len(mark.label) * _char(ax):
                level = (previous[1] + 1) % 3
            last_label[y] = (x, level)
            ax.text(x, y + 0.13 + 0.23 * level, mark.label, fontsize=style.SMALL, ha="left",
                    va="bottom", zorder=5,
                    bbox={"boxstyle": "round,pad=0.15", "fc": style.STEP_BOX,
                          "ec": style.node_colour(mark.node), "lw": 0.6})
            continue
        xs, ys = by_kind.setdefault(mark.kind, ([], []))
        xs.append(x)
        ys.append(y)
        if mark.kind in _LABELLED and mark.label:
            seen = below.get(y)
            if seen is None or x - seen > (len(mark.label) + 2) * _char(ax):
                ax.text(x, y - 0.22, mark.label, fontsize=6.5, color=_GLYPHS[mark.kind][1],
                        ha="center", va="top", zorder=5)
                below[y] = x
        elif mark.kind == "crash":
            ax.text(x, y - 0.24, t("crash"), fontsize=7, color=style.CRASH,
                    fontweight="bold", ha="center", va="top", zorder=5)
        elif mark.count > 1 and mark.kind == "effect":
            ax.text(x + 0.25, y + 0.08, f"×{mark.count}", fontsize=5.5, color="#57606a",
                    ha="left", va="bottom", zorder=5)
    if steps:
        ax.scatter([s[0] for s in steps], [s[1] for s in steps], marker="s", s=22,
                   c=[s[2] for s in steps], zorder=4)
    for kind, (xs, ys) in by_kind.items():
        marker, colour, size = _GLYPHS.get(kind, _GLYPHS["other"])
        crash = kind == "crash"
        if marker in ("x", "+"):  # line-only markers: their edge is all there is
            ax.scatter(xs, ys, marker=marker, s=size, color=colour, zorder=4, linewidths=1.8)
            continue
        ax.scatter(xs, ys, marker=marker, s=size, color=colour, zorder=6 if crash else 4,
                   edgecolors="white" if crash else "none", linewidths=0.6)


def _char(ax: Axes) -> float:
    """Roughly how many x units one small character takes in these axes."""
    figure = ax.get_figure(root=True)
    width_in = (figure.get_figwidth() if figure is not None else 6.0) * ax.get_position().width
    left, right = ax.get_xlim()
    return (right - left) / max(width_in, 0.1) * (style.SMALL * 0.6 / 72)


def _time_axis(ax: Axes, story: Story, bottom: float, right: float) -> None:
    ax.hlines([bottom], -1.0, right, colors="#8c959f", linewidth=0.8)
    ax.text(right, bottom - 0.34, t("virtual_time") + " →", fontsize=6.5, color="#57606a",
            ha="right", va="top")
    if not story.times:
        return
    last = -1e9
    for index, gap in story.gaps:
        x = (story.x(index) + story.x(index + 1)) / 2
        ax.vlines([x], bottom, 0.75, colors="#afb8c1", linestyles="dotted", linewidth=1.0,
                  zorder=0)
        if x - last > 9 * _char(ax):  # labels of gaps close together would overlap
            ax.text(x, 0.85, f"+{style.format_time(gap)}", fontsize=6.5, color="#57606a",
                    ha="center", va="top", zorder=5)
            last = x
    ticks = time_ticks(story, 8 * _char(ax) * 1.3)
    for x, text in ticks:
        ax.text(x, bottom - 0.06, text, fontsize=6.0, color="#57606a", ha="center",
                va="top")
    ax.vlines([x for x, _ in ticks], bottom - 0.04, bottom, colors="#8c959f", linewidth=0.8)


def _now(ax: Axes, story: Story, until: float, right: float, bottom: float) -> None:
    x = story.x_at(until)
    if x < right:
        ax.add_patch(Rectangle((x, bottom - 0.3), right - x, 2 - bottom, facecolor=style.FUTURE,
                               alpha=0.82, edgecolor="none", zorder=7))
    ax.vlines([x], bottom, 1.2, colors=style.NOW, linewidth=1.6, zorder=8)
    ax.text(x, 1.18, f" {t('now')} · {style.format_time(until)}", color=style.NOW,
            fontsize=7, fontweight="bold", ha="left", va="top", zorder=9)


def _legend(ax: Axes, story: Story) -> None:
    present = {m.kind for m in story.marks}
    present |= {s.kind for s in story.spans}
    if any(a.fate == "lost" for a in story.arrows):
        present.add("lost")
    if any(a.label == _HEARTBEAT for a in story.arrows):
        present.add("heartbeat")
    handles: list[Any] = []
    for kind in _LEGEND:
        if kind not in present:
            continue
        if kind == "down":
            handles.append(Patch(facecolor=style.DOWN, label=t("down")))
        elif kind == "replay":
            handles.append(Patch(facecolor=style.REPLAY, label=t("replay")))
        elif kind == "lost":
            handles.append(Line2D([], [], marker="x", color=style.LOST, linestyle="none",
                                  label=t("lost")))
        elif kind == "heartbeat":
            handles.append(Line2D([], [], color=style.HEARTBEAT, label=t("heartbeat")))
        elif kind in KINDS:
            marker, colour, _ = _GLYPHS[kind]
            handles.append(Line2D([], [], marker=marker, color=colour, linestyle="none",
                                  label=t(f"kind_{kind}")))
        else:
            marker, colour, _ = _GLYPHS[kind]
            handles.append(Line2D([], [], marker=marker, color=colour, linestyle="none",
                                  label=t(kind)))
    if handles:
        figure = ax.get_figure(root=True)
        width_in = (figure.get_figwidth() if figure is not None else 8.0) * (
            ax.get_position().width)
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 0.0),
                  ncol=max(2, min(len(handles), int(width_in / 1.45))), frameon=False,
                  fontsize=6.5, handletextpad=0.3, columnspacing=1.2)
