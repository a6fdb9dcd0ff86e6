"""The monolith: all-or-nothing by a local transaction, and the answer that can get lost."""

from __future__ import annotations

import sqlite3

import pytest

from durasim.api import run
from durasim.architectures.base import Run
from durasim.errors import ScenarioError
from durasim.faults import Crash, DropMessage, FailActivity
from durasim.scenarios import get_scenario

TRANSFER = get_scenario("transfer")


def effect_counts(result: Run) -> dict[str, int]:
    names = [e.name for e in result.state.effects]
    return {name: names.count(name) for name in dict.fromkeys(names)}


@pytest.mark.parametrize("name", ["transfer", "order_saga"])
@pytest.mark.parametrize("retries, idempotent", [(0, False), (1, False), (1, True)])
def test_every_step_both_whens(name: str, retries: int, idempotent: bool) -> None:
    """Exhaustive. The rule: every crash point lies inside the one transaction, so the
    crash rolls everything back, except the last step's after_effect point, which lies
    after the commit. The client learns nothing from a crash; with a retry it asks again:
    after a rollback that is safe, after a commit it runs everything a second time unless
    an idempotency key lets the app return the first answer."""
    scenario = get_scenario(name)
    last = scenario.steps[-1].number
    initial = dict(scenario.accounts)
    done = run(scenario, "monolith").balances
    for step in scenario.steps:
        for when in ("before_effect", "after_effect"):
            result = run(scenario, "monolith", Crash(at_step=step.number, when=when),
                         client_retries=retries, idempotency_key=idempotent)
            where = f"{name} step {step.number} {when} retries={retries} key={idempotent}"
            committed = step.number == last and when == "after_effect"
            assert result.unfired == [], where
            assert [e.kind for e in result.trace.filter(node="app", kind="crash")] == ["crash"]
            if retries == 0:
                expected = "unknown to caller" if committed else "rolled back"
                assert result.outcome == expected, where
                assert result.balances == (done if committed else initial), where
                assert result.checks["money_conserved"].ok, where
                assert result.checks["exactly_once"].ok, where
                assert not result.checks["caller_informed"].ok, where
                assert not result.checks["same_outcome"].ok, where
                continue
            twice = committed and not idempotent
            assert result.outcome == "completed", where
            assert set(effect_counts(result).values()) == {2 if twice else 1}, where
            assert result.checks["caller_informed"].ok, where
            assert result.checks["money_conserved"].ok, where
            assert result.checks["exactly_once"].ok == (not twice), where
            assert result.checks.ok == (not twice), where


def test_talks_case_rolls_back() -> None:
    result = run("transfer", "monolith", Crash(at_step=5))
    assert result.outcome == "rolled back"
    assert result.balances == {"alice": 100, "bob": 50}
    assert result.state.effects == ()
    assert result.checks["money_conserved"].ok
    assert result.checks["exactly_once"].sentence == "Transfer t1 was not applied at all."
    rollbacks = result.trace.filter(node="app", kind="rollback")
    assert [e.fields["reason"] for e in rollbacks] == ["crash"]
    # steps 1-4 ran their statements: the rollback undid them
    starts = [e.fields["step"] for e in result.trace.filter(node="app", kind="step")
              if e.fields["phase"] == "start"]
    assert starts == [1, 2, 3, 4, 5]


def test_effects_become_visible_only_at_commit() -> None:
    result = run("transfer", "monolith")
    kinds = [(e.kind, e.fields.get("phase")) for e in result.trace.filter(node="app")
             if e.kind in ("step", "commit")]
    commit = kinds.index(("commit", None))
    assert all(phase == "start" for _, phase in kinds[:commit])
    assert kinds[commit + 1:] == [("step", "effect")] * 6 + [("step", "done")] * 6


def test_the_lost_response() -> None:
    """The commit happened, the answer did not arrive: the caller cannot know."""
    crash = run("transfer", "monolith", Crash(at_step=6, when="after_effect"))
    dropped = run("transfer", "monolith", DropMessage(message="reply"))
    for result in (crash, dropped):
        assert result.outcome == "unknown to caller"
        assert result.balances == {"alice": 75, "bob": 75}
        informed = result.checks["caller_informed"]
        assert not informed.ok
        assert informed.sentence == (
            "The caller never got an answer (1 attempt timed out): it cannot tell whether "
            "transfer t1 happened (it did: the database committed it).")
        assert result.checks["money_conserved"].ok and result.checks["exactly_once"].ok
    assert any("did it happen or not?" in line for line in crash.logs["client"])


