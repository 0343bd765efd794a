"""RegistryClient against a real HTTP server on 127.0.0.1 serving canned registry answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from depguard.models import Ecosystem
from depguard.registry import (
    ENV_NPM_URL,
    ENV_PYPI_URL,
    ProjectInfo,
    RegistryClient,
    RegistryUnavailable,
    default_cache_path,
)
from tests.conftest import fixture_path

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


class Registry:
    """Routes path -> (status, content type, body); records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        self.requests: list[tuple[str, str]] = []
        self.delay = 0.0
        self.url = ""

    def serve_file(self, path: str, *parts: str, content_type: str = "application/json") -> None:
        self.routes[path] = (200, content_type, fixture_path(*parts).read_bytes())

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)


@pytest.fixture
def registry() -> Iterator[Registry]:
    state = Registry()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, self.headers.get("Accept", "")))
            if state.delay:
                time.sleep(state.delay)
            status, ctype, body = state.routes.get(self.path, (404, "text/plain", b"Not Found"))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that gave up (timeout, size limit) closes the socket early

    server = Server(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def client(registry: Registry, tmp_path: Path, **kwargs: object) -> RegistryClient:
    options: dict[str, object] = {"cache_path": tmp_path / "registry.db", "timeout": 2.0}
    options.update(kwargs)
    return RegistryClient(pypi_url=registry.url, npm_url=registry.url, **options)  # type: ignore[arg-type]


def serve_pypi(registry: Registry, name: str) -> None:
    registry.serve_file(f"/simple/{name}/", "registry", "simple", f"{name}.json",
                        content_type=SIMPLE_JSON)
    registry.serve_file(f"/pypi/{name}/json", "registry", "pypi", f"{name}.json")


def test_pypi_project_found(registry: Registry, tmp_path: Path) -> None:
    serve_pypi(registry, "requests")
    info = client(registry, tmp_path).project(Ecosystem.PYPI, "Requests")
    assert info is not None
    assert info.name == "requests"
    assert info.latest == "2.34.2"
    assert set(info.releases) == {"2.31.0", "2.32.0", "2.32.1", "2.32.3", "2.34.2"}
    assert info.published("2.31.0") == datetime(2023, 5, 22, 15, 12, 42, 313790, tzinfo=UTC)
    assert info.yanked == frozenset({"2.32.0", "2.32.1"})
    assert info.status == "active"
    accepts = dict(registry.requests)
    assert accepts["/simple/requests/"] == SIMPLE_JSON


def test_pypi_pep792_archived_status(registry: Registry, tmp_path: Path) -> None:
    serve_pypi(registry, "pil")
    info = client(registry, tmp_path).project(Ecosystem.PYPI, "PIL")
    assert info is not None
    assert (info.status, info.latest) == ("archived", "1.1.6")


def test_pypi_quarantined_needs_one_request(registry: Registry, tmp_path: Path) -> None:
    registry.serve_file("/simple/quarantined-demo/", "registry", "simple",
                        "quarantined-demo.json", content_type=SIMPLE_JSON)
    info = client(registry, tmp_path).project(Ecosystem.PYPI, "quarantined_demo")
    assert info is not None
    assert (info.status, info.status_reason, dict(info.releases)) == (
        "quarantined", "malware reported", {})
    assert [p for p, _ in registry.requests] == ["/simple/quarantined-demo/"]


def test_pypi_index_without_json_simple_api(registry: Registry, tmp_path: Path) -> None:
    registry.routes["/simple/requests/"] = (200, "text/html", b"<html><body></body></html>")
    registry.serve_file("/pypi/requests/json", "registry", "pypi", "requests.json")
    info = client(registry, tmp_path).project(Ecosystem.PYPI, "requests")
    assert info is not None and info.status == "active" and info.latest == "2.34.2"


def test_pypi_missing_is_none_after_one_request(registry: Registry, tmp_path: Path) -> None:
    assert client(registry, tmp_path).project(Ecosystem.PYPI, "reqeusts") is None
    assert [p for p, _ in registry.requests] == ["/simple/reqeusts/"]


def test_npm_packument(registry: Registry, tmp_path: Path) -> None:
    registry.serve_file("/axios", "registry", "npm", "axios.json")
    registry.serve_file("/esbuild", "registry", "npm", "esbuild.json")
    registry.serve_file("/request", "registry", "npm", "request.json")
    reg = client(registry, tmp_path)
    axios = reg.project(Ecosystem.NPM, "axios")
    assert axios is not None and axios.latest == "1.21.1"
    assert set(axios.releases) == {"0.30.3", "1.13.2", "1.14.0", "1.21.1"}
    assert axios.published("1.14.0") is not None
    assert axios.install_scripts == frozenset() and axios.deprecated == {}
    esbuild = reg.project(Ecosystem.NPM, "esbuild")
    assert esbuild is not None and esbuild.install_scripts == frozenset({"0.25.0", "0.28.2"})
    request = reg.project(Ecosystem.NPM, "request")
    assert request is not None
    assert request.deprecated["2.88.2"].startswith("request has been deprecated")


def test_npm_scoped_name_is_url_encoded(registry: Registry, tmp_path: Path) -> None:
    registry.routes["/@types%2Fnode"] = (
        200, "application/json",
        b'{"name": "@types/node", "dist-tags": {"latest": "1.0.0"},'
        b' "versions": {"1.0.0": {"hasInstallScript": true}},'
        b' "time": {"created": "2016-01-01T00:00:00.000Z", "1.0.0": "2016-01-01T00:00:00.000Z"}}',
    )
    info = client(registry, tmp_path).project(Ecosystem.NPM, "@types/node")
    assert info is not None
    assert info.published("1.0.0") == datetime(2016, 1, 1, tzinfo=UTC)
    assert info.install_scripts == frozenset({"1.0.0"})


def test_npm_unpublished(registry: Registry, tmp_path: Path) -> None:
    registry.routes["/gone"] = (200, "application/json", b'{"name": "gone", "time": '
                                b'{"unpublished": {"time": "2020-01-01T00:00:00.000Z"}}}')
    info = client(registry, tmp_path).project(Ecosystem.NPM, "gone")
    assert info is not None and info.status == "unpublished" and not info.releases


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (500, b"boom", "HTTP 500"),
        (503, b"", "HTTP 503"),
        (429, b"", "HTTP 429"),
        (200, b"{not json", "unreadable answer"),
        (200, b"[1, 2]", "unexpected packument"),
    ],
)
def test_unavailable(registry: Registry, tmp_path: Path, status: int, body: bytes,
                     reason: str) -> None:
    registry.routes["/axios"] = (status, "application/json", body)
    with pytest.raises(RegistryUnavailable, match=reason) as caught:
        client(registry, tmp_path).project(Ecosystem.NPM, "axios")
    assert str(caught.value).startswith("npm unreachable (")


