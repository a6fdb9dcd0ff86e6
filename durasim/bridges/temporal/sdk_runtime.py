"""Temporal's abstract workflow runtime, implemented with durasim's engine.

Every function of ``temporalio.workflow`` (``execute_activity``, ``sleep``, ``now``,
``patched``, ``info``...) asks the runtime it finds on the running asyncio loop
(``_Runtime.current()``) to do the work. On a Temporal worker that runtime turns the
calls into commands for the server; :class:`DurasimRuntime` turns them into operations of
durasim's ``WorkflowContext`` (through :class:`~durasim.bridges.temporal.sdk_engine.EnginePort`),
so unchanged SDK code drives durasim's engine and writes the history a real server would.
Calls durasim does not simulate raise one
:class:`~durasim.bridges.temporal.sdk_errors.UnsupportedFeatureError` naming them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from random import Random
from typing import TYPE_CHECKING, Any, NoReturn

import temporalio.activity
import temporalio.common
import temporalio.converter
import temporalio.exceptions
import temporalio.workflow

from durasim.bridges.temporal.sdk_activities import sdk_activity_definition
from durasim.bridges.temporal.sdk_convert import seconds, to_json, to_retry_policy
from durasim.bridges.temporal.sdk_errors import unsupported
from durasim.bridges.temporal.sdk_handles import Operation, activity_handle, child_handle
from durasim.bridges.temporal.sdk_messages import Messages

if TYPE_CHECKING:
    from durasim.bridges.temporal.sdk_workflow import SdkWorkflowRun

__all__ = ["DurasimRuntime"]

_NAMESPACE = "default"
_TASK_TIMEOUT = timedelta(seconds=10)


def _when(seconds_since_start: float) -> datetime:
    return datetime.fromtimestamp(seconds_since_start, UTC)


class DurasimRuntime(Messages, temporalio.workflow._Runtime):
    """What ``temporalio.workflow``'s functions call, for one :class:`SdkWorkflowRun`."""

    def __init__(self, run: SdkWorkflowRun) -> None:
        self.run = run
        super().__init__()
        self._details = ""
        port = run.port
        self._info = temporalio.workflow.Info(
            attempt=1, continued_run_id=None, cron_schedule=None, execution_timeout=None,
            first_execution_run_id=port.run_id, headers={}, namespace=_NAMESPACE,
            original_execution_run_id=port.run_id, parent=None, root=None,
            priority=temporalio.common.Priority.default, raw_memo={}, retry_policy=None,
            run_id=port.run_id, run_timeout=None, search_attributes={},
            start_time=_when(run.started_at), task_queue=port.task_queue,
            task_timeout=_TASK_TIMEOUT,
            typed_search_attributes=temporalio.common.TypedSearchAttributes.empty,
            workflow_id=port.workflow_id, workflow_start_time=_when(run.started_at),
            workflow_type=run.defn.name or "")

    # -- read-only rules ------------------------------------------------------------------
    def check_writable(self, what: str) -> None:
        """Refuse ``what`` inside a query handler or an update validator, as the SDK does."""
        if self.run.read_only is not None:
            raise temporalio.workflow.ReadOnlyContextError(
                f"While in read-only function, action attempted: {what}")

    # -- identity, time, randomness ---------------------------------------------------------
    def workflow_info(self) -> temporalio.workflow.Info:
        return self._info

    def workflow_instance(self) -> Any:
        return self.run.instance

    def workflow_time_ns(self) -> int:
        return round(self.run.port.now() * 1e9)

    def workflow_random(self) -> Random:
        self.check_writable("random")
        return self.run.random

    def workflow_random_seed(self) -> int:
        return self.run.seed

    def workflow_register_random_seed_callback(self, callback: Callable[[int], None]) -> None:
        """The seed never changes here (no workflow reset), so the callback never fires."""

    def workflow_is_replaying(self) -> bool:
        return self.run.port.is_replaying

    def workflow_is_replaying_history_events(self) -> bool:
        return self.run.port.is_replaying

    def workflow_is_read_only(self) -> bool:
        return self.run.read_only is not None

    def workflow_payload_converter(self) -> temporalio.converter.PayloadConverter:
        return temporalio.converter.DataConverter.default.payload_converter

    def workflow_metric_meter(self) -> temporalio.common.MetricMeter:
        return temporalio.common.MetricMeter.noop  # metrics write nothing to the history

    def workflow_get_current_details(self) -> str:
        return self._details

    def workflow_set_current_details(self, details: str) -> None:
        self.check_writable("set current details")
        self._details = details

    def workflow_get_current_history_length(self) -> int:
        return self.run.port.history_length

    def workflow_get_current_history_size(self) -> int:
        raise unsupported("workflow.info().get_current_history_size()",
                          "durasim does not measure histories in bytes; use "
                          "get_current_history_length()")

    def workflow_is_continue_as_new_suggested(self) -> bool:
        return False  # durasim's server never suggests it

    def workflow_is_target_worker_deployment_version_changed(self) -> bool:
        return False

    def workflow_get_current_build_id(self) -> str:
        return ""

    def workflow_get_current_deployment_version(self) -> None:
        return None

    def workflow_extern_functions(self) -> Mapping[str, Callable[..., Any]]:
        return {}  # no sandbox here: nothing is passed through it

    def workflow_memo(self) -> Mapping[str, Any]:
        return {}  # durasim starts workflows without a memo

    def workflow_memo_value(self, key: str, default: Any, *, type_hint: type | None) -> Any:
        if default is temporalio.common._arg_unset:
            raise KeyError(f"Memo does not have a value for key {key}")
        return default

    def workflow_has_last_completion_result(self) -> bool:
        return False  # no cron schedules in durasim

    def workflow_last_completion_result(self, type_hint: type | None) -> Any | None:
        return None

    def workflow_last_failure(self) -> BaseException | None:
        return None

    def workflow_cancellation_reason(self) -> str | None:
        return "Workflow cancelled" if self.run.cancel_requested else None

    def workflow_is_failure_exception(self, err: BaseException) -> bool:
        return (isinstance(err, temporalio.exceptions.FailureError | asyncio.TimeoutError)
                or any(isinstance(err, kind) for kind in self.run.defn.failure_exception_types))

    # -- durable waits -------------------------------------------------------------------------
    async def workflow_sleep(self, duration: float, *, summary: str | None = None,
                             event_groups: Sequence[Any] | None = None) -> None:
        self.check_writable("sleep")
        future = self.run.loop.create_future()
        handle = self.run.loop.call_later(
            duration, lambda: future.set_result(None) if not future.done() else None)
        future.add_done_callback(lambda done: handle.cancel() if done.cancelled() else None)
        await future

    async def workflow_wait_condition(self, fn: Callable[[], bool], *,
                                      timeout: float | None = None,
                                      timeout_summary: str | None = None,
                                      event_groups: Sequence[Any] | None = None) -> None:
        self.check_writable("wait condition")
        future = self.run.loop.create_future()
        self.run.loop.add_condition(fn, future)
        await asyncio.wait_for(future, timeout)

    def workflow_patch(self, id: str, *, deprecated: bool,
                       event_groups: Sequence[Any] | None = None) -> bool:
        self.check_writable("patch")
        return self.run.port.patch(id, deprecated=deprecated)

    # -- activities ------------------------------------------------------------------------
    def workflow_start_activity(
        self, activity: Any, *args: Any, task_queue: str | None, result_type: type | None,
        schedule_to_close_timeout: timedelta | None,
        schedule_to_start_timeout: timedelta | None, start_to_close_timeout: timedelta | None,
        heartbeat_timeout: timedelta | None, retry_policy: temporalio.common.RetryPolicy | None,
        cancellation_type: temporalio.workflow.ActivityCancellationType,
        activity_id: str | None, versioning_intent: Any, summary: str | None = None,
        event_groups: Sequence[Any] | None = None,
        priority: temporalio.common.Priority = temporalio.common.Priority.default,
    ) -> temporalio.workflow.ActivityHandle[Any]:
        self.check_writable("start activity")
        call = "workflow.start_activity()"
        _refuse(call, schedule_to_start_timeout=schedule_to_start_timeout,
                activity_id=activity_id, versioning_intent=versioning_intent)
        _refuse_unless_default(call, cancellation_type=(
            cancellation_type, temporalio.workflow.ActivityCancellationType.TRY_CANCEL),
            priority=(priority, temporalio.common.Priority.default))
        fn, name, ret_type = _activity(activity, call, result_type)
        if not start_to_close_timeout and not schedule_to_close_timeout:
            raise ValueError("Activity must have start_to_close_timeout or "
                             "schedule_to_close_timeout")
        future = self.run.port.start_activity(
            fn, to_json(args), retry=to_retry_policy(retry_policy),
            start_to_close=seconds(start_to_close_timeout),
            schedule_to_close=seconds(schedule_to_close_timeout),
            heartbeat_timeout=seconds(heartbeat_timeout))
        return activity_handle(self.run.loop, self._operation(future, ret_type, name))

    def workflow_start_local_activity(
        self, activity: Any, *args: Any, result_type: type | None,
        schedule_to_close_timeout: timedelta | None,
        schedule_to_start_timeout: timedelta | None, start_to_close_timeout: timedelta | None,
        retry_policy: temporalio.common.RetryPolicy | None,
        local_retry_threshold: timedelta | None,
        cancellation_type: temporalio.workflow.ActivityCancellationType,
        activity_id: str | None, summary: str | None,
        event_groups: Sequence[Any] | None = None,
    ) -> temporalio.workflow.ActivityHandle[Any]:
        self.check_writable("start local activity")
        call = "workflow.start_local_activity()"
        _refuse(call, schedule_to_start_timeout=schedule_to_start_timeout,
                schedule_to_close_timeout=schedule_to_close_timeout,
                local_retry_threshold=local_retry_threshold, activity_id=activity_id)
        fn, name, ret_type = _activity(activity, call, result_type)
        if not start_to_close_timeout:
            raise ValueError("Activity must have start_to_close_timeout or "
                             "schedule_to_close_timeout")
        future = self.run.port.start_local_activity(
            fn, to_json(args), retry=to_retry_policy(retry_policy),
            start_to_close=seconds(start_to_close_timeout))
        return activity_handle(self.run.loop, self._operation(future, ret_type, name))

    def _operation(self, future: Any, ret_type: type | None, name: str) -> Operation:
        def cancelled() -> BaseException:
            error = temporalio.exceptions.ActivityError(
                "Activity cancelled", scheduled_event_id=0, started_event_id=0,
                identity="", activity_type=name, activity_id="",
                retry_state=temporalio.exceptions.RetryState.CANCEL_REQUESTED)
            error.__cause__ = temporalio.exceptions.CancelledError("Activity cancelled")
            return error

        return Operation(self.run.loop, future, ret_type,
                         lambda: self.run.port.cancel(future, f"activity {name}"),
                         cancelled, f"activity {name}", self.run.deliver)

    # -- child workflows --------------------------------------------------------------------
    async def workflow_start_child_workflow(
        self, workflow: Any, *args: Any, id: str, task_queue: str | None,
        result_type: type | None, cancellation_type: Any, parent_close_policy: Any,
        execution_timeout: timedelta | None, run_timeout: timedelta | None,
        task_timeout: timedelta | None, id_reuse_policy: Any,
        retry_policy: temporalio.common.RetryPolicy | None, cron_schedule: str,
        memo: Mapping[str, Any] | None, search_attributes: Any, versioning_intent: Any,
        static_summary: str | None = None, static_details: str | None = None,
        event_groups: Sequence[Any] | None = None,
        priority: temporalio.common.Priority = temporalio.common.Priority.default,
        versioning_override: Any = None,
    ) -> temporalio.workflow.ChildWorkflowHandle[Any, Any]:
        from durasim.bridges.temporal.sdk_workflow import sdk_workflow_definition

        self.check_writable("start child workflow")
        call = "workflow.start_child_workflow()"
        _refuse(call, execution_timeout=execution_timeout, run_timeout=run_timeout,
                task_timeout=task_timeout, retry_policy=retry_policy, memo=memo,
                search_attributes=search_attributes, versioning_intent=versioning_intent,
                versioning_override=versioning_override, cron_schedule=cron_schedule or None)
        _refuse_unless_default(call, cancellation_type=(
            cancellation_type,
            temporalio.workflow.ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED),
            id_reuse_policy=(id_reuse_policy,
                             temporalio.common.WorkflowIDReusePolicy.ALLOW_DUPLICATE),
            priority=(priority, temporalio.common.Priority.default))
        if isinstance(workflow, str) or not callable(workflow):
            raise unsupported(f"{call} by name ({workflow!r})",
                              "pass the child's run method (MyChild.run)")
        defn = temporalio.workflow._Definition.must_from_run_fn(workflow)
        child = sdk_workflow_definition(defn.cls)
        policy = temporalio.workflow.ParentClosePolicy(parent_close_policy)
        future = self.run.port.start_child(
            child.fn, to_json(args), child_id=id,
            parent_close_policy="terminate" if policy.name == "UNSPECIFIED"  # the default
            else policy.name.lower())

        def cancelled() -> BaseException:
            return temporalio.exceptions.CancelledError("Child workflow cancelled")

        operation = Operation(self.run.loop, future, result_type or defn.ret_type,
                              lambda: self.run.port.cancel(future, f"child workflow {id}"),
                              cancelled, f"child workflow {id}", self.run.deliver)
        # as in the SDK, this returns once the child runs (ChildWorkflowExecutionStarted);
        # a child that could not start fails its handle instead
        started: asyncio.Future[None] = self.run.loop.create_future()

        def child_runs() -> None:
            if not started.done():  # (the code may have stopped waiting: cancelled)
                started.set_result(None)

        future.started.on_done(lambda _: self.run.deliver(child_runs))
        await started
        return child_handle(self.run.loop, operation, id)

    def workflow_continue_as_new(
        self, *args: Any, workflow: Callable[..., Any] | str | None, task_queue: str | None,
        run_timeout: timedelta | None, task_timeout: timedelta | None,
        backoff_start_interval: timedelta | None,
        retry_policy: temporalio.common.RetryPolicy | None,
        memo: Mapping[str, Any] | None, search_attributes: Any, versioning_intent: Any,
        initial_versioning_behavior: Any, event_groups: Sequence[Any] | None = None,
    ) -> NoReturn:
        from durasim.bridges.temporal.sdk_workflow import ContinueAsNew

        self.check_writable("continue as new")
        call = "workflow.continue_as_new()"
        _refuse(call, task_queue=task_queue, run_timeout=run_timeout,
                task_timeout=task_timeout, backoff_start_interval=backoff_start_interval,
                retry_policy=retry_policy, memo=memo, search_attributes=search_attributes,
                versioning_intent=versioning_intent,
                initial_versioning_behavior=initial_versioning_behavior)
        if workflow is not None:
            name = (workflow if isinstance(workflow, str)
                    else temporalio.workflow._Definition.must_from_run_fn(workflow).name)
            if name != self.run.defn.name:
                raise unsupported(f"{call} into another workflow type ({name!r})",
                                  "durasim continues a run as the same workflow")
        raise ContinueAsNew(to_json(args))

    # -- what durasim does not simulate ----------------------------------------------------
    def workflow_get_external_workflow_handle(self, id: str, *, run_id: str | None) -> Any:
        raise unsupported("workflow.get_external_workflow_handle()",
                          "durasim does not signal or cancel other workflows")

    async def workflow_start_nexus_operation(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported("Nexus operations (workflow.create_nexus_client())")

    def workflow_upsert_memo(self, updates: Mapping[str, Any], *,
                             event_groups: Sequence[Any] | None = None) -> None:
        raise unsupported("workflow.upsert_memo()")

    def workflow_upsert_search_attributes(self, attributes: Any, *,
                                          event_groups: Sequence[Any] | None = None) -> None:
        raise unsupported("workflow.upsert_search_attributes()")


def _activity(activity: Any, call: str, result_type: type | None
              ) -> tuple[Any, str, type | None]:
    """(durasim activity function, name, result type) of what SDK code asked to run."""
    if isinstance(activity, str) or not callable(activity):
        raise unsupported(f"{call} by name ({activity!r})",
                          "pass the @activity.defn function itself")
    definition = sdk_activity_definition(activity)
    defn = temporalio.activity._Definition.must_from_callable(activity)
    return definition.fn, definition.name, result_type or defn.ret_type


def _refuse(call: str, **options: Any) -> None:
    """UnsupportedFeatureError for the first option given that durasim does not model."""
    for name, value in options.items():
        if value is not None:
            raise unsupported(f"{call} with {name}=")


def _refuse_unless_default(call: str, **options: tuple[Any, Any]) -> None:
    for name, (value, default) in options.items():
        if value != default:
            raise unsupported(f"{call} with {name}={value!r}")
