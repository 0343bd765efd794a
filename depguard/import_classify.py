"""Classify an import: standard library, first-party, declared dependency, or undeclared.

Python import names map to PyPI distributions through the installed environment's
`importlib.metadata.packages_distributions()` and `rules/import-names.tsv` (pipreqs'
mapping plus curated corrections, dotted prefixes such as `google.protobuf` included).
The standard-library list is the running interpreter's `sys.stdlib_module_names`,
adjusted for modules added or removed between 3.11 and 3.14. Node built-ins come from
`rules/node-builtins.txt`.
"""

from __future__ import annotations

import configparser
import enum
import json
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import PurePosixPath
from typing import Any

from depguard.imports import ImportRef
from depguard.models import Ecosystem, canonical_name
from depguard.rulepack import rules_dir

__all__ = [
    "Classified",
    "FirstParty",
    "ImportClassifier",
    "ImportKind",
    "discover_first_party",
    "import_name_map",
    "node_builtins",
    "python_stdlib",
]


class ImportKind(enum.Enum):
    STDLIB = "stdlib"
    FIRST_PARTY = "first-party"
    DECLARED = "declared"
    UNDECLARED = "undeclared"
    UNKNOWN = "unknown"
    """Not a package reference depguard can name (a path alias, an invalid name)."""


@dataclass(frozen=True, slots=True)
class Classified:
    ref: ImportRef
    kind: ImportKind
    distribution: str | None
    """Canonical PyPI distribution / npm package the import maps to, if known or guessed."""
    reason: str


# Standard-library differences from the 3.11 list, so the target version decides.
_STDLIB_REMOVED = {
    (3, 12): frozenset({"asynchat", "asyncore", "distutils", "imp", "smtpd"}),
    (3, 13): frozenset(
        {"aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "lib2to3", "mailcap"}
        | {"msilib", "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau"}
        | {"telnetlib", "uu", "xdrlib"}
    ),
}
_STDLIB_ADDED = {
    (3, 11): frozenset({"tomllib"}),
    (3, 14): frozenset({"annotationlib", "compression"}),
}

# Import names that several distributions share: map by the next dotted component.
_NAMESPACES = frozenset(
    {"google", "google.cloud", "azure", "azure.mgmt", "azure.storage", "zope", "jaraco"}
    | {"backports", "opentelemetry", "opentelemetry.instrumentation", "sphinxcontrib"}
    | {"ruamel", "oslo", "plone", "collective", "flufl", "repoze", "Products"}
)
_IDENTIFIER_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_NPM_NAME = re.compile(r"(?:@[A-Za-z0-9-~][\w.~-]*/)?[A-Za-z0-9-~][\w.~-]*")


@cache
def python_stdlib(version: tuple[int, int]) -> frozenset[str]:
    """Top-level standard-library names for a Python version (plus `__future__`, `_typeshed`)."""
    names = set(sys.stdlib_module_names) | {"__future__", "_typeshed"}
    for since, removed in _STDLIB_REMOVED.items():
        names = names - removed if version >= since else names | removed
    for since, added in _STDLIB_ADDED.items():
        names = names | added if version >= since else names - added
    return frozenset(names)


@cache
def import_name_map() -> Mapping[str, tuple[str, ...]]:
    """rules/import-names.tsv: import name (maybe dotted) -> distributions, curated first."""
    pipreqs: dict[str, list[str]] = {}
    curated: dict[str, list[str]] = {}
    text = rules_dir().joinpath("import-names.tsv").read_text(encoding="utf-8")
    for line in text.splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) == 3 and not line.startswith("#"):
            target = curated if fields[2] == "curated" else pipreqs
            target.setdefault(fields[0], []).append(fields[1])
    return {name: tuple(dists) for name, dists in (pipreqs | curated).items()}


