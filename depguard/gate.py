"""The merge gate: what a change adds to the dependency surface, scored, under a policy."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from depguard.audit import ScanOptions, advisory_sources, policy_notes
from depguard.checks.base import Candidate, CheckContext
from depguard.graphdiff import GraphDiff, diff_graphs, load_side, manifest_dirs
from depguard.models import Dependency, Ecosystem
from depguard.report import Finding, Report

__all__ = ["SCORE_CAP", "CheckOptions", "run_check"]

SCORE_CAP = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOptions:
    fail_on: str | None = None
    """None: the policy's `fail-on` (default high)."""
    offline: bool = False
    db_path: Path | None = None
    policy_path: Path | None = None
    osv_api_url: str | None = None
    now: datetime | None = None


def run_check(change: Any, options: CheckOptions, command: str = "check") -> Report:
    """Evaluate a gitio.Change: graph diff, new imports, per-package checks, policy."""
    from depguard.policy import apply_policy, load_policy

    policy = load_policy(change.root, options.policy_path, change.head.reader)
    if options.fail_on is not None:
        policy = replace(policy, fail_on=options.fail_on)
    now = options.now or datetime.now(UTC)
    paths = [c.path for c in change.changed] + [c.old_path for c in change.changed if c.old_path]
    folders = manifest_dirs(paths)
    diff = diff_graphs(load_side(change.base, folders), load_side(change.head, folders))
    imports = _new_imports(change, diff)
    notes = [f"{c.path}: {c.note}" for c in change.changed if c.note]
    findings = _graph_findings(diff, policy.max_new_transitive)
    findings += _advisory_findings(diff, options, notes)
    findings += _project_script_findings(change, folders)
    findings += [_undeclared(item) for item in imports if item.kind.name == "UNDECLARED"]
    ctx = _context(options, policy, now)
    try:
        findings += _candidate_findings(_candidates(diff, imports), ctx)
    finally:
        if ctx.registry is not None:
            ctx.registry.close()
    outcome = apply_policy(findings, policy, now.date())
    notes += [f"not checked: {s}" for s in dict.fromkeys(ctx.skipped)]
    notes += policy_notes(outcome)
    return _report(command, change, diff, imports, outcome.findings, notes, policy.fail_on)


def _graph_findings(diff: GraphDiff, max_new_transitive: int) -> list[Finding]:
    from depguard.checks import heavy_dependency, install_script, new_dependency, new_transitive

    return [
        *new_dependency.check_diff(diff),
        *new_transitive.check_diff(diff),
        *install_script.check_diff(diff),
        *heavy_dependency.check_diff(diff, max_new_transitive),
    ]


def _advisory_findings(diff: GraphDiff, options: CheckOptions, notes: list[str]) -> list[Finding]:
    from depguard.matching import match_graph

    targets = [d.dep for d in [*diff.added, *diff.changed] if d.dep is not None]
    if not targets:
        return []
    scan = ScanOptions(
        offline=options.offline, db_path=options.db_path, osv_api_url=options.osv_api_url
    )
    sources = advisory_sources({d.ecosystem for d in targets}, scan, notes)
    outcome = match_graph(diff.head, targets, sources)
    notes += [
        f"not evaluated: {u.package} {u.version or ''}: {u.reason}".replace("  ", " ")
        for u in outcome.unevaluated
        if u.version
    ]
    return outcome.findings


def _project_script_findings(change: Any, folders: Sequence[str]) -> list[Finding]:
    """Lifecycle scripts added to the project's own package.json files."""
    from depguard.checks.install_script import check_project_scripts
    from depguard.parsers.base import line_of, load_json
    from depguard.parsers.package_json import install_scripts

    findings: list[Finding] = []
    for folder in folders:
        rel = posixpath.join(folder, "package.json")
        head = change.head.text(rel)
        if head is None:
            continue
        base = change.base.text(rel)
        after = load_json(rel, head)
        before = load_json(rel, base) if base is not None else {}
        scripts = install_scripts(after) if isinstance(after, dict) else []
        old = install_scripts(before) if isinstance(before, dict) else []
        findings += check_project_scripts(rel, line_of(head, '"scripts"'), scripts, old)
    return findings


