"""One interface for every architecture, and the one result they all return.

An :class:`Architecture` turns (scenario, fault plan, seed, options) into a :class:`Run`.
Subclasses only write :meth:`Architecture.simulate`; :meth:`Architecture.run` validates
the options and the plan, and :meth:`Architecture.baseline` runs (and caches) the
crash-free twin. Judging is :func:`durasim.api.run`'s: the checks read runs, and the
architectures know nothing of the checks, so every architecture is judged by the same
invariants in the same words.
:class:`World` is what one simulation shares: the kernel, the network, the fault
injector, the per-node logs and the temporary folder of SQLite files.
"""

from __future__ import annotations

import dataclasses
import html
import itertools
import os
import sqlite3
import tempfile
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from durasim.architectures.databases import in_memory
from durasim.architectures.state import ProcessRows, RunState
from durasim.core import Simulation, collector_paused
from durasim.errors import ScenarioError
from durasim.faults import (
    Crash,
    DelayMessage,
    DropMessage,
    DuplicateMessage,
    FailActivity,
    Fault,
    FaultPlan,
    as_plan,
)
from durasim.injector import FaultInjector, unknown_nodes
from durasim.network import Network
from durasim.node import Node
from durasim.scenarios import Scenario, get_scenario
from durasim.trace import Trace
from durasim.validation import check_seed
from durasim.verdict import CheckReport

_FAST_TMP = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
"""Where run folders go: memory-backed on Linux (the files die with the run anyway)."""

HORIZON = 7 * 24 * 3600.0
"""Virtual seconds after which a run is cut off (and whatever is unfinished is stuck)."""

GIVE_UP_AFTER = 3600.0
"""Virtual seconds of activity without progress, with a node gone for good, before a run
ends: retrying a node that never returns changes nothing after the first hour."""
BUSY_STEPS = 1000
"""Kernel steps without progress that make a system busy rather than waiting on a timer."""
PROGRESS = frozenset({"history", "commit", "crash", "restart", "dead_letter"})
"""Trace kinds that change what a run ends in (a history event, a commit, a node's fate)."""


@dataclass
class Run:
    """Everything one run produced: what happened, where things ended, and the verdict.

    Attributes:
        scenario: the scenario run.
        architecture: "monolith", "event_driven" or "durable".
        options: the architecture's options, defaults filled in.
        faults: the fault plan.
        seed: the simulation's seed.
        trace: every event, for timelines and ``trace.digest()``.
        state: where the run ended, read from its databases: a
            :class:`~durasim.architectures.state.RunState` (balances, every database's
            effects, postings and rejections, what is still pending and where, the
            broker's queues, what a waiting caller heard).
        history: the workflow's event history (durable only).
        outcome: "completed", "failed", "lost", "stuck", "dead-lettered", "rolled back",
            "unknown to caller".
        checks: the invariants' verdicts.
        logs: node -> its own log lines.
        result: what the process returned to its caller, if anything.
        explanation: one sentence saying what happened.
        unfired: crash faults of the plan that never found their moment.
        workflow: the workflow code that ran (durable only): what ReplayStepper steps
            through and what a Replayer checks the history against.
    """

    scenario: Scenario
    architecture: str
    options: dict[str, Any]
    faults: FaultPlan
    seed: int
    trace: Trace
    state: RunState
    outcome: str
    logs: dict[str, list[str]]
    history: Any = None
    result: Any = None
    explanation: str = ""
    checks: CheckReport = field(default_factory=CheckReport)
    unfired: list[Fault] = field(default_factory=list)
    workflow: Any = None

    @property
    def balances(self) -> dict[str, int]:
        """Final balances (a copy of ``state.balances``)."""
        return dict(self.state.balances)

    @property
    def changed_options(self) -> dict[str, Any]:
        """The options that differ from the architecture's defaults."""
        from durasim.architectures import get_architecture

        try:
            defaults = get_architecture(self.architecture).options
        except ScenarioError:
            defaults = {}
        return {k: v for k, v in self.options.items() if defaults.get(k, not v) != v}

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return self.checks.ok

    def _title(self) -> str:
        faults = ", ".join(repr(f) for f in self.faults) or "no faults"
        options = ", ".join(f"{k}={v}" for k, v in self.changed_options.items()) or "defaults"
        return (f"{self.scenario.name} on {self.architecture} ({options}; seed {self.seed}; "
                f"{faults})")

    def __str__(self) -> str:
        lines = [self._title(), f"outcome: {self.outcome}"]
        if self.explanation:
            lines.append(f"  {self.explanation}")
        lines.append("balances: " + ", ".join(
            f"{a} {self.scenario.accounts.get(a, 0)} -> {b}" for a, b in self.balances.items()))
        lines.append(str(self.checks))
        lines += [f"note: {f!r} never fired" for f in self.unfired]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(a)}</td><td>{self.scenario.accounts.get(a, 0)}</td><td>{b}</td>"
            f"<td>{b - self.scenario.accounts.get(a, 0):+d}</td></tr>"
            for a, b in self.balances.items())
        notes = "".join(f"<p><i>{esc(repr(f))} never fired.</i></p>" for f in self.unfired)
        colour = "#1a7f37" if self.checks.ok else "#cf222e"
        return (f"<div class='durasim-run'><p><b>{esc(self._title())}</b></p>"
                f"<p>Outcome: <b style='color:{colour}'>{esc(self.outcome)}</b>"
                f"{' — ' + esc(self.explanation) if self.explanation else ''}</p>"
                f"{self.checks._repr_html_()}"
                "<table><tr><th>account</th><th>before</th><th>after</th><th>change</th></tr>"
                f"{rows}</table>{notes}</div>")

    def show(self) -> None:
        """Display the run: as HTML inside IPython/Jupyter, as text anywhere else."""
        try:
            from IPython import get_ipython
            from IPython.display import HTML, display
        except ImportError:
            print(self)
            return
        if get_ipython() is None:
            print(self)
        else:
            display(HTML(self._repr_html_()))


