"""What the package registries say about a project: releases, publish times, status.

`RegistryClient.project(ecosystem, name)` answers with a `ProjectInfo`, with None
when the registry says the project does not exist (HTTP 404/410), and raises
`RegistryUnavailable` when it cannot tell (timeout, connection error, 429/5xx,
an unreadable or oversized answer): callers report the check as not run.

PyPI takes two requests, both needed: the JSON Simple API
(`GET /simple/<name>/`, `Accept: application/vnd.pypi.simple.v1+json`) carries
the PEP 792 `project-status` (`active`, `archived`, `quarantined`,
`deprecated`; api-version 1.4+), which the legacy JSON API does not expose; the
JSON API (`GET /pypi/<name>/json`) maps each release to its files with upload
times and per-file `yanked` flags. The simple page comes first: a 404 there
settles "does not exist" in one request, and a quarantined project (whose files
an index must not serve) is answered without the second request. An index that
does not speak the JSON Simple API (406, or an HTML page) just leaves the status
unknown ("active").

npm takes one request, the full packument (`GET /<name>`, scoped names as
`@scope%2Fname`): the abbreviated install document lacks `time`. Packuments of
long-lived packages run to tens of megabytes, so the body is streamed and
refused beyond `MAX_BODY` bytes.

Every answer, 404s included, is cached in SQLite (sqlite-utils) for `ttl`; only
the reduced `ProjectInfo` is stored, never the raw document. The cache is only
a cache: a corrupt or unwritable file is rebuilt or bypassed silently.
`requests` and `sqlite_utils` are imported only when first needed.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from depguard.errors import NetworkError
from depguard.models import Ecosystem, canonical_name

__all__ = [
    "DEFAULT_NPM_URL",
    "DEFAULT_PYPI_URL",
    "ENV_NPM_URL",
    "ENV_PYPI_URL",
    "MAX_BODY",
    "ProjectInfo",
    "RegistryClient",
    "RegistryUnavailable",
    "default_cache_path",
]

log = logging.getLogger(__name__)

DEFAULT_PYPI_URL = "https://pypi.org"
DEFAULT_NPM_URL = "https://registry.npmjs.org"
ENV_PYPI_URL = "DEPGUARD_PYPI_URL"
ENV_NPM_URL = "DEPGUARD_NPM_URL"
MAX_BODY = 64 * 1024 * 1024
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
PEP792_STATUSES = frozenset({"active", "archived", "quarantined", "deprecated"})
_TABLE = "projects_v1"
_NPM_INSTALL_HOOKS = ("preinstall", "install", "postinstall")


class RegistryUnavailable(NetworkError):
    """The registry could not say whether the project exists (the check is not run)."""

    def __init__(self, ecosystem: Ecosystem, reason: str) -> None:
        self.ecosystem = ecosystem
        self.reason = reason
        super().__init__(f"{ecosystem.value} unreachable ({reason})")


class HttpResponse(Protocol):
    """The part of `requests.Response` the client reads."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def iter_content(self, chunk_size: int) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class HttpSession(Protocol):
    """The part of `requests.Session` the client uses."""

    def get(
        self, url: str, *, headers: Mapping[str, str], timeout: float, stream: bool
    ) -> HttpResponse: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectInfo:
    """One project as its registry describes it."""

    ecosystem: Ecosystem
    name: str
    releases: Mapping[str, datetime | None] = field(default_factory=dict)
    """Version -> first publish time (None when the registry does not say)."""
    latest: str | None = None
    yanked: frozenset[str] = frozenset()
    """PyPI releases whose files are all yanked."""
    status: str = "active"
    """PEP 792 project status on PyPI; "active" or "unpublished" on npm."""
    status_reason: str | None = None
    deprecated: Mapping[str, str] = field(default_factory=dict)
    """npm version -> deprecation message."""
    install_scripts: frozenset[str] = frozenset()
    """npm versions that run preinstall/install/postinstall scripts."""

    def published(self, version: str) -> datetime | None:
        return self.releases.get(version)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "releases": {v: t.isoformat() if t else None for v, t in self.releases.items()},
            "latest": self.latest,
            "yanked": sorted(self.yanked),
            "status": self.status,
            "status_reason": self.status_reason,
            "deprecated": dict(self.deprecated),
            "install_scripts": sorted(self.install_scripts),
        }

    @classmethod
    def from_json(cls, ecosystem: Ecosystem, data: Mapping[str, Any]) -> ProjectInfo:
        return cls(
            ecosystem=ecosystem,
            name=str(data["name"]),
            releases={str(v): _parse_time(t) for v, t in data["releases"].items()},
            latest=data["latest"],
            yanked=frozenset(data["yanked"]),
            status=str(data["status"]),
            status_reason=data["status_reason"],
            deprecated={str(k): str(v) for k, v in data["deprecated"].items()},
            install_scripts=frozenset(data["install_scripts"]),
        )


