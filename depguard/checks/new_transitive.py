"""`new-transitive-under-existing`: a version change of an existing package brings in a
package the graph never had (the axios 1.14.0 -> 1.14.1 pattern that added plain-crypto-js)."""

from __future__ import annotations

from depguard.graphdiff import GraphDiff
from depguard.report import Finding, Severity

RULE = "new-transitive-under-existing"
SCORE = 30


def check_diff(diff: GraphDiff) -> list[Finding]:
    changed = {(d.ecosystem, d.name): d for d in diff.changed}
    findings = []
    for delta in diff.added:
        dep = delta.dep
        assert dep is not None
        for parent in diff.head.parents(dep):
            moved = changed.get((parent.ecosystem, parent.name))
            if moved is None or parent.version not in moved.after:
                continue
            was = ", ".join(moved.before)
            findings.append(
                Finding(
                    rule=RULE,
                    severity=Severity.MODERATE,
                    ecosystem=dep.ecosystem,
                    package=dep.name,
                    version=dep.version,
                    message=(
                        f"{dep.label()} is new: it arrived with {parent.name} {was} -> "
                        f"{parent.version}, which did not depend on it before"
                    ),
                    action=(
                        f"check {parent.name} {parent.version}'s release notes for "
                        f"{dep.name}; if unexplained, pin {parent.name} to {was}"
                    ),
                    file=dep.source or None,
                    line=dep.line,
                    score=SCORE,
                    paths=tuple(tuple(c.names()) for c in diff.head.chains(dep, limit=3)[0]),
                )
            )
    return findings