class World:
    """What one simulation shares: kernel, network, fault injector, logs, SQLite folder.

    Args:
        scenario: the scenario.
        plan: the fault plan (message faults naming steps by name are rewritten to
            numbers, since messages carry step numbers).
        seed: the kernel's seed.
        default_node: where a crash without a node and without a step lands.
        service_time: virtual seconds each service operation takes.
    """

    def __init__(self, scenario: Scenario, plan: FaultPlan, seed: int, *,
                 default_node: str, service_time: float = 0.002) -> None:
        self.scenario = scenario
        self.plan = _numbered(plan, scenario)
        self.sim = Simulation(seed=seed)
        self.net = Network(self.sim, faults=self.plan)
        self.nodes: dict[str, Node] = {}
        self.injector = FaultInjector(self.sim, self.plan, self.nodes, scenario.step_names,
                                      default_node=default_node)
        self.logs: dict[str, list[str]] = {}
        self.service_time = service_time
        self.in_memory = in_memory()
        """SQLite databases in memory, not in files (see durasim.architectures.databases)."""
        self._folder = (None if self.in_memory else
                        tempfile.TemporaryDirectory(prefix="durasim-", dir=_FAST_TMP))
        self._ids = itertools.count(1)
        self.processes: dict[str, Scenario] = {scenario.key: scenario}
        """Business reference -> the process instance carrying it (its parameters): one
        for a single run, thousands for a bank's day (:mod:`durasim.days`)."""

    def process(self, ref: str | None) -> Scenario:
        """The process instance with business reference ``ref`` (the scenario's own when
        the reference is unknown or missing)."""
        return self.processes.get(ref or "", self.scenario)

    def add(self, node: Node) -> Node:
        """Register a node: reachable on the network, crashable by the plan, with a log."""
        self.nodes[node.name] = node
        self.net.attach(node)
        self.logs.setdefault(node.name, [])
        return node

    def path(self, name: str) -> str:
        """Where node ``name``'s database lives (inside the run's temporary folder)."""
        if self._folder is None:
            raise RuntimeError("this world keeps its databases in memory: it has no files")
        return os.path.join(self._folder.name, f"{name}.sqlite")

    def log(self, node: str, text: str) -> None:
        """Append a line to ``node``'s own log, stamped with virtual time."""
        self.logs.setdefault(node, []).append(f"{self.sim.now:9.3f}s  {text}")

    def new_id(self, prefix: str) -> str:
        """A fresh identifier, deterministic within the run ("ev-7")."""
        return f"{prefix}-{next(self._ids)}"

    def step_name(self, step: int | str | None, default: str) -> str:
        """The scenario's name for step number ``step``, or ``default``."""
        return self.scenario.step_names.get(step, default) if isinstance(step, int) else default

    def crash_if_named(self, node: str, step: int, name: str, when: str) -> None:
        """Crash ``node`` here only for crash faults that name it explicitly.

        For nodes that take part in a step without executing it (the broker storing the
        step's event): ``Crash(at_step=5)`` with no node means the executing service.
        """
        self.injector.at_step(node, step, name, when, claim_unnamed=False)

    def check_plan(self, architecture: str, *, history: bool = True) -> None:
        """Refuse faults that name nodes this architecture does not have.

        Args:
            architecture: its name, for the message.
            history: False when there is no event history, so ``Crash(after_events=n)``
                could never fire.
        """
        for fault in self.plan:
            if isinstance(fault, Crash) and fault.after_events is not None and not history:
                raise ScenarioError(f"{fault!r} counts workflow history events; the "
                                    f"{architecture} architecture has no history (crash at a "
                                    "step or at a time instead)")
        unknown = unknown_nodes(self.plan, self.nodes, f"the {architecture} architecture")
        if unknown is not None:
            raise ScenarioError(unknown)

    def start(self) -> None:
        """Start every node and arm the timed crashes."""
        for node in list(self.nodes.values()):
            node.start()
        self.injector.arm()

    def run(self, horizon: float = HORIZON) -> None:
        """Run the simulation until nothing is left to do (or the horizon).

        A node that never comes back, or a partition that outlasts the horizon, can leave
        the others retrying forever (a durable engine retries an activity without limit):
        once one has begun and the system has been busy for :data:`GIVE_UP_AFTER` virtual
        seconds without progress, the run ends there. Waiting on a long timer is not busy,
        so it is not cut. No step runs past the horizon. The cyclic garbage collector
        waits for the end, as in :meth:`~durasim.core.Simulation.run`: reference counting
        frees what a run discards, and the collector's passes over every live object (a
        property keeps many) cost a sixth of each crash plan's check.
        """
        with collector_paused():
            self._run(horizon)

    def _run(self, horizon: float) -> None:
        sim, trace = self.sim, self.sim.trace
        seen = steps_at = 0
        progress_at = 0.0
        while sim.peek() <= horizon:
            sim.run(until=horizon, max_steps=256)  # never a step past the horizon
            forever = self.injector.gone_for_good or self.net.cut_past(horizon)
            if not forever or not trace.enabled:
                continue
            for event in itertools.islice(trace, seen, None):
                if event.kind in PROGRESS and event.fields:
                    progress_at, steps_at = event.time, sim.steps
            seen = len(trace)
            if sim.now - progress_at > GIVE_UP_AFTER and sim.steps - steps_at > BUSY_STEPS:
                return

    def close(self) -> None:
        """Close the simulation, every database connection and the temporary folder."""
        self.sim.close()
        for node in self.nodes.values():
            close = getattr(node, "close_database", None)
            if close is not None:  # a service: it knows how its database is kept
                close()
                continue
            conn = getattr(node, "conn", None)
            if conn is not None:
                if conn is not node.durable:
                    conn.close()
                node.conn = None  # type: ignore[attr-defined]
            if isinstance(node.durable, sqlite3.Connection):  # an in-memory database
                node.durable.close()
        if self._folder is not None:
            self._folder.cleanup()


