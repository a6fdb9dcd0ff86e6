"""Workflows and activities written for another SDK, accepted wherever durasim takes its own.

``durasim.execute(GreetingWorkflow, "World")`` works when ``GreetingWorkflow`` is a
Temporal ``@workflow.defn`` class, and ``activities=[compose_greeting]`` when that is an
``@activity.defn`` function: importing durasim registers :func:`sdk_definition` with the
engine (:func:`~durasim.engine.definitions.register_definition_adapter`). It recognises
the SDK's objects by the attribute the SDK's decorators leave on them, so nothing here
imports ``temporalio``; the bridge that runs them is imported only when one turns up.
"""

from __future__ import annotations

from typing import Any

from durasim.engine.definitions import (
    ActivityDefinition,
    WorkflowDefinition,
    register_definition_adapter,
)

__all__ = ["sdk_definition"]

_WORKFLOW = "__temporal_workflow_definition"
_ACTIVITY = "__temporal_activity_definition"


def _marker(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, None)
    except Exception:  # an object whose __getattr__ raises is not an SDK definition
        return None


def sdk_definition(obj: Any) -> WorkflowDefinition | ActivityDefinition | None:
    """The durasim definition of a Temporal SDK workflow class (or its ``@workflow.run``
    method) or activity function; None for anything else."""
    workflow = _marker(obj, _WORKFLOW)
    if workflow is not None:
        cls = _marker(workflow, "cls")
        if isinstance(cls, type) and (obj is cls or not isinstance(obj, type)):
            from durasim.bridges.temporal.sdk_workflow import sdk_workflow_definition

            return sdk_workflow_definition(cls)
    if _marker(obj, _ACTIVITY) is not None and callable(obj):
        from durasim.bridges.temporal.sdk_activities import sdk_activity_definition

        return sdk_activity_definition(obj)
    return None


register_definition_adapter(sdk_definition)
