"""One OSV JSON record -> a frozen `Advisory` (shared by every advisory backend).

Schema: https://ossf.github.io/osv-schema/. Wrong types anywhere raise
`AdvisoryError` naming the record and the field; callers log and drop the record.

Severity is `"malicious"` for malicious-package records (see `is_malicious_record`),
else the database's own label (`database_specific.severity`, GitHub's LOW /
MODERATE / HIGH / CRITICAL), else the band of the highest CVSS v3 (then v2) base
score. A record with only a CVSS v4 vector and no label has severity None
("unknown"): v4 is not scored, and depguard does not guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NoReturn

from depguard.advisories.cvss import base_score, severity_for_score
from depguard.errors import DepguardError
from depguard.models import Ecosystem, canonical_name

__all__ = [
    "DETAILS_LIMIT",
    "EVENT_KINDS",
    "SEVERITIES",
    "Advisory",
    "AdvisoryError",
    "Affected",
    "Event",
    "Range",
    "Severity",
    "is_malicious_record",
    "load_advisory",
    "parse_advisory",
]

Severity = Literal["low", "moderate", "high", "critical", "malicious"]
SEVERITIES: tuple[Severity, ...] = ("low", "moderate", "high", "critical", "malicious")
EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
DETAILS_LIMIT = 2000

_LABELS: dict[str, Severity] = {
    "LOW": "low",
    "MODERATE": "moderate",
    "MEDIUM": "moderate",
    "HIGH": "high",
    "CRITICAL": "critical",
}
_MALWARE_TITLE = re.compile(r"^(?:Malicious code|Malware) in \S")
_MALWARE_CWE = "CWE-506"  # Embedded Malicious Code
_ECOSYSTEMS = {e.value.casefold(): e for e in Ecosystem}
_EMPTY: Mapping[str, Any] = MappingProxyType({})


class AdvisoryError(DepguardError):
    """A malformed OSV record; the message names the record and the field."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.reason = message
        super().__init__(f"{source}: {message}")


@dataclass(frozen=True, slots=True)
class Event:
    """One range event: `kind` is introduced, fixed, last_affected or limit."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Range:
    """`affected[].ranges[]`: SEMVER, ECOSYSTEM or GIT, events in record order."""

    type: str
    events: tuple[Event, ...]
    repo: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Affected:
    """One `affected[]` entry; `name` is canonical for PyPI/npm, `raw_name` as written."""

    ecosystem: str
    name: str
    raw_name: str
    versions: tuple[str, ...] = ()
    ranges: tuple[Range, ...] = ()
    database_specific: Mapping[str, Any] = field(
        default_factory=lambda: _EMPTY, compare=False, hash=False, repr=False
    )
    version_set: frozenset[str] = field(init=False, compare=False, hash=False, repr=False)
    memo: dict[str, Any] = field(
        default_factory=dict, init=False, compare=False, hash=False, repr=False
    )
    """Matching's private cache (parsed versions and events per ordering); not data."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "version_set", frozenset(self.versions))


@dataclass(frozen=True, slots=True, kw_only=True)
class Advisory:
    """An OSV advisory as depguard uses it."""

    id: str
    aliases: frozenset[str] = frozenset()
    related: frozenset[str] = frozenset()
    summary: str = ""
    details: str = ""
    published: str | None = None
    modified: str | None = None
    withdrawn: str | None = None
    severity: Severity | None = None
    malicious: bool = False
    cvss_score: float | None = None
    cvss_vector: str | None = None
    affected: tuple[Affected, ...] = ()
    references: tuple[str, ...] = ()
    database_specific: Mapping[str, Any] = field(
        default_factory=lambda: _EMPTY, compare=False, hash=False, repr=False
    )

    @property
    def ids(self) -> frozenset[str]:
        """The record's own id and its aliases."""
        return self.aliases | {self.id}

    @property
    def title(self) -> str:
        """The summary, else the first line of the details, else the id."""
        first = next((line.strip() for line in self.details.splitlines() if line.strip()), "")
        return self.summary or first or self.id


