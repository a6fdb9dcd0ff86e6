"""The workflow state machine: feed history to workflow code, match its commands.

This is where durable execution happens, and the loop in :meth:`WorkflowInstance.feed` is
meant to be read on its own. A worker that lost its memory rebuilds a workflow by feeding
its whole history: at every workflow task the code runs until it blocks, each command it
issues must match the next command event recorded (the determinism rule), and recorded
results are handed back instead of running activities again. Running for the first time
and replaying are the same loop; the only difference is whether the history already has
the events that answer the commands.
"""

from __future__ import annotations

import random
import uuid
from collections import deque
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from durasim.engine import commands as C
from durasim.engine.activation import (
    Activation,
    Match,
    SourceLine,
    calling_line,
    waiting_frames,
)
from durasim.engine.commands import COMMAND_EVENTS, Command, command_events_after, describe_event
from durasim.engine.deadlock import DeadlockError, watched
from durasim.engine.definitions import WorkflowDefinition
from durasim.engine.failures import (
    CancelledError,
    ContinueAsNewError,
    activity_error,
    child_workflow_error,
    fails_workflow,
    failure_of,
)
from durasim.engine.features import LocalActivities, UpdateRequest, Updates
from durasim.engine.handlers import Handlers, ReadOnlyError
from durasim.engine.history import EventType, HistoryEvent
from durasim.engine.tasks import Future, Task, Tasks
from durasim.errors import NondeterminismError

E = EventType
_RESOLVING = frozenset({  # the events _resolve acts on (the others just pass by)
    E.ACTIVITY_TASK_COMPLETED, E.ACTIVITY_TASK_FAILED, E.ACTIVITY_TASK_TIMED_OUT, E.TIMER_FIRED,
    E.WORKFLOW_EXECUTION_SIGNALED, E.WORKFLOW_EXECUTION_CANCEL_REQUESTED, E.ACTIVITY_TASK_CANCELED,
    E.CHILD_WORKFLOW_EXECUTION_STARTED, E.CHILD_WORKFLOW_EXECUTION_COMPLETED,
    E.CHILD_WORKFLOW_EXECUTION_FAILED, E.START_CHILD_WORKFLOW_EXECUTION_FAILED,
    E.CHILD_WORKFLOW_EXECUTION_CANCELED, E.CHILD_WORKFLOW_EXECUTION_TERMINATED,
    E.CHILD_WORKFLOW_EXECUTION_TIMED_OUT})
PATCH_MARKER = "core_patch"
"""The marker name Temporal's SDKs record for ``patched``."""
@dataclass(slots=True, eq=False)
class Issued:
    """A command the code issued, with what it awaits and, once matched, its event id."""

    command: Command
    future: Future | None
    replayed: bool
    line: SourceLine | None
    event_id: int = 0


