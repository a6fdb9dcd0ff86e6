"""Linear where it should be (issue 17.8): fan-out with ctx.gather and duplicated messages.

- gather: one workflow gathers N activities through ``durasim.execute`` (N = 1k, 2k, 4k,
  8k); ``gather_scaling`` = t(8k) / t(4k) is 2 when the cost is linear (target <= 2.2).
- DuplicateMessage(copies=N), N = 1k and 10k: on the wire alone (a Network delivering N
  extra copies to a node that reads them all), and through ``durasim.run`` on the
  event-driven system (its broker queues and dispatches every copy) and on the durable
  one. Each ``duplicate_..._scaling`` = t(10k) / t(1k) is 10 when linear and 100 when
  quadratic; the copies wait together on the kernel's event heap, which adds a log factor.

Times are CPU seconds of this process (``time.process_time``), the best of three runs for
the quick cases. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from typing import Any

import durasim
from durasim import activity, workflow
from durasim.core import Simulation
from durasim.faults import DuplicateMessage, FaultPlan
from durasim.network import Network
from durasim.node import Node

GATHER_SIZES = (1_000, 2_000, 4_000, 8_000)
COPIES = (1_000, 10_000)
ARCHITECTURES = ("event_driven", "durable")


@activity
def echo(n: int) -> int:
    return n


@workflow
async def FanOut(ctx: durasim.WorkflowContext, n: int) -> int:
    results = await ctx.gather(*(ctx.activity(echo, i) for i in range(n)))
    return len(results)


def cpu_seconds(work: Callable[[], Any], repeat: int = 1) -> float:
    """Best CPU time of ``work``; the garbage of earlier cases is collected before each
    run, so no case pays for another's (a run leaves its objects in reference cycles)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def gather(n: int) -> None:
    run = durasim.execute(FanOut, n, id=f"fan-out-{n}", trace=False)
    assert run.result == n, run.status


def duplicates_on_the_wire(copies: int) -> None:
    sim = Simulation(seed=0, trace=False)
    net = Network(sim, faults=FaultPlan([DuplicateMessage(copies=copies)]))
    sender, receiver = Node(sim, "sender"), Node(sim, "receiver")
    net.attach(sender, receiver)
    received: list[int] = []

    async def read_all() -> None:
        while True:
            received.append((await receiver.inbox.get()).copy)

    receiver.spawn(read_all(), "read_all")
    net.send("sender", "receiver", "note", "hello")
    sim.run()
    assert len(received) == copies + 1


def duplicates_through(architecture: str, copies: int) -> None:
    run = durasim.run("transfer", architecture, DuplicateMessage(copies=copies))
    assert run.outcome in ("completed", "duplicated"), run.outcome


def main() -> None:
    figures: dict[str, float] = {}
    for n in GATHER_SIZES:
        figures[f"gather_{n}_s"] = round(cpu_seconds(lambda n=n: gather(n)), 3)
        print(f"gather {n:>5} activities: {figures[f'gather_{n}_s']:.3f} s", flush=True)
    figures["gather_scaling"] = round(figures["gather_8000_s"] / figures["gather_4000_s"], 2)

    cases: dict[str, Callable[[int], None]] = {"net": duplicates_on_the_wire}
    for architecture in ARCHITECTURES:
        durasim.run("transfer", architecture)  # the crash-free baseline, built once
        cases[architecture] = lambda c, a=architecture: duplicates_through(a, c)
    for name, case in cases.items():
        for copies in COPIES:
            seconds = cpu_seconds(lambda c=copies, f=case: f(c), repeat=3 if name == "net" else 1)
            figures[f"duplicate_{name}_{copies}_s"] = round(seconds, 4)
            print(f"DuplicateMessage {copies:>6} copies, {name}: {seconds:.4f} s", flush=True)
        figures[f"duplicate_{name}_scaling"] = round(
            figures[f"duplicate_{name}_10000_s"] / figures[f"duplicate_{name}_1000_s"], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
