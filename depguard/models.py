"""Frozen value types shared by every pipeline stage."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from typing import NewType

CanonicalName = NewType("CanonicalName", str)

_PEP503 = re.compile(r"[-_.]+")


class Ecosystem(enum.StrEnum):
    PYPI = "PyPI"
    NPM = "npm"

    def __str__(self) -> str:
        return self.value


class Scope(enum.StrEnum):
    PROD = "prod"
    DEV = "dev"
    OPTIONAL = "optional"
    PEER = "peer"

    def __str__(self) -> str:
        return self.value


# Lower rank wins when one package is reached through several scopes.
SCOPE_RANK = {Scope.PROD: 0, Scope.OPTIONAL: 1, Scope.PEER: 2, Scope.DEV: 3}


def canonical_name(ecosystem: Ecosystem, name: str) -> CanonicalName:
    """PEP 503 for PyPI; npm names are case-sensitive as published but compared lower-case."""
    if ecosystem is Ecosystem.PYPI:
        return CanonicalName(_PEP503.sub("-", name).lower())
    return CanonicalName(name.strip().lower())


def node_id(ecosystem: Ecosystem, name: str, version: str | None) -> str:
    """The graph node id: two versions of one package are two nodes."""
    return f"{ecosystem.value}:{name}@{version}" if version else f"{ecosystem.value}:{name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Dependency:
    """One package (a graph node) as a manifest or lockfile declares it."""

    ecosystem: Ecosystem
    name: CanonicalName
    version: str | None = None
    specifier: str = ""
    scope: Scope = Scope.PROD
    direct: bool = False
    source: str = ""
    line: int | None = None
    extras: tuple[str, ...] = ()
    marker: str | None = None
    resolved: str | None = None
    hashes: tuple[str, ...] = ()
    install_script: bool = False
    alias: str | None = None

    @property
    def key(self) -> tuple[Ecosystem, CanonicalName, str | None]:
        return (self.ecosystem, self.name, self.version)

    @property
    def id(self) -> str:
        return node_id(self.ecosystem, self.name, self.version)

    def label(self) -> str:
        return (
            f"{self.name} {self.version}"
            if self.version
            else f"{self.name} {self.specifier}".rstrip()
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Root:
    """A project or workspace: the start of every dependency chain."""

    name: str
    source: str
    ecosystem: Ecosystem

    @property
    def id(self) -> str:
        return f"root:{self.ecosystem.value}:{self.source}:{self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    """parent -> child; parent is a root id or a package id."""

    parent: str
    child: str
    specifier: str = ""
    scope: Scope = Scope.PROD


@dataclass(frozen=True, slots=True)
class Skipped:
    """An entry depguard read but could not turn into a package, and why."""

    name: str
    reason: str
    source: str = ""
    line: int | None = None


@dataclass(slots=True, kw_only=True)
class ParsedManifest:
    """What one parser made of one file."""

    path: str
    kind: str
    ecosystem: Ecosystem
    roots: list[Root] = field(default_factory=list)
    packages: dict[str, Dependency] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    locked: bool = False
    """True when the file holds the full resolved graph (a lockfile)."""

    def add_package(self, dep: Dependency) -> str:
        """Add a node, merging with an earlier occurrence of the same id.

        The stronger scope wins; `direct`, an alias and an install script found on
        either occurrence are kept.
        """
        existing = self.packages.get(dep.id)
        if existing is None:
            self.packages[dep.id] = dep
            return dep.id
        keep, other = (
            (dep, existing)
            if SCOPE_RANK[dep.scope] < SCOPE_RANK[existing.scope]
            else (existing, dep)
        )
        self.packages[dep.id] = replace(
            keep,
            direct=keep.direct or other.direct,
            alias=keep.alias or other.alias,
            install_script=keep.install_script or other.install_script,
        )
        return dep.id
