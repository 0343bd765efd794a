"""Turn unlocked PyPI manifests into full transitive graphs, without a resolver of our own.

``env`` reads the metadata of an installed environment (``importlib.metadata``); an
environment other than depguard's own is only asked, with site hooks off (``-I -S``),
for its paths and marker values, so no ``.pth`` file in it ever runs. ``pip`` runs pip's
own resolver (``pip install --dry-run --ignore-installed --only-binary :all: --report``),
wheels only, so no package's build code runs. Both then walk ``Requires-Dist`` the same way.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from packaging.markers import (
    InvalidMarker,
    Marker,
    UndefinedComparison,
    UndefinedEnvironmentName,
    default_environment,
)
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from depguard.errors import NetworkError, UsageError
from depguard.models import (
    SCOPE_RANK,
    CanonicalName,
    Dependency,
    Ecosystem,
    Edge,
    ParsedManifest,
    Scope,
    Skipped,
    canonical_name,
)

__all__ = ["ResolveMode", "resolve_manifests"]

ResolveMode = Literal["env", "pip"]
PIP_TIMEOUT = 900
_PYPI = Ecosystem.PYPI
_EXTRA_IN_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']|["']([^"']+)["']\s*==\s*extra""")

# Runs inside the target interpreter with -I -S: stdlib only, old-Python syntax. It repeats
# site.venv() (a venv's prefix is set by site) and packaging.markers.default_environment().
_PROBE = r"""
import json, os, platform, sys, sysconfig
def full(info):
    text = "%d.%d.%d" % (info.major, info.minor, info.micro)
    return text if info.releaselevel == "final" else text + info.releaselevel[0] + str(info.serial)
exe_dir = os.path.dirname(os.path.abspath(sys.executable))
prefix, system = os.path.dirname(exe_dir), True
confs = [c for c in (os.path.join(exe_dir, "pyvenv.cfg"), os.path.join(prefix, "pyvenv.cfg"))
         if os.path.isfile(c)]
if confs:
    with open(confs[0]) as f:
        for line in f:
            key, _, value = line.partition("=")
            if key.strip().lower() == "include-system-site-packages":
                system = value.strip().lower() == "true"
else:
    prefix = sys.prefix
venv = sysconfig.get_paths(vars={"base": prefix, "platbase": prefix})
paths = [venv["purelib"], venv["platlib"]]
if confs and system:
    base = sysconfig.get_paths()
    paths += [base["purelib"], base["platlib"]]
env = {
    "implementation_name": sys.implementation.name,
    "implementation_version": full(sys.implementation.version),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}
sys.stdout.write(json.dumps({"paths": paths, "environment": env}))
"""


@dataclass(frozen=True, slots=True)
class _Dist:
    """One installed (env) or to-be-installed (pip) distribution."""

    name: CanonicalName
    version: str
    requires: tuple[str, ...]
    resolved: str | None = None
    hashes: tuple[str, ...] = ()


@dataclass(slots=True)
class _Target:
    """Where versions come from: the distributions and the marker environment they match."""

    label: str
    environment: dict[str, str]
    dists: dict[str, _Dist] = field(default_factory=dict)
    missing: str = "missing from pip's resolution"


@dataclass(frozen=True, slots=True)
class _Direct:
    """A root -> package edge of the original manifest and the package it points to."""

    edge: Edge
    dep: Dependency
    spec: SpecifierSet


def resolve_manifests(
    manifests: Sequence[ParsedManifest],
    mode: ResolveMode,
    *,
    python: Path | None = None,
    pip_args: Sequence[str] = (),
) -> list[ParsedManifest]:
    """Replace every unlocked PyPI manifest by its resolved graph; others are returned as is.

    ``python`` is an interpreter or a virtual environment folder; default: depguard's own.
    In ``pip`` mode it runs ``python -m pip``, which starts that interpreter normally (its
    site hooks included): for an environment you do not trust, use ``env`` mode.
    """
    if mode not in ("env", "pip"):
        raise UsageError(f"unknown resolve mode {mode!r} (known: env, pip)")
    if not any(_needs_resolving(m) for m in manifests):
        return list(manifests)
    exe = interpreter(python) if python is not None else None
    label = str(python) if python is not None else f"the running environment ({sys.prefix})"
    if exe is not None:
        environment, paths = probe_environment(exe)
    else:
        environment, paths = _current_environment(), None
    installed = _Target(label, environment, _installed(paths), f"not installed in {label}") \
        if mode == "env" else None
    result: list[ParsedManifest] = []
    for manifest in manifests:
        if not _needs_resolving(manifest):
            result.append(manifest)
            continue
        directs, skipped = _directs(manifest, environment, label)
        if installed is not None:
            target = installed
        else:
            target = _pip_target(exe or Path(sys.executable), directs, skipped, pip_args,
                                 manifest.path)
        result.append(_build(manifest, directs, skipped, target))
    return result


