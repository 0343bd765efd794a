"""Faults around the inputs: a damaged database, a registry that hangs, a sync killed mid-way.

Two syncs at once serialize on the database's write lock: that is covered in
tests/advisories/test_sync.py (test_concurrent_syncs_serialize and
test_sync_waits_for_a_lock_held_by_another_process), not repeated here.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, fixture_path
from tests.hostile._cli import FAST, assert_one_error, depguard

# ------------------------------------------------------------------ a local HTTP server


@dataclass
class Local:
    """A 127.0.0.1 server whose GET answers come from `handle`; `stop` ends any waits."""

    handle: Callable[[BaseHTTPRequestHandler, Local], None]
    url: str = ""
    stop: threading.Event = field(default_factory=threading.Event)
    paths: list[str] = field(default_factory=list)
    sent: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def local() -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler, Local], None]], Local]]:
    servers: list[tuple[ThreadingHTTPServer, Local]] = []

    def start(handle: Callable[[BaseHTTPRequestHandler, Local], None]) -> Local:
        state = Local(handle)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                state.paths.append(self.path)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    state.handle(self, state)

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
        servers.append((httpd, state))
        return state

    yield start
    for httpd, state in servers:
        state.stop.set()
        httpd.shutdown()
        httpd.server_close()


# ------------------------------------------------------------------ a damaged database


def _build_db(path: Path) -> None:
    run = depguard("db", "import", fixture_path("osv", "records"), "--db", path)
    assert run.code == 0, run.stderr


def _scribble_pages(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(4096)
        fh.write(b"\xde\xad\xbe\xef" * ((size - 4096) // 4))


def _set_raw(value: object) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE advisories SET raw = ?", (value,))
        conn.close()

    return damage


DAMAGE: dict[str, Callable[[Path], object]] = {
    "garbage": lambda p: p.write_bytes(b"this is not a database" * 50),
    "empty": lambda p: p.write_bytes(b""),
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "scribbled-pages": _scribble_pages,
    "record-not-compressed": _set_raw(b"\x00\x11\x22\x33"),
    "record-text": _set_raw("hello"),
    "record-bad-json": _set_raw(zlib.compress(b'{"id": "GHSA-x", ')),
    "record-deep-json": _set_raw(zlib.compress(b"[" * 100_000 + b"]" * 100_000)),
}
STATUS_SEES_IT = {"garbage", "empty", "truncated", "scribbled-pages"}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_database_names_the_rebuild_command(tmp_path: Path, damage: str) -> None:
    db = tmp_path / "osv.db"
    _build_db(db)
    DAMAGE[damage](db)
    project = tmp_path / "project"
    shutil.copytree(fixture_path("projects", "npm-axios-1.14.1"), project)
    line = assert_one_error(depguard("scan", project, "--db", db, "--offline"), "osv.db")
    assert "depguard db sync" in line
    if damage in STATUS_SEES_IT:
        line = assert_one_error(depguard("db", "status", "--db", db), "osv.db")
        assert "depguard db sync" in line
    assert "depguard db import --replace PATH" in line
    rebuilt = depguard("db", "import", "--replace", fixture_path("osv", "records"), "--db", db)
    assert rebuilt.code == 0, rebuilt.stderr  # the command the message names does rebuild it
    again = depguard("scan", project, "--db", db, "--offline", "-f", "json")
    assert again.code == 1, again.stderr  # the axios 1.14.1 incident, found again
    assert "MAL-2026-2307" in again.stdout


# ------------------------------------------------------------------ a registry that hangs


def _hang(handler: BaseHTTPRequestHandler, state: Local) -> None:
    state.stop.wait(60)


CHANGE = """\
--- a/requirements.txt
+++ b/requirements.txt
@@ -1 +1,6 @@
 six==1.16.0
