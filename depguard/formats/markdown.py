"""A pull-request comment: the verdict first, then what the change adds, then the findings.

The first line is the hidden marker `<!-- depguard-report -->`, which the GitHub Action looks for
to update its sticky comment instead of adding a new one. Then a one-line headline
(`**depguard: blocked** — 2 malicious packages`), for `check` reports a table of the new and
changed dependencies with their risk score and reasons (for `scan` reports, a table of the
findings), and the findings grouped by severity, malicious first, each with its chain and the
suggested action. Long parts (extra chains, low/info findings, new imports, notes) are collapsed
in `<details>`.

Everything that comes from the project or an advisory (package names, versions, messages, file
names) is escaped: HTML-significant characters become entities and Markdown punctuation is
backslash-escaped, so a hostile name cannot break a table, open a tag or inject a link.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from depguard.formats.base import Formatter
from depguard.report import Finding, Report, Severity

__all__ = ["MARKER", "MarkdownFormatter", "code", "escape"]

MARKER = "<!-- depguard-report -->"
MAX_PER_GROUP = 50
MAX_ROWS = 100
MAX_CHARS = 60_000
"""GitHub rejects comments over 65,536 characters."""
EXPANDED = (Severity.MALICIOUS, Severity.CRITICAL, Severity.HIGH, Severity.MODERATE)

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~])")
"""Inline-significant characters; `(`, `#`, `!` only matter after `]` or at a line start."""
_PLAIN = re.compile(r"[\w.@/+\-~:,()=^ ]+")


def escape(value: object) -> str:
    """Inline Markdown text: entities for `&<>`, backslash before Markdown punctuation."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def code(value: object, table: bool = False) -> str:
    """A code span that holds any text (a longer fence than any backtick run inside)."""
    text = " ".join(str(value).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`"):
        text = f" {text} "
    if table:
        text = text.replace("|", "\\|")
    return f"{fence}{text}{fence}"


def literal(value: object, table: bool = False) -> str:
    """Project data shown verbatim: a code span when it is plain, else escaped text.

    Real package names, versions and paths are plain; anything with characters that could open
    a tag or break a span or table (`<`, a backtick, `|`, ...) is escaped instead.
    """
    text = " ".join(str(value).split())
    return code(text, table) if _PLAIN.fullmatch(text) else escape(text)


class MarkdownFormatter(Formatter):
    name = "markdown"

    def render(self, report: Report) -> str:
        blocks = [MARKER, _headline(report), _context(report)]
        if report.command != "scan" or any(report.changes.values()):
            blocks += _changes(report)
        elif report.findings:
            blocks += _findings_table(report.sorted_findings())
        blocks += _groups(report)
        blocks += _imports(report.imports)
        blocks += _notes(report)
        return _fit("\n\n".join(b for b in blocks if b).rstrip() + "\n")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _headline(report: Report) -> str:
    blocking = [f for f in report.findings if f.blocking]
    if report.verdict == "fail":
        counts = Counter(f.severity for f in blocking)
        malicious = len({(f.ecosystem, f.package, f.version)
                         for f in blocking if f.severity is Severity.MALICIOUS})
        parts = [_plural(malicious, "malicious package")] if malicious else []
        parts += [_plural(counts[s], f"{s.value} finding") for s in reversed(Severity)
                  if counts[s] and s is not Severity.MALICIOUS]
        return f"**depguard: blocked** — {', '.join(parts) or 'blocked by policy'}"
    review = sum(1 for f in report.findings if f.severity is not Severity.INFO)
    tail = f"no blocking findings, {review} to review" if review else "no blocking findings"
    return f"**depguard: passed** — {tail if report.findings else 'no findings'}"


def _context(report: Report) -> str:
    changes = report.changes
    what = (
        f"{len(changes['added'])} added, {len(changes['changed'])} changed, "
        f"{len(changes['removed'])} removed packages"
        if report.command != "scan"
        else _plural(len(report.packages), "package")
    )
    blocking = sum(1 for f in report.findings if f.blocking)
    return (
        f"{literal(report.command)} of {literal(report.target)}: {what}; "
        f"{_plural(len(report.findings), 'finding')}, {blocking} blocking "
        f"(fail-on {literal(report.fail_on)})."
    )


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _changes(report: Report) -> list[str]:
    entries = [*report.changes["added"], *report.changes["changed"]]
    if not entries:
        return ["No dependency was added or changed."]
    entries.sort(key=lambda e: (-int(e.get("score") or 0), str(e.get("name"))))
    rows = [_change_row(entry) for entry in entries[:MAX_ROWS]]
    more = len(entries) - MAX_ROWS
    out = ["### New and changed dependencies",
           _table(("Package", "Ecosystem", "Version", "Direct", "Score", "Reasons"), rows)]
    if more > 0:
        out.append(f"… and {more} more (see the JSON report).")
    if report.changes["removed"]:
        names = ", ".join(literal(e.get("name")) for e in report.changes["removed"][:20])
        out.append(f"Removed: {names}")
    return out


def _change_row(entry: dict[str, Any]) -> list[str]:
    if "from" in entry:
        version = f"{escape(entry['from'])} → {escape(entry['to'])}"
    else:
        version = escape(entry.get("version") or "")
    via = entry.get("introduced_by") or []
    direct = "yes" if entry.get("direct") else "no"
    if not entry.get("direct") and via:
        direct += " (via " + ", ".join(escape(v) for v in via[:3]) + ")"
    score = int(entry.get("score") or 0)
    reasons = ", ".join(literal(r, table=True) for r in entry.get("reasons") or []) or "—"
    return [literal(entry.get("name"), table=True), escape(entry.get("ecosystem")), version,
            direct, f"**{score}**" if score >= 50 else str(score), reasons]


def _findings_table(findings: Sequence[Finding]) -> list[str]:
    rows = [
        [
            f"**{f.severity.value}**" if f.blocking else f.severity.value,
            literal(f.package, table=True),
            escape(f.version or ""),
            literal(f.rule, table=True),
            escape(f.id or ""),
            literal(_where(f), table=True) if f.file else "",
        ]
        for f in findings[:MAX_ROWS]
    ]
    out = ["### Findings",
           _table(("Severity", "Package", "Version", "Rule", "Advisory", "Where"), rows)]
    if len(findings) > MAX_ROWS:
        out.append(f"… and {len(findings) - MAX_ROWS} more (see the JSON report).")
    return out


def _where(finding: Finding) -> str:
    return f"{finding.file}:{finding.line}" if finding.line else str(finding.file)


def _groups(report: Report) -> list[str]:
    groups: dict[Severity, list[Finding]] = defaultdict(list)
    for finding in report.sorted_findings():
        groups[finding.severity].append(finding)
    scan = report.command == "scan"
    out = ["### Findings by severity" if scan else "### Findings"] if groups else []
    for severity in reversed(Severity):
        findings = groups.get(severity)
        if not findings:
            continue
        title = f"{severity.value.capitalize()} ({len(findings)})"
        body = "\n".join(_item(f) for f in findings[:MAX_PER_GROUP])
        if len(findings) > MAX_PER_GROUP:
            body += f"\n- … and {len(findings) - MAX_PER_GROUP} more (see the JSON report)"
        if severity in EXPANDED and not scan:
            out.append(f"#### {title}\n\n{body}")
        else:
            out.append(f"<details><summary>{title}</summary>\n\n{body}\n\n</details>")
    return out


def _item(finding: Finding) -> str:
    head = f"- **{literal(finding.package)}**"
    if finding.version:
        head += f" {escape(finding.version)}"
    head += f" ({escape(finding.ecosystem.value)}) · {literal(finding.rule)}"
    if finding.id:
        head += f" · {escape(finding.id)}"
    if finding.file:
        head += f" · {literal(_where(finding))}"
    if finding.blocking:
        head += " · **blocks**"
    lines = [head, f"  {escape(finding.message)}"]
    if finding.paths:
        lines.append(f"  Chain: {_chain(finding.paths[0])}")
    if finding.action:
        lines.append(f"  **Action:** {escape(finding.action)}")
    text = "<br>\n".join(lines)
    details = _details(finding)
    if details:
        text += f"\n  <details><summary>Details</summary>\n\n{details}\n\n  </details>"
    return text


def _chain(path: Sequence[str]) -> str:
    return " › ".join(literal(node) for node in path)


def _details(finding: Finding) -> str:
    lines = []
    if finding.aliases:
        lines.append(f"  - Aliases: {', '.join(escape(a) for a in finding.aliases)}")
    if finding.fixed:
        lines.append(f"  - Fixed in: {', '.join(escape(v) for v in finding.fixed)}")
    if finding.clearing_version:
        lines.append(f"  - First clean version: {escape(finding.clearing_version)}")
    for path in finding.paths[1:10]:
        lines.append(f"  - Also via: {_chain(path)}")
    if len(finding.paths) > 10:
        lines.append(f"  - … and {len(finding.paths) - 10} more chains")
    return "\n".join(lines)


def _imports(imports: Sequence[dict[str, Any]]) -> list[str]:
    if not imports:
        return []
    rows = [
        [literal(i.get("module"), table=True), literal(i.get("package") or "", table=True)
         if i.get("package") else "—", escape(i.get("kind")),
         literal(f"{i.get('file')}:{i.get('line')}", table=True), escape(i.get("reason") or "")]
        for i in imports[:MAX_ROWS]
    ]
    table = _table(("Import", "Package", "Kind", "Where", "Why"), rows)
    return [f"<details><summary>New imports ({len(imports)})</summary>\n\n{table}\n\n</details>"]


def _notes(report: Report) -> list[str]:
    notes = [escape(n) for n in report.notes]
    notes += [f"not evaluated: {literal(u.package)} {escape(u.version or '')}: {escape(u.reason)}"
              for u in report.unevaluated[:MAX_ROWS]]
    if not notes:
        return []
    body = "\n".join(f"- {note}" for note in notes)
    return [f"<details><summary>Notes ({len(notes)})</summary>\n\n{body}\n\n</details>"]


def _fit(text: str) -> str:
    """Keep the comment under GitHub's size limit, cutting at a line boundary."""
    if len(text) <= MAX_CHARS:
        return text
    text = text[: text.rfind("\n", 0, MAX_CHARS - 500)]
    unclosed = text.count("<details>") - text.count("</details>")
    return text + "\n\n</details>" * max(unclosed, 0) + (
        "\n\n… (truncated: the full report is in the JSON output)\n"
    )
