"""poetry.lock parser: real and poetry-generated locks, checked against `poetry export`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from depguard.errors import ParseError
from depguard.models import ParsedManifest, Scope
from depguard.parsers.base import DiskReader
from depguard.parsers.poetry_lock import PoetryLockParser
from depguard.parsers.requirements import RequirementsParser
from tests.conftest import fixture_path
from tests.parsers._lockpins import package, pin_hashes, pins, versions

HERE = "lockfiles", "python"


def parse(*parts: str) -> ParsedManifest:
    path = fixture_path(*HERE, *parts)
    return PoetryLockParser().parse(path, "/".join(parts), DiskReader())


def edge_set(manifest: ParsedManifest) -> set[tuple[str, str, Scope]]:
    return {(e.parent, e.child, e.scope) for e in manifest.edges}


def test_matches_by_file_name() -> None:
    assert PoetryLockParser.matches(Path("x/poetry.lock"))
    assert not PoetryLockParser.matches(Path("uv.lock"))


def test_generated_lock_matches_poetry_export() -> None:
    manifest = parse("poetry-demo", "poetry.lock")
    folder = fixture_path(*HERE, "poetry-demo")
    assert [r.name for r in manifest.roots] == ["poetrydemo"]
    assert versions(manifest) == pins(folder / "requirements-all.txt")
    assert versions(manifest, Scope.PROD) == pins(folder / "requirements.txt")
    requests, pysocks = package(manifest, "requests"), package(manifest, "pysocks")
    assert (requests.direct, requests.extras) == (True, ("socks",))
    assert (requests.id, pysocks.id, Scope.OPTIONAL) in edge_set(manifest)
    assert package(manifest, "pyyaml").scope is Scope.OPTIONAL
    assert package(manifest, "iniconfig").scope is Scope.DEV
    flask = package(manifest, "flask")
    assert set(flask.hashes) == pin_hashes(folder / "requirements.txt", "flask")
    assert flask.resolved == "https://pypi.org/simple"  # a `legacy` (simple index) source
    assert manifest.skipped == []


def test_generated_lock_agrees_with_requirements_parser() -> None:
    path = fixture_path(*HERE, "poetry-demo", "requirements-all.txt")
    exported = RequirementsParser().parse(path, "poetry-demo/requirements-all.txt", DiskReader())
    assert versions(parse("poetry-demo", "poetry.lock")) == versions(exported)


def test_real_lock_v2_0_matches_poetry_export() -> None:
    manifest = parse("poetry-2.0.0", "poetry.lock")
    folder = fixture_path(*HERE, "poetry-2.0.0")
    assert versions(manifest) == pins(folder / "requirements-all.txt")
    assert versions(manifest, Scope.PROD) == pins(folder / "requirements-main.txt")
    assert package(manifest, "cachecontrol").extras == ("filecache",)
    assert package(manifest, "pytest").scope is Scope.DEV


def test_real_lock_v2_1_matches_export_and_groups() -> None:
    manifest = parse("poetry-head", "poetry.lock")
    folder = fixture_path(*HERE, "poetry-head")
    core = package(manifest, "poetry-core")
    assert versions(manifest) - {(core.name, core.version)} == pins(folder / "requirements-all.txt")
    assert versions(manifest, Scope.PROD) - {(core.name, core.version)} == pins(
        folder / "requirements-main.txt"
    )
    assert f"poetry-core @ {core.resolved} ;" in (folder / "requirements-main.txt").read_text()
    data = tomllib.loads((folder / "poetry.lock").read_text())
    main = {p["name"] for p in data["package"] if "main" in p["groups"]}
    assert {d.name for d in manifest.packages.values() if d.scope is Scope.PROD} == main


def test_package_line_is_its_header() -> None:
    manifest = parse("poetry-head", "poetry.lock")
    lines = fixture_path(*HERE, "poetry-head", "poetry.lock").read_text().splitlines()
    for dep in manifest.packages.values():
        assert dep.line is not None and lines[dep.line - 1] == "[[package]]"
        assert lines[dep.line] == f'name = "{dep.name}"'


def test_legacy_lock_without_pyproject() -> None:
    manifest = parse("poetry-legacy", "poetry.lock")
    assert [r.name for r in manifest.roots] == ["poetry-legacy"]
    alpha, beta = package(manifest, "alpha"), package(manifest, "beta")
    assert {(alpha.id, beta.id, Scope.PROD), (beta.id, alpha.id, Scope.PROD)} <= edge_set(manifest)
    assert alpha.direct and not beta.direct  # the alpha <-> beta cycle is entered at alpha
    thing = package(manifest, "pytest-thing")
    assert (thing.scope, thing.direct, thing.hashes) == (Scope.DEV, True, ("sha256:bbbb",))
    assert thing.resolved == "https://example.org/pytest_thing-0.3.tar.gz"
    assert alpha.hashes == ("sha256:aaaa",)
    assert {(s.name, s.line) for s in manifest.skipped} == {("ghost", 1), ("*", None)}


@pytest.mark.parametrize(
    ("fixture", "message", "line"),
    [
        ("poetry-invalid-toml.lock", "invalid TOML", 4),
        ("poetry-unknown-version.lock", "unsupported poetry.lock lock-version '3.0'", 6),
        ("poetry-package-not-table.lock", "package #1 must be a table", None),
        ("poetry-version-not-string.lock", "package #1: `version` must be a string", 1),
        ("poetry-deps-not-table.lock", "`dependencies` must be a table", 1),
        ("poetry-dep-wrong-type.lock", "`dependencies.click` must be a table", 1),
        ("poetry-groups-not-list.lock", "`groups` must be a list", 1),
        ("poetry-optional-not-bool.lock", "`optional` must be true or false", 1),
    ],
)
def test_malformed(fixture: str, message: str, line: int | None) -> None:
    with pytest.raises(ParseError) as caught:
        parse("malformed", fixture)
    assert message in caught.value.reason
    assert caught.value.line == line
