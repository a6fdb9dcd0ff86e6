"""Temporal JSON histories for fuzzing: real recordings and engine runs, valid or damaged.

Students load histories they exported, edited by hand, truncated in a copy-paste or saved
from another tool; whatever they load must either be read or refused with one
:class:`~durasim.errors.HistoryFormatError`. :func:`temporal_histories` is the search
space for that promise: it starts from histories recorded on a real Temporal server and
from engine runs of generated programs, and damages them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from durasim.engine.api import execute
from durasim.engine.history import EventType
from durasim.strategies.program_draws import workflow_programs
from durasim.strategies.program_workflows import build_workflow
from durasim.strategies.programs import Program

__all__ = ["history_mutations", "history_sources", "temporal_histories"]


def history_sources() -> list[Path]:
    """Temporal JSON histories shipped with the repository (when running from a checkout).

    The histories recorded from a real Temporal server in ``tests/fixtures`` (``temporal``
    and ``recorded``); an installed package without the repository has none, and
    :func:`temporal_histories` then uses engine runs only.
    """
    fixtures = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
    folders = (fixtures / "temporal", fixtures / "recorded")
    return sorted(p for folder in folders if folder.is_dir() for p in folder.glob("*.json"))


@lru_cache(maxsize=64)
def _read_source(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


@lru_cache(maxsize=256)
def _engine_history_text(program: Program, seed: int) -> str:
    built = build_workflow(program)
    run = execute(built.workflow, seed=seed, requests=built.signals, trace=False)
    return run.history.to_temporal_json()


@st.composite
def _valid_text(draw: st.DrawFn, sources: Sequence[Path]) -> str:
    from_file: bool = draw(st.booleans()) if sources else False
    if from_file:
        return _read_source(str(draw(st.sampled_from(list(sources)))))
    program = draw(workflow_programs(max_steps=3, max_depth=1))
    return _engine_history_text(program, draw(st.integers(0, 3)))


_JUNK: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats()
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=6)
"""Any JSON value (NaN and infinities included: Python's json reads and writes them)."""

_JUNK_STRINGS = st.sampled_from([
    "", "x", "-1", "0", "1e309", "NaN", "EVENT_TYPE_UNSPECIFIED", "EVENT_TYPE_NOPE",
    "EVENT_TYPE_TIMER_FIRED", "ActivityTaskCompleted", "2026-13-45T99:99:99Z",
    "2026-01-01T00:00:00Z", "P1D", "10", "10x", "-5s", "1e400s", "%%%", "AAAA", "e30=",
    "eyJhIjo=", "\u0000", "\ud7ff"]) | st.text(max_size=10)

_ANY_JUNK = _JUNK | _JUNK_STRINGS
"""Junk of every kind (strategies are built once: building one costs more than drawing)."""


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every (container path, key) inside ``doc``, to pick a place to mutate."""
    found: list[tuple[Any, ...]] = []
    items: Iterable[tuple[Any, Any]] = (doc.items() if isinstance(doc, dict)
                                        else enumerate(doc) if isinstance(doc, list) else ())
    for key, value in items:
        found.append((*prefix, key))
        found += _paths(value, (*prefix, key))
    return found


def _container(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        doc = doc[key]
    return doc


def _place(draw: st.DrawFn, doc: Any) -> tuple[Any, Any] | None:
    """A (container, key) somewhere in ``doc``, found by walking down from the top and
    stopping at each level one time in four: any depth, without listing every place."""
    place = None
    node = doc
    while isinstance(node, dict | list) and node:
        keys = list(node) if isinstance(node, dict) else range(len(node))
        key = keys[draw(st.integers(0, len(keys) - 1))]
        place, node = (node, key), node[key]
        if not draw(st.integers(0, 3)):
            break
    return place


def _events(doc: Any) -> list[Any] | None:
    if isinstance(doc, dict) and isinstance(doc.get("events"), list):
        events: list[Any] = doc["events"]
        return events
    return doc if isinstance(doc, list) else None


_DAMAGES = st.sampled_from(["set_value", "delete_key", "event_field", "payload",
                           "rename_attributes", "events_junk", "top_junk", "empty"])
_EVENT_FIELDS = st.sampled_from(["eventId", "eventType", "eventTime", "taskId"])
_ATTRIBUTE_KEYS = st.sampled_from([
    "timerFiredEventAttributes", "activityTaskScheduledEventAttributes",
    "workflowExecutionStartedEventAttributes", "bogusEventAttributes"])
_EMPTY = st.sampled_from([{}, [], {"events": []}, {"events": [{}]}])


@st.composite
def _damage(draw: st.DrawFn, doc: Any) -> Any:
    """One blow to the document's structure (returns the new document): junk anywhere,
    a key removed, event fields and payloads broken, attributes under the wrong key."""
    events = _events(doc)
    kind = draw(_DAMAGES)
    if kind in ("event_field", "payload", "rename_attributes") and not events:
        kind = "set_value"
    if kind == "set_value" or kind == "delete_key":
        place = _place(draw, doc)
        if place is None:
            return draw(_JUNK)
        holder, key = place
        if kind == "delete_key":
            del holder[key]
        else:
            holder[key] = draw(_ANY_JUNK)
        return doc
    if kind == "event_field" and events:
        event = events[draw(st.integers(0, len(events) - 1))]
        if isinstance(event, dict):
            key = draw(_EVENT_FIELDS)
            if draw(st.booleans()):
                event.pop(key, None)
            else:
                event[key] = draw(_ANY_JUNK)
    elif kind == "payload" and events:
        event = events[draw(st.integers(0, len(events) - 1))]
        payloads = [p for p in _paths(event) if p[-1] in ("data", "metadata", "payloads")]
        if payloads:
            path = draw(st.sampled_from(payloads))
            _container(event, path)[path[-1]] = draw(_ANY_JUNK)
    elif kind == "rename_attributes" and events:
        event = events[draw(st.integers(0, len(events) - 1))]
        if isinstance(event, dict):
            keys = [k for k in event if isinstance(k, str) and k.endswith("EventAttributes")]
            if keys:
                value = event.pop(keys[0])
                other = draw(_ATTRIBUTE_KEYS)
                event[other] = value
    elif kind == "events_junk":
        junk = draw(_JUNK)
        if isinstance(doc, dict):
            doc["events"] = junk
        else:
            return {"events": junk}
    elif kind == "top_junk":
        return draw(_JUNK)
    elif kind == "empty":
        return copy.deepcopy(draw(_EMPTY))  # never hand out the strategy's own objects
    return doc


_NAMES = ("signalName", "timerId", "activityId", "markerName", "workflowId")
"""Attributes naming things the engine looks up (a signal, a timer, an activity...)."""

_WRONG_NAMES = st.sampled_from(["", None, 7, ["approve"], {"name": "x"}, True, "x" * 300])
"""Names of the wrong kind: empty, null, a number, a list, an object, a boolean, huge."""


def _attributes(event: Any) -> dict[str, Any] | None:
    """An event's ``...EventAttributes`` object, if it has one."""
    if not isinstance(event, dict):
        return None
    return next((v for k, v in event.items()
                 if isinstance(k, str) and k.endswith("EventAttributes")
                 and isinstance(v, dict)), None)


def _pick_field(draw: st.DrawFn, events: list[Any], wanted: Any) -> tuple[dict[str, Any], str]:
    """An (attributes, key) pair whose key satisfies ``wanted``, or ({}, "") if none does."""
    found = [(attrs, key) for attrs in map(_attributes, events) if attrs
             for key in attrs if wanted(key)]
    return draw(st.sampled_from(found)) if found else ({}, "")


_TWISTS = st.sampled_from(["drop", "repeat", "swap", "cut", "forget", "junk", "retarget",
                          "rename", "retype"])
_EVENT_TYPES = st.sampled_from(list(EventType))


def _twist(draw: st.DrawFn, events: list[Any]) -> None:
    """One change that keeps the document readable but may make the story impossible:
    an event lost, repeated later (closed twice) or moved; the history cut short; an
    attribute forgotten or junk; an event id pointing elsewhere; a name of the wrong kind;
    an event turned into another type."""
    kind = draw(_TWISTS)
    i = draw(st.integers(0, len(events) - 1))
    if kind == "drop":
        del events[i]
    elif kind == "repeat":
        events.insert(draw(st.integers(i + 1, len(events))), copy.deepcopy(events[i]))
    elif kind == "swap" and i + 1 < len(events):
        events[i], events[i + 1] = events[i + 1], events[i]
    elif kind == "cut":
        del events[max(i, 1):]
    elif kind in ("forget", "junk"):
        attrs, key = _pick_field(draw, events, lambda _: True)
        if key and kind == "forget":
            del attrs[key]
        elif key:
            attrs[key] = draw(_ANY_JUNK)
    elif kind == "retarget":
        attrs, key = _pick_field(draw, events, lambda k: k.endswith("EventId"))
        if key:
            attrs[key] = str(draw(st.integers(-1, len(events) + 2)))
    elif kind == "rename":
        attrs, key = _pick_field(draw, events,
                                 lambda k: k in _NAMES or k in ("activityType", "workflowType"))
        if key in _NAMES:
            attrs[key] = copy.deepcopy(draw(_WRONG_NAMES))
        elif key:
            attrs[key] = {"name": copy.deepcopy(draw(_WRONG_NAMES))}
    elif kind == "retype" and isinstance(events[i], dict):
        event = events[i]
        new = draw(_EVENT_TYPES)
        attrs = _attributes(event) or {}
        for key in [k for k in event if isinstance(k, str) and k.endswith("EventAttributes")]:
            del event[key]
        event["eventType"] = new.proto_name
        event[new.attributes_key] = attrs


@st.composite
def history_mutations(draw: st.DrawFn, doc: Any) -> Any:
    """Damaged copies of one parsed Temporal JSON history, for fuzzing what reads it.

    One to three mutations, each either structural damage (one time in four: junk values
    anywhere, keys removed, broken ids, types, times and payloads, attributes under the
    wrong key) or a twist that keeps the document readable but can make its story
    impossible (an event dropped, repeated or moved, the history cut short, an attribute
    forgotten or junk, an event id pointing elsewhere, a name of the wrong kind, an event
    turned into another type). After a twist the event ids are usually renumbered 1, 2,
    3..., so that the damage reaches past the id check to whatever reads the events.

    Example:
        >>> from durasim import History
        >>> from durasim.errors import HistoryFormatError
        >>> doc = {"events": [{"eventId": "1", "eventTime": "2026-01-01T00:00:00Z",
        ...     "eventType": "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED",
        ...     "workflowExecutionStartedEventAttributes": {"workflowType": {"name": "W"}}}]}
        >>> try:  # a damaged document loads, or is refused with HistoryFormatError
        ...     loaded = History.from_temporal_json(history_mutations(doc).example())
        ... except HistoryFormatError:
        ...     loaded = None
    """
    doc = json.loads(json.dumps(doc))  # a copy, several times faster than deepcopy
    for _ in range(draw(st.integers(1, 3))):
        events = _events(doc)
        if not events or not draw(st.integers(0, 3)):
            doc = draw(_damage(doc))
            continue
        _twist(draw, events)
        renumber = draw(st.integers(0, 9)) > 0  # nine times in ten
        if renumber:
            for number, event in enumerate(events, 1):
                if isinstance(event, dict):
                    event["eventId"] = str(number)
    return doc


@st.composite
def _text_damage(draw: st.DrawFn, text: str) -> str | bytes:
    """Damage at the byte level: truncation, stray bytes, bad UTF-8, deep nesting."""
    kind = draw(st.sampled_from(["truncate", "insert", "bad_utf8", "nesting", "bom"]))
    if kind == "truncate":
        return text[:draw(st.integers(0, max(0, len(text) - 1)))]
    if kind == "insert":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(["}", "]", ",", "\"", "\\", "\x00", "{"])) \
            + text[at:]
    if kind == "bad_utf8":
        data = text.encode()
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"])) + data[at:]
    if kind == "nesting":
        depth = draw(st.sampled_from([10, 1000, 100_000]))
        return '{"events": ' + "[" * depth + "]" * depth + "}"
    return "\ufeff" + text


