"""A Temporal SDK workflow class, unchanged, running as a durasim workflow.

durasim runs ``async def Name(ctx, *args)`` workflows; Temporal's SDK runs a
``@workflow.defn`` class on an asyncio event loop. :func:`sdk_workflow_definition` makes
the first out of the second: a durasim workflow named after the SDK workflow type whose
body (:meth:`SdkWorkflowRun.body`) owns a
:class:`~durasim.bridges.temporal.sdk_loop.VirtualLoop`. The body creates the class
instance and starts its ``@workflow.run`` method as a task on that loop, runs the loop
until nothing is ready, and then waits (a durasim future) until the history brings
something new: a result, a timer, a signal. Every SDK call the code makes on the way goes
through the SDK's abstract runtime, which :mod:`~durasim.bridges.temporal.sdk_runtime`
implements with ``ctx`` operations. So the class sees a Temporal worker, and durasim sees
one of its own workflows: crashes, replay and the replay stepper work unchanged.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import temporalio.exceptions
import temporalio.workflow

from durasim.bridges.temporal.sdk_convert import from_json, to_durasim_error, to_json
from durasim.bridges.temporal.sdk_engine import EnginePort
from durasim.bridges.temporal.sdk_errors import unsupported
from durasim.bridges.temporal.sdk_loop import new_loop, running
from durasim.engine.context import WorkflowContext
from durasim.engine.definitions import WorkflowDefinition
from durasim.engine.failures import ApplicationError, CancelledError, safe_text
from durasim.engine.tasks import Future

__all__ = ["SdkWorkflowRun", "sdk_workflow_definition"]

_DEFINITIONS: WeakKeyDictionary[type, WorkflowDefinition] = WeakKeyDictionary()


def sdk_workflow_definition(cls: type) -> WorkflowDefinition:
    """The durasim workflow that runs ``@workflow.defn`` class ``cls`` (made once per class)."""
    known = _DEFINITIONS.get(cls)
    if known is not None:
        return known
    defn = temporalio.workflow._Definition.from_class(cls)
    if defn is None:
        raise TypeError(f"{cls.__name__} is not a Temporal workflow: decorate it with "
                        "@workflow.defn and its entry method with @workflow.run")
    if not defn.name:
        raise unsupported("@workflow.defn(dynamic=True)",
                          "give the workflow a name: durasim starts workflows by name")

    async def body(ctx: WorkflowContext, *recorded: Any) -> Any:
        return await SdkWorkflowRun(ctx, defn, recorded).body()

    body.__name__ = body.__qualname__ = defn.name
    definition = WorkflowDefinition(defn.name, body, origin=cls, encode=to_json)
    body.__durasim_workflow__ = definition  # type: ignore[attr-defined]
    _DEFINITIONS[cls] = definition
    return definition


@dataclass(frozen=True)
class _Ending:
    """How the run ends: its result (JSON), its next run's input, or the error to raise."""

    kind: str  # "completed" | "continued" | "raise"
    value: Any


class ContinueAsNew(temporalio.workflow.ContinueAsNewError):
    """What ``workflow.continue_as_new`` raises here: the next run's input, as JSON."""

    def __init__(self, recorded: list[Any]) -> None:
        super().__init__("continue as new")
        self.recorded = recorded


