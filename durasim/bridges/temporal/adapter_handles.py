"""The handles ``ctx.start_*`` returns when durasim workflow code runs on the Temporal SDK.

In the simulator ``ctx.start_child`` issues its command at the moment it is called and
returns a future. The SDK's ``workflow.start_child_workflow`` is a coroutine instead: its
command is issued only when the coroutine first runs. Left to an ``asyncio`` task, that
would be after whatever the workflow does next (``h = ctx.start_child(...); await
ctx.activity(...)`` would schedule the activity first), and the two histories would list
the commands in different orders. :func:`issue_now` runs the coroutine's first step at
the call, as the simulator does, and leaves the rest to a task.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

from durasim.engine.failures import (
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
    child_workflow_error,
)
from durasim.engine.history import EventType

__all__ = ["TemporalChildHandle", "TemporalTimer", "call_signal_handler", "cancel_as_durasim",
           "child_error", "issue_now", "plain_error"]

#: The SDK's cause of a ChildWorkflowError -> the event durasim's engine resolves it from.
_CHILD_ENDINGS = {
    "CancelledError": EventType.CHILD_WORKFLOW_EXECUTION_CANCELED,
    "TerminatedError": EventType.CHILD_WORKFLOW_EXECUTION_TERMINATED,
    "TimeoutError": EventType.CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
}


def plain_error(cause: BaseException | None) -> ApplicationError:
    """A failure the SDK raised -> durasim's ApplicationError, with the same three facts the
    simulator reads off a failure (message, type, non-retryable)."""
    if cause is None:
        return ApplicationError("unknown failure")
    message = getattr(cause, "message", None) or str(cause)
    kind = getattr(cause, "type", None)  # a TimeoutError's is its TimeoutType: no name
    return ApplicationError(str(message), kind if isinstance(kind, str) else None,
                            bool(getattr(cause, "non_retryable", False)))


def child_error(err: BaseException, child_id: str) -> ChildWorkflowError:
    """The SDK's error for a child that did not complete -> what durasim's engine raises.

    A child that was cancelled, terminated or timed out is told as the engine tells it (its
    ``cause`` a CancelledError, TerminatedError or TimeoutError); a failed one carries the
    innermost failure (what failed, not who passed it on), as the engine's does; one that
    could not start (its id already runs) says so.
    """
    cause: Any = getattr(err, "cause", None)
    ending = _CHILD_ENDINGS.get(type(cause).__name__)
    if ending is not None:
        return child_workflow_error(ending, {}, child_id)
    if type(err).__name__ == "WorkflowAlreadyStartedError":  # its id already runs
        return child_workflow_error(EventType.START_CHILD_WORKFLOW_EXECUTION_FAILED, {},
                                    child_id)
    while getattr(cause, "cause", None) is not None:
        cause = cause.cause
    failure = plain_error(cause)
    return ChildWorkflowError(f"child workflow {child_id} failed: {failure.message}",
                              workflow_id=child_id, cause=failure)


async def cancel_as_durasim(awaitable: Awaitable[Any]) -> Any:
    """Await ``awaitable``; asyncio's CancelledError (how the SDK delivers a workflow's
    cancellation, at whatever it awaits) becomes durasim's, which the engine raises at the
    await and which durasim workflow code catches to clean up."""
    try:
        return await awaitable
    except asyncio.CancelledError as err:
        raise CancelledError("the workflow was cancelled") from err


def call_signal_handler(handler: Callable[..., Any], args: list[Any]) -> None:
    """Run a ``ctx.signal`` handler; an ``async`` one as a task of the workflow's loop."""
    result = handler(*args)
    if inspect.iscoroutine(result):
        asyncio.get_running_loop().create_task(result)


class _Rest:
    """Await the rest of a coroutine whose first step already ran and yielded ``first``."""

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self._coro = coro
        self._first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        step = self._first
        while True:
            try:
                value, error = (yield step), None
            except BaseException as exc:  # a cancellation goes into the coroutine
                value, error = None, exc
            try:
                step = self._coro.throw(error) if error is not None else self._coro.send(value)
            except StopIteration as stop:
                return stop.value


async def _finish(rest: _Rest) -> Any:
    return await rest


def issue_now(coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
    """Run ``coro`` up to its first wait now (the SDK issues its command there) and the rest
    in a task of the workflow's event loop; the returned future has its outcome."""
    loop = asyncio.get_running_loop()
    try:
        first = coro.send(None)
    except StopIteration as stop:  # done without waiting
        done: asyncio.Future[Any] = loop.create_future()
        done.set_result(stop.value)
        return done
    return loop.create_task(_finish(_Rest(coro, first)))


class _Started:
    """``handle.started``: awaits the child's ChildWorkflowExecutionStarted, returns None."""

    def __init__(self, handle: TemporalChildHandle) -> None:
        self._handle = handle

    def __await__(self) -> Generator[Any, Any, None]:
        yield from self._handle._sdk_handle().__await__()
        return None


class TemporalChildHandle:
    """``ctx.start_child``'s handle on real Temporal: what the engine's ChildFuture is.

    ``await handle`` gives the child's result (or raises durasim's ChildWorkflowError);
    ``await handle.started`` returns once the child runs (ChildWorkflowExecutionStarted),
    as the SDK's ``start_child_workflow`` does. Cancelling a task that awaits either asks
    Temporal to cancel the child, as the SDK does.
    """

    def __init__(self, start: asyncio.Future[Any], child_id: str) -> None:
        self._start = start
        self.workflow_id = child_id
        self.started = _Started(self)

    async def _durasim(self, awaitable: Any) -> Any:
        """Await ``awaitable``, telling an SDK error (and a cancellation) as the engine
        would."""
        try:
            return await cancel_as_durasim(awaitable)
        except Exception as err:
            if type(err).__module__.startswith("temporalio"):
                raise child_error(err, self.workflow_id) from err
            raise

    async def _sdk_handle(self) -> Any:
        return await self._durasim(self._start)

    async def _result(self) -> Any:
        return await self._durasim(await self._sdk_handle())

    def __await__(self) -> Generator[Any, Any, Any]:
        return self._result().__await__()


class TemporalTimer:
    """``ctx.start_timer``'s Timer on real Temporal: ``await`` it, or ``cancel()`` it.

    The SDK's event loop turns ``call_later`` into a StartTimer command at once, and
    cancelling the handle into CancelTimer, exactly as ``workflow.sleep`` uses them.
    Awaiting a cancelled timer raises durasim's CancelledError, as in the engine; a task
    cancelled while it waits cancels the timer too.
    """

    def __init__(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._fired: asyncio.Future[None] = loop.create_future()
        self._handle = loop.call_later(seconds, self._fire)
        self._cancelled = False
        self._fired.add_done_callback(self._stop_if_abandoned)

    def _fire(self) -> None:
        if not self._fired.done():
            self._fired.set_result(None)

    def _stop_if_abandoned(self, future: asyncio.Future[None]) -> None:
        if future.cancelled():
            self._handle.cancel()

    @property
    def fired(self) -> bool:
        """True once the timer fired (False while pending or after a cancel)."""
        return self._fired.done() and not self._fired.cancelled()

    def cancel(self) -> None:
        """Stop the timer before it fires (CancelTimer)."""
        if not self._fired.done():
            self._cancelled = True
            self._fired.cancel()

    def __await__(self) -> Generator[Any, Any, None]:
        try:
            yield from self._fired.__await__()
        except asyncio.CancelledError as err:  # cancel() or the waiting task's cancellation
            raise CancelledError("the timer was cancelled" if self._cancelled else
                                 "the workflow was cancelled") from err
