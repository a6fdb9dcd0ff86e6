"""The invariants every run is judged by, each with a sentence a student understands.

The same four questions are asked of every architecture, from the same data, the run's
:class:`~durasim.architectures.state.RunState` (final balances, the ``effects`` and
``postings`` rows of every database, what is still pending):

* is money conserved (counting money that is visibly on its way)?
* was each business process applied exactly once, or not at all?
* is anything stuck in flight, and where?
* did the run end like the same run without faults?

and, when somebody waited for an answer, did that caller learn what happened? A check
never just says "failed": it says who lost what, which step ran twice, where the event
sits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from durasim.money import money
from durasim.verdict import CheckReport, CheckResult

__all__ = ["CheckReport", "CheckResult", "caller_informed", "down_at_end", "evaluate",
           "exactly_once", "money_conserved", "nothing_stuck", "same_outcome", "times"]

if TYPE_CHECKING:
    from durasim.architectures.base import Run
    from durasim.scenarios import Scenario

_TIMES = {1: "once", 2: "twice", 3: "three times"}


def times(n: int) -> str:
    """``2`` -> ``"twice"``: counts as students say them."""
    return _TIMES.get(n, f"{n} times")


def _and(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# -- helpers ------------------------------------------------------------------------------

def _deltas(run: Run) -> dict[str, int]:
    initial = run.scenario.accounts
    final = run.state.balances
    return {a: final.get(a, initial.get(a, 0)) - initial.get(a, 0)
            for a in dict.fromkeys([*initial, *final])}


def _multiple(actual: int, expected: int) -> str:
    if expected and actual != expected and actual % expected == 0 and actual // expected > 1:
        return f" ({abs(expected)} {times(actual // expected)})"
    return ""


def _who(run: Run, baseline: Run | None) -> str:
    """"alice lost 25 but bob never received it": what happened to each account."""
    actual = _deltas(run)
    expected = _deltas(baseline) if baseline is not None else {}
    lost = [f"{a} lost {-d}{_multiple(d, expected.get(a, 0))}" for a, d in actual.items()
            if d < 0]
    gained = []
    for account, d in actual.items():
        base = expected.get(account, 0)
        if d > 0:
            gained.append(f"{account} received {d}{_multiple(d, base)}")
        elif base > 0:
            gained.append(f"{account} never received it")
    if lost and gained:
        return f"{_and(lost)} but {_and(gained)}"
    return _and(lost or gained)


# -- the checks -------------------------------------------------------------------------

def money_conserved(run: Run, baseline: Run | None = None) -> CheckResult:
    """The total in all accounts, plus money visibly on its way, equals the initial total.

    The numbers are :func:`durasim.money.money`'s, the same the pictures show.
    """
    found = money(run)
    if found.missing == 0:
        if found.in_flight:
            return CheckResult("money_conserved", True,
                               f"Money is conserved only counting {found.in_flight} still in "
                               f"flight ({_and(list(found.where))}): the accounts hold "
                               f"{found.held} of {found.total}.")
        return CheckResult("money_conserved", True,
                           f"Money is conserved: the accounts hold {found.held} in total, as "
                           "before.")
    who = _who(run, baseline)
    if found.destroyed:
        return CheckResult("money_conserved", False,
                           f"Money was destroyed: {who}; {found.destroyed} is missing.")
    return CheckResult("money_conserved", False,
                       f"Money was created: {who}; {found.created} appeared from nowhere.")


def _effect_counts(run: Run, scenario: Scenario) -> dict[str, Counter[str]]:
    """ref -> effect step name -> how many times it is applied (compensations subtract)."""
    effect_steps = {s.name for s in scenario.steps if s.effect}
    undoes = {s.name: s.compensates for s in scenario.compensations if s.compensates}
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for effect in run.state.effects:
        if effect.name in effect_steps:
            counts[effect.ref][effect.name] += 1
        elif effect.name in undoes:
            counts[effect.ref][undoes[effect.name]] -= 1
    return counts


def _accounts_of(run: Run, ref: str, name: str) -> list[str]:
    ids = {(e.service, e.id) for e in run.state.effects if e.ref == ref and e.name == name}
    moves = [p for p in run.state.postings if (p.service, p.effect_id) in ids]
    return list(dict.fromkeys(f"{p.account} {'credited' if p.delta > 0 else 'debited'}"
                              for p in moves))


def exactly_once(run: Run, baseline: Run | None = None) -> CheckResult:
    """Each business process's effects all happened once, or none did (net of undoing)."""
    scenario, noun = run.scenario, run.scenario.noun
    counts = _effect_counts(run, scenario)
    expected = _effect_counts(baseline, scenario) if baseline is not None else {}
    undo_steps = {s.name for s in scenario.compensations}
    reverted = {(e.ref, scenario.step(e.name).compensates) for e in run.state.effects
                if e.name in undo_steps}
    compensated = {e.ref for e in run.state.effects if e.name in undo_steps}
    pending = {p.ref: p for p in run.state.pending}
    problems, fine = [], []
    order = [s.name for s in scenario.steps]
    effect_steps = {s.name for s in scenario.steps if s.effect}
    refused = {r.ref: r for r in run.state.rejections}
    # Every ref is expected to have the same effect steps: those that ran (or were refused)
    # for any ref, here or without the faults.
    family = {n for c in [*counts.values(), *expected.values()] for n in c}
    for other in (run, baseline):
        if other is not None:
            family |= {r.name for r in other.state.rejections if r.name in effect_steps}
    names = sorted(family, key=order.index)
    for ref in sorted(set(counts) | set(expected)):
        applied = counts.get(ref, Counter())
        many = [n for n in names if applied[n] > 1]
        if many:
            detail = _and([f"{n} ran {times(applied[n])}"
                           + (f" ({_and(_accounts_of(run, ref, n))} {times(applied[n])})"
                              if _accounts_of(run, ref, n) else "") for n in many])
            problems.append(f"{noun} {ref} was applied more than once: {detail}")
        elif all(applied[n] == 1 for n in names):
            fine.append(f"{noun} {ref} was applied exactly once ({_and(names)} once each)")
        elif all(applied[n] == 0 for n in names):
            how = "was fully undone by its compensations" if ref in compensated else (
                "was not applied at all")
            fine.append(f"{noun} {ref} {how}")
        else:
            done = [n for n in names if applied[n] > 0]
            undone = [n for n in names if applied[n] <= 0 and (ref, n) in reverted]
            never = [n for n in names if applied[n] <= 0 and (ref, n) not in reverted]
            gaps = ([f"{_and(undone)} {'was' if len(undone) == 1 else 'were'} undone"]
                    if undone else []) + ([f"{_and(never)} never did"] if never else [])
            text = f"{noun} {ref} was half applied: {_and(done)} ran but {' and '.join(gaps)}"
            if ref in pending:
                text += f" (what is left is {pending[ref].where})"
            elif ref in refused:
                text += f" ({refused[ref].name} was refused and " + (
                    "the compensations did not finish)" if undo_steps
                    else "nothing undid the rest)")
            problems.append(text)
    if problems:
        return CheckResult("exactly_once", False, _sentence("; ".join(problems)))
    if not fine:
        return CheckResult("exactly_once", True, f"No {noun} had any effect.")
    if len(fine) > 3:
        return CheckResult("exactly_once", True,
                           f"All {len(fine)} {noun}s were applied exactly once or not at all.")
    return CheckResult("exactly_once", True, _sentence("; ".join(fine)))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def down_at_end(run: Run) -> dict[str, float]:
    """Node -> when it crashed, for the nodes still down when the run ended (never restarted)."""
    down: dict[str, float] = {}
    for event in run.trace.filter(semantic=True):
        if event.kind == "crash":
            down[event.node] = event.time
        elif event.kind == "restart":
            down.pop(event.node, None)
    return down


