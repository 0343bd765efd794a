"""package-lock.json / npm-shrinkwrap.json, lockfileVersion 1, 2 and 3.

v2/v3 `packages` is keyed by install location (`node_modules/a/node_modules/b`,
`packages/a` for a workspace folder); v2 also carries the v1 `dependencies` tree,
which is ignored then, as npm does. v1 is flattened into the same location map.
Edges follow node's module resolution: a dependency `d` of the package at `L` is the
nearest `<dir>/node_modules/d` walking up from `L`. `link: true` entries point at a
folder, which becomes a Root (a workspace, or a `file:` folder dependency).

A v1 lockfile does not record what the project itself depends on: that comes from
the package.json next to it (read through the reader); without one, every top-level
package that no other package requires counts as direct.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, NoReturn

from depguard.errors import ParseError
from depguard.models import (
    Dependency,
    Ecosystem,
    Edge,
    ParsedManifest,
    Root,
    Scope,
    Skipped,
    canonical_name,
)
from depguard.parsers.base import FileReader, ManifestParser, line_of, load_json
from depguard.parsers.package_json import (
    KeyPath,
    dependency_sections,
    expect_object,
    expect_str_map,
    key_lines,
    npm_spec,
    root_name,
    type_name,
)

__all__ = ["NpmLockParser"]

SUPPORTED_VERSIONS = (1, 2, 3)
_NM = "node_modules/"
_PACKAGES = re.compile(r'"packages"\s*:\s*\{')
_COLON = re.compile(r"\s*:")

_LocEdge = tuple[str, str, str, Scope]
"""(parent location, child location, spec, scope)"""

DepMap = dict[str, tuple[str, Scope, bool]]
"""dependency name -> (spec as written, edge scope, may be absent from the lockfile)"""


@dataclass(slots=True)
class _Entry:
    loc: str
    name: str
    version: str | None = None
    alias: str | None = None
    resolved: str | None = None
    hashes: tuple[str, ...] = ()
    scope: Scope = Scope.PROD
    install_script: bool = False
    link: bool = False
    line: int | None = None
    deps: DepMap = field(default_factory=dict)
    declared: bool = True
    """False for a synthesized root whose own dependencies are unknown."""


class NpmLockParser(ManifestParser):
    """The full resolved npm install tree of a project and its workspaces."""

    name: ClassVar[str] = "package-lock.json"
    ecosystem: ClassVar[Ecosystem] = Ecosystem.NPM
    file_names: ClassVar[frozenset[str]] = frozenset({"package-lock.json", "npm-shrinkwrap.json"})

    @classmethod
    def matches(cls, path: Path) -> bool:
        return path.name in cls.file_names and "node_modules" not in path.parts

    def parse(self, path: Path, source: str, reader: FileReader) -> ParsedManifest:
        text = reader.read_text(path)
        data = load_json(source, text)
        if not isinstance(data, dict):
            raise ParseError(source, f"expected a JSON object, got {type_name(data)}", 1)
        version = data.get("lockfileVersion")
        if type(version) is not int or version not in SUPPORTED_VERSIONS:
            shown = "missing" if version is None else repr(version)
            raise ParseError(
                source,
                f"lockfileVersion {shown} is not supported (expected 1, 2 or 3)",
                line_of(text, '"lockfileVersion"') or 1,
            )
        if version >= 2 and ("packages" in data or "dependencies" not in data):
            where = line_of(text, '"packages"')
            packages = expect_object(data.get("packages", {}), "packages", source, where)
            lines = package_lines(text, packages)
            entries = {
                loc: _package_entry(loc, raw, source, lines.get(loc))
                for loc, raw in packages.items()
            }
        else:
            entries = _v1_entries(data, source, key_lines(text, objects_only=True))
            entries[""] = _v1_root(path, source, reader)
        root = entries.setdefault("", _Entry(loc="", name="", declared=False))
        root.name = root.name or root_name(data, path, source)
        manifest = ParsedManifest(
            path=source, kind=self.name, ecosystem=self.ecosystem, locked=True
        )
        _Graph(manifest, entries, source).build()
        return manifest


def package_lines(text: str, packages: dict[str, Any]) -> dict[str, int]:
    """Line of each `packages` key, found in file order with str.find (one linear pass).

    Falls back to the JSON key scanner when a key is not found as written (escaped keys).
    """
    start = _PACKAGES.search(text)
    found: dict[str, int] = {}
    pos, line = (start.end(), text.count("\n", 0, start.end()) + 1) if start else (0, 1)
    for loc in packages:
        needle = json.dumps(loc, ensure_ascii=False)
        index = text.find(needle, pos)
        while index >= 0 and not _COLON.match(text, index + len(needle)):
            index = text.find(needle, index + 1)
        if index < 0:
            lines = key_lines(text, objects_only=True)
            return {
                key[1]: n
                for key, n in lines.items()
                if len(key) == 2 and key[0] == "packages" and key[1] is not None
            }
        line += text.count("\n", pos, index)
        found[loc], pos = line, index
    return found


def _package_entry(loc: str, raw: object, source: str, line: int | None) -> _Entry:
    where = f'packages["{loc}"]'
    item = expect_object(raw, where, source, line)
    get = _Getter(item, where, source, line)
    path_name = loc.rpartition(_NM)[2] if _is_package(loc) else ""
    name = get.text("name") or path_name or posixpath.basename(loc)
    entry = _Entry(
        loc=loc,
        name=name,
        version=get.text("version"),
        alias=path_name if path_name and path_name != name else None,
        resolved=get.text("resolved"),
        hashes=tuple((get.text("integrity") or "").split()),
        scope=_scope(get),
        install_script=get.flag("hasInstallScript"),
        link=get.flag("link"),
        line=line,
    )
    get.flag("inBundle")
    for key in ("os", "cpu"):
        if key in item and not isinstance(item[key], list):
            raise ParseError(source, f"{where}.{key}: expected an array", line)
    deps = entry.deps
    expect_object(
        item.get("peerDependenciesMeta", {}), f"{where}.peerDependenciesMeta", source, line
    )
    for dep, spec in get.map("peerDependencies").items():
        deps[dep] = (spec, Scope.PEER, True)  # a peer (optional or not) may be absent
    for dep, spec in get.map("dependencies").items():
        deps[dep] = (spec, Scope.PROD, False)
    for dep, spec in get.map("optionalDependencies").items():
        deps[dep] = (spec, Scope.OPTIONAL, True)
    if not _is_package(loc):
        for dep, spec in get.map("devDependencies").items():
            deps.setdefault(dep, (spec, Scope.DEV, False))
    return entry


@dataclass(slots=True)
class _Getter:
    """Typed field access for one lockfile entry; wrong types are ParseErrors."""

    item: dict[str, Any]
    where: str
    source: str
    line: int | None

    def text(self, key: str) -> str | None:
        value = self.item.get(key)
        if value is not None and not isinstance(value, str):
            self._fail(key, "a string", value)
        return value

    def flag(self, key: str) -> bool:
        value = self.item.get(key, False)
        if isinstance(value, bool):
            return value
        self._fail(key, "true or false", value)

    def map(self, key: str) -> dict[str, str]:
        return expect_str_map(self.item.get(key, {}), f"{self.where}.{key}", self.source, self.line)

    def _fail(self, key: str, expected: str, value: object) -> NoReturn:
        message = f"{self.where}.{key}: expected {expected}, got {type_name(value)}"
        raise ParseError(self.source, message, self.line)


def _scope(get: _Getter) -> Scope:
    dev, dev_optional, optional, peer = map(get.flag, ("dev", "devOptional", "optional", "peer"))
    if dev or dev_optional:  # every flag is read first, so a wrong type is never skipped
        return Scope.DEV
    if optional:
        return Scope.OPTIONAL
    return Scope.PEER if peer else Scope.PROD


def _is_package(loc: str) -> bool:
    return loc.startswith(_NM) or f"/{_NM}" in loc


def _v1_entries(data: dict[str, Any], source: str, lines: dict[KeyPath, int]) -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    top = expect_object(data.get("dependencies", {}), "dependencies", source, None)
    stack: list[tuple[str, KeyPath, dict[str, Any]]] = [("", ("dependencies",), top)]
    while stack:
        prefix, keys, deps = stack.pop()
        for key, raw in deps.items():
            loc = f"{prefix}/{_NM}{key}" if prefix else f"{_NM}{key}"
            line = lines.get((*keys, key))
            where = f"dependencies[{loc!r}]"
            item = expect_object(raw, where, source, line)
            entries[loc] = _v1_entry(loc, key, _Getter(item, where, source, line))
            nested = item.get("dependencies")
            if nested is not None:
                nested = expect_object(nested, f"{where}.dependencies", source, line)
                stack.append((loc, (*keys, key, "dependencies"), nested))
    return entries


def _v1_entry(loc: str, key: str, get: _Getter) -> _Entry:
    spec = get.text("version") or ""
    try:
        name, _rng, version, other = npm_spec(key, spec)
    except ValueError as exc:
        raise ParseError(get.source, f"{get.where}.version: {exc}", get.line) from None
    if version is None and spec and not spec.startswith("npm:") and other is None:
        version = spec  # a registry version that is not plain semver: keep it as written
    entry = _Entry(
        loc=loc,
        name=name,
        version=version,
        alias=key if name != key else None,
        resolved=get.text("resolved") or other,
        hashes=tuple((get.text("integrity") or "").split()),
        scope=_scope(get),
        line=get.line,
    )
    get.flag("bundled")
    entry.deps = {dep: (rng, Scope.PROD, False) for dep, rng in get.map("requires").items()}
    return entry


def _v1_root(path: Path, source: str, reader: FileReader) -> _Entry:
    manifest = path.parent / "package.json"
    if not reader.exists(manifest):
        return _Entry(loc="", name="", declared=False)
    pj_source = posixpath.normpath(posixpath.join(posixpath.dirname(source), "package.json"))
    text = reader.read_text(manifest)
    data = load_json(pj_source, text)
    if not isinstance(data, dict):
        raise ParseError(pj_source, f"expected a JSON object, got {type_name(data)}", 1)
    root = _Entry(loc="", name=root_name(data, manifest, source))
    for name, spec, scope, _line in dependency_sections(data, pj_source, key_lines(text)):
        root.deps[name] = (spec, scope, scope in (Scope.OPTIONAL, Scope.PEER))
    return root


def _container(loc: str) -> str:
    """The folder a package location sits in: `a/node_modules/b` -> `a`, `node_modules/b` -> ``."""
    head, sep, _name = loc.rpartition(_NM)
    return head.rstrip("/") if sep else ""


def resolve(entries: dict[str, Any], loc: str, name: str) -> str | None:
    """Node's lookup: the nearest `<dir>/node_modules/<name>` walking up from `loc`."""
    base = loc
    while True:
        candidate = f"{base}/{_NM}{name}" if base else f"{_NM}{name}"
        if candidate in entries:
            return candidate
        if not base:
            return None
        base = base.rpartition("/")[0]
        if base == "node_modules" or base.endswith("/node_modules"):
            base = base[: -len("node_modules")].rstrip("/")