def test_timeout(registry: Registry, tmp_path: Path) -> None:
    registry.delay = 1.0
    with pytest.raises(RegistryUnavailable, match=r"PyPI unreachable \(timeout\)"):
        client(registry, tmp_path, timeout=0.2).project(Ecosystem.PYPI, "requests")


def test_connection_refused(tmp_path: Path) -> None:
    reg = RegistryClient(pypi_url="http://127.0.0.1:9", cache_path=tmp_path / "c.db")
    with pytest.raises(RegistryUnavailable, match="connection failed"):
        reg.project(Ecosystem.PYPI, "requests")


def test_oversized_answer(registry: Registry, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("depguard.registry.MAX_BODY", 1000)
    registry.serve_file("/axios", "registry", "npm", "axios.json")
    with pytest.raises(RegistryUnavailable, match="larger than"):
        client(registry, tmp_path).project(Ecosystem.NPM, "axios")


def test_cache_hit_across_clients(registry: Registry, tmp_path: Path) -> None:
    registry.serve_file("/axios", "registry", "npm", "axios.json")
    first = client(registry, tmp_path).project(Ecosystem.NPM, "axios")
    second = client(registry, tmp_path).project(Ecosystem.NPM, "axios")
    assert registry.hits("/axios") == 1
    assert first == second


def test_404_is_cached(registry: Registry, tmp_path: Path) -> None:
    for _ in range(2):
        assert client(registry, tmp_path).project(Ecosystem.NPM, "no-such-thing") is None
    assert registry.hits("/no-such-thing") == 1


def test_ttl_expiry(registry: Registry, tmp_path: Path) -> None:
    registry.serve_file("/axios", "registry", "npm", "axios.json")
    now = [1_000_000.0]
    ttl = timedelta(hours=1)
    client(registry, tmp_path, ttl=ttl, clock=lambda: now[0]).project(Ecosystem.NPM, "axios")
    now[0] += 3599
    client(registry, tmp_path, ttl=ttl, clock=lambda: now[0]).project(Ecosystem.NPM, "axios")
    assert registry.hits("/axios") == 1
    now[0] += 2
    client(registry, tmp_path, ttl=ttl, clock=lambda: now[0]).project(Ecosystem.NPM, "axios")
    assert registry.hits("/axios") == 2


def test_corrupt_cache_is_rebuilt(registry: Registry, tmp_path: Path) -> None:
    registry.serve_file("/axios", "registry", "npm", "axios.json")
    (tmp_path / "registry.db").write_bytes(b"this is not a sqlite database" * 100)
    assert client(registry, tmp_path).project(Ecosystem.NPM, "axios") is not None
    assert client(registry, tmp_path).project(Ecosystem.NPM, "axios") is not None
    assert registry.hits("/axios") == 1
    assert (tmp_path / "registry.db").read_bytes().startswith(b"SQLite format 3")


def test_unwritable_cache_still_answers(registry: Registry, tmp_path: Path) -> None:
    registry.serve_file("/axios", "registry", "npm", "axios.json")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    reg = client(registry, tmp_path, cache_path=blocker / "sub" / "registry.db")
    assert reg.project(Ecosystem.NPM, "axios") is not None


def test_urls_from_environment(registry: Registry, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_PYPI_URL, registry.url + "/")
    monkeypatch.setenv(ENV_NPM_URL, registry.url)
    reg = RegistryClient(cache_path=tmp_path / "c.db")
    assert (reg.pypi_url, reg.npm_url) == (registry.url, registry.url)
    assert RegistryClient(pypi_url="http://x", cache_path=tmp_path / "c.db").pypi_url == "http://x"


def test_default_cache_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DEPGUARD_DB", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_path() == tmp_path / "depguard" / "registry.db"
    monkeypatch.setenv("DEPGUARD_DB", str(tmp_path / "db" / "osv.db"))
    assert default_cache_path() == tmp_path / "db" / "registry.db"


def test_project_info_json_round_trip() -> None:
    info = ProjectInfo(
        ecosystem=Ecosystem.NPM, name="x", releases={"1.0.0": datetime(2020, 1, 1, tzinfo=UTC),
                                                     "0.1.0": None},
        latest="1.0.0", deprecated={"0.1.0": "old"}, install_scripts=frozenset({"1.0.0"}),
    )
    assert ProjectInfo.from_json(Ecosystem.NPM, info.to_json()) == info


def test_close_releases_session_and_cache(registry: Registry, tmp_path: Path) -> None:
    registry.serve_file("/axios", "registry", "npm", "axios.json")
    with client(registry, tmp_path) as reg:
        assert reg.project(Ecosystem.NPM, "axios") is not None
    assert reg._session is None and reg.cache._db is None
    with client(registry, tmp_path) as again:  # reopens the cache file after close
        assert again.project(Ecosystem.NPM, "axios") is not None
    assert registry.hits("/axios") == 1
