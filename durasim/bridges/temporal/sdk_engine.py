"""The durasim engine operations Temporal SDK code turns into, in one place.

Everything the SDK runtime (:mod:`~durasim.bridges.temporal.sdk_runtime`) does to the
engine goes through :class:`EnginePort`: each method is one ``ctx`` call of durasim's
own workflow API. SDK code issues commands the moment it calls (``workflow.start_activity``
returns a handle at once), so every starter here issues its command synchronously and
returns a durasim :class:`~durasim.engine.tasks.Future` that the history resolves.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, NoReturn

from durasim.bridges.temporal.sdk_errors import unsupported
from durasim.engine.context import ChildFuture, WorkflowContext
from durasim.engine.retry import RetryPolicy
from durasim.engine.tasks import Future

__all__ = ["EnginePort"]


def _started(coro: Coroutine[Any, Any, Any]) -> Future:
    """Run a ``ctx`` coroutine up to its first wait (so what it asks for is asked now);
    the returned future settles with the coroutine's outcome."""
    outcome = Future()

    def step(_: Future | None = None) -> None:
        try:
            awaited = coro.send(None)
        except StopIteration as stop:
            outcome.resolve(stop.value)
        except BaseException as error:
            outcome.resolve(error=error)
        else:
            awaited.on_done(step)

    step()
    return outcome


class EnginePort:
    """The ``ctx`` operations behind the SDK's workflow calls."""

    def __init__(self, ctx: WorkflowContext) -> None:
        self.ctx = ctx

    # -- identity and determinism -----------------------------------------------------------
    @property
    def workflow_id(self) -> str:
        return self.ctx.workflow_id

    @property
    def run_id(self) -> str:
        return self.ctx.run_id

    @property
    def task_queue(self) -> str:
        return str(self._instance.task_queue)

    @property
    def history_length(self) -> int:
        """Events in the history up to the current workflow task."""
        return int(self._instance.last_event_id)

    @property
    def _instance(self) -> Any:
        # WorkflowContext has no public task_queue or history length yet (asked of the lead)
        return self.ctx._instance

    @property
    def is_replaying(self) -> bool:
        return self.ctx.is_replaying

    @property
    def is_cancel_requested(self) -> bool:
        return self.ctx.is_cancel_requested

    def now(self) -> float:
        return self.ctx.now()

    def random_seed(self) -> int:
        """A seed for the SDK's ``workflow.random()``, drawn from the run's own RNG."""
        return int(self.ctx.random() * 2**63)

    def show_frames(self, source: Callable[[], list[Any]]) -> None:
        """Where the replay stepper finds the user's waiting coroutines."""
        self.ctx.set_frames_source(source)

    # -- commands ---------------------------------------------------------------------------
    def start_activity(self, activity: Any, args: list[Any], *, retry: RetryPolicy | None,
                       start_to_close: float | None, schedule_to_close: float | None,
                       heartbeat_timeout: float | None) -> Future:
        return self.ctx.start_activity(activity, *args, retry=retry,
                                       start_to_close=start_to_close,
                                       schedule_to_close=schedule_to_close,
                                       heartbeat_timeout=heartbeat_timeout)

    def start_local_activity(self, activity: Any, args: list[Any], *,
                             retry: RetryPolicy | None, start_to_close: float | None) -> Future:
        return _started(self.ctx.local_activity(activity, *args, retry=retry,
                                                start_to_close=start_to_close))

    def start_timer(self, seconds: float) -> tuple[Future, Callable[[], None]]:
        """A durable timer, and how to cancel it (TimerCanceled)."""
        timer = self.ctx.start_timer(seconds)
        return timer.future, timer.cancel

    def start_child(self, workflow: Any, args: list[Any], *, child_id: str,
                    parent_close_policy: str) -> ChildFuture:
        return self.ctx.start_child(workflow, *args, id=child_id,
                                    parent_close_policy=parent_close_policy)

    def cancel(self, future: Future, what: str) -> None:
        """Stop waiting for an activity (RequestCancelActivityTask in the history)."""
        if future.on_cancel is None:
            raise unsupported(f"cancelling {what}",
                              "durasim cancels activities and timers, not child workflows")
        if not future.done:
            future.on_cancel()

    def patch(self, change_id: str, *, deprecated: bool) -> bool:
        if deprecated:
            self.ctx.deprecate_patch(change_id)
            return True
        return self.ctx.patched(change_id)

    def continue_as_new(self, args: list[Any]) -> NoReturn:
        self.ctx.continue_as_new(*args)
        raise AssertionError("ctx.continue_as_new returned")  # it always raises

    # -- messages from outside --------------------------------------------------------------
    def watch_signal(self, name: str, deliver: Callable[[list[Any]], None]) -> None:
        """Call ``deliver(args)`` for each signal ``name``, in history order."""
        self.ctx.signal(lambda *args: deliver(list(args)), name=name)

    def handle_queries(self, name: str, answer: Callable[..., Any]) -> None:
        """``answer(*args)`` answers query ``name`` (read-only: the engine makes sure)."""
        self.ctx.query(answer, name=name)

    def handle_updates(self, name: str, run: Callable[..., Any],
                       validate: Callable[..., None]) -> None:
        """``validate(*args)`` may refuse update ``name``; ``run(*args)`` handles it."""
        self.ctx.update(run, name=name, validator=validate)
