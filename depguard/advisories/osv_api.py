"""Online advisory lookup through the OSV API (https://google.github.io/osv.dev/api/).

`POST /v1/querybatch` takes up to 1000 `{package: {ecosystem, name}, version}`
queries and answers, in the same order, with only `id` and `modified` of the
vulnerabilities affecting each version. A result carrying `next_page_token`
has more pages: only those queries are sent again, each with its `page_token`.
Each distinct id is then fetched once with `GET /v1/vulns/{id}` and parsed by
`osv_record.parse_advisory`; a malformed record is logged and dropped.

Timeouts, connection errors and HTTP 408/429/5xx are retried with exponential
backoff; after the last attempt the source raises one `NetworkError` line.
`requests` is imported only when a query actually goes out.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol
from urllib.parse import quote, unquote, urlsplit

from depguard.advisories.osv_record import Advisory, AdvisoryError, parse_advisory
from depguard.advisories.sources import AdvisorySource, Lookup
from depguard.errors import NetworkError
from depguard.models import Dependency, Ecosystem

__all__ = ["BATCH_LIMIT", "DEFAULT_API_URL", "ENV_API_URL", "HttpResponse", "HttpSession",
           "OsvApiSource", "default_api_url"]

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.osv.dev"
ENV_API_URL = "DEPGUARD_OSV_API_URL"
BATCH_LIMIT = 1000
"""The most queries OSV accepts in one querybatch request."""
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
FETCH_WORKERS = 8
_HINT = "use --offline with a local database (depguard db sync / db import)"


class HttpResponse(Protocol):
    """The part of `requests.Response` this client reads."""

    @property
    def status_code(self) -> int: ...

    @property
    def reason(self) -> str: ...

    def json(self) -> Any: ...


class HttpSession(Protocol):
    """The part of `requests.Session` this client uses (tests may pass any look-alike)."""

    def post(self, url: str, *, json: Any, timeout: float) -> HttpResponse: ...

    def get(self, url: str, *, timeout: float) -> HttpResponse: ...


@dataclass(frozen=True, slots=True)
class _Query:
    ecosystem: Ecosystem
    name: str
    """The name as published, as OSV expects it (PEP 503 for PyPI, case kept for npm)."""
    version: str
    key: tuple[Ecosystem, str]
    """The lookup key: (ecosystem, canonical name)."""

    def payload(self, page_token: str | None) -> dict[str, Any]:
        query: dict[str, Any] = {
            "package": {"ecosystem": self.ecosystem.value, "name": self.name},
            "version": self.version,
        }
        if page_token:
            query["page_token"] = page_token
        return query


class _Retry(Exception):
    """A transient failure worth another attempt; the message is the reason."""


def default_api_url() -> str:
    return os.environ.get(ENV_API_URL) or DEFAULT_API_URL


class OsvApiSource(AdvisorySource):
    """Advisories for exact versions, asked of the OSV API (batched, paged, retried)."""

    name = "osv-api"

    def __init__(self, base_url: str | None = None, session: HttpSession | None = None,
                 timeout: float = 10.0, retries: int = 3, backoff: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = (base_url or default_api_url()).rstrip("/")
        self._session = session
        self.timeout, self.retries, self.backoff, self._sleep = timeout, retries, backoff, sleep
        self._queried: set[tuple[Ecosystem, str, str]] = set()
        self._records: dict[str, Advisory | None] = {}

    def covers(self, ecosystem: Ecosystem) -> bool:
        return True

    def describe(self) -> dict[str, Any]:
        records = sum(1 for r in self._records.values() if r is not None)
        return {"name": self.name, "url": self.base_url, "queried": len(self._queried),
                "records": records}

    def query(self, deps: Sequence[Dependency]) -> Lookup:
        queries = _queries(deps)
        if not queries:
            return {}
        self._queried.update((q.ecosystem, q.name, q.version) for q in queries)
        with self._http() as http:
            ids = self._vuln_ids(http, queries)
            self._fetch_records(http, {i for found in ids.values() for i in found})
        lookup: dict[tuple[Ecosystem, str], dict[str, Advisory]] = defaultdict(dict)
        for query, found in ids.items():
            for vuln_id in found:
                advisory = self._records.get(vuln_id)
                if advisory is not None:
                    lookup[query.key][vuln_id] = advisory
        return {key: list(by_id.values()) for key, by_id in lookup.items()}

    @contextmanager
    def _http(self) -> Iterator[HttpSession]:
        if self._session is not None:
            yield self._session
            return
        import requests

        from depguard import __version__

        with requests.Session() as session:
            session.headers["User-Agent"] = f"depguard/{__version__}"
            yield session

    # --- querybatch ----------------------------------------------------------------

    def _vuln_ids(self, http: HttpSession, queries: list[_Query]) -> dict[_Query, list[str]]:
        """Every vulnerability id per query, following each query's pages."""
        found: dict[_Query, list[str]] = {q: [] for q in queries}
        for start in range(0, len(queries), BATCH_LIMIT):
            pending: list[tuple[_Query, str | None]] = [
                (q, None) for q in queries[start:start + BATCH_LIMIT]]
            while pending:
                body = {"queries": [q.payload(token) for q, token in pending]}
                results = self._batch_results(self._call(http, "/v1/querybatch", body),
                                              len(pending))
                following: list[tuple[_Query, str | None]] = []
                for (query, token), (ids, next_token) in zip(pending, results, strict=True):
                    found[query] += [i for i in ids if i not in found[query]]
                    if next_token and next_token == token:
                        log.warning("OSV API %s repeated a page token for %s %s; stopped paging",
                                    self.base_url, query.name, query.version)
                    elif next_token:
                        following.append((query, next_token))
                pending = following
        return found

    def _batch_results(self, data: Any, expected: int) -> list[tuple[list[str], str | None]]:
        """`[(ids, next_page_token)]` from a querybatch answer, checked against its shape."""
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list) or len(results) != expected:
            got = f"{len(results)} results" if isinstance(results, list) else "no results list"
            self._bad_answer("/v1/querybatch", f"{got} for {expected} queries")
        parsed = []
        for i, result in enumerate(results):
            vulns = (result.get("vulns") or []) if isinstance(result, dict) else None
            token = result.get("next_page_token") if isinstance(result, dict) else None
            if not isinstance(vulns, list) or not isinstance(token, str | None):
                self._bad_answer("/v1/querybatch", f"results[{i}] is malformed")
            ids = [v.get("id") if isinstance(v, dict) else None for v in vulns]
            if not all(isinstance(v, str) and v for v in ids):
                self._bad_answer("/v1/querybatch", f"results[{i}].vulns holds an entry without id")
            parsed.append(([str(v) for v in ids], token))
        return parsed

    # --- vulns/{id} ----------------------------------------------------------------

    def _fetch_records(self, http: HttpSession, ids: set[str]) -> None:
        todo = sorted(ids - self._records.keys())
        if not todo:
            return
        pool = ThreadPoolExecutor(max_workers=min(FETCH_WORKERS, len(todo)))
        try:
            for vuln_id, advisory in zip(todo, pool.map(lambda i: self._fetch(http, i), todo),
                                         strict=True):
                self._records[vuln_id] = advisory
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()

    def _fetch(self, http: HttpSession, vuln_id: str) -> Advisory | None:
        path = f"/v1/vulns/{quote(vuln_id, safe='')}"
        data = self._call(http, path, None)
        if data is None:
            log.warning("OSV API %s: %s not found; skipped", self.base_url, vuln_id)
            return None
        try:
            return parse_advisory(data, f"{self.base_url}{path}")
        except AdvisoryError as exc:
            log.warning("skipping malformed advisory: %s", exc)
            return None

    # --- transport -----------------------------------------------------------------

    def _call(self, http: HttpSession, path: str, body: dict[str, Any] | None) -> Any:
        """The decoded JSON answer (None for a GET answered 404), retrying transient failures."""
        for attempt in range(self.retries + 1):
            try:
                return self._attempt(http, path, body)
            except _Retry as exc:
                if attempt == self.retries:
                    tries = f" after {attempt + 1} attempts" if attempt else ""
                    state = "unavailable" if str(exc).startswith("HTTP ") else "unreachable"
                    raise NetworkError(
                        f"OSV API {self.base_url} {state} ({exc}{tries}); {_HINT}") from exc
                self._sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def _attempt(self, http: HttpSession, path: str, body: dict[str, Any] | None) -> Any:
        url = f"{self.base_url}{path}"
        try:
            if body is None:
                resp = http.get(url, timeout=self.timeout)
            else:
                resp = http.post(url, json=body, timeout=self.timeout)
        except OSError as exc:  # requests.RequestException is an OSError too
            raise _Retry(_reason(exc, self.timeout)) from exc
        code = resp.status_code
        if code in RETRY_STATUS:
            raise _Retry(f"HTTP {code} {resp.reason}".rstrip())
        if code == 404 and body is None:
            return None
        if not 200 <= code < 300:
            raise NetworkError(f"OSV API {self.base_url} refused {path} "
                               f"(HTTP {code} {resp.reason}{_error_message(resp)})")
        try:
            return resp.json()
        except ValueError:
            self._bad_answer(path, "invalid JSON")

    def _bad_answer(self, path: str, why: str) -> NoReturn:
        raise NetworkError(f"OSV API {self.base_url}: unexpected answer to {path} ({why})")


