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
from pathlib import Path
from typing import ClassVar

from depguard.errors import ParseError
from depguard.models import (
    CanonicalName,
    Ecosystem,
    ParsedManifest,
    Root,
    Scope,
    Skipped,
    canonical_name,
)
from depguard.parsers._lockgraph import (
    INFERRED,
    Fields,
    Link,
    Node,
    folder_name,
    header_lines,
    line_for,
    unreferenced,
    walk,
)
from depguard.parsers.base import FileReader, ManifestParser, load_toml

PYPI = Ecosystem.PYPI
LOCAL_SOURCES = ("editable", "virtual")


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
