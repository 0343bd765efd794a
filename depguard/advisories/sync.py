"""`depguard db sync`: download the OSV per-ecosystem `all.zip` exports and swap in a new DB.

Each export is streamed to `<db>.<ecosystem>.zip.part` (resumed with `Range`
when a partial file from an earlier attempt exists), checked against
`Content-Length` and the `x-goog-hash` MD5, then imported into a copy of the
current database that replaces it atomically. Conditional requests make an
unchanged export cost one HTTP 304. Any failure leaves the old database as it
was and surfaces as one `NetworkError` or `DatabaseError` line.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import requests
import urllib3

from depguard import __version__
from depguard.advisories.db import (
    AdvisoryDB,
    ImportResult,
    SourceInfo,
    SourceUpdate,
    build,
    touch_sources,
    write_lock,
)
from depguard.errors import DatabaseError, NetworkError, ParseError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_ECOSYSTEMS",
    "EcosystemSync",
    "Progress",
    "SyncResult",
    "default_base_url",
    "export_url",
    "stderr_progress",
    "sync",
]

DEFAULT_BASE_URL = "https://osv-vulnerabilities.storage.googleapis.com"
DEFAULT_ECOSYSTEMS = ("PyPI", "npm")
CHUNK = 256 * 1024
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})

Progress = Callable[[str, int, int | None], None]
"""`progress(label, bytes_done, bytes_total_or_None)`, called as a download advances."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EcosystemSync:
    ecosystem: str
    url: str
    changed: bool
    """False when the server answered 304 Not Modified."""
    downloaded: int
    """Bytes received in this sync (0 on a 304)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncResult:
    db_path: Path
    ecosystems: tuple[EcosystemSync, ...]
    imported: ImportResult | None
    """None when every export was unchanged."""
    rebuilt: bool
    """True when the existing file was unusable (corrupt or old schema) and was rebuilt."""


@dataclass(frozen=True, slots=True)
class _Fetched:
    path: Path
    etag: str | None
    last_modified: str | None
    received: int


class _Retry(Exception):
    """A transient failure: worth another attempt."""


def default_base_url() -> str:
    return os.environ.get("DEPGUARD_OSV_DOWNLOAD_URL") or DEFAULT_BASE_URL


def export_url(base_url: str, ecosystem: str) -> str:
    return f"{base_url.rstrip('/')}/{quote(ecosystem, safe=':')}/all.zip"


def sync(
    db_path: Path | str,
    ecosystems: Iterable[str] = DEFAULT_ECOSYSTEMS,
    *,
    base_url: str | None = None,
    session: requests.Session | None = None,
    timeout: float = 30.0,
    retries: int = 3,
    backoff: float = 1.0,
    progress: Progress | None = None,
    lock_timeout: float = 600.0,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncResult:
    """Bring the database at `db_path` up to date with the OSV exports of `ecosystems`."""
    db_path = Path(db_path)
    base = base_url or default_base_url()
    http = session or _session()
    get = _Getter(http, timeout, retries, backoff, progress, sleep)
    with write_lock(db_path, lock_timeout), (nullcontext() if session else http):
        known, rebuilt = _known_sources(db_path)
        fetched: dict[str, _Fetched | None] = {}
        try:
            for eco in ecosystems:
                url = export_url(base, eco)
                fetched[eco] = get.download(url, _part_path(db_path, eco), known.get(url), eco)
            imported = _apply(db_path, base, fetched, rebuilt)
        finally:
            for item in fetched.values():
                if item is not None:
                    _discard(item.path)
    results = tuple(
        EcosystemSync(ecosystem=eco, url=export_url(base, eco), changed=item is not None,
                      downloaded=item.received if item else 0)
        for eco, item in fetched.items()
    )
    return SyncResult(db_path=db_path, ecosystems=results, imported=imported, rebuilt=rebuilt)


def _apply(db_path: Path, base: str, fetched: dict[str, _Fetched | None],
           rebuilt: bool) -> ImportResult | None:
    changed = {eco: item for eco, item in fetched.items() if item is not None}
    unchanged = [export_url(base, eco) for eco, item in fetched.items() if item is None]
    imported = None
    if changed:
        sources = [SourceUpdate(url=export_url(base, eco), ecosystem=eco, etag=item.etag,
                                last_modified=item.last_modified) for eco, item in changed.items()]
        try:
            imported = build(db_path, [i.path for i in changed.values()], sources, replace=rebuilt)
        except ParseError as exc:
            url = next((s.url for s, i in zip(sources, changed.values(), strict=True)
                        if str(i.path) == exc.path), exc.path)
            raise NetworkError(f"{url}: downloaded export refused: {exc.reason}") from exc
    if unchanged and db_path.exists():
        touch_sources(db_path, unchanged, datetime.now(UTC))
    return imported


def _known_sources(db_path: Path) -> tuple[dict[str, SourceInfo], bool]:
    """Stored validators for conditional requests; an unusable DB means a full rebuild."""
    if not db_path.exists():
        return {}, False
    try:
        with AdvisoryDB.open(db_path) as db:
            return db.sources(), False
    except DatabaseError:
        return {}, True


def _session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = f"depguard/{__version__}"
    return session


def _part_path(db_path: Path, ecosystem: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", ecosystem)
    return db_path.with_name(f"{db_path.name}.{slug}.zip.part")


def _meta_path(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _discard(part: Path) -> None:
    for path in (part, _meta_path(part)):
        with suppress(FileNotFoundError):
            path.unlink()


class _Getter:
    """Streams one export with retries, resume and integrity checks."""

    def __init__(self, session: requests.Session, timeout: float, retries: int, backoff: float,
                 progress: Progress | None, sleep: Callable[[float], None]) -> None:
        self.session, self.timeout, self.retries = session, timeout, retries
        self.backoff, self.progress, self.sleep = backoff, progress, sleep

    def download(self, url: str, part: Path, known: SourceInfo | None,
                 label: str) -> _Fetched | None:
        """The complete file, or None on 304 Not Modified."""
        for attempt in range(self.retries + 1):
            try:
                return self._attempt(url, part, known, label)
            except _Retry as exc:
                if attempt == self.retries:
                    tries = f" after {attempt + 1} attempts" if attempt else ""
                    raise NetworkError(f"{url}: {exc}{tries}") from exc
                self.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def _attempt(self, url: str, part: Path, known: SourceInfo | None,
                 label: str) -> _Fetched | None:
        headers = {"Accept-Encoding": "identity"}
        if known and known.etag:
            headers["If-None-Match"] = known.etag
        if known and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        meta = _read_meta(part, url)
        offset = part.stat().st_size if meta and part.exists() else 0
        if offset and (validator := meta.get("etag") or meta.get("last_modified")):
            headers["Range"] = f"bytes={offset}-"
            headers["If-Range"] = str(validator)
        try:
            resp = self.session.get(url, headers=headers, stream=True, timeout=self.timeout)
        except requests.Timeout as exc:
            raise _Retry(f"timed out after {self.timeout:g}s") from exc
        except requests.RequestException as exc:
            raise _Retry(f"cannot connect ({_reason(exc)})") from exc
        with resp:
            return self._receive(url, part, resp, "Range" in headers, offset, meta, label)

    def _receive(self, url: str, part: Path, resp: requests.Response, ranged: bool, offset: int,
                 meta: dict[str, Any], label: str) -> _Fetched | None:
        code = resp.status_code
        if code == 304:
            _discard(part)
            return None
        if code == 416 or code in RETRY_STATUS:
            if code == 416:
                _discard(part)
            raise _Retry(f"HTTP {code} {resp.reason}")
        if code not in (200, 206) or (code == 206 and not ranged):
            raise NetworkError(f"{url}: HTTP {code} {resp.reason}")
        if code == 206:
            total = _range_total(resp, offset)
            md5 = _md5_header(resp) or meta.get("md5")
        else:
            offset, md5 = 0, _md5_header(resp)
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        etag, modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
        _write_meta(part, {"url": url, "etag": etag, "last_modified": modified, "md5": md5})
        received = self._stream(resp, part, offset, total, label)
        size = part.stat().st_size
        if total is not None and size != total:
            raise _Retry(f"truncated download ({size} of {total} bytes)")
        if md5 is not None and _file_md5(part) != md5:
            _discard(part)
            raise _Retry("checksum mismatch (x-goog-hash md5)")
        return _Fetched(part, etag, modified, received)

    def _stream(self, resp: requests.Response, part: Path, offset: int, total: int | None,
                label: str) -> int:
        received = 0
        try:
            out = part.open("ab" if offset else "wb")
        except OSError as exc:
            raise DatabaseError(f"{part}: cannot write download ({exc.strerror})") from exc
        with out:
            while chunk := self._read(resp):
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise DatabaseError(f"{part}: cannot write download ({exc.strerror})") from exc
                received += len(chunk)
                if self.progress:
                    self.progress(label, offset + received, total)
        return received

    def _read(self, resp: requests.Response) -> bytes:
        """One chunk as it arrives (`read1`), so bytes before a dropped connection are kept."""
        try:
            chunk: bytes = resp.raw.read1(CHUNK, decode_content=False)
        except (urllib3.exceptions.TimeoutError, TimeoutError) as exc:
            raise _Retry(f"timed out after {self.timeout:g}s") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _Retry(f"download interrupted ({_reason(exc)})") from exc
        return chunk


def _reason(exc: BaseException) -> str:
    """The innermost cause, on one line."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return " ".join(str(exc).split()) or type(exc).__name__


