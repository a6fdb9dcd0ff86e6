"""A parent cancelled while it awaits a child asks the server to cancel the child.

Temporal's SDKs cancel a child with ``ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED``
by default: cancelling the parent's wait does not stop it waiting. The wait sends
``RequestCancelExternalWorkflowExecution`` (``childWorkflowOnly``) and goes on until the
child has ended; the parent's code then sees the child's end as the SDK raises it
(a ChildWorkflowError caused by a cancellation, which ends a cancelled parent *cancelled*,
not failed). As recorded on the real dev server
(``tests/fixtures/recorded/awaiting_child_cancelled*``):

- the parent's history: ``RequestCancelExternalWorkflowExecutionInitiated
  {namespace, workflowExecution: the child, childWorkflowOnly: true}``, then, a moment
  later (a transfer task of the server), ``ExternalWorkflowExecutionCancelRequested
  {initiatedEventId, namespace, workflowExecution}``, which schedules a workflow task;
- the child's history, just before: ``WorkflowExecutionCancelRequested
  {externalInitiatedEventId, externalWorkflowExecution: the parent, identity:
  "history-service"}``; the child decides how to end (its timer is cancelled...);
- then ``ChildWorkflowExecutionCanceled`` in the parent, as for any cancelled child.

Without this durasim's parent ended cancelled at once and its close policy terminated
the child: a false lesson. The server delivers the request :data:`TRANSFER_DELAY` after
writing it, and again after a crash for any request whose delivery the history does not
show (:func:`recover`): the child is told at most once.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from durasim.engine import commands as C
from durasim.engine.context import ChildFuture
from durasim.engine.execution import Execution
from durasim.engine.failures import ActivityError, CancelledError, ChildWorkflowError
from durasim.engine.history import EventType, HistoryEvent
from durasim.engine.parent_close import IDENTITY, TRANSFER_DELAY, cancel_requested
from durasim.engine.tasks import Future

if TYPE_CHECKING:
    from durasim.engine.runtime import WorkflowInstance
    from durasim.engine.server import Server

E = EventType
NOT_FOUND = "CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND"
"""Why a request finds no open run to cancel (Temporal's cause; not recorded: the child
closed before the request reached it)."""
_ANSWERS = (E.EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
            E.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED)


# -- the workflow's side -----------------------------------------------------------------
def request_cancel(instance: WorkflowInstance, command: C.StartChild, future: Future) -> None:
    """The wait on a child that was started was cancelled: ask the server, once, to
    cancel the child; the wait goes on until the child's end resolves it (the SDK's
    default, ``WAIT_CANCELLATION_COMPLETED``)."""
    if not isinstance(future, ChildFuture) or future.cancel_sent:
        return
    future.cancel_sent = True
    instance.issue(C.RequestCancelExternal(command.workflow_id, future.run_id))


def ends_cancelled(error: BaseException, cancel_requested: bool) -> bool:
    """Does ``error``, leaving the workflow's code, end the run *cancelled*? A
    cancellation does; so does an activity's or a child's error caused by one once the
    run was asked to cancel (the SDK's ``is_cancelled_exception``: recorded, the parent of
    ``awaiting_child_cancelled`` ends WorkflowExecutionCanceled, not failed)."""
    if isinstance(error, CancelledError):
        return True
    return (cancel_requested and isinstance(error, ActivityError | ChildWorkflowError)
            and isinstance(error.cause, CancelledError))


# -- the server's side -------------------------------------------------------------------
def requested(server: Server, parent: Execution, event: HistoryEvent) -> None:
    """``RequestCancelExternalWorkflowExecutionInitiated`` was written: deliver it soon."""
    server.after(TRANSFER_DELAY, partial(_deliver, server, parent, event), "cancel_external")


def _deliver(server: Server, parent: Execution, initiated: HistoryEvent) -> None:
    a = initiated.attributes
    target: dict[str, Any] = a["workflowExecution"]
    answer = {"initiatedEventId": initiated.event_id, "namespace": "default",
              "workflowExecution": target}
    run_id = target.get("runId") or server.current.get(target["workflowId"], "")
    child = server.executions.get((target["workflowId"], run_id))
    if child is None or child.record.status != "running":
        server.wake(parent, [(E.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
                              {**answer, "cause": NOT_FOUND})])
        return
    if not cancel_requested(child):  # a run is asked to cancel once (and a retry after
        record = parent.record       # a crash finds the request already written)
        server.wake(child, [(E.WORKFLOW_EXECUTION_CANCEL_REQUESTED, {
            "externalInitiatedEventId": initiated.event_id,
            "externalWorkflowExecution": {"workflowId": record.workflow_id,
                                          "runId": record.run_id},
            "identity": IDENTITY})])
    server.wake(parent, [(E.EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED, answer)])


def recover(server: Server) -> None:
    """After a restart: deliver at once every request an open run wrote but whose
    answer its history (or what is parked for it) does not hold yet."""
    for ex in list(server.executions.values()):
        answered = {spec[1].get("initiatedEventId") for spec in ex.buffered
                    if spec[0] in _ANSWERS}
        answered.update(e.attributes.get("initiatedEventId") for e in ex.events
                        if e.event_type in _ANSWERS)
        for event in ex.events:
            if (event.event_type is E.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED
                    and event.event_id not in answered):
                _deliver(server, ex, event)  # overdue: before anything else moves