def _numbered(plan: FaultPlan, scenario: Scenario) -> FaultPlan:
    """Check every step a fault names; message faults get step numbers, not names."""
    faults: list[Fault] = []
    for fault in plan:
        if isinstance(fault, Crash) and fault.at_step is not None:
            scenario.step(fault.at_step)
        if isinstance(fault, FailActivity):
            scenario.step(fault.name)
        if (isinstance(fault, DropMessage | DuplicateMessage | DelayMessage)
                and fault.step is not None):
            fault = dataclasses.replace(fault, step=scenario.step(fault.step).number)
        faults.append(fault)
    return FaultPlan(faults)


class Bank(Protocol):
    """An architecture's system built on a :class:`World`, asked for processes one by one
    (what :meth:`Architecture.bank` returns: one process for a run, thousands for a day)."""

    def begin(self, process: Scenario, at: float = 0.0) -> None:
        """Have ``process`` (an instance of the world's scenario) start at time ``at``."""

    def read(self) -> RunState:
        """The state after the run (databases, queues, what is pending); before closing."""

    def verdict(self, process: Scenario, state: RunState,
                rows: ProcessRows | None = None) -> tuple[str, str]:
        """``process``'s outcome word and its sentence, after :meth:`read` (``rows``: its
        own rows of ``state``, when the caller grouped them already)."""


