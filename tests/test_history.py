"""Event histories: Temporal's names and JSON in and out, losslessly, and clear errors.

The real histories in ``tests/fixtures/temporal`` were recorded from a Temporal dev
server; durasim must read them, describe them, and write them back byte-for-byte equal as
JSON, and what the engine writes must be a history Temporal's own SDK can read.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from durasim.engine.history import EventType, History, HistoryEvent, make_failure
from durasim.errors import DurasimError, HistoryFormatError
from durasim.viz.history import history_table_html

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "temporal"
MONEY = FIXTURES / "money_transfer.json"
DELAYED = FIXTURES / "delayed_transfer.json"


def _is_history(path: Path) -> bool:
    try:
        return "events" in json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, TypeError):
        return False


#: More real histories recorded by tests/fixtures/recorded/record_histories.py, if present.
RECORDED = [p for folder in ("recorded", "sdk")
            for p in sorted((REPO / "tests" / "fixtures" / folder).rglob("*.json"))
            if _is_history(p)]

MONEY_TYPES = [
    "WorkflowExecutionStarted",
    "WorkflowTaskScheduled", "WorkflowTaskStarted", "WorkflowTaskCompleted",
    "ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted",
    "WorkflowTaskScheduled", "WorkflowTaskStarted", "WorkflowTaskCompleted",
    "ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted",
    "WorkflowTaskScheduled", "WorkflowTaskStarted", "WorkflowTaskCompleted",
    "ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted",
    "WorkflowTaskScheduled", "WorkflowTaskStarted", "WorkflowTaskCompleted",
    "WorkflowExecutionCompleted",
]
E = EventType


def load_doc(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        doc: dict[str, Any] = json.load(f)
    return doc


# --------------------------------------------------------------------------- EventType

def test_event_type_spellings() -> None:
    t = E.ACTIVITY_TASK_SCHEDULED
    assert t.value == "ActivityTaskScheduled" == str(t) == f"{t}"
    assert t.proto_name == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"
    assert t.attributes_key == "activityTaskScheduledEventAttributes"
    for spelling in ("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", "EventTypeActivityTaskScheduled",
                     "ActivityTaskScheduled", t):
        assert E.parse(spelling) is t
    with pytest.raises(ValueError, match="unknown event type"):
        E.parse("ACTIVITY_TASK_SCHEDULED")


def test_only_the_five_workflow_task_types_are_bookkeeping() -> None:
    assert {t.value for t in E if t.is_workflow_task} == {
        "WorkflowTaskScheduled", "WorkflowTaskStarted", "WorkflowTaskCompleted",
        "WorkflowTaskFailed", "WorkflowTaskTimedOut"}


def test_event_types_match_temporals_protobuf() -> None:
    """Every name durasim writes exists in the Temporal API the real SDK ships."""
    enums = pytest.importorskip("temporalio.api.enums.v1")
    history_pb = pytest.importorskip("temporalio.api.history.v1")
    attribute_keys = {f.json_name for f in history_pb.HistoryEvent.DESCRIPTOR.fields}
    for t in E:
        assert enums.EventType.Value(t.proto_name) > 0
        assert t.attributes_key in attribute_keys


# --------------------------------------------------------------------------- loading

@pytest.mark.parametrize(("path", "count", "wf_type", "wf_id"), [
    (MONEY, 23, "MoneyTransfer", "money_transfer"),
    (DELAYED, 22, "DelayedTransfer", "delayed_transfer"),
])
def test_fixtures_load(path: Path, count: int, wf_type: str, wf_id: str) -> None:
    h = History.from_temporal_json(path)
    assert len(h) == count
    assert (h.workflow_type, h.workflow_id, h.source) == (wf_type, wf_id, str(path))
    assert h.run_id
    assert [e.event_id for e in h] == list(range(1, count + 1))
    assert h[0].time == 0.0
    times = [e.time for e in h]
    assert times == sorted(times) and times[-1] < 5
    assert all(e.raw is not None for e in h)
    assert repr(h) == f"History({wf_type}, workflow_id={wf_id!r}, {count} events)"


def test_money_transfer_event_types() -> None:
    h = History.from_temporal_json(MONEY)
    assert h.event_types() == MONEY_TYPES
    assert h.event_types(compact=True) == [
        "WorkflowExecutionStarted",
        "ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted",
        "ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted",
        "ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted",
        "WorkflowExecutionCompleted",
    ]


def test_money_transfer_decoded_attributes() -> None:
    h = History.from_temporal_json(MONEY)
    start = h[0].attributes
    assert start["workflowType"] == "MoneyTransfer"
    assert start["taskQueue"] == "bank"
    assert start["input"] == [25]
    assert start["workflowTaskTimeout"] == 10.0
    assert start["attempt"] == 1
    assert start["priority"] == {}  # unknown fields pass through

    scheduled = [e for e in h if e.event_type is E.ACTIVITY_TASK_SCHEDULED]
    assert [e.attributes["activityType"] for e in scheduled] == ["debit", "credit", "notify"]
    assert [e.attributes["input"] for e in scheduled] == [["alice", 25], ["bob", 25], ["bob"]]
    debit = scheduled[0].attributes
    assert debit["activityId"] == "1"
    assert debit["startToCloseTimeout"] == 5.0
    assert debit["scheduleToCloseTimeout"] == 0.0
    assert debit["workflowTaskCompletedEventId"] == 4
    assert debit["retryPolicy"] == {"initialInterval": 1.0, "backoffCoefficient": 2.0,
                                    "maximumInterval": 100.0}

    started = h[5].attributes
    assert (started["scheduledEventId"], started["attempt"]) == (5, 1)
    completed = [e for e in h if e.event_type is E.ACTIVITY_TASK_COMPLETED]
    assert [e.attributes["result"] for e in completed] == [25, 25, "sent"]
    assert [e.attributes["scheduledEventId"] for e in completed] == [5, 11, 17]
    assert h[-1].attributes == {"result": 25, "workflowTaskCompletedEventId": 22}
    assert h[2].attributes["historySizeBytes"] == 245
    assert h[7].attributes["taskQueue"] == "bank"  # the sticky queue's normal name
    assert h[-1].time == pytest.approx(0.081814146, abs=1e-9)


def test_delayed_transfer_timer() -> None:
    h = History.from_temporal_json(DELAYED)
    started, fired = h[4], h[5]
    assert started.event_type is E.TIMER_STARTED
    assert started.attributes == {"timerId": "1", "startToFireTimeout": 3.0,
                                  "workflowTaskCompletedEventId": 4}
    assert fired.attributes == {"timerId": "1", "startedEventId": 5}
    assert fired.time - started.time == pytest.approx(3.0, abs=0.05)
    assert started.summary() == "timer 3.0s"


def test_repr_and_summary() -> None:
    h = History.from_temporal_json(MONEY)
    assert repr(h[4]) == "HistoryEvent(5, ActivityTaskScheduled, activityType='debit')"
    assert repr(h[1]) == "HistoryEvent(2, WorkflowTaskScheduled)"
    assert h[0].summary() == "MoneyTransfer([25])"
    assert h[4].summary() == "debit(['alice', 25])"
    assert h[5].summary() == "attempt 1"
    assert h[18].summary() == "-> 'sent'"
    assert HistoryEvent(1, E.WORKFLOW_EXECUTION_SIGNALED, 0.0,
                        {"signalName": "approve", "input": []}).summary() == "signal approve"
    assert HistoryEvent(1, E.TIMER_STARTED, 0.0).summary() == ""  # missing fields: no crash


def test_children_and_cancel_requests_say_which_workflow() -> None:
    recorded = Path(__file__).parent / "fixtures" / "recorded"
    for ending in ("cancelled", "terminated", "timed_out"):
        parent = History.from_temporal_json(recorded / f"child_{ending}_parent.json")
        summaries = {e.event_type.value: e.summary() for e in parent}
        closed = next(t for t in summaries if t.startswith("ChildWorkflowExecution")
                      and t != "ChildWorkflowExecutionStarted")
        assert summaries[closed] == summaries["ChildWorkflowExecutionStarted"] == (
            f"child child_{ending}-child")
    child = History.from_temporal_json(recorded / "parent_close_request_cancel_child.json")
    asked = next(e for e in child if e.event_type is E.WORKFLOW_EXECUTION_CANCEL_REQUESTED)
    assert asked.summary() == "asked by parent_close_request_cancel"


def test_other_inputs_load_the_same() -> None:
    h = History.from_temporal_json(MONEY)
    text = MONEY.read_text(encoding="utf-8")
    doc = load_doc(MONEY)
    for other in (text, "\n  " + text, text.encode(), str(MONEY), doc, doc["events"],
                  json.dumps(doc["events"])):
        assert History.from_temporal_json(other) == h


def test_all_three_event_type_spellings_load() -> None:
    doc = load_doc(MONEY)
    doc["events"][4]["eventType"] = "EventTypeActivityTaskScheduled"
    doc["events"][5]["eventType"] = "ActivityTaskStarted"
    h = History.from_temporal_json(json.dumps(doc))
    assert h.event_types() == MONEY_TYPES


def test_slicing_gives_a_history() -> None:
    h = History.from_temporal_json(MONEY)
    prefix = h[:7]
    assert isinstance(prefix, History) and len(prefix) == 7
    assert prefix.workflow_id == "money_transfer" and prefix[-1] == h[6]


# --------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("path", [MONEY, DELAYED, *RECORDED],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_history_round_trip_is_exact(path: Path) -> None:
    h = History.from_temporal_json(path)
    written = h.to_temporal_json()
    assert json.loads(written) == load_doc(path)
    assert History.from_temporal_json(written) == h


@pytest.mark.parametrize("path", [MONEY, DELAYED, *RECORDED],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_decoded_attributes_re_encode_to_the_same_events(path: Path) -> None:
    """Forget the raw JSON: the decoded attributes alone still write an equal history."""
    h = History.from_temporal_json(path)
    rebuilt = History([HistoryEvent(e.event_id, e.event_type, e.time, e.attributes)
                       for e in h])
    assert History.from_temporal_json(rebuilt.to_temporal_json()) == h


def engine_history() -> History:
    """A history as the engine would make it: a failure, a retry, a timer, a signal, a marker."""
    cause = make_failure("connection reset", "ConnectionError")
    failure = make_failure("deposit failed", "DepositError", cause=cause)
    events = [
        (E.WORKFLOW_EXECUTION_STARTED, {
            "workflowType": "Transfer", "taskQueue": "bank", "input": ["alice", "bob", 25],
            "workflowTaskTimeout": 10.0, "attempt": 1, "workflowId": "transfer-1"}),
        (E.WORKFLOW_TASK_SCHEDULED, {"taskQueue": "bank", "startToCloseTimeout": 10.0,
                                     "attempt": 1}),
        (E.WORKFLOW_TASK_STARTED, {"scheduledEventId": 2, "identity": "worker-1"}),
        (E.WORKFLOW_TASK_COMPLETED, {"scheduledEventId": 2, "startedEventId": 3}),
        (E.ACTIVITY_TASK_SCHEDULED, {
            "activityId": "1", "activityType": "withdraw", "taskQueue": "bank",
            "input": ["alice", 25], "startToCloseTimeout": 5.0, "heartbeatTimeout": 0.0,
            "workflowTaskCompletedEventId": 4,
            "retryPolicy": {"initialInterval": 1.0, "backoffCoefficient": 2.0,
                            "maximumInterval": 100.0, "maximumAttempts": 3}}),
        (E.ACTIVITY_TASK_STARTED, {"scheduledEventId": 5, "attempt": 2,
                                   "lastFailure": failure}),
        (E.ACTIVITY_TASK_FAILED, {"failure": make_failure("no", "Closed", non_retryable=True),
                                  "scheduledEventId": 5, "startedEventId": 6,
                                  "retryState": "RETRY_STATE_NON_RETRYABLE_FAILURE"}),
        (E.TIMER_STARTED, {"timerId": "1", "startToFireTimeout": 30 * 86400.0,
                           "workflowTaskCompletedEventId": 4}),
        (E.TIMER_FIRED, {"timerId": "1", "startedEventId": 8}),
        (E.WORKFLOW_EXECUTION_SIGNALED, {"signalName": "approve", "input": ["manager"]}),
        (E.MARKER_RECORDED, {"markerName": "SideEffect", "details": {"data": {"n": 42}},
                             "workflowTaskCompletedEventId": 4}),
        (E.UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, {"searchAttributes": {"Stage": "paid"},
                                               "workflowTaskCompletedEventId": 4}),
        (E.ACTIVITY_TASK_SCHEDULED, {
            "activityId": "2", "activityType": "deposit", "taskQueue": "bank",
            "input": ["bob", 25], "startToCloseTimeout": 5.0,
            "workflowTaskCompletedEventId": 4}),
        (E.ACTIVITY_TASK_STARTED, {"scheduledEventId": 13, "attempt": 1}),
        (E.ACTIVITY_TASK_COMPLETED, {"result": {"ok": True, "balance": [1.5, None]},
                                     "scheduledEventId": 13, "startedEventId": 14}),
        (E.WORKFLOW_EXECUTION_COMPLETED, {"result": None, "workflowTaskCompletedEventId": 4}),
    ]
    times = [0.0, 0.0, 0.1, 0.1 + 0.2, 0.5, 1 / 3, 1.000000001, 2.0, 2.0 + 30 * 86400.0,
             2592010.25, 2592010.5, 2592011.0, 2592011.5, 2592011.75, 2592012.0, 2592013.125]
    return History([HistoryEvent(i, t, when, attrs)
                    for i, ((t, attrs), when) in enumerate(zip(events, times, strict=True), 1)],
                   workflow_id="transfer-1", workflow_type="Transfer")


def test_engine_history_round_trip() -> None:
    h = engine_history()
    text = h.to_temporal_json()
    assert text == engine_history().to_temporal_json()  # deterministic
    loaded = History.from_temporal_json(text)
    assert loaded == h
    assert loaded.events == h.events
    assert (loaded.workflow_id, loaded.workflow_type) == ("transfer-1", "Transfer")
    assert loaded.to_temporal_json() == text


def test_engine_history_is_in_temporal_shape() -> None:
    events = json.loads(engine_history().to_temporal_json(indent=None))["events"]
    first, scheduled, failed = events[0], events[4], events[6]
    assert first["eventId"] == "1"
    assert first["eventTime"] == "2026-01-01T00:00:00Z"
    assert events[3]["eventTime"] == "2026-01-01T00:00:00.300Z"
    assert events[6]["eventTime"] == "2026-01-01T00:00:01.000000001Z"
    assert first["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
    assert isinstance(first["taskId"], str)
    start = first["workflowExecutionStartedEventAttributes"]
    assert start["workflowType"] == {"name": "Transfer"}
    assert start["taskQueue"] == {"name": "bank", "kind": "TASK_QUEUE_KIND_NORMAL"}
    assert start["workflowTaskTimeout"] == "10s"
    payload = start["input"]["payloads"][2]
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"
    assert json.loads(base64.b64decode(payload["data"])) == 25
    attrs = scheduled["activityTaskScheduledEventAttributes"]
    assert attrs["activityType"] == {"name": "withdraw"}
    assert attrs["startToCloseTimeout"] == "5s"
    assert attrs["workflowTaskCompletedEventId"] == "4"
    assert attrs["retryPolicy"]["initialInterval"] == "1s"
    assert failed["activityTaskFailedEventAttributes"]["failure"] == {
        "message": "no", "applicationFailureInfo": {"type": "Closed", "nonRetryable": True}}
    timer = events[7]["timerStartedEventAttributes"]
    assert timer["startToFireTimeout"] == "2592000s"


def test_engine_history_loads_in_temporals_sdk() -> None:
    """The real SDK's protobuf parser rejects unknown fields and wrong types."""
    client = pytest.importorskip("temporalio.client")
    text = engine_history().to_temporal_json()
    parsed = client.WorkflowHistory.from_json("transfer-1", text)
    assert len(parsed.events) == 16
    assert parsed.events[6].activity_task_failed_event_attributes.failure.cause is not None


