"""Temporal's JSON in and out: the codec between a History and what Temporal writes.

A real history (``temporal workflow show --output json``, or the Python SDK's
``WorkflowHistory.to_json()``) is ``{"events": [...]}``: each event has ``eventId``,
``eventTime``, ``eventType`` and one ``<type>EventAttributes`` object. Reading decodes each
attribute with the codec its field name calls for (a table below, so a new field is one
line) and keeps the original JSON in ``HistoryEvent.raw``; writing gives loaded events back
verbatim and encodes engine-made ones in the same shape, so a round trip is lossless.

Whatever is wrong with a document is a :class:`~durasim.errors.HistoryFormatError` of
one line naming the source, the event index and the field.
"""

from __future__ import annotations

import json
import os
from typing import Any

from durasim.engine.history import EventType, History, HistoryEvent, short_repr
from durasim.engine.history_rules import check_events
from durasim.engine.temporal_values import (
    ANCHOR_NS,
    DURATION,
    FAILURE,
    INT32,
    INT64,
    NAME,
    NS,
    PAYLOAD_LIST,
    PAYLOAD_MAP,
    PAYLOAD_ONE,
    TASK_QUEUE,
    Codec,
    FieldError,
    check_text,
    decode_object,
    encode_object,
    expect,
    field,
    format_time,
    indexed,
    kind_of,
    parse_time,
)
from durasim.errors import HistoryFormatError

__all__ = ["MAX_FILE_BYTES", "dump_history", "load_history"]

MAX_FILE_BYTES = 64 << 20
"""The most a history file may hold. Temporal refuses histories over 50 MB; the bound keeps
``/dev/zero`` or a wrong multi-gigabyte file from filling the memory."""


def load_history(data: str | bytes | os.PathLike[str] | dict[str, Any] | list[Any], *,
                 workflow_id: str | None = None,
                 history_class: type[History] = History) -> History:
    """Load what ``temporal workflow show --output json`` or ``to_json()`` wrote.

    Args:
        data: JSON text (a str starting with ``{`` or ``[``, or bytes), a file path, or
            already-parsed JSON; ``{"events": [...]}`` or a bare list of events.
        workflow_id: overrides the id read from the start event (old servers omit it).
        history_class: the History (sub)class to build.

    Raises:
        HistoryFormatError: one line naming the source, event index and field.
    """
    doc, name = _read_document(data)
    events = _decode_events(_events_list(doc, name), name)
    check_events(events, name)
    start = next((e for e in events
                  if e.event_type is EventType.WORKFLOW_EXECUTION_STARTED), None)
    attrs = start.attributes if start else {}

    def text(key: str) -> str:
        value = attrs.get(key, "")
        return value if isinstance(value, str) else ""
    return history_class(
        events, workflow_id=text("workflowId") if workflow_id is None else workflow_id,
        workflow_type=text("workflowType"), run_id=text("originalExecutionRunId"),
        source=name)


def dump_history(history: History, *, indent: int | None = 2) -> str:
    """Temporal's JSON: loaded events verbatim, engine-made ones in the same shape.

    Raises:
        HistoryFormatError: the history breaks a rule of :mod:`~durasim.engine.history_rules`
            or an event holds a value Temporal's JSON cannot (it could not be loaded back),
            naming the source, the event index and the field.
    """
    source = history.source or "<history>"
    check_events(history.events, source)
    anchor = _anchor_ns(history.events)
    written = []
    for index, event in enumerate(history.events):
        try:
            written.append(_event_to_json(event, anchor))
        except FieldError as bad:
            raise HistoryFormatError(f"{source}: event index {index}, field {bad.field}: "
                                     f"{bad.problem}") from None
    return json.dumps({"events": written}, indent=indent, ensure_ascii=False)


# --------------------------------------------------------------------------- which codec

def _nested(table: dict[str, Codec]) -> Codec:
    """An object whose fields have codecs of their own (the others pass through)."""
    return Codec(lambda v: decode_object(expect(v, dict, "an object"), table.get),
                 lambda v: encode_object(v, table.get))


_RETRY_POLICY = _nested({"initialInterval": DURATION, "maximumInterval": DURATION,
                         "maximumAttempts": INT32})
_UPDATE_REQUEST = _nested({"input": _nested({"args": PAYLOAD_LIST})})
"""An update's request: ``{"meta": {...}, "input": {"name": ..., "args": Payloads}}``."""
_UPDATE_OUTCOME = _nested({"success": PAYLOAD_LIST, "failure": FAILURE})

