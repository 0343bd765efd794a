"""The built wheel carries the rules data, and an installed (not editable) depguard uses it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, fixture_path

SOURCES = ("setup.cfg", "setup.py", "pyproject.toml", "README.md", "CHANGELOG.md")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the source tree, without network or build isolation."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        shutil.copy2(ROOT / name, src / name)
    for folder in ("depguard", "rules"):
        shutil.copytree(ROOT / folder, src / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(out), str(src)],
        check=True, capture_output=True, text=True,
    )
    (built,) = out.glob("depguard-*.whl")
    return built


def test_wheel_contains_rules_and_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "depguard/py.typed" in names
    assert "depguard/rules/osv/MAL-2026-2307.json" in names
    assert "depguard/rules/osv/MAL-2026-2306.json" in names
    assert "depguard/rules/osv/MAL-2026-2144.json" in names
    assert "depguard/rules/last-good.json" in names
    rule_files = {p.relative_to(ROOT / "rules").as_posix() for p in (ROOT / "rules").rglob("*")
                  if p.is_file() and p.suffix in {".json", ".txt", ".tsv", ".toml"}}
    missing = {f for f in rule_files if f"depguard/rules/{f}" not in names}
    assert not missing, f"rules files left out of the wheel: {sorted(missing)}"


def test_installed_wheel_flags_the_incident_with_no_database(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    "--target", str(site), str(wheel)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(site), "DEPGUARD_DB": str(tmp_path / "none.db")}
    project = fixture_path("projects", "npm-axios-1.14.1")
    proc = subprocess.run(
        [sys.executable, "-c", "import depguard, depguard.cli; print(depguard.__file__, "
         "file=__import__('sys').stderr); depguard.cli.main()",
         "scan", str(project), "--offline", "-f", "json"],
        capture_output=True, text=True, cwd=tmp_path, env=env,
    )
    assert proc.stderr.startswith(str(site)), proc.stderr
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    flagged = {(f["package"], f["version"]) for f in report["findings"]
               if f["rule"] == "malicious-package"}
    assert flagged == {("axios", "1.14.1"), ("plain-crypto-js", "4.2.1")}
