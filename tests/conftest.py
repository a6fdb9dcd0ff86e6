"""Shared test setup: hypothesis profiles and paths to recorded data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

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


@pytest.fixture
def temporal_fixtures() -> Path:
    """The folder of real Temporal histories recorded on a dev server (read-only)."""
    path = FIXTURES / "temporal"
    if not path.is_dir():
        pytest.fail(f"the Temporal fixtures are missing: {path}")
    return path
