"""From a trace to what a space-time diagram shows: lanes, columns, marks, arrows, spans.

Drawing and deciding what to draw are kept apart so the decisions can be tested without
pixels and reused by the animation. The x axis is *logical*: every event gets a column,
and events that happen at the same instant on different nodes share one. Virtual time is
far too uneven to draw to scale (a 2 ms step, then a 4 s task timeout, then a 30-day
timer), so each column remembers its time and the picture labels the gaps instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from durasim.engine.history import History, HistoryEvent
from durasim.i18n import t
from durasim.trace import Trace, TraceEvent
from durasim.viz.event_kinds import KINDS, event_kind, kind_label, timeout_label
from durasim.viz.style import lane_order

MARK_KINDS = ("step", "effect", "commit", "rollback", "crash", "restart", "replay", "recover",
              "history", "activity", "failed", "redeliver", "dead_letter", "retry",
              "nondeterminism", *KINDS, "other")
"""What a mark can be; the drawing picks a glyph and a colour for each (the kinds of
:mod:`durasim.viz.event_kinds` are history events that carry a lesson)."""

_MESSAGE_KINDS = {"send", "receive", "drop", "lost"}
_HIDDEN_WHEN_COLLAPSED = {"node_start", "publish", "ack"}
"""Kinds whose meaning the arrows already carry."""
_MERGEABLE = {"history", "effect", "commit", "retry", "other", "activity"}
"""Kinds where a burst on one node at one instant is one thing to a reader."""


@dataclass
class Mark:
    """One thing drawn on a lane: a business step, a crash, a history event..."""

    column: int
    time: float
    node: str
    kind: str
    label: str = ""
    count: int = 1
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Arrow:
    """A message: from a column on the sender's lane to a column on the receiver's.

    ``fate`` is "delivered", "lost" (dropped on the wire, or it reached a node that was
    down), "in_flight" (still travelling when the trace ends) or "outside" (the other end
    falls outside the window).
    """

    src: str
    dst: str
    start: int | None
    end: int | None
    label: str
    fate: str = "delivered"
    step: Any = None


@dataclass
class Span:
    """An interval of a lane: a node "down" between crash and restart, or a "replay".

    ``start`` and ``end`` are columns; ``end`` is None when the node never came back.
    """

    node: str
    kind: str
    start: int
    end: int | None
    start_time: float
    end_time: float | None
    label: str = ""


@dataclass
class Story:
    """Everything a timeline draws, in logical columns."""

    lanes: list[str]
    times: list[float]
    marks: list[Mark]
    arrows: list[Arrow]
    spans: list[Span]
    events: int = 0
    positions: list[float] = field(default_factory=list)
    gaps: list[tuple[int, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.positions:
            self.gaps = long_gaps(self.times)
            width = max(GAP_WIDTH, 0.05 * len(self.times))
            extra, positions, after = 0.0, [], {index for index, _ in self.gaps}
            for index in range(len(self.times)):
                positions.append(index + extra)
                if index in after:
                    extra += width
            self.positions = positions

    @property
    def columns(self) -> int:
        """How many columns the x axis has."""
        return len(self.times)

    def x(self, column: float) -> float:
        """Where column ``column`` is drawn: long idle gaps get extra room, so a node
        that was down for seconds visibly stays down for a while."""
        if not self.positions:
            return float(column)
        index = int(column)
        if index < 0:
            return column + self.positions[0]
        if index >= len(self.positions):
            return self.positions[-1] + (column - len(self.positions) + 1)
        return self.positions[index] + (column - index)

    def x_at(self, time: float) -> float:
        """The x position of virtual time ``time``: just after every column at or before it."""
        position = -0.5
        for index, when in enumerate(self.times):
            if when > time:
                break
            following = index + 1 < len(self.times)
            position = ((self.x(index) + self.x(index + 1)) / 2 if following
                        else self.x(index) + 0.5)
        return position

    def of_kind(self, kind: str) -> list[Mark]:
        """The marks of one kind (tests and legends ask)."""
        return [m for m in self.marks if m.kind == kind]


GAP_WIDTH = 2.0
"""Extra columns of room a long idle gap gets (at least; 5% of the columns in big runs)."""


def long_gaps(times: list[float]) -> list[tuple[int, float]]:
    """(column, seconds) of the gaps after ``column`` that are long for this run.

    Long means well above the typical gap between columns (and over 0.2 s): a restart
    delay, a task timeout, a durable timer. The picture marks them with their length.
    """
    gaps = [b - a for a, b in pairwise(times)]
    if not gaps:
        return []
    typical = sorted(gaps)[len(gaps) // 2]
    threshold = max(0.2, 25 * typical)
    return [(index, gap) for index, gap in enumerate(gaps) if gap > threshold]


def semantic_events(source: Any) -> list[TraceEvent]:
    """The events a model recorded on purpose, from a Trace or anything with ``.trace``."""
    trace = source if isinstance(source, Trace) else getattr(source, "trace", None)
    if not isinstance(trace, Trace):
        raise TypeError("expected a durasim Run, WorkflowRun or Trace, got "
                        f"{type(source).__name__}")
    return trace.filter(semantic=True)


def tell(source: Any, *, window: tuple[float | None, float | None] | None = None,
         collapse: bool = True) -> Story:
    """Decide what the timeline of ``source`` shows.

    Args:
        source: a Run, a WorkflowRun or a Trace.
        window: ``(start, end)`` in virtual seconds (either may be None): zoom to the
            events in that interval.
        collapse: hide what the arrows already say (publishes, acks, node starts) and
            merge bursts of the same kind on one node at one instant into one mark; this
            is what keeps 200+ events readable.
    """
    events = semantic_events(source)
    total = len(events)
    if window is not None:
        start, end = window
        if start is not None and end is not None and end < start:
            raise ValueError(f"window ends ({end}) before it starts ({start})")
        events = [e for e in events
                  if (start is None or e.time >= start) and (end is None or e.time <= end)]
    has_steps = any(e.kind == "step" for e in events)
    builder = _Builder(has_steps=has_steps, collapse=collapse, recorded=_recorded(source))
    for index, event in enumerate(events):
        following = events[index + 1] if index + 1 < len(events) else None
        builder.add(event, following)
    story = builder.finish()
    story.events = total
    return story


def _recorded(source: Any) -> dict[tuple[str, int], HistoryEvent]:
    """The run's history events by (workflow id, event id): the trace names an event by
    type only, its attributes (which timeout, which marker) are in the history."""
    histories = list(getattr(source, "histories", None) or [getattr(source, "history", None)])
    for more in (getattr(source, "children", None) or {}).values():
        histories += more
    return {(h.workflow_id, e.event_id): e for h in histories if isinstance(h, History)
            for e in h}


class _Builder:
    """Walks the events once, packing them into columns."""

    def __init__(self, *, has_steps: bool, collapse: bool,
                 recorded: dict[tuple[str, int], HistoryEvent] | None = None) -> None:
        self.has_steps = has_steps
        self.collapse = collapse
        self.recorded = recorded or {}
        self.times: list[float] = []
        self.used: set[str] = set()
        self.blocked: set[int] = set()
        self.marks: list[Mark] = []
        self.arrows: dict[int, list[Arrow]] = {}
        self.sent: dict[int, tuple[str, str, int, str, Any]] = {}
        self.nodes: list[str] = []
        self.spans: list[Span] = []
        self.down_since: dict[str, tuple[int, float]] = {}
        self.seen_steps: set[tuple[str, Any]] = set()

    # -- columns -----------------------------------------------------------------------
    def column(self, event: TraceEvent, message: int | None = None) -> int:
        """Same column as the previous event if simultaneous and on another node."""
        if (self.times and self.times[-1] == event.time and event.node not in self.used
                and (message is None or message not in self.blocked)):
            self.used.add(event.node)
            return len(self.times) - 1
        self.times.append(event.time)
        self.used = {event.node}
        self.blocked = set()
        return len(self.times) - 1

    def lane(self, node: str) -> None:
        if node and node not in self.nodes:
            self.nodes.append(node)

    # -- events ------------------------------------------------------------------------
    def add(self, event: TraceEvent, following: TraceEvent | None) -> None:
        kind, f = event.kind, event.fields
        self.lane(event.node)
        if kind in _MESSAGE_KINDS:
            self.message(event)
            return
        if self.collapse and kind in _HIDDEN_WHEN_COLLAPSED:
            return
        if kind == "step":
            self.step(event)
        elif kind == "commit":
            if (self.collapse and following is not None and following.node == event.node
                    and following.time == event.time and following.kind == "step"
                    and following.fields.get("phase") == "effect"):
                return  # the effect mark right after says it
            self.mark(event, "commit", "commit")
        elif kind == "rollback":
            self.mark(event, "rollback", "rollback")
        elif kind == "crash":
            self.mark(event, "crash", "")
            self.down_since.setdefault(event.node, (self.marks[-1].column, event.time))
        elif kind == "restart":
            self.mark(event, "restart", "")
            since = self.down_since.pop(event.node, None)
            if since is not None:
                self.spans.append(Span(event.node, "down", since[0], self.marks[-1].column,
                                       since[1], event.time))
        elif kind in ("replay", "recover"):
            label = f"{kind} {f['events']}" if "events" in f else kind
            self.mark(event, kind, label)
            column = self.marks[-1].column
            self.spans.append(Span(event.node, "replay", column, column, event.time,
                                   event.time, label))
        elif kind == "history":
            self.history(event)
        elif kind == "activity":
            self.activity(event)
        elif kind == "retry":
            self.retry(event)
        elif kind == "workflow_task_failed":
            self.mark(event, "task_retry", t("task_failed"))
        elif kind in ("redeliver", "dead_letter", "nondeterminism"):
            self.mark(event, kind, kind.replace("_", " "))
        else:
            self.mark(event, "other", kind)

    def mark(self, event: TraceEvent, kind: str, label: str) -> None:
        last = self.marks[-1] if self.marks else None
        if (self.collapse and last is not None and kind in _MERGEABLE and last.kind == kind
                and last.node == event.node and last.time == event.time
                and last.column == len(self.times) - 1):
            last.count += 1
            last.label = label or last.label
            return
        column = self.column(event)
        self.marks.append(Mark(column, event.time, event.node, kind, label,
                               fields=dict(event.fields)))

    def history(self, event: TraceEvent) -> None:
        """A recorded event: a small square, or its own mark when it carries a lesson."""
        f = event.fields
        name = str(f.get("type", ""))
        found = self.recorded.get((str(f.get("workflow", "")), int(f.get("id", 0) or 0)))
        attributes = found.attributes if found is not None and found.event_type == name else None
        kind = event_kind(name, attributes)
        if kind is None or name == "ActivityTaskStarted":  # its timeout: the retry's mark
            self.mark(event, "history", name)
        else:
            self.mark(event, kind, kind_label(kind, name, attributes))

    def retry(self, event: TraceEvent) -> None:
        """The server retries an activity; after a timeout, the timeout is the news."""
        f = event.fields
        label = t("retry_n", n=f.get("attempt", "?"))
        if "timeout" in f:
            self.mark(event, "timeout", f"{timeout_label(f['timeout'])} → {label}")
        else:
            self.mark(event, "retry", label)

    def step(self, event: TraceEvent) -> None:
        f = event.fields
        phase = f.get("phase")
        if phase == "start":
            key = (str(f.get("ref", "")), f.get("step"))
            again = key in self.seen_steps
            self.seen_steps.add(key)
            label = f"{f.get('step')} {f.get('name', '')}".strip()
            self.mark(event, "step", ("↻ " if again else "") + label)
        elif phase == "effect":
            self.mark(event, "effect", "")
        elif not self.collapse:
            self.mark(event, "other", f"{f.get('step')} {phase}")

    def activity(self, event: TraceEvent) -> None:
        f = event.fields
        phase = f.get("phase")
        attempt = int(f.get("attempt", 1) or 1)
        if phase == "start" and not self.has_steps:
            again = f" (attempt {attempt})" if attempt > 1 else ""
            self.mark(event, "step", ("↻ " if attempt > 1 else "") + f"{f.get('name')}{again}")
        elif phase == "failed":
            self.mark(event, "failed", f"{f.get('name')} failed")
        elif not self.collapse:
            self.mark(event, "activity", f"{f.get('name')} {phase}")

    def message(self, event: TraceEvent) -> None:
        f, kind = event.fields, event.kind
        mid = int(f.get("id", -1))
        if kind == "send":
            column = self.column(event)
            self.blocked.add(mid)
            self.sent[mid] = (event.node, str(f.get("to", "")), column, str(f.get("msg", "")),
                              f.get("step"))
            self.lane(str(f.get("to", "")))
            return
        sent = self.sent.get(mid)
        if kind == "drop":
            if sent is not None:
                src, dst, start, label, step = sent
                self.arrows.setdefault(mid, []).append(
                    Arrow(src, dst, start, None, label, "lost", step))
            return
        column = self.column(event, mid)
        if sent is None:
            src = str(f.get("frm", ""))
            self.lane(src)
            arrow = Arrow(src, event.node, None, column, str(f.get("msg", "")), "outside",
                          f.get("step"))
        else:
            src, dst, start, label, step = sent
            fate = "lost" if kind == "lost" else "delivered"
            arrow = Arrow(src, event.node, start, column, label, fate, step)
        self.arrows.setdefault(mid, []).append(arrow)

    # -- the end -----------------------------------------------------------------------
    def finish(self) -> Story:
        arrows: list[Arrow] = []
        for mid, (src, dst, start, label, step) in self.sent.items():
            found = self.arrows.pop(mid, None)
            if found:
                arrows.extend(found)
            else:
                arrows.append(Arrow(src, dst, start, None, label, "in_flight", step))
        for found in self.arrows.values():
            arrows.extend(found)
        spans = list(self.spans)
        spans += [Span(node, "down", column, None, time, None)
                  for node, (column, time) in self.down_since.items()]
        return Story(lane_order(self.nodes), self.times, self.marks, arrows, spans)



def time_ticks(story: Story, spacing: float) -> list[tuple[float, str]]:
    """(x, label) of virtual-time ticks at least ``spacing`` x units apart, each label
    different from the previous one (many columns share a millisecond)."""
    from durasim.viz.style import format_time

    ticks: list[tuple[float, str]] = []
    shown, last_x = "", -1e9
    for index, when in enumerate(story.times):
        x = story.x(index)
        text = format_time(when)
        if text == shown or x - last_x < spacing:
            continue
        ticks.append((x, text))
        shown, last_x = text, x
    return ticks
