"""The two calls a notebook needs: run one architecture, or compare them all.

``durasim.run("transfer", "event_driven", Crash(at_step=5))`` builds a fresh simulation,
runs the scenario under the fault plan and returns a :class:`~durasim.architectures.base.Run`
judged by the checks. ``durasim.compare("transfer", Crash(at_step=5))`` does that for every
architecture under the identical plan and seed, which is the talk's argument in one table.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from durasim.architectures import ARCHITECTURES, get_architecture
from durasim.architectures.base import Architecture, Run
from durasim.checks import evaluate
from durasim.errors import ScenarioError
from durasim.faults import FaultPlan, as_plan
from durasim.scenarios import Scenario, get_scenario


def run(scenario: Scenario | str, architecture: str, faults: Any = None, seed: int = 0,
        **options: Any) -> Run:
    """Run ``scenario`` on ``architecture`` under ``faults`` and check the result.

    Args:
        scenario: a scenario name ("transfer") or a :class:`~durasim.scenarios.Scenario`.
        architecture: "monolith", "event_driven" or "durable".
        faults: None, one fault, a list of faults, or a FaultPlan.
        seed: the simulation's seed; same seed and faults give the same trace.
        **options: the architecture's options (``at_least_once=True``, ...).

    Raises:
        ScenarioError: an unknown scenario, architecture, step, node or option.
    """
    return judged(get_architecture(architecture), get_scenario(scenario), as_plan(faults),
                  seed, options)


def judged(arch: Architecture, scenario: Scenario, plan: FaultPlan, seed: int,
           options: Mapping[str, Any]) -> Run:
    """Run on ``arch`` and attach the checks, against the crash-free twin (cached)."""
    result = arch.run(scenario, plan, seed, **options)
    baseline = result if not plan else arch.baseline(result.scenario, seed, result.options)
    if baseline is not result and not baseline.checks.results:
        baseline.checks = evaluate(baseline, baseline)
    result.checks = evaluate(result, baseline)
    return result


@dataclass
class Comparison:
    """The same scenario, faults and seed on every architecture.

    Attributes:
        scenario: the scenario.
        faults: the plan every architecture ran under.
        seed: the seed.
        runs: architecture -> its Run.
        skipped: architecture -> why it did not run (it does not run the scenario, or it
            lacks a node the fault plan names).
    """

    scenario: Scenario
    faults: FaultPlan
    seed: int
    runs: dict[str, Run] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def _order(self) -> list[str]:
        return [n for n in [*ARCHITECTURES, *self.runs, *self.skipped]
                if n in self.runs or n in self.skipped]

    def __str__(self) -> str:
        faults = ", ".join(repr(f) for f in self.faults) or "no faults"
        rows = [("architecture", "outcome", "balances", "checks")]
        for name in dict.fromkeys(self._order()):
            if name in self.runs:
                one = self.runs[name]
                rows.append((name, one.outcome,
                             ", ".join(f"{a} {b}" for a, b in one.balances.items()),
                             " ".join(("✓ " if c.ok else "✗ ") + c.name for c in one.checks)))
            else:
                rows.append((name, "not run", "", ""))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [f"{self.scenario.name} under {faults} (seed {self.seed})"]
        for r in rows:
            cells = "  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True))
            lines.append(f"{cells}  {r[3]}".rstrip())
        for name in dict.fromkeys(self._order()):
            if name in self.runs:
                lines += [f"  {name}: {c}" for c in self.runs[name].checks if not c.ok]
            else:
                lines.append(f"  {name}: not run: {self.skipped[name]}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        faults = ", ".join(repr(f) for f in self.faults) or "no faults"
        body = []
        for name in dict.fromkeys(self._order()):
            if name in self.skipped:
                body.append(f"<tr><td><b>{esc(name)}</b></td><td>not run</td>"
                            f"<td colspan='2'>{esc(self.skipped[name])}</td></tr>")
                continue
            result = self.runs[name]
            checks = "<br>".join(
                f"<span style='color:{'#1a7f37' if c.ok else '#cf222e'}'>"
                f"{'✓' if c.ok else '✗'}</span> {esc(c.sentence)}" for c in result.checks)
            balances = "<br>".join(f"{esc(a)}: {b}" for a, b in result.balances.items())
            body.append(f"<tr><td><b>{esc(name)}</b></td><td>{esc(result.outcome)}</td>"
                        f"<td>{balances}</td><td>{checks}</td></tr>")
        return (f"<div class='durasim-compare'><p><b>{esc(self.scenario.name)}</b> under "
                f"{esc(faults)} (seed {self.seed})</p><table><tr><th>architecture</th>"
                f"<th>outcome</th><th>balances</th><th>checks</th></tr>{''.join(body)}"
                "</table></div>")


def compare(scenario: Scenario | str, faults: Any = None, seed: int = 0,
            **options: Any) -> Comparison:
    """Run every registered architecture on the same scenario, faults and seed.

    Options go to the architectures that have them (``at_least_once=True`` only to
    event_driven); ``event_driven={"outbox": True}`` gives options to one architecture.
    An architecture that does not run the scenario, or lacks a node the plan names, is
    listed in ``skipped`` with the reason.

    Raises:
        ScenarioError: unknown scenario or step, or an option no architecture has.
    """
    scenario = get_scenario(scenario)
    plan = as_plan(faults)
    per_arch: dict[str, dict[str, Any]] = {name: {} for name in ARCHITECTURES}
    shared = {k: v for k, v in options.items() if k not in ARCHITECTURES}
    for name in ARCHITECTURES:
        given = options.get(name)
        if given is not None:
            if not isinstance(given, Mapping):
                raise TypeError(f"{name}= takes a dict of that architecture's options, "
                                f"got {given!r}")
            per_arch[name].update(given)
    result = Comparison(scenario, plan, seed)
    available = {name: get_architecture(name) for name in ARCHITECTURES}
    claimed = {k for arch in available.values() for k in arch.options}
    unclaimed = sorted(set(shared) - claimed)
    if unclaimed:
        valid = "; ".join(f"{n}: {', '.join(a.options)}" for n, a in available.items())
        raise ScenarioError(f"no architecture has an option {unclaimed[0]!r}; options: {valid}")
    for name, arch in available.items():
        mine = {k: v for k, v in shared.items() if k in arch.options}
        try:
            result.runs[name] = judged(arch, scenario, plan, seed, {**mine, **per_arch[name]})
        except ScenarioError as exc:
            if "has no step" in str(exc) or "has no option" in str(exc):
                raise
            result.skipped[name] = str(exc)
    return result
