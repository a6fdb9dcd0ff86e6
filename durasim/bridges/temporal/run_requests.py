"""What ``execute_on_temporal`` sends a running workflow: the simulator's requests, for real.

``durasim.execute(..., requests=[...])`` delivers Signals, Queries, Updates, Cancels and
Terminates at virtual times; here the same requests go to a real server through the
client, in order of ``at``, after the first workflow task completed (so the history shows
the workflow parked, as in the simulator), ``min(at, max_delay)`` real seconds in. A query
or update is answered before the next request is sent; answers land in ``Answer``s as
``run.answers`` holds them. A ``Signal(with_start=True)`` goes with the start request
(:func:`start_signal`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from durasim.engine.client import (
    Answer,
    Cancel,
    Query,
    Request,
    RequestRefused,
    Signal,
    Terminate,
    Update,
)

__all__ = ["answers_for", "send_requests", "start_signal"]

_FIRST_TASK_POLL = 0.05


def start_signal(requests: Sequence[Request]) -> dict[str, Any]:
    """The ``client.start_workflow`` options for the request's signal-with-start, if any.

    Raises:
        ValueError: more than one: Temporal's start request carries one signal.
    """
    first = [r for r in requests if isinstance(r, Signal) and r.with_start]
    if len(first) > 1:
        raise ValueError("a real Temporal start request carries one signal: give at most one "
                         "Signal(with_start=True)")
    return ({"start_signal": first[0].name, "start_signal_args": list(first[0].args)}
            if first else {})


def answers_for(requests: Sequence[Request]) -> list[Answer]:
    """An empty Answer for each query and update, in the order they are sent."""
    return [Answer(r) for r in _in_order(requests) if isinstance(r, Query | Update)]


def _in_order(requests: Sequence[Request]) -> list[Request]:
    later = [r for r in requests if not (isinstance(r, Signal) and r.with_start)]
    return sorted(later, key=lambda r: r.at)


async def _first_task_completed(handle: Any) -> bool:
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_task_completed_event_attributes"):
            return True
    return False


def _reason(error: BaseException) -> str:
    """An update's refusal or a query's failure as the simulator words it."""
    cause = getattr(error, "cause", None) or error
    kind = getattr(cause, "type", None)
    message = getattr(cause, "message", None) or str(cause)
    return f"rejected: {kind}: {message}" if kind else str(message)


async def send_requests(sdk: Any, client: Any, workflow_id: str, requests: Sequence[Request],
                        answers: list[Answer], refused: list[RequestRefused],
                        max_delay: float) -> None:
    """Send ``requests`` (but the signal-with-start) and fill ``answers`` (those of
    :func:`answers_for`) as queries and updates are answered; a signal, cancellation or
    termination the server refuses (``NOT_FOUND``) goes to ``refused``, as in a
    ``WorkflowRun``."""
    handle = client.get_workflow_handle(workflow_id)
    while not await _first_task_completed(handle):
        await asyncio.sleep(_FIRST_TASK_POLL)
    loop = asyncio.get_running_loop()
    began = loop.time()
    waiting = iter(answers)
    for request in _in_order(requests):
        delay = min(request.at, max_delay) - (loop.time() - began)
        if delay > 0:
            await asyncio.sleep(delay)
        target_id = getattr(request, "workflow_id", None) or workflow_id
        target = client.get_workflow_handle(target_id)
        try:
            if isinstance(request, Signal):
                await target.signal(request.name, args=list(request.args))
            elif isinstance(request, Cancel):
                await target.cancel()
            elif isinstance(request, Terminate):
                await target.terminate(reason=request.reason)
            else:
                answer = next(waiting)
                send = target.query if isinstance(request, Query) else target.execute_update
                try:
                    answer.value = await send(request.name, args=list(request.args))
                except (sdk.WorkflowQueryFailedError, sdk.WorkflowUpdateFailedError) as exc:
                    answer.error = _reason(exc)
        except sdk.RPCError as exc:  # no such workflow, or it closed: nobody to tell
            if exc.status != sdk.RPCStatusCode.NOT_FOUND:
                raise
            refused.append(RequestRefused(request, target_id, "NOT_FOUND", exc.message))
