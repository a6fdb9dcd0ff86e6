"""The same Temporal SDK classes the simulator ran, on a real Temporal worker.

``run_on_temporal(GreetingWorkflow, "World", server=...)`` must run the student's class
itself, not a durasim translation of it: :func:`sdk_worker` starts a plain ``temporalio``
``Worker`` serving the workflow classes and ``@activity.defn`` functions, found as
``durasim.execute`` finds them (the class, the children and activities its code names,
and those passed in). Then the two histories can be compared event by event.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from durasim.bridges.sdk_objects import sdk_definition
from durasim.engine.api import deployment

__all__ = ["is_sdk_workflow", "sdk_worker"]

#: Sync activities run on threads on a real worker, as the SDK requires.
_ACTIVITY_THREADS = 4


def is_sdk_workflow(obj: Any) -> bool:
    """Is ``obj`` a Temporal ``@workflow.defn`` class (or its run method)?"""
    definition = sdk_definition(obj) if obj is not None else None
    return definition is not None and getattr(definition, "origin", None) is not None


@contextlib.asynccontextmanager
async def sdk_worker(client: Any, *, workflows: Sequence[Any], activities: Sequence[Any],
                     task_queue: str, identity: str,
                     activity_task_queues: Sequence[str] = ()) -> AsyncIterator[None]:
    """A real ``temporalio`` worker for SDK ``workflows`` (classes) and their activities,
    for the length of an ``async with`` block; and one activity worker per queue of
    ``activity_task_queues`` (a workflow that sends its activities to a fleet of their own,
    ``execute_activity(..., task_queue=...)``)."""
    from temporalio.worker import UnsandboxedWorkflowRunner, Worker

    found_workflows, found_activities = deployment(workflows, activities)
    classes = [d.origin for d in found_workflows.values() if d.origin is not None]
    if len(classes) != len(found_workflows):
        names = sorted(n for n, d in found_workflows.items() if d.origin is None)
        raise TypeError(f"a Temporal SDK worker cannot serve durasim workflows ({names}): "
                        "run those with durasim's own bridge worker")
    wrapped = {n: getattr(d.fn, "__wrapped__", None) for n, d in found_activities.items()}
    functions = [fn for fn in wrapped.values() if fn is not None]
    durasim_only = sorted(n for n, fn in wrapped.items() if fn is None)
    if durasim_only:
        raise TypeError(f"a Temporal SDK worker cannot run durasim activities "
                        f"({durasim_only}); give it @activity.defn functions")
    # the SDK's sandbox re-imports a workflow's module, which a notebook's __main__ is not
    sandbox_ok = all(cls.__module__ != "__main__" for cls in classes)
    options: dict[str, Any] = {} if sandbox_ok else {
        "workflow_runner": UnsandboxedWorkflowRunner()}
    with concurrent.futures.ThreadPoolExecutor(_ACTIVITY_THREADS) as threads:
        async with contextlib.AsyncExitStack() as workers:
            await workers.enter_async_context(Worker(
                client, task_queue=task_queue, workflows=classes, activities=functions,
                activity_executor=threads, identity=identity, **options))
            for queue in activity_task_queues:
                await workers.enter_async_context(Worker(
                    client, task_queue=queue, activities=functions,
                    activity_executor=threads, identity=identity))
            yield
