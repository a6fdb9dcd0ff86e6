"""Temporal-shaped event histories: the durable record a workflow is rebuilt from.

Durable execution is event sourcing: the service appends every decision and result of a
workflow to a history, and a worker that crashed rebuilds the workflow's state by replaying
it. durasim records the events Temporal records, with Temporal's names and JSON shape, so
what a class sees in a notebook is what it will see in Temporal's UI, and a real Temporal
history loads here and can be replayed.

An event carries two views of the same facts:

* ``attributes``: decoded, simplified Python values (payloads decoded, durations as float
  seconds, event ids as ints) that the engine and the pictures work with;
* ``raw``: the JSON object a loaded event came from, written back untouched so that loading
  and saving a real history is lossless.

The codecs between the two are tables keyed by field name, so teaching the module a new
field or event type is one line.
"""

from __future__ import annotations

import base64
import binascii
import copy
import html
import json
import math
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple, overload

from durasim.errors import HistoryFormatError

__all__ = ["EventType", "History", "HistoryEvent", "history_table_html", "make_failure"]


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
            raise ValueError(f"unknown event type {_short(name)}; expected a name like "
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


# --------------------------------------------------------------------------- codecs

class _Bad(Exception):
    """A decoding problem and the path of the field it was found in."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem

    def under(self, prefix: object) -> _Bad:
        prefix = str(prefix)
        if not self.field:
            return _Bad(prefix, self.problem)
        sep = "" if self.field.startswith("[") else "."
        return _Bad(prefix + sep + self.field, self.problem)


class _Codec(NamedTuple):
    decode: Callable[[Any], Any]  # JSON value -> Python value; raises _Bad
    encode: Callable[[Any], Any]  # Python value -> JSON value; raises TypeError/ValueError


_JSON_TYPES = ((bool, "a boolean"), (int, "a number"), (float, "a number"), (str, "a string"),
               (list, "an array"), (dict, "an object"), (type(None), "null"))


def _kind(value: Any) -> str:
    return next((name for t, name in _JSON_TYPES if isinstance(value, t)), type(value).__name__)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _expect(value: Any, kind: type, what: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Bad("", f"expected {what}, got {_kind(value)}")
    return value


def _field(obj: dict[str, Any], key: str, decode: Callable[[Any], Any], default: Any) -> Any:
    """Decode ``obj[key]`` (or return ``default``), naming ``key`` in any error."""
    if key not in obj:
        return default
    try:
        return decode(obj[key])
    except _Bad as bad:
        raise bad.under(key) from None


def _b64(text: Any) -> bytes:
    _expect(text, str, "a base64 string")
    try:  # protobuf JSON also accepts the URL-safe alphabet and missing padding
        fixed = text.replace("-", "+").replace("_", "/")
        return base64.b64decode(fixed + "=" * (-len(fixed) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _Bad("", "invalid base64") from None


def _b64s(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


_ENC_JSON, _ENC_NULL, _ENC_BINARY = (_b64s(e) for e in (b"json/plain", b"binary/null",
                                                          b"binary/plain"))


def _decode_payload(value: Any) -> Any:
    """One Temporal Payload -> Python value (JSON value, None, or bytes if opaque)."""
    payload = _expect(value, dict, "a payload object")
    meta = _field(payload, "metadata", lambda v: _expect(v, dict, "an object"), {})
    if "encoding" not in meta:
        raise _Bad("metadata.encoding", "missing")
    encoding = _field(meta, "encoding", _b64, b"").decode("utf-8", "replace")
    data = _field(payload, "data", _b64, b"")
    if encoding == "binary/null":
        return None
    if not encoding.startswith("json/"):
        return data  # binary/plain, encrypted, protobuf...: opaque bytes (raw keeps the rest)
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        raise _Bad("data", f"{encoding} payload is not valid JSON") from None


def _encode_payload(value: Any) -> dict[str, Any]:
    if value is None:  # what Temporal's SDKs write for None
        return {"metadata": {"encoding": _ENC_NULL}}
    if isinstance(value, bytes):
        return {"metadata": {"encoding": _ENC_BINARY}, "data": _b64s(value)}
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return {"metadata": {"encoding": _ENC_JSON}, "data": _b64s(text.encode())}


def _decode_payloads(value: Any) -> list[Any]:
    items = _field(_expect(value, dict, "an object"), "payloads",
                   lambda v: _expect(v, list, "an array"), [])
    out = []
    for i, item in enumerate(items):
        try:
            out.append(_decode_payload(item))
        except _Bad as bad:
            raise bad.under(f"payloads[{i}]") from None
    return out


def _encode_payloads(values: Any) -> dict[str, Any]:
    if not isinstance(values, list | tuple):
        raise TypeError(f"expected a list of arguments, got {type(values).__name__}")
    return {"payloads": [_encode_payload(v) for v in values]} if values else {}


def _decode_one(value: Any) -> Any:
    """Payloads holding one result -> that value (None if empty; a list if several)."""
    values = _decode_payloads(value)
    return None if not values else values[0] if len(values) == 1 else values


def _decode_map(inner: Callable[[Any], Any]) -> Callable[[Any], dict[str, Any]]:
    def decode(value: Any) -> dict[str, Any]:
        return {k: _field(value, k, inner, None) for k in _expect(value, dict, "an object")}
    return decode


def _indexed(key: str) -> _Codec:
    """Memo / search attributes: ``{key: {name: Payload}}`` <-> ``{name: value}``."""
    def decode(value: Any) -> dict[str, Any]:
        obj = _expect(value, dict, "an object")
        return _field(obj, key, _decode_map(_decode_payload), {})

    def encode(value: dict[str, Any]) -> dict[str, Any]:
        return {key: {k: _encode_payload(v) for k, v in value.items()}}
    return _Codec(decode, encode)


_DURATION_RE = re.compile(r"-?[0-9]+(\.[0-9]{1,9})?s")


def _decode_duration(value: Any) -> float:
    if not isinstance(value, str) or not _DURATION_RE.fullmatch(value):
        raise _Bad("", f"expected a duration like '5s' or '0.5s', got {_short(value)}")
    return float(value[:-1])


def _encode_duration(seconds: float) -> str:
    """Float seconds -> "Ns"; protobuf carries at most nanoseconds, so 9 digits at most."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds != seconds:
        raise ValueError(f"a duration must be a number of seconds, got {seconds!r}")
    text = f"{seconds:.9f}".rstrip("0").rstrip(".")
    return ("0" if text in ("", "-0") else text) + "s"


_INT_RE = re.compile(r"-?[0-9]{1,19}")


def _decode_int(value: Any) -> int:
    """int64 fields are JSON strings in protobuf JSON; int32 ones numbers. Accept both."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT_RE.fullmatch(value):
        return int(value)
    raise _Bad("", f"expected an integer, got {_short(value)}")


def _decode_name(value: Any) -> str:
    obj = _expect(value, dict, "an object with a name")
    return _field(obj, "name", lambda v: _expect(v, str, "a string"), "")


def _decode_task_queue(value: Any) -> str:
    """A sticky queue is one worker's private alias; the queue that matters is normalName."""
    obj = _expect(value, dict, "an object")
    name = obj.get("normalName", obj.get("name", ""))
    if not isinstance(name, str):
        raise _Bad("name", f"expected a string, got {_kind(name)}")
    return name


_FAILURE_KEYS = ("message", "type", "nonRetryable", "cause")


def _decode_failure(value: Any) -> dict[str, Any]:
    """A Temporal Failure -> {"message", "type", "nonRetryable", "cause", ...extra fields}."""
    obj = _expect(value, dict, "a failure object")
    info = _field(obj, "applicationFailureInfo", lambda v: _expect(v, dict, "an object"), {})
    out = {
        "message": _field(obj, "message", lambda v: _expect(v, str, "a string"), ""),
        "type": _field(info, "type", lambda v: _expect(v, str, "a string"), None),
        "nonRetryable": _field(info, "nonRetryable", lambda v: _expect(v, bool, "a boolean"),
                               False),
        "cause": _field(obj, "cause", _decode_failure, None),
    }
    for key, extra in obj.items():  # source, stackTrace, activityFailureInfo...
        if key not in out and key != "applicationFailureInfo":
            out[key] = copy.deepcopy(extra)
    return out


def _encode_failure(failure: Any) -> dict[str, Any]:
    if not isinstance(failure, dict):
        raise TypeError(f"a failure must be a dict (see make_failure), got {failure!r}")
    out: dict[str, Any] = {"message": str(failure.get("message", ""))}
    out.update((k, v) for k, v in failure.items() if k not in _FAILURE_KEYS)
    info: dict[str, Any] = {}
    if failure.get("type") is not None:
        info["type"] = failure["type"]
    if failure.get("nonRetryable"):
        info["nonRetryable"] = True
    if info:
        out["applicationFailureInfo"] = info
    if failure.get("cause") is not None:
        out["cause"] = _encode_failure(failure["cause"])
    return out


_PAYLOAD_LIST = _Codec(_decode_payloads, _encode_payloads)
_PAYLOAD_ONE = _Codec(_decode_one, lambda v: {"payloads": [_encode_payload(v)]})
_PAYLOAD_MAP = _Codec(_decode_map(_decode_one),
                      lambda v: {k: {"payloads": [_encode_payload(x)]} for k, x in v.items()})
_DURATION = _Codec(_decode_duration, _encode_duration)
_INT64 = _Codec(_decode_int, lambda v: str(int(v)))
_INT32 = _Codec(_decode_int, int)
_NAME = _Codec(_decode_name, lambda v: {"name": str(v)})
_TASK_QUEUE = _Codec(_decode_task_queue,
                     lambda v: {"name": str(v), "kind": "TASK_QUEUE_KIND_NORMAL"})
_FAILURE = _Codec(_decode_failure, _encode_failure)

#: Field name -> codec, for every event type. Fields not listed pass through unchanged.
_FIELD_CODECS: dict[str, _Codec] = {
    "input": _PAYLOAD_LIST, "result": _PAYLOAD_ONE, "details": _PAYLOAD_ONE,
    "lastCompletionResult": _PAYLOAD_ONE,
    "failure": _FAILURE, "lastFailure": _FAILURE, "continuedFailure": _FAILURE,
    "activityType": _NAME, "workflowType": _NAME, "taskQueue": _TASK_QUEUE,
    "attempt": _INT32, "maximumAttempts": _INT32, "historySizeBytes": _INT64,
    "firstWorkflowTaskBackoff": _DURATION, "backoffStartInterval": _DURATION,
    "memo": _indexed("fields"), "upsertedMemo": _indexed("fields"),
    "searchAttributes": _indexed("indexedFields"),
}
#: Field-name endings with one meaning across all of Temporal's event attributes.
_SUFFIX_CODECS = (("EventId", _INT64), ("Timeout", _DURATION))
#: The few fields whose shape depends on the event type.
_EVENT_FIELD_CODECS: dict[EventType, dict[str, _Codec]] = {
    EventType.MARKER_RECORDED: {"details": _PAYLOAD_MAP},
}


def _codec_for(event_type: EventType, key: str) -> _Codec | None:
    special = _EVENT_FIELD_CODECS.get(event_type)
    if special and key in special:
        return special[key]
    codec = _FIELD_CODECS.get(key)
    if codec is None:
        codec = next((c for suffix, c in _SUFFIX_CODECS if key.endswith(suffix)), None)
    return codec


_Lookup = Callable[[str], _Codec | None]


def _decode_object(obj: dict[str, Any], lookup: _Lookup) -> dict[str, Any]:
    """Decode the fields ``lookup`` knows; copy the rest (never share state with ``raw``)."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        codec = lookup(key)
        out[key] = copy.deepcopy(value) if codec is None else _field(obj, key, codec.decode, None)
    return out


def _encode_object(obj: dict[str, Any], lookup: _Lookup) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        codec = lookup(key)
        if codec is _PAYLOAD_LIST and not value:
            continue  # Temporal leaves out an empty input rather than writing {}
        try:
            out[key] = value if codec is None else codec.encode(value)
        except (TypeError, ValueError, AttributeError) as exc:
            kind = ValueError if isinstance(exc, ValueError) else TypeError
            raise kind(f"field {key!r}: {exc}") from exc
    return out


def _encode_attributes(event: HistoryEvent) -> dict[str, Any]:
    """Encode an engine-made event's attributes, naming the event and field on a bad value."""
    def lookup(key: str) -> _Codec | None:
        return _codec_for(event.event_type, key)
    try:
        return _encode_object(event.attributes, lookup)
    except (TypeError, ValueError, AttributeError) as exc:
        kind = ValueError if isinstance(exc, ValueError) else TypeError
        raise kind(f"cannot write event {event.event_id} ({event.event_type}): {exc}") from exc


_RETRY_CODECS = {"initialInterval": _DURATION, "maximumInterval": _DURATION,
                 "maximumAttempts": _INT32}
_FIELD_CODECS["retryPolicy"] = _Codec(
    lambda v: _decode_object(_expect(v, dict, "an object"), _RETRY_CODECS.get),
    lambda v: _encode_object(v, _RETRY_CODECS.get))


# --------------------------------------------------------------------------- time

_TIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
                      r"(?:\.([0-9]{1,9}))?([Zz]|[+-][0-9]{2}:[0-9]{2})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS = 1_000_000_000


def _parse_time(value: Any) -> int:
    """RFC 3339 text -> integer nanoseconds since 1970, exactly (floats would lose ns)."""
    match = _TIME_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise _Bad("", f"expected an RFC 3339 time like '2026-01-01T00:00:00Z', "
                       f"got {_short(value)}")
    y, mo, d, h, mi, s, frac, zone = match.groups()
    try:
        moment = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=UTC)
    except ValueError as exc:
        raise _Bad("", f"invalid time {value!r}: {exc}") from None
    seconds = (moment - _EPOCH) // timedelta(seconds=1)
    if zone not in ("Z", "z"):
        sign = -1 if zone[0] == "+" else 1
        seconds += sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds * _NS + int((frac or "").ljust(9, "0"))


