"""Findings, the verdict and the Report that every output format renders."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from depguard import __version__

if TYPE_CHECKING:  # annotations only: `depguard hook`'s fast path imports this module
    from depguard.models import Dependency, Ecosystem

__all__ = ["FAIL_ON_CHOICES", "SCHEMA_VERSION", "Finding", "Report", "Severity", "Unevaluated"]

SCHEMA_VERSION = 1


class Severity(enum.Enum):
    INFO = "info"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    CRITICAL = "critical"
    MALICIOUS = "malicious"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __str__(self) -> str:
        return self.value


_RANK = {sev: index for index, sev in enumerate(Severity)}

FAIL_ON_CHOICES = ("never", "low", "moderate", "high", "critical", "malicious")


def fails(severity: Severity, fail_on: str) -> bool:
    """Whether a finding of `severity` fails a gate set at `fail_on`."""
    if fail_on == "never":
        return False
    return severity.rank >= Severity(fail_on).rank


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One thing depguard flags; `rule` is a stable name from DESIGN.md."""

    rule: str
    severity: Severity
    ecosystem: Ecosystem
    package: str
    version: str | None
    message: str
    action: str = ""
    id: str | None = None
    aliases: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    clearing_version: str | None = None
    paths: tuple[tuple[str, ...], ...] = ()
    file: str | None = None
    line: int | None = None
    score: int = 0
    blocking: bool = False

    def sort_key(self) -> tuple[Any, ...]:
        return (
            -self.severity.rank,
            self.file or "",
            self.line or 0,
            self.rule,
            self.package,
            self.version or "",
            self.id or "",
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "id": self.id,
            "aliases": list(self.aliases),
            "severity": self.severity.value,
            "ecosystem": self.ecosystem.value,
            "package": self.package,
            "version": self.version,
            "fixed": list(self.fixed),
            "clearing_version": self.clearing_version,
            "paths": [list(p) for p in self.paths],
            "message": self.message,
            "action": self.action,
            "file": self.file,
            "line": self.line,
            "score": self.score,
            "blocking": self.blocking,
        }


@dataclass(frozen=True, slots=True)
class Unevaluated:
    """A package depguard could not check, and why (never silently skipped)."""

    ecosystem: Ecosystem
    package: str
    version: str | None
    reason: str
    file: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ecosystem": self.ecosystem.value,
            "package": self.package,
            "version": self.version,
            "reason": self.reason,
            "file": self.file,
        }


@dataclass(slots=True, kw_only=True)
class Report:
    command: str
    target: str = "."
    packages: list[Dependency] = field(default_factory=list)
    direct: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)
    changes: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"added": [], "removed": [], "changed": []}
    )
    imports: list[dict[str, Any]] = field(default_factory=list)
    unevaluated: list[Unevaluated] = field(default_factory=list)
    advisory_data: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    fail_on: str = "high"

    @property
    def verdict(self) -> str:
        return "fail" if any(f.blocking for f in self.findings) else "pass"

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=Finding.sort_key)

    def to_json(self) -> dict[str, Any]:
        packages = [
            {
                "ecosystem": d.ecosystem.value,
                "name": d.name,
                "version": d.version,
                "direct": d.id in self.direct,
                "scope": d.scope.value,
                "manifest": d.source,
                "line": d.line,
            }
            for d in self.packages
        ]
        findings = [f.to_json() for f in self.sorted_findings()]
        return {
            "schema": SCHEMA_VERSION,
            "depguard": __version__,
            "command": self.command,
            "target": self.target,
            "packages": packages,
            "findings": findings,
            "changes": self.changes,
            "imports": self.imports,
            "unevaluated": [u.to_json() for u in self.unevaluated],
            "advisory_data": self.advisory_data,
            "notes": self.notes,
            "summary": {
                "packages": len(packages),
                "findings": len(findings),
                "blocking": sum(1 for f in self.findings if f.blocking),
                "unevaluated": len(self.unevaluated),
                "fail_on": self.fail_on,
            },
            "verdict": self.verdict,
        }
