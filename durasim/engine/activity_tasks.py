"""The server's side of activities: dispatch, completion, retries and timeouts.

Temporal decides retries on the server, from the policy recorded when the activity was
scheduled, and it writes an activity's ``ActivityTaskStarted`` only when the activity
closes (with the time the last attempt *started*), so a history shows one Started per
activity however many attempts it took; the attempts show up as ``attempt`` and
``lastFailure``. A crash of the worker in the middle of an attempt is noticed only by its
start-to-close timeout: the server cannot tell a slow worker from a dead one.
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
        state = ActivityState(event.event_id, a)
        ex.activities[event.event_id] = state
        self.dispatch(ex, state)
        if a.get("scheduleToCloseTimeout"):
            self.server.after(a["scheduleToCloseTimeout"],
                              lambda: self._schedule_to_close(ex, state), "activity_timeout")

    def dispatch(self, ex: Execution, state: ActivityState) -> None:
        """Hand the current attempt to the worker (or wait for one to poll)."""
        server = self.server
        if ex.activities.get(state.scheduled_id) is not state:
            return
        if not server.poller_alive():
            server.waiting_tasks.append(lambda: self.dispatch(ex, state))
            return
        a = state.attributes
        self._step_point(a["activityType"], "before_effect")
        state.started_at = server.sim.now
        server.save_state(ex)
        attempt = state.attempt
        server.net.send(server.node.name, server.worker, "ActivityTask", {
            "token": (ex.record.workflow_id, ex.record.run_id, state.scheduled_id, attempt),
            "activity_type": a["activityType"], "activity_id": a["activityId"],
            "input": a["input"], "attempt": attempt,
            "heartbeat_details": list(state.heartbeat_details)}, step=a["activityType"])
        self.arm_start_to_close(ex, state, a["startToCloseTimeout"])

    def arm_start_to_close(self, ex: Execution, state: ActivityState, seconds: float) -> None:
        """Give the current attempt ``seconds`` to answer."""
        self.server.after(seconds, partial(self._start_to_close, ex, state, state.attempt),
                          "activity_timeout")

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

    def _step_point(self, activity_type: str, when: str) -> None:
        """Where the server takes part in a business step: a crash may be planned here."""
        step = self.step_numbers.get(activity_type)
        if self.step_hook is not None and step is not None:
            self.step_hook(self.server.node.name, step, activity_type, when)

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
        self._close(ex, state, E.ACTIVITY_TASK_TIMED_OUT,
                    {"failure": failure, "retryState": "RETRY_STATE_TIMEOUT"})

    def _attempt_failed(self, ex: Execution, state: ActivityState, failure: dict[str, Any],
                        timed_out: bool = False) -> None:
        server = self.server
        policy = RetryPolicy.from_temporal(state.attributes.get("retryPolicy") or {})
        reason = policy.gives_up(state.attempt, failure.get("type"),
                                 bool(failure.get("nonRetryable")))
        if reason is None:
            delay = policy.backoff(state.attempt)
            state.last_failure = failure
            state.attempt += 1
            state.started_at = None
            server.sim.record(server.node.name, "retry",
                              activity=state.attributes["activityType"],
                              attempt=state.attempt, backoff=delay)
            server.save_state(ex)
            server.after(delay, lambda: self.dispatch(ex, state), "retry")
            return
        retry_state = ("RETRY_STATE_NON_RETRYABLE_FAILURE" if reason == "NonRetryableFailure"
                       else "RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED")
        self._close(ex, state,
                    E.ACTIVITY_TASK_TIMED_OUT if timed_out else E.ACTIVITY_TASK_FAILED,
                    {"failure": failure, "retryState": retry_state})

    def _close(self, ex: Execution, state: ActivityState, event_type: EventType,
               attributes: dict[str, Any]) -> None:
        del ex.activities[state.scheduled_id]
        started: dict[str, Any] = {"scheduledEventId": state.scheduled_id,
                                   "attempt": state.attempt, "identity": IDENTITY}
        if state.last_failure is not None:
            started["lastFailure"] = state.last_failure
        started_time = (state.started_at if state.started_at is not None
                        else self.server.sim.now) - ex.started_at
        specs: list[Spec] = [
            (E.ACTIVITY_TASK_STARTED, started, started_time),
            (event_type, {**attributes, "scheduledEventId": state.scheduled_id,
                          "startedEventId": PREVIOUS, "identity": IDENTITY})]
        self.server.wake(ex, specs)
