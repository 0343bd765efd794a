"""pylock.toml (PEP 751, `lock-version = "1.x"`): a standard lock of resolved packages.

File names: `pylock.toml` and `pylock.<name>.toml`. A `[[packages]]` entry whose
`directory` is the lock's own folder (`.`) is the project itself, not a dependency.

The format does not have to record the graph. When entries carry `dependencies` (tables
that identify other entries key by key), those are the edges. The direct dependencies
come from the sibling pyproject.toml (through `PyprojectParser`), else from the
project entry's own `dependencies`, else they are the entries nothing depends on. When
no entry carries `dependencies` (uv's export, for one), depguard claims no edges it cannot
see: every package is attached to the project (not marked direct unless pyproject.toml
says so, scope prod unless pyproject.toml says otherwise) and a `Skipped("*", ...)` entry
says the graph is flat.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import ClassVar

from depguard.errors import ParseError
from depguard.models import Ecosystem, ParsedManifest, Root, Skipped, canonical_name
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
from depguard.parsers.base import FileReader, ManifestParser, line_of, load_toml
from depguard.parsers.poetry_lock import direct_from_pyproject

PYPI = Ecosystem.PYPI
_NAME = re.compile(r"^pylock\.([^.]+\.)?toml$")
FLAT = (
    "pylock.toml records no dependency edges: every package is attached to the project, "
    "so the graph is flat"
)


class PylockParser(ManifestParser):
    name: ClassVar[str] = "pylock.toml"
    ecosystem: ClassVar[Ecosystem] = PYPI

    @classmethod
    def matches(cls, path: Path) -> bool:
        return _NAME.match(path.name) is not None

    def parse(self, path: Path, source: str, reader: FileReader) -> ParsedManifest:
        text = reader.read_text(path)
        top = Fields(source, load_toml(source, text), "pylock.toml", None)
        _check_header(source, top, text)
        manifest = ParsedManifest(path=source, kind=self.name, ecosystem=PYPI, locked=True)
        lines = header_lines(text, "packages")
        tables = [
            Fields(source, t, f"packages #{i + 1}", line_for(lines, i))
            for i, t in enumerate(top.array("packages"))
        ]
        nodes = [_node(t) for t in tables]
        for node, table in zip(nodes, tables, strict=True):
            node.requires = [
                link
                for dep in table.tables("dependencies")
                if (link := _link(manifest, dep, tables, nodes))
            ]
        walk(manifest, nodes, [_root(path, source, reader, manifest, nodes, tables)])
        return manifest


def _check_header(source: str, top: Fields, text: str) -> None:
    version = top.string("lock-version")
    line = line_of(text, "lock-version")
    if version is None:
        raise ParseError(source, "missing `lock-version` (not a PEP 751 lock file?)", 1)
    if version.split(".")[0] != "1":
        raise ParseError(
            source, f"unsupported pylock.toml lock-version {version!r} (depguard reads 1.x)", line
        )
    for key in ("environments", "extras", "dependency-groups", "default-groups"):
        try:
            top.strings(key)
        except ParseError as exc:
            at = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=", text, re.MULTILINE)
            line = text.count("\n", 0, at.start()) + 1 if at else None
            raise ParseError(source, exc.reason, line) from None
    top.string("created-by")
    top.string("requires-python")


def _root(
    path: Path,
    source: str,
    reader: FileReader,
    manifest: ParsedManifest,
    nodes: list[Node],
    tables: list[Fields],
) -> tuple[Root, list[Link]]:
    selves = [i for i, t in enumerate(tables) if _is_project(t)]
    for i in selves:
        nodes[i].root_only = True
    pyproject = path.parent / "pyproject.toml"
    has_edges = any("dependencies" in t.data for t in tables)
    if reader.exists(pyproject):
        index: dict[str, list[int]] = {}
        for i, node in enumerate(nodes):
            if i not in selves:
                index.setdefault(node.name, []).append(i)
        root, links = direct_from_pyproject(pyproject, source, reader, manifest, nodes, index)
    else:
        name = nodes[selves[0]].name if selves else folder_name(path, source)
        root = Root(name=name, source=source, ecosystem=PYPI)
        links = [link for i in selves for link in nodes[i].requires]
        if has_edges and not links:
            manifest.skipped.append(
                Skipped(
                    "*",
                    f"no sibling pyproject.toml: {INFERRED}",
                    source,
                )
            )
            links = [Link(nodes[i].name, (i,)) for i in unreferenced(nodes)]
    if not has_edges:
        manifest.skipped.append(Skipped("*", FLAT, source))
        linked = {t for link in links for t in link.targets}
        links += [
            Link(n.name, (i,), direct=False)
            for i, n in enumerate(nodes)
            if i not in linked and not n.root_only
        ]
    manifest.roots.append(root)
    return root, links


def _is_project(table: Fields) -> bool:
    if "directory" not in table.data:
        return False
    where = table.sub("directory", table.table("directory")).string("path") or ""
    return posixpath.normpath(where) == "."


def _link(
    manifest: ParsedManifest, dep: Fields, tables: list[Fields], nodes: list[Node]
) -> Link | None:
    """A `dependencies` entry names another entry by a subset of its keys."""
    name = canonical_name(PYPI, dep.name())
    keys = {k: v for k, v in dep.data.items() if k != "name"}
    found = tuple(
        i
        for i, t in enumerate(tables)
        if nodes[i].name == name and all(t.data.get(k) == v for k, v in keys.items())
    )
    if len(found) == 1:
        return Link(name, found)
    reason = "not in the lock" if not found else f"ambiguous ({len(found)} entries match)"
    manifest.skipped.append(
        Skipped(name, f"{dep.where}: {name} is {reason}", manifest.path, dep.line)
    )
    return None


def _node(table: Fields) -> Node:
    name = table.name()
    node = Node(canonical_name(PYPI, name), table.string("version"), table.line)
    node.marker = table.string("marker")
    table.string("requires-python")
    artifacts = [
        table.sub(k, table.table(k))
        for k in ("vcs", "directory", "archive", "sdist")
        if k in table.data
    ]
    artifacts += table.tables("wheels")
    hashes: list[str] = []
    for art in artifacts:
        for algo, value in art.table("hashes").items():
            if not isinstance(value, str):
                raise art.fail(f"hashes.{algo}", "a string")
            hashes.append(f"{algo}:{value}")
    node.hashes = tuple(hashes)
    node.resolved = _resolved(table, artifacts)
    return node


def _resolved(table: Fields, artifacts: list[Fields]) -> str | None:
    if "vcs" in table.data:
        vcs = table.sub("vcs", table.table("vcs"))
        where, commit = vcs.string("url") or vcs.string("path"), vcs.string("commit-id")
        return f"{vcs.string('type') or 'vcs'}+{where}" + (f"@{commit}" if commit else "")
    for art in artifacts:
        where = art.string("url") or art.string("path")
        if where:
            return where
    return table.string("index")
