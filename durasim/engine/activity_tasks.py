"""The server's side of activities: dispatch, heartbeats, completion, retries, timeouts.

Temporal decides retries on the server, from the policy recorded when the activity was
scheduled, and it writes an activity's ``ActivityTaskStarted`` only when the activity
closes (with the time the last attempt *started*), so a history shows one Started per
activity however many attempts it took; the attempts show up as ``attempt`` and
``lastFailure``. A crash of the worker in the middle of an attempt is noticed only by a
timeout: the heartbeat timeout when the activity heartbeats (seconds), else the whole
start-to-close timeout. With a schedule-to-close deadline the server gives up as soon as
the next retry could not start before it (retry state TIMEOUT), without waiting for it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from durasim.engine.execution import PREVIOUS, ActivityState, Execution, Spec
from durasim.engine.history import EventType, HistoryEvent, make_failure
from durasim.engine.retry import RetryPolicy
from durasim.network import Message

if TYPE_CHECKING:
    from durasim.engine.server import Server

E = EventType
IDENTITY = "durasim-worker"
_RETRY_STATES = {"NonRetryableFailure": "RETRY_STATE_NON_RETRYABLE_FAILURE",
                 "MaximumAttemptsReached": "RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED"}


def timeout_failure(kind: str) -> dict[str, Any]:
    """A timeout as the server records it: ``source: "Server"`` and ``timeoutFailureInfo``.

    ``kind`` is Temporal's name: "StartToClose", "ScheduleToClose" or "Heartbeat".
    """
    type_name = {"StartToClose": "START_TO_CLOSE", "ScheduleToClose": "SCHEDULE_TO_CLOSE",
                 "Heartbeat": "HEARTBEAT"}[kind]
    failure = make_failure(f"activity {kind} timeout")
    failure["source"] = "Server"
    failure["timeoutFailureInfo"] = {"timeoutType": f"TIMEOUT_TYPE_{type_name}"}
    return failure


class ActivityTasks:
    """Activities in flight on one server.

    Args:
        server: the server they belong to.
        step_hook: called as ``hook(node, step, name, when)`` where the server takes part
            in a business step (dispatching it, recording its completion): a crash may be
            planned there.
        step_numbers: activity name -> business step number.
    """

    def __init__(self, server: Server,
                 step_hook: Callable[[str, int, str, str], None] | None,
                 step_numbers: dict[str, int]) -> None:
        self.server = server
        self.step_hook = step_hook
        self.step_numbers = step_numbers

    def schedule(self, ex: Execution, event: HistoryEvent) -> None:
        """ActivityTaskScheduled was written: dispatch attempt 1 and arm its deadline."""
        a = event.attributes
        state = ActivityState(event.event_id, a, scheduled_at=self.server.sim.now)
        ex.activities[event.event_id] = state
        self.dispatch(ex, state)
        self.arm_deadline(ex, state)

    def arm_deadline(self, ex: Execution, state: ActivityState) -> None:
        """The schedule-to-close deadline, if the activity has one, counted from scheduling."""
        deadline = float(state.attributes.get("scheduleToCloseTimeout") or 0.0)
        if deadline:
            self.server.after(state.scheduled_at + deadline - self.server.sim.now,
                              lambda: self._schedule_to_close(ex, state), "activity_timeout")

    def dispatch(self, ex: Execution, state: ActivityState) -> None:
        """Hand the current attempt to the worker (or wait for one to poll)."""
        server = self.server
        if ex.activities.get(state.scheduled_id) is not state:
            return
        if not server.poller_alive(worker=server.activity_worker):
            server.waiting_tasks.append(lambda: self.dispatch(ex, state))
            return
        a = state.attributes
        self._step_point(a["activityType"], "before_effect")
        state.started_at = server.sim.now
        state.last_heartbeat = None
        ex.activity_changed(state)
        server.save_state(ex)
        attempt = state.attempt
        server.net.send(server.node.name, server.activity_worker, "ActivityTask", {
            "token": (ex.record.workflow_id, ex.record.run_id, state.scheduled_id, attempt),
            "activity_type": a["activityType"], "activity_id": a["activityId"],
            "input": a["input"], "attempt": attempt,
            "heartbeat_timeout": float(a.get("heartbeatTimeout") or 0.0),
            "heartbeat_details": list(state.heartbeat_details)}, step=a["activityType"])
        self.arm_timeouts(ex, state, a["startToCloseTimeout"])

    def arm_timeouts(self, ex: Execution, state: ActivityState, seconds: float) -> None:
        """Give the current attempt ``seconds`` to answer, and heartbeats to prove it lives."""
        server = self.server
        server.after(seconds, partial(self._start_to_close, ex, state, state.attempt),
                     "activity_timeout")
        heartbeat = float(state.attributes.get("heartbeatTimeout") or 0.0)
        if heartbeat:
            server.after(heartbeat, partial(self._heartbeat_due, ex, state, state.attempt),
                         "heartbeat_timeout")

    def _in_flight(self, token: tuple[str, str, int, int]
                   ) -> tuple[Execution, ActivityState] | None:
        workflow_id, run_id, scheduled_id, attempt = token
        ex = self.server.executions.get((workflow_id, run_id))
        state = ex.activities.get(scheduled_id) if ex else None
        if ex is None or state is None or state.attempt != attempt or state.started_at is None:
            return None  # late: that attempt already timed out or the activity closed
        return ex, state

    def on_completed(self, message: Message) -> None:
        """The worker reports an attempt's result."""
        found = self._in_flight(message.payload["token"])
        if found is None:
            return
        ex, state = found
        self._step_point(state.attributes["activityType"], "after_effect")
        self._close(ex, state, E.ACTIVITY_TASK_COMPLETED, {"result": message.payload["result"]})

    def on_failed(self, message: Message) -> None:
        """The worker reports an attempt's failure: retry it, or give up."""
        found = self._in_flight(message.payload["token"])
        if found is not None:
            self._attempt_failed(*found, message.payload["failure"])

    def on_heartbeat(self, message: Message) -> None:
        """The activity is alive: keep its details (mutable state, no history event)."""
        found = self._in_flight(message.payload["token"])
        if found is None:
            return
        ex, state = found
        state.heartbeat_details = tuple(message.payload["details"])
        state.last_heartbeat = self.server.sim.now
        ex.activity_changed(state)
        self.server.save_state(ex)

    def cancel(self, ex: Execution, scheduled_id: int, requested_id: int) -> None:
        """The workflow asked to cancel an activity.

        One waiting for its next attempt is canceled at once; one a worker is running
        cannot be reached unless it heartbeats, so it finishes and is recorded as usual.
        """
        state = ex.activities.get(scheduled_id)
        if state is None or state.started_at is not None:
            return
        ex.close_activity(scheduled_id)
        self.server.wake(ex, [(E.ACTIVITY_TASK_CANCELED, {
            "scheduledEventId": scheduled_id, "latestCancelRequestedEventId": requested_id,
            "identity": IDENTITY})])

    def _step_point(self, activity_type: str, when: str) -> None:
        """Where the server takes part in a business step: a crash may be planned here."""
        step = self.step_numbers.get(activity_type)
        if self.step_hook is not None and step is not None:
            self.step_hook(self.server.node.name, step, activity_type, when)

    def _start_to_close(self, ex: Execution, state: ActivityState, attempt: int) -> None:
        if ex.activities.get(state.scheduled_id) is not state or state.attempt != attempt:
            return
        self._attempt_failed(ex, state, timeout_failure("StartToClose"), timed_out=True)

    def _heartbeat_due(self, ex: Execution, state: ActivityState, attempt: int) -> None:
        """No heartbeat for a whole heartbeat timeout: the attempt is given up for dead."""
        if ex.activities.get(state.scheduled_id) is not state or state.attempt != attempt:
            return
        heartbeat = float(state.attributes["heartbeatTimeout"])
        last = state.last_heartbeat if state.last_heartbeat is not None else state.started_at
        if last is not None and last + heartbeat > self.server.sim.now:
            self.server.after(last + heartbeat - self.server.sim.now,
                              partial(self._heartbeat_due, ex, state, attempt),
                              "heartbeat_timeout")
            return
        failure = timeout_failure("Heartbeat")
        if state.heartbeat_details:
            failure["timeoutFailureInfo"]["lastHeartbeatDetails"] = list(
                state.heartbeat_details)
        self._attempt_failed(ex, state, failure, timed_out=True)

    def _schedule_to_close(self, ex: Execution, state: ActivityState) -> None:
        if ex.activities.get(state.scheduled_id) is not state:
            return
        self._close(ex, state, E.ACTIVITY_TASK_TIMED_OUT,
                    {"failure": timeout_failure("ScheduleToClose"),
                     "retryState": "RETRY_STATE_TIMEOUT"})

    def _attempt_failed(self, ex: Execution, state: ActivityState, failure: dict[str, Any],
                        timed_out: bool = False) -> None:
        server = self.server
        policy = RetryPolicy.from_temporal(state.attributes.get("retryPolicy") or {})
        reason = policy.gives_up(state.attempt, failure.get("type"),
                                 bool(failure.get("nonRetryable")))
        delay = policy.backoff(state.attempt)
        deadline = float(state.attributes.get("scheduleToCloseTimeout") or 0.0)
        if reason is None and deadline and (
                server.sim.now + delay >= state.scheduled_at + deadline):
            reason = "Timeout"  # the next attempt could not start before the deadline
        if reason is None:
            state.last_failure = _without_details(failure)
            state.attempt += 1
            state.started_at = None
            ex.activity_changed(state)
            timeout = (failure.get("timeoutFailureInfo") or {}).get("timeoutType")
            server.sim.record(server.node.name, "retry",  # timeout: what ended the attempt
                              activity=state.attributes["activityType"],
                              attempt=state.attempt, backoff=delay,
                              **({"timeout": timeout} if timeout else {}))
            server.save_state(ex)
            server.after(delay, lambda: self.dispatch(ex, state), "retry")
            return
        self._close(ex, state,
                    E.ACTIVITY_TASK_TIMED_OUT if timed_out else E.ACTIVITY_TASK_FAILED,
                    {"failure": failure,
                     "retryState": _RETRY_STATES.get(reason, "RETRY_STATE_TIMEOUT")})

    def _close(self, ex: Execution, state: ActivityState, event_type: EventType,
               attributes: dict[str, Any]) -> None:
        ex.close_activity(state.scheduled_id)
        started: dict[str, Any] = {"scheduledEventId": state.scheduled_id,
                                   "attempt": state.attempt, "identity": IDENTITY}
        if state.last_failure is not None:
            started["lastFailure"] = state.last_failure
        started_time = (state.started_at if state.started_at is not None
                        else self.server.sim.now) - ex.started_at
        closing = {**attributes, "scheduledEventId": state.scheduled_id,
                   "startedEventId": PREVIOUS}
        if event_type is not E.ACTIVITY_TASK_TIMED_OUT:  # the server's own: no identity
            closing["identity"] = IDENTITY
        specs: list[Spec] = [(E.ACTIVITY_TASK_STARTED, started, started_time),
                             (event_type, closing)]
        self.server.wake(ex, specs)


def _without_details(failure: dict[str, Any]) -> dict[str, Any]:
    """A failure as the next attempt's ``lastFailure`` shows it (no heartbeat details)."""
    info = failure.get("timeoutFailureInfo")
    if not isinstance(info, dict) or "lastHeartbeatDetails" not in info:
        return failure
    return {**failure, "timeoutFailureInfo": {k: v for k, v in info.items()
                                              if k != "lastHeartbeatDetails"}}
