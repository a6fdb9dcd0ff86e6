"""Engine speed: simulated transfers per second, SQLite-backed transfers against DBOS on
SQLite (same machine, same run), and replay of a 51,200-event history (Temporal's limit).

Last line: one JSON object with transfers_per_s, transfers_per_cpu_s (the same transfers
per second of this process's CPU time: the steadier figure when others share the
machine), bare_messages_us (the floor under any transfer: 30 messages, as many as a
transfer sends, between two nodes of a fresh simulation with no engine at all, in CPU
microseconds; at 5,000 transfers a second a whole transfer has 200), sqlite_transfers_per_s,
dbos_transfers_per_s (when dbos is installed), replay_51200_s, replay_scaling and, when
the temporal extra is installed and a dev server starts, temporal_transfers_per_s (the same
six-step BenchTransfer on a real dev server, one at a time) and vs_temporal. Targets
(issue 3 and 8): transfers_per_s >= 20,000; sqlite >= 2 x DBOS; replay_51200_s <= 0.25;
replay_scaling <= 2.2. Issue 16: transfers_per_s >= 5,000, replay_51200_s <= 0.1,
replay_scaling <= 2.1.

``--against REV`` measures the same transfers on git revision REV of this repository too,
in the same run (its ``durasim`` exported to a temporary folder and imported first in a
subprocess), alternating with this tree: ``baseline_transfers_per_s`` and ``speedup``
are then in the JSON (CPU-time rates: the machine may be shared; both are best of
several rounds).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import durasim
from durasim import SQLiteStore, activity, workflow
from durasim.engine.definitions import workflow_definition

STEPS = ("validate", "fraud_check", "withdraw", "record_ledger", "deposit", "notify")


@activity
def bank_step(name: str, amount: int) -> str:
    return f"{name} {amount}"


@workflow
async def BenchTransfer(ctx: durasim.engine.WorkflowContext, amount: int) -> str:
    for name in STEPS:
        await ctx.activity(bank_step, name, amount)
    return "done"


@workflow
async def LongWorkflow(ctx: durasim.engine.WorkflowContext, activities: int) -> int:
    for i in range(activities):
        await ctx.activity(bank_step, "step", i)
    return activities


def rate(fn: Any, n: int, clock: Any = time.perf_counter) -> float:
    """Calls of ``fn`` per second of ``clock`` (wall time by default; ``time.process_time``
    counts only this process's CPU, steadier on a machine others share)."""
    start = clock()
    for i in range(n):
        fn(i)
    return n / (clock() - start)


def memory_rate(n: int = 2000, clock: Any = time.perf_counter) -> float:
    return rate(lambda i: durasim.execute(BenchTransfer, i, id=f"t{i}", trace=False), n,
                clock)


def bare_messages_us(transfers: int = 2000, messages: int = 30) -> float:
    """CPU microseconds for ``messages`` messages bounced between two nodes of a fresh
    simulation (kernel and network only: no server, worker, history or workflow code),
    best of five rounds of ``transfers``."""
    from durasim.core import Simulation
    from durasim.network import Message, Network
    from durasim.node import Node

    def one() -> None:
        sim = Simulation(seed=0, trace=False)
        net = Network(sim)
        nodes = Node(sim, "a"), Node(sim, "b")
        net.attach(*nodes)
        sent = [1]

        def bounce(message: Message) -> None:
            if sent[0] < messages:
                sent[0] += 1
                net.send(message.dst, message.src, "m", None)

        for node in nodes:
            node.handler = bounce
        net.send("a", "b", "m", None)
        sim.run()

    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(transfers):
            one()
        best = min(best, time.process_time() - start)
    return 1e6 * best / transfers


def sqlite_rate(n: int = 300) -> float:
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "bench.db")
        result = rate(lambda i: durasim.execute(BenchTransfer, i, id=f"t{i}", store=store,
                                                trace=False), n)
        store.close()
    return result


def dbos_rate(n: int = 100) -> float | None:
    try:
        from dbos import DBOS
    except ImportError:
        return None
    logging.getLogger("dbos").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        DBOS(config={"name": "durasim-bench",
                     "system_database_url": f"sqlite:///{folder}/dbos.sqlite"})

        @DBOS.step()
        def step(name: str, amount: int) -> str:
            return f"{name} {amount}"

        @DBOS.workflow()
        def transfer(amount: int) -> str:
            for name in STEPS:
                step(name, amount)
            return "done"

        DBOS.launch()
        try:
            transfer(0)  # warm up
            result = rate(transfer, n)
        finally:
            DBOS.destroy()
    return result