#: Field name -> codec, for every event type. Fields not listed pass through unchanged.
_FIELD_CODECS: dict[str, Codec] = {
    "input": PAYLOAD_LIST, "result": PAYLOAD_ONE, "details": PAYLOAD_ONE,
    "lastCompletionResult": PAYLOAD_ONE,
    "failure": FAILURE, "lastFailure": FAILURE, "continuedFailure": FAILURE,
    "activityType": NAME, "workflowType": NAME, "taskQueue": TASK_QUEUE,
    "attempt": INT32, "maximumAttempts": INT32, "historySizeBytes": INT64,
    "firstWorkflowTaskBackoff": DURATION, "backoffStartInterval": DURATION,
    "memo": indexed("fields"), "upsertedMemo": indexed("fields"),
    "searchAttributes": indexed("indexedFields"), "retryPolicy": _RETRY_POLICY,
}
#: Field-name endings with one meaning across all of Temporal's event attributes.
_SUFFIX_CODECS = (("EventId", INT64), ("Timeout", DURATION))
#: The few fields whose shape depends on the event type.
_EVENT_FIELD_CODECS: dict[EventType, dict[str, Codec]] = {
    EventType.MARKER_RECORDED: {"details": PAYLOAD_MAP},
    EventType.WORKFLOW_EXECUTION_UPDATE_ADMITTED: {"request": _UPDATE_REQUEST},
    EventType.WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {"acceptedRequest": _UPDATE_REQUEST},
    EventType.WORKFLOW_EXECUTION_UPDATE_REJECTED: {"rejectedRequest": _UPDATE_REQUEST},
    EventType.WORKFLOW_EXECUTION_UPDATE_COMPLETED: {"outcome": _UPDATE_OUTCOME},
}


def _codec_for(event_type: EventType, key: str) -> Codec | None:
    special = _EVENT_FIELD_CODECS.get(event_type)
    if special and key in special:
        return special[key]
    codec = _FIELD_CODECS.get(key)
    if codec is None:
        codec = next((c for suffix, c in _SUFFIX_CODECS if key.endswith(suffix)), None)
    return codec


# --------------------------------------------------------------------------- reading

def _read_document(data: Any) -> tuple[Any, str]:
    """Whatever the caller gave -> (parsed JSON, name of the source for messages)."""
    if data is None or isinstance(data, dict | list | bool | int | float):
        return data, "<object>"  # parsed JSON (what is not an object is refused later)
    if isinstance(data, str):
        text = data.lstrip("\ufeff \t\r\n")  # a BOM is how some editors start a file
        if text[:1] in ("{", "[") or "\n" in data or len(data) > 4096:
            return _parse_json(text, "<text>"), "<text>"  # text, not a (very odd) path
    if isinstance(data, bytes | bytearray):
        return _parse_json(_utf8(bytes(data), "<text>"), "<text>"), "<text>"
    if not isinstance(data, str | os.PathLike):
        raise TypeError("from_temporal_json() takes JSON text, bytes, a file path or parsed "
                        f"JSON, not {type(data).__name__}")
    source = os.fspath(data)
    try:
        with open(source, "rb") as file:
            content = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise HistoryFormatError(f"{source}: no such file") from None
    except (OSError, ValueError) as exc:
        raise HistoryFormatError(f"{source}: cannot read: {exc}") from None
    if len(content) > MAX_FILE_BYTES:
        raise HistoryFormatError(f"{source}: larger than {MAX_FILE_BYTES >> 20} MiB, so not a "
                                 "history (Temporal stops a history at 50 MB)")
    return _parse_json(_utf8(content, source), source), source


