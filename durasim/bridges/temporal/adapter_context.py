"""``ctx`` for a durasim workflow on the real Temporal SDK: the engine's API, SDK calls inside.

Each method is the SDK call Temporal's own documentation would use, so the history it
produces is the one a hand-written ``temporalio`` workflow would have produced. What the
engine's ``ctx`` offers and this one cannot do on a real server is refused by name
(:class:`NotOnTemporalError`), never with a bare ``AttributeError`` or a quietly different
history.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from durasim.bridges.temporal.adapter_handles import (
    TemporalChildHandle,
    TemporalTimer,
    call_signal_handler,
    cancel_as_durasim,
    issue_now,
    plain_error,
)
from durasim.engine.context import DEFAULT_START_TO_CLOSE, WorkflowContext
from durasim.engine.definitions import WorkflowDefinition, activity_definition, workflow_definition
from durasim.engine.failures import ActivityError
from durasim.engine.handlers import HandlerError
from durasim.engine.parent_close import recorded_policy
from durasim.engine.retry import RetryPolicy
from durasim.errors import DurasimError
from durasim.validation import check_seconds

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from types import SimpleNamespace

    from durasim.bridges.temporal.adapter import _DurasimWorkflow

__all__ = ["NotOnTemporalError", "TemporalWorkflowContext"]


def _retry_state(state: Any) -> str:
    """The SDK's RetryState enum -> the string a history holds (``RETRY_STATE_...``)."""
    return "" if state is None else f"RETRY_STATE_{state.name}"


