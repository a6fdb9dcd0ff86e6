"""What can go wrong in workflow and activity code, and how a history records it.

Temporal draws one line that durasim keeps: an error that is part of the business
(:class:`ApplicationError`, an activity or child that failed for good, a cancellation) ends
the *workflow* with a recorded failure, while any other exception in workflow code (a
``NameError``, a bug) fails only the *workflow task*: the workflow stays open and waits
for fixed code, because its history is still good. :func:`fails_workflow` is that line.
"""

from __future__ import annotations

import copy
from typing import Any

from durasim.engine.history import EventType, make_failure
from durasim.engine.temporal_values import INT64, NAME


class ApplicationError(Exception):
    """An error an activity or workflow raises on purpose.

    Args:
        message: what went wrong, for people.
        type: a name retry policies and ``except`` clauses can match ("InsufficientFunds").
        non_retryable: never retry, whatever the policy says.
    """

    def __init__(self, message: str, type: str | None = None, non_retryable: bool = False
                 ) -> None:
        super().__init__(message)
        self.message = message
        self.type = type
        self.non_retryable = non_retryable


class ActivityError(Exception):
    """Raised in workflow code when an activity failed for good (retries exhausted,
    non-retryable, timed out or cancelled). ``cause`` is the error the activity raised;
    catch this to compensate (a saga)."""

    def __init__(self, message: str, *, activity: str, activity_id: str,
                 cause: ApplicationError, retry_state: str,
                 timeout_type: str | None = None) -> None:
        super().__init__(message)
        self.activity = activity
        self.activity_id = activity_id
        self.cause = cause
        self.retry_state = retry_state
        self.timeout_type = timeout_type
        """For a timeout: "START_TO_CLOSE", "SCHEDULE_TO_CLOSE" or "HEARTBEAT"."""


class CancelledError(Exception):
    """Raised in workflow code at its next ``await`` once cancellation was requested.

    Catch it to clean up (activities may still run in the ``except`` block); let it
    propagate and the workflow ends as canceled, not failed.
    """


class TerminatedError(Exception):
    """The cause of a :class:`ChildWorkflowError` when the child was terminated (from
    outside: no code of its own ran to the end)."""


class TimeoutError(Exception):  # the SDK's name, as workflow code prints it
    """The cause of a :class:`ChildWorkflowError` when the child ran past its timeout.

    Named as the Python SDK names it (``temporalio.exceptions.TimeoutError``), so that a
    parent printing ``type(err.cause).__name__`` says what it says on Temporal; import it
    from its module (``durasim.engine.TimeoutError``) rather than over the builtin.
    """


