"""Each account's balance over time, and the money that is neither here nor there.

The checks say "25 vanished"; this picture shows when: alice's line steps down at the
withdrawal, bob's never steps up, and the dashed line of money out of the accounts rises
and stays up; its label says what the checks say of it at the end (still in flight,
destroyed or created: :func:`durasim.money.money` decides for both). A double deposit
shows as bob stepping up twice and the dashed line going negative (money created). The x
axis is the timeline's, so the two pictures line up.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from durasim.i18n import t
from durasim.viz import style
from durasim.viz.state import balances_at, money_label, movements
from durasim.viz.story import Story, tell, time_ticks

_ACCOUNT_COLOURS = ("#0969da", "#1a7f37", "#8250df", "#bf3989", "#4d2d00", "#1b7c83")


def balances(run: Any, *, until: float | None = None, ax: Axes | None = None,
             figure: Figure | None = None) -> Figure:
    """Draw every account's balance over the run, and the money in flight.

    Args:
        run: a Run from ``durasim.run`` (it reads the bank's databases).
        until: draw a "now" line here and leave what comes after it out.
        ax: draw into these axes.
        figure: clear and reuse this figure.

    Raises:
        TypeError: ``run`` has no databases (a Trace or an engine WorkflowRun).
    """
    moves = movements(run)
    story = tell(run)
    initial = dict(run.scenario.accounts)
    with style.styled():
        if ax is None:
            width = min(max(7.5, 0.1 * (story.x(story.columns - 1) + 2)), 14.0)
            if figure is None:
                figure = style.new_figure(width, 2.8)
            else:
                figure.clear()
                figure.set_size_inches(width, 2.8, forward=False)
            ax = figure.add_axes((0.08, 0.2, 1 - 0.08 - 2.3 / figure.get_figwidth(), 0.66))
        else:
            figure = ax.get_figure(root=True)
        assert figure is not None
        end = story.x(story.columns - 1) + 1 if story.columns else 1.0
        stop = story.x_at(until) if until is not None else end
        xs = [-0.5] + [story.x_at(m.time) for m in moves if until is None or m.time <= until]
        xs.append(stop)
        current = dict(initial)
        total = sum(initial.values())
        series: dict[str, list[int]] = {a: [b] for a, b in current.items()}
        flying = [0]
        for move in moves:
            if until is not None and move.time > until:
                break
            current[move.account] = current.get(move.account, 0) + move.delta
            for account in current:
                series.setdefault(account, [initial.get(account, 0)] * (len(flying)))
                series[account].append(current[account])
            flying.append(total - sum(current.values()))
        for index, (account, values) in enumerate(series.items()):
            ys = [*values, values[-1]]
            ax.step(xs[:len(ys)], ys, where="post", linewidth=2,
                    color=_ACCOUNT_COLOURS[index % len(_ACCOUNT_COLOURS)],
                    label=f"{account}: {values[0]} → {values[-1]}")
        ys = [*flying, flying[-1]]
        label = money_label(run, until) or f"{t('out_of_accounts')}: 0"
        ax.step(xs[:len(ys)], ys, where="post", linewidth=1.6, linestyle="--",
                color=style.MONEY_IN_FLIGHT, label=label)
        ax.axhline(0, color="#d0d7de", linewidth=0.8, zorder=0)
        _crashes(ax, story, until)
        ticks = time_ticks(story, max(1.0, end / 9))
        ax.set_xticks([x for x, _ in ticks], [text for _, text in ticks], fontsize=6.5)
        ax.set_xlim(-0.5, end)
        ax.set_xlabel(t("virtual_time"), fontsize=style.SMALL)
        if until is not None:
            ax.axvline(stop, color=style.NOW, linewidth=1.4)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                  fontsize=style.SMALL)
        final = balances_at(run, until)
        total = sum(final.values())
        ax.set_title(f"{t('balances_title')} · {t('total')} {total}", loc="left",
                     fontsize=style.FONT_SIZE + 1, fontweight="bold")
    return figure


def _crashes(ax: Axes, story: Story, until: float | None) -> None:
    """Red lines where nodes crashed: money moves (or fails to) around them."""
    for mark in story.of_kind("crash"):
        if until is not None and mark.time > until:
            continue
        x = story.x(mark.column)
        ax.axvline(x, color=style.CRASH, linewidth=1.0, alpha=0.7, zorder=0)
        ax.text(x, 1.0, f" {mark.node} ✖", transform=ax.get_xaxis_transform(), fontsize=6.5,
                color=style.CRASH, ha="left", va="top")
