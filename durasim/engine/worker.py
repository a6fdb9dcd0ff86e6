"""The worker: runs workflow tasks (replaying as needed) and activities. It can crash.

A worker keeps the workflows it is running in memory (Temporal's *sticky cache*), so each
new workflow task only feeds it the events since the last one. After a crash that memory
is gone: the next task comes with the whole history and the workflow is rebuilt by
replay, which is the moment the course is about. Activities run here too, at least once:
a crash after an activity's effect but before its completion is reported means the server
will hand out attempt 2.

What the worker can run is its *deployment*, not its memory: the workflows and activities
it was given survive a crash, as a restarted process runs the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from durasim.core import Event, Simulation
from durasim.engine.activity import CURRENT_ACTIVITY, ActivityInfo, ActivityScope
from durasim.engine.definitions import ActivityDefinition, WorkflowDefinition
from durasim.engine.failures import ApplicationError, safe_text
from durasim.engine.history import make_failure
from durasim.engine.runtime import WorkflowInstance
from durasim.errors import NondeterminismError
from durasim.injector import FaultInjector
from durasim.network import Message, Network
from durasim.node import Node, NodeProcess

POLL_RETRY = 1.0
"""Seconds between polls until the server acknowledges one."""
FIRST_TASK_EVENTS = 3
"""A first workflow task sees Started, WorkflowTaskScheduled and WorkflowTaskStarted; a
fresh instance handed a longer history is rebuilding by replay."""
UNHANDLED_FAILURE = "WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE"
NON_DETERMINISTIC = "WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR"


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


class Worker:
    """Runs workflow code and activities on a node named ``"worker"``.

    Args:
        sim: the simulation.
        net: the network to the server.
        workflows: workflow definitions by name.
        activities: activity definitions by name.
        injector: fires step crashes ("before_effect" / "after_effect" of an activity).
        executes_effects: True when activities do their effects here, so that
            ``Crash(at_step=..., node=None)`` and ``FailActivity`` mean this worker; False
            when activities call services, which then own those faults.
        step_numbers: activity name -> business step number (default: the activity id),
            so ``Crash(at_step=5)`` means the scenario's step 5.
        resources: what activities may use while they run (see ``ActivityScope``).
    """

    def __init__(self, sim: Simulation, net: Network, *,
                 workflows: Mapping[str, WorkflowDefinition],
                 activities: Mapping[str, ActivityDefinition],
                 injector: FaultInjector | None = None, name: str = "worker",
                 server: str = "server", executes_effects: bool = True,
                 step_numbers: Mapping[str, int] | None = None,
                 resources: Mapping[str, Any] | None = None) -> None:
        self.sim = sim
        self.net = net
        self.workflows = dict(workflows)
        self.activities = dict(activities)
        self.injector = injector
        self.server = server
        self.executes_effects = executes_effects
        self.step_numbers = dict(step_numbers or {})
        self.resources = dict(resources or {})
        self.node = Node(sim, name, on_start=self._boot)
        self.node.handler = self._handle
        self.errors: list[NondeterminismError] = []
        self.task_failures: dict[str, BaseException] = {}
        """The last workflow-code error per workflow id (the workflow stays open)."""
        self.replays = 0
        self.activity_calls: dict[str, int] = {}

    @property
    def cache(self) -> dict[tuple[str, str], WorkflowInstance]:
        """Workflows held in memory (lost on a crash: that is the point)."""
        cache: dict[tuple[str, str], WorkflowInstance] = self.node.volatile.setdefault(
            "cache", {})
        return cache

    def _boot(self, node: Node) -> None:
        node.spawn(self._poll(), "poll")

    async def _poll(self) -> None:
        """Tell the server we are here, until it says it heard."""
        node = self.node
        while not node.volatile.get("poll_accepted"):
            self.net.send(node.name, self.server, "Poll", node.incarnation)
            await self.sim.timeout(POLL_RETRY)

    def _handle(self, message: Message) -> None:
        """Handle a message the moment it arrives (the network calls this)."""
        kind = message.kind
        if kind == "WorkflowTask":
            self._workflow_task(message.payload)
        elif kind == "ActivityTask":
            self._start_activity(message.payload)
        elif kind == "PollAccepted":
            self.node.volatile["poll_accepted"] = True
        elif kind == "ServerUp":  # the server restarted: our poll died with it
            self.node.volatile["poll_accepted"] = False
            self.node.spawn(self._poll(), "poll")
        else:  # replies to calls our activities made, and anything else: the inbox
            self.node.inbox.put(message)

    # -- workflow tasks -----------------------------------------------------------------
    def _workflow_task(self, task: dict[str, Any]) -> None:
        key = (task["workflow_id"], task["run_id"])
        cache = self.cache
        instance = cache.get(key) if task["sticky"] else None
        events, upto = task["events"], task["upto"]
        if instance is None:
            definition = self.workflows.get(task["workflow_type"])
            if definition is None:
                self._fail_task(task, key, UNHANDLED_FAILURE, LookupError(
                    f"worker has no workflow named {task['workflow_type']!r}; known: "
                    f"{', '.join(sorted(self.workflows))}"))
                return
            instance = WorkflowInstance(definition, workflow_id=key[0], run_id=key[1],
                                        args=events[0].attributes.get("input", []))
            if upto > FIRST_TASK_EVENTS:
                self.replays += 1
                self.sim.record(self.node.name, "replay", workflow=key[0], events=upto)
            new_events = events[:upto]
        else:
            new_events = events[instance.last_event_id:upto]
        activation = instance.feed(new_events)
        self.activities.update(instance.activity_definitions)
        self.workflows.update(instance.workflow_definitions)
        if activation.mismatch is not None:
            self.errors.append(activation.mismatch)
            self.sim.record(self.node.name, "nondeterminism", workflow=key[0],
                            error=str(activation.mismatch))
            self._fail_task(task, key, NON_DETERMINISTIC, activation.mismatch)
            return
        if activation.task_failure is not None:
            self.sim.record(self.node.name, "workflow_task_failed", workflow=key[0],
                            error=safe_text(activation.task_failure))
            self._fail_task(task, key, UNHANDLED_FAILURE, activation.task_failure)
            return
        self.task_failures.pop(key[0], None)
        if instance.finished:
            cache.pop(key, None)
        else:
            cache[key] = instance
        self.net.send(self.node.name, self.server, "WorkflowTaskCompleted", {
            "workflow_id": key[0], "run_id": key[1], "scheduled": task["scheduled"],
            "incarnation": self.node.incarnation, "commands": activation.commands})

    def _fail_task(self, task: dict[str, Any], key: tuple[str, str], cause: str,
                   error: BaseException) -> None:
        """Evict the workflow and tell the server its task failed (it will be retried).

        As Temporal's SDKs do, only a task's first attempt is reported; later attempts
        of a task that keeps failing are left to time out, which spaces the retries.
        """
        self.cache.pop(key, None)
        if cause == UNHANDLED_FAILURE:
            self.task_failures[key[0]] = error
        if task.get("attempt", 1) > 1:
            return
        self.net.send(self.node.name, self.server, "WorkflowTaskFailed", {
            "workflow_id": key[0], "run_id": key[1], "scheduled": task["scheduled"],
            "cause": cause, "failure": make_failure(safe_text(error), type(error).__name__)})

    # -- activities ---------------------------------------------------------------------
    def _start_activity(self, task: dict[str, Any]) -> None:
        workflow_id, run_id, _, attempt = task["token"]
        info = ActivityInfo(attempt, workflow_id, task["activity_id"], task["activity_type"],
                            run_id, tuple(task.get("heartbeat_details", ())))
        process = self.node.spawn(self._run_activity(task, info), task["activity_type"],
                                  process_class=_ActivityProcess)
        assert isinstance(process, _ActivityProcess)
        process.scope = ActivityScope(info, self.sim, self.resources)

    async def _run_activity(self, task: dict[str, Any], info: ActivityInfo) -> None:
        name = task["activity_type"]
        definition = self.activities.get(name)
        step = self.step_numbers.get(name) or (
            int(info.activity_id) if info.activity_id.isdigit() else 0)
        self.sim.record(self.node.name, "activity", name=name, attempt=info.attempt,
                        phase="start", workflow=info.workflow_id)
        try:
            if definition is None:
                raise ApplicationError(f"worker has no activity named {name!r}",
                                       "ActivityNotRegistered")
            if definition.duration:
                await self.sim.timeout(definition.duration)
            self._step_fault(step, name, "before_effect")
            if (self.executes_effects and self.injector is not None
                    and self.injector.activity_fails(name, info.attempt)):
                raise ApplicationError(f"injected failure of {name} (attempt {info.attempt})",
                                       "InjectedFailure")
            self.activity_calls[name] = self.activity_calls.get(name, 0) + 1
            result = definition.fn(*task["input"])
            if definition.is_async:
                result = await result
            self._step_fault(step, name, "after_effect")
        except ApplicationError as error:
            self._report_failure(task, make_failure(error.message, error.type,
                                                    non_retryable=error.non_retryable))
            return
        except Exception as error:  # any other bug in an activity is retryable, as in Temporal
            self._report_failure(task, make_failure(safe_text(error), type(error).__name__))
            return
        self.sim.record(self.node.name, "activity", name=name, attempt=info.attempt,
                        phase="done", workflow=info.workflow_id)
        self.net.send(self.node.name, self.server, "ActivityTaskCompleted",
                      {"token": task["token"], "result": result}, step=name)

    def _step_fault(self, step: int, name: str, when: str) -> None:
        if self.injector is not None:
            self.injector.at_step(self.node.name, step, name, when,
                                  claim_unnamed=self.executes_effects)

    def _report_failure(self, task: dict[str, Any], failure: dict[str, Any]) -> None:
        self.sim.record(self.node.name, "activity", name=task["activity_type"],
                        attempt=task["attempt"], phase="failed", error=failure["message"])
        self.net.send(self.node.name, self.server, "ActivityTaskFailed",
                      {"token": task["token"], "failure": failure}, step=task["activity_type"])
