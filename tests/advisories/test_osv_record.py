"""Tests for depguard.advisories.osv_record: OSV JSON -> Advisory, severity, malicious rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from depguard.advisories.cvss import base_score, severity_for_score
from depguard.advisories.osv_record import (
    DETAILS_LIMIT,
    AdvisoryError,
    Event,
    Range,
    load_advisory,
    parse_advisory,
)
from tests.conftest import fixture_path


def record(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(fixture_path("osv", "records", name).read_text("utf-8"))
    return data


def test_mal_record_versions_only() -> None:
    adv = load_advisory(fixture_path("osv", "records", "MAL-2026-2144.json"))
    assert adv.id == "MAL-2026-2144"
    assert adv.aliases == {"PYSEC-2026-2"}
    assert adv.ids == {"MAL-2026-2144", "PYSEC-2026-2"}
    assert adv.summary == "Malicious code in litellm (PyPI)"
    assert adv.published == "2026-03-24T11:15:14Z"
    assert adv.modified == "2026-03-26T09:53:17Z"
    assert adv.withdrawn is None
    assert adv.malicious and adv.severity == "malicious"
    [entry] = adv.affected
    assert (entry.ecosystem, entry.name, entry.versions, entry.ranges) == (
        "PyPI", "litellm", ("1.82.7", "1.82.8"), ()
    )
    assert "https://github.com/BerriAI/litellm/issues/24518" in adv.references
    assert adv.database_specific["iocs"]["domains"] == ["litellm.cloud"]


def test_ranges_keep_type_events_in_order_and_repo() -> None:
    adv = load_advisory(fixture_path("osv", "records", "PYSEC-2023-192.json"))
    git, eco = adv.affected[0].ranges
    assert git == Range(
        "GIT",
        (
            Event("introduced", "0"),
            Event("fixed", "644124ecd0b6e417c527191f866daa05a5a2056d"),
            Event("fixed", "01220354d389cd05474713f8c982d05c9b17aafb"),
        ),
        "https://github.com/urllib3/urllib3",
    )
    assert [(e.kind, e.value) for e in eco.events] == [
        ("introduced", "2.0.0"), ("fixed", "2.0.6"), ("introduced", "0"), ("fixed", "1.26.17"),
    ]
    assert eco.repo is None


@pytest.mark.parametrize(("name", "raw", "canonical"), [
    ("GHSA-8hc4-vh64-cxmj.json", "Axios", "axios"),
    ("GHSA-8q59-q68h-6hv4.json", "PyYAML", "pyyaml"),
    ("GHSA-pv4p-cwwg-4rph.json", "Django", "django"),
])
def test_mixed_case_names_are_canonical(name: str, raw: str, canonical: str) -> None:
    entry = load_advisory(fixture_path("osv", "records", name)).affected[0]
    assert (entry.raw_name, entry.name) == (raw, canonical)


def test_github_label_gives_severity_and_cvss_is_kept() -> None:
    adv = load_advisory(fixture_path("osv", "records", "GHSA-j8r2-6x86-q33q.json"))
    assert adv.severity == "moderate"
    assert adv.cvss_vector == "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N"
    assert adv.cvss_score == 6.1


def test_severity_from_cvss_v3_when_no_label() -> None:
    adv = load_advisory(fixture_path("osv", "records", "PYSEC-2023-192.json"))
    assert (adv.severity, adv.cvss_score) == ("high", 8.1)


def test_cvss_v4_only_without_label_is_unknown() -> None:
    data = record("GHSA-pv4p-cwwg-4rph.json")
    data["severity"] = [s for s in data["severity"] if s["type"] == "CVSS_V4"]
    del data["database_specific"]["severity"]
    adv = parse_advisory(data)
    assert adv.severity is None and adv.cvss_score is None
    assert adv.cvss_vector is not None and adv.cvss_vector.startswith("CVSS:4.0/")


def test_no_severity_information_is_unknown() -> None:
    adv = load_advisory(fixture_path("osv", "records", "PYSEC-2024-70.json"))
    assert (adv.severity, adv.cvss_score, adv.malicious) == (None, None, False)


def test_withdrawn_is_recorded() -> None:
    adv = load_advisory(fixture_path("osv", "records", "GHSA-cvp7-c586-cmf4.json"))
    assert adv.withdrawn == "2022-02-01T15:17:33Z"


@pytest.mark.parametrize(("vector", "score"), [
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
    ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
    ("CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:N", 5.9),  # GHSA-v845 (GitHub: 5.9)
    ("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
    ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
    ("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
    ("AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3),
    ("AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N", None),
    ("CVSS:3.1/AV:N/AC:L", None),
    ("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", None),
    ("garbage", None),
])
def test_cvss_base_scores(vector: str, score: float | None) -> None:
    assert base_score(vector) == score


@pytest.mark.parametrize(("score", "version", "band"), [
    (0.0, 3, "low"), (3.9, 3, "low"), (4.0, 3, "moderate"), (6.9, 3, "moderate"),
    (7.0, 3, "high"), (8.9, 3, "high"), (9.0, 3, "critical"), (10.0, 2, "high"),
])
def test_severity_bands(score: float, version: int, band: str) -> None:
    assert severity_for_score(score, version) == band


@pytest.mark.parametrize(("name", "malicious"), [
    ("MAL-2026-2307.json", True),  # MAL- id
    ("MAL-2025-20690.json", True),  # MAL- id, malicious-packages-origins: null
    ("GHSA-mh6f-8j2x-4483.json", True),  # cwe_ids CWE-506
    ("GHSA-97m3-w2cp-4xx6.json", True),  # cwe_ids CWE-506 (node-ipc protestware)
    ("GHSA-4g82-3jcr-q52w.json", True),  # "Malware in ctx"
    ("GHSA-5rqg-jm4f-cqx7.json", False),  # colors: a DoS (CWE-835), not malware
    ("GHSA-35jh-r3h4-6jhm.json", False),
    ("PYSEC-2026-2.json", False),  # no malware marker of its own (its MAL- alias has one)
])
def test_malicious_rule_on_real_records(name: str, malicious: bool) -> None:
    adv = load_advisory(fixture_path("osv", "records", name))
    assert adv.malicious is malicious
    assert (adv.severity == "malicious") is malicious


def _plain(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(record("GHSA-35jh-r3h4-6jhm.json"))
    data.update(changes)
    return data


@pytest.mark.parametrize(("data", "malicious"), [
    (_plain(database_specific={"malicious-packages-origins": [{"source": "ghsa-malware"}]}), True),
    (_plain(affected=[{"package": {"ecosystem": "npm", "name": "x"}, "versions": ["1.0.0"],
                       "database_specific": {"cwes": [{"cweId": "CWE-506"}]}}]), True),
    (_plain(summary="", details="\nMalicious code in foo (npm)\nmore"), True),
    (_plain(summary="Malware in foo"), True),
    (_plain(summary="Remote code execution in foo", details="Malicious code in foo"), False),
    (_plain(summary="Prototype pollution; malicious code in payloads"), False),
    (_plain(database_specific={"cwe_ids": ["CWE-1321"], "severity": "HIGH"}), False),
])
def test_malicious_rule_is_precise(data: dict[str, Any], malicious: bool) -> None:
    assert parse_advisory(data).malicious is malicious


def test_details_are_truncated() -> None:
    adv = parse_advisory(_plain(details="x" * 5000))
    assert len(adv.details) == DETAILS_LIMIT and adv.details.endswith("…")


def test_self_alias_is_dropped() -> None:
    assert parse_advisory(_plain(aliases=["GHSA-35jh-r3h4-6jhm", "CVE-1"])).aliases == {"CVE-1"}


def test_affected_without_package_is_kept_unnamed() -> None:
    git = {"type": "GIT", "repo": "r", "events": [{"introduced": "0"}]}
    data = _plain(affected=[{"ranges": [git]}])
    assert parse_advisory(data).affected[0].name == ""


def _event_data(event: object) -> dict[str, Any]:
    return _plain(affected=[{"package": {"ecosystem": "npm", "name": "x"},
                             "ranges": [{"type": "ECOSYSTEM", "events": [event]}]}])


MALFORMED = [
    ([], "record: expected an object, got list"),
    ({"modified": "2020-01-01T00:00:00Z"}, "id: missing advisory id"),
    ({"id": 7}, "id: expected a string, got int"),
    (_plain(aliases="CVE-1"), "aliases: expected a list, got str"),
    (_plain(aliases=["CVE-1", 2]), "aliases[1]: expected a string, got int"),
    (_plain(affected={"package": {}}), "affected: expected a list, got dict"),
    (_plain(affected=["x"]), "affected[0]: expected an object, got str"),
    (_plain(affected=[{"package": {"ecosystem": "npm", "name": 3}}]),
     "affected[0].package.name: expected a string, got int"),
    (_plain(affected=[{"package": "npm/x"}]), "affected[0].package: expected an object, got str"),
    (_plain(affected=[{"package": {"ecosystem": "npm", "name": "x"}, "versions": [1]}]),
     "affected[0].versions[0]: expected a string, got int"),
    (_plain(affected=[{"package": {"ecosystem": "npm", "name": "x"}, "ranges": [{"events": []}]}]),
     "affected[0].ranges[0].type: missing range type"),
    (_event_data({"introduced": "0", "fixed": "1.0.0"}),
     "affected[0].ranges[0].events[0]: expected exactly one of"),
    (_event_data({"fixd": "1.0.0"}), "affected[0].ranges[0].events[0]: expected exactly one of"),
    (_event_data({"introduced": 1}), "ranges[0].events[0].introduced: expected a string"),
    (_event_data({"introduced": None}), "events[0].introduced: expected a string, got null"),
    (_event_data("introduced"), "affected[0].ranges[0].events[0]: expected an object, got str"),
    (_plain(severity=[{"type": "CVSS_V3"}]), "severity[0]: expected both type and score"),
    (_plain(severity={"type": "CVSS_V3"}), "severity: expected a list, got dict"),
    (_plain(database_specific=["x"]), "database_specific: expected an object, got list"),
    (_plain(references=[{"url": 5}]), "references[0].url: expected a string, got int"),
    (_plain(withdrawn=True), "withdrawn: expected a string, got bool"),
]


@pytest.mark.parametrize(("data", "fragment"), MALFORMED)
def test_malformed_records_raise_advisory_error(data: object, fragment: str) -> None:
    with pytest.raises(AdvisoryError) as info:
        parse_advisory(data, "feed.json")
    assert fragment in str(info.value)
    assert str(info.value).startswith("feed.json")


def test_error_names_the_record_id() -> None:
    with pytest.raises(AdvisoryError, match=r"^feed\.json \(GHSA-35jh-r3h4-6jhm\): withdrawn"):
        parse_advisory(_plain(withdrawn=1), "feed.json")


def test_load_advisory_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"id": "X",\n', encoding="utf-8")
    with pytest.raises(AdvisoryError, match=r"bad\.json: invalid JSON at line 2"):
        load_advisory(path)


def test_load_advisory_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AdvisoryError, match="cannot read"):
        load_advisory(tmp_path / "absent.json")