def _needs_resolving(manifest: ParsedManifest) -> bool:
    return manifest.ecosystem is _PYPI and not manifest.locked


def interpreter(python: Path) -> Path:
    if python.is_dir():
        for relative in ("bin/python", "bin/python3", "Scripts/python.exe"):
            if (python / relative).is_file():
                return python / relative
        raise UsageError(f"{python}: no Python interpreter in this folder "
                         "(looked for bin/python and Scripts/python.exe)")
    if python.is_file():
        return python
    raise UsageError(f"{python}: no such interpreter or virtual environment")


def _current_environment() -> dict[str, str]:
    return {str(key): str(value) for key, value in default_environment().items()}


def probe_environment(exe: Path) -> tuple[dict[str, str], list[str]]:
    """Ask `exe` (-I -S: no site hooks, nothing of its environment runs) for paths, markers."""
    try:
        proc = subprocess.run([str(exe), "-I", "-S", "-c", _PROBE], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"{exe}: cannot run the interpreter: {exc}") from exc
    if proc.returncode != 0:
        last = _last_line(proc.stderr, proc.returncode)
        raise UsageError(f"{exe}: the interpreter failed: {last}")
    try:
        data = json.loads(proc.stdout)
        paths = [str(p) for p in data["paths"]]
        environment = {str(k): str(v) for k, v in data["environment"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"{exe}: unexpected answer from the interpreter: {exc}") from exc
    return environment, list(dict.fromkeys(paths))


def _installed(paths: list[str] | None) -> dict[str, _Dist]:
    """Installed distributions by PEP 503 name; the first on the path wins, as at import time."""
    found = importlib.metadata.distributions() if paths is None else \
        importlib.metadata.distributions(path=paths)
    dists: dict[str, _Dist] = {}
    for dist in found:
        try:
            name, version = dist.metadata["Name"], dist.metadata["Version"]
        except KeyError:  # Python 3.12+ raises where 3.11 returns None
            continue
        if not name or not version:
            continue
        key = canonical_name(_PYPI, name)
        dists.setdefault(key, _Dist(key, version, tuple(dist.requires or ())))
    return dists


def _directs(manifest: ParsedManifest, environment: dict[str, str],
             label: str) -> tuple[list[_Direct], list[Skipped]]:
    """The root edges that can be resolved; the others become Skipped entries."""
    root_ids = {root.id for root in manifest.roots}
    edges = [e for e in manifest.edges if e.parent in root_ids and e.child in manifest.packages]
    reached = {e.child for e in edges}
    if manifest.roots:
        root = manifest.roots[0].id
        edges += [Edge(parent=root, child=d.id, specifier=d.specifier, scope=d.scope)
                  for d in manifest.packages.values() if d.direct and d.id not in reached]
    directs: list[_Direct] = []
    skipped: list[Skipped] = []
    for edge in edges:
        dep = manifest.packages[edge.child]
        reason = _unresolvable(dep, environment, label)
        if reason is not None:
            skipped.append(Skipped(dep.name, reason, dep.source, dep.line))
            continue
        directs.append(_Direct(edge, dep, _specifier(edge.specifier, dep.specifier)))
    return directs, _unique(skipped)


def _unresolvable(dep: Dependency, environment: dict[str, str], label: str) -> str | None:
    if dep.resolved:
        return f"direct reference ({dep.resolved}): depguard never fetches or builds it"
    try:
        SpecifierSet(dep.specifier)
    except InvalidSpecifier:
        return f"specifier {dep.specifier!r} is not PEP 440; not resolved"
    if dep.marker:
        extras = {a or b for a, b in _EXTRA_IN_MARKER.findall(dep.marker)}
        try:
            if not _marker_applies(Marker(dep.marker), extras, environment):
                return f"environment marker {dep.marker!r} is false for {label}"
        except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName) as exc:
            return f"cannot evaluate environment marker {dep.marker!r}: {exc}"
    return None


