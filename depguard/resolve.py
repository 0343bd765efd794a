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
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

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

from depguard.errors import UsageError
from depguard.models import (
    SCOPE_RANK,
    Dependency,
    Ecosystem,
    Edge,
    ParsedManifest,
    Scope,
    Skipped,
    canonical_name,
)
from depguard.resolve_pip import PIP_TIMEOUT as PIP_TIMEOUT
from depguard.resolve_pip import _Direct, _Dist, _pip_target, _Target
from depguard.resolve_pip import _report_target as _report_target

__all__ = ["ResolveMode", "resolve_manifests"]

ResolveMode = Literal["env", "pip"]
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
