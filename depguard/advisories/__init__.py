"""OSV advisories: record parsing, version matching, alias merging and the curated feed."""

from __future__ import annotations

from depguard.advisories.aliases import AdvisoryGroup, merge_aliases, primary_id
from depguard.advisories.curated import load_curated
from depguard.advisories.match import (
    MatchResult,
    MatchStatus,
    evaluate,
    fixed_versions,
    smallest_clearing_version,
)
from depguard.advisories.osv_record import (
    SEVERITIES,
    Advisory,
    AdvisoryError,
    Affected,
    Event,
    Range,
    Severity,
    load_advisory,
    parse_advisory,
)

__all__ = [
    "SEVERITIES",
    "Advisory",
    "AdvisoryError",
    "AdvisoryGroup",
    "Affected",
    "Event",
    "MatchResult",
    "MatchStatus",
    "Range",
    "Severity",
    "evaluate",
    "fixed_versions",
    "load_advisory",
    "load_curated",
    "merge_aliases",
    "parse_advisory",
    "primary_id",
    "smallest_clearing_version",
]
