"""What the command line imports up front: the speed work of bench/ must not regress.

No timings here (bench/ measures those); these tests check which modules load, which is
what the timings depend on.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from depguard import cli, report

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("networkx", "packaging", "sqlite_utils", "depguard.report", "depguard.models",
         "depguard.gate", "depguard.parsers")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _imported(args: list[str], cwd: Path) -> set[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, check=False)
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def test_cli_fail_on_choices_match_the_report() -> None:
    assert cli.FAIL_ON_CHOICES == report.FAIL_ON_CHOICES


def test_importing_the_cli_loads_no_pipeline_module(tmp_path: Path) -> None:
    names = _imported(["-c", "import depguard.cli"], tmp_path)
    assert "depguard.cli" in names
    assert not [n for n in names if n.startswith(HEAVY)]


def test_hook_fast_path_loads_no_pipeline_module(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@example.invalid")
    git("config", "user.name", "t")
    (tmp_path / "README.md").write_text("a\n")
    (tmp_path / "app.py").write_text("x = 1\n")
    git("add", "-A")
    git("-c", "commit.gpgsign=false", "commit", "-q", "-m", "base")
    (tmp_path / "README.md").write_text("b\n")
    (tmp_path / "app.py").write_text("x = 2\n")
    git("add", "-A")
    names = _imported(["-m", "depguard", "hook"], tmp_path)
    assert "depguard.hookfast" in names
    assert not [n for n in names if n.startswith(HEAVY)]
    assert "click" not in names  # the fast path answers before the CLI is imported


def test_python_m_depguard_never_imports_from_the_working_directory(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for name in ("json.py", "click.py", "subprocess.py", "tomllib.py"):
        (tmp_path / name).write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    (tmp_path / "requirements.txt").write_text("requests==2.31.0\n")
    proc = subprocess.run([sys.executable, "-m", "depguard", "scan", ".", "--offline"],
                          cwd=tmp_path, env={**_env(), "DEPGUARD_DB": str(tmp_path / "x.db")},
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()
