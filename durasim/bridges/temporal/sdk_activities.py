"""Temporal SDK activities, unchanged, as durasim activities.

An ``@activity.defn`` function (sync or ``async def``) becomes a durasim activity of the
same name. The worker runs it like any other, at least once, crashable; around the call
durasim does what a Temporal worker does: it decodes the recorded JSON input into the
function's parameter types, sets the SDK's own activity context (so
``temporalio.activity.info()`` and ``activity.heartbeat()`` answer, without patching
anything), and encodes the result. An ``async def`` activity runs on a
:class:`~durasim.bridges.temporal.sdk_loop.VirtualLoop` whose clock is the simulation's:
``await asyncio.sleep(0.5)`` spends half a virtual second, and a crash meanwhile loses it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import temporalio.activity
import temporalio.common
import temporalio.converter

from durasim.bridges.temporal.sdk_convert import from_json, to_durasim_error, to_json
from durasim.bridges.temporal.sdk_errors import UnsupportedFeatureError, unsupported
from durasim.bridges.temporal.sdk_loop import new_loop
from durasim.engine.activity import ActivityScope, activity_sleep, current_activity, heartbeat
from durasim.engine.definitions import ActivityDefinition
from durasim.errors import DurasimError

__all__ = ["StuckActivityError", "sdk_activity_definition"]

_NAMESPACE = "default"


class StuckActivityError(DurasimError):
    """An async activity awaited something that virtual time can never complete."""


def sdk_activity_definition(fn: Callable[..., Any]) -> ActivityDefinition:
    """The durasim definition of an ``@activity.defn`` function (or bound method)."""
    defn = temporalio.activity._Definition.must_from_callable(fn)
    if not defn.name:
        raise unsupported("@activity.defn(dynamic=True)",
                          "give the activity a name: durasim runs activities by name")
    runner: Any = _async_runner(defn) if defn.is_async else _sync_runner(defn)
    runner.__name__ = runner.__qualname__ = defn.name
    definition = ActivityDefinition(defn.name, runner, defn.is_async)
    runner.__durasim_activity__ = definition  # the function durasim runs is durasim's own
    runner.__wrapped__ = fn  # the SDK's function, for a real worker (sdk_deploy)
    return definition


def _sync_runner(defn: temporalio.activity._Definition) -> Callable[..., Any]:
    def run(*recorded: Any) -> Any:
        scope = current_activity(f"activity {defn.name!r}")
        token = temporalio.activity._Context.set(_sdk_context(defn, scope, is_async=False))
        try:
            result = defn.fn(*from_json(recorded, defn.arg_types))
        except Exception as error:
            raise to_durasim_error(error) from error
        finally:
            temporalio.activity._Context.reset(token)
        return to_json([result])[0]

    return run


def _async_runner(defn: temporalio.activity._Definition) -> Callable[..., Any]:
    async def run(*recorded: Any) -> Any:
        scope = current_activity(f"activity {defn.name!r}")
        clock = _VirtualTimers()
        loop = new_loop(now=lambda: float(scope.sim.now), start_timer=clock.start,
                           cancel_timer=clock.cancel, owner=f"activity {defn.name!r}")
        token = temporalio.activity._Context.set(_sdk_context(defn, scope, is_async=True))
        try:  # the task copies the context it is created in: the SDK's activity context
            task = loop.create_task(defn.fn(*from_json(recorded, defn.arg_types)))
        finally:
            temporalio.activity._Context.reset(token)
        try:
            while True:
                loop.run_ready()
                if task.done():
                    break
                due = clock.next_due()
                if due is None:
                    raise StuckActivityError(
                        f"activity {defn.name!r} awaits something that is not a timer; on "
                        "durasim's virtual time only asyncio.sleep (and what is built on "
                        "it) can finish: a real network call cannot run in the simulator")
                when, handle = due
                await activity_sleep(max(0.0, when - float(scope.sim.now)))
                loop.fire(handle)
            try:
                result = task.result()
            except Exception as error:
                raise to_durasim_error(error) from error
            return to_json([result])[0]
        finally:
            loop.close()

    return run


class _VirtualTimers:
    """The activity loop's timers, earliest first (ties in the order they were set)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, asyncio.TimerHandle]] = []
        self._seq = itertools.count()

    def start(self, delay: float, handle: asyncio.TimerHandle) -> None:
        heapq.heappush(self._heap, (handle.when(), next(self._seq), handle))

    def cancel(self, handle: asyncio.TimerHandle) -> None:
        """Cancelled handles are skipped when they come due."""

    def next_due(self) -> tuple[float, asyncio.TimerHandle] | None:
        while self._heap:
            when, _, handle = heapq.heappop(self._heap)
            if not handle.cancelled():
                return when, handle
        return None


def _sdk_context(defn: temporalio.activity._Definition, scope: ActivityScope, *,
                 is_async: bool) -> temporalio.activity._Context:
    """The SDK's activity context for one attempt, answered from durasim's scope."""
    info = _info(defn, scope)

    def on_heartbeat(*details: Any) -> None:
        heartbeat(*to_json(details))

    def event() -> temporalio.common._CompositeEvent:
        return temporalio.common._CompositeEvent(
            thread_event=threading.Event(), async_event=asyncio.Event() if is_async else None)

    return temporalio.activity._Context(
        info=lambda: info, heartbeat=on_heartbeat, cancelled_event=event(),
        worker_shutdown_event=event(), shield_thread_cancel_exception=None,
        payload_converter_class_or_instance=(
            temporalio.converter.DataConverter.default.payload_converter),
        runtime_metric_meter=temporalio.common.MetricMeter.noop,
        client=_NoClient() if is_async else None,  # type: ignore[arg-type]
        cancellation_details=temporalio.activity._ActivityCancellationDetailsHolder())


def _info(defn: temporalio.activity._Definition, scope: ActivityScope
          ) -> temporalio.activity.Info:
    durasim_info = scope.info
    now = datetime.fromtimestamp(float(scope.sim.now) if scope.sim is not None else 0.0,
                                 UTC)
    return temporalio.activity.Info(
        activity_id=durasim_info.activity_id, activity_type=durasim_info.activity_type,
        attempt=durasim_info.attempt, current_attempt_scheduled_time=now,
        heartbeat_details=list(durasim_info.heartbeat_details), heartbeat_timeout=None,
        is_local=False, namespace=_NAMESPACE, schedule_to_close_timeout=None,
        scheduled_time=now, start_to_close_timeout=None, started_time=now,
        task_queue="", task_token=b"", workflow_id=durasim_info.workflow_id,
        workflow_namespace=_NAMESPACE, workflow_run_id=durasim_info.run_id,
        workflow_type=None, priority=temporalio.common.Priority.default, retry_policy=None)


class _NoClient:
    """``activity.client()`` in the simulator: there is no Temporal server to talk to."""

    def __getattr__(self, name: str) -> Any:
        raise UnsupportedFeatureError(
            f"activity.client().{name}: durasim simulates the server, there is no Temporal "
            "client inside an activity; run on a real server with run_on_temporal")

