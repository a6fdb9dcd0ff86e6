"""What makes a history possible: the fields each event carries and how events refer to each other.

Replay trusts the history: an ``ActivityTaskCompleted`` hands its result to the activity
its ``scheduledEventId`` names, a ``TimerFired`` wakes the timer its ``timerId`` names.
A history edited by hand, cut by a copy-paste or written by a buggy store can break those
links, and then replay would fail deep inside the engine, or worse, succeed and teach
something false (an activity that completed twice). So every history is checked before
anything reads it: when it is loaded from Temporal's JSON, before the Replayer replays it,
and before it is written back. The rules are Temporal's own:

* ids run 1, 2, 3, ...; the first event starts the workflow and a closing event is last;
* the fields the engine reads are present and of the right kind (names are non-empty
  strings, event ids integers, attempts counted from 1);
* an event id points back to an earlier event of the type it names (a completion to its
  ``ActivityTaskScheduled``, a fired timer to its ``TimerStarted``...);
* each thing happens once: an activity, timer, child or workflow task starts at most once
  and closes at most once, and never starts after it closed.

A broken rule is a :class:`~durasim.errors.HistoryFormatError` naming the source, the
event index and the field, like every other problem with a history.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from durasim.engine.history import EventType, HistoryEvent, short_repr
from durasim.errors import HistoryFormatError

__all__ = ["check_events"]

E = EventType

# --------------------------------------------------------------------------- the rules

_NAMES: dict[EventType, tuple[str, ...]] = {
    E.WORKFLOW_EXECUTION_STARTED: ("workflowType",),
    E.WORKFLOW_EXECUTION_CONTINUED_AS_NEW: ("workflowType",),
    E.ACTIVITY_TASK_SCHEDULED: ("activityType", "activityId"),
    E.TIMER_STARTED: ("timerId",),
    E.TIMER_FIRED: ("timerId",),
    E.TIMER_CANCELED: ("timerId",),
    E.WORKFLOW_EXECUTION_SIGNALED: ("signalName",),
    E.MARKER_RECORDED: ("markerName",),
    E.START_CHILD_WORKFLOW_EXECUTION_INITIATED: ("workflowType", "workflowId"),
}
"""The names each event must carry, as non-empty strings."""

_ACTIVITY_CLOSED = (E.ACTIVITY_TASK_COMPLETED, E.ACTIVITY_TASK_FAILED,
                    E.ACTIVITY_TASK_TIMED_OUT, E.ACTIVITY_TASK_CANCELED)
_TIMER_CLOSED = (E.TIMER_FIRED, E.TIMER_CANCELED)
_CHILD_CLOSED = (E.CHILD_WORKFLOW_EXECUTION_COMPLETED, E.CHILD_WORKFLOW_EXECUTION_FAILED,
                 E.CHILD_WORKFLOW_EXECUTION_CANCELED, E.CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
                 E.CHILD_WORKFLOW_EXECUTION_TERMINATED)
_TASK_CLOSED = (E.WORKFLOW_TASK_COMPLETED, E.WORKFLOW_TASK_FAILED, E.WORKFLOW_TASK_TIMED_OUT)
_WORKFLOW_CLOSED = frozenset({
    E.WORKFLOW_EXECUTION_COMPLETED, E.WORKFLOW_EXECUTION_FAILED,
    E.WORKFLOW_EXECUTION_TIMED_OUT, E.WORKFLOW_EXECUTION_CANCELED,
    E.WORKFLOW_EXECUTION_TERMINATED, E.WORKFLOW_EXECUTION_CONTINUED_AS_NEW})

_Link = tuple[str, EventType, bool]
"""(field, the type of event it must point to, required)."""

_LINKS: dict[EventType, tuple[_Link, ...]] = {
    E.WORKFLOW_TASK_STARTED: (("scheduledEventId", E.WORKFLOW_TASK_SCHEDULED, True),),
    **{t: (("scheduledEventId", E.WORKFLOW_TASK_SCHEDULED, True),
           ("startedEventId", E.WORKFLOW_TASK_STARTED, t is E.WORKFLOW_TASK_COMPLETED))
       for t in _TASK_CLOSED},
    E.ACTIVITY_TASK_STARTED: (("scheduledEventId", E.ACTIVITY_TASK_SCHEDULED, True),),
    E.ACTIVITY_TASK_CANCEL_REQUESTED: (("scheduledEventId", E.ACTIVITY_TASK_SCHEDULED, True),),
    **{t: (("scheduledEventId", E.ACTIVITY_TASK_SCHEDULED, True),
           ("startedEventId", E.ACTIVITY_TASK_STARTED,
            t in (E.ACTIVITY_TASK_COMPLETED, E.ACTIVITY_TASK_FAILED)))
       for t in _ACTIVITY_CLOSED},
    **{t: (("startedEventId", E.TIMER_STARTED, True),) for t in _TIMER_CLOSED},
    E.CHILD_WORKFLOW_EXECUTION_STARTED: (
        ("initiatedEventId", E.START_CHILD_WORKFLOW_EXECUTION_INITIATED, True),),
    E.START_CHILD_WORKFLOW_EXECUTION_FAILED: (
        ("initiatedEventId", E.START_CHILD_WORKFLOW_EXECUTION_INITIATED, True),),
    **{t: (("initiatedEventId", E.START_CHILD_WORKFLOW_EXECUTION_INITIATED, True),
           ("startedEventId", E.CHILD_WORKFLOW_EXECUTION_STARTED, True))
       for t in _CHILD_CLOSED},
    **{t: (("initiatedEventId", E.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, True),)
       for t in (E.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
                 E.EXTERNAL_WORKFLOW_EXECUTION_SIGNALED)},
    **{t: (("initiatedEventId", E.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, True),)
       for t in (E.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
                 E.EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED)},
}
"""The event ids each event must (or may) point back with, and what they must point to.
``workflowTaskCompletedEventId``, carried by every command event, is checked for all."""

_ONCE: dict[EventType, tuple[str, str]] = {
    E.WORKFLOW_TASK_STARTED: ("scheduledEventId", "started"),
    **{t: ("scheduledEventId", "closed") for t in _TASK_CLOSED},
    E.ACTIVITY_TASK_STARTED: ("scheduledEventId", "started"),
    **{t: ("scheduledEventId", "closed") for t in _ACTIVITY_CLOSED},
    **{t: ("startedEventId", "closed") for t in _TIMER_CLOSED},
    E.CHILD_WORKFLOW_EXECUTION_STARTED: ("initiatedEventId", "started"),
    E.START_CHILD_WORKFLOW_EXECUTION_FAILED: ("initiatedEventId", "closed"),
    **{t: ("initiatedEventId", "closed") for t in _CHILD_CLOSED},
}
"""Events that start or close the thing their id field names: each happens at most once."""


def _is_int(value: Any) -> bool:
    # exactly int first (one comparison: this runs for every event replayed), then the
    # acceptable subclasses (bool is an int subclass, and no event id)
    return value.__class__ is int or (isinstance(value, int) and not isinstance(value, bool))


def _is_seconds(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


_KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "input": (lambda v: isinstance(v, list), "a list of arguments"),
    "failure": (lambda v: v is None or isinstance(v, dict), "a failure object"),
    "attempt": (lambda v: _is_int(v) and v >= 1, "an attempt number from 1"),
    "startToFireTimeout": (_is_seconds, "a duration in seconds"),
}
"""Other fields the engine reads, and the kind of value each must hold when present."""
_KIND_CHECKS = tuple((name, fits, what) for name, (fits, what) in _KINDS.items())


# --------------------------------------------------------------------------- checking

class _Broken(Exception):
    """A broken rule: the field it concerns (attribute name, or "" for the event) and why."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


