"""Commands: what workflow code asks the engine to do, one small record per kind.

Workflow code never acts on the world itself. Each ``ctx`` call that would (run an
activity, start a timer, finish) becomes a command; the worker sends the commands of a
workflow task to the server, which records each as a history event. On replay the same
code issues the same commands again, and each must *match* the event recorded for it:
that is the determinism rule, and :meth:`Command.matches` is where it is decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from durasim.engine.history import EventType, HistoryEvent
from durasim.engine.store_values import normalised
from durasim.errors import StoreError

E = EventType


def as_recorded(value: Any) -> Any:
    """``value`` as a history holds it (tuples as lists, keys as text; see
    :mod:`durasim.engine.store_values`): what the recorded event of a command holds."""
    try:
        return normalised(value)
    except StoreError:
        return value  # it could not have been recorded: it will not match


@dataclass(frozen=True, slots=True)
class Command:
    """A command, as recorded by the event of type ``event_type``."""

    name: ClassVar[str] = "Command"
    """Temporal's name for the command (``ScheduleActivityTask``)."""
    event_type: ClassVar[EventType]
    closes_workflow: ClassVar[bool] = False

    def attributes(self) -> dict[str, Any]:
        """The event attributes the code asked for (the server may add its own)."""
        return {}

    def matches(self, event: HistoryEvent) -> bool:
        """Does the recorded ``event`` record this command? Names and arguments count."""
        return event.event_type is self.event_type

    def key_text(self) -> str:
        """What identifies this command in a message (``withdraw, ['alice', 25]``)."""
        return ""

    def describe(self) -> str:
        """``ScheduleActivityTask(withdraw, ['alice', 25])``: how errors name a command."""
        return f"{self.name}({self.key_text()})"


@dataclass(frozen=True, slots=True)
class ScheduleActivity(Command):
    """Run activity ``activity_type`` with ``input`` (at least once)."""

    name: ClassVar[str] = "ScheduleActivityTask"
    event_type: ClassVar[EventType] = E.ACTIVITY_TASK_SCHEDULED
    activity_id: str
    activity_type: str
    input: tuple[Any, ...]
    task_queue: str
    start_to_close: float
    schedule_to_close: float
    retry_policy: dict[str, Any]
    heartbeat_timeout: float = 0.0

    def attributes(self) -> dict[str, Any]:
        attributes = {"activityId": self.activity_id, "activityType": self.activity_type,
                      "taskQueue": self.task_queue, "input": list(self.input),
                      "startToCloseTimeout": self.start_to_close,
                      "retryPolicy": self.retry_policy,
                      "scheduleToCloseTimeout": self.schedule_to_close}
        if self.heartbeat_timeout:
            attributes["heartbeatTimeout"] = self.heartbeat_timeout
        return attributes

    def matches(self, event: HistoryEvent) -> bool:
        a = event.attributes
        if event.event_type is not self.event_type or a.get("activityType") != self.activity_type:
            return False
        recorded, given = a.get("input", []), list(self.input)
        # Plain JSON arguments equal their recorded form as they are; only when they do not
        # is the (deep-copying) recorded form worth building: tuples become lists, ...
        return recorded == given or recorded == as_recorded(given)

    def key_text(self) -> str:
        return f"{self.activity_type}, {list(self.input)!r}"


@dataclass(frozen=True, slots=True)
class RequestCancelActivity(Command):
    """Ask the server to cancel the activity scheduled by event ``scheduled_event_id``."""

    name: ClassVar[str] = "RequestCancelActivityTask"
    event_type: ClassVar[EventType] = E.ACTIVITY_TASK_CANCEL_REQUESTED
    scheduled_event_id: int

    def attributes(self) -> dict[str, Any]:
        return {"scheduledEventId": self.scheduled_event_id}

    def matches(self, event: HistoryEvent) -> bool:
        return (event.event_type is self.event_type
                and event.attributes.get("scheduledEventId") == self.scheduled_event_id)

    def key_text(self) -> str:
        return f"event {self.scheduled_event_id}"


