"""pylock.toml (PEP 751) parser: uv-exported locks and a hand-written lock that records edges."""

from __future__ import annotations

from pathlib import Path

import pytest

from depguard.errors import ParseError
from depguard.models import ParsedManifest, Scope
from depguard.parsers.base import DiskReader
from depguard.parsers.pylock import PylockParser
from depguard.parsers.requirements import RequirementsParser
from depguard.parsers.uv_lock import UvLockParser
from tests.conftest import fixture_path
from tests.parsers._lockpins import package, pin_hashes, pins, versions

HERE = "lockfiles", "python"


def parse(*parts: str) -> ParsedManifest:
    path = fixture_path(*HERE, *parts)
    return PylockParser().parse(path, "/".join(parts), DiskReader())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pylock.toml", True),
        ("pylock.dev.toml", True),
        ("pylock.a.b.toml", False),
        ("pylock-dev.toml", False),
        ("pylock.toml.bak", False),
        ("pyproject.toml", False),
    ],
)
def test_matches_pep751_file_names(name: str, expected: bool) -> None:
    assert PylockParser.matches(Path("proj") / name) is expected


def test_uv_export_is_flat_with_direct_dependencies_from_pyproject() -> None:
    manifest = parse("uv-demo", "pylock.toml")
    folder = fixture_path(*HERE, "uv-demo")
    assert [r.name for r in manifest.roots] == ["uvdemo"]
    assert versions(manifest) == pins(folder / "requirements-all.txt")
    uv = UvLockParser().parse(folder / "uv.lock", "uv-demo/uv.lock", DiskReader())
    assert versions(manifest) == versions(uv)
    direct = {d.name for d in manifest.packages.values() if d.direct}
    assert direct == {"flask", "requests", "pyyaml", "iniconfig", "pyflakes"}
    assert (package(manifest, "pyyaml").scope, package(manifest, "iniconfig").scope) == (
        Scope.OPTIONAL,
        Scope.DEV,
    )
    root = manifest.roots[0].id
    assert {e.child for e in manifest.edges if e.parent == root} == set(manifest.packages)
    assert all(e.parent == root for e in manifest.edges)  # no package -> package claims
    assert [s.name for s in manifest.skipped] == ["*"] and "flat" in manifest.skipped[0].reason
    charset = package(manifest, "charset-normalizer")
    expected = pin_hashes(folder / "requirements-all.txt", "charset-normalizer")
    assert set(charset.hashes) == expected


def test_uv_export_agrees_with_requirements_parser() -> None:
    path = fixture_path(*HERE, "uv-demo", "requirements-all.txt")
    exported = RequirementsParser().parse(path, "uv-demo/requirements-all.txt", DiskReader())
    assert versions(parse("uv-demo", "pylock.toml")) == versions(exported)


def test_workspace_export_keeps_both_versions_and_local_packages() -> None:
    manifest = parse("uv-workspace", "pylock.toml")
    folder = fixture_path(*HERE, "uv-workspace")
    assert versions(manifest) == pins(folder / "requirements-all.txt")
    old = package(manifest, "importlib-metadata", "6.11.0")
    new = package(manifest, "importlib-metadata", "10.2.0")
    assert (old.specifier, new.specifier) == ("<7", ">=8")
    assert new.marker == "python_full_version >= '3.12'"
    alpha, gamma = package(manifest, "alpha"), package(manifest, "gamma")
    assert (alpha.version, alpha.resolved) == (None, "packages/alpha")
    assert (gamma.version, gamma.resolved) == (None, "vendored/gamma")
    # beta is a virtual workspace member: pyproject.toml names it, the export leaves it out
    assert {s.name for s in manifest.skipped} == {"beta", "*"}


def test_recorded_dependencies_are_the_edges() -> None:
    manifest = parse("pylock-edges", "pylock.edges.toml")
    root = manifest.roots[0]
    assert root.name == "edges-demo"
    alpha, beta = package(manifest, "alpha"), package(manifest, "beta")
    gamma2 = package(manifest, "gamma", "2.0")
    edges = {(e.parent, e.child) for e in manifest.edges}
    assert edges == {
        (root.id, alpha.id),
        (root.id, gamma2.id),
        (alpha.id, beta.id),
        (beta.id, alpha.id),
    }
    assert {d.name for d in manifest.packages.values() if d.direct} == {"alpha", "gamma"}
    assert (
        beta.resolved
        == "git+https://github.com/example/beta.git@0123456789abcdef0123456789abcdef01234567"
    )
    assert alpha.hashes == ("sha256:aa11",) and alpha.line == 15
    assert package(manifest, "gamma", "1.0").marker == "python_version < '3.12'"
    assert [(s.name, s.line) for s in manifest.skipped] == [("ghost", 15)]


@pytest.mark.parametrize(
    ("fixture", "message", "line"),
    [
        ("pylock-invalid-toml.toml", "invalid TOML", 4),
        ("pylock-unknown-version.toml", "unsupported pylock.toml lock-version '2.0'", 1),
        ("pylock-missing-version.toml", "missing `lock-version`", 1),
        ("pylock-package-not-table.toml", "packages #1 must be a table", None),
        ("pylock-version-not-string.toml", "packages #1: `version` must be a string", 4),
        ("pylock-deps-not-list.toml", "`dependencies` must be a list", 4),
        ("pylock-hash-not-string.toml", "`hashes.sha256` must be a string", 4),
        ("pylock-extras-not-list.toml", "`extras` must be a list", 3),
    ],
)
def test_malformed(fixture: str, message: str, line: int | None) -> None:
    with pytest.raises(ParseError) as caught:
        parse("malformed", fixture)
    assert message in caught.value.reason
    assert caught.value.line == line
