"""`depguard scan --env`: pip-audit run for real, its OSV service served by a local TLS proxy.

pip-audit's OSV client posts to https://api.osv.dev/v1/query through `requests`,
which honours HTTPS_PROXY. The harness below is a CONNECT proxy on 127.0.0.1
that terminates TLS for `api.osv.dev` with a certificate signed by a throwaway
CA (made with the `openssl` command line) and answers `/v1/query` with real
OSV records from `fixtures/osv/records/`. Every proxy variable of the
subprocess points at it (NO_PROXY empty), and it refuses any other host and
records the attempt, so nothing can leave the machine; each test asserts it.
The audited environments are real venvs made in tmp_path with hand-written
dist-info folders (metadata only), plus a `.pth` file that would leave a marker
if anything ever started the audited interpreter with its site hooks.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from depguard.audit import ScanOptions, scan_env
from depguard.cli import cli
from depguard.errors import NetworkError, UsageError
from depguard.models import Ecosystem
from depguard.pipaudit import (
    PINNED_FIELDS,
    AuditedDep,
    locate_environment,
    merge_findings,
    parse_pip_audit_json,
    pip_audit_command,
)
from depguard.report import Finding, Severity
from tests.conftest import fixture_path

OSV_HOST = "api.osv.dev"

# --- the TLS-terminating proxy ---------------------------------------------------------


@dataclass
class FakeOsv:
    """What the proxy serves and what it saw."""

    answers: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """(package, version) -> record ids from fixtures/osv/records."""
    queries: list[tuple[str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    status: int = 200

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        key = (body["package"]["name"], body["version"])
        assert body["package"]["ecosystem"] == "PyPI"
        self.queries.append(key)
        records = [_record(i) for i in self.answers.get(key, [])]
        return {"vulns": records} if records else {}


def _record(record_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        fixture_path("osv", "records", f"{record_id}.json").read_text(encoding="utf-8"))
    return data


class _OsvHandler(BaseHTTPRequestHandler):
    """The HTTPS side: POST /v1/query on the decrypted stream."""

    protocol_version = "HTTP/1.1"
    osv: FakeOsv

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path != "/v1/query" or self.osv.status != 200:
            self._send(self.osv.status if self.osv.status != 200 else 404, {"error": "no"})
            return
        self._send(200, self.osv.answer(body))

    def _send(self, status: int, doc: dict[str, Any]) -> None:
        payload = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ProxyHandler(BaseHTTPRequestHandler):
    """The proxy side: CONNECT api.osv.dev:443 is intercepted; everything else refused."""

    protocol_version = "HTTP/1.1"
    osv: FakeOsv
    tls: ssl.SSLContext

    def do_CONNECT(self) -> None:
        if self.path != f"{OSV_HOST}:443":
            self._refuse()
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        handler = type("Handler", (_OsvHandler,), {"osv": self.osv})
        with self.tls.wrap_socket(self.connection, server_side=True) as tls_sock:
            handler(tls_sock, self.client_address, self.server)
        self.close_connection = True

    def _refuse(self) -> None:
        self.osv.refused.append(f"{self.command} {self.path}")
        self.send_response(403, "only api.osv.dev is served here")
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.close_connection = True

    do_GET = do_POST = do_HEAD = do_PUT = _refuse

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key): a throwaway CA and a leaf for api.osv.dev."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command line is needed to make the test CA")
    folder = tmp_path_factory.mktemp("tls")
    (folder / "ext.cnf").write_text(
        f"subjectAltName=DNS:{OSV_HOST}\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for command in (
        ["req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=depguard test CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={OSV_HOST}"],
        ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"],
    ):
        subprocess.run(["openssl", *command], cwd=folder, check=True, capture_output=True)
    return folder / "ca.pem", folder / "server.pem", folder / "server.key"


@pytest.fixture()
def fake_osv(
    certificates: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeOsv]:
    """Start the proxy and point every proxy variable (and the CA bundle) at it."""
    ca, cert, key = certificates
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    osv = FakeOsv()
    handler = type("Proxy", (_ProxyHandler,), {"osv": osv, "tls": tls})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    proxy = f"http://127.0.0.1:{server.server_address[1]}"
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
        monkeypatch.setenv(name.lower(), proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    yield osv
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    assert osv.refused == [], f"something tried to leave the machine: {osv.refused}"


@pytest.fixture()
def dead_proxy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Proxy variables pointing at a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{sock.getsockname()[1]}"
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
        monkeypatch.setenv(name.lower(), proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return proxy


# --- audited environments ----------------------------------------------------------------


def make_env(root: Path, dists: dict[str, str]) -> tuple[Path, Path]:
    """A real venv with metadata-only dist-info folders; returns (venv, pth marker path)."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = locate_environment(venv).paths[0]
    for name, version in dists.items():
        info = Path(site) / f"{name}-{version.replace(' ', '_')}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    marker = root / "pth-ran"
    (Path(site) / "litellm_init.pth").write_text(
        f"import pathlib; pathlib.Path({str(marker)!r}).touch()\n")
    return venv, marker


