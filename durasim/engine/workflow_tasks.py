"""The server's side of workflow tasks: hand them out, time them out, record what came back.

A workflow task is one turn of the workflow code: the server writes
``WorkflowTaskScheduled``/``WorkflowTaskStarted``, the worker runs the code against the
history and answers with commands (``WorkflowTaskCompleted`` and one event per command)
or with a failure. Events that arrive while a task is running are parked and written
after it, followed by a new task.

A task that *fails* (a bug in the workflow code, non-determinism) is Temporal's most
surprising behaviour, recorded in ``tests/fixtures/recorded/workflow_bug_*.json``: the
failure is written once, and then the task is retried for ever, each retry *transient*
(nothing written, since the SDK reports only a first attempt's failure and leaves later
ones to time out) until fixed code completes one, whose ``WorkflowTaskScheduled`` then
carries its attempt number. A failure on a worker's sticky queue is not counted: the task
goes back to the normal queue as attempt 1.

Retrying for ever would keep a simulation busy for ever, so once nothing but failing tasks
is left the server *parks* them: it stops arming their timeouts, the simulation runs out
of events and ends, and the next time anything reaches the server (a signal, a restart,
fixed code resuming the run) it first catches up, counting the attempts that the same
failing code would have used up meanwhile, exactly as if it had kept retrying.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from durasim.engine import commands as C
from durasim.engine.activity_tasks import IDENTITY
from durasim.engine.execution import (
    PREVIOUS,
    TRANSIENT,
    WORKFLOW_TASK_TIMEOUT,
    Execution,
    Spec,
    wt_scheduled_spec,
)
from durasim.engine.history import EventType, HistoryEvent
from durasim.engine.limits import MAX_RUNS, too_many_runs
from durasim.network import Message

if TYPE_CHECKING:
    from durasim.engine.server import Server

E = EventType
STICKY_SCHEDULE_TO_START = 5.0
"""Seconds a task waits on a worker's sticky queue before going to the normal queue."""
RETRY_BACKOFF = 5.0
"""From attempt 4 on, a retried task's timeout grows by this, doubling each attempt."""
RETRY_BACKOFF_CAP = 600.0
"""... up to ten minutes (Temporal's server)."""

POLL_DELAY = 0.05
"""Up to this many seconds pass before a worker's poll picks up a scheduled task (drawn
from the seeded RNG): completions arriving meanwhile are written before its
WorkflowTaskStarted and one task sees them all, as the recorded parallel activities show."""

_SERVER_DEFAULTS: dict[type[C.Command], dict[str, Any]] = {
    C.FailWorkflow: {"retryState": "RETRY_STATE_RETRY_POLICY_NOT_SET"},
    C.ScheduleActivity: {"scheduleToStartTimeout": 0.0, "heartbeatTimeout": 0.0},
    C.StartChild: {
        "workflowRunTimeout": 0.0, "workflowTaskTimeout": WORKFLOW_TASK_TIMEOUT,
        "workflowIdReusePolicy": "WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE"},
}
"""Attributes the real server fills in on command events (0 s means "no timeout"); the
command's own attributes win over these."""
_STATUS_AFTER = {C.CompleteWorkflow: "completed", C.FailWorkflow: "failed",
                 C.CancelWorkflow: "canceled", C.ContinueAsNew: "continued",
                 C.TerminateWorkflow: "terminated"}


def task_timeout(attempt: int) -> float:
    """Seconds a worker gets for attempt ``attempt`` of a workflow task.

    Temporal's server gives the default ten seconds to the first three attempts, then
    lengthens each retry (recorded: attempt 6 of a failing task read "28.86s", with
    jitter; durasim has none).
    """
    if attempt <= 3:
        return WORKFLOW_TASK_TIMEOUT
    if attempt > 20:
        return WORKFLOW_TASK_TIMEOUT + RETRY_BACKOFF_CAP
    return WORKFLOW_TASK_TIMEOUT + min(RETRY_BACKOFF_CAP, RETRY_BACKOFF * 2 ** (attempt - 4))


