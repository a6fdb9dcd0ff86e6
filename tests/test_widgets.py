"""The widgets, driven from Python as a student drives them: set values, click buttons.

Each test asserts what the student would see change: the checks' text, the number of
lanes, the crash drawn, the highlighted history row, the picture's bytes, and that an
error is one line in the widget instead of a traceback.
"""

from __future__ import annotations

import io
import itertools

import matplotlib
import pytest

import durasim
from durasim import Crash, workflow
from durasim.api import run
from durasim.i18n import get_language, set_language
from durasim.widgets import Compare, CrashLab, ReplayStepper
from durasim.widgets.base import ERROR_CLASS
from tests.workflows import bank

matplotlib.use("Agg")

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def english() -> object:
    before = get_language()
    set_language("en")
    yield None
    set_language(before)


def ticks(html: str) -> tuple[int, int]:
    """(passed, failed) checks in a checks panel."""
    return html.count("data-ok='true'"), html.count("data-ok='false'")


# -- CrashLab ------------------------------------------------------------------------------

def test_crashlab_starts_with_the_crash_free_run() -> None:
    lab = CrashLab()
    assert lab.architecture.value == "monolith"
    assert lab.run.outcome == "completed" and lab.faults == ()
    assert ticks(lab.checks.value)[1] == 0
    assert lab.story.lanes == ["client", "app"]
    assert bytes(lab.timeline.value).startswith(PNG) and bytes(lab.graph.value).startswith(PNG)
    assert "only the durable engine" in lab.history.value
    assert [o for o in lab.options if not lab.options[o].disabled] == []


def test_crash_at_step_five_on_event_driven_loses_the_deposit() -> None:
    lab = CrashLab()
    lab.architecture.value = "event_driven"
    assert len(lab.story.lanes) == 8
    assert not lab.options["outbox"].disabled and lab.options["idempotent_activities"].disabled
    before_png, before_checks = bytes(lab.timeline.value), lab.checks.value
    lab.step.value = 5
    lab.run_button.click()
    assert lab.faults == (Crash(at_step=5),)
    assert lab.run.outcome == "lost"
    assert "Money was destroyed" in lab.checks.value and before_checks != lab.checks.value
    assert ticks(lab.checks.value)[1] >= 2
    assert [m.node for m in lab.story.of_kind("crash")] == ["bank_b"]
    assert lab.timeline.value != before_png
    assert ERROR_CLASS not in lab.output.value


def test_options_fix_the_event_driven_system() -> None:
    lab = CrashLab(architecture="event_driven")
    lab.step.value = 5
    lab.when.value = "after_effect"
    lab.options["at_least_once"].value = True
    lab.run_button.click()
    assert "Money was created" in lab.checks.value
    for name in ("outbox", "idempotent_consumers"):
        lab.options[name].value = True
    lab.run_button.click()
    assert lab.run.options["idempotent_consumers"] is True
    assert ticks(lab.checks.value) == (len(lab.run.checks), 0)


def test_step_walks_forward_and_step_back_is_exact() -> None:
    lab = CrashLab(architecture="event_driven")
    lab.step.value = 5
    lab.run_button.click()
    lab.step_button.click()
    first_time, first_png = lab.cursor, bytes(lab.timeline.value)
    assert first_time is not None and "step 1 validate" in lab.output.value
    lab.step_button.click()
    assert lab.cursor > first_time and lab.timeline.value != first_png
    digest = lab.run.trace.digest()
    previous_run = lab.run
    lab.back_button.click()
    assert lab.run is not previous_run  # re-simulated, not rewound
    assert lab.run.trace.digest() == digest
    assert lab.cursor == first_time and "Re-simulated" in lab.output.value
    assert lab.timeline.value == first_png  # determinism: the very same picture
    lab.back_button.click()
    assert "Already at the start" in lab.output.value and lab.cursor == first_time


def test_stepping_to_the_end_and_beyond_starts_again() -> None:
    lab = CrashLab()
    lab.step.value = 5
    lab.run_button.click()
    assert lab.cursor is None  # Run shows the whole run
    stops = set()
    for _ in range(20):
        lab.step_button.click()
        stops.add(lab.cursor)
    assert min(stops) == lab.run.trace.filter(kind="step", semantic=True)[0].time


