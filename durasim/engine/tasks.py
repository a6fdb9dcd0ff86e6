"""The workflow's own little scheduler: futures resolved by history, coroutines run in turn.

Workflow code is ``async def``, but it must never touch asyncio's event loop, whose timing
is real and whose order is not recorded. Instead each coroutine of a workflow is a
:class:`Task` stepped by :class:`Tasks`, and everything it can await is a :class:`Future`
that only the history resolves (an activity's result, a timer's firing). Awaiting anything
else is a mistake with a clear message, not a hang.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Coroutine, Generator
from functools import partial
from typing import Any

from durasim.core import NodeCrashed
from durasim.errors import DurasimError


class Future:
    """Something workflow code awaits; resolved only by history events, never by clocks.

    ``on_cancel`` is what cancelling the wait means for the thing awaited (a timer issues
    CancelTimer, an activity RequestCancelActivityTask): called when a task waiting on
    this future is cancelled.
    """

    __slots__ = ("_callbacks", "done", "error", "on_cancel", "value")

    def __init__(self) -> None:
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None
        self.on_cancel: Callable[[], None] | None = None
        self._callbacks: list[Callable[[Future], None]] = []

    def __await__(self) -> Generator[Future, None, Any]:
        if not self.done:
            yield self
        if self.error is not None:
            raise self.error
        return self.value

    def resolve(self, value: Any = None, error: BaseException | None = None) -> None:
        """Give the future its outcome (once; later calls are ignored) and wake waiters."""
        if self.done:
            return
        self.done = True
        self.value = value
        self.error = error
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def on_done(self, callback: Callable[[Future], None]) -> None:
        """Call ``callback(self)`` when resolved (at once if it already is)."""
        if self.done:
            callback(self)
        else:
            self._callbacks.append(callback)


class ForeignAwaitError(DurasimError, TypeError):
    """Workflow code awaited something the engine does not record (asyncio, a plain future)."""


def first_of(*futures: Future) -> Future:
    """A future resolved (with that future) as soon as any of ``futures`` is."""
    first = Future()
    for future in futures:
        future.on_done(first.resolve)
    return first


class Task:
    """One coroutine of a workflow: the main one, or one started by ``ctx.gather``."""

    __slots__ = ("cancelled_wait", "coro", "future", "throw", "waiting_on")

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.coro = coro
        self.future = Future()
        self.waiting_on: Future | None = None
        self.throw: BaseException | None = None
        """An exception to raise at the task's current ``await`` (a cancellation)."""
        self.cancelled_wait: Future | None = None
        """The future the task stopped waiting for when it was interrupted."""


class Tasks:
    """Runs a workflow's tasks in a fixed order until none can move: one activation."""

    def __init__(self, on_exit: Callable[[Task, Any, BaseException | None], None]) -> None:
        self._ready: deque[Task] = deque()
        self._on_exit = on_exit
        self._conditions: list[tuple[Callable[[], bool], Future]] = []

    def add_condition(self, predicate: Callable[[], bool]) -> Future:
        """A future resolved once ``predicate()`` holds (checked whenever tasks stop)."""
        future = Future()
        self._conditions.append((predicate, future))
        return future

    def drop_condition(self, future: Future) -> None:
        """Stop checking a condition nobody waits for any more."""
        self._conditions = [c for c in self._conditions if c[1] is not future]

    def _check_conditions(self) -> bool:
        satisfied = False
        for predicate, future in list(self._conditions):
            try:
                holds = predicate()
            except Exception as error:  # raised in the waiting code, as the SDK does
                self.drop_condition(future)
                future.resolve(error=error)
                satisfied = True
                continue
            if holds:
                self.drop_condition(future)
                future.resolve()
                satisfied = True
        return satisfied

    def start(self, coro: Coroutine[Any, Any, Any]) -> Task:
        """Queue a new task; it first runs at the next :meth:`run`."""
        task = Task(coro)
        self._ready.append(task)
        return task

    def has_work(self) -> bool:
        """Could :meth:`run` move anything (a ready task, a condition to check)?"""
        return bool(self._ready or self._conditions)

    def run(self) -> None:
        """Run until no task can move and no awaited condition has changed."""
        self._run_ready()
        while self._conditions and self._check_conditions():
            self._run_ready()

    def _run_ready(self) -> None:
        """Step every ready task until each waits on an unresolved future or has ended."""
        ready = self._ready
        while ready:
            task = ready.popleft()
            try:
                if task.throw is not None:
                    abandoned, task.cancelled_wait = task.cancelled_wait, None
                    if abandoned is not None and abandoned.on_cancel is not None:
                        abandoned.on_cancel()  # inside the activation: it may issue commands
                        if ready:  # what that woke (a gather's branches) is cancelled first,
                            ready.append(task)  # as asyncio does (gather_cancelled_with_cleanup)
                            continue
                    error, task.throw = task.throw, None
                    awaited = task.coro.throw(error)
                else:
                    awaited = task.coro.send(None)
            except StopIteration as stop:
                self._on_exit(task, stop.value, None)
                continue
            except RuntimeError as exc:
                self._on_exit(task, None, _foreign(None) if _asyncio_outside_loop(exc) else exc)
                continue
            except NodeCrashed:
                raise  # the worker's machine died: nothing of the workflow runs on
            except BaseException as exc:  # even SystemExit: a failure of the workflow code
                self._on_exit(task, None, exc)
                continue
            if not isinstance(awaited, Future):
                task.coro.close()
                self._on_exit(task, None, _foreign(awaited))
                continue
            task.waiting_on = awaited
            awaited.on_done(partial(self._wake, task))

    def _wake(self, task: Task, future: Future) -> None:
        # Only the future the task awaits now wakes it: one it abandoned when it was
        # interrupted (a gather's branch) resolves later, and must not make the task's
        # new ``await`` return before its own future is resolved.
        if task.waiting_on is future:
            task.waiting_on = None
            self._ready.append(task)

    def interrupt(self, task: Task, error: BaseException) -> None:
        """Raise ``error`` at ``task``'s current ``await`` at its next step."""
        task.throw = error
        if task.waiting_on is not None:
            task.cancelled_wait, task.waiting_on = task.waiting_on, None  # wake-up ignored
            self._ready.append(task)

    def stop(self) -> None:
        """The workflow ended: tasks still queued never run again (nor issue commands)."""
        for task in self._ready:
            task.coro.close()
        self._ready.clear()


def _asyncio_outside_loop(error: RuntimeError) -> bool:
    """asyncio's own calls (``asyncio.sleep``) fail this way before they yield anything."""
    return "no running event loop" in str(error)


def _foreign(awaited: Any) -> ForeignAwaitError:
    if awaited is None:  # a bare ``yield`` (asyncio.sleep(0)) or asyncio refusing to start
        what = "asyncio awaitable"
    else:
        what = f"{type(awaited).__module__}.{type(awaited).__name__}"
    return ForeignAwaitError(
        f"workflow code awaited {what}, which the engine cannot record or replay: use "
        "ctx.sleep(seconds) instead of asyncio.sleep, ctx.gather instead of "
        "asyncio.gather, and await only ctx calls (ctx.activity, ctx.wait_signal, ...)")
