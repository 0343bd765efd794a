"""The sqlite advisory store: import (zip, folder, file), upserts, queries, status, errors."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from depguard.advisories import _db_input
from depguard.advisories.db import (
    SCHEMA_VERSION,
    AdvisoryDB,
    default_db_path,
    import_paths,
    write_lock,
)
from depguard.errors import DatabaseError, ParseError
from tests.conftest import fixture_path

EXPORT = "osv", "export"


def records() -> dict[str, dict[str, Any]]:
    folder = fixture_path(*EXPORT)
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def write_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def export_zip(path: Path) -> Path:
    """An `all.zip` in OSV's layout (`<ID>.json` at the top) of every fixture record."""
    return write_zip(path, {f"{k}.json": json.dumps(v).encode() for k, v in records().items()})


def record(rid: str, modified: str, name: str = "demo", eco: str = "PyPI") -> dict[str, Any]:
    return {"id": rid, "modified": modified, "aliases": [f"CVE-{rid}"],
            "affected": [{"package": {"ecosystem": eco, "name": name}, "versions": ["1.0"]}]}


def ids(found: dict[str, list[dict[str, Any]]], name: str) -> list[str]:
    return [r["id"] for r in found[name]]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "cache" / "osv.db"
    import_paths(path, [fixture_path(*EXPORT)])
    return path


@pytest.fixture
def db(db_path: Path) -> Iterator[AdvisoryDB]:
    with AdvisoryDB.open(db_path) as opened:
        yield opened


def test_import_folder_counts_every_record(tmp_path: Path) -> None:
    result = import_paths(tmp_path / "osv.db", [fixture_path(*EXPORT)])
    assert (result.read, result.added, result.malformed) == (21, 21, 0)


def test_import_zip_matches_folder_import(tmp_path: Path, db: AdvisoryDB) -> None:
    zipped = tmp_path / "zipped.db"
    result = import_paths(zipped, [export_zip(tmp_path / "all.zip")])
    assert result.added == 21
    with AdvisoryDB.open(zipped) as other:
        assert other.status().per_ecosystem == db.status().per_ecosystem


def test_import_single_json_record(tmp_path: Path) -> None:
    path = tmp_path / "osv.db"
    result = import_paths(path, [fixture_path(*EXPORT, "MAL-2026-2144.json")])
    assert result.added == 1
    with AdvisoryDB.open(path) as db:
        assert ids(db.records_for("PyPI", ["litellm"]), "litellm") == ["MAL-2026-2144"]


def test_records_for_returns_raw_records_by_requested_name(db: AdvisoryDB) -> None:
    found = db.records_for("npm", ["axios", "plain-crypto-js", "left-pad"])
    assert ids(found, "axios") == ["GHSA-8hc4-vh64-cxmj", "GHSA-wf5p-g6vw-rhxx", "MAL-2026-2307"]
    assert found["plain-crypto-js"][0] == records()["MAL-2026-2306"]
    assert found["left-pad"] == []


@pytest.mark.parametrize(
    ("ecosystem", "asked", "expected"),
    [
        ("PyPI", "PyYAML", ["GHSA-8q59-q68h-6hv4"]),
        ("PyPI", "py_yaml", []),
        ("PyPI", "pyyaml", ["GHSA-8q59-q68h-6hv4"]),
        ("PyPI", "Django", ["GHSA-pv4p-cwwg-4rph"]),
        ("npm", "AXIOS", ["GHSA-8hc4-vh64-cxmj", "GHSA-wf5p-g6vw-rhxx", "MAL-2026-2307"]),
        ("npm", "litellm", []),
    ],
)
def test_names_are_normalized_per_ecosystem(
    db: AdvisoryDB, ecosystem: str, asked: str, expected: list[str]
) -> None:
    assert ids(db.records_for(ecosystem, [asked]), asked) == expected


