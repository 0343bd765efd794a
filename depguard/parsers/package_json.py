"""package.json: direct npm dependencies of a project and of its workspaces.

Sections: `dependencies` (prod), `devDependencies` (dev), `optionalDependencies`
(optional; overrides the same name in `dependencies`, as npm does),
`peerDependencies` (peer; `peerDependenciesMeta.<name>.optional` alone declares an
optional peer `*`). npm aliases (`"x": "npm:y@^1"`) become package `y` with alias `x`.
Non-registry specs (git, github shorthand, `file:`, `link:`, `workspace:`, tarball
URLs, local paths) are kept with `resolved` set and no version.

Workspaces: the file reader can only read and test files, not list folders, so
literal folder entries are followed (`<folder>/package.json`) and glob patterns
(`packages/*`) are recorded in `skipped` instead of being expanded.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

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
from depguard.parsers.base import FileReader, ManifestParser, load_json

__all__ = [
    "INSTALL_SCRIPTS",
    "PackageJsonParser",
    "bundled_dependencies",
    "dependency_sections",
    "install_scripts",
    "key_lines",
    "npm_spec",
]

INSTALL_SCRIPTS = ("preinstall", "install", "postinstall", "prepare")
"""Lifecycle scripts npm runs when the package is installed (from git, for `prepare`)."""

SECTIONS: tuple[tuple[str, Scope], ...] = (
    ("dependencies", Scope.PROD),
    ("devDependencies", Scope.DEV),
    ("optionalDependencies", Scope.OPTIONAL),
    ("peerDependencies", Scope.PEER),
)

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"(\s*:)?|[{}\[\]]')
_EXACT = re.compile(r"^\s*=?\s*v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)\s*$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_LOCAL = ("./", "../", "/", "~/", ".\\", "..\\")
_GLOB = set("*?[]{}!")

KeyPath = tuple[str | None, ...]


def key_lines(text: str, *, objects_only: bool = False) -> dict[KeyPath, int]:
    """1-based line of every object key, by its key path, in one pass over valid JSON text.

    An array element appears in a path as None (`("a", None, "b")` for `{"a": [{"b": 1}]}`).
    With `objects_only`, only keys whose value is an object or an array are recorded
    (enough for lockfiles, and cheaper on 50 MB files).
    """
    lines: dict[KeyPath, int] = {}
    stack: list[str | None] = []
    depth = 0
    pending: str | None = None
    pending_at = 0
    line, last = 1, 0
    for match in _TOKEN.finditer(text):
        raw = match.group(1)
        if raw is not None:
            if match.group(2) is None:
                pending = None
                continue
            pending, pending_at = (_unescape(raw) if "\\" in raw else raw), match.start()
            if not objects_only:
                line += text.count("\n", last, pending_at)
                last = pending_at
                lines[(*stack, pending)] = line
            continue
        char = match.group()
        if char == "{" or char == "[":
            if objects_only and pending is not None:
                line += text.count("\n", last, pending_at)
                last = pending_at
                lines[(*stack, pending)] = line
            if depth:
                stack.append(pending)
            depth += 1
        else:
            depth -= 1
            if depth and stack:
                stack.pop()
        pending = None
    return lines


def _unescape(raw: str) -> str:
    try:
        value = json.loads(f'"{raw}"')
    except ValueError:
        return raw
    return value if isinstance(value, str) else raw


def type_name(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def expect_object(value: object, where: str, source: str, line: int | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParseError(source, f"{where}: expected an object, got {type_name(value)}", line)
    return value


def expect_str_map(value: object, where: str, source: str, line: int | None) -> dict[str, str]:
    """A {name: spec} object whose values are all strings."""
    mapping = expect_object(value, where, source, line)
    for key, item in mapping.items():
        if not isinstance(item, str):
            raise ParseError(
                source, f"{where}.{key}: expected a string, got {type_name(item)}", line
            )
    return mapping


def npm_spec(name: str, spec: str) -> tuple[str, str, str | None, str | None]:
    """(real name, range, exact version, resolved) for a dependency `name: spec`.

    Raises ValueError for an alias without a package name (`npm:` / `npm:@1`).
    """
    text = spec.strip()
    if text.startswith("npm:"):
        target = text[4:]
        at = target.find("@", 1)
        real, rng = (target, "") if at < 0 else (target[:at], target[at + 1 :])
        if not real or (real.startswith("@") and "/" not in real):
            raise ValueError(f"alias {spec!r} names no package")
        return real, rng, _exact(rng), None
    if _SCHEME.match(text) or text.startswith(_LOCAL) or _is_path_like(text):
        return name, spec, None, spec
    return name, spec, _exact(text), None


def _is_path_like(spec: str) -> bool:
    """GitHub `user/repo[#ref]` shorthand or a relative path / tarball name."""
    if "/" in spec and not spec.startswith("@") and " " not in spec.split("#")[0]:
        return True
    return spec.endswith((".tgz", ".tar.gz", ".tar"))


def _exact(rng: str) -> str | None:
    match = _EXACT.match(rng)
    return match.group(1) if match else None


def install_scripts(data: object) -> list[str]:
    """Names of the install-time lifecycle scripts a package.json declares."""
    if not isinstance(data, dict):
        return []
    scripts = data.get("scripts")
    if not isinstance(scripts, dict):
        return []
    return [name for name in INSTALL_SCRIPTS if isinstance(scripts.get(name), str)]


def bundled_dependencies(data: object) -> list[str]:
    """Names in `bundleDependencies`/`bundledDependencies` (`true` means all dependencies)."""
    if not isinstance(data, dict):
        return []
    value = data.get("bundleDependencies", data.get("bundledDependencies"))
    if value is True:
        deps = data.get("dependencies")
        return sorted(deps) if isinstance(deps, dict) else []
    if isinstance(value, list):
        return [name for name in value if isinstance(name, str)]
    return []


def dependency_sections(
    data: dict[str, Any], source: str, lines: dict[KeyPath, int]
) -> Iterator[tuple[str, str, Scope, int | None]]:
    """(name, spec, scope, line) for every declared dependency, validated, npm's precedence."""
    sections: dict[str, dict[str, str]] = {}
    for key, _scope in SECTIONS:
        value = data.get(key)
        if value is not None:
            sections[key] = dict(expect_str_map(value, key, source, lines.get((key,))))
    meta = _optional_peers(data, source, lines)
    peers = sections.setdefault("peerDependencies", {})
    for name in meta:
        peers.setdefault(name, "*")
    optional = sections.get("optionalDependencies", {})
    for key, scope in SECTIONS:
        for name, spec in sections.get(key, {}).items():
            if key == "dependencies" and name in optional:
                continue
            line = lines.get((key, name)) or lines.get(("peerDependenciesMeta", name))
            yield name, spec, scope, line


