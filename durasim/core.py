"""The simulation kernel: a virtual clock, a heap of events and a seeded random generator.

Everything durasim shows happens on this kernel, so it is what makes a run repeatable:
time is virtual (a 30-day timer costs nothing), all randomness comes from ``sim.rng``
(a ``random.Random(seed)``), and events at the same time break ties by priority and then
by the order they were scheduled. Same seed, same model -> the same trace, byte for byte.

Processes are ``async def`` coroutines that ``await`` kernel awaitables
(:meth:`Simulation.timeout`, :class:`Event`, another :class:`Process`), the same style the
workflow code of the durable-execution engine uses. The heap holds
``(time, order, event)`` entries: SimPy's ``(time, priority, seq, event)`` with priority
and sequence folded into one integer.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import inspect
import math
import random
from collections.abc import Callable, Coroutine, Generator, Iterator
from typing import Any

from durasim.errors import ModelError
from durasim.trace import Trace
from durasim.validation import finite_at_least, time_error

URGENT = 0
"""Priority for events that must happen before anything else at the same instant."""
NORMAL = 1
"""Priority of ordinary events."""

_PENDING = object()
_PRIORITY_STEP = 1 << 62
"""Heap entries are ``(time, order, event)`` with ``order = seq + (priority - NORMAL) *
_PRIORITY_STEP``: ties at one instant sort by priority, then by insertion, in a single
integer comparison (a separate priority field cost one more comparison per tie)."""
_INF = math.inf
_new = object.__new__
_heappush = heapq.heappush


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a long run.

    A simulation allocates many short-lived objects; with many live ones (thousands of
    workflows) the collector's full passes dominated the run time. Reference counting still
    frees everything acyclic at once; the collector runs again when the run ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _call_value(event: Event) -> None:
    event.value()  # a schedule_at event carries its callback as its value


class NodeCrashed(BaseException):
    """Raised inside a coroutine whose node crashes while it runs.

    A ``BaseException`` on purpose: user code's ``except Exception`` must not be able to
    swallow a crash, just as no ``try`` block survives a power cut. To the kernel it only
    means "a simulated fault, not a bug": the process ends without an error, and what a
    crash does to a machine is the business of :mod:`durasim.node`.
    """

    def __init__(self, node: str, reason: str = "") -> None:
        super().__init__(f"node {node!r} crashed" + (f" ({reason})" if reason else ""))
        self.node = node
        self.reason = reason


class Event:
    """Something that happens once; processes ``await`` it and get its value.

    ``succeed(value)`` or ``fail(exc)`` schedules it; when the kernel processes it, every
    waiter resumes (with the value, or with the exception raised at its ``await``).
    """

    __slots__ = ("callbacks", "kind", "ok", "sim", "value")

    def __init__(self, sim: Simulation, kind: str = "event") -> None:
        self.sim = sim
        self.kind = kind
        self.callbacks: list[Callable[[Event], None]] | None = []
        self.value: Any = _PENDING
        self.ok = True

    @property
    def triggered(self) -> bool:
        """True once the event has a value (it may not have been processed yet)."""
        return self.value is not _PENDING

    def succeed(self, value: Any = None, priority: int = NORMAL) -> Event:
        """Give the event its value and schedule it now."""
        if self.value is not _PENDING:
            raise RuntimeError(f"{self!r} has already been triggered")
        self.value = value
        self.sim._push(priority, self)
        return self

    def fail(self, exc: BaseException, priority: int = NORMAL) -> Event:
        """Make every waiter raise ``exc`` at its ``await``."""
        if self.value is not _PENDING:
            raise RuntimeError(f"{self!r} has already been triggered")
        self.ok = False
        self.value = exc
        self.sim._push(priority, self)
        return self

    def __await__(self) -> Generator[Event, Any, Any]:
        return (yield self)

    def __repr__(self) -> str:
        state = "pending" if self.value is _PENDING else ("ok" if self.ok else "failed")
        return f"<{type(self).__name__} {self.kind} {state}>"


class Timeout(Event):
    """An event that happens ``delay`` seconds of virtual time after it is created.

    Made only by :meth:`Simulation.timeout`, which fills its slots directly: building a
    timeout is half of every step of a timer-driven model.
    """

    __slots__ = ()
    kind = "timeout"  # a class attribute: one store less per timeout

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a Timeout is made by Simulation.timeout(delay)")

    def __await__(self) -> Generator[Event, Any, Any]:
        # A timeout's value is almost always None, and then awaiting it needs no generator:
        # a one-item iterator yields the timeout to the kernel, and the kernel's resume with
        # None exhausts it, so the await evaluates to None. All in C, which is what lets
        # this async kernel keep pace with SimPy's plain generators.
        if self.value is None:
            return iter((self,))  # type: ignore[return-value]
        return Event.__await__(self)

    def __repr__(self) -> str:
        return f"<Timeout {'processed' if self.callbacks is None else 'pending'}>"


class Process(Event):
    """A running coroutine; awaiting a process waits for its return value.

    ``owner`` names whoever runs it (in durasim's models, a node) so traces and errors can
    say where something happened; the kernel gives it no other meaning. When the coroutine
    raises :class:`NodeCrashed` the process ends silently and :meth:`_crashed` is told:
    a simulated crash is a fault, not a bug. :meth:`kill` drops the coroutine without
    resuming it, exactly like memory lost in a crash; the kernel keeps a reference to
    dropped coroutines so that Python's garbage collector does not run their ``finally``
    blocks behind the simulation's back.
    """

    __slots__ = ("_wake", "coro", "name", "owner")

    def __init__(
        self, sim: Simulation, coro: Coroutine[Any, Any, Any], name: str = "", owner: str = "",
    ) -> None:
        super().__init__(sim, "process")
        self.coro: Coroutine[Any, Any, Any] | None = coro
        self.name = name or getattr(coro, "__name__", "process")
        self.owner = owner
        self._wake = self._resume  # one bound method, reused at every await
        start = Event(sim, "start")
        start.callbacks = [self._wake]
        start.succeed(None, URGENT)

    @property
    def alive(self) -> bool:
        """True while the coroutine can still run."""
        return self.coro is not None and self.value is _PENDING

    def kill(self) -> None:
        """Drop the coroutine without resuming it (its owner lost its memory)."""
        coro = self.coro
        if coro is None:
            return
        self.coro = None
        if inspect.getcoroutinestate(coro) == inspect.CORO_CREATED:
            coro.close()  # never started: nothing of it can run, and Python stays quiet
        else:
            self.sim._graveyard.append(coro)

    def _crashed(self, crash: NodeCrashed) -> None:
        """The coroutine raised ``crash``; a process of nobody just stops.

        A process that belongs to a machine overrides this to bring the machine down
        (see :class:`durasim.node.NodeProcess`).
        """

    def _resume(self, event: Event) -> None:
        coro = self.coro
        if coro is None:
            return
        try:
            if event.ok:
                target = coro.send(event.value)
            else:
                target = coro.throw(event.value)
        except StopIteration as stop:
            self.coro = None
            del self._wake  # no cycle left: reference counting frees it, not the collector
            self.succeed(stop.value)
            return
        except NodeCrashed as crash:
            self.coro = None
            self._crashed(crash)
            return
        except Exception as exc:  # a bug in the model: never a silent, plausible failure
            self.coro = None
            raise ModelError(self.owner, self.name, self.sim.now, exc) from exc
        callbacks = target.callbacks
        if callbacks is not None:
            callbacks.append(self._wake)
            return
        relay = Event(self.sim, "relay")  # already processed: resume at once, in order
        relay.ok = target.ok
        relay.callbacks = [self._wake]
        relay.value = target.value
        self.sim._push(URGENT, relay)

    def __repr__(self) -> str:
        return f"<Process {self.name} {'alive' if self.alive else 'done'}>"


class Simulation:
    """A discrete-event simulation with a virtual clock and a seeded RNG.

    Args:
        seed: seeds ``rng``; the only source of randomness a model may use.
        trace: record every step in ``trace`` (turn off for the fastest runs).

    Example:
        >>> sim = Simulation(seed=1)
        >>> async def tick():
        ...     await sim.timeout(2.5)
        ...     return sim.now
        >>> p = sim.process(tick())
        >>> sim.run()
        >>> p.value
        2.5
    """

    def __init__(self, seed: int = 0, trace: bool = True) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = 0.0
        self.trace = Trace(enabled=trace)
        self.steps = 0
        self._heap: list[tuple[float, int, Event]] = []
        self._seq = 0
        self._graveyard: list[Coroutine[Any, Any, Any]] = []
        self._last: Event | None = None

    # -- building blocks --------------------------------------------------------------
    def _push(self, priority: int, event: Event) -> None:
        """Schedule ``event`` now (after what is already due now, by ``priority``)."""
        self._seq = seq = self._seq + 1
        _heappush(self._heap, (self.now, seq + (priority - NORMAL) * _PRIORITY_STEP, event))

    def timeout(self, delay: float, value: Any = None) -> Timeout:
        """An awaitable that completes ``delay`` seconds of virtual time from now.

        Raises:
            TypeError: ``delay`` is not a number.
            ValueError: ``delay`` is NaN, negative or infinite.
        """
        now = self.now
        try:
            when = now + delay
        except (TypeError, OverflowError):
            raise time_error("Simulation.timeout: delay", delay, now) from None
        # Float comparisons only (the fastest kind); NaN fails both, a negative delay the first.
        if not (now <= when and when < _INF) or delay is True or delay is False:
            raise time_error("Simulation.timeout: delay", delay, now)
        timeout = _new(Timeout)  # the hottest lines of the kernel: slots filled inline
        timeout.callbacks = []
        timeout.value = value
        timeout.ok = True
        self._seq = seq = self._seq + 1
        _heappush(self._heap, (when, seq, timeout))  # NORMAL priority: order is seq
        return timeout

    def event(self, kind: str = "event") -> Event:
        """A fresh event that some code will ``succeed()`` or ``fail()`` later."""
        return Event(self, kind)

    def process(self, coro: Coroutine[Any, Any, Any], name: str = "") -> Process:
        """Start running ``coro`` at the current time; returns an awaitable Process."""
        return Process(self, coro, name)

    def schedule(
        self, delay: float, callback: Callable[[], Any], priority: int = NORMAL,
        kind: str = "call",
    ) -> Event:
        """Call ``callback()`` after ``delay`` seconds of virtual time.

        Raises:
            TypeError, ValueError: ``delay`` is not a finite number of seconds >= 0.
        """
        if not (finite_at_least(delay, 0.0) and self.now + delay < _INF):
            raise time_error("Simulation.schedule: delay", delay, self.now)
        return self.schedule_at(self.now + delay, callback, priority, kind)

    def schedule_at(self, when: float, callback: Callable[[], Any], priority: int = NORMAL,
                    kind: str = "call") -> Event:
        """Call ``callback()`` at virtual time ``when`` (exact: no float drift from delays).

        Raises:
            TypeError, ValueError: ``when`` is not a finite time at or after now.
        """
        return self.call_at(when, _call_value, callback, kind, priority, _by="schedule_at")

    def call_at(self, when: float, callback: Callable[[Event], Any], value: Any,
                kind: str = "call", priority: int = NORMAL, *, _by: str = "call_at") -> Event:
        """Call ``callback(event)`` at virtual time ``when``, ``event.value`` being ``value``:
        :meth:`schedule_at` without a closure per call, for every message and server timer.

        Raises:
            TypeError, ValueError: ``when`` is not a finite time at or after now.
        """
        if not ((when.__class__ is float and self.now <= when < _INF)  # the usual case
                or finite_at_least(when, self.now)):
            raise time_error(f"Simulation.{_by}: when", when, self.now, absolute=True)
        event = _new(Event)  # slots filled inline
        event.sim, event.kind, event.ok, event.value, event.callbacks = (
            self, kind, True, value, [callback])
        self._seq = seq = self._seq + 1
        _heappush(self._heap, (when, seq + (priority - NORMAL) * _PRIORITY_STEP, event))
        return event

    def record(self, node: str, kind: str, **fields: Any) -> None:
        """Add a semantic event (a message sent, a step done, a crash) to the trace."""
        if self.trace.enabled:
            self.trace._raw.append((self.now, node, kind, fields))  # Trace._append, inlined

    def close(self) -> None:
        """The run is over (at a horizon, or given up): its never-started processes are
        killed as a crash kills them, or Python warns their coroutines were never awaited
        when the collector frees them, in whatever notebook cell runs next. The trace
        settles (:meth:`~durasim.trace.Trace.settle`): a Run keeps it, and it no longer
        keeps the model's objects, so when the collector resumes after a closed run (see
        :meth:`~durasim.architectures.base.Architecture.run`) the whole model is garbage,
        freed in one pass of the youngest generation instead of being promoted, walked
        again and freed by older, costlier passes (a tenth of a crash plan's check)."""
        for _, _, event in self._heap:
            for callback in event.callbacks or ():
                if isinstance(process := getattr(callback, "__self__", None), Process):
                    process.kill()
        self.trace.settle()

    # -- running ------------------------------------------------------------------------
    def peek(self) -> float:
        """Time of the next event, or ``inf`` when nothing is scheduled."""
        return self._heap[0][0] if self._heap else float("inf")

    def step(self) -> Event:
        """Process exactly one event and return it.

        Raises:
            IndexError: when nothing is scheduled.
            ModelError: a process raised an exception that is not a simulated crash.
        """
        if not self._heap:
            raise IndexError("nothing is scheduled: the simulation has finished")
        self.run(max_steps=1)
        assert self._last is not None
        return self._last

    def run(self, until: float | None = None, max_steps: int | None = None) -> int:
        """Process events until none are left, time ``until`` is reached or ``max_steps``.

        Events at exactly ``until`` run; then the clock stops at ``until`` itself, so a
        run with a horizon ends at its horizon however far away the next event is.

        Returns:
            The number of steps taken by this call.

        Raises:
            ModelError: a process raised an exception that is not a simulated crash.
            TypeError, ValueError: ``until`` is NaN or before now, or ``max_steps`` is not
                an integer >= 0.
        """
        if until is not None and (until != _INF and not finite_at_least(until, self.now)):
            raise time_error("Simulation.run: until", until, self.now, absolute=True)
        if max_steps is not None and (max_steps.__class__ is not int or max_steps < 0):
            error = TypeError if max_steps.__class__ is not int else ValueError
            raise error(f"Simulation.run: max_steps must be an integer >= 0, got {max_steps!r}")
        heap, pop = self._heap, heapq.heappop
        append = self.trace._raw.append if self.trace.enabled else None
        if until is None and max_steps is None and append is None:
            with collector_paused():
                return self._run_to_end()
        limit = _INF if until is None else until
        budget = -1 if max_steps is None else max_steps
        taken = 0
        event: Event | None = None
        with collector_paused() if max_steps is None else contextlib.nullcontext():
            while heap and taken != budget and heap[0][0] <= limit:
                now, _, event = pop(heap)
                self.now = now
                taken += 1
                callbacks, event.callbacks = event.callbacks, None
                if append is not None:
                    append((now, callbacks[0] if callbacks else None, event.kind, None))
                for callback in callbacks:  # type: ignore[union-attr]  # a heap event has its list
                    callback(event)
        self.steps += taken
        if event is not None:
            self._last = event
        if until is not None and until < _INF and (not heap or heap[0][0] > until):
            self.now = until
        return taken

    def _run_to_end(self) -> int:
        """The loop of :meth:`run` without limits or tracing: the benchmark's path.

        It counts no steps inside the loop: each step pops one entry and each entry was
        pushed with a fresh sequence number, so the count is what waited plus what came."""
        heap, pop = self._heap, heapq.heappop
        waiting, seq = len(heap), self._seq
        event: Event | None = None
        while heap:
            self.now, _, event = pop(heap)
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:  # type: ignore[union-attr]  # a heap event has its list
                callback(event)
        taken = waiting + self._seq - seq
        self.steps += taken
        if event is not None:
            self._last = event
        return taken
