"""Orchestration: discover -> graph -> match -> Report. No printing, no exit codes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from depguard.advisories.sources import AdvisorySource, CuratedSource, OfflineSource
from depguard.graph import DependencyGraph
from depguard.models import Ecosystem, Scope
from depguard.report import Finding, Report, fails

if TYPE_CHECKING:
    from depguard.policy import PolicyOutcome

__all__ = ["ScanOptions", "advisory_sources", "build_graph", "flag_graph", "scan", "scan_env"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanOptions:
    fail_on: str | None = None
    """None: the policy's `fail-on` (default high)."""
    policy_path: Path | None = None
    offline: bool = False
    db_path: Path | None = None
    exclude_dev: bool = False
    resolve: str = "none"
    python: Path | None = None
    pip_args: tuple[str, ...] = ()
    parse_as: dict[Path, str] = field(default_factory=dict)
    osv_api_url: str | None = None


def build_graph(target: Path, options: ScanOptions) -> tuple[DependencyGraph, list[str]]:
    """The project's graph and notes about what it could not complete."""
    from depguard.discover import load_project

    files = list(options.parse_as) if options.parse_as else None
    manifests = load_project(target, files=files, parse_as=options.parse_as).manifests
    if options.resolve != "none":
        from depguard.resolve import ResolveMode, resolve_manifests

        mode: ResolveMode = "pip" if options.resolve == "pip" else "env"
        manifests = resolve_manifests(
            manifests, mode, python=options.python, pip_args=options.pip_args
        )
    graph = DependencyGraph.build(manifests)
    notes = [
        f"{m.path}: no lockfile, so only direct dependencies are known "
        "(partial graph; use --resolve env or --resolve pip)"
        for m in graph.partial_manifests()
        if m.ecosystem is Ecosystem.PYPI
    ]
    notes += [
        f"{s.source or '?'}{':' + str(s.line) if s.line else ''}: {s.name}: {s.reason}"
        for s in graph.skipped()
    ]
    return graph, notes


def advisory_sources(
    ecosystems: set[Ecosystem], options: ScanOptions, notes: list[str], online_api: bool = True
) -> list[AdvisorySource]:
    """The curated feed always; the offline database when present; OSV online to fill gaps.

    `online_api=False` is for callers that query an online service themselves (pip-audit).
    """
    from depguard.advisories.db import default_db_path

    sources: list[AdvisorySource] = [CuratedSource()]
    db_path = options.db_path or default_db_path()
    covered: set[Ecosystem] = set()
    if db_path.is_file():
        offline = OfflineSource(db_path)
        sources.append(offline)
        covered = {e for e in ecosystems if offline.covers(e)}
        if offline.describe()["stale"]:
            notes.append(
                f"advisory database {db_path} is more than 7 days old: run `depguard db sync`"
            )
    missing = sorted(e.value for e in ecosystems - covered)
    if missing and not options.offline and online_api:
        from depguard.advisories.osv_api import OsvApiSource

        sources.append(OsvApiSource(base_url=options.osv_api_url))
    elif missing and (options.offline or online_api):
        where = f"database {db_path}" if db_path.is_file() else f"database (none at {db_path})"
        notes.append(
            f"no advisory data for {', '.join(missing)} in the {where}: only the curated "
            "feed of headline incidents was checked; run `depguard db sync` or "
            "`depguard db import`"
        )
    return sources


def policy_notes(outcome: PolicyOutcome) -> list[str]:
    """What the policy did, for the report: nothing it decided is silent."""
    return [
        *outcome.notes,
        *outcome.expired,
        *(f"unused policy entry: {entry}" for entry in outcome.unused),
        *(f"allowed: {f.rule} {f.package} {f.version or ''}".rstrip() + f" ({why})"
          for f, why in outcome.suppressed),
    ]


def gate_findings(findings: list[Finding], target: Path, options: ScanOptions,
                  notes: list[str]) -> tuple[list[Finding], str]:
    """Apply the project's policy (and a --fail-on override) to findings."""
    from depguard.policy import apply_policy, load_policy

    root = target if target.is_dir() else target.parent
    policy = load_policy(root, options.policy_path)
    if options.fail_on is not None:
        policy = replace(policy, fail_on=options.fail_on)
    outcome = apply_policy(findings, policy, date.today())
    notes += policy_notes(outcome)
    return outcome.findings, policy.fail_on


def scan(target: Path, options: ScanOptions) -> Report:
    from depguard.matching import match_graph

    graph, notes = build_graph(target, options)
    packages = graph.packages()
    if options.exclude_dev:
        packages = [d for d in packages if d.scope is not Scope.DEV]
    sources = advisory_sources({d.ecosystem for d in packages}, options, notes)
    outcome = match_graph(graph, packages, sources)
    findings, fail_on = gate_findings(outcome.findings, target, options, notes)
    return Report(
        command="scan",
        target=str(target),
        packages=packages,
        direct={d.id for d in packages if graph.is_direct(d)},
        findings=findings,
        unevaluated=outcome.unevaluated,
        notes=notes,
        fail_on=fail_on,
        advisory_data={"sources": [s.describe() for s in sources]},
    )


def scan_env(options: ScanOptions, python: Path | None) -> Report:
    """Audit an installed environment: pip-audit's service plus depguard's own advisory data."""
    from depguard import pipaudit
    from depguard.matching import match_graph

    env = pipaudit.locate_environment(python)
    own_notes: list[str] = []
    sources = advisory_sources({Ecosystem.PYPI}, options, own_notes, online_api=False)
    if options.offline:
        deps = pipaudit.installed_packages(env.paths)
        notes = ["--offline: pip-audit was not consulted; only depguard's own advisory data "
                 "(curated feed, offline database) was used", *own_notes]
    else:
        deps = pipaudit.run_pip_audit(env.paths)
        notes = own_notes
    graph = pipaudit.env_graph(env, deps)
    packages = graph.packages()
    outcome = match_graph(graph, packages, sources)
    theirs = pipaudit.pip_audit_findings(graph, deps, sources)
    fail_on = options.fail_on or "high"
    findings = [replace(f, blocking=fails(f.severity, fail_on))
                for f in pipaudit.merge_findings(outcome.findings, theirs)]
    described = [s.describe() for s in sources]
    if not options.offline:
        described.append({"name": "pip-audit", "version": pipaudit.pip_audit_version(),
                          "service": "osv", "ecosystems": [Ecosystem.PYPI.value]})
    return Report(
        command="scan",
        target=str(env.prefix),
        packages=packages,
        direct={d.id for d in packages},
        findings=findings,
        unevaluated=outcome.unevaluated + pipaudit.skipped_entries(env, deps),
        notes=notes,
        fail_on=fail_on,
        advisory_data={"sources": described},
    )


def flag_graph(graph: DependencyGraph, db_path: Path | None = None) -> list[Finding]:
    """Advisory findings for a graph from local data only (curated feed and database)."""
    from depguard.matching import match_graph

    options = ScanOptions(offline=True, db_path=db_path)
    packages = graph.packages()
    sources = advisory_sources({d.ecosystem for d in packages}, options, [])
    return match_graph(graph, packages, sources).findings
