"""durasim: teach durable execution by simulation.

Run the same business process on a monolith, an event-driven system and a durable-
execution engine, crash any of them at any step, and watch what each one does about it.
The engine records Temporal-shaped event histories, so what you see here is what the real
platform records.

This front door holds what a notebook needs; the rest lives in its subpackage:
``durasim.engine`` (workflow machinery, histories, stores), ``durasim.scenarios``,
``durasim.architectures``, ``durasim.viz``, ``durasim.widgets``, ``durasim.strategies``,
``durasim.errors``, and the kernel (``durasim.core``, ``durasim.node``, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from durasim.api import compare, run
from durasim.bridges import sdk_objects as _sdk_objects  # noqa: F401 (Temporal SDK code in execute)
from durasim.days import DAY_VIEWERS as _DAY_VIEWERS
from durasim.days import Day as _Day
from durasim.days import day
from durasim.engine.activity import activity_info, heartbeat
from durasim.engine.api import RUN_VIEWERS as _RUN_VIEWERS
from durasim.engine.api import WorkflowRun as _WorkflowRun
from durasim.engine.api import execute
from durasim.engine.client import Cancel, Query, Signal, Update
from durasim.engine.definitions import activity, workflow
from durasim.engine.failures import ActivityError, ApplicationError
from durasim.engine.history import HISTORY_VIEWERS as _HISTORY_VIEWERS
from durasim.engine.history import History
from durasim.engine.replayer import Replayer
from durasim.engine.retry import RetryPolicy
from durasim.engine.store import SQLiteStore
from durasim.errors import DurasimError
from durasim.faults import (
    Crash,
    DelayMessage,
    DropMessage,
    DuplicateMessage,
    FailActivity,
    FaultPlan,
    Partition,
)
from durasim.history_compare import compare_histories
from durasim.i18n import set_language


def _show_run(workflow_run: _WorkflowRun) -> None:
    """WorkflowRun.show(): the engine cannot import the pictures drawn above it."""
    from durasim.viz.workflow_run import show_run

    show_run(workflow_run)


_RUN_VIEWERS.append(_show_run)


def _show_days(days: Sequence[_Day]) -> Any:
    """Day.show(): the picture of a bank's day, drawn by durasim.viz."""
    from durasim.viz.day import day_figure

    return day_figure(days)


_DAY_VIEWERS.append(_show_days)

_WIDGETS = ("CrashLab", "ReplayStepper")


def __getattr__(name: str) -> Any:
    """The widgets load ipywidgets: only when a notebook asks for them."""
    if name in _WIDGETS:
        import durasim.widgets

        return getattr(durasim.widgets, name)
    raise AttributeError(f"module 'durasim' has no attribute {name!r}; the front door "
                         f"holds {', '.join(__all__)}; the rest is in a subpackage "
                         "(durasim.engine, durasim.scenarios, durasim.errors, ...)")


def _history_table(history: History) -> str:
    """History._repr_html_: the event table durasim.viz draws, as for WorkflowRun.show()."""
    from durasim.viz.history import history_table_html

    return history_table_html(history)


_HISTORY_VIEWERS.append(_history_table)

try:
    __version__ = version("durasim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = [
    "ActivityError",
    "ApplicationError",
    "Cancel",
    "Crash",
    "CrashLab",
    "DelayMessage",
    "DropMessage",
    "DuplicateMessage",
    "DurasimError",
    "FailActivity",
    "FaultPlan",
    "History",
    "Partition",
    "Query",
    "ReplayStepper",
    "Replayer",
    "RetryPolicy",
    "SQLiteStore",
    "Signal",
    "Update",
    "activity",
    "activity_info",
    "compare",
    "compare_histories",
    "day",
    "execute",
    "heartbeat",
    "run",
    "set_language",
    "workflow",
]
