"""fresh-release: age against the cooldown, PEP 792 status, yanked and deprecated versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from depguard.checks import fresh_release
from depguard.checks.base import Candidate, CheckContext
from depguard.models import Ecosystem
from depguard.registry import ProjectInfo, RegistryClient, RegistryUnavailable
from depguard.report import Finding, Severity
from tests.checks.test_unknown_package import StubRegistry

NOW = datetime(2026, 3, 31, 3, 30, tzinfo=UTC)
AXIOS = ProjectInfo(
    ecosystem=Ecosystem.NPM,
    name="axios",
    releases={
        "1.14.0": datetime(2026, 3, 27, 19, 1, tzinfo=UTC),
        "1.14.1": datetime(2026, 3, 31, 0, 21, tzinfo=UTC),
        "0.30.3": datetime(2026, 1, 10, tzinfo=UTC),
        "0.0.1": None,
    },
    latest="1.14.1",
    deprecated={"0.30.3": "use 1.x"},
)


def run(tmp_path: Path, cand: Candidate, info: ProjectInfo | RegistryUnavailable | None,
        cooldown: timedelta = timedelta(days=7)) -> tuple[list[Finding], list[str]]:
    registry: RegistryClient = StubRegistry(tmp_path, {cand.name: info})
    context = CheckContext(registry=registry, now=NOW, cooldown=cooldown)
    return fresh_release.check(cand, context), context.skipped


def test_release_hours_old_is_high(tmp_path: Path) -> None:
    cand = Candidate(ecosystem=Ecosystem.NPM, name="axios", version="1.14.1",
                     file="package-lock.json", line=12)
    findings, _ = run(tmp_path, cand, AXIOS)
    assert [(f.rule, f.severity, f.version) for f in findings] == [
        ("fresh-release", Severity.HIGH, "1.14.1")]
    assert findings[0].message == "axios 1.14.1 was published 3 hours ago; cooldown is 7 days"
    assert findings[0].action.startswith("wait until 2026-04-07 00:21 UTC")
    assert (findings[0].file, findings[0].line) == ("package-lock.json", 12)


def test_release_older_than_cooldown_passes(tmp_path: Path) -> None:
    cand = Candidate(ecosystem=Ecosystem.NPM, name="axios", version="1.14.0")  # 3 days old
    assert run(tmp_path, cand, AXIOS, cooldown=timedelta(days=3))[0] == []
    findings = run(tmp_path, cand, AXIOS)[0]
    assert [f.message for f in findings] == [
        "axios 1.14.0 was published 3 days ago; cooldown is 7 days"]


def test_unpinned_candidate_uses_latest(tmp_path: Path) -> None:
    cand = Candidate(ecosystem=Ecosystem.NPM, name="axios", specifier="^1.14.0")
    findings, _ = run(tmp_path, cand, AXIOS)
    assert [f.version for f in findings] == ["1.14.1"]


def test_unknown_publish_time_or_version_is_not_flagged(tmp_path: Path) -> None:
    for version in ("0.0.1", "9.9.9"):
        cand = Candidate(ecosystem=Ecosystem.NPM, name="axios", version=version)
        assert run(tmp_path, cand, AXIOS)[0] == []


def test_npm_deprecated_version_is_low(tmp_path: Path) -> None:
    cand = Candidate(ecosystem=Ecosystem.NPM, name="axios", version="0.30.3")
    findings, _ = run(tmp_path, cand, AXIOS)
    assert [(f.severity, f.message) for f in findings] == [
        (Severity.LOW, "axios 0.30.3 is deprecated on npm: use 1.x")]


def test_yanked_release_is_moderate(tmp_path: Path) -> None:
    info = ProjectInfo(ecosystem=Ecosystem.PYPI, name="requests", latest="2.32.3",
                       releases={"2.32.0": datetime(2024, 5, 20, tzinfo=UTC)},
                       yanked=frozenset({"2.32.0"}))
    cand = Candidate(ecosystem=Ecosystem.PYPI, name="requests", version="2.32.0")
    findings, _ = run(tmp_path, cand, info)
    assert [(f.severity, f.message) for f in findings] == [
        (Severity.MODERATE, "requests 2.32.0 was yanked by its maintainers")]


@pytest.mark.parametrize(
    ("status", "severity"),
    [("quarantined", Severity.CRITICAL), ("archived", Severity.LOW),
     ("deprecated", Severity.LOW), ("active", None)],
)
def test_pep792_status(tmp_path: Path, status: str, severity: Severity | None) -> None:
    info = ProjectInfo(ecosystem=Ecosystem.PYPI, name="demo", status=status,
                       status_reason="see notes" if status != "active" else None)
    findings, _ = run(tmp_path, Candidate(ecosystem=Ecosystem.PYPI, name="demo"), info)
    assert [f.severity for f in findings] == ([severity] if severity else [])
    if severity:
        assert status in findings[0].message and "(see notes)" in findings[0].message


def test_missing_project_is_left_to_unknown_package(tmp_path: Path) -> None:
    assert run(tmp_path, Candidate(ecosystem=Ecosystem.PYPI, name="nope"), None) == ([], [])


def test_unreachable_and_offline_are_skipped(tmp_path: Path) -> None:
    cand = Candidate(ecosystem=Ecosystem.NPM, name="axios", version="1.14.1")
    findings, skipped = run(tmp_path, cand, RegistryUnavailable(Ecosystem.NPM, "HTTP 503"))
    assert (findings, skipped) == ([], ["fresh-release: npm unreachable (HTTP 503)"])
    context = CheckContext(registry=None, now=NOW)
    assert fresh_release.check(cand, context) == []
    assert context.skipped == ["fresh-release: offline"]


@pytest.mark.parametrize(
    ("age", "text"),
    [(timedelta(seconds=30), "less than a minute"), (timedelta(minutes=1), "1 minute"),
     (timedelta(hours=2, minutes=59), "2 hours"), (timedelta(days=1), "1 day"),
     (timedelta(days=6, hours=23), "6 days"), (timedelta(seconds=-5), "less than a minute")],
)
def test_age_text(age: timedelta, text: str) -> None:
    assert fresh_release.age_text(age) == text
