"""The projector's drawing board: big type, few marks, the timelines' colours.

A projector is not a laptop. A slide figure is drawn on a board of fixed size (1200 x 540
pixels at the deck's :data:`DPI`, which a 1280 x 720 slide shows almost at natural size)
in a 120 x 54 grid where one unit is ten pixels, and no text on it is smaller than
:data:`SMALL` points (21 px). :func:`smallest_text_px` measures what was really drawn, so
the tests can hold every figure to the 18-pixel rule instead of trusting the constants.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch, Rectangle

from durasim.viz import style

DPI = 100
"""Pixels per inch of the slide figures: one grid unit (0.1 inch) is ten pixels."""
WIDTH, HEIGHT = 120, 54
"""The board in grid units: 1200 x 540 pixels, under a slide's heading at 1280 x 720."""
BIG, MID, SMALL = 22.0, 18.0, 15.0
"""Type sizes in points; SMALL (about 21 px) is the least any slide text may be."""
INK = "#24292f"
GREY = "#57606a"
MONO = "DejaVu Sans Mono"
CAPTION_CHARS = 100
"""A caption line at SMALL fills the board's width at about this many characters."""


def canvas(width: float = WIDTH, height: float = HEIGHT) -> tuple[Figure, Axes]:
    """A board ``width`` x ``height`` grid units, whose axes are the grid itself."""
    figure = style.new_figure(width / 10, height / 10)
    figure.set_dpi(DPI)
    ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    return figure, ax


def caption(ax: Axes, text: str, *, colour: str = INK) -> None:
    """What the picture says in words, along the bottom (a long one wraps upwards)."""
    ax.text(WIDTH / 2, 0.8, textwrap.fill(text, CAPTION_CHARS), fontsize=SMALL, ha="center",
            va="bottom", color=colour, linespacing=1.25)


def box(ax: Axes, x: float, y: float, w: float, h: float, text: str, colour: str, *,
        fill: float = 0.12, size: float = SMALL, bold: bool = False, dashed: bool = False,
        text_colour: str | None = None) -> None:
    """A rounded box with centred text (a node, a step, an outcome)."""
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.3,rounding_size=1.2",
                                facecolor=to_rgba(colour, fill), edgecolor=colour,
                                linewidth=2.0, linestyle="--" if dashed else "-", zorder=2))
    if text:
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size,
                zorder=3, fontweight="bold" if bold else "normal",
                color=text_colour or INK, linespacing=1.15)


def database(ax: Axes, x: float, y: float, w: float, h: float, text: str = "") -> None:
    """A cylinder: the universal picture of "this survives a crash"."""
    colour = style.KIND_COLOURS["database"]
    rim = h * 0.24
    ax.add_patch(Rectangle((x, y + rim / 2), w, h - rim, facecolor="#f6f0e8",
                           edgecolor="none", zorder=2))
    for cy, face, z in ((y + rim / 2, "#f6f0e8", 2), (y + h - rim / 2, "#efe4d6", 3)):
        ax.add_patch(Ellipse((x + w / 2, cy), w, rim, facecolor=face, edgecolor=colour,
                             linewidth=1.8, zorder=z))
    for side in (x, x + w):
        ax.plot([side, side], [y + rim / 2, y + h - rim / 2], color=colour, linewidth=1.8,
                zorder=3)
    if text:
        ax.text(x + w / 2, y + h * 0.42, text, ha="center", va="center", fontsize=SMALL,
                zorder=4, color=colour)


def arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], colour: str, *,
          text: str = "", dashed: bool = False, width: float = 2.2, rad: float = 0.0,
          above: float = 1.0) -> None:
    """An arrow, with an optional label just above its middle."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=22,
                                 color=colour, linewidth=width, zorder=4,
                                 linestyle="--" if dashed else "-",
                                 connectionstyle=f"arc3,rad={rad}"))
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + above, text, ha="center",
                va="bottom", fontsize=SMALL, color=colour, zorder=5)


def edge_align(x: float, left: float = 8.0, right: float = WIDTH - 8.0) -> str:
    """How to anchor a label at ``x``: near an edge it grows inwards, never off the board."""
    return "left" if x < left + 10 else "right" if x > right - 10 else "center"


def crash(ax: Axes, x: float, y: float, size: float = 520) -> None:
    """The red X every durasim picture uses for a crash."""
    ax.scatter([x], [y], marker="X", s=size, color=style.CRASH, zorder=6,
               edgecolors="white", linewidths=1.5)


@dataclass(frozen=True)
class DrawnText:
    """One string as the renderer drew it: its em size in pixels and where it is."""

    text: str
    px: float
    x: float
    y: float
    inside: bool
    """False when part of the text falls outside the picture (cut off)."""


def drawn_texts(figure: Figure, dpi: float = DPI) -> list[DrawnText]:
    """Every string the renderer really draws for ``figure`` at ``dpi``, inside the picture.

    The renderer's ``draw_text`` is watched during one draw, so what counts is what
    reaches the pixels: tick labels, legends and wrapped lines with the size they were
    drawn at, and nothing that matplotlib skips or that falls outside the picture.
    """
    figure.set_dpi(dpi)
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    width, height = renderer.get_canvas_width_height()
    seen: list[DrawnText] = []
    original = renderer.draw_text

    def watched(gc: Any, x: float, y: float, s: str, prop: Any, angle: float,
                *args: Any, **kwargs: Any) -> Any:
        if s.strip():
            w, h, d = renderer.get_text_width_height_descent(s, prop, ismath=False)
            up = height - y if renderer.flipy() else y  # Agg counts y from the top
            if round(angle) % 360 == 90:  # drawn upwards, its baseline on the right
                left, right, bottom, top = x - (h - d), x + d, up, up + w
            else:
                left, right, bottom, top = x, x + w, up - d, up - d + h
            inside = left >= -1 and right <= width + 1 and bottom >= -1 and top <= height + 1
            seen.append(DrawnText(s, float(renderer.points_to_pixels(
                prop.get_size_in_points())), x, up, inside))
        return original(gc, x, y, s, prop, angle, *args, **kwargs)

    renderer.draw_text = watched
    try:
        figure.draw(renderer)
    finally:
        del renderer.draw_text
    return seen


def smallest_text_px(figure: Figure, dpi: float = DPI) -> float:
    """The em size, in pixels at ``dpi``, of the smallest text ``figure`` draws."""
    return min((t.px for t in drawn_texts(figure, dpi)), default=float("inf"))
