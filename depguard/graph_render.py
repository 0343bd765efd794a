"""Render a DependencyGraph as a tree, JSON, Graphviz DOT or GraphML."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import quoteattr

from depguard.graph import DependencyGraph

__all__ = ["GRAPH_FORMATS", "graph_to_dict", "render_graph"]


def graph_to_dict(graph: DependencyGraph) -> dict[str, Any]:
    """The `graph --format json` document: {"nodes": [...], "edges": [...]}."""
    nodes: list[dict[str, Any]] = []
    for root in sorted(graph.roots(), key=lambda r: r.id):
        nodes.append(
            {
                "id": root.id,
                "ecosystem": root.ecosystem.value,
                "name": root.name,
                "version": None,
                "scope": "prod",
                "direct": False,
                "root": True,
                "manifest": root.source,
            }
        )
    for dep in graph.packages():
        nodes.append(
            {
                "id": dep.id,
                "ecosystem": dep.ecosystem.value,
                "name": dep.name,
                "version": dep.version,
                "scope": dep.scope.value,
                "direct": graph.is_direct(dep),
                "root": False,
                "manifest": dep.source,
                "line": dep.line,
                "install_script": dep.install_script,
                **({"alias": dep.alias} if dep.alias else {}),
            }
        )
    edges = [
        {"from": e.parent, "to": e.child, "specifier": e.specifier, "scope": e.scope.value}
        for e in sorted(graph.edges(), key=lambda e: (e.parent, e.child))
    ]
    partial = [m.path for m in graph.partial_manifests()]
    return {"nodes": nodes, "edges": edges, "partial": partial}


def render_json(graph: DependencyGraph) -> str:
    return json.dumps(graph_to_dict(graph), indent=2) + "\n"


TREE_DEPTH = 200
"""Deepest level the tree draws; real projects stay far below it."""


def render_tree(graph: DependencyGraph) -> str:
    """An `npm ls`-style tree; a subtree already printed is marked `(*)`, a cycle `(cycle)`."""
    lines: list[str] = []
    seen: set[str] = set()
    for root in sorted(graph.roots(), key=lambda r: (r.source, r.name)):
        lines.append(f"{root.name} ({root.source})")
        _tree(graph, root.id, "", seen, (root.id,), lines)
    return "\n".join(lines) + "\n"


def _tree(
    graph: DependencyGraph,
    node: str,
    prefix: str,
    seen: set[str],
    stack: tuple[str, ...],
    lines: list[str],
) -> None:
    children = graph.children(node)
    if children and len(stack) > TREE_DEPTH:  # a hostile chain: bounded recursion and output
        lines.append(f"{prefix}└── ... deeper levels not shown (use --format json)")
        return
    for index, (child, edge) in enumerate(children):
        last = index == len(children) - 1
        dep = graph.package(child)
        label = dep.label() if dep is not None else child
        if edge.scope.value != "prod":
            label += f" [{edge.scope.value}]"
        branch = "└── " if last else "├── "
        if child in stack:
            lines.append(f"{prefix}{branch}{label} (cycle)")
            continue
        expanded = child in seen and bool(graph.children(child))
        lines.append(f"{prefix}{branch}{label}{' (*)' if expanded else ''}")
        if child in seen:
            continue
        seen.add(child)
        _tree(graph, child, prefix + ("    " if last else "│   "), seen, (*stack, child), lines)


def render_dot(graph: DependencyGraph) -> str:
    lines = ["digraph depguard {", "  rankdir=LR;", "  node [shape=box, fontname=Helvetica];"]
    for root in graph.roots():
        lines.append(f"  {_dot_id(root.id)} [label={_dot_id(root.name)}, shape=folder];")
    for dep in graph.packages():
        style = ", style=dashed" if dep.scope.value != "prod" else ""
        lines.append(f"  {_dot_id(dep.id)} [label={_dot_id(dep.label())}{style}];")
    for edge in graph.edges():
        label = f" [label={_dot_id(edge.specifier)}]" if edge.specifier else ""
        lines.append(f"  {_dot_id(edge.parent)} -> {_dot_id(edge.child)}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_graphml(graph: DependencyGraph) -> str:
    keys = [
        ("ecosystem", "node"),
        ("name", "node"),
        ("version", "node"),
        ("scope", "node"),
        ("direct", "node"),
        ("root", "node"),
        ("specifier", "edge"),
        ("scope", "edge"),
    ]
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
    ]
    for name, domain in keys:
        kind = "boolean" if name in ("direct", "root") else "string"
        out.append(
            f'  <key id="{domain[0]}_{name}" for="{domain}" attr.name="{name}" attr.type="{kind}"/>'
        )
    out.append('  <graph id="depguard" edgedefault="directed">')
    for node in graph_to_dict(graph)["nodes"]:
        out.append(f"    <node id={quoteattr(node['id'])}>")
        for name in ("ecosystem", "name", "version", "scope", "direct", "root"):
            value = node[name]
            if value is None:
                continue
            text = str(value).lower() if isinstance(value, bool) else str(value)
            out.append(f'      <data key="n_{name}">{_xml(text)}</data>')
        out.append("    </node>")
    for edge in graph.edges():
        out.append(f"    <edge source={quoteattr(edge.parent)} target={quoteattr(edge.child)}>")
        out.append(f'      <data key="e_specifier">{_xml(edge.specifier)}</data>')
        out.append(f'      <data key="e_scope">{edge.scope.value}</data>')
        out.append("    </edge>")
    out += ["  </graph>", "</graphml>"]
    return "\n".join(out) + "\n"


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


GRAPH_FORMATS: dict[str, Callable[[DependencyGraph], str]] = {
    "tree": render_tree,
    "json": render_json,
    "dot": render_dot,
    "graphml": render_graphml,
}


def render_graph(graph: DependencyGraph, fmt: str) -> str:
    return GRAPH_FORMATS[fmt](graph)