def test_one_record_per_name_even_with_several_affected_entries(db: AdvisoryDB) -> None:
    assert ids(db.records_for("npm", ["ua-parser-js"]), "ua-parser-js") == ["GHSA-pjwm-rvh2-c87w"]


def test_records_for_runs_one_query_for_thousands_of_names(db: AdvisoryDB) -> None:
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    names = [f"pkg-{i}" for i in range(2500)] + ["lodash", "Lodash"]
    found = db.records_for("npm", names)
    assert len(statements) == 1
    assert len(found) == 2502
    assert ids(found, "Lodash") == ids(found, "lodash") == ["GHSA-35jh-r3h4-6jhm",
                                                            "GHSA-p6mc-m468-83gw"]


def test_newest_modified_wins(tmp_path: Path) -> None:
    path = tmp_path / "osv.db"
    first = tmp_path / "v2.json"
    first.write_text(json.dumps(record("X-1", "2024-02-01T00:00:00Z", name="newname")))
    older = tmp_path / "v1.json"
    older.write_text(json.dumps(record("X-1", "2024-01-01T00:00:00.5Z", name="oldname")))
    import_paths(path, [first])
    assert import_paths(path, [older]).unchanged == 1
    with AdvisoryDB.open(path) as db:
        assert ids(db.records_for("PyPI", ["newname", "oldname"]), "newname") == ["X-1"]
    assert import_paths(path, [older, first]).unchanged == 2


def test_update_replaces_affected_and_alias_rows(tmp_path: Path) -> None:
    path = tmp_path / "osv.db"
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(record("X-1", "2024-01-01T00:00:00Z", name="oldname")))
    new.write_text(json.dumps(record("X-1", "2024-01-01T00:00:00.000001Z", name="newname")))
    import_paths(path, [old])
    assert import_paths(path, [new]).updated == 1
    with AdvisoryDB.open(path) as db:
        found = db.records_for("PyPI", ["oldname", "newname"])
        assert (found["oldname"], ids(found, "newname")) == ([], ["X-1"])
        assert db.conn.execute("SELECT count(*) FROM aliases").fetchone()[0] == 1


def test_duplicate_ids_in_one_import_keep_the_newest(tmp_path: Path) -> None:
    dupes = [record("X-1", f"2024-01-0{d}T00:00:00Z", name=f"name{d}") for d in (2, 3, 1)]
    src = tmp_path / "dupes.json"
    src.write_text(json.dumps(dupes))
    result = import_paths(tmp_path / "osv.db", [src])
    assert (result.read, result.added) == (3, 1)
    with AdvisoryDB.open(tmp_path / "osv.db") as db:
        assert ids(db.records_for("PyPI", ["name3"]), "name3") == ["X-1"]


GOOD = record("OK-1", "2024-01-01T00:00:00Z")

MALFORMED = [
    (b"{not json", "not valid JSON"),
    (b"[1]", "must be a JSON object"),
    (json.dumps({"modified": "2024-01-01T00:00:00Z"}).encode(), "missing or non-string 'id'"),
    (json.dumps({"id": 7, "modified": "2024-01-01T00:00:00Z"}).encode(), "non-string 'id'"),
    (json.dumps({"id": "B-1"}).encode(), "missing 'modified'"),
    (json.dumps({"id": "B-1", "modified": 20240101}).encode(), "must be a string timestamp"),
    (json.dumps({"id": "B-1", "modified": "yesterday"}).encode(), "not an RFC 3339"),
    (json.dumps({**GOOD, "id": "B-1", "aliases": "CVE-1"}).encode(), "list of strings"),
    (json.dumps({**GOOD, "id": "B-1", "summary": ["x"]}).encode(), "'summary' must be a string"),
    (json.dumps({**GOOD, "id": "B-1", "affected": {}}).encode(), "'affected' must be a list"),
    (json.dumps({**GOOD, "id": "B-1", "affected": ["x"]}).encode(), "affected[0] must be an"),
    (json.dumps({**GOOD, "id": "B-1", "affected": [{"package": {"name": 1, "ecosystem": "npm"}}]})
     .encode(), "needs string 'ecosystem' and 'name'"),
    (json.dumps({**GOOD, "id": "B-1", "published": "soon"}).encode(), "'published' is not"),
]


