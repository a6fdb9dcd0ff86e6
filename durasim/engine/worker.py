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

from durasim.core import Simulation
from durasim.engine.activation import Activation
from durasim.engine.activity_runner import ActivityRunner
from durasim.engine.definitions import ActivityDefinition, WorkflowDefinition
from durasim.engine.failures import safe_text
from durasim.engine.history import EventType, HistoryEvent, make_failure
from durasim.engine.runtime import WorkflowInstance
from durasim.errors import NondeterminismError
from durasim.injector import FaultInjector
from durasim.network import Message, Network
from durasim.node import Node

POLL_RETRY = 1.0
"""Seconds between polls until the server acknowledges one."""
FIRST_TASK_EVENTS = 3
"""A first workflow task sees Started, WorkflowTaskScheduled and WorkflowTaskStarted; a
fresh instance handed a longer history is rebuilding by replay."""
UNHANDLED_FAILURE = "WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE"
NON_DETERMINISTIC = "WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR"


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
        self.runner = ActivityRunner(self, activities)
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

    @property
    def activities(self) -> dict[str, ActivityDefinition]:
        """The activities this worker can run, by name."""
        return self.runner.activities

    @property
    def activity_calls(self) -> dict[str, int]:
        """How many times each activity's code ran here (attempts that reached it)."""
        return self.runner.calls

    @property
    def cache(self) -> dict[tuple[str, str], WorkflowInstance]:
        """Workflows held in memory (lost on a crash: that is the point)."""
        volatile = self.node.volatile
        cache: dict[tuple[str, str], WorkflowInstance] | None = volatile.get("cache")
        if cache is None:  # (not setdefault: that would build a dict at every call)
            volatile["cache"] = cache = {}
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
            self.runner.start(message.payload)
        elif kind == "QueryTask":
            self._query(message.payload)
        elif kind == "PollAccepted":
            self.node.volatile["poll_accepted"] = True
        elif kind == "ServerUp":  # the server restarted: our poll died with it
            self.node.volatile["poll_accepted"] = False
            self.node.spawn(self._poll(), "poll")
        else:  # replies to calls our activities made, and anything else: the inbox
            self.node.inbox.put(message)

    # -- workflow tasks -----------------------------------------------------------------
    def _instance(self, task: dict[str, Any], key: tuple[str, str]
                  ) -> WorkflowInstance | None:
        """A fresh instance of the task's workflow (None: this worker has no such code)."""
        definition = self.workflows.get(task["workflow_type"])
        if definition is None:
            return None
        return WorkflowInstance(definition, workflow_id=key[0], run_id=key[1],
                                args=task["events"][0].attributes.get("input", []))

    def _workflow_task(self, task: dict[str, Any]) -> None:
        key = (task["workflow_id"], task["run_id"])
        instance = self.cache.get(key) if task["sticky"] else None
        events, upto = task["events"], task["upto"]
        if instance is None:
            instance = self._instance(task, key)
            if instance is None:
                self._fail_task(task, key, UNHANDLED_FAILURE, LookupError(
                    f"worker has no workflow named {task['workflow_type']!r}; known: "
                    f"{', '.join(sorted(self.workflows))}"))
                return
            if upto > FIRST_TASK_EVENTS:
                self.replays += 1
                self.sim.record(self.node.name, "replay", workflow=key[0], events=upto)
            new_events = events[:upto]
        else:
            new_events = events[instance.last_event_id:upto]
        activation = instance.feed(new_events, updates=task.get("updates", ()))
        if activation.ok and activation.local_activities:
            self.node.spawn(self._run_local_activities(task, key, instance, activation),
                            "local activities")
            return
        self._answer_task(task, key, instance, activation)

    async def _run_local_activities(self, task: dict[str, Any], key: tuple[str, str],
                                    instance: WorkflowInstance, activation: Activation) -> None:
        """Run what the code asked to run locally, resume it, and finish the task."""
        while activation.ok and activation.local_activities:
            for request in activation.local_activities:
                result, failure, attempt = await self.runner.run_local(request, *key)
                instance.local_activities.finish(request, result=result, failure=failure,
                                                 attempt=attempt, now=self.sim.now)
            activation = instance.resume()
        self._answer_task(task, key, instance, activation)

    def _answer_task(self, task: dict[str, Any], key: tuple[str, str],
                     instance: WorkflowInstance, activation: Activation) -> None:
        """Send the task's commands (or its failure) to the server."""
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
        if task.get("speculative") and not activation.commands:
            # the server drops a task that only refused updates: so do we, its two events
            instance.last_event_id = task["scheduled"] - 1
        if instance.finished:
            self.cache.pop(key, None)
            instance.release()
        else:
            self.cache[key] = instance
        self.net.send(self.node.name, self.server, "WorkflowTaskCompleted", {
            "workflow_id": key[0], "run_id": key[1], "scheduled": task["scheduled"],
            "incarnation": self.node.incarnation, "commands": activation.commands,
            "rejections": [(update_id, f"{type(error).__name__}: {safe_text(error)}")
                           for update_id, error in activation.update_rejections]})

    def _query(self, task: dict[str, Any]) -> None:
        """Answer a query from the workflow's state after its last completed task."""
        key = (task["workflow_id"], task["run_id"])
        instance = self.cache.get(key)
        value, error = None, None
        try:
            if instance is None:
                instance = self._instance(task, key)
                if instance is None:
                    raise LookupError(f"worker has no workflow named {task['workflow_type']!r}")
                replay = instance.feed(_completed_tasks(task["events"]))
                if replay.mismatch is not None:
                    raise replay.mismatch
            value = instance.handlers.query(task["name"], list(task["args"]))
        except Exception as failed:
            error = f"{type(failed).__name__}: {safe_text(failed)}"
        self.net.send(self.node.name, self.server, "QueryAnswer", {
            "client": task["client"], "seq": task["seq"], "value": value, "error": error})

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

    def step_fault(self, step: int, name: str, when: str) -> None:
        """A business step's crash point, on this node."""
        if self.injector is not None:
            self.injector.at_step(self.node.name, step, name, when,
                                  claim_unnamed=self.executes_effects)


def _completed_tasks(events: list[HistoryEvent]) -> list[HistoryEvent]:
    """The history without a trailing workflow task that has not completed."""
    for index in range(len(events) - 1, -1, -1):
        kind = events[index].event_type
        if kind is EventType.WORKFLOW_TASK_COMPLETED:
            return events
        if kind is EventType.WORKFLOW_TASK_STARTED:
            return events[:index]
    return events
