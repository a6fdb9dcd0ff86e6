"""Temporal-shaped event histories: the durable record a workflow is rebuilt from.

Durable execution is event sourcing: the service appends every decision and result of a
workflow to a history, and a worker that crashed rebuilds the workflow's state by replaying
it. durasim records the events Temporal records, with Temporal's names, so what a class
sees in a notebook is what it will see in Temporal's UI.

This module is the model only: the event types, one event, a history, and the one-line
summary of an event that tables and timelines print. An event carries two views of the
same facts:

* ``attributes``: decoded, simplified Python values (payloads decoded, durations as float
  seconds, event ids as ints) that the engine and the pictures work with;
* ``raw``: the JSON object a loaded event came from, written back untouched so that loading
  and saving a real history is lossless.

Temporal's JSON in and out lives in :mod:`durasim.engine.temporal_json`; the HTML table in
:mod:`durasim.viz.history`. ``History`` keeps ``from_temporal_json``, ``to_temporal_json``
and ``_repr_html_`` as doors to them (the table through :data:`HISTORY_VIEWERS`, since the
engine cannot import the pictures drawn above it).
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Any, overload

__all__ = ["HISTORY_VIEWERS", "EventType", "History", "HistoryEvent", "make_failure",
           "short_repr", "timeout_name"]

class EventType(StrEnum):
    """Temporal's event types; the value is the CamelCase name Temporal's UI shows.

    A ``StrEnum`` (a ``str`` and an ``Enum``), so ``str(t)`` and f-strings give that name.
    """

    WORKFLOW_EXECUTION_STARTED = "WorkflowExecutionStarted"
    WORKFLOW_EXECUTION_COMPLETED = "WorkflowExecutionCompleted"
    WORKFLOW_EXECUTION_FAILED = "WorkflowExecutionFailed"
    WORKFLOW_EXECUTION_TIMED_OUT = "WorkflowExecutionTimedOut"
    WORKFLOW_TASK_SCHEDULED = "WorkflowTaskScheduled"
    WORKFLOW_TASK_STARTED = "WorkflowTaskStarted"
    WORKFLOW_TASK_COMPLETED = "WorkflowTaskCompleted"
    WORKFLOW_TASK_TIMED_OUT = "WorkflowTaskTimedOut"
    WORKFLOW_TASK_FAILED = "WorkflowTaskFailed"
    ACTIVITY_TASK_SCHEDULED = "ActivityTaskScheduled"
    ACTIVITY_TASK_STARTED = "ActivityTaskStarted"
    ACTIVITY_TASK_COMPLETED = "ActivityTaskCompleted"
    ACTIVITY_TASK_FAILED = "ActivityTaskFailed"
    ACTIVITY_TASK_TIMED_OUT = "ActivityTaskTimedOut"
    ACTIVITY_TASK_CANCEL_REQUESTED = "ActivityTaskCancelRequested"
    ACTIVITY_TASK_CANCELED = "ActivityTaskCanceled"
    TIMER_STARTED = "TimerStarted"
    TIMER_FIRED = "TimerFired"
    TIMER_CANCELED = "TimerCanceled"
    WORKFLOW_EXECUTION_CANCEL_REQUESTED = "WorkflowExecutionCancelRequested"
    WORKFLOW_EXECUTION_CANCELED = "WorkflowExecutionCanceled"
    REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED = (
        "RequestCancelExternalWorkflowExecutionInitiated")
    REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED = (
        "RequestCancelExternalWorkflowExecutionFailed")
    EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED = "ExternalWorkflowExecutionCancelRequested"
    MARKER_RECORDED = "MarkerRecorded"
    WORKFLOW_EXECUTION_SIGNALED = "WorkflowExecutionSignaled"
    WORKFLOW_EXECUTION_TERMINATED = "WorkflowExecutionTerminated"
    WORKFLOW_EXECUTION_CONTINUED_AS_NEW = "WorkflowExecutionContinuedAsNew"
    START_CHILD_WORKFLOW_EXECUTION_INITIATED = "StartChildWorkflowExecutionInitiated"
    START_CHILD_WORKFLOW_EXECUTION_FAILED = "StartChildWorkflowExecutionFailed"
    CHILD_WORKFLOW_EXECUTION_STARTED = "ChildWorkflowExecutionStarted"
    CHILD_WORKFLOW_EXECUTION_COMPLETED = "ChildWorkflowExecutionCompleted"
    CHILD_WORKFLOW_EXECUTION_FAILED = "ChildWorkflowExecutionFailed"
    CHILD_WORKFLOW_EXECUTION_CANCELED = "ChildWorkflowExecutionCanceled"
    CHILD_WORKFLOW_EXECUTION_TIMED_OUT = "ChildWorkflowExecutionTimedOut"
    CHILD_WORKFLOW_EXECUTION_TERMINATED = "ChildWorkflowExecutionTerminated"
    SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED = "SignalExternalWorkflowExecutionInitiated"
    SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED = "SignalExternalWorkflowExecutionFailed"
    EXTERNAL_WORKFLOW_EXECUTION_SIGNALED = "ExternalWorkflowExecutionSignaled"
    UPSERT_WORKFLOW_SEARCH_ATTRIBUTES = "UpsertWorkflowSearchAttributes"
    WORKFLOW_EXECUTION_UPDATE_ADMITTED = "WorkflowExecutionUpdateAdmitted"
    WORKFLOW_EXECUTION_UPDATE_ACCEPTED = "WorkflowExecutionUpdateAccepted"
    WORKFLOW_EXECUTION_UPDATE_REJECTED = "WorkflowExecutionUpdateRejected"
    WORKFLOW_EXECUTION_UPDATE_COMPLETED = "WorkflowExecutionUpdateCompleted"
    WORKFLOW_PROPERTIES_MODIFIED_EXTERNALLY = "WorkflowPropertiesModifiedExternally"
    ACTIVITY_PROPERTIES_MODIFIED_EXTERNALLY = "ActivityPropertiesModifiedExternally"
    WORKFLOW_PROPERTIES_MODIFIED = "WorkflowPropertiesModified"
    WORKFLOW_EXECUTION_OPTIONS_UPDATED = "WorkflowExecutionOptionsUpdated"

    @property
    def proto_name(self) -> str:
        """The protobuf enum name JSON histories use, e.g. ``EVENT_TYPE_TIMER_FIRED``."""
        return "EVENT_TYPE_" + self.name

    @property
    def attributes_key(self) -> str:
        """The JSON key holding this event's attributes, e.g. ``timerFiredEventAttributes``."""
        return self.value[0].lower() + self.value[1:] + "EventAttributes"

    @property
    def is_workflow_task(self) -> bool:
        """True for the bookkeeping events a compact (teaching) view hides."""
        return self in _WORKFLOW_TASK_TYPES

    @classmethod
    def parse(cls, name: str) -> EventType:
        """Read any spelling found in the wild: proto, Go ``String()`` or CamelCase.

        Raises:
            ValueError: the name is not a Temporal event type.
        """
        if isinstance(name, EventType):
            return name
        found = _BY_SPELLING.get(name) if isinstance(name, str) else None
        if found is None:
            raise ValueError(f"unknown event type {short_repr(name)}; expected a name like "
                             "'ActivityTaskScheduled' or 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED'")
        return found


