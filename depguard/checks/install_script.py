"""`install-script`: an added or changed package runs code at install time."""

from __future__ import annotations

from depguard.graphdiff import GraphDiff
from depguard.report import Finding, Severity

RULE = "install-script"
SCORE = 30


def check_diff(diff: GraphDiff) -> list[Finding]:
    findings = []
    for delta in [*diff.added, *diff.changed]:
        dep = delta.dep
        if dep is None or not dep.install_script:
            continue
        state = "new package" if not delta.before else f"changed from {', '.join(delta.before)}"
        findings.append(
            Finding(
                rule=RULE,
                severity=Severity.MODERATE,
                ecosystem=dep.ecosystem,
                package=dep.name,
                version=dep.version,
                message=f"{dep.label()} ({state}) runs an install script (preinstall/install/"
                "postinstall) on every `npm install`",
                action=f"inspect {dep.name}'s install script, or install with --ignore-scripts",
                file=dep.source or None,
                line=dep.line,
                score=SCORE,
                paths=tuple(tuple(c.names()) for c in diff.head.chains(dep, limit=3)[0]),
            )
        )
    return findings


def check_project_scripts(
    file: str, line: int | None, scripts: list[str], before: list[str]
) -> list[Finding]:
    """Lifecycle scripts added to a project's own package.json."""
    from depguard.models import Ecosystem

    added = [s for s in scripts if s not in before]
    if not added:
        return []
    return [
        Finding(
            rule=RULE,
            severity=Severity.MODERATE,
            ecosystem=Ecosystem.NPM,
            package=file,
            version=None,
            message=f"{file} adds lifecycle script(s) {', '.join(added)}, which run "
            "on every install",
            action="make sure the script only runs trusted local code",
            file=file,
            line=line,
            score=SCORE,
        )
    ]
