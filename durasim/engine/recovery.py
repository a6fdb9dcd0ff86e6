"""A restarted server rebuilds every open run from its store: event sourcing, server side.

What the server had in memory is gone; what it wrote is not. For each open run it reads
the history (which workflow task is in flight, which activities and timers are pending)
and the mutable state saved with the last batch (attempt counters, parked events,
heartbeat details), then re-arms what was in flight: activities not yet handed out are
dispatched, activities a worker may be running wait for their answer or their timeout,
timers fire at their original time, and a workflow task in flight times out as usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from durasim.engine.execution import (
    CHILD_CLOSED,
    TRANSIENT,
    WORKFLOW_TASK_TIMEOUT,
    ActivityState,
    Execution,
    Spec,
    child_started_spec,
)
from durasim.engine.history import EventType, HistoryEvent
from durasim.engine.store import RunRecord

if TYPE_CHECKING:
    from durasim.engine.server import Server

E = EventType
_CLOSES_ACTIVITY = (E.ACTIVITY_TASK_COMPLETED, E.ACTIVITY_TASK_FAILED,
                    E.ACTIVITY_TASK_TIMED_OUT, E.ACTIVITY_TASK_CANCELED)
_ENDS_TASK = (E.WORKFLOW_TASK_COMPLETED, E.WORKFLOW_TASK_TIMED_OUT, E.WORKFLOW_TASK_FAILED)


def recover(server: Server) -> None:
    """Rebuild every open run of ``server``'s store, then finish parent/child hand-offs
    and continue-as-new hand-offs a crash interrupted."""
    for record in server.store.open_runs():
        _recover_run(server, record)
    for record in server.store.runs():
        if record.status == "continued" and record.events:
            successor = record.events[-1].attributes.get("newExecutionRunId")
            if successor and not any(r.run_id == successor
                                     for r in server.store.runs(record.workflow_id)):
                server.continue_run(record)
    for ex in list(server.executions.values()):
        _recover_children(server, ex)
    server.tasks.catch_up()


def rebuild(record: RunRecord) -> Execution:
    """An open run's mutable state, from its history and the state saved with it."""
    saved = record.state or {}
    ex = Execution(record, started_at=float(saved.get("started_at", 0.0)))
    ex.buffered = [_spec(item) for item in saved.get("buffered", [])]
    for event in [*record.events, *_parked(ex)]:
        t, a = event.event_type, event.attributes
        if t is E.WORKFLOW_TASK_SCHEDULED:
            ex.wt_scheduled, ex.wt_started = event.event_id, 0
        elif t is E.WORKFLOW_TASK_STARTED:
            ex.wt_started = event.event_id
        elif t in _ENDS_TASK:
            ex.wt_scheduled = ex.wt_started = 0
        elif t is E.ACTIVITY_TASK_SCHEDULED:
            ex.activities[event.event_id] = ActivityState(event.event_id, a,
                                                          ex.started_at + event.time)
        elif t in _CLOSES_ACTIVITY:
            ex.activities.pop(a["scheduledEventId"], None)
        elif t is E.TIMER_STARTED:
            ex.timers[a["timerId"]] = event.event_id
        elif t in (E.TIMER_FIRED, E.TIMER_CANCELED):
            ex.timers.pop(str(a["timerId"]), None)
        elif t is E.START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            ex.children[a["workflowId"]] = event.event_id
    saved_activities = saved.get("activities", {})
    for scheduled_id, state in ex.activities.items():
        state.restore(saved_activities.get(str(scheduled_id), {}))
    ex.wake_after_task = bool(saved.get("wake_after_task"))
    ex.wt_attempt = int(saved.get("wt_attempt", 1))
    if ex.failing:
        ex.wt_scheduled, ex.wt_started = TRANSIENT, 0
        started = saved.get("wt_attempt_started")
        ex.wt_attempt_started = float(started) if started is not None else None
    return ex


def _parked(ex: Execution) -> list[HistoryEvent]:
    """The events parked during a workflow task, as they will be written (ids unknown).

    Recovery must count them as written: an activity whose completion is parked is
    closed, though the history does not say so yet; dispatching it again would write its
    ActivityTaskStarted and ActivityTaskCompleted twice (TimerFired, a child's result
    likewise).
    """
    return [HistoryEvent(0, spec[0], 0.0, spec[1]) for spec in ex.buffered]


def _spec(item: list[Any]) -> Spec:
    """A parked event as :meth:`Execution.state` saved it: [type, attributes(, time)]."""
    kind, attributes, *time = item
    if time:
        return (EventType(kind), attributes, float(time[0]))
    return (EventType(kind), attributes)


def _recover_run(server: Server, record: RunRecord) -> None:
    ex = rebuild(record)
    server.executions[(record.workflow_id, record.run_id)] = ex
    server.current[record.workflow_id] = record.run_id
    server.sim.record(server.node.name, "recover", workflow=record.workflow_id,
                      events=len(record.events))
    now = server.sim.now
    for state in ex.activities.values():
        server.activities.arm_deadline(ex, state)
        if state.started_at is None:
            server.activities.dispatch(ex, state)
        else:  # a worker may be running it: wait for its answer or its timeout
            timeout = state.attributes["startToCloseTimeout"]
            server.activities.arm_timeouts(ex, state, state.started_at + timeout - now)
    for timer_id, started_id in ex.timers.items():
        started = record.events[started_id - 1]
        server.arm_timer(ex, timer_id, started_id, started.attributes["startToFireTimeout"],
                         elapsed=now - ex.started_at - started.time)
    if ex.failing and ex.wt_attempt_started is not None:
        # a retried task was out when the server went down: it times out as planned,
        # after counting the attempts that passed meanwhile
        ex.wt_scheduled, ex.wt_started = len(record.events) + 1, len(record.events) + 2
        server.tasks.parked.append(ex)
    elif ex.wt_started:
        started = record.events[ex.wt_started - 1]
        server.tasks.arm_timeout(ex, WORKFLOW_TASK_TIMEOUT - (now - ex.started_at - started.time))
    elif ex.wt_scheduled:
        server.tasks.dispatch(ex)
    elif ex.buffered:
        buffered, ex.buffered, ex.wake_after_task = ex.buffered, [], False
        server.wake(ex, buffered)


def _recover_children(server: Server, ex: Execution) -> None:
    """Finish what a crash interrupted between a parent and its children.

    A crash can fall between writing StartChildWorkflowExecutionInitiated and creating
    the child's run, or between closing a child and telling its parent; both moments
    leave the parent waiting for ever unless recovery completes them.
    """
    told: dict[int, set[EventType]] = {}
    for event in [*ex.events, *_parked(ex)]:
        initiated = event.attributes.get("initiatedEventId")
        if initiated is not None:
            told.setdefault(int(initiated), set()).add(event.event_type)
    for child_id, initiated_id in list(ex.children.items()):
        heard = told.get(initiated_id, set())
        if not heard.isdisjoint(CHILD_CLOSED.values()):
            continue
        runs = [r for r in server.store.runs(child_id)
                if (r.parent or {}).get("initiated_id") == initiated_id
                and (r.parent or {}).get("run_id") == ex.record.run_id]
        if not runs:
            server.start_child(ex, initiated_id, ex.events[initiated_id - 1].attributes)
            continue
        if E.CHILD_WORKFLOW_EXECUTION_STARTED not in heard:
            server.wake(ex, [child_started_spec(initiated_id, runs[0])])
        last = runs[-1]
        if last.status != "running" and last.events[-1].event_type in CHILD_CLOSED:
            server.notify_parent(last, last.events[-1])
