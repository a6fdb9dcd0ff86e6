"""``ctx``: everything workflow code may do, each call deterministic or recorded.

Workflow code must not read clocks, random generators, files or the network directly:
on replay it would see different values and take a different path. The context offers
the safe versions: time is the workflow task's time, randomness is seeded by the run,
and everything that touches the outside world is a command in the history.

The ``start_*`` calls issue their command at once and return a handle to await later
(what ``ctx.gather`` and Temporal SDK code running on durasim need); the plain calls
(``ctx.activity``, ``ctx.sleep``, ``ctx.child``) start and await in one go.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any

from durasim.engine import commands as C
from durasim.engine.definitions import activity_definition, workflow_definition
from durasim.engine.failures import ContinueAsNewError
from durasim.engine.parent_close import recorded_policy
from durasim.engine.retry import DEFAULT_RETRY, RetryPolicy
from durasim.engine.tasks import Future, first_of
from durasim.validation import check_seconds

if TYPE_CHECKING:
    from durasim.engine.runtime import WorkflowInstance

_LOG = logging.getLogger("durasim.workflow")

DEFAULT_START_TO_CLOSE = 10.0
"""Seconds an activity attempt may run when the workflow gives no timeout at all."""


class WorkflowLogger:
    """``ctx.logger``: like ``logging``, but silent while replaying (no duplicate lines)."""

    def __init__(self, instance: WorkflowInstance) -> None:
        self._instance = instance
        self._log = _LOG

    def _emit(self, level: int, message: str, *args: Any) -> None:
        if self._instance.replaying:
            return
        text = message % args if args else message
        self._instance.logs.append(text)
        self._log.log(level, "[%s] %s", self._instance.workflow_id, text)

    def debug(self, message: str, *args: Any) -> None:
        """Log at DEBUG level (not while replaying)."""
        self._emit(logging.DEBUG, message, *args)

    def info(self, message: str, *args: Any) -> None:
        """Log at INFO level (not while replaying)."""
        self._emit(logging.INFO, message, *args)

    def warning(self, message: str, *args: Any) -> None:
        """Log at WARNING level (not while replaying)."""
        self._emit(logging.WARNING, message, *args)

    def error(self, message: str, *args: Any) -> None:
        """Log at ERROR level (not while replaying)."""
        self._emit(logging.ERROR, message, *args)


class ChildFuture(Future):
    """A child workflow's outcome, which the history tells in two steps.

    ``started`` resolves at ChildWorkflowExecutionStarted (the runtime resolves this
    future a first time then), the future itself when the child ends. A child that could
    not start resolves both with the error.
    """

    __slots__ = ("started",)

    def __init__(self) -> None:
        super().__init__()
        self.started = Future()

    def resolve(self, value: Any = None, error: BaseException | None = None) -> None:
        if error is None and not self.started.done:
            self.started.resolve()  # step one: the child's run exists
            return
        self.started.resolve(error=error)
        super().resolve(value, error)


class Timer:
    """A durable timer from ``ctx.start_timer``: ``await`` it, or ``cancel()`` it.

    Cancelling writes TimerCanceled (nothing at all if the timer's own command was not
    sent yet); whoever awaits a cancelled timer gets :class:`CancelledError`.
    """

    def __init__(self, future: Future) -> None:
        self.future = future

    def __await__(self) -> Generator[Future, None, Any]:
        return self.future.__await__()

    @property
    def fired(self) -> bool:
        """True once the timer fired (False while pending or after a cancel)."""
        return self.future.done and self.future.error is None

    def cancel(self) -> None:
        """Stop the timer before it fires."""
        if self.future.on_cancel is not None and not self.future.done:
            self.future.on_cancel()


class WorkflowContext:
    """The API of workflow code: ``async def Transfer(ctx, amount): ...``."""

    def __init__(self, instance: WorkflowInstance) -> None:
        self._instance = instance
        self.logger = WorkflowLogger(instance)

    @property
    def workflow_id(self) -> str:
        """This workflow's id."""
        return self._instance.workflow_id

    @property
    def run_id(self) -> str:
        """This run's id (a new one after continue-as-new)."""
        return self._instance.run_id

    @property
    def is_replaying(self) -> bool:
        """True while the code re-runs past events after a crash (side effects: skip them)."""
        return self._instance.replaying

    @property
    def is_cancel_requested(self) -> bool:
        """True once the client asked to cancel this workflow."""
        return self._instance.cancel_requested

    def now(self) -> float:
        """Virtual time of the current workflow task: the same on every replay."""
        return self._instance.now

    def random(self) -> float:
        """A random float in [0, 1) that replays identically (seeded by the run id)."""
        self._instance.check_writable("ctx.random()")
        return self._instance.random.random()

    def uuid(self) -> str:
        """A random uuid4 string that replays identically."""
        self._instance.check_writable("ctx.uuid()")
        return self._instance.uuid()

    # -- activities -----------------------------------------------------------------------
    def start_activity(
        self, fn: Any, *args: Any, retry: RetryPolicy | None = None,
        start_to_close: float | None = None, schedule_to_close: float | None = None,
        heartbeat_timeout: float | None = None,
    ) -> Future:
        """Schedule an activity now; await the returned future for its result."""
        instance = self._instance
        instance.check_writable("ctx.activity()")
        definition = activity_definition(fn)
        if start_to_close is not None or schedule_to_close is not None or (
                heartbeat_timeout is not None):  # (most calls give none: skip the loop)
            for name, value in (("start_to_close", start_to_close),
                                ("schedule_to_close", schedule_to_close),
                                ("heartbeat_timeout", heartbeat_timeout)):
                if value is not None:
                    check_seconds(name, value, positive=True)
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a durasim.RetryPolicy, got {retry!r}")
        instance.activity_definitions[definition.name] = definition
        command = C.ScheduleActivity(
            activity_id=str(instance.next_id("activity")), activity_type=definition.name,
            input=args, task_queue=instance.task_queue,
            start_to_close=float(start_to_close or schedule_to_close
                                 or DEFAULT_START_TO_CLOSE),
            schedule_to_close=float(schedule_to_close or 0.0),
            retry_policy=(retry or DEFAULT_RETRY).to_temporal(),
            heartbeat_timeout=float(heartbeat_timeout or 0.0))
        return instance.start_command(command)

    async def activity(
        self, fn: Any, *args: Any, retry: RetryPolicy | None = None,
        start_to_close: float | None = None, schedule_to_close: float | None = None,
        heartbeat_timeout: float | None = None,
    ) -> Any:
        """Run an activity (at least once) and return its result.

        Raises:
            ActivityError: when it failed for good (non-retryable, out of attempts or
                timed out).
        """
        return await self.start_activity(
            fn, *args, retry=retry, start_to_close=start_to_close,
            schedule_to_close=schedule_to_close, heartbeat_timeout=heartbeat_timeout)

    async def local_activity(self, fn: Any, *args: Any, retry: RetryPolicy | None = None,
                             start_to_close: float | None = None) -> Any:
        """Run a short activity inside the workflow task, recorded as a marker.

        No activity events are written: the worker runs it before completing the task
        and records its result in ``MarkerRecorded`` (Temporal's local-activity marker),
        which replay reads back. Still at least once: a crash before the task completes
        runs it again.
        """
        instance = self._instance
        instance.check_writable("ctx.local_activity()")
        definition = activity_definition(fn)
        if start_to_close is not None:
            check_seconds("start_to_close", start_to_close, positive=True)
        instance.activity_definitions[definition.name] = definition
        return await instance.local_activities.start(
            definition, args, retry or DEFAULT_RETRY,
            float(start_to_close or DEFAULT_START_TO_CLOSE))

    # -- timers ---------------------------------------------------------------------------
    def start_timer(self, seconds: float) -> Timer:
        """Start a durable timer now; await the returned Timer, or cancel it."""
        self._instance.check_writable("ctx.start_timer()")
        seconds = check_seconds("the timer's seconds", seconds, positive=True)
        instance = self._instance
        return Timer(instance.start_command(C.StartTimer(str(instance.next_id("timer")),
                                                         seconds)))

    async def sleep(self, seconds: float) -> None:
        """A durable timer: survives crashes of the worker and of the server."""
        seconds = check_seconds("ctx.sleep's seconds", seconds)
        if seconds == 0:
            return
        await self.start_timer(seconds)

    async def wait_condition(self, predicate: Callable[[], bool], *,
                             timeout: float | None = None) -> bool:
        """Wait until ``predicate()`` is true (checked after every change); True.

        With ``timeout``, a durable timer races the condition: False when the timer fires
        first, True (and the timer is cancelled: TimerCanceled) when the condition wins.
        """
        instance = self._instance
        instance.check_writable("ctx.wait_condition()")
        if timeout is not None:
            timeout = check_seconds("wait_condition's timeout", timeout, positive=True)
        if predicate():
            return True
        condition = instance.tasks.add_condition(predicate)
        if timeout is None:
            await condition
            return True
        timer = self.start_timer(timeout)
        await first_of(condition, timer.future)
        if condition.done:
            timer.cancel()
            return True
        instance.tasks.drop_condition(condition)
        return False

    # -- messages from outside ------------------------------------------------------------
    async def wait_signal(self, name: str) -> list[Any]:
        """Wait for signal ``name`` (or take one that already arrived); returns its args."""
        self._instance.check_writable("ctx.wait_signal()")
        result: list[Any] = await self._instance.handlers.next_signal(name)
        return result

    def signal(self, fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
        """Register a signal handler (usable as ``@ctx.signal``): called with the signal's
        arguments each time one arrives, in history order."""
        return self._instance.handlers.register("signal", fn, name)

    def query(self, fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
        """Register a query handler (``@ctx.query``): a plain function that reads the
        workflow's state; answering it writes nothing to the history."""
        return self._instance.handlers.register("query", fn, name)

    def update(self, fn: Callable[..., Any] | None = None, *, name: str | None = None,
               validator: Callable[..., Any] | None = None) -> Any:
        """Register an update handler (``@ctx.update``), optionally with a ``validator``
        that may refuse the update (by raising) before anything is written."""
        return self._instance.handlers.register("update", fn, name, validator=validator)

    # -- children, continue-as-new, versions ----------------------------------------------
    def start_child(self, workflow: Any, *args: Any, id: str | None = None,
                    parent_close_policy: str = "terminate") -> ChildFuture:
        """Start a child workflow now; await the returned future for its result, or its
        ``started`` for the moment the child runs (what Temporal's
        ``start_child_workflow`` waits for).

        ``parent_close_policy`` says what happens to the child if this run closes while
        the child still runs: ``"terminate"`` it (Temporal's default),
        ``"request_cancel"`` it, or ``"abandon"`` it to run on alone.
        """
        instance = self._instance
        instance.check_writable("ctx.child()")
        policy = recorded_policy(parent_close_policy)
        definition = workflow_definition(workflow)
        number = instance.next_id("child")
        instance.workflow_definitions[definition.name] = definition
        child_id = id or f"{instance.workflow_id}-child-{number}"
        future = ChildFuture()
        instance.issue(C.StartChild(child_id, definition.name, args, instance.task_queue,
                                    policy), future)
        return future

    async def child(self, workflow: Any, *args: Any, id: str | None = None,
                    parent_close_policy: str = "terminate") -> Any:
        """Run a child workflow and return its result (``parent_close_policy``: as
        :meth:`start_child`).

        Raises:
            ChildWorkflowError: when the child failed.
        """
        return await self.start_child(workflow, *args, id=id,
                                      parent_close_policy=parent_close_policy)

    def continue_as_new(self, *args: Any) -> None:
        """End this run and start a fresh one (empty history) with ``args``."""
        self._instance.check_writable("ctx.continue_as_new()")
        raise ContinueAsNewError(args)

    def patched(self, change_id: str) -> bool:
        """True when this run should take the new code path of change ``change_id``.

        New runs record a marker and take the new path; a run whose history was recorded
        before the change replays without the marker and takes the old path.
        """
        self._instance.check_writable("ctx.patched()")
        return self._instance.patch(change_id, deprecated=False)

    def deprecate_patch(self, change_id: str) -> None:
        """The step after ``patched``: only the new path is left in the code.

        New runs still record the marker (deprecated), so histories recorded with
        ``patched`` — with or without the marker — keep replaying.
        """
        self._instance.check_writable("ctx.deprecate_patch()")
        self._instance.patch(change_id, deprecated=True)

    # -- concurrency ----------------------------------------------------------------------
    async def gather(self, *awaitables: Awaitable[Any]) -> list[Any]:
        """Run coroutines (activities, timers, children) concurrently; results in order."""
        instance = self._instance
        futures: list[Future] = []
        for item in awaitables:
            if isinstance(item, Future):
                futures.append(item)
            elif isinstance(item, Timer):
                futures.append(item.future)
            elif isinstance(item, Coroutine):
                futures.append(instance.start_task(item).future)
            else:
                raise TypeError(f"ctx.gather takes coroutines such as ctx.activity(...), "
                                f"got {item!r}")
        return [await _in_gather(future, futures) for future in futures]

    def set_frames_source(self, source: Callable[[], list[Any]]) -> None:
        """Where the replay stepper finds the user's waiting code (for code that runs on
        its own scheduler inside the workflow, such as Temporal SDK classes)."""
        self._instance.frames_source = source


def _in_gather(future: Future, branches: list[Future]) -> Future:
    """``future`` as ``ctx.gather`` awaits it: cancelling that wait (the workflow, or the
    task running the gather, was cancelled) cancels every branch still pending, as
    cancelling an ``asyncio.gather`` does; a branch's own error is only raised."""
    if future.done:
        return future
    waiting = Future()
    future.on_done(lambda done: waiting.resolve(done.value, done.error))

    def cancel_every_branch() -> None:
        for branch in branches:
            if not branch.done and branch.on_cancel is not None:
                branch.on_cancel()

    waiting.on_cancel = cancel_every_branch
    return waiting