def test_crash_now_and_restart_act_at_the_moment_shown() -> None:
    lab = CrashLab(architecture="event_driven")
    lab.step_button.click()
    lab.step_button.click()  # step 2 fraud_check starts
    now = lab.cursor
    lab.node.value = "fraud"
    lab.crash_button.click()
    assert lab.faults == (Crash(node="fraud", at_time=now, restart_after=None),)
    crash = lab.story.of_kind("crash")
    assert [(m.node, m.time) for m in crash] == [("fraud", now)]
    assert lab.run.outcome != "completed"
    assert "fraud ✖" in {t.get_text() for t in lab._graph_figure.axes[0].texts}
    lab.step_button.click()
    lab.restart_button.click()
    (restart,) = lab.run.trace.filter(kind="restart", node="fraud", semantic=True)
    assert restart.time == pytest.approx(lab.cursor)
    assert lab.faults[0].restart_after == pytest.approx(lab.cursor - now)


def test_crash_now_before_stepping_is_one_line_not_a_traceback() -> None:
    lab = CrashLab()
    lab.crash_button.click()
    assert ERROR_CLASS in lab.output.value
    assert "press Step" in lab.output.value and lab.output.value.count("<div") == 1
    lab.restart_button.click()
    assert ERROR_CLASS in lab.output.value


def test_a_failing_simulation_shows_in_the_widget(monkeypatch: pytest.MonkeyPatch) -> None:
    lab = CrashLab()

    def broken(*_: object, **__: object) -> None:
        raise durasim.errors.ScenarioError("the broker is on fire")

    monkeypatch.setattr("durasim.api.run", broken)
    lab.run_button.click()
    assert "the broker is on fire" in lab.output.value and "ScenarioError" in lab.output.value
    monkeypatch.undo()
    lab.run_button.click()
    assert lab.output.value and ERROR_CLASS not in lab.output.value


def test_durable_history_follows_the_cursor() -> None:
    lab = CrashLab(architecture="durable")
    assert lab.options["idempotent_activities"].disabled is False
    lab.step.value = 5
    lab.node.value = "worker"
    lab.run_button.click()
    assert "durasim-history" in lab.history.value
    assert "durasim-highlight" not in lab.history.value
    rows = []
    for _ in range(6):
        lab.step_button.click()
        row = lab.history.value.split('class="durasim-highlight" data-event-id="')[1]
        rows.append(int(row.split('"')[0]))
    assert rows == sorted(rows) and len(set(rows)) > 3
    lab.run_button.click()
    assert "durasim-replayed" in lab.history.value  # the worker replayed after its crash


def test_durable_double_deposit_and_its_fix() -> None:
    lab = CrashLab(architecture="durable")
    lab.step.value = 5
    lab.when.value = "after_effect"
    lab.run_button.click()
    assert "applied more than once" in lab.checks.value
    lab.options["idempotent_activities"].value = True
    lab.run_button.click()
    assert ticks(lab.checks.value) == (len(lab.run.checks), 0)


def test_reset_puts_every_control_back() -> None:
    lab = CrashLab(architecture="event_driven")
    lab.step.value, lab.when.value, lab.seed.value = 3, "after_effect", 7
    lab.options["outbox"].value = True
    lab.run_button.click()
    lab.reset_button.click()
    assert (lab.step.value, lab.when.value, lab.seed.value) == (0, "before_effect", 0)
    assert not lab.options["outbox"].value and lab.faults == ()
    assert lab.run.outcome == "completed"


def test_crashlab_speaks_spanish() -> None:
    set_language("es")
    lab = CrashLab()
    assert lab.run_button.description == "Ejecutar"
    assert lab.step.options[0][0] == "sin caída"
    assert "Resultado" in lab.checks.value


# -- ReplayStepper -------------------------------------------------------------------------

