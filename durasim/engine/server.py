"""The service side: histories, task queues, timers, retries, timeouts and signals.

The server is the part of a durable-execution platform that must not forget, so all it
knows is in its :class:`~durasim.engine.store.HistoryStore`: when its node crashes and
restarts, it rebuilds every open workflow by reading its history (event sourcing) and
re-arms the timers and timeouts. It never runs workflow code: it hands *workflow tasks*
to a worker and writes down the commands that come back, as Temporal's server does.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from durasim.core import NodeCrashed, Simulation
from durasim.engine.history import EventType, HistoryEvent, make_failure
from durasim.engine.runtime import EVENT_OF_COMMAND
from durasim.engine.store import HistoryStore, RunRecord
from durasim.engine.workflow import RetryPolicy
from durasim.injector import FaultInjector
from durasim.network import Message, Network
from durasim.node import Node

E = EventType
WORKFLOW_TASK_TIMEOUT = 10.0
"""Seconds a worker has to finish a workflow task (Temporal's default)."""
STICKY_SCHEDULE_TO_START = 5.0
"""Seconds a task waits on a worker's sticky queue before going to the normal queue."""
TASK_QUEUE = "durasim"
IDENTITY = "durasim-worker"
PREVIOUS = "<previous event>"
"""Placeholder for ``startedEventId`` when the id is only known once the batch is written
(events buffered during a workflow task get their ids later)."""

Spec = tuple[EventType, dict[str, Any]]

_SERVER_DEFAULTS: dict[str, dict[str, Any]] = {
    "FailWorkflowExecution": {"retryState": "RETRY_STATE_RETRY_POLICY_NOT_SET"},
    "ScheduleActivityTask": {"scheduleToStartTimeout": 0.0, "heartbeatTimeout": 0.0},
    "StartChildWorkflowExecution": {
        "workflowRunTimeout": 0.0, "workflowTaskTimeout": WORKFLOW_TASK_TIMEOUT,
        "parentClosePolicy": "PARENT_CLOSE_POLICY_TERMINATE",
        "workflowIdReusePolicy": "WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE"},
}
"""Attributes the real server fills in on command events (0 s means "no timeout")."""


@dataclass
class ActivityState:
    """An activity between ActivityTaskScheduled and its closing event."""

    scheduled_id: int
    attributes: dict[str, Any]
    attempt: int = 1
    last_failure: dict[str, Any] | None = None
    started_at: float | None = None
    scheduled_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Mutable state as JSON-able data (kept with every history batch)."""
        return {"attempt": self.attempt, "last_failure": self.last_failure,
                "started_at": self.started_at}


@dataclass
class Execution:
    """The server's view of one open workflow run, derived from its history."""

    record: RunRecord
    started_at: float = 0.0
    wt_scheduled: int = 0
    wt_started: int = 0
    sticky: int | None = None
    buffered: list[Spec] = field(default_factory=list)
    wake_after_task: bool = False
    activities: dict[int, ActivityState] = field(default_factory=dict)
    timers: dict[str, int] = field(default_factory=dict)
    children: dict[str, int] = field(default_factory=dict)

    @property
    def events(self) -> list[HistoryEvent]:
        """The run's history (the store's list, appended in place)."""
        return self.record.events

    def state(self) -> dict[str, Any]:
        """What the history alone does not say, persisted with each batch."""
        return {"started_at": self.started_at,
                "activities": {str(k): v.to_dict() for k, v in self.activities.items()},
                "buffered": [[t.value, a] for t, a in self.buffered],
                "wake_after_task": self.wake_after_task}


class Server:
    """The durable-execution service, living on a node named ``"server"``.

    Args:
        sim: the simulation.
        net: the network it talks to the worker and the client over.
        store: where histories live (survives crashes of this node).
        injector: fires ``after_events`` crashes as histories grow.
        worker: the name of the worker node it hands tasks to.
    """

    def __init__(self, sim: Simulation, net: Network, store: HistoryStore,
                 injector: FaultInjector | None = None, *, name: str = "server",
                 worker: str = "worker",
                 on_close: Callable[[RunRecord], None] | None = None,
                 step_hook: Callable[[str, int, str, str], None] | None = None,
                 step_numbers: dict[str, int] | None = None) -> None:
        self.sim = sim
        self.net = net
        self.store = store
        self.injector = injector
        self.worker = worker
        self.on_close = on_close
        self.step_hook = step_hook
        self.step_numbers = step_numbers or {}
        self.node = Node(sim, name, durable=store, on_start=self._boot)
        self.node.handler = self._handle
        self._handlers: dict[str, Callable[[Message], None]] = {
            "StartWorkflow": self._on_start_request, "Signal": self._on_signal,
            "Poll": self._on_poll, "WorkflowTaskCompleted": self._on_task_completed,
            "ActivityTaskCompleted": self._on_activity_completed,
            "ActivityTaskFailed": self._on_activity_failed,
            "WorkflowTaskFailed": self._on_task_failed,
        }
        self.executions: dict[tuple[str, str], Execution] = {}
        self.current: dict[str, str] = {}
        self.poller: int | None = None
        self.waiting_tasks: list[Callable[[], None]] = []
        self.events_written = 0

    # -- life cycle -------------------------------------------------------------------
    def _boot(self, node: Node) -> None:
        """Start (or restart): rebuild open runs from the store, then serve requests."""
        self.executions = {}
        self.current = {}
        self.poller = None
        self.waiting_tasks = []
        for record in self.store.open_runs():
            self._recover(record)
        for ex in list(self.executions.values()):
            self._recover_children(ex)
        if node.incarnation > 1:
            self.net.send(node.name, self.worker, "ServerUp", None)

    def _handle(self, message: Message) -> None:
        """Each request is handled the moment it arrives (the network calls this)."""
        self._handlers[message.kind](message)

    def _after(self, delay: float, callback: Callable[[], None], kind: str) -> None:
        """A timer of this incarnation: it does nothing if the server crashed meanwhile."""
        incarnation = self.node.incarnation

        def guarded() -> None:
            if self.node.up and self.node.incarnation == incarnation:
                with contextlib.suppress(NodeCrashed):  # it crashed in the callback
                    callback()

        self.sim.schedule(max(0.0, delay), guarded, kind=kind)

    # -- writing history ----------------------------------------------------------------
    def _write(self, ex: Execution, specs: list[Spec], status: str | None = None
               ) -> list[HistoryEvent]:
        events = ex.record.events
        now = self.sim.now - ex.started_at  # history time counts from the run's start
        first = len(events) + 1
        batch = [HistoryEvent(first + i, t, now, a) for i, (t, a) in enumerate(specs)]
        for event in batch:
            if event.attributes.get("startedEventId") == PREVIOUS:
                event.attributes["startedEventId"] = event.event_id - 1
        self.store.append(ex.record.workflow_id, ex.record.run_id, batch, ex.state(), status)
        self.events_written += len(batch)
        self._appended(ex.record, batch)
        return batch

    def _appended(self, record: RunRecord, batch: list[HistoryEvent]) -> None:
        """Tell the trace (the timeline's source) and the fault plan what was written."""
        if self.sim.trace.enabled:
            for event in batch:
                self.sim.record(self.node.name, "history", workflow=record.workflow_id,
                                id=event.event_id, type=event.event_type.value)
        self._history_grew(len(record.events))

    def _history_grew(self, count: int) -> None:
        """Let ``after_events`` crashes fire; if this node died, stop what it was doing."""
        if self.injector is not None:
            self.injector.history_grew(count)
            if not self.node.up:
                raise NodeCrashed(self.node.name, f"fault plan: after {count} events")

    def _wake(self, ex: Execution, specs: list[Spec]) -> None:
        """Record events that wake the workflow; a workflow task follows (or is buffered)."""
        if ex.record.status != "running":
            return
        if ex.wt_started:
            ex.buffered.extend(specs)
            ex.wake_after_task = True
            self.store.append(ex.record.workflow_id, ex.record.run_id, [], ex.state())
            return
        if ex.wt_scheduled:
            self._write(ex, specs)
            return
        self._write(ex, [*specs, self._wt_scheduled_spec()])
        ex.wt_scheduled = len(ex.events)
        self._dispatch_workflow_task(ex)

    @staticmethod
    def _wt_scheduled_spec() -> Spec:
        return (E.WORKFLOW_TASK_SCHEDULED, {"taskQueue": TASK_QUEUE,
                                            "startToCloseTimeout": WORKFLOW_TASK_TIMEOUT,
                                            "attempt": 1})

    # -- starting workflows ---------------------------------------------------------------
    def _new_run_id(self) -> str:
        return str(uuid.UUID(int=self.sim.rng.getrandbits(128), version=4))

    def start_workflow(self, workflow_id: str, workflow_type: str, args: list[Any], *,
                       parent: dict[str, Any] | None = None,
                       continued_from: str | None = None, first_run: str | None = None,
                       run_id: str | None = None) -> Execution:
        """Create a run with WorkflowExecutionStarted and its first workflow task."""
        run_id = run_id or self._new_run_id()
        started: dict[str, Any] = {
            "workflowType": workflow_type, "taskQueue": TASK_QUEUE, "input": list(args),
            "workflowTaskTimeout": WORKFLOW_TASK_TIMEOUT, "attempt": 1,
            "originalExecutionRunId": run_id, "firstExecutionRunId": first_run or run_id,
            "identity": "durasim-client", "workflowId": workflow_id,
            "firstWorkflowTaskBackoff": 0.0,
        }
        if continued_from:
            started["continuedExecutionRunId"] = continued_from
            started["initiator"] = "CONTINUE_AS_NEW_INITIATOR_WORKFLOW"
        if parent:
            started["parentWorkflowExecution"] = {"workflowId": parent["workflow_id"],
                                                  "runId": parent["run_id"]}
            started["parentInitiatedEventId"] = parent["initiated_id"]
        task_type, task_attributes = self._wt_scheduled_spec()
        events = [HistoryEvent(1, E.WORKFLOW_EXECUTION_STARTED, 0.0, started),
                  HistoryEvent(2, task_type, 0.0, task_attributes)]
        record = self.store.create_run(workflow_id, run_id, workflow_type, parent, events)
        self.events_written += 2
        ex = Execution(record, started_at=self.sim.now, wt_scheduled=2)
        record.state = ex.state()
        self.executions[(workflow_id, run_id)] = ex
        self.current[workflow_id] = run_id
        self._appended(record, events)
        self._dispatch_workflow_task(ex)
        return ex

    def _on_start_request(self, message: Message) -> None:
        p = message.payload
        if p["workflow_id"] not in self.current and not self.store.runs(p["workflow_id"]):
            self.start_workflow(p["workflow_id"], p["workflow_type"], p["args"])
        self.net.send(self.node.name, message.src, "StartAccepted", p["workflow_id"])

    def _on_signal(self, message: Message) -> None:
        p = message.payload
        run_id = self.current.get(p["workflow_id"])
        ex = self.executions.get((p["workflow_id"], run_id or ""))
        if ex is not None:
            self._wake(ex, [(E.WORKFLOW_EXECUTION_SIGNALED, {
                "signalName": p["name"], "input": list(p["args"]),
                "identity": "durasim-client"})])
        self.net.send(self.node.name, message.src, "SignalAccepted",
                      (p["workflow_id"], p["seq"]))

    # -- workflow tasks -----------------------------------------------------------------
    def _on_poll(self, message: Message) -> None:
        self.poller = message.payload
        self.net.send(self.node.name, message.src, "PollAccepted", message.payload)
        waiting, self.waiting_tasks = self.waiting_tasks, []
        for dispatch in waiting:
            dispatch()

    def _poller_alive(self, incarnation: int | None = None) -> bool:
        """Is a worker poll open? (A dead worker's connection closes; the server sees it.)"""
        node = self.net.nodes.get(self.worker)
        wanted = self.poller if incarnation is None else incarnation
        return bool(node is not None and node.up and self.poller is not None
                    and node.incarnation == wanted == self.poller)

    def _dispatch_workflow_task(self, ex: Execution) -> None:
        scheduled = ex.wt_scheduled
        if ex.sticky is not None and not self._poller_alive(ex.sticky):
            self._after(STICKY_SCHEDULE_TO_START,
                        lambda: self._sticky_timed_out(ex, scheduled), "wt_timeout")
            return
        if not self._poller_alive():
            self.waiting_tasks.append(lambda: self._dispatch_workflow_task(ex))
            return
        if ex.record.status != "running" or ex.wt_scheduled != scheduled or ex.wt_started:
            return
        self._write(ex, [(E.WORKFLOW_TASK_STARTED, {"scheduledEventId": scheduled,
                                                    "identity": IDENTITY})])
        ex.wt_started = started = len(ex.events)
        self.net.send(self.node.name, self.worker, "WorkflowTask", {
            "workflow_id": ex.record.workflow_id, "run_id": ex.record.run_id,
            "workflow_type": ex.record.workflow_type, "events": ex.events,
            "upto": started, "scheduled": scheduled, "sticky": ex.sticky is not None})
        self._after(WORKFLOW_TASK_TIMEOUT,
                    lambda: self._task_timed_out(ex, scheduled, started), "wt_timeout")

    def _sticky_timed_out(self, ex: Execution, scheduled: int) -> None:
        if ex.wt_scheduled != scheduled or ex.wt_started or ex.record.status != "running":
            return
        ex.sticky = None
        self._write(ex, [(E.WORKFLOW_TASK_TIMED_OUT, {
            "scheduledEventId": scheduled, "timeoutType": "TIMEOUT_TYPE_SCHEDULE_TO_START"}),
            self._wt_scheduled_spec()])
        ex.wt_scheduled = len(ex.events)
        self._dispatch_workflow_task(ex)

    def _task_timed_out(self, ex: Execution, scheduled: int, started: int) -> None:
        if ex.wt_scheduled != scheduled or ex.wt_started != started:
            return
        ex.sticky = None
        ex.wt_started = 0
        self._write(ex, [(E.WORKFLOW_TASK_TIMED_OUT, {
            "scheduledEventId": scheduled, "startedEventId": started,
            "timeoutType": "TIMEOUT_TYPE_START_TO_CLOSE"}), *self._take_buffered(ex),
            self._wt_scheduled_spec()])
        ex.wt_scheduled = len(ex.events)
        self._dispatch_workflow_task(ex)

    @staticmethod
    def _take_buffered(ex: Execution) -> list[Spec]:
        buffered, ex.buffered = ex.buffered, []
        ex.wake_after_task = False
        return buffered

    def _on_task_completed(self, message: Message) -> None:
        p = message.payload
        ex = self.executions.get((p["workflow_id"], p["run_id"]))
        if ex is None or ex.wt_scheduled != p["scheduled"] or not ex.wt_started:
            return  # a late answer to a task that already timed out: rejected, as in Temporal
        completed_id = len(ex.events) + 1
        specs: list[Spec] = [(E.WORKFLOW_TASK_COMPLETED, {
            "scheduledEventId": ex.wt_scheduled, "startedEventId": ex.wt_started,
            "identity": IDENTITY})]
        closing: tuple[str, dict[str, Any]] | None = None
        for kind, attributes in p["commands"]:
            event_type = EVENT_OF_COMMAND[kind]
            extra = _SERVER_DEFAULTS.get(kind, {})
            specs.append((event_type, {**attributes, **extra,
                                       "workflowTaskCompletedEventId": completed_id}))
            if kind in ("CompleteWorkflowExecution", "FailWorkflowExecution",
                        "ContinueAsNewWorkflowExecution"):
                closing = (kind, attributes)
                break
        next_run = self._new_run_id() if closing and closing[0].startswith("Continue") else None
        if next_run:
            specs[-1][1]["newExecutionRunId"] = next_run
        wake = ex.wake_after_task and closing is None
        if closing is None:
            specs.extend(self._take_buffered(ex))
        else:
            self._take_buffered(ex)
        ex.wt_scheduled = ex.wt_started = 0
        ex.sticky = p["incarnation"]
        if wake:
            specs.append(self._wt_scheduled_spec())
        status = None if closing is None else {
            "CompleteWorkflowExecution": "completed", "FailWorkflowExecution": "failed",
            "ContinueAsNewWorkflowExecution": "continued"}[closing[0]]
        batch = self._write(ex, specs, status)
        if wake:  # set before the commands start: a child's start must see this task
            ex.wt_scheduled = batch[-1].event_id
        for event in batch[1:]:
            self._start_command(ex, event)
        if wake:
            self._dispatch_workflow_task(ex)
        if closing is not None:
            self._close(ex, closing[0], closing[1], next_run)

    def _on_task_failed(self, message: Message) -> None:
        """The worker could not run the task (non-determinism): record it and hold.

        Temporal retries such a task forever, hoping for a code fix; a simulation stops
        here instead, with the run left open and the reason in the history.
        """
        p = message.payload
        ex = self.executions.get((p["workflow_id"], p["run_id"]))
        if ex is None or ex.wt_scheduled != p["scheduled"] or not ex.wt_started:
            return
        self._write(ex, [(E.WORKFLOW_TASK_FAILED, {
            "scheduledEventId": ex.wt_scheduled, "startedEventId": ex.wt_started,
            "cause": "WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR",
            "failure": make_failure(p["message"], "NondeterminismError"),
            "identity": IDENTITY})])
        ex.wt_scheduled = ex.wt_started = 0
        ex.sticky = None

    def _start_command(self, ex: Execution, event: HistoryEvent) -> None:
        t, a = event.event_type, event.attributes
        if t is E.ACTIVITY_TASK_SCHEDULED:
            state = ActivityState(event.event_id, a, scheduled_at=self.sim.now)
            ex.activities[event.event_id] = state
            self._dispatch_activity(ex, state)
            if a.get("scheduleToCloseTimeout"):
                self._after(a["scheduleToCloseTimeout"],
                            lambda: self._schedule_to_close(ex, state), "activity_timeout")
        elif t is E.TIMER_STARTED:
            ex.timers[a["timerId"]] = event.event_id
            self._arm_timer(ex, a["timerId"], event.event_id, a["startToFireTimeout"])
        elif t is E.START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            ex.children[a["workflowId"]] = event.event_id
            self._start_child(ex, event.event_id, a)

    def _start_child(self, ex: Execution, initiated_id: int, a: dict[str, Any]) -> None:
        child = self.start_workflow(a["workflowId"], a["workflowType"], a.get("input", []),
                                    parent={"workflow_id": ex.record.workflow_id,
                                            "run_id": ex.record.run_id,
                                            "initiated_id": initiated_id})
        self._wake(ex, [self._child_started_spec(initiated_id, child.record)])

    @staticmethod
    def _child_started_spec(initiated_id: int, child: RunRecord) -> Spec:
        return (E.CHILD_WORKFLOW_EXECUTION_STARTED, {
            "namespace": "default", "initiatedEventId": initiated_id,
            "workflowType": child.workflow_type,
            "workflowExecution": {"workflowId": child.workflow_id, "runId": child.run_id}})

    def _close(self, ex: Execution, kind: str, attributes: dict[str, Any],
               next_run: str | None) -> None:
        record = ex.record
        self.executions.pop((record.workflow_id, record.run_id), None)
        if kind == "ContinueAsNewWorkflowExecution":
            self.start_workflow(record.workflow_id, record.workflow_type,
                                attributes["input"], parent=record.parent,
                                continued_from=record.run_id, run_id=next_run,
                                first_run=record.events[0].attributes.get("firstExecutionRunId"))
            return
        self.current.pop(record.workflow_id, None)
        if record.parent:
            self._notify_parent(record, kind, attributes)
        if self.on_close is not None:
            self.on_close(record)

    def _notify_parent(self, record: RunRecord, kind: str, attributes: dict[str, Any]) -> None:
        parent = record.parent or {}
        ex = self.executions.get((parent["workflow_id"], parent["run_id"]))
        if ex is None:
            return
        started_id = next((e.event_id for e in ex.events
                           if e.event_type is E.CHILD_WORKFLOW_EXECUTION_STARTED
                           and e.attributes.get("initiatedEventId") == parent["initiated_id"]),
                          0)
        common = {"namespace": "default", "initiatedEventId": parent["initiated_id"],
                  "startedEventId": started_id,
                  "workflowType": record.workflow_type,
                  "workflowExecution": {"workflowId": record.workflow_id,
                                        "runId": record.run_id}}
        if kind == "CompleteWorkflowExecution":
            self._wake(ex, [(E.CHILD_WORKFLOW_EXECUTION_COMPLETED,
                             {**common, "result": attributes.get("result")})])
        else:
            self._wake(ex, [(E.CHILD_WORKFLOW_EXECUTION_FAILED,
                             {**common, "failure": attributes.get("failure"),
                              "retryState": "RETRY_STATE_RETRY_POLICY_NOT_SET"})])

    # -- timers -------------------------------------------------------------------------
    def _arm_timer(self, ex: Execution, timer_id: str, started_id: int, seconds: float,
                   elapsed: float = 0.0) -> None:
        def fire() -> None:
            if ex.timers.pop(timer_id, None) is None:
                return
            self._wake(ex, [(E.TIMER_FIRED, {"timerId": timer_id,
                                              "startedEventId": started_id})])
        self._after(seconds - elapsed, fire, "timer")

    # -- activities ---------------------------------------------------------------------
    def _dispatch_activity(self, ex: Execution, state: ActivityState) -> None:
        if ex.activities.get(state.scheduled_id) is not state:
            return
        if not self._poller_alive():
            self.waiting_tasks.append(lambda: self._dispatch_activity(ex, state))
            return
        a = state.attributes
        self._step_point(a["activityType"], "before_effect")
        state.started_at = self.sim.now
        self.store.append(ex.record.workflow_id, ex.record.run_id, [], ex.state())
        attempt = state.attempt
        self.net.send(self.node.name, self.worker, "ActivityTask", {
            "token": (ex.record.workflow_id, ex.record.run_id, state.scheduled_id, attempt),
            "activity_type": a["activityType"], "activity_id": a["activityId"],
            "input": a["input"], "attempt": attempt}, step=a["activityType"])
        self._after(a["startToCloseTimeout"],
                    lambda: self._start_to_close(ex, state, attempt), "activity_timeout")

    def _activity_for(self, token: tuple[str, str, int, int]) -> tuple[Execution, ActivityState
                                                                       ] | None:
        workflow_id, run_id, scheduled_id, attempt = token
        ex = self.executions.get((workflow_id, run_id))
        state = ex.activities.get(scheduled_id) if ex else None
        if ex is None or state is None or state.attempt != attempt or state.started_at is None:
            return None  # late: that attempt already timed out or the activity closed
        return ex, state

    def _on_activity_completed(self, message: Message) -> None:
        found = self._activity_for(message.payload["token"])
        if found is None:
            return
        ex, state = found
        self._step_point(state.attributes["activityType"], "after_effect")
        self._close_activity(ex, state, E.ACTIVITY_TASK_COMPLETED,
                             {"result": message.payload["result"]})

    def _step_point(self, activity_type: str, when: str) -> None:
        """Where the server takes part in a business step: a crash may be planned here."""
        step = self.step_numbers.get(activity_type)
        if self.step_hook is not None and step is not None:
            self.step_hook(self.node.name, step, activity_type, when)

    def _on_activity_failed(self, message: Message) -> None:
        found = self._activity_for(message.payload["token"])
        if found is not None:
            self._attempt_failed(*found, message.payload["failure"])

    def _start_to_close(self, ex: Execution, state: ActivityState, attempt: int) -> None:
        if ex.activities.get(state.scheduled_id) is not state or state.attempt != attempt:
            return
        failure = make_failure("activity StartToClose timeout")
        failure["timeoutType"] = "TIMEOUT_TYPE_START_TO_CLOSE"
        self._attempt_failed(ex, state, failure, timed_out=True)

    def _schedule_to_close(self, ex: Execution, state: ActivityState) -> None:
        if ex.activities.get(state.scheduled_id) is not state:
            return
        failure = make_failure("activity ScheduleToClose timeout")
        failure["timeoutType"] = "TIMEOUT_TYPE_SCHEDULE_TO_CLOSE"
        self._close_activity(ex, state, E.ACTIVITY_TASK_TIMED_OUT,
                             {"failure": failure, "retryState": "RETRY_STATE_TIMEOUT"})

    def _attempt_failed(self, ex: Execution, state: ActivityState, failure: dict[str, Any],
                        timed_out: bool = False) -> None:
        policy = _policy(state.attributes.get("retryPolicy") or {})
        reason = policy.gives_up(state.attempt, failure.get("type"),
                                 bool(failure.get("nonRetryable")))
        if reason is None:
            delay = policy.backoff(state.attempt)
            state.last_failure = failure
            state.attempt += 1
            state.started_at = None
            self.sim.record(self.node.name, "retry", activity=state.attributes["activityType"],
                            attempt=state.attempt, backoff=delay)
            self.store.append(ex.record.workflow_id, ex.record.run_id, [], ex.state())
            self._after(delay, lambda: self._dispatch_activity(ex, state), "retry")
            return
        retry_state = ("RETRY_STATE_NON_RETRYABLE_FAILURE" if reason == "NonRetryableFailure"
                       else "RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED")
        self._close_activity(ex, state,
                             E.ACTIVITY_TASK_TIMED_OUT if timed_out else E.ACTIVITY_TASK_FAILED,
                             {"failure": failure, "retryState": retry_state})

    def _close_activity(self, ex: Execution, state: ActivityState, event_type: EventType,
                        attributes: dict[str, Any]) -> None:
        del ex.activities[state.scheduled_id]
        started: dict[str, Any] = {"scheduledEventId": state.scheduled_id,
                                   "attempt": state.attempt, "identity": IDENTITY}
        if state.last_failure is not None:
            started["lastFailure"] = state.last_failure
        self._wake(ex, [(E.ACTIVITY_TASK_STARTED, started),
                        (event_type, {**attributes, "scheduledEventId": state.scheduled_id,
                                      "startedEventId": PREVIOUS, "identity": IDENTITY})])

    # -- recovery -----------------------------------------------------------------------
    def _recover_children(self, ex: Execution) -> None:
        """Finish what a crash interrupted between a parent and its children.

        A crash can fall between writing StartChildWorkflowExecutionInitiated and creating
        the child's run, or between closing a child and telling its parent; both moments
        leave the parent waiting for ever unless recovery completes them.
        """
        told: dict[int, set[EventType]] = {}
        for event in ex.events:
            initiated = event.attributes.get("initiatedEventId")
            if initiated is not None:
                told.setdefault(int(initiated), set()).add(event.event_type)
        for child_id, initiated_id in list(ex.children.items()):
            heard = told.get(initiated_id, set())
            if heard & {E.CHILD_WORKFLOW_EXECUTION_COMPLETED, E.CHILD_WORKFLOW_EXECUTION_FAILED}:
                continue
            runs = [r for r in self.store.runs(child_id)
                    if (r.parent or {}).get("initiated_id") == initiated_id
                    and (r.parent or {}).get("run_id") == ex.record.run_id]
            if not runs:
                a = ex.events[initiated_id - 1].attributes
                self._start_child(ex, initiated_id, a)
                continue
            if E.CHILD_WORKFLOW_EXECUTION_STARTED not in heard:
                self._wake(ex, [self._child_started_spec(initiated_id, runs[0])])
            last = runs[-1]
            if last.status in ("completed", "failed") and last.events:
                closing = last.events[-1]
                kind = ("CompleteWorkflowExecution" if last.status == "completed"
                        else "FailWorkflowExecution")
                self._notify_parent(last, kind, closing.attributes)

    def _recover(self, record: RunRecord) -> None:
        """Rebuild an open run's state from its history and re-arm what was in flight."""
        saved = record.state or {}
        ex = Execution(record, started_at=float(saved.get("started_at", 0.0)))
        self.executions[(record.workflow_id, record.run_id)] = ex
        self.current[record.workflow_id] = record.run_id
        saved_activities = saved.get("activities", {})
        for event in record.events:
            t, a = event.event_type, event.attributes
            if t is E.WORKFLOW_TASK_SCHEDULED:
                ex.wt_scheduled, ex.wt_started = event.event_id, 0
            elif t is E.WORKFLOW_TASK_STARTED:
                ex.wt_started = event.event_id
            elif t in (E.WORKFLOW_TASK_COMPLETED, E.WORKFLOW_TASK_TIMED_OUT,
                       E.WORKFLOW_TASK_FAILED):
                ex.wt_scheduled = ex.wt_started = 0
            elif t is E.ACTIVITY_TASK_SCHEDULED:
                ex.activities[event.event_id] = ActivityState(event.event_id, a,
                                                              scheduled_at=event.time)
            elif t in (E.ACTIVITY_TASK_COMPLETED, E.ACTIVITY_TASK_FAILED,
                       E.ACTIVITY_TASK_TIMED_OUT):
                ex.activities.pop(a["scheduledEventId"], None)
            elif t is E.TIMER_STARTED:
                ex.timers[a["timerId"]] = event.event_id
            elif t is E.TIMER_FIRED:
                ex.timers.pop(str(a["timerId"]), None)
            elif t is E.START_CHILD_WORKFLOW_EXECUTION_INITIATED:
                ex.children[a["workflowId"]] = event.event_id
        ex.buffered = [(EventType(t), a) for t, a in saved.get("buffered", [])]
        ex.wake_after_task = bool(saved.get("wake_after_task"))
        self.sim.record(self.node.name, "recover", workflow=record.workflow_id,
                        events=len(record.events))
        for scheduled_id, state in ex.activities.items():
            kept = saved_activities.get(str(scheduled_id), {})
            state.attempt = kept.get("attempt", 1)
            state.last_failure = kept.get("last_failure")
            state.started_at = kept.get("started_at")
            if state.started_at is None:
                self._dispatch_activity(ex, state)
            else:  # a worker may be running it: wait for its answer or its timeout
                timeout = state.attributes["startToCloseTimeout"]
                self._after(state.started_at + timeout - self.sim.now,
                            partial(self._start_to_close, ex, state, state.attempt),
                            "activity_timeout")
        for timer_id, started_id in ex.timers.items():
            started = record.events[started_id - 1]
            self._arm_timer(ex, timer_id, started_id, started.attributes["startToFireTimeout"],
                            elapsed=self.sim.now - ex.started_at - started.time)
        if ex.wt_started:
            scheduled, started_at = ex.wt_scheduled, ex.wt_started
            elapsed = self.sim.now - ex.started_at - record.events[started_at - 1].time
            self._after(WORKFLOW_TASK_TIMEOUT - elapsed,
                        lambda: self._task_timed_out(ex, scheduled, started_at), "wt_timeout")
        elif ex.wt_scheduled:
            self._dispatch_workflow_task(ex)
        elif ex.buffered:
            self._wake(ex, self._take_buffered(ex))


def _policy(data: dict[str, Any]) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=float(data.get("initialInterval", 1.0)),
        backoff_coefficient=float(data.get("backoffCoefficient", 2.0)),
        maximum_interval=data.get("maximumInterval"),
        maximum_attempts=int(data.get("maximumAttempts", 0)),
        non_retryable_error_types=tuple(data.get("nonRetryableErrorTypes", ())))
