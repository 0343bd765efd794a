"""Real Reports for the formatter tests: `scan` on a fixture project, `check` on a git repo.

The check scenario copies the approach of tests/test_gate.py: a Python + npm project at a base
commit, then the change a code assistant might make (a new manifest line, new imports, and the
axios 1.14.0 -> 1.14.1 lockfile bump that brings in plain-crypto-js).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from depguard.audit import ScanOptions, scan
from depguard.gate import CheckOptions, run_check
from depguard.gitio import GitRepo
from depguard.report import Report
from tests.conftest import fixture_path

PYPROJECT = """[project]
name = "holdout-app"
version = "1.0"
dependencies = [
    "requests>=2.31",
{extra}]
"""

APP_BASE = """import os


def main() -> None:
    print(os.getcwd())
"""

APP_HEAD = """import os
import simplejson
import yaml


def main() -> None:
    print(os.getcwd(), simplejson, yaml)
"""

JS_BASE = "const express = require('express');\nmodule.exports = express;\n"
JS_HEAD = (
    "const express = require('express');\n"
    "const fetch = require('node-fetch');\n"
    "module.exports = { express, fetch };\n"
)


def scan_report(tmp_path: Path, project: str = "npm-axios-1.14.1",
                target: Path | None = None) -> Report:
    """`depguard scan` of a fixture project (or `target`), offline, with no advisory database."""
    options = ScanOptions(offline=True, db_path=tmp_path / "none.db")
    return scan(target or fixture_path("projects", project), options)


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
         "-c", "commit.gpgsign=false", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    )
    return proc.stdout.strip()


def write(repo: Path, rel: str, text: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_repo(root: Path) -> Path:
    """A Python + npm project committed at its base state."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    write(root, "pyproject.toml", PYPROJECT.format(extra=""))
    write(root, "src/app/__init__.py", "")
    write(root, "src/app/main.py", APP_BASE)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(fixture_path("projects", "npm-axios-1.14.0", name), root / name)
    write(root, "web/index.js", JS_BASE)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def assistant_change(root: Path, prefix: str = "") -> None:
    """New imports, a new manifest line, and the axios lock bump, committed.

    `prefix` is put at the top of every changed file, to shift every line down.
    """
    extra = '    "simplejson>=3.19",\n'
    write(root, "pyproject.toml", prefix.replace("//", "#") + PYPROJECT.format(extra=extra))
    write(root, "src/app/main.py", prefix.replace("//", "#") + APP_HEAD)
    write(root, "web/index.js", prefix + JS_HEAD)
    for name in ("package.json", "package-lock.json"):
        text = fixture_path("projects", "npm-axios-1.14.1", name).read_text()
        write(root, name, _shift_json(text, prefix))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "assistant change")


def _shift_json(text: str, prefix: str) -> str:
    """JSON with one blank line per prefix line after its opening brace (lines shift down)."""
    if not prefix:
        return text
    blank = "\n" * prefix.count("\n")
    return text.replace("{", "{" + blank, 1)


def check_report(root: Path, prefix: str = "") -> Report:
    """`depguard check --base HEAD~1 --head HEAD` of the assistant change, offline."""
    make_repo(root)
    assistant_change(root, prefix)
    with GitRepo.find(root) as repo:
        change = repo.change("HEAD~1", "HEAD")
        options = CheckOptions(offline=True, db_path=root.parent / "none.db")
        return run_check(change, options)