def _format_time(ns: int) -> str:
    """Integer ns since 1970 -> RFC 3339 with 0, 3, 6 or 9 digits, as protobuf writes it."""
    seconds, nanos = divmod(ns, _NS)
    try:
        moment = _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"time {ns / _NS:.0f}s after 1970 is past year 9999") from None
    digits = f"{nanos:09d}"
    while digits.endswith("000"):
        digits = digits[:-3]
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + ("." + digits if digits else "") + "Z"


#: Engine-made histories start here, so the JSON they write is the same on every run.
_ANCHOR_NS = _parse_time("2026-01-01T00:00:00Z")


def _same_instant(a: float, b: float) -> bool:
    """Equal up to the nanosecond JSON keeps (plus float rounding of large times)."""
    return a == b or abs(a - b) <= 1e-9 + 4 * math.ulp(max(abs(a), abs(b)))


# --------------------------------------------------------------------------- loading

def _read_document(data: Any) -> tuple[Any, str]:
    """Whatever the caller gave -> (parsed JSON, name of the source for messages)."""
    if isinstance(data, dict | list):
        return data, "<object>"
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
        content = Path(source).read_bytes()
    except FileNotFoundError:
        raise HistoryFormatError(f"{source}: no such file") from None
    except (OSError, ValueError) as exc:
        raise HistoryFormatError(f"{source}: cannot read: {exc}") from None
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
        return doc
    if not isinstance(doc, dict) or "events" not in doc:
        raise HistoryFormatError(f"{source}: top level: expected an object with an 'events' "
                                 f"array or an array of events, got {_kind(doc)}")
    if not isinstance(doc["events"], list):
        raise HistoryFormatError(f"{source}: field events: expected an array of events, "
                                 f"got {_kind(doc['events'])}")
    return doc["events"]


