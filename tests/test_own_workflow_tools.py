"""Every tool works on a student's own workflow: a Temporal SDK class or an @durasim.workflow.

``run.show()`` draws the run (timeline, full history with replays marked, outcome);
``CrashLab(workflow=..., args=...)`` crashes it after any history event and a click on an
event replays the student's code up to it; ``ReplayStepper(run)`` highlights the line of
the student's code that issued each recorded command.
"""

from __future__ import annotations

import linecache
import re
from pathlib import Path
from typing import Any

import pytest

import durasim
from durasim import Crash
from durasim.viz.workflow_run import run_html
from durasim.widgets import CrashLab, ReplayStepper
from durasim.widgets.workflow_lab import WorkflowLab

pytest.importorskip("temporalio", reason="the Temporal SDK (the 'temporal' extra) is needed")

from tests.fixtures.sdk import long_sleep

REMINDER = long_sleep.Reminder("ana@example.com", 3.0)
SOURCE = Path(long_sleep.__file__).read_text(encoding="utf-8").splitlines()
SLEEP_LINE = next(i for i, text in enumerate(SOURCE, 1) if "await workflow.sleep(" in text)
ACTIVITY_LINE = next(i for i, text in enumerate(SOURCE, 1)
                     if "await workflow.execute_activity(" in text)


@durasim.activity
def greet(name: str) -> str:
    return f"hello {name}"


@durasim.workflow
async def Greeter(ctx: durasim.engine.WorkflowContext, name: str) -> str:
    await ctx.sleep(60)
    return await ctx.activity(greet, name)


def _highlighted(stepper: ReplayStepper) -> int:
    found = re.findall(r"durasim-current-line'[^>]*><span[^>]*>\s*(\d+)</span>",
                       stepper.code.value)
    assert len(found) == 1, stepper.code.value
    return int(found[0])


def _event_id(run: durasim.engine.WorkflowRun, event_type: str) -> int:
    return next(e.event_id for e in run.history if e.event_type.value == event_type)


def test_run_show_draws_timeline_history_with_replays_and_outcome(
        capsys: pytest.CaptureFixture[str]) -> None:
    run = durasim.execute(long_sleep.ReminderWorkflow, REMINDER,
                          faults=Crash(node="worker", after_events=9))
    page = run_html(run)
    assert "data:image/png;base64," in page
    assert "reminder sent to ana@example.com" in page
    assert "↺" in page  # the events the restarted worker replayed
    run.show()  # outside Jupyter: the outcome and every event as text
    text = capsys.readouterr().out
    assert text.startswith("ReminderWorkflow: completed")
    assert f"{len(run.history)} WorkflowExecutionCompleted" in text.replace("  ", " ")


@pytest.mark.parametrize("workflow, args", [(long_sleep.ReminderWorkflow, (REMINDER,)),
                                            (Greeter, ("ana",))],
                         ids=["sdk-class", "durasim-workflow"])
def test_crashlab_takes_a_workflow_and_crashes_it_after_any_event(
        workflow: Any, args: tuple[Any, ...]) -> None:
    lab = CrashLab(workflow=workflow, args=args)
    assert isinstance(lab, WorkflowLab)
    clean = lab.run
    assert clean.status == "completed" and clean.replays == 0
    assert set(lab.node.options) >= {"worker", "server"}
    for node in ("worker", "server"):
        lab.node.value = node
        lab.after_event.value = 7
        lab.run_button.click()
        assert lab.output.value.count("durasim-error") == 0, lab.output.value
        assert (lab.run.status, lab.run.result) == (clean.status, clean.result)
        assert list(lab.run.trace.filter(kind="crash", node=node))  # it did crash
    lab.step_button.click()
    assert "Showing the run up to" in lab.output.value
    lab.back_button.click()
    assert "durasim-error" not in lab.output.value


def test_a_click_on_an_event_moves_the_highlighted_line_in_the_students_code() -> None:
    lab = CrashLab(workflow=long_sleep.ReminderWorkflow, args=(REMINDER,))
    lab.events.value = _event_id(lab.run, "TimerStarted")
    assert lab.stepper.slider.value == lab.events.value
    assert _highlighted(lab.stepper) == SLEEP_LINE
    lab.events.value = _event_id(lab.run, "ActivityTaskScheduled")
    assert _highlighted(lab.stepper) == ACTIVITY_LINE
    assert "durasim-error" not in lab.output.value


def test_the_replay_stepper_shows_the_sdk_class_source() -> None:
    run = durasim.execute(long_sleep.ReminderWorkflow, REMINDER)
    stepper = ReplayStepper(run)
    stepper.slider.value = _event_id(run, "ActivityTaskScheduled")
    assert _highlighted(stepper) == ACTIVITY_LINE
    assert "async def run(self, reminder: Reminder)" in stepper.code.value  # the method
    stepper.slider.value = len(run.history)  # finished: no frame waits, the whole class
    assert "class ReminderWorkflow" in stepper.code.value


def test_the_replay_stepper_shows_where_sdk_code_waits() -> None:
    run = durasim.execute(long_sleep.ReminderWorkflow, REMINDER)
    stepper = ReplayStepper(run)
    stepper.slider.value = _event_id(run, "TimerFired")  # waiting in workflow.sleep
    assert _highlighted(stepper) == SLEEP_LINE
    assert "reminder" in stepper.state.value  # the run method's locals


CELL = '''
from datetime import timedelta
from temporalio import activity, workflow


@activity.defn
def shout(text: str) -> str:
    return text.upper()


@workflow.defn
class Shouter:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(
            shout, text, start_to_close_timeout=timedelta(seconds=5))
'''


def test_a_class_written_in_a_notebook_cell_shows_its_source() -> None:
    """Python 3.11 finds no source for a class of ``__main__`` (a notebook's), only for its
    functions: the stepper finds the class's lines through its methods."""
    filename = "<notebook cell 1>"
    linecache.cache[filename] = (len(CELL), None, CELL.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(CELL, filename, "exec"), namespace)  # what a kernel does with a cell
    run = durasim.execute(namespace["Shouter"], "hi", activities=[namespace["shout"]])
    assert run.result == "HI"
    stepper = ReplayStepper(run)
    stepper.slider.value = _event_id(run, "ActivityTaskScheduled")
    call = CELL.splitlines().index("        return await workflow.execute_activity(") + 1
    assert _highlighted(stepper) == call
    stepper.slider.value = len(run.history)  # finished: the whole class, from its source
    assert "class Shouter" in stepper.code.value and "@workflow.defn" in stepper.code.value
