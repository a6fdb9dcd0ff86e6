"""durasim workflows on the real Temporal SDK: the same code, a real worker.

:func:`durasim_worker` runs a ``temporalio`` worker that serves ``@durasim.workflow``
functions through one dynamic Temporal workflow whose ``ctx``
(:class:`TemporalWorkflowContext`, in ``adapter_context``) maps every durasim call onto the
SDK call Temporal's own documentation would use, and ``@durasim.activity`` functions
through one dynamic Temporal activity. So the very code a class ran in the simulator
produces a real Temporal history. (The other direction, Temporal SDK workflows inside
durasim, is ``sdk_runtime``'s job.)

The SDK is imported lazily, on the first call that needs it (:func:`_sdk`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from durasim.bridges.temporal.adapter_context import TemporalWorkflowContext
from durasim.bridges.temporal.adapter_handles import call_signal_handler
from durasim.bridges.temporal.install import require_temporalio
from durasim.engine.activity import CURRENT_ACTIVITY, ActivityInfo, ActivityScope
from durasim.engine.api import deployment
from durasim.engine.definitions import ActivityDefinition, WorkflowDefinition
from durasim.engine.failures import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
)

__all__ = ["DEFAULT_TASK_QUEUE", "WORKER_IDENTITY", "TemporalWorkflowContext", "durasim_worker"]

#: The task queue durasim's worker polls unless told otherwise (the recordings' queue too).
DEFAULT_TASK_QUEUE = "durasim"
#: A fixed identity keeps host names and pids out of the histories a class looks at.
WORKER_IDENTITY = "durasim-bridge-worker"


@dataclass
class _Registry:
    """The durasim definitions one worker (one task queue) serves, by Temporal type name."""

    workflows: dict[str, WorkflowDefinition]
    activities: dict[str, ActivityDefinition]


#: Task queue -> what its worker runs. The dynamic workflow and activity below are module
#: level (the SDK insists), so this is how they find the definitions of *their* worker.
_REGISTRIES: dict[str, _Registry] = {}


@functools.cache
def _sdk() -> Any:
    """Import ``temporalio`` and turn the two module-level adapters into SDK definitions.

    Done once, lazily, so that importing this module never needs the SDK. The adapters are
    written as plain Python below and decorated here; their annotations are set to real
    objects because the SDK reads them to check a dynamic workflow's signature.
    """
    require_temporalio()
    from types import SimpleNamespace

    from temporalio import activity as t_activity
    from temporalio import exceptions as t_exceptions
    from temporalio import workflow as t_workflow
    from temporalio.client import (
        Client,
        WorkflowFailureError,
        WorkflowQueryFailedError,
        WorkflowUpdateFailedError,
    )
    from temporalio.common import RawValue
    from temporalio.common import RetryPolicy as TRetryPolicy
    from temporalio.service import RPCError, RPCStatusCode
    from temporalio.worker import UnsandboxedWorkflowRunner, Worker

    raw_args = Sequence[RawValue]
    _DurasimWorkflow.run.__annotations__ = {"args": raw_args, "return": Any}
    _DurasimWorkflow.on_signal.__annotations__ = {"name": str, "args": raw_args,
                                                  "return": None}
    t_workflow.run(_DurasimWorkflow.run)
    t_workflow.signal(dynamic=True)(_DurasimWorkflow.on_signal)
    t_workflow.defn(dynamic=True, sandboxed=False)(_DurasimWorkflow)
    _durasim_activity.__annotations__ = {"args": raw_args, "return": Any}
    activity_fn = t_activity.defn(dynamic=True)(_durasim_activity)
    return SimpleNamespace(
        workflow=t_workflow, activity=t_activity, exceptions=t_exceptions,
        ApplicationError=t_exceptions.ApplicationError,
        ActivityError=t_exceptions.ActivityError,
        ChildWorkflowError=t_exceptions.ChildWorkflowError,
        FailureError=t_exceptions.FailureError, TimeoutError=t_exceptions.TimeoutError,
        Client=Client, WorkflowFailureError=WorkflowFailureError, RetryPolicy=TRetryPolicy,
        WorkflowQueryFailedError=WorkflowQueryFailedError,
        WorkflowUpdateFailedError=WorkflowUpdateFailedError,
        RPCError=RPCError, RPCStatusCode=RPCStatusCode, Worker=Worker,
        UnsandboxedWorkflowRunner=UnsandboxedWorkflowRunner,
        workflow_class=_DurasimWorkflow, activity_fn=activity_fn,
    )


# --- the workflow side ---------------------------------------------------------------


def _temporal_failure(exc: Exception) -> BaseException:
    """What the SDK must see for an exception that escaped durasim workflow code.

    The SDK fails the *workflow* only for its own failure errors; anything else fails the
    workflow *task*, which Temporal retries forever, and durasim draws the same line. So an
    ActivityError/ChildWorkflowError made from an SDK error becomes that SDK error again
    (the history then says "Activity task failed" with the activity's failure as its
    cause, as a hand-written workflow's would), durasim's ApplicationError becomes the
    SDK's, and any other exception (a bug) is left as it is: it fails the task.
    """
    sdk = _sdk()
    if isinstance(exc, ActivityError | ChildWorkflowError) and isinstance(
            exc.__cause__, sdk.FailureError):
        return exc.__cause__
    if isinstance(exc, sdk.FailureError) or type(exc).__module__.startswith("temporalio"):
        return exc  # the SDK's own (including its nondeterminism error): its business
    if isinstance(exc, CancelledError):  # the workflow ends canceled, not failed
        return sdk.exceptions.CancelledError(str(exc))
    if isinstance(exc, ApplicationError):
        return sdk.ApplicationError(exc.message, type=exc.type, non_retryable=exc.non_retryable)
    if isinstance(exc, ActivityError | ChildWorkflowError):
        return sdk.ApplicationError(str(exc), type=type(exc).__name__)
    return exc


class _DurasimWorkflow:
    """The one Temporal workflow (dynamic: every type name) that runs durasim workflows.

    Decorated by :func:`_sdk` on first use. It looks its durasim definition up by the
    workflow type in the registry of the task queue it runs on.
    """

    def __init__(self) -> None:
        self.signals: dict[str, deque[list[Any]]] = {}
        self.signal_handlers: dict[str, Callable[..., Any]] = {}
        self.main: asyncio.Task[Any] | None = None
        self._cancel_requested = False

    def cancel_requested(self) -> bool:
        """Has the SDK been asked to cancel this workflow? It cancels the main task at
        once (``Task.cancelling()``); remembered, since a caught cancellation may be
        withdrawn from the task."""
        if not self._cancel_requested and self.main is not None:
            self._cancel_requested = self.main.cancelling() > 0
        return self._cancel_requested

    async def run(self, args: Sequence[Any]) -> Any:
        sdk = _sdk()
        info = sdk.workflow.info()
        registry = _REGISTRIES.get(info.task_queue)
        definition = registry.workflows.get(info.workflow_type) if registry else None
        if definition is None:
            raise sdk.ApplicationError(
                f"no durasim workflow named {info.workflow_type!r} is registered on task "
                f"queue {info.task_queue!r}; pass it in workflows=[...]",
                type="WorkflowNotRegistered", non_retryable=True)
        converter = sdk.workflow.payload_converter()
        values = [converter.from_payload(raw.payload) for raw in args]
        self.main = asyncio.current_task()
        try:
            return await definition.fn(TemporalWorkflowContext(self, definition, sdk), *values)
        except Exception as exc:
            failure = _temporal_failure(exc)
            if failure is exc or failure is exc.__cause__:
                raise failure  # noqa: B904 - keep the SDK error's own cause chain intact
            raise failure from None

    def on_signal(self, name: str, args: Sequence[Any]) -> None:
        """Every signal lands here: it goes to its ``ctx.signal`` handler, or waits, in
        order, for ``ctx.wait_signal(name)`` (or a handler registered later), as in the
        engine's ``Handlers``."""
        converter = _sdk().workflow.payload_converter()
        values = [converter.from_payload(raw.payload) for raw in args]
        handler = self.signal_handlers.get(name)
        if handler is not None:
            call_signal_handler(handler, values)
        else:
            self.signals.setdefault(name, deque()).append(values)


# --- the activity side ---------------------------------------------------------------


class _RealClock:
    """Stands in for the simulation in ``activity_sleep``: real seconds on Temporal."""

    def timeout(self, seconds: float) -> Coroutine[Any, Any, None]:
        return asyncio.sleep(seconds)


_REAL_CLOCK = _RealClock()


def _scope(info: ActivityInfo, clock: _RealClock | None) -> ActivityScope:
    """The activity's scope on a real worker: ``heartbeat()`` is ``activity.heartbeat``."""
    return ActivityScope(info, clock, on_heartbeat=lambda details: _sdk().activity.heartbeat(
        *details))


class _AsActivity:
    """Await a coroutine with ``durasim.activity_info()`` answering for it at every step.

    durasim keeps the current activity in one global slot (the simulator runs one step at
    a time); on a real worker several activities interleave at their ``await`` points, so
    the slot is set around each resumption of this coroutine and restored after.
    """

    def __init__(self, coro: Coroutine[Any, Any, Any], info: ActivityInfo) -> None:
        self._coro = coro
        self._info = info

    def __await__(self) -> Generator[Any, Any, Any]:
        value: Any = None
        error: BaseException | None = None
        scope = _scope(self._info, _REAL_CLOCK)
        while True:
            token = CURRENT_ACTIVITY.set(scope)
            try:
                step = self._coro.throw(error) if error is not None else self._coro.send(value)
            except StopIteration as stop:
                return stop.value
            finally:
                CURRENT_ACTIVITY.reset(token)
            try:
                value, error = (yield step), None
            except BaseException as exc:  # cancellation and the like go into the activity
                value, error = None, exc


async def _durasim_activity(args: Sequence[Any]) -> Any:
    """The one Temporal activity (dynamic) that runs durasim activities by type name.

    A durasim ``ApplicationError`` becomes the SDK's, keeping ``type`` and
    ``non_retryable``, so retry policies and ``ActivityTaskFailed`` read as in durasim.
    Sync activities run inline on the worker's event loop: they are the short teaching
    kind, and running them in a thread would let ``activity_info()`` answer for the wrong
    activity.
    """
    sdk = _sdk()
    t_info = sdk.activity.info()
    registry = _REGISTRIES.get(t_info.task_queue)
    definition = registry.activities.get(t_info.activity_type) if registry else None
    if definition is None:  # what durasim's worker says (and retries), too
        raise sdk.ApplicationError(f"worker has no activity named {t_info.activity_type!r}",
                                   type="ActivityNotRegistered")
    converter = sdk.activity.payload_converter()
    values = [converter.from_payload(raw.payload) for raw in args]
    info = ActivityInfo(t_info.attempt, t_info.workflow_id or "", t_info.activity_id,
                        t_info.activity_type, t_info.workflow_run_id or "",
                        tuple(converter.from_payload(p) for p in t_info.heartbeat_details))
    try:
        if definition.is_async:
            return await _AsActivity(definition.fn(*values), info)
        token = CURRENT_ACTIVITY.set(_scope(info, None))
        try:
            return definition.fn(*values)
        finally:
            CURRENT_ACTIVITY.reset(token)
    except ApplicationError as exc:  # keep the activity's own frames in the stack trace
        raise sdk.ApplicationError(exc.message, type=exc.type, non_retryable=exc.non_retryable
                                   ).with_traceback(exc.__traceback__) from None


def _registry(workflows: Iterable[Any], activities: Iterable[Any]) -> _Registry:
    """Like ``durasim.execute``: the workflows, what their code names, the activities given."""
    flows, acts = deployment(workflows, activities)
    return _Registry(flows, acts)


@contextlib.asynccontextmanager
async def durasim_worker(client: Any, *, workflows: Sequence[Any] = (),
                         activities: Sequence[Any] = (),
                         task_queue: str = DEFAULT_TASK_QUEUE) -> AsyncIterator[None]:
    """A ``temporalio`` worker on ``task_queue`` serving durasim workflows and activities,
    for the length of an ``async with`` block.

    Args:
        client: a connected ``temporalio.client.Client``.
        workflows: ``@durasim.workflow`` functions to serve, with every workflow and
            activity their code refers to (as ``durasim.execute`` finds them).
        activities: more ``@durasim.activity`` functions; they win a name clash.
        task_queue: the queue to poll; one worker at a time per queue in this process.

    Raises:
        ValueError: another ``durasim_worker`` of this process already serves the queue.
    """
    if task_queue in _REGISTRIES:
        raise ValueError(f"task queue {task_queue!r} is already served by a running "
                         "durasim worker; give this one another task_queue=")
    sdk = _sdk()
    _REGISTRIES[task_queue] = _registry(workflows, activities)
    try:
        async with sdk.Worker(client, task_queue=task_queue, workflows=[sdk.workflow_class],
                              activities=[sdk.activity_fn], identity=WORKER_IDENTITY,
                              workflow_runner=sdk.UnsandboxedWorkflowRunner()):
            yield
    finally:
        del _REGISTRIES[task_queue]