def test_replay_stepper_highlights_the_line_being_replayed() -> None:
    bank.reset()
    transfer = durasim.execute(bank.BankTransfer, "alice", "bob", 25,
                               faults=[Crash(node="worker", after_events=14)])
    stepper = ReplayStepper(transfer)
    assert stepper.slider.max == len(transfer.history)
    deposit = next(e.event_id for e in transfer.history
                   if e.attributes.get("activityType") == "deposit")
    stepper.slider.value = deposit
    current = stepper.code.value.split("durasim-current-line")[1].split("</div>")[0]
    assert "ctx.activity(deposit, target, amount)" in current
    assert "ScheduleActivityTask(deposit" in stepper.event.value
    assert "amount" in stepper.state.value and "25" in stepper.state.value
    assert f'class="durasim-highlight" data-event-id="{deposit}"' in stepper.history.value
    stepper.next_button.click()
    assert stepper.slider.value == deposit + 1
    stepper.prev_button.click()
    stepper.prev_button.click()
    assert stepper.slider.value == deposit - 1
    stepper.slider.value = stepper.slider.max
    assert "has returned" in stepper.event.value
    assert "durasim-current-line" in stepper.code.value  # the return line


def test_replay_stepper_rebuilds_the_durable_runs_workflow() -> None:
    crashed = run("transfer", "durable", Crash(node="worker", at_step=5))
    stepper = ReplayStepper(crashed)
    deposit = next(e.event_id for e in crashed.history
                   if e.attributes.get("activityType") == "deposit")
    stepper.slider.value = deposit
    assert "Transfer" in stepper.code.value  # the scenario's own workflow code
    assert "ctx.activity(deposit" in _current_line(stepper)
    assert ERROR_CLASS not in stepper.output.value


def _current_line(stepper: ReplayStepper) -> str:
    html_text = stepper.code.value
    start = html_text.index("durasim-current-line")
    return html_text[start:html_text.index("</div>", start)]


def test_replay_stepper_follows_transfer_line_by_line() -> None:
    """Issue 12: the highlighted line of Transfer moves with the cursor, once per step."""
    crashed = run("transfer", "durable", Crash(at_step=5))
    stepper = ReplayStepper(crashed)
    lines = []
    for index in range(1, len(crashed.history) + 1):
        stepper.slider.value = index
        assert "Transfer" in stepper.code.value
        lines.append(_current_line(stepper))
    for step in crashed.scenario.steps:
        assert any(f"ctx.activity({step.name}" in line for line in lines), step.name
    changes = sum(1 for a, b in itertools.pairwise(lines) if a != b)
    assert changes >= len(crashed.scenario.steps)


@workflow
async def NotTheTransfer(ctx: durasim.engine.WorkflowContext, source: str, target: str,
                         amount: int) -> str:
    """Different code under a recorded history: replay must say so."""
    await ctx.activity(bank.notify, target)
    return "done"


def test_replay_stepper_reports_nondeterminism_as_one_line() -> None:
    bank.reset()
    transfer = durasim.execute(bank.BankTransfer, "alice", "bob", 25)
    stepper = ReplayStepper(transfer, workflow=NotTheTransfer)
    stepper.slider.value = 5
    assert ERROR_CLASS in stepper.output.value and "TMPRL1100" in stepper.output.value


def test_replay_stepper_needs_a_history() -> None:
    with pytest.raises(TypeError, match="event history"):
        ReplayStepper(run("transfer", "monolith"))


# -- Compare -------------------------------------------------------------------------------

def test_compare_tells_the_talks_story_side_by_side() -> None:
    compare = Compare()
    pictures = {name: bytes(parts[2].value) for name, parts in compare.columns.items()}
    compare.step.value = 5
    compare.run_button.click()
    outcomes = {name: run.outcome for name, run in compare.comparison.runs.items()}
    assert outcomes == {"monolith": "rolled back", "event_driven": "lost",
                        "durable": "completed"}
    for name, (_, checks, picture) in compare.columns.items():
        assert outcomes[name] in checks.value
        assert bytes(picture.value).startswith(PNG) and picture.value != pictures[name]
    assert "Crash(at_step=5)" in compare.output.value


