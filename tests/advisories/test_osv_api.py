"""`OsvApiSource` against a real HTTP server on 127.0.0.1 serving canned OSV API answers.

The server stands in for api.osv.dev: `POST /v1/querybatch` answers with the ids
(and `modified`) of the real records in `fixtures/osv/records/` that name the
queried package (it does not evaluate versions: the client never relies on that),
paged when `page_size` is set; `GET /v1/vulns/{id}` serves the record itself.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from depguard.advisories.osv_api import DEFAULT_API_URL, ENV_API_URL, OsvApiSource
from depguard.errors import NetworkError
from depguard.models import Dependency, Ecosystem, canonical_name
from tests.conftest import ROOT, fixture_path

PYPI, NPM = Ecosystem.PYPI, Ecosystem.NPM


def load_records() -> dict[str, bytes]:
    """The real OSV records by id (the hand-written synthetic one left out)."""
    folder = fixture_path("osv", "records")
    return {p.stem: p.read_bytes() for p in sorted(folder.glob("*.json"))
            if not p.stem.startswith("synthetic")}


@dataclass
class Api:
    url: str = ""
    records: dict[str, bytes] = field(default_factory=load_records)
    page_size: int | None = None
    fail: dict[str, list[int]] = field(default_factory=dict)
    """Statuses answered, one per request, before the normal answer (keyed by method)."""
    always: int | None = None
    delay: float = 0.0
    batch_body: bytes | None = None
    """Sent as is in place of the querybatch answer."""
    log: list[tuple[str, str, Any, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def index(self) -> dict[tuple[str, str], list[str]]:
        found: dict[tuple[str, str], list[str]] = {}
        for vuln_id, raw in self.records.items():
            for affected in json.loads(raw).get("affected", []):
                eco, name = affected["package"]["ecosystem"], affected["package"]["name"]
                name = canonical_name(PYPI, name) if eco == "PyPI" else name
                ids = found.setdefault((eco, name), [])
                if vuln_id not in ids:
                    ids.append(vuln_id)
        return found

    def posts(self) -> list[list[dict[str, Any]]]:
        return [body["queries"] for method, _, body, _ in self.log if method == "POST"]

    def gets(self) -> list[str]:
        return [path for method, path, _, _ in self.log if method == "GET"]


def make_handler(api: Api) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.record("POST", body):
                self.reply(200, api.batch_body or json.dumps(self.batch(body)).encode())

        def do_GET(self) -> None:
            if self.record("GET", None):
                raw = api.records.get(self.path.removeprefix("/v1/vulns/"))
                if raw is None:
                    self.reply(404, b'{"code": 5, "message": "Bug not found."}')
                else:
                    self.reply(200, raw)

        def record(self, method: str, body: Any) -> bool:
            """Log the request; False when an injected failure was answered instead."""
            with api.lock:
                api.log.append((method, self.path, body, dict(self.headers.items())))
                queued = api.fail.get(method, [])
                status = queued.pop(0) if queued else api.always
            time.sleep(api.delay)
            if status is not None:
                self.reply(status, b'{"code": 13, "message": "injected failure"}')
            return status is None

        def batch(self, body: dict[str, Any]) -> dict[str, Any]:
            index, results = api.index(), []
            for query in body["queries"]:
                ids = index.get((query["package"]["ecosystem"], query["package"]["name"]), [])
                start = int(query.get("page_token", "tok-0").removeprefix("tok-"))
                end = start + api.page_size if api.page_size else len(ids)
                result: dict[str, Any] = {}
                if ids[start:end]:
                    result["vulns"] = [{"id": i, "modified": json.loads(api.records[i])["modified"]}
                                       for i in ids[start:end]]
                if end < len(ids):
                    result["next_page_token"] = f"tok-{end}"
                results.append(result)
            return {"results": results}

        def reply(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)  # the timeout test's client may have gone

    return Handler


@pytest.fixture
def api() -> Iterator[Api]:
    state = Api()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    httpd.daemon_threads = True
    httpd.block_on_close = False
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.trust_env = False  # no proxy from the environment for 127.0.0.1
        yield s


def source(api: Api, session: requests.Session, **kw: Any) -> OsvApiSource:
    options: dict[str, Any] = {"retries": 2, "timeout": 5.0, "sleep": lambda s: None, **kw}
    return OsvApiSource(base_url=api.url, session=session, **options)


def dep(eco: Ecosystem, name: str, version: str | None, resolved: str | None = None) -> Dependency:
    return Dependency(ecosystem=eco, name=canonical_name(eco, name), version=version,
                      resolved=resolved)


def ids(lookup: Any, eco: Ecosystem, name: str) -> set[str]:
    return {a.id for a in lookup.get((eco, name), [])}


def test_query_returns_parsed_records_per_package(api: Api, session: requests.Session) -> None:
    src = source(api, session)
    lookup = src.query([dep(NPM, "axios", "1.14.1"), dep(PYPI, "Django", "4.2.0"),
                        dep(PYPI, "six", "1.16.0")])
    assert ids(lookup, NPM, "axios") == {"MAL-2026-2307", "GHSA-wf5p-g6vw-rhxx"}
    assert ids(lookup, PYPI, "django") == {"GHSA-pv4p-cwwg-4rph", "PYSEC-2024-70"}
    assert (PYPI, "six") not in lookup
    assert next(a for a in lookup[(NPM, "axios")] if a.id == "MAL-2026-2307").malicious
    assert api.posts() == [[
        {"package": {"ecosystem": "npm", "name": "axios"}, "version": "1.14.1"},
        {"package": {"ecosystem": "PyPI", "name": "django"}, "version": "4.2.0"},
        {"package": {"ecosystem": "PyPI", "name": "six"}, "version": "1.16.0"},
    ]]
    assert src.describe() == {"name": "osv-api", "url": api.url, "queried": 3, "records": 4}
    assert src.covers(PYPI) and src.covers(NPM)


def test_1001_queries_go_out_in_two_batches(api: Api, session: requests.Session) -> None:
    deps = [dep(PYPI, f"pkg-{i}", "1.0") for i in range(1000)] + [dep(PYPI, "requests", "2.30.0")]
    lookup = source(api, session).query(deps)
    assert [len(p) for p in api.posts()] == [1000, 1]
    assert api.posts()[1][0]["package"]["name"] == "requests"
    assert ids(lookup, PYPI, "requests") == {"GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"}


def test_unversioned_and_duplicate_deps_are_not_queried(
    api: Api, session: requests.Session
) -> None:
    deps = [dep(PYPI, "requests", None), dep(PYPI, "jinja2", "2.4.1"), dep(PYPI, "Jinja2", "2.4.1")]
    source(api, session).query(deps)
    assert [[q["package"]["name"] for q in p] for p in api.posts()] == [["jinja2"]]


def test_nothing_to_query_makes_no_request(api: Api, session: requests.Session) -> None:
    assert source(api, session).query([dep(NPM, "axios", None)]) == {}
    assert api.log == []


def test_next_page_token_requeries_only_paged_queries(api: Api, session: requests.Session) -> None:
    api.page_size = 1
    deps = [dep(PYPI, "litellm", "1.82.7"), dep(PYPI, "requests", "2.30.0"),
            dep(PYPI, "py", "1.11.0"), dep(PYPI, "six", "1.16.0")]
    lookup = source(api, session).query(deps)
    posts = api.posts()
    assert [[(q["package"]["name"], q.get("page_token")) for q in p] for p in posts] == [
        [("litellm", None), ("requests", None), ("py", None), ("six", None)],
        [("litellm", "tok-1"), ("requests", "tok-1")],
        [("litellm", "tok-2")],
    ]
    assert posts[2][0]["version"] == "1.82.7"
    assert ids(lookup, PYPI, "litellm") == {"GHSA-5mg7-485q-xm76", "MAL-2026-2144", "PYSEC-2026-2"}
    assert ids(lookup, PYPI, "requests") == {"GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"}
    assert ids(lookup, PYPI, "py") == {"PYSEC-2022-42969"}


def test_each_distinct_record_is_fetched_once(api: Api, session: requests.Session) -> None:
    src = source(api, session)
    deps = [dep(NPM, "lodash", "4.17.20"), dep(NPM, "lodash-es", "4.17.20"),
            dep(NPM, "lodash", "4.17.15")]
    lookup = src.query(deps)
    expected = {"GHSA-35jh-r3h4-6jhm", "GHSA-p6mc-m468-83gw"}
    assert ids(lookup, NPM, "lodash") == ids(lookup, NPM, "lodash-es") == expected
    assert len(lookup[(NPM, "lodash")]) == 2
    assert sorted(api.gets()) == sorted(f"/v1/vulns/{i}" for i in expected)
    src.query(deps)  # a second scan with the same source reuses the fetched records
    assert len(api.gets()) == 2


def test_malformed_record_is_logged_and_dropped(
    api: Api, session: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    record = json.loads(api.records["PYSEC-2023-74"])
    record["aliases"] = "CVE-2023-32681"  # must be a list
    api.records["PYSEC-2023-74"] = json.dumps(record).encode()
    with caplog.at_level(logging.WARNING):
        src = source(api, session)
        lookup = src.query([dep(PYPI, "requests", "2.30.0")])
    assert ids(lookup, PYPI, "requests") == {"GHSA-j8r2-6x86-q33q"}
    assert "PYSEC-2023-74" in caplog.text and "aliases: expected a list" in caplog.text
    assert src.describe()["records"] == 1


def test_record_missing_upstream_is_dropped(
    api: Api, session: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    api.batch_body = json.dumps({"results": [{"vulns": [
        {"id": "GHSA-j8r2-6x86-q33q"}, {"id": "GHSA-xxxx-xxxx-xxxx"}]}]}).encode()
    lookup = source(api, session).query([dep(PYPI, "requests", "2.30.0")])
    assert ids(lookup, PYPI, "requests") == {"GHSA-j8r2-6x86-q33q"}
    assert "GHSA-xxxx-xxxx-xxxx not found" in caplog.text


def test_legacy_mixed_case_npm_name_is_sent_as_published(
    api: Api, session: requests.Session
) -> None:
    tarball = "https://registry.npmjs.org/JSONStream/-/JSONStream-1.3.5.tgz"
    scoped = "https://registry.npmjs.org/@types/node/-/node-20.1.0.tgz"
    source(api, session).query([dep(NPM, "JSONStream", "1.3.5", tarball),
                                dep(NPM, "@types/node", "20.1.0", scoped),
                                dep(NPM, "other", "1.0.0", tarball)])
    assert [q["package"]["name"] for q in api.posts()[0]] == ["JSONStream", "@types/node", "other"]


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_http_500_then_success_is_retried(
    api: Api, session: requests.Session, method: str
) -> None:
    api.fail[method] = [500, 503]
    slept: list[float] = []
    lookup = source(api, session, backoff=0.5, sleep=slept.append).query(
        [dep(NPM, "plain-crypto-js", "4.2.1")])
    assert ids(lookup, NPM, "plain-crypto-js") == {"MAL-2026-2306"}
    assert slept == [0.5, 1.0]
    assert len(api.posts()) == (3 if method == "POST" else 1)
    assert len(api.gets()) == (3 if method == "GET" else 1)


@pytest.mark.parametrize("status", [500, 429])
def test_persistent_failure_raises_network_error(
    api: Api, session: requests.Session, status: int
) -> None:
    api.always = status
    with pytest.raises(NetworkError) as err:
        source(api, session, retries=2).query([dep(NPM, "axios", "1.14.1")])
    message = str(err.value)
    assert message.startswith(f"OSV API {api.url} unavailable (HTTP {status} ")
    assert message.endswith("after 3 attempts); use --offline with a local database "
                            "(depguard db sync / db import)")
    assert "\n" not in message and len(api.posts()) == 3


def test_timeout_raises_network_error(api: Api, session: requests.Session) -> None:
    api.delay = 1.0
    with pytest.raises(NetworkError, match=r"unreachable \(timed out after 0\.2s after 2 attempts"):
        source(api, session, timeout=0.2, retries=1).query([dep(NPM, "axios", "1.14.1")])
    assert len(api.posts()) == 2


def test_connection_refused_raises_network_error(session: requests.Session) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    src = OsvApiSource(base_url=url, session=session, retries=1, sleep=lambda s: None)
    with pytest.raises(NetworkError) as err:
        src.query([dep(PYPI, "requests", "2.30.0")])
    assert str(err.value) == (
        f"OSV API {url} unreachable (connection refused after 2 attempts); "
        "use --offline with a local database (depguard db sync / db import)")


def test_other_http_errors_are_not_retried(api: Api, session: requests.Session) -> None:
    api.always = 400
    with pytest.raises(NetworkError) as err:
        source(api, session).query([dep(NPM, "axios", "1.14.1")])
    assert str(err.value) == (f"OSV API {api.url} refused /v1/querybatch "
                              "(HTTP 400 Bad Request: injected failure)")
    assert len(api.posts()) == 1


@pytest.mark.parametrize(("body", "fragment"), [
    (b"<html>busy</html>", "(invalid JSON)"),
    (b'{"results": "none"}', "(no results list for 1 queries)"),
    (b'{"results": []}', "(0 results for 1 queries)"),
    (b'{"results": [{"vulns": {"id": "X"}}]}', "(results[0] is malformed)"),
    (b'{"results": [{"next_page_token": 7}]}', "(results[0] is malformed)"),
    (b'{"results": [{"vulns": [{"modified": "2026-01-01T00:00:00Z"}]}]}',
     "(results[0].vulns holds an entry without id)"),
])
def test_malformed_querybatch_answer(
    api: Api, session: requests.Session, body: bytes, fragment: str
) -> None:
    api.batch_body = body
    with pytest.raises(NetworkError) as err:
        source(api, session).query([dep(NPM, "axios", "1.14.1")])
    assert str(err.value) == f"OSV API {api.url}: unexpected answer to /v1/querybatch {fragment}"


def test_env_url_is_honoured_with_the_default_session(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(ENV_API_URL, api.url + "/")
    src = OsvApiSource(sleep=lambda s: None)
    lookup = src.query([dep(NPM, "flatmap-stream", "0.1.1")])
    assert ids(lookup, NPM, "flatmap-stream") == {"MAL-2025-20690", "GHSA-mh6f-8j2x-4483"}
    assert src.describe()["url"] == api.url
    assert all(h["User-Agent"].startswith("depguard/") for _, _, _, h in api.log)
    assert OsvApiSource(base_url="http://127.0.0.1:9").base_url == "http://127.0.0.1:9"


def test_default_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_API_URL, raising=False)
    assert OsvApiSource().describe() == {"name": "osv-api", "url": DEFAULT_API_URL,
                                         "queried": 0, "records": 0}
    assert DEFAULT_API_URL == "https://api.osv.dev"


def test_importing_the_module_does_not_import_requests() -> None:
    code = "import sys, depguard.advisories.osv_api; print('requests' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "False"