def test_retrying_a_lost_response_transfers_twice_unless_idempotent() -> None:
    plan = DropMessage(message="reply")
    twice = run("transfer", "monolith", plan, client_retries=1)
    assert twice.balances == {"alice": 50, "bob": 100}
    assert "withdraw ran twice (alice debited twice)" in twice.checks["exactly_once"].sentence
    once = run("transfer", "monolith", plan, client_retries=1, idempotency_key=True)
    assert once.balances == {"alice": 75, "bob": 75}
    assert once.checks.ok
    assert any("already processed" in line for line in once.logs["app"])


def test_business_refusal_rolls_back_and_tells_the_client() -> None:
    broke = TRANSFER.with_params(amount=500)
    result = run(broke, "monolith")
    assert result.outcome == "failed"
    assert result.balances == {"alice": 100, "bob": 50}
    assert "insufficient funds: alice has 100, needs 500" in result.explanation
    assert result.checks.ok


def test_transient_failure_fails_the_request_and_a_retry_fixes_it() -> None:
    failed = run("transfer", "monolith", FailActivity("deposit"))
    assert failed.outcome == "failed" and failed.balances == {"alice": 100, "bob": 50}
    healed = run("transfer", "monolith", FailActivity("deposit"), client_retries=1)
    assert healed.outcome == "completed" and healed.checks.ok


def test_the_database_is_real_sqlite_and_lives_outside_the_repository() -> None:
    from durasim.architectures.base import World
    from durasim.architectures.services import ServiceNode
    from durasim.faults import FaultPlan

    world = World(TRANSFER, FaultPlan(), 0, default_node="app")
    app = ServiceNode(world, "app", accounts=TRANSFER.accounts)
    path = app.durable
    assert "/work/main/" not in path
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT sum(balance) FROM accounts").fetchone() == (150,)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    world.close()
    import os

    assert not os.path.exists(path)


def test_closing_a_world_closes_the_processes_that_never_started() -> None:
    # A run given up on (a node gone for good) can end between a spawn and its start:
    # World.close must close that coroutine, or Python warns it was never awaited.
    import inspect

    from durasim.architectures.base import World
    from durasim.faults import FaultPlan
    from durasim.node import Node

    world = World(TRANSFER, FaultPlan(), 0, default_node="app")
    node = world.add(Node(world.sim, "app"))

    async def never_started() -> None:
        await world.sim.timeout(1.0)

    coro = never_started()
    node.spawn(coro, "late")
    world.close()
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED


def test_a_crash_at_a_time_mid_transaction_rolls_back() -> None:
    result = run("transfer", "monolith", Crash(node="app", at_time=0.007), client_retries=1)
    assert result.outcome == "completed"
    assert [e.fields["reason"] for e in result.trace.filter(kind="rollback")] == ["crash"]
    assert result.checks.ok


def test_unsupported_scenarios_and_bad_options_are_refused() -> None:
    with pytest.raises(ScenarioError, match=r"does not run scenario 'subscription'.*timer"):
        run("subscription", "monolith")
    with pytest.raises(ScenarioError, match=r"no option 'retries'.*client_retries"):
        run("transfer", "monolith", retries=2)
    with pytest.raises(TypeError, match=r"'client_retries'.*whole number"):
        run("transfer", "monolith", client_retries=-1)
    with pytest.raises(ScenarioError, match=r"no step 7.*6 notify"):
        run("transfer", "monolith", Crash(at_step=7))


def test_determinism() -> None:
    plan = [Crash(at_step=3), DropMessage(message="reply", nth=1)]
    a = run("transfer", "monolith", plan, seed=5, client_retries=2)
    b = run("transfer", "monolith", plan, seed=5, client_retries=2)
    assert a.trace.digest() == b.trace.digest()
    assert a.trace.digest() != run("transfer", "monolith", plan, seed=6,
                                   client_retries=2).trace.digest()


def test_run_shows_itself() -> None:
    result = run("transfer", "monolith", Crash(at_step=6, when="after_effect"))
    html = result._repr_html_()
    assert "unknown to caller" in html and "✗" in html and "<table>" in html
    text = str(result)
    assert "outcome: unknown to caller" in text and "alice 100 -> 75" in text
