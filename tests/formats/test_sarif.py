"""SARIF output: schema-valid, every ruleId defined, every result located, stable fingerprints."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from depguard.cli import FORMAT_NAMES, cli
from depguard.formats import FORMATS
from depguard.formats.sarif import FINGERPRINT_KEY, SarifFormatter
from depguard.models import Ecosystem
from depguard.policy import RULE_NAMES
from depguard.report import Finding, Report, Severity
from tests.conftest import ROOT, fixture_path
from tests.formats._reports import check_report, scan_report

VALIDATORS = [jsonschema.Draft4Validator, jsonschema.Draft7Validator]


def sarif(report: Report) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SarifFormatter().render(report))
    return doc


def run_of(report: Report) -> dict[str, Any]:
    run: dict[str, Any] = sarif(report)["runs"][0]
    return run


def schema() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        fixture_path("schemas", "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
    )
    return doc


def by_package(run: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["ruleId"], r["properties"]["package"]): r for r in run["results"]}


def located(result: dict[str, Any]) -> tuple[str, int]:
    physical = result["locations"][0]["physicalLocation"]
    return physical["artifactLocation"]["uri"], physical["region"]["startLine"]


@pytest.fixture(scope="module")
def check(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return check_report(tmp_path_factory.mktemp("check") / "holdout")


@pytest.mark.parametrize("validator", VALIDATORS, ids=lambda v: v.__name__)
@pytest.mark.parametrize("kind", ["scan", "check"])
def test_validates_against_the_oasis_schema(
    kind: str, validator: Any, check: Report, tmp_path: Path
) -> None:
    report = check if kind == "check" else scan_report(tmp_path)
    errors = list(validator(schema()).iter_errors(sarif(report)))
    assert errors == []


def test_schema_rejects_a_broken_log(tmp_path: Path) -> None:
    """The validation above is real: a result without a message fails it."""
    doc = sarif(scan_report(tmp_path))
    del doc["runs"][0]["results"][0]["message"]
    assert list(jsonschema.Draft7Validator(schema()).iter_errors(doc))


def assert_resolved_and_located(run: dict[str, Any]) -> None:
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULE_NAMES)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        uri, line = located(result)
        assert uri and line >= 1
        assert result["partialFingerprints"][FINGERPRINT_KEY]


def test_check_report_rules_resolve_and_results_are_located(check: Report) -> None:
    run = run_of(check)
    assert_resolved_and_located(run)
    results = by_package(run)
    assert located(results[("malicious-package", "plain-crypto-js")]) == (
        "package-lock.json", 12632)
    assert located(results[("undeclared-import", "pyyaml")]) == ("src/app/main.py", 3)
    assert located(results[("stdlib-alternative", "simplejson")]) == ("pyproject.toml", 6)
    assert len(run["results"]) == len(check.findings) == 10


def test_levels_follow_severity(check: Report) -> None:
    levels = {(r["properties"]["severity"], r["level"]) for r in run_of(check)["results"]}
    assert levels == {("malicious", "error"), ("moderate", "warning"), ("low", "note"),
                      ("info", "note")}


def test_rules_carry_what_github_reads() -> None:
    empty = Report(command="scan")
    for rule in run_of(empty)["tool"]["driver"]["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert "[[" in rule["help"]["text"] and "```toml" in rule["help"]["markdown"]
        severity = float(rule["properties"]["security-severity"])
        assert 0 < severity <= 10
        assert "security" in rule["properties"]["tags"] or "supply-chain" in rule["properties"][
            "tags"]
    rules = {r["id"]: r for r in run_of(empty)["tool"]["driver"]["rules"]}
    assert float(rules["malicious-package"]["properties"]["security-severity"]) >= 9.0
    assert 7.0 <= float(rules["typosquat-suspect"]["properties"]["security-severity"]) < 9.0
    assert rules["malicious-package"]["defaultConfiguration"]["level"] == "error"


def test_scan_paths_are_relative_to_where_depguard_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    folder = Path("fixtures/projects/npm-axios-1.14.1")
    expected = ("fixtures/projects/npm-axios-1.14.1/package-lock.json", 12632)
    for target in (folder, folder / "package-lock.json"):
        run = run_of(scan_report(tmp_path, target=target))
        assert_resolved_and_located(run)
        assert located(by_package(run)[("malicious-package", "plain-crypto-js")]) == expected


def test_absolute_scan_target_gives_file_uris(tmp_path: Path) -> None:
    run = run_of(scan_report(tmp_path))
    uri, _ = located(by_package(run)[("malicious-package", "axios")])
    assert uri == (fixture_path("projects", "npm-axios-1.14.1") / "package-lock.json").as_uri()


def test_finding_without_file_falls_back_to_a_manifest_line_1(tmp_path: Path) -> None:
    report = scan_report(tmp_path, target=fixture_path("projects", "py-litellm-1.82.8"))
    finding = replace(report.findings[0], file=None, line=None)
    report.findings = [finding]
    uri, line = located(run_of(report)["results"][0])
    assert uri.endswith("/py-litellm-1.82.8/requirements.txt") and line == 1
    bare = Report(command="check", findings=[replace(finding, ecosystem=Ecosystem.NPM)])
    assert located(run_of(bare)["results"][0]) == ("package.json", 1)


def fingerprints(report: Report) -> dict[tuple[str, str], str]:
    return {key: r["partialFingerprints"][FINGERPRINT_KEY]
            for key, r in by_package(run_of(report)).items()}


def test_fingerprints_are_identical_across_runs(check: Report, tmp_path: Path) -> None:
    again = check_report(tmp_path / "holdout")
    assert fingerprints(again) == fingerprints(check)
    assert len(set(fingerprints(check).values())) == len(check.findings)


def test_fingerprints_survive_lines_moving(check: Report, tmp_path: Path) -> None:
    shifted = check_report(tmp_path / "holdout", prefix="// moved\n// down\n// three\n")
    lines = {key: located(r)[1] for key, r in by_package(run_of(shifted)).items()}
    before = {key: located(r)[1] for key, r in by_package(run_of(check)).items()}
    assert all(lines[key] > before[key] for key in before)
    assert fingerprints(shifted) == fingerprints(check)


@pytest.mark.parametrize(
    "change",
    [{"version": "1.14.2"}, {"id": "MAL-2026-9999"}, {"file": "web/package-lock.json"},
     {"package": "axios2"}, {"rule": "vulnerable-version"}],
    ids=lambda c: next(iter(c)),
)
def test_fingerprint_changes_with_identity(change: dict[str, Any], check: Report) -> None:
    axios = next(f for f in check.findings if f.package == "axios")
    one = Report(command="check", findings=[axios])
    other = Report(command="check", findings=[replace(axios, **change)])
    mark = run_of(one)["results"][0]["partialFingerprints"][FINGERPRINT_KEY]
    assert run_of(other)["results"][0]["partialFingerprints"][FINGERPRINT_KEY] != mark


def test_same_identity_twice_in_one_run_gets_distinct_fingerprints(check: Report) -> None:
    pyyaml = next(f for f in check.findings if f.package == "pyyaml")
    report = Report(command="check", findings=[replace(pyyaml, line=9), pyyaml])
    marks = [r["partialFingerprints"][FINGERPRINT_KEY] for r in run_of(report)["results"]]
    assert len(set(marks)) == 2 and marks[1] == f"{marks[0]}:2"


def test_hostile_text_round_trips_as_json() -> None:
    finding = Finding(rule="typosquat-suspect", severity=Severity.HIGH, ecosystem=Ecosystem.NPM,
                      package='ev"il\\pkg', version="1.0.0\u2028", message="a\x00b\n</script>",
                      file="dir with space/package.json", line=3)
    run = run_of(Report(command="check", findings=[finding]))
    result = run["results"][0]
    assert result["properties"]["package"] == 'ev"il\\pkg'
    assert result["message"]["text"].startswith("a\x00b\n</script>")
    assert located(result) == ("dir%20with%20space/package.json", 3)


def test_unknown_rule_is_a_bug_not_an_unresolvable_result() -> None:
    finding = Finding(rule="made-up", severity=Severity.LOW, ecosystem=Ecosystem.NPM,
                      package="x", version=None, message="m")
    with pytest.raises(ValueError, match="made-up"):
        SarifFormatter().render(Report(command="check", findings=[finding]))


def test_notes_become_notifications(check: Report) -> None:
    notifications = run_of(check)["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notifications] == check.notes


def test_format_registry_matches_the_cli() -> None:
    assert tuple(FORMATS) == FORMAT_NAMES
    assert all(FORMATS[name].name == name for name in FORMATS)


def test_cli_writes_sarif_to_output(tmp_path: Path) -> None:
    out = tmp_path / "out.sarif"
    project = str(fixture_path("projects", "npm-axios-1.14.1"))
    result = CliRunner().invoke(cli, ["scan", project, "--offline", "--db",
                                      str(tmp_path / "none.db"), "-f", "sarif", "-o", str(out)])
    assert result.exit_code == 1, result.stderr
    assert result.stdout == ""
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert jsonschema.Draft7Validator(schema()).is_valid(doc)
    assert {r["properties"]["package"] for r in doc["runs"][0]["results"]} == {
        "axios", "plain-crypto-js"}
