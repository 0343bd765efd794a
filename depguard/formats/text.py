"""Human-readable report: findings grouped by package, with the chain that brings each in."""

from __future__ import annotations

from collections import Counter, defaultdict

from depguard.formats.base import Formatter
from depguard.report import Finding, Report, Severity

_COLORS = {
    Severity.MALICIOUS: "\033[1;97;41m",
    Severity.CRITICAL: "\033[1;31m",
    Severity.HIGH: "\033[31m",
    Severity.MODERATE: "\033[33m",
    Severity.LOW: "\033[36m",
    Severity.INFO: "\033[2m",
}
_RESET = "\033[0m"
MAX_PATHS = 3


class TextFormatter(Formatter):
    name = "text"

    def _sev(self, severity: Severity) -> str:
        label = severity.value.upper()
        return f"{_COLORS[severity]}{label}{_RESET}" if self.color else label

    def render(self, report: Report) -> str:
        lines: list[str] = []
        groups: dict[tuple[str, str, str], list[Finding]] = defaultdict(list)
        for finding in report.sorted_findings():
            groups[(finding.ecosystem.value, finding.package, finding.version or "")].append(
                finding
            )
        for (eco, name, version), findings in groups.items():
            first = findings[0]
            where = f"{first.file}:{first.line}" if first.file and first.line else first.file or ""
            lines.append(f"{name} {version}".rstrip() + f"  ({eco}{', ' + where if where else ''})")
            for finding in findings:
                lines.extend(self._finding(finding))
            lines.append("")
        lines.extend(self._changes(report))
        lines.extend(_summary(report))
        return "\n".join(lines).rstrip("\n") + "\n"

    def _finding(self, finding: Finding) -> list[str]:
        ident = f" {finding.id}" if finding.id else ""
        aliases = f" ({', '.join(finding.aliases)})" if finding.aliases else ""
        block = " [blocks]" if finding.blocking else ""
        out = [
            f"  {self._sev(finding.severity)} {finding.rule}{ident}{aliases}{block}",
            f"    {finding.message}",
        ]
        for path in finding.paths[:MAX_PATHS]:
            out.append(f"    via {' > '.join(path)}")
        if len(finding.paths) > MAX_PATHS:
            out.append(f"    ... and {len(finding.paths) - MAX_PATHS} more chains")
        if finding.fixed:
            out.append(f"    fixed in: {', '.join(finding.fixed)}")
        if finding.action:
            out.append(f"    fix: {finding.action}")
        return out

    def _changes(self, report: Report) -> list[str]:
        changes = report.changes
        if not any(changes.values()):
            return []
        out = [
            f"Changes: {len(changes['added'])} added, {len(changes['removed'])} removed, "
            f"{len(changes['changed'])} changed"
        ]
        for item in changes["added"]:
            out.append(f"  + {item['name']} {item.get('version') or ''}".rstrip())
        for item in changes["changed"]:
            out.append(f"  ~ {item['name']} {item.get('from')} -> {item.get('to')}")
        for item in changes["removed"]:
            out.append(f"  - {item['name']} {item.get('version') or ''}".rstrip())
        return [*out, ""]


def _summary(report: Report) -> list[str]:
    by_eco = Counter(d.ecosystem.value for d in report.packages)
    ecos = ", ".join(f"{eco} {count}" for eco, count in sorted(by_eco.items()))
    severities = Counter(f.severity for f in report.findings)
    sev_text = ", ".join(f"{severities[s]} {s.value}" for s in reversed(Severity) if severities[s])
    lines = [
        f"{report.command}: {len(report.packages)} packages ({ecos or 'none'}); "
        f"{len(report.findings)} findings{' (' + sev_text + ')' if sev_text else ''}; "
        f"verdict: {report.verdict.upper()} (fail-on {report.fail_on})"
    ]
    for source in report.advisory_data.get("sources", []):
        details = []
        if "records" in source:
            details.append(f"{source['records']} records")
        if source.get("ecosystems"):
            details.append(", ".join(source["ecosystems"]))
        if source.get("age_days") is not None:
            details.append(f"{source['age_days']} days old")
        lines.append(
            f"advisories: {source['name']}" + (f" ({'; '.join(details)})" if details else "")
        )
    if report.unevaluated:
        lines.append(
            f"not evaluated: {len(report.unevaluated)} packages "
            f"(e.g. {report.unevaluated[0].package}: {report.unevaluated[0].reason})"
        )
    lines.extend(f"note: {note}" for note in report.notes)
    return lines
