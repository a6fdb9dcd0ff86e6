"""Crash = a node loses its memory; its durable store survives."""

from __future__ import annotations

import pytest

from durasim.core import NodeCrashed, Simulation
from durasim.node import Node


def test_crash_drops_running_coroutine_and_volatile_state_restart_keeps_durable() -> None:
    sim = Simulation()
    durable: list[int] = []
    node = Node(sim, "counter", durable=durable)
    progress: list[str] = []

    async def count(me: Node) -> None:
        progress.append(f"start #{me.incarnation}")
        me.volatile["seen"] = len(durable)
        while len(durable) < 6:
            await sim.timeout(1.0)
            durable.append(len(durable))
            progress.append(f"wrote {durable[-1]}")
        progress.append("finished")

    node.on_start = lambda me: me.spawn(count(me), "count")
    node.start()
    sim.schedule(2.5, lambda: node.crash("test"))
    sim.schedule(10.0, node.restart)
    sim.run()
    # Before the crash it wrote 0 and 1; the coroutine never resumed while down (2.5-10).
    assert progress[:3] == ["start #1", "wrote 0", "wrote 1"]
    assert progress[3] == "start #2"
    assert durable == [0, 1, 2, 3, 4, 5]
    assert progress[-1] == "finished"
    kinds = [e.kind for e in sim.trace.filter(node="counter", semantic=True)]
    assert kinds == ["node_start", "crash", "restart"]
    # Nothing the node did is recorded between the crash and the restart (its pending timer
    # still pops off the kernel's heap at 3.0, but wakes nobody).
    assert not [e for e in sim.trace.filter(node="counter", semantic=True)
                if 2.5 < e.time < 10.0]
    assert [p for p in progress if p.startswith("wrote")][2:3] == ["wrote 2"]
    assert sim.trace.filter(node="counter", kind="timeout")[2].time == 3.0
    assert node.volatile == {"seen": 2}
    assert node.incarnation == 2


def test_crash_raised_inside_code_is_not_swallowed_by_except_exception() -> None:
    sim = Simulation()
    node = Node(sim, "svc")
    reached: list[str] = []

    async def careless() -> None:
        try:
            raise NodeCrashed("svc", "injected")
        except Exception:  # user code trying to be safe
            reached.append("swallowed")
        reached.append("continued")

    node.spawn(careless())
    sim.run()
    assert reached == []
    assert not node.up
    assert node.crashes == 1


def test_a_crashed_node_refuses_new_work_and_messages_are_lost() -> None:
    sim = Simulation()
    node = Node(sim, "svc")
    node.crash()
    assert not node.crash(), "crashing a dead node is a no-op"

    async def work() -> None:
        await sim.timeout(1)

    with pytest.raises(RuntimeError, match="down"):
        node.spawn(work())


def test_a_crash_in_a_process_of_no_node_only_ends_that_process() -> None:
    sim = Simulation()
    after: list[str] = []

    async def orphan() -> None:
        await sim.timeout(1)
        raise NodeCrashed("nowhere", "injected")

    async def bystander() -> None:
        await sim.timeout(2)
        after.append("ran")

    process = sim.process(orphan())
    sim.process(bystander())
    sim.run()  # no ModelError: a simulated crash is a fault, not a bug
    assert not process.alive and not process.triggered, "a crash is not a result"
    assert after == ["ran"]


def test_the_trace_names_the_node_whose_process_a_kernel_step_woke() -> None:
    sim = Simulation()
    node = Node(sim, "svc")

    async def nap() -> None:
        await sim.timeout(1)

    node.spawn(nap(), "nap")
    sim.run()
    assert {e.node for e in sim.trace if e.kind == "timeout"} == {"svc"}
