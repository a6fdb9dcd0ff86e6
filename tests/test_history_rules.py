"""The rules a history must keep before anything reads it (issue 17.4).

Each case damages a real recording the way a hand edit, a bad copy-paste or a buggy store
would, and checks that loading refuses it with one line naming the source, the event
index and the field, and that the Replayer refuses the same history built in memory.
The first five are the places replay used to crash with a raw KeyError or TypeError.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import tests.workflows.recorded as recorded
from durasim.engine.api import execute
from durasim.engine.history import EventType, History, HistoryEvent
from durasim.engine.history_rules import check_events
from durasim.engine.replayer import Replayer
from durasim.errors import HistoryFormatError
from durasim.faults import Crash
from durasim.strategies import (
    ActivityStep,
    ChildStep,
    ParallelStep,
    PatchStep,
    Program,
    SignalStep,
    build_workflow,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPLAYER = Replayer(workflows=[recorded.MoneyTransfer, recorded.DelayedTransfer,
                               recorded.Approval, recorded.Payroll, recorded.Transfer])


def doc(name: str) -> dict[str, Any]:
    folder = "temporal" if name in ("money_transfer", "delayed_transfer") else "recorded"
    loaded: dict[str, Any] = json.loads((FIXTURES / folder / f"{name}.json").read_text())
    return loaded


def attrs(document: dict[str, Any], index: int) -> dict[str, Any]:
    """The attributes object of event ``index``."""
    event = document["events"][index]
    found: dict[str, Any] = next(v for k, v in event.items() if k.endswith("EventAttributes"))
    return found


def renumber(document: dict[str, Any]) -> None:
    for number, event in enumerate(document["events"], 1):
        event["eventId"] = str(number)


def _set(index: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: attrs(d, index).__setitem__(key, value)


def _drop(index: int, key: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: attrs(d, index).pop(key)


def _repeat(index: int, at: int) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        d["events"].insert(at, copy.deepcopy(d["events"][index]))
        renumber(d)
    return change


def _retype(index: int, new: EventType) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        event = d["events"][index]
        old = attrs(d, index)
        for key in [k for k in event if k.endswith("EventAttributes")]:
            del event[key]
        event["eventType"] = new.proto_name
        event[new.attributes_key] = old
    return change


CASES: dict[str, tuple[str, Callable[[dict[str, Any]], None], int, str]] = {
    # name: (recording, damage, event index, the field the message names)
    "completion without scheduledEventId": (
        "money_transfer", _drop(6, "scheduledEventId"), 6,
        "activityTaskCompletedEventAttributes.scheduledEventId"),
    "failure without scheduledEventId": (
        "non_retryable_failure", _drop(6, "scheduledEventId"), 6,
        "activityTaskFailedEventAttributes.scheduledEventId"),
    "fired timer without timerId": (
        "delayed_transfer", _drop(5, "timerId"), 5, "timerFiredEventAttributes.timerId"),
    "child completion without initiatedEventId": (
        "parent_child", _drop(9, "initiatedEventId"), 9,
        "childWorkflowExecutionCompletedEventAttributes.initiatedEventId"),
    "signalName a list": (
        "signal_wait", _set(4, "signalName", ["approve"]), 4,
        "workflowExecutionSignaledEventAttributes.signalName"),
    "signalName an object": (
        "signal_wait", _set(4, "signalName", {"name": "approve"}), 4,
        "workflowExecutionSignaledEventAttributes.signalName"),
    "completion without startedEventId": (
        "money_transfer", _drop(6, "startedEventId"), 6,
        "activityTaskCompletedEventAttributes.startedEventId"),
    "workflowType missing": (
        "money_transfer", _drop(0, "workflowType"), 0,
        "workflowExecutionStartedEventAttributes.workflowType"),
    "workflowType with an empty name": (
        "money_transfer", _set(0, "workflowType", {"name": ""}), 0,
        "workflowExecutionStartedEventAttributes.workflowType"),
    "activityType missing": (
        "money_transfer", _drop(4, "activityType"), 4,
        "activityTaskScheduledEventAttributes.activityType"),
    "activityId a number": (
        "money_transfer", _set(4, "activityId", 1), 4,
        "activityTaskScheduledEventAttributes.activityId"),
    "timerId a number": (
        "delayed_transfer", _set(4, "timerId", 1), 4, "timerStartedEventAttributes.timerId"),
    "attempt 0": (
        "money_transfer", _set(5, "attempt", 0), 5, "activityTaskStartedEventAttributes.attempt"),
    "scheduledEventId points nowhere": (
        "money_transfer", _set(6, "scheduledEventId", "99"), 6,
        "activityTaskCompletedEventAttributes.scheduledEventId"),
    "scheduledEventId points forward": (
        "money_transfer", _set(5, "scheduledEventId", "11"), 5,
        "activityTaskStartedEventAttributes.scheduledEventId"),
    "scheduledEventId points to a timer": (
        "delayed_transfer", _set(11, "scheduledEventId", "5"), 11,
        "activityTaskCompletedEventAttributes.scheduledEventId"),
    "startedEventId of another activity": (
        "money_transfer", _set(12, "startedEventId", "6"), 12,
        "activityTaskCompletedEventAttributes.startedEventId"),
    "activity completed twice": (
        "money_transfer", _repeat(6, 7), 7,
        "activityTaskCompletedEventAttributes.scheduledEventId"),
    "activity started twice": (
        "money_transfer", _repeat(5, 6), 6, "activityTaskStartedEventAttributes.scheduledEventId"),
    "activity started and completed twice": (
        "money_transfer", lambda d: (_repeat(5, 7)(d), _repeat(7, 8)(d)), 7,
        "activityTaskStartedEventAttributes.scheduledEventId"),
    "timer fired twice": (
        "delayed_transfer", _repeat(5, 6), 6, "timerFiredEventAttributes.startedEventId"),
    "fired timer of another id": (
        "delayed_transfer", _set(5, "timerId", "2"), 5, "timerFiredEventAttributes.timerId"),
    "child completed twice": (
        "parent_child", _repeat(9, 10), 10,
        "childWorkflowExecutionCompletedEventAttributes.initiatedEventId"),
    "workflow task started twice": (
        "money_transfer", _repeat(2, 3), 3, "workflowTaskStartedEventAttributes.scheduledEventId"),
    "an event after the workflow closed": (
        "money_transfer", _repeat(19, 23), 23, "eventType"),
    "the first event is not the start": (
        "money_transfer", lambda d: (d["events"].pop(0), renumber(d)), 0, "eventType"),
    "a second start": (
        "money_transfer", _repeat(0, 5), 5, "eventType"),
    "a completion turned into a timer firing": (
        "money_transfer", _retype(6, EventType.TIMER_FIRED), 6,
        "timerFiredEventAttributes.timerId"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_impossible_histories_are_refused_at_load(case: str) -> None:
    name, damage, index, field = CASES[case]
    document = doc(name)
    damage(document)
    with pytest.raises(HistoryFormatError) as info:
        History.from_temporal_json(json.dumps(document))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"<text>: event index {index}, field {field}: "), message


def money() -> list[HistoryEvent]:
    """money_transfer.json decoded, as fresh events without their JSON (built in memory)."""
    loaded = History.from_temporal_json(FIXTURES / "temporal" / "money_transfer.json")
    return [HistoryEvent(e.event_id, e.event_type, e.time, copy.deepcopy(e.attributes))
            for e in loaded]


def _renumbered(events: list[HistoryEvent]) -> list[HistoryEvent]:
    for number, event in enumerate(events, 1):
        event.event_id = number
    return events


def _doubled_completion() -> list[HistoryEvent]:
    """What a store that wrote a parked completion twice left (issue 17.1a)."""
    events = money()
    events[7:7] = [copy.deepcopy(events[5]), copy.deepcopy(events[6])]
    return _renumbered(events)


def _changed(index: int, **changes: Any) -> Callable[[], list[HistoryEvent]]:
    def build() -> list[HistoryEvent]:
        events = money()
        for key, value in changes.items():
            if value is _GONE:
                del events[index].attributes[key]
            else:
                events[index].attributes[key] = value
        return events
    return build


def _event(index: int, **fields: Any) -> Callable[[], list[HistoryEvent]]:
    def build() -> list[HistoryEvent]:
        events: list[Any] = money()
        for key, value in fields.items():
            if key == "replace":
                events[index] = value
            else:
                setattr(events[index], key, value)
        return events
    return build


_GONE = object()
_C = "activityTaskCompletedEventAttributes"
IN_MEMORY: dict[str, tuple[Callable[[], list[Any]], int, str]] = {
    "completion without scheduledEventId": (_changed(6, scheduledEventId=_GONE), 6,
                                            f"{_C}.scheduledEventId"),
    "scheduledEventId a string": (_changed(6, scheduledEventId="5"), 6,
                                  f"{_C}.scheduledEventId"),
    "scheduledEventId a boolean": (_changed(6, scheduledEventId=True), 6,
                                   f"{_C}.scheduledEventId"),
    "started and completed twice": (_doubled_completion, 7,
                                    "activityTaskStartedEventAttributes.scheduledEventId"),
    "input not a list": (_changed(4, input="alice"), 4,
                         "activityTaskScheduledEventAttributes.input"),
    "failure not an object": (_changed(6, failure="boom"), 6, f"{_C}.failure"),
    "a gap in the ids": (_event(3, event_id=5), 3, "eventId"),
    "an id repeated": (_event(3, event_id=3), 3, "eventId"),
    "a time that is not a number": (_event(5, time=float("nan")), 5, "eventTime"),
    "a type that is not an EventType": (_event(5, event_type="ActivityTaskStarted"), 5,
                                        "eventType"),
    "attributes that are not a dict": (_event(5, attributes=[("scheduledEventId", 5)]), 5, ""),
    "not an event at all": (_event(5, replace={"eventId": 6}), 5, ""),
}


@pytest.mark.parametrize("case", sorted(IN_MEMORY))
def test_the_replayer_checks_histories_built_in_memory(case: str) -> None:
    build, index, field = IN_MEMORY[case]
    history = History(build(), workflow_id="money_transfer", source="<in memory>")
    where = f", field {field}: " if field else ": "
    with pytest.raises(HistoryFormatError) as info:
        REPLAYER.replay(history)
    assert str(info.value).startswith(f"<in memory>: event index {index}{where}"), info.value
    with pytest.raises(HistoryFormatError):  # and it is never written out for a reload
        history.to_temporal_json()


def test_every_recording_keeps_the_rules() -> None:
    """The rules are Temporal's: every history the real server wrote keeps them."""
    paths = [p for p in sorted(FIXTURES.rglob("*.json")) if '"events"' in p.read_text()]
    assert len(paths) >= 18
    for path in paths:
        check_events(History.from_temporal_json(path).events, str(path))


