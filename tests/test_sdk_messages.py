"""Messages to an SDK workflow in durasim: signal handlers run in history order, as the SDK
runs them, and a signal whose input does not fit the handler is dropped, as the SDK does."""

from __future__ import annotations

import logging

import pytest

import durasim
from durasim import Signal

pytest.importorskip("temporalio", reason="the Temporal SDK (the 'temporal' extra) is needed")

from tests.fixtures.sdk import signal_with_start


def test_signal_handlers_run_in_history_order_and_a_misfit_signal_is_dropped(
        caplog: pytest.LogCaptureFixture) -> None:
    signals = [Signal("approve", "manager", at=0.5), Signal("approve", {"not": "a name"}, at=0.6),
               Signal("approve", "cfo", at=0.7), Signal("close", at=1.0)]
    with caplog.at_level(logging.WARNING, logger="durasim.sdk"):
        run = durasim.execute(signal_with_start.ApprovalsWorkflow, requests=signals)
    assert (run.status, run.result) == ("completed", ["manager", "cfo"])
    assert run.history.event_types(compact=True).count("WorkflowExecutionSignaled") == 4
    assert "dropped signal 'approve'" in caplog.text
