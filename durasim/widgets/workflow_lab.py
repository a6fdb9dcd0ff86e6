"""WorkflowLab: CrashLab for a student's own workflow (``CrashLab(workflow=..., args=...)``).

The bank transfer is the course's story; the next story is the student's. Give the lab
any workflow (an ``@durasim.workflow`` function or a Temporal ``@workflow.defn`` class)
and its input: pick the node to crash (the worker, the server, or any other node the run
has) and the history event after which it crashes, press Run, and see the timeline, how
the workflow ended and its full history. Step and Step back walk the run moment by moment;
a click on a history event replays the student's code up to that event and highlights the
line it stands on (the :class:`~durasim.widgets.replay.ReplayStepper` inside the lab).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

import durasim
from durasim.engine.definitions import workflow_definition
from durasim.faults import Crash
from durasim.i18n import t
from durasim.viz import style
from durasim.viz.history import history_cursor, history_view, replayed_events
from durasim.viz.replay import describe
from durasim.viz.state import Moment, moments
from durasim.viz.timeline import timeline
from durasim.viz.workflow_run import outcome_text
from durasim.widgets.base import button, image, safe, show_status
from durasim.widgets.replay import ReplayStepper

__all__ = ["WorkflowLab"]

TIMELINE_WIDTH = 10.5
"""Inches, as CrashLab's: the picture keeps its size between runs."""
_CLIENT = "client"


class WorkflowLab(widgets.VBox):
    """Crash your own workflow after any history event and watch it recover.

    Args:
        workflow: an ``@durasim.workflow`` function or a Temporal ``@workflow.defn`` class.
        args: its input.
        activities: activities beyond those its code names (as ``durasim.execute``).
        requests: what the client sends (``durasim.Signal``, ``Query``, ``Update``,
            ``Cancel``), as ``durasim.execute`` takes them.
        seed: the simulation's seed.

    Attributes:
        node, after_event: the crash controls (``after_event`` 0 means no crash).
        run_button, step_button, back_button: the buttons; output: the one-line status.
        outcome, timeline, history: how the run ended, its picture, its full history.
        events: the history as a list; selecting an event moves ``stepper`` to it.
        stepper: the ReplayStepper of the run shown. run: the WorkflowRun shown;
        cursor: the virtual time shown up to (None: all of it).
    """

    def __init__(self, workflow: Any, args: Sequence[Any] = (), *,
                 activities: Sequence[Any] = (), requests: Sequence[Any] = (),
                 seed: int = 0) -> None:
        workflow_definition(workflow)  # a clear TypeError for anything else
        self.workflow = workflow
        self.args = tuple(args)
        self._options: dict[str, Any] = {"activities": list(activities), "requests": list(requests),
                         "seed": seed}
        baseline = self._execute(None)
        self.run: Any = baseline
        self.cursor: float | None = None
        self._figure = style.new_figure(8, 4)
        nodes = [n for n in style.lane_order(baseline.trace.nodes()) if n != _CLIENT]
        self.node = widgets.ToggleButtons(options=nodes,
                                          value="worker" if "worker" in nodes else nodes[0],
                                          description=t("node"),
                                          style={"button_width": "auto"})
        self.after_event = widgets.IntSlider(
            value=0, min=0, max=len(baseline.history), description=t("crash_after_event"),
            continuous_update=False, style={"description_width": "initial"},
            layout=widgets.Layout(width="460px"))
        self.run_button = button(t("run"), style="primary", icon="play")
        self.step_button = button(t("step"), icon="step-forward")
        self.back_button = button(t("step_back"), icon="step-backward")
        self.output = widgets.HTML()
        self.outcome = widgets.HTML()
        self.timeline = image()
        self.history = widgets.HTML()
        self.events = widgets.Select(options=[], rows=14, description="",
                                     layout=widgets.Layout(width="380px"))
        self.stepper = ReplayStepper(baseline)
        self._stepper_box = widgets.Box([self.stepper])
        self.run_button.on_click(self._on_run)
        self.step_button.on_click(self._on_step)
        self.back_button.on_click(self._on_back)
        self.events.observe(self._on_event, names="value")
        super().__init__([
            widgets.HTML(f"<b>{html.escape(_title(workflow, self.args))}</b>"),
            widgets.HBox([self.node, self.after_event]),
            widgets.HBox([self.run_button, self.step_button, self.back_button]),
            self.output, self.outcome, self.timeline,
            widgets.HBox([widgets.VBox([widgets.HTML(f"<b>{html.escape(t('history'))}</b>"),
                                        self.events]), self._stepper_box]),
            self.history,
        ])
        self.add_class("durasim-crashlab")
        self.add_class("durasim-workflow-lab")
        self.show(baseline)

    # -- what the controls do ----------------------------------------------------------------
    @safe
    def _on_run(self, _: Any = None) -> None:
        after = int(self.after_event.value)
        crash = Crash(node=self.node.value, after_events=after) if after else None
        self.show(self._execute(crash))
        show_status(self.output, t("showing_all"))

    @safe
    def _on_step(self, _: Any = None) -> None:
        stops = moments(self.run)
        ahead = [m for m in stops if self.cursor is None or m.time > self.cursor] or stops
        self._move(ahead[0] if ahead else None)

    @safe
    def _on_back(self, _: Any = None) -> None:
        stops = moments(self.run)
        before = [m for m in stops if self.cursor is None or m.time < self.cursor]
        if self.cursor is not None and not before:
            show_status(self.output, t("at_start"))
            return
        if self.cursor is None:
            before = before[:-1] or before
        self._move(before[-1] if before else None)

    @safe
    def _on_event(self, change: Any = None) -> None:
        if self.events.value:
            self.stepper.slider.value = int(self.events.value)

    # -- the machinery ----------------------------------------------------------------------
    def _execute(self, crash: Crash | None) -> Any:
        return durasim.execute(self.workflow, *self.args,
                               faults=[crash] if crash is not None else [], **self._options)

    def show(self, run: Any) -> None:
        """Make ``run`` the run shown: outcome, timeline, history, events and stepper."""
        self.run, self.cursor = run, None
        self.outcome.value = (f"<div class='durasim-outcome'><b>{html.escape(t('outcome'))}:"
                              f"</b> {html.escape(outcome_text(run))}</div>")
        self.stepper = ReplayStepper(run)
        self._stepper_box.children = (self.stepper,)
        self.events.options = [(describe(e), e.event_id) for e in run.history]
        self.events.value = None
        self.redraw()

    def redraw(self) -> None:
        """Draw the run shown up to the cursor."""
        timeline(self.run, until=self.cursor, figure=self._figure, width=TIMELINE_WIDTH)
        self.timeline.value = style.to_png(self._figure)
        self.history.value = history_view(
            self.run.history, compact=False, cursor=history_cursor(self.run, self.cursor),
            replayed=replayed_events(self.run, self.run.workflow_id))

    def _move(self, moment: Moment | None) -> None:
        self.cursor = moment.time if moment is not None else None
        self.redraw()
        if moment is None:
            show_status(self.output, t("showing_all"))
        else:
            show_status(self.output, t("showing_until", time=style.format_time(moment.time),
                                       where=moment.label))



def _title(workflow: Any, args: tuple[Any, ...]) -> str:
    name = workflow_definition(workflow).name
    shown = ", ".join(repr(a) for a in args)
    return f"{name}({shown})"
