"""The worker's side of activities: run the code, at least once, and report back.

An activity runs in a kernel process on the worker's node, so a crash of the node kills
it mid-call (the server only finds out by a timeout). While it runs, ``activity_info()``
and ``heartbeat()`` answer for it; heartbeats are throttled as Temporal's SDKs do (the
first at once, then at most one every 80% of the heartbeat timeout, carrying the latest
details), so a resumed attempt starts from the last heartbeat *sent*, not the last one the
code made. Local activities run here too, inside a workflow task, with their retries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from durasim.core import Event, NodeCrashed
from durasim.engine.activity import CURRENT_ACTIVITY, ActivityInfo, ActivityScope
from durasim.engine.definitions import ActivityDefinition
from durasim.engine.failures import ApplicationError, safe_text
from durasim.engine.features import LocalRequest
from durasim.engine.history import make_failure
from durasim.node import NodeProcess

if TYPE_CHECKING:
    from durasim.engine.worker import Worker

HEARTBEAT_THROTTLE = 0.8
"""Heartbeats go out at most once per this fraction of the heartbeat timeout."""
DEFAULT_HEARTBEAT_THROTTLE = 30.0
"""Seconds between heartbeats sent when the activity has no heartbeat timeout."""


class _ActivityProcess(NodeProcess):
    """A process that makes ``activity_info()`` answer for its activity while it runs."""

    __slots__ = ("scope",)
    scope: ActivityScope

    def _resume(self, event: Event) -> None:
        token = CURRENT_ACTIVITY.set(self.scope)
        try:
            super()._resume(event)
        finally:
            CURRENT_ACTIVITY.reset(token)


class _Heartbeats:
    """One attempt's heartbeats on their way to the server, throttled."""

    def __init__(self, worker: Worker, token: Any, timeout: float) -> None:
        self.worker = worker
        self.token = token
        self.interval = HEARTBEAT_THROTTLE * timeout if timeout else DEFAULT_HEARTBEAT_THROTTLE
        self.last_sent: float | None = None
        self.pending: tuple[Any, ...] | None = None
        self.incarnation = worker.node.incarnation

    def beat(self, details: tuple[Any, ...]) -> None:
        """``heartbeat(*details)`` was called: send now, or with the next allowed one."""
        now = self.worker.sim.now
        if self.last_sent is None or now - self.last_sent >= self.interval:
            self._send(details)
            return
        if self.pending is None:
            self.worker.sim.schedule(self.last_sent + self.interval - now, self._flush,
                                     kind="heartbeat")
        self.pending = details

    def _flush(self) -> None:
        node = self.worker.node
        if self.pending is not None and node.up and node.incarnation == self.incarnation:
            details, self.pending = self.pending, None
            self._send(details)

    def _send(self, details: tuple[Any, ...]) -> None:
        self.last_sent = self.worker.sim.now
        worker = self.worker
        worker.net.send(worker.node.name, worker.server, "ActivityHeartbeat",
                        {"token": self.token, "details": list(details)})

    def stop(self) -> None:
        """The attempt ended: what was not sent is dropped."""
        self.pending = None


