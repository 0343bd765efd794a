"""pyproject.toml: PEP 621 dependencies and extras, PEP 735 groups, Poetry tables, build requirements.

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

import bisect
import re
import tomllib
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

__all__ = ["PyprojectParser", "TomlLines", "poetry_to_pep440", "project_name"]

KeyPath = tuple[str | int, ...]
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


# ---------------------------------------------------------------- line locator


class TomlLines:
    """Line numbers of keys, tables and array items in TOML text that tomllib already accepted.

    ``line(("project", "optional-dependencies", "dev", 2))`` is the line of that array item; a
    path that was not recorded falls back to its longest recorded prefix. Paths follow tomllib's
    data (dotted keys, inline tables, arrays of tables by index).
    """

    _BARE = re.compile(r"[A-Za-z0-9_-]+")
    _SCALAR = re.compile(r"[^,\]}\n#]*")

    def __init__(self, text: str) -> None:
        self._text = text
        self._offsets: dict[KeyPath, int] = {}
        self._newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        try:
            self._scan()
        except (ValueError, IndexError, tomllib.TOMLDecodeError):  # pragma: no cover - defensive
            pass  # keep what was found; lines degrade to a prefix or None, never a crash

    def line(self, path: KeyPath) -> int | None:
        while path:
            offset = self._offsets.get(path)
            if offset is not None:
                return bisect.bisect_left(self._newlines, offset) + 1
            path = path[:-1]
        return None

    def _mark(self, base: KeyPath, keys: KeyPath, offset: int) -> None:
        for n in range(1, len(keys) + 1):
            self._offsets.setdefault(base + keys[:n], offset)

    def _scan(self) -> None:
        text, i, table = self._text, 0, ()
        arrays: dict[KeyPath, int] = {}
        while (i := self._skip(i, True)) < len(text):
            start = i
            if text.startswith("[[", i):
                keys, i = self._key(i + 2)
                arrays[keys] = arrays.get(keys, -1) + 1
                table = keys + (arrays[keys],)
                self._mark((), table, start)
                i = text.index("]]", i) + 2
            elif text[i] == "[":
                keys, i = self._key(i + 1)
                table = keys
                self._mark((), table, start)
                i = text.index("]", i) + 1
            else:
                i = self._pair(i, table)

    def _pair(self, i: int, base: KeyPath) -> int:
        start = i
        keys, i = self._key(i)
        self._mark(base, keys, start)
        i = self._skip(i, False)  # now at "="
        return self._value(self._skip(i + 1, False), base + keys)

    def _value(self, i: int, path: KeyPath) -> int:
        text = self._text
        if text[i] in "[{":
            close, index = ("]" if text[i] == "[" else "}"), 0
            i += 1
            while (i := self._skip(i, True)) < len(text) and text[i] != close:
                if close == "]":
                    self._offsets.setdefault(path + (index,), i)
                    i = self._value(i, path + (index,))
                    index += 1
                else:
                    i = self._pair(i, path)
                i = self._skip(i, True)
                i += text[i] == ","
            return i + 1
        if text[i] in "\"'":
            return self._string_end(i)
        match = self._SCALAR.match(text, i)
        return match.end() if match else i + 1

    def _skip(self, i: int, newlines: bool) -> int:
        text = self._text
        while i < len(text):
            ch = text[i]
            if ch == "#":
                end = text.find("\n", i)
                i = len(text) if end < 0 else end
            elif ch in " \t\r" or (newlines and ch == "\n"):
                i += 1
            else:
                break
        return i

    def _key(self, i: int) -> tuple[tuple[str, ...], int]:
        keys: list[str] = []
        while True:
            i = self._skip(i, False)
            if self._text[i] in "\"'":
                end = self._string_end(i)
                keys.append(str(tomllib.loads("k = " + self._text[i:end])["k"]))
                i = end
            else:
                match = self._BARE.match(self._text, i)
                if match is None:
                    raise ValueError("not a key")
                keys.append(match.group())
                i = match.end()
            i = self._skip(i, False)
            if self._text[i] != ".":
                return tuple(keys), i
            i += 1

    def _string_end(self, i: int) -> int:
        text = self._text
        quote = text[i]
        if text.startswith(quote * 3, i):
            j = i + 3
            while True:
                k = text.index(quote * 3, j)
                if quote == '"' and _escaped(text, k):
                    j = k + 1
                    continue
                extra = 0
                while extra < 2 and text.startswith(quote, k + 3 + extra):
                    extra += 1
                return k + 3 + extra
        j = i + 1
        while text[j] != quote:
            j += 2 if quote == '"' and text[j] == "\\" else 1
        return j + 1


def _escaped(text: str, index: int) -> bool:
    count = 0
    while index - count - 1 >= 0 and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1