_WORKFLOW_TASK_TYPES = frozenset(t for t in EventType if t.name.startswith("WORKFLOW_TASK_"))
_BY_SPELLING: dict[str, EventType] = {}
for _t in EventType:
    _BY_SPELLING.update({_t.value: _t, "EventType" + _t.value: _t, _t.proto_name: _t})
del _t


class HistoryEvent:
    """One event of a history, at ``time`` seconds of virtual time after the workflow started.

    The engine makes about a million of these a second, so construction is plain
    assignment; ``attributes`` hold decoded values (see the module docstring) and ``raw``
    the original JSON of a loaded event (None for events the engine made).
    """

    __slots__ = ("attributes", "event_id", "event_type", "raw", "time")

    def __init__(self, event_id: int, event_type: EventType, time: float,
                 attributes: dict[str, Any] | None = None,
                 raw: dict[str, Any] | None = None) -> None:
        self.event_id = event_id
        self.event_type = event_type
        self.time = time
        self.attributes: dict[str, Any] = {} if attributes is None else attributes
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        """Equal ids, types and attributes, at the nanosecond resolution JSON keeps of time."""
        if not isinstance(other, HistoryEvent):
            return NotImplemented
        return (self.event_id == other.event_id and self.event_type == other.event_type
                and _same_instant(self.time, other.time) and self.attributes == other.attributes)

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        key = next((k for k in _REPR_KEYS if k in self.attributes), None)
        extra = f", {key}={self.attributes[key]!r}" if key else ""
        return f"HistoryEvent({self.event_id}, {self.event_type}{extra})"

    def summary(self) -> str:
        """A short human description of the key attributes, for tables and timelines."""
        describe = _SUMMARIES.get(self.event_type)
        try:
            return describe(self.attributes) if describe else ""
        except (KeyError, TypeError, ValueError, AttributeError):
            return ""  # a hand-made event missing a field still renders


