"""SARIF 2.1.0 for GitHub code scanning (and any other SARIF consumer).

* `tool.driver.rules` defines every rule name from DESIGN.md, always, in the order of
  rules/rules.json, so each result's `ruleId`/`ruleIndex` resolves whatever was found. Rule
  metadata (descriptions, help, tags, precision) comes from rules/rules.json; a rule's
  `properties.security-severity` (GitHub's ranking: 9.0+ critical, 7.0-8.9 high, 4.0-6.9 medium,
  0.1-3.9 low) and `defaultConfiguration.level` follow its usual severity.
* `level` follows each finding's own severity: malicious, critical and high are `error`,
  moderate is `warning`, low and info are `note`. The severity, the security-severity, whether
  the finding blocks the gate, the advisory ids and the dependency chains are in the result's
  `properties`.
* Every result has one physical location with a file and a start line (see
  `depguard.formats.locations` for paths and the fallback when a finding has no file).
* `partialFingerprints["depguard/v1"]` is a SHA-256 over rule, ecosystem, package, version,
  advisory id and file -- not the line -- so an edit above the finding (which moves it) does not
  open a new alert, while a new version or a new advisory does. Identical keys within one run
  (the same undeclared package imported twice in one file) get an ordinal suffix in line order.
* The report's notes and the packages it could not evaluate become tool execution notifications.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from depguard import __version__
from depguard.formats.base import Formatter
from depguard.formats.locations import locate
from depguard.formats.rule_docs import RuleDoc, load_rule_docs
from depguard.report import Finding, Report, Severity

__all__ = ["FINGERPRINT_KEY", "LEVELS", "SECURITY_SEVERITY", "SarifFormatter", "fingerprint"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FINGERPRINT_KEY = "depguard/v1"

LEVELS = {
    Severity.MALICIOUS: "error",
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MODERATE: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
SECURITY_SEVERITY = {
    Severity.MALICIOUS: "10.0",
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MODERATE: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",  # GitHub has no band below low for security results
}


class SarifFormatter(Formatter):
    name = "sarif"

    def render(self, report: Report) -> str:
        docs = load_rule_docs()
        index = {name: i for i, name in enumerate(docs)}
        results = _results(report, index)
        run: dict[str, Any] = {
            "tool": {
                "driver": {
                    "name": "depguard",
                    "version": __version__,
                    "semanticVersion": __version__,
                    "rules": [_rule(doc) for doc in docs.values()],
                }
            },
            "invocations": [_invocation(report)],
            "results": results,
            "properties": {"command": report.command, "target": report.target,
                           "verdict": report.verdict, "fail-on": report.fail_on},
        }
        log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
        return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule(doc: RuleDoc) -> dict[str, Any]:
    return {
        "id": doc.name,
        "name": doc.title,
        "shortDescription": {"text": doc.short},
        "fullDescription": {"text": doc.full},
        "help": {"text": doc.help_text(), "markdown": doc.help_markdown()},
        "defaultConfiguration": {"level": LEVELS[doc.severity]},
        "properties": {
            "tags": list(doc.tags),
            "precision": doc.precision,
            "security-severity": SECURITY_SEVERITY[doc.severity],
        },
    }


def fingerprint(finding: Finding, uri: str) -> str:
    """Stable identity of a finding across runs; the line number is deliberately left out."""
    parts = [finding.rule, finding.ecosystem.value, finding.package, finding.version or "",
             finding.id or "", uri]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _results(report: Report, index: dict[str, int]) -> list[dict[str, Any]]:
    located = sorted(
        ((locate(f, report), f) for f in report.findings),
        key=lambda pair: (pair[0].path, pair[0].line, pair[1].sort_key()),
    )
    seen: Counter[str] = Counter()
    results = []
    for location, finding in located:
        if finding.rule not in index:
            raise ValueError(f"finding with unknown rule {finding.rule!r} (not in rules.json)")
        mark = fingerprint(finding, location.uri)
        seen[mark] += 1
        if seen[mark] > 1:
            mark = f"{mark}:{seen[mark]}"
        results.append(_result(finding, index[finding.rule], location.uri, location.line, mark))
    return results


def _result(finding: Finding, rule_index: int, uri: str, line: int, mark: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "severity": finding.severity.value,
        "security-severity": SECURITY_SEVERITY[finding.severity],
        "blocking": finding.blocking,
        "ecosystem": finding.ecosystem.value,
        "package": finding.package,
    }
    if finding.version:
        properties["version"] = finding.version
    if finding.id:
        properties["advisories"] = [finding.id, *finding.aliases]
    if finding.fixed:
        properties["fixed"] = list(finding.fixed)
    if finding.paths:
        properties["paths"] = [list(path) for path in finding.paths]
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": _message(finding)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": line},
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: mark},
        "properties": properties,
    }


def _message(finding: Finding) -> str:
    text = finding.message.strip()
    if finding.paths and len(finding.paths[0]) > 2:
        text += f"\nVia: {' > '.join(finding.paths[0])}"
    if finding.fixed:
        text += f"\nFixed in: {', '.join(finding.fixed)}"
    if finding.action:
        text += f"\nFix: {finding.action}"
    return text


def _invocation(report: Report) -> dict[str, Any]:
    notes = [{"level": "note", "message": {"text": note}} for note in report.notes]
    notes += [
        {"level": "warning",
         "message": {"text": f"not evaluated: {u.ecosystem.value} {u.package} "
                             f"{u.version or ''}: {u.reason}".replace("  ", " ")}}
        for u in report.unevaluated
    ]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notes:
        invocation["toolExecutionNotifications"] = notes
    return invocation