def check_events(events: Sequence[HistoryEvent], source: str = "<history>") -> None:
    """Check ``events`` against the rules above, in one pass.

    Raises:
        HistoryFormatError: the first broken rule, naming ``source``, the event index and
            the field (as ``<type>EventAttributes.<field>``, where Temporal's JSON has it).
    """
    state = _Story()
    for index, event in enumerate(events):
        try:
            state.read(event, index)
        except _Broken as broken:
            raise HistoryFormatError(f"{source}: event index {index}"
                                     f"{_where(event, broken.field)}: {broken.problem}") from None


def _where(event: HistoryEvent, field: str) -> str:
    """", field ..." as Temporal's JSON spells the place: eventId, or the attribute's path."""
    if not field:
        return ""
    if field in ("eventId", "eventType", "eventTime"):
        return f", field {field}"
    return f", field {event.event_type.attributes_key}.{field}"


class _Story:
    """What the events read so far established: which events exist, what started and what
    closed. Reading an event checks it against that and adds it."""

    def __init__(self) -> None:
        self.events: list[HistoryEvent] = []
        self.started: dict[int, int] = {}
        """Id of the event that scheduled something -> id of the event that started it."""
        self.closed: dict[int, int] = {}
        """Id of the event that scheduled something -> id of the event that closed it."""
        self.open_timers: dict[str, int] = {}
        """Running timers: timer id -> id of the TimerStarted."""

    def read(self, event: HistoryEvent, index: int) -> None:
        self._check_event(event, index)
        attributes = event.attributes
        names, links = _RULES[event.event_type]
        for name in names:
            value = attributes.get(name)
            if not isinstance(value, str) or not value:
                raise _Broken(name, "missing" if value is None else
                              f"expected a non-empty name, got {short_repr(value)}")
        for name, fits, what in _KIND_CHECKS:
            if name in attributes and not fits(attributes[name]):
                raise _Broken(name, f"expected {what}, got {short_repr(attributes[name])}")
        if event.event_type is E.MARKER_RECORDED and not isinstance(
                attributes.get("details", {}), dict):
            raise _Broken("details", "expected an object of named payloads")
        events = self.events
        for name, target, required in links:
            value = attributes.get(name, 0)
            if value.__class__ is int and (
                    (0 < value <= len(events) and events[value - 1].event_type is target)
                    or not (value or required)):
                continue  # the common cases inline: a link to the right event, or none
            self._link(attributes, name, target, required)  # what is wrong, in words
        self._once(event)
        events.append(event)

    def _check_event(self, event: HistoryEvent, index: int) -> None:
        # Each test first asks whether the value has exactly the usual class (one cheap
        # comparison: this runs for every event of every history replayed) and only then
        # whether it is an acceptable subclass.
        if event.__class__ is not HistoryEvent and not isinstance(event, HistoryEvent):
            raise _Broken("", f"expected a HistoryEvent, got {type(event).__name__}")
        event_id = event.event_id
        if not _is_int(event_id) or event_id != index + 1:
            raise _Broken("eventId", f"is {short_repr(event.event_id)} but {index + 1} was "
                                     "expected (ids run 1, 2, 3, ... without gaps)")
        if event.event_type.__class__ is not EventType:  # (an Enum has no subclasses)
            raise _Broken("eventType", f"expected an EventType, got "
                                       f"{short_repr(event.event_type)}")
        time = event.time
        if (time.__class__ is not float and (isinstance(time, bool)
                                             or not isinstance(time, int | float))) or (
                not math.isfinite(time)):
            raise _Broken("eventTime", f"expected a finite time in seconds, got "
                                       f"{short_repr(time)}")
        if event.attributes.__class__ is not dict and not isinstance(event.attributes, dict):
            raise _Broken("", f"attributes: expected a dict, got "
                              f"{type(event.attributes).__name__}")
        first = event.event_type is E.WORKFLOW_EXECUTION_STARTED
        if first != (index == 0):
            raise _Broken("eventType", "a history starts with WorkflowExecutionStarted, once"
                          if first else
                          f"{event.event_type} cannot be the first event: a history starts "
                          "with WorkflowExecutionStarted")
        if self.events and self.events[-1].event_type in _WORKFLOW_CLOSED:
            raise _Broken("eventType", f"{event.event_type} after the workflow closed with "
                                       f"{self.events[-1].event_type} (event "
                                       f"{self.events[-1].event_id})")

    def _link(self, attributes: dict[str, Any], name: str, target: EventType,
              required: bool) -> None:
        value = attributes.get(name, 0)
        if not _is_int(value):
            raise _Broken(name, f"expected an event id, got {short_repr(value)}")
        if value == 0 and not required:
            return  # protobuf JSON leaves a zero out: "none"
        if not 1 <= value <= len(self.events):
            raise _Broken(name, "missing" if value == 0 and name not in attributes else
                          f"points to event {value}, which is not an earlier event")
        found = self.events[value - 1].event_type
        if found is not target:
            raise _Broken(name, f"points to event {value} ({found}), expected {target}")

    def _once(self, event: HistoryEvent) -> None:
        t, attributes = event.event_type, event.attributes
        if t is E.TIMER_STARTED:
            timer_id = attributes["timerId"]
            if timer_id in self.open_timers:
                raise _Broken("timerId", f"timer {timer_id!r} is already running (started "
                                         f"by event {self.open_timers[timer_id]})")
            self.open_timers[timer_id] = event.event_id
        rule = _ONCE.get(t)
        if rule is None:
            return
        name, what = rule
        subject = attributes[name]
        opener = self.events[subject - 1]
        if t in _TIMER_CLOSED:
            if attributes["timerId"] != opener.attributes["timerId"]:
                raise _Broken("timerId", f"is {attributes['timerId']!r} but event {subject} "
                                         f"started timer {opener.attributes['timerId']!r}")
            self.open_timers.pop(attributes["timerId"], None)
        if subject in self.closed:
            raise _Broken(name, f"{_thing(opener, subject)} already closed at event "
                                f"{self.closed[subject]}")
        if what == "started":
            if subject in self.started:
                raise _Broken(name, f"{_thing(opener, subject)} already started at event "
                                    f"{self.started[subject]}")
            self.started[subject] = event.event_id
            return
        self.closed[subject] = event.event_id
        started = attributes.get("startedEventId", 0) if t not in _TIMER_CLOSED else 0
        if started and self.events[started - 1].attributes.get(name) != subject:
            raise _Broken("startedEventId", f"points to event {started}, which did not start "
                                            f"{_thing(opener, subject)}")


def _thing(opener: HistoryEvent, subject: int) -> str:
    """How a message names what event ``subject`` (the ``opener``) scheduled or started
    (written only when a rule is broken: every event would pay for it otherwise)."""
    return f"the {_THINGS[opener.event_type]} {subject}"


_RULES: dict[EventType, tuple[tuple[str, ...], tuple[_Link, ...]]] = {
    t: (_NAMES.get(t, ()), (*_LINKS.get(t, ()), ("workflowTaskCompletedEventId",
                                                E.WORKFLOW_TASK_COMPLETED, False)))
    for t in EventType}
"""For each event type, the names it must carry and the links it may hold, looked up once
per event (every event may carry ``workflowTaskCompletedEventId``: commands do)."""

_THINGS = {
    E.ACTIVITY_TASK_SCHEDULED: "activity scheduled by event",
    E.TIMER_STARTED: "timer started by event",
    E.START_CHILD_WORKFLOW_EXECUTION_INITIATED: "child workflow initiated by event",
    E.WORKFLOW_TASK_SCHEDULED: "workflow task scheduled by event",
}
"""How messages name what an event id stands for."""
