"""Runs told in words: a short text timeline and a plain-language verdict.

The terminal demo and the notebooks' summaries read from the trace what a student would
point at on the timeline picture (steps that committed, crashes, restarts, replays,
redeliveries) and say who lost or gained what, and why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from durasim.architectures.base import Run

_TOLD = ("crash", "restart", "commit", "rollback", "replay", "recover", "redeliver",
         "dead_letter", "retry", "step", "publish")

WHY = {
    "monolith": "one database transaction holds every step, so a crash before the commit "
                "rolls all of it back",
    "event_driven": "each service commits on its own and passes an event on; a crash between "
                    "the commit and the event (or after an early acknowledgement) loses or "
                    "repeats a step, and nobody owns the whole transfer",
    "durable": "the engine's history remembers every completed step; after a crash it "
               "replays the history and retries only what had not been recorded",
}


def _line(time: float, node: str, text: str) -> str:
    return f"  {time:9.3f}s  {node:<14} {text}"


def _describe(kind: str, fields: dict[str, Any]) -> str | None:
    if kind == "step":
        if fields.get("phase") != "effect":
            return None
        return f"step {fields.get('step')} {fields.get('name')}: committed"
    if kind == "crash":
        return "CRASH: its memory is gone"
    if kind == "restart":
        return f"restarts (incarnation {fields.get('incarnation')})"
    if kind == "rollback":
        return f"rollback ({fields.get('reason', '')})".replace(" ()", "")
    if kind == "replay":
        return f"replays {fields.get('events')} history events to rebuild the workflow"
    if kind == "recover":
        return f"rebuilds the workflow from {fields.get('events')} stored events"
    if kind == "redeliver":
        return "redelivers an unacknowledged message"
    if kind == "dead_letter":
        return "moves a message to the dead-letter queue"
    if kind == "retry":
        return f"retries {fields.get('activity')} (attempt {fields.get('attempt')})"
    return None


def text_timeline(run: Run, limit: int = 14) -> list[str]:
    """The events worth telling, one line each, at most ``limit`` (crashes always kept)."""
    lines: list[tuple[bool, str]] = []
    for event in run.trace.filter(kind=_TOLD, semantic=True):
        text = _describe(event.kind, event.fields)
        if text is not None:
            lines.append((event.kind in ("crash", "restart"), _line(event.time, event.node,
                                                                    text)))
    if len(lines) <= limit:
        return [text for _, text in lines]
    keep = {i for i, (important, _) in enumerate(lines) if important}
    for i in range(len(lines)):
        if len(keep) >= limit:
            break
        keep.add(i)
    shown = [lines[i][1] for i in sorted(keep)]
    return [*shown, f"  ... ({len(lines) - len(shown)} more events in the trace)"]


def verdict(run: Run) -> str:
    """What happened, who lost or gained what, and why, in two or three sentences."""
    money = next((c for c in run.checks if c.name == "money_conserved"), None)
    once = next((c for c in run.checks if c.name == "exactly_once"), None)
    parts = [run.explanation or f"Outcome: {run.outcome}."]
    failed = [c.sentence for c in run.checks if not c.ok and c.name != "same_outcome"]
    if money is not None and money.ok and once is not None and once.ok:
        parts.append(f"Consistent: {money.sentence} {once.sentence}")
    if failed:
        parts.append("Wrong: " + " ".join(failed))
    parts.append(f"Why: {WHY.get(run.architecture, '')}.")
    return "\n     ".join(parts)
