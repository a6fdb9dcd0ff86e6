"""A bank's day on each architecture: one bar of transfers by how they ended.

The table says "event-driven: 16 lost, 334 destroyed"; the picture puts the three
architectures under each other, each bar the same day of transfers split by outcome (the
completed ones a long green run, the crashes' victims the coloured end), with the money
the day created or destroyed written beside it, as :mod:`durasim.money` counted it.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from durasim.architectures import get_architecture
from durasim.days import OUTCOMES, Day
from durasim.i18n import outcome, t
from durasim.viz import style


def day_figure(days: Sequence[Day]) -> Figure:
    """Draw days (``durasim.day`` results), one bar each, top to bottom.

    Raises:
        ValueError: no day to draw.
    """
    if not days:
        raise ValueError("day_figure needs at least one day (durasim.day(...))")
    with style.styled():
        figure = style.new_figure(9.0, 1.2 + 0.75 * len(days))
        ax = figure.add_axes((0.2, 0.3, 0.55, 0.55))
        labels = []
        for row, day in enumerate(reversed(days)):
            counts = day.counts
            left = 0
            for word in OUTCOMES:
                n = counts.get(word, 0)
                if not n:
                    continue
                ax.barh(row, n, left=left, height=0.6, color=style.OUTCOME_COLOURS[word],
                        label=outcome(word) if word not in labels else None)
                if word not in labels:
                    labels.append(word)
                left += n
            ax.text(day.transfers * 1.01, row,
                    t("day_money", created=day.created, destroyed=day.destroyed),
                    va="center", fontsize=style.SMALL,
                    color=style.LOST if day.created or day.destroyed else style.EFFECT)
        ax.set_yticks(range(len(days)), [_name(d) for d in reversed(days)])
        ax.set_xlim(0, max(d.transfers for d in days))
        ax.set_xlabel(t("day_transfers"))
        first = days[0]
        style.title(ax, t("day_title", n=first.transfers, c=len(first.faults)))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=min(len(labels), 4),
                  fontsize=style.SMALL, frameon=False)
    return figure


def _name(day: Day) -> str:
    """The architecture, with the options that differ from its defaults."""
    defaults = get_architecture(day.architecture).options
    changed = [k for k, v in day.options.items() if defaults.get(k) != v]
    return day.architecture + "".join(f"\n+{k}" for k in changed)