def _optional_peers(data: dict[str, Any], source: str, lines: dict[KeyPath, int]) -> list[str]:
    value = data.get("peerDependenciesMeta")
    if value is None:
        return []
    where = "peerDependenciesMeta"
    meta = expect_object(value, where, source, lines.get((where,)))
    names = []
    for name, entry in meta.items():
        where = f"peerDependenciesMeta.{name}"
        item = expect_object(entry, where, source, lines.get(("peerDependenciesMeta", name)))
        if item.get("optional") is True:
            names.append(name)
    return names


def workspace_patterns(data: dict[str, Any], source: str, lines: dict[KeyPath, int]) -> list[str]:
    """The `workspaces` array, or `workspaces.packages` (the Yarn-style object form)."""
    value = data.get("workspaces")
    line = lines.get(("workspaces",))
    if value is None:
        return []
    if isinstance(value, dict):
        value = value.get("packages", [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ParseError(source, "workspaces: expected an array of folder strings", line)
    return value


def root_name(data: dict[str, Any], path: Path, source: str) -> str:
    name = data.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    return Path(source).parent.name or path.resolve().parent.name


class PackageJsonParser(ManifestParser):
    """The direct dependencies a package.json declares (not a lockfile)."""

    name: ClassVar[str] = "package.json"
    ecosystem: ClassVar[Ecosystem] = Ecosystem.NPM

    @classmethod
    def matches(cls, path: Path) -> bool:
        return path.name == "package.json" and "node_modules" not in path.parts

    def parse(self, path: Path, source: str, reader: FileReader) -> ParsedManifest:
        data, lines = _load(path, source, reader)
        root = Root(name=root_name(data, path, source), source=source, ecosystem=self.ecosystem)
        manifest = ParsedManifest(
            path=source, kind=self.name, ecosystem=self.ecosystem, roots=[root]
        )
        workspaces = self._workspaces(data, path, source, lines, reader, manifest)
        by_name = {ws.name: ws for ws, _data, _lines, _src in workspaces}
        _add_dependencies(manifest, root, data, source, lines, by_name)
        for ws, ws_data, ws_lines, ws_source in workspaces:
            manifest.roots.append(ws)
            manifest.edges.append(Edge(parent=root.id, child=ws.id, specifier="workspace"))
            _add_dependencies(manifest, ws, ws_data, ws_source, ws_lines, by_name)
        return manifest

    def _workspaces(
        self,
        data: dict[str, Any],
        path: Path,
        source: str,
        lines: dict[KeyPath, int],
        reader: FileReader,
        manifest: ParsedManifest,
    ) -> list[tuple[Root, dict[str, Any], dict[KeyPath, int], str]]:
        found = []
        line = lines.get(("workspaces",))
        for pattern in workspace_patterns(data, source, lines):
            if _GLOB & set(pattern):
                reason = "workspace glob pattern not expanded (the file reader cannot list folders)"
                manifest.skipped.append(Skipped(pattern, reason, source, line))
                continue
            folder = posixpath.normpath(pattern.replace("\\", "/"))
            ws_path = path.parent / folder / "package.json"
            if not reader.exists(ws_path):
                reason = f"workspace folder has no package.json ({folder}/package.json)"
                manifest.skipped.append(Skipped(pattern, reason, source, line))
                continue
            ws_source = posixpath.normpath(
                posixpath.join(posixpath.dirname(source), folder, "package.json")
            )
            ws_data, ws_lines = _load(ws_path, ws_source, reader)
            name = root_name(ws_data, ws_path, ws_source)
            ws = Root(name=name, source=f"{source}#{folder}", ecosystem=self.ecosystem)
            found.append((ws, ws_data, ws_lines, ws_source))
        return found


def _load(path: Path, source: str, reader: FileReader) -> tuple[dict[str, Any], dict[KeyPath, int]]:
    text = reader.read_text(path)
    data = load_json(source, text)
    if not isinstance(data, dict):
        raise ParseError(source, f"expected a JSON object, got {type_name(data)}", 1)
    return data, key_lines(text)


def _add_dependencies(
    manifest: ParsedManifest,
    root: Root,
    data: dict[str, Any],
    source: str,
    lines: dict[KeyPath, int],
    workspaces: dict[str, Root],
) -> None:
    for name, spec, scope, line in dependency_sections(data, source, lines):
        if not name.strip():
            manifest.skipped.append(Skipped(name, "empty package name", source, line))
            continue
        if name in workspaces and not spec.startswith("npm:"):
            child = workspaces[name].id
            manifest.edges.append(Edge(parent=root.id, child=child, specifier=spec, scope=scope))
            continue
        try:
            real, rng, version, resolved = npm_spec(name, spec)
        except ValueError as exc:
            manifest.skipped.append(Skipped(name, str(exc), source, line))
            continue
        dep = Dependency(
            ecosystem=Ecosystem.NPM,
            name=canonical_name(Ecosystem.NPM, real),
            version=version,
            specifier=rng,
            scope=scope,
            direct=True,
            source=source,
            line=line,
            resolved=resolved,
            alias=name if real != name else None,
        )
        child = manifest.add_package(dep)
        manifest.edges.append(Edge(parent=root.id, child=child, specifier=spec, scope=scope))
