"""Scenarios, the architecture registry and the two entry points (run, compare)."""

from __future__ import annotations

import dataclasses

import pytest

from durasim.api import Comparison, compare, run
from durasim.architectures import ARCHITECTURES
from durasim.architectures.base import Run
from durasim.architectures.operations import OPS
from durasim.errors import ScenarioError
from durasim.faults import Crash, DropMessage, FailActivity, FaultPlan
from durasim.scenarios import SCENARIOS, Scenario, Step, get_scenario


def test_the_talks_transfer() -> None:
    transfer = get_scenario("transfer")
    assert [(s.number, s.name) for s in transfer.steps] == [
        (1, "validate"), (2, "fraud_check"), (3, "withdraw"), (4, "record_ledger"),
        (5, "deposit"), (6, "notify")]
    assert dict(transfer.accounts) == {"alice": 100, "bob": 50}
    assert transfer.params["amount"] == 25
    assert transfer.args_for(3) == {"account": "alice", "amount": 25}
    assert transfer.args_for("deposit") == {"account": "bob", "amount": 25}
    assert transfer.step(5) is transfer.step("deposit")
    assert transfer.step(5).service != transfer.step(3).service  # two databases
    assert transfer.total_money == 150


def test_every_scenario_is_registered_with_steps_services_know() -> None:
    assert list(SCENARIOS) == ["transfer", "order_saga", "subscription", "approval", "payroll"]
    for scenario in SCENARIOS.values():
        assert get_scenario(scenario.name) is scenario
        assert get_scenario(scenario) is scenario
        for step in scenario.all_steps:
            if step.kind == "activity":
                assert step.op in OPS, f"{scenario.name}: {step.name} runs unknown {step.op}"
        assert set(scenario.homes.values()) <= set(scenario.services)


def test_saga_compensations_undo_in_reverse() -> None:
    saga = get_scenario("order_saga")
    assert [s.name for s in saga.steps] == ["reserve_stock", "charge_card", "ship"]
    assert saga.compensation_for("charge_card") is saga.step(4)
    assert saga.compensation_for("reserve_stock") is saga.step(5)
    assert saga.compensation_for("ship") is None


def test_durable_only_scenarios_have_their_ingredients() -> None:
    assert get_scenario("subscription").step("wait_month").kind == "timer"
    assert get_scenario("subscription").params["months"] == 12
    assert get_scenario("approval").step(3).kind == "signal"
    assert get_scenario("payroll").step("pay_employee").kind == "child"
    assert len(get_scenario("payroll").params["employees"]) == 3


def test_unknown_names_list_the_valid_ones() -> None:
    with pytest.raises(ScenarioError, match="unknown scenario 'transfr'; valid scenarios: "
                                            "transfer, order_saga, subscription"):
        get_scenario("transfr")
    with pytest.raises(ScenarioError, match=r"no step 'deposite'; its steps are: 1 validate, "
                                            r"2 fraud_check, .*, 6 notify"):
        get_scenario("transfer").step("deposite")
    with pytest.raises(ScenarioError, match="no step 9"):
        get_scenario("transfer").step(9)
    with pytest.raises(ScenarioError, match="no parameter 'amout'; its parameters are: "
                                            "amount, dst"):
        get_scenario("transfer").with_params(amout=3)
    with pytest.raises(ScenarioError, match="unknown architecture 'microservices'; valid "
                                            "architectures: monolith, event_driven, durable"):
        run("transfer", "microservices")


def test_variants_keep_the_original() -> None:
    transfer = get_scenario("transfer")
    big = transfer.with_params(amount=60)
    assert big.args_for("withdraw") == {"account": "alice", "amount": 60}
    assert transfer.params["amount"] == 25
    assert big != transfer and hash(big) == hash(transfer)  # hash ignores params: fine


def test_bad_scenarios_are_refused_when_built() -> None:
    with pytest.raises(ValueError, match=r"numbered 1..n"):
        Scenario("x", "X", "", "k", steps=(Step(2, "a", "s", ""),))
    with pytest.raises(ValueError, match="unique"):
        Scenario("x", "X", "", "k", steps=(Step(1, "a", "s", ""), Step(2, "a", "s", "")))
    with pytest.raises(ValueError, match="without a home service: bob"):
        Scenario("x", "X", "", "k", steps=(Step(1, "a", "s", ""),), accounts={"bob": 1})
    with pytest.raises(ValueError, match="kind must be one of"):
        Step(1, "a", "s", "", kind="sleep")


