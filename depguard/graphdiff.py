"""Graphs of the touched projects at both sides of a change, and what differs between them."""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from depguard.graph import DependencyGraph
from depguard.models import Dependency, Ecosystem, ParsedManifest
from depguard.parsers import FileReader, parser_for

__all__ = ["GraphDiff", "PackageDelta", "SnapshotLike", "diff_graphs", "load_side", "manifest_dirs"]


class SnapshotLike(Protocol):
    label: str
    root: Path
    reader: FileReader

    def files(self) -> list[str]: ...


def manifest_dirs(paths: Iterable[str]) -> list[str]:
    """Folders of the changed files that are manifests or lockfiles ("" is the root)."""
    return sorted({posixpath.dirname(p) for p in paths if parser_for(Path(p)) is not None})


def load_side(snapshot: SnapshotLike, folders: Sequence[str]) -> DependencyGraph:
    """The graph of the projects in `folders` as they are at `snapshot`."""
    from depguard.discover import select_manifests

    wanted = set(folders)
    parsed: list[ParsedManifest] = []
    for rel in snapshot.files():
        if posixpath.dirname(rel) not in wanted or _ignored(rel):
            continue
        parser = parser_for(Path(rel))
        if parser is not None:
            parsed.append(parser.parse(snapshot.root / rel, rel, snapshot.reader))
    return DependencyGraph.build(select_manifests(parsed).manifests)


def _ignored(rel: str) -> bool:
    return "node_modules" in rel.split("/")


@dataclass(frozen=True, slots=True)
class PackageDelta:
    """One package that the change adds, removes or moves to another version."""

    ecosystem: Ecosystem
    name: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    dep: Dependency | None
    """The head-side node (the base-side one for removals)."""
    direct: bool
    introduced_by: tuple[Dependency, ...] = ()

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "ecosystem": self.ecosystem.value,
            "name": self.name,
            "direct": self.direct,
            "file": self.dep.source if self.dep else None,
            "line": self.dep.line if self.dep else None,
        }
        if self.before and self.after:
            doc.update({"from": ", ".join(self.before), "to": ", ".join(self.after)})
        else:
            doc["version"] = ", ".join(self.before or self.after) or None
        if self.introduced_by:
            doc["introduced_by"] = [d.label() for d in self.introduced_by]
        return doc


@dataclass(slots=True)
class GraphDiff:
    base: DependencyGraph
    head: DependencyGraph
    added: list[PackageDelta] = field(default_factory=list)
    removed: list[PackageDelta] = field(default_factory=list)
    changed: list[PackageDelta] = field(default_factory=list)

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "added": [d.to_json() for d in self.added],
            "removed": [d.to_json() for d in self.removed],
            "changed": [d.to_json() for d in self.changed],
        }


def _versions(graph: DependencyGraph) -> dict[tuple[Ecosystem, str], dict[str, Dependency]]:
    table: dict[tuple[Ecosystem, str], dict[str, Dependency]] = defaultdict(dict)
    for dep in graph.packages():
        table[(dep.ecosystem, dep.name)][dep.version or dep.specifier or "*"] = dep
    return table


def diff_graphs(base: DependencyGraph, head: DependencyGraph) -> GraphDiff:
    """Added, removed and changed packages, direct and transitive."""
    before, after = _versions(base), _versions(head)
    diff = GraphDiff(base, head)
    for key in sorted(set(after) | set(before), key=lambda k: (k[0].value, k[1])):
        old, new = before.get(key, {}), after.get(key, {})
        if set(old) == set(new):
            continue
        if not old:
            for version, dep in sorted(new.items()):
                diff.added.append(
                    PackageDelta(
                        key[0],
                        key[1],
                        (),
                        (version,),
                        dep,
                        head.is_direct(dep),
                        tuple(head.introduced_by(dep)),
                    )
                )
        elif not new:
            dep = next(iter(old.values()))
            diff.removed.append(
                PackageDelta(key[0], key[1], tuple(sorted(old)), (), dep, base.is_direct(dep))
            )
        else:
            fresh = [d for v, d in sorted(new.items()) if v not in old]
            dep = fresh[0] if fresh else next(iter(new.values()))
            diff.changed.append(
                PackageDelta(
                    key[0], key[1], tuple(sorted(old)), tuple(sorted(new)), dep, head.is_direct(dep)
                )
            )
    return diff
