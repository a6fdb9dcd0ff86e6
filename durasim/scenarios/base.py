"""What a scenario is: a business process with numbered steps, accounts and parameters.

A scenario is plain, frozen data so that "crash at step 5" means the same thing on every
architecture: each architecture reads the same steps, runs the same operations on the same
services, and starts from the same balances. Steps name their operation's arguments as
templates (``"$amount"``) over the scenario's ``params``, so :meth:`Scenario.with_params`
makes a variant (a bigger amount, an undeliverable order) without rewriting the steps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from durasim.errors import ScenarioError

STEP_KINDS = ("activity", "timer", "signal", "child")
"""What a step is: a call to a service, a durable timer, a wait for a signal, a child run."""


@dataclass(frozen=True)
class Step:
    """One business step.

    Attributes:
        number: its number, from 1, as in "crash at step 5".
        name: its name, as in ``Crash(at_step="deposit")``; unique in its scenario.
        service: the service (node) that executes it; for timers, signals and child
            workflows the name of who waits ("workflow", "human").
        description: one sentence for students.
        op: the service operation it runs (defaults to ``name``).
        args: the operation's arguments; a string ``"$p"`` stands for ``params["p"]``.
        kind: one of :data:`STEP_KINDS`.
        effect: True when running it twice (or not at all) is a business error; pure
            checks such as validation can run any number of times.
        compensates: for a compensation step, the name of the step it undoes.
    """

    number: int
    name: str
    service: str
    description: str
    op: str = ""
    args: Mapping[str, Any] = field(default_factory=dict, hash=False)
    kind: str = "activity"
    effect: bool = True
    compensates: str | None = None

    def __post_init__(self) -> None:
        if not self.op:
            object.__setattr__(self, "op", self.name)
        if self.kind not in STEP_KINDS:
            raise ValueError(f"step {self.name!r}: kind must be one of {', '.join(STEP_KINDS)}, "
                             f"got {self.kind!r}")

    @property
    def label(self) -> str:
        """``"5 deposit"``: how messages and reports name the step."""
        return f"{self.number} {self.name}"


@dataclass(frozen=True)
class Scenario:
    """A business process that every architecture can be asked to run.

    Attributes:
        name: registry name (``"transfer"``).
        title: a human title.
        description: what it teaches.
        key: the business reference of the run (transfer id, order id); the checks group
            effects by it.
        steps: the forward steps, numbered from 1.
        compensations: steps that undo earlier ones on failure, numbered after ``steps``,
            run in reverse order of what they undo.
        accounts: the initial balances.
        homes: account -> the service whose database holds it.
        params: the values step arguments refer to.
        unsupported: architecture -> the sentence saying why it cannot run this scenario.
        noun: what one run's business object is called in sentences ("transfer").
        workflow: the process as plain workflow code (``Transfer``): what the durable
            architecture runs and the replay stepper shows.
        inputs: the ``params`` the workflow takes, in order; the business reference
            (``key``) and the attempts per activity follow them.
    """

    name: str
    title: str
    description: str
    key: str
    steps: tuple[Step, ...]
    compensations: tuple[Step, ...] = ()
    accounts: Mapping[str, int] = field(default_factory=dict, hash=False)
    homes: Mapping[str, str] = field(default_factory=dict, hash=False)
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    unsupported: Mapping[str, str] = field(default_factory=dict, hash=False)
    noun: str = "process"
    workflow: Callable[..., Any] | None = field(default=None, compare=False, hash=False)
    inputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        numbers = [s.number for s in self.all_steps]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"scenario {self.name!r}: steps must be numbered 1..n in order, "
                             f"got {numbers}")
        names = [s.name for s in self.all_steps]
        if len(set(names)) != len(names):
            raise ValueError(f"scenario {self.name!r}: step names must be unique, got {names}")
        missing = sorted(set(self.accounts) - set(self.homes))
        if missing:
            raise ValueError(f"scenario {self.name!r}: accounts without a home service: "
                             f"{', '.join(missing)}")

    @property
    def all_steps(self) -> tuple[Step, ...]:
        """Forward steps, then compensations."""
        return self.steps + self.compensations

    @property
    def step_names(self) -> dict[int, str]:
        """Step number -> name, what the fault injector needs."""
        return {s.number: s.name for s in self.all_steps}

    @property
    def services(self) -> tuple[str, ...]:
        """The services that execute activity steps or hold accounts, in order of appearance."""
        names = [s.service for s in self.all_steps if s.kind == "activity"]
        names += list(self.homes.values())
        return tuple(dict.fromkeys(names))

    @property
    def total_money(self) -> int:
        """The sum of the initial balances: what "money is conserved" compares with."""
        return sum(self.accounts.values())

    def step(self, which: int | str) -> Step:
        """The step numbered or named ``which``.

        Raises:
            ScenarioError: no such step; the message lists the valid ones.
        """
        for step in self.all_steps:
            if which in (step.number, step.name):
                return step
        valid = ", ".join(s.label for s in self.all_steps)
        raise ScenarioError(f"scenario {self.name!r} has no step {which!r}; its steps are: "
                            f"{valid}")

    def compensation_for(self, name: str) -> Step | None:
        """The compensation step that undoes step ``name``, if there is one."""
        for step in self.compensations:
            if step.compensates == name:
                return step
        return None

    def args_for(self, which: int | str | Step) -> dict[str, Any]:
        """The step's operation arguments with every ``"$param"`` replaced by its value."""
        step = which if isinstance(which, Step) else self.step(which)
        return {k: self._resolve(v) for k, v in step.args.items()}

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("$"):
            return self.params[value[1:]]
        if isinstance(value, list | tuple):
            return [self._resolve(v) for v in value]
        if isinstance(value, Mapping):
            return {k: self._resolve(v) for k, v in value.items()}
        return value

    def with_params(self, **changes: Any) -> Scenario:
        """A variant with some parameters changed (``transfer.with_params(amount=500)``).

        Raises:
            ScenarioError: a parameter this scenario does not have; lists the valid ones.
        """
        unknown = sorted(set(changes) - set(self.params))
        if unknown:
            raise ScenarioError(f"scenario {self.name!r} has no parameter {unknown[0]!r}; its "
                                f"parameters are: {', '.join(sorted(self.params))}")
        return dataclasses.replace(self, params={**self.params, **changes})

    def workflow_args(self, max_attempts: int = 0) -> tuple[Any, ...]:
        """The workflow's input: its ``inputs`` params, the reference, the attempts."""
        return (*(self.params[name] for name in self.inputs), self.key, max_attempts)

    def check_supported(self, architecture: str) -> None:
        """Raise ScenarioError with the scenario's reason when ``architecture`` cannot run it."""
        reason = self.unsupported.get(architecture)
        if reason:
            raise ScenarioError(f"the {architecture} architecture does not run scenario "
                                f"{self.name!r}: {reason}")

    def __str__(self) -> str:
        steps = "\n".join(f"  {s.label:<22} ({s.service}) {s.description}"
                          for s in self.all_steps)
        money = ", ".join(f"{a} {b}" for a, b in self.accounts.items())
        return f"{self.title} [{self.name}]\n{steps}\n  accounts: {money}"
