"""Test helper: the (name, version) pins of a tool-exported requirements file, by regex.

Kept independent of depguard's own RequirementsParser so the lockfile tests have an
oracle that does not share code with the parsers under test.
"""

from __future__ import annotations

import re
from pathlib import Path

from depguard.models import Dependency, Ecosystem, ParsedManifest, Scope, canonical_name

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;\\]+)")
_HASH = re.compile(r"--hash=(\w+:[0-9a-f]+)")


def pins(path: Path) -> set[tuple[str, str]]:
    """Every `name==version` line of an exported requirements file."""
    found: set[tuple[str, str]] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            found.add((canonical_name(Ecosystem.PYPI, match.group(1)), match.group(2)))
    return found


def pin_hashes(path: Path, name: str) -> set[str]:
    """The --hash values of one pinned requirement (with its continuation lines)."""
    text = path.read_text(encoding="utf-8")
    start = re.search(rf"^{re.escape(name)}==", text, re.MULTILINE)
    assert start is not None, name
    block = re.split(r"\n(?=\S)", text[start.start() :], maxsplit=1)[0]
    return set(_HASH.findall(block))


def versions(manifest: ParsedManifest, *scopes: Scope) -> set[tuple[str, str]]:
    """(name, version) of every locked package, optionally only those in `scopes`."""
    return {
        (dep.name, dep.version)
        for dep in manifest.packages.values()
        if dep.version is not None and (not scopes or dep.scope in scopes)
    }


def package(manifest: ParsedManifest, name: str, version: str | None = None) -> Dependency:
    matches = [
        d for d in manifest.packages.values() if d.name == name and version in (None, d.version)
    ]
    assert len(matches) == 1, (name, version, [d.id for d in matches])
    return matches[0]
