"""Audit an installed Python environment through pip-audit (`depguard scan --env`).

pip-audit does what it is best at: listing an installed environment (`pip list
--path`) and asking its vulnerability service (OSV by default, or PyPI's JSON
API). It always runs with depguard's own interpreter, pointed at the target's
site-packages with `--path`: the target interpreter is only probed with site
hooks off (`-I -S`), so no `.pth` file of an environment under audit (the
litellm 1.82.8 payload was one) ever runs. pip-audit is a subprocess and only
its JSON output is read (its `pip_audit._...` modules are private); the fields
read are pinned in `PINNED_FIELDS`, and any other shape is an error, not a
silent empty audit.

Its results become depguard `Finding`s. pip-audit gives no severity, so each
id and alias is looked up in depguard's own advisory sources (curated feed,
offline database); failing that, the finding is `UNKNOWN_SEVERITY_AS` and its
message says so. Findings of depguard's own matcher over the same packages
(always run, so the curated feed is checked even when the online service says
nothing) absorb a pip-audit result for the same package and version whose ids
overlap, so one issue is reported once.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

from packaging.version import InvalidVersion, Version

from depguard.advisories.aliases import primary_id
from depguard.advisories.osv_record import SEVERITIES, Advisory
from depguard.advisories.sources import AdvisorySource
from depguard.errors import NetworkError, UsageError
from depguard.graph import DependencyGraph
from depguard.matching import UNKNOWN_SEVERITY_AS, suggest_action
from depguard.models import (
    CanonicalName,
    Dependency,
    Ecosystem,
    Edge,
    ParsedManifest,
    Root,
    canonical_name,
)
from depguard.report import Finding, Severity, Unevaluated

__all__ = [
    "PINNED_FIELDS", "SERVICES", "AuditedDep", "AuditedVuln", "Environment", "env_graph",
    "installed_packages", "locate_environment", "merge_findings", "parse_pip_audit_json",
    "pip_audit_command", "pip_audit_findings", "pip_audit_version", "run_pip_audit",
    "skipped_entries",
]

SERVICES = ("osv", "pypi")
PIP_AUDIT_TIMEOUT = 900
PINNED_FIELDS: Mapping[str, frozenset[str]] = {
    "report": frozenset({"dependencies", "fixes"}),
    "dependency": frozenset({"name", "version", "vulns"}),
    "skipped": frozenset({"name", "skip_reason"}),
    "vuln": frozenset({"id", "fix_versions", "aliases", "description"}),
}
"""The keys of pip-audit's `--format json --desc on --aliases on` output, per object kind."""

_PYPI = Ecosystem.PYPI
_NETWORK = re.compile(
    r"ConnectionError|ConnectTimeout|ReadTimeout|ProxyError|SSLError|Max retries exceeded|"
    r"NewConnectionError|Name or service not known|Temporary failure in name resolution|"
    r"Network is unreachable|Could not connect|HTTPError|ServiceError"
)
_LOG_PREFIX = re.compile(r"^(?:ERROR|WARNING|CRITICAL):[\w.]+:\s*")
_QUALIFIED = re.compile(r"^(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_]\w*(?:Error|Exception|Timeout)\b)")
_MAX_TEXT = 300


@dataclass(frozen=True, slots=True)
class AuditedVuln:
    """One vulnerability pip-audit reports for a package."""

    id: str
    aliases: tuple[str, ...] = ()
    fix_versions: tuple[str, ...] = ()
    description: str = ""

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self.aliases) | {self.id}


@dataclass(frozen=True, slots=True)
class AuditedDep:
    """One installed distribution: audited (with a version) or skipped (with a reason)."""

    name: CanonicalName
    version: str | None
    vulns: tuple[AuditedVuln, ...] = ()
    skip_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Environment:
    """An installed environment: its interpreter, its prefix and its site-packages folders."""

    python: Path
    prefix: Path
    paths: tuple[str, ...]

    @property
    def root(self) -> Root:
        return Root(name=self.prefix.name or str(self.prefix), source=str(self.prefix),
                    ecosystem=_PYPI)


