"""The server's view of one open workflow run: its history and its *mutable state*.

Temporal's server keeps two things per run: the history (append-only, the source of
truth for workflow code) and the mutable state (which workflow task is in flight, which
attempt each activity is on, what arrived while a task was running). Most of the mutable
state can be derived by reading the history again, and recovery does exactly that; what
cannot (attempt counters, parked events, heartbeat details) is saved next to each history
batch, in the same store transaction, as :meth:`Execution.state`. Only what changed is
sent: a fan-out of thousands of activities must not rewrite every open one at each step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from durasim.engine.history import EventType, HistoryEvent
from durasim.engine.store import RunRecord

Spec = tuple[EventType, dict[str, Any]] | tuple[EventType, dict[str, Any], float]
"""An event about to be written: its type, its attributes and, when it is not the time of
writing, its own time (the id comes at write time)."""

WORKFLOW_TASK_TIMEOUT = 10.0
"""Seconds a worker has to finish a workflow task (Temporal's default)."""
TASK_QUEUE = "durasim"
TRANSIENT = -1
"""``wt_scheduled`` of a retried workflow task: due, but with no event of its own yet."""
PREVIOUS = "<previous event>"
"""Placeholder for ``startedEventId`` when the id is only known once the batch is written
(events parked during a workflow task get their ids later)."""


@dataclass
class ActivityState:
    """An activity between ActivityTaskScheduled and its closing event."""

    scheduled_id: int
    attributes: dict[str, Any]
    scheduled_at: float = 0.0
    """Virtual time it was scheduled (its schedule-to-close deadline counts from here)."""
    attempt: int = 1
    last_failure: dict[str, Any] | None = None
    started_at: float | None = None
    heartbeat_details: tuple[Any, ...] = ()
    last_heartbeat: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Mutable state as JSON-able data (kept with every history batch)."""
        state: dict[str, Any] = {"attempt": self.attempt, "last_failure": self.last_failure,
                                 "started_at": self.started_at}
        if self.heartbeat_details:
            state["heartbeat_details"] = list(self.heartbeat_details)
        return state

    def restore(self, saved: dict[str, Any]) -> None:
        """Take back what :meth:`to_dict` saved (after a server crash)."""
        self.attempt = saved.get("attempt", 1)
        self.last_failure = saved.get("last_failure")
        self.started_at = saved.get("started_at")
        self.heartbeat_details = tuple(saved.get("heartbeat_details", ()))


@dataclass
class Execution:
    """The server's view of one open workflow run, derived from its history.

    Attributes:
        record: the store's record (its ``events`` list is the history).
        started_at: virtual time the run started (history times count from it).
        wt_scheduled, wt_started: event ids of the workflow task in flight (0: none).
        wt_attempt: the attempt of the workflow task in flight; above 1 the task is
            *transient* (Temporal writes nothing for it until it completes).
        wt_attempt_started: when that transient attempt was handed out (for its timeout).
        wt_sticky: whether the task in flight went to a worker's sticky queue.
        sticky: the worker incarnation holding this workflow in its cache, if any.
        buffered: events that arrived during a workflow task, written after it.
        wake_after_task: a new workflow task is due once the current one completes.
        activities, timers, children: what is in flight, by id.
        speculative: the task in flight only carries updates (written if one is accepted).
        picked_up: a worker's poll is about to take the scheduled task.
        pending_updates: updates waiting for a workflow task (kept in memory only: a
            client whose update was lost with a crash sends it again).
        pending_queries: queries waiting for the task in flight, by request (in memory).
        changed: activities whose saved state is stale (changed or closed since the
            last batch); :meth:`state` sends only these.
    """

    record: RunRecord
    started_at: float = 0.0
    wt_scheduled: int = 0
    wt_started: int = 0
    wt_attempt: int = 1
    wt_attempt_started: float | None = None
    wt_sticky: bool = False
    sticky: int | None = None
    buffered: list[Spec] = field(default_factory=list)
    wake_after_task: bool = False
    activities: dict[int, ActivityState] = field(default_factory=dict)
    timers: dict[str, int] = field(default_factory=dict)
    children: dict[str, int] = field(default_factory=dict)
    speculative: bool = False
    picked_up: bool = False
    pending_updates: list[Any] = field(default_factory=list)
    pending_queries: dict[int, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    changed: dict[int, None] = field(default_factory=dict)
    """(A dict used as an ordered set: the saved changes come in a deterministic order.)"""
    terminated_by: str | None = None
    """The client request that terminated the run: saved with the run, so that the
    client's retry of it (its acknowledgement lost) is not refused as too late."""

    @property
    def events(self) -> list[HistoryEvent]:
        """The run's history (the store's list, appended in place)."""
        return self.record.events

    @property
    def failing(self) -> bool:
        """Is the workflow task being retried after a failure (waiting for fixed code)?"""
        return self.wt_attempt > 1

    def activity_changed(self, state: ActivityState) -> None:
        """``state`` changed what recovery needs (attempt, start, failure, heartbeat):
        the next batch saves it."""
        self.changed[state.scheduled_id] = None

    def close_activity(self, scheduled_id: int) -> None:
        """The activity is done: forget it here, and in the saved state with the next
        batch."""
        del self.activities[scheduled_id]
        self.changed[scheduled_id] = None

    def state(self) -> dict[str, Any]:
        """What the history alone does not say, to persist with the next batch.

        ``activities`` holds only the activities changed since the last batch, ``None``
        for one that closed: the store merges it into the state it keeps (see
        :meth:`durasim.engine.store.HistoryStore.append`), so a batch costs what it
        changed, not what is open (a gather of 8,000 activities rewrote 8,000 entries at
        every step). The rest is small and always complete. Call :meth:`saved` once the
        store has accepted it.
        """
        activities = self.activities
        state: dict[str, Any] = {
            "started_at": self.started_at,
            "activities": {str(k): activities[k].to_dict() if k in activities else None
                           for k in self.changed} if self.changed else {},
            "buffered": [[spec[0].value, *spec[1:]] for spec in self.buffered]
            if self.buffered else [],
            "wake_after_task": self.wake_after_task}
        if self.wt_attempt > 1:
            state["wt_attempt"] = self.wt_attempt
            state["wt_attempt_started"] = self.wt_attempt_started
        if self.terminated_by is not None:
            state["terminated_by"] = self.terminated_by
        return state

    def saved(self) -> None:
        """The store accepted :meth:`state`: nothing is stale any more."""
        self.changed.clear()


def child_started_spec(initiated_id: int, child: RunRecord) -> Spec:
    """ChildWorkflowExecutionStarted, as the parent's history records it."""
    return (EventType.CHILD_WORKFLOW_EXECUTION_STARTED, {
        "namespace": "default", "initiatedEventId": initiated_id,
        "workflowType": child.workflow_type,
        "workflowExecution": {"workflowId": child.workflow_id, "runId": child.run_id}})


CHILD_CLOSED = {
    EventType.WORKFLOW_EXECUTION_COMPLETED: EventType.CHILD_WORKFLOW_EXECUTION_COMPLETED,
    EventType.WORKFLOW_EXECUTION_FAILED: EventType.CHILD_WORKFLOW_EXECUTION_FAILED,
    EventType.WORKFLOW_EXECUTION_CANCELED: EventType.CHILD_WORKFLOW_EXECUTION_CANCELED,
    EventType.WORKFLOW_EXECUTION_TERMINATED: EventType.CHILD_WORKFLOW_EXECUTION_TERMINATED,
    EventType.WORKFLOW_EXECUTION_TIMED_OUT: EventType.CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
}
"""How a child's run closed -> the event its parent's history gets (recorded:
``child_*_parent.json``; a cancelled child is not reported as failed)."""


def child_closed_spec(closing: HistoryEvent, linked: dict[str, Any]) -> Spec:
    """The event that tells a parent how its child ended: the ``linked`` attributes
    (namespace, the initiated and started ids, the child's type and execution) and what
    Temporal copies from the child's ``closing`` event: the result, the failure, a
    timeout's retry state. A cancellation or a termination adds nothing (recorded: not
    even the termination's reason)."""
    a, t = closing.attributes, closing.event_type
    extra: dict[str, Any] = {}
    if t is EventType.WORKFLOW_EXECUTION_COMPLETED:
        extra = {"result": a.get("result")}
    elif t is EventType.WORKFLOW_EXECUTION_FAILED:
        extra = {"failure": a["failure"], "retryState": "RETRY_STATE_RETRY_POLICY_NOT_SET"}
    elif t is EventType.WORKFLOW_EXECUTION_TIMED_OUT:
        extra = {"retryState": a.get("retryState", "RETRY_STATE_TIMEOUT")}
    return (CHILD_CLOSED[t], {**linked, **extra})


def wt_scheduled_spec(attempt: int = 1, timeout: float = WORKFLOW_TASK_TIMEOUT
                      ) -> tuple[EventType, dict[str, Any]]:
    """WorkflowTaskScheduled: a workflow task is due."""
    return (EventType.WORKFLOW_TASK_SCHEDULED, {"taskQueue": TASK_QUEUE,
                                                "startToCloseTimeout": timeout,
                                                "attempt": attempt})
