"""Two histories side by side, event against event, with every difference marked.

The promise that durasim records what Temporal records is checked by putting a simulated
history next to a real one. Comparing whole event objects would flag everything (run ids,
timestamps, task ids, identities and stack traces never match across runs), so a
comparison looks only at what a history *means*: the event type and the key attributes of
each event — which activity, with which input and result, which attempt, which timer,
which signal, which failure and why no retry followed. Events are aligned by position,
which is exactly what "the same history" means: event *n* here is event *n* there.
(``durasim.compare`` is something else: it runs one scenario on every architecture.)

Example:
    >>> cmp = compare_histories(durasim.execute(Transfer, 100).history,
    ...                         History.from_temporal_json("transfer.json"))  # doctest: +SKIP
    >>> cmp.same_types, len(cmp.differences)  # doctest: +SKIP
    (True, 0)
    >>> print(cmp)  # doctest: +SKIP
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from durasim.engine.history import History, HistoryEvent

__all__ = ["KEY_ATTRIBUTES", "EventDifference", "HistoryComparison", "compare_histories"]

#: The attributes that carry an event's meaning and are the same on every faithful run.
#: Ids the server mints (run ids, request ids, task ids), times and identities are left out.
KEY_ATTRIBUTES: tuple[str, ...] = (
    "workflowType", "activityType", "activityId", "input", "result", "attempt", "timerId",
    "startToFireTimeout", "signalName", "markerName", "failure", "retryState",
    "scheduledEventId", "startedEventId", "initiatedEventId",
)
#: Values a history may leave out because they are the default (Temporal omits an empty
#: ``input``; durasim writes ``[]``: the same meaning).
_DEFAULTS: dict[str, Any] = {"attempt": 1, "input": []}

#: The marker column: what each kind of difference looks like in text.
MARKS = {"type": "*", "attributes": "~", "only_left": "<", "only_right": ">"}
_ROW_COLORS = {"type": "#ffd8d8", "attributes": "#fff3bf", "only_left": "#ffd8d8",
               "only_right": "#ffd8d8"}
_MUTED = "#9aa0a6"
_CELL = "text-align:left;padding:2px 8px;vertical-align:top;"
_SUMMARY_WIDTH = 44


def _failure_key(failure: Any) -> Any:
    """The comparable core of a failure: message, type, non-retryable, and its cause's."""
    if not isinstance(failure, dict):
        return failure
    return (failure.get("message"), failure.get("type"), bool(failure.get("nonRetryable")),
            _failure_key(failure.get("cause")))


def _key_value(event: HistoryEvent, name: str) -> Any:
    value = event.attributes.get(name, _DEFAULTS.get(name))
    if name == "failure":
        return _failure_key(value)
    if name == "startToFireTimeout" and isinstance(value, int | float):
        return float(value)
    return value


def _differing_fields(left: HistoryEvent, right: HistoryEvent,
                      keys: Sequence[str]) -> tuple[str, ...]:
    return tuple(k for k in keys if _key_value(left, k) != _key_value(right, k))


@dataclass(frozen=True)
class EventDifference:
    """One row where the histories disagree.

    ``kind`` is "type" (different event types), "attributes" (same type, some key
    attributes differ: ``fields`` names them), "only_left" or "only_right" (one history
    is longer). ``row`` counts from 1 over the events compared (with ``compact``, the
    workflow-task events are not counted).
    """

    row: int
    kind: str
    left: HistoryEvent | None
    right: HistoryEvent | None
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        left = _label(self.left)
        right = _label(self.right)
        if self.kind == "type":
            return f"row {self.row}: {left} vs {right} (event type differs)"
        if self.kind == "attributes":
            assert self.left is not None and self.right is not None
            parts = ", ".join(f"{f} {_short(_key_value(self.left, f))} vs "
                              f"{_short(_key_value(self.right, f))}" for f in self.fields)
            return f"row {self.row}: {left}: {parts}"
        if self.kind == "only_left":
            return f"row {self.row}: {left} only in the first history"
        return f"row {self.row}: {right} only in the second history"