def _specifier(edge_spec: str, dep_spec: str) -> SpecifierSet:
    """The edge's specifier when it is PEP 440 (Poetry edges keep `^1.2`), else the package's."""
    try:
        return SpecifierSet(edge_spec)
    except InvalidSpecifier:
        return SpecifierSet(dep_spec)


def _marker_applies(marker: Marker, extras: Iterable[str], environment: dict[str, str]) -> bool:
    names = [""] + [canonical_name(_PYPI, e) for e in extras]
    return any(marker.evaluate({**environment, "extra": name}) for name in names)


def _build(manifest: ParsedManifest, directs: list[_Direct], skipped: list[Skipped],
           target: _Target) -> ParsedManifest:
    """The locked manifest: root edges as written, then Requires-Dist edges to a fixed point."""
    new = ParsedManifest(path=manifest.path, kind=manifest.kind, ecosystem=manifest.ecosystem,
                         roots=list(manifest.roots), locked=True,
                         skipped=[*manifest.skipped, *skipped])
    notes: list[Skipped] = []
    scopes: dict[str, Scope] = {}
    extras: dict[str, set[str]] = {}
    templates: dict[str, Dependency] = {}
    root_edges: list[Edge] = []
    for direct in directs:
        dep, dist = direct.dep, target.dists.get(direct.dep.name)
        if dist is None:
            notes.append(Skipped(dep.name, target.missing, dep.source, dep.line))
            continue
        _check_version(dist, direct.spec, "the project requires", target, notes,
                       (dep.source, dep.line))
        templates.setdefault(dist.name, replace(
            dep, version=dist.version, direct=True, resolved=dist.resolved,
            hashes=dist.hashes or dep.hashes))
        child = templates[dist.name].id
        root_edges.append(replace(direct.edge, child=child))
        _merge(scopes, extras, dist.name, direct.edge.scope, dep.extras)
    _propagate(scopes, extras, target)
    _emit(new, manifest.path, scopes, extras, templates, target, notes)
    new.edges[:0] = list(dict.fromkeys(root_edges))
    new.skipped.extend(_unique(notes))
    return new


def _merge(scopes: dict[str, Scope], extras: dict[str, set[str]], name: str, scope: Scope,
           more: Iterable[str]) -> bool:
    """Record a stronger scope or new extras for `name`; True when anything changed."""
    old_scope, old_extras = scopes.get(name), extras.setdefault(name, set())
    wanted = {canonical_name(_PYPI, e) for e in more} - old_extras
    if old_scope is not None and SCOPE_RANK[scope] >= SCOPE_RANK[old_scope] and not wanted:
        return False
    if old_scope is None or SCOPE_RANK[scope] < SCOPE_RANK[old_scope]:
        scopes[name] = scope
    old_extras |= wanted
    return True


def _propagate(scopes: dict[str, Scope], extras: dict[str, set[str]], target: _Target) -> None:
    """Scopes and requested extras flow down Requires-Dist until nothing changes."""
    queue = list(scopes)
    while queue:
        name = queue.pop()
        for req in _active(target.dists[name], extras[name], target, None):
            child = canonical_name(_PYPI, req.name)
            if child in target.dists and _merge(scopes, extras, child, scopes[name], req.extras):
                queue.append(child)


def _emit(new: ParsedManifest, source: str, scopes: dict[str, Scope], extras: dict[str, set[str]],
          templates: dict[str, Dependency], target: _Target, notes: list[Skipped]) -> None:
    ids = {name: _node(name, scopes, extras, templates, target, source) for name in scopes}
    seen: set[Edge] = set()
    for node in ids.values():
        new.add_package(node)
    for name in scopes:
        dist = target.dists[name]
        for req in _active(dist, extras[name], target, notes):
            child = target.dists.get(canonical_name(_PYPI, req.name))
            if child is None:
                notes.append(Skipped(req.name, f"required by {dist.name} {dist.version} but "
                                     f"{target.missing}", source))
                continue
            _check_version(child, req.specifier, f"{dist.name} {dist.version} requires", target,
                           notes, (source, None))
            edge = Edge(parent=ids[name].id, child=ids[child.name].id,
                        specifier=str(req.specifier), scope=scopes[name])
            if child.name != name and edge not in seen:
                seen.add(edge)
                new.edges.append(edge)


