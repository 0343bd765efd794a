"""unknown-package: a 404 is critical; offline or an unreachable registry is a skipped note."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from depguard.checks import unknown_package
from depguard.checks.base import Candidate, CheckContext
from depguard.models import Ecosystem
from depguard.registry import ProjectInfo, RegistryClient, RegistryUnavailable
from depguard.report import Severity

NOW = datetime(2026, 4, 1, tzinfo=UTC)


class StubRegistry(RegistryClient):
    """Answers from a dict; a RegistryUnavailable value is raised."""

    def __init__(self, tmp_path: Path,
                 answers: dict[str, ProjectInfo | RegistryUnavailable | None]) -> None:
        super().__init__(cache_path=tmp_path / "unused.db")
        self.answers = answers

    def project(self, ecosystem: Ecosystem, name: str) -> ProjectInfo | None:
        answer = self.answers[name]
        if isinstance(answer, RegistryUnavailable):
            raise answer
        return answer


def ctx(registry: RegistryClient | None) -> CheckContext:
    return CheckContext(registry=registry, now=NOW)


def test_missing_package_is_critical(tmp_path: Path) -> None:
    cand = Candidate(ecosystem=Ecosystem.PYPI, name="reqeusts-toolkit", file="requirements.txt",
                     line=3)
    findings = unknown_package.check(cand, ctx(StubRegistry(tmp_path, {"reqeusts-toolkit": None})))
    assert len(findings) == 1
    finding = findings[0]
    assert (finding.rule, finding.severity) == ("unknown-package", Severity.CRITICAL)
    assert finding.message == (
        "reqeusts-toolkit does not exist on PyPI: a hallucinated name is one `pip install` "
        "away from being squatted"
    )
    assert (finding.file, finding.line, finding.score) == ("requirements.txt", 3, 90)


def test_missing_npm_package_names_npm(tmp_path: Path) -> None:
    cand = Candidate(ecosystem=Ecosystem.NPM, name="left-padd")
    findings = unknown_package.check(cand, ctx(StubRegistry(tmp_path, {"left-padd": None})))
    assert "npm install" in findings[0].message and "npm registry" in findings[0].message


def test_existing_package_passes(tmp_path: Path) -> None:
    info = ProjectInfo(ecosystem=Ecosystem.PYPI, name="requests", latest="2.32.3")
    context = ctx(StubRegistry(tmp_path, {"requests": info}))
    cand = Candidate(ecosystem=Ecosystem.PYPI, name="requests")
    assert unknown_package.check(cand, context) == []
    assert context.skipped == []


def test_unreachable_registry_is_skipped_not_passed(tmp_path: Path) -> None:
    down = RegistryUnavailable(Ecosystem.PYPI, "timeout")
    context = ctx(StubRegistry(tmp_path, {"a": down, "b": down}))
    for name in ("a", "b"):
        assert unknown_package.check(Candidate(ecosystem=Ecosystem.PYPI, name=name), context) == []
    assert context.skipped == ["unknown-package: PyPI unreachable (timeout)"]


@pytest.mark.parametrize("ecosystem", list(Ecosystem))
def test_offline_is_skipped(ecosystem: Ecosystem) -> None:
    context = ctx(None)
    assert unknown_package.check(Candidate(ecosystem=ecosystem, name="x"), context) == []
    assert context.skipped == ["unknown-package: offline"]
