"""Workflow and activity definitions, and the API workflow code is written against.

As in Temporal's SDK, a decorator only validates a function and attaches a frozen
definition; running it is the worker's business. Workflow code talks to the engine only
through its :class:`WorkflowContext`, which is what makes it replayable: every call that
touches the outside world becomes a *command* the engine records (or, on replay, matches
against what it recorded before).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from durasim.errors import DurasimError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class RetryPolicy:
    """How an activity is retried, with Temporal's meaning.

    Args:
        initial_interval: seconds before the first retry.
        backoff_coefficient: each retry waits this many times longer than the last.
        maximum_interval: cap on the wait; None means 100 x ``initial_interval``.
        maximum_attempts: 0 means unlimited.
        non_retryable_error_types: ``ApplicationError.type`` values never retried.
    """

    initial_interval: float = 1.0
    backoff_coefficient: float = 2.0
    maximum_interval: float | None = None
    maximum_attempts: int = 0
    non_retryable_error_types: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.initial_interval <= 0:
            raise ValueError(f"initial_interval must be > 0 seconds, got {self.initial_interval}")
        if self.backoff_coefficient < 1:
            raise ValueError(f"backoff_coefficient must be >= 1, got {self.backoff_coefficient}")
        if self.maximum_interval is not None and self.maximum_interval < self.initial_interval:
            raise ValueError("maximum_interval must be >= initial_interval")
        if self.maximum_attempts < 0:
            raise ValueError(f"maximum_attempts must be >= 0 (0 = unlimited), got "
                             f"{self.maximum_attempts}")
        object.__setattr__(self, "non_retryable_error_types",
                           tuple(self.non_retryable_error_types))

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (from 1)."""
        cap = self.maximum_interval or 100 * self.initial_interval
        return float(min(cap, self.initial_interval * self.backoff_coefficient ** (attempt - 1)))

    def gives_up(self, attempt: int, error_type: str | None, non_retryable: bool) -> str | None:
        """Why no retry follows failed attempt ``attempt``, or None if one does."""
        if non_retryable or (error_type is not None
                             and error_type in self.non_retryable_error_types):
            return "NonRetryableFailure"
        if self.maximum_attempts and attempt >= self.maximum_attempts:
            return "MaximumAttemptsReached"
        return None

    def to_temporal(self) -> dict[str, Any]:
        """The ``retryPolicy`` attributes of an ActivityTaskScheduled event."""
        policy: dict[str, Any] = {
            "initialInterval": self.initial_interval,
            "backoffCoefficient": self.backoff_coefficient,
            "maximumInterval": self.maximum_interval or 100 * self.initial_interval,
        }
        if self.maximum_attempts:
            policy["maximumAttempts"] = self.maximum_attempts
        if self.non_retryable_error_types:
            policy["nonRetryableErrorTypes"] = list(self.non_retryable_error_types)
        return policy


DEFAULT_RETRY = RetryPolicy()


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
    """Raised in workflow code when an activity failed for good (retries exhausted or
    non-retryable). ``cause`` is the ApplicationError the activity raised; catch this to
    compensate (a saga)."""

    def __init__(self, message: str, *, activity: str, activity_id: str,
                 cause: ApplicationError, retry_state: str) -> None:
        super().__init__(message)
        self.activity = activity
        self.activity_id = activity_id
        self.cause = cause
        self.retry_state = retry_state


class ChildWorkflowError(Exception):
    """Raised in a parent when its child workflow failed; ``cause`` says why."""

    def __init__(self, message: str, *, workflow_id: str, cause: ApplicationError) -> None:
        super().__init__(message)
        self.workflow_id = workflow_id
        self.cause = cause


class ContinueAsNewError(BaseException):
    """Raised by ``ctx.continue_as_new``: this run ends, a new run starts with ``args``.

    A ``BaseException`` so that ``except Exception`` in workflow code does not stop it.
    """

    def __init__(self, args: tuple[Any, ...]) -> None:
        super().__init__("continue as new")
        self.args_for_next_run = args


@dataclass(frozen=True)
class WorkflowDefinition:
    """What ``@workflow`` attaches: a name and the ``async def (ctx, *args)`` to run."""

    name: str
    fn: Callable[..., Any]

    @property
    def source(self) -> tuple[list[str], int]:
        """Source lines and first line number (for the replay stepper)."""
        return inspect.getsourcelines(self.fn)


