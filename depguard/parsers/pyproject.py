"""pyproject.toml: PEP 621 dependencies and extras, PEP 735 groups, Poetry, build requirements.

What the records mean:

* ``[project] dependencies`` -> scope prod. ``[project] optional-dependencies`` -> scope optional;
  the extra is kept in ``marker`` the way core metadata writes it (``extra == "name"``, and-ed with
  the entry's own marker). A self-reference (``flask[async]`` inside flask) is not a package: its
  extras are expanded in place and a ``Skipped`` entry records it.
* ``[dependency-groups]`` (PEP 735) -> scope dev; ``{include-group = "x"}`` is expanded
  recursively. A cycle or an unknown group is an error naming the line of the including group.
* Poetry: ``[tool.poetry.dependencies]`` (``python`` skipped) -> prod, or optional with
  ``optional = true`` (extras from ``[tool.poetry.extras]`` go in the marker);
  ``dev-dependencies`` and every ``[tool.poetry.group.<g>.dependencies]`` -> dev. Constraints are
  converted to PEP 440 for ``Dependency.specifier``; the edge keeps the constraint as written.
  A ``||`` constraint has no single-SpecifierSet form: it is validated and recorded as written.
* ``[build-system] requires`` -> scope dev, direct.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import VERSION_PATTERN, InvalidVersion, Version

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
from depguard.parsers.base import FileReader, ManifestParser, load_toml
from depguard.parsers.toml_lines import KeyPath, TomlLines

__all__ = ["PyprojectParser", "TomlLines", "poetry_to_pep440", "project_name"]

PYPI = Ecosystem.PYPI
_VALID_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def project_name(data: dict[str, Any]) -> str | None:
    """The declared project name: ``[project] name``, else ``[tool.poetry] name``, else None."""
    project = data.get("project")
    if isinstance(project, dict) and isinstance(project.get("name"), str):
        return str(project["name"])
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict) and isinstance(poetry.get("name"), str):
        return str(poetry["name"])
    return None


# ---------------------------------------------------------------- Poetry constraints -> PEP 440

_V = rf"v?(?P<version>{VERSION_PATTERN})"
_ANY = re.compile(r"^v?[xX*](\.[xX*])*$")
_CARET = re.compile(rf"^\^\s*{_V}$", re.VERBOSE | re.IGNORECASE)
_TILDE = re.compile(rf"^~(?!=)\s*{_V}$", re.VERBOSE | re.IGNORECASE)
_TILDE_EQ = re.compile(rf"^~=\s*{_V}$", re.VERBOSE | re.IGNORECASE)
_WILD = re.compile(r"^(?P<op>!=|==)?\s*v?(?P<release>\d+(?:\.\d+)*)(?:\.\*)+$")
_BASIC = re.compile(
    rf"^(?P<op><>|!=|>=?|<=?|==?)?\s*{_V}(?P<wild>\.\*)?$", re.VERBOSE | re.IGNORECASE
)
# poetry-core's AND separator: a comma or a space that is not part of an operator.
_AND_SPLIT = re.compile(r"(?<!^)(?<![~=>< ,]) *(?<!-)[, ](?!-) *(?!,|$)")
_OR_SPLIT = re.compile(r"\s*\|\|?\s*")


def poetry_to_pep440(constraint: str) -> str:
    """Convert a Poetry constraint (``^1.2``, ``~1.2.3``, ``1.2.*``, ``*``, ``>=1,<2``) to PEP 440.

    ``*`` gives ``""`` (any version). A ``||`` union has no single-SpecifierSet form: each side
    is validated and the constraint is returned as written. Raises ValueError when invalid.
    """
    text = constraint.strip()
    alternatives = _OR_SPLIT.split(text)
    converted = [_convert_and(alt) for alt in alternatives]
    return converted[0] if len(converted) == 1 else text


def _convert_and(constraint: str) -> str:
    constraint = constraint.rstrip(",").rstrip()
    if not constraint:
        raise ValueError("empty version constraint")
    clauses = [c for part in _AND_SPLIT.split(constraint) for c in _convert_single(part.strip())]
    result = ",".join(clauses)
    try:
        SpecifierSet(result)
    except InvalidSpecifier as exc:
        raise ValueError(f"invalid version constraint {constraint!r}") from exc
    return result


def _convert_single(constraint: str) -> list[str]:
    if _ANY.match(constraint):
        return []
    for pattern, bump in ((_TILDE, _tilde_upper), (_CARET, _caret_upper)):
        match = pattern.match(constraint)
        if match:
            low = _version(match.group("version"), constraint)
            return [f">={match.group('version')}", f"<{bump(low)}"]
    if match := _TILDE_EQ.match(constraint):
        _version(match.group("version"), constraint)
        return [f"~={match.group('version')}"]
    if match := _WILD.match(constraint):
        return [f"{match.group('op') or '=='}{match.group('release')}.*"]
    if match := _BASIC.match(constraint):
        op = {None: "==", "=": "==", "<>": "!="}.get(match.group("op"), match.group("op"))
        version = match.group("version")
        _version(version, constraint)
        wild = ".*" if match.group("wild") and op in ("==", "!=") else ""
        return [f"{op}{version}{wild}"]
    raise ValueError(f"invalid version constraint {constraint!r}")


def _version(text: str, constraint: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion as exc:
        raise ValueError(f"invalid version in constraint {constraint!r}") from exc


def _bumped(release: tuple[int, ...], index: int) -> str:
    parts = [*release[:index], release[index] + 1] + [0] * (len(release) - index - 1)
    return ".".join(str(p) for p in parts)


def _caret_upper(version: Version) -> str:
    """Poetry's next breaking version: bump the left-most non-zero of major/minor/patch."""
    release = version.release
    if release[0] > 0 or len(release) == 1:
        return _bumped(release, 0)
    if release[1] > 0 or len(release) == 2:
        return _bumped(release, 1)
    return _bumped(release, 2)


