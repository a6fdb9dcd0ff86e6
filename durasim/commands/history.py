"""``durasim history FILE.json``: read any Temporal JSON history as a table.

What ``temporal workflow show`` prints is thorough but long; a class needs the story: which
activity ran with what, which attempt, what came back, when the timer fired. This command
loads a history (the SDK's ``to_json()`` or the CLI's ``--output json``; durasim's own are
the same shape) and prints one line per event: id, time since the start, type and key
attributes. The compact view hides the workflow-task bookkeeping; ``--full`` shows it.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from durasim.engine.history import History, HistoryEvent

HELP = "print a Temporal JSON history as a table (compact unless --full)"


def register(subparsers: Any) -> None:
    """Add ``durasim history``."""
    parser = subparsers.add_parser("history", help=HELP, description=HELP)
    parser.add_argument("file", metavar="FILE.json",
                        help="a history: temporal workflow show --output json, or to_json()")
    parser.add_argument("--full", action="store_true",
                        help="also show the workflow-task events (WorkflowTaskScheduled, ...)")
    parser.set_defaults(run=run)


def format_seconds(t: float) -> str:
    """Time since the start, for people: seconds up to an hour, then hours, then days."""
    if abs(t) < 3600:
        return f"{t:.3f} s"
    if abs(t) < 86400:
        return f"{t / 3600:.2f} h"
    return f"{t / 86400:.2f} d"


def history_lines(history: History, *, full: bool = False) -> list[str]:
    """The table ``durasim history`` prints: a heading line, column names, one row per event."""
    shown: list[HistoryEvent] = [e for e in history
                                 if full or not e.event_type.is_workflow_task]
    hidden = len(history) - len(shown)
    what = history.workflow_type or "?"
    where = f" (workflow id {history.workflow_id})" if history.workflow_id else ""
    note = (f"; {hidden} workflow-task events hidden, --full shows them" if hidden else "")
    rows = [(str(e.event_id), format_seconds(e.time), e.event_type.value, e.summary())
            for e in shown]
    head = ("id", "time", "event", "details")
    widths = [max([len(head[i]), *(len(r[i]) for r in rows)]) for i in range(3)]

    def line(r: tuple[str, str, str, str]) -> str:
        return (f"{r[0].rjust(widths[0])}  {r[1].rjust(widths[1])}  "
                f"{r[2].ljust(widths[2])}  {r[3]}").rstrip()

    return [f"{what}{where}: {len(history)} events{note}", line(head),
            *(line(r) for r in rows)]


def run(args: argparse.Namespace) -> int:
    """Print the table; a malformed file raises HistoryFormatError (one line, exit 2)."""
    history = History.from_temporal_json(args.file)
    try:
        print("\n".join(history_lines(history, full=args.full)))
        sys.stdout.flush()
    except BrokenPipeError:  # `durasim history x.json | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