@cache
def node_builtins() -> tuple[frozenset[str], frozenset[str]]:
    """(built-ins usable without a scheme, built-ins that exist only as `node:x`)."""
    plain: set[str] = set()
    prefixed: set[str] = set()
    text = rules_dir().joinpath("node-builtins.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        name = line.strip()
        if name and not name.startswith("#"):
            (prefixed if name.startswith("node:") else plain).add(name.removeprefix("node:"))
    return frozenset(plain), frozenset(prefixed)


@cache
def _installed_distributions() -> Mapping[str, tuple[str, ...]]:
    try:
        found = metadata.packages_distributions()
    except (OSError, ValueError, KeyError):  # broken metadata of some installed package
        return {}
    return {name: tuple(d) for name, d in found.items()}


def _prefixes(dotted: str) -> list[str]:
    """a.b.c -> [a.b.c, a.b, a]."""
    parts = dotted.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


class ImportClassifier:
    """Decides what each import is, for one project (first-party names, declared packages)."""

    def __init__(
        self,
        *,
        first_party_python: set[str],
        first_party_js: set[str],
        declared: Mapping[Ecosystem, set[str]],
        python_version: tuple[int, int] = (sys.version_info[0], sys.version_info[1]),
        installed: Mapping[str, Sequence[str]] | None = None,
        local_modules: Mapping[str, set[str]] | None = None,
    ) -> None:
        """`installed`: import name -> distributions (default: this environment, lazily).

        `local_modules`: directory -> modules importable from scripts in that directory
        (sibling modules of a file outside any package).
        """
        self.first_party_python = frozenset(first_party_python)
        # A bare "*" (tsconfig's catch-all `"*": ["types/*"]`) would match every package.
        self.first_party_js = tuple(sorted({p.lower() for p in first_party_js if p.strip("*/")}))
        self.declared = {
            eco: frozenset(canonical_name(eco, name) for name in names)
            for eco, names in declared.items()
        }
        self.stdlib = python_stdlib(python_version)
        self.python_version = python_version
        self._installed = installed
        self.local_modules = dict(local_modules or {})

    @classmethod
    def for_project(
        cls,
        files: Sequence[str],
        read: Callable[[str], str | None],
        declared: Mapping[Ecosystem, set[str]],
        *,
        python_version: tuple[int, int] = (sys.version_info[0], sys.version_info[1]),
        installed: Mapping[str, Sequence[str]] | None = None,
    ) -> ImportClassifier:
        """Discover first-party names from the project's files (repo-relative, at head)."""
        found = discover_first_party(files, read)
        return cls(
            first_party_python=found.python,
            first_party_js=found.js,
            declared=declared,
            python_version=python_version,
            installed=installed,
            local_modules=found.local_modules,
        )

    def classify(self, ref: ImportRef) -> Classified:
        if ref.language == "javascript":
            return self._classify_js(ref)
        return self._classify_python(ref)

    # ----------------------------------------------------------------- Python

    def _installed_map(self) -> Mapping[str, Sequence[str]]:
        return _installed_distributions() if self._installed is None else self._installed

    def _classify_python(self, ref: ImportRef) -> Classified:
        if ref.relative:
            return Classified(ref, ImportKind.FIRST_PARTY, None, "relative import")
        if not _IDENTIFIER_PATH.fullmatch(ref.module):
            return Classified(ref, ImportKind.UNKNOWN, None, f"not a module name: {ref.module!r}")
        if ref.top in self.stdlib:
            where = f"Python {self.python_version[0]}.{self.python_version[1]}"
            return Classified(ref, ImportKind.STDLIB, None, f"standard library ({where})")
        if ref.top in self.first_party_python:
            return Classified(ref, ImportKind.FIRST_PARTY, None, f"first-party package {ref.top!r}")
        folder = ref.file.rpartition("/")[0]
        if ref.top in self.local_modules.get(folder, ()):
            reason = f"first-party module {ref.top!r} next to the importing file"
            return Classified(ref, ImportKind.FIRST_PARTY, None, reason)
        return self._python_dependency(ref)

    def _python_dependency(self, ref: ImportRef) -> Classified:
        candidates = [ref.module]
        if ref.module in _NAMESPACES:  # from google.cloud import storage
            candidates[:0] = [f"{ref.module}.{n}" for n in ref.names if n != "*"]
        declared = self.declared.get(Ecosystem.PYPI, frozenset())
        best: tuple[str, tuple[str, ...]] | None = None
        for dotted in candidates:
            mapped = self._lookup(dotted)
            names = list(mapped[1] if mapped else ()) + self._own_names(dotted)
            for name in names:
                if (canon := _pypi(name)) in declared:
                    reason = f"declared in a manifest as {canon!r}"
                    return Classified(ref, ImportKind.DECLARED, canon, reason)
            if best is None and mapped is not None:
                best = mapped
        if best is not None:
            dist = best[1][0]
            reason = f"not declared in any manifest (distribution {dist!r})"
            return Classified(ref, ImportKind.UNDECLARED, _pypi(dist), reason)
        guess = self._own_names(candidates[0])[-1]
        reason = (
            f"not declared in any manifest; distribution for {ref.module!r} unknown "
            f"(guessing {_pypi(guess)!r})"
        )
        return Classified(ref, ImportKind.UNDECLARED, _pypi(guess), reason)

    def _lookup(self, dotted: str) -> tuple[str, tuple[str, ...]] | None:
        """The longest dotted prefix with known distributions (namespace roots never match)."""
        table = import_name_map()
        for prefix in _prefixes(dotted):
            if prefix in _NAMESPACES:
                return None
            dists = list(table.get(prefix, ()))
            if "." not in prefix:
                dists = [*self._installed_map().get(prefix, ()), *dists]
            if dists:
                return prefix, tuple(dict.fromkeys(dists))
        return None

    @staticmethod
    def _own_names(dotted: str) -> list[str]:
        """Prefixes that may be distribution names themselves, most specific first."""
        own = [p for p in _prefixes(dotted) if p not in _NAMESPACES]
        return own or [dotted]

    # ----------------------------------------------------------------- JavaScript

    def _classify_js(self, ref: ImportRef) -> Classified:
        if ref.relative:
            what = "relative path" if ref.top.startswith((".", "/", "#")) else "URL specifier"
            return Classified(ref, ImportKind.FIRST_PARTY, None, f"{what}, not a package")
        if ref.builtin_prefixed:
            return Classified(ref, ImportKind.STDLIB, None, f"runtime built-in {ref.module!r}")
        spec = ref.module.lower()
        for pattern in self.first_party_js:
            if _alias_matches(pattern, spec):
                reason = f"first-party package or path alias {pattern!r}"
                return Classified(ref, ImportKind.FIRST_PARTY, None, reason)
        name = canonical_name(Ecosystem.NPM, ref.top)
        declared = self.declared.get(Ecosystem.NPM, frozenset())
        for option in _npm_options(name, ref.type_only):
            if option in declared:
                reason = f"declared in package.json as {option!r}"
                return Classified(ref, ImportKind.DECLARED, option, reason)
        if ref.top in node_builtins()[0]:
            return Classified(ref, ImportKind.STDLIB, None, f"Node.js built-in {ref.top!r}")
        if ref.top.startswith(("~", "$", "@/")) or not _NPM_NAME.fullmatch(ref.top):
            reason = f"{ref.module!r} is not an npm package name (an unresolved path alias?)"
            return Classified(ref, ImportKind.UNKNOWN, None, reason)
        reason = f"not declared in any package.json (package {name!r})"
        return Classified(ref, ImportKind.UNDECLARED, name, reason)


def _pypi(name: str) -> str:
    return str(canonical_name(Ecosystem.PYPI, name))


def _npm_options(name: str, type_only: bool) -> Iterable[str]:
    """The package itself; for a type-only import also its DefinitelyTyped package."""
    yield name
    if type_only:
        yield "@types/" + name.lstrip("@").replace("/", "__")


def _alias_matches(pattern: str, spec: str) -> bool:
    """tsconfig-style pattern ("@/*", "~/*", "lib/*") or a package name (and its subpaths)."""
    if "*" in pattern:
        head, _, tail = pattern.partition("*")
        return spec.startswith(head) and spec.endswith(tail) and len(spec) >= len(pattern) - 1
    return spec == pattern or spec.startswith(pattern.rstrip("/") + "/")


# --------------------------------------------------------------------------- project layout

_SKIP_DIRS = frozenset({"node_modules", "site-packages", "__pycache__", "venv", "bower_components"})
_JS_SOURCE = re.compile(r"\.(?:[cm]?[jt]sx?|json|vue|svelte)$")


@dataclass(slots=True)
class FirstParty:
    """First-party names found in a project's file list."""

    python: set[str] = field(default_factory=set)
    js: set[str] = field(default_factory=set)
    """Package names (workspaces) and tsconfig path-alias patterns ("@/*")."""
    local_modules: dict[str, set[str]] = field(default_factory=dict)
    """Directory outside any package -> the modules its scripts can import as siblings."""


def discover_first_party(files: Sequence[str], read: Callable[[str], str | None]) -> FirstParty:
    """Top-level Python packages/modules, project names, JS workspace names and aliases."""
    paths = [PurePosixPath(f) for f in files if not _skipped(PurePosixPath(f))]
    found = FirstParty()
    _python_layout(paths, found)
    for path in paths:
        if path.name in ("pyproject.toml", "setup.cfg"):
            found.python |= _python_project_names(path, read(str(path)))
        elif path.name == "package.json":
            data = _json(read(str(path)))
            if isinstance(data, dict) and isinstance(data.get("name"), str):
                found.js.add(data["name"])
        elif path.name.startswith(("tsconfig", "jsconfig")) and path.suffix == ".json":
            found.js |= _ts_aliases(path, read(str(path)), paths)
    return found


def _skipped(path: PurePosixPath) -> bool:
    return any(part in _SKIP_DIRS or part.startswith(".") for part in path.parts[:-1])


def _python_layout(paths: Sequence[PurePosixPath], found: FirstParty) -> None:
    packages = {p.parent for p in paths if p.name == "__init__.py"}
    for path in paths:
        if path.suffix not in (".py", ".pyi"):
            continue
        parts = path.parts
        found.python.add(path.stem if len(parts) == 1 else parts[0])
        if parts[0] == "src" and len(parts) > 1:
            found.python.add(path.stem if len(parts) == 2 else parts[1])
        folder = path.parent
        if path.name == "__init__.py":
            while folder.parent in packages:
                folder = folder.parent
            found.python.add(folder.name)
            if folder.parent not in packages:
                _local(found, folder.parent).add(folder.name)
        elif folder not in packages:
            _local(found, folder).add(path.stem)
    found.python = {
        n for n in found.python if n.isidentifier() and n not in ("__init__", "__main__")
    }


def _local(found: FirstParty, folder: PurePosixPath) -> set[str]:
    key = "" if str(folder) == "." else str(folder)
    return found.local_modules.setdefault(key, set())


def _import_names(name: str) -> set[str]:
    """A project name as it would be imported: "my-app" -> my_app."""
    norm = re.sub(r"[-.]+", "_", name.strip())
    return {norm, norm.lower()} if norm.isidentifier() else set()


def _python_project_names(path: PurePosixPath, text: str | None) -> set[str]:
    names: set[str] = set()
    if text is None:
        return names
    if path.name == "setup.cfg":
        config = configparser.ConfigParser(interpolation=None)
        try:
            config.read_string(text)
        except configparser.Error:
            return names
        raw = [config.get("metadata", "name", fallback="")]
        packages = config.get("options", "packages", fallback="").split()
    else:
        try:
            data = tomllib.loads(text)
        except (ValueError, RecursionError):  # TOMLDecodeError, a 4300+ digit integer, nesting
            return names
        raw, packages = _toml_names(data)
    for name in raw:
        names |= _import_names(name)
    for package in packages:
        names |= _import_names(package.split(".", 1)[0])
    return names


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _toml_names(data: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(project names, package names) from PEP 621 and Poetry tables."""
    poetry = _table(_table(data, "tool"), "poetry")
    raw = [_table(data, "project").get("name"), poetry.get("name")]
    entries = poetry.get("packages")
    packages = [e.get("include") for e in entries or [] if isinstance(e, dict)]
    if not isinstance(entries, list):
        packages = []
    return _strings(raw), _strings(packages)


def _strings(values: Iterable[object]) -> list[str]:
    return [value for value in values if isinstance(value, str)]


_JSONC_COMMENT = re.compile(r'("(?:[^"\\\n]|\\.)*")|//[^\n]*|/\*.*?(?:\*/|$)', re.S)
_JSONC_COMMA = re.compile(r'("(?:[^"\\\n]|\\.)*")|,(\s*[}\]])')


def _json(text: str | None, *, jsonc: bool = False) -> Any:
    if text is None:
        return None
    if jsonc:
        text = _JSONC_COMMENT.sub(lambda m: m.group(1) or "", text)
        text = _JSONC_COMMA.sub(lambda m: m.group(1) or m.group(2), text)
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _ts_aliases(path: PurePosixPath, text: str | None, paths: Sequence[PurePosixPath]) -> set[str]:
    """`compilerOptions.paths` patterns, and the top-level entries under `baseUrl`."""
    data = _json(text, jsonc=True)
    options = data.get("compilerOptions") if isinstance(data, dict) else None
    if not isinstance(options, dict):
        return set()
    aliases = {key for key in options.get("paths") or {} if isinstance(key, str)}
    base_url = options.get("baseUrl")
    if isinstance(base_url, str):
        base = PurePosixPath(*_normalize(path.parent / base_url))
        for file in paths:
            rel = file.parts[len(base.parts) :]
            if file.parts[: len(base.parts)] == base.parts and len(rel) >= 1:
                aliases.add(rel[0] if len(rel) > 1 else _JS_SOURCE.sub("", rel[0]))
    return aliases


def _normalize(path: PurePosixPath) -> list[str]:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return parts
