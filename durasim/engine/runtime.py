"""The workflow state machine: drive workflow code, turn its calls into commands, and
replay a history by matching each command against the event recorded for it.

This is where durable execution happens. A worker that lost its memory rebuilds a
workflow by feeding its whole history through :meth:`WorkflowInstance.feed`: at every
workflow task the code runs until it blocks, and each command it issues must match the
next command event in the history (the DBOS / Temporal determinism rule), while recorded
results are handed back instead of running activities again. Running for the first time
and replaying are the same loop; the only difference is whether the history already has
the events that answer the commands.
"""

from __future__ import annotations

import random
import uuid
from collections import deque
from collections.abc import Coroutine, Generator, Sequence
from typing import Any

from durasim.engine.history import EventType, HistoryEvent, make_failure
from durasim.engine.workflow import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    ContinueAsNewError,
    WorkflowDefinition,
)
from durasim.errors import NondeterminismError

E = EventType
COMMAND_EVENTS = {
    E.ACTIVITY_TASK_SCHEDULED: "ScheduleActivityTask",
    E.TIMER_STARTED: "StartTimer",
    E.MARKER_RECORDED: "RecordMarker",
    E.UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "UpsertWorkflowSearchAttributes",
    E.START_CHILD_WORKFLOW_EXECUTION_INITIATED: "StartChildWorkflowExecution",
    E.WORKFLOW_EXECUTION_COMPLETED: "CompleteWorkflowExecution",
    E.WORKFLOW_EXECUTION_FAILED: "FailWorkflowExecution",
    E.WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "ContinueAsNewWorkflowExecution",
}
"""History events that record a command, and the command's name (Temporal's)."""
EVENT_OF_COMMAND = {command: event for event, command in COMMAND_EVENTS.items()}
PATCH_MARKER = "core_patch"


class Future:
    """Something workflow code awaits; resolved only by history events, never by clocks."""

    __slots__ = ("done", "error", "value", "waiters")

    def __init__(self) -> None:
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None
        self.waiters: list[_Task] = []

    def __await__(self) -> Generator[Future, None, Any]:
        if not self.done:
            yield self
        if self.error is not None:
            raise self.error
        return self.value


class Command:
    """What workflow code asked for, as the engine records it.

    ``attributes`` are the decoded attributes of the command's event; ``future`` is what
    the workflow awaits for its outcome.
    """

    __slots__ = ("attributes", "event_id", "future", "kind", "replayed")

    def __init__(self, kind: str, attributes: dict[str, Any], future: Future | None = None
                 ) -> None:
        self.kind = kind
        self.attributes = attributes
        self.future = future
        self.event_id = 0
        self.replayed = False

    @property
    def event_type(self) -> EventType:
        """The history event that records this command."""
        return EVENT_OF_COMMAND[self.kind]

    def describe(self) -> str:
        """``ScheduleActivityTask(withdraw, ['alice', 25])`` and friends."""
        return f"{self.kind}({_key_text(self.event_type, self.attributes)})"

    def __repr__(self) -> str:
        return f"<Command {self.describe()}>"


def describe_event(event: HistoryEvent) -> str:
    """``ActivityTaskScheduled(withdraw, ['alice', 25])``: how errors name an event."""
    return f"{event.event_type.value}({_key_text(event.event_type, event.attributes)})"


def _key_text(event_type: EventType, a: dict[str, Any]) -> str:
    if event_type is E.ACTIVITY_TASK_SCHEDULED:
        return f"{a.get('activityType')}, {a.get('input', [])!r}"
    if event_type is E.TIMER_STARTED:
        return f"{float(a.get('startToFireTimeout', 0.0))}"
    if event_type is E.MARKER_RECORDED:
        return f"{a.get('markerName')}, {a.get('details', {})!r}"
    if event_type is E.START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        return f"{a.get('workflowType')}, {a.get('input', [])!r}"
    if event_type is E.WORKFLOW_EXECUTION_COMPLETED:
        return f"{a.get('result')!r}"
    if event_type is E.WORKFLOW_EXECUTION_FAILED:
        return f"{(a.get('failure') or {}).get('message')!r}"
    return f"{a.get('input', [])!r}"


