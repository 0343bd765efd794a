"""Tests for depguard.advisories.match against real OSV records (and one synthetic limit record)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from depguard.advisories.match import (
    MatchStatus,
    evaluate,
    fixed_versions,
    merge_aliases,
    smallest_clearing_version,
)
from depguard.advisories.osv_record import Advisory, load_advisory, parse_advisory
from depguard.models import Ecosystem
from tests.conftest import fixture_path

PYPI, NPM = Ecosystem.PYPI, Ecosystem.NPM
AFFECTED, NOT_AFFECTED = MatchStatus.AFFECTED, MatchStatus.NOT_AFFECTED
UNKNOWN = MatchStatus.UNKNOWN


def adv(record_id: str) -> Advisory:
    return load_advisory(fixture_path("osv", "records", f"{record_id}.json"))


def raw(record_id: str) -> dict[str, Any]:
    path = fixture_path("osv", "records", f"{record_id}.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def status(record_id: str, eco: Ecosystem, name: str, version: str) -> MatchStatus:
    return evaluate(adv(record_id), eco, name, version).status


# (record, ecosystem, package, version, expected): one block per range form.
CASES = [
    # versions list only (litellm 2026 incident)
    ("MAL-2026-2144", PYPI, "litellm", "1.82.7", AFFECTED),
    ("MAL-2026-2144", PYPI, "litellm", "1.82.8", AFFECTED),
    ("MAL-2026-2144", PYPI, "litellm", "1.82.6", NOT_AFFECTED),
    ("MAL-2026-2144", PYPI, "litellm", "1.82.9", NOT_AFFECTED),
    ("MAL-2026-2307", NPM, "axios", "1.14.1", AFFECTED),
    ("MAL-2026-2307", NPM, "axios", "0.30.4", AFFECTED),
    ("MAL-2026-2307", NPM, "axios", "1.14.0", NOT_AFFECTED),
    ("MAL-2026-2307", NPM, "axios", "0.30.3", NOT_AFFECTED),
    ("MAL-2026-2306", NPM, "plain-crypto-js", "4.2.1", AFFECTED),
    ("MAL-2026-2306", NPM, "plain-crypto-js", "4.2.0", NOT_AFFECTED),
    # ECOSYSTEM introduced + fixed
    ("GHSA-35jh-r3h4-6jhm", NPM, "lodash", "4.17.20", AFFECTED),
    ("GHSA-35jh-r3h4-6jhm", NPM, "lodash", "4.17.21", NOT_AFFECTED),
    ("GHSA-35jh-r3h4-6jhm", NPM, "lodash-es", "0.0.1", AFFECTED),
    ("GHSA-j8r2-6x86-q33q", PYPI, "requests", "2.2.1", NOT_AFFECTED),
    ("GHSA-j8r2-6x86-q33q", PYPI, "requests", "2.3.0", AFFECTED),
    ("GHSA-j8r2-6x86-q33q", PYPI, "requests", "2.30.0", AFFECTED),
    ("GHSA-j8r2-6x86-q33q", PYPI, "requests", "2.31.0rc1", AFFECTED),
    ("GHSA-j8r2-6x86-q33q", PYPI, "requests", "2.31.0", NOT_AFFECTED),
    # two ranges (two affected entries)
    ("GHSA-v845-jxx5-vc9f", PYPI, "urllib3", "1.26.16", AFFECTED),
    ("GHSA-v845-jxx5-vc9f", PYPI, "urllib3", "1.26.17", NOT_AFFECTED),
    ("GHSA-v845-jxx5-vc9f", PYPI, "urllib3", "2.0.5", AFFECTED),
    ("GHSA-v845-jxx5-vc9f", PYPI, "urllib3", "2.0.6", NOT_AFFECTED),
    ("GHSA-xvch-5gv4-984h", NPM, "minimist", "0.2.3", AFFECTED),
    ("GHSA-xvch-5gv4-984h", NPM, "minimist", "0.2.4", NOT_AFFECTED),
    ("GHSA-xvch-5gv4-984h", NPM, "minimist", "0.9.9", NOT_AFFECTED),
    ("GHSA-xvch-5gv4-984h", NPM, "minimist", "1.0.0", AFFECTED),
    ("GHSA-xvch-5gv4-984h", NPM, "minimist", "1.2.6", NOT_AFFECTED),
    # one range, two introduced/fixed pairs (events out of version order)
    ("PYSEC-2024-70", PYPI, "django", "4.1.13", NOT_AFFECTED),
    ("PYSEC-2024-70", PYPI, "django", "4.2.14", AFFECTED),
    ("PYSEC-2024-70", PYPI, "django", "4.2.15", NOT_AFFECTED),
    ("PYSEC-2024-70", PYPI, "django", "4.2.16", NOT_AFFECTED),
    ("PYSEC-2024-70", PYPI, "django", "5.0.7", AFFECTED),
    ("PYSEC-2024-70", PYPI, "django", "5.0.8", NOT_AFFECTED),
    ("PYSEC-2024-70", PYPI, "django", "5.1", NOT_AFFECTED),
    ("PYSEC-2023-192", PYPI, "urllib3", "1.26.16", AFFECTED),
    ("PYSEC-2023-192", PYPI, "urllib3", "1.26.18", NOT_AFFECTED),
    ("PYSEC-2023-192", PYPI, "urllib3", "2.0.6", NOT_AFFECTED),
    # last_affected
    ("GHSA-5mg7-485q-xm76", PYPI, "litellm", "1.82.6", NOT_AFFECTED),
    ("GHSA-5mg7-485q-xm76", PYPI, "litellm", "1.82.7", AFFECTED),
    ("GHSA-5mg7-485q-xm76", PYPI, "litellm", "1.82.8", AFFECTED),
    ("GHSA-5mg7-485q-xm76", PYPI, "litellm", "1.82.8.post1", NOT_AFFECTED),
    ("GHSA-5mg7-485q-xm76", PYPI, "litellm", "1.82.9", NOT_AFFECTED),
    ("GHSA-4g82-3jcr-q52w", PYPI, "ctx", "0.1.2", AFFECTED),
    ("GHSA-4g82-3jcr-q52w", PYPI, "ctx", "0.1.4", AFFECTED),
    ("GHSA-4g82-3jcr-q52w", PYPI, "ctx", "0.2", NOT_AFFECTED),
    ("PYSEC-2022-42969", PYPI, "py", "1.11.0", AFFECTED),
    ("PYSEC-2022-42969", PYPI, "py", "1.11.1", NOT_AFFECTED),
    # introduced only (open-ended); a PEP 440 post-release as the bound
    ("PYSEC-2022-199", PYPI, "ctx", "0.1.2", NOT_AFFECTED),
    ("PYSEC-2022-199", PYPI, "ctx", "0.1.2.post1", AFFECTED),  # == "0.1.2-1"
    ("PYSEC-2022-199", PYPI, "ctx", "0.3", AFFECTED),
    # SEMVER introduced 0: every version, prereleases included
    ("MAL-2025-20690", NPM, "flatmap-stream", "0.1.1", AFFECTED),
    ("MAL-2025-20690", NPM, "flatmap-stream", "0.0.0-alpha", AFFECTED),
    ("MAL-2025-20690", NPM, "flatmap-stream", "99.0.0", AFFECTED),
    # GIT range next to an ECOSYSTEM range: the GIT range is ignored
    ("PYSEC-2022-43015", PYPI, "torch", "1.13.0", AFFECTED),
    ("PYSEC-2022-43015", PYPI, "torch", "1.13.1", NOT_AFFECTED),
    # withdrawn records never match
    ("GHSA-cvp7-c586-cmf4", PYPI, "loguru", "0.5.3", NOT_AFFECTED),
    ("PYSEC-2022-15", PYPI, "loguru", "0.5.3", NOT_AFFECTED),
    # prerelease-style npm versions (colors sabotage)
    ("GHSA-5rqg-jm4f-cqx7", NPM, "colors", "1.4.0", NOT_AFFECTED),
    ("GHSA-5rqg-jm4f-cqx7", NPM, "colors", "1.4.1", AFFECTED),
    ("GHSA-5rqg-jm4f-cqx7", NPM, "colors", "1.4.44-liberty-2", AFFECTED),
    ("GHSA-5rqg-jm4f-cqx7", NPM, "colors", "1.4.44-liberty-1", AFFECTED),  # >= 1.4.1
    # mixed-case package names in the record or the query
    ("GHSA-8hc4-vh64-cxmj", NPM, "axios", "1.7.3", AFFECTED),
    ("GHSA-8hc4-vh64-cxmj", NPM, "Axios", "1.7.4", NOT_AFFECTED),
    ("GHSA-8q59-q68h-6hv4", PYPI, "pyyaml", "5.3.1", AFFECTED),
    ("GHSA-8q59-q68h-6hv4", PYPI, "PyYAML", "5.4", NOT_AFFECTED),
    ("GHSA-pv4p-cwwg-4rph", PYPI, "Django", "5.0.1", AFFECTED),
    # other packages and ecosystems never match
    ("GHSA-mh6f-8j2x-4483", NPM, "event-stream", "3.3.6", AFFECTED),
    ("GHSA-mh6f-8j2x-4483", NPM, "event-stream", "3.3.5", NOT_AFFECTED),
    ("GHSA-mh6f-8j2x-4483", NPM, "flatmap-stream", "0.1.1", AFFECTED),
    ("GHSA-mh6f-8j2x-4483", PYPI, "event-stream", "3.3.6", NOT_AFFECTED),
    ("MAL-2026-2144", PYPI, "litellm-proxy", "1.82.7", NOT_AFFECTED),
    # limit events (synthetic record: no real npm/PyPI record uses limit)
    ("synthetic-limit", NPM, "synthetic-limit-example", "1.4.9", AFFECTED),
    ("synthetic-limit", NPM, "synthetic-limit-example", "1.5.0", NOT_AFFECTED),
    ("synthetic-limit", NPM, "synthetic-limit-example", "1.8.0", AFFECTED),
    ("synthetic-limit", NPM, "synthetic-limit-example", "1.9.9", AFFECTED),
    ("synthetic-limit", NPM, "synthetic-limit-example", "2.0.0", NOT_AFFECTED),
    ("synthetic-limit", NPM, "synthetic-limit-example", "2.5.0", NOT_AFFECTED),
    ("synthetic-limit", NPM, "synthetic-limit-example", "3.0.0", AFFECTED),  # limit "*"
    ("synthetic-limit", PYPI, "synthetic-limit-example", "0.9", NOT_AFFECTED),
    ("synthetic-limit", PYPI, "synthetic-limit-example", "1.3", AFFECTED),  # below one limit
    ("synthetic-limit", PYPI, "synthetic-limit-example", "1.4", NOT_AFFECTED),
]


@pytest.mark.parametrize(("record", "eco", "name", "version", "expected"), CASES)
def test_evaluate(
    record: str, eco: Ecosystem, name: str, version: str, expected: MatchStatus
) -> None:
    assert status(record, eco, name, version) is expected


def test_reasons_say_why() -> None:
    listed = evaluate(adv("MAL-2026-2144"), PYPI, "litellm", "1.82.7")
    assert listed.affected and "listed" in listed.reason
    ranged = evaluate(adv("GHSA-j8r2-6x86-q33q"), PYPI, "requests", "2.30.0")
    assert ranged.reason == "2.30.0 is in the ECOSYSTEM range introduced 2.3.0, fixed 2.31.0"
    withdrawn = evaluate(adv("GHSA-cvp7-c586-cmf4"), PYPI, "loguru", "0.5.3")
    assert "withdrawn" in withdrawn.reason


def test_pep_440_equal_spellings_match_the_versions_list() -> None:
    assert status("PYSEC-2024-70", PYPI, "django", "4.2.0") is AFFECTED  # listed as "4.2"


def test_entry_without_versions_or_ranges_affects_nothing() -> None:
    data = raw("PYSEC-2022-15")
    del data["withdrawn"]
    result = evaluate(parse_advisory(data), PYPI, "loguru", "0.5.3")
    assert result.status is NOT_AFFECTED and "no versions or ranges" in result.reason


def test_git_only_record_without_versions_is_not_affected() -> None:
    data = raw("PYSEC-2022-43015")
    data["affected"][0]["ranges"] = data["affected"][0]["ranges"][:1]  # the GIT range
    del data["affected"][0]["versions"]
    result = evaluate(parse_advisory(data), PYPI, "torch", "1.13.0")
    assert result.status is NOT_AFFECTED and "only GIT ranges" in result.reason


def test_unorderable_version_is_unknown_not_a_guess() -> None:
    result = evaluate(adv("GHSA-j8r2-6x86-q33q"), PYPI, "requests", "2004d")
    assert result.status is UNKNOWN
    assert "cannot order version '2004d' under PEP 440" in result.reason
    assert status("MAL-2025-20690", NPM, "flatmap-stream", "latest") is UNKNOWN


def test_unorderable_version_only_in_versions_list_is_not_affected() -> None:
    assert status("MAL-2026-2144", PYPI, "litellm", "2004d") is NOT_AFFECTED


def test_exact_versions_match_counts_even_when_unorderable() -> None:
    data = raw("PYSEC-2023-74")
    data["affected"][0]["versions"].append("2.0-legacy-build")
    assert evaluate(parse_advisory(data), PYPI, "requests", "2.0-legacy-build").affected


def test_unorderable_event_is_unknown() -> None:
    data = raw("GHSA-xvch-5gv4-984h")
    data["affected"][0]["ranges"][0]["events"][1]["fixed"] = "1.2.6.1"  # not semver
    result = evaluate(parse_advisory(data), NPM, "minimist", "1.3.0")
    assert result.status is UNKNOWN and "cannot order fixed '1.2.6.1'" in result.reason
    # another entry can still say affected
    assert evaluate(parse_advisory(data), NPM, "minimist", "0.1.0").affected


def test_unknown_range_type_is_unknown() -> None:
    data = raw("GHSA-j8r2-6x86-q33q")
    data["affected"][0]["ranges"][0]["type"] = "CALVER"
    result = evaluate(parse_advisory(data), PYPI, "requests", "2.30.0")
    assert result.status is UNKNOWN and "CALVER" in result.reason


def test_fixed_versions_skip_git_commits_and_sort() -> None:
    assert fixed_versions(adv("PYSEC-2023-192"), PYPI, "urllib3") == ["1.26.17", "2.0.6"]
    assert fixed_versions(adv("GHSA-xvch-5gv4-984h"), NPM, "minimist") == ["0.2.4", "1.2.6"]
    assert fixed_versions(adv("MAL-2026-2144"), PYPI, "litellm") == []


@pytest.mark.parametrize(("eco", "name", "version", "records", "expected"), [
    (NPM, "minimist", "1.2.5", ["GHSA-xvch-5gv4-984h"], "1.2.6"),
    (NPM, "minimist", "0.1.0", ["GHSA-xvch-5gv4-984h"], "0.2.4"),
    (PYPI, "urllib3", "2.0.4", ["GHSA-v845-jxx5-vc9f", "PYSEC-2023-192"], "2.0.6"),
    # 4.17.20 fixes GHSA-p6mc but is still inside GHSA-35jh
    (NPM, "lodash", "4.17.15", ["GHSA-p6mc-m468-83gw", "GHSA-35jh-r3h4-6jhm"], "4.17.21"),
    # no fixed version and no later version named anywhere: nothing known offline
    (PYPI, "litellm", "1.82.7", ["MAL-2026-2144", "PYSEC-2026-2", "GHSA-5mg7-485q-xm76"], None),
    (PYPI, "ctx", "0.1.4", ["GHSA-4g82-3jcr-q52w", "PYSEC-2022-199"], None),
    (PYPI, "requests", "2004d", ["GHSA-j8r2-6x86-q33q"], None),
])
def test_smallest_clearing_version(
    eco: Ecosystem, name: str, version: str, records: list[str], expected: str | None
) -> None:
    assert smallest_clearing_version(eco, name, version, [adv(r) for r in records]) == expected


def test_successor_of_last_affected_comes_from_known_versions() -> None:
    records = [adv("MAL-2026-2144"), adv("PYSEC-2026-2"), adv("GHSA-5mg7-485q-xm76")]
    releases = ["1.82.6", "1.82.7", "1.82.8", "1.82.9", "1.83.0"]
    assert smallest_clearing_version(PYPI, "litellm", "1.82.7", records, releases) == "1.82.9"
    assert smallest_clearing_version(PYPI, "litellm", "1.82.9", records, releases) == "1.83.0"


def test_limit_versions_are_candidates() -> None:
    limit = [adv("synthetic-limit")]
    assert smallest_clearing_version(NPM, "synthetic-limit-example", "1.9.0", limit) == "2.0.0"
    assert smallest_clearing_version(PYPI, "synthetic-limit-example", "1.1", limit) == "1.4"


def test_aliases_merge_ghsa_and_pysec() -> None:
    [group] = merge_aliases([adv("PYSEC-2023-74"), adv("GHSA-j8r2-6x86-q33q")])
    assert group.primary_id == "GHSA-j8r2-6x86-q33q"
    assert group.ids == ("GHSA-j8r2-6x86-q33q", "PYSEC-2023-74")
    assert group.aliases == {"CVE-2023-32681"}
    assert group.severity == "moderate" and not group.malicious


def test_aliases_merge_the_litellm_incident() -> None:
    records = [adv("GHSA-5mg7-485q-xm76"), adv("PYSEC-2026-2"), adv("MAL-2026-2144")]
    [group] = merge_aliases(records)
    assert group.primary_id == "MAL-2026-2144"
    assert set(group.ids) == {"MAL-2026-2144", "PYSEC-2026-2", "GHSA-5mg7-485q-xm76"}
    assert group.malicious and group.severity == "malicious"
    assert group.primary.id == "MAL-2026-2144" and group.summary.startswith("Malicious code in")


def test_shared_cve_merges_and_severity_is_the_max() -> None:
    [group] = merge_aliases([adv("PYSEC-2024-70"), adv("GHSA-pv4p-cwwg-4rph")])
    assert group.primary_id == "GHSA-pv4p-cwwg-4rph" and group.severity == "critical"


def test_unrelated_records_stay_apart_and_are_sorted() -> None:
    ids = ["GHSA-xvch-5gv4-984h", "GHSA-35jh-r3h4-6jhm", "MAL-2026-2306"]
    groups = merge_aliases([adv(i) for i in ids])
    assert [g.primary_id for g in groups] == sorted(ids)


def test_reference_to_the_canonical_page_links_but_related_does_not() -> None:
    # GHSA-j8r2 references .../vulns/requests/PYSEC-2023-74.yaml; strip the PYSEC record's
    # aliases so only that reference can link the two.
    other = raw("PYSEC-2023-74")
    del other["aliases"]
    assert len(merge_aliases([adv("GHSA-j8r2-6x86-q33q"), parse_advisory(other)])) == 1
    data = raw("GHSA-j8r2-6x86-q33q")
    data["related"] = ["PYSEC-2023-74"]
    assert len(merge_aliases([parse_advisory(data), parse_advisory(other)])) == 2


def test_reference_link_needs_a_common_package() -> None:
    data = raw("MAL-2026-2306")  # plain-crypto-js, npm
    data["references"] = [{"type": "WEB", "url": "https://github.com/advisories/GHSA-j8r2-6x86-q33q"}]
    assert len(merge_aliases([parse_advisory(data), adv("GHSA-j8r2-6x86-q33q")])) == 2


def test_duplicate_ids_keep_the_newest_record() -> None:
    old = raw("GHSA-j8r2-6x86-q33q")
    old["modified"] = "2000-01-01T00:00:00Z"
    old["summary"] = "old copy"
    [group] = merge_aliases([adv("GHSA-j8r2-6x86-q33q"), parse_advisory(old)])
    assert group.ids == ("GHSA-j8r2-6x86-q33q",) and group.summary != "old copy"


def test_group_severity_unknown_when_no_record_has_one() -> None:
    [group] = merge_aliases([adv("PYSEC-2022-43015")])
    assert group.severity is None and group.primary_id == "PYSEC-2022-43015"