def _delta(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


def _temporal_retry_policy(sdk: SimpleNamespace, policy: RetryPolicy | None) -> Any:
    """durasim's RetryPolicy -> the SDK's; None keeps the server's default (the same one)."""
    if policy is None:
        return None
    if not isinstance(policy, RetryPolicy):
        raise TypeError(f"retry must be a durasim.RetryPolicy, got {policy!r}")
    return sdk.RetryPolicy(
        initial_interval=timedelta(seconds=policy.initial_interval),
        backoff_coefficient=policy.backoff_coefficient,
        maximum_interval=_delta(policy.maximum_interval),
        maximum_attempts=policy.maximum_attempts,
        non_retryable_error_types=list(policy.non_retryable_error_types) or None,
    )


class NotOnTemporalError(DurasimError):
    """Workflow code used a ``ctx`` feature of durasim's engine that the adapter cannot
    give on a real Temporal server; the message names it."""


#: Engine ctx features the adapter refuses, and why (anything else it lacks: "not yet").
_REFUSED = {
    "set_frames_source": "it tells the simulator's replay stepper where to look, and a "
                         "real worker has no stepper",
}


def _handler_name(kind: str, handler: Any, name: str | None) -> str:
    if not callable(handler):
        raise TypeError(f"a {kind} handler must be a function, got {handler!r}")
    return name or str(handler.__name__)


class TemporalWorkflowContext:
    """``ctx`` for a durasim workflow running on real Temporal: same API, the SDK underneath.

    ``start_activity``/``activity`` -> ``workflow.start_activity`` (a failure comes back
    as durasim's :class:`~durasim.ActivityError`, so saga code catches it unchanged),
    ``local_activity`` -> ``workflow.start_local_activity``, ``start_timer``/``sleep`` -> the
    SDK loop's ``call_later`` / ``workflow.sleep`` (durable timers), ``wait_condition``,
    ``signal``/``wait_signal`` -> a dynamic signal handler that feeds handlers or a buffer,
    ``query``/``update`` -> ``workflow.set_query_handler``/``set_update_handler``,
    ``start_child``/``child`` -> ``workflow.start_child_workflow`` (with its
    ``ParentClosePolicy``), ``continue_as_new``, ``patched``/``deprecate_patch``,
    ``random``/``uuid``/``now`` -> the SDK's deterministic versions and ``logger`` ->
    ``workflow.logger`` (silent while replaying, like durasim's). A cancellation reaches
    the code as durasim's CancelledError, as in the engine.
    """

    def __getattr__(self, name: str) -> NoReturn:
        """Only for names the class lacks: an engine feature is refused by name."""
        if name in _REFUSED or (not name.startswith("_") and hasattr(WorkflowContext, name)):
            why = _REFUSED.get(name, "the adapter does not support it yet")
            raise NotOnTemporalError(f"ctx.{name} is not available on a real Temporal "
                                     f"server: {why}")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __init__(self, host: _DurasimWorkflow, definition: WorkflowDefinition,
                 sdk: SimpleNamespace) -> None:
        self._host = host
        self._definition = definition
        self._child_seq = 0
        self._sdk = sdk
        self._t = sdk.workflow
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
    def is_cancel_requested(self) -> bool:
        """True once the client asked to cancel this workflow (the SDK then cancels the
        workflow's main task: its pending cancellation is the sign)."""
        return self._host.cancel_requested()

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

    def start_activity(
        self, fn: Any, *args: Any, retry: RetryPolicy | None = None,
        start_to_close: float | None = None, schedule_to_close: float | None = None,
        heartbeat_timeout: float | None = None,
    ) -> asyncio.Future[Any]:
        """Schedule an activity now (``workflow.start_activity``); await the returned
        future for its result. Cancelling a task that awaits it cancels the activity."""
        definition = activity_definition(fn)
        for name, value in (("start_to_close", start_to_close),
                            ("schedule_to_close", schedule_to_close),
                            ("heartbeat_timeout", heartbeat_timeout)):
            if value is not None:
                check_seconds(name, value, positive=True)
        seconds = start_to_close or schedule_to_close or DEFAULT_START_TO_CLOSE
        handle = self._t.start_activity(
            definition.name, args=list(args), start_to_close_timeout=timedelta(seconds=seconds),
            schedule_to_close_timeout=_delta(schedule_to_close),
            heartbeat_timeout=_delta(heartbeat_timeout),
            retry_policy=_temporal_retry_policy(self._sdk, retry))
        return issue_now(self._activity_result(handle, definition.name))

    async def _activity_result(self, handle: Awaitable[Any], name: str) -> Any:
        """An activity's result; a failure as durasim's ActivityError (saga code catches it)."""
        try:
            return await cancel_as_durasim(handle)
        except self._sdk.ActivityError as err:
            cause = plain_error(err.cause)
            timed_out = isinstance(err.cause, self._sdk.TimeoutError)
            raise ActivityError(
                f"activity {name} failed: {cause.message}", activity=name,
                activity_id=str(err.activity_id), cause=cause,
                retry_state=_retry_state(err.retry_state),
                timeout_type=err.cause.type.name if timed_out else None) from err

    async def activity(
        self, fn: Any, *args: Any, retry: RetryPolicy | None = None,
        start_to_close: float | None = None, schedule_to_close: float | None = None,
        heartbeat_timeout: float | None = None,
    ) -> Any:
        """Run an activity (``workflow.start_activity`` and await it); return its result.

        Raises:
            ActivityError: it failed for good; ``cause`` is the activity's ApplicationError.
        """
        return await self.start_activity(
            fn, *args, retry=retry, start_to_close=start_to_close,
            schedule_to_close=schedule_to_close, heartbeat_timeout=heartbeat_timeout)

    async def local_activity(self, fn: Any, *args: Any, retry: RetryPolicy | None = None,
                             start_to_close: float | None = None) -> Any:
        """Run a short activity inside the workflow task (``workflow.start_local_activity``),
        recorded as a marker (no activity events), as in the engine."""
        definition = activity_definition(fn)
        if start_to_close is not None:
            check_seconds("start_to_close", start_to_close, positive=True)
        return await self._activity_result(self._t.start_local_activity(
            definition.name, args=list(args),
            start_to_close_timeout=timedelta(seconds=start_to_close or DEFAULT_START_TO_CLOSE),
            retry_policy=_temporal_retry_policy(self._sdk, retry)), definition.name)

    def start_timer(self, seconds: float) -> TemporalTimer:
        """Start a durable timer now; await the returned Timer, or cancel it."""
        return TemporalTimer(check_seconds("the timer's seconds", seconds, positive=True))

    async def sleep(self, seconds: float) -> None:
        """A durable timer (``workflow.sleep``); zero seconds starts no timer, as in durasim."""
        seconds = check_seconds("ctx.sleep's seconds", seconds)
        if seconds == 0:
            return
        await cancel_as_durasim(self._t.sleep(seconds))

    async def wait_condition(self, predicate: Callable[[], bool], *,
                             timeout: float | None = None) -> bool:
        """``workflow.wait_condition``: True once ``predicate()`` holds; with ``timeout``,
        False if its timer fires first (the SDK's TimeoutError, the engine's False)."""
        if timeout is not None:
            timeout = check_seconds("wait_condition's timeout", timeout, positive=True)
        if predicate():  # no timer at all, as in the engine
            return True
        try:
            await cancel_as_durasim(self._t.wait_condition(predicate, timeout=timeout))
        except TimeoutError:  # the SDK's wait_condition timing out
            return False
        return True

    async def wait_signal(self, name: str) -> list[Any]:
        """Wait for signal ``name`` (or take one that already arrived); returns its args."""
        buffered = self._host.signals.setdefault(name, deque())
        while not buffered:  # two waiters may wake for one signal: only one gets it
            await cancel_as_durasim(self._t.wait_condition(lambda: bool(buffered)))
        return buffered.popleft()

    def signal(self, fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
        """Register a signal handler (``@ctx.signal``): called with each signal's arguments,
        those that arrived before it first (the adapter's dynamic signal handler holds
        them, as the engine's buffer does)."""
        def add(handler: Callable[..., Any]) -> Callable[..., Any]:
            key = _handler_name("signal", handler, name)
            self._host.signal_handlers[key] = handler
            for args in self._host.signals.pop(key, deque()):
                call_signal_handler(handler, args)
            return handler

        return add(fn) if fn is not None else add

    def query(self, fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
        """Register a query handler (``@ctx.query``): ``workflow.set_query_handler``."""
        def add(handler: Callable[..., Any]) -> Callable[..., Any]:
            key = _handler_name("query", handler, name)
            if inspect.iscoroutinefunction(handler):
                raise HandlerError(f"query handler {key!r} must be a plain function (def, "
                                   "not async def): a query only reads state")
            self._t.set_query_handler(key, handler)
            return handler

        return add(fn) if fn is not None else add

    def update(self, fn: Callable[..., Any] | None = None, *, name: str | None = None,
               validator: Callable[..., Any] | None = None) -> Any:
        """Register an update handler (``@ctx.update``), with an optional ``validator``:
        ``workflow.set_update_handler``."""
        def add(handler: Callable[..., Any]) -> Callable[..., Any]:
            self._t.set_update_handler(_handler_name("update", handler, name), handler,
                                       validator=validator)
            return handler

        return add(fn) if fn is not None else add

    def start_child(self, workflow: Any, *args: Any, id: str | None = None,
                    parent_close_policy: str = "terminate") -> TemporalChildHandle:
        """Start a child workflow now (``workflow.start_child_workflow``); await the handle
        for its result, or its ``started`` for the moment the child runs.

        ``parent_close_policy`` (``"terminate"``, ``"request_cancel"``, ``"abandon"``)
        becomes the SDK's ``ParentClosePolicy``: the server applies it when this run closes.
        """
        definition = workflow_definition(workflow)
        policy = recorded_policy(parent_close_policy).removeprefix("PARENT_CLOSE_POLICY_")
        self._child_seq += 1
        child_id = id or f"{self.workflow_id}-child-{self._child_seq}"  # durasim's default
        start = issue_now(self._t.start_child_workflow(
            definition.name, args=list(args), id=child_id,
            parent_close_policy=self._t.ParentClosePolicy[policy]))
        return TemporalChildHandle(start, child_id)

    async def child(self, workflow: Any, *args: Any, id: str | None = None,
                    parent_close_policy: str = "terminate") -> Any:
        """Run a child workflow (by its durasim name) and return its result.

        Raises:
            ChildWorkflowError: the child did not complete (``cause`` says why).
        """
        return await self.start_child(workflow, *args, id=id,
                                      parent_close_policy=parent_close_policy)

    def continue_as_new(self, *args: Any) -> NoReturn:
        """End this run; a new run of the same workflow starts with ``args``."""
        self._t.continue_as_new(args=list(args), workflow=self._definition.name)
        raise AssertionError("workflow.continue_as_new returned")  # it always raises

    def patched(self, change_id: str) -> bool:
        """``workflow.patched``: True on new runs (and records a marker), old path on old ones."""
        return bool(self._t.patched(change_id))

    def deprecate_patch(self, change_id: str) -> None:
        """``workflow.deprecate_patch``: only the new path is left; old histories replay."""
        self._t.deprecate_patch(change_id)

    async def gather(self, *awaitables: Awaitable[Any]) -> list[Any]:
        """Run activities, timers and children concurrently; results in order."""
        return list(await cancel_as_durasim(asyncio.gather(*awaitables)))
