"""The kernel: virtual time, ordering, determinism, stepping."""

from __future__ import annotations

import gc
import types
import warnings

import pytest

from durasim.core import URGENT, Simulation
from durasim.errors import ModelError
from durasim.network import Network
from durasim.node import Node


def random_model(seed: int, trace: bool = True) -> Simulation:
    """A small model whose course depends on the RNG: workers sleeping random times."""
    sim = Simulation(seed=seed, trace=trace)

    async def worker(name: str) -> int:
        done = 0
        for _ in range(5):
            await sim.timeout(sim.rng.expovariate(1.0))
            sim.record(name, "tick", n=done, coin=sim.rng.random() < 0.5)
            done += 1
        return done

    for i in range(4):
        sim.process(worker(f"w{i}"))
    sim.run()
    return sim


def ping_pong(seed: int) -> Simulation:
    """Two nodes exchanging messages over the network, ten rounds."""
    sim = Simulation(seed=seed)
    net = Network(sim)
    ping, pong = Node(sim, "ping"), Node(sim, "pong")
    net.attach(ping, pong)

    async def player(me: Node, other: str, serve: bool) -> None:
        if serve:
            net.send(me.name, other, "ball", 0)
        while True:
            msg = await me.inbox.get()
            if msg.payload >= 10:
                return
            net.send(me.name, other, "ball", msg.payload + 1)

    ping.spawn(player(ping, "pong", True))
    pong.spawn(player(pong, "ping", False))
    return sim


def test_timeouts_advance_virtual_time() -> None:
    sim = Simulation()

    async def sleeper() -> float:
        await sim.timeout(30 * 24 * 3600)
        return sim.now

    p = sim.process(sleeper())
    sim.run()
    assert p.value == 30 * 24 * 3600
    assert sim.now == 30 * 24 * 3600


def test_ties_break_by_priority_then_insertion_order() -> None:
    sim = Simulation()
    order: list[str] = []
    sim.schedule(1.0, lambda: order.append("a"))
    sim.schedule(1.0, lambda: order.append("b"))
    sim.schedule(1.0, lambda: order.append("urgent"), priority=URGENT)
    sim.schedule(0.5, lambda: order.append("early"))
    sim.run()
    assert order == ["early", "urgent", "a", "b"]


def test_awaiting_a_process_returns_its_value() -> None:
    sim = Simulation()

    async def child(x: int) -> int:
        await sim.timeout(1)
        return x * 2

    async def parent() -> int:
        return await sim.process(child(21))

    p = sim.process(parent())
    sim.run()
    assert p.value == 42


def test_an_exception_escaping_a_process_is_a_model_error_not_a_quiet_failure() -> None:
    """A bug in model code stops the run loudly, chained to the original exception."""
    sim = Simulation()

    async def child() -> None:
        await sim.timeout(2)
        raise ValueError("negative")

    sim.process(child(), "child")
    with pytest.raises(ModelError, match=r"'child' at t=2s: ValueError: negative") as caught:
        sim.run()
    assert (caught.value.process, caught.value.node, caught.value.time) == ("child", "", 2.0)
    assert isinstance(caught.value.__cause__, ValueError)


def test_events_wake_every_waiter_with_the_value() -> None:
    sim = Simulation()
    gate = sim.event()
    got: list[object] = []

    async def waiter() -> None:
        got.append(await gate)

    sim.process(waiter())
    sim.process(waiter())
    sim.schedule(3.0, lambda: gate.succeed("open"))
    sim.run()
    assert got == ["open", "open"]
    assert sim.now == 3.0


def test_awaiting_an_already_processed_event_returns_at_once() -> None:
    sim = Simulation()
    done = sim.event().succeed(7)
    sim.run()

    async def late() -> object:
        return await done

    p = sim.process(late())
    sim.run()
    assert p.value == 7


def test_run_until_and_max_steps_stop_early() -> None:
    sim = Simulation()
    for t in range(10):
        sim.schedule(float(t), lambda: None)
    assert sim.run(until=4.5) == 5
    assert sim.now == 4.5
    assert sim.peek() == 5.0
    assert sim.run(max_steps=2) == 2
    assert sim.now == 6.0