def locate_environment(python: Path | None) -> Environment:
    """The environment of `python` (an interpreter or a virtualenv folder; default: this one)."""
    from depguard.resolve import interpreter, probe_environment

    exe = interpreter(python) if python is not None else Path(sys.executable)
    _, paths = probe_environment(exe)
    if python is not None and python.is_dir():
        prefix = python
    elif exe.parent.name in ("bin", "Scripts"):
        prefix = exe.parent.parent
    else:
        prefix = exe.parent
    return Environment(python=exe, prefix=prefix.absolute(), paths=tuple(paths))


# --- running pip-audit -------------------------------------------------------------------


def pip_audit_version() -> str | None:
    try:
        return importlib.metadata.version("pip-audit")
    except importlib.metadata.PackageNotFoundError:
        return None


def pip_audit_command(
    paths: Sequence[str], service: str = "osv", cache_dir: Path | None = None
) -> list[str]:
    """The pip-audit command line for auditing the site-packages folders `paths`."""
    if service not in SERVICES:
        choices = ", ".join(SERVICES)
        raise UsageError(f"unknown pip-audit service {service!r} (choose from {choices})")
    command = [sys.executable, "-m", "pip_audit", "--format", "json", "--desc", "on",
               "--aliases", "on", "--progress-spinner", "off", "--vulnerability-service", service]
    for path in paths:
        command += ["--path", path]
    if cache_dir is not None:
        command += ["--cache-dir", str(cache_dir)]
    return command


