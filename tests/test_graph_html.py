"""`graph --format html`: the page data, its escaping, and the page itself in headless Chromium."""

from __future__ import annotations

import base64
import html
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from depguard.audit import ScanOptions, build_graph, flag_graph
from depguard.graph import DependencyGraph
from depguard.graph_html import graph_page_data, render_html
from depguard.models import Dependency, Ecosystem, Edge, ParsedManifest, Root
from depguard.report import Finding, Severity
from tests.conftest import fixture_path

PLAIN = "npm:plain-crypto-js@4.2.1"
HOSTILE = '</script><script>window.__pwned=1</script>"\'&<img src=x onerror="window.__pwned=2">'


def axios_graph(tmp: Path) -> tuple[DependencyGraph, list[Finding]]:
    graph, _ = build_graph(fixture_path("projects", "npm-axios-1.14.1"), ScanOptions())
    return graph, flag_graph(graph, db_path=tmp / "none.db")


def small_graph(names: list[tuple[str, str]], root: str = "app",
                branching: int = 1) -> DependencyGraph:
    """A tree: package i hangs under package (i - 1) // branching, the first under the root."""
    manifest = ParsedManifest(path="package-lock.json", kind="package-lock.json",
                              ecosystem=Ecosystem.NPM, locked=True)
    top = Root(name=root, source="package-lock.json", ecosystem=Ecosystem.NPM)
    manifest.roots.append(top)
    deps = [Dependency(ecosystem=Ecosystem.NPM, name=n, version=v,  # type: ignore[arg-type]
                       source="package-lock.json") for n, v in names]
    for index, dep in enumerate(deps):
        manifest.add_package(dep)
        parent = top.id if index == 0 else deps[(index - 1) // branching].id
        manifest.edges.append(Edge(parent=parent, child=dep.id))
    return DependencyGraph.build([manifest])


def finding(package: str, version: str | None, severity: Severity) -> Finding:
    return Finding(rule="known-vulnerability", severity=severity, ecosystem=Ecosystem.NPM,
                   package=package, version=version, message=f"{package} is bad")


def embedded(page: str) -> Any:
    head = '<script type="application/json" id="depguard-data">'
    start = page.index(head) + len(head)
    return json.loads(page[start:page.index("</script>", start)])


# -- the data and the page text --------------------------------------------------


def test_axios_data_flags_both_malicious_releases(tmp_path: Path) -> None:
    graph, findings = axios_graph(tmp_path)
    data = graph_page_data(graph, findings)
    flagged = {n["id"]: n["flag"] for n in data["nodes"] if n["flag"]}
    assert flagged == {"npm:axios@1.14.1": "malicious", PLAIN: "malicious"}
    plain = next(i for i, n in enumerate(data["nodes"]) if n["id"] == PLAIN)
    assert data["nodes"][plain]["depth"] == 2 and not data["nodes"][plain]["direct"]
    assert [f["nodes"] for f in data["findings"] if f["package"] == "plain-crypto-js"] == [[plain]]
    assert len(data["edges"]) == len(graph.edges()) and data["packages"] == len(graph.packages())


def test_findings_map_by_version_and_worst_severity_wins() -> None:
    graph = small_graph([("debug", "2.6.9"), ("debug", "4.3.4"), ("ms", "2.0.0")])
    findings = [finding("debug", None, Severity.LOW), finding("Debug", "4.3.4", Severity.CRITICAL),
                finding("ms", "9.9.9", Severity.HIGH), finding("left-pad", "1.0.0", Severity.LOW)]
    data = graph_page_data(graph, findings)
    flags = {n["id"]: n["flag"] for n in data["nodes"]}
    assert flags["npm:debug@2.6.9"] == "low" and flags["npm:debug@4.3.4"] == "critical"
    assert flags["npm:ms@2.0.0"] is None
    placed = {(f["package"], f["version"]): len(f["nodes"]) for f in data["findings"]}
    assert placed == {("debug", None): 2, ("Debug", "4.3.4"): 1, ("ms", "9.9.9"): 0,
                      ("left-pad", "1.0.0"): 0}
    assert data["findings"][0]["severity"] == "critical"  # worst first


def test_page_is_self_contained(tmp_path: Path) -> None:
    graph, findings = axios_graph(tmp_path)
    page = render_html(graph, findings)
    assert embedded(page) == graph_page_data(graph, findings)
    for needle in ("src=", "href=", "@import", "url(", "https://"):
        assert needle not in page
    assert page.replace("http://www.w3.org/2000/svg", "").count("http://") == 0
    assert "Content-Security-Policy" in page and "default-src 'none'" in html.unescape(page)
    assert page.count("<script") == 2 and page.count("</script>") == 2


def test_hostile_names_cannot_break_out() -> None:
    graph = small_graph([(HOSTILE, "1.0.0"), ("ok", "1.0.0")], root=HOSTILE)
    page = render_html(graph, [finding(HOSTILE, "1.0.0", Severity.MALICIOUS)])
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert "<img" not in page and HOSTILE not in page
    data = embedded(page)
    assert {n["name"] for n in data["nodes"]} == {HOSTILE, "ok"}
    assert data["findings"][0]["package"] == HOSTILE


# -- the page in headless Chromium -------------------------------------------------


class Cdp:
    """A minimal Chrome DevTools Protocol client over one websocket (stdlib only)."""

    def __init__(self, port: int, path: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                          .encode())
        self.buf = bytearray()
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(4096)
        head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
        assert b" 101 " in head.split(b"\r\n")[0], head
        self.buf = bytearray(rest)
        self.last_id = 0
        self.events: list[dict[str, Any]] = []

    def _send(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        size = len(payload)
        header = bytes([0x81]) + (bytes([0x80 | size]) if size < 126
                                  else bytes([0x80 | 126]) + size.to_bytes(2, "big"))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _take(self, count: int) -> bytes:
        while len(self.buf) < count:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("chromium closed the DevTools socket")
            self.buf += chunk
        out = bytes(self.buf[:count])
        del self.buf[:count]
        return out

    def _message(self) -> dict[str, Any]:
        message = b""
        while True:
            first, second = self._take(2)
            size = second & 0x7F
            if size >= 126:
                size = int.from_bytes(self._take(2 if size == 126 else 8), "big")
            payload = self._take(size)
            if first & 0x0F == 8:
                raise ConnectionError("chromium closed the DevTools socket")
            message += payload
            if first & 0x80 and first & 0x0F in (0, 1):
                result: dict[str, Any] = json.loads(message)
                return result

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        self._send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            msg = self._message()
            if msg.get("id") == self.last_id:
                assert "error" not in msg, msg
                result: dict[str, Any] = msg.get("result", {})
                return result
            self.events.append(msg)

    def js(self, expression: str) -> Any:
        reply = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                          awaitPromise=True)
        assert "exceptionDetails" not in reply, reply["exceptionDetails"]
        return reply["result"].get("value")

    def errors(self) -> str:
        """Uncaught exceptions, console errors and browser errors (CSP, loads) seen so far."""
        bad = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                bad.append(details.get("exception", {}).get("description") or details["text"])
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                args = params["args"]
                bad.append(" ".join(str(a.get("value", a.get("description"))) for a in args))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                bad.append(params["entry"]["text"])
        return "\n".join(bad)

    def click(self, x: float, y: float) -> None:
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                      buttons=0 if kind == "mouseReleased" else 1, clickCount=1)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cdp]:
    exe = shutil.which("chromium")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("the page test needs Debian's chromium (apt-get install -y chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions", "--no-first-run",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file, deadline = profile / "DevToolsActivePort", time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            assert proc.poll() is None and time.monotonic() < deadline, "chromium did not start"
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/json/list")
        page = next(t for t in json.loads(conn.getresponse().read()) if t["type"] == "page")
        conn.close()
        cdp = Cdp(port, page["webSocketDebuggerUrl"].split(str(port), 1)[1])
        with cdp.sock:
            for domain in ("Runtime", "Log", "Page"):
                cdp.call(f"{domain}.enable")
            cdp.call("Emulation.setDeviceMetricsOverride", width=1400, height=900,
                     deviceScaleFactor=1, mobile=False)
            yield cdp
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def open_page(cdp: Cdp, path: Path, html: str) -> None:
    path.write_text(html, encoding="utf-8")
    cdp.call("Page.navigate", url=path.as_uri())
    cdp.events.clear()
    deadline = time.monotonic() + 30
    while cdp.js("document.body && document.body.dataset.ready") != "true":
        assert not cdp.errors(), cdp.errors()
        assert time.monotonic() < deadline, "the page never became ready"
        time.sleep(0.1)
    time.sleep(0.2)  # one animation frame for the view transform
    assert not cdp.errors(), cdp.errors()


def click_node(cdp: Cdp, node_id: str) -> None:
    """A real mouse click at the node's dot, after checking the dot is what is under it."""
    x, y = cdp.js(f"""(() => {{
        const c = [...document.querySelectorAll('.node')]
            .find(n => n.dataset.id === {json.dumps(node_id)})
            .querySelector('.dot-shape').getBoundingClientRect();
        return [c.x + c.width / 2, c.y + c.height / 2]; }})()""")
    hit = cdp.js(f"document.elementFromPoint({x}, {y}).closest('.node').dataset.id")
    assert hit == node_id
    cdp.click(x, y)


def chains(cdp: Cdp) -> list[str]:
    result: list[str] = cdp.js(
        "[...document.querySelectorAll('#details li.chain')].map(li => li.textContent)")
    return result


def test_click_on_the_flagged_node_shows_its_chain(chromium: Cdp, tmp_path: Path) -> None:
    open_page(chromium, tmp_path / "graph.html", render_html(*axios_graph(tmp_path)))
    assert chromium.js("document.querySelectorAll('#nodes .node').length") == 1297
    classes = chromium.js(f"document.querySelector('.node[data-id={json.dumps(PLAIN)}]')"
                          ".getAttribute('class')")
    assert {"flag", "sev-malicious"} <= set(classes.split())
    assert "2 findings" in chromium.js("document.querySelector('header').textContent")
    click_node(chromium, PLAIN)
    assert chains(chromium) == ["holdout > axios > plain-crypto-js"]
    assert chromium.js("document.querySelector('#details h2').textContent") == "plain-crypto-js"
    assert "MAL-2026-2306" in chromium.js("document.querySelector('#details').textContent")
    assert chromium.js("document.querySelector('.node.selected').dataset.id") == PLAIN
    assert chromium.js("document.querySelector('#chain-edges').getAttribute('d')") != ""
    shot = base64.b64decode(chromium.call("Page.captureScreenshot", format="png")["data"])
    (tmp_path / "graph.png").write_bytes(shot)
    assert shot.startswith(b"\x89PNG") and len(shot) > 20_000
    assert not chromium.errors(), chromium.errors()


def test_findings_panel_selects_and_centres(chromium: Cdp, tmp_path: Path) -> None:
    open_page(chromium, tmp_path / "graph.html", render_html(*axios_graph(tmp_path)))
    chromium.js("[...document.querySelectorAll('#findings-list .finding')]"
                ".find(f => f.textContent.includes('plain-crypto-js')).click()")
    time.sleep(0.1)
    assert chromium.js("document.querySelector('.node.selected').dataset.id") == PLAIN
    assert chains(chromium) == ["holdout > axios > plain-crypto-js"]
    assert chromium.js("document.querySelector('.node[data-id=\"npm:axios@1.14.1\"]')"
                       ".classList.contains('chain')")
    active = chromium.js("[...document.querySelectorAll('#findings-list .finding.active')]"
                         ".map(f => f.textContent)")
    assert len(active) == 1 and "plain-crypto-js" in active[0]
    assert "scale(1.1)" in chromium.js("document.getElementById('viewport')"
                                       ".getAttribute('transform')")


def test_search_zoom_and_pan(chromium: Cdp, tmp_path: Path) -> None:
    open_page(chromium, tmp_path / "graph.html", render_html(*axios_graph(tmp_path)))
    transform = "document.getElementById('viewport').getAttribute('transform')"
    before = chromium.js(transform)
    chromium.call("Input.dispatchMouseEvent", type="mouseWheel", x=500, y=400, deltaX=0,
                  deltaY=-400)
    time.sleep(0.1)
    zoomed = chromium.js(transform)
    assert zoomed != before
    for kind, x in (("mousePressed", 500), ("mouseMoved", 560), ("mouseReleased", 560)):
        chromium.call("Input.dispatchMouseEvent", type=kind, x=x, y=400, button="left",
                      buttons=0 if kind == "mouseReleased" else 1, clickCount=1)
    time.sleep(0.1)
    assert chromium.js(transform) != zoomed
    assert chromium.js("document.querySelector('.node.selected')") is None  # a drag, not a click
    chromium.js("document.getElementById('search').focus()")
    chromium.call("Input.insertText", text="plain-cry")
    assert chromium.js("document.getElementById('search-count').textContent") == "1 match"
    assert chromium.js("[...document.querySelectorAll('.node.match')].map(n => n.dataset.id)") \
        == [PLAIN]
    chromium.call("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter",
                  windowsVirtualKeyCode=13)
    assert chains(chromium) == ["holdout > axios > plain-crypto-js"]
    assert not chromium.errors(), chromium.errors()


def test_hostile_names_render_as_text(chromium: Cdp, tmp_path: Path) -> None:
    graph = small_graph([(HOSTILE, "1.0.0"), ("ok", "1.0.0")], root=HOSTILE)
    page = render_html(graph, [finding(HOSTILE, "1.0.0", Severity.MALICIOUS)])
    open_page(chromium, tmp_path / "hostile.html", page)
    click_node(chromium, f"npm:{HOSTILE}@1.0.0")
    assert chromium.js("document.querySelector('#details h2').textContent") == HOSTILE
    assert chains(chromium) == [f"{HOSTILE} > {HOSTILE}"]
    assert chromium.js("typeof window.__pwned") == "undefined"
    assert chromium.js("document.querySelectorAll('img').length") == 0
    assert not chromium.errors(), chromium.errors()


def test_two_thousand_packages_load(chromium: Cdp, tmp_path: Path) -> None:
    graph = small_graph([(f"pkg-{i}", "1.0.0") for i in range(2000)], branching=4)
    open_page(chromium, tmp_path / "big.html", render_html(graph, []))
    assert chromium.js("document.querySelectorAll('#nodes .node').length") == 2001
    assert chromium.js("document.getElementById('findings-list').textContent") == "No findings."


@pytest.mark.parametrize(
    ("tamper", "caught"),
    [
        # the script no longer matches the policy's hash: Chromium must refuse to run it
        (lambda page: page.replace('"use strict";', '"use strict"; ', 1),
         "Content Security Policy"),
        # a script error (here: data without nodes) surfaces as an exception
        (lambda page: re.sub(r'(id="depguard-data">)[^<]*', r"\1{}", page), "TypeError"),
    ],
)
def test_the_harness_sees_broken_pages(chromium: Cdp, tmp_path: Path, tamper: Any,
                                       caught: str) -> None:
    page = render_html(small_graph([("a", "1.0.0")]), [])
    with pytest.raises(AssertionError, match=caught):
        open_page(chromium, tmp_path / "broken.html", tamper(page))


def test_unreachable_package_and_empty_graph(chromium: Cdp, tmp_path: Path) -> None:
    graph = small_graph([("a", "1.0.0")])
    manifest = ParsedManifest(path="package-lock.json", kind="package-lock.json",
                              ecosystem=Ecosystem.NPM)
    manifest.add_package(Dependency(ecosystem=Ecosystem.NPM, name="stray",  # type: ignore[arg-type]
                                    version="1.0.0"))
    graph.add_manifest(manifest)
    open_page(chromium, tmp_path / "stray.html", render_html(graph, []))
    click_node(chromium, "npm:stray@1.0.0")
    details = chromium.js("document.querySelector('#details').textContent")
    assert "unreachable" in details and "not reachable from a root" in details
    open_page(chromium, tmp_path / "empty.html", render_html(DependencyGraph(), []))
    assert chromium.js("document.querySelectorAll('#nodes .node').length") == 0
