"""The event history as a table: the durable engine's memory, the thing replay reads.

Students see the same rows Temporal's UI shows (id, time, event type, key attributes), in
a compact view that hides the workflow-task bookkeeping or the full one, with the event
a replay is matching highlighted and the events replayed after a crash marked. The table
itself is the engine's ``history_table_html``; this adds the choices a picture needs.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Iterable
from typing import Any

from durasim.engine.history import History, HistoryEvent, history_table_html
from durasim.i18n import t
from durasim.trace import Trace


def replayed_events(run: Any, workflow_id: str | None = None) -> set[int]:
    """Ids of the history events a worker replayed after losing its memory.

    Each ``replay`` record of the trace says how many events the worker fed back into
    the workflow code; those events (1..n) are the replayed ones.
    """
    trace = run if isinstance(run, Trace) else getattr(run, "trace", None)
    if not isinstance(trace, Trace):
        return set()
    replayed: set[int] = set()
    for event in trace.filter(kind="replay", semantic=True):
        if workflow_id and event.fields.get("workflow") not in (None, workflow_id):
            continue
        replayed.update(range(1, int(event.fields.get("events", 0)) + 1))
    return replayed


def history_of(source: Any) -> History | None:
    """The history of a History, a Run (durable) or a WorkflowRun; None when there is none."""
    if isinstance(source, History):
        return source
    history = getattr(source, "history", None)
    return history if isinstance(history, History) else None


def history_view(history: Any, *, compact: bool = True, cursor: int | None = None,
                 replayed: Collection[int] | None = None, max_height: int = 360,
                 rows: int | None = None) -> str:
    """An HTML table of a workflow's event history.

    Args:
        history: a History, or a Run / WorkflowRun that has one.
        compact: hide the workflow-task events (the teaching view); False shows every
            event, as ``temporal workflow show`` does.
        cursor: the id of the event a replay is matching now (highlighted).
        replayed: ids of events replayed after a crash (marked ↺). None: read them from
            the run's trace when a run was given.
        max_height: pixels before the table scrolls (long histories stay on screen).
        rows: show only this many events, around ``cursor`` (HTML cannot scroll a table
            to a row by itself, so a stepper shows the neighbourhood of its cursor).

    Returns:
        HTML; for runs without a history (monolith, event-driven) a sentence saying so.
    """
    found = history_of(history)
    if found is None:
        return f"<p class='durasim-no-history'><i>{html.escape(t('no_history'))}</i></p>"
    if replayed is None:
        replayed = replayed_events(history, found.workflow_id) if found is not history else ()
    shown: Iterable[HistoryEvent] = found
    notes = []
    if rows is not None and len(found) > rows:
        visible = [e for e in found if not (compact and e.event_type.is_workflow_task)]
        at = next((i for i, e in enumerate(visible) if e.event_id == cursor), 0)
        start = max(0, min(at - (rows * 2) // 3, len(visible) - rows))
        window = visible[start:start + rows]
        shown = window  # a plain list: the caption must not claim the whole history
        max_height = 0
        notes.append(f"{window[0].event_id}–{window[-1].event_id} / {len(found)}")
    table = history_table_html(shown, compact=compact, highlight=cursor,
                               replayed=frozenset(replayed))
    if replayed:
        notes.append(f"↺ {html.escape(t('replay'))}")
    if cursor is not None:
        notes.append(f"<span style='background:#fff3bf'>&nbsp;{cursor}&nbsp;</span>")
    legend = (f"<div style='font-size:11px;color:#57606a'>{' · '.join(notes)}</div>"
              if notes else "")
    scroll = f"max-height:{int(max_height)}px;overflow:auto" if max_height else ""
    return f"<div class='durasim-history-view' style='{scroll}'>{table}</div>{legend}"
