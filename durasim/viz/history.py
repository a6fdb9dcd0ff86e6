"""The event history as a table: the durable engine's memory, the thing replay reads.

Students see the same rows Temporal's UI shows (id, time, event type, key attributes), in
a compact view that hides the workflow-task bookkeeping or the full one, with the event
a replay is matching highlighted and the events replayed after a crash marked.
``history_table_html`` draws the table (``History._repr_html_`` shows it in Jupyter);
``history_view`` adds the choices a picture needs.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Iterable
from typing import Any

from durasim.engine.history import History, HistoryEvent
from durasim.i18n import t
from durasim.trace import Trace
from durasim.viz.event_kinds import KINDS, kind_label, kind_of
from durasim.viz.style import EVENT_KIND_COLOURS

_MUTED, _HIGHLIGHT, _REPLAYED = "#9aa0a6", "#fff3bf", "#e9f5ec"
_CELL = "text-align:left;padding:2px 8px;"


def _format_seconds(seconds: float) -> str:
    """Virtual time for people: ms for the quick steps, h/d for durable timers."""
    if abs(seconds) < 1:
        return f"{seconds * 1000:.1f} ms"
    if abs(seconds) < 3600:
        return f"{seconds:.3f} s"
    if abs(seconds) < 86400:
        return f"{seconds / 3600:.2f} h"
    return f"{seconds / 86400:.2f} d"


def _kind_tag(kind: str, event: HistoryEvent) -> str:
    """The coloured label that makes a timeout, a cancellation, an update... stand out."""
    return (f'<span class="durasim-tag" style="background:{EVENT_KIND_COLOURS[kind]};'
            f'color:#fff;border-radius:3px;padding:0 4px;margin-left:6px;font-size:10px">'
            f"{html.escape(kind_label(kind, event.event_type, event.attributes))}</span>")


def _row_html(event: HistoryEvent, highlight: int | None, replayed: Collection[int]) -> str:
    styles, classes = [], []
    kind = kind_of(event)
    if event.event_type.is_workflow_task:
        classes.append("durasim-wft")
        if kind is None:  # routine bookkeeping; a failed or retried task is not
            styles.append(f"color:{_MUTED}")
    if kind is not None:
        styles.append(f"border-left:4px solid {EVENT_KIND_COLOURS[kind]}")
        classes.append(f"durasim-kind-{kind}")
    if event.event_id in replayed:
        styles.append(f"background:{_REPLAYED}")
        classes.append("durasim-replayed")
    if event.event_id == highlight:
        styles.append(f"background:{_HIGHLIGHT};font-weight:bold")
        classes.append("durasim-highlight")
    mark = "↺" if event.event_id in replayed else ""
    cells = [html.escape(c) for c in (mark, str(event.event_id), _format_seconds(event.time),
                                      str(event.event_type), event.summary())]
    if kind is not None:
        cells[3] += _kind_tag(kind, event)
    body = "".join(f'<td style="{_CELL}">{c}</td>' for c in cells)
    return (f'<tr class="{" ".join(classes)}" data-event-id="{event.event_id}" '
            f'style="{";".join(styles)}">{body}</tr>')


def history_table_html(history: Iterable[HistoryEvent], *, compact: bool = False,
                       highlight: int | None = None,
                       replayed: Collection[int] = frozenset()) -> str:
    """An HTML table of a history: id, virtual time, type, key attributes.

    Workflow-task rows are grey so the business events stand out; ``highlight`` marks the
    event a replay is at and ``replayed`` the ones already replayed (the replay stepper's view).
    """
    rows = [_row_html(e, highlight, replayed) for e in history
            if not (compact and e.event_type.is_workflow_task)]
    title = html.escape(repr(history)) if isinstance(history, History) else "history"
    head = "".join(f'<th style="{_CELL}">{h}</th>'
                   for h in ("", "id", "time", "event", "details"))
    return (f'<table class="durasim-history" style="border-collapse:collapse;'
            f'font-family:monospace;font-size:12px"><caption style="text-align:left">{title}'
            f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


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


def history_cursor(run: Any, at: float | None) -> int | None:
    """Id of the last event of ``run``'s workflow recorded by virtual time ``at`` (None for
    the whole run): where a widget stepping through the run puts the history's cursor."""
    if at is None:
        return None
    workflow = run.history.workflow_id
    last = None
    for event in run.trace.filter(kind="history", semantic=True):
        if event.time > at:
            break
        if event.fields.get("workflow") in (workflow, None):
            last = int(event.fields.get("id", 0)) or last
    return last


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
    kinds = {kind_of(e) for e in shown if not (compact and e.event_type.is_workflow_task)}
    notes += [f"<span style='border-left:4px solid {EVENT_KIND_COLOURS[k]};padding-left:3px'>"
              f"{html.escape(t(f'kind_{k}'))}</span>" for k in KINDS if k in kinds]
    if replayed:
        notes.append(f"↺ {html.escape(t('replay'))}")
    if cursor is not None:
        notes.append(f"<span style='background:#fff3bf'>&nbsp;{cursor}&nbsp;</span>")
    legend = (f"<div style='font-size:11px;color:#57606a'>{' · '.join(notes)}</div>"
              if notes else "")
    scroll = f"max-height:{int(max_height)}px;overflow:auto" if max_height else ""
    return f"<div class='durasim-history-view' style='{scroll}'>{table}</div>{legend}"
