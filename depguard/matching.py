"""Match every package of a graph against advisories and turn matches into findings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from depguard.advisories.aliases import AdvisoryGroup, merge_aliases
from depguard.advisories.match import (
    MatchStatus,
    evaluate,
    fixed_versions,
    smallest_clearing_version,
)
from depguard.advisories.osv_record import Advisory
from depguard.advisories.sources import AdvisorySource
from depguard.graph import DependencyGraph
from depguard.models import Dependency
from depguard.report import Finding, Severity, Unevaluated
from depguard.rulepack import last_good_version

__all__ = ["UNKNOWN_SEVERITY_AS", "MatchOutcome", "match_graph"]

UNKNOWN_SEVERITY_AS = Severity.HIGH
"""An advisory that states no severity is treated as high (and says so), never ignored."""


@dataclass(slots=True)
class MatchOutcome:
    findings: list[Finding] = field(default_factory=list)
    unevaluated: list[Unevaluated] = field(default_factory=list)


def match_graph(
    graph: DependencyGraph, packages: Sequence[Dependency], sources: Sequence[AdvisorySource]
) -> MatchOutcome:
    """Findings for every package with an exact version; the others are listed as unevaluated."""
    outcome = MatchOutcome()
    versioned = [d for d in packages if d.version]
    for dep in packages:
        if not dep.version:
            spec = f" ({dep.specifier})" if dep.specifier else ""
            outcome.unevaluated.append(
                Unevaluated(
                    dep.ecosystem,
                    dep.name,
                    None,
                    f"no exact version{spec}: use a lockfile or --resolve",
                    dep.source,
                )
            )
    lookups = [source.query(versioned) for source in sources]
    for dep in versioned:
        advisories = _merged([lk.get((dep.ecosystem, dep.name), []) for lk in lookups])
        if advisories:
            _match_one(graph, dep, advisories, outcome)
    return outcome


def _merged(lists: Sequence[list[Advisory]]) -> list[Advisory]:
    """One copy per id; the most recently modified copy wins."""
    by_id: dict[str, Advisory] = {}
    for advisories in lists:
        for advisory in advisories:
            old = by_id.get(advisory.id)
            if old is None or (advisory.modified or "") > (old.modified or ""):
                by_id[advisory.id] = advisory
    return list(by_id.values())


def _match_one(
    graph: DependencyGraph, dep: Dependency, advisories: list[Advisory], outcome: MatchOutcome
) -> None:
    assert dep.version is not None
    affected: list[Advisory] = []
    for advisory in advisories:
        result = evaluate(advisory, dep.ecosystem, dep.name, dep.version)
        if result.status is MatchStatus.AFFECTED:
            affected.append(advisory)
        elif result.status is MatchStatus.UNKNOWN:
            outcome.unevaluated.append(
                Unevaluated(
                    dep.ecosystem,
                    dep.name,
                    dep.version,
                    f"{advisory.id}: could not evaluate ({result.reason})",
                    dep.source,
                )
            )
    if not affected:
        return
    clearing = smallest_clearing_version(dep.ecosystem, dep.name, dep.version, advisories)
    chains, _ = graph.chains(dep)
    paths = tuple(tuple(c.names()) for c in chains) or ((dep.name,),)
    for group in merge_aliases(affected):
        outcome.findings.append(_finding(graph, dep, group, clearing, paths))


def _finding(
    graph: DependencyGraph,
    dep: Dependency,
    group: AdvisoryGroup,
    clearing: str | None,
    paths: tuple[tuple[str, ...], ...],
) -> Finding:
    fixed = sorted(
        {v for a in group.advisories for v in fixed_versions(a, dep.ecosystem, dep.name)}
    )
    severity = (
        Severity.MALICIOUS
        if group.malicious
        else (Severity(group.severity) if group.severity else UNKNOWN_SEVERITY_AS)
    )
    ids = [i for i in group.ids if i != group.primary_id]
    aliases = tuple(sorted(set(ids) | set(group.aliases)))
    label = f"{dep.name} {dep.version}"
    if group.malicious:
        message = f"{label} is a known malicious release ({group.primary_id}: {group.summary})"
    else:
        unknown = "" if group.severity else " (no severity in the advisory; treated as high)"
        message = f"{label} is vulnerable: {group.primary_id} {group.summary}{unknown}"
    return Finding(
        rule="malicious-package" if group.malicious else "vulnerable-version",
        severity=severity,
        ecosystem=dep.ecosystem,
        package=dep.name,
        version=dep.version,
        message=message,
        action=suggest_action(graph, dep, group.malicious, clearing),
        id=group.primary_id,
        aliases=aliases,
        fixed=tuple(fixed),
        clearing_version=clearing,
        paths=paths,
        file=dep.source or None,
        line=dep.line,
    )


def suggest_action(
    graph: DependencyGraph, dep: Dependency, malicious: bool, clearing: str | None
) -> str:
    """One suggested next step for an advisory finding."""
    good = last_good_version(dep.ecosystem.value, dep.name, dep.version)
    if malicious:
        if good:
            step = f"pin {dep.name} to {good}"
        elif graph.is_direct(dep):
            step = f"remove {dep.name}"
        else:
            parents = ", ".join(f"{p.name} {p.version}" for p in graph.introduced_by(dep)) or "?"
            step = f"remove {dep.name}: it arrived with {parents}"
        return f"{step}; treat machines that installed {dep.name} {dep.version} as compromised"
    if clearing:
        return f"upgrade {dep.name} to {clearing} or later"
    return f"no fixed version is known for {dep.name}: replace it or accept the risk"
