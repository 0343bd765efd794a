"""Where advisories come from: the curated feed, the offline database, the OSV API."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from depguard.advisories.curated import load_curated
from depguard.advisories.osv_record import Advisory, AdvisoryError, parse_advisory
from depguard.models import Dependency, Ecosystem, canonical_name

__all__ = ["AdvisorySource", "CuratedSource", "Lookup", "OfflineSource"]

log = logging.getLogger(__name__)

Lookup = Mapping[tuple[Ecosystem, str], list[Advisory]]
"""Advisories per (ecosystem, canonical name)."""


class AdvisorySource(ABC):
    """A batched advisory lookup by package name; version matching happens elsewhere."""

    name: ClassVar[str]

    @abstractmethod
    def query(self, deps: Sequence[Dependency]) -> Lookup:
        """Every advisory that names any of `deps` (by ecosystem and name)."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What this source holds and how old it is, for the report."""

    def covers(self, ecosystem: Ecosystem) -> bool:
        """Whether this source has data for a whole ecosystem (not just a few incidents)."""
        return False


def _keys(deps: Iterable[Dependency]) -> set[tuple[Ecosystem, str]]:
    return {(d.ecosystem, d.name) for d in deps}


class CuratedSource(AdvisorySource):
    """Headline incidents shipped in rules/osv: always on, no download needed."""

    name = "curated"

    def __init__(self, advisories: Sequence[Advisory] | None = None) -> None:
        self._index: dict[tuple[Ecosystem, str], list[Advisory]] = defaultdict(list)
        self._count = 0
        for advisory in advisories if advisories is not None else load_curated():
            self._count += 1
            for key in {(a.ecosystem, a.name) for a in advisory.affected}:
                eco = _ecosystem(key[0])
                if eco is not None:
                    self._index[(eco, canonical_name(eco, key[1]))].append(advisory)

    def query(self, deps: Sequence[Dependency]) -> Lookup:
        return {key: self._index[key] for key in _keys(deps) if key in self._index}

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "records": self._count,
            "description": "curated headline incidents shipped with depguard",
        }


class OfflineSource(AdvisorySource):
    """The local sqlite database built by `depguard db sync|import` (opened read-only)."""

    name = "osv-db"

    def __init__(self, db_path: Path) -> None:
        from depguard.advisories.db import AdvisoryDB

        self.path = db_path
        self._db = AdvisoryDB.open(db_path)
        self._cache: dict[str, Advisory | None] = {}
        self._covers: dict[Ecosystem, bool] = {}

    def covers(self, ecosystem: Ecosystem) -> bool:
        if ecosystem not in self._covers:
            self._covers[ecosystem] = self._db.has_ecosystem(ecosystem.value)
        return self._covers[ecosystem]

    def query(self, deps: Sequence[Dependency]) -> Lookup:
        by_eco: dict[Ecosystem, set[str]] = defaultdict(set)
        for eco, name in _keys(deps):
            by_eco[eco].add(name)
        found: dict[tuple[Ecosystem, str], list[Advisory]] = {}
        for eco, names in by_eco.items():
            for name, records in self._db.records_for(eco.value, names).items():
                parsed = [a for a in (self._parse(r) for r in records) if a is not None]
                if parsed:
                    found[(eco, name)] = parsed
        return found

    def _parse(self, record: dict[str, Any]) -> Advisory | None:
        key = str(record.get("id"))
        if key not in self._cache:
            try:
                self._cache[key] = parse_advisory(record, f"{self.path}:{key}")
            except AdvisoryError as exc:
                log.warning("skipping malformed advisory: %s", exc)
                self._cache[key] = None
        return self._cache[key]

    def describe(self) -> dict[str, Any]:
        updated, age, stale = self._db.freshness()
        return {
            "name": self.name,
            "path": str(self.path),
            "ecosystems": [e.value for e in Ecosystem if self.covers(e)],
            "updated_at": updated.isoformat() if updated else None,
            "age_days": round(age.total_seconds() / 86400, 1) if age else None,
            "stale": stale,
        }


def _ecosystem(value: str) -> Ecosystem | None:
    for eco in Ecosystem:
        if eco.value.casefold() == value.casefold():
            return eco
    return None
