"""Databases in memory behave as files under simulated crashes (issue 16.3).

Properties check thousands of crash plans with the services' SQLite databases in memory
(:func:`durasim.architectures.databases.databases_in_memory`); that is only honest if a
run is the same, crash for crash, as with files: the same trace, the same rows.
"""

from __future__ import annotations

import os

import pytest

import durasim
from durasim import Crash
from durasim.architectures.databases import databases_in_memory
from durasim.faults import Fault

PLANS: dict[str, list[Fault]] = {
    # a crash inside the open transaction, and one of the app itself mid-request
    "monolith": [Crash(at_step=5), Crash(node="app", at_time=0.5)],
    # a consumer after its commit, and the broker (its log in memory too)
    "event_driven": [Crash(at_step=5, when="after_effect"),
                     Crash(node="broker", at_time=0.01)],
    # a service after its commit, before the worker hears of it
    "durable": [Crash(at_step=5, when="after_effect")],
}


@pytest.mark.parametrize("architecture", sorted(PLANS))
def test_in_memory_databases_give_the_same_run_as_files(architecture: str) -> None:
    plan = PLANS[architecture]
    on_disk = durasim.run("transfer", architecture, plan)
    with databases_in_memory():
        in_memory = durasim.run("transfer", architecture, plan)
    if architecture == "monolith":  # the crash inside the transaction rolled it back
        assert [e.node for e in in_memory.trace if e.kind == "rollback"] == ["app"]
    assert not on_disk.unfired  # every crash of the plan happened
    assert in_memory.trace.digest() == on_disk.trace.digest()
    assert in_memory.state.rows == on_disk.state.rows
    assert in_memory.outcome == on_disk.outcome


def test_a_world_in_memory_writes_no_file(tmp_path: os.PathLike[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("durasim.architectures.base._FAST_TMP", str(tmp_path))
    with databases_in_memory():
        result = durasim.run("transfer", "event_driven", Crash(at_step=5))
    assert result.outcome == "lost"
    assert not os.listdir(tmp_path)
    durasim.run("transfer", "event_driven")  # files, as usual, and cleaned up
    assert not os.listdir(tmp_path)


def test_a_spare_in_memory_database_starts_from_the_opening_rows() -> None:
    with databases_in_memory():
        first = durasim.run("transfer", "durable")
        again = durasim.run("transfer", "durable")  # reuses the first run's connections
    assert first.balances == again.balances == {"alice": 75, "bob": 75}
    assert again.state.rows == first.state.rows
