"""Checks for the course's exercises, each explaining in plain words what is wrong.

An exercise a student cannot check alone is an exercise abandoned, and "assert failed" does
not teach anything. Each check here runs the student's answer through the crashes the
course is about, then says which crash broke it, what happened to the money or the order,
why, and what to change. Two exercises (notebook ``09_exercises``):

* :func:`check_event_driven` -- choose the event-driven options that make every crash at
  step 5 of the bank transfer safe. The check runs the exhaustive step-5 crash set (the
  service running the deposit and the broker, before and after the effect) and, for each
  crash that breaks the transfer, says whether the event was lost or applied twice, and
  which option prevents that.
* :func:`check_workflow` -- write an order saga (reserve stock, charge the card, ship;
  compensate in reverse order on failure) on the durable engine, with your own payment
  activities. The check runs it crash-free on three orders (one that ships, one that
  cannot be delivered, one whose card is declined), then under a worker crash after every
  history event and a crash after the effect of every activity, replays every history,
  and explains non-determinism, missing or extra compensations and effects applied twice.

The shop the saga talks to is :class:`Shop`; :func:`shop` returns the current one and
:func:`new_shop` starts a fresh one (the checks do so before every run).
"""

from __future__ import annotations

import ast
import dataclasses
import html
import inspect
import textwrap
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from durasim.engine import ApplicationError, activity, activity_info, workflow_definition
from durasim.engine.api import WorkflowRun, execute
from durasim.engine.history import EventType, History
from durasim.engine.replayer import Replayer
from durasim.errors import DurasimError, NondeterminismError, ScenarioError
from durasim.faults import Crash, Fault

__all__ = [
    "DECLINED",
    "ORDER",
    "ORDERS",
    "UNDELIVERABLE",
    "Feedback",
    "Problem",
    "Shop",
    "check_event_driven",
    "check_workflow",
    "new_shop",
    "release_stock",
    "reserve_stock",
    "ship_order",
    "shop",
]

