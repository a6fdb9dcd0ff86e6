"""Run a durasim workflow on a real Temporal server and bring back what Temporal recorded.

:func:`execute_on_temporal` (and its short form :func:`run_on_temporal`) starts a durasim
worker (``adapter.durasim_worker``) for the call, starts the workflow, sends its signals,
waits for the result, and fetches every run's history (and its children's) as durasim
:class:`~durasim.History` objects, ready for ``durasim.compare_histories`` against the
simulator's. :func:`fetch_history` reads any workflow's history from a server.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from durasim.bridges.temporal.adapter import (
    DEFAULT_TASK_QUEUE,
    WORKER_IDENTITY,
    _sdk,
    durasim_worker,
)
from durasim.bridges.temporal.devserver import TemporalDevServer
from durasim.bridges.temporal.install import TemporalServerError
from durasim.bridges.temporal.run_requests import answers_for, send_requests, start_signal
from durasim.bridges.temporal.sdk_deploy import is_sdk_workflow, sdk_worker
from durasim.engine.client import Answer, Request, RequestRefused
from durasim.engine.definitions import workflow_definition
from durasim.engine.history import EventType, History

__all__ = [
    "CLIENT_IDENTITY",
    "MAX_SIGNAL_DELAY",
    "TemporalRun",
    "execute_on_temporal",
    "execute_on_temporal_async",
    "fetch_history",
    "run_on_temporal",
]

#: A fixed identity keeps host names and pids out of the histories a class looks at.
CLIENT_IDENTITY = "durasim-bridge-client"
#: A simulated ``Signal(at=t)`` is sent ``min(t, this)`` real seconds into the run.
MAX_SIGNAL_DELAY = 2.0
#: How the last run's closing event names the run's end, as ``WorkflowRun.status`` does.
_CLOSED = {
    EventType.WORKFLOW_EXECUTION_COMPLETED: "completed",
    EventType.WORKFLOW_EXECUTION_FAILED: "failed",
    EventType.WORKFLOW_EXECUTION_TIMED_OUT: "failed",
    EventType.WORKFLOW_EXECUTION_CANCELED: "canceled",
    EventType.WORKFLOW_EXECUTION_TERMINATED: "terminated",
}


@dataclass
class TemporalRun:
    """What happened to one workflow on real Temporal, shaped like a ``WorkflowRun``.

    ``status`` is "completed", "failed", "canceled", "terminated" (as in a
    ``WorkflowRun``) or "running" (it did not finish within the timeout; it was then
    terminated so nothing is left behind, and ``history`` is what it had recorded until
    then). ``histories`` holds every run (continue-as-new), ``history`` the last;
    ``children`` maps each child workflow id to its runs' histories, once the child ended
    (a child its parent left running too: see ``timeout``); ``answers`` holds the answers
    to the queries and updates sent, in order, and ``refused`` the signals, cancellations
    and terminations the server refused (``NOT_FOUND``).
    """

    workflow_id: str
    status: str
    result: Any
    failure: dict[str, Any] | None
    history: History
    histories: list[History]
    children: dict[str, list[History]] = field(default_factory=dict)
    answers: list[Answer] = field(default_factory=list)
    refused: list[RequestRefused] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"<TemporalRun {self.workflow_id} {self.status} result={self.result!r} "
                f"events={len(self.history)} runs={len(self.histories)}>")

    def _repr_html_(self) -> str:
        return self.history._repr_html_()


def _target(server: Any) -> tuple[str, str]:
    """(address, namespace) of a TemporalDevServer, or of a ``"host:port"`` string."""
    if isinstance(server, str):
        return server, TemporalDevServer.namespace
    address = getattr(server, "address", None)
    if not isinstance(address, str):
        raise TypeError(f"server must be a TemporalDevServer or a 'host:port' string, "
                        f"got {server!r}")
    return address, str(getattr(server, "namespace", TemporalDevServer.namespace))


async def _connect(server: Any) -> Any:
    sdk = _sdk()
    address, namespace = _target(server)
    try:
        return await sdk.Client.connect(address, namespace=namespace, identity=CLIENT_IDENTITY)
    except RuntimeError as exc:  # the SDK's "failed client connect"
        raise TemporalServerError(f"Could not reach Temporal at {address}: {exc}") from exc


async def _fetch(client: Any, workflow_id: str, run_id: str | None = None) -> History:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    history = History.from_temporal_json((await handle.fetch_history()).to_json())
    history.source = f"temporal:{workflow_id}" + (f"/{run_id}" if run_id else "")
    return history


async def _all_runs(client: Any, workflow_id: str, first_run_id: str | None) -> list[History]:
    """Every run of ``workflow_id`` from ``first_run_id``, following continue-as-new."""
    runs: list[History] = []
    run_id = first_run_id
    while True:
        history = await _fetch(client, workflow_id, run_id)
        runs.append(history)
        last = history.events[-1] if history.events else None
        if last is None or last.event_type is not EventType.WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            return runs
        run_id = str(last.attributes.get("newExecutionRunId", "")) or None
        if run_id is None or len(runs) > 10_000:
            return runs


async def _closed(client: Any, workflow_id: str, seconds: float) -> None:
    """Wait up to ``seconds`` for ``workflow_id`` to close however it closes; terminate it
    if it did not (nothing is left running on a shared server)."""
    sdk = _sdk()
    handle = client.get_workflow_handle(workflow_id)
    try:
        await asyncio.wait_for(handle.result(), max(seconds, 0.0))
    except sdk.WorkflowFailureError:
        pass  # failed, cancelled or terminated: closed
    except TimeoutError:
        with contextlib.suppress(sdk.RPCError):
            await handle.terminate(reason="durasim: not finished within the run's timeout")


async def _children(client: Any, histories: Iterable[History], found: dict[str, list[History]],
                    deadline: float) -> dict[str, list[History]]:
    """The histories of every child (and grandchild) started in ``histories``.

    Each child runs to its end first (until the loop's clock reaches ``deadline``): one
    its parent left behind is ended by its parent close policy, or runs on alone, after
    the parent closed, and what it then records belongs to the comparison.
    """
    loop = asyncio.get_running_loop()
    for history in histories:
        for event in history:
            if event.event_type is not EventType.CHILD_WORKFLOW_EXECUTION_STARTED:
                continue
            execution = event.attributes.get("workflowExecution") or {}
            child_id = execution.get("workflowId")
            if not child_id or child_id in found:
                continue
            await _closed(client, child_id, deadline - loop.time())
            found[child_id] = await _all_runs(client, child_id, execution.get("runId"))
            await _children(client, found[child_id], found, deadline)
    return found


async def execute_on_temporal_async(
    workflow: Any, *args: Any, server: Any, activities: Sequence[Any] = (),
    workflows: Sequence[Any] = (), requests: Sequence[Request] = (), id: str | None = None,
    task_queue: str = DEFAULT_TASK_QUEUE, timeout: float = 60.0,
    max_signal_delay: float = MAX_SIGNAL_DELAY, activity_task_queues: Sequence[str] = (),
) -> TemporalRun:
    """:func:`execute_on_temporal` for code that already runs an event loop (``await`` it)."""
    if timeout <= 0 or max_signal_delay < 0:
        raise ValueError("timeout must be > 0 and max_signal_delay >= 0 seconds")
    definition = workflow_definition(workflow)
    workflow_id = id or definition.name
    sdk = _sdk()
    deadline = asyncio.get_running_loop().time() + timeout
    client = await _connect(server)
    if activity_task_queues and not is_sdk_workflow(workflow):
        raise ValueError("activity_task_queues= is for Temporal SDK workflows; a durasim "
                         "workflow runs its activities on task_queue")
    worker = (sdk_worker(client, workflows=[workflow, *workflows], activities=activities,
                         task_queue=task_queue, identity=WORKER_IDENTITY,
                         activity_task_queues=activity_task_queues)
              if is_sdk_workflow(workflow) else
              durasim_worker(client, workflows=[workflow, *workflows], activities=activities,
                             task_queue=task_queue))
    async with worker:
        handle = await client.start_workflow(definition.name,
                                             args=definition.recorded_input(args),
                                             id=workflow_id, task_queue=task_queue,
                                             **start_signal(requests))
        answers = answers_for(requests)
        refused: list[RequestRefused] = []
        sender = (asyncio.ensure_future(send_requests(sdk, client, workflow_id, requests,
                                                      answers, refused, max_signal_delay))
                  if requests else None)
        result = None
        try:
            result = await asyncio.wait_for(handle.result(), timeout)
        except (sdk.WorkflowFailureError, TimeoutError):
            pass
        finally:  # requests still due go out (a query may ask a closed workflow) until
            if sender is not None:  # the deadline; then they are given up
                left = deadline - asyncio.get_running_loop().time()
                await asyncio.wait([sender], timeout=max(left, 0.0))
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)
        request_error = (sender.exception() if sender is not None and not sender.cancelled()
                        else None)
        first_run = handle.first_execution_run_id or handle.run_id
        histories = await _all_runs(client, workflow_id, first_run)
        events = histories[-1].events
        status = _CLOSED.get(events[-1].event_type, "running") if events else "running"
        if status == "running":  # leave nothing behind on a shared server
            with contextlib.suppress(sdk.RPCError):
                await client.get_workflow_handle(workflow_id).terminate(
                    reason=f"durasim: not finished within {timeout:g} s")
        children = await _children(client, histories, {}, deadline)
    if request_error is not None:
        raise TemporalServerError(f"could not send {workflow_id!r} a request: "
                                  f"{type(request_error).__name__}: {request_error}"
                                  ) from request_error
    closing = histories[-1].events[-1].attributes if histories[-1].events else {}
    failure = closing.get("failure") if status == "failed" else None
    return TemporalRun(workflow_id, status, result, failure, histories[-1], histories, children,
                       answers, refused)


def _run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` to completion from sync code, also inside Jupyter's running loop.

    A kernel already runs an event loop in this thread, where ``asyncio.run`` refuses to
    start; then the coroutine gets a fresh loop in a helper thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="durasim-temporal") as pool:
        return pool.submit(asyncio.run, coro).result()


def execute_on_temporal(
    workflow: Any, *args: Any, server: Any, activities: Sequence[Any] = (),
    workflows: Sequence[Any] = (), requests: Sequence[Request] = (), id: str | None = None,
    task_queue: str = DEFAULT_TASK_QUEUE, timeout: float = 60.0,
    max_signal_delay: float = MAX_SIGNAL_DELAY, activity_task_queues: Sequence[str] = (),
) -> TemporalRun:
    """Run a workflow on a real Temporal server; return what Temporal recorded.

    The same workflow ``durasim.execute`` simulates runs here on a ``temporalio`` worker
    (started for the call, stopped after), so the two histories can be compared event by
    event. A Temporal SDK class (and its ``@activity.defn`` functions) runs on a plain SDK
    worker, exactly as deployed; an ``@durasim.workflow`` through durasim's adapter.

    Args:
        workflow: an ``@durasim.workflow`` function or a ``@workflow.defn`` class.
        *args: its input (JSON values).
        server: a running :class:`TemporalDevServer` or a ``"host:port"`` address.
        activities: activity functions (default: every ``@durasim.activity`` defined).
        workflows: more workflows the worker must know (children; default: all defined).
        requests: what ``durasim.execute`` takes (``Signal``, ``Query``, ``Update``,
            ``Cancel``, ``Terminate``), sent in order of ``at`` once the first workflow task
            completed, ``min(at, max_signal_delay)`` real seconds in (a query or update
            after the previous one was answered); at most one ``Signal(with_start=True)``,
            which goes with the start request.
        id: the workflow id (default: the workflow's name, as in ``durasim.execute``).
        task_queue: the queue the worker polls; one call at a time per queue.
        timeout: real seconds to wait for the result; then the workflow is terminated and
            the run reported as "running". Children (those the parent left running
            included) get until the same moment to end, then are terminated.
        max_signal_delay: caps the real delay a simulated signal time maps to.
        activity_task_queues: more task queues to serve the activities on (a Temporal SDK
            workflow that sends them to ``execute_activity(..., task_queue=...)``).

    Raises:
        TemporalServerError: ``temporalio`` is missing or the server cannot be reached.

    Example:
        >>> with TemporalDevServer() as server:  # doctest: +SKIP
        ...     run = execute_on_temporal(Transfer, 100, server=server)
        >>> run.history.event_types(compact=True)  # doctest: +SKIP
        ['WorkflowExecutionStarted', 'ActivityTaskScheduled', ...]
    """
    run: TemporalRun = _run_sync(execute_on_temporal_async(
        workflow, *args, server=server, activities=activities, workflows=workflows,
        requests=requests, id=id, task_queue=task_queue, timeout=timeout,
        max_signal_delay=max_signal_delay, activity_task_queues=activity_task_queues))
    return run


def run_on_temporal(
    workflow: Any, *args: Any, server: Any, activities: Sequence[Any] = (),
    requests: Sequence[Request] = (), id: str | None = None,
    task_queue: str = DEFAULT_TASK_QUEUE, timeout: float = 60.0,
) -> History:
    """Run a durasim workflow on real Temporal and return its (last run's) real history.

    The short form of :func:`execute_on_temporal`, which also gives the result, every
    continue-as-new run and the children's histories.
    """
    return execute_on_temporal(workflow, *args, server=server, activities=activities,
                               requests=requests, id=id, task_queue=task_queue,
                               timeout=timeout).history


def fetch_history(server: Any, workflow_id: str, run_id: str | None = None) -> History:
    """The history Temporal keeps for ``workflow_id`` (its latest run unless ``run_id``)."""

    async def fetch() -> History:
        return await _fetch(await _connect(server), workflow_id, run_id)

    history: History = _run_sync(fetch())
    return history


