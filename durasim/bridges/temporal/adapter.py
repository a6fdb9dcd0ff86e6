"""durasim workflows on the real Temporal SDK: the same code, a real worker.

:func:`durasim_worker` runs a ``temporalio`` worker that serves ``@durasim.workflow``
functions through one dynamic Temporal workflow whose ``ctx``
(:class:`TemporalWorkflowContext`) maps every durasim call onto the SDK call Temporal's own
documentation would use, and ``@durasim.activity`` functions through one dynamic Temporal
activity. So the very code a class ran in the simulator produces a real Temporal history.
(The other direction, Temporal SDK workflows inside durasim, is ``sdk_runtime``'s job.)

The SDK is imported lazily, on the first call that needs it (:func:`_sdk`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Coroutine, Generator, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn

from durasim.bridges.temporal.install import require_temporalio
from durasim.engine.activity import CURRENT_ACTIVITY, ActivityInfo, ActivityScope
from durasim.engine.api import deployment
from durasim.engine.context import DEFAULT_START_TO_CLOSE
from durasim.engine.definitions import (
    ActivityDefinition,
    WorkflowDefinition,
    activity_definition,
    workflow_definition,
)
from durasim.engine.failures import ActivityError, ApplicationError, ChildWorkflowError
from durasim.engine.parent_close import recorded_policy
from durasim.engine.retry import RetryPolicy

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
    from temporalio.client import Client, WorkflowFailureError
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
        FailureError=t_exceptions.FailureError,
        Client=Client, WorkflowFailureError=WorkflowFailureError, RetryPolicy=TRetryPolicy,
        RPCError=RPCError, RPCStatusCode=RPCStatusCode, Worker=Worker,
        UnsandboxedWorkflowRunner=UnsandboxedWorkflowRunner,
        workflow_class=_DurasimWorkflow, activity_fn=activity_fn,
    )


# --- the workflow side ---------------------------------------------------------------


def _application_error(cause: BaseException | None) -> ApplicationError:
    """A failure the SDK raised -> durasim's ApplicationError, with the same three facts the
    simulator reads off a failure (message, type, non-retryable)."""
    if cause is None:
        return ApplicationError("unknown failure")
    message = getattr(cause, "message", None) or str(cause)
    return ApplicationError(str(message), getattr(cause, "type", None),
                            bool(getattr(cause, "non_retryable", False)))


def _retry_state(state: Any) -> str:
    """The SDK's RetryState enum -> the string a history holds (``RETRY_STATE_...``)."""
    return "" if state is None else f"RETRY_STATE_{state.name}"


def _temporal_retry_policy(policy: RetryPolicy | None) -> Any:
    """durasim's RetryPolicy -> the SDK's; None keeps the server's default (the same one)."""
    if policy is None:
        return None
    return _sdk().RetryPolicy(
        initial_interval=timedelta(seconds=policy.initial_interval),
        backoff_coefficient=policy.backoff_coefficient,
        maximum_interval=(timedelta(seconds=policy.maximum_interval)
                          if policy.maximum_interval is not None else None),
        maximum_attempts=policy.maximum_attempts,
        non_retryable_error_types=list(policy.non_retryable_error_types) or None,
    )


