"""Turning a fault plan into faults: crashes at times, at business steps, after events.

The fault points: architectures and the engine call :meth:`FaultInjector.at_step` at the
two points of every business step ("before_effect", "after_effect") and
:meth:`FaultInjector.activity_fails` before an activity's effect; the engine calls
:meth:`FaultInjector.history_grew` as its history grows. Only the injector decides whether
a fault fires there: nobody else matches steps or counts attempts. Each crash fires once.
Message faults are the network's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from durasim.core import NodeCrashed, Simulation
from durasim.faults import (
    Crash,
    DelayMessage,
    DropMessage,
    DuplicateMessage,
    FailActivity,
    FaultPlan,
    Partition,
)
from durasim.node import Node


class FaultInjector:
    """Fires the crash faults of a plan against named nodes.

    Args:
        sim: the simulation.
        plan: the fault plan.
        nodes: the nodes faults may name.
        step_names: step number -> name, so ``at_step=5`` and ``at_step="deposit"`` agree.
        default_node: the node a crash with ``node=None`` hits when no step names one.
    """

    def __init__(
        self, sim: Simulation, plan: FaultPlan, nodes: Mapping[str, Node],
        step_names: Mapping[int, str] | None = None, default_node: str = "worker",
    ) -> None:
        self.sim = sim
        self.plan = plan
        self.nodes = nodes
        self.step_names = dict(step_names or {})
        self.default_node = default_node
        self._pending: list[Crash] = plan.of(Crash)
        self._at_step = [f for f in self._pending if f.at_step is not None and f.ref is None]
        self._by_ref: dict[str, list[Crash]] = {}
        """Crashes that belong to one business process: a day carries thousands of them, so
        a step looks up its own process's instead of scanning them all."""
        for fault in self._pending:
            if fault.ref is not None:
                self._by_ref.setdefault(fault.ref, []).append(fault)
        self._after_events = [f for f in self._pending if f.after_events is not None]
        self._fail_activity = {f.name: f.attempts for f in plan.of(FailActivity)}
        self._calls: dict[tuple[str, str], int] = {}
        self.fired: list[tuple[float, Crash, str]] = []
        self.gone_for_good: set[str] = set()
        """Nodes the plan crashed with ``restart_after=None``: they never come back."""

    def arm(self) -> None:
        """Schedule the ``at_time`` crashes (call once, after the nodes exist)."""
        for fault in self._pending:
            if fault.at_time is not None:
                self.sim.schedule(max(0.0, fault.at_time - self.sim.now),
                                  partial(self.fire, fault, fault.node or self.default_node),
                                  kind="fault")

    def _same_step(self, wanted: int | str, step: int, name: str) -> bool:
        return wanted in (step, name)

    def at_step(self, node: str, step: int, name: str, when: str, *,
                claim_unnamed: bool = True, ref: str | None = None) -> None:
        """Crash ``node`` here if the plan says so; raises NodeCrashed inside its process.

        Args:
            claim_unnamed: whether a fault with ``node=None`` ("the node executing the
                step") means this node. A worker that only calls a service passes False,
                so the service that commits the effect is the one that crashes.
            ref: the business process taking the step, where the caller knows it (only
                then can a crash planned for one process, ``Crash(ref=...)``, fire).
        """
        fault = self.crash_point(node, step, name, when, claim_unnamed=claim_unnamed, ref=ref)
        if fault is not None:
            self.fire(fault, node)
            raise NodeCrashed(node, f"fault plan: step {step} {name} {when}")

    def crash_point(self, node: str, step: int, name: str, when: str, *,
                    claim_unnamed: bool = True, ref: str | None = None) -> Crash | None:
        """Like :meth:`at_step` but only answers which fault fits, without firing it."""
        for faults in (self._at_step, self._by_ref.get(ref, ()) if ref is not None else ()):
            for fault in faults:
                if (fault.when == when
                        and (fault.node == node or (fault.node is None and claim_unnamed))
                        and self._same_step(fault.at_step, step, name)):  # type: ignore[arg-type]
                    return fault
        return None

    def history_grew(self, events: int) -> None:
        """Fire ``after_events`` crashes once the history has ``events`` events."""
        if not self._after_events:  # the usual case, at every history event
            return
        for fault in self._pending:
            if fault.after_events is not None and events >= fault.after_events:
                self.fire(fault, fault.node or self.default_node)

    def fire(self, fault: Crash, node_name: str) -> None:
        """Crash ``node_name`` now and schedule its restart."""
        if fault not in self._pending:
            return
        self._pending.remove(fault)
        for index in (self._at_step, self._after_events, self._by_ref.get(fault.ref or "", [])):
            if fault in index:
                index.remove(fault)
        node = self.nodes.get(node_name)
        if node is None:
            return
        self.fired.append((self.sim.now, fault, node_name))
        if node.crash(reason=f"fault plan: {fault}"):
            if fault.restart_after is None:
                self.gone_for_good.add(node_name)
            else:
                self.sim.schedule(fault.restart_after, node.restart, kind="restart")

    def activity_fails(self, name: str, instance: str) -> bool:
        """Does this call of activity ``name`` fail? The one place ``FailActivity`` is decided.

        ``FailActivity(name, attempts)`` means the first ``attempts`` calls of each
        activity instance fail, on every architecture: the injector counts the calls per
        ``(name, instance)`` itself, so nobody else counts attempts.

        Args:
            name: the activity (the business step's name).
            instance: one activity of one process: the engine passes its idempotency key
                ``"<workflow id>/<activity id>"``, the services the business reference and
                step (:func:`activity_instance`).
        """
        attempts = self._fail_activity.get(name, 0)
        if not attempts:
            return False
        calls = self._calls[name, instance] = self._calls.get((name, instance), 0) + 1
        return calls <= attempts

    @property
    def unfired(self) -> list[Crash]:
        """Crash faults that never found their moment (reported, not hidden)."""
        return list(self._pending)


def unknown_nodes(plan: FaultPlan, nodes: Mapping[str, object], owner: str) -> str | None:
    """A sentence naming the first fault of ``plan`` that names a node ``owner`` (say "the
    durable architecture") does not have, or None when every node named exists.

    A crash of "mars" can never fire, so it is refused before the run, not reported after
    it as a crash that never found its moment.
    """
    for fault in plan:
        named: tuple[str | None, ...] = ()
        if isinstance(fault, Crash):
            named = (fault.node,)
        elif isinstance(fault, DropMessage | DuplicateMessage | DelayMessage):
            named = (fault.src, fault.dst)
        elif isinstance(fault, Partition):
            named = fault.nodes
        for node in named:
            if node is not None and node not in nodes:
                return (f"{fault!r} names node {node!r}, which {owner} does not have; "
                        f"its nodes: {', '.join(nodes)}")
    return None


def activity_instance(ref: str, name: str) -> str:
    """The instance a service's activity belongs to: one step of one business process."""
    return f"{ref}/{name}"
