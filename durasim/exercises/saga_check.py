"""Exercise 2's check: an order saga run through every crash, its problems explained."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from durasim.engine import workflow_definition
from durasim.engine.api import WorkflowRun, execute
from durasim.engine.history import EventType, History
from durasim.engine.replayer import Replayer
from durasim.errors import NondeterminismError, ReplayTaskError
from durasim.exercises.feedback import Feedback, Problem
from durasim.exercises.shop import (
    MERCHANT,
    ORDERS,
    Shop,
    new_shop,
    release_stock,
    reserve_stock,
    ship_order,
    shop,
)
from durasim.faults import Crash, Fault

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
        except ReplayTaskError as exc:
            feedback.problems.append(Problem(
                "replay", f"order {order['id']} ({case}), replaying its history",
                f"your code raised {type(exc.cause).__name__} while replaying: {exc.cause}.",
                "workflow code must run the same way on every replay: read nothing but "
                "its arguments, ctx and the results it awaited"))
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