# --- reading JSON ----------------------------------------------------------------


class _Fields:
    """Typed access to one JSON object; every failure names the field path."""

    def __init__(self, source: str, where: str, data: object) -> None:
        self.source, self.where = source, where
        if not isinstance(data, dict):
            self.fail(where or "record", f"expected an object, got {type(data).__name__}")
        self.data: dict[str, Any] = data

    def fail(self, where: str, message: str) -> NoReturn:
        raise AdvisoryError(self.source, f"{where}: {message}")

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def opt_str(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(self.path(key), f"expected a string, got {type(value).__name__}")
        return value

    def str_list(self, key: str) -> tuple[str, ...]:
        items = self.array(key)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                self.fail(f"{self.path(key)}[{i}]", f"expected a string, got {type(item).__name__}")
        return tuple(items)

    def array(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(self.path(key), f"expected a list, got {type(value).__name__}")
        return value

    def objects(self, key: str) -> list[_Fields]:
        where = self.path(key)
        return [_Fields(self.source, f"{where}[{i}]", v) for i, v in enumerate(self.array(key))]

    def mapping(self, key: str) -> Mapping[str, Any]:
        value = self.data.get(key)
        if value is None:
            return _EMPTY
        if not isinstance(value, dict):
            self.fail(self.path(key), f"expected an object, got {type(value).__name__}")
        return MappingProxyType(value)


def _event(obj: _Fields) -> Event:
    kinds = [k for k in EVENT_KINDS if k in obj.data]
    if len(kinds) != 1:
        obj.fail(obj.where, f"expected exactly one of {', '.join(EVENT_KINDS)}")
    value = obj.opt_str(kinds[0])
    if value is None:
        obj.fail(obj.path(kinds[0]), "expected a string, got null")
    return Event(kinds[0], value)


def _range(obj: _Fields) -> Range:
    kind = obj.opt_str("type")
    if not kind:
        obj.fail(obj.path("type"), "missing range type")
    return Range(kind, tuple(_event(e) for e in obj.objects("events")), obj.opt_str("repo"))


def _affected(obj: _Fields) -> Affected:
    package = _Fields(obj.source, obj.path("package"), obj.data.get("package") or {})
    ecosystem = package.opt_str("ecosystem") or ""
    raw_name = package.opt_str("name") or ""
    known = _ECOSYSTEMS.get(ecosystem.casefold())
    return Affected(
        ecosystem=ecosystem,
        name=canonical_name(known, raw_name) if known else raw_name,
        raw_name=raw_name,
        versions=obj.str_list("versions"),
        ranges=tuple(_range(r) for r in obj.objects("ranges")),
        database_specific=obj.mapping("database_specific"),
    )


def _severity_entries(obj: _Fields) -> list[tuple[str, str]]:
    entries = []
    for entry in obj.objects("severity"):
        kind, score = entry.opt_str("type"), entry.opt_str("score")
        if kind is None or score is None:
            entry.fail(entry.where, "expected both type and score")
        entries.append((kind, score))
    return entries


def _pick_cvss(entries: Iterable[tuple[str, str]]) -> tuple[float | None, str | None, int]:
    """The highest-scoring v3 vector, else v2, else an unscored v4 vector."""
    entries = list(entries)
    for kind, version in (("CVSS_V3", 3), ("CVSS_V2", 2)):
        scored = [(s, v) for k, v in entries if k == kind and (s := base_score(v)) is not None]
        if scored:
            score, vector = max(scored)
            return score, vector, version
    v4 = [v for k, v in entries if k == "CVSS_V4"]
    return None, (v4[0] if v4 else None), 4


def _cwes(db: Mapping[str, Any]) -> set[str]:
    listed = db.get("cwe_ids")
    found = {c for c in listed if isinstance(c, str)} if isinstance(listed, list) else set()
    cwes = db.get("cwes")
    for cwe in cwes if isinstance(cwes, list) else ():
        cwe_id = cwe.get("cweId") if isinstance(cwe, dict) else None
        if isinstance(cwe_id, str):
            found.add(cwe_id)
    return found


def is_malicious_record(
    record_id: str, summary: str, details: str, specifics: Iterable[Mapping[str, Any]]
) -> bool:
    """The malicious-package rule, applied to a record's fields.

    True when any of: the id starts with `MAL-` (OpenSSF malicious-packages);
    a top-level or `affected[]` `database_specific` has `malicious-packages-origins`
    (present in every malicious-packages record, including GHSA malware imports)
    or lists CWE-506 "Embedded Malicious Code" (GitHub `cwe_ids`, OpenSSF `cwes`);
    the summary, or else the first line of the details, starts with "Malicious code
    in " or "Malware in " (the titles of OpenSSF and GitHub malware advisories).
    """
    if record_id.startswith("MAL-"):
        return True
    for db in specifics:
        if "malicious-packages-origins" in db or _MALWARE_CWE in _cwes(db):
            return True
    first = next((line.strip() for line in details.splitlines() if line.strip()), "")
    return bool(_MALWARE_TITLE.match(summary.strip() or first))


def _truncate(text: str) -> str:
    return text if len(text) <= DETAILS_LIMIT else text[: DETAILS_LIMIT - 1] + "…"


def parse_advisory(data: object, source: str = "<OSV record>") -> Advisory:
    """Turn one decoded OSV JSON object into an Advisory; AdvisoryError when malformed."""
    rec = _Fields(source, "", data)
    record_id = rec.opt_str("id")
    if not record_id:
        rec.fail("id", "missing advisory id")
    rec.source = f"{source} ({record_id})" if source != record_id else source
    summary, details = rec.opt_str("summary") or "", rec.opt_str("details") or ""
    affected = tuple(_affected(a) for a in rec.objects("affected"))
    database_specific = rec.mapping("database_specific")
    severity_entries = _severity_entries(rec)
    for entry in rec.objects("affected"):
        severity_entries += _severity_entries(entry)
    score, vector, cvss_version = _pick_cvss(severity_entries)
    malicious = is_malicious_record(
        record_id, summary, details, [database_specific, *(a.database_specific for a in affected)]
    )
    severity: Severity | None
    if malicious:
        severity = "malicious"
    else:
        label = database_specific.get("severity")
        severity = _LABELS.get(label.upper()) if isinstance(label, str) else None
        if severity is None and score is not None:
            severity = _LABELS[severity_for_score(score, cvss_version).upper()]
    return Advisory(
        id=record_id,
        aliases=frozenset(rec.str_list("aliases")) - {record_id},
        related=frozenset(rec.str_list("related")),
        summary=summary.strip(),
        details=_truncate(details),
        published=rec.opt_str("published"),
        modified=rec.opt_str("modified"),
        withdrawn=rec.opt_str("withdrawn"),
        severity=severity,
        malicious=malicious,
        cvss_score=score,
        cvss_vector=vector,
        affected=affected,
        references=tuple(_references(rec)),
        database_specific=database_specific,
    )


def _references(rec: _Fields) -> Iterable[str]:
    for ref in rec.objects("references"):
        url = ref.opt_str("url")
        if url:
            yield url


def load_advisory(path: Path | str) -> Advisory:
    """Read and parse one OSV JSON file; AdvisoryError when unreadable or malformed."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise AdvisoryError(str(path), f"cannot read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise AdvisoryError(str(path), f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    except ValueError as exc:  # an integer of more than 4300 digits
        raise AdvisoryError(str(path), f"invalid JSON: {str(exc).split(':')[0]}") from exc
    except RecursionError as exc:
        raise AdvisoryError(str(path), "invalid JSON: nested too deeply") from exc
    return parse_advisory(data, str(path))
