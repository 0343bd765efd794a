"""The compact summary `depguard hook` prints before a commit."""

from __future__ import annotations

from depguard.report import Report

MAX_LINES = 12


def render_hook_summary(report: Report) -> str:
    """A few lines: what blocks, what warns, and how to see the rest."""
    blocking = [f for f in report.sorted_findings() if f.blocking]
    warnings = [
        f for f in report.sorted_findings() if not f.blocking and f.rule != "new-dependency"
    ]
    if not blocking and not warnings:
        return ""
    lines = []
    for finding in [*blocking, *warnings][:MAX_LINES]:
        mark = "BLOCK" if finding.blocking else "warn "
        where = f"{finding.file}:{finding.line}: " if finding.file and finding.line else ""
        lines.append(f"depguard {mark} {where}{finding.rule}: {finding.message}")
        if finding.blocking and finding.action:
            lines.append(f"    fix: {finding.action}")
    hidden = len(blocking) + len(warnings) - MAX_LINES
    if hidden > 0:
        lines.append(f"... and {hidden} more (run `depguard check --staged` for the full report)")
    if blocking:
        lines.append(
            f"depguard: commit blocked by {len(blocking)} finding(s) at or above "
            f"{report.fail_on}; allow with a reason in .depguard.toml if intended"
        )
    return "\n".join(lines) + "\n"