def replay_seconds(events: int) -> float:
    activities = (events - 5) // 6
    run = durasim.execute(LongWorkflow, activities, trace=False)
    history = run.history
    replayer = durasim.Replayer(workflows=[LongWorkflow])
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        replayer.replay(history)
        best = min(best, time.perf_counter() - start)
    print(f"replay of {len(history)} events: {best:.3f} s", file=sys.stderr)
    return best


def temporal_transfers_per_s(server: Any, n: int = 30, *, concurrency: int = 1,
                             task_queue: str = "durasim-bench") -> float:
    """BenchTransfer runs per second that a real Temporal dev server completes.

    The same workflow and activity the simulated figure runs, served by one durasim worker
    on the real SDK; after one warm-up run, ``n`` runs are started and awaited,
    ``concurrency`` at a time (1: one after another, like the simulated benchmark).
    """
    from durasim.bridges.temporal import durasim_worker

    if n < 1 or concurrency < 1:
        raise ValueError("n and concurrency must be at least 1")
    name = workflow_definition(BenchTransfer).name
    prefix = f"bench-{uuid.uuid4().hex[:8]}"  # never reuse an id on a long-lived server

    async def bench() -> float:
        client = await server.connect()
        async with durasim_worker(client, workflows=[BenchTransfer], activities=[bank_step],
                                  task_queue=task_queue):
            gate = asyncio.Semaphore(concurrency)

            async def one(i: int) -> None:
                async with gate:
                    handle = await client.start_workflow(name, args=[100], id=f"{prefix}-{i}",
                                                         task_queue=task_queue)
                    await handle.result()

            await one(-1)  # warm-up: connections, the worker's first poll
            began = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(n)))
            return n / (time.perf_counter() - began)

    return asyncio.run(bench())


def temporal_rate() -> float | None:
    try:
        from durasim.bridges.temporal import TemporalDevServer, require_temporalio

        require_temporalio()
    except Exception as missing:  # no temporal extra here: report, don't fail the benchmark
        print(f"temporal: not measured ({missing})", file=sys.stderr)
        return None
    try:
        with TemporalDevServer() as server:
            return temporal_transfers_per_s(server)
    except Exception as error:  # no server here: report, don't fail the benchmark
        print(f"temporal: not measured ({error})", file=sys.stderr)
        return None


REPO = Path(__file__).resolve().parents[1]


def rate_of_tree(tree: Path, n: int = 1000) -> float:
    """BenchTransfer runs per second with the ``durasim`` found in ``tree``, in a fresh
    process (this very script, asked for that one figure)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, __file__, "--memory-rate", str(n)], env=env,
                         check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def against(rev: str, rounds: int = 3) -> tuple[float, float]:
    """(best rate of revision ``rev``, best rate of this tree), measured alternately."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "durasim"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        old = new = 0.0
        for _ in range(rounds):
            old = max(old, rate_of_tree(Path(folder)))
            new = max(new, rate_of_tree(REPO))
    return old, new


def main() -> None:
    if sys.argv[1:2] == ["--memory-rate"]:  # one figure, for --against's subprocesses
        assert Path(durasim.__file__).resolve().is_relative_to(
            Path(os.environ.get("PYTHONPATH", REPO)).resolve()), durasim.__file__
        memory_rate(100)  # warm up
        print(max(memory_rate(int(sys.argv[2]), time.process_time) for _ in range(2)))
        return
    figures: dict[str, Any] = {}
    if sys.argv[1:2] == ["--against"]:
        old, new = against(sys.argv[2])
        figures.update(baseline=sys.argv[2], baseline_transfers_per_s=round(old),
                       transfers_per_s=round(new), speedup=round(new / old, 2))
        print(f"memory: {sys.argv[2]} {old:.0f}/s, this tree {new:.0f}/s", file=sys.stderr)
    else:
        figures["transfers_per_s"] = round(max(memory_rate() for _ in range(2)))
        print(f"memory: {figures['transfers_per_s']}/s", file=sys.stderr)
    figures["transfers_per_cpu_s"] = round(max(memory_rate(1000, time.process_time)
                                               for _ in range(2)))
    figures["bare_messages_us"] = round(bare_messages_us())
    figures["sqlite_transfers_per_s"] = round(sqlite_rate())
    dbos = dbos_rate()
    if dbos is not None:
        figures["dbos_transfers_per_s"] = round(dbos, 1)
        figures["sqlite_vs_dbos"] = round(figures["sqlite_transfers_per_s"] / dbos, 2)
    half = replay_seconds(25_600)
    full = replay_seconds(51_200)
    figures["replay_51200_s"] = round(full, 4)
    figures["replay_scaling"] = round(full / half, 3)
    temporal = temporal_rate()
    if temporal is not None:
        figures["temporal_transfers_per_s"] = round(temporal, 1)
        figures["vs_temporal"] = round(figures["transfers_per_s"] / temporal, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