def run_pip_audit(
    paths: Sequence[str],
    service: str = "osv",
    cache_dir: Path | None = None,
    timeout: float = PIP_AUDIT_TIMEOUT,
) -> list[AuditedDep]:
    """Run pip-audit over `paths`; a failure raises NetworkError or UsageError (one line)."""
    if pip_audit_version() is None:
        raise UsageError("pip-audit is not installed in depguard's environment "
                         f"({sys.prefix}): pip install pip-audit")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
           "PYTHONIOENCODING": "utf-8", "PIPAPI_PYTHON_LOCATION": sys.executable}
    try:
        proc = subprocess.run(pip_audit_command(paths, service, cache_dir), capture_output=True,
                              text=True, encoding="utf-8", errors="replace", env=env,
                              stdin=subprocess.DEVNULL, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise NetworkError(f"pip-audit ({service} service): no answer after {timeout:g}s") from exc
    except OSError as exc:
        raise UsageError(f"pip-audit: cannot run {sys.executable}: {exc}") from exc
    # pip-audit exits 1 when it found vulnerabilities: the JSON on stdout is what counts.
    if proc.returncode in (0, 1) and proc.stdout.strip().startswith("{"):
        return parse_pip_audit_json(proc.stdout)
    raise _failure(proc.stderr, proc.returncode, service)


def _failure(stderr: str, returncode: int, service: str) -> NetworkError | UsageError:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    meaningful = [line for line in lines if not line.startswith(("Traceback", "File ", "^", "~"))]
    last = meaningful[-1] if meaningful else f"exit status {returncode}"
    last = _QUALIFIED.sub("", _LOG_PREFIX.sub("", last))
    if len(last) > _MAX_TEXT:
        last = last[: _MAX_TEXT - 1] + "…"
    if _NETWORK.search(stderr):
        return NetworkError(f"pip-audit could not reach its {service} vulnerability service: "
                            f"{last} (use --offline to check depguard's own data only)")
    return UsageError(f"pip-audit failed: {last}")


# --- reading pip-audit's JSON ------------------------------------------------------------


class _Shape:
    """Typed reads of pip-audit's JSON; a surprise names the field path."""

    def __init__(self, where: str, data: object, kind: str) -> None:
        if not isinstance(data, dict):
            self.fail(where, f"expected an object, got {type(data).__name__}")
        unknown = set(data) - PINNED_FIELDS[kind]
        if unknown:
            self.fail(where, f"unexpected field(s) {', '.join(sorted(unknown))}")
        self.where, self.data = where, dict(data)

    @staticmethod
    def fail(where: str, message: str) -> NoReturn:
        raise UsageError(f"pip-audit {pip_audit_version() or '?'} JSON output, {where}: {message} "
                         "(the format depguard reads has changed)")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            self.fail(f"{self.where}.{key}", "expected a string")
        return str(value)

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{self.where}.{key}", "expected a list of strings")
        return tuple(value)

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if not isinstance(value, list):
            self.fail(f"{self.where}.{key}", "expected a list")
        return list(value)


def parse_pip_audit_json(text: str) -> list[AuditedDep]:
    """pip-audit's `--format json` document as AuditedDep values."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"pip-audit JSON output: not JSON: {exc}") from exc
    report = _Shape("top level", data, "report")
    return [_dependency(f"dependencies[{i}]", item)
            for i, item in enumerate(report.items("dependencies"))]


def _dependency(where: str, item: object) -> AuditedDep:
    skipped = isinstance(item, dict) and "skip_reason" in item
    dep = _Shape(where, item, "skipped" if skipped else "dependency")
    name = canonical_name(_PYPI, dep.text("name"))
    if skipped:
        return AuditedDep(name, None, skip_reason=dep.text("skip_reason"))
    vulns = tuple(_vuln(f"{where}.vulns[{i}]", v) for i, v in enumerate(dep.items("vulns")))
    return AuditedDep(name, dep.text("version"), vulns)


def _vuln(where: str, item: object) -> AuditedVuln:
    vuln = _Shape(where, item, "vuln")
    return AuditedVuln(vuln.text("id"), vuln.texts("aliases"), vuln.texts("fix_versions"),
                       vuln.text("description", ""))


# --- without pip-audit -------------------------------------------------------------------


def installed_packages(paths: Sequence[str]) -> list[AuditedDep]:
    """The distributions in `paths` (importlib.metadata; the first on the path wins)."""
    found: dict[str, AuditedDep] = {}
    for dist in importlib.metadata.distributions(path=list(paths)):
        raw_name, raw_version = _field(dist, "Name"), _field(dist, "Version")
        if not raw_name:
            continue
        name = canonical_name(_PYPI, raw_name)
        if name in found:
            continue
        try:
            found[name] = AuditedDep(name, str(Version(str(raw_version))))
        except InvalidVersion:
            reason = f"invalid version {raw_version!r}, so it could not be audited"
            found[name] = AuditedDep(name, None, skip_reason=reason)
    return sorted(found.values(), key=lambda d: d.name)


def _field(dist: importlib.metadata.Distribution, key: str) -> str | None:
    try:
        value: str | None = dist.metadata[key]
    except KeyError:  # Python 3.12+ raises where 3.11 returns None
        return None
    return value


# --- into depguard's model ---------------------------------------------------------------


def env_graph(env: Environment, deps: Sequence[AuditedDep]) -> DependencyGraph:
    """A flat graph: the environment is the root and every versioned package hangs off it."""
    manifest = ParsedManifest(path=str(env.prefix), kind="environment", ecosystem=_PYPI,
                              roots=[env.root], locked=True)
    for audited in deps:
        if audited.version is None:
            continue
        dep = Dependency(ecosystem=_PYPI, name=audited.name, version=audited.version,
                         direct=True, source=str(env.prefix))
        manifest.edges.append(Edge(parent=env.root.id, child=manifest.add_package(dep)))
    return DependencyGraph.build([manifest])


def skipped_entries(env: Environment, deps: Sequence[AuditedDep]) -> list[Unevaluated]:
    return [Unevaluated(_PYPI, d.name, None, f"skipped: {d.skip_reason}",
                        str(env.prefix)) for d in deps if d.skip_reason is not None]


def pip_audit_findings(
    graph: DependencyGraph, deps: Sequence[AuditedDep], sources: Sequence[AdvisorySource]
) -> list[Finding]:
    """pip-audit's vulnerabilities as findings, with severities from depguard's own data."""
    packages = {d.name: d for d in graph.packages()}
    audited = [(packages[d.name], d.vulns) for d in deps if d.vulns and d.name in packages]
    known: dict[tuple[Ecosystem, str], list[Advisory]] = {}
    for source in sources:
        for key, advisories in source.query([dep for dep, _ in audited]).items():
            known.setdefault(key, []).extend(advisories)
    return [_finding(graph, dep, vuln, known.get((_PYPI, dep.name), []))
            for dep, vulns in audited for vuln in vulns]


def _finding(
    graph: DependencyGraph, dep: Dependency, vuln: AuditedVuln, known: Sequence[Advisory]
) -> Finding:
    assert dep.version is not None
    same = [a for a in known if a.ids & vuln.ids]
    malicious = any(i.startswith("MAL-") for i in vuln.ids) or any(a.malicious for a in same)
    rated = [a.severity for a in same if a.severity is not None]
    worst = max(rated, key=SEVERITIES.index) if rated else None
    severity = Severity.MALICIOUS if malicious else Severity(worst or UNKNOWN_SEVERITY_AS.value)
    main = primary_id(vuln.ids)
    about = _short(vuln.description) or main
    label = f"{dep.name} {dep.version}"
    if malicious:
        message = f"{label} is a known malicious release ({main}: {about})"
    else:
        unknown = "" if worst else (f" (pip-audit gives no severity and depguard's data has none "
                                    f"for it; treated as {UNKNOWN_SEVERITY_AS})")
        message = f"{label} is vulnerable: {main} {about}{unknown}"
    clearing = _clearing(dep.version, vuln.fix_versions)
    chains, _ = graph.chains(dep)
    return Finding(
        rule="malicious-package" if malicious else "vulnerable-version",
        severity=severity, ecosystem=_PYPI, package=dep.name, version=dep.version,
        message=message + " [pip-audit]", action=suggest_action(graph, dep, malicious, clearing),
        id=main, aliases=tuple(sorted(vuln.ids - {main})), fixed=_sorted(vuln.fix_versions),
        clearing_version=clearing, paths=tuple(tuple(c.names()) for c in chains),
        file=dep.source or None,
    )


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _sorted(versions: Sequence[str]) -> tuple[str, ...]:
    unique = set(versions)
    parsed = sorted((v for v in unique if _version(v) is not None), key=Version)
    return tuple(parsed + sorted(v for v in unique if _version(v) is None))


def _clearing(installed: str, fixes: Sequence[str]) -> str | None:
    current = _version(installed)
    if current is None:
        return None
    later = [v for v in _sorted(fixes) if (_version(v) or current) > current]
    return later[0] if later else None


def merge_findings(own: Sequence[Finding], theirs: Sequence[Finding]) -> list[Finding]:
    """depguard's findings, each absorbing pip-audit's for the same issue; then the rest."""
    merged = list(own)
    extra: list[Finding] = []
    for finding in theirs:
        ids = {finding.id or "", *finding.aliases} - {""}
        index = next((i for i, f in enumerate(merged) if _same_issue(f, finding, ids)), None)
        if index is None:
            extra.append(finding)
            continue
        kept = merged[index]
        aliases = ({*kept.aliases} | ids) - {kept.id or ""}
        merged[index] = replace(kept, aliases=tuple(sorted(aliases)),
                                fixed=_sorted([*kept.fixed, *finding.fixed]))
    return merged + extra


def _same_issue(kept: Finding, other: Finding, ids: set[str]) -> bool:
    return ((kept.ecosystem, kept.package, kept.version)
            == (other.ecosystem, other.package, other.version)
            and bool(ids & ({kept.id or "", *kept.aliases} - {""})))
