"""Predict: commit to what will happen to the money, then see the run.

Students learn more from a prediction that turns out wrong than from a picture they only
watch. This widget asks, before anything runs, what will happen to each account's money
(lose the amount, keep it, receive it, receive it twice...), and only when both are
picked does Reveal run the simulation. The answer says, account by account, what really
happened, whether the guess was right, and why: the architecture's mechanism and the
checks that failed.

A student's own workflow has no accounts, but the same question has a sharper form there:
how many times will each activity run (``Predict(workflow=..., args=...)``)? Workflow
code runs once in effect, activities at least once; guessing the count is guessing that.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from durasim import api
from durasim.engine.api import deployment, execute
from durasim.i18n import check_sentence, outcome, t
from durasim.scenarios import get_scenario
from durasim.widgets.base import button, safe


def _signed(amount: int) -> str:
    return "±0" if amount == 0 else f"{amount:+d}"


class Predict(widgets.VBox):
    """Guess each account's change of money under a fault plan, then Reveal the run.

    Args:
        scenario: a scenario name or Scenario (its accounts are the ones asked about).
        architecture: where it runs.
        faults: the fault plan (a Fault, a list, or a FaultPlan).
        question: what to ask (default: what happens to the accounts' money).
        seed: the simulation's seed.
        workflow: instead of a scenario, a workflow (durasim's or a Temporal SDK class)
            run with ``durasim.execute(workflow, *args, faults=...)``; the guess is how
            many times each of its activities runs.
        args: the workflow's arguments.
        **options: the architecture's options (``outbox=True``...), or ``execute``'s.

    Attributes:
        choices: account (or activity) -> ToggleButtons of the possible changes (or
            counts); nothing is picked first.
        reveal_button, answer: the button and what it reveals.
        guess: account -> the change picked (activity -> count), once Reveal is pressed.
        run: the Run (WorkflowRun), once revealed (None before: nothing runs before the
            guess).
        right: whether every account was guessed right (None before Reveal).
    """

    def __init__(self, scenario: Any = "transfer", architecture: str = "durable",
                 faults: Any = (), *, question: str | None = None, seed: int = 0,
                 workflow: Any = None, args: tuple[Any, ...] = (),
                 **options: Any) -> None:
        self.workflow, self.args = workflow, tuple(args)
        self.scenario = get_scenario(scenario) if workflow is None else None
        self.architecture, self.faults, self.seed = architecture, faults, seed
        self.options = options
        self.run: Any = None
        self.guess: dict[str, int] = {}
        self.right: bool | None = None
        if self.scenario is None:
            calls = [(f"×{n}", n) for n in (0, 1, 2)]
            self.choices = {
                name: widgets.ToggleButtons(
                    options=calls, value=None, description=name,
                    style={"button_width": "48px", "description_width": "initial"})
                for name in deployment([workflow], ())[1]}
        else:
            amount = int(self.scenario.params.get("amount",
                                                  self.scenario.params.get("price", 0)) or 1)
            changes = (-amount, 0, amount, 2 * amount)
            self.choices = {
                account: widgets.ToggleButtons(
                    options=[(_signed(c), c) for c in changes], value=None,
                    description=account, style={"button_width": "56px"})
                for account in self.scenario.accounts}
        self.reveal_button = button(t("reveal"), style="primary", icon="eye")
        self.reveal_button.disabled = True
        self.answer = widgets.HTML()
        self.output = self.answer  # where @safe writes an error
        for choice in self.choices.values():
            choice.observe(self._on_pick, names="value")
        self.reveal_button.on_click(self._on_reveal)
        asked = question or (t("predict_calls") if self.scenario is None else t(
            "predict_question", accounts=" · ".join(
                f"{a} {v}" for a, v in self.scenario.accounts.items())))
        super().__init__([widgets.HTML(f"<b>{html.escape(asked)}</b>"),
                          *self.choices.values(), self.reveal_button, self.answer])
        self.add_class("durasim-predict")

    def _on_pick(self, _: Any = None) -> None:
        self.reveal_button.disabled = any(c.value is None for c in self.choices.values())

    @safe
    def _on_reveal(self, _: Any = None) -> None:
        if any(c.value is None for c in self.choices.values()):
            self.answer.value = f"<i>{html.escape(t('predict_first'))}</i>"
            return
        self.guess = {account: int(c.value) for account, c in self.choices.items()}
        if self.scenario is None:
            self.run = execute(self.workflow, *self.args, faults=self.faults, seed=self.seed,
                               **self.options)
            actual = {name: self.run.activity_calls.get(name, 0) for name in self.choices}
        else:
            self.run = api.run(self.scenario, self.architecture, self.faults, seed=self.seed,
                               **self.options)
            initial = self.scenario.accounts
            actual = {a: self.run.balances.get(a, 0) - initial[a] for a in initial}
        self.right = actual == self.guess
        for choice in self.choices.values():
            choice.disabled = True
        self.reveal_button.disabled = True
        self.answer.value = (self._explain_calls(actual) if self.scenario is None
                             else self._explain(actual))

    def _verdict(self, ending: str) -> str:
        verdict = t("predict_right") if self.right else t("predict_wrong")
        colour = "#1a7f37" if self.right else "#cf222e"
        return (f"<p style='color:{colour}'><b>{html.escape(verdict)}</b> "
                f"{html.escape(t('outcome'))}: <b>{html.escape(outcome(ending))}</b></p>")

    def _explain_calls(self, actual: dict[str, int]) -> str:
        rows = "".join(
            f"<tr><td><b>{html.escape(name)}</b></td><td>{html.escape(t('predict_ran'))} "
            f"×{actual[name]}</td><td>{html.escape(t('predict_you'))} ×{self.guess[name]} "
            f"{'✓' if actual[name] == self.guess[name] else '✗'}</td></tr>" for name in actual)
        return (f"<div class='durasim-answer' data-right='{str(self.right).lower()}'>"
                f"{self._verdict(self.run.status)}<table>{rows}</table>"
                f"<p><i>{html.escape(t('why'))}: {html.escape(t('why_calls'))}.</i></p></div>")

    def _explain(self, actual: dict[str, int]) -> str:
        run = self.run
        rows = "".join(
            f"<tr><td><b>{html.escape(a)}</b></td>"
            f"<td>{run.scenario.accounts[a]} → {run.balances.get(a, 0)}</td>"
            f"<td>{_signed(actual[a])}</td><td>{html.escape(t('predict_you'))} "
            f"{_signed(self.guess[a])} {'✓' if actual[a] == self.guess[a] else '✗'}</td></tr>"
            for a in actual)
        failed = [check_sentence(c, run) for c in run.checks if not c.ok]
        why = t(f"why_{run.architecture}")
        checks = "".join(f"<li>{html.escape(s)}</li>" for s in failed)
        return (f"<div class='durasim-answer' data-right='{str(self.right).lower()}'>"
                f"{self._verdict(run.outcome)}<table>{rows}</table>"
                + (f"<ul>{checks}</ul>" if checks else "")
                + f"<p><i>{html.escape(t('why'))}: {html.escape(why)}.</i></p></div>")
