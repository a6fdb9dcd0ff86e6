"""An asyncio event loop with no clock of its own: what Temporal SDK code runs on in durasim.

Temporal's Python SDK runs workflow code on an asyncio event loop that the worker owns:
``asyncio.sleep`` becomes a durable timer, ``asyncio.gather`` waits for activities, and
the loop only moves when the history says something happened. :class:`VirtualLoop` is
that loop for durasim. It has a queue of ready callbacks and nothing else: no sockets, no
threads, no wall clock. ``time()`` is whatever its owner says (the workflow task's time,
or the simulation's for an activity), and every ``call_later`` is handed to its owner,
who decides what a delay means: a durable timer in a history, or virtual seconds of the
simulation. :meth:`run_ready` runs callbacks until none is ready, in a fixed order, so a
seed in gives the same run out.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVarTuple, Unpack

from durasim.errors import DurasimError

__all__ = ["VirtualLoop", "new_loop", "running"]

_Ts = TypeVarTuple("_Ts")

_log = logging.getLogger("durasim.sdk")

TimerStarter = Callable[[float, asyncio.TimerHandle], None]
"""``start(delay, handle)``: make ``handle`` fire (``loop.fire(handle)``) after ``delay``."""


@contextmanager
def running(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Make ``loop`` the running loop of this thread while SDK code runs, then put back
    whatever ran before (Jupyter's own loop, say)."""
    previous = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(loop)
    try:
        yield
    finally:
        asyncio.events._set_running_loop(previous)


class VirtualLoop(asyncio.AbstractEventLoop):
    """The asyncio interface SDK code uses, moved only by its owner.

    Args:
        now: the loop's time in seconds (virtual).
        start_timer: what a ``call_later`` means; the owner calls :meth:`fire` when due.
        cancel_timer: what cancelling a started timer means (a CancelTimer command).
        owner: who runs on this loop, for error messages ("workflow 'Transfer'").
    """

    def __init__(self, *, now: Callable[[], float], start_timer: TimerStarter,
                 cancel_timer: Callable[[asyncio.TimerHandle], None], owner: str) -> None:
        self._now = now
        self._start_timer = start_timer
        self._cancel_timer = cancel_timer
        self.owner = owner
        self._ready: deque[asyncio.Handle] = deque()
        self._conditions: list[tuple[Callable[[], bool], asyncio.Future[Any]]] = []
        self._exception_handler: Any = None
        self._closed = False

    # -- what the owner calls -------------------------------------------------------------
    @property
    def has_ready(self) -> bool:
        """Is a callback waiting to run (a timer fired, a result arrived)?"""
        return bool(self._ready)

    def fire(self, handle: asyncio.Handle) -> None:
        """A timer (or anything the owner resolved) is due: run its callback next."""
        if not handle.cancelled():
            self._ready.append(handle)

    def run_ready(self) -> None:
        """Run callbacks until none is ready and no condition changed, as the running loop.

        Conditions (``workflow.wait_condition``) are checked each time the ready queue is
        empty: a callback may have changed what they read.
        """
        with running(self):
            while self._ready:
                while self._ready:
                    self._ready.popleft()._run()
                self._check_conditions()

    def add_condition(self, predicate: Callable[[], bool], future: asyncio.Future[Any]) -> None:
        """Resolve ``future`` (with True) once ``predicate()`` holds."""
        self._conditions.append((predicate, future))

    def _check_conditions(self) -> None:
        waiting = []
        for predicate, future in self._conditions:
            if future.done():
                continue
            try:
                holds = predicate()
            except Exception as error:  # raised at the wait, as the SDK does
                future.set_exception(error)
                continue
            if holds:
                future.set_result(True)
            else:
                waiting.append((predicate, future))
        self._conditions = waiting

    # -- asyncio's interface ------------------------------------------------------------------
    def time(self) -> float:
        return self._now()

    def call_soon(self, callback: Callable[[Unpack[_Ts]], object], *args: *_Ts,
                  context: contextvars.Context | None = None) -> asyncio.Handle:
        handle = asyncio.Handle(callback, args, self, context)
        self._ready.append(handle)
        return handle

    def call_later(self, delay: float, callback: Callable[[Unpack[_Ts]], object],
                   *args: *_Ts, context: contextvars.Context | None = None
                   ) -> asyncio.TimerHandle:
        if delay < 0:
            raise ValueError(f"{self.owner}: a timer cannot wait a negative time ({delay} s)")
        handle = asyncio.TimerHandle(self.time() + delay, callback, args, self, context)
        if delay == 0:
            self._ready.append(handle)
        else:
            self._start_timer(delay, handle)
        return handle

    def call_at(self, when: float, callback: Callable[[Unpack[_Ts]], object],
                *args: *_Ts, context: contextvars.Context | None = None
                ) -> asyncio.TimerHandle:
        # asyncio.timeout() and wait_for() add to time(); milliseconds, as Temporal's SDK
        return self.call_later(max(0.0, round(when - self.time(), 3)), callback, *args,
                               context=context)

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        self._cancel_timer(handle)

    def create_future(self) -> asyncio.Future[Any]:
        return asyncio.Future(loop=self)

    def create_task(self, coro: Any, *, name: str | None = None,
                    context: contextvars.Context | None = None) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=self, name=name, context=context)
        # a crashed worker drops its workflows mid-await: that is not an error to log
        task._log_destroy_pending = False  # type: ignore[attr-defined]
        return task

    def get_debug(self) -> bool:
        return False

    def is_running(self) -> bool:
        return True

    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self._ready.clear()
        self._conditions.clear()

    def get_task_factory(self) -> None:
        return None

    def get_exception_handler(self) -> Any:
        return self._exception_handler

    def set_exception_handler(self, handler: Any) -> None:
        self._exception_handler = handler

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        if self._closed:  # a dropped workflow's futures: nobody will read them
            return
        _log.debug("%s: %s", self.owner, context.get("message", "unhandled exception"),
                   exc_info=context.get("exception"))

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        if self._exception_handler is not None:
            self._exception_handler(self, context)
        else:
            self.default_exception_handler(context)

    def run_until_complete(self, future: Any) -> Any:
        raise LoopMisuseError(f"{self.owner} called loop.run_until_complete: code running on "
                              "durasim's simulated loop is run by the engine; await instead")

    def run_forever(self) -> None:
        raise LoopMisuseError(f"{self.owner} called loop.run_forever: code running on "
                              "durasim's simulated loop is run by the engine")


def new_loop(*, now: Callable[[], float], start_timer: TimerStarter,
             cancel_timer: Callable[[asyncio.TimerHandle], None], owner: str) -> VirtualLoop:
    """A :class:`VirtualLoop` (the I/O methods asyncio declares stay unimplemented: code
    on a simulated loop has no sockets, pipes or subprocesses)."""
    return VirtualLoop(now=now, start_timer=start_timer,  # type: ignore[abstract]
                       cancel_timer=cancel_timer, owner=owner)


class LoopMisuseError(DurasimError):
    """Code on a simulated loop tried to drive the loop itself."""