# ------------------------------------------------------------------------------ feedback


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an answer.

    Attributes:
        kind: a stable name tests and notebooks can match ("lost", "duplicate",
            "nondeterminism", "missing_compensation", "wrong_order", "extra_compensation",
            "side_effect_in_workflow", "wrong_result", "not_a_workflow", "bad_option",
            "workflow_failed").
        case: the run that showed it ("crash at step 5 on bank_b, after the effect").
        sentence: what happened, for a student.
        fix: what to change.
    """

    kind: str
    case: str
    sentence: str
    fix: str = ""

    def __str__(self) -> str:
        fix = f"\n    fix: {self.fix}" if self.fix else ""
        return f"✗ [{self.case}] {self.sentence}{fix}"


@dataclass
class Feedback:
    """The verdict on one answer: ``ok``, the problems found, what passed, and notes.

    ``str()`` is a plain-text report; in Jupyter it renders as HTML.
    """

    exercise: str
    problems: list[Problem] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    @property
    def kinds(self) -> list[str]:
        """The distinct kinds of problem found, in order of first appearance."""
        return list(dict.fromkeys(p.kind for p in self.problems))

    @property
    def fixes(self) -> list[str]:
        """The distinct fixes suggested, in order."""
        return list(dict.fromkeys(p.fix for p in self.problems if p.fix))

    def __str__(self) -> str:
        verdict = ("✓ correct: every case passed" if self.ok
                   else f"✗ not yet: {len(self.problems)} problem(s)")
        lines = [f"{self.exercise}: {verdict}"]
        lines += [f"✓ {text}" for text in self.passed]
        lines += [str(p) for p in self.problems]
        if self.fixes:
            lines.append("What to change:")
            lines += [f"  - {fix}" for fix in self.fixes]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<Feedback {self.exercise}: {'ok' if self.ok else 'not ok'}, "
                f"{len(self.problems)} problem(s)>")

    def _repr_html_(self) -> str:
        esc = html.escape
        colour = "#1a7f37" if self.ok else "#cf222e"
        verdict = ("correct: every case passed" if self.ok
                   else f"not yet: {len(self.problems)} problem(s)")
        items = [f"<li><span style='color:#1a7f37'>✓</span> {esc(t)}</li>" for t in self.passed]
        items += [f"<li><span style='color:#cf222e'>✗</span> <i>{esc(p.case)}</i>: "
                  f"{esc(p.sentence)}</li>" for p in self.problems]
        fixes = "".join(f"<li>{esc(f)}</li>" for f in self.fixes)
        notes = "".join(f"<p><i>{esc(n)}</i></p>" for n in self.notes)
        return (f"<div class='durasim-feedback'><p><b>{esc(self.exercise)}</b>: "
                f"<b style='color:{colour}'>{verdict}</b></p>"
                f"<ul style='list-style:none;padding-left:0'>{''.join(items)}</ul>"
                + (f"<p>What to change:</p><ul>{fixes}</ul>" if fixes else "")
                + f"{notes}</div>")


# ------------------------------------------------------------- exercise 1: event-driven

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
        effects = Counter(row["name"] for row in result.state.get("effects", []))
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


# --------------------------------------------------------------- exercise 2: the shop

ORDER: dict[str, Any] = {"id": "o1", "item": "book", "qty": 1, "price": 30,
                         "customer": "carol", "address": "1 Main St"}
"""An order that ships: reserve one book, charge carol 30, ship it."""
UNDELIVERABLE: dict[str, Any] = {**ORDER, "id": "o2", "address": "nowhere"}
"""An order the carrier refuses (no such address): after the charge, ``ship_order`` fails."""
DECLINED: dict[str, Any] = {**ORDER, "id": "o3", "customer": "erin"}
"""An order whose card is declined: erin has only 10."""
ORDERS: dict[str, dict[str, Any]] = {"ships": ORDER, "undeliverable": UNDELIVERABLE,
                                     "declined": DECLINED}
"""The three orders :func:`check_workflow` runs, by what should happen to them."""

MERCHANT = "shop"


class Shop:
    """The outside world of the saga: stock, card balances, parcels, and every effect.

    Every operation takes an optional idempotency ``key``: a repeated key returns the
    first call's result without doing anything (that is what a real payment API's
    ``Idempotency-Key`` header does). Each effect is recorded with whether it was done from
    inside an activity, so the check can tell a retried activity from workflow code that
    touches the world directly (and does it again on every replay).
    """

    def __init__(self) -> None:
        self.stock: dict[str, int] = {"book": 3}
        self.balances: dict[str, int] = {"carol": 100, "erin": 10, MERCHANT: 0}
        self.shipped: list[str] = []
        self.effects: list[dict[str, Any]] = []
        self._seen: dict[str, Any] = {}

    def _effect(self, op: str, order_id: str, key: str | None,
                apply: Callable[[], Any]) -> Any:
        if key is not None and key in self._seen:
            return self._seen[key]
        result = apply()
        try:
            inside = activity_info().activity_type
        except DurasimError:
            inside = None
        self.effects.append({"op": op, "order": order_id, "key": key, "activity": inside})
        if key is not None:
            self._seen[key] = result
        return result

    def reserve(self, order_id: str, item: str, qty: int, *, key: str | None = None) -> int:
        """Set ``qty`` of ``item`` aside; returns what is left. Out of stock: refused."""
        def apply() -> int:
            if self.stock.get(item, 0) < qty:
                raise ApplicationError(f"out of stock: {item}", "OutOfStock",
                                       non_retryable=True)
            self.stock[item] -= qty
            return self.stock[item]
        return int(self._effect("reserve", order_id, key, apply))

    def release(self, order_id: str, item: str, qty: int, *, key: str | None = None) -> int:
        """Put ``qty`` of ``item`` back on the shelf; returns the stock."""
        def apply() -> int:
            self.stock[item] = self.stock.get(item, 0) + qty
            return self.stock[item]
        return int(self._effect("release", order_id, key, apply))

    def charge(self, order_id: str, customer: str, amount: int, *,
               key: str | None = None) -> int:
        """Move ``amount`` from ``customer`` to the shop; declined when it is not there.

        Raises:
            ApplicationError: ``CardDeclined``, non-retryable: retrying will not help.
        """
        def apply() -> int:
            if self.balances.get(customer, 0) < amount:
                raise ApplicationError(f"card declined: {customer} cannot pay {amount}",
                                       "CardDeclined", non_retryable=True)
            self.balances[customer] -= amount
            self.balances[MERCHANT] += amount
            return self.balances[customer]
        return int(self._effect("charge", order_id, key, apply))

    def refund(self, order_id: str, customer: str, amount: int, *,
               key: str | None = None) -> int:
        """Give ``amount`` back to ``customer`` (it trusts you: it never checks a charge)."""
        def apply() -> int:
            self.balances[customer] = self.balances.get(customer, 0) + amount
            self.balances[MERCHANT] -= amount
            return self.balances[customer]
        return int(self._effect("refund", order_id, key, apply))

    def ship(self, order_id: str, address: str, *, key: str | None = None) -> str:
        """Hand the parcel to the carrier; an unknown address is refused for good."""
        def apply() -> str:
            if address == "nowhere":
                raise ApplicationError(f"the carrier cannot deliver to {address!r}",
                                       "Undeliverable", non_retryable=True)
            self.shipped.append(order_id)
            return f"parcel-{order_id}"
        return str(self._effect("ship", order_id, key, apply))

    def count(self, op: str) -> int:
        """How many times ``op`` took effect."""
        return sum(1 for e in self.effects if e["op"] == op)

    def state(self) -> dict[str, Any]:
        """What the checks compare: stock, balances, parcels and effect counts."""
        return {"stock": dict(self.stock), "balances": dict(self.balances),
                "shipped": list(self.shipped),
                "effects": [e["op"] for e in self.effects]}

    def __repr__(self) -> str:
        return (f"<Shop stock={self.stock} balances={self.balances} shipped={self.shipped} "
                f"effects={[e['op'] for e in self.effects]}>")


_CURRENT: list[Shop] = [Shop()]


def shop() -> Shop:
    """The shop the activities talk to right now."""
    return _CURRENT[0]


def new_shop() -> Shop:
    """Start from a fresh shop (3 books; carol 100, erin 10, the shop 0) and return it."""
    _CURRENT[0] = Shop()
    return _CURRENT[0]


def _key() -> str:
    return activity_info().idempotency_key


@activity
def reserve_stock(order: dict[str, Any]) -> int:
    """Set the order's items aside (idempotent: it passes its idempotency key)."""
    return shop().reserve(order["id"], order["item"], order["qty"], key=_key())


