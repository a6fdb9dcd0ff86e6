"""A durasim parent cancelled while it awaits a child: the same histories on a real
Temporal server (through the adapter, whose ``start_child`` is the SDK's, with its default
``WAIT_CANCELLATION_COMPLETED``) as in ``durasim.execute``.

tests/engine/test_awaiting_child_cancelled.py checks durasim against the committed
recordings; this checks it against a live server, with durasim's own workflow code.
"""

from __future__ import annotations

from typing import Any

import pytest

import durasim
from durasim.bridges.temporal import TemporalDevServer, execute_on_temporal
from durasim.engine import Cancel
from tests.engine.test_awaiting_child_cancelled import CASES
from tests.test_temporal_conformance import assert_same_histories
from tests.test_temporal_conformance import server as dev_server  # noqa: F401 (a fixture)
from tests.workflows import recorded as wf

pytestmark = pytest.mark.temporal

CANCEL_AT = 2.0
"""Seconds after the start: the real child's timer runs by then, even on a busy machine."""


@pytest.mark.parametrize("name", CASES)
def test_the_same_histories_on_real_temporal_and_in_the_simulator(
        dev_server: TemporalDevServer, name: str) -> None:  # noqa: F811
    parent, args, _ = CASES[name]
    options: dict[str, Any] = {"id": f"live_{name}", "requests": [Cancel(at=CANCEL_AT)],
                               "activities": [wf.clean_up]}
    real = execute_on_temporal(parent, *args, server=dev_server, timeout=30, **options)
    sim = durasim.execute(parent, *args, **options)
    assert real.status == sim.status
    assert real.result == sim.result
    assert_same_histories(real.histories, sim.histories)
    child_id = f"live_{name}-child"
    assert list(real.children) == list(sim.children) == [child_id]
    assert_same_histories(real.children[child_id], sim.children[child_id])
