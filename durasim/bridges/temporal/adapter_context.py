"""``ctx`` for a durasim workflow on the real Temporal SDK: the engine's API, SDK calls inside.

Each method is the SDK call Temporal's own documentation would use, so the history it
produces is the one a hand-written ``temporalio`` workflow would have produced. What the
engine's ``ctx`` offers and this one cannot do on a real server is refused by name
(:class:`NotOnTemporalError`), never with a bare ``AttributeError`` or a quietly different
history.
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from durasim.bridges.temporal.adapter_handles import TemporalChildHandle, issue_now, plain_error
from durasim.engine.context import DEFAULT_START_TO_CLOSE
from durasim.engine.definitions import WorkflowDefinition, activity_definition, workflow_definition
from durasim.engine.failures import ActivityError
from durasim.engine.parent_close import recorded_policy
from durasim.engine.retry import RetryPolicy

if TYPE_CHECKING:
    from collections.abc import Awaitable
    from types import SimpleNamespace

    from durasim.bridges.temporal.adapter import _DurasimWorkflow

__all__ = ["TemporalWorkflowContext"]


def _retry_state(state: Any) -> str:
    """The SDK's RetryState enum -> the string a history holds (``RETRY_STATE_...``)."""
    return "" if state is None else f"RETRY_STATE_{state.name}"


def _temporal_retry_policy(sdk: SimpleNamespace, policy: RetryPolicy | None) -> Any:
    """durasim's RetryPolicy -> the SDK's; None keeps the server's default (the same one)."""
    if policy is None:
        return None
    return sdk.RetryPolicy(
        initial_interval=timedelta(seconds=policy.initial_interval),
        backoff_coefficient=policy.backoff_coefficient,
        maximum_interval=(timedelta(seconds=policy.maximum_interval)
                          if policy.maximum_interval is not None else None),
        maximum_attempts=policy.maximum_attempts,
        non_retryable_error_types=list(policy.non_retryable_error_types) or None,
    )


class TemporalWorkflowContext:
    """``ctx`` for a durasim workflow running on real Temporal: same API, the SDK underneath.

    ``activity`` -> ``workflow.execute_activity`` (a failure comes back as durasim's
    :class:`~durasim.ActivityError`, so saga code catches it unchanged), ``sleep`` ->
    ``workflow.sleep`` (a durable timer), ``wait_signal`` -> a buffer filled by a dynamic
    signal handler plus ``workflow.wait_condition``, ``start_child``/``child`` ->
    ``workflow.start_child_workflow`` (with its ``ParentClosePolicy``),
    ``continue_as_new``, ``random``/``uuid``/``now`` -> the SDK's deterministic versions,
    ``patched`` -> ``workflow.patched`` and ``logger`` -> ``workflow.logger`` (silent while
    replaying, like durasim's).
    """

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
        sdk = self._sdk
        seconds = start_to_close or schedule_to_close or DEFAULT_START_TO_CLOSE
        try:
            return await self._t.execute_activity(
                definition.name, args=list(args),
                start_to_close_timeout=timedelta(seconds=seconds),
                schedule_to_close_timeout=(timedelta(seconds=schedule_to_close)
                                           if schedule_to_close is not None else None),
                retry_policy=_temporal_retry_policy(sdk, retry))
        except sdk.ActivityError as err:
            cause = plain_error(err.cause)
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

    async def gather(self, *awaitables: Awaitable[Any]) -> list[Any]:
        """Run activities, timers and children concurrently; results in order."""
        return list(await asyncio.gather(*awaitables))