@pytest.mark.parametrize("architecture", ["monolith", "event_driven"])
@pytest.mark.parametrize("name", ["subscription", "approval", "payroll"])
def test_durable_only_scenarios_say_why(architecture: str, name: str) -> None:
    with pytest.raises(ScenarioError, match=f"the {architecture} architecture does not run "
                                            f"scenario '{name}': .*durable architecture"):
        run(name, architecture)


def test_run_accepts_faults_in_every_shape() -> None:
    crash = Crash(at_step=5)
    digests = {run("transfer", "event_driven", f).trace.digest()
               for f in (crash, [crash], FaultPlan([crash]))}
    assert len(digests) == 1
    assert run("transfer", "event_driven", None).outcome == "completed"
    assert run(get_scenario("transfer"), "monolith").outcome == "completed"
    with pytest.raises(TypeError, match="seed must be a whole number"):
        run("transfer", "monolith", seed="1")  # type: ignore[arg-type]


def test_message_faults_may_name_steps_by_name() -> None:
    by_name = run("transfer", "event_driven", DropMessage(message="publish", step="deposit"))
    by_number = run("transfer", "event_driven", DropMessage(message="publish", step=5))
    assert by_name.trace.digest() == by_number.trace.digest()
    assert by_name.outcome == "lost"


def test_run_records_what_the_timeline_draws() -> None:
    result = run("transfer", "event_driven", Crash(at_step=5, when="after_effect"),
                 at_least_once=True)
    kinds = {e.kind for e in result.trace.filter(semantic=True)}
    assert {"step", "commit", "publish", "ack", "redeliver", "crash", "restart", "send",
            "receive"} <= kinds
    phases = {e.fields["phase"] for e in result.trace.filter(kind="step")}
    assert phases == {"start", "effect", "done"}
    assert isinstance(result, Run) and result.history is None


def test_compare_runs_every_architecture_under_the_same_plan() -> None:
    table = compare("transfer", Crash(at_step=5), event_driven={"at_least_once": True})
    assert isinstance(table, Comparison)
    assert table.runs["monolith"].outcome == "rolled back"
    assert table.runs["event_driven"].outcome == "completed"
    assert table.runs["event_driven"].options["at_least_once"] is True
    text = str(table)
    assert text.splitlines()[1].split() == ["architecture", "outcome", "balances", "checks"]
    assert "rolled back" in text and "✗ same_outcome" in text
    assert "<table>" in table._repr_html_()


def test_compare_routes_shared_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(ARCHITECTURES, "durable")
    table = compare("transfer", Crash(at_step=6, when="after_effect"), client_retries=1,
                    outbox=True)
    assert set(table.runs) == {"monolith", "event_driven"}
    assert table.runs["monolith"].options["client_retries"] == 1
    assert "outbox" not in table.runs["monolith"].options
    assert table.runs["event_driven"].options["outbox"] is True


def test_compare_refuses_an_option_nobody_has(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(ARCHITECTURES, "durable")
    with pytest.raises(ScenarioError, match="no architecture has an option 'turbo'; options: "
                                            "monolith: client_timeout"):
        compare("transfer", turbo=True)
    with pytest.raises(ScenarioError, match="monolith architecture has no option 'outbox'"):
        compare("transfer", monolith={"outbox": True})


def test_scenarios_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_scenario("transfer").name = "x"  # type: ignore[misc]


@pytest.mark.parametrize("architecture", ["monolith", "event_driven"])
def test_faults_that_cannot_apply_are_refused(architecture: str) -> None:
    with pytest.raises(ScenarioError, match=r"counts workflow history events; the "
                                            f"{architecture} architecture has no history"):
        run("transfer", architecture, Crash(after_events=5))
    with pytest.raises(ScenarioError, match="no step 'deposits'"):
        run("transfer", architecture, FailActivity("deposits"))


def test_show_prints_text_outside_a_notebook(capsys: pytest.CaptureFixture[str]) -> None:
    result = run("transfer", "event_driven", Crash(at_step=5))
    result.show()
    out = capsys.readouterr().out
    assert out.startswith("transfer on event_driven (defaults; seed 0; Crash(")
    assert "outcome: lost" in out and "✗ Money was destroyed" in out
    assert result.faults == FaultPlan([Crash(at_step=5)])
