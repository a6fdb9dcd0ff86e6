"""The service side: histories, workflow tasks, timers, children and signals.

The server is the part of a durable-execution platform that must not forget, so what it
knows is in its :class:`~durasim.engine.store.HistoryStore`: the history of every run and,
saved with each batch of events, the run's *mutable state* (what the history alone does
not say: activity attempts, events parked during a workflow task). When its node crashes
and restarts it reads both back (:mod:`~durasim.engine.recovery`) and re-arms its timers.
It never runs workflow code: it hands *workflow tasks* to a worker and writes down the
commands that come back, as Temporal's server does. Activities are
:class:`~durasim.engine.activity_tasks.ActivityTasks`' business.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from durasim.core import Event, NodeCrashed, Simulation
from durasim.engine import commands as C
from durasim.engine import parent_close
from durasim.engine.activity_tasks import ActivityTasks
from durasim.engine.execution import (
    CHILD_CLOSED,
    PREVIOUS,
    TASK_QUEUE,
    WORKFLOW_TASK_TIMEOUT,
    Execution,
    Spec,
    child_closed_spec,
    child_started_spec,
    wt_scheduled_spec,
)
from durasim.engine.history import EventType, HistoryEvent, make_failure
from durasim.engine.limits import MAX_CHILD_DEPTH, too_deep
from durasim.engine.recovery import recover
from durasim.engine.requests import ClientRequests, signaled_spec
from durasim.engine.store import HistoryStore, RunRecord
from durasim.engine.workflow_tasks import WorkflowTasks
from durasim.injector import FaultInjector
from durasim.network import Message, Network
from durasim.node import Node

E = EventType
_CHILD_CLOSED = frozenset(CHILD_CLOSED.values())


class Server:
    """The durable-execution service, living on a node named ``"server"``.

    Args:
        sim: the simulation.
        net: the network it talks to the worker and the client over.
        store: where histories live (survives crashes of this node).
        injector: fires ``after_events`` crashes as histories grow.
        worker: the name of the worker node it hands workflow tasks (and, without an
            activity worker, activity tasks) to.
        activity_worker: the name of a separate node that runs the activities, if any.
        on_close: called with each run's record when it closes.
        step_hook, step_numbers: where the server takes part in a business step (see
            :class:`~durasim.engine.activity_tasks.ActivityTasks`).
    """

    def __init__(self, sim: Simulation, net: Network, store: HistoryStore,
                 injector: FaultInjector | None = None, *, name: str = "server",
                 worker: str = "worker", activity_worker: str | None = None,
                 on_close: Callable[[RunRecord], None] | None = None,
                 step_hook: Callable[[str, int, str, str], None] | None = None,
                 step_numbers: dict[str, int] | None = None) -> None:
        self.sim = sim
        self.net = net
        self.store = store
        self.injector = injector
        self.worker = worker
        self.activity_worker = activity_worker or worker
        self.on_close = on_close
        self.node = Node(sim, name, durable=store, on_start=self._boot)
        self.node.handler = self._handle
        self.activities = ActivityTasks(self, step_hook, step_numbers or {})
        self.tasks = WorkflowTasks(self)
        self.requests = ClientRequests(self)
        self._handlers: dict[str, Callable[[Message], None]] = {
            "StartWorkflow": self._on_start_request, "Poll": self._on_poll,
            "Signal": self.requests.on_signal, "Cancel": self.requests.on_cancel,
            "Terminate": self.requests.on_terminate,
            "Query": self.requests.on_query, "QueryAnswer": self.requests.on_query_answer,
            "Update": self.requests.on_update,
            "WorkflowTaskCompleted": self.tasks.on_completed,
            "WorkflowTaskFailed": self.tasks.on_failed,
            "ActivityTaskCompleted": self.activities.on_completed,
            "ActivityTaskFailed": self.activities.on_failed,
            "ActivityHeartbeat": self.activities.on_heartbeat,
        }
        self.executions: dict[tuple[str, str], Execution] = {}
        self.current: dict[str, str] = {}
        self.pollers: dict[str, int] = {}
        """Node name -> the incarnation whose poll the server holds."""
        self.waiting_tasks: list[Callable[[], None]] = []

    # -- life cycle -------------------------------------------------------------------
    def _boot(self, node: Node) -> None:
        """Start (or restart): rebuild open runs from the store, then serve requests."""
        self.executions = {}
        self.current = {}
        self.pollers = {}
        self.waiting_tasks = []
        self.requests.waiting = {}
        recover(self)
        parent_close.recover(self)
        if node.incarnation > 1:
            for worker in dict.fromkeys((self.worker, self.activity_worker)):
                self.net.send(node.name, worker, "ServerUp", None)

    def _handle(self, message: Message) -> None:
        """Each request is handled the moment it arrives (the network calls this)."""
        if self.tasks.parked:
            self.tasks.catch_up()
        self._handlers[message.kind](message)

    def after(self, delay: float, callback: Callable[[], None], kind: str) -> None:
        """A timer of this incarnation: it does nothing if the server crashed meanwhile."""
        sim = self.sim
        sim.call_at(sim.now + delay if delay > 0.0 else sim.now, self._timer_fired,
                    (self.node.incarnation, callback), kind)

    def _timer_fired(self, timer: Event) -> None:
        incarnation, callback = timer.value
        node = self.node
        if node.up and node.incarnation == incarnation:
            if self.tasks.parked:
                self.tasks.catch_up()
            try:  # noqa: SIM105 (suppress() would build a context manager per timer)
                callback()
            except NodeCrashed:  # it crashed in the callback
                pass

    def blocked(self) -> bool:
        """Is every open run waiting for fixed workflow code, with nothing else in flight?"""
        return all(ex.failing and not ex.activities and not ex.timers
                   for ex in self.executions.values())

    # -- writing history ----------------------------------------------------------------
    def write(self, ex: Execution, specs: Sequence[Spec], status: str | None = None
              ) -> list[HistoryEvent]:
        """Append events (and the mutable state) to a run's history, atomically."""
        now = self.sim.now - ex.started_at  # history time counts from the run's start
        event_id = len(ex.record.events)
        batch: list[HistoryEvent] = []
        for spec in specs:
            event_id += 1
            event_type, attributes = spec[0], spec[1]
            if attributes.get("startedEventId") == PREVIOUS:  # ids known only now
                attributes["startedEventId"] = event_id - 1
            if attributes.get("scheduledEventId") == PREVIOUS:
                attributes["scheduledEventId"] = event_id - 1
            if event_type in _CHILD_CLOSED and not attributes["startedEventId"]:
                # the child started while a workflow task was in flight: its
                # ChildWorkflowExecutionStarted was parked too, and has an id only now
                attributes["startedEventId"] = next(
                    (e.event_id for e in batch
                     if e.event_type is E.CHILD_WORKFLOW_EXECUTION_STARTED
                     and e.attributes["initiatedEventId"] == attributes["initiatedEventId"]),
                    0)
            batch.append(HistoryEvent(event_id, event_type,
                                      spec[2] if len(spec) == 3 else now, attributes))
        self.store.append(ex.record.workflow_id, ex.record.run_id, batch, ex.state(), status)
        ex.saved()
        self._appended(ex.record, batch)
        return batch

    def save_state(self, ex: Execution) -> None:
        """Persist the mutable state alone (nothing new in the history)."""
        self.store.append(ex.record.workflow_id, ex.record.run_id, [], ex.state())
        ex.saved()

    def _appended(self, record: RunRecord, batch: list[HistoryEvent]) -> None:
        """Tell the trace (the timeline's source) and the fault plan what was written."""
        if self.sim.trace.enabled:
            for event in batch:
                self.sim.record(self.node.name, "history", workflow=record.workflow_id,
                                id=event.event_id, type=event.event_type.value)
        if self.injector is not None:  # ``after_events`` crashes
            self.injector.history_grew(len(record.events))
            if not self.node.up:
                raise NodeCrashed(self.node.name,
                                  f"fault plan: after {len(record.events)} events")

    def wake(self, ex: Execution, specs: list[Spec]) -> None:
        """Record events that wake the workflow; a workflow task follows (or is parked)."""
        if ex.record.status != "running":
            return
        if ex.wt_started:
            ex.buffered.extend(specs)
            ex.wake_after_task = True
            self.save_state(ex)
            return
        if ex.wt_scheduled or ex.failing:
            self.write(ex, specs)
            return
        self.write(ex, [*specs, wt_scheduled_spec()])
        ex.wt_scheduled = len(ex.events)
        self.tasks.dispatch(ex)

    # -- starting workflows ---------------------------------------------------------------
    def new_run_id(self) -> str:
        """A run id from the seeded RNG (deterministic for a fresh store), but never one
        the store holds.

        A new process's RNG starts again from the seed, so on a store that already holds
        runs a draw can repeat an id. The replacement is derived from the draw, so ids
        stay deterministic and the RNG's sequence is the same as on a fresh store.
        """
        drawn = self.sim.rng.getrandbits(128)
        run_id, retry = str(uuid.UUID(int=drawn, version=4)), 0
        while self.store.has_run_id(run_id):
            retry += 1
            digest = hashlib.sha256(f"{drawn}/{retry}".encode()).digest()
            run_id = str(uuid.UUID(bytes=digest[:16], version=4))
        return run_id

    def start_workflow(self, workflow_id: str, workflow_type: str, args: list[Any], *,
                       parent: dict[str, Any] | None = None,
                       continued_from: str | None = None, first_run: str | None = None,
                       run_id: str | None = None,
                       signals: Sequence[dict[str, Any]] = ()) -> Execution:
        """Create a run with WorkflowExecutionStarted and its first workflow task.

        ``signals`` came with the start request (signal-with-start): they are written
        right after WorkflowExecutionStarted, so the first task sees them.
        """
        run_id = run_id or self.new_run_id()
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
        specs = [(E.WORKFLOW_EXECUTION_STARTED, started),
                 *(signaled_spec(s["name"], s["args"], f"{workflow_id}/start-{n}")
                   for n, s in enumerate(signals, start=1)), wt_scheduled_spec()]
        events = [HistoryEvent(i, t, 0.0, a) for i, (t, a) in enumerate(specs, start=1)]
        # saved with the run: a crash before its next batch must not lose when it began
        record = self.store.create_run(workflow_id, run_id, workflow_type, parent, events,
                                       state={"started_at": self.sim.now})
        ex = Execution(record, started_at=self.sim.now, wt_scheduled=len(events))
        self.executions[(workflow_id, run_id)] = ex
        self.current[workflow_id] = run_id
        self._appended(record, events)
        self.tasks.dispatch(ex)
        return ex

    def _on_start_request(self, message: Message) -> None:
        p = message.payload
        if p["workflow_id"] not in self.current and not self.store.runs(p["workflow_id"]):
            self.start_workflow(p["workflow_id"], p["workflow_type"], p["args"],
                                signals=p.get("signals", ()))
        self.net.send(self.node.name, message.src, "StartAccepted", p["workflow_id"])

    # -- workflow tasks -----------------------------------------------------------------
    def _on_poll(self, message: Message) -> None:
        self.pollers[message.src] = message.payload
        self.net.send(self.node.name, message.src, "PollAccepted", message.payload)
        waiting, self.waiting_tasks = self.waiting_tasks, []
        for dispatch in waiting:
            dispatch()

    def poller_alive(self, incarnation: int | None = None, worker: str | None = None) -> bool:
        """Is a worker poll open? (A dead worker's connection closes; the server sees it.)"""
        name = worker or self.worker
        poller = self.pollers.get(name)
        if poller is None or (incarnation is not None and incarnation != poller):
            return False
        node = self.net.nodes.get(name)
        return node is not None and node.up and node.incarnation == poller

    def send_to_worker(self, kind: str, payload: Any, worker: str | None = None) -> None:
        """Send a task to a worker now, or as soon as one polls."""
        name = worker or self.worker
        if self.poller_alive(worker=name):
            self.net.send(self.node.name, name, kind, payload)
        else:
            self.waiting_tasks.append(lambda: self.send_to_worker(kind, payload, name))

    def start_command(self, ex: Execution, event: HistoryEvent) -> None:
        """A command event was written: start what it asks for."""
        t, a = event.event_type, event.attributes
        if t is E.ACTIVITY_TASK_SCHEDULED:
            self.activities.schedule(ex, event)
        elif t is E.TIMER_STARTED:
            ex.timers[a["timerId"]] = event.event_id
            self.arm_timer(ex, a["timerId"], event.event_id, a["startToFireTimeout"])
        elif t is E.TIMER_CANCELED:
            ex.timers.pop(str(a["timerId"]), None)
        elif t is E.ACTIVITY_TASK_CANCEL_REQUESTED:
            self.activities.cancel(ex, a["scheduledEventId"], event.event_id)
        elif t is E.WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            self.requests.written(event)
        elif t is E.START_CHILD_WORKFLOW_EXECUTION_INITIATED and parent_close.may_start(ex):
            ex.children[a["workflowId"]] = event.event_id
            self.start_child(ex, event.event_id, a)

    # -- children -------------------------------------------------------------------------
    def start_child(self, ex: Execution, initiated_id: int, a: dict[str, Any]) -> None:
        """Create a child's run and tell its parent it started (or, past the nesting
        limit, that it could not be started)."""
        depth, parent = 1, ex.record.parent
        while parent is not None and depth <= MAX_CHILD_DEPTH:
            depth += 1
            runs = self.store.runs(parent["workflow_id"])
            parent = next((r.parent for r in runs if r.run_id == parent["run_id"]), None)
        if depth > MAX_CHILD_DEPTH:
            self.wake(ex, [(E.START_CHILD_WORKFLOW_EXECUTION_FAILED, {
                "initiatedEventId": initiated_id, "workflowId": a["workflowId"],
                "workflowType": a["workflowType"], "namespace": "default",
                "cause": "START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_UNSPECIFIED",
                "failure": make_failure(too_deep(a["workflowId"]))})])
            return
        child = self.start_workflow(a["workflowId"], a["workflowType"], a.get("input", []),
                                    parent={"workflow_id": ex.record.workflow_id,
                                            "run_id": ex.record.run_id,
                                            "initiated_id": initiated_id})
        self.wake(ex, [child_started_spec(initiated_id, child.record)])

    def close(self, ex: Execution, closing: C.Command) -> None:
        """The run ended (its closing event is written): start its successor, or tell its
        parent and the caller."""
        record = ex.record
        self.executions.pop((record.workflow_id, record.run_id), None)
        # a closed run's activities are dropped, as Temporal drops them: an attempt that is
        # running finishes into the void, and no timeout or retry follows (their timers
        # still hold ``ex`` and would otherwise retry the activity for ever)
        ex.activities.clear()
        self.requests.closed(ex)
        if ex.children:
            parent_close.parent_closed(self, ex)
        if isinstance(closing, C.ContinueAsNew):
            self.continue_run(record)
            return
        self.current.pop(record.workflow_id, None)
        if record.parent:
            self.notify_parent(record, record.events[-1])
        if self.on_close is not None:
            self.on_close(record)

    def continue_run(self, record: RunRecord) -> None:
        """Start the run a ContinuedAsNew event names (also after a crash in between)."""
        closing = record.events[-1].attributes
        self.start_workflow(record.workflow_id, record.workflow_type,
                            list(closing.get("input", [])), parent=record.parent,
                            continued_from=record.run_id, run_id=closing["newExecutionRunId"],
                            first_run=record.events[0].attributes.get("firstExecutionRunId"))

    def notify_parent(self, record: RunRecord, closing: HistoryEvent) -> None:
        """Tell a child's parent how the child ended (its closing event)."""
        parent = record.parent or {}
        ex = self.executions.get((parent["workflow_id"], parent["run_id"]))
        if ex is None:
            return
        started_id = next((e.event_id for e in ex.events
                           if e.event_type is E.CHILD_WORKFLOW_EXECUTION_STARTED
                           and e.attributes.get("initiatedEventId") == parent["initiated_id"]),
                          0)
        linked = {"namespace": "default", "initiatedEventId": parent["initiated_id"],
                  "startedEventId": started_id,
                  "workflowType": record.workflow_type,
                  "workflowExecution": {"workflowId": record.workflow_id,
                                        "runId": record.run_id}}
        self.wake(ex, [child_closed_spec(closing, linked)])

    # -- timers -------------------------------------------------------------------------
    def arm_timer(self, ex: Execution, timer_id: str, started_id: int, seconds: float,
                  elapsed: float = 0.0) -> None:
        """Fire timer ``timer_id`` after ``seconds`` (minus what already ``elapsed``)."""
        def fire() -> None:
            if ex.timers.pop(timer_id, None) is None:
                return
            self.wake(ex, [(E.TIMER_FIRED, {"timerId": timer_id,
                                             "startedEventId": started_id})])
        self.after(seconds - elapsed, fire, "timer")