class TemporalWorkflowContext:
    """``ctx`` for a durasim workflow running on real Temporal: same API, the SDK underneath.

    Each method is the SDK call Temporal's own documentation would use, so the history it
    produces is the one a hand-written ``temporalio`` workflow would have produced:
    ``activity`` -> ``workflow.execute_activity`` (a failure comes back as durasim's
    :class:`~durasim.ActivityError`, so saga code catches it unchanged), ``sleep`` ->
    ``workflow.sleep`` (a durable timer), ``wait_signal`` -> a buffer filled by a dynamic
    signal handler plus ``workflow.wait_condition``, ``child`` ->
    ``workflow.execute_child_workflow``, ``continue_as_new``, ``random``/``uuid``/``now``
    -> the SDK's deterministic versions, ``patched`` -> ``workflow.patched`` and
    ``logger`` -> ``workflow.logger`` (silent while replaying, like durasim's).
    """

    def __init__(self, host: _DurasimWorkflow, definition: WorkflowDefinition) -> None:
        self._host = host
        self._definition = definition
        self._child_seq = 0
        self._t = _sdk().workflow
        self.logger = self._t.logger

    @property
    def workflow_id(self) -> str:
        """This workflow's id."""
        return str(self._t.info().workflow_id)

    @property
    def run_id(self) -> str:
        """This run's id (a new one after continue-as-new)."""
        return str(self._t.info().run_id)

    @property
    def is_replaying(self) -> bool:
        """True while the worker rebuilds the workflow from its history."""
        return bool(self._t.unsafe.is_replaying())

    def now(self) -> float:
        """Seconds since this run started, by the workflow task's clock (replays identically).

        durasim's ``ctx.now()`` is the time of the current workflow task relative to the
        run's start; Temporal's ``workflow.now()`` is the same clock as a wall-clock date.
        """
        info = self._t.info()
        start = getattr(info, "workflow_start_time", None) or info.start_time
        return float((self._t.now() - start).total_seconds())

    def random(self) -> float:
        """A float in [0, 1) from the SDK's deterministic, replay-safe generator."""
        return float(self._t.random().random())

    def uuid(self) -> str:
        """A uuid4 string from the SDK's deterministic generator."""
        return str(self._t.uuid4())

    async def activity(
        self, fn: Any, *args: Any, retry: RetryPolicy | None = None,
        start_to_close: float | None = None, schedule_to_close: float | None = None,
    ) -> Any:
        """Run an activity with ``workflow.execute_activity`` and return its result.

        Raises:
            ActivityError: it failed for good; ``cause`` is the activity's ApplicationError.
        """
        definition = activity_definition(fn)
        for name, value in (("start_to_close", start_to_close),
                            ("schedule_to_close", schedule_to_close)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0 seconds, got {value}")
        sdk = _sdk()
        seconds = start_to_close or schedule_to_close or DEFAULT_START_TO_CLOSE
        try:
            return await self._t.execute_activity(
                definition.name, args=list(args),
                start_to_close_timeout=timedelta(seconds=seconds),
                schedule_to_close_timeout=(timedelta(seconds=schedule_to_close)
                                           if schedule_to_close is not None else None),
                retry_policy=_temporal_retry_policy(retry))
        except sdk.ActivityError as err:
            cause = _application_error(err.cause)
            raise ActivityError(
                f"activity {definition.name} failed: {cause.message}",
                activity=definition.name, activity_id=str(err.activity_id), cause=cause,
                retry_state=_retry_state(err.retry_state)) from err

    async def sleep(self, seconds: float) -> None:
        """A durable timer (``workflow.sleep``); zero seconds starts no timer, as in durasim."""
        if seconds < 0:
            raise ValueError(f"cannot sleep a negative time ({seconds} s)")
        if seconds == 0:
            return
        await self._t.sleep(seconds)

    async def wait_signal(self, name: str) -> list[Any]:
        """Wait for signal ``name`` (or take one that already arrived); returns its args."""
        buffered = self._host.signals.setdefault(name, deque())
        while not buffered:  # two waiters may wake for one signal: only one gets it
            await self._t.wait_condition(lambda: bool(buffered))
        return buffered.popleft()

    async def child(self, workflow: Any, *args: Any, id: str | None = None,
                    parent_close_policy: str = "terminate") -> Any:
        """Run a child workflow (by its durasim name) and return its result.

        Raises:
            ChildWorkflowError: the child failed.
        """
        definition = workflow_definition(workflow)
        policy = recorded_policy(parent_close_policy).removeprefix("PARENT_CLOSE_POLICY_")
        self._child_seq += 1
        child_id = id or f"{self.workflow_id}-child-{self._child_seq}"  # durasim's default
        sdk = _sdk()
        try:
            return await self._t.execute_child_workflow(
                definition.name, args=list(args), id=child_id,
                parent_close_policy=sdk.workflow.ParentClosePolicy[policy])
        except sdk.ChildWorkflowError as err:
            cause = _application_error(err.cause)
            raise ChildWorkflowError(f"child workflow {child_id} failed: {cause.message}",
                                     workflow_id=child_id, cause=cause) from err

    def continue_as_new(self, *args: Any) -> NoReturn:
        """End this run; a new run of the same workflow starts with ``args``."""
        self._t.continue_as_new(args=list(args), workflow=self._definition.name)
        raise AssertionError("workflow.continue_as_new returned")  # it always raises

    def patched(self, change_id: str) -> bool:
        """``workflow.patched``: True on new runs (and records a marker), old path on old ones."""
        return bool(self._t.patched(change_id))

    async def gather(self, *awaitables: Awaitable[Any]) -> list[Any]:
        """Run activities, timers and children concurrently; results in order."""
        return list(await asyncio.gather(*awaitables))


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
        try:
            return await definition.fn(TemporalWorkflowContext(self, definition), *values)
        except Exception as exc:
            failure = _temporal_failure(exc)
            if failure is exc or failure is exc.__cause__:
                raise failure  # noqa: B904 - keep the SDK error's own cause chain intact
            raise failure from None

    def on_signal(self, name: str, args: Sequence[Any]) -> None:
        """Every signal lands here and waits, in order, for ``ctx.wait_signal(name)``."""
        converter = _sdk().workflow.payload_converter()
        self.signals.setdefault(name, deque()).append(
            [converter.from_payload(raw.payload) for raw in args])


# --- the activity side ---------------------------------------------------------------


class _RealClock:
    """Stands in for the simulation in ``activity_sleep``: real seconds on Temporal."""

    def timeout(self, seconds: float) -> Coroutine[Any, Any, None]:
        return asyncio.sleep(seconds)


_REAL_CLOCK = _RealClock()


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
        scope = ActivityScope(self._info, _REAL_CLOCK)
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
                        t_info.activity_type, t_info.workflow_run_id or "")
    try:
        if definition.is_async:
            return await _AsActivity(definition.fn(*values), info)
        token = CURRENT_ACTIVITY.set(ActivityScope(info, None))
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
