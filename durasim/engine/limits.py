"""The few limits durasim puts on a workflow, so that no run can go on for ever.

Temporal lets a workflow continue as new without end, and nest children as deep as it
likes; in a simulation that costs nothing per virtual second, such a workflow would keep
the notebook busy for ever. Past these limits the server ends the run with
``WorkflowExecutionTerminated`` (or refuses the child with
``StartChildWorkflowExecutionFailed``) and a reason that names the limit.
"""

from __future__ import annotations

MAX_RUNS = 1000
"""Runs one workflow id may have (continue-as-new makes a new run each time)."""
MAX_CHILD_DEPTH = 100
"""Child workflows nested inside each other."""


def too_many_runs(workflow_id: str) -> str:
    """Why a run that wanted to continue as new was terminated instead."""
    return (f"durasim stops workflow {workflow_id!r} after {MAX_RUNS} runs of "
            "continue-as-new (a workflow that continues as new for ever would never end "
            "the simulation)")


def too_deep(workflow_id: str) -> str:
    """Why a child workflow was not started."""
    return (f"durasim does not start child workflow {workflow_id!r}: children are nested "
            f"more than {MAX_CHILD_DEPTH} deep (unbounded recursion?)")