def _queries(deps: Sequence[Dependency]) -> list[_Query]:
    """One query per distinct (ecosystem, published name, version); unversioned deps skipped."""
    seen: dict[tuple[Ecosystem, str, str], _Query] = {}
    for dep in deps:
        if dep.version:
            name = _published_name(dep)
            seen.setdefault((dep.ecosystem, name, dep.version),
                            _Query(dep.ecosystem, name, dep.version, (dep.ecosystem, dep.name)))
    return list(seen.values())


def _published_name(dep: Dependency) -> str:
    """npm names are case-sensitive in OSV: recover a legacy mixed-case name from the tarball URL.

    `Dependency.name` is lower-cased for npm; `resolved` keeps the name as published
    (`https://registry.npmjs.org/JSONStream/-/JSONStream-1.3.5.tgz`). PyPI names are
    sent PEP 503-normalized, which is what OSV expects.
    """
    if dep.ecosystem is not Ecosystem.NPM or not dep.resolved or "/-/" not in dep.resolved:
        return dep.name
    parts = unquote(urlsplit(dep.resolved).path).split("/-/")[0].split("/")
    candidate = "/".join(parts[-2:]) if len(parts) > 1 and parts[-2].startswith("@") else parts[-1]
    return candidate if candidate.lower() == dep.name else dep.name


def _reason(exc: BaseException, timeout: float) -> str:
    """Why a request failed, in a few words: a timeout, else the innermost OS error."""
    import requests

    if isinstance(exc, requests.Timeout | TimeoutError):
        return f"timed out after {timeout:g}s"
    seen: set[int] = set()
    while (inner := exc.__cause__ or exc.__context__) is not None and id(inner) not in seen:
        seen.add(id(exc))
        exc = inner
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout:g}s"
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    text = " ".join(text.split()) or type(exc).__name__
    return text[:1].lower() + text[1:]


def _error_message(resp: HttpResponse) -> str:
    """`: <message>` from OSV's JSON error body (`{"code": 3, "message": "..."}`), if any."""
    try:
        data = resp.json()
    except ValueError:
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    return f": {' '.join(message.split())[:200]}" if isinstance(message, str) and message else ""