class _Graph:
    """Turns the location map into roots, packages and edges."""

    def __init__(self, manifest: ParsedManifest, entries: dict[str, _Entry], source: str) -> None:
        self.manifest = manifest
        self.entries = entries
        self.source = source
        self.ids: dict[str, str] = {}
        self.links: dict[str, str | None] = {}

    def build(self) -> None:
        entries = self.entries
        for loc, entry in entries.items():
            if not _is_package(loc):
                self._add_root(loc, entry.name)
        for loc, entry in entries.items():
            if entry.link:
                self.links[loc] = self._link_target(entry)
        edges = self._resolve_edges()
        edges.extend(self._extraneous(edges))
        direct = {child for parent, child, _spec, _scope in edges if not _is_package(parent)}
        for loc, entry in entries.items():
            if _is_package(loc) and not entry.link:
                self.ids[loc] = self.manifest.add_package(self._dependency(entry, loc in direct))
        seen: set[Edge] = set()
        for parent, child, spec, scope in edges:
            edge = Edge(parent=self.ids[parent], child=self.ids[child], specifier=spec, scope=scope)
            if edge not in seen:
                seen.add(edge)
                self.manifest.edges.append(edge)

    def _add_root(self, loc: str, name: str) -> None:
        label = name or posixpath.basename(loc) or loc
        source = f"{self.source}#{loc}" if loc else self.source
        root = Root(name=label, source=source, ecosystem=Ecosystem.NPM)
        self.manifest.roots.append(root)
        self.ids[loc] = root.id

    def _link_target(self, entry: _Entry) -> str | None:
        target = posixpath.normpath(entry.resolved) if entry.resolved else None
        if target is None or (target not in self.entries and _is_package(target)):
            reason = f"link at {entry.loc} points to {entry.resolved!r}, not in the lockfile"
            self._skip(entry.name, reason, entry.line)
            return None
        if target not in self.ids and not _is_package(target):
            self._add_root(target, entry.name)
        return target

    def _resolve_edges(self) -> list[_LocEdge]:
        edges = []
        for loc, entry in self.entries.items():
            if entry.link:
                continue
            for name, (spec, scope, may_miss) in entry.deps.items():
                child = self._find(loc, name)
                if child is not None:
                    edges.append((loc, child, spec, scope))
                elif not may_miss:
                    who = f"the package at {loc}" if loc else "the project"
                    reason = f"{who} requires {name}@{spec or '*'}, which is not in the lockfile"
                    self._skip(name, reason, entry.line)
        root = self.entries[""]
        for loc, target in self.links.items():
            name = loc[len(_NM) :]
            if target and loc.startswith(_NM) and _NM not in name and name not in root.deps:
                edges.append(("", target, "", Scope.PROD))
        if not root.declared:
            edges.extend(("", loc, "", self.entries[loc].scope) for loc in self._unrequired(edges))
        return edges

    def _extraneous(self, edges: list[_LocEdge]) -> list[_LocEdge]:
        """Packages no root reaches (npm's `extraneous`) hang off the folder they sit in."""
        children: dict[str, list[str]] = {}
        for parent, child, _spec, _scope in edges:
            children.setdefault(parent, []).append(child)
        reached = {loc for loc in self.entries if not _is_package(loc)}
        todo = list(reached)
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in reached:
                    reached.add(child)
                    todo.append(child)
        return [
            (_container(loc), loc, "", entry.scope)
            for loc, entry in self.entries.items()
            if loc not in reached and not entry.link and _container(loc) in self.entries
        ]

    def _find(self, loc: str, name: str) -> str | None:
        found = resolve(self.entries, loc, name)
        if found is not None and found in self.links:
            return self.links[found]
        return found

    def _unrequired(self, edges: list[_LocEdge]) -> list[str]:
        """Top-level packages nothing requires: the direct dependencies of an unknown root."""
        required = {child for _parent, child, _spec, _scope in edges}
        top = (loc for loc in self.entries if loc.startswith(_NM) and _NM not in loc[len(_NM) :])
        return [loc for loc in top if loc not in required and not self.entries[loc].link]

    def _dependency(self, entry: _Entry, direct: bool) -> Dependency:
        return Dependency(
            ecosystem=Ecosystem.NPM,
            name=canonical_name(Ecosystem.NPM, entry.name),
            version=entry.version,
            scope=entry.scope,
            direct=direct,
            source=self.source,
            line=entry.line,
            resolved=entry.resolved,
            hashes=entry.hashes,
            install_script=entry.install_script,
            alias=entry.alias,
        )

    def _skip(self, name: str, reason: str, line: int | None) -> None:
        self.manifest.skipped.append(Skipped(name, reason, self.source, line))
