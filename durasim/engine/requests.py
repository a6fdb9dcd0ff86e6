"""The server's side of what clients send a running workflow: signals, cancel requests,
terminations, queries and updates.

Clients retry until acknowledged, so every request may arrive twice; the server drops
the duplicates by request id, reading the history (a signal or an update already written)
or the run's saved state (the termination that ended it) rather than its memory, which a
crash would have emptied. A signal, cancellation or termination for a workflow that does
not run is refused as Temporal refuses it (NOT_FOUND), except a cancellation of a closed
run, which Temporal accepts. Queries never touch the
history: the server hands them to the worker, which answers from the workflow's state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from durasim.engine import commands as C
from durasim.engine.execution import Execution, Spec
from durasim.engine.features import UpdateRequest
from durasim.engine.history import EventType, HistoryEvent
from durasim.engine.parent_close import terminate
from durasim.network import Message

if TYPE_CHECKING:
    from durasim.engine.server import Server

E = EventType
CLIENT_IDENTITY = "durasim-client"
NOT_FOUND = "NOT_FOUND"
"""The status Temporal's server answers a request for a workflow that does not run."""
NOT_FOUND_CLOSED = "workflow execution already completed"
"""Its message when the workflow closed (completed, failed, cancelled, terminated...)."""


class ClientRequests:
    """Signals, cancel requests, queries and updates arriving at one server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.waiting: dict[str, tuple[str, int]] = {}
        """Update id -> (client node, request seq) still waiting for the update's answer."""

    def _execution(self, p: dict[str, Any]) -> Execution | None:
        server = self.server
        run_id = server.current.get(p["workflow_id"])
        return server.executions.get((p["workflow_id"], run_id or ""))

    def _answer(self, client: str, seq: int, value: Any = None, error: str | None = None
                ) -> None:
        self.server.net.send(self.server.node.name, client, "Answer", (seq, value, error))

    def on_signal(self, message: Message) -> None:
        """Write WorkflowExecutionSignaled (once per request id) and wake the workflow;
        refuse a signal for a workflow that does not run (unless it is a retry of one
        already written)."""
        p = message.payload
        ex = self._execution(p)
        if ex is None:
            runs = self.server.store.runs(p["workflow_id"])
            if not runs or not _seen(runs[-1].events, "requestId", p["request_id"]):
                self._refuse(message, "Signal", runs)
                return
        elif not _seen(ex.events, "requestId", p["request_id"]):
            self.server.wake(ex, [signaled_spec(p["name"], p["args"], p["request_id"])])
        self.server.net.send(self.server.node.name, message.src, "SignalAccepted", p["seq"])

    def on_cancel(self, message: Message) -> None:
        """Write WorkflowExecutionCancelRequested (once) and wake the workflow. A closed
        workflow's cancellation is accepted and does nothing, as on Temporal; only an
        id nobody started is refused."""
        p = message.payload
        ex = self._execution(p)
        if ex is None:
            runs = self.server.store.runs(p["workflow_id"])
            if not runs:
                self._refuse(message, "Cancel", runs)
                return
        elif not any(e.event_type is E.WORKFLOW_EXECUTION_CANCEL_REQUESTED for e in ex.events):
            self.server.wake(ex, [(E.WORKFLOW_EXECUTION_CANCEL_REQUESTED,
                                   {"identity": CLIENT_IDENTITY})])
        self.server.net.send(self.server.node.name, message.src, "CancelAccepted", p["seq"])

    def on_terminate(self, message: Message) -> None:
        """End the run from outside; refuse to terminate a workflow that does not run,
        unless this very request ended it (a retry: its acknowledgement was lost)."""
        p = message.payload
        ex = self._execution(p)
        if ex is not None:
            ex.terminated_by = p["request_id"]
            terminate(self.server, ex, p["reason"], CLIENT_IDENTITY)
        else:
            runs = self.server.store.runs(p["workflow_id"])
            if not runs or runs[-1].state.get("terminated_by") != p["request_id"]:
                self._refuse(message, "Terminate", runs)
                return
        self.server.net.send(self.server.node.name, message.src, "TerminateAccepted", p["seq"])

    def _refuse(self, message: Message, kind: str, runs: Sequence[Any]) -> None:
        """Tell the client its request found no running workflow, in the words of
        Temporal's server (``tests/fixtures/recorded/closing.answers``); this answer
        also acknowledges it."""
        workflow_id = message.payload["workflow_id"]
        reason = (NOT_FOUND_CLOSED if runs
                  else f"workflow not found for ID: {workflow_id}")
        self.server.net.send(self.server.node.name, message.src, "Refused",
                             (kind, message.payload["seq"], NOT_FOUND, reason))

    def on_query(self, message: Message) -> None:
        """Hand the query to the worker with the history (the last run's, even if closed).

        While a workflow task is due or running the query waits for it to complete, so
        the answer reflects everything already in the history (a consistent read).
        """
        p = message.payload
        ex = self._execution(p)
        if ex is not None and (ex.wt_scheduled or ex.wt_started):
            ex.pending_queries[p["seq"]] = (message.src, p)
            return
        self._ask_worker(message.src, p)

    def flush_queries(self, ex: Execution) -> None:
        """The workflow task completed: the queries waiting for it go to the worker."""
        waiting, ex.pending_queries = ex.pending_queries, {}
        for client, p in waiting.values():
            self._ask_worker(client, p)

    def _ask_worker(self, client: str, p: dict[str, Any]) -> None:
        server = self.server
        runs = server.store.runs(p["workflow_id"])
        if not runs:
            self._answer(client, p["seq"], error=f"no workflow {p['workflow_id']!r}")
            return
        record = runs[-1]
        server.send_to_worker("QueryTask", {
            "workflow_id": record.workflow_id, "run_id": record.run_id,
            "workflow_type": record.workflow_type, "events": list(record.events),
            "name": p["name"], "args": p["args"], "seq": p["seq"], "client": client})

    def on_query_answer(self, message: Message) -> None:
        """The worker's answer to a query, relayed to the client that asked."""
        p = message.payload
        self._answer(p["client"], p["seq"], p.get("value"), p.get("error"))

    def on_update(self, message: Message) -> None:
        """Queue the update for a workflow task (a speculative one if none is due)."""
        server = self.server
        p = message.payload
        update_id = p["request_id"]
        ex = self._execution(p)
        if ex is None:
            closed = server.store.runs(p["workflow_id"])
            outcome = _outcome(closed[-1].events, update_id) if closed else None
            if outcome is not None:
                self._answer(message.src, p["seq"], *outcome)
            else:
                self._answer(message.src, p["seq"], error=f"workflow {p['workflow_id']!r} "
                             "is not running: the update was not delivered")
            return
        outcome = _outcome(ex.events, update_id)
        if outcome is not None:  # already answered: the client did not hear it
            self._answer(message.src, p["seq"], *outcome)
            return
        self.waiting[update_id] = (message.src, p["seq"])
        if _seen(ex.events, "protocolInstanceId", update_id) or any(
                u.update_id == update_id for u in ex.pending_updates):
            return
        ex.pending_updates.append(UpdateRequest(update_id, p["name"], tuple(p["args"])))
        server.tasks.schedule_for_updates(ex)

    def refused(self, ex: Execution, rejections: Iterable[tuple[str, str]]) -> None:
        """Updates the workflow refused: nothing is written; their clients hear why."""
        for update_id, reason in rejections:
            ex.pending_updates = [u for u in ex.pending_updates if u.update_id != update_id]
            waiting = self.waiting.pop(update_id, None)
            if waiting is not None:
                self._answer(*waiting, error=f"rejected: {reason}")

    def fills(self, ex: Execution, command: C.Command, scheduled_id: int,
              batch: Sequence[Spec]) -> dict[str, Any]:
        """What the server adds to a command's event beyond what the code asked for."""
        if isinstance(command, C.ScheduleActivity) and command.schedule_to_close:
            return {"scheduleToStartTimeout": command.schedule_to_close}
        if isinstance(command, C.CancelTimer):
            started = ex.timers.get(command.timer_id)
            if started is None:  # it fired while the task ran: the cancel wins, as in
                started = _unfire(ex, command.timer_id)  # Temporal (checkAndClearTimerFired)
            return {"startedEventId": started}
        if isinstance(command, C.AcceptUpdate):
            ex.pending_updates = [u for u in ex.pending_updates
                                  if u.update_id != command.update_id]
            attributes = command.attributes()
            attributes["acceptedRequest"]["meta"]["identity"] = CLIENT_IDENTITY
            return {**attributes, "acceptedRequestSequencingEventId": scheduled_id}
        if isinstance(command, C.CompleteUpdate):
            accepted = next((i for i, spec in enumerate(batch, start=len(ex.events) + 1)
                             if spec[0] is E.WORKFLOW_EXECUTION_UPDATE_ACCEPTED
                             and spec[1].get("protocolInstanceId") == command.update_id),
                            None) or next((e.event_id for e in ex.events
                                           if e.event_type is E.WORKFLOW_EXECUTION_UPDATE_ACCEPTED
                                           and C.update_id_of(e) == command.update_id), 0)
            return {"acceptedEventId": accepted}
        return {}

    def written(self, event: HistoryEvent) -> None:
        """An update's answer is in the history: tell the client waiting for it."""
        update_id = C.update_id_of(event)
        waiting = self.waiting.pop(update_id or "", None)
        if waiting is not None:
            self._answer(*waiting, *_answer_of(event))

    def closed(self, ex: Execution) -> None:
        """The run ended: queries waiting are answered from its final state; updates it
        never took are answered with an error."""
        self.flush_queries(ex)
        for update in ex.pending_updates:
            waiting = self.waiting.pop(update.update_id, None)
            if waiting is not None:
                self._answer(*waiting, error="the workflow ended before it handled the update")
        ex.pending_updates = []


