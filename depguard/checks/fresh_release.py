"""`fresh-release`: a version published less than the cooldown ago, and registry status flags.

Most malicious releases (litellm 1.82.7/1.82.8, axios 1.14.1) are caught and
pulled within hours; waiting out a cooldown (`ctx.cooldown`, 7 days by default)
before adopting a release avoids them. The candidate's version is checked, or
the latest release when the candidate is unpinned (what an install would get).

The same registry answer also says whether the project or version is flagged:
PEP 792 `quarantined` (critical), `archived`/`deprecated` (low), an npm
`deprecated` version (low), a PyPI release with every file yanked (moderate).
An unreachable registry, or `--offline`, is noted in `ctx.skipped`.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from depguard.checks.base import Candidate, CheckContext
from depguard.registry import ProjectInfo, RegistryUnavailable
from depguard.report import Finding, Severity

__all__ = ["RULE", "SCORES", "age_text", "check"]

RULE = "fresh-release"
SCORES = {"fresh": 40, "quarantined": 90, "yanked": 20, "deprecated": 10, "archived": 10}


def age_text(age: timedelta) -> str:
    """'2 hours', '3 days', '45 minutes': the largest whole unit."""
    seconds = max(int(age.total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"


def check(candidate: Candidate, ctx: CheckContext) -> list[Finding]:
    if ctx.registry is None:
        _skip(ctx, f"{RULE}: offline")
        return []
    try:
        info = ctx.registry.project(candidate.ecosystem, candidate.name)
    except RegistryUnavailable as exc:
        _skip(ctx, f"{RULE}: {exc}")
        return []
    if info is None:  # unknown-package reports it
        return []
    version = candidate.version or info.latest
    findings = [f for f in (_status(candidate, info), _fresh(candidate, info, version, ctx)) if f]
    if version is not None:
        findings += [f for f in (_yanked(candidate, info, version),
                                 _deprecated(candidate, info, version)) if f]
    return findings


def _finding(candidate: Candidate, version: str | None, severity: Severity, kind: str,
             message: str, action: str) -> Finding:
    return Finding(
        rule=RULE,
        severity=severity,
        ecosystem=candidate.ecosystem,
        package=candidate.name,
        version=version,
        message=message,
        action=action,
        file=candidate.file,
        line=candidate.line,
        score=SCORES[kind],
    )


def _fresh(candidate: Candidate, info: ProjectInfo, version: str | None,
           ctx: CheckContext) -> Finding | None:
    published = info.published(version) if version else None
    if published is None:
        return None
    age = ctx.now - published
    if age >= ctx.cooldown:
        return None
    return _finding(
        candidate, version, Severity.HIGH, "fresh",
        f"{candidate.name} {version} was published {age_text(age)} ago; "
        f"cooldown is {age_text(ctx.cooldown)}",
        f"wait until {(published + ctx.cooldown).astimezone(UTC):%Y-%m-%d %H:%M} UTC, "
        "or pin the previous release",
    )


def _status(candidate: Candidate, info: ProjectInfo) -> Finding | None:
    why = f" ({info.status_reason})" if info.status_reason else ""
    if info.status == "quarantined":
        return _finding(
            candidate, candidate.version, Severity.CRITICAL, "quarantined",
            f"{candidate.name} is quarantined by PyPI{why}: its files are withheld, "
            "typically because of malware",
            "do not install it; remove the dependency",
        )
    if info.status in ("archived", "deprecated"):
        return _finding(
            candidate, candidate.version, Severity.LOW, info.status,
            f"{candidate.name} is marked {info.status} on PyPI{why}: "
            "it will not get fixes",
            "prefer a maintained alternative",
        )
    return None


def _yanked(candidate: Candidate, info: ProjectInfo, version: str) -> Finding | None:
    if version not in info.yanked:
        return None
    return _finding(
        candidate, version, Severity.MODERATE, "yanked",
        f"{candidate.name} {version} was yanked by its maintainers",
        "use another release (the maintainers withdrew this one)",
    )


def _deprecated(candidate: Candidate, info: ProjectInfo, version: str) -> Finding | None:
    message = info.deprecated.get(version)
    if message is None:
        return None
    return _finding(
        candidate, version, Severity.LOW, "deprecated",
        f"{candidate.name} {version} is deprecated on npm: {message}",
        "follow the deprecation notice or choose a maintained package",
    )


def _skip(ctx: CheckContext, note: str) -> None:
    if note not in ctx.skipped:
        ctx.skipped.append(note)