@activity
def release_stock(order: dict[str, Any]) -> int:
    """Compensation of :func:`reserve_stock` (idempotent)."""
    return shop().release(order["id"], order["item"], order["qty"], key=_key())


@activity
def ship_order(order: dict[str, Any]) -> str:
    """Hand the parcel to the carrier (idempotent); fails for good when undeliverable."""
    return shop().ship(order["id"], order["address"], key=_key())


# ----------------------------------------------------------------- the workflow check

_EXPECTED: dict[str, dict[str, Any]] = {
    "ships": {"stock": {"book": 2}, "balances": {"carol": 70, "erin": 10, MERCHANT: 30},
              "shipped": ["o1"]},
    "undeliverable": {"stock": {"book": 3}, "balances": {"carol": 100, "erin": 10, MERCHANT: 0},
                      "shipped": []},
    "declined": {"stock": {"book": 3}, "balances": {"carol": 100, "erin": 10, MERCHANT: 0},
                 "shipped": []},
}

_UNSAFE_CALLS = {
    "random.": "random numbers (use ctx.random() or ctx.uuid())",
    "uuid.uuid": "random ids (use ctx.uuid())",
    "time.time": "the wall clock (use ctx.now())",
    "datetime.now": "the wall clock (use ctx.now())",
    "datetime.utcnow": "the wall clock (use ctx.now())",
    "time.monotonic": "the wall clock (use ctx.now())",
}