def _label(event: HistoryEvent | None) -> str:
    return "-" if event is None else f"{event.event_id} {event.event_type.value}"


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class HistoryComparison:
    """The aligned rows of two histories and what differs between them.

    Attributes:
        left, right: the two histories compared.
        labels: their names, for the table headings.
        compact: whether workflow-task events were left out of the comparison.
        rows: ``(left event or None, right event or None, difference or None)``.
        differences: the rows that differ, in order.
    """

    def __init__(self, left: History, right: History, *, compact: bool = False,
                 labels: tuple[str, str] = ("first", "second"),
                 keys: Sequence[str] = KEY_ATTRIBUTES) -> None:
        self.left = left
        self.right = right
        self.compact = compact
        self.labels = labels
        self.keys = tuple(keys)
        lefts = _shown(left, compact)
        rights = _shown(right, compact)
        self.rows: list[tuple[HistoryEvent | None, HistoryEvent | None,
                              EventDifference | None]] = []
        for i in range(max(len(lefts), len(rights))):
            a = lefts[i] if i < len(lefts) else None
            b = rights[i] if i < len(rights) else None
            self.rows.append((a, b, self._difference(i + 1, a, b)))
        self.differences: list[EventDifference] = [d for _, _, d in self.rows if d is not None]
        self.same_types = ([e.event_type for e in lefts] == [e.event_type for e in rights])

    def _difference(self, row: int, a: HistoryEvent | None,
                    b: HistoryEvent | None) -> EventDifference | None:
        if a is None:
            return EventDifference(row, "only_right", None, b)
        if b is None:
            return EventDifference(row, "only_left", a, None)
        if a.event_type is not b.event_type:
            return EventDifference(row, "type", a, b)
        fields = _differing_fields(a, b, self.keys)
        return EventDifference(row, "attributes", a, b, fields) if fields else None

    @property
    def same(self) -> bool:
        """True when no row differs: same types and same key attributes throughout."""
        return not self.differences

    def __repr__(self) -> str:
        verdict = "same types" if self.same_types else "different types"
        return (f"<HistoryComparison {len(self.left)} vs {len(self.right)} events: {verdict}, "
                f"{len(self.differences)} difference(s)>")

    # -- text ------------------------------------------------------------------------------

    def __str__(self) -> str:
        """A side-by-side table; the first column marks differing rows (legend at the end)."""
        def cell(event: HistoryEvent | None) -> tuple[str, str, str]:
            if event is None:
                return ("", "", "")
            summary = event.summary()
            if len(summary) > _SUMMARY_WIDTH:
                summary = summary[: _SUMMARY_WIDTH - 1] + "…"
            return (str(event.event_id), event.event_type.value, summary)

        table = [(MARKS[d.kind] if d else "", *cell(a), *cell(b)) for a, b, d in self.rows]
        head = ("", "id", f"{self.labels[0]}", "details", "id", f"{self.labels[1]}", "details")
        widths = [max(len(r[i]) for r in [head, *table]) for i in range(len(head))]

        def line(r: Sequence[str]) -> str:
            left = "  ".join(r[i].ljust(widths[i]) for i in range(1, 4))
            right = "  ".join(r[i].ljust(widths[i]) for i in range(4, 7))
            return f"{r[0].ljust(widths[0])} {left} | {right}".rstrip()

        out = [line(head), "-" * len(line(["-" * w for w in widths]))]
        out += [line(r) for r in table]
        verdict = "same event types" if self.same_types else "different event types"
        out.append(f"{verdict}; {len(self.differences)} differing row(s)"
                   + ("" if self.same else "  (* type, ~ key attributes, < only "
                      f"{self.labels[0]}, > only {self.labels[1]})"))
        out += [f"  {d}" for d in self.differences if d.kind == "attributes"]
        return "\n".join(out)

    # -- HTML ------------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        """Two columns of events; differing rows tinted, differing cells in bold."""
        def cells(event: HistoryEvent | None, diff: EventDifference | None) -> str:
            if event is None:
                return f'<td style="{_CELL}" colspan="3"></td>'
            style = _CELL + (f"color:{_MUTED};" if event.event_type.is_workflow_task else "")
            type_style = style + ("font-weight:bold;" if diff and diff.kind == "type" else "")
            summary_style = style + ("font-weight:bold;"
                                     if diff and diff.kind == "attributes" else "")
            title = ""
            if diff and diff.kind == "attributes":
                title = f' title="differs: {html.escape(", ".join(diff.fields))}"'
            return (f'<td style="{style}">{event.event_id}</td>'
                    f'<td style="{type_style}">{html.escape(event.event_type.value)}</td>'
                    f'<td style="{summary_style}"{title}>{html.escape(event.summary())}</td>')

        rows = []
        for a, b, diff in self.rows:
            mark = MARKS[diff.kind] if diff else ""
            tint = f"background:{_ROW_COLORS[diff.kind]};" if diff else ""
            kind = f' class="durasim-diff durasim-diff-{diff.kind}"' if diff else ""
            rows.append(f'<tr{kind} style="{tint}"><td style="{_CELL}">{mark}</td>'
                        f"{cells(a, diff)}{cells(b, diff)}</tr>")
        names = [html.escape(x) for x in self.labels]
        head = (f'<tr><th></th><th style="{_CELL}" colspan="3">{names[0]}</th>'
                f'<th style="{_CELL}" colspan="3">{names[1]}</th></tr>')
        verdict = "same event types" if self.same_types else "different event types"
        caption = html.escape(f"{verdict}; {len(self.differences)} differing row(s)")
        return (f'<table class="durasim-compare" style="border-collapse:collapse;'
                f'font-family:monospace;font-size:12px"><caption style="text-align:left">'
                f"{caption}</caption><thead>{head}</thead><tbody>{''.join(rows)}</tbody>"
                "</table>")


