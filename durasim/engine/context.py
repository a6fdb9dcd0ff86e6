"""``ctx``: everything workflow code may do, each call deterministic or recorded.

Workflow code must not read clocks, random generators, files or the network directly:
on replay it would see different values and take a different path. The context offers
the safe versions: time is the workflow task's time, randomness is seeded by the run,
and everything that touches the outside world is a command in the history.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any

from durasim.engine import commands as C
from durasim.engine.definitions import activity_definition, workflow_definition
from durasim.engine.failures import ContinueAsNewError
from durasim.engine.retry import DEFAULT_RETRY, RetryPolicy
from durasim.engine.runtime import PATCH_MARKER
from durasim.engine.tasks import Future
from durasim.validation import check_seconds

if TYPE_CHECKING:
    from durasim.engine.runtime import WorkflowInstance

DEFAULT_START_TO_CLOSE = 10.0
"""Seconds an activity attempt may run when the workflow gives no timeout at all."""


class WorkflowLogger:
    """``ctx.logger``: like ``logging``, but silent while replaying (no duplicate lines)."""

    def __init__(self, instance: WorkflowInstance) -> None:
        self._instance = instance
        self._log = logging.getLogger("durasim.workflow")

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

    def now(self) -> float:
        """Virtual time of the current workflow task: the same on every replay."""
        return self._instance.now

    def random(self) -> float:
        """A random float in [0, 1) that replays identically (seeded by the run id)."""
        return self._instance.random.random()

    def uuid(self) -> str:
        """A random uuid4 string that replays identically."""
        return self._instance.uuid()

    async def activity(
        self, fn: Any, *args: Any, retry: RetryPolicy | None = None,
        start_to_close: float | None = None, schedule_to_close: float | None = None,
    ) -> Any:
        """Run an activity (at least once) and return its result.

        Raises:
            ActivityError: when it failed for good (non-retryable, or out of attempts).
        """
        definition = activity_definition(fn)
        for name, value in (("start_to_close", start_to_close),
                            ("schedule_to_close", schedule_to_close)):
            if value is not None:
                check_seconds(name, value, positive=True)
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a durasim.RetryPolicy, got {retry!r}")
        instance = self._instance
        instance.activity_definitions[definition.name] = definition
        command = C.ScheduleActivity(
            activity_id=str(instance.next_id("activity")), activity_type=definition.name,
            input=args, task_queue=instance.task_queue,
            start_to_close=float(start_to_close or schedule_to_close
                                 or DEFAULT_START_TO_CLOSE),
            schedule_to_close=float(schedule_to_close or 0.0),
            retry_policy=(retry or DEFAULT_RETRY).to_temporal())
        future = Future()
        instance.issue(command, future)
        return await future

    async def sleep(self, seconds: float) -> None:
        """A durable timer: survives crashes of the worker and of the server."""
        seconds = check_seconds("ctx.sleep's seconds", seconds)
        if seconds == 0:
            return
        instance = self._instance
        future = Future()
        instance.issue(C.StartTimer(str(instance.next_id("timer")), seconds), future)
        await future

    async def wait_signal(self, name: str) -> list[Any]:
        """Wait for signal ``name`` (or take one that already arrived); returns its args."""
        instance = self._instance
        buffered = instance.signals.get(name)
        if buffered:
            return buffered.popleft()
        future = Future()
        instance.signal_waiters.setdefault(name, deque()).append(future)
        result: list[Any] = await future
        return result

    async def child(self, workflow: Any, *args: Any, id: str | None = None) -> Any:
        """Run a child workflow and return its result.

        Raises:
            ChildWorkflowError: when the child failed.
        """
        definition = workflow_definition(workflow)
        instance = self._instance
        number = instance.next_id("child")
        instance.workflow_definitions[definition.name] = definition
        child_id = id or f"{instance.workflow_id}-child-{number}"
        future = Future()
        instance.issue(C.StartChild(child_id, definition.name, args, instance.task_queue),
                       future)
        return await future

    def continue_as_new(self, *args: Any) -> None:
        """End this run and start a fresh one (empty history) with ``args``."""
        raise ContinueAsNewError(args)

    def patched(self, change_id: str) -> bool:
        """True when this run should take the new code path of change ``change_id``.

        New runs record a marker and take the new path; a run whose history was recorded
        before the change replays without the marker and takes the old path.
        """
        instance = self._instance
        if change_id in instance.patches:
            return instance.patches[change_id]
        details = {"patch-data": {"id": change_id, "deprecated": False}}  # the SDK's shape
        use_new = (not instance.replaying
                   or instance.peek_recorded_marker(PATCH_MARKER, details))
        if use_new:
            instance.issue(C.RecordMarker(PATCH_MARKER, details))
            # Temporal's Python SDK also records the change in a search attribute
            instance.issue(C.UpsertSearchAttributes({"TemporalChangeVersion": [change_id]}))
        instance.patches[change_id] = use_new
        return use_new

    async def gather(self, *awaitables: Awaitable[Any]) -> list[Any]:
        """Run coroutines (activities, timers, children) concurrently; results in order."""
        instance = self._instance
        futures: list[Future] = []
        for item in awaitables:
            if isinstance(item, Future):
                futures.append(item)
            elif isinstance(item, Coroutine):
                futures.append(instance.start_task(item).future)
            else:
                raise TypeError(f"ctx.gather takes coroutines such as ctx.activity(...), "
                                f"got {item!r}")
        return [await future for future in futures]
