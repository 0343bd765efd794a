"""The local OSV advisory store: sqlite schema, import, batched queries and status.

Records are kept raw (zlib-compressed JSON) next to the few columns needed to
find them; what a record *means* is `osv_record.py`'s job, not this module's.

Every write builds a new database file next to the target (a copy of the
current one, taken with sqlite's backup API) and swaps it in with `os.replace`,
under an exclusive `fcntl.flock` on `<db>.lock`. A reader therefore only ever
sees a complete old file or a complete new one, never a half-written import
or a hot journal it could not roll back through its read-only connection.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import stat
import struct
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.request import pathname2url

from depguard.advisories._db_input import MAX_PROBLEMS, Row, iter_records, to_row
from depguard.errors import DatabaseError, ParseError
from depguard.models import Ecosystem, canonical_name

if TYPE_CHECKING:  # sqlite_utils is only needed to build; scans read with sqlite3
    import sqlite_utils

__all__ = [
    "SCHEMA_VERSION",
    "STALE_AFTER",
    "AdvisoryDB",
    "DbStatus",
    "ImportResult",
    "SourceInfo",
    "SourceUpdate",
    "build",
    "default_db_path",
    "import_paths",
    "normalize_name",
    "write_lock",
]

SCHEMA_VERSION = 1
STALE_AFTER = timedelta(days=7)
BATCH = 2000
REBUILD_HINT = "run `depguard db sync` (or `depguard db import --replace PATH`) to rebuild it"


def default_db_path() -> Path:
    """`$DEPGUARD_DB`, else `$XDG_CACHE_HOME/depguard/osv.db`, else `~/.cache/depguard/osv.db`."""
    if env := os.environ.get("DEPGUARD_DB"):
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "depguard" / "osv.db"


def normalize_name(ecosystem: str, name: str) -> str:
    """The stored lookup key: PEP 503 for PyPI, lower-case for npm and every other ecosystem."""
    if ecosystem in (Ecosystem.PYPI.value, Ecosystem.NPM.value):
        return canonical_name(Ecosystem(ecosystem), name)
    return name.strip().lower()


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    """What one import did; malformed records are counted, not fatal."""

    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    malformed: int = 0
    problems: tuple[str, ...] = ()
    """The first problems found (`entry: reason`), at most MAX_PROBLEMS of them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceInfo:
    """One row of the `sources` table: where records came from and when."""

    url: str
    ecosystem: str
    etag: str | None
    last_modified: str | None
    imported_at: datetime | None
    checked_at: datetime | None
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceUpdate:
    """A `sources` row to record in the same transaction as an import."""

    url: str
    ecosystem: str = ""
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DbStatus:
    path: Path
    schema_version: int
    advisories: int
    malicious: int
    withdrawn: int
    per_ecosystem: dict[str, int]
    newest_modified: str | None
    sources: tuple[SourceInfo, ...]
    updated_at: datetime | None
    """The newest import or successful freshness check over all sources."""
    age: timedelta | None
    stale: bool


# ---------------------------------------------------------------- reading


