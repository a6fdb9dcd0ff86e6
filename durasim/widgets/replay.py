"""ReplayStepper: slide through a history and watch the workflow code catch up with it.

Replay is the part of durable execution students find magical, so this widget takes it
apart: at every position of the slider the workflow's code has been re-run against the
history up to that event, and the widget shows the line it is waiting on, the local
variables it has rebuilt, the event being matched (and the command it matches), and the
history table with that event highlighted.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from durasim.engine.definitions import WorkflowDefinition, workflow_definition
from durasim.engine.history import History
from durasim.i18n import t
from durasim.viz.history import history_of, history_view
from durasim.viz.replay import Position, describe, replay_to, source_of
from durasim.widgets.base import button, safe

_HIGHLIGHT = "#fff3bf"
_MONO = "font-family:monospace;white-space:pre"
HISTORY_ROWS = 12
"""History rows shown around the cursor (a table cannot scroll itself to a row)."""


class ReplayStepper(widgets.VBox):
    """Step a workflow's code through its recorded history, one event at a time.

    Args:
        run: a durable Run from ``durasim.run``, a WorkflowRun from ``durasim.execute``,
            or a History.
        workflow: the ``@durasim.workflow`` function, when it cannot be found from the
            run (a History loaded from a file).

    Attributes:
        slider: the event position (1..len(history)); prev_button, next_button.
        code: the source with the current line highlighted; event: the event being
        matched; state: the workflow's rebuilt local variables; history: the table;
        output: one-line errors.
        position: the :class:`~durasim.viz.replay.Position` shown.

    Raises:
        TypeError: the run has no history, or its workflow code cannot be found.
    """

    def __init__(self, run: Any, *, workflow: Any = None) -> None:
        history = history_of(run)
        if history is None or not len(history):
            raise TypeError("ReplayStepper needs an event history: a durable run, a "
                            "WorkflowRun from durasim.execute, or a History")
        self.history_data: History = history
        self.definition = _definition(run, history, workflow)
        self._cache: dict[int, Position] = {}
        self.position: Position | None = None
        self.slider = widgets.IntSlider(value=1, min=1, max=len(history), step=1,
                                        description=t("event"), continuous_update=False,
                                        style={"description_width": "initial"},
                                        layout=widgets.Layout(width="420px"))
        self.prev_button = button("◀")
        self.next_button = button("▶")
        self.output = widgets.HTML()
        self.code = widgets.HTML()
        self.event = widgets.HTML()
        self.state = widgets.HTML()
        self.history = widgets.HTML()
        self.slider.observe(self._on_slider, names="value")
        self.prev_button.on_click(self._on_prev)
        self.next_button.on_click(self._on_next)
        super().__init__([
            widgets.HBox([self.prev_button, self.slider, self.next_button]),
            self.output,
            widgets.HBox([self.code, widgets.VBox([self.event, self.state])]),
            self.history,
        ])
        self.add_class("durasim-replay-stepper")
        self.show(1)

    @safe
    def _on_slider(self, _: Any = None) -> None:
        self.show(int(self.slider.value))

    @safe
    def _on_prev(self, _: Any = None) -> None:
        self.slider.value = max(self.slider.min, self.slider.value - 1)

    @safe
    def _on_next(self, _: Any = None) -> None:
        self.slider.value = min(self.slider.max, self.slider.value + 1)

    def show(self, index: int) -> None:
        """Show the workflow after replaying events 1..``index``."""
        if index not in self._cache:
            self._cache[index] = replay_to(self.definition, self.history_data, index)
        position = self.position = self._cache[index]
        self.code.value = _code_html(position, self.definition)
        self.event.value = _event_html(position)
        self.state.value = _state_html(position)
        self.history.value = history_view(self.history_data, compact=False,
                                          cursor=position.event.event_id,
                                          replayed=range(1, position.event.event_id),
                                          rows=HISTORY_ROWS)
        if position.error is not None:
            self.output.value = (f"<div class='durasim-error' style='color:#cf222e'>"
                                 f"{html.escape(t('nondeterminism'))}: "
                                 f"{html.escape(str(position.error))}</div>")


def _definition(run: Any, history: History, workflow: Any) -> WorkflowDefinition:
    """The workflow code of ``run``: given, or carried by the run."""
    if workflow is not None:
        return workflow_definition(workflow)
    carried = getattr(run, "workflow", None)
    if carried is not None:
        return workflow_definition(carried)
    name = str(history[0].attributes.get("workflowType", history.workflow_type))
    raise TypeError(f"cannot find the code of workflow {name!r}; pass it: "
                    f"ReplayStepper(run, workflow=MyWorkflow)")


def _code_html(position: Position, definition: WorkflowDefinition) -> str:
    where, lines, first, current = source_of(position, definition)
    rows = []
    for number, text in enumerate(lines, start=first):
        mark = number == current
        style = f"background:{_HIGHLIGHT};font-weight:bold" if mark else ""
        cls = " class='durasim-current-line'" if mark else ""
        rows.append(f"<div{cls} style='{style}{_MONO}'><span style='color:#8c959f'>"
                    f"{number:4d}</span>  {html.escape(text.rstrip())}</div>")
    title = html.escape(t("source"))
    return (f"<div class='durasim-code'><b>{title}</b> <code>{html.escape(where)}</code>"
            f"<pre style='font-size:12px;line-height:1.35;margin:4px 0;{_MONO}'>"
            f"{''.join(rows)}</pre>"
            "</div>")


def _event_html(position: Position) -> str:
    mode = (t("finished") if position.finished and not position.frames
            else t("replaying") if position.replaying else t("executing"))
    matched = (f"<div>{html.escape(t('matched'))} <code>{html.escape(position.matched)}</code>"
               "</div>" if position.matched else "")
    return (f"<div class='durasim-event'><b>{html.escape(t('event'))}:</b> "
            f"<code>{html.escape(describe(position.event))}</code>{matched}"
            f"<div style='color:#57606a'>{html.escape(mode)} · {html.escape(t('commands'))}: "
            f"{position.commands}</div></div>")


def _state_html(position: Position) -> str:
    values = position.locals
    rows = "".join(f"<tr><td><code>{html.escape(k)}</code></td><td><code>{html.escape(v)}"
                   f"</code></td></tr>" for k, v in values.items())
    body = f"<table>{rows}</table>" if rows else "<i>—</i>"
    return (f"<div class='durasim-state'><b>{html.escape(t('locals'))}</b>{body}</div>")

