"""``durasim.execute``: run one workflow on a simulated server and worker.

This wires the engine's pieces on one kernel: a client node that starts the workflow and
sends signals, the server with its history store, and a worker. Faults apply to all of it:
crash the worker after k history events and watch it replay; crash the server and watch
it rebuild from the store.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from durasim.core import Simulation
from durasim.engine.client import Answer, Client, Request, RequestRefused
from durasim.engine.definitions import (
    ActivityDefinition,
    WorkflowDefinition,
    activity_definition,
    referenced_definitions,
    workflow_definition,
)
from durasim.engine.history import EventType, History
from durasim.engine.server import Server
from durasim.engine.store import HistoryStore, RunRecord
from durasim.engine.worker import Worker
from durasim.errors import FaultPlanError, WorkflowFailed, WorkflowTaskError
from durasim.faults import Fault, FaultPlan, as_plan
from durasim.injector import FaultInjector, unknown_nodes
from durasim.network import Network
from durasim.node import Node
from durasim.trace import Trace
from durasim.validation import check_seconds, check_seed

DEFAULT_HORIZON = 10 * 365 * 24 * 3600.0
"""Virtual seconds after which a run that has not finished is reported as still running."""


RUN_VIEWERS: list[Callable[[WorkflowRun], None]] = []
"""What :meth:`WorkflowRun.show` draws a run with. Pictures live above the engine, so the
package's front door registers durasim.viz's viewer here; without one, show() prints."""


@dataclass
class WorkflowRun:
    """What happened to one workflow: status, result, histories and the trace.

    ``status`` is "completed", "failed", "canceled", "terminated" (by a ``Terminate``
    request, or it went past one of durasim's limits, see :mod:`~durasim.engine.limits`),
    "running" (it never finished: waiting for a signal that never came, out of time, or its
    code keeps failing — then ``error`` is a :class:`~durasim.errors.WorkflowTaskError`) or
    "nondeterministic" (a replay mismatch stopped it; see ``error``).
    """

    workflow_id: str
    status: str
    result: Any
    failure: dict[str, Any] | None
    history: History
    histories: list[History]
    trace: Trace
    sim: Simulation
    store: HistoryStore
    error: Exception | None = None
    replays: int = 0
    activity_calls: dict[str, int] = field(default_factory=dict)
    children: dict[str, list[History]] = field(default_factory=dict)
    workflow: Any = None
    """The workflow function that ran (for the Replayer and the ReplayStepper)."""
    answers: list[Answer] = field(default_factory=list)
    """The answers to the run's queries and updates, in the order they were sent."""
    unfired: list[Fault] = field(default_factory=list)
    """Crash faults of the plan that never found their moment (a step the code never
    reached, a time after the run ended): reported, never silently dropped."""
    refused: list[RequestRefused] = field(default_factory=list)
    """Signals, cancellations and terminations the server refused (no such workflow, or
    it had closed), as Temporal's client would have raised them: reported, never
    silently dropped."""

    def raise_for_status(self) -> Any:
        """The result, or the error: WorkflowFailed, NondeterminismError, or still running."""
        if self.status == "completed":
            return self.result
        if self.error is not None:
            raise self.error
        raise WorkflowFailed(f"workflow {self.workflow_id!r} is {self.status}")

    def show(self) -> None:
        """Display the run: its timeline, its full history (replayed events marked) and
        how it ended; as HTML in Jupyter, as text anywhere else (see RUN_VIEWERS)."""
        if RUN_VIEWERS:
            RUN_VIEWERS[-1](self)
            return
        print(self)
        for event in self.history:
            print(f"  {event.event_id:3d} {event.event_type.value}")

    def __repr__(self) -> str:
        unfired = f" unfired={self.unfired!r}" if self.unfired else ""
        refused = f" refused={[str(r) for r in self.refused]!r}" if self.refused else ""
        return (f"<WorkflowRun {self.workflow_id} {self.status} result={self.result!r} "
                f"events={len(self.history)} runs={len(self.histories)}{unfired}{refused}>")

    def _repr_html_(self) -> str:
        head = (f"<p><b>{self.workflow_id}</b>: {self.status}"
                f"{f' → {self.result!r}' if self.status == 'completed' else ''}"
                f"{f' ({self.error})' if self.error else ''}</p>")
        notes = "".join(f"<p><i>{html.escape(repr(f))} never fired.</i></p>"
                        for f in self.unfired) + "".join(
            f"<p><i>{html.escape(str(r))}</i></p>" for r in self.refused)
        return head + notes + self.history._repr_html_()


class EngineCluster:
    """Client, server and worker on one simulation, ready to run workflows.

    The durable architecture builds on this too, adding the bank's services.
    """

    def __init__(self, *, seed: int = 0, faults: FaultPlan | Iterable[Fault] | Fault | None = None,
                 store: HistoryStore | None = None, workflows: Sequence[Any] = (),
                 activities: Sequence[Any] = (), trace: bool = True,
                 executes_effects: bool = True, step_numbers: dict[str, int] | None = None,
                 sim: Simulation | None = None, net: Network | None = None,
                 injector: FaultInjector | None = None, nodes: dict[str, Node] | None = None,
                 step_hook: Callable[[str, int, str, str], None] | None = None,
                 resources: dict[str, Any] | None = None,
                 activity_worker: bool = False) -> None:
        """Build the engine's nodes, on a new simulation or on a given one.

        Args:
            sim, net, injector, nodes: pass all four to put the engine into an existing
                world (the durable architecture adds it beside the bank's services).
            executes_effects: whether activities do their own effects (see Worker).
            step_numbers: activity name -> business step number, for step crashes.
            step_hook: called as ``hook(node, step, name, when)`` where the server takes
                part in a step (dispatching it, recording its completion).
            resources: what activities may use while they run (the durable architecture
                lends its connection to the bank's services).
            activity_worker: run activities on a node of their own, ``"activity_worker"``
                (crash it alone: its death is noticed by heartbeat or start-to-close
                timeouts), leaving ``"worker"`` to run workflow code.

        Raises:
            FaultPlanError: a fault names a node the cluster does not have.
        """
        plan = as_plan(faults)
        if injector is None:  # (an architecture checks the nodes of its whole world)
            own = ["client", "server", "worker"] + (["activity_worker"] if activity_worker else [])
            unknown = unknown_nodes(plan, dict.fromkeys(own), "this run")
            if unknown is not None:
                raise FaultPlanError(unknown)
        self.sim = sim = sim if sim is not None else Simulation(seed=seed, trace=trace)
        self.store = store if store is not None else HistoryStore()
        self.net = net if net is not None else Network(sim, faults=plan)
        self.nodes: dict[str, Node] = nodes if nodes is not None else {}
        self.injector = (injector if injector is not None
                         else FaultInjector(sim, plan, self.nodes))
        workflow_defs, activity_defs = deployment(workflows, activities)
        self._deployed = {workflow_definition(fn).name: workflow_definition(fn)
                          for fn in workflows}
        """Workflows whose code (and what it refers to) the workers already have."""
        self.closed: list[RunRecord] = []
        self.server = Server(sim, self.net, self.store, self.injector,
                             on_close=self.closed.append, step_hook=step_hook,
                             step_numbers=step_numbers,
                             activity_worker="activity_worker" if activity_worker else None)
        self.worker = Worker(sim, self.net, workflows=workflow_defs, activities=activity_defs,
                             injector=self.injector, executes_effects=executes_effects,
                             step_numbers=step_numbers, resources=resources)
        self.workers = [self.worker]
        if activity_worker:
            self.workers.append(Worker(
                sim, self.net, workflows={}, activities=activity_defs, name="activity_worker",
                injector=self.injector, executes_effects=executes_effects,
                step_numbers=step_numbers, resources=resources))
        client = Node(sim, "client")
        for node in (client, self.server.node, *(w.node for w in self.workers)):
            self.nodes[node.name] = node
            self.net.attach(node)
        self.client = Client(sim, self.net, client)

    def start(self) -> None:
        """Boot the server and the workers and arm timed faults."""
        self.server.node.start()
        for worker in self.workers:
            worker.node.start()
        self.injector.arm()

    def submit(self, workflow: Any, *args: Any, workflow_id: str,
               requests: Sequence[Request] = ()) -> None:
        """Have the client start ``workflow`` and send ``requests`` at their times."""
        definition = workflow_definition(workflow)
        if self._deployed.get(definition.name) is not definition:  # new code: deploy it
            workflows, activities = deployment([workflow], ())
            self.worker.workflows.update(workflows)
            for worker in self.workers:
                for name, found in activities.items():
                    worker.activities.setdefault(name, found)
            self._deployed[definition.name] = definition
        self.client.start(workflow_id, definition.name, definition.recorded_input(args),
                          requests)

    def outcome(self, workflow_id: str) -> WorkflowRun:
        """Collect the result of ``workflow_id`` from the store (the source of truth)."""
        records = self.store.runs(workflow_id)
        histories = [_history(r) for r in records]
        status, result, failure, error = self.status(workflow_id)
        children: dict[str, list[History]] = {}
        for record in self.store.runs():
            if record.parent and record.workflow_id != workflow_id:
                children.setdefault(record.workflow_id, []).append(_history(record))
        calls: dict[str, int] = {}
        for worker in self.workers:
            for name, count in worker.activity_calls.items():
                calls[name] = calls.get(name, 0) + count
        return WorkflowRun(workflow_id, status, result, failure,
                           histories[-1] if histories else History(workflow_id=workflow_id),
                           histories, self.sim.trace, self.sim, self.store, error,
                           self.worker.replays, calls, children,
                           answers=list(self.client.answers.values()),
                           unfired=list[Fault](self.injector.unfired),
                           refused=list(self.client.refused))

    def status(self, workflow_id: str
               ) -> tuple[str, Any, dict[str, Any] | None, Exception | None]:
        """How ``workflow_id`` stands, as (status, result, failure, error): what
        :meth:`outcome` reports, without gathering histories (cheap enough to ask for
        each of thousands of workflows)."""
        records = self.store.runs(workflow_id)
        last = records[-1] if records else None
        status, result, failure = "running", None, None
        error: Exception | None = None
        if last is not None and last.events:
            closing = last.events[-1]
            if closing.event_type is EventType.WORKFLOW_EXECUTION_COMPLETED:
                status, result = "completed", closing.attributes.get("result")
            elif closing.event_type is EventType.WORKFLOW_EXECUTION_FAILED:
                status, failure = "failed", closing.attributes.get("failure")
                error = WorkflowFailed(f"workflow {workflow_id!r} failed: "
                                       f"{(failure or {}).get('message')}")
            elif closing.event_type is EventType.WORKFLOW_EXECUTION_CANCELED:
                status = "canceled"
            elif closing.event_type is EventType.WORKFLOW_EXECUTION_TERMINATED:
                status = "terminated"
                error = WorkflowFailed(str(closing.attributes.get("reason", "terminated")))
        mine = [e for e in self.worker.errors if e.workflow_id == workflow_id]
        if mine and status == "running":
            status, error = "nondeterministic", mine[-1]
        broken = self.worker.task_failures.get(workflow_id)
        if broken is not None and status == "running":
            error = WorkflowTaskError(workflow_id, broken)
        return status, result, failure, error


def deployment(workflows: Iterable[Any], activities: Iterable[Any]
               ) -> tuple[dict[str, WorkflowDefinition], dict[str, ActivityDefinition]]:
    """What a worker can run: the workflows, the activities given, and every workflow and
    activity the workflows' code refers to (:func:`referenced_definitions`)."""
    workflow_defs: dict[str, WorkflowDefinition] = {}
    activity_defs: dict[str, ActivityDefinition] = {}
    for fn in workflows:
        definition = workflow_definition(fn)
        workflow_defs[definition.name] = definition
        found_workflows, found_activities = referenced_definitions(fn)
        for name, found in found_workflows.items():
            workflow_defs.setdefault(name, found)
        for name, found_activity in found_activities.items():
            activity_defs.setdefault(name, found_activity)
    activity_defs.update({d.name: d for d in map(activity_definition, activities)})
    return workflow_defs, activity_defs


def _history(record: RunRecord) -> History:
    return History(list(record.events), workflow_id=record.workflow_id,
                   workflow_type=record.workflow_type, run_id=record.run_id)


def execute(workflow: Any, *args: Any, id: str | None = None, seed: int = 0,
            faults: FaultPlan | Iterable[Fault] | Fault | None = None,
            requests: Sequence[Request] = (), store: HistoryStore | None = None,
            activities: Sequence[Any] = (), trace: bool = True,
            until: float = DEFAULT_HORIZON, resume: WorkflowRun | None = None,
            activity_worker: bool = False) -> WorkflowRun:
    """Run ``workflow(*args)`` on a simulated server and worker; return what happened.

    Args:
        workflow: an ``@durasim.workflow`` function.
        id: the workflow id (default: the workflow's name).
        seed: seeds the simulation: same seed and faults, same run.
        faults: crashes and message faults, e.g. ``Crash(node="worker", after_events=7)``.
        requests: what the client sends, each at its time: ``Signal(name, *args, at=t)``
            (``with_start=True`` to send it with the start), ``Query``, ``Update``,
            ``Cancel``, ``Terminate`` (both may name a child's ``workflow_id``); answers
            to queries and updates are in ``run.answers``.
        store: the history store (``SQLiteStore(path)`` survives the process). If it
            already holds an open run of this id, the run is resumed, not restarted.
        activities: activity functions beyond those the workflow's code names.
        trace: record the trace (turn off for speed).
        until: virtual-time horizon.
        resume: a run left open (its workflow code kept failing): deploy ``workflow``
            (the fixed code) on a new worker and carry that run on from its history.
        activity_worker: run the activities on a node of their own (see EngineCluster).

    Example:
        >>> run = durasim.execute(Transfer, 25)  # doctest: +SKIP
        >>> run.status, run.result  # doctest: +SKIP
        ('completed', 'ok')
    """
    definition = workflow_definition(workflow)
    check_seed(seed)
    check_seconds("until", until, allow_infinite=True)
    if resume is not None:
        if store is not None:
            raise ValueError("pass either store= or resume=, not both: resume carries on "
                             "in the run's own store")
        store, id = resume.store, id or resume.workflow_id
    workflow_id = id or definition.name
    cluster = EngineCluster(seed=seed, faults=faults, store=store, workflows=[workflow],
                            activities=activities, trace=trace, activity_worker=activity_worker)
    resumed = cluster.store.runs(workflow_id)
    if resumed and resumed[-1].events:  # pick up where a killed process left off
        cluster.sim.now = max(float(r.state.get("started_at", 0.0)) + r.events[-1].time
                              for r in resumed if r.events)
    cluster.start()
    if not resumed:
        cluster.submit(workflow, *args, workflow_id=workflow_id, requests=requests)
    cluster.sim.run(until=until)
    run = cluster.outcome(workflow_id)
    run.workflow = workflow  # outcome() already named a non-determinism stop
    return run
