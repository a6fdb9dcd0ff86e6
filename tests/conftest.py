"""Shared test setup: hypothesis profiles and paths to recorded data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from durasim.engine import deadlock

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"

# "ci" is derandomized so CI is reproducible; "dev" is small and quick for the inner loop.
settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", max_examples=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# The deadlock watchdog is durasim's one real clock: 2 real seconds per activation, as in
# Temporal. On a CI machine starved by parallel workers, a replay's activation can take
# that long without looping, and an unrelated test would fail with [TMPRL1101]. The tests
# of the watchdog itself set Temporal's 2 s back (tests/adversarial/
# test_workflow_misbehaviour.py); every other test still stops a real endless loop.
deadlock.DEADLOCK_SECONDS = 30.0


@pytest.fixture
def temporal_fixtures() -> Path:
    """The folder of real Temporal histories recorded on a dev server (read-only)."""
    path = FIXTURES / "temporal"
    if not path.is_dir():
        pytest.fail(f"the Temporal fixtures are missing: {path}")
    return path