@dataclass(frozen=True, slots=True)
class StartTimer(Command):
    """A durable timer of ``seconds``."""

    name: ClassVar[str] = "StartTimer"
    event_type: ClassVar[EventType] = E.TIMER_STARTED
    timer_id: str
    seconds: float

    def attributes(self) -> dict[str, Any]:
        return {"timerId": self.timer_id, "startToFireTimeout": self.seconds}

    def matches(self, event: HistoryEvent) -> bool:
        return (event.event_type is self.event_type and abs(
            float(event.attributes.get("startToFireTimeout", 0.0)) - self.seconds) < 1e-6)

    def key_text(self) -> str:
        return f"{self.seconds}"


@dataclass(frozen=True, slots=True)
class CancelTimer(Command):
    """Cancel timer ``timer_id`` before it fires."""

    name: ClassVar[str] = "CancelTimer"
    event_type: ClassVar[EventType] = E.TIMER_CANCELED
    timer_id: str

    def attributes(self) -> dict[str, Any]:
        return {"timerId": self.timer_id}

    def matches(self, event: HistoryEvent) -> bool:
        return (event.event_type is self.event_type
                and str(event.attributes.get("timerId")) == self.timer_id)

    def key_text(self) -> str:
        return f"timer {self.timer_id}"


@dataclass(frozen=True, slots=True)
class RecordMarker(Command):
    """Write a marker (a patch, a local activity's result) into the history."""

    name: ClassVar[str] = "RecordMarker"
    event_type: ClassVar[EventType] = E.MARKER_RECORDED
    marker_name: str
    details: dict[str, Any]

    def attributes(self) -> dict[str, Any]:
        return {"markerName": self.marker_name, "details": self.details}

    def matches(self, event: HistoryEvent) -> bool:
        a = event.attributes
        return (event.event_type is self.event_type
                and a.get("markerName") == self.marker_name
                and a.get("details", {}) == as_recorded(self.details))

    def key_text(self) -> str:
        return f"{self.marker_name}, {self.details!r}"


@dataclass(frozen=True, slots=True)
class PatchMarker(RecordMarker):
    """The marker ``patched``/``deprecate_patch`` record; a replay matches it by change id
    alone, so code that deprecated a patch replays histories recorded before."""

    def matches(self, event: HistoryEvent) -> bool:
        a = event.attributes
        recorded = (a.get("details") or {}).get("patch-data") or {}
        mine = self.details.get("patch-data") or {}
        return (event.event_type is self.event_type
                and a.get("markerName") == self.marker_name
                and isinstance(recorded, dict) and recorded.get("id") == mine.get("id"))


@dataclass(frozen=True, slots=True)
class LocalActivityMarker(RecordMarker):
    """A local activity's result, recorded as Temporal's ``core_local_activity`` marker.

    A replay matches it by sequence number and activity type: its times are the first
    execution's and cannot be re-issued.
    """

    def matches(self, event: HistoryEvent) -> bool:
        a = event.attributes
        recorded = (a.get("details") or {}).get("data") or {}
        mine = self.details.get("data") or {}
        return (event.event_type is self.event_type
                and a.get("markerName") == self.marker_name and isinstance(recorded, dict)
                and recorded.get("seq") == mine.get("seq")
                and recorded.get("activity_type") == mine.get("activity_type"))

    def key_text(self) -> str:
        data = self.details.get("data") or {}
        return f"{self.marker_name}, {data.get('activity_type')} #{data.get('seq')}"


@dataclass(frozen=True, slots=True)
class UpsertSearchAttributes(Command):
    """Set search attributes (Temporal's SDK records a patch here too)."""

    name: ClassVar[str] = "UpsertWorkflowSearchAttributes"
    event_type: ClassVar[EventType] = E.UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    search_attributes: dict[str, Any]

    def attributes(self) -> dict[str, Any]:
        return {"searchAttributes": self.search_attributes}