def _new_imports(change: Any, diff: GraphDiff) -> list[Any]:
    """New third-party-relevant imports in changed source files, classified."""
    from depguard.import_classify import ImportClassifier
    from depguard.imports import new_js_imports, new_python_imports, source_language

    refs = []
    for item in change.changed:
        language = source_language(item.path)
        if item.status == "D" or language is None:
            continue
        head = change.head.text(item.path)
        if head is None:
            continue
        base = change.base.text(item.old_path or item.path)
        finder = new_python_imports if language == "python" else new_js_imports
        added = change.added_lines(item.path)
        refs += [r for r in finder(base, head, item.path) if added is None or r.line in added]
    if not refs:
        return []
    declared = _declared(change.head)
    classifier = ImportClassifier.for_project(change.head.files(), change.head.text, declared)
    return [classifier.classify(ref) for ref in refs]


def _declared(snapshot: Any) -> dict[Ecosystem, set[str]]:
    """Every dependency any manifest at this side declares, by ecosystem."""
    from depguard.discover import SKIP_DIRS
    from depguard.parsers import parser_for

    declared: dict[Ecosystem, set[str]] = {e: set() for e in Ecosystem}
    for rel in snapshot.files():
        if SKIP_DIRS.intersection(rel.split("/")[:-1]):
            continue
        parser = parser_for(Path(rel))
        if parser is None:
            continue
        manifest = parser.parse(snapshot.root / rel, rel, snapshot.reader)
        direct = [d for d in manifest.packages.values() if d.direct]
        declared[manifest.ecosystem].update(d.name for d in direct)
        declared[manifest.ecosystem].update(d.alias.lower() for d in direct if d.alias)
    return declared


def _undeclared(item: Any) -> Finding:
    from depguard.report import Severity

    ref = item.ref
    eco = Ecosystem.PYPI if ref.language == "python" else Ecosystem.NPM
    dist = _canonical(eco, item.distribution or ref.top)
    manifest = "pyproject.toml or requirements" if eco is Ecosystem.PYPI else "package.json"
    return Finding(
        rule="undeclared-import",
        severity=Severity.MODERATE,
        ecosystem=eco,
        package=dist,
        version=None,
        message=f"`{ref.module}` is imported but {item.reason}",
        action=f"declare {dist} in {manifest}, or remove the import",
        file=ref.file,
        line=ref.line,
        score=15,
    )


def _candidates(diff: GraphDiff, imports: Iterable[Any]) -> list[Candidate]:
    """Every package the change adds or moves, plus third-party imports no manifest adds."""
    found: dict[tuple[Ecosystem, str], Candidate] = {}
    for delta in [*diff.added, *diff.changed]:
        dep = delta.dep
        if dep is None:
            continue
        found[(dep.ecosystem, dep.name)] = _from_dep(
            dep, delta.direct, delta.before, delta.introduced_by
        )
    for item in imports:
        if item.kind.name != "UNDECLARED":
            continue  # a declared import's package is scored where its manifest adds it
        eco = Ecosystem.PYPI if item.ref.language == "python" else Ecosystem.NPM
        name = _canonical(eco, item.distribution or item.ref.top)
        found.setdefault(
            (eco, name),
            Candidate(
                ecosystem=eco, name=name, file=item.ref.file, line=item.ref.line, origin="import"
            ),
        )
    return list(found.values())


def _canonical(eco: Ecosystem, name: str) -> str:
    from depguard.models import canonical_name

    return canonical_name(eco, name)


