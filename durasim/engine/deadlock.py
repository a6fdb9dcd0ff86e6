"""The deadlock detector: workflow code that never yields is stopped, not waited for.

Workflow code runs between two awaits without the simulation's clock moving, so a loop
that never reaches an ``await`` would hang the whole simulation (and the notebook). As
Temporal's SDKs do, a watchdog gives each activation :data:`DEADLOCK_SECONDS` of real
time; past that, :class:`DeadlockError` is raised in the workflow code's thread at its
current line, and the workflow task fails with Temporal's ``[TMPRL1101]`` message.

This is the one place durasim reads a real clock, and it only ever decides whether code
that never yields gets interrupted: a run whose code yields is unaffected and stays
deterministic.
"""

from __future__ import annotations

import ctypes
import threading
import time
from types import TracebackType

from durasim.errors import DurasimError

DEADLOCK_SECONDS = 2.0
"""Real seconds workflow code may run without yielding (Temporal's default)."""
CHECK_EVERY = 0.25
"""Real seconds between the watchdog's looks."""


class DeadlockError(DurasimError):
    """Workflow code ran too long without yielding (an endless loop, a blocking call)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or (
            f"[TMPRL1101] Potential deadlock detected: workflow didn't yield within "
            f"{DEADLOCK_SECONDS:g} second(s); workflow code must await a ctx call (and "
            "never loop or block) between two steps"))


class _Watchdog:
    """One thread that interrupts the activation it is watching when its time is up.

    Arming is a single assignment (it happens at every activation, so it must cost next
    to nothing); the thread looks a few times a second. Firing and disarming share a lock;
    an interruption decided just as the activation ended is absorbed by ``disarm`` (a few
    loop turns let it land there), never delivered to unrelated code. It is never cleared
    with ``PyThreadState_SetAsyncExc(..., NULL)``: on CPython 3.11 that leaves the eval
    loop's breaker set, and the next ``sys.settrace`` (coverage, hypothesis's explain
    phase) spins for ever.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watching: tuple[int, int, float, float] | None = None
        self._generation = 0
        self._fired = 0
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> int:
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="durasim-deadlock",
                                            daemon=True)
            self._thread.start()
        self._generation += 1
        self._watching = (self._generation, threading.get_ident(), time.monotonic(), seconds)
        return self._generation

    def disarm(self, generation: int) -> None:
        try:
            with self._lock:
                self._watching = None
                fired = self._fired == generation
            if fired:  # a pending interruption lands here, not in unrelated code
                for _ in range(64):
                    pass
        except DeadlockError:
            pass

    def _watch(self) -> None:
        while True:
            time.sleep(CHECK_EVERY)
            watching = self._watching
            if watching is None or time.monotonic() - watching[2] < watching[3]:
                continue
            with self._lock:
                if self._watching is watching:
                    self._fired = watching[0]
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(
                        ctypes.c_ulong(watching[1]), ctypes.py_object(DeadlockError))


_WATCHDOG = _Watchdog()


class _Watched:
    """The context of one watched activation (a class, not a generator-based context
    manager: it is entered at every activation, and this costs a third as much)."""

    __slots__ = ("_generation", "_seconds")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._generation = 0

    def __enter__(self) -> None:
        self._generation = _WATCHDOG.arm(self._seconds)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        _WATCHDOG.disarm(self._generation)


def watched(seconds: float | None = None) -> _Watched:
    """Run one activation of workflow code under the watchdog (``with watched(): ...``).

    Without ``seconds``, the limit is :data:`DEADLOCK_SECONDS` as it is when the watch is
    made (not when this module was imported), so a test suite on a starved machine can
    lengthen it for tests that are not about deadlocks.
    """
    return _Watched(DEADLOCK_SECONDS if seconds is None else seconds)