def test_the_engine_links_a_child_that_starts_during_a_workflow_task() -> None:
    """Found by the rules: a child that started and finished while its parent's workflow
    task was in flight (the worker crashed) was closed with ``startedEventId`` 0."""
    program = Program((SignalStep("s1", 0), SignalStep("s2", 0), ParallelStep((
        (ChildStep(Program((ActivityStep("a1", 0),))),),
        (ChildStep(Program((PatchStep("p1"),))),),
        (PatchStep("p2"), PatchStep("p3"), PatchStep("p4"))))))
    built = build_workflow(program)
    run = execute(built.workflow, requests=built.signals, seed=0,
                  faults=[Crash(node="worker", after_events=17)])
    assert run.status == "completed"
    check_events(run.history.events, "engine")
    closes = [e for e in run.history
              if e.event_type is EventType.CHILD_WORKFLOW_EXECUTION_COMPLETED]
    assert len(closes) == 2 and all(e.attributes["startedEventId"] for e in closes)


def test_a_valid_history_built_in_memory_replays() -> None:
    result = REPLAYER.replay(History(money(), workflow_id="money_transfer"))
    assert result.finished


def test_an_empty_document_is_not_a_history() -> None:
    with pytest.raises(HistoryFormatError, match="no events"):
        History.from_temporal_json({"events": []})
    with pytest.raises(HistoryFormatError, match="top level"):
        History.from_temporal_json(None)  # type: ignore[arg-type]  # parsed JSON null