class ChildWorkflowError(Exception):
    """Raised in a parent when its child workflow did not complete; ``cause`` says why:
    the :class:`ApplicationError` it failed with, or a :class:`CancelledError`,
    :class:`TerminatedError` or :class:`TimeoutError` when it was cancelled, terminated
    or timed out (as the Python SDK's ``ChildWorkflowError.cause``)."""

    def __init__(self, message: str, *, workflow_id: str, cause: ChildCause,
                 failure: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.workflow_id = workflow_id
        self.cause = cause
        self.failure = failure
        """How a history records this error if the parent lets it escape (built from the
        child's event, as Temporal's SDK re-encodes the failure it decoded); None for one
        made elsewhere, which :func:`failure_of` then builds from the cause's type."""


ChildCause = ApplicationError | CancelledError | TerminatedError | TimeoutError
CHILD_ENDINGS: dict[EventType, tuple[str, type[ChildCause], str]] = {
    EventType.CHILD_WORKFLOW_EXECUTION_CANCELED: ("cancelled", CancelledError, "Cancelled"),
    EventType.CHILD_WORKFLOW_EXECUTION_TERMINATED: ("terminated", TerminatedError,
                                                    "Terminated"),
    EventType.CHILD_WORKFLOW_EXECUTION_TIMED_OUT: ("timed out", TimeoutError, "Timed out"),
}
"""A child that ended without failing: the verb, the cause's type and message (the
Python SDK's words, recorded in ``child_*_parent.json``'s results)."""
CAUSE_FAILURES: dict[type[BaseException], dict[str, Any]] = {
    CancelledError: {"message": "", "canceledFailureInfo": {}},
    TerminatedError: {"message": "Terminated", "terminatedFailureInfo": {}},
    TimeoutError: {"message": "Timed out",
                   "timeoutFailureInfo": {"timeoutType": "TIMEOUT_TYPE_START_TO_CLOSE"}},
}
"""How a failed parent's history writes the cause of a child that ended without failing
(``child_{cancelled,terminated,timed_out}_uncaught_parent.json``): no ``message`` at all
for a cancellation (the SDK says "Cancelled" when it reads one back), and a timeout
recorded as ``START_TO_CLOSE`` although it was the child's execution timeout."""
NOT_RETRIED = "RETRY_STATE_NON_RETRYABLE_FAILURE"
"""The retry state a failed parent records for a child cancelled or terminated."""


class ContinueAsNewError(BaseException):
    """Raised by ``ctx.continue_as_new``: this run ends, a new run starts with ``args``.

    A ``BaseException`` so that ``except Exception`` in workflow code does not stop it.
    """

    def __init__(self, args: tuple[Any, ...]) -> None:
        super().__init__("continue as new")
        self.args_for_next_run = args


def fails_workflow(error: BaseException) -> bool:
    """Does this exception end the workflow (True), or only fail the workflow task?

    As in Temporal's Python SDK: the failure types fail the workflow; anything else is a
    bug in the code, so the task fails and is retried until fixed code is deployed.
    """
    return isinstance(error, ApplicationError | ActivityError | ChildWorkflowError
                      | CancelledError)


def failure_of(error: BaseException) -> dict[str, Any]:
    """The decoded ``failure`` attribute that records ``error`` in a history."""
    if isinstance(error, ApplicationError):
        return make_failure(error.message, error.type, non_retryable=error.non_retryable)
    if isinstance(error, ActivityError):
        return make_failure("Activity task failed", cause=failure_of(error.cause))
    if isinstance(error, ChildWorkflowError):
        if error.failure is not None:
            return copy.deepcopy(error.failure)
        return make_failure(_child_message(error), cause=failure_of(error.cause))
    if type(error) in CAUSE_FAILURES:  # a child's ending, from elsewhere than its event
        return {**make_failure(safe_text(error)),
                **{k: v for k, v in CAUSE_FAILURES[type(error)].items() if k != "message"}}
    return make_failure(safe_text(error), type(error).__name__)


def _child_message(error: ChildWorkflowError) -> str:
    """Temporal's own wording (recorded): "Child Workflow execution failed", or
    "... cancelled" / "terminated" / "timed out", which is already the error's text."""
    if isinstance(error.cause, ApplicationError):
        return "Child Workflow execution failed"
    return str(error)


def application_error(failure: dict[str, Any]) -> ApplicationError:
    """The ApplicationError a recorded failure stands for (what workflow code catches)."""
    return ApplicationError(str(failure.get("message", "")), failure.get("type"),
                            bool(failure.get("nonRetryable", False)))


def activity_error(attributes: dict[str, Any], activity: str, activity_id: str
                   ) -> ActivityError:
    """What workflow code catches for an activity that failed (or timed out) for good,
    from the ``attributes`` of the event that closed it."""
    failure = attributes.get("failure") or {}
    cause = application_error(failure)
    info = failure.get("timeoutFailureInfo")
    timeout = info.get("timeoutType") if isinstance(info, dict) else None
    return ActivityError(
        f"activity {activity} failed: {cause.message}", activity=activity,
        activity_id=activity_id, cause=cause, retry_state=str(attributes.get("retryState", "")),
        timeout_type=str(timeout).removeprefix("TIMEOUT_TYPE_") if timeout else None)


def child_workflow_error(event_type: EventType, attributes: dict[str, Any], child_id: str
                         ) -> ChildWorkflowError:
    """What the parent's code catches for a child that did not complete, from the event
    its history got (failed, could not start, cancelled, terminated, timed out)."""
    if event_type in CHILD_ENDINGS:
        verb, cause_type, text = CHILD_ENDINGS[event_type]
        message = f"Child Workflow execution {verb}"
        cause_failure = {**make_failure(""), **CAUSE_FAILURES[cause_type]}
        return ChildWorkflowError(message, workflow_id=child_id, cause=cause_type(text),
                                  failure=_child_failure(message, cause_failure, attributes))
    if event_type is not EventType.CHILD_WORKFLOW_EXECUTION_FAILED:  # could not start:
        failure = attributes.get("failure") or make_failure("could not start")
        cause = application_error(failure)  # durasim's nesting limit (nothing recorded)
        return ChildWorkflowError(f"child workflow {child_id} failed: {cause.message}",
                                  workflow_id=child_id, cause=cause)
    failure = recorded = attributes.get("failure") or make_failure("")
    while isinstance(failure.get("cause"), dict):  # what failed, not who passed it on
        failure = failure["cause"]
    cause = application_error(failure)
    return ChildWorkflowError(
        f"child workflow {child_id} failed: {cause.message}", workflow_id=child_id,
        cause=cause, failure=_child_failure("Child Workflow execution failed", recorded,
                                            attributes))


def _child_failure(message: str, cause: dict[str, Any], attributes: dict[str, Any]
                   ) -> dict[str, Any]:
    """The failure a parent that lets a child's error escape ends with: Temporal's words,
    the child's own failure (or its ending's) as the cause, and the child named in
    ``childWorkflowExecutionFailureInfo`` (``child_*_uncaught_parent.json``), written as
    a loaded history holds it (ids as strings, the type as ``{"name"}``)."""
    info = {"namespace": attributes.get("namespace", "default"),
            "workflowExecution": copy.deepcopy(attributes.get("workflowExecution", {})),
            "workflowType": NAME.encode(attributes.get("workflowType", "")),
            "initiatedEventId": INT64.encode(attributes.get("initiatedEventId", 0)),
            "startedEventId": INT64.encode(attributes.get("startedEventId", 0)),
            "retryState": attributes.get("retryState", NOT_RETRIED)}
    return {**make_failure(message, cause=copy.deepcopy(cause)),
            "childWorkflowExecutionFailureInfo": info}


def safe_text(error: BaseException) -> str:
    """``str(error)``, or its type's name when that is empty or ``__str__`` itself raises."""
    try:
        text = str(error)
    except Exception:
        text = ""
    return text or type(error).__name__
