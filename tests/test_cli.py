"""The command line end to end: output streams, exit codes and files, on shipped fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from depguard.cli import cli
from tests.conftest import fixture_path


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def isolated_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every CLI test starts with no advisory database unless it builds one."""
    path = tmp_path / "cache" / "osv.db"
    monkeypatch.setenv("DEPGUARD_DB", str(path))
    return path


def test_graph_json_has_the_contract_shape(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["graph", str(fixture_path("projects", "npm-axios-1.14.1")),
                                 "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) >= {"nodes", "edges"}
    axios = next(n for n in doc["nodes"] if n["name"] == "axios")
    assert {k: axios[k] for k in ("ecosystem", "version", "scope", "direct")} == {
        "ecosystem": "npm", "version": "1.14.1", "scope": "prod", "direct": True}
    plain = next(n for n in doc["nodes"] if n["name"] == "plain-crypto-js")
    assert {"from": axios["id"], "to": plain["id"], "specifier": "^4.2.1", "scope": "prod"} in doc[
        "edges"]


@pytest.mark.parametrize("fmt, marker", [("tree", "holdout (package-lock.json)"),
                                         ("dot", "digraph depguard {"),
                                         ("graphml", "<graphml")])
def test_graph_formats(runner: CliRunner, fmt: str, marker: str) -> None:
    result = runner.invoke(cli, ["graph", str(fixture_path("projects", "npm-axios-1.14.0")),
                                 "-f", fmt])
    assert result.exit_code == 0
    assert marker in result.stdout


def test_why_prints_every_chain(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["why", "mime-types",
                                 str(fixture_path("projects", "npm-axios-1.14.0"))])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "holdout > axios 1.14.0 > form-data 4.0.6 > mime-types 2.1.35" in lines
    assert "holdout > express 4.22.3 > accepts 1.3.8 > mime-types 2.1.35" in lines
    assert len(lines) == len(set(lines)) >= 4


def test_why_unknown_package_is_an_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["why", "no-such-pkg",
                                 str(fixture_path("projects", "npm-axios-1.14.0"))])
    assert result.exit_code == 2
    assert result.stderr.startswith("depguard: error: no-such-pkg: not in the dependency graph")


def test_partial_python_graph_says_so(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests>=2\n")
    result = runner.invoke(cli, ["graph", str(tmp_path)])
    assert result.exit_code == 0
    assert "partial graph" in result.stderr
    assert "requests" in result.stdout


@pytest.mark.parametrize("project, package, chain", [
    ("npm-axios-1.14.1", "plain-crypto-js", ["holdout", "axios", "plain-crypto-js"]),
    ("py-litellm-1.82.8", "litellm", ["py-litellm-1.82.8", "litellm"]),
])
def test_scan_flags_the_incidents_with_no_database(runner: CliRunner, project: str,
                                                   package: str, chain: list[str]) -> None:
    result = runner.invoke(cli, ["scan", str(fixture_path("projects", project)), "--offline",
                                 "-f", "json"])
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    finding = next(f for f in report["findings"] if f["package"] == package)
    assert finding["rule"] == "malicious-package"
    assert finding["severity"] == "malicious"
    assert chain in finding["paths"]
    assert report["verdict"] == "fail"
    assert any("only the curated feed" in note for note in report["notes"])


@pytest.mark.parametrize("project", ["npm-axios-1.14.0", "py-litellm-1.82.6"])
def test_scan_passes_the_last_good_versions(runner: CliRunner, project: str) -> None:
    result = runner.invoke(cli, ["scan", str(fixture_path("projects", project)), "--offline"])
    assert result.exit_code == 0, result.stdout
    assert "verdict: PASS" in result.stdout


def test_scan_text_groups_by_package_with_chain_and_action(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["scan", str(fixture_path("projects", "npm-axios-1.14.1")),
                                 "--offline"])
    assert result.exit_code == 1
    out = result.stdout
    assert "plain-crypto-js 4.2.1  (npm, package-lock.json:" in out
    assert "via holdout > axios > plain-crypto-js" in out
    assert "fix: remove plain-crypto-js: it arrived with axios 1.14.1" in out
    assert "fix: pin axios to 1.14.0" in out
    assert "\x1b[" not in out  # no colour when stdout is not a terminal


def test_fail_on_never_passes_and_output_file_is_written(runner: CliRunner,
                                                         tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(cli, ["scan", str(fixture_path("projects", "npm-axios-1.14.1")),
                                 "--offline", "--fail-on", "never", "-f", "json", "-o", str(out)])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert json.loads(out.read_text())["verdict"] == "pass"
    assert "2 findings" in result.stderr


def test_output_file_not_written_on_error(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "package-lock.json"
    bad.write_text('{"lockfileVersion": 3,\n "packages": [}\n')
    out = tmp_path / "report.json"
    result = runner.invoke(cli, ["scan", str(tmp_path), "--offline", "-o", str(out)])
    assert result.exit_code == 2
    assert not out.exists()
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("depguard: error: package-lock.json:2: invalid JSON")


def test_no_manifest_is_an_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["scan", str(tmp_path), "--offline"])
    assert result.exit_code == 2
    assert "no supported manifest found" in result.stderr


def test_usage_error_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["scan", "--fail-on", "sometimes"])
    assert result.exit_code == 2


def test_exclude_dev_drops_dev_packages(runner: CliRunner) -> None:
    path = str(fixture_path("projects", "npm-axios-1.14.0"))
    full = json.loads(runner.invoke(cli, ["scan", path, "--offline", "-f", "json"]).stdout)
    prod = json.loads(runner.invoke(cli, ["scan", path, "--offline", "-f", "json",
                                          "--exclude-dev"]).stdout)
    assert 0 < len(prod["packages"]) < len(full["packages"])
    assert all(p["scope"] != "dev" for p in prod["packages"])


def test_db_import_status_and_scan_with_database(runner: CliRunner, isolated_db: Path) -> None:
    result = runner.invoke(cli, ["db", "import", str(fixture_path("osv", "records"))])
    assert result.exit_code == 0, result.stderr
    assert "malformed" in result.stdout
    status = runner.invoke(cli, ["db", "status", "-f", "json"])
    assert json.loads(status.stdout)["ecosystems"]["PyPI"] > 0
    scan = runner.invoke(cli, ["scan", str(fixture_path("projects", "py-litellm-1.82.8")),
                               "--offline", "-f", "json"])
    report = json.loads(scan.stdout)
    (finding,) = [f for f in report["findings"] if f["package"] == "litellm"]
    assert finding["id"] == "MAL-2026-2144"
    assert set(finding["aliases"]) >= {"PYSEC-2026-2", "GHSA-5mg7-485q-xm76"}
    assert [s["name"] for s in report["advisory_data"]["sources"]] == ["curated", "osv-db"]


def test_corrupted_database_exits_2_naming_the_file(runner: CliRunner,
                                                    isolated_db: Path) -> None:
    isolated_db.parent.mkdir(parents=True)
    isolated_db.write_bytes(b"this is not a database" * 100)
    result = runner.invoke(cli, ["scan", str(fixture_path("projects", "npm-axios-1.14.0")),
                                 "--offline"])
    assert result.exit_code == 2
    assert str(isolated_db) in result.stderr
    assert "depguard db sync" in result.stderr
    assert result.stderr.count("\n") == 1


def test_version_and_help(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["--version"]).stdout.startswith("depguard, version ")
    for command in (["scan"], ["graph"], ["why"], ["db"], ["db", "sync"]):
        result = runner.invoke(cli, [*command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.stdout