@pytest.fixture()
def isolated_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache" / "osv.db"
    monkeypatch.setenv("DEPGUARD_DB", str(path))
    return path


def build_db(path: Path) -> Path:
    from depguard.advisories.db import import_paths

    import_paths(path, [fixture_path("osv", "records")], replace=True)
    return path


LITELLM = {"litellm": "1.82.8"}
REQUESTS = {"requests": "2.30.0"}


# --- through the CLI ---------------------------------------------------------------------


def test_env_scan_finds_curated_malware_and_pip_audit_vulns(
    fake_osv: FakeOsv, tmp_path: Path, isolated_db: Path
) -> None:
    venv, marker = make_env(tmp_path, {**LITELLM, **REQUESTS})
    fake_osv.answers[("requests", "2.30.0")] = ["PYSEC-2023-74", "GHSA-j8r2-6x86-q33q"]
    result = CliRunner().invoke(cli, ["scan", "--env", "--python", str(venv), "-f", "json"])
    assert result.exit_code == 1, result.stderr
    doc = json.loads(result.stdout)
    by_package = {f["package"]: f for f in doc["findings"]}
    assert set(by_package) == {"litellm", "requests"}
    litellm = by_package["litellm"]
    assert (litellm["rule"], litellm["id"], litellm["severity"]) == (
        "malicious-package", "MAL-2026-2144", "malicious")
    requests = by_package["requests"]
    assert requests["rule"] == "vulnerable-version"
    assert requests["id"] == "GHSA-j8r2-6x86-q33q"
    assert set(requests["aliases"]) == {"CVE-2023-32681", "PYSEC-2023-74"}
    assert requests["severity"] == "high"
    assert "no severity" in requests["message"]
    assert requests["fixed"] == ["2.31.0"]
    assert requests["paths"] == [["venv", "requests"]]
    assert sorted(fake_osv.queries) == [("litellm", "1.82.8"), ("requests", "2.30.0")]
    assert {p["name"] for p in doc["packages"]} == {"litellm", "requests"}
    assert doc["advisory_data"]["sources"][-1]["name"] == "pip-audit"
    assert not marker.exists(), "the audited environment's .pth file ran"


def test_one_issue_from_both_sides_is_reported_once_with_db_severity(
    fake_osv: FakeOsv, tmp_path: Path, isolated_db: Path
) -> None:
    build_db(isolated_db)
    venv, _ = make_env(tmp_path, {**LITELLM, **REQUESTS})
    fake_osv.answers[("requests", "2.30.0")] = ["PYSEC-2023-74", "GHSA-j8r2-6x86-q33q"]
    fake_osv.answers[("litellm", "1.82.8")] = ["PYSEC-2026-2", "MAL-2026-2144",
                                               "GHSA-5mg7-485q-xm76"]
    result = CliRunner().invoke(cli, ["scan", "--env", "--python", str(venv), "-f", "json"])
    assert result.exit_code == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    keys = sorted((f["package"], f["id"], f["severity"]) for f in findings)
    assert keys == [("litellm", "MAL-2026-2144", "malicious"),
                    ("requests", "GHSA-j8r2-6x86-q33q", "moderate")]