@st.composite
def temporal_histories(draw: st.DrawFn, *, valid: bool | None = None, form: str = "any",
                       sources: Sequence[str | Path] | None = None) -> Any:
    """Temporal JSON histories, valid or mutated, for fuzzing whatever reads them.

    Valid ones are real recordings (:func:`history_sources`) and histories of generated
    programs run on the engine; mutated ones get :func:`history_mutations` or byte-level
    damage (truncation, bad UTF-8, absurd nesting). The promise to fuzz against: loading
    any of them either works or raises :class:`~durasim.errors.HistoryFormatError`, and
    what loads can be shown, written and replayed without any other exception.

    Args:
        valid: True for valid histories only, False for mutated only, None for both.
        form: "text" (str or bytes), "json" (parsed: a dict or list) or "any".
        sources: JSON files to start from (default: :func:`history_sources`).

    Example:
        >>> from durasim import History
        >>> doc = temporal_histories(valid=True, form="text").example()
        >>> len(History.from_temporal_json(doc)) > 0
        True
    """
    if form not in ("text", "json", "any"):
        raise ValueError(f"form must be 'text', 'json' or 'any', got {form!r}")
    files = [Path(p) for p in sources] if sources is not None else history_sources()
    text = draw(_valid_text(files))
    mutated = draw(st.booleans()) if valid is None else not valid
    as_text = form == "text" or (form == "any" and draw(st.booleans()))
    if not mutated:
        return text if as_text else json.loads(text)
    if as_text and draw(st.booleans()):
        return draw(_text_damage(text))
    doc = draw(history_mutations(json.loads(text)))
    if as_text or not isinstance(doc, dict | list):
        return json.dumps(doc) if draw(st.booleans()) else json.dumps(doc, indent=1)
    return doc
