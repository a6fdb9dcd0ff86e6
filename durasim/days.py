"""A bank's day: thousands of transfers on one system, crashes drawn from the seed.

One crash at step 5 teaches the idea; a whole day teaches the scale. :func:`day` runs many
transfers between many accounts, arriving through the business day, on *one* simulated
system (one app for the monolith; the broker and its consumers for the event-driven bank;
one server, its worker and the services for durable execution), exactly as the single
runs build it: each transfer is an instance of the talk's scenario with its own business
reference, amount, payer and payee (drawn from the bank's many accounts). A transfer
picked by the seed (with probability ``crash_rate``) is hit by a crash of the node running
one of its steps, before or after that step's effect, the same crash on every
architecture. The :class:`Day` it returns
says, transfer by transfer, how each one ended and, in total, how much money the day
created or destroyed (counted by :mod:`durasim.money`, the one accounting).
"""

from __future__ import annotations

import dataclasses
import html
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

from durasim.architectures import get_architecture
from durasim.architectures.base import Run, World
from durasim.architectures.databases import databases_in_memory
from durasim.architectures.state import Effect, ProcessRows, rows_by_ref
from durasim.core import collector_paused
from durasim.errors import ScenarioError
from durasim.faults import Crash, FaultPlan, When
from durasim.money import Money, by_reference, created_and_destroyed, money
from durasim.scenarios import Scenario, get_scenario
from durasim.trace import Trace
from durasim.validation import check_count, check_seed

BUSINESS_DAY = 8 * 3600.0
"""Virtual seconds over which the day's transfers arrive."""
OUTCOMES = ("completed", "failed", "rolled back", "lost", "duplicated", "unknown to caller",
            "stuck", "dead-lettered")
"""Per-transfer outcomes, in the order a table lists them ("failed": the bank refused)."""
_WHENS: tuple[When, ...] = get_args(When)
_RESTART = (1.0, 10.0)
"""Seconds after which a crashed node comes back (drawn from the seed)."""


@dataclass
class Day:
    """What one architecture made of a day of transfers.

    Attributes:
        architecture: "monolith", "event_driven" or "durable".
        options: the architecture's options, defaults filled in.
        seed: the seed the transfers, the crashes and the simulation came from.
        crash_rate: the probability that a transfer was hit by a crash.
        outcomes: business reference -> how that transfer ended (one of :data:`OUTCOMES`).
        money: the day's money (:func:`durasim.money.money` of the whole day).
        created, destroyed: money created and destroyed, transfer by transfer
            (:func:`durasim.money.created_and_destroyed`: one transfer's double deposit
            does not hide another's lost one).
        net: business reference -> money it took out and did not put back (only those
            that are not 0: > 0 destroyed or in flight, < 0 created).
        faults: the crashes of the day (each names its transfer: ``Crash(ref=...)``).
        unfired: crashes that never found their moment (the transfer was refused before
            reaching the step).
        trace: the simulation's trace (empty unless the day ran with ``trace=True``).
    """

    architecture: str
    options: dict[str, Any]
    seed: int
    crash_rate: float
    outcomes: dict[str, str]
    money: Money
    created: int
    destroyed: int
    net: dict[str, int]
    faults: FaultPlan
    unfired: list[Crash] = field(default_factory=list)
    trace: Trace = field(default_factory=lambda: Trace(enabled=False))

    @property
    def transfers(self) -> int:
        """How many transfers the day had."""
        return len(self.outcomes)

    @property
    def counts(self) -> Counter[str]:
        """How many transfers ended each way."""
        return Counter(self.outcomes.values())

    def table(self) -> dict[str, Any]:
        """The day in figures: transfers, crashes, each outcome, money created/destroyed."""
        counts = self.counts
        figures: dict[str, Any] = {"transfers": self.transfers, "crashes": len(self.faults)}
        figures.update({word: counts.get(word, 0) for word in OUTCOMES})
        figures.update(money_created=self.created, money_destroyed=self.destroyed,
                       money_in_flight=self.money.in_flight)
        return figures

    def __str__(self) -> str:
        options = ", ".join(f"{k}={v}" for k, v in self.options.items()
                            if get_architecture(self.architecture).options.get(k) != v)
        head = (f"a day at the bank on {self.architecture}"
                f"{f' ({options})' if options else ''}: {self.transfers} transfers, "
                f"{len(self.faults)} crashes (seed {self.seed})")
        lines = [head] + [f"  {key:<18} {value}" for key, value in self.table().items()
                          if key not in ("transfers", "crashes")]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>"
                       for k, v in self.table().items())
        title = html.escape(str(self).splitlines()[0])
        return f"<div class='durasim-day'><p><b>{title}</b></p><table>{rows}</table></div>"

    def show(self, *others: Day) -> Any:
        """Draw this day (beside ``others``, the same day on other architectures): the
        picture of :data:`DAY_VIEWERS`, or the table as text where none is registered."""
        if DAY_VIEWERS:
            return DAY_VIEWERS[-1]([self, *others])
        print("\n\n".join(str(d) for d in (self, *others)))
        return None


DAY_VIEWERS: list[Callable[[Sequence[Day]], Any]] = []
"""What :meth:`Day.show` draws with. Pictures live above this layer, so the package's
front door registers durasim.viz's here (as it does for WorkflowRun.show)."""


