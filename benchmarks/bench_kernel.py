"""Kernel speed against SimPy: 100 processes each awaiting 10,000 timeouts.

Both models run in this one process, alternately, best of seven, so machine noise hits
both; each run is timed in CPU seconds of this process (``time.process_time``), so other
programs sharing the machine do not count against either. The last line is one JSON
object: durasim_per_s, simpy_per_s, ratio (tracing off), ratio_traced (full trace on),
rounds. Targets: ratio >= 1.0, ratio_traced >= 0.5.
"""

from __future__ import annotations

import json
import time

import simpy

from durasim.core import Simulation

PROCESSES, TIMEOUTS, ROUNDS = 100, 10_000, 7


def simpy_rate() -> float:
    env = simpy.Environment()

    def proc(env: simpy.Environment):  # type: ignore[no-untyped-def]
        for _ in range(TIMEOUTS):
            yield env.timeout(1)

    for _ in range(PROCESSES):
        env.process(proc(env))
    start = time.process_time()
    env.run()
    return PROCESSES * TIMEOUTS / (time.process_time() - start)


def durasim_rate(trace: bool) -> float:
    sim = Simulation(seed=0, trace=trace)

    async def proc() -> None:
        for _ in range(TIMEOUTS):
            await sim.timeout(1)

    for _ in range(PROCESSES):
        sim.process(proc())
    start = time.process_time()
    sim.run()
    return PROCESSES * TIMEOUTS / (time.process_time() - start)


def main() -> None:
    best: dict[str, float] = {"simpy": 0.0, "durasim": 0.0, "traced": 0.0}
    for round_ in range(ROUNDS):
        best["simpy"] = max(best["simpy"], simpy_rate())
        best["durasim"] = max(best["durasim"], durasim_rate(trace=False))
        best["traced"] = max(best["traced"], durasim_rate(trace=True))
        print(f"round {round_ + 1}: " + ", ".join(f"{k} {v:,.0f}/s" for k, v in best.items()))
    print(json.dumps({
        "durasim_per_s": round(best["durasim"]),
        "simpy_per_s": round(best["simpy"]),
        "ratio": round(best["durasim"] / best["simpy"], 3),
        "ratio_traced": round(best["traced"] / best["simpy"], 3),
        "rounds": ROUNDS,
    }))


if __name__ == "__main__":
    main()
