"""Checks on recorded histories shared by the property tests.

They look at a history the way the server wrote it, independently of the engine's own
matching code: a fresh workflow instance fed a prefix of the history must issue exactly
the commands the history recorded for that workflow task.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from durasim import History
from durasim.engine import EventType, HistoryEvent, workflow_definition
from durasim.engine.runtime import WorkflowInstance

E = EventType
COMMAND_EVENTS = frozenset({
    E.ACTIVITY_TASK_SCHEDULED, E.TIMER_STARTED, E.MARKER_RECORDED,
    E.UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, E.START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    E.WORKFLOW_EXECUTION_COMPLETED, E.WORKFLOW_EXECUTION_FAILED,
    E.WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
})
"""Events that record a command (Temporal's list), written out again on purpose."""


def recorded_commands(events: Sequence[HistoryEvent], start: int
                      ) -> list[tuple[EventType, dict[str, Any]]]:
    """The command events from index ``start`` on, as (type, attributes)."""
    found = []
    for event in events[start:]:
        if event.event_type not in COMMAND_EVENTS:
            break
        found.append((event.event_type, event.attributes))
    return found


def same_commands(issued: Sequence[tuple[EventType, dict[str, Any]]],
                  recorded: Sequence[tuple[EventType, dict[str, Any]]]) -> bool:
    """Same commands, in order, each attribute the code issued recorded with its value.

    The server may add attributes of its own (``workflowTaskCompletedEventId``, timeout
    defaults, ...), as Temporal's does; it may not drop or change what the code asked for.
    """
    return len(issued) == len(recorded) and all(
        kind == recorded_kind and all(k in attributes and attributes[k] == v
                                      for k, v in asked.items())
        for (kind, asked), (recorded_kind, attributes) in zip(issued, recorded, strict=True))


def check_every_workflow_task(workflow: Any, history: History) -> int:
    """Replay each completed workflow task from scratch; its commands must be the recorded ones.

    For every ``WorkflowTaskStarted`` followed by ``WorkflowTaskCompleted``, a fresh
    instance is fed the history up to that task: it replays everything before (raising
    NondeterminismError on a mismatch) and returns the commands of that task, which must
    match the command events recorded after its completion, attributes included.

    Returns:
        How many workflow tasks were checked.
    """
    definition = workflow_definition(workflow)
    events = history.events
    started = events[0].attributes
    checked = 0
    for index, event in enumerate(events[:-1]):
        if (event.event_type is not E.WORKFLOW_TASK_STARTED
                or events[index + 1].event_type is not E.WORKFLOW_TASK_COMPLETED):
            continue
        instance = WorkflowInstance(definition, workflow_id=history.workflow_id,
                                    run_id=str(started.get("originalExecutionRunId", "")),
                                    args=started.get("input", []))
        issued = [(c.event_type, c.attributes())
                  for c in instance.feed(events[:index + 1]).commands]
        recorded = recorded_commands(events, index + 2)
        assert same_commands(issued, recorded), (
            f"{history.workflow_id}: workflow task at event {event.event_id}: replay issued "
            f"{issued} but the history recorded {recorded}")
        checked += 1
    return checked


def check_history_shape(history: History) -> None:
    """Ids 1..n without gaps; no activity closed twice; nothing after the closing event."""
    ids = [e.event_id for e in history]
    assert ids == list(range(1, len(ids) + 1)), f"ids not 1..n: {ids}"
    closes = Counter(e.attributes["scheduledEventId"] for e in history
                     if e.event_type in (E.ACTIVITY_TASK_COMPLETED, E.ACTIVITY_TASK_FAILED,
                                         E.ACTIVITY_TASK_TIMED_OUT))
    twice = {k: n for k, n in closes.items() if n > 1}
    assert not twice, f"activities closed more than once (scheduled id: times): {twice}"
    closing = [i for i, e in enumerate(history.events)
               if e.event_type in (E.WORKFLOW_EXECUTION_COMPLETED, E.WORKFLOW_EXECUTION_FAILED,
                                   E.WORKFLOW_EXECUTION_CONTINUED_AS_NEW)]
    assert closing in ([], [len(history) - 1]), f"events after the closing event: {closing}"
