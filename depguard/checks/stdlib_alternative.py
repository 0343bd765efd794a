"""`stdlib-alternative`: a new direct dependency whose job the standard library or runtime does.

The data lives in `rules/stdlib-alternatives/{python,npm}.json` (sources in the
README there). Only dependencies the change chooses are flagged (direct ones and
imports), never transitive packages someone else picked.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from depguard.checks.base import Candidate, CheckContext
from depguard.models import Ecosystem, canonical_name
from depguard.report import Finding, Severity
from depguard.rulepack import load_json_rule

__all__ = ["RULE", "SCORE", "Alternative", "alternatives", "check"]

RULE = "stdlib-alternative"
SCORE = 5
_FILES = {Ecosystem.PYPI: "python.json", Ecosystem.NPM: "npm.json"}
_RUNTIME = {Ecosystem.PYPI: "Python", Ecosystem.NPM: "Node"}


@dataclass(frozen=True, slots=True)
class Alternative:
    """One data-file entry: what replaces `name`, from which runtime version, and why."""

    name: str
    replacement: str
    minimum_runtime: str | None
    kind: str
    guidance: str
    source: str | None


@cache
def alternatives(ecosystem: Ecosystem) -> dict[str, Alternative]:
    """Canonical package name -> its alternative, for one ecosystem."""
    data: dict[str, Any] = load_json_rule(f"stdlib-alternatives/{_FILES[ecosystem]}")
    return {
        canonical_name(ecosystem, entry["name"]): Alternative(
            name=entry["name"],
            replacement=entry["replacement"],
            minimum_runtime=entry.get("minimum_runtime"),
            kind=entry["kind"],
            guidance=entry.get("guidance") or "",
            source=entry.get("source"),
        )
        for entry in data["packages"]
    }


def _action(alt: Alternative, ecosystem: Ecosystem) -> str:
    since = f" ({_RUNTIME[ecosystem]} >= {alt.minimum_runtime})" if alt.minimum_runtime else ""
    replacement = alt.replacement if alt.replacement.startswith(("`", "nothing", "a few")) else (
        f"`{alt.replacement}`"
    )
    if alt.kind == "removal":
        return "remove it: modern runtimes have what it provides"
    if alt.replacement.startswith("nothing"):
        return f"remove it: {alt.replacement.replace('nothing', 'nothing is needed', 1)}"
    if alt.kind == "snippet":
        return f"replace it with {replacement}{since}"
    if alt.kind == "sometimes":
        return f"for simple calls, use {replacement} from the standard library{since}"
    where = "from the standard library" if ecosystem is Ecosystem.PYPI else "(built in)"
    return f"use {replacement} {where}{since}"


def check(candidate: Candidate, ctx: CheckContext) -> list[Finding]:
    if not (candidate.direct or candidate.origin == "import"):
        return []
    alt = alternatives(candidate.ecosystem).get(canonical_name(candidate.ecosystem, candidate.name))
    if alt is None:
        return []
    guidance = f" {alt.guidance}" if alt.guidance else ""
    return [
        Finding(
            rule=RULE,
            severity=Severity.LOW,
            ecosystem=candidate.ecosystem,
            package=candidate.name,
            version=candidate.version,
            message=f"`{candidate.name}` has a standard-library or built-in alternative.{guidance}",
            action=_action(alt, candidate.ecosystem),
            file=candidate.file,
            line=candidate.line,
            score=SCORE,
        )
    ]
