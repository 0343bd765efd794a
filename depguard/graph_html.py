"""`graph --format html`: one self-contained page that draws the dependency graph.

The page needs nothing from the network: its CSS and JS (plain, no library) come
from `depguard/assets/` and are inlined, and the graph travels as JSON in a
`<script type="application/json">` element with `<`, `>` and `&` escaped, so a
package name can never close the element. A Content-Security-Policy allows
only the page's own style and script (by hash) and no loads at all.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections import defaultdict
from importlib import resources
from typing import Any

from depguard.graph import MAX_CHAINS, DependencyGraph
from depguard.graph_render import graph_to_dict
from depguard.models import Ecosystem, canonical_name
from depguard.report import Finding, Severity

__all__ = ["graph_page_data", "render_html"]

_NameKey = tuple[str, str]
"""(ecosystem, canonical name)."""


def render_html(graph: DependencyGraph, findings: list[Finding]) -> str:
    """The whole page as one string."""
    return _page(graph_page_data(graph, findings))


def graph_page_data(graph: DependencyGraph, findings: list[Finding]) -> dict[str, Any]:
    """What the page's script reads: nodes, edges as index pairs, findings mapped to nodes."""
    doc = graph_to_dict(graph)
    nodes = [_node(graph, raw) for raw in doc["nodes"]]
    index = {node["id"]: position for position, node in enumerate(nodes)}
    edges = [
        [index[e["from"]], index[e["to"]], e["scope"]]
        for e in doc["edges"]
        if e["from"] in index and e["to"] in index
    ]
    placed = _finding_rows(nodes, findings)
    roots = [node for node in nodes if node["root"]]
    return {
        "roots": [{"name": node["name"], "manifest": node["manifest"]} for node in roots],
        "packages": len(nodes) - len(roots),
        "nodes": nodes,
        "edges": edges,
        "findings": placed,
        "partial": doc["partial"],
        "chain_limit": MAX_CHAINS,
    }


def _node(graph: DependencyGraph, raw: dict[str, Any]) -> dict[str, Any]:
    dep = None if raw["root"] else graph.package(raw["id"])
    depth = 0 if raw["root"] else (graph.depth(dep) if dep is not None else None)
    return {
        "id": raw["id"],
        "name": raw["name"],
        "version": raw["version"],
        "ecosystem": raw["ecosystem"],
        "scope": raw["scope"],
        "direct": raw["direct"],
        "root": raw["root"],
        "depth": depth,
        "manifest": raw["manifest"],
        "flag": None,
    }


def _finding_rows(nodes: list[dict[str, Any]], findings: list[Finding]) -> list[dict[str, Any]]:
    """Findings, worst first, each with the indices of the nodes it names; flags those nodes."""
    by_name: dict[_NameKey, list[int]] = defaultdict(list)
    for position, node in enumerate(nodes):
        if not node["root"]:
            by_name[(node["ecosystem"], node["name"])].append(position)
    rows = []
    for finding in sorted(findings, key=Finding.sort_key):
        targets = _targets(finding, nodes, by_name)
        for position in targets:
            _raise_flag(nodes[position], finding.severity)
        rows.append({**_finding_json(finding), "nodes": targets})
    return rows


def _targets(
    finding: Finding, nodes: list[dict[str, Any]], by_name: dict[_NameKey, list[int]]
) -> list[int]:
    """Nodes of the finding's package: its version, or every version when it names none."""
    ecosystem = Ecosystem(finding.ecosystem)
    candidates = by_name.get((ecosystem.value, canonical_name(ecosystem, finding.package)), [])
    if finding.version is None:
        return list(candidates)
    return [p for p in candidates if nodes[p]["version"] == finding.version]


def _raise_flag(node: dict[str, Any], severity: Severity) -> None:
    current = node["flag"]
    if current is None or Severity(current).rank < severity.rank:
        node["flag"] = severity.value


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "ecosystem": finding.ecosystem.value,
        "package": finding.package,
        "version": finding.version,
        "id": finding.id,
        "message": finding.message,
        "action": finding.action,
        "paths": [list(path) for path in finding.paths],
    }


# -- the page -----------------------------------------------------------------


def _script_json(data: Any) -> str:
    """JSON that is safe as the text of a <script> element (no `<`, `>`, `&` at all)."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _asset(name: str) -> str:
    text = (resources.files("depguard") / "assets" / name).read_text(encoding="utf-8")
    if "</" in text:
        raise RuntimeError(f"depguard/assets/{name} must not contain '</' (it is inlined)")
    return text


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _page(data: dict[str, Any]) -> str:
    css, js = _asset("graph.css"), _asset("graph.js")
    csp = (
        f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    roots = ", ".join(root["name"] for root in data["roots"]) or "(no root)"
    return "".join(
        [
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            f'<meta http-equiv="Content-Security-Policy" content="{html.escape(csp)}">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            f"<title>depguard graph: {html.escape(roots)}</title>\n",
            f"<style>{css}</style>\n</head>\n<body>\n",
            _header(data),
            '<main><svg id="graph" aria-label="dependency graph"></svg>\n',
            _LEGEND,
            "</main>\n",
            _aside(data),
            '<script type="application/json" id="depguard-data">',
            _script_json(data),
            f"</script>\n<script>{js}</script>\n</body>\n</html>\n",
        ]
    )


def _stat(element_id: str, value: object, text: str) -> str:
    return (
        f'<span class="stat" id="{element_id}"><b>{html.escape(str(value))}</b> '
        f"{html.escape(text)}</span>\n"
    )


def _header(data: dict[str, Any]) -> str:
    roots = ", ".join(f"{r['name']} ({r['manifest']})" for r in data["roots"]) or "none"
    count = len(data["findings"])
    parts = [
        "<header>\n<h1>depguard &middot; dependency graph</h1>\n",
        f'<span class="stat" id="summary-roots">Roots: <b>{html.escape(roots)}</b></span>\n',
        _stat("summary-packages", data["packages"], "packages"),
        _stat("summary-edges", len(data["edges"]), "edges"),
        _stat("summary-findings", count, "finding" if count == 1 else "findings"),
    ]
    if data["partial"]:
        partial = ", ".join(data["partial"])
        parts.append(f'<span class="partial">partial graph (no lock): {html.escape(partial)}')
        parts.append("</span>\n")
    parts.append(
        '<div class="search"><input id="search" type="search" autocomplete="off" '
        'placeholder="Search packages ( / )" aria-label="search packages">'
        '<span id="search-count"></span><button id="fit" type="button">Fit</button>'
        '<ul id="search-results"></ul></div>\n</header>\n'
    )
    return "".join(parts)


_LEGEND = (
    '<div class="legend"><span><i class="dot root"></i>root</span>'
    '<span><i class="dot direct"></i>direct</span>'
    '<span><i class="dot transitive"></i>transitive</span>'
    '<span><i class="dot sev-malicious"></i>malicious</span>'
    '<span><i class="dot sev-high"></i>critical/high</span>'
    '<span><i class="dot sev-low"></i>other finding</span>'
    "<span>hollow: dev/optional/peer &middot; wheel: zoom &middot; drag: pan</span></div>\n"
)


def _aside(data: dict[str, Any]) -> str:
    return (
        '<aside>\n<section class="panel" id="details"></section>\n'
        f'<section class="panel" id="findings"><h2>Findings ({len(data["findings"])})</h2>'
        '<div id="findings-list"></div></section>\n</aside>\n'
    )
