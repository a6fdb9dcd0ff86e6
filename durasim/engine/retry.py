"""RetryPolicy: how the server retries an activity, with Temporal's meaning.

Retries are the server's decision, not the worker's: after a failed attempt the server
reads the policy recorded in ActivityTaskScheduled and either schedules the next attempt
after a backoff or closes the activity with a retry state saying why it gave up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from durasim.validation import check_seconds


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
        check_seconds("initial_interval", self.initial_interval, positive=True)
        check_seconds("backoff_coefficient", self.backoff_coefficient)
        if self.backoff_coefficient < 1:
            raise ValueError(f"backoff_coefficient must be >= 1, got {self.backoff_coefficient}")
        if self.maximum_interval is not None:
            check_seconds("maximum_interval", self.maximum_interval, positive=True)
            if self.maximum_interval < self.initial_interval:
                raise ValueError("maximum_interval must be >= initial_interval")
        if isinstance(self.maximum_attempts, bool) or not isinstance(self.maximum_attempts, int):
            raise TypeError(f"maximum_attempts must be a whole number, got "
                            f"{self.maximum_attempts!r}")
        if self.maximum_attempts < 0:
            raise ValueError(f"maximum_attempts must be >= 0 (0 = unlimited), got "
                             f"{self.maximum_attempts}")
        types = self.non_retryable_error_types
        if isinstance(types, str | bytes) or not all(isinstance(t, str) for t in types):
            raise TypeError("non_retryable_error_types must be a list of error type names, "
                            f"e.g. ['InsufficientFunds'], got {types!r}")
        object.__setattr__(self, "non_retryable_error_types", tuple(types))

    @property
    def cap(self) -> float:
        """The longest wait between attempts."""
        return self.maximum_interval or 100 * self.initial_interval

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (from 1).

        Capped before multiplying, so attempt 10,000 gives the cap, not an overflow.
        """
        cap = self.cap
        if self.backoff_coefficient == 1:
            return float(min(cap, self.initial_interval))
        steps = math.log(cap / self.initial_interval, self.backoff_coefficient)
        if attempt - 1 >= steps:
            return float(cap)
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
            "maximumInterval": self.cap,
        }
        if self.maximum_attempts:
            policy["maximumAttempts"] = self.maximum_attempts
        if self.non_retryable_error_types:
            policy["nonRetryableErrorTypes"] = list(self.non_retryable_error_types)
        return policy

    @classmethod
    def from_temporal(cls, data: dict[str, Any]) -> RetryPolicy:
        """The policy a recorded ``retryPolicy`` attribute describes."""
        return cls(initial_interval=float(data.get("initialInterval", 1.0)),
                   backoff_coefficient=float(data.get("backoffCoefficient", 2.0)),
                   maximum_interval=data.get("maximumInterval"),
                   maximum_attempts=int(data.get("maximumAttempts", 0)),
                   non_retryable_error_types=tuple(data.get("nonRetryableErrorTypes", ())))


DEFAULT_RETRY = RetryPolicy()