class AdvisoryDB:
    """A read-only view of the advisory database (`mode=ro`: a scan never writes)."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn

    @classmethod
    def open(cls, path: Path | str) -> AdvisoryDB:
        path = Path(path)
        if not path.is_file():
            raise DatabaseError(f"{path}: no advisory database; {REBUILD_HINT}")
        _check_header(path)
        try:
            conn = sqlite3.connect(f"file:{pathname2url(str(path.resolve()))}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise _db_error(path, exc) from exc
        try:
            _check_schema(conn, path)
        except BaseException:
            conn.close()
            raise
        return cls(path, conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> AdvisoryDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def records_for(self, ecosystem: str, names: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Raw OSV records per requested name (every name is a key), in one query.

        Withdrawn records are included: skipping them is the matcher's job.
        """
        eco = str(ecosystem.value if isinstance(ecosystem, Ecosystem) else ecosystem)
        wanted: dict[str, list[str]] = {}
        for name in names:
            wanted.setdefault(normalize_name(eco, name), []).append(name)
        result: dict[str, list[dict[str, Any]]] = {n: [] for ns in wanted.values() for n in ns}
        sql = (
            "SELECT f.name, a.id, a.raw FROM affected f JOIN advisories a ON a.id = f.advisory_id"
            " WHERE f.ecosystem = ? AND f.name IN (SELECT value FROM json_each(?)) ORDER BY a.id"
        )
        decoded: dict[str, dict[str, Any]] = {}
        for key, adv_id, raw in self._rows(sql, (eco, json.dumps(list(wanted)))):
            record = decoded.get(adv_id)
            if record is None:
                record = decoded[adv_id] = self._decode(adv_id, raw)
            for name in wanted[key]:
                result[name].append(record)
        return result

    def _decode(self, adv_id: object, raw: object) -> dict[str, Any]:
        """A stored record; a damaged one means a damaged database (sqlite cannot tell)."""
        try:
            record: dict[str, Any] = json.loads(zlib.decompress(raw))  # type: ignore[arg-type]
        except (zlib.error, TypeError, ValueError, RecursionError) as exc:
            what = "not compressed data" if isinstance(exc, zlib.error) else "not a JSON record"
            raise DatabaseError(
                f"{self.path}: advisory {adv_id} is damaged ({what}); {REBUILD_HINT}"
            ) from exc
        return record

    def status(self, now: datetime | None = None) -> DbStatus:
        now = now or datetime.now(UTC)
        total, malicious, withdrawn, newest = self._rows(
            "SELECT count(*), coalesce(sum(malicious), 0), count(withdrawn), max(modified)"
            " FROM advisories",
        )[0]
        per_eco = dict(
            self._rows(
                "SELECT ecosystem, count(DISTINCT advisory_id) FROM affected"
                " GROUP BY ecosystem ORDER BY ecosystem"
            )
        )
        sources = self._sources()
        updated, age, stale = _freshness(sources, now)
        return DbStatus(
            path=self.path, schema_version=SCHEMA_VERSION, advisories=total, malicious=malicious,
            withdrawn=withdrawn, per_ecosystem=per_eco, newest_modified=newest, sources=sources,
            updated_at=updated, age=age, stale=stale,
        )

    def has_ecosystem(self, ecosystem: str) -> bool:
        """Whether any record names a package of `ecosystem` (one index probe)."""
        rows = self._rows("SELECT 1 FROM affected WHERE ecosystem = ? LIMIT 1", (ecosystem,))
        return bool(rows)

    def freshness(self, now: datetime | None = None) -> tuple[datetime | None, timedelta | None,
                                                              bool]:
        """`(updated_at, age, stale)` without counting records: cheap enough for every scan."""
        return _freshness(self._sources(), now or datetime.now(UTC))

    def sources(self) -> dict[str, SourceInfo]:
        """Sources keyed by URL (sync reads the stored ETag/Last-Modified here)."""
        return {s.url: s for s in self._sources()}

    def _sources(self) -> tuple[SourceInfo, ...]:
        return tuple(
            SourceInfo(url=u, ecosystem=e, etag=t, last_modified=lm, imported_at=_dt(i),
                       checked_at=_dt(c), count=n)
            for u, e, t, lm, i, c, n in self._rows(
                "SELECT url, ecosystem, etag, last_modified, imported_at, checked_at, count"
                " FROM sources ORDER BY ecosystem, url"
            )
        )

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _db_error(self.path, exc) from exc


def _freshness(
    sources: Sequence[SourceInfo], now: datetime
) -> tuple[datetime | None, timedelta | None, bool]:
    stamps = [s for src in sources for s in (src.imported_at, src.checked_at) if s]
    updated = max(stamps, default=None)
    age = now - updated if updated else None
    return updated, age, age is None or age > STALE_AFTER


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _db_error(path: Path, exc: sqlite3.Error) -> DatabaseError:
    return DatabaseError(f"{path}: unreadable advisory database ({exc}); {REBUILD_HINT}")


def _check_header(path: Path) -> None:
    """Cheap sanity checks before sqlite sees the file: magic bytes and truncation."""
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
        size = path.stat().st_size
    except OSError as exc:
        raise DatabaseError(f"{path}: cannot read advisory database ({exc.strerror})") from exc
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        raise DatabaseError(f"{path}: not an sqlite database; {REBUILD_HINT}")
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    pages, counter, valid_for = struct.unpack(">I", header[28:32])[0], header[24:28], header[92:96]
    if counter == valid_for and pages * page_size > size:
        raise DatabaseError(
            f"{path}: advisory database is truncated ({size} of {pages * page_size} bytes);"
            f" {REBUILD_HINT}"
        )