_HAS_INPUT = frozenset({
    EventType.WORKFLOW_EXECUTION_STARTED, EventType.ACTIVITY_TASK_SCHEDULED,
    EventType.START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    EventType.WORKFLOW_EXECUTION_CONTINUED_AS_NEW, EventType.WORKFLOW_EXECUTION_SIGNALED})
"""Event types whose ``input`` is always present once decoded ([] when Temporal omits it)."""


def _decode_event(obj: Any, index: int) -> tuple[int, EventType, int, dict[str, Any]]:
    """One JSON event -> (id, type, eventTime in ns, decoded attributes)."""
    obj = _expect(obj, dict, "an event object")
    for key in ("eventId", "eventType", "eventTime"):
        if key not in obj:
            raise _Bad(key, "missing")
    event_id = _field(obj, "eventId", _decode_int, None)
    if event_id != index + 1:
        raise _Bad("eventId", f"is {event_id} but {index + 1} was expected "
                              "(ids run 1, 2, 3, ... without gaps)")
    name = _field(obj, "eventType", lambda v: _expect(v, str, "a string"), "")
    try:
        event_type = EventType.parse(name)
    except ValueError:
        raise _Bad("eventType", f"unknown event type {_short(name)}") from None
    ns = _field(obj, "eventTime", _parse_time, 0)
    key = event_type.attributes_key
    for other in obj:
        if other != key and isinstance(other, str) and other.endswith("EventAttributes"):
            raise _Bad(other, f"does not belong to a {event_type} event (expected {key})")
    attrs = _field(obj, key, lambda v: _expect(v, dict, "an object"), {})

    def lookup(field: str) -> _Codec | None:
        return _codec_for(event_type, field)
    try:
        decoded = _decode_object(attrs, lookup)
    except _Bad as bad:
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
        except _Bad as bad:
            field = f", field {bad.field}" if bad.field else ""
            raise HistoryFormatError(f"{source}: event index {index}{field}: "
                                     f"{bad.problem}") from None
        except RecursionError:
            raise HistoryFormatError(f"{source}: event index {index}: nested too deeply") from None
        if index == 0:
            start_ns = ns
        events.append(HistoryEvent(event_id, event_type, (ns - start_ns) / _NS, attrs, obj))
    return events


