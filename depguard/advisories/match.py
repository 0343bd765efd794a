"""Does an OSV advisory affect a package version? The schema's evaluation, exactly.

https://ossf.github.io/osv-schema/#evaluation: a version is affected when an
`affected[]` entry for the package lists it in `versions`, or when it lies in
one of the entry's ranges. Range events are sorted by the range's ordering
(`introduced: "0"` first) and walked: `introduced` <= v sets affected, `fixed`
<= v or `last_affected` < v clears it; `limit` events (default `*`) bound the
range from above. `ECOSYSTEM` ranges use the ecosystem's ordering (PEP 440 for
PyPI, node-semver for npm), `SEMVER` ranges strict SemVer 2.0. `GIT` ranges
cannot be evaluated against a package version and are skipped, as the schema
says (a GIT range does not replace the `versions` list). An entry with neither
versions nor ranges affects nothing (the pseudocode; osv-scanner warns and skips
it too). Withdrawn advisories never match.

When a range cannot be ordered (the version or an event is not valid under the
ordering) the answer is UNKNOWN with a reason, never a guess; an exact
`versions` match still counts as AFFECTED.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from depguard.advisories.aliases import AdvisoryGroup, merge_aliases
from depguard.advisories.osv_record import Advisory, Affected, Range
from depguard.models import Ecosystem, canonical_name
from depguard.versions import SEMVER, AnyVersion, parse_ordered, parse_version

__all__ = [
    "AdvisoryGroup",
    "MatchResult",
    "MatchStatus",
    "affected_entries",
    "evaluate",
    "fixed_versions",
    "merge_aliases",
    "smallest_clearing_version",
]


class MatchStatus(enum.Enum):
    AFFECTED = "affected"
    NOT_AFFECTED = "not-affected"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The answer for one advisory and one package version, and why."""

    status: MatchStatus
    reason: str

    @property
    def affected(self) -> bool:
        return self.status is MatchStatus.AFFECTED


_NO = MatchStatus.NOT_AFFECTED
_FOLDED = {e: e.value.casefold() for e in Ecosystem}
_canonical = lru_cache(maxsize=65536)(canonical_name)


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A range with its events parsed and sorted once; `None` bounds are "0" / "*"."""

    steps: tuple[tuple[str, AnyVersion | None], ...]
    limits: tuple[AnyVersion | None, ...]


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One affected entry under one ecosystem, parsed once (kept in `Affected.memo`)."""

    versions: frozenset[AnyVersion]
    ranges: tuple[tuple[Range, str | None, _Compiled | str | None], ...]
    """(range, ordering, compiled range or the reason it cannot be ordered)."""


def _compile(rng: Range, ordering: str) -> _Compiled | str:
    """Parse and sort a range's events; a string is the reason it cannot be ordered."""
    zero: list[tuple[str, AnyVersion | None]] = []
    rest: list[tuple[str, AnyVersion]] = []
    limits: list[AnyVersion | None] = []
    for event in rng.events:
        if event.kind == "introduced" and event.value == "0":
            zero.append((event.kind, None))
            continue
        if event.kind == "limit" and "*" in event.value:
            limits.append(None)
            continue
        parsed = parse_ordered(ordering, event.value)
        if parsed is None:
            return f"cannot order {event.kind} {event.value!r} of a {rng.type} range"
        if event.kind == "limit":
            limits.append(parsed)
        else:
            rest.append((event.kind, parsed))
    rest.sort(key=lambda step: step[1])  # stable: ties keep record order
    return _Compiled(tuple(zero) + tuple(rest), tuple(limits))


def _prepare(entry: Affected, ecosystem: Ecosystem) -> _Prepared:
    prepared = entry.memo.get(ecosystem.value)
    if prepared is None:
        listed = (parse_ordered(ecosystem.value, v) for v in entry.versions)
        ranges = []
        for rng in entry.ranges:
            ordering = {"ECOSYSTEM": ecosystem.value, "SEMVER": SEMVER}.get(rng.type)
            ranges.append((rng, ordering, _compile(rng, ordering) if ordering else None))
        prepared = _Prepared(frozenset(p for p in listed if p is not None), tuple(ranges))
        entry.memo[ecosystem.value] = prepared
    assert isinstance(prepared, _Prepared)
    return prepared


def _in_range(compiled: _Compiled, version: AnyVersion) -> bool:
    if compiled.limits and not any(lim is None or version < lim for lim in compiled.limits):
        return False
    vulnerable = False
    for kind, bound in compiled.steps:
        if bound is not None and bound > version:
            break  # sorted: no later event can change the answer
        if kind == "introduced":
            vulnerable = True
        elif kind == "fixed" or (kind == "last_affected" and version > bound):
            vulnerable = False
    return vulnerable


def _describe(rng: Range) -> str:
    return f"{rng.type} range " + ", ".join(f"{e.kind} {e.value}" for e in rng.events)


def affected_entries(advisory: Advisory, ecosystem: Ecosystem, name: str) -> Iterator[Affected]:
    """The advisory's `affected[]` entries for this package (names compared canonically)."""
    wanted = _canonical(ecosystem, name)
    folded = _FOLDED[ecosystem]
    for entry in advisory.affected:
        if entry.name == wanted and entry.ecosystem.casefold() == folded:
            yield entry


