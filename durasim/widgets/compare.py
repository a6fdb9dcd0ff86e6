"""Compare: the three architectures side by side under the one fault plan you pick.

This is the talk's argument in one click: the same transfer, the same crash, the same
seed, and three different endings — the monolith rolls back, the naive event-driven
system loses the deposit, the durable engine finishes it. Changing the options shows
what each fix buys (an outbox, idempotent consumers, idempotent activities).
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from durasim import api
from durasim.architectures import ARCHITECTURES
from durasim.faults import Crash, Fault
from durasim.i18n import t
from durasim.scenarios import get_scenario
from durasim.viz import style
from durasim.viz.timeline import timeline
from durasim.widgets.base import button, checks_html, image, safe, show_status
from durasim.widgets.crashlab import OPTIONS

COLUMN_WIDTH = 5.6
"""Inches of each architecture's timeline: three fit across a notebook."""


class Compare(widgets.VBox):
    """Run every architecture on one scenario under one fault plan, side by side.

    Args:
        scenario: a scenario name or Scenario.
        seed: the first seed.

    Attributes:
        step, when, seed, options (name -> Checkbox), run_button: the plan's controls.
        output: one-line status or error.
        columns: architecture -> (title HTML, checks HTML, timeline Image).
        comparison: the last :class:`~durasim.api.Comparison`.
    """

    def __init__(self, scenario: Any = "transfer", *, seed: int = 0) -> None:
        self.scenario = get_scenario(scenario)
        self.comparison: api.Comparison | None = None
        self._figures = {name: style.new_figure(COLUMN_WIDTH, 3) for name in ARCHITECTURES}
        steps = [(t("no_crash"), 0)] + [(s.label, s.number) for s in self.scenario.all_steps]
        self.step = widgets.ToggleButtons(options=steps, value=0,
                                          style={"button_width": "auto"})
        self.when = widgets.ToggleButtons(
            options=[(t("before_effect"), "before_effect"), (t("after_effect"), "after_effect")],
            value="before_effect", style={"button_width": "auto"})
        self.seed = widgets.BoundedIntText(value=seed, min=0, max=2**31 - 1,
                                           description=t("seed"),
                                           layout=widgets.Layout(width="150px"))
        self.options = {name: widgets.Checkbox(value=False, description=t(name), indent=False,
                                               layout=widgets.Layout(width="auto"))
                        for name in OPTIONS}
        self.run_button = button(t("run"), style="primary", icon="play")
        self.output = widgets.HTML()
        self.columns: dict[str, tuple[widgets.HTML, widgets.HTML, widgets.Image]] = {
            name: (widgets.HTML(f"<h4 style='margin:2px 0'>{html.escape(name)}</h4>"),
                   widgets.HTML(), image())
            for name in ARCHITECTURES}
        order = (0, 2, 1)  # pictures first: the timelines line up whatever the checks say
        self.run_button.on_click(self._on_run)
        label = widgets.HTML(f"<b>{html.escape(t('crash_step'))}</b>")
        boxes = [widgets.VBox([parts[i] for i in order], layout=widgets.Layout(width="33%"))
                 for parts in self.columns.values()]
        super().__init__([
            widgets.HBox([label, self.step]),
            widgets.HBox([self.when, self.seed, self.run_button]),
            widgets.HBox(list(self.options.values())),
            self.output,
            widgets.HBox(boxes),
        ])
        self.add_class("durasim-compare")
        self._on_run()

    def plan(self) -> list[Fault]:
        """The fault plan the controls describe (the same for every architecture)."""
        if not self.step.value:
            return []
        return [Crash(at_step=self.step.value, when=self.when.value)]

    @safe
    def _on_run(self, _: Any = None) -> None:
        options = {name: True for name, box in self.options.items() if box.value}
        self.comparison = api.compare(self.scenario, self.plan(), seed=int(self.seed.value),
                                      **options)
        for name, (title, checks, picture) in self.columns.items():
            run = self.comparison.runs.get(name)
            if run is None:
                reason = self.comparison.skipped.get(name, "")
                checks.value = (f"<i>{html.escape(t('not_run'))}: {html.escape(reason)}</i>")
                picture.value = b""
                continue
            chosen = ", ".join(f"{k}" for k, v in run.options.items() if v is True)
            title.value = (f"<h4 style='margin:2px 0'>{html.escape(name)}"
                           f"<small style='font-weight:normal'> {html.escape(chosen)}</small>"
                           "</h4>")
            checks.value = checks_html(run)
            timeline(run, figure=self._figures[name], width=COLUMN_WIDTH, title=run.outcome)
            picture.value = style.to_png(self._figures[name])
        faults = ", ".join(repr(f) for f in self.comparison.faults) or t("no_faults")
        show_status(self.output, f"{t('plan')}: {faults} · {t('seed')} {self.seed.value}")
