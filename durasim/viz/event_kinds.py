"""Which history events a picture must make stand out, and as what.

Most of a history is the routine of scheduling and completing activities. The events that
carry the lessons of the six characteristics — a heartbeat or start-to-close timeout, a
cancellation, an update, a signal, a local activity or a patch, a workflow task that
failed and is being retried — are easy to miss in a grey table or among the small
squares of a timeline. The history view and the timeline both ask :func:`event_kind`, so
an event looks like the same kind of thing in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from durasim.engine.history import EventType as E
from durasim.engine.history import HistoryEvent, timeout_name
from durasim.i18n import t

KINDS = ("timeout", "cancel", "update", "signal", "local_activity", "patch", "marker",
         "task_retry")
"""The kinds an event can be drawn as, in the order legends list them."""

_BY_TYPE: dict[str, str] = {
    **{t.value: "timeout" for t in (E.ACTIVITY_TASK_TIMED_OUT, E.WORKFLOW_TASK_TIMED_OUT,
                                    E.WORKFLOW_EXECUTION_TIMED_OUT,
                                    E.CHILD_WORKFLOW_EXECUTION_TIMED_OUT)},
    **{t.value: "cancel" for t in (
        E.TIMER_CANCELED, E.WORKFLOW_EXECUTION_CANCEL_REQUESTED, E.WORKFLOW_EXECUTION_CANCELED,
        E.ACTIVITY_TASK_CANCEL_REQUESTED, E.ACTIVITY_TASK_CANCELED,
        E.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        E.EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED, E.CHILD_WORKFLOW_EXECUTION_CANCELED)},
    **{t.value: "update" for t in (
        E.WORKFLOW_EXECUTION_UPDATE_ADMITTED, E.WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        E.WORKFLOW_EXECUTION_UPDATE_REJECTED, E.WORKFLOW_EXECUTION_UPDATE_COMPLETED)},
    **{t.value: "signal" for t in (E.WORKFLOW_EXECUTION_SIGNALED,
                                   E.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
                                   E.EXTERNAL_WORKFLOW_EXECUTION_SIGNALED)},
    E.WORKFLOW_TASK_FAILED.value: "task_retry",
}

_MARKERS = {"core_local_activity": "local_activity", "core_patch": "patch"}
"""The Temporal SDKs' marker names: a local activity's result, a patch."""


def event_kind(event_type: Any, attributes: Mapping[str, Any] | None = None) -> str | None:
    """The kind ``event_type`` (an EventType or its name) is drawn as; None for routine.

    With the event's ``attributes`` the answer is sharper: a marker is a local activity or
    a patch, a workflow task scheduled again (attempt > 1) is a retry of a failed one, and
    an activity started after a timeout is the timeout's consequence.
    """
    name = str(event_type)
    a = attributes or {}
    if name == E.MARKER_RECORDED.value:
        return _MARKERS.get(str(a.get("markerName", "")), "marker")
    if name == E.WORKFLOW_TASK_SCHEDULED.value:
        return "task_retry" if int(a.get("attempt", 1) or 1) > 1 else None
    if name == E.ACTIVITY_TASK_STARTED.value:
        previous = a.get("lastFailure")
        if isinstance(previous, dict) and previous.get("timeoutFailureInfo"):
            return "timeout"
        return None
    return _BY_TYPE.get(name)


def kind_of(event: HistoryEvent) -> str | None:
    """:func:`event_kind` of one history event."""
    return event_kind(event.event_type, event.attributes)


_CANCELS = {E.WORKFLOW_EXECUTION_CANCEL_REQUESTED.value: "cancel_requested",
            E.TIMER_CANCELED.value: "timer_canceled",
            E.WORKFLOW_EXECUTION_CANCELED.value: "canceled"}


def timeout_label(timeout_type: Any) -> str:
    """``TIMEOUT_TYPE_HEARTBEAT`` -> "heartbeat timeout", in the current language."""
    try:
        return t(f"timeout_{timeout_name(timeout_type)}")
    except KeyError:
        return t("kind_timeout")


def kind_label(kind: str, event_type: Any = None,
               attributes: Mapping[str, Any] | None = None) -> str:
    """What an event of ``kind`` is called on a picture, in the current language: which
    timeout it was, or which step of a cancellation, when the event says so."""
    a = attributes or {}
    if kind == "timeout":
        failure = a.get("failure") or a.get("lastFailure")
        info = failure.get("timeoutFailureInfo") if isinstance(failure, dict) else None
        found = info.get("timeoutType") if isinstance(info, dict) else a.get("timeoutType")
        return timeout_label(found) if found else t("kind_timeout")
    if kind == "cancel" and str(event_type) in _CANCELS:
        return t(_CANCELS[str(event_type)])
    return t(f"kind_{kind}")