def _node(name: str, scopes: dict[str, Scope], extras: dict[str, set[str]],
          templates: dict[str, Dependency], target: _Target, source: str) -> Dependency:
    if name in templates:
        return replace(templates[name], scope=scopes[name])
    dist = target.dists[name]
    return Dependency(ecosystem=_PYPI, name=dist.name, version=dist.version, scope=scopes[name],
                      source=source, extras=tuple(sorted(extras[name])), resolved=dist.resolved,
                      hashes=dist.hashes)


def _active(dist: _Dist, extras: set[str], target: _Target,
            notes: list[Skipped] | None) -> list[Requirement]:
    """The Requires-Dist entries whose markers hold for the target and the requested extras."""
    active: list[Requirement] = []
    for text in dist.requires:
        try:
            req = Requirement(text)
            if req.marker is None or _marker_applies(req.marker, extras, target.environment):
                active.append(req)
        except (InvalidRequirement, UndefinedComparison, UndefinedEnvironmentName) as exc:
            if notes is not None:
                notes.append(Skipped(f"{dist.name} {dist.version}",
                                     f"unusable Requires-Dist {text!r}: {exc}"))
    return active


def _check_version(dist: _Dist, spec: SpecifierSet, who: str, target: _Target,
                   notes: list[Skipped], where: tuple[str, int | None]) -> None:
    """An installed version outside the specifier is still used, with a note saying so."""
    try:
        ok = spec.contains(Version(dist.version), prereleases=True)
    except InvalidVersion:
        ok = False
    if not ok:
        notes.append(Skipped(
            dist.name, f"{who} {spec or 'any version'} but {target.label} has {dist.version}; "
            "using that version anyway", *where))


def _unique(items: list[Skipped]) -> list[Skipped]:
    return list(dict.fromkeys(items))


def _last_line(stderr: str, returncode: int) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {returncode}"


# --- pip -------------------------------------------------------------------------------------

_NETWORK = re.compile(
    r"Retrying \(Retry\(|NewConnectionError|Failed to establish a new connection|"
    r"connection broken by|ConnectTimeoutError|ReadTimeoutError|Read timed out|ProxyError|"
    r"SSLError|Could not fetch URL|Temporary failure in name resolution|Network is unreachable|"
    r"Max retries exceeded")
_NO_WHEEL = re.compile(r"satisfies the requirement (\S+) \(from versions: none\)")


def _pip_target(exe: Path, directs: list[_Direct], skipped: list[Skipped], pip_args: Sequence[str],
                source: str) -> _Target:
    """Run pip's resolver; a direct requirement pip finds no wheel at all for is skipped."""
    while True:
        if not directs:
            return _Target("pip's resolution", {})
        ok, payload = _run_pip(exe, directs, pip_args, source)
        if ok:
            return _report_target(payload, source)
        name = _no_wheel_for(payload, directs)
        if name is None:
            raise _pip_error(payload, source)
        reason = ("no wheel to resolve from (sdist-only or not on the index; depguard resolves "
                  f"with --only-binary :all: and never builds): pip: {_summary(payload)}")
        skipped.extend(Skipped(d.dep.name, reason, d.dep.source, d.dep.line)
                       for d in directs if d.dep.name == name)
        directs[:] = [d for d in directs if d.dep.name != name]


def _requirement_line(direct: _Direct) -> str:
    extras = f"[{','.join(direct.dep.extras)}]" if direct.dep.extras else ""
    return f"{direct.dep.name}{extras}{direct.spec}"