class SdkWorkflowRun:
    """One run of an SDK workflow class inside a durasim workflow (see the module doc).

    Attributes:
        port: the ``ctx`` operations the SDK calls become.
        loop: the run's asyncio loop; ``runtime`` is set on it for ``temporalio.workflow``.
        instance: the workflow class's instance (None until the first task).
        main: the task running the ``@workflow.run`` method.
    """

    def __init__(self, ctx: WorkflowContext, defn: temporalio.workflow._Definition,
                 recorded: Sequence[Any]) -> None:
        from durasim.bridges.temporal.sdk_runtime import DurasimRuntime

        self.port = EnginePort(ctx)
        self.defn = defn
        self._recorded = list(recorded)
        self.loop = new_loop(now=self.port.now, start_timer=self._start_timer,
                             cancel_timer=self._cancel_timer, owner=f"workflow {defn.name!r}")
        self.started_at = self.port.now()
        self.seed = self.port.random_seed()
        self.random = random.Random(self.seed)
        self.runtime = DurasimRuntime(self)
        temporalio.workflow._Runtime.set_on_loop(self.loop, self.runtime)
        self.port.show_frames(self.frames)
        self.instance: Any = None
        self.main: asyncio.Task[Any] | None = None
        self._args: list[Any] = []
        self.cancel_requested = False
        self.read_only: str | None = None
        self._inbound: deque[Callable[[], None]] = deque()
        self._arrivals: deque[Callable[[], None]] = deque()
        self._wake: Future | None = None
        self._ending: _Ending | None = None
        self._timers: dict[asyncio.TimerHandle, Callable[[], None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- the durasim workflow's body -----------------------------------------------------------
    async def body(self) -> Any:
        """Run the class on the loop; wait for the history between workflow tasks."""
        self._inbound.append(self._begin)
        while True:
            self._run_jobs()
            self.loop.run_ready()
            ending = self._ending
            if ending is not None:
                answered = self.runtime.updates_answered()
                if answered is not None:  # as in the SDK: updates complete before the run
                    await answered
                self.loop.close()
                if ending.kind == "completed":
                    return ending.value
                if ending.kind == "continued":
                    self.port.continue_as_new(ending.value)
                raise ending.value
            try:
                await self._next_jobs()
            except CancelledError:  # the client asked to cancel the workflow
                self.cancel_requested = True
                if self.main is not None:
                    self.main.cancel()

    def _run_jobs(self) -> None:
        """What the history brought, SDK order: signals and updates first, then results."""
        with running(self.loop):
            for queue in (self._inbound, self._arrivals):
                while queue:
                    try:
                        queue.popleft()()
                    except Exception as error:  # a job of the first task: __init__, input
                        self._end_with(error)

    async def _next_jobs(self) -> None:
        if self._inbound or self._arrivals or self.loop.has_ready:
            return
        self._wake = Future()
        await self._wake

    def deliver(self, job: Callable[[], None], *, inbound: bool = False) -> None:
        """Queue ``job`` for the next activation (called as the history resolves things)."""
        (self._inbound if inbound else self._arrivals).append(job)
        wake, self._wake = self._wake, None
        if wake is not None:
            wake.resolve()

    # -- starting --------------------------------------------------------------------------
    def _begin(self) -> None:
        """The first task: decode the input, create the instance, install its handlers;
        the run method starts after the signals that came with the task, as in the SDK."""
        defn = self.defn
        self._args = from_json(self._recorded, defn.arg_types)
        cls: Any = defn.cls
        init = getattr(cls.__init__, "__temporal_workflow_init", False)
        self.instance = cls(*self._args) if init else cls()
        self.runtime.install(defn)
        self._arrivals.appendleft(self._start_main)

    def _start_main(self) -> None:
        self.main = self.start_top_level(self.defn.run_fn(self.instance, *self._args), "run",
                                         main=True)

    def start_top_level(self, coro: Any, name: str, *, main: bool = False) -> asyncio.Task[Any]:
        """A task whose error ends the workflow (run, signal and update handlers)."""
        task = self.loop.create_task(coro, name=f"{self.defn.name}.{name}")
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._top_level_done(done, main))
        return task

    def _top_level_done(self, task: asyncio.Task[Any], main: bool) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            self._end_with(asyncio.CancelledError())
        elif task.exception() is not None:
            self._end_with(task.exception())  # type: ignore[arg-type]
        elif main:
            try:
                self._end(_Ending("completed", to_json([task.result()])[0]))
            except Exception as error:  # the result cannot be encoded: a bug
                self._end(_Ending("raise", error))

    # -- ending ----------------------------------------------------------------------------
    def _end(self, ending: _Ending) -> None:
        if self._ending is None:
            self._ending = ending

    def _end_with(self, error: BaseException) -> None:
        """An error left workflow code: continue as new, cancel, fail the workflow, or fail
        only the workflow task (a bug), as Temporal's SDK decides."""
        if isinstance(error, ContinueAsNew):
            self._end(_Ending("continued", error.recorded))
        elif self.cancel_requested and temporalio.exceptions.is_cancelled_exception(error):
            self._end(_Ending("raise", CancelledError("Workflow cancelled")))
        elif isinstance(error, asyncio.CancelledError):  # cancelled without a request
            self._end(_Ending("raise", ApplicationError(safe_text(error), "CancelledError")))
        elif self.runtime.workflow_is_failure_exception(error):
            converted = to_durasim_error(error)
            if converted is error:  # a type the class declared a failure
                converted = ApplicationError(safe_text(error), type(error).__name__)
            self._end(_Ending("raise", converted))
        else:
            self._end(_Ending("raise", error))

    # -- timers: asyncio.sleep, workflow.sleep, wait_condition's timeout -------------------
    def _start_timer(self, delay: float, handle: asyncio.TimerHandle) -> None:
        self.runtime.check_writable("a timer")
        future, cancel = self.port.start_timer(delay)
        self._timers[handle] = cancel
        future.on_done(lambda settled: self._timer_settled(handle, settled))

    def _timer_settled(self, handle: asyncio.TimerHandle, settled: Future) -> None:
        if self._timers.pop(handle, None) is not None and settled.error is None:
            self.deliver(lambda: self.loop.fire(handle))

    def _cancel_timer(self, handle: asyncio.TimerHandle) -> None:
        cancel = self._timers.pop(handle, None)
        if cancel is not None and not self.loop.is_closed():
            cancel()

    def top_level_tasks(self) -> list[asyncio.Task[Any]]:
        """The run method's task and the signal handlers' tasks still running."""
        return list(self._tasks)

    def frames(self) -> list[Any]:
        """The coroutines of the user's code waiting now: the run method, then handlers."""
        tasks = sorted(self._tasks, key=lambda task: task is not self.main)
        return [task.get_coro() for task in tasks if not task.done()]

