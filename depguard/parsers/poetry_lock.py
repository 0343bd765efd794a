"""poetry.lock (lock-version 1.x and 2.x): the resolved graph of a Poetry project.

poetry.lock does not list the project's own dependencies, so the direct dependencies come
from the sibling pyproject.toml, read through `PyprojectParser` (build requirements, which
are never locked, are left out). Without a sibling pyproject.toml the direct dependencies
are inferred as the locked packages nothing else depends on, and a `Skipped("*", ...)`
entry says so. Package -> package edges come from `[package.dependencies]` (a constraint
string, a table, or a list of tables for per-marker constraints); a dependency marked
`optional = true` is followed only when a dependent asks for an extra of
`[package.extras]` that names it. Scopes are computed by `uv_lock.walk` from the roots;
packages no root reaches take their scope from `groups` (2.1) or `category` (1.x).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any, ClassVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

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
SUPPORTED_MAJOR = ("1", "2")
_EXTRA_ITEM = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")


class PoetryLockParser(ManifestParser):
    name: ClassVar[str] = "poetry.lock"
    ecosystem: ClassVar[Ecosystem] = PYPI

    @classmethod
    def matches(cls, path: Path) -> bool:
        return path.name == "poetry.lock"

    def parse(self, path: Path, source: str, reader: FileReader) -> ParsedManifest:
        text = reader.read_text(path)
        top = Fields(source, load_toml(source, text), "poetry.lock", None)
        metadata = top.sub("metadata", top.table("metadata"))
        _check_version(source, metadata.string("lock-version"), text)
        manifest = ParsedManifest(path=source, kind=self.name, ecosystem=PYPI, locked=True)
        lines = header_lines(text, "package")
        tables = [
            Fields(source, t, f"package #{i + 1}", line_for(lines, i))
            for i, t in enumerate(top.array("package"))
        ]
        legacy_files = metadata.table("files")
        nodes = [_node(t, legacy_files) for t in tables]
        index: dict[str, list[int]] = {}
        for i, node in enumerate(nodes):
            index.setdefault(node.name, []).append(i)
        for me, table in enumerate(tables):
            _link_package(manifest, me, table, nodes, index)
        walk(manifest, nodes, [self._root(path, source, reader, manifest, nodes, index)])
        return manifest

    def _root(
        self,
        path: Path,
        source: str,
        reader: FileReader,
        manifest: ParsedManifest,
        nodes: list[Node],
        index: dict[str, list[int]],
    ) -> tuple[Root, list[Link]]:
        pyproject = path.parent / "pyproject.toml"
        if not reader.exists(pyproject):
            root = Root(name=folder_name(path, source), source=source, ecosystem=PYPI)
            manifest.roots.append(root)
            manifest.skipped.append(
                Skipped(
                    "*",
                    f"no sibling pyproject.toml: {INFERRED}",
                    source,
                )
            )
            return root, [
                Link(nodes[i].name, (i,), scope=nodes[i].fallback) for i in unreferenced(nodes)
            ]
        root, links = direct_from_pyproject(pyproject, source, reader, manifest, nodes, index)
        manifest.roots.append(root)
        return root, links


def direct_from_pyproject(
    pyproject: Path,
    source: str,
    reader: FileReader,
    manifest: ParsedManifest,
    nodes: list[Node],
    index: dict[str, list[int]],
) -> tuple[Root, list[Link]]:
    """The root and its direct dependencies, read from pyproject.toml by PyprojectParser."""
    from depguard.parsers.pyproject import PyprojectParser

    display = posixpath.join(posixpath.dirname(source), "pyproject.toml")
    declared = PyprojectParser().parse(pyproject, display, reader)
    build = _build_requires(reader.read_text(pyproject))
    name = declared.roots[0].name if declared.roots else folder_name(pyproject, display)
    root_ids = {root.id for root in declared.roots}
    links: list[Link] = []
    edges = [e for e in declared.edges if e.parent in root_ids]
    for edge in edges:
        dep = declared.packages.get(edge.child)
        if dep is None or dep.name == "python":
            continue
        # two requirements on one name share one merged record: its marker fits only one of them
        marker = dep.marker if sum(e.child == edge.child for e in edges) == 1 else None
        spec = edge.specifier if _pep440(edge.specifier) else dep.specifier
        targets = tuple(narrow(index.get(dep.name, []), nodes, spec))
        if targets:
            links.append(Link(dep.name, targets, dep.extras, spec, marker, edge.scope))
        elif dep.name not in build:
            reason = f"declared in {display} but not in {manifest.path} (is the lock out of date?)"
            manifest.skipped.append(Skipped(dep.name, reason, display, dep.line))
    return Root(name=name, source=source, ecosystem=PYPI), links


def _pep440(constraint: str) -> bool:
    try:
        SpecifierSet(constraint)
    except InvalidSpecifier:
        return False
    return True


def narrow(candidates: list[int], nodes: list[Node], constraint: str) -> list[int]:
    """Of several locked versions, those a PEP 440 constraint allows (all when it says nothing)."""
    if len(candidates) < 2:
        return candidates
    try:
        spec = SpecifierSet(constraint.strip().strip("*"))
        allowed = [
            i
            for i in candidates
            if nodes[i].version and spec.contains(Version(nodes[i].version or ""), True)
        ]
    except (InvalidSpecifier, InvalidVersion):
        return candidates
    return allowed or candidates


def _build_requires(text: str) -> set[CanonicalName]:
    try:
        requires = load_toml("pyproject.toml", text).get("build-system", {}).get("requires", [])
    except (ParseError, AttributeError):
        return set()
    names = (
        (_EXTRA_ITEM.match(r) for r in requires if isinstance(r, str))
        if isinstance(requires, list)
        else ()
    )
    return {canonical_name(PYPI, m.group(1)) for m in names if m}


def _check_version(source: str, version: str | None, text: str) -> None:
    if version is not None and version.split(".")[0] not in SUPPORTED_MAJOR:
        line = next(
            (i for i, row in enumerate(text.splitlines(), 1) if row.startswith("lock-version")),
            None,
        )
        raise ParseError(
            source,
            f"unsupported poetry.lock lock-version {version!r} (depguard reads 1.x and 2.x)",
            line,
        )


def _node(table: Fields, legacy_files: dict[str, Any]) -> Node:
    name = table.name()
    node = Node(canonical_name(PYPI, name), table.string("version", required=True), table.line)
    groups = (
        table.strings("groups") if "groups" in table.data else [table.string("category") or "main"]
    )
    optional = table.data.get("optional", False)
    if not isinstance(optional, bool):
        raise table.fail("optional", "true or false")
    node.fallback = (Scope.OPTIONAL if optional else Scope.PROD) if "main" in groups else Scope.DEV
    markers = table.data.get("markers")
    if not isinstance(markers, (str, dict, type(None))):
        raise table.fail("markers", "a string or a table")
    node.marker = markers if isinstance(markers, str) else None
    files = table.tables("files") if "files" in table.data else _legacy(table, legacy_files, name)
    node.hashes = tuple(h for f in files if (h := f.string("hash")))
    node.resolved = _resolved(table)
    return node


def _legacy(table: Fields, files: dict[str, Any], name: str) -> list[Fields]:
    """lock-version 1.x keeps hashes in `[metadata.files]`, keyed by the name as written."""
    entries = files.get(name, files.get(canonical_name(PYPI, name), []))
    if not isinstance(entries, list):
        raise table.fail("[metadata.files]", "a table of lists")
    return [table.sub("[metadata.files]", item, i) for i, item in enumerate(entries)]


def _resolved(table: Fields) -> str | None:
    if "source" not in table.data:
        return None
    src = table.sub("source", table.table("source"))
    kind, url = src.string("type"), src.string("url")
    if kind == "git" and url:
        ref = src.string("resolved_reference") or src.string("reference")
        return f"git+{url}@{ref}" if ref else f"git+{url}"
    return url


def _link_package(
    manifest: ParsedManifest, me: int, table: Fields, nodes: list[Node], index: dict[str, list[int]]
) -> None:
    node = nodes[me]
    constraints: dict[CanonicalName, list[Link]] = {}
    optional: set[CanonicalName] = set()
    for raw_name, value in table.table("dependencies").items():
        name = canonical_name(PYPI, raw_name)
        for item in value if isinstance(value, list) else [value]:
            link, is_optional = _constraint(table, raw_name, item, nodes, index.get(name, []))
            if not link.targets:
                if not is_optional:
                    reason = f"{node.name} {node.version} depends on {raw_name}: not in the lock"
                    manifest.skipped.append(Skipped(name, reason, manifest.path, node.line))
                continue
            constraints.setdefault(name, []).append(link)
            if is_optional:
                optional.add(name)
    node.requires = [
        link for name, links in constraints.items() if name not in optional for link in links
    ]
    for extra, items in table.table("extras").items():
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise table.fail(f"extras.{extra}", "a list of strings")
        node.optional[extra] = [
            link for item in items for link in _extra_links(item, me, node, constraints)
        ]


def _constraint(
    table: Fields, raw_name: str, item: object, nodes: list[Node], candidates: list[int]
) -> tuple[Link, bool]:
    name = canonical_name(PYPI, raw_name)
    if isinstance(item, str):
        return Link(name, tuple(narrow(candidates, nodes, item)), specifier=item), False
    dep = table.sub(f"dependencies.{raw_name}", item)
    spec = dep.string("version") or ""
    optional = dep.data.get("optional", False)
    if not isinstance(optional, bool):
        raise dep.fail("optional", "true or false")
    targets = tuple(narrow(candidates, nodes, spec))
    return Link(name, targets, tuple(dep.strings("extras")), spec, dep.string("markers")), optional


def _extra_links(
    item: str, me: int, node: Node, constraints: dict[CanonicalName, list[Link]]
) -> list[Link]:
    """One `[package.extras]` item ("PySocks (>=1.5.6)", "build[uv]") -> links to locked nodes."""
    match = _EXTRA_ITEM.match(item)
    if match is None:
        return []
    name = canonical_name(PYPI, match.group(1))
    extras = tuple(e.strip() for e in (match.group(2) or "").split(",") if e.strip())
    if name == node.name:
        return [Link(name, (me,), extras)]
    links = constraints.get(name, [])
    return [
        Link(lk.name, lk.targets, tuple(sorted({*lk.extras, *extras})), lk.specifier, lk.marker)
        for lk in links
    ]