class WorkflowTasks:
    """Workflow tasks of one server's runs."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.parked: list[Execution] = []
        """Failing tasks whose timeouts are not armed while nothing else can happen."""

    def dispatch(self, ex: Execution) -> None:
        """Hand the scheduled workflow task to the worker (or wait for one to poll)."""
        server = self.server
        scheduled = ex.wt_scheduled
        if ex.sticky is not None and not server.poller_alive(ex.sticky):
            server.after(STICKY_SCHEDULE_TO_START,
                         lambda: self._sticky_timed_out(ex, scheduled), "wt_timeout")
            return
        if not server.poller_alive():
            server.waiting_tasks.append(lambda: self.dispatch(ex))
            return
        if ex.record.status != "running" or ex.wt_scheduled != scheduled or ex.wt_started:
            return
        if not ex.picked_up and not ex.failing:
            ex.picked_up = True  # the worker's poll takes a moment to pick the task up
            # POLL_DELAY * random() is uniform(0, POLL_DELAY) to the last bit, one call less
            server.after(POLL_DELAY * server.sim.rng.random(),
                         partial(self._picked_up, ex, scheduled), "poll")
            return
        ex.picked_up = False
        now = server.sim.now
        if ex.failing or ex.speculative:  # events written only if the task completes
            first = len(ex.events) + 1
            events = [*ex.events, *_transient_task(first, ex.wt_attempt, now - ex.started_at)]
            ex.wt_scheduled, ex.wt_started = first, first + 1
            if ex.failing:
                ex.wt_attempt_started = now
                server.save_state(ex)
        else:
            server.write(ex, [(E.WORKFLOW_TASK_STARTED, {"scheduledEventId": scheduled,
                                                         "identity": IDENTITY})])
            events = ex.events
            ex.wt_started = len(events)
        ex.wt_sticky = ex.sticky is not None
        started, scheduled = ex.wt_started, ex.wt_scheduled
        server.net.send(server.node.name, server.worker, "WorkflowTask", {
            "workflow_id": ex.record.workflow_id, "run_id": ex.record.run_id,
            "workflow_type": ex.record.workflow_type, "events": events,
            "upto": started, "scheduled": scheduled, "sticky": ex.wt_sticky,
            "attempt": ex.wt_attempt, "updates": list(ex.pending_updates),
            "speculative": ex.speculative})
        if ex.failing and server.blocked():
            self.parked.append(ex)
        else:
            self.arm_timeout(ex, task_timeout(ex.wt_attempt))

    def _picked_up(self, ex: Execution, scheduled: int) -> None:
        if ex.wt_scheduled == scheduled and not ex.wt_started:
            self.dispatch(ex)
        else:
            ex.picked_up = False

    def schedule_for_updates(self, ex: Execution) -> None:
        """Updates are waiting and no task is due: a *speculative* task carries them.

        Nothing of it is written unless the workflow accepts an update (a refused update
        leaves no trace, as recorded).
        """
        if ex.wt_scheduled or ex.wt_started or ex.failing or ex.record.status != "running":
            if ex.wt_started:
                ex.wake_after_task = True
            return
        ex.speculative = True
        ex.wt_scheduled = TRANSIENT
        self.dispatch(ex)

    def catch_up(self) -> None:
        """Something reached the server: count the attempts the parked tasks used up."""
        now = self.server.sim.now
        parked, self.parked = self.parked, []
        for ex in parked:
            if not ex.failing or ex.wt_attempt_started is None:
                continue
            while ex.wt_attempt_started + task_timeout(ex.wt_attempt) <= now:
                ex.wt_attempt_started += task_timeout(ex.wt_attempt)
                ex.wt_attempt += 1
            self.server.save_state(ex)
            self.arm_timeout(ex, ex.wt_attempt_started + task_timeout(ex.wt_attempt) - now)

    def arm_timeout(self, ex: Execution, seconds: float) -> None:
        """Time out the task in flight after ``seconds`` unless it is answered."""
        scheduled, started = ex.wt_scheduled, ex.wt_started
        self.server.after(seconds, partial(self.timed_out, ex, scheduled, started),
                          "wt_timeout")

    def _sticky_timed_out(self, ex: Execution, scheduled: int) -> None:
        if ex.wt_scheduled != scheduled or ex.wt_started or ex.record.status != "running":
            return
        ex.sticky = None
        written = self._write_speculative(ex, started=False)
        self.server.write(ex, [*written, (E.WORKFLOW_TASK_TIMED_OUT, {
            "scheduledEventId": PREVIOUS if written else scheduled,
            "timeoutType": "TIMEOUT_TYPE_SCHEDULE_TO_START"}), wt_scheduled_spec()])
        ex.wt_scheduled = len(ex.events)
        self.dispatch(ex)

    @staticmethod
    def _write_speculative(ex: Execution, started: bool) -> list[Spec]:
        """A speculative task that times out becomes a normal one, as on Temporal's server:
        its WorkflowTaskScheduled (and WorkflowTaskStarted, if a worker took it) are written
        first, so the WorkflowTaskTimedOut after them points at real events. Nothing for a
        task that is not speculative (its events are written already)."""
        if not ex.speculative:
            return []
        ex.speculative = False
        return _transient_specs(ex.wt_attempt)[:2 if started else 1]

    def timed_out(self, ex: Execution, scheduled: int, started: int) -> None:
        """The worker did not answer in time: write that (unless transient), go again."""
        if ex.wt_scheduled != scheduled or ex.wt_started != started:
            return
        ex.sticky = None
        if ex.failing:
            self._retry(ex, ex.wt_attempt + 1)
            return
        ex.wt_started = 0
        written = self._write_speculative(ex, started=True)
        if written:  # the ids the worker was shown are the ones written now
            scheduled, started = len(ex.events) + 1, len(ex.events) + 2
        self.server.write(ex, [*written, (E.WORKFLOW_TASK_TIMED_OUT, {
            "scheduledEventId": scheduled, "startedEventId": started,
            "timeoutType": "TIMEOUT_TYPE_START_TO_CLOSE"}), *take_buffered(ex)])
        # the next attempt is counted (a transient task, written only when it completes),
        # as a failure is: the server saw "attempt: 2" after a start-to-close timeout
        self._retry(ex, ex.wt_attempt + 1)

    def on_completed(self, message: Message) -> None:
        """The worker's commands: write them with WorkflowTaskCompleted, then act on them."""
        server = self.server
        p = message.payload
        ex = server.executions.get((p["workflow_id"], p["run_id"]))
        if ex is None or ex.wt_scheduled != p["scheduled"] or not ex.wt_started:
            return  # a late answer to a task that already timed out: rejected, as in Temporal
        commands: list[C.Command] = list(p["commands"])
        server.requests.refused(ex, p.get("rejections", ()))
        if ex.speculative and not commands and not ex.buffered:
            ex.speculative, ex.wt_scheduled, ex.wt_started = False, 0, 0
            ex.sticky = p["incarnation"]  # a refused update: no trace in the history
            server.requests.flush_queries(ex)
            self._next_for_updates(ex)
            return
        specs: list[Spec] = []
        if ex.failing or ex.speculative:  # a retried or speculative task is written now
            specs += _transient_specs(ex.wt_attempt)
            ex.wt_attempt, ex.wt_attempt_started, ex.speculative = 1, None, False
        scheduled_id = len(ex.events) + 1 if specs else ex.wt_scheduled
        completed_id = len(ex.events) + len(specs) + 1
        specs.append((E.WORKFLOW_TASK_COMPLETED, {
            "scheduledEventId": ex.wt_scheduled, "startedEventId": ex.wt_started,
            "identity": IDENTITY}))
        closing: C.Command | None = None
        for command in commands:
            attributes = {**_SERVER_DEFAULTS.get(type(command), {}), **command.attributes(),
                          **server.requests.fills(ex, command, scheduled_id, specs),
                          "workflowTaskCompletedEventId": completed_id}
            specs.append((command.event_type, attributes))
            if command.closes_workflow:
                closing = command
                break
        if (isinstance(closing, C.ContinueAsNew)
                and len(server.store.runs(ex.record.workflow_id)) >= MAX_RUNS):
            closing = C.TerminateWorkflow(too_many_runs(ex.record.workflow_id))
            specs[-1] = (closing.event_type, closing.attributes())
        next_run = server.new_run_id() if isinstance(closing, C.ContinueAsNew) else None
        if next_run:
            specs[-1][1]["newExecutionRunId"] = next_run
        wake = ex.wake_after_task and closing is None
        buffered = take_buffered(ex)
        if closing is None:
            specs.extend(buffered)
        ex.wt_scheduled = ex.wt_started = 0
        ex.sticky = p["incarnation"]
        if wake:
            specs.append(wt_scheduled_spec())
        status = None if closing is None else _STATUS_AFTER[type(closing)]
        batch = server.write(ex, specs, status)
        if wake:  # set before the commands start: a child's start must see this task
            ex.wt_scheduled = batch[-1].event_id
        for event in batch:
            if event.event_id > completed_id:
                server.start_command(ex, event)
        if wake:
            self.dispatch(ex)
        if closing is not None:
            server.close(ex, closing)
        else:
            server.requests.flush_queries(ex)
            self._next_for_updates(ex)

    def _next_for_updates(self, ex: Execution) -> None:
        if ex.pending_updates and not ex.wt_scheduled:
            self.schedule_for_updates(ex)

    def on_failed(self, message: Message) -> None:
        """The worker could not run the task (a bug in the code, or non-determinism)."""
        server = self.server
        p = message.payload
        ex = server.executions.get((p["workflow_id"], p["run_id"]))
        if ex is None or ex.wt_scheduled != p["scheduled"] or not ex.wt_started or ex.failing:
            return
        specs: list[Spec] = [(E.WORKFLOW_TASK_FAILED, {
            "scheduledEventId": ex.wt_scheduled, "startedEventId": ex.wt_started,
            "cause": p["cause"], "failure": p["failure"], "identity": IDENTITY}),
            *take_buffered(ex)]
        ex.sticky = None
        if ex.wt_sticky:  # not counted: back to the normal queue as attempt 1
            server.write(ex, [*specs, wt_scheduled_spec()])
            ex.wt_scheduled, ex.wt_started = len(ex.events), 0
            self.dispatch(ex)
            return
        server.write(ex, specs)
        self._retry(ex, 2)

    def _retry(self, ex: Execution, attempt: int) -> None:
        """Hand out attempt ``attempt`` of a failing task now (a transient task)."""
        if ex.buffered:  # what arrived meanwhile is history now, whatever the task did
            self.server.write(ex, take_buffered(ex))
        ex.wt_attempt, ex.wt_attempt_started = attempt, None
        ex.wt_scheduled, ex.wt_started = TRANSIENT, 0
        self.server.save_state(ex)
        self.dispatch(ex)


def take_buffered(ex: Execution) -> list[Spec]:
    """The events parked during the task in flight, to be written now."""
    buffered, ex.buffered = ex.buffered, []
    ex.wake_after_task = False
    return buffered


def _transient_specs(attempt: int) -> list[Spec]:
    return [wt_scheduled_spec(attempt, task_timeout(attempt)),
            (E.WORKFLOW_TASK_STARTED, {"scheduledEventId": PREVIOUS, "identity": IDENTITY})]


def _transient_task(first_id: int, attempt: int, now: float) -> list[HistoryEvent]:
    """The Scheduled/Started pair of a retried task, shown to the worker but not written."""
    scheduled, started = _transient_specs(attempt)
    return [HistoryEvent(first_id, scheduled[0], now, scheduled[1]),
            HistoryEvent(first_id + 1, started[0], now,
                         {**started[1], "scheduledEventId": first_id})]
