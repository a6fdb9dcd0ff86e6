"""Section 1: the solar system, modelled with the wrong abstraction and with the right one.

The talk opens on a representation of the solar system. Seen from the Earth, Mars walks
backwards now and then; a model with the Earth at the centre needs a circle riding on a
circle (an epicycle) for every planet to reproduce that, and more of them to get it
right. Put the Sun at the centre and each planet has one orbit. Both pictures here are
computed from the same circular orbits — the geocentric path of a planet is its orbit
seen from the moving Earth — so the two models really describe the same sky; only the
abstraction changes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from durasim.figures import board
from durasim.figures.words import say


@dataclass(frozen=True)
class Planet:
    """A planet on a circular orbit around the Sun (radius in AU, period in years)."""

    key: str
    radius: float
    period: float
    colour: str

    def at(self, years: float) -> tuple[float, float]:
        """Where the planet is, seen from the Sun, ``years`` after the start."""
        angle = 2 * math.pi * years / self.period + self.radius  # spread the start
        return self.radius * math.cos(angle), self.radius * math.sin(angle)


EARTH = Planet("earth", 1.0, 1.0, "#0969da")
PLANETS = (Planet("venus", 0.723, 0.615, "#bf8700"), EARTH,
           Planet("mars", 1.524, 1.881, "#cf222e"))
SUN = "#d4a72c"
YEARS = 4.0
"""How long the paths are traced: Mars walks backwards twice in four years."""
SAMPLES = 400


def geocentric(planet: Planet, years: float) -> tuple[float, float]:
    """Where ``planet`` is seen from the Earth: its orbit minus the Earth's."""
    if planet is EARTH:
        return 0.0, 0.0
    px, py = planet.at(years)
    ex, ey = EARTH.at(years)
    return px - ex, py - ey


def sun_from_earth(years: float) -> tuple[float, float]:
    """The Sun seen from the Earth (it goes round the Earth once a year)."""
    ex, ey = EARTH.at(years)
    return -ex, -ey


def _times(until: float) -> Iterator[float]:
    steps = max(2, round(SAMPLES * until / YEARS))
    return (until * i / (steps - 1) for i in range(steps))


def _panel(ax: Axes, title: str, limit: float) -> None:
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=board.SMALL + 1, fontweight="bold", color=board.INK)


def _body(ax: Axes, xy: tuple[float, float], colour: str, label: str, size: float) -> None:
    ax.scatter([xy[0]], [xy[1]], s=size, color=colour, zorder=5, edgecolors="white")
    ax.annotate(label, xy, textcoords="offset points", xytext=(10, 8), fontsize=board.SMALL,
                color=colour, fontweight="bold", zorder=6)


def draw_sky(figure: Figure, years: float) -> None:
    """Both models of the sky, their paths traced for ``years`` (an animation frame)."""
    figure.clear()
    left = figure.add_axes((0.0, 0.1, 0.5, 0.8))
    right = figure.add_axes((0.5, 0.1, 0.5, 0.8))
    _panel(left, say("geocentric"), 2.7)
    _panel(right, say("heliocentric"), 1.75)
    for planet in PLANETS:
        if planet is not EARTH:  # seen from the Earth: loops
            path = [geocentric(planet, y) for y in _times(years)]
            left.plot(*zip(*path, strict=True), color=planet.colour, linewidth=2.0)
            deferent = math.hypot(*planet.at(years)) if planet.radius > 1 else 1.0
            left.add_patch(Circle((0, 0), deferent, fill=False, linestyle=":",
                                  color=planet.colour, linewidth=1.2, alpha=0.7))
            centre = (planet.at(years) if planet.radius > 1 else sun_from_earth(years))
            epicycle = 1.0 if planet.radius > 1 else planet.radius
            left.add_patch(Circle(centre, epicycle, fill=False, linestyle="--",
                                  color=planet.colour, linewidth=1.2, alpha=0.7))
            _body(left, geocentric(planet, years), planet.colour, say(planet.key), 90)
        right.add_patch(Circle((0, 0), planet.radius, fill=False, color=planet.colour,
                               linewidth=2.0, alpha=0.8))
        _body(right, planet.at(years), planet.colour, say(planet.key), 90)
    sun_path = [sun_from_earth(y) for y in _times(min(years, 1.0))]
    left.plot(*zip(*sun_path, strict=True), color=SUN, linewidth=1.5, alpha=0.8)
    _body(left, sun_from_earth(years), SUN, say("sun"), 220)
    _body(left, (0.0, 0.0), EARTH.colour, say("earth"), 120)
    _body(right, (0.0, 0.0), SUN, say("sun"), 320)
    figure.text(0.5, 0.04, say("same_sky"), ha="center", va="center",
                fontsize=board.SMALL, color=board.INK)
    figure.text(0.98, 0.12, say("year", n=f"{years:.1f}"), ha="right", va="center",
                fontsize=board.SMALL, color=board.GREY)


def sky() -> Figure:
    """The two models side by side, four years of paths traced."""
    figure, _ = board.canvas()
    draw_sky(figure, YEARS)
    return figure


def sky_frames(frames: int = 48) -> Iterator[float]:
    """The instants (in years) an animation of :func:`draw_sky` shows, one per frame."""
    return (YEARS * (i + 1) / frames for i in range(frames))
