"""Hypothesis profiles for the hostile-input suite.

`dev` (the default) keeps a local run fast: a modest number of examples, derandomized so
a failure reproduces and CI stays stable. `ci` runs more examples, still derandomized.
Pick one with HYPOTHESIS_PROFILE=ci (CI=true selects `ci` as well).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

settings.register_profile("dev", max_examples=60, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("ci", max_examples=200, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("stress", max_examples=3000, **_COMMON)  # type: ignore[arg-type]
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev")
)


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Subprocesses get their own advisory database path and cache folder."""
    monkeypatch.setenv("DEPGUARD_TEST_HOME", str(tmp_path / "home"))