@dataclass(frozen=True)
class ActivityDefinition:
    """What ``@activity`` attaches: a name, the function, and whether it is async.

    ``duration`` is how many seconds of virtual time the call takes (an API call of
    unlimited duration is just a large number here).
    """

    name: str
    fn: Callable[..., Any]
    is_async: bool
    duration: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


def _attach(fn: Any, attr: str, definition: object) -> None:
    try:
        setattr(fn, attr, definition)
    except (AttributeError, TypeError):
        raise TypeError(f"cannot attach a definition to {fn!r}") from None


WORKFLOWS: dict[str, WorkflowDefinition] = {}
"""Every workflow defined so far, by name: what a worker runs when not told otherwise."""
ACTIVITIES: dict[str, ActivityDefinition] = {}
"""Every activity defined so far, by name (the last definition of a name wins)."""


def workflow(fn: F | None = None, *, name: str | None = None) -> Any:
    """Mark ``async def Name(ctx, *args)`` as a workflow. Usable bare or with ``name=``."""

    def decorate(f: F) -> F:
        if not inspect.iscoroutinefunction(f):
            raise TypeError(f"@workflow needs an 'async def' taking ctx first; "
                            f"{getattr(f, '__name__', f)!r} is not a coroutine function")
        params = list(inspect.signature(f).parameters)
        if not params:
            raise TypeError(f"workflow {f.__name__!r} must take the WorkflowContext as its "
                            "first parameter: async def {f.__name__}(ctx, ...)")
        definition = WorkflowDefinition(name or f.__name__, f)
        _attach(f, "__durasim_workflow__", definition)
        WORKFLOWS[definition.name] = definition
        return f

    return decorate(fn) if fn is not None else decorate


def activity(fn: F | None = None, *, name: str | None = None, duration: float = 0.0) -> Any:
    """Mark a plain function (sync or async) as an activity.

    Args:
        name: the activity type recorded in histories (default: the function's name).
        duration: seconds of virtual time one call takes.
    """
    if duration < 0:
        raise ValueError(f"an activity's duration cannot be negative (got {duration})")

    def decorate(f: F) -> F:
        if not callable(f):
            raise TypeError(f"@activity needs a function, got {f!r}")
        definition = ActivityDefinition(name or f.__name__, f,
                                        inspect.iscoroutinefunction(f), duration)
        _attach(f, "__durasim_activity__", definition)
        ACTIVITIES[definition.name] = definition
        return f

    return decorate(fn) if fn is not None else decorate


def workflow_definition(fn: Any) -> WorkflowDefinition:
    """The definition attached by ``@workflow``, or a TypeError that says what to do."""
    definition = getattr(fn, "__durasim_workflow__", None)
    if not isinstance(definition, WorkflowDefinition):
        raise TypeError(f"{getattr(fn, '__name__', fn)!r} is not a workflow: decorate it "
                        "with @durasim.workflow")
    return definition


def activity_definition(fn: Any) -> ActivityDefinition:
    """The definition attached by ``@activity``, or a TypeError that says what to do."""
    definition = getattr(fn, "__durasim_activity__", None)
    if not isinstance(definition, ActivityDefinition):
        raise TypeError(f"{getattr(fn, '__name__', fn)!r} is not an activity: decorate it "
                        "with @durasim.activity")
    return definition


@dataclass(frozen=True)
class ActivityInfo:
    """What an activity can know about the call it is serving.

    ``idempotency_key`` is the same for every attempt of one activity of one workflow,
    across retries and crashes: pass it to the service so a repeated call is a no-op.
    """

    attempt: int
    workflow_id: str
    activity_id: str
    activity_type: str
    run_id: str

    @property
    def idempotency_key(self) -> str:
        """``"<workflow id>/<activity id>"``: stable across retries and crashes."""
        return f"{self.workflow_id}/{self.activity_id}"


class _CurrentActivity:
    info: ActivityInfo | None = None
    sim: Any = None


def activity_info() -> ActivityInfo:
    """The :class:`ActivityInfo` of the activity running now (call it inside one)."""
    info = _CurrentActivity.info
    if info is None:
        raise DurasimError("activity_info() is only available inside a running activity")
    return info


def activity_sleep(seconds: float) -> Any:
    """Inside an ``async`` activity: ``await activity_sleep(s)`` spends ``s`` seconds of
    virtual time, like a slow API call (a crash meanwhile loses the call)."""
    sim = _CurrentActivity.sim
    if sim is None:
        raise DurasimError("activity_sleep() is only available inside a running async activity")
    return sim.timeout(seconds)