def test_step_processes_exactly_one_event() -> None:
    sim = Simulation()
    sim.schedule(1.0, lambda: None, kind="first")
    sim.schedule(2.0, lambda: None, kind="second")
    assert sim.step().kind == "first"
    assert sim.now == 1.0
    assert sim.step().kind == "second"
    with pytest.raises(IndexError, match="finished"):
        sim.step()


def test_negative_delays_are_refused_with_a_sentence() -> None:
    sim = Simulation()
    with pytest.raises(ValueError, match="negative"):
        sim.timeout(-1)
    with pytest.raises(ValueError, match="past"):
        sim.schedule(-1, lambda: None)


def test_same_seed_same_digest_over_a_thousand_runs() -> None:
    digests = {}
    for seed in range(1000):
        first = random_model(seed).trace.digest()
        assert random_model(seed).trace.digest() == first, f"seed {seed} is not deterministic"
        digests[seed] = first
    assert len(set(digests.values())) == 1000, "different seeds must give different traces"


def test_stepping_matches_a_prefix_of_the_full_run() -> None:
    full = ping_pong(seed=3)
    full.run()
    expected = full.trace.events
    stepped = ping_pong(seed=3)
    n = 0
    while stepped.peek() != float("inf"):
        stepped.step()
        n += 1
        assert stepped.trace.events == expected[: len(stepped.trace)], f"differs after step {n}"
    assert stepped.trace.digest() == full.trace.digest()
    assert n == full.steps


def test_the_untraced_run_counts_the_same_steps_as_the_traced_one() -> None:
    traced, untraced = random_model(7), random_model(7, trace=False)
    assert untraced.steps == traced.steps == len(traced.trace) - len(
        traced.trace.filter(semantic=True))
    assert untraced.now == traced.now


def test_priorities_and_insertion_order_hold_at_one_instant_among_many() -> None:
    sim = Simulation()
    order: list[tuple[str, int]] = []
    for n in range(50):
        sim.schedule(2.0, lambda n=n: order.append(("normal", n)))
        sim.schedule(2.0, lambda n=n: order.append(("urgent", n)), priority=URGENT)
    sim.schedule(1.0, lambda: order.append(("earlier", 0)))
    sim.run()
    assert order == ([("earlier", 0)] + [("urgent", n) for n in range(50)]
                     + [("normal", n) for n in range(50)])


def test_a_closed_simulation_whose_processes_never_started_warns_about_nothing() -> None:
    # A run stopped at a horizon (or given up on) can leave a process whose start is still
    # on the heap: its coroutine never started, and Python warns "coroutine ... was never
    # awaited" when it is collected, in a student's notebook. Without close(), it does.
    sim = Simulation()
    node = Node(sim, "worker")

    async def later(clock: Simulation) -> None:
        await clock.timeout(1.0)

    sim.process(later(sim))
    node.spawn(later(sim), "activity")
    sim.run(until=0.0, max_steps=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sim.close()
        del sim, node
        gc.collect()
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []


def _reachable(root: object) -> set[int]:
    """Ids of the objects reachable from ``root`` (not through classes, modules or code)."""
    seen, todo = {id(root)}, [root]
    while todo:
        for found in gc.get_referents(todo.pop()):
            if id(found) in seen or isinstance(found, type | types.ModuleType | types.CodeType
                                                              | types.FunctionType):
                continue
            seen.add(id(found))
            todo.append(found)
    return seen


def test_a_closed_simulations_trace_reads_the_same_and_keeps_nothing_of_the_model() -> None:
    # A Run keeps its trace; if the trace kept the callbacks it woke, it would keep the
    # whole model alive with it, and the collector would walk it pass after pass.
    sim = Simulation(seed=3)
    node = Node(sim, "worker")

    async def work(clock: Simulation) -> None:
        await clock.timeout(1.0)
        clock.record("worker", "done")

    node.spawn(work(sim), "work")
    sim.run()
    trace = sim.trace
    events, digest, as_json = trace.events, trace.digest(), trace.to_json()
    assert "worker" in [e.node for e in events if not e.fields]  # a kernel step, named
    assert id(sim) in _reachable(trace)
    sim.close()
    assert (trace.events, trace.digest(), trace.to_json()) == (events, digest, as_json)
    assert id(sim) not in _reachable(trace)
