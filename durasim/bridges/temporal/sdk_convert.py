"""Values and errors across the line between Temporal SDK code and durasim's engine.

durasim's histories hold plain JSON values, the ones a real Temporal server's payloads
decode to; SDK code deals in typed Python values (dataclasses, ``datetime``...). Every
value crossing the line goes through the SDK's own default payload converter, with the
type hints of the function that receives it, exactly as on a real worker: so a
dataclass travels as a JSON object and comes back as the dataclass. Errors cross the line
too: an SDK ``ApplicationError`` becomes the failure durasim records, and a failure
durasim resolves an activity or a child with becomes the SDK error the code catches.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import temporalio.api.common.v1
import temporalio.common
import temporalio.converter
import temporalio.exceptions

from durasim.bridges.temporal.sdk_errors import UnsupportedFeatureError
from durasim.engine.failures import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildCause,
    ChildWorkflowError,
    TerminatedError,
    safe_text,
)
from durasim.engine.failures import (
    TimeoutError as ChildTimeoutError,  # not the builtin
)
from durasim.engine.retry import RetryPolicy

__all__ = [
    "from_json",
    "sdk_error",
    "seconds",
    "to_durasim_error",
    "to_json",
    "to_retry_policy",
]

_Payload = temporalio.api.common.v1.Payload


def _converter() -> temporalio.converter.PayloadConverter:
    return temporalio.converter.DataConverter.default.payload_converter


def to_json(values: Sequence[Any]) -> list[Any]:
    """SDK values -> the JSON values a Temporal history records for them."""
    if not values:
        return []
    return [_decode(payload) for payload in _converter().to_payloads(list(values))]


def from_json(values: Sequence[Any], hints: Sequence[type] | None) -> list[Any]:
    """Recorded JSON values -> SDK values, typed by ``hints`` (a function's parameters)."""
    if not values:
        return []
    payloads = [_encode(value) for value in values]
    types = list(hints)[:len(payloads)] if hints else None
    if types is not None and len(types) < len(payloads):
        types = None  # more values than parameters: the SDK converts them untyped too
    return list(_converter().from_payloads(payloads, types))


def _decode(payload: _Payload) -> Any:
    encoding = payload.metadata.get("encoding", b"").decode("utf-8", "replace")
    if encoding == "binary/null":
        return None
    if encoding.startswith("json/"):
        return json.loads(payload.data)
    return bytes(payload.data)  # binary/plain: durasim's histories keep bytes as bytes


def _encode(value: Any) -> _Payload:
    if value is None:
        return _Payload(metadata={"encoding": b"binary/null"})
    if isinstance(value, bytes):
        return _Payload(metadata={"encoding": b"binary/plain"}, data=value)
    data = json.dumps(value, separators=(",", ":")).encode()
    return _Payload(metadata={"encoding": b"json/plain"}, data=data)


def seconds(value: timedelta | float | None) -> float | None:
    """A timedelta (or seconds) as seconds; None stays None."""
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def to_retry_policy(policy: temporalio.common.RetryPolicy | None) -> RetryPolicy | None:
    """The SDK's RetryPolicy as durasim's (the same fields, in seconds)."""
    if policy is None:
        return None
    return RetryPolicy(
        initial_interval=policy.initial_interval.total_seconds(),
        backoff_coefficient=float(policy.backoff_coefficient),
        maximum_interval=seconds(policy.maximum_interval),
        maximum_attempts=int(policy.maximum_attempts),
        non_retryable_error_types=tuple(policy.non_retryable_error_types or ()))


# -- errors: SDK -> durasim ----------------------------------------------------------------
def to_durasim_error(error: BaseException) -> BaseException:
    """What durasim records for an error SDK code raised.

    The SDK's failure types fail the workflow (or, from an activity, the attempt) with
    their message and type; an ``asyncio.CancelledError`` is a cancellation; anything
    else is returned unchanged: a bug, which fails only the workflow task.
    """
    if isinstance(error, temporalio.exceptions.ApplicationError):
        return ApplicationError(error.message, error.type, error.non_retryable)
    if isinstance(error, temporalio.exceptions.ActivityError):
        return ActivityError(f"activity {error.activity_type} failed",
                             activity=error.activity_type, activity_id=error.activity_id,
                             cause=_durasim_cause(error.cause),
                             retry_state=_retry_state_name(error.retry_state))
    if isinstance(error, temporalio.exceptions.ChildWorkflowError):
        original = getattr(error, _FROM_DURASIM, None)
        if isinstance(original, ChildWorkflowError):  # the error durasim gave the code
            return original
        cause = error.cause
        ending = _CHILD_ENDINGS.get(type(cause)) if cause is not None else None
        if cause is not None and ending is not None:  # cancelled, terminated, timed out
            return ChildWorkflowError(error.message, workflow_id=error.workflow_id,
                                      cause=ending(safe_text(cause)))
        return ChildWorkflowError(f"child workflow {error.workflow_id} failed",
                                  workflow_id=error.workflow_id,
                                  cause=_durasim_cause(error.cause))
    if isinstance(error, temporalio.exceptions.CancelledError | asyncio.CancelledError):
        return CancelledError(safe_text(error))
    if isinstance(error, temporalio.exceptions.FailureError):  # timeouts, terminations...
        return ApplicationError(error.message, type(error).__name__)
    if isinstance(error, UnsupportedFeatureError):  # retrying would meet it again
        return ApplicationError(str(error), type(error).__name__, non_retryable=True)
    return error


_CHILD_ENDINGS: dict[type[BaseException], type[ChildCause]] = {
    temporalio.exceptions.CancelledError: CancelledError,
    temporalio.exceptions.TerminatedError: TerminatedError,
    temporalio.exceptions.TimeoutError: ChildTimeoutError,
}
"""The SDK's cause of a child that ended without failing -> durasim's."""


def _durasim_cause(cause: BaseException | None) -> ApplicationError:
    if isinstance(cause, temporalio.exceptions.ApplicationError):
        return ApplicationError(cause.message, cause.type, cause.non_retryable)
    if cause is None:
        return ApplicationError("unknown cause")
    return ApplicationError(safe_text(cause), type(cause).__name__)


def _retry_state_name(state: temporalio.exceptions.RetryState | None) -> str:
    return f"RETRY_STATE_{state.name}" if state is not None else ""


# -- errors: durasim -> SDK ----------------------------------------------------------------
def sdk_error(error: BaseException, *, scheduled_event_id: int = 0,
              namespace: str = "default", workflow_type: str = "") -> BaseException:
    """The SDK error workflow code sees for a failure durasim resolved a future with."""
    if isinstance(error, ActivityError):
        activity_error = temporalio.exceptions.ActivityError(
            "Activity task failed", scheduled_event_id=scheduled_event_id,
            started_event_id=0, identity="", activity_type=error.activity,
            activity_id=error.activity_id, retry_state=_retry_state(error.retry_state))
        activity_error.__cause__ = _sdk_cause(error.cause)
        return activity_error
    if isinstance(error, ChildWorkflowError):
        return _sdk_child_error(error, scheduled_event_id, namespace, workflow_type)
    if isinstance(error, CancelledError):
        return temporalio.exceptions.CancelledError(safe_text(error))
    if isinstance(error, ApplicationError):
        return _sdk_cause(error)
    return error


_FROM_DURASIM = "_durasim_error"
"""The attribute of an SDK ChildWorkflowError that holds the durasim error it was made from:
if the code lets it escape, the parent fails with that error's failure, as recorded."""


def _sdk_child_error(error: ChildWorkflowError, initiated_event_id: int, namespace: str,
                     workflow_type: str) -> temporalio.exceptions.ChildWorkflowError:
    """The SDK's ChildWorkflowError, its fields read from the child's event as the SDK
    reads them (run id, started event, retry state: ``child_*_uncaught_parent.json``)."""
    info = (error.failure or {}).get("childWorkflowExecutionFailureInfo", {})
    failed = isinstance(error.cause, ApplicationError)
    default_state = ("RETRY_STATE_TIMEOUT" if isinstance(error.cause, ChildTimeoutError)
                     else "RETRY_STATE_NON_RETRYABLE_FAILURE")
    child_error = temporalio.exceptions.ChildWorkflowError(
        "Child Workflow execution failed" if failed else str(error),
        namespace=info.get("namespace", namespace), workflow_id=error.workflow_id,
        run_id=info.get("workflowExecution", {}).get("runId", ""),
        workflow_type=info.get("workflowType", {}).get("name", workflow_type),
        initiated_event_id=int(info.get("initiatedEventId", initiated_event_id)),
        started_event_id=int(info.get("startedEventId", 0)),
        retry_state=_retry_state(info.get("retryState", default_state)))
    child_error.__cause__ = _sdk_child_cause(error.cause)
    setattr(child_error, _FROM_DURASIM, error)
    return child_error


def _sdk_cause(cause: ApplicationError) -> temporalio.exceptions.ApplicationError:
    return temporalio.exceptions.ApplicationError(cause.message, type=cause.type,
                                                  non_retryable=cause.non_retryable)


def _sdk_child_cause(cause: ChildCause) -> BaseException:
    """Why a child did not complete, as the SDK says it (recorded: child_*_parent.json)."""
    if isinstance(cause, CancelledError):
        return temporalio.exceptions.CancelledError(safe_text(cause))
    if isinstance(cause, TerminatedError):
        return temporalio.exceptions.TerminatedError(safe_text(cause))
    if isinstance(cause, ChildTimeoutError):
        return temporalio.exceptions.TimeoutError(safe_text(cause), type=None,
                                                  last_heartbeat_details=[])
    return _sdk_cause(cause)


def _retry_state(name: str) -> temporalio.exceptions.RetryState | None:
    member = name.removeprefix("RETRY_STATE_")
    return temporalio.exceptions.RetryState.__members__.get(member)
