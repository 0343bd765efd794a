"""The locked-graph model shared by the uv.lock, poetry.lock and pylock.toml parsers.

`Node`s (locked packages) joined by `Link`s (dependencies as written); `walk` adds every node
and edge to a ParsedManifest with the strongest scope of any path from a root, and
`unreferenced` guesses the direct dependencies when a lock names no project.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from depguard.errors import ParseError
from depguard.models import (
    SCOPE_RANK,
    CanonicalName,
    Dependency,
    Ecosystem,
    Edge,
    ParsedManifest,
    Root,
    Scope,
    node_id,
)

PYPI = Ecosystem.PYPI
INFERRED = "direct dependencies inferred as the packages nothing else depends on"


class Fields:
    """Typed access to one TOML table: wrong types raise ParseError naming the field."""

    def __init__(self, source: str, table: object, where: str, line: int | None) -> None:
        if not isinstance(table, dict):
            raise ParseError(source, f"{where} must be a table", line)
        self.source, self.data, self.where, self.line = source, table, where, line

    def fail(self, key: str, what: str) -> ParseError:
        return ParseError(self.source, f"{self.where}: `{key}` must be {what}", self.line)

    def string(self, key: str, required: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise self.fail(key, "a string")
        return value

    def name(self, key: str = "name") -> str:
        """A required package name: a string with something in it."""
        value = self.string(key, required=True)
        if not value or not value.strip():
            raise self.fail(key, "a non-empty package name")
        return value

    def table(self, key: str) -> dict[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "a table")
        return value

    def array(self, key: str) -> list[Any]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, "a list")
        return value

    def strings(self, key: str) -> list[str]:
        value = self.array(key)
        if not all(isinstance(item, str) for item in value):
            raise self.fail(key, "a list of strings")
        return value

    def sub(self, key: str, item: object, index: int | None = None) -> Fields:
        where = f"{self.where} `{key}`" + (f" entry {index + 1}" if index is not None else "")
        return Fields(self.source, item, where, self.line)

    def tables(self, key: str) -> list[Fields]:
        return [self.sub(key, item, i) for i, item in enumerate(self.array(key))]


@dataclass(frozen=True, slots=True)
class Link:
    """A dependency as written: the locked nodes it may mean, and how it was asked for."""

    name: CanonicalName
    targets: tuple[int, ...]
    extras: tuple[str, ...] = ()
    specifier: str = ""
    marker: str | None = None
    scope: Scope = Scope.PROD
    direct: bool = True
    """False for a root link the file does not state (pylock.toml's flat graph)."""


@dataclass(slots=True)
class Node:
    """One locked package."""

    name: CanonicalName
    version: str | None
    line: int | None
    requires: list[Link] = field(default_factory=list)
    optional: dict[str, list[Link]] = field(default_factory=dict)
    resolved: str | None = None
    hashes: tuple[str, ...] = ()
    marker: str | None = None
    fallback: Scope = Scope.PROD
    """Scope when no root reaches the node (taken from the lock's own labels)."""
    root_only: bool = False
    """A project/workspace member: a package node only when something depends on it."""

    @property
    def id(self) -> str:
        return node_id(PYPI, self.name, self.version)


def header_lines(text: str, table: str) -> list[int]:
    """1-based lines of every `[[table]]` header, in file order (one pass)."""
    pattern = re.compile(r"^[ \t]*\[\[[ \t]*" + re.escape(table) + r"[ \t]*\]\][ \t]*(#.*)?$")
    return [i for i, line in enumerate(text.splitlines(), 1) if pattern.match(line)]


def line_for(lines: list[int], index: int) -> int | None:
    return lines[index] if index < len(lines) else None


def walk(manifest: ParsedManifest, nodes: list[Node], roots: list[tuple[Root, list[Link]]]) -> None:
    """Add every node and edge; scope = strongest scope of any path from a root."""
    best: dict[int, Scope] = {}
    extras: dict[int, set[str]] = {}
    direct: dict[int, Link] = {}
    seen: set[tuple[int, str | None]] = set()
    edges: dict[Edge, None] = {}
    for scope in sorted(Scope, key=SCOPE_RANK.__getitem__):
        queue: deque[tuple[int, str | None]] = deque()
        for root, links in roots:
            for link in (item for item in links if item.scope is scope):
                for target in link.targets:
                    if link.direct:
                        direct.setdefault(target, link)
                    edges[
                        Edge(
                            parent=root.id,
                            child=nodes[target].id,
                            specifier=link.specifier,
                            scope=scope,
                        )
                    ] = None
                    queue.extend(_states(target, link.extras, extras))
        while queue:
            state = queue.popleft()
            if state in seen:
                continue
            seen.add(state)
            index, extra = state
            best.setdefault(index, scope)
            node = nodes[index]
            kind = Scope.PROD if extra is None else Scope.OPTIONAL
            for link in node.requires if extra is None else node.optional.get(extra, []):
                for target in link.targets:
                    if target != index:
                        edges[
                            Edge(
                                parent=node.id,
                                child=nodes[target].id,
                                specifier=link.specifier,
                                scope=kind,
                            )
                        ] = None
                    queue.extend(_states(target, link.extras, extras))
    for index, node in enumerate(nodes):
        if node.root_only and index not in best:
            continue
        first = direct.get(index)
        manifest.add_package(
            Dependency(
                ecosystem=PYPI,
                name=node.name,
                version=node.version,
                specifier=first.specifier if first else "",
                scope=best.get(index, node.fallback),
                direct=first is not None,
                source=manifest.path,
                line=node.line,
                extras=tuple(sorted(extras.get(index, ()))),
                marker=(first.marker if first else None) or node.marker,
                resolved=node.resolved,
                hashes=node.hashes,
            )
        )
    manifest.edges.extend(edges)


def _states(
    target: int, wanted: Iterable[str], extras: dict[int, set[str]]
) -> list[tuple[int, str | None]]:
    names = list(wanted)
    extras.setdefault(target, set()).update(names)
    return [(target, None), *((target, name) for name in names)]


def unreferenced(nodes: list[Node]) -> list[int]:
    """Best guess at the direct dependencies: nodes nothing depends on, then (for cycles that
    nothing outside reaches) the first unreached node of each such cycle, in file order."""
    children = [
        {t for links in (n.requires, *n.optional.values()) for lk in links for t in lk.targets}
        for n in nodes
    ]
    used = set().union(*children) if children else set()
    starts = [i for i, node in enumerate(nodes) if i not in used and not node.root_only]
    reached: set[int] = set()
    for i in [*starts, *range(len(nodes))]:
        if i in reached or nodes[i].root_only:
            continue
        if i not in starts:
            starts.append(i)
        stack = [i]
        while stack:
            here = stack.pop()
            if here not in reached:
                reached.add(here)
                stack.extend(children[here])
    return starts


def folder_name(path: Path, source: str) -> str:
    return Path(source).parent.name or path.resolve().parent.name or "project"