@pytest.mark.parametrize(("data", "fragment"), MALFORMED)
def test_malformed_records_are_counted_not_fatal(
    tmp_path: Path, data: bytes, fragment: str
) -> None:
    archive = write_zip(tmp_path / "all.zip", {"OK-1.json": json.dumps(GOOD).encode(),
                                              "BAD.json": data})
    result = import_paths(tmp_path / "osv.db", [archive])
    assert (result.added, result.malformed) == (1, 1)
    assert fragment in result.problems[0]
    assert "BAD.json" in result.problems[0]


@pytest.mark.parametrize(
    "entry", ["../evil.json", "/etc/evil.json", "osv/../../evil.json", "C:/evil.json",
              "..\\evil.json"],
)
def test_zip_with_unsafe_entry_is_refused_and_db_kept(
    tmp_path: Path, db_path: Path, entry: str
) -> None:
    archive = write_zip(tmp_path / "evil.zip", {"OK-1.json": json.dumps(GOOD).encode(),
                                               entry: json.dumps(GOOD).encode()})
    with pytest.raises(ParseError, match=r"evil\.zip: unsafe entry name"):
        import_paths(db_path, [archive])
    with AdvisoryDB.open(db_path) as db:
        assert db.status().advisories == 21


def test_zip_bomb_entry_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_db_input, "MAX_ENTRY_BYTES", 1024)
    archive = write_zip(tmp_path / "bomb.zip", {"BOMB.json": b" " * 100_000 + b"{}"})
    assert archive.stat().st_size < 1024
    with pytest.raises(ParseError, match=r"'BOMB\.json' is too large"):
        import_paths(tmp_path / "osv.db", [archive])
    assert not (tmp_path / "osv.db").exists()


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("notes.txt", b"hello", "not an OSV all.zip"),
        ("all.zip", b"PK\x03\x04 truncated", "not a valid zip archive"),
    ],
)
def test_unusable_import_input(tmp_path: Path, name: str, content: bytes, fragment: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ParseError, match=fragment):
        import_paths(tmp_path / "osv.db", [tmp_path / name])


def test_missing_import_input(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=r"nope\.zip: no such file"):
        import_paths(tmp_path / "osv.db", [tmp_path / "nope.zip"])


