"""Where any workflow can be crashed: the search space of ``fault_plans(workflow=...)``.

The scenarios name their business steps; a student's own workflow (an ``@durasim.workflow``
function or a Temporal SDK class) names nothing, so its crash points are read off one
crash-free run: its activities, numbered in the order it schedules them (what
``Crash(at_step=k)`` means for ``durasim.execute``: the worker running the k-th activity,
before or after its effect), and the events of its history (``Crash(after_events=k)`` on
the worker or the server).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from durasim.engine.api import execute
from durasim.engine.definitions import workflow_definition
from durasim.engine.history import EventType

__all__ = ["CrashPoints", "crash_points"]

_KNOWN: WeakKeyDictionary[Any, dict[str, CrashPoints]] = WeakKeyDictionary()


@dataclass(frozen=True)
class CrashPoints:
    """A workflow's crash points, from a crash-free run.

    Attributes:
        steps: activity numbers ``1..n`` (the most any run of it scheduled).
        events: events of its history (every run, after continue-as-new).
    """

    steps: tuple[int, ...]
    events: int


def crash_points(workflow: Any, args: Sequence[Any] = (), *, activities: Sequence[Any] = (),
                 requests: Sequence[Any] = ()) -> CrashPoints:
    """Run ``workflow(*args)`` once without faults (with the client's ``requests``: signals,
    updates...) and read where it can be crashed.

    Raises:
        ValueError: the crash-free run does not complete (nothing to compare crashes with).
    """
    definition = workflow_definition(workflow)
    key = json.dumps([definition.recorded_input(args), [repr(r) for r in requests],
                      [getattr(a, "__name__", repr(a)) for a in activities]], sort_keys=True,
                     default=repr)
    known = _KNOWN.setdefault(workflow, {})
    if key not in known:
        run = execute(workflow, *args, activities=activities, requests=requests, trace=False)
        if run.status not in ("completed", "failed", "canceled"):
            raise ValueError(f"{definition.name} did not finish without faults "
                             f"({run.status}: {run.error}); fix it before crashing it")
        scheduled = max(sum(1 for e in h if e.event_type is EventType.ACTIVITY_TASK_SCHEDULED)
                        for h in run.histories)
        known[key] = CrashPoints(tuple(range(1, scheduled + 1)),
                                 sum(len(h) for h in run.histories))
    return known[key]
