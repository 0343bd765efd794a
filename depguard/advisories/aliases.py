"""Merge advisories that describe one issue (OSV aliases), so it is reported once.

Records are one issue when they share an id or an alias: the schema makes
aliases symmetric and transitive, so groups are connected components. `related`
never merges (it means a *different* issue). One more link, because the
per-database files do not always carry each other's ids (GHSA-5mg7-485q-xm76
has no aliases, yet points at PYSEC-2026-2): a reference whose URL is the
canonical page of an id (`github.com/advisories/<ID>`, `osv.dev/vulnerability/<ID>`,
the pypa advisory-database file `<ID>.yaml`) links the record to every other
record in the input whose id or aliases include that id, when the two affect a
common package and the id is not in the referring record's `related`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from depguard.advisories.osv_record import SEVERITIES, Advisory, Severity

__all__ = ["AdvisoryGroup", "merge_aliases", "primary_id"]

_CANONICAL_PAGE = re.compile(
    r"^https://(?:github\.com/advisories/|osv\.dev/vulnerability/"
    r"|github\.com/pypa/advisory-database/(?:tree|blob)/main/vulns/[^/]+/)"
    r"([A-Za-z]+-[A-Za-z0-9-]+?)(?:\.yaml)?/?$"
)
_PREFIX_RANK = {"MAL": 0, "GHSA": 1, "PYSEC": 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class AdvisoryGroup:
    """One issue: every record describing it, with the worst severity of them."""

    primary_id: str
    ids: tuple[str, ...]
    """Record ids in the group, primary first, then sorted."""
    aliases: frozenset[str]
    """Every other id the records name (CVE-..., GHSA-... without a record here)."""
    advisories: tuple[Advisory, ...]
    severity: Severity | None
    malicious: bool

    @property
    def primary(self) -> Advisory:
        return next(a for a in self.advisories if a.id == self.primary_id)

    @property
    def summary(self) -> str:
        return self.primary.title


def primary_id(ids: Iterable[str]) -> str:
    """A MAL- id if any, else GHSA-, else PYSEC-, else the first sorted."""
    return min(ids, key=lambda i: (_PREFIX_RANK.get(i.split("-", 1)[0], 3), i))


def _packages(advisory: Advisory) -> set[tuple[str, str]]:
    return {(a.ecosystem.casefold(), a.name) for a in advisory.affected}


def _referenced(advisory: Advisory) -> set[str]:
    return {m.group(1) for url in advisory.references if (m := _CANONICAL_PAGE.match(url))}


def _dedupe(advisories: Iterable[Advisory]) -> dict[str, Advisory]:
    """One record per id: the later `modified` wins (the schema's rule)."""
    by_id: dict[str, Advisory] = {}
    for advisory in advisories:
        kept = by_id.get(advisory.id)
        if kept is None or (advisory.modified or "") > (kept.modified or ""):
            by_id[advisory.id] = advisory
    return by_id


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def _severity(advisories: Sequence[Advisory]) -> Severity | None:
    known = [a.severity for a in advisories if a.severity is not None]
    return max(known, key=SEVERITIES.index) if known else None


def merge_aliases(advisories: Iterable[Advisory]) -> list[AdvisoryGroup]:
    """Group records that share an id or alias; groups sorted by primary id."""
    by_id = _dedupe(advisories)
    naming: dict[str, list[Advisory]] = {}
    links = _UnionFind()
    for advisory in by_id.values():
        for other in advisory.ids:
            links.union(advisory.id, other)
            naming.setdefault(other, []).append(advisory)
    for advisory in by_id.values():
        for ref in _referenced(advisory) - advisory.related - {advisory.id}:
            for target in naming.get(ref, ()):
                if target is not advisory and _packages(advisory) & _packages(target):
                    links.union(advisory.id, target.id)
    members: dict[str, list[Advisory]] = {}
    for advisory in by_id.values():
        members.setdefault(links.find(advisory.id), []).append(advisory)
    return sorted((_group(records) for records in members.values()), key=lambda g: g.primary_id)


def _group(records: list[Advisory]) -> AdvisoryGroup:
    record_ids = {a.id for a in records}
    primary = primary_id(record_ids)
    malicious = any(a.malicious for a in records)
    return AdvisoryGroup(
        primary_id=primary,
        ids=(primary, *sorted(record_ids - {primary})),
        aliases=frozenset().union(*(a.aliases for a in records)) - record_ids,
        advisories=tuple(sorted(records, key=lambda a: (a.id != primary, a.id))),
        severity="malicious" if malicious else _severity(records),
        malicious=malicious,
    )
