"""stdlib-alternative: data files and the finding's action text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from depguard.checks import stdlib_alternative
from depguard.checks.base import Candidate, CheckContext
from depguard.models import Ecosystem
from depguard.report import Severity


def run(ecosystem: Ecosystem, name: str, **kwargs: object) -> list[str]:
    cand = Candidate(ecosystem=ecosystem, name=name, **kwargs)  # type: ignore[arg-type]
    context = CheckContext(registry=None, now=datetime(2026, 4, 1, tzinfo=UTC))
    findings = stdlib_alternative.check(cand, context)
    assert all(f.severity is Severity.LOW and f.rule == "stdlib-alternative" for f in findings)
    assert context.skipped == []  # needs no network
    return [f.action for f in findings]


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("simplejson", "use `json` from the standard library (Python >= 3.0)"),
        ("toml", "use `tomllib` from the standard library (Python >= 3.11)"),
        ("tomli", "use `tomllib` from the standard library (Python >= 3.11)"),
        ("pytz", "use `zoneinfo` from the standard library (Python >= 3.9)"),
        ("mock", "use `unittest.mock` from the standard library (Python >= 3.3)"),
        ("enum34", "use `enum` from the standard library (Python >= 3.4)"),
        ("Backports.ZoneInfo", "use `zoneinfo` from the standard library (Python >= 3.9)"),
        ("importlib_metadata",
         "use `importlib.metadata` from the standard library (Python >= 3.8)"),
        ("futures", "use `concurrent.futures` from the standard library (Python >= 3.2)"),
        ("six", "remove it: nothing is needed on Python 3 (built-ins, io, urllib, functools)"),
        ("requests",
         "for simple calls, use `urllib.request` from the standard library (Python >= 3.0)"),
    ],
)
def test_python(name: str, action: str) -> None:
    assert run(Ecosystem.PYPI, name) == [action]


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("node-fetch", "use `fetch` (built in) (Node >= 18.0.0)"),
        ("rimraf", "use `fs.promises.rm` (`node:fs/promises`) or `fs.promises.rmdir` "
                   "(`node:fs/promises`) (built in) (Node >= 14.14.0)"),
        ("mkdirp", "use `fs.promises.mkdir` (`node:fs`) (built in) (Node >= 10.12.0)"),
        ("left-pad", "use `String.prototype.padStart` (built in) (Node >= 8.0.0)"),
        ("es6-shim", "remove it: modern runtimes have what it provides"),
        ("is-number", "replace it with a few lines of plain JavaScript"),
    ],
)
def test_npm(name: str, action: str) -> None:
    assert run(Ecosystem.NPM, name) == [action]


@pytest.mark.parametrize(
    ("ecosystem", "name"),
    [(Ecosystem.PYPI, "typing-extensions"), (Ecosystem.PYPI, "httpx"),
     (Ecosystem.PYPI, "appdirs"), (Ecosystem.NPM, "express"), (Ecosystem.NPM, "react")],
)
def test_no_alternative(ecosystem: Ecosystem, name: str) -> None:
    assert run(ecosystem, name) == []


def test_transitive_packages_are_not_flagged() -> None:
    assert run(Ecosystem.PYPI, "six", direct=False, origin="lockfile") == []
    assert run(Ecosystem.PYPI, "six", direct=False, origin="import") != []


@pytest.mark.parametrize("ecosystem", list(Ecosystem))
def test_every_entry_is_complete(ecosystem: Ecosystem) -> None:
    table = stdlib_alternative.alternatives(ecosystem)
    assert len(table) > 40
    for alt in table.values():
        assert alt.replacement and alt.kind
        assert alt.kind in {"stdlib", "stdlib-or-package", "sometimes", "native", "removal",
                            "snippet"}
        if ecosystem is Ecosystem.PYPI:
            assert alt.source and alt.source.startswith("https://")
