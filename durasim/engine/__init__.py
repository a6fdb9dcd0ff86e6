"""The durable-execution engine: workflows, activities, histories, replay.

Its public names, for code that wants more than :mod:`durasim`'s front door::

    from durasim.engine import ApplicationError, RetryPolicy, workflow, activity, execute

Read it in this order to learn how replay works: :mod:`~durasim.engine.commands` (what
workflow code asks for), :mod:`~durasim.engine.runtime` (feeding history to the code and
matching its commands), :mod:`~durasim.engine.worker` and :mod:`~durasim.engine.server`
(who runs what), :mod:`~durasim.engine.recovery` (a restarted server reading its store).
"""

from __future__ import annotations

from durasim.engine.activation import Activation
from durasim.engine.activity import (
    ActivityInfo,
    activity_info,
    activity_resource,
    activity_sleep,
    heartbeat,
)
from durasim.engine.api import EngineCluster, WorkflowRun, execute
from durasim.engine.client import (
    Answer,
    Cancel,
    Query,
    RequestRefused,
    Signal,
    Terminate,
    Update,
)
from durasim.engine.context import WorkflowContext
from durasim.engine.definitions import (
    ActivityDefinition,
    WorkflowDefinition,
    activity,
    activity_definition,
    workflow,
    workflow_definition,
)
from durasim.engine.failures import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
    TerminatedError,
    TimeoutError,
)
from durasim.engine.history import EventType, History, HistoryEvent
from durasim.engine.replayer import Replayer, ReplayResult
from durasim.engine.retry import RetryPolicy
from durasim.engine.store import HistoryStore, MemoryStore, SQLiteStore

__all__ = [
    "Activation",
    "ActivityDefinition",
    "ActivityError",
    "ActivityInfo",
    "Answer",
    "ApplicationError",
    "Cancel",
    "CancelledError",
    "ChildWorkflowError",
    "EngineCluster",
    "EventType",
    "History",
    "HistoryEvent",
    "HistoryStore",
    "MemoryStore",
    "Query",
    "ReplayResult",
    "Replayer",
    "RequestRefused",
    "RetryPolicy",
    "SQLiteStore",
    "Signal",
    "Terminate",
    "TerminatedError",
    "TimeoutError",
    "Update",
    "WorkflowContext",
    "WorkflowDefinition",
    "WorkflowRun",
    "activity",
    "activity_definition",
    "activity_info",
    "activity_resource",
    "activity_sleep",
    "execute",
    "heartbeat",
    "workflow",
    "workflow_definition",
]
