"""Kernel speed against SimPy: 100 processes each awaiting 10,000 timeouts.

Both models run in this one process, alternately, best of three, so machine noise hits
both. The last line is one JSON object: durasim_per_s, simpy_per_s, ratio (tracing off),
ratio_traced (full trace on). Targets: ratio >= 1.0, ratio_traced >= 0.5.
"""

from __future__ import annotations

import json
import time

import simpy

from durasim.core import Simulation

PROCESSES, TIMEOUTS = 100, 10_000


def simpy_rate() -> float:
    env = simpy.Environment()

    def proc(env: simpy.Environment):  # type: ignore[no-untyped-def]
        for _ in range(TIMEOUTS):
            yield env.timeout(1)

    for _ in range(PROCESSES):
        env.process(proc(env))
    start = time.perf_counter()
    env.run()
    return PROCESSES * TIMEOUTS / (time.perf_counter() - start)


def durasim_rate(trace: bool) -> float:
    sim = Simulation(seed=0, trace=trace)

    async def proc() -> None:
        for _ in range(TIMEOUTS):
            await sim.timeout(1)

    for _ in range(PROCESSES):
        sim.process(proc())
    start = time.perf_counter()
    sim.run()
    return PROCESSES * TIMEOUTS / (time.perf_counter() - start)


def main() -> None:
    best: dict[str, float] = {"simpy": 0.0, "durasim": 0.0, "traced": 0.0}
    for round_ in range(3):
        best["simpy"] = max(best["simpy"], simpy_rate())
        best["durasim"] = max(best["durasim"], durasim_rate(trace=False))
        best["traced"] = max(best["traced"], durasim_rate(trace=True))
        print(f"round {round_ + 1}: " + ", ".join(f"{k} {v:,.0f}/s" for k, v in best.items()))
    print(json.dumps({
        "durasim_per_s": round(best["durasim"]),
        "simpy_per_s": round(best["simpy"]),
        "ratio": round(best["durasim"] / best["simpy"], 3),
        "ratio_traced": round(best["traced"] / best["simpy"], 3),
    }))


if __name__ == "__main__":
    main()
