"""Shared helpers for the depguard benchmarks: timing, subprocess runs, machine facts.

Plain standard library. Every benchmark times whole processes (what a user waits for)
with `time.perf_counter`, takes the median of N runs, and prints each figure as a ratio
against a reference measured in the same run, so numbers from different machines compare.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (depguard/ is importable from here)."""

PYTHON = os.environ.get("BENCH_PYTHON", sys.executable)
"""Interpreter that runs depguard (the one that has its dependencies)."""

FIXTURES = ROOT / "fixtures"


def env() -> dict[str, str]:
    """Environment for depguard subprocesses: the checkout on PYTHONPATH, no user DB."""
    out = dict(os.environ)
    out["PYTHONPATH"] = str(ROOT) + os.pathsep + out.get("PYTHONPATH", "")
    out.pop("DEPGUARD_DB", None)
    out.setdefault("PYTHONDONTWRITEBYTECODE", "")
    return out


def depguard_cmd(*args: str) -> list[str]:
    """`python -m depguard ARGS`: how users without the console script run it."""
    return [PYTHON, "-m", "depguard", *args]


def run(cmd: Sequence[str], *, cwd: Path | None = None, ok: Sequence[int] = (0,),
        stdout: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess[bytes]:
    """Run a command; fail loudly (with its stderr) if the exit code is unexpected."""
    proc = subprocess.run(list(cmd), cwd=cwd, env=env(), stdout=stdout,
                          stderr=subprocess.PIPE, check=False)
    if proc.returncode not in ok:
        err = proc.stderr.decode(errors="replace")[-2000:]
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{err}")
    return proc


@dataclass(frozen=True)
class Timing:
    """Medians over the runs: wall seconds, and CPU seconds (user + sys) of the process tree.

    CPU time is printed next to wall time because a shared machine's load inflates wall
    time but not the work a command does.
    """

    wall: float
    cpu: float


def measure(cmd: Sequence[str], *, runs: int, cwd: Path | None = None,
            ok: Sequence[int] = (0,), warmup: int = 1) -> Timing:
    """Median wall and CPU time of `runs` runs of a command, after `warmup` untimed runs."""
    for _ in range(warmup):
        run(cmd, cwd=cwd, ok=ok)
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        run(cmd, cwd=cwd, ok=ok)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return Timing(statistics.median(walls), statistics.median(cpus))


def time_cmd(cmd: Sequence[str], *, runs: int, cwd: Path | None = None,
             ok: Sequence[int] = (0,), warmup: int = 1) -> float:
    """Median wall time (seconds) of `runs` runs of a command, after `warmup` untimed runs."""
    return measure(cmd, runs=runs, cwd=cwd, ok=ok, warmup=warmup).wall


def load() -> str:
    """The 1-minute load average: benchmarks on a busy machine say so."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def time_call(func: Callable[[], object], *, runs: int) -> float:
    """Median wall time of an in-process call (used only for setup-free micro figures)."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def machine() -> dict[str, str]:
    """The facts RESULTS.md records next to the numbers."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    version = subprocess.run([PYTHON, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True, check=False).stdout.strip()
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "python": version,
            "platform": platform.platform(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def verdict(ratio: float, target: float) -> str:
    return "meets target" if ratio <= target else f"MISSES target by {ratio / target:.2f}x"


def emit(name: str, payload: dict[str, object]) -> None:
    """Print a machine-readable line (run_all.py collects these) after the human table."""
    print(f"BENCH-JSON {name} {json.dumps(payload, sort_keys=True)}")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A small Markdown table (printed to the terminal and pasted into RESULTS.md)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
            for r in cells]
    return "\n".join([line, rule, *body])
