"""What an activity can know and do while it runs: its info, heartbeats, virtual time.

An activity is plain code; the worker runs it inside a kernel process and, for as long as
that process runs, a context variable points at the activity's :class:`ActivityScope`.
``activity_info()`` and ``heartbeat()`` read it, so they work from any depth of the
activity's own calls without being passed around, and two activities running at once on
one worker never see each other's info.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from durasim.errors import DurasimError


@dataclass(frozen=True)
class ActivityInfo:
    """What an activity can know about the call it is serving.

    ``idempotency_key`` is the same for every attempt of one activity of one workflow,
    across retries and crashes: pass it to the service so a repeated call is a no-op.
    ``heartbeat_details`` are the details of the last heartbeat the server heard from an
    earlier attempt (empty on the first): where a long call resumes after a crash.
    """

    attempt: int
    workflow_id: str
    activity_id: str
    activity_type: str
    run_id: str
    heartbeat_details: tuple[Any, ...] = ()

    @property
    def idempotency_key(self) -> str:
        """``"<workflow id>/<activity id>"``: stable across retries and crashes."""
        return f"{self.workflow_id}/{self.activity_id}"


@dataclass
class ActivityScope:
    """The running activity: its info, the kernel it runs on and what its host lent it.

    Attributes:
        info: the :class:`ActivityInfo`.
        sim: the simulation (``activity_sleep`` spends its virtual time).
        resources: what the host put at activities' disposal (the durable architecture
            lends its connection to the bank's services here).
        on_heartbeat: called with the details of each ``heartbeat()``.
    """

    info: ActivityInfo
    sim: Any
    resources: Mapping[str, Any] = field(default_factory=dict)
    on_heartbeat: Callable[[tuple[Any, ...]], None] | None = None


CURRENT_ACTIVITY: ContextVar[ActivityScope | None] = ContextVar("durasim_activity",
                                                                 default=None)


def current_activity(what: str) -> ActivityScope:
    """The running activity's scope; ``what`` names the call for the error outside one."""
    scope = CURRENT_ACTIVITY.get()
    if scope is None:
        raise DurasimError(f"{what} is only available inside a running activity (it was "
                           "called from workflow code or outside durasim)")
    return scope


def activity_info() -> ActivityInfo:
    """The :class:`ActivityInfo` of the activity running now (call it inside one)."""
    return current_activity("activity_info()").info


def heartbeat(*details: Any) -> None:
    """Tell the server this activity is alive, with ``details`` to resume from.

    With ``heartbeat_timeout=`` on ``ctx.activity``, an attempt that stops heartbeating
    (its process was killed) is given up after that timeout rather than the whole
    start-to-close timeout, and the next attempt finds ``details`` in
    ``activity_info().heartbeat_details``.
    """
    scope = current_activity("heartbeat()")
    if scope.on_heartbeat is not None:
        scope.on_heartbeat(tuple(details))


def activity_sleep(seconds: float) -> Any:
    """Inside an ``async`` activity: ``await activity_sleep(s)`` spends ``s`` seconds of
    virtual time, like a slow API call (a crash meanwhile loses the call)."""
    scope = current_activity("activity_sleep()")
    if scope.sim is None:
        raise DurasimError("activity_sleep() needs a simulated worker; on a real Temporal "
                           "worker use asyncio.sleep")
    return scope.sim.timeout(seconds)


def activity_resource(name: str) -> Any:
    """What the activity's host lent it under ``name`` (the bank's services, say).

    Raises:
        DurasimError: outside an activity, or on a worker that lends no such thing.
    """
    scope = current_activity(f"activity_resource({name!r})")
    try:
        return scope.resources[name]
    except KeyError:
        raise DurasimError(f"activity {scope.info.activity_type!r} needs {name!r}, which its "
                           "worker does not provide: run it through the architecture that "
                           "does (durasim.run(scenario, 'durable'))") from None