def test_failed_import_leaves_old_db_and_no_temp_files(tmp_path: Path, db_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    bad = write_zip(tmp_path / "bad.zip", {"../x.json": b"{}"})
    before = db_path.read_bytes()
    with pytest.raises(ParseError):
        import_paths(db_path, [good, bad])
    assert db_path.read_bytes() == before
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["osv.db", "osv.db.lock"]


def test_queries_never_write(db_path: Path) -> None:
    before = (db_path.read_bytes(), db_path.stat().st_mtime_ns)
    with AdvisoryDB.open(db_path) as db:
        db.records_for("npm", ["axios"])
        db.status()
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.conn.execute("DELETE FROM advisories")
    assert (db_path.read_bytes(), db_path.stat().st_mtime_ns) == before


def test_status_counts_and_age(db: AdvisoryDB) -> None:
    now = datetime.now(UTC)
    status = db.status(now)
    assert (status.advisories, status.malicious, status.withdrawn) == (21, 4, 1)
    assert status.per_ecosystem == {"PyPI": 9, "npm": 12}
    assert status.newest_modified == "2026-04-07T14:41:20.000000Z"
    assert status.sources[0].count == 21
    assert status.sources[0].url.startswith("file://")
    assert not status.stale
    assert db.status(now + timedelta(days=8)).stale
    later = now + timedelta(days=8)
    assert status.updated_at is not None
    assert db.freshness(later) == (status.updated_at, later - status.updated_at, True)


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (lambda p: p.write_bytes(b"this is not a database at all" * 10), "not an sqlite database"),
        (lambda p: p.write_bytes(b""), "not an sqlite database"),
        (lambda p: os.truncate(p, p.stat().st_size // 2), "truncated"),
        (lambda p: _scribble(p), "unreadable advisory database"),
    ],
    ids=["garbage", "empty", "truncated", "scribbled"],
)
def test_damaged_db_is_one_clear_error(db_path: Path, damage: Any, fragment: str) -> None:
    damage(db_path)
    with pytest.raises(DatabaseError) as info, AdvisoryDB.open(db_path) as db:
        db.records_for("npm", ["axios", "lodash", "minimist"])
        db.status()
    message = str(info.value)
    assert message.startswith(f"{db_path}: ") and fragment in message
    assert "depguard db sync" in message and "\n" not in message


def _scribble(path: Path) -> None:
    """Overwrite every page after the first with garbage, keeping the size."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(4096)
        fh.write(b"\xde\xad\xbe\xef" * ((size - 4096) // 4))


def test_missing_db(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="no advisory database; run `depguard db sync`"):
        AdvisoryDB.open(tmp_path / "osv.db")


@pytest.mark.parametrize(
    ("version", "fragment"),
    [(0, "schema v0 is out of date"), (SCHEMA_VERSION + 1, "is newer than this depguard")],
)
def test_other_schema_versions_are_refused(db_path: Path, version: int, fragment: str) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {version}")
    with pytest.raises(DatabaseError, match=fragment):
        AdvisoryDB.open(db_path)


def test_import_onto_old_schema_needs_replace(tmp_path: Path, db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA user_version = 0")
    with pytest.raises(DatabaseError, match="run `depguard db sync`"):
        import_paths(db_path, [fixture_path(*EXPORT, "MAL-2026-2144.json")])
    result = import_paths(db_path, [fixture_path(*EXPORT, "MAL-2026-2144.json")], replace=True)
    assert result.added == 1
    with AdvisoryDB.open(db_path) as db:
        assert db.status().advisories == 1


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    with pytest.raises(DatabaseError, match="not a depguard advisory database"):
        AdvisoryDB.open(path)


def test_import_waits_for_the_lock_then_fails_clearly(db_path: Path) -> None:
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with write_lock(db_path):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        held.wait(5)
        with pytest.raises(DatabaseError, match="another depguard db sync/import holds"):
            import_paths(db_path, [fixture_path(*EXPORT)], lock_timeout=0.2)
    finally:
        release.set()
        thread.join()
    assert import_paths(db_path, [fixture_path(*EXPORT)], lock_timeout=5).unchanged == 21


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DEPGUARD_DB": "/x/my.db", "XDG_CACHE_HOME": "/c"}, "/x/my.db"),
        ({"XDG_CACHE_HOME": "/c"}, "/c/depguard/osv.db"),
        ({"HOME": "/home/u"}, "/home/u/.cache/depguard/osv.db"),
    ],
)
def test_default_db_path(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for key in ("DEPGUARD_DB", "XDG_CACHE_HOME"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert default_db_path() == Path(expected)


def test_leftover_build_file_of_a_killed_import_is_removed(tmp_path: Path, db_path: Path) -> None:
    leftover = db_path.with_name(f".{db_path.name}.build-dead.tmp")
    leftover.write_bytes(b"half an import")
    import_paths(db_path, [fixture_path(*EXPORT, "MAL-2026-2144.json")])
    assert not leftover.exists()


def test_path_with_spaces_and_question_mark(tmp_path: Path) -> None:
    path = tmp_path / "my cache?x=1" / "osv #1.db"
    import_paths(path, [fixture_path(*EXPORT, "MAL-2026-2144.json")])
    with AdvisoryDB.open(path) as db:
        assert db.status().advisories == 1
