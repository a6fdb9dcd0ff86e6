"""The errors durasim raises at its users.

One root, :class:`DurasimError`, so a notebook can catch "anything durasim complained
about" in one clause, and a few subclasses whose messages say what to do next.
"""

from __future__ import annotations


class DurasimError(Exception):
    """Root of every error durasim raises on purpose."""


class FaultPlanError(DurasimError, ValueError):
    """A fault plan is malformed: the message names the fault and the field."""


class ScenarioError(DurasimError, ValueError):
    """An unknown scenario, step or architecture; the message lists the valid ones."""


class HistoryFormatError(DurasimError, ValueError):
    """An event history could not be read: the message names the source, event index and field."""


class NondeterminismError(DurasimError):
    """Workflow code issued a command that does not match what its history recorded.

    Like Temporal's ``[TMPRL1100]`` and DBOS's "X was recorded when Y was expected", the
    message names the workflow id, the history event id, what was recorded and what the
    code did instead.
    """

    def __init__(
        self, message: str, *, workflow_id: str = "", event_id: int = 0,
        recorded: str = "", issued: str = "",
    ) -> None:
        super().__init__(message)
        self.workflow_id = workflow_id
        self.event_id = event_id
        self.recorded = recorded
        self.issued = issued


class WorkflowFailed(DurasimError):
    """A workflow ended in failure; ``cause`` is the error that failed it."""

    def __init__(self, message: str, *, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause
