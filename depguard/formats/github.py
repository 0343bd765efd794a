"""GitHub Actions workflow commands: one annotation per finding, then a summary line.

`::error file=F,line=N,title=T::MESSAGE` for blocking findings and for malicious, critical and
high ones; `::warning` for moderate; `::notice` for low and info. Files and lines follow
`depguard.formats.locations` (every finding is placed in a file).

Escaping follows the Actions toolkit (`@actions/core` command.ts): in the message (data) `%`, CR
and LF become `%25`, `%0D`, `%0A`; property values also escape `:` and `,` (`%3A`, `%2C`). So
no package name or message can end the command early or start a new one on another line.
"""

from __future__ import annotations

from collections import Counter

from depguard.formats.base import Formatter
from depguard.formats.locations import locate
from depguard.report import Finding, Report, Severity

__all__ = ["GithubFormatter", "escape_data", "escape_property"]

COMMANDS = {
    Severity.MALICIOUS: "error",
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MODERATE: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubFormatter(Formatter):
    name = "github"

    def render(self, report: Report) -> str:
        lines = [self._command(finding, report) for finding in report.sorted_findings()]
        lines.append(_summary(report))
        return "\n".join(lines) + "\n"

    def _command(self, finding: Finding, report: Report) -> str:
        where = locate(finding, report)
        command = "error" if finding.blocking else COMMANDS[finding.severity]
        label = f"{finding.package} {finding.version or ''}".rstrip()
        title = f"depguard {finding.rule}: {label}"
        properties = ",".join(
            f"{key}={escape_property(value)}"
            for key, value in (("file", where.path), ("line", str(where.line)), ("title", title))
        )
        return f"::{command} {properties}::{escape_data(_message(finding))}"


def _message(finding: Finding) -> str:
    parts = [finding.message.strip()]
    if finding.id:
        parts.append(f"Advisory: {', '.join([finding.id, *finding.aliases])}")
    if finding.paths and len(finding.paths[0]) > 2:
        parts.append(f"Via: {' > '.join(finding.paths[0])}")
    if finding.action:
        parts.append(f"Fix: {finding.action}")
    if finding.blocking:
        parts.append("This finding blocks the gate.")
    return "\n".join(parts)


def _summary(report: Report) -> str:
    """One plain line (not a command) that cannot be mistaken for one."""
    blocking = sum(1 for f in report.findings if f.blocking)
    counts = Counter(f.severity for f in report.findings)
    by_severity = ", ".join(f"{counts[s]} {s.value}" for s in reversed(Severity) if counts[s])
    status = "blocked" if report.verdict == "fail" else "passed"
    text = (
        f"depguard: {status}: {report.command} {report.target}: {len(report.packages)} packages, "
        f"{len(report.findings)} findings" + (f" ({by_severity})" if by_severity else "")
        + f", {blocking} blocking at fail-on {report.fail_on}"
    )
    return escape_data(text)
