"""Replayer: check workflow code against a saved history, as Temporal's Replayer does.

Use it before deploying a change: if the new code would issue different commands for an
execution already recorded, replaying that execution raises
:class:`~durasim.errors.NondeterminismError` naming the event, the recorded command and
the one the code issued; if the code raises a bug on the way,
:class:`~durasim.errors.ReplayTaskError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from durasim.core import collector_paused
from durasim.engine.commands import Command
from durasim.engine.definitions import WorkflowDefinition, workflow_definition
from durasim.engine.history import EventType, History
from durasim.engine.history_rules import check_events
from durasim.engine.runtime import WorkflowInstance
from durasim.errors import HistoryFormatError, NondeterminismError, ReplayTaskError


@dataclass(frozen=True)
class ReplayResult:
    """What a clean replay found: the commands re-issued and how the workflow ended."""

    workflow_id: str
    commands: tuple[Command, ...]
    finished: bool
    logs: tuple[str, ...]

    @property
    def command_kinds(self) -> list[str]:
        """The commands' names, in order."""
        return [c.name for c in self.commands]


class Replayer:
    """Replays histories against workflow definitions.

    Args:
        workflows: the ``@durasim.workflow`` functions the histories may belong to.

    Example:
        >>> Replayer(workflows=[MoneyTransfer]).replay(history)  # doctest: +SKIP
    """

    def __init__(self, *, workflows: Iterable[Any]) -> None:
        self.definitions: dict[str, WorkflowDefinition] = {}
        for fn in workflows:
            definition = workflow_definition(fn)
            self.definitions[definition.name] = definition
        if not self.definitions:
            raise ValueError("Replayer needs at least one workflow: Replayer(workflows=[...])")

    def replay(self, history: History | str) -> ReplayResult:
        """Replay one history; raises NondeterminismError at the first mismatch, and
        ReplayTaskError if the code fails a workflow task (a bug: nothing matched is
        evidence that it would run this workflow on)."""
        if not isinstance(history, History):
            history = History.from_temporal_json(history)  # checked as it is read
        else:  # built in memory: nothing checked it yet (issue 17.4: trust nothing)
            check_events(history.events, history.source or "<history>")
        if not history.events:
            raise HistoryFormatError(f"{history.source or '<history>'}: no events; a history "
                                     "starts with WorkflowExecutionStarted")
        started = history.events[0].attributes
        name = started.get("workflowType", "")
        definition = self.definitions.get(name)
        if definition is None:
            raise NondeterminismError(
                f"history {history.workflow_id!r} is of workflow type {name!r}, which is not "
                f"among the replayer's workflows ({', '.join(sorted(self.definitions))})",
                workflow_id=history.workflow_id, event_id=1, recorded=name, issued="")
        instance = WorkflowInstance(
            definition, workflow_id=history.workflow_id or started.get("workflowId", ""),
            run_id=str(started.get("originalExecutionRunId", "")),
            args=started.get("input", []))
        events = list(history.events)
        with collector_paused():  # replay allocates a lot and frees it all: skip GC passes
            activation = instance.feed(events)
        if activation.mismatch is not None:
            raise activation.mismatch
        if activation.task_failure is not None:
            raise ReplayTaskError(instance.workflow_id, activation.task_failure,
                                  activation.events[-1].event_id) from activation.task_failure
        leftover = instance.unmatched_replayed()
        if leftover and _closed(history):
            raise NondeterminismError(
                f"[TMPRL1100] workflow {instance.workflow_id!r}: the history ends at event "
                f"{events[-1].event_id} but the code issued {leftover[0].describe()}",
                workflow_id=instance.workflow_id, event_id=events[-1].event_id,
                recorded="end of history", issued=leftover[0].describe())
        return ReplayResult(instance.workflow_id,
                            tuple(match.command for match in activation.matches),
                            instance.finished, tuple(instance.logs))


def _closed(history: History) -> bool:
    return history.events[-1].event_type in (
        EventType.WORKFLOW_EXECUTION_COMPLETED, EventType.WORKFLOW_EXECUTION_FAILED,
        EventType.WORKFLOW_EXECUTION_CONTINUED_AS_NEW, EventType.WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.WORKFLOW_EXECUTION_TERMINATED, EventType.WORKFLOW_EXECUTION_CANCELED)
