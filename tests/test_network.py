"""The network: latency, FIFO links, drop / duplicate / delay / partition faults."""

from __future__ import annotations

from typing import Any

import pytest

from durasim.core import Simulation
from durasim.faults import DelayMessage, DropMessage, DuplicateMessage, FaultPlan, Partition
from durasim.network import Network
from durasim.node import Node


def deliveries(plan: FaultPlan, n: int = 5, reorder: bool = False, seed: int = 0
               ) -> tuple[list[Any], Simulation]:
    sim = Simulation(seed=seed)
    net = Network(sim, faults=plan, reorder=reorder, latency=(0.001, 0.5))
    a, b = Node(sim, "a"), Node(sim, "b")
    net.attach(a, b)
    got: list[Any] = []

    async def sender() -> None:
        for i in range(n):
            net.send("a", "b", "note", i, step=i + 1)
            await sim.timeout(0.01)

    async def receiver() -> None:
        while True:
            got.append((await b.inbox.get()).payload)

    a.spawn(sender())
    b.spawn(receiver())
    sim.run(until=100)
    return got, sim


def test_links_are_fifo_by_default() -> None:
    got, _ = deliveries(FaultPlan())
    assert got == [0, 1, 2, 3, 4]


def test_reorder_lets_messages_overtake() -> None:
    orders = {tuple(deliveries(FaultPlan(), n=8, reorder=True, seed=s)[0]) for s in range(10)}
    assert any(list(o) != sorted(o) for o in orders)
    assert all(sorted(o) == list(range(8)) for o in orders)


def test_drop_the_nth_matching_message() -> None:
    got, sim = deliveries(FaultPlan([DropMessage(message="note", nth=2)]))
    assert got == [0, 2, 3, 4]
    assert [e.fields["reason"] for e in sim.trace.filter(kind="drop")] == ["fault plan"]


def test_drop_by_step() -> None:
    got, _ = deliveries(FaultPlan([DropMessage(step=5)]))
    assert got == [0, 1, 2, 3]


def test_duplicate_delivers_extra_copies() -> None:
    got, _ = deliveries(FaultPlan([DuplicateMessage(nth=1, copies=2)]))
    assert got == [0, 0, 0, 1, 2, 3, 4]


def test_delay_holds_a_message_back() -> None:
    got, _ = deliveries(FaultPlan([DelayMessage(nth=1, by=30.0)]), reorder=True)
    assert got[-1] == 0 and sorted(got) == [0, 1, 2, 3, 4]


def test_partition_cuts_messages_inside_its_window() -> None:
    got, sim = deliveries(FaultPlan([Partition(("b",), start=0.015, end=0.035)]))
    assert got == [0, 1, 4]  # sent at 0.02 and 0.03: inside the window
    assert all(e.fields["reason"] == "partition" for e in sim.trace.filter(kind="drop"))


def test_messages_to_a_crashed_node_are_lost() -> None:
    sim = Simulation()
    net = Network(sim)
    a, b = Node(sim, "a"), Node(sim, "b")
    net.attach(a, b)
    b.crash()
    net.send("a", "b", "hello")
    sim.run()
    assert [e.fields["reason"] for e in sim.trace.filter(kind="lost")] == ["receiver down"]
    assert net.lost == 1 and net.delivered == 0


def test_unknown_destination_and_bad_latency_are_refused() -> None:
    sim = Simulation()
    net = Network(sim)
    with pytest.raises(ValueError, match="unknown node"):
        net.send("a", "nowhere", "x")
    with pytest.raises(ValueError, match="latency"):
        Network(sim, latency=(2.0, 1.0))
