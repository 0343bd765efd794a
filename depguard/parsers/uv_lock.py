"""uv.lock (lock `version = 1`): the resolved graph of a uv project or workspace.

The project and its workspace members (`[manifest] members`, or the editable/virtual
package at `.`) are roots. Their `dependencies`, `optional-dependencies` (per extra)
and `dev-dependencies` (per group) are the direct dependencies; every package's
`dependencies`, and its `optional-dependencies` for the extras a dependent asks for
(`{name = "x", extra = ["y"]}`), are the package -> package edges. A package's scope is
the strongest scope of any path that reaches it (computed by `walk`, shared with the
poetry.lock and pylock.toml parsers). Unknown names become `Skipped`, never errors.
"""

from __future__ import annotations

import posixpath
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

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
    Skipped,
    canonical_name,
    node_id,
)
from depguard.parsers.base import FileReader, ManifestParser, load_toml

PYPI = Ecosystem.PYPI
LOCAL_SOURCES = ("editable", "virtual")
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


class UvLockParser(ManifestParser):
    name: ClassVar[str] = "uv.lock"
    ecosystem: ClassVar[Ecosystem] = PYPI

    @classmethod
    def matches(cls, path: Path) -> bool:
        return path.name == "uv.lock"

    def parse(self, path: Path, source: str, reader: FileReader) -> ParsedManifest:
        text = reader.read_text(path)
        top = Fields(source, load_toml(source, text), "uv.lock", None)
        version = top.data.get("version")
        if version != 1 or isinstance(version, bool):
            raise ParseError(
                source, f"unsupported uv.lock version {version!r} (depguard reads version 1)", 1
            )
        manifest = ParsedManifest(path=source, kind=self.name, ecosystem=PYPI, locked=True)
        lines = header_lines(text, "package")
        tables = [
            Fields(source, item, f"package #{i + 1}", line_for(lines, i))
            for i, item in enumerate(top.array("package"))
        ]
        nodes = [_node(t) for t in tables]
        index: dict[str, list[int]] = {}
        for i, node in enumerate(nodes):
            index.setdefault(node.name, []).append(i)
        linker = _Linker(manifest, tables, index)
        for node, table in zip(nodes, tables, strict=True):
            node.requires = linker.links(table.tables("dependencies"), Scope.PROD)
            optional = table.table("optional-dependencies")
            node.optional = {
                extra: linker.links(_tables(table, "optional-dependencies", deps), Scope.OPTIONAL)
                for extra, deps in optional.items()
            }
        members = top.sub("manifest", top.data.get("manifest", {})).strings("members")
        roots = self._roots(path, source, nodes, tables, members, linker)
        walk(manifest, nodes, roots)
        return manifest

    def _roots(
        self,
        path: Path,
        source: str,
        nodes: list[Node],
        tables: list[Fields],
        members: list[str],
        linker: _Linker,
    ) -> list[tuple[Root, list[Link]]]:
        wanted = {canonical_name(PYPI, m) for m in members}
        local = [i for i, t in enumerate(tables) if _local_path(t) is not None]
        chosen = (
            [i for i in local if nodes[i].name in wanted]
            if wanted
            else [i for i in local if posixpath.normpath(_local_path(tables[i]) or "") == "."]
        )
        if not chosen:
            chosen = [
                i
                for i in local
                if i not in {t for i2 in local for lk in nodes[i2].requires for t in lk.targets}
            ]
        roots: list[tuple[Root, list[Link]]] = []
        for i in chosen:
            nodes[i].root_only = True
            where = posixpath.normpath(_local_path(tables[i]) or ".")
            root = Root(
                name=nodes[i].name,
                source=source if where == "." else f"{source}#{where}",
                ecosystem=PYPI,
            )
            roots.append((root, linker.root_links(tables[i], nodes[i])))
        if not roots:
            root = Root(name=folder_name(path, source), source=source, ecosystem=PYPI)
            linker.manifest.skipped.append(
                Skipped(
                    "*",
                    f"no project package in uv.lock: {INFERRED}",
                    source,
                )
            )
            roots.append((root, [Link(nodes[i].name, (i,)) for i in unreferenced(nodes)]))
        linker.manifest.roots.extend(root for root, _ in roots)
        return roots


