"""Running the real command line in a subprocess, and the one-error-line assertion."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

__all__ = ["FAST", "Run", "assert_one_error", "depguard"]

FAST = 10.0
"""Seconds a hostile input may take, process start-up included (generous for a busy CI)."""


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float


def depguard(*args: str | Path, cwd: Path | None = None, timeout: float = 120,
             env: dict[str, str] | None = None) -> Run:
    """`python -m depguard ARGS` in a subprocess with a private cache and database."""
    home = Path(os.environ.get("DEPGUARD_TEST_HOME", "/nonexistent"))
    full_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
        "DEPGUARD_DB": str(home / "osv.db"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        **(env or {}),
    }
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "depguard", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=full_env, timeout=timeout,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - start)


def assert_one_error(run: Run, *names: str, limit: float = FAST) -> str:
    """Exit 2, one `depguard: error:` line naming each of `names`, no traceback, quick."""
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    lines = run.stderr.splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}: {run.stderr[:2000]!r}"
    line = lines[0]
    assert line.startswith("depguard: error:"), line[:500]
    assert "internal error" not in line, line[:500]
    assert len(line) < 1000, f"an error line of {len(line)} characters"
    for name in names:
        assert name in line, line
    assert run.code == 2, (run.code, line)
    assert run.seconds < limit, f"took {run.seconds:.1f}s"
    return line