def _check_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Readers never migrate: an older or foreign schema is an error with the rebuild command."""
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.Error as exc:
        raise _db_error(path, exc) from exc
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"{path}: advisory database schema v{version} is newer than this depguard"
            f" understands (v{SCHEMA_VERSION}); upgrade depguard or {REBUILD_HINT}"
        )
    if version < SCHEMA_VERSION:
        raise DatabaseError(
            f"{path}: advisory database schema v{version} is out of date"
            f" (need v{SCHEMA_VERSION}); {REBUILD_HINT}"
        )
    missing = {"advisories", "affected", "aliases", "sources"} - tables
    if missing:
        raise DatabaseError(f"{path}: not a depguard advisory database; {REBUILD_HINT}")


# ---------------------------------------------------------------- writing


@contextmanager
def write_lock(db_path: Path, timeout: float = 600.0) -> Iterator[None]:
    """Serialize writers on `<db>.lock`; wait up to `timeout` seconds, then fail clearly."""
    lock_path = db_path.with_name(db_path.name + ".lock")
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise DatabaseError(f"{lock_path}: cannot create lock file ({exc.strerror})") from exc
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DatabaseError(
                        f"{db_path}: another depguard db sync/import holds {lock_path};"
                        f" gave up after {timeout:g}s"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def import_paths(
    db_path: Path | str, paths: Iterable[Path | str], *, replace: bool = False,
    lock_timeout: float = 600.0,
) -> ImportResult:
    """Load OSV records from `all.zip` files, folders of `.json` files or single records.

    `replace=True` starts from an empty database instead of the current one.
    """
    db_path = Path(db_path)
    inputs = [Path(p) for p in paths]
    sources = [SourceUpdate(url=p.resolve().as_uri()) for p in inputs]
    with write_lock(db_path, lock_timeout):
        return build(db_path, inputs, sources, replace=replace)


def build(
    db_path: Path, inputs: Sequence[Path], sources: Sequence[SourceUpdate], *,
    replace: bool = False, now: datetime | None = None,
) -> ImportResult:
    """Copy the current DB (unless `replace`), import `inputs`, record `sources`, swap in.

    The caller holds `write_lock`. `sources[i]` describes `inputs[i]`.
    """
    for path in inputs:
        if not path.exists():
            raise ParseError(path, "no such file or directory")
    for stale in db_path.parent.glob(f".{db_path.name}.build-*.tmp"):
        stale.unlink(missing_ok=True)  # left by a killed writer; we hold the lock
    fd, tmp_name = tempfile.mkstemp(prefix=f".{db_path.name}.build-", suffix=".tmp",
                                    dir=db_path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, stat.S_IMODE(db_path.stat().st_mode) if db_path.exists() else 0o644)
        if db_path.exists() and not replace:
            _copy_db(db_path, tmp)
        import sqlite_utils

        db = sqlite_utils.Database(tmp, execute_plugins=False)
        try:
            db.execute("PRAGMA journal_mode=MEMORY")
            db.execute("PRAGMA synchronous=OFF")
            _create_schema(db)
            result = _import_all(db, inputs, sources, now or datetime.now(UTC))
        finally:
            db.close()
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, db_path)
    finally:
        with suppress(FileNotFoundError):
            tmp.unlink()
    return result


def touch_sources(db_path: Path, urls: Iterable[str], now: datetime | None = None) -> None:
    """Record a successful freshness check (HTTP 304) in place: one small sqlite transaction."""
    stamp = (now or datetime.now(UTC)).isoformat()
    try:
        conn = sqlite3.connect(db_path)
        with conn:
            conn.executemany("UPDATE sources SET checked_at = ? WHERE url = ?",
                             [(stamp, u) for u in urls])
        conn.close()
    except sqlite3.Error as exc:
        raise _db_error(db_path, exc) from exc


def _copy_db(src: Path, dst: Path) -> None:
    AdvisoryDB.open(src).close()  # header and schema checks, with the rebuild hint
    try:
        source = sqlite3.connect(f"file:{pathname2url(str(src.resolve()))}?mode=ro", uri=True)
        target = sqlite3.connect(dst)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    except sqlite3.Error as exc:
        raise _db_error(src, exc) from exc


def _create_schema(db: sqlite_utils.Database) -> None:
    if db.table("advisories").exists():
        return
    db.table("advisories").create(
        {"id": str, "modified": str, "published": str, "withdrawn": str, "summary": str,
         "malicious": int, "aliases": str, "raw": bytes},
        pk="id", not_null=["modified", "malicious", "raw"],
    )
    db.table("affected").create({"advisory_id": str, "ecosystem": str, "name": str},
                          pk=("advisory_id", "ecosystem", "name"))
    db.table("affected").create_index(["ecosystem", "name"])
    db.table("aliases").create({"alias": str, "advisory_id": str}, pk=("alias", "advisory_id"))
    db.table("aliases").create_index(["advisory_id"])
    db.table("sources").create(
        {"url": str, "ecosystem": str, "etag": str, "last_modified": str, "imported_at": str,
         "checked_at": str, "count": int},
        pk="url",
    )
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@dataclass(slots=True)
class _Tally:
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    malformed: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, message: str) -> None:
        self.malformed += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)


def _import_all(
    db: sqlite_utils.Database, inputs: Sequence[Path], sources: Sequence[SourceUpdate],
    now: datetime,
) -> ImportResult:
    tally = _Tally()
    with db.atomic():
        for path, source in zip(inputs, sources, strict=True):
            before = tally.read
            batch: dict[str, Row] = {}
            for where, record in iter_records(path, tally.problem):
                try:
                    row = to_row(record, normalize_name)
                except ValueError as exc:
                    tally.problem(f"{where}: {exc}")
                    continue
                tally.read += 1
                old = batch.get(row.id)
                if old is not None and old.modified >= row.modified:
                    tally.unchanged += 1
                    continue
                tally.unchanged += old is not None
                batch[row.id] = row
                if len(batch) >= BATCH:
                    _write_batch(db, batch, tally)
                    batch = {}
            _write_batch(db, batch, tally)
            _record_source(db, source, tally.read - before, now)
    return ImportResult(read=tally.read, added=tally.added, updated=tally.updated,
                        unchanged=tally.unchanged, malformed=tally.malformed,
                        problems=tuple(tally.problems))


def _write_batch(db: sqlite_utils.Database, batch: dict[str, Row], tally: _Tally) -> None:
    """Upsert a batch keeping the newest `modified` per id: a few statements per batch."""
    if not batch:
        return
    ids = json.dumps(list(batch))
    existing = dict(db.conn.execute(
        "SELECT id, modified FROM advisories WHERE id IN (SELECT value FROM json_each(?))", [ids]
    ).fetchall())
    rows = [r for r in batch.values() if r.id not in existing or r.modified > existing[r.id]]
    tally.unchanged += len(batch) - len(rows)
    stale = json.dumps([r.id for r in rows if r.id in existing])
    tally.updated += sum(r.id in existing for r in rows)
    tally.added += sum(r.id not in existing for r in rows)
    conn = db.conn
    for table in ("affected", "aliases"):
        conn.execute(f"DELETE FROM {table} WHERE advisory_id IN (SELECT value FROM json_each(?))",
                     [stale])
    conn.executemany("INSERT OR REPLACE INTO advisories VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     [r.advisory_values() for r in rows])
    conn.executemany("INSERT OR IGNORE INTO affected VALUES (?, ?, ?)",
                     [(r.id, eco, name) for r in rows for eco, name in r.packages])
    conn.executemany("INSERT OR IGNORE INTO aliases VALUES (?, ?)",
                     [(alias, r.id) for r in rows for alias in r.aliases])


def _record_source(db: sqlite_utils.Database, source: SourceUpdate, count: int,
                   now: datetime) -> None:
    stamp = now.isoformat()
    db.table("sources").insert(
        {"url": source.url, "ecosystem": source.ecosystem, "etag": source.etag,
         "last_modified": source.last_modified, "imported_at": stamp, "checked_at": stamp,
         "count": count},
        pk="url", replace=True,
    )