def _unsafe_calls(fn: Any) -> list[str]:
    """What non-deterministic APIs the workflow's source calls (a hint, never a verdict)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            text = ast.unparse(node.func)
            for pattern, what in _UNSAFE_CALLS.items():
                if pattern in f"{text}." or text.startswith(pattern):
                    found.append(f"{text}(), which reads {what}")
    return list(dict.fromkeys(found))


@dataclass
class _Outcome:
    run: WorkflowRun
    state: dict[str, Any]
    effects: list[dict[str, Any]]


def _run(fn: Any, order: dict[str, Any], faults: Sequence[Fault] = (),
         seed: int = 0) -> _Outcome:
    new_shop()
    run = execute(fn, dict(order), id=f"order-{order['id']}", seed=seed, faults=list(faults),
                  activities=[reserve_stock, release_stock, ship_order])
    current = shop()
    return _Outcome(run, current.state(), list(current.effects))


def _who_paid(state: dict[str, Any], order: dict[str, Any]) -> str:
    customer = order["customer"]
    before = Shop().balances[customer]
    after = state["balances"].get(customer, 0)
    if after < before:
        return f"{customer} paid {before - after}"
    if after > before:
        return f"{customer} received {after - before} from nowhere"
    return f"{customer} paid nothing"


def _compensation_problems(case: str, order: dict[str, Any], outcome: _Outcome
                           ) -> list[Problem]:
    """What is wrong with an order that should have been undone (or never done)."""
    state, ops = outcome.state, outcome.state["effects"]
    expected = _EXPECTED[case]
    problems = []
    label = f"order {order['id']} ({case})"
    charged, refunded = ops.count("charge"), ops.count("refund")
    reserved, released = ops.count("reserve"), ops.count("release")
    if state["shipped"]:
        problems.append(Problem("wrong_result", label,
                                f"the parcel shipped although it should not have: {state!r}."))
    if charged > refunded:
        problems.append(Problem(
            "missing_compensation", label,
            f"{_who_paid(state, order)} for an order that never shipped: the charge was "
            "not refunded.",
            "when a later step fails for good (ActivityError), refund the card if (and only "
            "if) it was charged"))
    elif refunded > charged:
        problems.append(Problem(
            "extra_compensation", label,
            f"the card was refunded {refunded} time(s) but charged {charged} time(s): "
            f"{_who_paid(state, order)}.",
            "compensate only the steps that completed: a declined charge took no money, so "
            "there is nothing to refund"))
    if reserved > released:
        problems.append(Problem(
            "missing_compensation", label,
            f"the stock was reserved but never released: {state['stock']['book']} books on "
            f"the shelf instead of {expected['stock']['book']}.",
            "release the reserved stock when a later step fails for good"))
    elif released > reserved:
        problems.append(Problem(
            "extra_compensation", label,
            f"stock was released {released} time(s) but reserved {reserved} time(s): "
            f"{state['stock']['book']} books appeared on the shelf.",
            "compensate only the steps that completed"))
    undo = [op for op in ops if op in ("refund", "release")]
    if not problems and undo == ["release", "refund"]:
        problems.append(Problem(
            "wrong_order", label,
            "the compensations ran in the order of the steps (release, then refund); a saga "
            "undoes in reverse order: the last step done is the first undone.",
            "undo in reverse order: refund the card first, then release the stock"))
    return problems or _state_problems(case, order, outcome)


def _happy_problems(order: dict[str, Any], outcome: _Outcome) -> list[Problem]:
    label = f"order {order['id']} (ships)"
    run, ops = outcome.run, outcome.state["effects"]
    problems = []
    if run.status != "completed":
        why = run.error or (run.failure or {}).get("message") or run.status
        problems.append(Problem(
            "workflow_failed", label,
            f"the workflow did not complete for an order that can ship: {why}.",
            "run it yourself with durasim.execute(YourWorkflow, exercises.ORDER) and read "
            "run.history"))
        return problems
    for op, what in (("reserve", "reserve the stock"), ("charge", "charge the card"),
                     ("ship", "ship the parcel")):
        n = ops.count(op)
        if n == 0:
            problems.append(Problem("wrong_result", label, f"the workflow never did {what}.",
                                    f"{what} (step order: reserve, charge, ship)"))
        elif n > 1:
            problems.append(Problem("duplicate", label, f"{what}: done {n} times.",
                                    "call each step once"))
    for op in ("refund", "release"):
        if ops.count(op):
            problems.append(Problem("extra_compensation", label,
                                    f"a {op} ran although nothing failed.",
                                    "compensate only when a step failed for good"))
    if not problems and [o for o in ops if o in ("reserve", "charge", "ship")] != [
            "reserve", "charge", "ship"]:
        problems.append(Problem("wrong_result", label,
                                f"the steps ran in the order {ops}; the saga's order is reserve, "
                                "charge, ship.", "reserve, then charge, then ship"))
    return problems or _state_problems("ships", order, outcome)


def _state_problems(case: str, order: dict[str, Any], outcome: _Outcome) -> list[Problem]:
    """Right steps, wrong numbers (a wrong amount, another item): compare the end state."""
    expected = _EXPECTED[case]
    got = {k: outcome.state[k] for k in expected}
    if got == expected:
        return []
    return [Problem("wrong_result", f"order {order['id']} ({case})",
                    f"the shop ended with {got} instead of {expected}.",
                    "use the order's own fields: order['price'], order['item'], order['qty']")]


def _crash_plans(history: History) -> list[tuple[str, Crash]]:
    """A worker crash after every history event, and after every activity's effect."""
    plans = [(f"worker crash after history event {k}",
              Crash(node="worker", after_events=k)) for k in range(1, len(history))]
    names = [e.attributes.get("activityType") for e in history
             if e.event_type is EventType.ACTIVITY_TASK_SCHEDULED]
    for name in dict.fromkeys(n for n in names if n):
        plans.append((f"worker crash after {name}'s effect, before its result was recorded",
                      Crash(at_step=name, when="after_effect")))
    return plans