def _run_pip(exe: Path, directs: list[_Direct], pip_args: Sequence[str],
             source: str) -> tuple[bool, Any]:
    """(True, report JSON) or (False, pip's stderr)."""
    with tempfile.TemporaryDirectory(prefix="depguard-pip-") as tmp:
        requirements, report = Path(tmp, "requirements.txt"), Path(tmp, "report.json")
        requirements.write_text("".join(f"{_requirement_line(d)}\n" for d in directs), "utf-8")
        command = [str(exe), "-I", "-m", "pip", "install", "--dry-run", "--ignore-installed",
                   "--report", str(report), "--quiet", *pip_args,
                   "--only-binary", ":all:", "-r", str(requirements)]
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
               "PIP_REQUIRE_VIRTUALENV": "0"}
        try:
            proc = subprocess.run(command, capture_output=True, text=True, cwd=tmp, env=env,
                                  stdin=subprocess.DEVNULL, timeout=PIP_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as exc:
            message = f"{source}: pip did not finish resolving in {PIP_TIMEOUT} s"
            raise NetworkError(message) from exc
        except OSError as exc:
            raise UsageError(f"{exe}: cannot run pip: {exc}") from exc
        if proc.returncode != 0:
            return False, proc.stderr or f"exit status {proc.returncode}"
        try:
            return True, json.loads(report.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{source}: pip wrote no readable report: {exc}") from exc


def _summary(stderr: str) -> str:
    """pip's last meaningful error line, without its `ERROR: ` prefix."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines
              if line.startswith("ERROR:") and "ResolutionImpossible: for help" not in line]
    line = (errors or lines or ["pip failed"])[-1]
    return line.removeprefix("ERROR:").strip()


def _no_wheel_for(stderr: str, directs: list[_Direct]) -> str | None:
    """The direct requirement pip found no distribution of at all (index reached)."""
    match = _NO_WHEEL.search(stderr)
    if match is None or _NETWORK.search(stderr):
        return None
    try:
        name = canonical_name(_PYPI, Requirement(match.group(1)).name)
    except InvalidRequirement:
        return None
    return name if any(d.dep.name == name for d in directs) else None


def _pip_error(stderr: str, source: str) -> Exception:
    if "No module named pip" in stderr:
        return UsageError(f"{source}: the interpreter has no pip (No module named pip)")
    network = [line.strip() for line in stderr.splitlines() if _NETWORK.search(line)]
    if network:
        detail = re.sub(r"^WARNING: Retrying \(Retry\(.*?\)\) after ", "", network[-1])
        return NetworkError(f"{source}: pip could not reach the package index: {detail}")
    hint = " (depguard resolves wheels only)" if "(from versions: none)" in stderr else ""
    return UsageError(f"{source}: pip could not resolve the requirements: {_summary(stderr)}{hint}")


def _report_target(data: Any, source: str) -> _Target:
    """Distributions and marker environment from a pip installation report, version 1."""
    def bad(what: str) -> UsageError:
        return UsageError(f"{source}: unexpected pip installation report: {what}")

    if not isinstance(data, dict) or data.get("version") != "1":
        version = data.get("version") if isinstance(data, dict) else None
        raise bad(f"version {version!r} (depguard reads version 1)")
    environment, install = data.get("environment"), data.get("install")
    if not isinstance(environment, dict) or not all(
            isinstance(v, str) for v in environment.values()):
        raise bad("'environment' is not an object of strings")
    if not isinstance(install, list):
        raise bad("'install' is not an array")
    dists = [_report_item(item, index, bad) for index, item in enumerate(install)]
    return _Target("pip's resolution", dict(environment), {d.name: d for d in dists})


def _report_item(item: Any, index: int, bad: Callable[[str], UsageError]) -> _Dist:
    meta = item.get("metadata") if isinstance(item, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    version = meta.get("version") if isinstance(meta, dict) else None
    requires = meta.get("requires_dist", []) if isinstance(meta, dict) else None
    if not isinstance(name, str) or not isinstance(version, str):
        raise bad(f"install[{index}].metadata has no name/version strings")
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise bad(f"install[{index}].metadata.requires_dist is not an array of strings")
    info = item.get("download_info")
    url = info.get("url") if isinstance(info, dict) else None
    archive = info.get("archive_info") if isinstance(info, dict) else None
    hashes = archive.get("hashes") if isinstance(archive, dict) else None
    return _Dist(canonical_name(_PYPI, name), version, tuple(requires),
                 url if isinstance(url, str) else None,
                 tuple(f"{k}:{v}" for k, v in sorted(hashes.items()) if isinstance(v, str))
                 if isinstance(hashes, dict) else ())