_BASELINES: OrderedDict[tuple[Any, ...], Run] = OrderedDict()
_BASELINE_LIMIT = 256


class Architecture(ABC):
    """How a system is built; ``run`` shows what a fault plan does to it.

    Subclasses set ``name``, ``title``, ``options`` (name -> default; the default's type
    is the option's type), ``option_help`` and ``default_node``, and implement
    :meth:`simulate`.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    options: ClassVar[Mapping[str, Any]] = {}
    option_help: ClassVar[Mapping[str, str]] = {}
    default_node: ClassVar[str] = "worker"

    def run(self, scenario: Scenario | str, faults: Any = None, seed: int = 0,
            **options: Any) -> Run:
        """Run ``scenario`` under ``faults``; :func:`durasim.api.run` judges the result.

        Raises:
            ScenarioError: unknown scenario, step, node or option, or a scenario this
                architecture does not run.
            TypeError: an option of the wrong type.
        """
        scenario = get_scenario(scenario)
        scenario.check_supported(self.name)
        plan = as_plan(faults)
        check_seed(seed)
        opts = self.check_options(options)
        with collector_paused():  # until the world is garbage: see Simulation.close
            return self.simulate(scenario, plan, seed, opts)

    def baseline(self, scenario: Scenario, seed: int, options: dict[str, Any]) -> Run:
        """The same run without faults (what "same outcome" compares with); cached."""
        key = (self.name, scenario, tuple(sorted(options.items())), seed)
        cached = _BASELINES.get(key)
        if cached is not None:
            _BASELINES.move_to_end(key)
            return cached
        with collector_paused():
            run = self.simulate(scenario, FaultPlan(), seed, options)
        _BASELINES[key] = run
        if len(_BASELINES) > _BASELINE_LIMIT:
            _BASELINES.popitem(last=False)
        return run

    def check_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Fill in defaults; refuse unknown options and wrong types with a sentence."""
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            valid = ", ".join(self.options) or "none"
            raise ScenarioError(f"the {self.name} architecture has no option {unknown[0]!r}; "
                                f"its options are: {valid}")
        merged = dict(self.options)
        for key, value in options.items():
            default = self.options[key]
            if isinstance(default, bool):
                good = isinstance(value, bool)
                kind = "True or False"
            elif isinstance(default, int):
                good = isinstance(value, int) and not isinstance(value, bool) and value >= 0
                kind = "a whole number >= 0"
            else:
                good = (isinstance(value, int | float) and not isinstance(value, bool)
                        and value > 0)
                kind = "a number of seconds > 0"
            if not good:
                raise TypeError(f"option {key!r} of the {self.name} architecture must be "
                                f"{kind}, got {value!r}")
            merged[key] = value
        return merged

    @abstractmethod
    def simulate(self, scenario: Scenario, plan: FaultPlan, seed: int,
                 options: dict[str, Any]) -> Run:
        """Build the system on a fresh :class:`World`, run it, and return the raw Run."""

    @abstractmethod
    def bank(self, world: World, options: dict[str, Any]) -> Bank:
        """Build the system on ``world`` (options already checked), ready for processes."""

    def play(self, world: World, bank: Bank, scenario: Scenario, *,
             history: bool = False) -> RunState:
        """Begin ``scenario``'s one process on ``bank``, run ``world`` to its end and read
        the bank; the world is closed whatever happens (what a run of one process is)."""
        bank.begin(scenario)
        world.check_plan(self.name, history=history)
        try:
            world.start()
            world.run()
            return bank.read()
        finally:
            world.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} options={dict(self.options)}>"