def plan_day(scenario: Scenario, *, transfers: int, crash_rate: float, seed: int,
             accounts: int = 100, hours: float = BUSINESS_DAY / 3600
             ) -> tuple[Scenario, list[tuple[float, Scenario]], FaultPlan]:
    """The day drawn from ``seed``: its bank, its transfers (when each arrives) and crashes.

    Payers hold their accounts at the withdrawing service and payees at the depositing
    one (as alice and bob do); amounts are small, except one transfer in a hundred that
    is above the fraud limit (the bank refuses it), and each payer starts with far more
    than it will send, so hardly anyone runs short. Every crash names its transfer.
    """
    rng = random.Random(f"durasim-day/{seed}")
    withdraw, deposit = scenario.step("withdraw"), scenario.step("deposit")
    payers = [f"{withdraw.service}-{i:03d}" for i in range(accounts)]
    payees = [f"{deposit.service}-{i:03d}" for i in range(accounts)]
    limit = int(scenario.params["fraud_limit"])
    opening = 100 * (transfers // accounts + 5)  # the most a payer sends, and then some
    bank = dataclasses.replace(
        scenario, key="day", accounts={a: opening for a in payers + payees},
        homes={**{a: withdraw.service for a in payers}, **{a: deposit.service for a in payees}})
    activity_steps = [s.number for s in scenario.steps if s.kind == "activity"]
    times = sorted(rng.uniform(0.0, hours * 3600) for _ in range(transfers))
    arrivals, crashes = [], []
    width = len(str(transfers))
    for number, at in enumerate(times, start=1):
        ref = f"t{number:0{width}d}"
        amount = rng.randint(limit + 1, 2 * limit) if rng.random() < 0.01 else rng.randint(1, 100)
        params = {**scenario.params, "src": rng.choice(payers), "dst": rng.choice(payees),
                  "amount": amount}
        arrivals.append((at, dataclasses.replace(scenario, key=ref, params=params,
                                                 accounts={}, homes={})))
        if rng.random() < crash_rate:
            crashes.append(Crash(at_step=rng.choice(activity_steps), when=rng.choice(_WHENS),
                                 ref=ref, restart_after=round(rng.uniform(*_RESTART), 3)))
    return bank, arrivals, FaultPlan(crashes)


def day(scenario: Scenario | str = "transfer", architecture: str = "durable", *,
        transfers: int = 10_000, crash_rate: float = 0.01, seed: int = 0,
        accounts: int = 100, trace: bool = False, **options: Any) -> Day:
    """Run a bank's day of ``transfers`` transfers on one ``architecture``.

    Args:
        scenario: the transfer (the only process a day runs).
        architecture: "monolith", "event_driven" or "durable".
        transfers: how many transfers arrive during the business day.
        crash_rate: the probability, per transfer, of a crash at one of its steps.
        seed: the seed of the transfers, the crashes and the simulation.
        accounts: payers (and as many payees).
        trace: record the trace (for pictures and digests; a big day's is large).
        **options: the architecture's options (``idempotent_activities=True``, ...).

    Example:
        >>> durasim.day("transfer", "durable", transfers=1_000, crash_rate=0.05)  # doctest: +SKIP

    Raises:
        ScenarioError: a scenario other than the transfer, or an unknown architecture or
            option.
    """
    process = get_scenario(scenario)
    if process.name != "transfer":
        raise ScenarioError(f"a day at the bank runs transfers, not {process.name!r}")
    check_count("transfers", transfers, minimum=1)
    check_count("accounts", accounts, minimum=1)
    check_seed(seed)
    if (isinstance(crash_rate, bool) or not isinstance(crash_rate, int | float)
            or not 0 <= crash_rate <= 1):
        raise ValueError(f"crash_rate is a probability between 0 and 1, got {crash_rate!r}")
    arch = get_architecture(architecture)
    process.check_supported(arch.name)
    checked = arch.check_options(options)
    bank_scenario, arrivals, plan = plan_day(process, transfers=transfers,
                                             crash_rate=crash_rate, seed=seed,
                                             accounts=accounts)
    with databases_in_memory():
        world = World(bank_scenario, plan, seed, default_node=arch.default_node)
    world.sim.trace.enabled = trace
    bank = arch.bank(world, checked)
    for at, instance in arrivals:
        world.processes[instance.key] = instance
        bank.begin(instance, at)
    world.check_plan(arch.name)
    try:
        with collector_paused():  # a day keeps many objects alive: full passes would
            world.start()  # walk all of them, again and again, for nothing to free
            world.run()
            state = bank.read()
    finally:
        world.close()
    grouped = rows_by_ref(state)
    whole = Run(bank_scenario, arch.name, checked, plan, seed, world.sim.trace, state,
                "day", world.logs)
    net = {ref: amount for ref, amount in by_reference(whole).items() if amount}
    effect_steps = {s.name for s in process.steps if s.effect}
    outcomes = {}
    for _, instance in arrivals:
        rows = grouped.get(instance.key) or ProcessRows()
        word, _ = bank.verdict(instance, state, rows)
        if _applied_twice(rows.effects, effect_steps):
            word = "duplicated"
        outcomes[instance.key] = word
    return Day(arch.name, checked, seed, float(crash_rate), outcomes, money(whole),
               *created_and_destroyed(whole), net, plan, list(world.injector.unfired),
               world.sim.trace)


def _applied_twice(effects: list[Effect], effect_steps: set[str]) -> bool:
    """Did a step of one transfer that must happen once (an effect) happen twice?"""
    names = [effect.name for effect in effects if effect.name in effect_steps]
    return len(names) != len(set(names))