+requests==2.31.0
+flask==3.0.3
+idna==3.7
+attrs==23.2.0
+click==8.1.7
"""


def test_hanging_registry_degrades_to_not_checked(tmp_path: Path, local: Any) -> None:
    registry = local(_hang)
    db = tmp_path / "osv.db"
    _build_db(db)  # covers both ecosystems: no online OSV lookup in this run
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "change.diff").write_text(CHANGE)
    env = {"DEPGUARD_PYPI_URL": registry.url, "DEPGUARD_NPM_URL": registry.url,
           "DEPGUARD_OSV_API_URL": registry.url}
    run = depguard("check", project, "--diff", tmp_path / "change.diff", "--db", db,
                   "-f", "json", env=env)
    print(f"check against a hanging registry: {run.seconds:.1f}s, {len(registry.paths)} requests")
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)
    notes = " ".join(report.get("notes", [])) + run.stderr
    assert "not checked" in notes and "timeout" in notes, notes
    assert {c["name"] for c in report["changes"]["added"]} >= {"requests", "flask", "click"}
    assert len(registry.paths) == 1, registry.paths  # one timeout, not one per package
    assert run.seconds < FAST


# ------------------------------------------------------------------ a sync killed mid-download


def _export(ecosystem: str, extra: int = 0) -> bytes:
    """An OSV all.zip of the fixture records for `ecosystem`, plus `extra` synthetic ones."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(fixture_path("osv", "export").glob("*.json")):
            rec = json.loads(path.read_text(encoding="utf-8"))
            if any(a.get("package", {}).get("ecosystem") == ecosystem for a in rec["affected"]):
                archive.writestr(path.name, path.read_bytes())
        for i in range(extra):
            rec = {"id": f"TEST-{ecosystem}-{i}", "modified": "2026-04-01T00:00:00Z",
                   "affected": [{"package": {"ecosystem": ecosystem, "name": f"pkg{i}"},
                                 "versions": ["1.0.0"]}], "details": "x" * 2000}
            archive.writestr(f"TEST-{i}.json", json.dumps(rec))
    return buf.getvalue()


@dataclass
class Exports:
    bodies: dict[str, bytes]
    slow: bool = False
    etag: str = '"v1"'


def _serve_exports(exports: Exports) -> Callable[[BaseHTTPRequestHandler, Local], None]:
    def handle(handler: BaseHTTPRequestHandler, state: Local) -> None:
        eco = handler.path.split("/")[1]
        body = exports.bodies.get(eco)
        if body is None:
            handler.send_error(404)
            return
        handler.send_response(200)
        handler.send_header("ETag", exports.etag)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if not exports.slow:
            handler.wfile.write(body)
            return
        handler.wfile.write(body[: len(body) // 3])
        handler.wfile.flush()
        state.sent.set()
        state.stop.wait(60)  # the rest never comes while the test runs

    return handle


def _status(db: Path) -> dict[str, Any]:
    run = depguard("db", "status", "--db", db, "-f", "json")
    assert run.code == 0, run.stderr
    status: dict[str, Any] = json.loads(run.stdout)
    return status


def test_sync_killed_mid_download_keeps_the_old_database(tmp_path: Path, local: Any) -> None:
    exports = Exports({"PyPI": _export("PyPI"), "npm": _export("npm")})
    server = local(_serve_exports(exports))
    db = tmp_path / "cache" / "osv.db"
    first = depguard("db", "sync", "--db", db, "--url", server.url)
    assert first.code == 0, first.stderr
    before = _status(db)
    assert before["ecosystems"] == {"PyPI": 9, "npm": 12}

    exports.bodies = {"PyPI": _export("PyPI", extra=300), "npm": _export("npm", extra=300)}
    exports.slow, exports.etag = True, '"v2"'
    env = {"PYTHONPATH": str(ROOT), "DEPGUARD_DB": str(db), "NO_PROXY": "127.0.0.1"}
    with subprocess.Popen(
        [sys.executable, "-m", "depguard", "db", "sync", "--db", str(db), "--url", server.url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**_base_env(), **env},
    ) as proc:  # fmt: skip
        assert server.sent.wait(30), "the sync never started downloading"
        time.sleep(0.3)  # let it write part of the body to disk
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL

    after = _status(db)  # the old database, untouched and readable
    assert after["ecosystems"] == before["ecosystems"]
    assert after["advisories"] == before["advisories"]
    scan = depguard("scan", fixture_path("projects", "npm-axios-1.14.1"), "--db", db,
                    "--offline", "-f", "json")
    assert scan.code == 1 and "MAL-2026-2307" in scan.stdout, scan.stderr

    exports.slow = False
    again = depguard("db", "sync", "--db", db, "--url", server.url, "--timeout", "10")
    assert again.code == 0, again.stderr
    assert _status(db)["ecosystems"] == {"PyPI": 309, "npm": 312}
    leftovers = sorted(p.name for p in db.parent.iterdir())
    assert leftovers == ["osv.db", "osv.db.lock"], leftovers


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("DEPGUARD_")}
