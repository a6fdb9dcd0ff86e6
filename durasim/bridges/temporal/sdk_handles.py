"""The handles SDK code holds for an activity or a child workflow it started.

``workflow.start_activity`` returns an ``ActivityHandle``, an asyncio task that finishes
with the activity's result; ``start_child_workflow`` a ``ChildWorkflowHandle``. Here each
is an asyncio task on the workflow's :class:`~durasim.bridges.temporal.sdk_loop.VirtualLoop`
waiting for a durasim future that only the history resolves. As in Temporal's SDK,
cancelling the task does not simply stop waiting: it asks the engine to cancel the
activity (or child), and the code then sees the outcome the history records for that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import temporalio.exceptions
import temporalio.workflow

from durasim.bridges.temporal.sdk_convert import from_json, sdk_error
from durasim.bridges.temporal.sdk_errors import unsupported
from durasim.engine.failures import CancelledError
from durasim.engine.tasks import Future

__all__ = ["Operation", "activity_handle", "child_handle"]


class Operation:
    """An activity or a child in flight: the durasim future and how its outcome reads.

    Args:
        loop: the workflow's loop.
        future: the durasim future the history resolves.
        result_type: the type hint the result is decoded into.
        request_cancel: asks the engine to cancel what ``future`` waits for.
        cancelled: the error the code sees once the cancellation took effect (for an
            activity, an ActivityError caused by CancelledError, as in the SDK).
        what: ``activity compose_greeting`` (for errors).
        deliver: queues a callback to run at the workflow's next activation.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, future: Future,
                 result_type: type | None, request_cancel: Callable[[], None],
                 cancelled: Callable[[], BaseException], what: str,
                 deliver: Callable[[Callable[[], None]], None]) -> None:
        self.result: asyncio.Future[Any] = loop.create_future()
        self.what = what
        self._result_type = result_type
        self._request_cancel = request_cancel
        self._cancelled = cancelled
        self._cancel_requested = False
        future.on_done(lambda settled: deliver(lambda: self._settle(settled)))

    def _settle(self, settled: Future) -> None:
        if self.result.done():
            return
        if settled.error is None:
            try:
                value = from_json([settled.value], [self._result_type]
                                  if self._result_type is not None else None)[0]
            except Exception as error:  # the recorded result does not fit the type hint
                self.result.set_exception(error)
            else:
                self.result.set_result(value)
        else:
            self.result.set_exception(self._error(settled.error))

    def _error(self, error: BaseException) -> BaseException:
        if isinstance(error, CancelledError):
            return self._cancelled()
        return sdk_error(error)

    def cancel(self) -> None:
        """Ask once for the activity (child) to be cancelled."""
        if not self._cancel_requested and not self.result.done():
            self._cancel_requested = True
            self._request_cancel()

    async def wait(self) -> Any:
        """The task's body: the result, or the error the history settled it with."""
        while True:
            try:
                return await asyncio.shield(self.result)
            except asyncio.CancelledError:
                if self.result.done():
                    raise
                self.cancel()
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()


class _ActivityHandle(temporalio.workflow.ActivityHandle[Any]):
    _operation: Operation

    def cancel(self, msg: Any | None = None) -> bool:
        self._operation.cancel()
        return super().cancel(msg)


class _ChildHandle(temporalio.workflow.ChildWorkflowHandle[Any, Any]):
    _operation: Operation
    _child_id: str

    @property
    def id(self) -> str:
        return self._child_id

    @property
    def first_execution_run_id(self) -> str | None:
        return None

    async def signal(self, *args: Any, **kwargs: Any) -> None:
        raise unsupported("ChildWorkflowHandle.signal()",
                          "durasim does not send signals between workflows")

    def cancel(self, msg: Any | None = None) -> bool:
        self._operation.cancel()
        return super().cancel(msg)


def activity_handle(loop: asyncio.AbstractEventLoop, operation: Operation
                    ) -> temporalio.workflow.ActivityHandle[Any]:
    """An ActivityHandle (an asyncio task) that finishes as ``operation`` does."""
    handle = _ActivityHandle(operation.wait(), loop=loop, name=operation.what)
    handle._operation = operation
    handle._log_destroy_pending = False  # type: ignore[attr-defined]
    return handle


def child_handle(loop: asyncio.AbstractEventLoop, operation: Operation, child_id: str
                 ) -> temporalio.workflow.ChildWorkflowHandle[Any, Any]:
    """A ChildWorkflowHandle (an asyncio task) that finishes as ``operation`` does."""
    handle = _ChildHandle(operation.wait(), loop=loop, name=operation.what)
    handle._operation = operation
    handle._child_id = child_id
    handle._log_destroy_pending = False  # type: ignore[attr-defined]
    return handle