def _range_total(resp: requests.Response, offset: int) -> int | None:
    match = re.fullmatch(r"bytes (\d+)-\d+/(\d+|\*)", resp.headers.get("Content-Range", ""))
    if not match or int(match.group(1)) != offset:
        raise _Retry("server answered a resumed download with an unexpected Content-Range")
    return None if match.group(2) == "*" else int(match.group(2))


def _md5_header(resp: requests.Response) -> str | None:
    """The base64 MD5 from GCS's `x-goog-hash: crc32c=...,md5=...` (possibly repeated)."""
    for item in resp.headers.get("x-goog-hash", "").split(","):
        key, _, value = item.strip().partition("=")
        if key.lower() == "md5" and value:
            return value
    return None


def _file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
    return base64.b64encode(digest.digest()).decode()


def _read_meta(part: Path, url: str) -> dict[str, Any]:
    """Metadata of a partial download; anything unusable means starting over."""
    try:
        meta = json.loads(_meta_path(part).read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) and meta.get("url") == url else {}


def _write_meta(part: Path, meta: dict[str, Any]) -> None:
    try:
        _meta_path(part).write_text(json.dumps(meta))
    except OSError as exc:
        raise DatabaseError(f"{part}: cannot write download state ({exc.strerror})") from exc


def stderr_progress(stream: IO[str] | None = None) -> Progress | None:
    """A one-line progress display on stderr, or None when stderr is not a terminal."""
    out = stream or sys.stderr
    if not out.isatty():
        return None
    last: dict[str, float] = {}

    def show(label: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if not finished and now - last.get(label, 0.0) < 0.1:
            return
        last[label] = now
        mb = f"{done / 1e6:.1f}" + (f"/{total / 1e6:.1f} MB" if total else " MB")
        pct = f" {100 * done // total:3d}%" if total else ""
        out.write(f"\rdownloading {label} all.zip: {mb}{pct}" + ("\n" if finished else ""))
        out.flush()

    return show

