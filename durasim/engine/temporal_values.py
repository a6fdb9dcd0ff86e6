"""How Temporal's JSON writes each kind of value: payloads, failures, durations, ids, times.

Temporal's histories are protobuf messages written as JSON, so one kind of value is
written the same way wherever it appears: arguments and results are ``Payloads`` (base64
data plus base64 metadata naming the encoding), int64 ids are strings, durations are
``"1.5s"``, times RFC 3339 with up to nine fractional digits. Each kind is a :class:`Codec`
(decode JSON -> Python, encode back); :mod:`durasim.engine.temporal_json` says which field
uses which. Decoding problems are :class:`FieldError`, which carries the path of the field
so the final message can name it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from durasim.engine.history import short_repr

__all__ = [
    "DURATION", "FAILURE", "INT32", "INT64", "NAME", "NS", "PAYLOAD_LIST", "PAYLOAD_MAP",
    "PAYLOAD_ONE", "TASK_QUEUE", "Codec", "FieldError", "check_text", "decode_object",
    "encode_object", "expect", "field", "format_time", "indexed", "kind_of", "parse_time",
]


class FieldError(Exception):
    """A decoding problem and the path of the field it was found in."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem

    def under(self, prefix: object) -> FieldError:
        """The same problem, seen from the object holding this field under ``prefix``."""
        prefix = str(prefix)
        if not self.field:
            return FieldError(prefix, self.problem)
        sep = "" if self.field.startswith("[") else "."
        return FieldError(prefix + sep + self.field, self.problem)


class Codec(NamedTuple):
    """How one kind of value is read from Temporal's JSON and written back."""

    decode: Callable[[Any], Any]  # JSON value -> Python value; raises FieldError
    encode: Callable[[Any], Any]  # Python value -> JSON value; raises TypeError/ValueError


_JSON_TYPES = ((bool, "a boolean"), (int, "a number"), (float, "a number"), (str, "a string"),
               (list, "an array"), (dict, "an object"), (type(None), "null"))


def kind_of(value: Any) -> str:
    """The JSON name of a value's kind ("a string", "an array"...), for messages."""
    return next((name for t, name in _JSON_TYPES if isinstance(value, t)), type(value).__name__)