def _tilde_upper(version: Version) -> str:
    return _bumped(version.release, 0 if len(version.release) == 1 else 1)


def _python_marker(constraint: str) -> str | None:
    """Poetry's ``python = "<3.10"`` as a PEP 508 marker (None for any Python)."""
    alternatives = []
    for alternative in _OR_SPLIT.split(constraint.strip()):
        spec = _convert_and(alternative)
        if not spec:
            return None
        alternatives.append(" and ".join(_python_clause(clause) for clause in spec.split(",")))
    if len(alternatives) == 1:
        return alternatives[0]
    return " or ".join(f"({alternative})" for alternative in alternatives)


def _python_clause(clause: str) -> str:
    match = re.match(r"(~=|===|==|!=|<=|>=|<|>)(.*)", clause)
    assert match is not None  # every clause comes from _convert_single
    op, version = match.groups()
    full = len(version.removesuffix(".*").split(".")) > 2
    return f'{"python_full_version" if full else "python_version"} {op} "{version}"'


# ---------------------------------------------------------------- the parser

_TYPES = {str: "a string", int: "an integer", float: "a float", bool: "a boolean"}


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return _TYPES.get(type(value), "a date/time")


def _where(path: KeyPath) -> str:
    return "".join(f"[{key}]" if isinstance(key, int) else f".{_shown(key)}" for key in path
                   ).lstrip(".")


def _shown(key: str) -> str:
    """A key as written, quoted when it holds a newline or another unprintable character."""
    return key if key.isprintable() else json.dumps(key)


def _and(*markers: str | None) -> str | None:
    present = [marker for marker in markers if marker]
    if len(present) < 2:
        return present[0] if present else None
    return " and ".join(f"({marker})" for marker in present)


def _pinned(specifier: str) -> str | None:
    """The version of a lone ``==X`` (no wildcard), as PEP 440 allows only one such version."""
    if "|" in specifier:
        return None
    specs = list(SpecifierSet(specifier))
    if len(specs) == 1 and specs[0].operator == "==" and not specs[0].version.endswith(".*"):
        return specs[0].version
    return None


class PyprojectParser(ManifestParser):
    """pyproject.toml: the direct dependencies a project declares (no resolved graph)."""

    name: ClassVar[str] = "pyproject.toml"
    ecosystem: ClassVar[Ecosystem] = Ecosystem.PYPI

    @classmethod
    def matches(cls, path: Path) -> bool:
        return path.name == "pyproject.toml"

    def parse(self, path: Path, source: str, reader: FileReader) -> ParsedManifest:
        text = reader.read_text(path)
        data = load_toml(source, text)  # first: TomlLines expects text tomllib accepted
        builder = _Builder(source, TomlLines(text), data)
        declared = builder.declared_name()
        folder = Path(path).resolve().parent.name or Path(source).parent.name or "project"
        root = Root(name=declared or folder, source=source, ecosystem=PYPI)
        manifest = ParsedManifest(path=source, kind=self.name, ecosystem=PYPI, roots=[root])
        builder.build(manifest, root, declared)
        return manifest