def _utf8(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HistoryFormatError(f"{source}: not UTF-8 text (byte {exc.start})") from None


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise HistoryFormatError(f"{source}: invalid JSON at line {exc.lineno} column "
                                 f"{exc.colno}: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise HistoryFormatError(f"{source}: invalid JSON: {exc}") from None


def _events_list(doc: Any, source: str) -> list[Any]:
    if isinstance(doc, list):
        doc = {"events": doc}
    if not isinstance(doc, dict) or "events" not in doc:
        raise HistoryFormatError(f"{source}: top level: expected an object with an 'events' "
                                 f"array or an array of events, got {kind_of(doc)}")
    if not isinstance(doc["events"], list):
        raise HistoryFormatError(f"{source}: field events: expected an array of events, "
                                 f"got {kind_of(doc['events'])}")
    if not doc["events"]:
        raise HistoryFormatError(f"{source}: field events: no events; a history starts "
                                 "with WorkflowExecutionStarted")
    return doc["events"]


_HAS_INPUT = frozenset({
    EventType.WORKFLOW_EXECUTION_STARTED, EventType.ACTIVITY_TASK_SCHEDULED,
    EventType.START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    EventType.WORKFLOW_EXECUTION_CONTINUED_AS_NEW, EventType.WORKFLOW_EXECUTION_SIGNALED})
"""Event types whose ``input`` is always present once decoded ([] when Temporal omits it)."""


def _decode_event(obj: Any, index: int) -> tuple[int, EventType, int, dict[str, Any]]:
    """One JSON event -> (id, type, eventTime in ns, decoded attributes)."""
    obj = expect(obj, dict, "an event object")
    check_text(obj, finite=True)
    for key in ("eventId", "eventType", "eventTime"):
        if key not in obj:
            raise FieldError(key, "missing")
    event_id = field(obj, "eventId", INT64.decode, None)
    if event_id != index + 1:
        raise FieldError("eventId", f"is {event_id} but {index + 1} was expected "
                                    "(ids run 1, 2, 3, ... without gaps)")
    name = field(obj, "eventType", lambda v: expect(v, str, "a string"), "")
    try:
        event_type = EventType.parse(name)
    except ValueError:
        raise FieldError("eventType", f"unknown event type {short_repr(name)}") from None
    ns = field(obj, "eventTime", parse_time, 0)
    key = event_type.attributes_key
    for other in obj:
        if other != key and isinstance(other, str) and other.endswith("EventAttributes"):
            raise FieldError(other, f"does not belong to a {event_type} event (expected {key})")
    attrs = field(obj, key, lambda v: expect(v, dict, "an object"), {})

    def lookup(name: str) -> Codec | None:
        return _codec_for(event_type, name)
    try:
        decoded = decode_object(attrs, lookup)
    except FieldError as bad:
        raise bad.under(key) from None
    if event_type in _HAS_INPUT:
        decoded.setdefault("input", [])  # Temporal leaves an empty input out
    return event_id, event_type, ns, decoded


def _decode_events(items: list[Any], source: str) -> list[HistoryEvent]:
    events: list[HistoryEvent] = []
    start_ns = 0
    for index, obj in enumerate(items):
        try:
            event_id, event_type, ns, attrs = _decode_event(obj, index)
        except FieldError as bad:
            where = f", field {bad.field}" if bad.field else ""
            raise HistoryFormatError(f"{source}: event index {index}{where}: "
                                     f"{bad.problem}") from None
        except RecursionError:
            raise HistoryFormatError(f"{source}: event index {index}: nested too deeply") from None
        if index == 0:
            start_ns = ns
        events.append(HistoryEvent(event_id, event_type, (ns - start_ns) / NS, attrs, obj))
    return events


# --------------------------------------------------------------------------- writing

def _anchor_ns(events: list[HistoryEvent]) -> int:
    """Where virtual time 0 sits: a loaded history keeps its real start, others 2026-01-01."""
    first = events[0] if events else None
    if first is not None and first.raw is not None:
        try:
            return parse_time(first.raw.get("eventTime")) - round(first.time * NS)
        except (FieldError, AttributeError, TypeError, ValueError, OverflowError):
            pass
    return ANCHOR_NS


def _event_to_json(event: HistoryEvent, anchor_ns: int) -> dict[str, Any]:
    """One event as Temporal writes it (a loaded one exactly as it was read).

    Raises:
        FieldError: a value that cannot be written, with the path of its field.
    """
    if event.raw is not None:
        return event.raw
    event_type = event.event_type
    try:
        when = format_time(anchor_ns + round(event.time * NS))
    except (TypeError, ValueError, OverflowError) as exc:
        raise FieldError("eventTime", f"cannot write {event.time!r}: {exc}") from None

    def lookup(key: str) -> Codec | None:
        return _codec_for(event_type, key)
    try:
        attributes = encode_object(event.attributes, lookup)
    except FieldError as bad:
        raise bad.under(event_type.attributes_key) from None
    return {
        "eventId": str(event.event_id),
        "eventTime": when,
        "eventType": event_type.proto_name,
        "taskId": str(1_048_576 + event.event_id),
        event_type.attributes_key: attributes,
    }
