"""The system's state at any instant, rebuilt from a finished run.

A widget that steps through a run, or an animation frame, needs "who was down, what sat
in each queue, what each account held" at a chosen virtual time. Nothing is re-simulated:
the trace says when nodes crashed and restarted and when messages reached and left the
broker, and :mod:`durasim.money` says when money moved and where it is. Determinism
makes this the same as having stopped the simulation there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from durasim.architectures.state import RunState
from durasim.i18n import t
from durasim.money import Movement, balances_at, money, movements
from durasim.trace import TraceEvent
from durasim.viz.story import semantic_events

__all__ = ["DEAD_LETTER", "Moment", "Movement", "balances_at", "history_length", "moments",
           "money_label", "movements", "node_status", "queue_depths"]


def node_status(source: Any, at: float | None = None) -> dict[str, bool]:
    """Node -> is it up at virtual time ``at`` (the end of the run when None)?"""
    status: dict[str, bool] = {}
    for event in semantic_events(source):
        if at is not None and event.time > at:
            break
        if event.node:
            status.setdefault(event.node, True)
        if event.kind == "crash":
            status[event.node] = False
        elif event.kind in ("restart", "node_start"):
            status[event.node] = True
        for key in ("to", "frm"):
            other = event.fields.get(key)
            if isinstance(other, str) and other:
                status.setdefault(other, True)
    return status


DEAD_LETTER = "dead_letter"
"""The broker's queue of messages given up on (as ``RunState.queues`` names it)."""


def queue_depths(run: Any, at: float | None = None) -> dict[str, int]:
    """Queue -> messages stored and not yet acknowledged (or dead-lettered) at ``at``.

    Counted from the broker's side of the trace: a ``publish`` it received adds one to
    the queue named by the producer's publish record, an ``ack`` it received removes
    one. At the end of a run the broker's own tables (``run.state.queues``) are the
    authority and are used instead.
    """
    events = semantic_events(run)
    queue_of_step: dict[Any, str] = {}
    depths: dict[str, int] = {}
    for event in events:
        if event.kind == "publish":
            queue = str(event.fields.get("queue", ""))
            queue_of_step[event.fields.get("step")] = queue
            depths.setdefault(queue, 0)
    if at is None:
        state = getattr(run, "state", None)
        if isinstance(state, RunState):
            for queue in depths:
                depths[queue] = 0
            for queue, messages in state.queues.items():
                depths[queue] = len(messages)
            return depths
    for event in events:
        if at is not None and event.time > at:
            break
        if event.kind == "receive" and event.node == "broker":
            found = queue_of_step.get(event.fields.get("step"))
            if found is None:
                continue
            queue = found
            if event.fields.get("msg") == "publish":
                depths[queue] = depths.get(queue, 0) + 1
            elif event.fields.get("msg") == "ack":
                depths[queue] = max(0, depths.get(queue, 0) - 1)
        elif event.kind == "dead_letter":
            queue = str(event.fields.get("queue", ""))
            depths[queue] = max(0, depths.get(queue, 0) - 1)
            depths[DEAD_LETTER] = depths.get(DEAD_LETTER, 0) + 1
    return depths


def history_length(source: Any, at: float | None = None) -> int:
    """How many events the engine's server has recorded by ``at`` (its durable memory)."""
    count = 0
    for event in semantic_events(source):
        if at is not None and event.time > at:
            break
        if event.kind == "history":
            count += 1
    return count


def money_label(run: Any, at: float | None = None) -> str:
    """What the pictures say about money not in the accounts ("" when there is none).

    Read from :func:`durasim.money.money`, the numbers the checks judge by, so the graph
    can never say "in flight" where the checks say "destroyed". Before the end of the run
    nobody knows yet, and the label says only that the money is out of the accounts.
    """
    found = money(run, at)
    if found.created:
        return f"{t('created')}: {found.created}"
    if found.destroyed:
        return f"{t('destroyed')}: {found.destroyed}"
    if found.in_flight:
        key = "in_flight" if found.final else "out_of_accounts"
        return f"{t(key)}: {found.in_flight}"
    return ""


@dataclass(frozen=True)
class Moment:
    """An instant worth stopping at when stepping through a run, and what happens then.

    ``node`` is where the first thing of that instant happened (where "crash now" aims
    when no node is chosen).
    """

    time: float
    label: str
    node: str = ""


_MOMENT_KINDS = {"step", "crash", "restart", "replay", "recover", "redeliver", "dead_letter",
                 "lost", "drop", "rollback", "nondeterminism"}


def moments(source: Any) -> list[Moment]:
    """The instants a student steps through: each business step starting, each crash,
    restart, replay, redelivery and loss, and the end of the run.

    Events at the same instant are one moment (their descriptions joined), so stepping
    never stops twice at the same picture.
    """
    found: list[Moment] = []
    events = semantic_events(source)
    has_steps = any(e.kind == "step" for e in events)
    for event in events:
        text = _describe(event, has_steps)
        if not text:
            continue
        if found and found[-1].time == event.time:
            if text not in found[-1].label:
                found[-1] = Moment(event.time, f"{found[-1].label}; {text}", found[-1].node)
            continue
        found.append(Moment(event.time, text, event.node))
    if events and (not found or found[-1].time < events[-1].time):
        found.append(Moment(events[-1].time, "end of the run", events[-1].node))
    return found


def _describe(event: TraceEvent, has_steps: bool) -> str:
    f, node = event.fields, event.node
    kind = event.kind
    if kind == "activity" and not has_steps and f.get("phase") == "start":
        return f"{f.get('name')} starts on {node}"
    if kind not in _MOMENT_KINDS:
        return ""
    if kind == "step":
        if f.get("phase") == "start":
            return f"step {f.get('step')} {f.get('name')} starts on {node}"
        if f.get("phase") == "effect":
            return f"step {f.get('step')} {f.get('name')} commits on {node}"
        return ""
    if kind in ("lost", "drop"):
        return f"message {f.get('msg', '')} lost ({f.get('reason', '')})"
    if kind in ("replay", "recover"):
        return f"{node} {kind}s" + (f" {f['events']} events" if "events" in f else "")
    return f"{node}: {kind.replace('_', ' ')}"