def signaled_spec(name: str, args: Sequence[Any], request_id: str
                  ) -> tuple[EventType, dict[str, Any]]:
    """WorkflowExecutionSignaled, as the client's signal is recorded."""
    return (E.WORKFLOW_EXECUTION_SIGNALED, {"signalName": name, "input": list(args),
                                            "identity": CLIENT_IDENTITY,
                                            "requestId": request_id})


def _unfire(ex: Execution, timer_id: str) -> int:
    """Drop the buffered TimerFired of ``timer_id`` (the workflow cancelled the timer in
    the task during which it fired); return the timer's TimerStarted id (0 if unknown).

    If nothing else arrived meanwhile, the task that TimerFired asked for is dropped too:
    the next task would see nothing new, and Temporal schedules none
    (``tests/fixtures/recorded/timer_fired_during_cancel.json``)."""
    for index, spec in enumerate(ex.buffered):
        if spec[0] is E.TIMER_FIRED and str(spec[1].get("timerId")) == timer_id:
            del ex.buffered[index]
            if not ex.buffered and not ex.pending_updates:
                ex.wake_after_task = False
            return int(spec[1].get("startedEventId", 0))
    return 0


def _seen(events: Sequence[HistoryEvent], key: str, value: str) -> bool:
    return any(e.attributes.get(key) == value for e in events)


def _outcome(events: Sequence[HistoryEvent], update_id: str) -> tuple[Any, str | None] | None:
    for event in events:
        if (event.event_type is E.WORKFLOW_EXECUTION_UPDATE_COMPLETED
                and C.update_id_of(event) == update_id):
            return _answer_of(event)
    return None


def _answer_of(event: HistoryEvent) -> tuple[Any, str | None]:
    outcome = event.attributes.get("outcome") or {}
    if "failure" in outcome:
        return None, str((outcome["failure"] or {}).get("message", "the update failed"))
    success = outcome.get("success") or [None]
    return (success[0] if isinstance(success, list) else success), None
