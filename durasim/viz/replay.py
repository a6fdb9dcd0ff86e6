"""Where workflow code stands after replaying the first k events of its history.

This is the idea behind durable execution made visible: after a crash nothing of the
workflow's memory is left, and the engine rebuilds it by running the code again against
the history, event by event. Feeding the first k events to a fresh workflow instance and
reading the :class:`~durasim.engine.activation.Activation` it returns shows exactly which
line of the workflow's code issued the command an event records, which line the code is
waiting on, and what its local variables hold.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from typing import Any

from durasim.engine.activation import Frame, SourceLine
from durasim.engine.definitions import WorkflowDefinition
from durasim.engine.history import History, HistoryEvent
from durasim.engine.runtime import WorkflowInstance
from durasim.errors import NondeterminismError


@dataclass(frozen=True)
class Position:
    """The workflow after replaying events 1..index.

    Attributes:
        index: how many events were fed.
        event: the last event fed (the one being matched).
        frames: the user-code functions waiting, outermost first (empty before the code
            starts and after it returns).
        line: the line to show: the one that issued the command ``event`` records, or
            else the one the code waits on.
        matched: the command the event recorded, as the code issued it again.
        replaying: whether the code is re-running recorded work (True) or executing
            new work (False, the history's last workflow task).
        finished: the code has returned (or failed).
        commands: how many commands the code has issued so far.
        error: the non-determinism found, if the code and the history disagree.
    """

    index: int
    event: HistoryEvent
    frames: tuple[Frame, ...] = ()
    line: SourceLine | None = None
    matched: str = ""
    replaying: bool = True
    finished: bool = False
    commands: int = 0
    error: NondeterminismError | None = None

    @property
    def locals(self) -> dict[str, str]:
        """The waiting functions' local variables, as students want to read them."""
        shown: dict[str, str] = {}
        for frame in self.frames:
            shown.update(_locals(frame.locals))
        return shown


def replay_to(definition: WorkflowDefinition, history: History, index: int) -> Position:
    """Feed events 1..``index`` of ``history`` to a fresh instance of ``definition``.

    Raises:
        ValueError: ``index`` outside 1..len(history).
    """
    events = list(history)
    if not 1 <= index <= len(events):
        raise ValueError(f"event index must be between 1 and {len(events)}, got {index}")
    started = events[0].attributes
    instance = WorkflowInstance(
        definition, workflow_id=history.workflow_id or str(started.get("workflowId", "")),
        run_id=str(started.get("originalExecutionRunId", "")),
        args=list(started.get("input", [])), track_lines=True)
    activation = instance.feed(events[:index])
    event = events[index - 1]
    match = next((m for m in activation.matches if m.event_id == event.event_id), None)
    line = match.line if match is not None and match.line is not None else activation.line
    return Position(index, event, activation.frames, line,
                    matched=match.command.describe() if match is not None else "",
                    replaying=activation.replaying, finished=activation.finished,
                    commands=len(activation.matches) + len(activation.commands),
                    error=activation.mismatch)


def source_of(position: Position, definition: WorkflowDefinition
              ) -> tuple[str, tuple[str, ...], int, int]:
    """What to show for a position: function name, its lines, first line, current line.

    The function is the one holding ``position.line`` (the workflow itself, or a helper
    it awaits); when the code has ended, the workflow with its last ``return`` marked.
    """
    line = position.line
    for frame in reversed(position.frames):
        if line is not None and frame.filename == line.filename and (
                frame.first_line <= line.line < frame.first_line + len(frame.lines)):
            return frame.name, frame.lines, frame.first_line, line.line
    source, first = definition.source
    lines = tuple(source)
    if line is not None and (line.function == definition.fn.__name__
                             or _inside(line, definition, first, len(lines))):
        return definition.name, lines, first, line.line
    current = _return_line(lines, first) if position.finished else first
    return definition.name, lines, first, current


def _inside(line: SourceLine, definition: WorkflowDefinition, first: int, count: int) -> bool:
    """Is ``line`` within the definition's source (a method of an SDK workflow class)?"""
    code = definition.origin if definition.origin is not None else definition.fn
    functions = ([v for v in vars(code).values() if inspect.isfunction(v)]
                 if isinstance(code, type) else [code])
    files = {os.path.abspath(f.__code__.co_filename) for f in functions
             if hasattr(f, "__code__")}  # a class defined in a notebook has no file of its own
    return os.path.abspath(line.filename) in files and first <= line.line < first + count


def describe(event: HistoryEvent) -> str:
    """``5 ActivityTaskScheduled · deposit({...})``: an event as one line."""
    summary = event.summary()
    return f"{event.event_id} {event.event_type.value}" + (f" · {summary}" if summary else "")


def _return_line(lines: tuple[str, ...], first: int) -> int:
    for offset in range(len(lines) - 1, -1, -1):
        if lines[offset].strip().startswith("return"):
            return first + offset
    return first + len(lines) - 1


def _locals(values: dict[str, Any]) -> dict[str, str]:
    shown = {}
    for name, value in values.items():
        if name in ("ctx", "self") or name.startswith("_") or callable(value) or (
                inspect.ismodule(value)):
            continue
        text = _show(value)
        shown[name] = text if len(text) <= 90 else text[:87] + "..."
    return shown


def _show(value: Any) -> str:
    """A value as students want to read it: business steps by their label."""
    label = getattr(value, "label", None)
    if isinstance(label, str):
        return label
    if isinstance(value, list | tuple) and value and all(
            isinstance(getattr(v, "label", None), str) for v in value):
        inner = ", ".join(v.label for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return repr(value)