def test_compare_applies_the_options_where_they_belong() -> None:
    compare = Compare()
    compare.step.value = 5
    compare.when.value = "after_effect"
    compare.options["idempotent_activities"].value = True
    compare.run_button.click()
    durable = compare.comparison.runs["durable"]
    assert durable.options["idempotent_activities"] is True and durable.checks.ok
    assert "idempotent_activities" in compare.columns["durable"][0].value


def test_crashlab_starts_on_an_architecture_that_runs_the_scenario() -> None:
    lab = CrashLab("subscription")
    assert lab.architecture.value == "durable" and lab.run.outcome == "completed"
    lab.architecture.value = "monolith"
    assert ERROR_CLASS in lab.output.value and "does not run scenario" in lab.output.value
    assert lab.output.value.count("<div") == 1


# -- CrashLab never lies (issue 15.7) --------------------------------------------------------

def _fresh(lab: CrashLab) -> durasim.architectures.Run:
    architecture, faults, seed, options = lab._current_inputs()
    return run(lab.scenario, architecture, list(faults), seed=seed, **dict(options))


def test_every_control_reruns_at_once_and_the_lab_shows_what_the_controls_say() -> None:
    from durasim.widgets.base import checks_html

    lab = CrashLab(architecture="durable")
    changes = [(lab.step, 5), (lab.when, "after_effect"), (lab.node, "worker"),
               (lab.seed, 3), (lab.options["idempotent_activities"], True),
               (lab.step, 4), (lab.node, "")]
    for control, value in changes:
        before = (lab.run, bytes(lab.timeline.value), lab.checks.value)
        control.value = value  # no Run click
        assert lab.run is not before[0], f"{control.description or value} did not re-run"
        fresh = _fresh(lab)
        assert lab.run.trace.digest() == fresh.trace.digest()
        assert lab.checks.value == checks_html(fresh)
        assert (lab.run.seed, lab.run.faults) == (fresh.seed, fresh.faults)
    assert lab.run.seed == 3 and lab.run.options["idempotent_activities"] is True
    assert lab.faults[0] == Crash(at_step=4, when="after_effect")


def test_the_double_deposit_appears_and_goes_without_pressing_run() -> None:
    lab = CrashLab(architecture="durable")
    lab.step.value = 5
    lab.when.value = "after_effect"
    assert "applied more than once" in lab.checks.value
    lab.options["idempotent_activities"].value = True
    assert ticks(lab.checks.value) == (len(lab.run.checks), 0)


def test_a_reset_runs_once(monkeypatch: pytest.MonkeyPatch) -> None:
    lab = CrashLab(architecture="event_driven")
    lab.step.value, lab.seed.value = 3, 7
    lab.options["outbox"].value = True
    calls = []
    original = lab.simulate
    monkeypatch.setattr(lab, "simulate", lambda inputs: calls.append(inputs) or original(inputs))
    lab.reset_button.click()
    assert len(calls) == 1 and list(lab.run.faults) == [] and lab.run.seed == 0


def test_changing_a_control_keeps_the_moment_being_looked_at() -> None:
    lab = CrashLab(architecture="event_driven")
    lab.step_button.click()
    lab.step_button.click()
    now = lab.cursor
    lab.node.value = "fraud"
    assert lab.cursor == now and list(lab.run.faults) == []
    lab.crash_button.click()
    assert lab.faults == (Crash(node="fraud", at_time=now, restart_after=None),)


def test_the_layout_fits_a_1280_pixel_notebook() -> None:
    from PIL import Image

    from durasim.figures.board import drawn_texts
    from durasim.widgets.crashlab import TIMELINE_DPI

    lab = CrashLab(architecture="durable")
    lab.step.value = 5
    width, _ = Image.open(io.BytesIO(bytes(lab.timeline.value))).size
    assert width <= 1100, "the timeline would be shrunk below its drawn size"
    smallest = min(t.px for t in drawn_texts(lab._timeline_figure, TIMELINE_DPI))
    assert smallest >= 10, f"timeline labels of {smallest:.1f} px"
    graph_width, _ = Image.open(io.BytesIO(bytes(lab.graph.value))).size
    assert lab.graph.layout.min_width == f"{graph_width}px" == lab.graph.layout.width


