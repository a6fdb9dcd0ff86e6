"""What happens to a running child when its parent closes: the parent close policy.

Each child workflow carries a policy, written in the parent's
``StartChildWorkflowExecutionInitiated`` (``parentClosePolicy``). When the parent run
closes (completes, fails, is cancelled or terminated, continues as new) while a child
still runs, Temporal's server applies it, and so does durasim, as recorded on the real
dev server (``tests/fixtures/recorded/parent_close_*.json``):

- ``"terminate"`` (the default): the child's history ends with
  ``WorkflowExecutionTerminated {reason: "by parent close policy", identity:
  "history-service"}``; a workflow task the worker is running is first failed
  (``WorkflowTaskFailed``, cause ``FORCE_CLOSE_COMMAND``), as any termination does;
- ``"request_cancel"``: the child gets ``WorkflowExecutionCancelRequested
  {externalWorkflowExecution: the parent, identity: "history-service"}`` and decides
  itself how to end (usually cancelled);
- ``"abandon"``: nothing; the child carries on alone.

The parent's history gets nothing: it is closed. Without this a child left running by
its parent ran on for ever in durasim, a false lesson about the platform.

Temporal applies the policy from a durable *transfer task*, a moment after the close
(recorded: 44 to 68 ms later, long enough for a child's first workflow task to complete
in most recordings), and
even if the server crashes right after committing the parent's close. durasim needs no
stored task for that: whether a policy is due can be read from the store at any time (an
open child whose parent run is closed; the policy is in the parent's history). So the
server applies it :data:`TRANSFER_DELAY` after closing the parent and, for whatever a
crash interrupted, when it restarts.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from durasim.engine import commands as C
from durasim.engine.execution import Execution, Spec
from durasim.engine.history import EventType
from durasim.engine.workflow_tasks import WorkflowTasks, take_buffered

if TYPE_CHECKING:
    from durasim.engine.server import Server

E = EventType
POLICIES = {"terminate": "PARENT_CLOSE_POLICY_TERMINATE",
            "request_cancel": "PARENT_CLOSE_POLICY_REQUEST_CANCEL",
            "abandon": "PARENT_CLOSE_POLICY_ABANDON"}
"""``parent_close_policy=`` values and the names the history records."""
IDENTITY = "history-service"
"""Who the server names as the author of what it does on its own (recorded)."""
REASON = "by parent close policy"
"""The termination reason Temporal's server writes (recorded)."""
FORCE_CLOSE = "WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND"
TRANSFER_DELAY = 0.05
"""Seconds between a parent's close and its children's policies (Temporal's transfer
queue took tens of milliseconds in the recordings)."""


def recorded_policy(policy: str) -> str:
    """The history's name for ``policy`` (one of :data:`POLICIES`' keys).

    Raises:
        ValueError: ``policy`` is not one of them.
    """
    if policy not in POLICIES:
        raise ValueError(f"parent_close_policy must be one of {', '.join(map(repr, POLICIES))}"
                         f", got {policy!r}")
    return POLICIES[policy]


def may_start(parent: Execution) -> bool:
    """May the server start a child that ``parent`` asked for? Not once ``parent`` is
    closed, whatever the child's policy, even ``"abandon"``: a workflow task that asks
    for a child and closes the run (completes, fails, continues as new) leaves
    ``StartChildWorkflowExecutionInitiated`` in the parent's history and no child at all
    (recorded: ``tests/fixtures/recorded/start_child_and_close_*``; the server still
    answered NOT_FOUND for the child's id seconds later)."""
    return parent.record.status == "running"


def parent_closed(server: Server, parent: Execution) -> None:
    """``parent``'s run just closed: apply each still-running child's policy soon."""
    server.after(TRANSFER_DELAY, partial(_apply_all, server, parent), "parent_close")


def _apply_all(server: Server, parent: Execution) -> None:
    record = parent.record
    for child_id, initiated_id in parent.children.items():
        child = _open_child(server, child_id, record.run_id, initiated_id)
        if child is not None:
            _apply(server, child, record.events[initiated_id - 1].attributes,
                   {"workflowId": record.workflow_id, "runId": record.run_id})


def recover(server: Server) -> None:
    """After a restart: apply the policies a crash kept the server from applying (an
    open child whose parent's close was committed just before the crash)."""
    for child in list(server.executions.values()):
        link = child.record.parent
        if link is None or child.record.status != "running":
            continue
        parent = server.store.run(link["workflow_id"], link["run_id"])
        if parent.status != "running":
            _apply(server, child, parent.events[link["initiated_id"] - 1].attributes,
                   {"workflowId": parent.workflow_id, "runId": parent.run_id})


def _open_child(server: Server, child_id: str, parent_run: str, initiated_id: int
                ) -> Execution | None:
    """The open run of ``child_id`` started by that initiated event (continue-as-new
    keeps the link), if there is one."""
    ex = server.executions.get((child_id, server.current.get(child_id, "")))
    link = ex.record.parent if ex is not None else None
    if (ex is None or link is None or link["run_id"] != parent_run
            or link["initiated_id"] != initiated_id):
        return None
    return ex


def _apply(server: Server, child: Execution, initiated: dict[str, Any],
           parent: dict[str, str]) -> None:
    policy = initiated.get("parentClosePolicy", POLICIES["terminate"])
    if policy == POLICIES["terminate"]:
        terminate(server, child, REASON, IDENTITY)
    elif policy == POLICIES["request_cancel"] and not _cancel_requested(child):
        server.wake(child, [(E.WORKFLOW_EXECUTION_CANCEL_REQUESTED, {
            "externalWorkflowExecution": parent, "identity": IDENTITY})])


def _cancel_requested(ex: Execution) -> bool:
    return any(e.event_type is E.WORKFLOW_EXECUTION_CANCEL_REQUESTED for e in ex.events) or any(
        spec[0] is E.WORKFLOW_EXECUTION_CANCEL_REQUESTED for spec in ex.buffered)


def terminate(server: Server, ex: Execution, reason: str, identity: str) -> None:
    """End ``ex`` from the server's side, as Temporal's ``TerminateWorkflow`` does: a
    workflow task a worker holds is failed first (its answer will be refused), what
    arrived meanwhile is written, then ``WorkflowExecutionTerminated``. A scheduled
    task nobody took, or a transient retry, leaves no trace."""
    specs: list[Spec] = []
    if ex.wt_started and not ex.failing:
        scheduled, started = ex.wt_scheduled, ex.wt_started
        if ex.speculative:  # written first, so that the failure points at real events
            specs += WorkflowTasks._write_speculative(ex, started=True)
            scheduled, started = len(ex.events) + 1, len(ex.events) + 2
        specs.append((E.WORKFLOW_TASK_FAILED, {
            "scheduledEventId": scheduled, "startedEventId": started,
            "cause": FORCE_CLOSE, "identity": identity}))
    if ex in server.tasks.parked:
        server.tasks.parked.remove(ex)
    specs += take_buffered(ex)
    ex.wt_scheduled = ex.wt_started = 0
    ex.speculative = ex.picked_up = False
    specs.append((E.WORKFLOW_EXECUTION_TERMINATED, {"reason": reason, "identity": identity}))
    server.write(ex, specs, "terminated")
    server.close(ex, C.TerminateWorkflow(reason))
