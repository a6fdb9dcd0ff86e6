"""Runs told in words, in English or Spanish: a short timeline and a plain-language verdict.

The terminal demo and the notebooks' summaries read from the trace what a student would
point at on the timeline picture (steps that committed, crashes, restarts, replays,
redeliveries) and say who lost or gained what, and why, in the language of the room
(:func:`durasim.i18n.set_language`). Step, node and activity names stay as the code
spells them.
"""

from __future__ import annotations

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


def text_timeline(run: Run, limit: int = 14) -> list[str]:
    """:func:`timeline_rows` as plain lines."""
    return [f"  {'' if time is None else f'{time:9.3f}s':>10}  {node:<14} {text}"
            for time, node, text in timeline_rows(run, limit)]


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