def _same(event: HistoryEvent, command: Command) -> bool:
    """Does the recorded event record this command? Names, arguments and results count."""
    if event.event_type is not command.event_type:
        return False
    a, c = event.attributes, command.attributes
    t = event.event_type
    if t is E.ACTIVITY_TASK_SCHEDULED:
        return bool(a.get("activityType") == c["activityType"]
                    and a.get("input", []) == c["input"])
    if t is E.TIMER_STARTED:
        return abs(float(a.get("startToFireTimeout", 0.0)) - c["startToFireTimeout"]) < 1e-6
    if t is E.MARKER_RECORDED:
        return bool(a.get("markerName") == c["markerName"]
                    and a.get("details", {}) == c["details"])
    if t is E.START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        return bool(a.get("workflowType") == c["workflowType"]
                    and a.get("input", []) == c["input"])
    if t is E.WORKFLOW_EXECUTION_COMPLETED:
        return bool(a.get("result") == c["result"])
    if t is E.WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        return bool(a.get("input", []) == c["input"])
    return True


class _Task:
    """One coroutine of a workflow (the main one, or one started by ``ctx.gather``)."""

    __slots__ = ("coro", "future")

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.coro = coro
        self.future = Future()


class WorkflowInstance:
    """One run of a workflow, in a worker's memory (and gone when the worker crashes).

    Args:
        definition: the workflow to run.
        workflow_id: its id.
        run_id: this run's id (seeds ``ctx.random()``, as Temporal's run id does).
        args: the workflow's input.
        task_queue: queue commands are scheduled on.
    """

    def __init__(self, definition: WorkflowDefinition, *, workflow_id: str, run_id: str,
                 args: Sequence[Any], task_queue: str = "durasim") -> None:
        from durasim.engine.context import WorkflowContext

        self.definition = definition
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.task_queue = task_queue
        self.random = random.Random(f"{workflow_id}/{run_id}")
        self.ctx = WorkflowContext(self)
        self.replaying = False
        self.now = 0.0
        self.finished = False
        self.last_event_id = 0
        self.logs: list[str] = []
        self.activity_seq = 0
        self.timer_seq = 0
        self.child_seq = 0
        self.signals: dict[str, deque[list[Any]]] = {}
        self.signal_waiters: dict[str, deque[Future]] = {}
        self.patches: dict[str, bool] = {}
        self.activity_definitions: dict[str, Any] = {}
        self.workflow_definitions: dict[str, WorkflowDefinition] = {}
        """The activities (and child workflows) this code called, by name: the worker runs
        exactly these (two modules may define activities with the same name)."""
        self._ready: deque[_Task] = deque()
        self._unmatched: deque[Command] = deque()
        self._new: list[Command] = []
        self._lookahead: list[HistoryEvent] = []
        self._by_event: dict[int, Command] = {}
        self._timers: dict[str, Command] = {}
        self._main: _Task | None = None
        self._args = list(args)

    # -- what the context calls ---------------------------------------------------------
    def issue(self, kind: str, attributes: dict[str, Any], future: Future | None = None
              ) -> Command:
        """Record a command issued by workflow code in this activation."""
        command = Command(kind, attributes, future)
        command.replayed = self.replaying
        self._unmatched.append(command)
        self._new.append(command)
        return command

    def start_task(self, coro: Coroutine[Any, Any, Any]) -> _Task:
        """Run another coroutine of this workflow (used by ``ctx.gather``)."""
        task = _Task(coro)
        self._ready.append(task)
        return task

    def peek_recorded_marker(self, name: str, details: dict[str, Any]) -> bool:
        """While replaying: is the next recorded command of this task this marker?"""
        index = sum(1 for c in self._new if c.replayed)
        if index < len(self._lookahead):
            event = self._lookahead[index]
            return bool(event.event_type is E.MARKER_RECORDED
                        and event.attributes.get("markerName") == name
                        and event.attributes.get("details", {}) == details)
        return False

    # -- feeding history -----------------------------------------------------------------
    def feed(self, events: Sequence[HistoryEvent]) -> list[Command]:
        """Apply history events in order; returns the commands of the last workflow task.

        Events up to a workflow task that the history shows as completed are *replayed*:
        the code runs and its commands must match the command events that follow. A
        final WorkflowTaskStarted is the task being worked on now: the commands it
        produces are new and returned.
        """
        new: list[Command] = []
        count = len(events)
        for i, event in enumerate(events):
            self.last_event_id = event.event_id
            t = event.event_type
            if t is E.WORKFLOW_TASK_STARTED:
                following = events[i + 1].event_type if i + 1 < count else None
                if following is E.WORKFLOW_TASK_COMPLETED:
                    self._lookahead = _command_events_after(events, i + 2)
                    self._activate(event, replaying=True)
                elif following is None:
                    self._lookahead = []
                    new = self._activate(event, replaying=False)
                # a task that failed or timed out produced nothing: its inputs carry over
            elif t in COMMAND_EVENTS:
                self._match(event)
            elif t is not E.WORKFLOW_TASK_COMPLETED:
                self._check_all_matched(event)
                self._resolve(event)
        return new

    def _activate(self, event: HistoryEvent, *, replaying: bool) -> list[Command]:
        self._check_all_matched(event)
        self.replaying = replaying
        self.now = event.time
        self._new = []
        if self._main is None:
            try:
                coro = self.definition.fn(self.ctx, *self._args)
            except TypeError as error:  # the recorded input does not fit the code
                raise NondeterminismError(
                    f"[TMPRL1100] workflow {self.workflow_id!r}: history event 1 starts "
                    f"{self.definition.name} with {self._args!r}, which does not fit its "
                    f"parameters: {error}", workflow_id=self.workflow_id, event_id=1,
                    recorded=repr(self._args), issued=self.definition.name) from None
            self._main = self.start_task(coro)
        self._run_ready()
        return [c for c in self._new if not c.replayed]

    def _run_ready(self) -> None:
        ready = self._ready
        while ready:
            task = ready.popleft()
            try:
                waiting_on = task.coro.send(None)
            except StopIteration as stop:
                self._settle(task, value=stop.value)
                continue
            except ContinueAsNewError as exc:
                self._finish("ContinueAsNewWorkflowExecution", {
                    "workflowType": self.definition.name, "taskQueue": self.task_queue,
                    "input": list(exc.args_for_next_run)})
                continue
            except Exception as exc:  # the workflow failed: that is a result, not a crash
                self._settle(task, error=exc)
                continue
            if waiting_on.done:
                ready.append(task)
            else:
                waiting_on.waiters.append(task)

    def _settle(self, task: _Task, *, value: Any = None, error: BaseException | None = None
                ) -> None:
        if task is self._main:
            if error is None:
                self._finish("CompleteWorkflowExecution", {"result": value})
            else:
                self._finish("FailWorkflowExecution", {"failure": _failure_of(error)})
            return
        _resolve_future(task.future, self._ready, value, error)

    def _finish(self, kind: str, attributes: dict[str, Any]) -> None:
        if self.finished:
            return
        self.finished = True
        self.issue(kind, attributes)
        for pending in list(self._ready):
            pending.coro.close()
        self._ready.clear()

    def _match(self, event: HistoryEvent) -> None:
        if not self._unmatched:
            raise self._mismatch(event, "nothing")
        command = self._unmatched[0]
        if not _same(event, command):
            raise self._mismatch(event, command.describe())
        self._unmatched.popleft()
        command.event_id = event.event_id
        self._by_event[event.event_id] = command
        if command.kind == "StartTimer":
            self._timers[command.attributes["timerId"]] = command

    def _check_all_matched(self, event: HistoryEvent) -> None:
        """Commands replayed code issued that the history never recorded: non-determinism."""
        for command in self._unmatched:
            if command.replayed:
                raise self._mismatch(event, command.describe())

    def _mismatch(self, event: HistoryEvent, issued: str) -> NondeterminismError:
        recorded = describe_event(event)
        message = (f"[TMPRL1100] workflow {self.workflow_id!r}: history event {event.event_id} "
                   f"is {recorded} but the code issued {issued}")
        if event.event_type not in COMMAND_EVENTS:
            recorded = f"{recorded} (no further command)"
            message = (f"[TMPRL1100] workflow {self.workflow_id!r}: history event "
                       f"{event.event_id} is {event.event_type.value}, with no more commands "
                       f"recorded before it, but the code issued {issued}")
        return NondeterminismError(message, workflow_id=self.workflow_id,
                                   event_id=event.event_id, recorded=recorded, issued=issued)

    def _resolve(self, event: HistoryEvent) -> None:
        t, a = event.event_type, event.attributes
        if t is E.ACTIVITY_TASK_COMPLETED:
            self._resolve_command(a["scheduledEventId"], value=a.get("result"))
        elif t in (E.ACTIVITY_TASK_FAILED, E.ACTIVITY_TASK_TIMED_OUT):
            command = self._by_event.get(a["scheduledEventId"])
            failure = a.get("failure") or {}
            cause = _application_error(failure)
            activity = command.attributes["activityType"] if command else "?"
            error = ActivityError(
                f"activity {activity} failed: {cause.message}", activity=activity,
                activity_id=command.attributes["activityId"] if command else "?",
                cause=cause, retry_state=str(a.get("retryState", "")))
            self._resolve_command(a["scheduledEventId"], error=error)
        elif t is E.TIMER_FIRED:
            timer = self._timers.get(str(a["timerId"]))
            if timer is not None and timer.future is not None:
                _resolve_future(timer.future, self._ready, None, None)
        elif t is E.WORKFLOW_EXECUTION_SIGNALED:
            self._signal(a.get("signalName", ""), list(a.get("input", [])))
        elif t is E.CHILD_WORKFLOW_EXECUTION_COMPLETED:
            self._resolve_command(a["initiatedEventId"], value=a.get("result"))
        elif t in (E.CHILD_WORKFLOW_EXECUTION_FAILED, E.START_CHILD_WORKFLOW_EXECUTION_FAILED):
            command = self._by_event.get(a["initiatedEventId"])
            child_id = command.attributes["workflowId"] if command else "?"
            cause = _application_error(a.get("failure") or {"message": "could not start"})
            self._resolve_command(a["initiatedEventId"], error=ChildWorkflowError(
                f"child workflow {child_id} failed: {cause.message}", workflow_id=child_id,
                cause=cause))

    def _resolve_command(self, event_id: int, *, value: Any = None,
                         error: BaseException | None = None) -> None:
        command = self._by_event.get(event_id)
        if command is not None and command.future is not None:
            _resolve_future(command.future, self._ready, value, error)

    def _signal(self, name: str, args: list[Any]) -> None:
        waiters = self.signal_waiters.get(name)
        if waiters:
            _resolve_future(waiters.popleft(), self._ready, args, None)
        else:
            self.signals.setdefault(name, deque()).append(args)

    # -- helpers for the context ---------------------------------------------------------
    def uuid(self) -> str:
        """A uuid4-shaped id from the run's deterministic RNG."""
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))


