"""Every crash a student can click in CrashLab ends in a Run whose checks explain it.

The sequences are the widget's own: pick an architecture, its options, a crash step, a
node and before/after, press Run; then, at every moment Step stops at, press Crash now
(the node chosen, or the one acting at that moment), and either leave the node down or
Step once more and press Restart; or, without Crash now, Restart the picked crash at that
moment. Everything goes through the public controls. Identical inputs give identical runs
(determinism), so each distinct run is simulated once; the pictures are not rasterised
here (the widget tests do that), but the numbers they would show are checked against the
checks on every run.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from durasim import api
from durasim.architectures import ARCHITECTURES
from durasim.architectures.base import Run
from durasim.checks import down_at_end
from durasim.i18n import t
from durasim.money import money
from durasim.viz.state import money_label
from durasim.widgets import CrashLab
from durasim.widgets.base import ERROR_CLASS

OUTCOMES = {"completed", "failed", "lost", "stuck", "dead-lettered", "rolled back",
            "unknown to caller", "rejected"}
"""Every outcome an architecture can end in (Run's docstring lists them)."""


class Driver:
    """A CrashLab driven by its controls, counting the sequences and the distinct runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.runs: dict[Any, Run] = {}
        self.sequences = 0
        self.agreements = 0
        self.drawn: set[tuple[int, float | None]] = set()
        real = api.run

        def remembered(scenario: Any, architecture: str, faults: Any = None, seed: int = 0,
                       **options: Any) -> Run:
            key = (architecture, tuple(faults or ()), seed, tuple(sorted(options.items())))
            if key not in self.runs:
                self.runs[key] = real(scenario, architecture, faults, seed, **options)
            return self.runs[key]

        monkeypatch.setattr(api, "run", remembered)
        monkeypatch.setattr(CrashLab, "redraw", lambda lab: self.pictures_agree(lab))
        self.lab = CrashLab()

    def click(self, button: Any) -> None:
        """Press a button; the widget must show no error (a bug would be one, then raised)."""
        button.click()
        assert ERROR_CLASS not in self.lab.output.value, self.lab.output.value

    def explained(self) -> Run:
        """The run shown ends cleanly, and its checks say why it differs from no faults."""
        run = self.lab.run
        assert isinstance(run, Run)
        assert run.outcome in OUTCOMES and run.explanation, run
        assert len(run.checks) >= 4 and all(c.sentence.endswith(".") for c in run.checks)
        stuck = run.checks["nothing_stuck"]
        down = down_at_end(run)
        if not stuck.ok and down:
            assert any(f"{node} crashed at" in stuck.sentence for node in down), stuck
        return run

    def pictures_agree(self, lab: CrashLab) -> None:
        """The money the graph and the balances would show is the checks' money.

        At the cursor (mid-run: only "out of the accounts" or "created"), and at the end of
        every run drawn, where the label must say what ``money_conserved`` says. Each
        distinct picture (run, cursor) is checked once.
        """
        run = lab.run
        if (id(run), lab.cursor) in self.drawn:
            return
        self.drawn.add((id(run), lab.cursor))
        now = money(run, lab.cursor)
        assert now.held + now.out == now.total
        if not now.final:
            assert not now.destroyed and now.in_flight == max(0, now.out)
            assert money_label(run, lab.cursor).endswith(f": {now.created or now.in_flight}"
                                                         if now.out else "")
        self.agreements += 1
        found, label = money(run), money_label(run)
        check = run.checks["money_conserved"]
        if found.destroyed:
            assert label == f"{t('destroyed')}: {found.destroyed}"
            assert not check.ok and f"{found.destroyed} is missing" in check.sentence
        elif found.created:
            assert label == f"{t('created')}: {found.created}"
            assert not check.ok and f"{found.created} appeared from nowhere" in check.sentence
        elif found.in_flight:
            assert label == f"{t('in_flight')}: {found.in_flight}"
            assert check.ok and f"{found.in_flight} still in flight" in check.sentence
        else:
            assert label == "" and check.ok

    def configurations(self, architecture: str, options: dict[str, bool]
                       ) -> Iterator[tuple[str, dict[str, bool], int, str, str]]:
        """Step x node x before/after, as the controls offer them, with these options."""
        lab = self.lab
        lab.architecture.value = architecture
        nodes = [value for _, value in lab.node.options]
        steps = [value for _, value in lab.step.options]
        for step, node in itertools.product(steps, nodes):
            for when in ("before_effect", "after_effect") if step else ("before_effect",):
                yield architecture, options, step, node, when

    def choose(self, options: dict[str, bool], step: int, node: str, when: str) -> None:
        """Reset (which forgets earlier Crash now clicks), set the controls, press Run."""
        lab = self.lab
        self.click(lab.reset_button)
        for name, box in lab.options.items():
            box.value = options.get(name, False)
        lab.step.value, lab.node.value, lab.when.value = step, node, when
        self.click(lab.run_button)

    def stops(self) -> int:
        """How many moments Step walks through on the run shown (it wraps at the end)."""
        lab, seen = self.lab, list[float | None]()
        while True:
            self.click(lab.step_button)
            if lab.cursor in seen:
                return len(seen)
            seen.append(lab.cursor)

    def to_moment(self, configuration: tuple[Any, ...], k: int) -> None:
        _, options, step, node, when = configuration
        self.choose(options, step, node, when)
        for _ in range(k):
            self.click(self.lab.step_button)

    def every_sequence(self, architecture: str, options: dict[str, bool]) -> None:
        for configuration in self.configurations(architecture, options):
            self.choose(*configuration[1:])
            self.explained()
            self.sequences += 1
            for k in range(1, self.stops() + 1):
                self.to_moment(configuration, k)            # Crash now, never restarted
                self.click(self.lab.crash_button)
                self.explained()
                self.click(self.lab.step_button)            # ... or restarted a moment later
                self.click(self.lab.restart_button)
                self.explained()
                self.sequences += 2
                if configuration[2]:                        # Restart the picked crash here
                    self.to_moment(configuration, k)
                    self.click(self.lab.restart_button)
                    self.explained()
                    self.sequences += 1


def option_choices() -> list[tuple[str, dict[str, bool]]]:
    """Every architecture with every combination of the options its controls enable."""
    lab, choices = CrashLab(), []
    for architecture in ARCHITECTURES:
        lab.architecture.value = architecture
        names = [n for n, box in lab.options.items() if not box.disabled]
        for values in itertools.product((False, True), repeat=len(names)):
            choices.append((architecture, dict(zip(names, values, strict=True))))
    return choices


@pytest.mark.slow
@pytest.mark.parametrize("architecture, options", [
    pytest.param(a, o, id="-".join([a, *(n for n, on in o.items() if on)]))
    for a, o in option_choices()])
def test_every_crashlab_action_sequence_ends_in_an_explained_run(
        architecture: str, options: dict[str, bool], monkeypatch: pytest.MonkeyPatch) -> None:
    """(One test per architecture and options, so parallel workers share the sweep.)"""
    driver = Driver(monkeypatch)
    driver.every_sequence(architecture, options)
    print(f"\n{architecture} {options}: {driver.sequences} action sequences, "
          f"{len(driver.runs)} distinct runs, {driver.agreements} pictures checked")
    assert driver.sequences > 20 and driver.agreements >= len(driver.runs)
