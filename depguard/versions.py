"""Per-ecosystem version parsing and ordering (PEP 440 for PyPI, node-semver for npm).

`parse_version(ordering, text)` returns a comparable value, or None when the text
cannot be ordered under that ecosystem's rules (a legacy non-PEP 440 version, an
invalid semver). `ordering` is an `Ecosystem`, an OSV ecosystem string (`"PyPI"`,
`"npm"`) or `"SEMVER"` for OSV's strict SemVer 2.0 range type. Two values from
different orderings are never compared with each other.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol, TypeAlias

from packaging.version import InvalidVersion, Version

from depguard.models import Ecosystem
from depguard.semver import SemVer, npm_range_satisfies, parse_semver

__all__ = [
    "SEMVER",
    "AnyVersion",
    "Comparable",
    "SemVer",
    "VersionError",
    "npm_range_satisfies",
    "ordering_of",
    "parse_ordered",
    "parse_version",
    "require_version",
]



class Comparable(Protocol):
    """A parsed version (`packaging` Version or SemVer): values of one ordering compare."""

    def __lt__(self, other: Any, /) -> bool: ...
    def __le__(self, other: Any, /) -> bool: ...
    def __gt__(self, other: Any, /) -> bool: ...
    def __ge__(self, other: Any, /) -> bool: ...
    def __hash__(self) -> int: ...


AnyVersion: TypeAlias = Comparable

SEMVER = "SEMVER"
_PYPI = Ecosystem.PYPI.value
_NPM = Ecosystem.NPM.value
_ORDERINGS = {"pypi": _PYPI, "npm": _NPM, "semver": SEMVER}


class VersionError(ValueError):
    """A version that cannot be ordered, or an ordering depguard does not implement."""


def ordering_of(ecosystem: Ecosystem | str) -> str | None:
    """The ordering name ("PyPI", "npm", "SEMVER") for an ecosystem, None when unsupported."""
    if isinstance(ecosystem, Ecosystem):
        return ecosystem.value
    return _ORDERINGS.get(ecosystem.casefold())


@lru_cache(maxsize=131072)
def parse_ordered(ordering: str, text: str) -> AnyVersion | None:
    """`parse_version` for an ordering name from `ordering_of` ("PyPI", "npm", "SEMVER")."""
    if ordering == _PYPI:
        try:
            return Version(text)
        except InvalidVersion:
            return None
    if ordering == _NPM:
        return parse_semver(text, loose=True)
    # OSV SEMVER: strict SemVer 2.0; a leading "v" is tolerated as osv.dev does.
    return parse_semver(text[1:] if text.startswith("v") else text, loose=False)


def parse_version(ecosystem: Ecosystem | str, text: str) -> AnyVersion | None:
    """Parse `text` under `ecosystem`'s rules; None when it cannot be ordered.

    Raises VersionError for an ordering depguard does not implement (e.g. "Go").
    """
    ordering = ordering_of(ecosystem)
    if ordering is None:
        raise VersionError(f"no version ordering for ecosystem {ecosystem!r}")
    return parse_ordered(ordering, text)


def require_version(ecosystem: Ecosystem | str, text: str) -> AnyVersion:
    """Like `parse_version`, but raise VersionError when `text` cannot be ordered."""
    parsed = parse_version(ecosystem, text)
    if parsed is None:
        rules = "PEP 440" if ordering_of(ecosystem) == _PYPI else "semver"
        raise VersionError(f"{text!r} is not a valid {rules} version")
    return parsed
