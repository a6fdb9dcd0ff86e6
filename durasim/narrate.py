"""Runs told in words, in English or Spanish: a short timeline and a plain-language verdict.

The terminal demo and the notebooks' summaries read from the trace what a student would
point at on the timeline picture (steps that committed, crashes, restarts, replays,
redeliveries) and say who lost or gained what, and why, in the language of the room
(:func:`durasim.i18n.set_language`). Step, node and activity names stay as the code
spells them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from durasim.i18n import check_sentence, get_language, outcome, t

if TYPE_CHECKING:
    from durasim.architectures.base import Run

_TOLD = ("crash", "restart", "rollback", "replay", "recover", "redeliver", "dead_letter",
         "retry", "step")


def _describe(kind: str, fields: dict[str, Any]) -> str | None:
    if kind == "step":
        if fields.get("phase") != "effect":
            return None
        return t("tl_committed", step=fields.get("step"), name=fields.get("name"))
    if kind == "crash":
        return t("tl_crash")
    if kind == "restart":
        return t("tl_restart", n=fields.get("incarnation"))
    if kind == "rollback":
        return t("tl_rollback")
    if kind in ("replay", "recover"):
        return t(f"tl_{kind}", n=fields.get("events"))
    if kind in ("redeliver", "dead_letter"):
        return t(f"tl_{kind}")
    if kind == "retry" and fields.get("activity"):
        return t("tl_retry", activity=fields.get("activity"), n=fields.get("attempt"))
    return None


def timeline_rows(run: Run, limit: int = 14) -> list[tuple[float | None, str, str]]:
    """The events worth telling as (time, node, what), at most ``limit`` of them (crashes
    and restarts always kept); a last row with no time says how many were left out."""
    rows: list[tuple[bool, tuple[float | None, str, str]]] = []
    for event in run.trace.filter(kind=_TOLD, semantic=True):
        text = _describe(event.kind, event.fields)
        if text is not None and event.node:
            rows.append((event.kind in ("crash", "restart"), (event.time, event.node, text)))
    if len(rows) <= limit:
        return [row for _, row in rows]
    keep = {i for i, (important, _) in enumerate(rows) if important}
    for i in range(len(rows)):
        if len(keep) >= limit:
            break
        keep.add(i)
    shown = [rows[i][1] for i in sorted(keep)]
    return [*shown, (None, "", t("tl_more", n=len(rows) - len(shown)))]


def verdict_parts(run: Run) -> tuple[str, list[tuple[bool, str]], str]:
    """(outcome line, [(passed, what the check says)], why) for ``run``."""
    english = get_language() == "en"  # the architectures explain runs in English only
    head = run.explanation if run.explanation and english else f"{outcome(run.outcome)}."
    checks = [(c.ok, check_sentence(c, run)) for c in run.checks if c.name != "same_outcome"]
    return head, checks, t(f"why_{run.architecture}")


def verdict(run: Run) -> str:
    """What happened, which checks failed, and why, in two or three sentences."""
    head, checks, why = verdict_parts(run)
    failed = [text for ok, text in checks if not ok]
    parts = [head, *failed, f"{t('why')}: {why}."]
    return "\n     ".join(parts)


@dataclass(frozen=True)
class Wait:
    """A long quiet stretch of a durable run, and the timeout that ended it."""

    start: float
    end: float
    kind: str
    """"start_to_close": an activity attempt on a dead worker, until its timeout;
    "sticky": a workflow task on a dead worker's sticky queue, until it moved on;
    "workflow_task": a workflow task the worker died running, until its timeout."""
    limit: float
    """The timeout's configured length (start-to-close) or the wait measured (the
    workflow-task waits)."""
    what: str = ""
    """The activity waited for (start-to-close)."""


def long_waits(run: Any) -> list[Wait]:
    """The waits students see in a durable run's history, read from its trace and history.

    An activity retried after its worker died waited, from its attempt's start to the
    server's retry, for its start-to-close timeout. A workflow task offered to a dead
    worker's sticky queue waited for the schedule-to-start timeout (``WorkflowTaskTimedOut``)
    before another worker took it and replayed the history; one the worker died running
    waited for its start-to-close timeout.
    """
    history = list(getattr(run, "history", None) or [])
    if not history:
        return []
    limits = {e.attributes.get("activityType"): float(e.attributes["startToCloseTimeout"])
              for e in history if e.event_type.value == "ActivityTaskScheduled"
              and "startToCloseTimeout" in e.attributes}
    starts: dict[tuple[str, int], float] = {}
    waits = []
    for event in run.trace.filter(kind=("activity", "retry"), semantic=True):
        f = event.fields
        if event.kind == "activity" and f.get("phase") == "start":
            starts[(str(f["name"]), int(f["attempt"]))] = event.time
        elif event.kind == "retry" and event.node == "server" and f.get("activity"):
            name, attempt = str(f["activity"]), int(f["attempt"])
            began = starts.get((name, attempt - 1))
            if began is not None and limits.get(name, 0.0) > 0:
                waits.append(Wait(began, event.time, "start_to_close", limits[name], name))
    by_id = {e.event_id: e for e in history}
    for event in history:
        if event.event_type.value != "WorkflowTaskTimedOut":
            continue
        if event.attributes.get("timeoutType") == "TIMEOUT_TYPE_START_TO_CLOSE":
            started = by_id[int(event.attributes["startedEventId"])]
            waits.append(Wait(started.time, event.time, "workflow_task",
                              event.time - started.time))
        else:
            scheduled = by_id[int(event.attributes["scheduledEventId"])]
            waits.append(Wait(scheduled.time, event.time, "sticky",
                              event.time - scheduled.time))
    return sorted(waits, key=lambda w: w.start)


def wait_sentence(wait: Wait) -> str:
    """One sentence saying what a student saw wait, and why (current language)."""
    from durasim.viz.style import format_time

    return t(f"wait_{wait.kind}", limit=format_time(wait.limit), what=wait.what,
             start=format_time(wait.start), end=format_time(wait.end))