def test_the_history_keeps_the_cursor_row_in_view_and_explains_its_waits() -> None:
    from durasim.widgets.scrolled import ScrolledHTML

    lab = CrashLab(architecture="durable")
    lab.node.value = "worker"
    lab.step.value = 5
    assert isinstance(lab.history, ScrolledHTML) and lab.history.target == ".durasim-highlight"
    assert "start-to-close timeout (10.0 s)" in lab.history.value
    assert "sticky queue" in lab.history.value and "(5.00 s)" in lab.history.value
    lab.step_button.click()
    assert "durasim-highlight" in lab.history.value
    assert "durasim-wait" not in lab.history.value, "a wait explained before it happened"


# -- Predict (issue 15.6) --------------------------------------------------------------------

def test_predict_runs_nothing_until_both_guesses_then_explains_a_wrong_guess() -> None:
    from durasim.widgets import Predict

    predict = Predict("transfer", "event_driven", Crash(at_step=5))
    assert predict.run is None and predict.reveal_button.disabled
    predict.choices["alice"].value = -25
    assert predict.reveal_button.disabled, "Reveal before every account has a guess"
    predict.choices["bob"].value = 25
    predict.reveal_button.click()
    assert predict.guess == {"alice": -25, "bob": 25} and predict.right is False
    answer = predict.answer.value
    assert "data-right='false'" in answer and "Not this time" in answer
    assert "50 → 50" in answer and "you said +25 ✗" in answer and "you said -25 ✓" in answer
    assert "Money was destroyed" in answer and "nobody owns the whole transfer" in answer
    assert all(choice.disabled for choice in predict.choices.values())


def test_predict_says_right_when_it_is_and_speaks_spanish() -> None:
    from durasim.widgets import Predict

    set_language("es")
    predict = Predict("transfer", "monolith", Crash(at_step=5))
    assert predict.reveal_button.description == "Revelar"
    predict.choices["alice"].value = 0
    predict.choices["bob"].value = 0
    predict.reveal_button.click()
    assert predict.right is True and "¡Correcto!" in predict.answer.value
    assert "revertida" in predict.answer.value and "una sola transacción" in predict.answer.value


CHARGED: dict[str, int] = {}


@durasim.activity
def charge_order(order: str) -> str:
    CHARGED[order] = CHARGED.get(order, 0) + 1
    return f"charged {order}"


@durasim.activity
def email_receipt(order: str) -> str:
    return f"receipt for {order}"


@workflow
async def Checkout(ctx: durasim.WorkflowContext, order: str) -> str:
    await ctx.activity(charge_order, order)
    await ctx.activity(email_receipt, order)
    return "done"


def test_predict_a_workflow_asks_how_many_times_each_activity_runs() -> None:
    from durasim.widgets import Predict

    CHARGED.clear()
    twice = Predict(workflow=Checkout, args=("o-1",), faults=Crash(at_step=1, when="after_effect"))
    assert list(twice.choices) == ["charge_order", "email_receipt"]
    assert twice.run is None and CHARGED == {}, "nothing runs before the guess"
    twice.choices["charge_order"].value = 1
    assert twice.reveal_button.disabled
    twice.choices["email_receipt"].value = 1
    twice.reveal_button.click()
    assert twice.right is False and CHARGED == {"o-1": 2}
    assert twice.guess == {"charge_order": 1, "email_receipt": 1}
    answer = twice.answer.value
    assert "ran ×2" in answer and "you said ×1 ✗" in answer and "you said ×1 ✓" in answer
    assert "at least once" in answer and "completed" in answer

    set_language("es")
    once = Predict(workflow=Checkout, args=("o-2",), faults=Crash(node="worker", after_events=7))
    assert "cuántas veces" in once.children[0].value
    for choice in once.choices.values():
        choice.value = 1
    once.reveal_button.click()
    assert once.right is True and CHARGED["o-2"] == 1 and once.run.replays == 1
    assert "¡Correcto!" in once.answer.value and "completada" in once.answer.value
