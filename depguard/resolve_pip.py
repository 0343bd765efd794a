"""`--resolve pip`: pip's own resolver, its installation report read back.

Runs ``python -I -m pip install --dry-run --ignore-installed --only-binary :all: --report``
on the manifest's direct requirements (wheels only, so no package's build code runs) and turns
the report (version 1) into the distributions that ``depguard.resolve`` walks.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet

from depguard.errors import NetworkError, UsageError
from depguard.models import (
    CanonicalName,
    Dependency,
    Ecosystem,
    Edge,
    Skipped,
    canonical_name,
)

PIP_TIMEOUT = 900
_PYPI = Ecosystem.PYPI


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
