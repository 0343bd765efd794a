"""`new-dependency`: the change adds a package to the graph (direct or transitive)."""

from __future__ import annotations

from depguard.graphdiff import GraphDiff
from depguard.report import Finding, Severity

RULE = "new-dependency"
SCORE = 5


def check_diff(diff: GraphDiff) -> list[Finding]:
    findings = []
    for delta in diff.added:
        dep = delta.dep
        assert dep is not None
        if delta.direct:
            how = f"new direct {dep.scope.value} dependency"
            action = f"confirm {dep.name} is needed and maintained before merging"
        else:
            parents = ", ".join(d.label() for d in delta.introduced_by) or "an unknown parent"
            how = f"new transitive dependency via {parents}"
            action = f"review why {parents} now needs {dep.name}"
        findings.append(
            Finding(
                rule=RULE,
                severity=Severity.INFO,
                ecosystem=dep.ecosystem,
                package=dep.name,
                version=dep.version,
                message=f"{dep.label()}: {how}",
                action=action,
                file=dep.source or None,
                line=dep.line,
                score=SCORE,
                paths=tuple(tuple(c.names()) for c in diff.head.chains(dep, limit=3)[0]),
            )
        )
    return findings
