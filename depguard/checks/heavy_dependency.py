"""`heavy-dependency`: a new direct dependency adds more packages than the policy allows."""

from __future__ import annotations

from depguard.graphdiff import GraphDiff
from depguard.models import Dependency
from depguard.report import Finding, Severity

RULE = "heavy-dependency"
SCORE = 20


def added_weight(diff: GraphDiff) -> dict[str, int]:
    """For each added direct dependency: the added packages it brings in, itself included."""
    weights: dict[str, int] = {}
    for delta in diff.added:
        if delta.direct and delta.dep is not None:
            weights[delta.dep.id] = 0
    for delta in diff.added:
        for owner in (d.id for d in delta.introduced_by if d.id in weights):
            weights[owner] += 1
    return weights


def check_diff(diff: GraphDiff, limit: int) -> list[Finding]:
    weights = added_weight(diff)
    findings = []
    for delta in diff.added:
        dep: Dependency | None = delta.dep
        if dep is None or dep.id not in weights or weights[dep.id] - 1 <= limit:
            continue
        count = weights[dep.id] - 1
        findings.append(
            Finding(
                rule=RULE,
                severity=Severity.MODERATE,
                ecosystem=dep.ecosystem,
                package=dep.name,
                version=dep.version,
                message=f"{dep.label()} adds {count} transitive packages (policy allows {limit})",
                action=f"look for a lighter alternative to {dep.name}, or raise max-new-transitive",
                file=dep.source or None,
                line=dep.line,
                score=SCORE,
            )
        )
    return findings