def test_writing_a_value_json_cannot_hold_names_the_event() -> None:
    h = History([HistoryEvent(1, E.WORKFLOW_EXECUTION_STARTED, 0.0,
                              {"workflowType": "W", "input": [object()]})])
    with pytest.raises(HistoryFormatError, match=r"^<history>: event index 0, field "
                       r"workflowExecutionStartedEventAttributes\.input: cannot write"):
        h.to_temporal_json()


def test_event_equality() -> None:
    a = HistoryEvent(1, E.TIMER_FIRED, 0.1 + 0.2, {"timerId": "1"})
    assert a == HistoryEvent(1, E.TIMER_FIRED, 0.3, {"timerId": "1"}, raw={"x": 1})
    assert a != HistoryEvent(1, E.TIMER_FIRED, 0.3000001, {"timerId": "1"})
    assert a != HistoryEvent(2, E.TIMER_FIRED, 0.3, {"timerId": "1"})
    assert a != HistoryEvent(1, E.TIMER_FIRED, 0.3, {"timerId": "2"})
    assert HistoryEvent(1, E.TIMER_FIRED, 0.0).attributes == {}


# --------------------------------------------------------------------------- HTML

def test_repr_html_has_a_row_per_event_with_muted_workflow_tasks() -> None:
    h = History.from_temporal_json(MONEY)
    page = h._repr_html_()
    assert page.startswith("<table") and page.count("<tr") == len(h) + 1
    assert page.count('class="durasim-wft"') == 12
    assert "debit([&#x27;alice&#x27;, 25])" in page
    assert "MoneyTransfer" in page