@dataclass(frozen=True, slots=True)
class StartChild(Command):
    """Start child workflow ``workflow_type`` with ``input`` under id ``workflow_id``."""

    name: ClassVar[str] = "StartChildWorkflowExecution"
    event_type: ClassVar[EventType] = E.START_CHILD_WORKFLOW_EXECUTION_INITIATED
    workflow_id: str
    workflow_type: str
    input: tuple[Any, ...]
    task_queue: str
    parent_close_policy: str = "PARENT_CLOSE_POLICY_TERMINATE"
    """What the server does to the child if this run closes first (see
    :mod:`durasim.engine.parent_close`)."""

    def attributes(self) -> dict[str, Any]:
        return {"workflowId": self.workflow_id, "workflowType": self.workflow_type,
                "taskQueue": self.task_queue, "input": list(self.input),
                "namespace": "default", "parentClosePolicy": self.parent_close_policy}

    def matches(self, event: HistoryEvent) -> bool:
        a = event.attributes
        return (event.event_type is self.event_type
                and a.get("workflowType") == self.workflow_type
                and a.get("input", []) == as_recorded(list(self.input)))

    def key_text(self) -> str:
        return f"{self.workflow_type}, {list(self.input)!r}"


@dataclass(frozen=True, slots=True)
class CompleteWorkflow(Command):
    """Finish the workflow with ``result``."""

    name: ClassVar[str] = "CompleteWorkflowExecution"
    event_type: ClassVar[EventType] = E.WORKFLOW_EXECUTION_COMPLETED
    closes_workflow: ClassVar[bool] = True
    result: Any

    def attributes(self) -> dict[str, Any]:
        return {"result": self.result}

    def matches(self, event: HistoryEvent) -> bool:
        return (event.event_type is self.event_type
                and event.attributes.get("result") == as_recorded(self.result))

    def key_text(self) -> str:
        return f"{self.result!r}"


@dataclass(frozen=True, slots=True)
class FailWorkflow(Command):
    """End the workflow as failed with ``failure``."""

    name: ClassVar[str] = "FailWorkflowExecution"
    event_type: ClassVar[EventType] = E.WORKFLOW_EXECUTION_FAILED
    closes_workflow: ClassVar[bool] = True
    failure: dict[str, Any]

    def attributes(self) -> dict[str, Any]:
        return {"failure": self.failure}

    def key_text(self) -> str:
        return f"{self.failure.get('message')!r}"


@dataclass(frozen=True, slots=True)
class CancelWorkflow(Command):
    """End the workflow as canceled (it was asked to stop, and let the request win)."""

    name: ClassVar[str] = "CancelWorkflowExecution"
    event_type: ClassVar[EventType] = E.WORKFLOW_EXECUTION_CANCELED
    closes_workflow: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class ContinueAsNew(Command):
    """End this run and start the next one of the same workflow with ``input``."""

    name: ClassVar[str] = "ContinueAsNewWorkflowExecution"
    event_type: ClassVar[EventType] = E.WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    closes_workflow: ClassVar[bool] = True
    workflow_type: str
    task_queue: str
    input: tuple[Any, ...]

    def attributes(self) -> dict[str, Any]:
        return {"workflowType": self.workflow_type, "taskQueue": self.task_queue,
                "input": list(self.input)}

    def matches(self, event: HistoryEvent) -> bool:
        return (event.event_type is self.event_type
                and event.attributes.get("input", []) == as_recorded(list(self.input)))

    def key_text(self) -> str:
        return f"{list(self.input)!r}"


@dataclass(frozen=True, slots=True)
class TerminateWorkflow(Command):
    """Not a command workflow code issues: the server ends a run that went past one of
    durasim's limits (see :mod:`~durasim.engine.limits`), saying why."""

    name: ClassVar[str] = "TerminateWorkflowExecution"
    event_type: ClassVar[EventType] = E.WORKFLOW_EXECUTION_TERMINATED
    closes_workflow: ClassVar[bool] = True
    reason: str

    def attributes(self) -> dict[str, Any]:
        return {"reason": self.reason, "identity": "durasim-server"}


