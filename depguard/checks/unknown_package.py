"""`unknown-package`: the name does not exist on its registry.

Code assistants invent plausible package names; an attacker who registers one
gets installed by the next `pip install` / `npm install`. A 404 from the
registry is the finding. An unreachable registry, or `--offline`, means the
check did not run: that is noted in `ctx.skipped`, never reported as a pass.
"""

from __future__ import annotations

from depguard.checks.base import Candidate, CheckContext
from depguard.models import Ecosystem
from depguard.registry import RegistryUnavailable
from depguard.report import Finding, Severity

__all__ = ["RULE", "SCORE", "check"]

RULE = "unknown-package"
SCORE = 90
_INSTALL = {Ecosystem.PYPI: "pip install", Ecosystem.NPM: "npm install"}
_REGISTRY = {Ecosystem.PYPI: "PyPI", Ecosystem.NPM: "the npm registry"}


def check(candidate: Candidate, ctx: CheckContext) -> list[Finding]:
    if ctx.registry is None:
        _skip(ctx, f"{RULE}: offline")
        return []
    try:
        info = ctx.registry.project(candidate.ecosystem, candidate.name)
    except RegistryUnavailable as exc:
        _skip(ctx, f"{RULE}: {exc}")
        return []
    if info is not None:
        return []
    eco = candidate.ecosystem
    return [
        Finding(
            rule=RULE,
            severity=Severity.CRITICAL,
            ecosystem=eco,
            package=candidate.name,
            version=candidate.version,
            message=(
                f"{candidate.name} does not exist on {_REGISTRY[eco]}: a hallucinated name is "
                f"one `{_INSTALL[eco]}` away from being squatted"
            ),
            action="check the package name; remove the dependency if nothing by that name is meant",
            file=candidate.file,
            line=candidate.line,
            score=SCORE,
        )
    ]


def _skip(ctx: CheckContext, note: str) -> None:
    if note not in ctx.skipped:
        ctx.skipped.append(note)
