"""Semantic versions the way npm's node-semver reads them: parsing, ordering and ranges.

`parse_semver(text, loose=True)` follows node-semver's loose mode (a leading `v`/`=`
and whitespace tolerated, leading zeros allowed, the `-` before a prerelease
optional); `loose=False` is strict SemVer 2.0 as the OSV `SEMVER` range type
requires. Ordering is SemVer 2.0 section 11: build metadata is ignored, a
prerelease sorts before its release, numeric identifiers compare numerically and
below alphanumeric ones. `npm_range_satisfies(range, version)` implements
node-semver's `satisfies` (loose, without `includePrerelease`): `^`, `~`, `x`/`*`,
hyphen ranges, `||`, comparators and the prerelease exclusion rule.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["SemVer", "npm_range_satisfies", "parse_semver"]

MAX_LENGTH = 256
MAX_SAFE_INTEGER = 2**53 - 1

_NUM_STRICT = r"0|[1-9]\d*"
_ALNUM = r"\d*[a-zA-Z-][a-zA-Z0-9-]*"
_PRE_ID_STRICT = rf"(?:{_NUM_STRICT}|{_ALNUM})"
_PRE_ID_LOOSE = rf"(?:\d+|{_ALNUM})"
_BUILD = r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))"

_STRICT = re.compile(
    rf"^({_NUM_STRICT})\.({_NUM_STRICT})\.({_NUM_STRICT})"
    rf"(?:-({_PRE_ID_STRICT}(?:\.{_PRE_ID_STRICT})*))?{_BUILD}?$"
)
_LOOSE = re.compile(
    rf"^[v=\s]*(\d+)\.(\d+)\.(\d+)(?:-?({_PRE_ID_LOOSE}(?:\.{_PRE_ID_LOOSE})*))?{_BUILD}?$"
)
# An x-range partial (node-semver XRANGEPLAINLOOSE): missing or x/X/* parts are wildcards.
_XID = r"\d+|[xX*]"
_PARTIAL = re.compile(
    rf"^[v=\s]*({_XID})(?:\.({_XID})(?:\.({_XID})"
    rf"(?:-?({_PRE_ID_LOOSE}(?:\.{_PRE_ID_LOOSE})*))?{_BUILD}?)?)?$"
)
_OPERATOR = re.compile(r"^(~>?|\^|[<>]=?|=)?(.*)$")
_GLUE = re.compile(r"(~>?|\^|[<>]=?|=)\s+")
_HYPHEN = re.compile(r"^\s*(\S+)\s+-\s+(\S+)\s*$")
_OR = re.compile(r"\s*\|\|\s*")

PreId = int | str


def _pre_key(pre: tuple[PreId, ...]) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, p) if isinstance(p, int) else (1, p) for p in pre)


class SemVer:
    """A parsed semantic version; compares by SemVer precedence (build ignored)."""

    __slots__ = ("_key", "build", "major", "minor", "patch", "prerelease")

    def __init__(
        self, major: int, minor: int, patch: int,
        prerelease: tuple[PreId, ...] = (), build: tuple[str, ...] = (),
    ) -> None:
        self.major, self.minor, self.patch = major, minor, patch
        self.prerelease, self.build = prerelease, build
        # A release sorts after all of its prereleases: (1,) > (0, ...).
        tail = (0, _pre_key(prerelease)) if prerelease else (1,)
        self._key: tuple[object, ...] = (major, minor, patch, tail)

    @property
    def release(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(p) for p in self.prerelease)
        return text

    def __repr__(self) -> str:
        return f"SemVer({str(self)!r})"

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SemVer) and self._key == other._key

    def __lt__(self, other: SemVer) -> bool:
        return self._key < other._key

    def __le__(self, other: SemVer) -> bool:
        return self._key <= other._key

    def __gt__(self, other: SemVer) -> bool:
        return self._key > other._key

    def __ge__(self, other: SemVer) -> bool:
        return self._key >= other._key


def _number(text: str) -> int | None:
    value = int(text)
    return value if value <= MAX_SAFE_INTEGER else None


def _prerelease(text: str | None) -> tuple[PreId, ...]:
    if not text:
        return ()
    ids = text.split(".")
    return tuple(int(p) if p.isdigit() and int(p) <= MAX_SAFE_INTEGER else p for p in ids)


@lru_cache(maxsize=65536)
def parse_semver(text: str, loose: bool = True) -> SemVer | None:
    """Parse `text` (node-semver loose mode, or strict SemVer 2.0); None when invalid."""
    if len(text) > MAX_LENGTH:
        return None
    match = (_LOOSE if loose else _STRICT).match(text.strip() if loose else text)
    if match is None:
        return None
    numbers = [_number(g) for g in match.group(1, 2, 3)]
    if None in numbers:
        return None
    major, minor, patch = (n for n in numbers if n is not None)
    build = tuple(match.group(5).split(".")) if match.group(5) else ()
    return SemVer(major, minor, patch, _prerelease(match.group(4)), build)


# --- ranges -----------------------------------------------------------------

Comparator = tuple[str, SemVer]  # (operator, version); operator in <, <=, >, >=, =
_ANY: list[Comparator] = []
_NOTHING: list[Comparator] = [("<", SemVer(0, 0, 0, (0,)))]


class _Partial:
    """An x-range partial version such as `1`, `1.2.x`, `1.2.3-beta`."""

    __slots__ = ("major", "minor", "patch", "pre")

    def __init__(self, text: str) -> None:
        match = _PARTIAL.match(text)
        if match is None or len(text) > MAX_LENGTH:
            raise ValueError(text)
        parts = [None if g is None or g in "xX*" else int(g) for g in match.group(1, 2, 3)]
        if any(p is not None and p > MAX_SAFE_INTEGER for p in parts):
            raise ValueError(text)
        self.major, self.minor, self.patch = parts
        # node-semver drops the prerelease of a wildcard partial (`1.2.x-beta` is `1.2.x`).
        self.pre = () if None in parts else _prerelease(match.group(4))

    @property
    def is_x(self) -> bool:
        return self.major is None or self.minor is None or self.patch is None

    def version(self) -> SemVer:
        return SemVer(self.major or 0, self.minor or 0, self.patch or 0, self.pre)


def _v(major: int, minor: int, patch: int, pre: tuple[PreId, ...] = ()) -> SemVer:
    return SemVer(major, minor, patch, pre)


def _upper_of_x(p: _Partial) -> SemVer:
    """The exclusive `-0` upper bound of an x-range like `1.x` or `1.2.x`."""
    assert p.major is not None
    if p.minor is None:
        return _v(p.major + 1, 0, 0, (0,))
    return _v(p.major, p.minor + 1, 0, (0,))


def _caret(p: _Partial) -> list[Comparator]:
    if p.major is None:
        return _ANY
    low = p.version()
    if p.minor is None:
        return [(">=", low), ("<", _v(p.major + 1, 0, 0, (0,)))]
    if p.patch is None:
        high = _v(0, p.minor + 1, 0, (0,)) if p.major == 0 else _v(p.major + 1, 0, 0, (0,))
        return [(">=", low), ("<", high)]
    if p.major != 0:
        high = _v(p.major + 1, 0, 0, (0,))
    elif p.minor != 0:
        high = _v(0, p.minor + 1, 0, (0,))
    else:
        high = _v(0, 0, p.patch + 1, (0,))
    return [(">=", low), ("<", high)]


def _tilde(p: _Partial) -> list[Comparator]:
    if p.major is None:
        return _ANY
    if p.minor is None:
        return [(">=", p.version()), ("<", _v(p.major + 1, 0, 0, (0,)))]
    return [(">=", p.version()), ("<", _v(p.major, p.minor + 1, 0, (0,)))]


def _xrange(op: str, p: _Partial) -> list[Comparator]:
    if not p.is_x:
        return [(op or "=", p.version())]
    if p.major is None:
        return _NOTHING if op in ("<", ">") else _ANY
    if op in ("", "="):
        return [(">=", p.version()), ("<", _upper_of_x(p))]
    if op == ">":
        return [(">=", _v(*_upper_of_x(p).release))]
    if op == "<=":
        return [("<", _upper_of_x(p))]
    if op == "<":
        return [("<", _v(p.major, p.minor or 0, 0, (0,)))]
    return [(">=", p.version())]  # ">="


def _hyphen(low: _Partial, high: _Partial) -> list[Comparator]:
    result: list[Comparator] = []
    if low.major is not None:
        result.append((">=", low.version()))
    if high.major is None:
        return result
    if high.is_x:
        result.append(("<", _upper_of_x(high)))
    else:
        result.append(("<=", high.version()))
    return result


def _comparator(token: str) -> list[Comparator]:
    match = _OPERATOR.match(token)
    assert match is not None  # the pattern accepts any string
    op, rest = match.group(1) or "", match.group(2)
    partial = _Partial(rest)
    if op == "^":
        return _caret(partial)
    if op.startswith("~"):
        return _tilde(partial)
    return _xrange(op, partial)


def _comparator_set(text: str) -> list[Comparator]:
    hyphen = _HYPHEN.match(text)
    if hyphen:
        return _hyphen(_Partial(hyphen.group(1)), _Partial(hyphen.group(2)))
    comparators: list[Comparator] = []
    for token in _GLUE.sub(r"\1", text.strip()).split():
        comparators.extend(_comparator(token))
    return comparators


@lru_cache(maxsize=16384)
def _parse_range(spec: str) -> tuple[tuple[Comparator, ...], ...] | None:
    if len(spec) > MAX_LENGTH:
        return None
    try:
        return tuple(tuple(_comparator_set(part)) for part in _OR.split(spec.strip()))
    except ValueError:
        return None


def _test(op: str, version: SemVer, bound: SemVer) -> bool:
    if op == "<":
        return version < bound
    if op == "<=":
        return version <= bound
    if op == ">":
        return version > bound
    if op == ">=":
        return version >= bound
    return version == bound


def _set_satisfied(comparators: tuple[Comparator, ...], version: SemVer) -> bool:
    if not all(_test(op, version, bound) for op, bound in comparators):
        return False
    if not version.prerelease:
        return True
    # A prerelease only matches when a comparator of this set names a
    # prerelease of the same major.minor.patch (node-semver's testSet).
    return any(bound.prerelease and bound.release == version.release for _, bound in comparators)


def npm_range_satisfies(spec: str, version: str) -> bool | None:
    """Whether npm `version` satisfies the node-semver range `spec`; None when either is invalid."""
    parsed_version = parse_semver(version)
    ranges = _parse_range(spec)
    if parsed_version is None or ranges is None:
        return None
    return any(_set_satisfied(comparators, parsed_version) for comparators in ranges)
