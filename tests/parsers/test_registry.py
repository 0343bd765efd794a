"""The lazy parser registry picks the same parser the parsers' own matches() would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from depguard.hookfast import is_manifest_name
from depguard.parsers import PARSERS, kind_of, parser_for
from tests.conftest import ROOT

NAMES = [
    "package-lock.json", "npm-shrinkwrap.json", "package.json", "web/package.json",
    "node_modules/x/package.json", "a/node_modules/b/package-lock.json", "uv.lock",
    "poetry.lock", "pylock.toml", "pylock.dev.toml", "pylock.a.b.toml", "pyproject.toml",
    "requirements.txt", "requirements-dev.txt", "dev-requirements.txt", "requirements/base.in",
    "requirements/prod.pip", "constraints.txt", "constraints-3.11.txt", "MANIFEST.in",
    "requirements/MANIFEST.in", "notes.txt", "docs/index.md", "setup.py", "Pipfile.lock",
    "yarn.lock", "pnpm-lock.yaml", "REQUIREMENTS.TXT", "src/app.py", "requirements.txt.bak",
]


@pytest.mark.parametrize("name", NAMES)
def test_registry_agrees_with_every_parsers_matches(name: str) -> None:
    path = Path(name)
    claimed = [key for key, cls in PARSERS.items() if cls.matches(path)]
    assert len(claimed) <= 1
    found = parser_for(path)
    assert (found.name if found else None) == (claimed[0] if claimed else None)
    if claimed:
        assert kind_of(path) == claimed[0]


@pytest.mark.parametrize("name", NAMES)
def test_hook_fast_path_never_misses_a_manifest(name: str) -> None:
    if parser_for(Path(name)) is not None:
        assert is_manifest_name(name)


def test_unknown_parse_as_is_a_usage_error() -> None:
    from depguard.errors import UsageError

    with pytest.raises(UsageError, match=r"unknown format 'yarn\.lock'"):
        parser_for(Path("x"), "yarn.lock")


def test_an_npm_scan_imports_no_toml_parser(tmp_path: Path) -> None:
    project = ROOT / "fixtures" / "projects" / "npm-axios-1.14.0"
    code = ("import sys; from depguard.discover import load_project; "
            f"load_project(__import__('pathlib').Path({str(project)!r})); "
            "print(sorted(m for m in sys.modules if m.startswith('depguard.parsers.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path, env={"PYTHONPATH": str(ROOT)}).stdout
    assert "depguard.parsers.npm_lock" in out
    assert "depguard.parsers.pyproject" not in out and "depguard.parsers.uv_lock" not in out
