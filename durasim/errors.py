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


class StoreError(DurasimError):
    """A history store refused to open, read or write: the message names the file (or the
    run and event) and what to do."""


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


class ModelError(DurasimError):
    """Code of the model (a service, a scenario step, a node's start-up) raised an exception.

    A simulated crash is a fault the plan asked for and stays silent; anything else that
    escapes a simulated process is a bug in the model, and a run that carried on would
    show students a failure the fault did not cause. ``Simulation.step()``/``run()`` raise
    this instead, chained (``from``) to the original exception.

    Attributes:
        node: the node the process ran on ("" for a process of no node).
        process: the process's name.
        time: the virtual time of the failure, in seconds.
    """

    def __init__(self, node: str, process: str, time: float, error: BaseException) -> None:
        where = f"process {process!r}" + (f" on node {node!r}" if node else "")
        super().__init__(f"model error in {where} at t={time:g}s: "
                         f"{type(error).__name__}: {error}")
        self.node = node
        self.process = process
        self.time = time


class WorkflowFailed(DurasimError):
    """A workflow ended in failure; ``cause`` is the error that failed it."""

    def __init__(self, message: str, *, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class WorkflowTaskError(DurasimError):
    """Workflow code raised an error that is not a workflow failure (a bug).

    As on Temporal, such an error fails the *workflow task*, not the workflow: the
    workflow stays open with its history intact and the task is retried until fixed code
    is deployed (``durasim.execute(Fixed, resume=run)``). ``cause`` is the code's error.
    """

    def __init__(self, workflow_id: str, cause: BaseException) -> None:
        super().__init__(f"workflow {workflow_id!r} is waiting for fixed code: its workflow "
                         f"task failed with {_describe(cause)}")
        self.workflow_id = workflow_id
        self.cause = cause


class ReplayTaskError(WorkflowTaskError):
    """Replaying a history, the workflow code raised a bug and failed a workflow task.

    Temporal's Replayer raises such a failure too (its ``replay_failure``): code that
    cannot replay a history cannot take over the workflow it records, whether it issues
    other commands (:class:`NondeterminismError`) or raises. ``event_id`` is the
    WorkflowTaskStarted of the task it failed.
    """

    def __init__(self, workflow_id: str, cause: BaseException, event_id: int) -> None:
        super().__init__(workflow_id, cause)
        DurasimError.__init__(
            self, f"replaying workflow {workflow_id!r}, the code raised {_describe(cause)} "
            f"in the workflow task started at event {event_id}, so it cannot take over this "
            "workflow (Temporal's Replayer fails too): fix the code and replay again")
        self.event_id = event_id


def _describe(error: BaseException) -> str:
    """``Type: message``, even when the message is empty or ``str()`` itself raises."""
    try:
        text = str(error)
    except Exception:
        text = ""
    return f"{type(error).__name__}: {text or '(no message)'}"