class _Builder:
    """Walks one pyproject.toml, type-checking every field it reads."""

    def __init__(self, source: str, lines: TomlLines, data: dict[str, Any]) -> None:
        self.source, self.lines, self.data = source, lines, data
        self.manifest = ParsedManifest(path=source, kind=PyprojectParser.name, ecosystem=PYPI)
        self.root_id = ""
        self.self_name: str | None = None
        self.extras: dict[str, tuple[str, list[Any]]] = {}
        self.edges: set[Edge] = set()

    # -- type checks; each error names the field and its line
    def error(self, message: str, path: KeyPath) -> ParseError:
        return ParseError(self.source, message, self.lines.line(path))

    def _typed(self, value: Any, path: KeyPath, kind: type, expected: str) -> Any:
        if not isinstance(value, kind):
            raise self.error(f"{_where(path)} must be {expected}, not {_type_name(value)}", path)
        return value

    def table(self, value: Any, path: KeyPath) -> dict[str, Any]:
        return dict(self._typed(value, path, dict, "a table"))

    def array(self, value: Any, path: KeyPath) -> list[Any]:
        return list(self._typed(value, path, list, "an array"))

    def string(self, value: Any, path: KeyPath, expected: str = "a string") -> str:
        return str(self._typed(value, path, str, expected))

    def sub_table(self, parent: dict[str, Any], path: KeyPath) -> dict[str, Any]:
        key = path[-1]
        return self.table(parent[key], path) if key in parent else {}

    def opt_string(self, table: dict[str, Any], key: str, path: KeyPath) -> str | None:
        return self.string(table[key], (*path, key)) if key in table else None

    def check_name(self, name: str, path: KeyPath, what: str) -> str:
        if not _VALID_NAME.match(name):
            raise self.error(f"invalid {what} name {name!r}", path)
        return name

    def marker(self, text: str | None, path: KeyPath) -> str | None:
        try:
            return None if text is None else str(Marker(text))
        except InvalidMarker as exc:
            reason = str(exc).splitlines()[0]
            raise self.error(f"{_where(path)}: invalid marker {text!r}: {reason}", path) from exc

    def poetry(self) -> dict[str, Any]:
        return self.sub_table(self.sub_table(self.data, ("tool",)), ("tool", "poetry"))

    def declared_name(self) -> str | None:
        project = self.sub_table(self.data, ("project",))
        if "name" in project:
            return self.string(project["name"], ("project", "name"))
        poetry = self.poetry()
        return self.opt_string(poetry, "name", ("tool", "poetry"))

    # -- the sections
    def build(self, manifest: ParsedManifest, root: Root, declared: str | None) -> None:
        self.manifest, self.root_id = manifest, root.id
        self.self_name = canonical_name(PYPI, declared) if declared else None
        self.project(self.sub_table(self.data, ("project",)))
        self.dependency_groups()
        self.poetry_tables(self.poetry())
        build = self.sub_table(self.data, ("build-system",))
        # Build requirements are part of the surface: the backend and its plug-ins run code while
        # the sdist/wheel is built, so they are recorded as direct dev dependencies.
        for i, entry in enumerate(
            self.array(build.get("requires", []), ("build-system", "requires"))
        ):
            self.requirement(entry, ("build-system", "requires", i), Scope.DEV, None, frozenset())

    def project(self, project: dict[str, Any]) -> None:
        dynamic = self.array(project.get("dynamic", []), ("project", "dynamic"))
        for field in ("dependencies", "optional-dependencies"):
            if field in dynamic:
                reason = "listed in [project] dynamic: computed by the build backend, not read"
                line = self.lines.line(("project", "dynamic"))
                self.manifest.skipped.append(
                    Skipped(f"[project] {field}", reason, self.source, line)
                )
        base = ("project", "optional-dependencies")
        for extra, entries in self.sub_table(project, base).items():
            self.check_name(extra, (*base, extra), "extra")
            self.extras[canonical_name(PYPI, extra)] = (extra, self.array(entries, (*base, extra)))
        for i, entry in enumerate(
            self.array(project.get("dependencies", []), ("project", "dependencies"))
        ):
            self.requirement(entry, ("project", "dependencies", i), Scope.PROD, None, frozenset())
        for key, (extra, entries) in self.extras.items():
            for i, entry in enumerate(entries):
                marker = f'extra == "{extra}"'
                self.requirement(entry, (*base, extra, i), Scope.OPTIONAL, marker, frozenset({key}))

    def requirement(
        self, entry: Any, path: KeyPath, scope: Scope, context: str | None, seen: frozenset[str]
    ) -> None:
        """One PEP 508 string; `context` is and-ed to its marker, `seen` guards extra expansion."""
        text = self.string(entry, path, "a requirement string")
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            reason = str(exc).splitlines()[0]
            raise self.error(f"invalid requirement {text!r}: {reason}", path) from exc
        marker = _and(str(req.marker) if req.marker else None, context)
        if self.self_name is not None and canonical_name(PYPI, req.name) == self.self_name:
            self.expand_self(req, path, scope, marker, seen)
            return
        spec = str(req.specifier)
        dep = Dependency(
            ecosystem=PYPI, name=canonical_name(PYPI, req.name), version=_pinned(spec),
            specifier=spec, scope=scope, direct=True, source=self.source,
            line=self.lines.line(path), extras=tuple(sorted(req.extras)),
            marker=self.marker(marker, path), resolved=req.url,
        )  # fmt: skip
        self.add(dep, spec)

    def expand_self(
        self,
        req: Requirement,
        path: KeyPath,
        scope: Scope,
        marker: str | None,
        seen: frozenset[str],
    ) -> None:
        """``project[extra]`` inside the project: not a package; its extras are expanded here."""
        extras = sorted(req.extras)
        known = [extra for extra in extras if canonical_name(PYPI, extra) in self.extras]
        reason = "refers to the project itself"
        if known:
            reason += f"; its extras {', '.join(known)} are expanded in place"
        if unknown := [extra for extra in extras if extra not in known]:
            reason += f"; unknown extras {', '.join(unknown)} are ignored"
        label = req.name + (f"[{','.join(extras)}]" if extras else "")
        skipped = Skipped(label, reason, self.source, self.lines.line(path))
        if skipped not in self.manifest.skipped:
            self.manifest.skipped.append(skipped)
        for key in (canonical_name(PYPI, extra) for extra in known):
            if key not in seen:
                name, entries = self.extras[key]
                for i, entry in enumerate(entries):
                    entry_path = ("project", "optional-dependencies", name, i)
                    self.requirement(entry, entry_path, scope, marker, seen | {key})

    def dependency_groups(self) -> None:
        groups = self.sub_table(self.data, ("dependency-groups",))
        names: dict[str, str] = {}
        for name, entries in groups.items():
            path = ("dependency-groups", name)
            key = canonical_name(PYPI, self.check_name(name, path, "dependency group"))
            if key in names:
                raise self.error(f"dependency group {name!r} duplicates {names[key]!r}", path)
            names[key] = name
            self.array(entries, path)
        memo: dict[str, list[tuple[Any, KeyPath]]] = {}
        for name in groups:
            for entry, entry_path in self.resolve_group(name, groups, names, (), memo):
                self.requirement(entry, entry_path, Scope.DEV, None, frozenset())

    def resolve_group(
        self, name: str, groups: dict[str, Any], names: dict[str, str],
        stack: tuple[str, ...], memo: dict[str, list[tuple[Any, KeyPath]]],
    ) -> list[tuple[Any, KeyPath]]:  # fmt: skip
        """The group's entries with every ``{include-group}`` expanded (PEP 735)."""
        if name in memo:
            return memo[name]
        stack = (*stack, name)
        found: list[tuple[Any, KeyPath]] = []
        for i, entry in enumerate(groups[name]):
            path = ("dependency-groups", name, i)
            if not isinstance(entry, dict):
                found.append((entry, path))
                continue
            if set(entry) != {"include-group"}:
                keys = ", ".join(_shown(k) for k in sorted(entry)) or "none"
                message = f"{_where(path)} must be a requirement string or {{include-group = ...}}"
                raise self.error(f"{message}, not a table with keys: {keys}", path)
            target = self.string(entry["include-group"], (*path, "include-group"))
            included = names.get(canonical_name(PYPI, target))
            if included is None:
                message = f"dependency group {name!r} includes unknown group {target!r}"
                raise self.error(message, ("dependency-groups", name))
            if included in stack:
                chain = " -> ".join((*stack[stack.index(included) :], included))
                raise self.error(
                    f"dependency group include cycle: {chain}", ("dependency-groups", name)
                )
            found.extend(self.resolve_group(included, groups, names, stack, memo))
        memo[name] = found
        return found

    def poetry_tables(self, poetry: dict[str, Any]) -> None:
        base: KeyPath = ("tool", "poetry")
        extras: dict[str, list[str]] = {}
        for extra, packages in self.sub_table(poetry, (*base, "extras")).items():
            path = (*base, "extras", self.check_name(extra, (*base, "extras", extra), "extra"))
            for i, package in enumerate(self.array(packages, path)):
                extras.setdefault(
                    canonical_name(PYPI, self.string(package, (*path, i))), []
                ).append(extra)
        sections: list[tuple[dict[str, Any], KeyPath, Scope]] = [
            (poetry, (*base, "dependencies"), Scope.PROD),
            (poetry, (*base, "dev-dependencies"), Scope.DEV),
        ]
        for group, body in self.sub_table(poetry, (*base, "group")).items():
            group_path = (*base, "group", group)
            body = self.table(body, group_path)
            if "optional" in body:  # an optional group is still a dev group
                self._typed(body["optional"], (*group_path, "optional"), bool, "a boolean")
            sections.append((body, (*group_path, "dependencies"), Scope.DEV))
        for parent, path, scope in sections:
            for name, value in self.sub_table(parent, path).items():
                if not (scope is Scope.PROD and name.lower() == "python"):
                    self.poetry_dependency(name, value, (*path, name), scope, extras)

    def poetry_dependency(
        self, name: str, value: Any, path: KeyPath, scope: Scope, extras: dict[str, list[str]]
    ) -> None:
        self.check_name(name, path, "package")
        if isinstance(value, str):
            self.poetry_constraint(name, {"version": value}, path, scope, extras)
        elif isinstance(value, dict):
            self.poetry_constraint(name, value, path, scope, extras)
        elif isinstance(value, list):  # multiple constraints, usually split by python/markers
            for i, item in enumerate(value):
                self.poetry_constraint(
                    name, self.table(item, (*path, i)), (*path, i), scope, extras
                )
        else:
            expected = "a version string, a table or an array of tables"
            raise self.error(f"{_where(path)} must be {expected}, not {_type_name(value)}", path)

    def poetry_constraint(
        self, name: str, table: dict[str, Any], path: KeyPath, scope: Scope,
        extras: dict[str, list[str]],
    ) -> None:  # fmt: skip
        written = self.opt_string(table, "version", path) or ""
        spec = self.converted(poetry_to_pep440, written, path)
        python = self.opt_string(table, "python", path) or ""
        markers = [self.opt_string(table, "markers", path)]
        markers.append(self.converted(_python_marker, python, (*path, "python")))
        if (platform := self.opt_string(table, "platform", path)) is not None:
            markers.append(f'sys_platform == "{platform}"')
        optional = self._typed(table.get("optional", False), (*path, "optional"), bool, "a boolean")
        package_extras = [self.string(e, (*path, "extras", i)) for i, e in enumerate(
            self.array(table.get("extras", []), (*path, "extras")))]  # fmt: skip
        if optional and scope is Scope.PROD:
            scope = Scope.OPTIONAL
            in_extras = extras.get(canonical_name(PYPI, name), [])
            markers.append(" or ".join(f'extra == "{extra}"' for extra in in_extras) or None)
        dep = Dependency(
            ecosystem=PYPI, name=canonical_name(PYPI, name), version=_pinned(spec), specifier=spec,
            scope=scope, direct=True, source=self.source, line=self.lines.line(path),
            extras=tuple(sorted(package_extras)), marker=self.marker(_and(*markers), path),
            resolved=self.poetry_reference(table, path),
        )  # fmt: skip
        self.add(dep, written)

    def converted(self, convert: Callable[[str], str | None], text: str, path: KeyPath) -> str:
        """A Poetry constraint through `convert` ("" stays ""); errors name the field."""
        try:
            return (convert(text) or "") if text else ""
        except ValueError as exc:
            raise self.error(f"{_where(path)}: {exc}", path) from exc

    def poetry_reference(self, table: dict[str, Any], path: KeyPath) -> str | None:
        """``git`` (+ ``rev``/``tag``/``branch``, ``subdirectory``), ``url`` or ``path`` source."""
        git = self.opt_string(table, "git", path)
        if git is None:
            return self.opt_string(table, "url", path) or self.opt_string(table, "path", path)
        refs = [self.opt_string(table, key, path) for key in ("rev", "tag", "branch")]
        ref = next((r for r in refs if r), None)
        subdirectory = self.opt_string(table, "subdirectory", path)
        url = git if git.startswith("git+") else f"git+{git}"
        return (
            url
            + (f"@{ref}" if ref else "")
            + (f"#subdirectory={subdirectory}" if subdirectory else "")
        )

    def add(self, dep: Dependency, written: str) -> None:
        self.manifest.add_package(dep)
        edge = Edge(parent=self.root_id, child=dep.id, specifier=written, scope=dep.scope)
        if edge not in self.edges:
            self.edges.add(edge)
            self.manifest.edges.append(edge)