# --------------------------------------------------------------------------- writing

def _anchor_ns(events: list[HistoryEvent]) -> int:
    """Where virtual time 0 sits: a loaded history keeps its real start, others 2026-01-01."""
    first = events[0] if events else None
    if first is not None and first.raw is not None:
        try:
            return _parse_time(first.raw.get("eventTime")) - round(first.time * _NS)
        except (_Bad, AttributeError, TypeError, ValueError, OverflowError):
            pass
    return _ANCHOR_NS


def _event_to_json(event: HistoryEvent, anchor_ns: int) -> dict[str, Any]:
    if event.raw is not None:
        return event.raw
    event_type = event.event_type
    try:
        when = _format_time(anchor_ns + round(event.time * _NS))
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"cannot write event {event.event_id}: bad time: {exc}") from exc
    return {
        "eventId": str(event.event_id),
        "eventTime": when,
        "eventType": event_type.proto_name,
        "taskId": str(1_048_576 + event.event_id),
        event_type.attributes_key: _encode_attributes(event),
    }


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

        Args:
            text_or_path: JSON text (a str starting with ``{`` or ``[``, or bytes), a file path,
                or already-parsed JSON; ``{"events": [...]}`` or a bare list of events.
            workflow_id: overrides the id read from the start event (old servers omit it).

        Raises:
            HistoryFormatError: one line naming the source, event index and field.
        """
        doc, name = _read_document(text_or_path)
        events = _decode_events(_events_list(doc, name), name)
        start = next((e for e in events
                      if e.event_type is EventType.WORKFLOW_EXECUTION_STARTED), None)
        attrs = start.attributes if start else {}

        def text(key: str) -> str:
            value = attrs.get(key, "")
            return value if isinstance(value, str) else ""
        return cls(events, workflow_id=text("workflowId") if workflow_id is None else workflow_id,
                   workflow_type=text("workflowType"), run_id=text("originalExecutionRunId"),
                   source=name)

    def to_temporal_json(self, indent: int | None = 2) -> str:
        """Temporal's JSON: loaded events verbatim, engine-made ones in the same shape."""
        anchor = _anchor_ns(self.events)
        return json.dumps({"events": [_event_to_json(e, anchor) for e in self.events]},
                          indent=indent, ensure_ascii=False)

    def _repr_html_(self) -> str:
        return history_table_html(self)


# --------------------------------------------------------------------------- summaries

def _call(name: Any, args: Any) -> str:
    return f"{name}({_short(args)})"


def _failure_text(failure: Any) -> str:
    if not isinstance(failure, dict):
        return ""
    kind = f" ({failure['type']})" if failure.get("type") else ""
    final = ", non-retryable" if failure.get("nonRetryable") else ""
    return f"{failure.get('message', '')}{kind}{final}"


def _attempt(a: dict[str, Any]) -> str:
    return f"attempt {a.get('attempt', 1)}"


def _result(a: dict[str, Any]) -> str:
    return "-> " + _short(a.get("result"))


def _start(a: dict[str, Any]) -> str:
    return _call(a.get("workflowType", "?"), a.get("input", []))


def _failed(a: dict[str, Any]) -> str:
    return _failure_text(a.get("failure"))


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
    EventType.ACTIVITY_TASK_TIMED_OUT: _failed,
    EventType.TIMER_STARTED: lambda a: f"timer {float(a['startToFireTimeout'])}s",
    EventType.TIMER_FIRED: lambda a: f"timer {a.get('timerId', '?')} fired",
    EventType.TIMER_CANCELED: lambda a: f"timer {a.get('timerId', '?')} canceled",
    EventType.WORKFLOW_EXECUTION_SIGNALED: lambda a: f"signal {a.get('signalName', '?')}"
    + (f" {_short(a['input'])}" if a.get("input") else ""),
    EventType.MARKER_RECORDED: lambda a: f"marker {a.get('markerName', '?')}",
    EventType.START_CHILD_WORKFLOW_EXECUTION_INITIATED: _start,
    EventType.CHILD_WORKFLOW_EXECUTION_COMPLETED: _result,
    EventType.CHILD_WORKFLOW_EXECUTION_FAILED: _failed,
}


# --------------------------------------------------------------------------- HTML

_MUTED, _HIGHLIGHT, _REPLAYED = "#9aa0a6", "#fff3bf", "#e9f5ec"
_CELL = "text-align:left;padding:2px 8px;"


def _format_seconds(t: float) -> str:
    """Virtual time for people: ms for the quick steps, h/d for durable timers."""
    if abs(t) < 1:
        return f"{t * 1000:.1f} ms"
    if abs(t) < 3600:
        return f"{t:.3f} s"
    if abs(t) < 86400:
        return f"{t / 3600:.2f} h"
    return f"{t / 86400:.2f} d"


def _row_html(event: HistoryEvent, highlight: int | None, replayed: Collection[int]) -> str:
    styles, classes = [], []
    if event.event_type.is_workflow_task:
        styles.append(f"color:{_MUTED}")
        classes.append("durasim-wft")
    if event.event_id in replayed:
        styles.append(f"background:{_REPLAYED}")
        classes.append("durasim-replayed")
    if event.event_id == highlight:
        styles.append(f"background:{_HIGHLIGHT};font-weight:bold")
        classes.append("durasim-highlight")
    mark = "↺" if event.event_id in replayed else ""
    cells = (mark, str(event.event_id), _format_seconds(event.time), str(event.event_type),
             event.summary())
    body = "".join(f'<td style="{_CELL}">{html.escape(c)}</td>' for c in cells)
    return (f'<tr class="{" ".join(classes)}" data-event-id="{event.event_id}" '
            f'style="{";".join(styles)}">{body}</tr>')


def history_table_html(history: Iterable[HistoryEvent], *, compact: bool = False,
                       highlight: int | None = None,
                       replayed: Collection[int] = frozenset()) -> str:
    """An HTML table of a history: id, virtual time, type, key attributes.

    Workflow-task rows are grey so the business events stand out; ``highlight`` marks the
    event a replay is at and ``replayed`` the ones already replayed (shared with viz).
    """
    rows = [_row_html(e, highlight, replayed) for e in history
            if not (compact and e.event_type.is_workflow_task)]
    title = html.escape(repr(history)) if isinstance(history, History) else "history"
    head = "".join(f'<th style="{_CELL}">{h}</th>'
                   for h in ("", "id", "time", "event", "details"))
    return (f'<table class="durasim-history" style="border-collapse:collapse;'
            f'font-family:monospace;font-size:12px"><caption style="text-align:left">{title}'
            f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