def _range_result(
    prepared: _Prepared, ecosystem: Ecosystem, version: str, unknown: list[str]
) -> MatchResult | None:
    """AFFECTED for the first range containing `version`; reasons for unorderable ones."""
    for rng, ordering, compiled in prepared.ranges:
        if ordering is None:
            if rng.type != "GIT":  # GIT ranges cannot apply to a package version
                unknown.append(f"unsupported range type {rng.type!r}")
            continue
        parsed = parse_ordered(ordering, version)
        if isinstance(compiled, str):
            unknown.append(compiled)
        elif parsed is None:
            rules = "PEP 440" if ordering == Ecosystem.PYPI.value else "semver"
            unknown.append(f"cannot order version {version!r} under {rules} ({rng.type} range)")
        elif compiled is not None and _in_range(compiled, parsed):
            return MatchResult(MatchStatus.AFFECTED, f"{version} is in the {_describe(rng)}")
    return None


def evaluate(advisory: Advisory, ecosystem: Ecosystem, name: str, version: str) -> MatchResult:
    """Whether `advisory` affects package `name` at `version` (OSV evaluation)."""
    if advisory.withdrawn:
        return MatchResult(_NO, f"{advisory.id} was withdrawn {advisory.withdrawn}")
    entries = [(e, _prepare(e, ecosystem)) for e in affected_entries(advisory, ecosystem, name)]
    if not entries:
        return MatchResult(_NO, f"{advisory.id} does not name {ecosystem.value} {name}")
    parsed = parse_ordered(ecosystem.value, version)
    for entry, prepared in entries:
        # Exact string first; then "2.0" == "2.0.0" (PEP 440), "v1.2.3" == "1.2.3" (npm).
        if version in entry.version_set or (parsed is not None and parsed in prepared.versions):
            return MatchResult(MatchStatus.AFFECTED, f"{version} is listed as affected")
    unknown: list[str] = []
    for _, prepared in entries:
        result = _range_result(prepared, ecosystem, version, unknown)
        if result is not None:
            return result
    if unknown:
        return MatchResult(MatchStatus.UNKNOWN, "; ".join(dict.fromkeys(unknown)))
    if all(not e.versions and all(r.type == "GIT" for r in e.ranges) for e, _ in entries):
        has_git = any(e.ranges for e, _ in entries)
        why = "only GIT ranges and no versions" if has_git else "no versions or ranges"
        return MatchResult(_NO, f"{advisory.id} gives {why} for {name}")
    return MatchResult(_NO, f"{version} is outside every affected range and version")


# --- remediation -----------------------------------------------------------------


def _sorted_versions(ecosystem: Ecosystem, versions: Iterable[str]) -> list[str]:
    """Unique versions in ecosystem order; ones that cannot be ordered go last, as written."""
    unique = list(dict.fromkeys(versions))
    keyed = [(p, v) for v in unique if (p := parse_version(ecosystem, v)) is not None]
    keyed.sort(key=lambda pair: pair[0])
    ordered = {v for _, v in keyed}
    return [v for _, v in keyed] + [v for v in unique if v not in ordered]


def _event_values(advisory: Advisory, ecosystem: Ecosystem, name: str, kind: str) -> Iterator[str]:
    for entry in affected_entries(advisory, ecosystem, name):
        for rng in entry.ranges:
            if rng.type != "GIT":
                yield from (e.value for e in rng.events if e.kind == kind)


def fixed_versions(advisory: Advisory, ecosystem: Ecosystem, name: str) -> list[str]:
    """Every `fixed` version the advisory gives for this package, in version order."""
    return _sorted_versions(ecosystem, _event_values(advisory, ecosystem, name, "fixed"))


def _candidates(
    advisories: Sequence[Advisory], ecosystem: Ecosystem, name: str, extra: Iterable[str]
) -> set[str]:
    """Versions the records name as unaffected ends (`fixed`, `limit`), plus `extra`."""
    candidates = set(extra)
    for advisory in advisories:
        if advisory.withdrawn:
            continue
        candidates.update(_event_values(advisory, ecosystem, name, "fixed"))
        limits = _event_values(advisory, ecosystem, name, "limit")
        candidates.update(v for v in limits if "*" not in v)
    return candidates


def smallest_clearing_version(
    ecosystem: Ecosystem,
    name: str,
    version: str,
    advisories: Sequence[Advisory],
    known_versions: Iterable[str] = (),
) -> str | None:
    """The smallest version above `version` that no advisory affects, or None if none is known.

    Candidates are the `fixed` (and `limit`) versions of the advisories, plus any
    `known_versions` the caller has (e.g. the registry's release list): that is
    how a successor of a `last_affected` version can be found, since the records
    themselves never name an unaffected version after one. A candidate that any
    advisory affects, or cannot evaluate, is rejected.
    """
    current = parse_version(ecosystem, version)
    if current is None:
        return None
    candidates = _candidates(advisories, ecosystem, name, known_versions)
    for candidate in _sorted_versions(ecosystem, candidates):
        parsed = parse_version(ecosystem, candidate)
        if parsed is None or parsed <= current:
            continue
        results = (evaluate(a, ecosystem, name, candidate) for a in advisories)
        if all(r.status is MatchStatus.NOT_AFFECTED for r in results):
            return candidate
    return None