_REPR_KEYS = ("activityType", "workflowType", "signalName", "markerName", "timerId",
              "scheduledEventId", "initiatedEventId", "startedEventId")


def make_failure(message: str, type: str | None = None, *, non_retryable: bool = False,
                 cause: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build a decoded failure, the value of a ``failure`` attribute.

    Having one constructor keeps every failure in the exact four-key shape that survives a
    trip through Temporal JSON unchanged.
    """
    return {"message": message, "type": type, "nonRetryable": non_retryable, "cause": cause}


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for one-line messages and summaries."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _same_instant(a: float, b: float) -> bool:
    """Equal up to the nanosecond JSON keeps (plus float rounding of large times)."""
    return a == b or abs(a - b) <= 1e-9 + 4 * math.ulp(max(abs(a), abs(b)))


class History:
    """The ordered events of one workflow run, with Temporal JSON in and out.

    ``events[i]`` has event id ``i + 1``, as in Temporal. ``source`` names where a loaded
    history came from, for messages; ``workflow_id``/``workflow_type``/``run_id`` are read
    from the start event when loading.
    """

    def __init__(self, events: list[HistoryEvent] | None = None, *, workflow_id: str = "",
                 workflow_type: str = "", run_id: str = "", source: str = "") -> None:
        self.events: list[HistoryEvent] = [] if events is None else list(events)
        self.workflow_id = workflow_id
        self.workflow_type = workflow_type
        self.run_id = run_id
        self.source = source

    def append(self, event: HistoryEvent) -> None:
        """Add the next event; the engine calls this on its hot path, so nothing is checked."""
        self.events.append(event)

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[HistoryEvent]:
        return iter(self.events)

    @overload
    def __getitem__(self, index: int) -> HistoryEvent: ...
    @overload
    def __getitem__(self, index: slice) -> History: ...

    def __getitem__(self, index: int | slice) -> HistoryEvent | History:
        """Position (0-based; event id - 1), or a slice as a History (for replay stepping)."""
        if isinstance(index, slice):
            return History(self.events[index], workflow_id=self.workflow_id,
                           workflow_type=self.workflow_type, run_id=self.run_id,
                           source=self.source)
        return self.events[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, History):
            return NotImplemented
        return self.events == other.events

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"History({self.workflow_type or '?'}, workflow_id={self.workflow_id!r}, "
                f"{len(self.events)} events)")

    def event_types(self, compact: bool = False) -> list[str]:
        """CamelCase type names; ``compact`` drops workflow-task bookkeeping for teaching."""
        return [e.event_type.value for e in self.events
                if not (compact and e.event_type.is_workflow_task)]

    @classmethod
    def from_temporal_json(cls, text_or_path: str | bytes | os.PathLike[str] | dict[str, Any]
                           | list[Any], *, workflow_id: str | None = None) -> History:
        """Load what ``temporal workflow show --output json`` or ``to_json()`` wrote.

        See :func:`durasim.engine.temporal_json.load_history`, which does the work.

        Raises:
            HistoryFormatError: one line naming the source, event index and field.
        """
        # Imported here: the codec builds Histories, so it imports this module.
        from durasim.engine.temporal_json import load_history
        return load_history(text_or_path, workflow_id=workflow_id, history_class=cls)

    def to_temporal_json(self, indent: int | None = 2) -> str:
        """Temporal's JSON: loaded events verbatim, engine-made ones in the same shape."""
        from durasim.engine.temporal_json import dump_history
        return dump_history(self, indent=indent)

    def _repr_html_(self) -> str:
        """Jupyter shows a history as its event table (see :data:`HISTORY_VIEWERS`)."""
        if HISTORY_VIEWERS:
            return HISTORY_VIEWERS[-1](self)
        lines = [f"{e.event_id:>4}  {e.event_type.value}  {e.summary()}" for e in self.events]
        return f"<pre>{html.escape(chr(10).join([repr(self), *lines]))}</pre>"


HISTORY_VIEWERS: list[Callable[[History], str]] = []
"""What :meth:`History._repr_html_` draws a history with. The table lives in
:mod:`durasim.viz`, above the engine, so the package's front door registers it here;
without one, a history shows as plain lines."""


# --------------------------------------------------------------------------- summaries

def _call(name: Any, args: Any) -> str:
    return f"{name}({short_repr(args)})"


def _failure_text(failure: Any) -> str:
    if not isinstance(failure, dict):
        return ""
    kind = f" ({failure['type']})" if failure.get("type") else ""
    final = ", non-retryable" if failure.get("nonRetryable") else ""
    return f"{failure.get('message', '')}{kind}{final}"


def _attempt(a: dict[str, Any]) -> str:
    return f"attempt {a.get('attempt', 1)}"


def _result(a: dict[str, Any]) -> str:
    return "-> " + short_repr(a.get("result"))


def _start(a: dict[str, Any]) -> str:
    return _call(a.get("workflowType", "?"), a.get("input", []))


def _failed(a: dict[str, Any]) -> str:
    return _failure_text(a.get("failure"))


def _values(value: Any) -> Any:
    """Decoded values as they are; a payload object not decoded yet shows as ``…``."""
    return "…" if isinstance(value, dict) and "payloads" in value else value


def timeout_name(timeout_type: Any) -> str:
    """``"heartbeat"`` from ``TIMEOUT_TYPE_HEARTBEAT``, ``"start-to-close"`` from
    ``TIMEOUT_TYPE_START_TO_CLOSE``: how people (and the SDKs' options) name a timeout."""
    return str(timeout_type or "").removeprefix("TIMEOUT_TYPE_").replace("_", "-").lower()


def _timeout_type(failure: Any) -> str:
    """The :func:`timeout_name` of a failure ("" when it is not a timeout)."""
    info = failure.get("timeoutFailureInfo") if isinstance(failure, dict) else None
    return timeout_name(info.get("timeoutType")) if isinstance(info, dict) else ""


def _timed_out(a: dict[str, Any]) -> str:
    """Which timeout, and the checkpoint a heartbeat timeout leaves the next attempt."""
    failure = a.get("failure") or {}
    kind = _timeout_type(failure)
    if not kind:
        return _failed(a)
    details = failure["timeoutFailureInfo"].get("lastHeartbeatDetails")
    last = f", last heartbeat {short_repr(_values(details))}" if details else ""
    return f"{kind} timeout{last}"


def _marker(a: dict[str, Any]) -> str:
    """A local activity's call and result, or a patch, instead of the SDK's marker name."""
    name, details = a.get("markerName", "?"), a.get("details") or {}
    if name == "core_local_activity" and isinstance(details.get("data"), dict):
        call = details["data"].get("activity_type", "?")
        return f"local activity {call} -> {short_repr(_values(details.get('result')))}"
    if name == "core_patch" and isinstance(details.get("patch-data"), dict):
        patch = details["patch-data"]
        return f"patch {patch.get('id', '?')}" + (" (deprecated)" if patch.get(
            "deprecated") else "")
    return f"marker {name}"


def _update_accepted(a: dict[str, Any]) -> str:
    request = (a.get("acceptedRequest") or {}).get("input") or {}
    return "update " + _call(request.get("name", "?"), _values(request.get("args", [])))


def _update_completed(a: dict[str, Any]) -> str:
    outcome = a.get("outcome") or {}
    if "failure" in outcome:
        return "update failed: " + _failure_text(outcome["failure"])
    success = _values(outcome.get("success"))
    if isinstance(success, list) and len(success) == 1:  # one return value, as a list
        success = success[0]
    return "update -> " + short_repr(success)


def _update_rejected(a: dict[str, Any]) -> str:
    return "update refused: " + _failure_text(a.get("rejectionFailure"))


def _child(a: dict[str, Any]) -> str:
    return f"child {a['workflowExecution']['workflowId']}"


def _cancel_requested(a: dict[str, Any]) -> str:
    """Why, or who asked (another workflow: a parent closing with REQUEST_CANCEL)."""
    asker = (a.get("externalWorkflowExecution") or {}).get("workflowId")
    return str(a.get("cause") or "") or (f"asked by {asker}" if asker else "")


_SUMMARIES: dict[EventType, Callable[[dict[str, Any]], str]] = {
    EventType.WORKFLOW_EXECUTION_STARTED: _start,
    EventType.WORKFLOW_EXECUTION_COMPLETED: _result,
    EventType.WORKFLOW_EXECUTION_FAILED: _failed,
    EventType.WORKFLOW_EXECUTION_CONTINUED_AS_NEW: _start,
    EventType.WORKFLOW_EXECUTION_TERMINATED: lambda a: str(a.get("reason", "")),
    EventType.WORKFLOW_TASK_SCHEDULED: lambda a: _attempt(a) if a.get("attempt", 1) > 1 else "",
    EventType.WORKFLOW_TASK_FAILED: _failed,
    EventType.ACTIVITY_TASK_SCHEDULED: lambda a: _call(a.get("activityType", "?"),
                                                       a.get("input", [])),
    EventType.ACTIVITY_TASK_STARTED: _attempt,
    EventType.ACTIVITY_TASK_COMPLETED: _result,
    EventType.ACTIVITY_TASK_FAILED: _failed,
    EventType.ACTIVITY_TASK_TIMED_OUT: _timed_out,
    EventType.TIMER_STARTED: lambda a: f"timer {float(a['startToFireTimeout'])}s",
    EventType.TIMER_FIRED: lambda a: f"timer {a.get('timerId', '?')} fired",
    EventType.TIMER_CANCELED: lambda a: f"timer {a.get('timerId', '?')} canceled",
    EventType.WORKFLOW_EXECUTION_SIGNALED: lambda a: f"signal {a.get('signalName', '?')}"
    + (f" {short_repr(a['input'])}" if a.get("input") else ""),
    EventType.MARKER_RECORDED: _marker,
    EventType.WORKFLOW_TASK_TIMED_OUT: lambda a: str(a.get("timeoutType", "")),
    EventType.WORKFLOW_EXECUTION_CANCEL_REQUESTED: _cancel_requested,
    EventType.WORKFLOW_EXECUTION_UPDATE_ACCEPTED: _update_accepted,
    EventType.WORKFLOW_EXECUTION_UPDATE_COMPLETED: _update_completed,
    EventType.WORKFLOW_EXECUTION_UPDATE_REJECTED: _update_rejected,
    EventType.START_CHILD_WORKFLOW_EXECUTION_INITIATED: _start,
    EventType.CHILD_WORKFLOW_EXECUTION_STARTED: _child,
    EventType.CHILD_WORKFLOW_EXECUTION_COMPLETED: _result,
    EventType.CHILD_WORKFLOW_EXECUTION_FAILED: _failed,
    **dict.fromkeys((EventType.CHILD_WORKFLOW_EXECUTION_CANCELED,
                     EventType.CHILD_WORKFLOW_EXECUTION_TERMINATED,
                     EventType.CHILD_WORKFLOW_EXECUTION_TIMED_OUT), _child),
}
