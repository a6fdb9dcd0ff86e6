"""The trace: filters, JSON and a digest that ignores memory addresses."""

from __future__ import annotations

import pytest

from durasim.core import Simulation
from durasim.trace import Trace, TraceFormatError


def test_record_filter_json_round_trip() -> None:
    sim = Simulation()
    sim.record("bank", "withdraw", account="alice", amount=25)
    sim.schedule(1.0, lambda: sim.record("ledger", "entry", amount=25))
    sim.run()
    trace = sim.trace
    assert len(trace) == 3  # two records and the kernel step between them
    assert [e.kind for e in trace.filter(semantic=True)] == ["withdraw", "entry"]
    assert trace.filter(node="ledger")[0].fields == {"amount": 25}
    assert trace.nodes() == ["bank", "ledger"]
    again = Trace.from_json(trace.to_json())
    assert again.digest() == trace.digest()
    assert "withdraw" in str(trace)


def test_digest_ignores_memory_addresses_but_not_content() -> None:
    a, b = Trace(), Trace()
    a._append(0.0, "n", "k", {"obj": object()})
    b._append(0.0, "n", "k", {"obj": object()})
    assert a.digest() == b.digest()
    b._append(1.0, "n", "k", {"x": 1})
    assert a.digest() != b.digest()


def test_disabled_trace_records_nothing() -> None:
    sim = Simulation(trace=False)
    sim.record("n", "k")
    sim.schedule(1, lambda: None)
    sim.run()
    assert len(sim.trace) == 0


def test_bad_trace_json_is_a_clear_error() -> None:
    with pytest.raises(TraceFormatError, match="not a durasim trace"):
        Trace.from_json('{"nope": 1}')
