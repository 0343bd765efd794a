"""Tests for the curated feed (rules/osv/) and depguard.advisories.curated."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from depguard.advisories import curated
from depguard.advisories.curated import curated_dir, load_curated
from depguard.advisories.match import MatchStatus, evaluate, merge_aliases
from depguard.models import Ecosystem
from tests.conftest import FIXTURES, ROOT

AFFECTED = MatchStatus.AFFECTED

RULES_OSV = ROOT / "rules" / "osv"
EXPECTED_IDS = {
    "MAL-2026-2144", "MAL-2026-2307", "MAL-2026-2306", "MAL-2025-20690", "GHSA-mh6f-8j2x-4483",
    "GHSA-pjwm-rvh2-c87w", "GHSA-5rqg-jm4f-cqx7", "GHSA-97m3-w2cp-4xx6", "GHSA-4g82-3jcr-q52w",
    "GHSA-5mg7-485q-xm76",
}


@pytest.fixture
def fresh_cache() -> Iterator[None]:
    curated._load_all.cache_clear()
    yield
    curated._load_all.cache_clear()


def test_feed_holds_the_headline_records() -> None:
    assert {a.id for a in load_curated()} == EXPECTED_IDS


def test_curated_files_are_byte_copies_of_the_real_records() -> None:
    for path in RULES_OSV.glob("*.json"):
        real = FIXTURES / "osv" / "records" / path.name
        assert path.read_bytes() == real.read_bytes(), path.name


def test_readme_names_the_source_of_every_file() -> None:
    readme = (RULES_OSV / "README.md").read_text(encoding="utf-8")
    for path in RULES_OSV.glob("*.json"):
        rows = [line for line in readme.splitlines() if line.startswith(f"| {path.name} |")]
        row = rows[0] if rows else ""
        assert " @" in row and "`" in row, f"no source row for {path.name}"


def test_no_synthetic_record_ships() -> None:
    assert all(not a.id.startswith("SYNTHETIC") for a in load_curated())


@pytest.mark.parametrize(("eco", "name", "version", "expected"), [
    (Ecosystem.PYPI, "litellm", "1.82.7", True),
    (Ecosystem.PYPI, "litellm", "1.82.8", True),
    (Ecosystem.PYPI, "litellm", "1.82.6", False),
    (Ecosystem.NPM, "axios", "1.14.1", True),
    (Ecosystem.NPM, "axios", "0.30.4", True),
    (Ecosystem.NPM, "axios", "1.14.0", False),
    (Ecosystem.NPM, "axios", "0.30.3", False),
    (Ecosystem.NPM, "plain-crypto-js", "4.2.1", True),
    (Ecosystem.NPM, "event-stream", "3.3.6", True),
    (Ecosystem.NPM, "ua-parser-js", "0.7.29", True),
    (Ecosystem.NPM, "ua-parser-js", "0.7.30", False),
    (Ecosystem.NPM, "node-ipc", "10.1.2", True),
    (Ecosystem.PYPI, "ctx", "0.1.2", True),
])
def test_fresh_install_flags_the_incidents_as_malicious(
    eco: Ecosystem, name: str, version: str, expected: bool
) -> None:
    hits = [a for a in load_curated() if evaluate(a, eco, name, version).status is AFFECTED]
    assert bool(hits) is expected
    groups = merge_aliases(hits)
    assert all(g.malicious and g.severity == "malicious" for g in groups)


def test_litellm_records_are_reported_once() -> None:
    hits = [a for a in load_curated() if evaluate(a, Ecosystem.PYPI, "litellm", "1.82.8").affected]
    [group] = merge_aliases(hits)
    assert group.primary_id == "MAL-2026-2144"
    assert group.ids == ("MAL-2026-2144", "GHSA-5mg7-485q-xm76")


def test_parsed_once_per_process(fresh_cache: None) -> None:
    first, second = load_curated(), load_curated()
    assert first == second and first is not second  # callers get their own list
    assert all(a is b for a, b in zip(first, second, strict=True))
    assert curated._load_all.cache_info().misses == 1


def test_source_checkout_fallback_finds_rules() -> None:
    # The data package depguard.rules exists only once installed (setup.cfg package_dir).
    folder = curated_dir()
    assert folder.is_dir() and Path(str(folder)).resolve() == RULES_OSV.resolve()


def test_malformed_curated_file_is_logged_and_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    fresh_cache: None,
) -> None:
    (tmp_path / "good.json").write_bytes((RULES_OSV / "MAL-2026-2306.json").read_bytes())
    (tmp_path / "bad.json").write_text('{"id": 5}', encoding="utf-8")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not a record", encoding="utf-8")
    monkeypatch.setattr(curated, "curated_dir", lambda: tmp_path)
    with caplog.at_level(logging.WARNING, logger="depguard.advisories.curated"):
        assert [a.id for a in load_curated()] == ["MAL-2026-2306"]
    assert "rules/osv/bad.json: id: expected a string, got int" in caplog.text
    assert "rules/osv/broken.json: cannot read" in caplog.text