def _crash_problems(case: str, order: dict[str, Any], baseline: _Outcome, label: str,
                    outcome: _Outcome, unsafe: list[str]) -> list[Problem]:
    run = outcome.run
    where = f"order {order['id']} ({case}), {label}"
    if run.status == "nondeterministic":
        hint = ("; your workflow calls " + "; ".join(unsafe)) if unsafe else ""
        return [Problem(
            "nondeterminism", where,
            f"after the crash the worker replayed the history and your code did something "
            f"else than it recorded: {run.error}.",
            "workflow code must make the same calls on every replay: take time, randomness "
            f"and ids from ctx (ctx.now(), ctx.random(), ctx.uuid()){hint}")]
    base_ops = Counter(baseline.state["effects"])
    ops = Counter(outcome.state["effects"])
    extra = {op: n - base_ops[op] for op, n in ops.items() if n > base_ops[op]}
    problems = []
    if extra:
        direct = [e for e in outcome.effects if e["op"] in extra and e["activity"] is None]
        if direct:
            problems.append(Problem(
                "side_effect_in_workflow", where,
                f"{direct[0]['op']} happened {ops[direct[0]['op']]} times instead of "
                f"{base_ops[direct[0]['op']]}, called directly from workflow code: after a "
                "crash the workflow code runs again from the start (replay), and so does "
                "every side effect it makes itself.",
                "touch the outside world only inside activities (ctx.activity(...)): their "
                "results are recorded and not redone on replay"))
        else:
            twice = ", ".join(f"{op} {ops[op]} times" for op in extra)
            names = sorted({str(e["activity"]) for e in outcome.effects if e["op"] in extra})
            problems.append(Problem(
                "duplicate", where,
                f"the effect was applied again ({twice}) by activity {', '.join(names)}: "
                "activities run at least once, and this one ran again after the crash "
                "without the service knowing it had already done it.",
                "pass durasim.activity_info().idempotency_key to the shop "
                "(shop().charge(..., key=key)) so a repeated call does nothing"))
    elif outcome.state != baseline.state or run.status != baseline.run.status:
        problems.append(Problem(
            "wrong_result", where,
            f"the run ended {run.status} with {outcome.state} instead of "
            f"{baseline.run.status} with {baseline.state}, as without the crash.",
            "read run.history of this crash to see where it went another way"))
    return problems