def default_cache_path() -> Path:
    """Next to the advisory database: `$DEPGUARD_DB`'s folder, else the user cache dir."""
    if env := os.environ.get("DEPGUARD_DB"):
        return Path(env).expanduser().parent / "registry.db"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "depguard" / "registry.db"


class RegistryClient:
    """Cached PyPI/npm project lookups over an injectable HTTP session."""

    def __init__(
        self,
        pypi_url: str | None = None,
        npm_url: str | None = None,
        cache_path: Path | str | None = None,
        ttl: timedelta = timedelta(hours=24),
        timeout: float = 3.0,
        session: HttpSession | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pypi_url = (pypi_url or os.environ.get(ENV_PYPI_URL) or DEFAULT_PYPI_URL).rstrip("/")
        self.npm_url = (npm_url or os.environ.get(ENV_NPM_URL) or DEFAULT_NPM_URL).rstrip("/")
        self.cache = _Cache(Path(cache_path) if cache_path else default_cache_path())
        self.ttl = ttl
        self.timeout = timeout
        self._session = session
        self._owns_session = session is None
        self._clock = clock
        self._memo: dict[tuple[Ecosystem, str], ProjectInfo | None] = {}
        self._down: dict[Ecosystem, str] = {}
        """A registry that timed out or refused the connection is not asked again this run."""

    def close(self) -> None:
        """Close the HTTP session this client opened (not an injected one) and the cache."""
        if self._owns_session and self._session is not None:
            close = getattr(self._session, "close", None)
            if callable(close):
                close()
            self._session = None
        self.cache.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def project(self, ecosystem: Ecosystem, name: str) -> ProjectInfo | None:
        """The project, or None when the registry says it does not exist."""
        key = (ecosystem, canonical_name(ecosystem, name))
        if key in self._memo:
            return self._memo[key]
        now = self._clock()
        hit = self.cache.get(ecosystem, key[1], now - self.ttl.total_seconds())
        if hit is not None:
            info = ProjectInfo.from_json(ecosystem, hit) if hit else None
        else:
            if ecosystem in self._down:
                raise RegistryUnavailable(ecosystem, self._down[ecosystem])
            info = self._fetch(ecosystem, key[1])
            self.cache.put(ecosystem, key[1], now, info.to_json() if info else None)
        self._memo[key] = info
        return info

    def _fetch(self, ecosystem: Ecosystem, name: str) -> ProjectInfo | None:
        if ecosystem is Ecosystem.PYPI:
            return self._fetch_pypi(name)
        status, doc = self._get(ecosystem, f"{self.npm_url}/{quote(name, safe='@')}")
        return None if status == 404 else _npm_project(name, doc)

    def _fetch_pypi(self, name: str) -> ProjectInfo | None:
        path = quote(name, safe="")
        status, simple = self._get(
            Ecosystem.PYPI, f"{self.pypi_url}/simple/{path}/", SIMPLE_JSON, optional=True
        )
        if status == 404:
            return None
        marker = simple.get("project-status") if isinstance(simple, dict) else None
        state, reason = _pep792(marker)
        if state == "quarantined":
            return ProjectInfo(ecosystem=Ecosystem.PYPI, name=name, status=state,
                               status_reason=reason)
        status, doc = self._get(Ecosystem.PYPI, f"{self.pypi_url}/pypi/{path}/json")
        if status == 404:  # listed on the simple index but without any release
            return ProjectInfo(ecosystem=Ecosystem.PYPI, name=name, status=state,
                               status_reason=reason)
        return _pypi_project(name, doc, state, reason)

    def _session_or_default(self) -> HttpSession:
        if self._session is None:
            import requests

            session = requests.Session()
            session.headers["User-Agent"] = "depguard (+https://pypi.org/project/depguard/)"
            self._session = session
        return self._session

    def _get(
        self, ecosystem: Ecosystem, url: str, accept: str = "application/json",
        *, optional: bool = False,
    ) -> tuple[int, Any]:
        """(status, parsed JSON); status 404 covers 404 and 410. `optional`: non-JSON is {}."""
        import requests

        try:
            response = self._session_or_default().get(
                url, headers={"Accept": accept}, timeout=self.timeout, stream=True
            )
            try:
                code = response.status_code
                if code in (404, 410):
                    return 404, None
                if optional and (code == 406 or "json" not in _content_type(response)):
                    return code, {}
                if code != 200:
                    raise RegistryUnavailable(ecosystem, f"HTTP {code}")
                body = _read_limited(response, ecosystem)
            finally:
                response.close()
        except requests.RequestException as exc:
            reason = _failure(exc)
            if isinstance(exc, requests.Timeout | requests.ConnectionError):
                self._down[ecosystem] = reason  # one timeout per run, not one per package
            raise RegistryUnavailable(ecosystem, reason) from exc
        try:
            return 200, json.loads(body)
        except ValueError as exc:
            raise RegistryUnavailable(ecosystem, f"unreadable answer from {url}") from exc


def _failure(exc: Exception) -> str:
    """A short reason; requests reports a read timeout mid-body as a ConnectionError."""
    import requests

    if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
        return "timeout"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return type(exc).__name__


def _content_type(response: HttpResponse) -> str:
    return str(response.headers.get("Content-Type", "")).lower()


def _read_limited(response: HttpResponse, ecosystem: Ecosystem) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=256 * 1024):
        size += len(chunk)
        if size > MAX_BODY:
            raise RegistryUnavailable(ecosystem, f"answer larger than {MAX_BODY >> 20} MiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _pep792(marker: object) -> tuple[str, str | None]:
    if not isinstance(marker, dict):
        return "active", None
    status = marker.get("status")
    reason = marker.get("reason")
    state = status if isinstance(status, str) and status in PEP792_STATUSES else "active"
    return state, reason if isinstance(reason, str) else None


def _pypi_project(name: str, doc: Any, status: str, reason: str | None) -> ProjectInfo:
    if not isinstance(doc, dict) or not isinstance(doc.get("releases"), dict):
        raise RegistryUnavailable(Ecosystem.PYPI, f"unexpected JSON API answer for {name}")
    releases: dict[str, datetime | None] = {}
    yanked: set[str] = set()
    for version, files in doc["releases"].items():
        files = [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []
        times = [t for f in files if (t := _parse_time(_upload_time(f)))]
        releases[str(version)] = min(times) if times else None
        if files and all(f.get("yanked") is True for f in files):
            yanked.add(str(version))
    info = _dict(doc.get("info"))
    latest = info.get("version") if isinstance(info.get("version"), str) else None
    return ProjectInfo(
        ecosystem=Ecosystem.PYPI,
        name=str(info.get("name") or name),
        releases=releases,
        latest=latest,
        yanked=frozenset(yanked),
        status=status,
        status_reason=reason,
    )


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _upload_time(file: Mapping[str, Any]) -> object:
    return file.get("upload_time_iso_8601") or file.get("upload_time")


def _npm_project(name: str, doc: Any) -> ProjectInfo:
    if not isinstance(doc, dict):
        raise RegistryUnavailable(Ecosystem.NPM, f"unexpected packument for {name}")
    times, versions, tags = (_dict(doc.get(k)) for k in ("time", "versions", "dist-tags"))
    deprecated: dict[str, str] = {}
    scripts: set[str] = set()
    for version, manifest in versions.items():
        if not isinstance(manifest, dict):
            continue
        if isinstance(message := manifest.get("deprecated"), str) and message:
            deprecated[version] = message
        if _runs_install_script(manifest):
            scripts.add(version)
    latest = tags.get("latest")
    return ProjectInfo(
        ecosystem=Ecosystem.NPM,
        name=str(doc.get("name") or name),
        releases={str(v): _parse_time(times.get(v)) for v in versions},
        latest=latest if isinstance(latest, str) else None,
        status="unpublished" if not versions and "unpublished" in times else "active",
        deprecated=deprecated,
        install_scripts=frozenset(scripts),
    )


def _runs_install_script(manifest: Mapping[str, Any]) -> bool:
    if manifest.get("hasInstallScript") is True:
        return True
    scripts = manifest.get("scripts")
    return isinstance(scripts, dict) and any(scripts.get(h) for h in _NPM_INSTALL_HOOKS)


class _Cache:
    """(ecosystem, name) -> JSON of a ProjectInfo, or null for "does not exist"."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: Any = None
        self._broken = False

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def get(self, ecosystem: Ecosystem, name: str, fresh_after: float) -> dict[str, Any] | None:
        """The cached answer ({} for a cached 404), or None when absent or stale."""
        row = self._run(lambda db: _select(db, ecosystem, name))
        if row is None or row["fetched"] < fresh_after:
            return None
        try:
            data = json.loads(row["data"]) if row["data"] else {}
            return data if isinstance(data, dict) else None
        except ValueError:
            return None

    def put(self, ecosystem: Ecosystem, name: str, now: float, data: dict[str, Any] | None) -> None:
        record = {"ecosystem": ecosystem.value, "name": name, "fetched": now,
                  "data": json.dumps(data, separators=(",", ":")) if data else None}
        self._run(lambda db: db[_TABLE].upsert(record, pk=("ecosystem", "name")))

    def _run(self, action: Callable[[Any], Any]) -> Any:
        for attempt in (1, 2):
            db = self._open()
            if db is None:
                return None
            try:
                return action(db)
            except sqlite3.DatabaseError as exc:
                log.debug("registry cache %s unusable (%s): rebuilding", self.path, exc)
                self._reset(rebuild=attempt == 1)
        return None

    def _open(self) -> Any:
        if self._db is not None or self._broken:
            return self._db
        import sqlite_utils

        for attempt in (1, 2):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite_utils.Database(self.path)
                if not db[_TABLE].exists():
                    db.table(_TABLE).create(
                        {"ecosystem": str, "name": str, "fetched": float, "data": str},
                        pk=("ecosystem", "name"),
                    )
                self._db = db
                return db
            except (OSError, sqlite3.DatabaseError) as exc:
                log.debug("registry cache %s unusable (%s)", self.path, exc)
                self._reset(rebuild=attempt == 1)
        return None

    def _reset(self, *, rebuild: bool) -> None:
        """Drop the connection; delete the file to start afresh, or give up on caching."""
        if self._db is not None:
            self._db.close()
        self._db = None
        if rebuild:
            try:
                self.path.unlink(missing_ok=True)
                return
            except OSError:
                pass
        self._broken = True


def _select(db: Any, ecosystem: Ecosystem, name: str) -> dict[str, Any] | None:
    rows = list(db.query(
        f"select fetched, data from {_TABLE} where ecosystem = ? and name = ?",
        [ecosystem.value, name],
    ))
    return rows[0] if rows else None