class WorkflowInstance:
    """One run of a workflow, in a worker's memory (and gone when the worker crashes).

    Args:
        definition: the workflow to run.
        workflow_id: its id.
        run_id: this run's id (seeds ``ctx.random()``, as Temporal's run id does).
        args: the workflow's input.
        task_queue: queue commands are scheduled on.
        track_lines: remember which line of code issued each command and where the code
            waits (for the replay stepper; it costs a stack walk per command and reading
            the source of each activation's waiting frames).
    """

    def __init__(self, definition: WorkflowDefinition, *, workflow_id: str, run_id: str,
                 args: Sequence[Any], task_queue: str = "durasim",
                 track_lines: bool = False) -> None:
        from durasim.engine.context import WorkflowContext

        self.definition = definition
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.task_queue = task_queue
        self.track_lines = track_lines
        self._random: random.Random | None = None
        self.ctx = WorkflowContext(self)
        self.replaying = self.finished = False
        self.now = 0.0
        self.last_event_id = 0
        self.logs: list[str] = []
        self.counters: dict[str, int] = {}
        """Per-kind sequence numbers for command ids (activity 1, 2, ...; timer 1, ...)."""
        self.handlers = Handlers(self)
        self.cancel_requested = self._cancel_delivered = False
        self.patches: dict[str, bool] = {}
        self.local_activities = LocalActivities(self)
        self.updates = Updates(self)
        self.frames_source: Callable[[], list[Any]] | None = None
        self.activity_definitions: dict[str, Any] = {}
        self.workflow_definitions: dict[str, WorkflowDefinition] = {}
        """The activities (and child workflows) this code called, by name."""
        self.tasks = Tasks(self._task_ended)
        """The workflow's coroutines and the conditions they wait on."""
        self._main: Task | None = None
        self._args = list(args)
        self._unmatched: deque[Issued] = deque()
        self._new: list[Issued] = []
        self._lookahead: list[HistoryEvent] = []
        self._by_event: dict[int, Issued] = {}
        self._timers: dict[str, Issued] = {}
        self._matches: list[Match] = []
        self._task_failure: BaseException | None = None
        self._read_only: str | None = None
        self._watchdog = watched()  # reused: activations of one instance never nest

    @property
    def random(self) -> random.Random:
        """The run's RNG, seeded by its ids (made on first use: seeding from text hashes it)."""
        if self._random is None:
            self._random = random.Random(f"{self.workflow_id}/{self.run_id}")
        return self._random

    def release(self) -> None:
        """Untie a finished run the worker let go of (its context, handlers and cancellers
        point back here): reference counting frees it now, not the collector later."""
        for issued in (*self._by_event.values(), *self._unmatched, *self._new):
            if issued.future is not None:
                issued.future.on_cancel = None
        del self.ctx, self.handlers, self.local_activities, self.updates, self.tasks

    # -- what the context calls ---------------------------------------------------------
    def next_id(self, kind: str) -> int:
        """The next sequence number of a kind of command (``"activity"`` -> 1, 2, ...)."""
        self.counters[kind] = number = self.counters.get(kind, 0) + 1
        return number

    def issue(self, command: Command, future: Future | None = None) -> Issued:
        """Record a command issued by workflow code in this activation."""
        line = calling_line() if self.track_lines else None
        issued = Issued(command, future, self.replaying, line)
        self._unmatched.append(issued)
        self._new.append(issued)
        if isinstance(command, C.StartTimer):
            self._timers[command.timer_id] = issued
        return issued

    def start_command(self, command: Command) -> Future:
        """Issue ``command`` with a future for its outcome; cancelling the wait cancels it."""
        future = Future()
        issued = self.issue(command, future)
        if isinstance(command, C.StartTimer | C.ScheduleActivity):
            future.on_cancel = lambda: self._cancel(issued)
        return future

    def _cancel(self, issued: Issued) -> None:
        """Cancel a timer or an activity the code no longer waits for.

        A command still unsent (issued in this very activation) is simply withdrawn, as
        Temporal's SDKs do; otherwise CancelTimer or RequestCancelActivityTask follows.
        """
        future = issued.future
        if future is None or future.done:
            return
        command = issued.command
        if issued in self._new and issued.event_id == 0:
            self._new.remove(issued)
            self._unmatched.remove(issued)
        elif isinstance(command, C.StartTimer):
            self.issue(C.CancelTimer(command.timer_id))
        else:
            self.issue(C.RequestCancelActivity(issued.event_id))
        if isinstance(command, C.StartTimer):
            self._timers.pop(command.timer_id, None)
        future.resolve(error=CancelledError(f"{command.describe()} was cancelled"))

    def start_task(self, coro: Coroutine[Any, Any, Any]) -> Task:
        """Run another coroutine of this workflow (``ctx.gather``, handlers)."""
        task = self.tasks.start(coro)
        task.future.on_cancel = lambda: self.tasks.interrupt(
            task, CancelledError("the workflow was cancelled"))
        return task

    def check_writable(self, what: str) -> None:
        """Refuse a ctx call that changes the workflow while only reading is allowed."""
        if self._read_only is not None:
            raise ReadOnlyError(f"{self._read_only} called {what}, which would change the "
                                "workflow; queries and update validators may only read "
                                "its state")

    @contextmanager
    def read_only(self, who: str) -> Iterator[None]:
        """While a query handler or an update validator runs."""
        self._read_only = who
        try:
            yield
        finally:
            self._read_only = None

    def _deliver_cancel(self) -> None:
        """Raise CancelledError at the main coroutine's current await, once."""
        if (self.cancel_requested and not self._cancel_delivered and not self.finished
                and self._main is not None):
            self._cancel_delivered = True
            self.tasks.interrupt(self._main, CancelledError("the workflow was cancelled"))

    def patch(self, change_id: str, *, deprecated: bool) -> bool:
        """``ctx.patched``/``ctx.deprecate_patch``: take the new path? (Records a marker.)

        New runs record the marker and take the new path; a replay takes it only if the
        history recorded the marker here, as Temporal's SDKs decide.
        """
        if change_id in self.patches:
            return self.patches[change_id]
        use_new = not self.replaying or any(
            event.attributes.get("markerName") == PATCH_MARKER
            and ((event.attributes.get("details") or {}).get("patch-data") or {}).get("id")
            == change_id for event in self.recorded_ahead())
        if use_new:
            self.issue(C.PatchMarker(PATCH_MARKER, {"patch-data": {"id": change_id,
                                                                  "deprecated": deprecated}}))
            # Temporal's Python SDK also records the change in a search attribute
            self.issue(C.UpsertSearchAttributes({"TemporalChangeVersion": [change_id]}))
        self.patches[change_id] = use_new or deprecated
        return self.patches[change_id]

    def fail_task(self, error: BaseException) -> None:
        """Workflow code (or a handler) raised a bug: the workflow task fails."""
        self._task_failure = error

    def recorded_ahead(self) -> list[HistoryEvent]:
        """While replaying: all the commands this task recorded, to search by id."""
        return self._lookahead

    def resume(self) -> Activation:
        """Run the code on after the worker settled local activities (same task)."""
        self._run_code()
        return self._activation(events=(), new=[i for i in self._new if not i.replayed],
                                mismatch=None)

    # -- feeding history -----------------------------------------------------------------
    def feed(self, events: Sequence[HistoryEvent],
             updates: Sequence[UpdateRequest] = ()) -> Activation:
        """Apply history events in order; the Activation says what the code did.

        A workflow task the history shows as completed is *replayed*: the code runs and
        its commands must match the command events that follow. A final
        WorkflowTaskStarted is the task being worked on now: its commands are new, and it
        is handed the ``updates`` that came with the task.
        """
        self._matches = []
        new: list[Issued] = []
        mismatch: NondeterminismError | None = None
        count = len(events)
        applied = 0
        try:
            for i, event in enumerate(events):
                applied = i + 1
                self.last_event_id = event.event_id
                t = event.event_type
                if t is E.WORKFLOW_TASK_STARTED:
                    following = events[i + 1].event_type if i + 1 < count else None
                    if following is E.WORKFLOW_TASK_COMPLETED:
                        self._lookahead = command_events_after(events, i + 2)
                        self._activate(event, replaying=True)
                    elif following is None:
                        self._lookahead = []
                        new = self._activate(event, replaying=False, updates=updates)
                    # a task that failed or timed out produced nothing: its inputs carry over
                elif t in COMMAND_EVENTS:
                    self._match(event)
                elif t is E.WORKFLOW_EXECUTION_TERMINATED:  # ended from outside: whatever
                    self._unmatched.clear()  # the code was asking for, it gets no more
                    self.finished = True
                elif t is not E.WORKFLOW_TASK_COMPLETED:
                    self._check_all_matched(event)
                    if t in _RESOLVING:
                        self._resolve(event)
                if self._task_failure is not None:
                    break
        except NondeterminismError as error:
            mismatch = error
        return self._activation(tuple(events[:applied]), new, mismatch)

    def _activation(self, events: tuple[HistoryEvent, ...], new: list[Issued],
                    mismatch: NondeterminismError | None) -> Activation:
        return Activation(
            events=events, commands=tuple(i.command for i in new),
            matches=tuple(self._matches), mismatch=mismatch, task_failure=self._task_failure,
            replaying=self.replaying, finished=self.finished,
            frames=self.frames() if self.track_lines else (),
            local_activities=tuple(self.local_activities.pending),
            update_rejections=tuple(self.updates.rejections))

    def _activate(self, event: HistoryEvent, *, replaying: bool,
                  updates: Sequence[UpdateRequest] = ()) -> list[Issued]:
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
            self._main = self.tasks.start(coro)
        self._run_code()  # first the code moves (and registers its handlers) ...
        self._deliver_cancel()  # (a cancel that came before the code ever ran)
        if replaying:  # ... then updates of this task are delivered to them
            self.updates.replay(self._lookahead)
        else:
            self.updates.deliver(updates)
        self._run_code()
        while replaying and self.local_activities.settle_replayed():  # as the worker did
            self._run_code()
        return [issued for issued in self._new if not issued.replayed]

    def _run_code(self) -> None:
        """Run the code until it waits; code that never yields is stopped (TMPRL1101)."""
        if not self.tasks.has_work():  # nothing can move: no need to arm the watchdog
            return
        try:
            with self._watchdog:
                self.tasks.run()
        except DeadlockError as error:  # raised in engine code, just as the code yielded
            self.fail_task(error)

    def _task_ended(self, task: Task, value: Any, error: BaseException | None) -> None:
        """A coroutine returned or raised: settle its future, or end the workflow."""
        if task is not self._main:
            task.future.resolve(value, error)
            return
        if error is None:
            self._finish(C.CompleteWorkflow(value))
        elif isinstance(error, ContinueAsNewError):
            self._finish(C.ContinueAsNew(self.definition.name, self.task_queue,
                                         tuple(error.args_for_next_run)))
        elif isinstance(error, CancelledError):
            self._finish(C.CancelWorkflow())
        elif fails_workflow(error):
            self._finish(C.FailWorkflow(failure_of(error)))
        else:  # a bug in the code: fail the workflow task, keep the workflow open
            self.fail_task(error)

    def _finish(self, command: Command) -> None:
        if self.finished:
            return
        self.finished = True
        self.issue(command)
        self.tasks.stop()

    def _match(self, event: HistoryEvent) -> None:
        if not self._unmatched:
            raise self._mismatch(event, "nothing")
        issued = self._unmatched[0]
        if not issued.command.matches(event):
            raise self._mismatch(event, issued.command.describe())
        self._unmatched.popleft()
        issued.event_id = event.event_id
        self._by_event[event.event_id] = issued
        self._matches.append(Match(event.event_id, issued.command, issued.line))

    def _check_all_matched(self, event: HistoryEvent) -> None:
        """Commands replayed code issued that the history never recorded: non-determinism."""
        for issued in self._unmatched:
            if issued.replayed:
                raise self._mismatch(event, issued.command.describe())

    def unmatched_replayed(self) -> list[Command]:
        """Commands the replayed code issued beyond the end of the history fed so far."""
        return [issued.command for issued in self._unmatched if issued.replayed]

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

    # -- events that answer commands -----------------------------------------------------
    def _resolve(self, event: HistoryEvent) -> None:
        t, a = event.event_type, event.attributes
        if t is E.ACTIVITY_TASK_COMPLETED:
            self._resolve_command(a["scheduledEventId"], value=a.get("result"))
        elif t in (E.ACTIVITY_TASK_FAILED, E.ACTIVITY_TASK_TIMED_OUT):
            issued = self._by_event.get(a["scheduledEventId"])
            command = issued.command if issued is not None else None
            name, activity_id = ((command.activity_type, command.activity_id)
                                 if isinstance(command, C.ScheduleActivity) else ("?", "?"))
            self._resolve_command(a["scheduledEventId"],
                                  error=activity_error(a, name, activity_id))
        elif t is E.TIMER_FIRED:
            timer = self._timers.get(str(a["timerId"]))
            if timer is not None and timer.future is not None:
                timer.future.resolve()
        elif t is E.WORKFLOW_EXECUTION_SIGNALED:
            self.handlers.deliver_signal(a.get("signalName", ""), list(a.get("input", [])))
        elif t is E.WORKFLOW_EXECUTION_CANCEL_REQUESTED:
            self.cancel_requested = True
            if self._main is not None:
                self._deliver_cancel()
        elif t is E.ACTIVITY_TASK_CANCELED:
            self._resolve_command(a["scheduledEventId"], error=CancelledError(
                "the activity was cancelled"))
        elif t in (E.CHILD_WORKFLOW_EXECUTION_STARTED, E.CHILD_WORKFLOW_EXECUTION_COMPLETED):
            self._resolve_command(a["initiatedEventId"], value=a.get("result"))  # ChildFuture
        elif t in _RESOLVING:  # a child that failed, could not start, or ended otherwise
            issued = self._by_event.get(a["initiatedEventId"])
            command = issued.command if issued is not None else None
            child_id = command.workflow_id if isinstance(command, C.StartChild) else "?"
            self._resolve_command(a["initiatedEventId"],
                                  error=child_workflow_error(t, a, child_id))

    def _resolve_command(self, event_id: int, *, value: Any = None,
                         error: BaseException | None = None) -> None:
        issued = self._by_event.get(event_id)
        if issued is not None and issued.future is not None:
            issued.future.resolve(value, error)

    # -- looking inside ------------------------------------------------------------------
    def frames(self) -> tuple[Any, ...]:
        """The user-code functions the workflow is waiting in, outermost first."""
        main = self._main
        if main is None or self.finished:
            return ()
        coros = self.frames_source() if self.frames_source is not None else [main.coro]
        return tuple(frame for coro in coros for frame in waiting_frames(coro))

    def uuid(self) -> str:
        """A uuid4-shaped id from the run's deterministic RNG."""
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))
