"""How fast property 3 (crash equivalence) checks crash plans on the durable transfer.

Hypothesis generates crash plans (up to three crashes on the worker, the server or a bank
service, before or after effects, plus message faults) exactly as
``tests/properties/test_crash_equivalence.py`` does, and every plan is run on the durable
architecture with idempotent activities and compared with the crash-free run. The rate
counts whole checks: generating the plan, simulating the transfer with its SQLite service
databases, and comparing states. The seed is fixed (the test varies it too) so that what
is measured is plans, not the crash-free twin each new seed needs once.

Run ``python benchmarks/bench_properties.py [N]``; the last line is one JSON object with
``schedules_per_s`` (target >= 200), measured with one worker process per CPU (start-up
included), plus ``schedules_per_s_one_process``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, seed, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from durasim.api import run
from durasim.architectures import get_architecture
from durasim.faults import FaultPlan
from durasim.scenarios import get_scenario
from durasim.strategies import fault_plans

OPTIONS = {"idempotent_activities": True}


def _counts(rows: Sequence[Any], *keys: str) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(getattr(row, k) for k in keys) for row in rows)


def check(plan: FaultPlan, sim_seed: int) -> None:
    """Property 3 for one plan: the faulted run ends as the crash-free one."""
    result = run("transfer", "durable", plan, seed=sim_seed, **OPTIONS)
    durable = get_architecture("durable")
    baseline = durable.baseline(get_scenario("transfer"), sim_seed,
                                durable.check_options(OPTIONS))
    assert result.outcome == baseline.outcome and result.balances == baseline.balances
    assert sum(result.balances.values()) == result.scenario.total_money
    for table, keys in (("effects", ("service", "ref", "name")),
                        ("postings", ("account", "delta"))):
        assert (_counts(getattr(result.state, table), *keys)
                == _counts(getattr(baseline.state, table), *keys)), plan
    assert result.checks.ok, plan


def measure(examples: int, worker: int = 0) -> tuple[int, float]:
    """Check ``examples`` generated plans; returns (checked, seconds)."""
    checked = [0]

    @seed(worker)
    @settings(max_examples=examples, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(plan=fault_plans("transfer", max_crashes=3, architecture="durable"))
    def prop(plan: FaultPlan) -> None:
        check(plan, 0)
        checked[0] += 1

    start = time.perf_counter()
    prop()
    return checked[0], time.perf_counter() - start


def main() -> None:
    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    measure(20)  # warm up: imports, the SQLite template, caches
    one, one_s = measure(examples)
    workers = os.cpu_count() or 1
    start = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        done = list(pool.map(measure, [examples] * workers, range(1, workers + 1)))
    wall = time.perf_counter() - start
    total = sum(n for n, _ in done)
    print(f"one process: {one} plans in {one_s:.2f} s; {workers} processes: {total} plans "
          f"in {wall:.2f} s (including process start-up)")
    print(json.dumps({"schedules_per_s": round(total / wall, 1),
                      "schedules_per_s_one_process": round(one / one_s, 1),
                      "workers": workers, "plans": one + total}))


if __name__ == "__main__":
    main()