def _tables(table: Fields, key: str, value: object) -> list[Fields]:
    if not isinstance(value, list):
        raise table.fail(key, "a table of lists")
    return [table.sub(key, item, i) for i, item in enumerate(value)]


def _local_path(table: Fields) -> str | None:
    src = table.table("source")
    for kind in LOCAL_SOURCES:
        if kind in src:
            return table.sub("source", src).string(kind)
    return None


def _node(table: Fields) -> Node:
    name = table.name()
    node = Node(canonical_name(PYPI, name), table.string("version"), table.line)
    source = table.table("source")
    hashes: list[str] = []
    urls: list[str] = []
    artifacts = [table.sub("sdist", table.data["sdist"])] if "sdist" in table.data else []
    for art in [*artifacts, *table.tables("wheels")]:
        if (digest := art.string("hash")) is not None:
            hashes.append(digest)
        if (url := art.string("url")) is not None:
            urls.append(url)
    node.hashes = tuple(hashes)
    for kind in ("git", "url", "path", "directory", "editable", "virtual"):
        if kind in source:
            node.resolved = table.sub("source", source).string(kind)
            break
    else:
        node.resolved = urls[0] if urls else table.sub("source", source).string("registry")
    return node


class _Linker:
    """Turns dependency entries into Links, recording unknown names as Skipped."""

    def __init__(
        self, manifest: ParsedManifest, tables: list[Fields], index: dict[str, list[int]]
    ) -> None:
        self.manifest, self.tables, self.index = manifest, tables, index

    def links(
        self, deps: list[Fields], scope: Scope, specs: dict[str, str] | None = None
    ) -> list[Link]:
        out: list[Link] = []
        for dep in deps:
            name = canonical_name(PYPI, dep.name())
            extras = tuple(dep.strings("extra"))
            marker = dep.string("marker")
            targets = self._targets(name, dep)
            if not targets:
                continue
            spec = (specs or {}).get(f"{name};{marker}", (specs or {}).get(name, ""))
            out.append(Link(name, targets, extras, spec, marker, scope))
        return out

    def _targets(self, name: CanonicalName, dep: Fields) -> tuple[int, ...]:
        found = self.index.get(name, [])
        version, source = dep.string("version"), dep.data.get("source")
        if len(found) > 1 and version is not None:
            found = [i for i in found if self.tables[i].data.get("version") == version]
        if len(found) > 1 and source is not None:
            found = [i for i in found if self.tables[i].data.get("source") == source]
        if len(found) == 1:
            return (found[0],)
        reason = (
            "not in the lock" if not found else f"ambiguous ({len(found)} locked entries match)"
        )
        self.manifest.skipped.append(
            Skipped(name, f"{dep.where}: {name} is {reason}", self.manifest.path, dep.line)
        )
        return ()

    def root_links(self, table: Fields, node: Node) -> list[Link]:
        meta = table.sub("metadata", table.table("metadata"))
        specs = _specs(meta.tables("requires-dist"))
        links = [
            Link(
                lk.name,
                lk.targets,
                lk.extras,
                specs.get(f"{lk.name};{lk.marker}", specs.get(lk.name, "")),
                lk.marker,
            )
            for lk in node.requires
        ]
        for deps in node.optional.values():
            links += [
                Link(
                    lk.name,
                    lk.targets,
                    lk.extras,
                    specs.get(lk.name, ""),
                    lk.marker,
                    Scope.OPTIONAL,
                )
                for lk in deps
            ]
        dev_specs = meta.table("requires-dev")
        for group, deps in table.table("dev-dependencies").items():
            group_specs = _specs(_tables(meta, "requires-dev", dev_specs.get(group, [])))
            links += self.links(_tables(table, "dev-dependencies", deps), Scope.DEV, group_specs)
        return links


def _specs(entries: list[Fields]) -> dict[str, str]:
    """`[package.metadata] requires-dist` entries -> specifier by "name;marker" and by name."""
    specs: dict[str, str] = {}
    for entry in entries:
        name = canonical_name(PYPI, entry.name())
        spec = entry.string("specifier") or ""
        specs[f"{name};{entry.string('marker')}"] = spec
        specs.setdefault(name, spec)
    return specs