class ActivityRunner:
    """Runs a worker's activities (and local activities)."""

    def __init__(self, worker: Worker, activities: Mapping[str, ActivityDefinition]) -> None:
        self.worker = worker
        self.activities = dict(activities)
        self.calls: dict[str, int] = {}

    def start(self, task: dict[str, Any]) -> None:
        """An activity task arrived: run it in a process of its own."""
        worker = self.worker
        workflow_id, run_id, _, attempt = task["token"]
        info = ActivityInfo(attempt, workflow_id, task["activity_id"], task["activity_type"],
                            run_id, tuple(task.get("heartbeat_details", ())))
        beats = _Heartbeats(worker, task["token"], task.get("heartbeat_timeout", 0.0))
        process = worker.node.spawn(self._run(task, info, beats), task["activity_type"],
                                    process_class=_ActivityProcess)
        assert isinstance(process, _ActivityProcess)
        process.scope = ActivityScope(info, worker.sim, worker.resources, beats.beat)

    async def _run(self, task: dict[str, Any], info: ActivityInfo, beats: _Heartbeats
                   ) -> None:
        worker = self.worker
        result, failure = await self.attempt(info, task["input"])
        beats.stop()
        if failure is not None:
            self._report_failure(task, failure)
            return
        if worker.sim.trace.enabled:  # (guarded: building the fields costs when nobody looks)
            worker.sim.record(worker.node.name, "activity", name=info.activity_type,
                              attempt=info.attempt, phase="done", workflow=info.workflow_id)
        worker.net.send(worker.node.name, worker.server, "ActivityTaskCompleted",
                        {"token": task["token"], "result": result}, step=info.activity_type)

    async def attempt(self, info: ActivityInfo, args: list[Any]
                      ) -> tuple[Any, dict[str, Any] | None]:
        """One attempt: (result, None), or (None, failure) for any exception it raised."""
        try:
            return await self.execute(info, args), None
        except ApplicationError as error:
            return None, make_failure(error.message, error.type,
                                      non_retryable=error.non_retryable)
        except NodeCrashed:
            raise  # the machine died under the activity: nobody reports anything
        except BaseException as error:  # any other error is retryable, as in Temporal; even
            # SystemExit or KeyboardInterrupt from an activity fails only that attempt
            return None, make_failure(safe_text(error), type(error).__name__)

    async def execute(self, info: ActivityInfo, args: list[Any]) -> Any:
        """One attempt of an activity's code, between its two crash points."""
        worker = self.worker
        name = info.activity_type
        definition = self.activities.get(name)
        step = worker.step_numbers.get(name) or (
            int(info.activity_id) if info.activity_id.isdigit() else 0)
        if worker.sim.trace.enabled:
            worker.sim.record(worker.node.name, "activity", name=name, attempt=info.attempt,
                              phase="start", workflow=info.workflow_id)
        if definition is None:
            raise ApplicationError(f"worker has no activity named {name!r}",
                                   "ActivityNotRegistered")
        if definition.duration:
            await worker.sim.timeout(definition.duration)
        worker.step_fault(step, name, "before_effect")
        injector = worker.injector
        if (worker.executes_effects and injector is not None
                and injector.activity_fails(name, info.idempotency_key)):
            raise ApplicationError(f"injected failure of {name} (attempt {info.attempt})",
                                   "InjectedFailure")
        self.calls[name] = self.calls.get(name, 0) + 1
        result = definition.fn(*args)
        if definition.is_async:
            result = await result
        worker.step_fault(step, name, "after_effect")
        return result

    async def run_local(self, request: LocalRequest, workflow_id: str, run_id: str
                        ) -> tuple[Any, dict[str, Any] | None, int]:
        """A local activity with its retries, on this worker: (result, failure, attempt)."""
        worker = self.worker
        attempt = 1
        while True:
            info = ActivityInfo(attempt, workflow_id, str(request.seq), request.definition.name,
                                run_id)
            process = worker.node.spawn(self.attempt(info, list(request.args)),
                                        info.activity_type, process_class=_ActivityProcess)
            assert isinstance(process, _ActivityProcess)
            process.scope = ActivityScope(info, worker.sim, worker.resources)
            result, failure = await process
            if failure is None:
                return result, None, attempt
            if request.retry.gives_up(attempt, failure["type"], failure["nonRetryable"]):
                return None, failure, attempt
            await worker.sim.timeout(request.retry.backoff(attempt))
            attempt += 1

    def _report_failure(self, task: dict[str, Any], failure: dict[str, Any]) -> None:
        worker = self.worker
        worker.sim.record(worker.node.name, "activity", name=task["activity_type"],
                          attempt=task["attempt"], phase="failed", error=failure["message"])
        worker.net.send(worker.node.name, worker.server, "ActivityTaskFailed",
                        {"token": task["token"], "failure": failure},
                        step=task["activity_type"])
