"""How fast property 3 (crash equivalence) checks crash plans on the durable transfer.

Hypothesis generates crash plans (up to three crashes on the worker, the server or a bank
service, before or after effects, plus message faults) exactly as
``tests/properties/test_crash_equivalence.py`` does (in batches of up to eight distinct plans
per hypothesis example, which halves hypothesis's share; a repeated plan would be the
same check counted twice), and every plan is run on the durable
architecture with idempotent activities and compared with the crash-free run. The rate
counts whole checks: generating the plan, simulating the transfer with its SQLite service
databases, and comparing states. The seed is fixed (the test varies it too) so that what
is measured is plans, not the crash-free twin each new seed needs once.

The services' databases are in memory, as in the property test (a simulated crash
treats them as it treats files; durability across processes is the SIGKILL suite's).
The same plans are also checked with the databases in files, in the same run, so the
gain is measured rather than remembered.

Run ``python benchmarks/bench_properties.py [N]``; the last line is one JSON object with
``schedules_per_s`` (target >= 200), measured with one worker process per CPU (start-up
included), plus ``schedules_per_s_one_process`` (target >= 500, issue 16),
``schedules_per_s_one_process_files`` (the same plans, databases in files), and where a
plan's time goes in one process: ``check_ms_per_plan`` (simulating and comparing) and
``hypothesis_ms_per_plan`` (generating it: what no speed of durasim's can remove);
``schedules_per_cpu_s_one_process`` counts this process's CPU time instead of the wall
clock (the steadier figure when others share the machine).
"""

from __future__ import annotations

import contextlib
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
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from durasim.api import run
from durasim.architectures import get_architecture
from durasim.architectures.databases import databases_in_memory
from durasim.faults import FaultPlan
from durasim.scenarios import get_scenario
from durasim.strategies import fault_plans

OPTIONS = {"idempotent_activities": True}
BATCH = 8
"""Plans per hypothesis example, at most (as in the property test)."""
IN_MEMORY = [True]
"""Whether the services' databases are in memory (switched off to measure the files)."""


def _counts(rows: Sequence[Any], *keys: str) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(getattr(row, k) for k in keys) for row in rows)


def check(plan: FaultPlan, sim_seed: int) -> None:
    """Property 3 for one plan: the faulted run ends as the crash-free one."""
    with databases_in_memory() if IN_MEMORY[0] else contextlib.nullcontext():
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


def measure(examples: int, worker: int = 0) -> tuple[int, float, float, float]:
    """Check about ``examples`` generated plans, in batches as the property draws them
    (about four per hypothesis example); returns (different plans checked, seconds,
    seconds spent in :func:`check` (the rest is hypothesis generating the plans), CPU
    seconds). A plan hypothesis draws again (about one in seven across examples) costs
    its time but is not counted: checking it again finds nothing new."""
    checked: set[FaultPlan] = set()
    in_checks = [0.0]

    @seed(worker)
    @settings(max_examples=max(1, examples // 4), database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(plans=st.lists(fault_plans("transfer", max_crashes=3, architecture="durable"),
                          min_size=1, max_size=BATCH, unique=True))
    def prop(plans: list[FaultPlan]) -> None:
        began = time.perf_counter()
        for plan in plans:
            check(plan, 0)
        in_checks[0] += time.perf_counter() - began
        checked.update(plans)

    start, cpu = time.perf_counter(), time.process_time()
    prop()
    return (len(checked), time.perf_counter() - start, in_checks[0],
            time.process_time() - cpu)


def main() -> None:
    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    measure(20)  # warm up: imports, the SQLite template, caches
    IN_MEMORY[0] = False
    files, files_s, _, _ = measure(examples)
    IN_MEMORY[0] = True
    one, one_s, checking_s, one_cpu_s = measure(examples)
    workers = os.cpu_count() or 1
    start = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        done = list(pool.map(measure, [examples] * workers, range(1, workers + 1)))
    wall = time.perf_counter() - start
    total = sum(n for n, _, _, _ in done)
    print(f"one process: {one} plans in {one_s:.2f} s ({checking_s:.2f} s checking them, "
          f"the rest generating them); {workers} processes: {total} plans in {wall:.2f} s "
          "(including process start-up)", file=sys.stderr)
    print(json.dumps({"schedules_per_s": round(total / wall, 1),
                      "schedules_per_s_one_process": round(one / one_s, 1),
                      "schedules_per_cpu_s_one_process": round(one / one_cpu_s, 1),
                      "schedules_per_s_one_process_files": round(files / files_s, 1),
                      "check_ms_per_plan": round(1000 * checking_s / one, 2),
                      "hypothesis_ms_per_plan": round(1000 * (one_s - checking_s) / one, 2),
                      "workers": workers, "plans": one + total}))


if __name__ == "__main__":
    main()
