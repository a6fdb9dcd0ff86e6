"""durasim: teach durable execution by simulation.

Run the same business process on a monolith, an event-driven system and a durable-
execution engine, crash any of them at any step, and watch what each one does about it.
The engine records Temporal-shaped event histories, so what you see here is what the real
platform records.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from durasim.api import Comparison, compare, run
from durasim.architectures import ARCHITECTURES, Architecture, Run, get_architecture
from durasim.architectures.services import ServiceError, ServiceTimeout
from durasim.bridges import sdk_objects as _sdk_objects  # noqa: F401 (Temporal SDK code in execute)
from durasim.checks import CheckReport, CheckResult
from durasim.core import NodeCrashed, Simulation
from durasim.engine.activity import ActivityInfo, activity_info, activity_sleep
from durasim.engine.api import RUN_VIEWERS, EngineCluster, WorkflowRun, execute
from durasim.engine.client import Signal
from durasim.engine.context import WorkflowContext
from durasim.engine.definitions import activity, workflow
from durasim.engine.failures import ActivityError, ApplicationError, ChildWorkflowError
from durasim.engine.history import EventType, History, HistoryEvent
from durasim.engine.replayer import Replayer, ReplayResult
from durasim.engine.retry import RetryPolicy
from durasim.engine.store import HistoryStore, MemoryStore, SQLiteStore
from durasim.errors import (
    DurasimError,
    FaultPlanError,
    HistoryFormatError,
    NondeterminismError,
    ScenarioError,
    WorkflowFailed,
)
from durasim.faults import (
    Crash,
    DelayMessage,
    DropMessage,
    DuplicateMessage,
    FailActivity,
    FaultPlan,
    Partition,
)
from durasim.history_compare import HistoryComparison, compare_histories
from durasim.i18n import get_language, set_language
from durasim.network import Network
from durasim.node import Node
from durasim.scenarios import SCENARIOS, Scenario, Step, get_scenario
from durasim.trace import Trace, TraceEvent


def _show_run(run: WorkflowRun) -> None:
    """WorkflowRun.show(): the engine cannot import the pictures drawn above it."""
    from durasim.viz.workflow_run import show_run

    show_run(run)


RUN_VIEWERS.append(_show_run)

try:
    __version__ = version("durasim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = [
    "ARCHITECTURES",
    "SCENARIOS",
    "ActivityError",
    "ActivityInfo",
    "ApplicationError",
    "Architecture",
    "CheckReport",
    "CheckResult",
    "ChildWorkflowError",
    "Comparison",
    "Crash",
    "DelayMessage",
    "DropMessage",
    "DuplicateMessage",
    "DurasimError",
    "EngineCluster",
    "EventType",
    "FailActivity",
    "FaultPlan",
    "FaultPlanError",
    "History",
    "HistoryComparison",
    "HistoryEvent",
    "HistoryFormatError",
    "HistoryStore",
    "MemoryStore",
    "Network",
    "Node",
    "NodeCrashed",
    "NondeterminismError",
    "Partition",
    "ReplayResult",
    "Replayer",
    "RetryPolicy",
    "Run",
    "SQLiteStore",
    "Scenario",
    "ScenarioError",
    "ServiceError",
    "ServiceTimeout",
    "Signal",
    "Simulation",
    "Step",
    "Trace",
    "TraceEvent",
    "WorkflowContext",
    "WorkflowFailed",
    "WorkflowRun",
    "__version__",
    "activity",
    "activity_info",
    "activity_sleep",
    "compare",
    "compare_histories",
    "execute",
    "get_architecture",
    "get_language",
    "get_scenario",
    "run",
    "set_language",
    "workflow",
]
