"""Tests for depguard.versions and depguard.semver: PEP 440, node-semver, OSV SEMVER."""

from __future__ import annotations

import itertools

import pytest
from packaging.version import Version

from depguard.models import Ecosystem
from depguard.semver import SemVer, npm_range_satisfies, parse_semver
from depguard.versions import SEMVER, VersionError, parse_version, require_version

# semver.org section 11 example, ascending.
SEMVER_CHAIN = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
]


def test_pypi_versions_order_by_pep_440() -> None:
    texts = ["1.0.dev1", "1.0a1", "1.0rc1", "1.0", "1.0.post1", "1.0.1", "1.10"]
    parsed = [parse_version(Ecosystem.PYPI, t) for t in texts]
    assert all(isinstance(p, Version) for p in parsed)
    assert parsed == sorted(parsed)  # type: ignore[type-var]
    assert parse_version("PyPI", "2.0") == parse_version("PyPI", "2.0.0")


@pytest.mark.parametrize("text", ["2004d", "1.0-foo-bar", "", "latest", "1.2.3.final2"])
def test_pypi_legacy_version_cannot_be_ordered(text: str) -> None:
    assert parse_version(Ecosystem.PYPI, text) is None
    with pytest.raises(VersionError, match="PEP 440"):
        require_version(Ecosystem.PYPI, text)


def test_npm_prerelease_precedence_follows_semver_2() -> None:
    parsed = [require_version(Ecosystem.NPM, t) for t in SEMVER_CHAIN]
    for lower, higher in itertools.pairwise(parsed):
        assert lower < higher
        assert not higher < lower


@pytest.mark.parametrize(("text", "normal"), [
    ("v1.2.3", "1.2.3"),
    ("=1.2.3", "1.2.3"),
    ("  1.2.3  ", "1.2.3"),
    ("01.2.3", "1.2.3"),
    ("1.2.3beta", "1.2.3-beta"),
    ("1.4.44-liberty-2", "1.4.44-liberty-2"),
    ("1.2.3-01", "1.2.3-1"),
])
def test_npm_loose_parsing_matches_node_semver(text: str, normal: str) -> None:
    parsed = parse_semver(text)
    assert parsed is not None
    assert str(parsed) == normal


def test_npm_build_metadata_is_ignored_for_ordering() -> None:
    assert parse_version("npm", "1.2.3+build.5") == parse_version("npm", "1.2.3")
    build = parse_semver("1.2.3+build.5")
    assert build is not None and build.build == ("build", "5")


@pytest.mark.parametrize("text", ["1.2", "abc", "1.2.3.4", "9007199254740992.0.0", "x" * 300])
def test_invalid_npm_version_cannot_be_ordered(text: str) -> None:
    assert parse_version(Ecosystem.NPM, text) is None


def test_numeric_prerelease_ids_sort_below_alphanumeric() -> None:
    assert SemVer(1, 0, 0, (1,)) < SemVer(1, 0, 0, ("1a",)) < SemVer(1, 0, 0)
    assert SemVer(1, 0, 0, (2,)) < SemVer(1, 0, 0, (11,))


@pytest.mark.parametrize(("text", "valid"), [
    ("1.2.3", True),
    ("1.0.0-alpha.1+001", True),
    ("v1.2.3", True),  # osv.dev strips a leading v
    ("01.2.3", False),  # strict: no leading zeros
    ("1.2.3-01", False),
    ("=1.2.3", False),
    ("1.2", False),
    ("1.2.3beta", False),
])
def test_osv_semver_type_is_strict(text: str, valid: bool) -> None:
    assert (parse_version(SEMVER, text) is not None) is valid


def test_unsupported_ordering_raises() -> None:
    with pytest.raises(VersionError, match="no version ordering"):
        parse_version("Go", "1.2.3")


# Expected values are node-semver 7.8.5's `satisfies(version, range, true)` (npm 11's copy),
# None where semver.valid/validRange reject the input.
NODE_SEMVER_CASES = [
    ('^1.2.3', '1.2.4-beta', False),
    ('^1.2.3', '1.9.9', True),
    ('^1.2.3', '2.0.0', False),
    ('^1.2.3', '=1.2.3', True),
    ('^1.2.3', '1.2.3beta', False),
    ('^1.2.3', '1.2', None),
    ('^1.2.3', 'abc', None),
    ('^0.2.3', '0.2.9', True),
    ('^0.2.3', '0.3.0', False),
    ('^0.0.3', '0.0.3', True),
    ('^0.0.3', '0.0.4-0', False),
    ('^1.2.3-beta.2', '1.2.3-beta.11', True),
    ('^1.2.3-beta.2', '1.2.4-beta', False),
    ('^0.0.x', '0.0.3', True),
    ('^0.0.x', '0.1.0', False),
    ('^0.x', '0.3.0', True),
    ('^0.x', '1.0.0', False),
    ('~1.2.3', '1.2.9', True),
    ('~1.2.3', '1.3.0', False),
    ('~1', '1.9.9', True),
    ('~> 1.2', '1.2.9', True),
    ('*', '1.0.0-beta', False),
    ('*', '3.0.0', True),
    ('', '0.0.0', True),
    ('1.x', '1.9.9', True),
    ('1.x', '2.0.0-0', False),
    ('>1.2', '1.2.9', False),
    ('>1.2', '1.3.0', True),
    ('<1.2', '1.0.0', True),
    ('<=1.2', '1.2.9', True),
    ('>*', '1.0.0', False),
    ('1.2.3 - 2.3.4', '2.3.4', True),
    ('1.2.3 - 2.3.4', '2.3.5', False),
    ('1.2.3 - 2.3', '2.3.5', True),
    ('1.2.3 - 2', '2.4.0', True),
    ('1.2.3 - 2', '3.0.0', False),
    ('* - 2', '0.0.0', True),
    ('>= 1.2.3 < 2', '1.9.9', True),
    ('1.2.3 || 2.x', '2.3.4', True),
    ('<1.0.0 || >=2.3.5', '2.3.4', False),
    ('=1.2.3', '1.2.3+build.5', True),
    ('v1.2.3', 'v1.2.3', True),
    ('>=1.2.3-beta.2 <1.3.0', '1.2.3-beta.11', True),
    ('>=1.2.3-beta.2 <1.3.0', '1.2.4-beta', False),
    ('^1.4.1', '1.4.44-liberty-2', False),
    ('^1.4.1', '1.4.45', True),
    ('latest', '1.0.0', None),
    ('>=1.0.0-alpha', '1.0.0-beta', True),
    ('>=1.0.0-alpha', '2.0.0-rc.1', False),
    ('<=2.0.0-rc.1', '2.0.0-0', True),
    ('^2.0.0-0', '2.0.0-rc.1', True),
    ('~1.2.3beta', '1.2.3-beta.2', True),
    ('1.2.x || ^2', '2.4.0', True),
]


@pytest.mark.parametrize(("spec", "version", "expected"), NODE_SEMVER_CASES)
def test_npm_range_satisfies_matches_node_semver(
    spec: str, version: str, expected: bool | None
) -> None:
    assert npm_range_satisfies(spec, version) is expected


def test_range_with_an_invalid_comparator_is_not_evaluated() -> None:
    # node-semver's loose mode silently drops "foo"; depguard refuses to guess.
    assert npm_range_satisfies("^1.2.3 foo", "1.2.4") is None
    assert npm_range_satisfies("1.2.3 - ", "1.2.4") is None
