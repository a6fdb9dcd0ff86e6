"""CrashLab: pick an architecture and a crash, run it, step through it, crash it by hand.

The talk's live demo as a widget. Students choose where the crash hits (a business step
and a node, before or after the effect), press Run and see the timeline, the system, the
history and the verdict change in place. Step walks the run moment by moment; Step back
re-simulates from the start and stops one moment earlier, which is exact because runs
are deterministic (the widget checks the trace digest to prove it). Crash now and
Restart add faults at the moment being looked at, so students can invent their own
failure and watch what each architecture does about it.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets

from durasim import api
from durasim.architectures import ARCHITECTURES, get_architecture
from durasim.errors import DurasimError
from durasim.faults import Crash, Fault
from durasim.i18n import t
from durasim.narrate import long_waits, wait_sentence
from durasim.scenarios import get_scenario
from durasim.viz import style
from durasim.viz.graph import architecture_graph
from durasim.viz.history import history_cursor, history_view, replayed_events
from durasim.viz.state import Moment, moments, node_status
from durasim.viz.story import Story, tell
from durasim.viz.timeline import timeline
from durasim.widgets.base import button, checks_html, image, safe, show_status
from durasim.widgets.scrolled import ScrolledHTML

OPTIONS = ("outbox", "at_least_once", "idempotent_consumers", "idempotent_activities")
"""The architecture options a student can switch (each belongs to one architecture)."""

TIMELINE_WIDTH = 8.2
"""Inches: a fixed width keeps the pictures from jumping (and matplotlib's caches warm)."""
TIMELINE_DPI = 132
"""The timeline's smallest labels (5.5 pt) are 10 px at this resolution; 8.2 inches at it
(1082 px) fit a notebook shown 1280 px wide without being scaled down."""
GRAPH_SIZE = (6.0, 3.0)
"""Inches of the system graph (the graph may widen it for long names); it is shown at
the size it was drawn, whatever the checks beside it need."""
HISTORY_HEIGHT = "300px"

_Inputs = tuple[str, tuple[Fault, ...], int, tuple[tuple[str, Any], ...]]


class CrashLab(widgets.VBox):
    """Crash the bank transfer (or another scenario) anywhere and watch what happens.

    Args:
        scenario: a scenario name or Scenario.
        architecture: the architecture shown first (default: the first of monolith,
            event_driven, durable that can run the scenario).
        seed: the first seed.

    Attributes:
        architecture, seed, options (name -> Checkbox), step, node, when: the controls.
        run_button, step_button, back_button, crash_button, restart_button,
        reset_button: the buttons.
        output: the one-line status or error; checks: the verdict; timeline, graph: the
        pictures (PNG); history: the event history (durable runs).
        run: the Run shown; cursor: the virtual time shown up to (None: all of it);
        story: what the timeline drew; faults: the fault plan of the run shown.
    """

    def __new__(cls, *args: Any, workflow: Any = None, **kwargs: Any) -> Any:
        """``CrashLab(workflow=MyWorkflow, args=(...))`` is the lab for your own workflow
        (an ``@durasim.workflow`` or a Temporal SDK class): a :class:`WorkflowLab`."""
        if workflow is not None:
            from durasim.widgets.workflow_lab import WorkflowLab

            return WorkflowLab(workflow, *args, **kwargs)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, scenario: Any = "transfer", *, architecture: str | None = None,
                 seed: int = 0) -> None:
        self.scenario = get_scenario(scenario)
        if architecture is None:  # the first, in the talk's order, that runs the scenario
            architecture = next((a for a in ARCHITECTURES
                                 if a not in self.scenario.unsupported), "durable")
        get_architecture(architecture)
        self.run: Any = None
        self.cursor: float | None = None
        self.story: Story | None = None
        self.faults: tuple[Fault, ...] = ()
        self._inputs: _Inputs | None = None
        self._manual: list[Crash] = []
        self._picker_restart: float | None = 1.0
        self._nodes: dict[str, list[str]] = {}
        self._timeline_figure = style.new_figure(8, 4)
        self._graph_figure = style.new_figure(*GRAPH_SIZE)
        self._quiet = False

        self.architecture = widgets.Dropdown(
            options=[(name, name) for name in ARCHITECTURES], value=architecture,
            description=t("architecture"), style={"description_width": "initial"})
        self.seed = widgets.BoundedIntText(value=seed, min=0, max=2**31 - 1,
                                           description=t("seed"),
                                           layout=widgets.Layout(width="150px"))
        self.options = {name: widgets.Checkbox(value=False, description=t(name),
                                               indent=False,
                                               layout=widgets.Layout(width="auto"))
                        for name in OPTIONS}
        steps = [(t("no_crash"), 0)] + [(s.label, s.number) for s in self.scenario.all_steps]
        self.step = widgets.ToggleButtons(options=steps, value=0,
                                          style={"button_width": "auto"})
        self.node = widgets.Dropdown(options=[(t("executing_node"), "")], value="",
                                     description=t("node"))
        self.when = widgets.ToggleButtons(
            options=[(t("before_effect"), "before_effect"), (t("after_effect"), "after_effect")],
            value="before_effect", style={"button_width": "auto"})
        self.run_button = button(t("run"), style="primary", icon="play")
        self.step_button = button(t("step"), icon="step-forward")
        self.back_button = button(t("step_back"), icon="step-backward")
        self.crash_button = button(t("crash_now"), style="danger", icon="bolt")
        self.restart_button = button(t("restart"), style="success", icon="redo")
        self.reset_button = button(t("reset"), icon="undo")
        self.output = widgets.HTML()
        self.checks = widgets.HTML()
        self.timeline = image()
        self.graph = widgets.Image(format="png", layout=widgets.Layout(flex="0 0 auto"))
        self.history = ScrolledHTML(height=HISTORY_HEIGHT)

        self.run_button.on_click(self._on_run)
        self.step_button.on_click(self._on_step)
        self.back_button.on_click(self._on_back)
        self.crash_button.on_click(self._on_crash)
        self.restart_button.on_click(self._on_restart)
        self.reset_button.on_click(self._on_reset)
        self.architecture.observe(self._on_architecture, names="value")
        for control in (self.step, self.node, self.when):
            control.observe(self._on_crash_choice, names="value")
        for control in (self.seed, *self.options.values()):
            control.observe(self._on_control, names="value")

        label = widgets.HTML(f"<b>{html.escape(t('crash_step'))}</b>")
        super().__init__([
            widgets.HBox([self.architecture, self.seed]),
            widgets.HBox(list(self.options.values())),
            widgets.HBox([label, self.step]),
            widgets.HBox([self.node, self.when]),
            widgets.HBox([self.run_button, self.step_button, self.back_button,
                          self.crash_button, self.restart_button, self.reset_button]),
            self.output,
            self.timeline,
            widgets.HBox([self.graph, self.checks],
                         layout=widgets.Layout(align_items="flex-start")),
            self.history,
        ])
        self.add_class("durasim-crashlab")
        self._on_architecture()

    # -- what the buttons do ------------------------------------------------------------
    @safe
    def _on_run(self, _: Any = None) -> None:
        self.simulate(self._current_inputs())
        self.cursor = None
        self.redraw()
        self._say_where()

    @safe
    def _on_step(self, _: Any = None) -> None:
        if self.run is None:
            self.simulate(self._current_inputs())
        stops = self._moments()
        ahead = [m for m in stops if self.cursor is None or m.time > self.cursor]
        if self.cursor is None or not ahead:
            ahead = stops  # at the end: start stepping from the beginning
        self.cursor = ahead[0].time if ahead else None
        self.redraw()
        self._say_where()

    @safe
    def _on_back(self, _: Any = None) -> None:
        if self.run is None or self._inputs is None:
            show_status(self.output, t("at_start"))
            return
        stops = self._moments()
        before = [m for m in stops if self.cursor is None or m.time < self.cursor]
        if self.cursor is not None and not before:
            show_status(self.output, t("at_start"))
            return
        if self.cursor is None:
            before = before[:-1] or before
        digest = self.run.trace.digest()
        self.simulate(self._inputs)
        if self.run.trace.digest() != digest:
            raise DurasimError("re-simulating gave a different trace: the run is not "
                               "deterministic (please report this)")
        self.cursor = before[-1].time if before else None
        self.redraw()
        self._say_where(t("resimulated"))

    @safe
    def _on_crash(self, _: Any = None) -> None:
        if self.run is None or self.cursor is None or self._inputs is None:
            raise DurasimError("step to the moment you want to crash at first (press Step)")
        node = self.node.value or self._moment_at(self.cursor).node
        if not node:
            raise DurasimError("choose the node to crash")
        crash = Crash(node=node, at_time=self.cursor, restart_after=None)
        self._manual.append(crash)
        architecture, faults, seed, options = self._inputs
        self.simulate((architecture, (*faults, crash), seed, options))
        self.redraw()
        self._say_where()

    @safe
    def _on_restart(self, _: Any = None) -> None:
        if self.run is None or self.cursor is None or self._inputs is None:
            raise DurasimError("step to the moment you want the restart at first (press Step)")
        status = node_status(self.run, self.cursor)
        down = [n for n, up in status.items() if not up]
        if self.node.value in down:
            down = [self.node.value]
        if not down:
            show_status(self.output, t("nothing_to_restart"))
            return
        node = down[0]
        crashed_at = max(e.time for e in self.run.trace.filter(kind="crash", node=node,
                                                               semantic=True)
                         if e.time <= self.cursor)
        delay = max(0.0, self.cursor - crashed_at)
        architecture, faults, seed, options = self._inputs
        manual = [f for f in self._manual if f.node == node and f.at_time == crashed_at]
        if manual:
            index = self._manual.index(manual[-1])
            self._manual[index] = Crash(node=node, at_time=crashed_at, restart_after=delay)
            faults = tuple(self._manual[index] if f is manual[-1] else f for f in faults)
        else:  # the crash chosen with the step picker
            self._picker_restart = delay
            faults = tuple(Crash(node=f.node, at_step=f.at_step, when=f.when,
                                 restart_after=delay)
                           if isinstance(f, Crash) and f.at_step is not None else f
                           for f in faults)
        self.simulate((architecture, faults, seed, options))
        self.redraw()
        self._say_where()

    @safe
    def _on_reset(self, _: Any = None) -> None:
        self._manual.clear()
        self._picker_restart = 1.0
        with self._holding():  # one re-run for the whole reset, not one per control
            self.step.value = 0
            self.when.value = "before_effect"
            self.node.value = ""
            self.seed.value = 0
            for box in self.options.values():
                box.value = False
        self._on_run()

    @safe
    def _on_architecture(self, _: Any = None) -> None:
        arch = get_architecture(self.architecture.value)
        self._manual.clear()
        self._picker_restart = 1.0
        nodes = self._nodes_of(self.architecture.value)
        with self._holding():
            for name, box in self.options.items():
                box.disabled = name not in arch.options
                if box.disabled:
                    box.value = False
            self.node.options = [(t("executing_node"), "")] + [(n, n) for n in nodes]
            self.node.value = ""
        self._on_run()

    def _on_crash_choice(self, _: Any = None) -> None:
        """A new crash choice starts with the default restart delay again, and runs."""
        self._picker_restart = 1.0
        self._on_control()

    @safe
    def _on_control(self, _: Any = None) -> None:
        """Any control changed: run again at once, so what is shown matches the controls.

        The moment being looked at stays (a student choosing the node for Crash now is
        still at that moment); the run under it is the one the controls now describe.
        """
        if self._quiet:
            return
        self.simulate(self._current_inputs())
        self.redraw()
        self._say_where()

    @contextmanager
    def _holding(self) -> Iterator[None]:
        """Change several controls and re-run once, after (the caller runs)."""
        quiet, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = quiet

    # -- the machinery --------------------------------------------------------------------
    def _current_inputs(self) -> _Inputs:
        arch = get_architecture(self.architecture.value)
        options = tuple((name, box.value) for name, box in self.options.items()
                        if name in arch.options)
        faults: list[Fault] = []
        if self.step.value:
            faults.append(Crash(node=self.node.value or None, at_step=self.step.value,
                                when=self.when.value, restart_after=self._picker_restart))
        faults.extend(self._manual)
        return (self.architecture.value, tuple(faults), int(self.seed.value), options)

    def simulate(self, inputs: _Inputs) -> Any:
        """Run the simulation for ``inputs`` and make it the run shown."""
        architecture, faults, seed, options = inputs
        self.run = api.run(self.scenario, architecture, list(faults), seed=seed,
                           **dict(options))
        self._inputs = inputs
        self.faults = faults
        return self.run

    def redraw(self) -> None:
        """Draw the run shown, up to the cursor, into the widget's pictures."""
        run, at = self.run, self.cursor
        self.story = tell(run)
        timeline(run, until=at, figure=self._timeline_figure, width=TIMELINE_WIDTH)
        self.timeline.value = style.to_png(self._timeline_figure, dpi=TIMELINE_DPI)
        architecture_graph(run, at=at, figure=self._graph_figure)
        graph = style.to_png(self._graph_figure)
        natural = f"{int.from_bytes(graph[16:20], 'big')}px"  # the PNG header's width
        if self.graph.layout.min_width != natural:  # shown at its size, never squashed
            self.graph.layout.width = self.graph.layout.min_width = natural
        self.graph.value = graph
        self.checks.value = checks_html(run)
        if run.history is not None:
            waits = "".join(f"<p class='durasim-wait'>{html.escape(wait_sentence(w))}</p>"
                            for w in long_waits(run) if at is None or w.start <= at)
            self.history.value = history_view(
                run.history, compact=True, cursor=self._history_cursor(at),
                replayed=self._replayed(at), max_height=0) + waits
        else:
            self.history.value = history_view(None)

    def _moments(self) -> list[Moment]:
        return moments(self.run) if self.run is not None else []

    def _moment_at(self, time: float) -> Moment:
        return next((m for m in reversed(self._moments()) if m.time <= time),
                    Moment(time, "", ""))

    def _history_cursor(self, at: float | None) -> int | None:
        return history_cursor(self.run, at)

    def _replayed(self, at: float | None) -> set[int]:
        if at is None:
            return replayed_events(self.run, self.run.history.workflow_id)
        replayed: set[int] = set()
        for event in self.run.trace.filter(kind="replay", semantic=True):
            if event.time <= at:
                replayed.update(range(1, int(event.fields.get("events", 0)) + 1))
        return replayed

    def _nodes_of(self, architecture: str) -> list[str]:
        if architecture not in self._nodes:
            baseline = api.run(self.scenario, architecture, seed=0)
            self._nodes[architecture] = style.lane_order(baseline.trace.nodes())
        return self._nodes[architecture]

    def _say_where(self, extra: str = "") -> None:
        if self.cursor is None:
            text = t("showing_all")
        else:
            moment = self._moment_at(self.cursor)
            text = t("showing_until", time=style.format_time(self.cursor), where=moment.label)
        unfired = getattr(self.run, "unfired", [])
        notes = [f"{f!r} never fired" for f in unfired]
        show_status(self.output, " ".join([text, extra, *notes]).strip())
