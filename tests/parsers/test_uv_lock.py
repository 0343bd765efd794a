"""uv.lock parser: real and uv-generated locks, checked against `uv export` of the same lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from depguard.errors import ParseError
from depguard.models import Edge, ParsedManifest, Scope
from depguard.parsers.base import DiskReader
from depguard.parsers.requirements import RequirementsParser
from depguard.parsers.uv_lock import UvLockParser
from tests.conftest import fixture_path
from tests.parsers._lockpins import package, pin_hashes, pins, versions

HERE = "lockfiles", "python"


def parse(*parts: str) -> ParsedManifest:
    path = fixture_path(*HERE, *parts)
    return UvLockParser().parse(path, "/".join(parts), DiskReader())


def edge_set(manifest: ParsedManifest) -> set[tuple[str, str, Scope]]:
    return {(e.parent, e.child, e.scope) for e in manifest.edges}


def test_matches_by_file_name() -> None:
    assert UvLockParser.matches(Path("a/uv.lock"))
    assert not UvLockParser.matches(Path("uv.lock.bak"))
    assert not UvLockParser.matches(Path("poetry.lock"))


def test_flask_real_lock_matches_uv_export() -> None:
    manifest = parse("flask", "uv.lock")
    assert [r.name for r in manifest.roots] == ["flask"]
    assert manifest.locked and manifest.kind == "uv.lock"
    assert versions(manifest) == pins(fixture_path(*HERE, "flask", "requirements-all.txt"))
    prod = pins(fixture_path(*HERE, "flask", "requirements-prod.txt"))
    assert versions(manifest, Scope.PROD) == prod
    assert package(manifest, "asgiref").scope is Scope.OPTIONAL
    assert package(manifest, "pytest").scope is Scope.DEV
    assert {d.version for d in manifest.packages.values() if d.name == "sphinx"} == {
        "8.1.3",
        "8.2.3",
    }
    assert manifest.skipped == []


def test_package_line_is_its_header() -> None:
    manifest = parse("flask", "uv.lock")
    lines = fixture_path(*HERE, "flask", "uv.lock").read_text().splitlines()
    for dep in manifest.packages.values():
        assert dep.line is not None
        assert lines[dep.line - 1] == "[[package]]"
        assert lines[dep.line].replace("_", "-").lower() == f'name = "{dep.name}"'


def test_demo_lock_scopes_extras_and_hashes() -> None:
    manifest = parse("uv-demo", "uv.lock")
    folder = fixture_path(*HERE, "uv-demo")
    assert versions(manifest) == pins(folder / "requirements-all.txt")
    assert versions(manifest, Scope.PROD) == pins(folder / "requirements-prod.txt")
    requests = package(manifest, "requests")
    assert (requests.direct, requests.extras, requests.specifier) == (True, ("socks",), ">=2.31")
    pysocks = package(manifest, "pysocks")
    assert (pysocks.scope, pysocks.direct) == (Scope.PROD, False)
    assert (requests.id, pysocks.id, Scope.OPTIONAL) in edge_set(manifest)
    assert package(manifest, "pyyaml").scope is Scope.OPTIONAL
    assert {package(manifest, n).scope for n in ("iniconfig", "pyflakes")} == {Scope.DEV}
    flask = package(manifest, "flask")
    assert set(flask.hashes) == pin_hashes(folder / "requirements-all.txt", "flask")
    assert flask.resolved and flask.resolved.startswith("https://files.pythonhosted.org/")


def test_demo_lock_agrees_with_requirements_parser() -> None:
    path = fixture_path(*HERE, "uv-demo", "requirements-all.txt")
    exported = RequirementsParser().parse(path, "uv-demo/requirements-all.txt", DiskReader())
    assert versions(parse("uv-demo", "uv.lock")) == versions(exported)


def test_workspace_members_are_roots() -> None:
    manifest = parse("uv-workspace", "uv.lock")
    roots = {r.name: r.source for r in manifest.roots}
    assert roots == {
        "wsroot": "uv-workspace/uv.lock",
        "alpha": "uv-workspace/uv.lock#packages/alpha",
        "beta": "uv-workspace/uv.lock#packages/beta",
    }
    registry = {(d.name, d.version) for d in manifest.packages.values() if d.hashes}
    assert registry == pins(fixture_path(*HERE, "uv-workspace", "requirements-all.txt"))
    root = next(r for r in manifest.roots if r.name == "wsroot")
    old, new = (
        package(manifest, "importlib-metadata", "6.11.0"),
        package(manifest, "importlib-metadata", "10.2.0"),
    )
    assert Edge(parent=root.id, child=old.id, specifier="<7") in manifest.edges
    assert Edge(parent=root.id, child=new.id, specifier=">=8") in manifest.edges
    assert package(manifest, "lazy-importer").direct is False
    assert package(manifest, "gamma").resolved == "vendored/gamma"
    beta = package(manifest, "beta")
    assert (beta.scope, beta.resolved) == (Scope.DEV, "packages/beta")
    alpha = package(manifest, "alpha")
    assert (alpha.id, package(manifest, "six").id, Scope.OPTIONAL) in edge_set(manifest)


def test_cycle_missing_and_ambiguous_references() -> None:
    manifest = parse("graph", "uv-cycle.lock")
    alpha, beta = package(manifest, "alpha"), package(manifest, "beta")
    assert {(alpha.id, beta.id, Scope.PROD), (beta.id, alpha.id, Scope.PROD)} <= edge_set(manifest)
    assert (alpha.id, package(manifest, "gamma", "2.0.0").id, Scope.PROD) in edge_set(manifest)
    assert alpha.specifier == ">=1"
    skipped = {(s.name, s.line) for s in manifest.skipped}
    assert skipped == {("ghost", 5), ("gamma", 15)}
    assert "ambiguous" in next(s.reason for s in manifest.skipped if s.name == "gamma")
    # gamma 1.0.0 is locked but no edge reaches it: still a package, never dropped
    assert package(manifest, "gamma", "1.0.0").direct is False


def test_lock_without_project_package_infers_direct_dependencies() -> None:
    manifest = parse("graph", "uv-no-project.lock")
    assert [r.name for r in manifest.roots] == ["graph"]
    assert package(manifest, "x").direct and not package(manifest, "y").direct
    assert package(manifest, "y").resolved == (
        "https://github.com/example/y?rev=main#0123456789abcdef0123456789abcdef01234567"
    )
    assert [s.name for s in manifest.skipped] == ["*"]


@pytest.mark.parametrize(
    ("fixture", "message", "line"),
    [
        ("uv-invalid-toml.lock", "invalid TOML", 4),
        ("uv-unknown-version.lock", "unsupported uv.lock version 2", 1),
        ("uv-json.lock", "invalid TOML", 1),
        ("uv-package-not-table.lock", "package #1 must be a table", None),
        ("uv-version-not-string.lock", "package #2: `version` must be a string", 8),
        ("uv-deps-not-list.lock", "`dependencies` must be a list", 3),
        ("uv-dep-not-table.lock", "`dependencies` entry 1 must be a table", 3),
        ("uv-name-missing.lock", "package #2: `name` must be a string", 8),
    ],
)
def test_malformed(fixture: str, message: str, line: int | None) -> None:
    with pytest.raises(ParseError) as caught:
        parse("malformed", fixture)
    assert message in caught.value.reason
    assert caught.value.line == line
    assert caught.value.path == f"malformed/{fixture}"
