"""A student's own workflow run, in one view: what happened, what was recorded, how it ended.

``durasim.execute(MyWorkflow, ...)`` returns a WorkflowRun; ``run.show()`` draws it as the
course draws the bank transfer: the timeline of the client, server and worker (crashes in
red, replays in purple), the full event history with the events a restarted worker
replayed marked and the last one under the cursor, and the workflow's result (or why it
did not finish). The same code works for ``@durasim.workflow`` functions and Temporal
SDK classes.
"""

from __future__ import annotations

import base64
import html
from typing import Any

from durasim.i18n import t
from durasim.viz import style
from durasim.viz.history import history_view, replayed_events
from durasim.viz.timeline import timeline

__all__ = ["outcome_text", "run_html", "show_run"]

TIMELINE_SIZE = (10.0, 4.0)
"""Inches: wide enough for the three lanes and their labels."""


def outcome_text(run: Any) -> str:
    """One line: the workflow, how it ended, and its result or error."""
    text = f"{run.workflow_id}: {run.status}"
    if run.status == "completed":
        text += f" → {run.result!r}"
    elif run.failure:
        text += f" — {run.failure.get('message')}"
    if run.error is not None and run.status != "failed":
        text += f" ({run.error})"
    if run.replays:
        text += f" · {t('replays')}: {run.replays}"
    for fault in getattr(run, "unfired", ()):  # (an SDK run from the real server has none)
        text += f" · {fault!r} never fired"
    return text


def run_html(run: Any) -> str:
    """The timeline (PNG), the outcome and the full history with replays marked."""
    figure = style.new_figure(*TIMELINE_SIZE)
    timeline(run, figure=figure, width=TIMELINE_SIZE[0])
    picture = base64.b64encode(style.to_png(figure)).decode("ascii")
    colour = "#1a7f37" if run.status == "completed" else "#cf222e"
    last = run.history[-1].event_id if len(run.history) else None
    table = history_view(run.history, compact=False, cursor=last,
                         replayed=replayed_events(run, run.workflow_id))
    return (f"<div class='durasim-workflow-run'>"
            f"<p class='durasim-outcome'><b style='color:{colour}'>"
            f"{html.escape(outcome_text(run))}</b></p>"
            f"<img style='max-width:100%' src='data:image/png;base64,{picture}'/>"
            f"{table}</div>")


def show_run(run: Any) -> None:
    """Display ``run`` in Jupyter (timeline, history, outcome); as text anywhere else."""
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
        inside = get_ipython() is not None
    except ImportError:
        inside = False
    if not inside:
        print(outcome_text(run))
        for event in run.history:
            summary = event.summary()
            print(f"  {event.event_id:3d} {event.event_type.value}"
                  + (f" · {summary}" if summary else ""))
        return
    display(HTML(run_html(run)))
