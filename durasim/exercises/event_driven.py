"""Exercise 1: choose the event-driven options that make every crash at step 5 safe."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from durasim.errors import ScenarioError
from durasim.exercises.feedback import Feedback, Problem
from durasim.faults import Crash

EVENT_DRIVEN_OPTIONS: tuple[str, ...] = ("at_least_once", "idempotent_consumers", "outbox")
"""The options the first exercise is about (the architecture's switches that fix it)."""

_LOST_FIX = ("acknowledge an event only after processing it, so the broker redelivers it "
             "after a crash: turn on at_least_once=True")
_DUPLICATE_FIX = ("make the consumers remember the event ids they processed (in the same "
                  "transaction as the effect) and skip a repeated one: turn on "
                  "idempotent_consumers=True")


def _event_driven_cases(steps: Sequence[int]) -> list[tuple[str, Crash]]:
    cases = []
    for step in steps:
        for node in (None, "broker"):
            for when in ("before_effect", "after_effect"):
                who = "the service running it" if node is None else "the broker"
                effect = "before" if when == "before_effect" else "after"
                label = f"crash at step {step} on {who}, {effect} the effect"
                cases.append((label, Crash(node=node, at_step=step, when=when)))
    return cases


def check_event_driven(options: Mapping[str, Any] | None = None, *,
                       steps: Sequence[int] | str = (5,), **more: Any) -> Feedback:
    """Exercise 1: do these event-driven options survive every crash at step 5?

    Runs the bank transfer on the event-driven architecture with ``options`` under each
    crash of the set: at each step of ``steps``, on the service executing it and on the
    broker, before and after the step's effect. A crash "breaks" the transfer when any
    check fails (money lost or created, a step applied twice, something stuck, a different
    outcome than without the crash); the feedback says which crash, what happened and
    which option prevents it.

    Args:
        options: the architecture's options, e.g. ``{"at_least_once": True}``.
        steps: the steps to crash at (default the talk's step 5); ``"all"`` for 1..6.
        **more: options given as keywords instead (merged into ``options``).

    Returns:
        The :class:`Feedback`; ``.ok`` when every crash left the transfer consistent.
    """
    from durasim.api import run as run_architecture
    from durasim.architectures import get_architecture
    from durasim.scenarios import get_scenario

    title = "Exercise 1 (fix the event-driven transfer)"
    feedback = Feedback(title)
    chosen: dict[str, Any] = {}
    if options is not None and not isinstance(options, Mapping):
        feedback.problems.append(Problem(
            "bad_option", "your answer",
            f"options must be a dict such as {{'at_least_once': True}}, got {options!r}.",
            "write the options as a dict of option name -> True/False"))
        return feedback
    chosen.update(options or {})
    chosen.update(more)
    valid = get_architecture("event_driven").options
    unknown = sorted(set(chosen) - set(valid))
    if unknown:
        feedback.problems.append(Problem(
            "bad_option", "your answer",
            f"the event-driven architecture has no option {unknown[0]!r}.",
            f"choose among {', '.join(EVENT_DRIVEN_OPTIONS)}"))
        return feedback
    scenario = get_scenario("transfer")
    numbers = ([s.number for s in scenario.steps] if steps == "all"
               else [scenario.step(s).number for s in steps])
    for label, crash in _event_driven_cases(numbers):
        try:
            result = run_architecture(scenario, "event_driven", faults=[crash], **chosen)
        except (TypeError, ScenarioError) as exc:
            feedback.problems.append(Problem("bad_option", "your answer", f"{exc}.",
                                             "use True or False for each option"))
            return feedback
        if result.unfired:
            continue
        if result.checks.ok:
            feedback.passed.append(f"{label}: {result.explanation[:1].lower()}"
                                   f"{result.explanation[1:]}")
            continue
        failed = " ".join(c.sentence for c in result.checks.failed
                          if c.name != "same_outcome")  # it repeats the explanation
        effects = Counter(effect.name for effect in result.state.effects)
        if any(n > 1 for n in effects.values()):
            twice = ", ".join(name for name, n in effects.items() if n > 1)
            fix = (_DUPLICATE_FIX if not chosen.get("idempotent_consumers")
                   else "look at which effect ran twice and why the consumer did not skip it")
            feedback.problems.append(Problem(
                "duplicate", label,
                f"the broker delivered the event again and {twice} ran twice. {failed}", fix))
        elif result.outcome in ("lost", "stuck", "dead-lettered"):
            fix = (_LOST_FIX if not chosen.get("at_least_once")
                   else "look at where the event stopped in run.logs")
            feedback.problems.append(Problem(
                "lost", label, f"{result.explanation} {failed}", fix))
        else:
            feedback.problems.append(Problem("other", label, f"{result.explanation} {failed}",
                                             "run it yourself and read run.logs"))
    if feedback.ok and chosen.get("outbox"):
        feedback.notes.append(
            "outbox=True is not needed for these crashes (with at_least_once the publishers "
            "wait for the broker's confirm and idempotent consumers re-send what they "
            "produced), though it does no harm.")
    return feedback