def test_an_updates_arguments_and_result_are_decoded() -> None:
    """Recorded on the real server: ``acceptedRequest.input.args`` and ``outcome.success``
    are Payloads like any input and result, so replay compares values, not base64."""
    h = History.from_temporal_json(REPO / "tests" / "fixtures" / "sdk" / "recorded" /
                                   "update.json")
    accepted, completed = (next(e for e in h if e.event_type is t) for t in (
        E.WORKFLOW_EXECUTION_UPDATE_ACCEPTED, E.WORKFLOW_EXECUTION_UPDATE_COMPLETED))
    assert accepted.attributes["acceptedRequest"]["input"] == {"name": "deposit", "args": [100]}
    assert completed.attributes["outcome"] == {"success": [100]}


def test_without_a_registered_viewer_a_history_shows_as_lines(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine cannot import durasim.viz; the front door registers its table."""
    from durasim.engine import history as model
    monkeypatch.setattr(model, "HISTORY_VIEWERS", [])
    page = History.from_temporal_json(MONEY)._repr_html_()
    assert page.startswith("<pre>History(MoneyTransfer") and page.count("\n") == 23
    assert "debit([&#x27;alice&#x27;, 25])" in page


def test_history_table_html_options() -> None:
    h = History.from_temporal_json(MONEY)
    page = history_table_html(h, compact=True, highlight=7, replayed={5, 6})
    assert page.count("<tr") == 11 + 1
    assert page.count("durasim-highlight") == 1
    assert page.count("durasim-replayed") == 2
    assert 'data-event-id="7"' in page and 'data-event-id="2"' not in page


# --------------------------------------------------------------------------- errors

def _set(path: tuple[Any, ...], value: Any) -> Any:
    def mutate(doc: Any) -> None:
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


def _delete(path: tuple[Any, ...]) -> Any:
    def mutate(doc: Any) -> None:
        node = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return mutate


def _swap(doc: Any) -> None:
    events = doc["events"]
    events[3], events[4] = events[4], events[3]


_ATTRS = "activityTaskScheduledEventAttributes"
_PAYLOAD = ("events", 4, _ATTRS, "input", "payloads", 0)
MALFORMED = {
    # name: (mutation of money_transfer.json, event index, text the message must contain)
    "unknown event type": (_set(("events", 4, "eventType"), "EVENT_TYPE_TELEPORT"), 4,
                           "eventType"),
    "missing eventId": (_delete(("events", 2, "eventId")), 2, "eventId"),
    "eventId not an integer": (_set(("events", 2, "eventId"), "three"), 2, "eventId"),
    "eventId a float": (_set(("events", 2, "eventId"), 3.0), 2, "eventId"),
    "eventId a boolean": (_set(("events", 0, "eventId"), True), 0, "eventId"),
    "ids out of order": (_swap, 3, "eventId"),
    "ids not from 1": (_set(("events", 0, "eventId"), "0"), 0, "eventId"),
    "missing eventType": (_delete(("events", 6, "eventType")), 6, "eventType"),
    "eventType not a string": (_set(("events", 6, "eventType"), 12), 6, "eventType"),
    "bad payload base64": (_set((*_PAYLOAD, "data"), "not base64!"), 4,
                           f"{_ATTRS}.input.payloads[0].data"),
    "bad payload JSON": (_set((*_PAYLOAD, "data"), base64.b64encode(b"{oops").decode()), 4,
                         f"{_ATTRS}.input.payloads[0].data"),
    "payload without encoding": (_set((*_PAYLOAD, "metadata"), {}), 4, "metadata.encoding"),
    "payloads not a list": (_set(("events", 4, _ATTRS, "input", "payloads"), {}), 4,
                            f"{_ATTRS}.input.payloads"),
    "bad duration": (_set(("events", 4, _ATTRS, "startToCloseTimeout"), "5 seconds"), 4,
                     f"{_ATTRS}.startToCloseTimeout"),
    "duration a number": (_set(("events", 4, _ATTRS, "startToCloseTimeout"), 5), 4,
                          "startToCloseTimeout"),
    "bad eventTime": (_set(("events", 8, "eventTime"), "yesterday"), 8, "eventTime"),
    "impossible eventTime": (_set(("events", 8, "eventTime"), "2026-02-30T00:00:00Z"), 8,
                             "eventTime"),
    "missing eventTime": (_delete(("events", 8, "eventTime")), 8, "eventTime"),
    "attributes not an object": (_set(("events", 4, _ATTRS), []), 4, _ATTRS),
    "attributes of another type": (_set(("events", 4, "timerFiredEventAttributes"), {}), 4,
                                   "timerFiredEventAttributes"),
    "event id field not an integer": (_set(("events", 6, "activityTaskCompletedEventAttributes",
                                            "scheduledEventId"), "five"), 6, "scheduledEventId"),
    "activity type not an object": (_set(("events", 4, _ATTRS, "activityType"), "debit"), 4,
                                    "activityType"),
    "event not an object": (_set(("events", 5), "ActivityTaskStarted"), 5, "expected an event"),
    "a lone surrogate in a name": (_set(("events", 4, _ATTRS, "activityType", "name"),
                                        "deb\ud800it"), 4, f"{_ATTRS}.activityType.name"),
    "a lone surrogate in a payload": (
        _set((*_PAYLOAD, "data"), base64.b64encode(b'{"who": "\\udc00"}').decode()), 4,
        f"{_ATTRS}.input.payloads[0].data.who"),
    "a bare NaN for a run id": (_set(("events", 0, "workflowExecutionStartedEventAttributes",
                                      "originalExecutionRunId"), float("nan")), 0,
                                "originalExecutionRunId: nan is not a JSON number"),
    "a bare Infinity for an attempt": (_set(("events", 4, _ATTRS, "attempt"), float("inf")),
                                       4, f"{_ATTRS}.attempt: inf is not a JSON number"),
}


def _check_message(exc: HistoryFormatError, source: str, *parts: str) -> None:
    message = str(exc)
    assert "\n" not in message
    assert message.startswith(source + ": ")
    for part in parts:
        assert part in message, message
    assert isinstance(exc, DurasimError) and isinstance(exc, ValueError)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_event_names_source_index_and_field(case: str, tmp_path: Path) -> None:
    mutate, index, field = MALFORMED[case]
    doc = load_doc(MONEY)
    mutate(doc)
    with pytest.raises(HistoryFormatError) as info:
        History.from_temporal_json(json.dumps(doc))
    _check_message(info.value, "<text>", f"event index {index}", field)

    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(HistoryFormatError) as info:
        History.from_temporal_json(path)
    _check_message(info.value, str(path), f"event index {index}", field)


@pytest.mark.parametrize(("data", "expected"), [
    (MONEY.read_bytes()[:500], "invalid JSON at line 2"),
    (b"", "invalid JSON at line 1 column 1"),
    (b"42", "top level"),
    (b'{"history": []}', "top level"),
    (b'{"events": {"1": {}}}', "field events"),
    (b'{"events": [1, 2]}', "event index 0"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "<text>"),
])
def test_malformed_documents(data: bytes, expected: str) -> None:
    with pytest.raises(HistoryFormatError) as info:
        History.from_temporal_json(data)
    _check_message(info.value, "<text>", expected)


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(HistoryFormatError, match=r"nope\.json: no such file"):
        History.from_temporal_json(missing)
    with pytest.raises(HistoryFormatError, match="cannot read"):
        History.from_temporal_json(tmp_path)  # a folder


def test_a_file_too_large_to_be_a_history_is_not_read_whole(tmp_path: Path) -> None:
    """``/dev/zero`` or a wrong huge file must not fill the memory: reading stops."""
    from durasim.engine.temporal_json import MAX_FILE_BYTES
    huge = tmp_path / "huge.json"
    with huge.open("wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(HistoryFormatError, match=r"huge\.json: larger than 64 MiB"):
        History.from_temporal_json(huge)


def test_deeply_nested_failure_causes_are_refused_cleanly() -> None:
    failure: dict[str, Any] = {"message": "bottom"}
    for _ in range(5000):
        failure = {"message": "wrap", "cause": failure}
    doc = load_doc(MONEY)
    doc["events"][22]["workflowExecutionCompletedEventAttributes"] = {}
    doc["events"][22]["eventType"] = "EVENT_TYPE_WORKFLOW_EXECUTION_FAILED"
    doc["events"][22]["workflowExecutionFailedEventAttributes"] = {"failure": failure}
    del doc["events"][22]["workflowExecutionCompletedEventAttributes"]
    with pytest.raises(HistoryFormatError, match="event index 22"):
        History.from_temporal_json(doc)


# --------------------------------------------------------------------------- fuzzing

FIXTURE_DOCS = [load_doc(MONEY), load_doc(DELAYED)]
TRICKY = st.sampled_from([
    "", "0", "1", "-1", "23", "1.5", "abc", "5s", "0.5s", "1.0000000001s", "-3s", "s",
    "==", "!!", "anNvbi9wbGFpbg==", "YmluYXJ5L251bGw=", "e30=", "bnVsbA", "\u00e9",
    "EVENT_TYPE_TIMER_FIRED", "TimerFired", "EventTypeWorkflowTaskStarted",
    "2026-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
    "2026-11-28T02:49:15.3+25:00", "99999999999999999999",
])
LEAVES = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
          | st.floats(allow_nan=False) | st.text(max_size=12) | TRICKY)
JSON_VALUES = st.recursive(
    LEAVES,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8) | TRICKY,
                                                              kids, max_size=3),
    max_leaves=6)


def _slots(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in a JSON tree: the places a mutation can hit."""
    found: list[tuple[Any, Any]] = []
    keys = node.keys() if isinstance(node, dict) else range(len(node))
    for key in keys:
        found.append((node, key))
        if isinstance(node[key], dict | list):
            found.extend(_slots(node[key]))
    return found


@st.composite
def mutated_docs(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(draw(st.sampled_from(FIXTURE_DOCS)))
    for _ in range(draw(st.integers(1, 4))):
        slots = _slots(doc)
        if not slots:
            break
        node, key = draw(st.sampled_from(slots))
        action = draw(st.sampled_from(["delete", "replace", "tricky", "wrap", "empty"]))
        if action == "delete":
            del node[key]
        elif action == "replace":
            node[key] = draw(JSON_VALUES)
        elif action == "tricky":
            node[key] = draw(TRICKY)
        elif action == "wrap":
            node[key] = [node[key]]
        else:
            node[key] = {} if isinstance(node[key], list) else []
    return doc


def _load_or_refuse(data: Any) -> History | None:
    try:
        return History.from_temporal_json(data)
    except HistoryFormatError as exc:
        assert "\n" not in str(exc)
        return None


@settings(max_examples=300, deadline=None)
@given(mutated_docs())
def test_fuzz_mutated_histories_load_or_raise_history_format_error(doc: Any) -> None:
    h = _load_or_refuse(json.dumps(doc))
    if h is None:
        return
    for event in h:  # whatever loaded can be shown ...
        repr(event)
        event.summary()
    h._repr_html_()
    assert History.from_temporal_json(h.to_temporal_json()) == h  # ... and written back
    rebuilt = History([HistoryEvent(e.event_id, e.event_type, e.time, e.attributes)
                       for e in h])
    try:
        text = rebuilt.to_temporal_json()
    except ValueError:
        return  # e.g. a time past year 9999 cannot be written without its raw JSON
    assert History.from_temporal_json(text) == h


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fuzz_damaged_bytes_load_or_raise_history_format_error(data: st.DataObject) -> None:
    raw = bytearray(data.draw(st.sampled_from([MONEY, DELAYED])).read_bytes())
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw)))
        action = data.draw(st.sampled_from(["truncate", "insert", "replace"]))
        if action == "truncate":
            del raw[at:]
        elif action == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        else:
            raw[at:at + 1] = data.draw(st.binary(min_size=1, max_size=1))
    _load_or_refuse(bytes(raw))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(lambda s: "{" + s))
def test_fuzz_random_input_raises_only_history_format_error(data: bytes | str) -> None:
    _load_or_refuse(data)