def test_offline_does_not_run_pip_audit_and_says_so(
    dead_proxy: str, tmp_path: Path, isolated_db: Path
) -> None:
    venv, marker = make_env(tmp_path, {**LITELLM, **REQUESTS, "oddball": "not a version"})
    result = CliRunner().invoke(
        cli, ["scan", "--env", "--python", str(venv), "--offline", "-f", "json"])
    assert result.exit_code == 1, result.stderr
    doc = json.loads(result.stdout)
    assert [(f["package"], f["rule"]) for f in doc["findings"]] == [
        ("litellm", "malicious-package")]
    assert [(u["package"], u["reason"]) for u in doc["unevaluated"]] == [
        ("oddball", "skipped: invalid version 'not a version', so it could not be audited")]
    assert any("pip-audit was not consulted" in n for n in doc["notes"])
    assert [s["name"] for s in doc["advisory_data"]["sources"]] == ["curated"]
    assert not marker.exists()


def test_offline_default_is_depguards_own_environment(
    dead_proxy: str, isolated_db: Path
) -> None:
    result = CliRunner().invoke(cli, ["scan", "--env", "--offline", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["target"] == str(Path(sys.executable).parent.parent.absolute())
    assert {"click", "pip-audit", "packaging"} <= {p["name"] for p in doc["packages"]}


def test_the_pth_marker_works(tmp_path: Path) -> None:
    """The guard above can fail: starting the audited interpreter normally runs its .pth."""
    venv, marker = make_env(tmp_path, LITELLM)
    subprocess.run([str(locate_environment(venv).python), "-c", "pass"], check=True)
    assert marker.exists()


def test_clean_environment_passes(fake_osv: FakeOsv, tmp_path: Path, isolated_db: Path) -> None:
    venv, _ = make_env(tmp_path, {"requests": "2.31.0"})
    result = CliRunner().invoke(cli, ["scan", "--env", "--python", str(venv)])
    assert result.exit_code == 0, result.stderr
    assert fake_osv.queries == [("requests", "2.31.0")]


def test_unreachable_service_is_exit_2_one_line(
    dead_proxy: str, tmp_path: Path, isolated_db: Path
) -> None:
    venv, _ = make_env(tmp_path, REQUESTS)
    result = CliRunner().invoke(cli, ["scan", "--env", "--python", str(venv)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        "depguard: error: pip-audit could not reach its osv vulnerability service: ProxyError")
    assert "--offline" in result.stderr


def test_bad_environment_is_exit_2(tmp_path: Path, isolated_db: Path) -> None:
    result = CliRunner().invoke(cli, ["scan", "--env", "--python", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.stderr == (
        f"depguard: error: {tmp_path / 'nope'}: no such interpreter or virtual environment\n")


def test_env_with_a_path_argument_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--env"])
    assert result.exit_code == 2
    assert "--env audits an installed environment" in result.stderr


# --- the library -------------------------------------------------------------------------


def test_service_error_status_is_a_network_error(
    fake_osv: FakeOsv, tmp_path: Path, isolated_db: Path
) -> None:
    venv, _ = make_env(tmp_path, REQUESTS)
    fake_osv.status = 503
    with pytest.raises(NetworkError, match="pip-audit could not reach its osv"):
        scan_env(ScanOptions(), venv)


def test_skipped_packages_are_unevaluated(
    fake_osv: FakeOsv, tmp_path: Path, isolated_db: Path
) -> None:
    venv, _ = make_env(tmp_path, {**REQUESTS, "oddball": "not a version"})
    report = scan_env(ScanOptions(), venv)
    assert [(u.package, u.version) for u in report.unevaluated] == [("oddball", None)]
    assert "invalid version" in report.unevaluated[0].reason
    assert fake_osv.queries == [("requests", "2.30.0")]


def test_pip_audit_json_format_is_the_one_depguard_reads(
    fake_osv: FakeOsv, tmp_path: Path
) -> None:
    """pip-audit's own output, key for key: fails when pip-audit changes its JSON format."""
    venv, _ = make_env(tmp_path, {**REQUESTS, "oddball": "not a version"})
    fake_osv.answers[("requests", "2.30.0")] = ["GHSA-j8r2-6x86-q33q"]
    command = pip_audit_command(locate_environment(venv).paths, "osv", tmp_path / "cache")
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == PINNED_FIELDS["report"]
    by_name = {d["name"]: d for d in doc["dependencies"]}
    assert set(by_name["requests"]) == PINNED_FIELDS["dependency"]
    assert set(by_name["oddball"]) == PINNED_FIELDS["skipped"]
    assert set(by_name["requests"]["vulns"][0]) == PINNED_FIELDS["vuln"]
    parsed: dict[str, AuditedDep] = {d.name: d for d in parse_pip_audit_json(proc.stdout)}
    requests = parsed["requests"]
    assert (requests.version, len(requests.vulns)) == ("2.30.0", 1)
    vuln = requests.vulns[0]
    assert vuln.ids == {"GHSA-j8r2-6x86-q33q", "CVE-2023-32681"}  # pip-audit picks the id
    assert (vuln.fix_versions, vuln.description) == (
        ("2.31.0",), "Unintended leak of Proxy-Authorization header in requests")
    assert parsed["oddball"] == AuditedDep(
        "oddball", None,  # type: ignore[arg-type]
        skip_reason=by_name["oddball"]["skip_reason"])
    assert "invalid version" in by_name["oddball"]["skip_reason"]


@pytest.mark.parametrize("text, fragment", [
    ("[]", "top level: expected an object"),
    ('{"dependencies": {}, "fixes": []}', "dependencies: expected a list"),
    ('{"dependencies": [], "fixes": [], "extra": 1}', "unexpected field(s) extra"),
    ('{"dependencies": [{"name": 1, "version": "1", "vulns": []}], "fixes": []}',
     "dependencies[0].name: expected a string"),
    ('{"dependencies": [{"name": "a", "version": "1", "vulns": [{"id": "X", "fix_versions": [],'
     ' "aliases": "Y", "description": ""}]}], "fixes": []}',
     "dependencies[0].vulns[0].aliases: expected a list of strings"),
    ('{"dependencies": [{"name": "a", "version": "1", "vulns": [{"id": "X", "fix_versions": [],'
     ' "description": ""}]}], "fixes": []}',
     "dependencies[0].vulns[0].aliases: expected a list of strings"),
    ("not json", "not JSON"),
])
def test_unexpected_pip_audit_json_is_an_error(text: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=None) as info:
        parse_pip_audit_json(text)
    assert fragment in str(info.value)


def _finding(package: str, fid: str, aliases: tuple[str, ...] = (),
             fixed: tuple[str, ...] = (), version: str = "1.0") -> Finding:
    return Finding(rule="vulnerable-version", severity=Severity.HIGH, ecosystem=Ecosystem.PYPI,
                   package=package, version=version, message="m", id=fid, aliases=aliases,
                   fixed=fixed)


def test_merge_keeps_one_finding_per_issue() -> None:
    own = [_finding("a", "GHSA-1", ("CVE-1",), ("1.1",))]
    theirs = [_finding("a", "PYSEC-1", ("CVE-1",), ("1.2",)),  # same issue by alias
              _finding("a", "PYSEC-2"),  # another issue
              _finding("a", "GHSA-1", version="2.0"),  # same id, other version
              _finding("b", "GHSA-1")]  # same id, other package
    merged = merge_findings(own, theirs)
    assert [(f.package, f.version, f.id) for f in merged] == [
        ("a", "1.0", "GHSA-1"), ("a", "1.0", "PYSEC-2"), ("a", "2.0", "GHSA-1"),
        ("b", "1.0", "GHSA-1")]
    assert merged[0].aliases == ("CVE-1", "PYSEC-1")
    assert merged[0].fixed == ("1.1", "1.2")
