"""The rule reference in rules/rules.json: what each rule catches, why, and how to fix or allow it.

One entry per stable rule name (DESIGN.md). The SARIF formatter builds its `rules[]` from it, and
the README rule reference is generated from it, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from depguard.errors import DepguardError
from depguard.report import Severity
from depguard.rulepack import load_json_rule

__all__ = [
    "RULE_DOCS_FILE",
    "RuleDoc",
    "load_rule_docs",
    "rule_docs_from_json",
    "rule_reference_markdown",
]

RULE_DOCS_FILE = "rules.json"
_PRECISIONS = ("very-high", "high", "medium", "low")
_TEXT_FIELDS = ("name", "short", "full", "help", "allow", "precision")


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleDoc:
    name: str
    short: str
    """One line: what the rule flags."""
    full: str
    """What it catches and why it matters."""
    help: str
    """How to fix it."""
    allow: str
    """A policy entry (.depguard.toml form) that accepts such a finding on purpose."""
    severity: Severity
    """The rule's usual severity (some rules' findings carry their own)."""
    precision: str
    tags: tuple[str, ...]

    @property
    def title(self) -> str:
        """PascalCase form of the name (SARIF's recommended `reportingDescriptor.name`)."""
        return "".join(part.capitalize() for part in re.split(r"[^a-z0-9]+", self.name) if part)

    def help_text(self) -> str:
        return f"{self.help}\n\nTo accept it on purpose, add to .depguard.toml:\n\n{self.allow}\n"

    def help_markdown(self) -> str:
        return (
            f"**{self.short}**\n\n{self.full}\n\n**How to fix:** {self.help}\n\n"
            f"**To accept it on purpose** (`.depguard.toml`):\n\n```toml\n{self.allow}\n```\n"
        )


@cache
def load_rule_docs() -> dict[str, RuleDoc]:
    """Rule name -> RuleDoc, in the order of rules/rules.json."""
    return rule_docs_from_json(load_json_rule(RULE_DOCS_FILE))


def rule_reference_markdown(level: int = 3) -> str:
    """The README rule reference: a summary table, then one section per rule."""
    docs = load_rule_docs().values()
    lines = ["| Rule | Usual severity | Flags |", "|---|---|---|"]
    lines += [f"| [`{d.name}`](#{d.name}) | {d.severity.value} | {d.short} |" for d in docs]
    for doc in docs:
        lines += ["", f"{'#' * level} `{doc.name}`", "", doc.full, "",
                  f"**How to fix:** {doc.help}", "",
                  "**To accept it on purpose** (`.depguard.toml`):", "",
                  "```toml", doc.allow, "```"]
    return "\n".join(lines) + "\n"


def rule_docs_from_json(data: Any) -> dict[str, RuleDoc]:
    """Validate the parsed rules.json; any defect is a DepguardError naming the entry and field."""
    entries = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise DepguardError(f"{RULE_DOCS_FILE}: 'rules' must be a non-empty array")
    docs: dict[str, RuleDoc] = {}
    for index, entry in enumerate(entries):
        doc = _entry(index, entry)
        if doc.name in docs:
            raise DepguardError(f"{RULE_DOCS_FILE}: rules[{index}]: duplicate rule {doc.name!r}")
        docs[doc.name] = doc
    return docs


def _entry(index: int, entry: Any) -> RuleDoc:
    where = f"{RULE_DOCS_FILE}: rules[{index}]"
    if not isinstance(entry, dict):
        raise DepguardError(f"{where}: must be an object")
    for key in _TEXT_FIELDS:
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise DepguardError(f"{where}.{key}: must be a non-empty string")
    if entry["precision"] not in _PRECISIONS:
        raise DepguardError(f"{where}.precision: must be one of {', '.join(_PRECISIONS)}")
    try:
        severity = Severity(entry.get("severity"))
    except ValueError:
        names = ", ".join(s.value for s in Severity)
        raise DepguardError(f"{where}.severity: must be one of {names}") from None
    tags = entry.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise DepguardError(f"{where}.tags: must be an array of non-empty strings")
    return RuleDoc(
        name=entry["name"],
        short=entry["short"],
        full=entry["full"],
        help=entry["help"],
        allow=entry["allow"],
        severity=severity,
        precision=entry["precision"],
        tags=tuple(tags),
    )