def expect(value: Any, kind: type, what: str) -> Any:
    """``value`` if it is a ``kind`` (a bool is not an int), else a FieldError saying so."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise FieldError("", f"expected {what}, got {kind_of(value)}")
    return value


def field(obj: dict[str, Any], key: str, decode: Callable[[Any], Any], default: Any) -> Any:
    """Decode ``obj[key]`` (or return ``default``), naming ``key`` in any error."""
    if key not in obj:
        return default
    try:
        return decode(obj[key])
    except FieldError as bad:
        raise bad.under(key) from None


_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(value: Any, *, finite: bool = False) -> None:
    """Refuse text that is not Unicode: a lone surrogate, which JSON's ``\\ud800`` escapes
    can spell but UTF-8 (Temporal's wire format, a terminal, a file) cannot; with
    ``finite``, also a bare NaN or Infinity, which Python's json module reads but no JSON
    Temporal writes holds outside a payload (and NaN is not equal to itself, so nothing
    holding it survives a round trip).

    Raises:
        FieldError: naming the path to the first such string (a key or a value).
    """
    if isinstance(value, str):
        if not value.isascii() and _SURROGATE.search(value):
            raise FieldError("", f"text {short_repr(value)} holds a lone surrogate, which "
                                 "is not Unicode")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)  # a bad key: the message shows it, the path ends above it
            try:
                check_text(item, finite=finite)
            except FieldError as bad:
                raise bad.under(key) from None
    elif isinstance(value, list):
        for index, item in enumerate(value):
            try:
                check_text(item, finite=finite)
            except FieldError as bad:
                raise bad.under(f"[{index}]") from None
    elif finite and isinstance(value, float) and not math.isfinite(value):
        raise FieldError("", f"{value!r} is not a JSON number (Temporal writes none)")


def _b64(text: Any) -> bytes:
    expect(text, str, "a base64 string")
    try:  # protobuf JSON also accepts the URL-safe alphabet and missing padding
        fixed = text.replace("-", "+").replace("_", "/")
        return base64.b64decode(fixed + "=" * (-len(fixed) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise FieldError("", "invalid base64") from None


def _b64s(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


_ENC_JSON, _ENC_NULL, _ENC_BINARY = (_b64s(e) for e in (b"json/plain", b"binary/null",
                                                          b"binary/plain"))


def _decode_payload(value: Any) -> Any:
    """One Temporal Payload -> Python value (JSON value, None, or bytes if opaque)."""
    payload = expect(value, dict, "a payload object")
    meta = field(payload, "metadata", lambda v: expect(v, dict, "an object"), {})
    if "encoding" not in meta:
        raise FieldError("metadata.encoding", "missing")
    encoding = field(meta, "encoding", _b64, b"").decode("utf-8", "replace")
    data = field(payload, "data", _b64, b"")
    if encoding == "binary/null":
        return None
    if not encoding.startswith("json/"):
        return data  # binary/plain, encrypted, protobuf...: opaque bytes (raw keeps the rest)
    try:
        decoded = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        raise FieldError("data", f"{encoding} payload is not valid JSON") from None
    try:
        check_text(decoded)
    except FieldError as bad:
        raise bad.under("data") from None
    return decoded


def _encode_payload(value: Any) -> dict[str, Any]:
    if value is None:  # what Temporal's SDKs write for None
        return {"metadata": {"encoding": _ENC_NULL}}
    if isinstance(value, bytes):
        return {"metadata": {"encoding": _ENC_BINARY}, "data": _b64s(value)}
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return {"metadata": {"encoding": _ENC_JSON}, "data": _b64s(text.encode())}


def _decode_payloads(value: Any) -> list[Any]:
    items = field(expect(value, dict, "an object"), "payloads",
                   lambda v: expect(v, list, "an array"), [])
    out = []
    for i, item in enumerate(items):
        try:
            out.append(_decode_payload(item))
        except FieldError as bad:
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
        return {k: field(value, k, inner, None) for k in expect(value, dict, "an object")}
    return decode


def indexed(key: str) -> Codec:
    """Memo / search attributes: ``{key: {name: Payload}}`` <-> ``{name: value}``."""
    def decode(value: Any) -> dict[str, Any]:
        obj = expect(value, dict, "an object")
        return field(obj, key, _decode_map(_decode_payload), {})

    def encode(value: dict[str, Any]) -> dict[str, Any]:
        return {key: {k: _encode_payload(v) for k, v in value.items()}}
    return Codec(decode, encode)


_DURATION_RE = re.compile(r"-?[0-9]+(\.[0-9]{1,9})?s")


def _decode_duration(value: Any) -> float:
    if not isinstance(value, str) or not _DURATION_RE.fullmatch(value):
        raise FieldError("", f"expected a duration like '5s' or '0.5s', got {short_repr(value)}")
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
    raise FieldError("", f"expected an integer, got {short_repr(value)}")


def _decode_name(value: Any) -> str:
    obj = expect(value, dict, "an object with a name")
    return field(obj, "name", lambda v: expect(v, str, "a string"), "")


def _decode_task_queue(value: Any) -> str:
    """A sticky queue is one worker's private alias; the queue that matters is normalName."""
    obj = expect(value, dict, "an object")
    name = obj.get("normalName", obj.get("name", ""))
    if not isinstance(name, str):
        raise FieldError("name", f"expected a string, got {kind_of(name)}")
    return name


_FAILURE_KEYS = ("message", "type", "nonRetryable", "cause")


def _decode_failure(value: Any) -> dict[str, Any]:
    """A Temporal Failure -> {"message", "type", "nonRetryable", "cause", ...extra fields}."""
    obj = expect(value, dict, "a failure object")
    info = field(obj, "applicationFailureInfo", lambda v: expect(v, dict, "an object"), {})
    out = {
        "message": field(obj, "message", lambda v: expect(v, str, "a string"), ""),
        "type": field(info, "type", lambda v: expect(v, str, "a string"), None),
        "nonRetryable": field(info, "nonRetryable", lambda v: expect(v, bool, "a boolean"),
                               False),
        "cause": field(obj, "cause", _decode_failure, None),
    }
    for key, extra in obj.items():  # source, stackTrace, activityFailureInfo...
        if key not in out and key != "applicationFailureInfo":
            out[key] = copy.deepcopy(extra)
    return out


def _encode_failure(failure: Any) -> dict[str, Any]:
    if not isinstance(failure, dict):
        raise TypeError(f"a failure must be a dict (see make_failure), got {failure!r}")
    message = str(failure.get("message", ""))  # proto3 JSON leaves an empty one out
    out: dict[str, Any] = {"message": message} if message else {}
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


PAYLOAD_LIST = Codec(_decode_payloads, _encode_payloads)
PAYLOAD_ONE = Codec(_decode_one, lambda v: {"payloads": [_encode_payload(v)]})
PAYLOAD_MAP = Codec(_decode_map(_decode_one),
                    lambda v: {k: {"payloads": [_encode_payload(x)]} for k, x in v.items()})
DURATION = Codec(_decode_duration, _encode_duration)
INT64 = Codec(_decode_int, lambda v: str(int(v)))
INT32 = Codec(_decode_int, int)
NAME = Codec(_decode_name, lambda v: {"name": str(v)})
TASK_QUEUE = Codec(_decode_task_queue,
                   lambda v: {"name": str(v), "kind": "TASK_QUEUE_KIND_NORMAL"})
FAILURE = Codec(_decode_failure, _encode_failure)


Lookup = Callable[[str], Codec | None]


def decode_object(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    """Decode the fields ``lookup`` knows; copy the rest (never share state with ``raw``)."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        codec = lookup(key)
        out[key] = copy.deepcopy(value) if codec is None else field(obj, key, codec.decode, None)
    return out


def encode_object(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    """Encode the fields ``lookup`` knows (the others must already be JSON).

    Raises:
        FieldError: a value its field's codec (or JSON) cannot write, naming the field.
    """
    out: dict[str, Any] = {}
    for key, value in obj.items():
        codec = lookup(key)
        if codec is PAYLOAD_LIST and not value:
            continue  # Temporal leaves out an empty input rather than writing {}
        try:
            if codec is None:
                json.dumps(value)  # what is not JSON fails here, where its field is known
                out[key] = value
            else:
                out[key] = codec.encode(value)
        except FieldError as bad:
            raise bad.under(key) from None
        except (TypeError, ValueError, AttributeError, RecursionError) as exc:
            raise FieldError(str(key), f"cannot write {short_repr(value)}: {exc}") from None
    return out


# --------------------------------------------------------------------------- time

_TIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
                      r"(?:\.([0-9]{1,9}))?([Zz]|[+-][0-9]{2}:[0-9]{2})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NS = 1_000_000_000


def parse_time(value: Any) -> int:
    """RFC 3339 text -> integer nanoseconds since 1970, exactly (floats would lose ns)."""
    match = _TIME_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise FieldError("", f"expected an RFC 3339 time like '2026-01-01T00:00:00Z', "
                             f"got {short_repr(value)}")
    y, mo, d, h, mi, s, frac, zone = match.groups()
    try:
        moment = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=UTC)
    except ValueError as exc:
        raise FieldError("", f"invalid time {value!r}: {exc}") from None
    seconds = (moment - _EPOCH) // timedelta(seconds=1)
    if zone not in ("Z", "z"):
        sign = -1 if zone[0] == "+" else 1
        seconds += sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds * NS + int((frac or "").ljust(9, "0"))


def format_time(ns: int) -> str:
    """Integer ns since 1970 -> RFC 3339 with 0, 3, 6 or 9 digits, as protobuf writes it."""
    seconds, nanos = divmod(ns, NS)
    try:
        moment = _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"time {ns / NS:.0f}s after 1970 is past year 9999") from None
    digits = f"{nanos:09d}"
    while digits.endswith("000"):
        digits = digits[:-3]
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + ("." + digits if digits else "") + "Z"


#: Engine-made histories start here, so the JSON they write is the same on every run.
ANCHOR_NS = parse_time("2026-01-01T00:00:00Z")
