"""One accounting of money, for the checks and for every picture.

"Money in flight: 25" on a graph beside "Money was destroyed" in the checks is a false
lesson, so nobody counts money but :func:`money`: the checks, the system graph, the
balances chart and CrashLab all read the same :class:`Money`.

Money that left the accounts is *in flight* only while it is visibly on its way: at the
end of a run, only the amounts of business processes still pending somewhere (a queue,
an outbox, a workflow) count; the rest is destroyed (or, if the accounts hold more than
they started with, created). Before the end, nobody can know yet: money out of the
accounts is just that, and only money already created is called so.

Balances at an instant come from the databases' postings (the run's
:class:`~durasim.architectures.state.RunState`) timed by the trace:
a posting row says which effect moved the money but not when; the trace's ``effect``
records say when each step's effects committed on each node, in order, so the k-th
effect of step s on node n is the k-th effect row of (n, s).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from durasim.architectures.state import Posting, RunState

if TYPE_CHECKING:
    from durasim.architectures.base import Run


@dataclass(frozen=True)
class Movement:
    """Money moving: ``delta`` on ``account`` at virtual time ``time`` (by ``step``)."""

    time: float
    account: str
    delta: int
    step: Any = None


@dataclass(frozen=True)
class Money:
    """Where a run's money is at one instant.

    Attributes:
        total: what the accounts held at the start.
        held: what they hold at this instant.
        in_flight: visibly on its way (at the end: its process is still pending); before
            the end, everything out of the accounts that was not created.
        missing: destroyed when > 0, created when < 0; always 0 before the end of the run
            unless money was already created.
        where: where the in-flight money waits (at the end), for sentences.
        final: True when this is the end of the run (what the checks judge).
    """

    total: int
    held: int
    in_flight: int
    missing: int
    where: tuple[str, ...] = ()
    final: bool = True

    @property
    def out(self) -> int:
        """Money not in any account (negative: the accounts hold more than the start)."""
        return self.total - self.held

    @property
    def destroyed(self) -> int:
        """Money that is gone for good (0 when none)."""
        return max(0, self.missing)

    @property
    def created(self) -> int:
        """Money that appeared from nowhere (0 when none)."""
        return max(0, -self.missing)


def movements(run: Run) -> list[Movement]:
    """Every posting of every database, in time order (see the module's docstring).

    Raises:
        TypeError: ``run`` is not a Run from ``durasim.run`` (it has no databases).
    """
    state = getattr(run, "state", None)
    if not isinstance(state, RunState):
        raise TypeError("balances need a Run from durasim.run(...), which reads the bank's "
                        f"databases; got {type(run).__name__}")
    step_of = {(e.service, e.id): e.step for e in state.effects}
    groups: dict[tuple[str, int | None], list[Posting]] = defaultdict(list)
    for posting in state.postings:
        groups[(posting.service, step_of.get((posting.service, posting.effect_id)))].append(
            posting)
    when: dict[tuple[Any, Any], list[float]] = defaultdict(list)
    events = run.trace.filter(semantic=True)
    for event in events:
        if event.kind == "step" and event.fields.get("phase") == "effect":
            when[(event.node, event.fields.get("step"))].append(event.time)
    end = events[-1].time if events else 0.0
    found = []
    for key, postings in groups.items():
        ids = sorted({p.effect_id for p in postings})
        times = when.get(key, [])
        for posting in postings:
            k = ids.index(posting.effect_id)
            time = times[k] if k < len(times) else (times[-1] if times else end)
            found.append(Movement(time, posting.account, posting.delta, key[1]))
    found.sort(key=lambda m: m.time)
    return found


def balances_at(run: Run, at: float | None = None) -> dict[str, int]:
    """Account -> balance at virtual time ``at`` (the final balances when None)."""
    if at is None:
        return dict(run.state.balances)
    balances = dict(run.scenario.accounts)
    for move in movements(run):
        if move.time > at:
            break
        balances[move.account] = balances.get(move.account, 0) + move.delta
    return balances


def end_of(run: Run) -> float:
    """The virtual time of the run's last recorded event."""
    events = run.trace.filter(semantic=True)
    return events[-1].time if events else 0.0


def money(run: Run, at: float | None = None) -> Money:
    """The run's money at virtual time ``at`` (the end of the run when None)."""
    total = int(run.scenario.total_money)
    held = sum(balances_at(run, at).values())
    out = total - held
    if at is not None and at < end_of(run):
        return Money(total, held, max(0, out), min(0, out), final=False)
    pending = {p.ref: p for p in run.state.pending}
    limbo = by_reference(run)
    in_flight = sum(amount for ref, amount in limbo.items() if ref in pending)
    where = tuple(sorted({pending[ref].where for ref, amount in limbo.items()
                          if amount and ref in pending}))
    return Money(total, held, in_flight, out - in_flight, where)


def by_reference(run: Run) -> dict[str, int]:
    """Business reference -> the money its process took out of the accounts and did not
    put back: 0 for a transfer that moved its money (or none), > 0 for money on its way
    or destroyed, < 0 for money created (a deposit applied twice).

    Only references whose postings moved money appear.
    """
    limbo: dict[str, int] = defaultdict(int)
    for posting in run.state.postings:
        limbo[posting.ref] -= posting.delta
    return dict(limbo)


def created_and_destroyed(run: Run) -> tuple[int, int]:
    """(money created, money destroyed) summed process by process.

    One total hides what a run of many processes did (a bank's day): a deposit applied
    twice in one transfer and a deposit never made in another cancel out in
    :func:`money`'s ``missing``; here each counts. Money of processes still pending is in
    flight, neither created nor destroyed.
    """
    pending = {p.ref for p in run.state.pending}
    created = destroyed = 0
    for ref, amount in by_reference(run).items():
        if amount < 0:
            created -= amount
        elif amount > 0 and ref not in pending:
            destroyed += amount
    return created, destroyed