@dataclass(frozen=True, slots=True)
class AcceptUpdate(Command):
    """Accept update ``update_id`` (its validator passed): its handler runs from here."""

    name: ClassVar[str] = "AcceptUpdate"
    event_type: ClassVar[EventType] = E.WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    update_id: str
    update_name: str
    args: tuple[Any, ...]

    def attributes(self) -> dict[str, Any]:
        return {"protocolInstanceId": self.update_id,
                "acceptedRequestMessageId": f"{self.update_id}/request",
                "acceptedRequest": {"meta": {"updateId": self.update_id},
                                    "input": {"name": self.update_name,
                                              "args": list(self.args)}}}

    def matches(self, event: HistoryEvent) -> bool:
        return (event.event_type is self.event_type
                and update_id_of(event) == self.update_id)

    def key_text(self) -> str:
        return f"{self.update_name}, {list(self.args)!r}"


@dataclass(frozen=True, slots=True)
class CompleteUpdate(Command):
    """Answer update ``update_id``: its handler returned ``result`` or raised ``failure``."""

    name: ClassVar[str] = "CompleteUpdate"
    event_type: ClassVar[EventType] = E.WORKFLOW_EXECUTION_UPDATE_COMPLETED
    update_id: str
    result: Any = None
    failure: dict[str, Any] | None = None

    def attributes(self) -> dict[str, Any]:
        outcome = ({"failure": self.failure} if self.failure is not None
                   else {"success": [self.result]})
        return {"meta": {"updateId": self.update_id}, "outcome": outcome}

    def matches(self, event: HistoryEvent) -> bool:
        return (event.event_type is self.event_type
                and update_id_of(event) == self.update_id)

    def key_text(self) -> str:
        return f"update {self.update_id}"


def update_id_of(event: HistoryEvent) -> str | None:
    """The update an Accepted/Completed event is about."""
    a = event.attributes
    meta = (a.get("acceptedRequest") or {}).get("meta") or a.get("meta") or {}
    found = meta.get("updateId") if isinstance(meta, dict) else None
    return str(found) if found is not None else None


COMMAND_CLASSES: tuple[type[Command], ...] = (
    ScheduleActivity, RequestCancelActivity, StartTimer, CancelTimer, RecordMarker,
    UpsertSearchAttributes, StartChild, CompleteWorkflow, FailWorkflow, CancelWorkflow,
    ContinueAsNew, AcceptUpdate, CompleteUpdate)
COMMAND_EVENTS: frozenset[EventType] = frozenset(c.event_type for c in COMMAND_CLASSES)
"""History events that record a command."""


def command_events_after(events: Sequence[HistoryEvent], start: int) -> list[HistoryEvent]:
    """The command events from index ``start`` on, up to the first event of another kind
    (what a replayed workflow task's code must issue)."""
    found = []
    for index in range(start, len(events)):  # no slice: a slice copies the rest (O(n^2))
        event = events[index]
        if event.event_type not in COMMAND_EVENTS:
            break
        found.append(event)
    return found


def describe_event(event: HistoryEvent) -> str:
    """``ActivityTaskScheduled(withdraw, ['alice', 25])``: how errors name an event."""
    a, t = event.attributes, event.event_type
    if t is E.ACTIVITY_TASK_SCHEDULED:
        key = f"{a.get('activityType')}, {a.get('input', [])!r}"
    elif t is E.TIMER_STARTED:
        key = f"{float(a.get('startToFireTimeout', 0.0))}"
    elif t in (E.TIMER_CANCELED, E.TIMER_FIRED):
        key = f"timer {a.get('timerId')}"
    elif t is E.MARKER_RECORDED:
        key = f"{a.get('markerName')}, {a.get('details', {})!r}"
    elif t is E.START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        key = f"{a.get('workflowType')}, {a.get('input', [])!r}"
    elif t is E.WORKFLOW_EXECUTION_COMPLETED:
        key = f"{a.get('result')!r}"
    elif t is E.WORKFLOW_EXECUTION_FAILED:
        key = f"{(a.get('failure') or {}).get('message')!r}"
    elif t is E.ACTIVITY_TASK_CANCEL_REQUESTED:
        key = f"event {a.get('scheduledEventId')}"
    else:
        key = f"{a.get('input', [])!r}" if "input" in a else ""
    return f"{t.value}({key})"
