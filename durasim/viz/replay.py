"""Where workflow code stands after replaying the first k events of its history.

This is the idea behind durable execution made visible: after a crash nothing of the
workflow's memory is left, and the engine rebuilds it by running the code again against
the history, event by event. Feeding the first k events to a fresh workflow instance and
looking at the suspended coroutine shows exactly which line the code is waiting on, what
its local variables hold and which recorded event its command just matched.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from typing import Any

from durasim.engine.history import History, HistoryEvent
from durasim.engine.runtime import WorkflowInstance
from durasim.engine.workflow import WorkflowDefinition
from durasim.errors import NondeterminismError

_ENGINE = os.path.dirname(os.path.abspath(inspect.getfile(WorkflowInstance)))


@dataclass(frozen=True)
class Frame:
    """One function of the workflow's code that is waiting: its source and its line."""

    name: str
    lines: tuple[str, ...]
    first_line: int
    line: int
    locals: dict[str, str]


def main_frame(frames: tuple[Frame, ...]) -> Frame | None:
    """The frame to show: the innermost one that is more than a one-line wrapper.

    Workflow code often wraps ``ctx.activity`` in a small helper; the line students
    want to see is the caller's (the loop over the business steps), not the helper's.
    """
    for frame in reversed(frames):
        body = [line for line in frame.lines[1:] if line.strip()
                and not line.strip().startswith(("#", '"' * 3, "'" * 3))]
        if len(body) > 1:
            return frame
    return frames[-1] if frames else None


@dataclass(frozen=True)
class Position:
    """The workflow after replaying events 1..index.

    Attributes:
        index: how many events were fed.
        event: the last event fed (the one being matched).
        frames: the waiting functions, outermost first (empty before the code starts
            and after it returns).
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
    matched: str = ""
    replaying: bool = True
    finished: bool = False
    commands: int = 0
    error: NondeterminismError | None = None


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
        args=list(started.get("input", [])))
    error: NondeterminismError | None = None
    try:
        instance.feed(events[:index])
    except NondeterminismError as exc:
        error = exc
    event = events[index - 1]
    command = instance._by_event.get(event.event_id)
    frames = _frames(instance)
    return Position(index, event, frames,
                    matched=command.describe() if command is not None else "",
                    replaying=instance.replaying, finished=instance.finished,
                    commands=len(instance._by_event) + len(instance._unmatched), error=error)


def describe(event: HistoryEvent) -> str:
    """``5 ActivityTaskScheduled · deposit({...})``: an event as one line."""
    summary = event.summary()
    return f"{event.event_id} {event.event_type.value}" + (f" · {summary}" if summary else "")


def _frames(instance: WorkflowInstance) -> tuple[Frame, ...]:
    """The user-code frames of the suspended workflow, following what each one awaits."""
    main = instance._main
    coro: Any = main.coro if main is not None else None
    found: list[Frame] = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            break
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_ENGINE):
            try:
                lines, first = inspect.getsourcelines(frame.f_code)
            except (OSError, TypeError):
                lines, first = [], frame.f_lineno
            own = {k: v for k, v in frame.f_locals.items()
                   if k not in frame.f_code.co_freevars}  # not the enclosing function's
            found.append(Frame(frame.f_code.co_name, tuple(lines), first, frame.f_lineno,
                               _locals(own)))
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return tuple(found)


def _locals(values: dict[str, Any]) -> dict[str, str]:
    shown = {}
    for name, value in values.items():
        if name in ("ctx", "self") or name.startswith("_") or callable(value):
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