def check_workflow(fn: Any, *, crashes: bool = True, seed: int = 0) -> Feedback:
    """Exercise 2: is this order saga correct, also when the worker crashes?

    The workflow is called as ``fn(ctx, order)`` with one of :data:`ORDERS`. It should
    reserve the stock (:func:`reserve_stock`), charge the card (an activity you write,
    calling ``shop().charge(order_id, customer, amount, key=...)``), and ship
    (:func:`ship_order`); when a step fails for good it should undo what was done, newest
    first (refund with ``shop().refund(...)``, release with :func:`release_stock`).

    What is checked, in this order:

    1. crash-free, each order ends in the right state: the parcel shipped and paid once;
       or nothing shipped, nothing paid and the stock back, with the compensations in
       reverse order and none that was not needed;
    2. each crash-free history replays cleanly (:class:`~durasim.Replayer`);
    3. with ``crashes``: the worker crashes after every history event, and after every
       activity's effect but before its result is recorded; each run must end exactly as
       the crash-free one (no double charge, no non-determinism error).

    Args:
        fn: the ``@durasim.workflow`` to check.
        crashes: also run the crash set (about a hundred short runs).
        seed: the simulations' seed.

    Returns:
        The :class:`Feedback`.
    """
    title = "Exercise 2 (an order saga that survives crashes)"
    feedback = Feedback(title)
    try:
        workflow_definition(fn)
    except TypeError as exc:
        feedback.problems.append(Problem("not_a_workflow", "your answer", f"{exc}.",
                                         "decorate it: @durasim.workflow above async def"))
        return feedback
    unsafe = _unsafe_calls(fn)
    baselines: dict[str, _Outcome] = {}
    for case, order in ORDERS.items():
        outcome = _run(fn, order, seed=seed)
        baselines[case] = outcome
        if outcome.run.status == "nondeterministic":
            feedback.problems.append(Problem(
                "nondeterminism", f"order {order['id']} ({case})", f"{outcome.run.error}.",
                "workflow code must make the same calls on every replay"))
            continue
        problems = (_happy_problems(order, outcome) if case == "ships"
                    else _compensation_problems(case, order, outcome))
        feedback.problems += problems
        if not problems:
            feedback.passed.append(f"order {order['id']} ({case}) without crashes: "
                                   f"{_state_sentence(case, outcome)}")
        try:
            Replayer(workflows=[fn]).replay(outcome.run.history)
        except NondeterminismError as exc:
            hint = ("; your workflow calls " + "; ".join(unsafe)) if unsafe else ""
            feedback.problems.append(Problem(
                "nondeterminism", f"order {order['id']} ({case}), replaying its history",
                f"replaying the history gave different calls: {exc}.",
                f"take time, randomness and ids from ctx{hint}"))
    if crashes and feedback.ok:
        for case, order in ORDERS.items():
            baseline = baselines[case]
            plans = _crash_plans(baseline.run.history)
            found: list[Problem] = []
            broken = 0
            for label, crash in plans:
                outcome = _run(fn, order, [crash], seed=seed)
                problems = _crash_problems(case, order, baseline, label, outcome, unsafe)
                broken += bool(problems)
                if not found:  # the first crash that breaks it tells the story
                    found = problems
            if broken > 1:
                found[-1] = dataclasses.replace(
                    found[-1], sentence=f"{found[-1].sentence} ({broken} of the {len(plans)} "
                    "crashes broke this order.)")
            feedback.problems += found
            if not found:
                feedback.passed.append(f"order {order['id']} ({case}) under {len(plans)} "
                                       "crashes: the same end every time")
    elif not crashes:
        feedback.notes.append("crashes=False: the crash set was not run.")
    else:
        feedback.notes.append("The crashes were not run yet: they run once every order ends "
                              "right without crashes.")
    if unsafe and feedback.ok:
        feedback.notes.append("your workflow calls " + "; ".join(unsafe)
                              + ": it passed, but it would break on a replay that follows "
                              "another path.")
    return feedback


def _state_sentence(case: str, outcome: _Outcome) -> str:
    if case == "ships":
        return "reserved, charged and shipped once each."
    undo = [op for op in outcome.state["effects"] if op in ("refund", "release")]
    if len(undo) > 1:
        return f"undone in reverse order ({', then '.join(undo)}), nothing shipped."
    if undo:
        return f"undone ({undo[0]}; nothing else had happened), nothing shipped."
    return "nothing needed undoing, nothing shipped."

