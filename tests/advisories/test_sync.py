"""`depguard db sync` against a real HTTP server on 127.0.0.1 serving zips built from fixtures."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from depguard.advisories.db import AdvisoryDB
from depguard.advisories.sync import export_url, stderr_progress, sync
from depguard.errors import DatabaseError, NetworkError
from tests.conftest import ROOT, fixture_path

LAST_MODIFIED = "Tue, 31 Mar 2026 10:00:00 GMT"


def export(ecosystem: str, extra: dict[str, bytes] | None = None) -> bytes:
    """OSV's per-ecosystem all.zip: the fixture records affecting `ecosystem`, `<ID>.json`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(fixture_path("osv", "export").glob("*.json")):
            rec = json.loads(path.read_text())
            if any(a.get("package", {}).get("ecosystem") == ecosystem for a in rec["affected"]):
                archive.writestr(f"{rec['id']}.json", path.read_bytes())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buf.getvalue()


@dataclass
class Export:
    body: bytes
    etag: str = '"v1"'
    status: int = 200
    md5: str | None = None
    """None: the right digest; "": no x-goog-hash header; else sent as is."""
    truncate: int = 0
    """Cut this many responses short (the body stops halfway, then the socket closes)."""
    delay: float = 0.0
    ranges: bool = True


@dataclass
class Server:
    url: str
    exports: dict[str, Export]
    seen: list[dict[str, str]] = field(default_factory=list)
    active: int = 0
    max_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests_for(self, ecosystem: str) -> list[dict[str, str]]:
        return [h for h in self.seen if h["path"] == f"/{ecosystem}/all.zip"]