def _shown(history: History, compact: bool) -> list[HistoryEvent]:
    return [e for e in history.events if not (compact and e.event_type.is_workflow_task)]


def _name(source: str) -> str:
    """A short column heading for a history's source: a file's name, else the source."""
    return os.path.basename(source) if source.endswith(".json") else source


def _as_history(value: Any) -> History:
    """A History, a run (anything with ``.history``), or what ``from_temporal_json`` reads."""
    if isinstance(value, History):
        return value
    inner = getattr(value, "history", None)
    if isinstance(inner, History):
        return inner
    if isinstance(value, str | bytes | os.PathLike | dict | list):
        return History.from_temporal_json(value)
    raise TypeError(f"compare_histories() takes Histories, runs or Temporal JSON, "
                    f"not {type(value).__name__}")


def compare_histories(a: Any, b: Any, *, compact: bool = False,
                      labels: tuple[str, str] | None = None,
                      keys: Sequence[str] = KEY_ATTRIBUTES) -> HistoryComparison:
    """Put two histories side by side, aligned event by event, with differences marked.

    Args:
        a, b: :class:`~durasim.History` objects, runs (``durasim.execute``'s or
            ``execute_on_temporal``'s), or Temporal JSON (text or a file path).
        compact: leave the workflow-task events out (the teaching view).
        labels: names for the two columns (default: their sources, or "first"/"second").
        keys: the attributes compared on events of the same type (see
            :data:`KEY_ATTRIBUTES`).

    Returns:
        A :class:`HistoryComparison`: ``str()`` is a text table, in Jupyter it renders as
        HTML; ``same_types`` and ``differences`` say what differs.

    Raises:
        HistoryFormatError: a JSON argument is not a readable history.
    """
    left, right = _as_history(a), _as_history(b)
    if labels is None:
        labels = (_name(left.source) or "first", _name(right.source) or "second")
        if labels[0] == labels[1]:
            labels = ("first", "second")
    return HistoryComparison(left, right, compact=compact, labels=labels, keys=keys)
