"""Activation: what feeding a piece of history to a workflow did, as one record.

Everything that watches replay reads this record and nothing else: the worker sends its
``commands`` to the server, the :class:`~durasim.engine.replayer.Replayer` checks its
``matches`` and ``mismatch``, and the replay stepper shows the line of workflow code it
stopped at. ``Frame`` and ``SourceLine`` are where in the *user's* code that is.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

from durasim.engine.commands import Command
from durasim.engine.history import HistoryEvent
from durasim.errors import NondeterminismError

_DURASIM = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
"""The package folder: frames inside it are machinery, not the user's workflow code."""
_SCENARIOS = os.path.join(_DURASIM, "scenarios")
"""... except the scenarios' workflows, which are plain business code to be read."""


def _package_folder(name: str) -> str | None:
    """Where package ``name`` is installed (without importing it), or None."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec is not None else None
    return os.path.dirname(os.path.abspath(origin)) if origin else None


_MACHINERY = tuple(folder + os.sep for folder in (_package_folder("asyncio"),
                                         _package_folder("temporalio")) if folder)
"""Other machinery workflow code runs on: asyncio and Temporal's SDK (for SDK classes)."""


def is_user_code(filename: str) -> bool:
    """Is ``filename`` workflow code a student wrote (or reads), not durasim's machinery?"""
    path = os.path.abspath(filename)
    if path.startswith(_MACHINERY):
        return False
    return not path.startswith(_DURASIM) or path.startswith(_SCENARIOS)


@dataclass(frozen=True)
class SourceLine:
    """A line of workflow code: where a command was issued or where the code waits."""

    filename: str
    function: str
    line: int


@dataclass(frozen=True)
class Frame:
    """One function of the workflow's code that is waiting: its source and its line."""

    name: str
    lines: tuple[str, ...]
    first_line: int
    line: int
    locals: dict[str, Any]
    filename: str = ""


@dataclass(frozen=True)
class Match:
    """A recorded command event and the command the code issued again for it."""

    event_id: int
    command: Command
    line: SourceLine | None = None


@dataclass(frozen=True)
class Activation:
    """The result of one :meth:`~durasim.engine.runtime.WorkflowInstance.feed`.

    Attributes:
        events: the history events applied, in order.
        commands: the *new* commands of the workflow task being worked on (what a worker
            sends to the server); empty when only replaying.
        matches: recorded command events matched by the code's commands, in order.
        mismatch: the non-determinism found, if the code and the history disagree
            (feeding stops at the event that disagreed).
        task_failure: an exception in workflow code that is not a workflow failure (a bug,
            a ``NameError``): the workflow task fails and the workflow stays open.
        replaying: whether the last workflow task fed was a replay.
        finished: whether the code has ended (completed, failed, continued as new).
        frames: the user-code functions waiting now, outermost first (only when the
            instance tracks lines: reading them costs the source of each frame).
        local_activities: local activities the code waits on: the worker runs them and
            resumes the code before it completes the task.
        update_rejections: updates refused by their validator (update id, error):
            nothing is written for them.
    """

    events: tuple[HistoryEvent, ...]
    commands: tuple[Command, ...] = ()
    matches: tuple[Match, ...] = ()
    mismatch: NondeterminismError | None = None
    task_failure: BaseException | None = None
    replaying: bool = False
    finished: bool = False
    frames: tuple[Frame, ...] = ()
    local_activities: tuple[Any, ...] = ()
    update_rejections: tuple[tuple[str, BaseException], ...] = ()

    @property
    def line(self) -> SourceLine | None:
        """Where the user's code waits now (its innermost waiting frame)."""
        if not self.frames:
            return None
        frame = self.frames[-1]
        return SourceLine(frame.filename, frame.name, frame.line)

    @property
    def ok(self) -> bool:
        """No mismatch and no task failure."""
        return self.mismatch is None and self.task_failure is None


def calling_line() -> SourceLine | None:
    """The innermost line of user workflow code on the current call stack."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if is_user_code(filename):
            return SourceLine(filename, frame.f_code.co_name, frame.f_lineno)
        frame = frame.f_back
    return None


def waiting_frames(coro: Any) -> tuple[Frame, ...]:
    """The user-code frames of a suspended coroutine, following what each one awaits."""
    found: list[Frame] = []
    for frame in _awaited_chain(coro):
        code = frame.f_code
        if not is_user_code(code.co_filename):
            continue
        try:
            lines, first = inspect.getsourcelines(code)
        except (OSError, TypeError):
            lines, first = [], frame.f_lineno
        own = {k: v for k, v in frame.f_locals.items()
               if k not in code.co_freevars}  # not the enclosing function's
        found.append(Frame(code.co_name, tuple(lines), first, frame.f_lineno, own,
                           code.co_filename))
    return tuple(found)


def _awaited_chain(coro: Any) -> Iterator[FrameType]:
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            return
        yield frame
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
