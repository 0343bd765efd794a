"""DependencyGraph questions on a hand-built graph (parsers have their own tests)."""

from __future__ import annotations

import json

import pytest

from depguard.graph import DependencyGraph
from depguard.graph_render import graph_to_dict, render_dot, render_graphml, render_tree
from depguard.models import Dependency, Ecosystem, Edge, ParsedManifest, Root, Scope, canonical_name


def dep(name: str, version: str, scope: Scope = Scope.PROD, direct: bool = False) -> Dependency:
    return Dependency(
        ecosystem=Ecosystem.NPM,
        name=canonical_name(Ecosystem.NPM, name),
        version=version,
        scope=scope,
        direct=direct,
        source="package-lock.json",
    )


@pytest.fixture()
def graph() -> DependencyGraph:
    """holdout -> express -> accepts -> mime-types; holdout -> axios -> plain-crypto-js;
    two versions of debug; a cycle a <-> b; a dev dependency."""
    manifest = ParsedManifest(
        path="package-lock.json", kind="package-lock.json", ecosystem=Ecosystem.NPM, locked=True
    )
    root = Root(name="holdout", source="package-lock.json", ecosystem=Ecosystem.NPM)
    manifest.roots.append(root)
    nodes = {
        "express": dep("express", "4.21.2", direct=True),
        "accepts": dep("accepts", "1.3.8"),
        "mime-types": dep("mime-types", "2.1.35"),
        "axios": dep("axios", "1.14.1", direct=True),
        "plain": dep("plain-crypto-js", "4.2.1"),
        "debug2": dep("debug", "2.6.9"),
        "debug4": dep("debug", "4.3.4"),
        "a": dep("a", "1.0.0"),
        "b": dep("b", "1.0.0"),
        "jest": dep("jest", "29.0.0", Scope.DEV, direct=True),
    }
    for node in nodes.values():
        manifest.add_package(node)
    links = [
        (root.id, "express", "^4.21.0", Scope.PROD),
        (root.id, "axios", "^1.14.0", Scope.PROD),
        (root.id, "jest", "^29", Scope.DEV),
        ("express", "accepts", "~1.3.8", Scope.PROD),
        ("accepts", "mime-types", "~2.1.34", Scope.PROD),
        ("axios", "plain", "^4.2.1", Scope.PROD),
        ("express", "debug2", "2.6.9", Scope.PROD),
        ("axios", "debug4", "^4", Scope.PROD),
        ("axios", "mime-types", "^2.1.12", Scope.PROD),
        ("express", "a", "1", Scope.PROD),
        ("a", "b", "1", Scope.PROD),
        ("b", "a", "1", Scope.PROD),
        ("jest", "debug4", "^4", Scope.PROD),
    ]
    for parent, child, spec, scope in links:
        parent_id = parent if parent.startswith("root:") else nodes[parent].id
        manifest.edges.append(
            Edge(parent=parent_id, child=nodes[child].id, specifier=spec, scope=scope)
        )
    return DependencyGraph.build([manifest])


def test_two_versions_are_two_nodes(graph: DependencyGraph) -> None:
    versions = sorted(d.version or "" for d in graph.find("debug"))
    assert versions == ["2.6.9", "4.3.4"]
    assert [d.version for d in graph.find("debug@4.3.4")] == ["4.3.4"]


def test_direct_and_depth(graph: DependencyGraph) -> None:
    assert [d.name for d in graph.direct()] == ["axios", "express", "jest"]
    (mime,) = graph.find("mime-types")
    assert graph.depth(mime) == 2  # via axios, shorter than via express > accepts
    (plain,) = graph.find("plain-crypto-js")
    assert graph.depth(plain) == 2


def test_introduced_by(graph: DependencyGraph) -> None:
    (mime,) = graph.find("mime-types")
    assert [d.name for d in graph.introduced_by(mime)] == ["axios", "express"]
    (plain,) = graph.find("plain-crypto-js")
    assert [d.name for d in graph.introduced_by(plain)] == ["axios"]


def test_chains_one_per_direct_dependency(graph: DependencyGraph) -> None:
    (mime,) = graph.find("mime-types")
    chains, more = graph.chains(mime)
    assert [c.render() for c in chains] == [
        "holdout > axios 1.14.1 > mime-types 2.1.35",
        "holdout > express 4.21.2 > accepts 1.3.8 > mime-types 2.1.35",
    ]
    assert more == 0


def test_cycle_is_walked_safely(graph: DependencyGraph) -> None:
    (b,) = graph.find("b")
    chains, _ = graph.chains(b)
    assert [c.render() for c in chains] == ["holdout > express 4.21.2 > a 1.0.0 > b 1.0.0"]
    tree = render_tree(graph)
    assert "(cycle)" in tree


def test_tree_marks_repeated_subtrees(graph: DependencyGraph) -> None:
    tree = render_tree(graph)
    assert tree.splitlines()[0] == "holdout (package-lock.json)"
    assert "jest 29.0.0 [dev]" in tree
    assert tree.count("mime-types 2.1.35") == 2


def test_json_document_shape(graph: DependencyGraph) -> None:
    doc = json.loads(json.dumps(graph_to_dict(graph)))
    node = next(n for n in doc["nodes"] if n["name"] == "axios")
    assert {"id", "ecosystem", "name", "version", "scope", "direct"} <= set(node)
    assert node == {
        **node,
        "ecosystem": "npm",
        "version": "1.14.1",
        "direct": True,
        "scope": "prod",
    }
    edge = next(e for e in doc["edges"] if e["to"] == node["id"])
    assert set(edge) == {"from", "to", "specifier", "scope"}
    assert edge["specifier"] == "^1.14.0"
    assert len(doc["edges"]) == 13


def test_dot_and_graphml_are_well_formed(graph: DependencyGraph) -> None:
    import xml.etree.ElementTree as ET

    import networkx as nx

    dot = render_dot(graph)
    assert (
        dot.startswith("digraph depguard {")
        and '"npm:axios@1.14.1" -> "npm:plain-crypto-js@4.2.1"' in dot
    )
    ET.fromstring(render_graphml(graph))
    import io

    loaded = nx.read_graphml(io.BytesIO(render_graphml(graph).encode()))
    assert loaded.number_of_nodes() == 11 and loaded.number_of_edges() == 13