def _from_dep(
    dep: Dependency,
    direct: bool,
    before: tuple[str, ...],
    parents: tuple[Dependency, ...],
) -> Candidate:
    return Candidate(
        ecosystem=dep.ecosystem,
        name=dep.name,
        version=dep.version,
        specifier=dep.specifier,
        file=dep.source or None,
        line=dep.line,
        direct=direct,
        origin="lockfile" if dep.version and not dep.specifier else "manifest",
        introduced_by=tuple(p.label() for p in parents if p.id != dep.id),
        previous_version=", ".join(before) or None,
        install_script=dep.install_script,
    )


def _context(options: CheckOptions, policy: Any, now: datetime) -> CheckContext:
    registry = None
    if not options.offline:
        from depguard.registry import RegistryClient

        registry = RegistryClient()
    return CheckContext(
        registry=registry,
        now=now,
        cooldown=policy.cooldown,
        max_new_transitive=policy.max_new_transitive,
    )


def _candidate_checks() -> list[
    tuple[str, Callable[[Candidate, CheckContext], list[Finding]], Callable[[Candidate], bool]]
]:
    from depguard.checks import fresh_release, stdlib_alternative, typosquat, unknown_package

    def new_and_direct(c: Candidate) -> bool:
        """Name-level checks only concern packages the change adds, not version bumps."""
        return c.previous_version is None and (c.direct or c.origin == "import")

    def everything(c: Candidate) -> bool:
        return True

    return [
        (stdlib_alternative.RULE, stdlib_alternative.check, new_and_direct),
        (unknown_package.RULE, unknown_package.check, new_and_direct),
        (typosquat.RULE, typosquat.check, new_and_direct),
        (fresh_release.RULE, fresh_release.check, everything),
    ]


def _candidate_findings(candidates: Sequence[Candidate], ctx: CheckContext) -> list[Finding]:
    findings: list[Finding] = []
    for _rule, check, applies in _candidate_checks():
        for candidate in candidates:
            if applies(candidate):
                findings += check(candidate, ctx)
    return findings


def _scores(findings: Sequence[Finding]) -> dict[tuple[str, str], dict[str, Any]]:
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for finding in findings:
        entry = table.setdefault(
            (finding.ecosystem.value, finding.package), {"score": 0, "components": []}
        )
        points = SCORE_CAP if finding.rule == "malicious-package" else finding.score
        entry["components"].append({"rule": finding.rule, "points": points})
        entry["score"] = min(SCORE_CAP, entry["score"] + points)
    return table


def _report(
    command: str,
    change: Any,
    diff: GraphDiff,
    imports: Sequence[Any],
    findings: list[Finding],
    notes: list[str],
    fail_on: str,
) -> Report:
    scores = _scores(findings)
    changes = diff.to_json()
    for entry in [*changes["added"], *changes["changed"]]:
        scored = scores.get((entry["ecosystem"], entry["name"]), {"score": 0, "components": []})
        entry["score"] = scored["score"]
        entry["reasons"] = sorted({c["rule"] for c in scored["components"]})
    packages = [d.dep for d in [*diff.added, *diff.changed] if d.dep is not None]
    return Report(
        command=command,
        target=f"{change.base.label}..{change.head.label}",
        packages=packages,
        direct={d.dep.id for d in [*diff.added, *diff.changed] if d.dep is not None and d.direct},
        findings=findings,
        changes=changes,
        imports=[_import_json(i, scores) for i in imports],
        notes=notes,
        fail_on=fail_on,
    )


def _import_json(item: Any, scores: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    ref = item.ref
    eco = "PyPI" if ref.language == "python" else "npm"
    dist = item.distribution
    return {
        "module": ref.module,
        "package": dist,
        "file": ref.file,
        "line": ref.line,
        "language": ref.language,
        "kind": item.kind.name.lower().replace("_", "-"),
        "reason": item.reason,
        "score": scores.get((eco, _canonical(Ecosystem(eco), dist)), {}).get("score", 0)
        if dist
        else 0,
    }