def make_handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            with server.lock:
                server.seen.append({"path": self.path, **dict(self.headers.items())})
                server.active += 1
                server.max_active = max(server.max_active, server.active)
            try:
                self.serve(server.exports.get(self.path.split("/", 2)[1]))
            finally:
                with server.lock:
                    server.active -= 1

        def serve(self, exp: Export | None) -> None:
            if exp is None or exp.status != 200:
                self.send_error(404 if exp is None else exp.status)
                return
            time.sleep(exp.delay)
            if self.headers.get("If-None-Match") == exp.etag:
                self.send_response(304)
                self.send_header("ETag", exp.etag)
                self.end_headers()
                return
            start = self.range_start(exp)
            body = exp.body[start:]
            self.send_response(206 if start else 200)
            if start:
                last = len(exp.body) - 1
                self.send_header("Content-Range", f"bytes {start}-{last}/{len(exp.body)}")
            md5 = base64.b64encode(hashlib.md5(exp.body).digest()).decode()
            if exp.md5 != "":
                self.send_header("x-goog-hash", f"crc32c=AAAAAA==,md5={exp.md5 or md5}")
            self.send_header("ETag", exp.etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if exp.truncate:
                exp.truncate -= 1
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
                return
            self.wfile.write(body)

        def range_start(self, exp: Export) -> int:
            header = self.headers.get("Range", "")
            if not exp.ranges or not header.startswith("bytes="):
                return 0
            if self.headers.get("If-Range") not in (None, exp.etag):
                return 0
            return int(header[6:].rstrip("-"))

    return Handler


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(url="", exports={"PyPI": Export(export("PyPI")), "npm": Export(export("npm"))})
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
def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # no proxy from the environment for 127.0.0.1
    return s


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "osv.db"


def run(server: Server, db_path: Path, session: requests.Session, **kw: Any) -> Any:
    options: dict[str, Any] = {"retries": 1, "backoff": 0.0, "timeout": 5.0, **kw}
    return sync(db_path, base_url=server.url, session=session, **options)


def counts(db_path: Path) -> dict[str, int]:
    with AdvisoryDB.open(db_path) as db:
        return db.status().per_ecosystem


FULL = {"PyPI": 9, "npm": 12}


def test_first_sync_downloads_and_imports_each_ecosystem(
    server: Server, db_path: Path, session: requests.Session
) -> None:
    calls: list[tuple[str, int, int | None]] = []
    result = run(server, db_path, session, progress=lambda *a: calls.append(a))
    assert [e.changed for e in result.ecosystems] == [True, True]
    assert result.imported.added == 21 and not result.rebuilt
    assert counts(db_path) == FULL
    size = len(server.exports["npm"].body)
    assert calls[-1] == ("npm", size, size)
    with AdvisoryDB.open(db_path) as db:
        source = db.sources()[export_url(server.url, "npm")]
        assert (source.etag, source.last_modified, source.count) == ('"v1"', LAST_MODIFIED, 12)
        assert ids(db.records_for("npm", ["plain-crypto-js"])) == ["MAL-2026-2306"]
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["osv.db", "osv.db.lock"]


def ids(found: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [r["id"] for rs in found.values() for r in rs]


def test_second_sync_is_a_conditional_304(
    server: Server, db_path: Path, session: requests.Session
) -> None:
    run(server, db_path, session)
    result = run(server, db_path, session)
    assert result.imported is None
    assert [e.changed for e in result.ecosystems] == [False, False]
    second = server.requests_for("PyPI")[-1]
    assert second["If-None-Match"] == '"v1"'
    assert second["If-Modified-Since"] == LAST_MODIFIED
    assert counts(db_path) == FULL


def test_304_records_the_check_time(
    server: Server, db_path: Path, session: requests.Session
) -> None:
    run(server, db_path, session)
    with AdvisoryDB.open(db_path) as db:
        first = db.status().updated_at
    run(server, db_path, session)
    with AdvisoryDB.open(db_path) as db:
        source = db.sources()[export_url(server.url, "PyPI")]
        assert first is not None and source.checked_at is not None
        assert source.checked_at > first and source.imported_at == first


def test_changed_export_is_imported(
    server: Server, db_path: Path, session: requests.Session
) -> None:
    run(server, db_path, session)
    new = {"id": "MAL-2099-1", "modified": "2099-01-01T00:00:00Z",
           "affected": [{"package": {"ecosystem": "npm", "name": "evil-pkg"}}]}
    server.exports["npm"] = Export(export("npm", {"MAL-2099-1.json": json.dumps(new).encode()}),
                                   etag='"v2"')
    result = run(server, db_path, session)
    assert [e.changed for e in result.ecosystems] == [False, True]
    assert (result.imported.added, result.imported.unchanged) == (1, 12)
    assert counts(db_path) == {"PyPI": 9, "npm": 13}


def test_truncated_body_fails_and_keeps_old_db(
    server: Server, db_path: Path, session: requests.Session
) -> None:
    run(server, db_path, session)
    server.exports["npm"] = Export(export("npm"), etag='"v2"', truncate=99, ranges=False)
    with pytest.raises(NetworkError, match=r"npm/all.zip: download interrupted .*after 2 attempts"):
        run(server, db_path, session)
    assert counts(db_path) == FULL


def test_interrupted_download_resumes_with_range(
    server: Server, db_path: Path, session: requests.Session
) -> None:
    server.exports["npm"].truncate = 1
    result = run(server, db_path, session)
    resumed = server.requests_for("npm")[-1]
    assert resumed["Range"] == f"bytes={len(server.exports['npm'].body) // 2}-"
    assert resumed["If-Range"] == '"v1"'
    assert result.ecosystems[1].downloaded == len(server.exports["npm"].body) - int(
        resumed["Range"][6:-1]) and counts(db_path) == FULL


def test_partial_file_from_a_failed_sync_is_resumed_next_time(
    server: Server, db_path: Path, session: requests.Session
) -> None:
    server.exports["npm"].truncate = 1
    with pytest.raises(NetworkError, match="download interrupted"):
        run(server, db_path, session, retries=0)
    assert not db_path.exists()
    assert (db_path.parent / "osv.db.npm.zip.part").exists()
    run(server, db_path, session, retries=0)
    assert "Range" in server.requests_for("npm")[-1]
    assert counts(db_path) == FULL


def test_resume_restarts_when_the_export_changed(
    server: Server, db_path: Path, session: requests.Session
) -> None:
    server.exports["npm"].truncate = 1
    with pytest.raises(NetworkError):
        run(server, db_path, session, retries=0)
    new = {"id": "MAL-2099-1", "modified": "2099-01-01T00:00:00Z",
           "affected": [{"package": {"ecosystem": "npm", "name": "evil-pkg"}}]}
    server.exports["npm"] = Export(export("npm", {"MAL-2099-1.json": json.dumps(new).encode()}),
                                   etag='"v2"')
    result = run(server, db_path, session, retries=0)
    assert server.requests_for("npm")[-1]["If-Range"] == '"v1"'
    assert result.ecosystems[1].downloaded == len(server.exports["npm"].body)
    assert counts(db_path) == {"PyPI": 9, "npm": 13}


def test_http_500_is_retried_then_fails_with_old_db_intact(
    server: Server, db_path: Path, session: requests.Session
) -> None:
    run(server, db_path, session)
    before = db_path.read_bytes()
    server.exports["PyPI"] = Export(b"", status=500)
    with pytest.raises(NetworkError, match=r"PyPI/all.zip: HTTP 500 .* after 3 attempts"):
        run(server, db_path, session, retries=2)
    assert len(server.requests_for("PyPI")) == 1 + 3
    assert db_path.read_bytes() == before


def test_http_404_is_not_retried(
    server: Server, db_path: Path, session: requests.Session
) -> None:
    with pytest.raises(NetworkError, match=r"/Nope/all.zip: HTTP 404"):
        run(server, db_path, session, ecosystems=["Nope"], retries=3)
    assert len(server.requests_for("Nope")) == 1


def test_md5_mismatch_fails(server: Server, db_path: Path, session: requests.Session) -> None:
    run(server, db_path, session)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    server.exports["npm"] = Export(export("npm"), etag='"v2"', md5=wrong)
    with pytest.raises(NetworkError, match="checksum mismatch"):
        run(server, db_path, session)
    assert counts(db_path) == FULL
    assert not (db_path.parent / "osv.db.npm.zip.part").exists()


def test_no_md5_header_still_syncs(
    server: Server, db_path: Path, session: requests.Session
) -> None:
    server.exports["npm"].md5 = ""
    run(server, db_path, session)
    assert counts(db_path) == FULL


def test_timeout(server: Server, db_path: Path, session: requests.Session) -> None:
    server.exports["PyPI"].delay = 1.0
    started = time.monotonic()
    with pytest.raises(NetworkError, match=r"PyPI/all.zip: timed out after 0.2s"):
        run(server, db_path, session, timeout=0.2, retries=0)
    assert time.monotonic() - started < 1.0
    assert not db_path.exists()


def test_connection_refused(db_path: Path, session: requests.Session) -> None:
    with pytest.raises(NetworkError, match="cannot connect"):
        sync(db_path, base_url="http://127.0.0.1:9", session=session, retries=0)


def test_concurrent_syncs_serialize(
    server: Server, db_path: Path, session: requests.Session
) -> None:
    server.exports["PyPI"].delay = server.exports["npm"].delay = 0.2
    results: list[Any] = []

    def worker() -> None:
        results.append(run(server, db_path, requests.Session()))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert server.max_active == 1
    assert sorted(r.imported is None for r in results) == [False, True]
    assert counts(db_path) == FULL


def test_sync_waits_for_a_lock_held_by_another_process(
    server: Server, db_path: Path, session: requests.Session
) -> None:
    code = (
        "import sys, time; from pathlib import Path\n"
        "from depguard.advisories.db import write_lock\n"
        "with write_lock(Path(sys.argv[1])):\n"
        "    print('locked', flush=True); time.sleep(1.0)\n"
    )
    with subprocess.Popen([sys.executable, "-c", code, str(db_path)], cwd=ROOT,
                          stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        started = time.monotonic()
        with pytest.raises(DatabaseError, match="another depguard db sync/import holds"):
            run(server, db_path, session, lock_timeout=0.1)
        run(server, db_path, session, lock_timeout=10)
        assert time.monotonic() - started > 0.5
    assert counts(db_path) == FULL


def test_corrupted_db_is_rebuilt_by_sync(
    server: Server, db_path: Path, session: requests.Session
) -> None:
    run(server, db_path, session)
    db_path.write_bytes(b"garbage" * 100)
    with pytest.raises(DatabaseError, match="not an sqlite database"):
        AdvisoryDB.open(db_path)
    result = run(server, db_path, session)
    assert result.rebuilt
    assert "If-None-Match" not in server.requests_for("npm")[-1]
    assert counts(db_path) == FULL


def test_export_with_unsafe_entry_is_refused(
    server: Server, db_path: Path, session: requests.Session
) -> None:
    run(server, db_path, session)
    server.exports["npm"] = Export(export("npm", {"../evil.json": b"{}"}), etag='"v2"')
    refused = r"npm/all.zip: downloaded export refused: unsafe entry name '../evil.json'"
    with pytest.raises(NetworkError, match=refused):
        run(server, db_path, session)
    assert counts(db_path) == FULL
    assert not (db_path.parent.parent / "evil.json").exists()


def test_download_url_from_environment(
    server: Server, db_path: Path, session: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPGUARD_OSV_DOWNLOAD_URL", server.url + "/")
    result = sync(db_path, ["npm"], session=session)
    assert result.ecosystems[0].url == f"{server.url}/npm/all.zip"
    assert counts(db_path) == {"npm": 12}


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    assert stderr_progress(io.StringIO()) is None
    out = Tty()
    show = stderr_progress(out)
    assert show is not None
    show("npm", 1_000_000, 2_000_000)
    show("npm", 2_000_000, 2_000_000)
    assert out.getvalue().endswith("\rdownloading npm all.zip: 2.0/2.0 MB 100%\n")