def _resolve_future(future: Future, ready: deque[_Task], value: Any,
                    error: BaseException | None) -> None:
    if future.done:
        return
    future.done = True
    future.value = value
    future.error = error
    ready.extend(future.waiters)
    future.waiters = []


def _command_events_after(events: Sequence[HistoryEvent], start: int) -> list[HistoryEvent]:
    found = []
    for index in range(start, len(events)):  # no slice: a slice copies the rest (O(n^2))
        event = events[index]
        if event.event_type not in COMMAND_EVENTS:
            break
        found.append(event)
    return found


def _application_error(failure: dict[str, Any]) -> ApplicationError:
    return ApplicationError(str(failure.get("message", "")), failure.get("type"),
                            bool(failure.get("nonRetryable", False)))


def _failure_of(error: BaseException) -> dict[str, Any]:
    if isinstance(error, ApplicationError):
        return make_failure(error.message, error.type, non_retryable=error.non_retryable)
    if isinstance(error, ActivityError | ChildWorkflowError):
        what = "Activity task failed" if isinstance(error, ActivityError) else (
            "Child Workflow execution failed")  # Temporal's own wording
        return make_failure(what, cause=make_failure(error.cause.message, error.cause.type,
                                                     non_retryable=error.cause.non_retryable))
    return make_failure(str(error) or type(error).__name__, type(error).__name__)