def nothing_stuck(run: Run) -> CheckResult:
    """Nothing is left half-way: no message waiting in a queue, outbox or dead letters.

    When something is stuck and a node never came back, the sentence says so: that is
    usually the reason.
    """
    pending = run.state.pending
    if not pending:
        return CheckResult("nothing_stuck", True,
                           "Nothing is stuck: no message or task is left waiting anywhere.")
    parts = [f"{p.what} is {p.where}" for p in pending]
    down = [f"{node} crashed at {time:g} s and never came back"
            for node, time in down_at_end(run).items()]
    reason = f", because {_and(down)}" if down else ""
    return CheckResult("nothing_stuck", False,
                       f"Something is stuck: {'; '.join(parts)}{reason}.")


def same_outcome(run: Run, baseline: Run | None = None) -> CheckResult:
    """The run ended as the identical run without faults did: same outcome, same balances."""
    if baseline is None or baseline is run:
        return CheckResult("same_outcome", True,
                           f"No faults: this is the crash-free run itself ({run.outcome}).")
    why = f" ({run.explanation[:1].lower()}{run.explanation[1:].rstrip('.')})" if (
        run.explanation) else ""
    if baseline.outcome != run.outcome:
        return CheckResult("same_outcome", False,
                           f"Without the faults this run ended '{baseline.outcome}'; with them "
                           f"it ended '{run.outcome}'{why}.")
    before, after = baseline.balances, run.balances
    differ = [f"{a} has {after.get(a)} instead of {before.get(a)}"
              for a in dict.fromkeys([*before, *after]) if before.get(a) != after.get(a)]
    if differ:
        return CheckResult("same_outcome", False,
                           f"Same outcome as without the faults ('{run.outcome}'), but "
                           f"different balances: {_and(differ)}.")
    return CheckResult("same_outcome", True,
                       f"Same outcome as without the faults: '{run.outcome}', with the same "
                       "balances.")


def caller_informed(run: Run) -> CheckResult | None:
    """The caller who waited for an answer got one (None when nobody waits)."""
    caller = run.state.caller
    if caller is None:
        return None
    noun, ref = run.scenario.noun, run.scenario.key
    tries = caller.attempts
    if caller.answered:
        answer = caller.reply or {}
        said = "it worked" if answer.get("ok") else f"it failed ({answer.get('error', '')})"
        return CheckResult("caller_informed", True,
                           f"The caller got an answer after {tries} attempt"
                           f"{'s' if tries != 1 else ''}: {said}.")
    truth = ("it did: the database committed it" if caller.applied
             else "it did not: nothing was committed")
    return CheckResult("caller_informed", False,
                       f"The caller never got an answer ({tries} attempt"
                       f"{'s' if tries != 1 else ''} timed out): it cannot tell whether {noun} "
                       f"{ref} happened ({truth}).")


def evaluate(run: Run, baseline: Run | None = None) -> CheckReport:
    """Every check for ``run``; ``baseline`` is the same run without faults."""
    results = [money_conserved(run, baseline), exactly_once(run, baseline), nothing_stuck(run),
               same_outcome(run, baseline)]
    informed = caller_informed(run)
    if informed is not None:
        results.append(informed)
    return CheckReport(results)
