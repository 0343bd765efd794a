"""DependencyGraph: the transitive graph over networkx (the only module that imports it)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from depguard.models import Dependency, Edge, ParsedManifest, Root, Skipped

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["MAX_CHAINS", "Chain", "DependencyGraph"]

MAX_CHAINS = 50
"""`why` lists at most this many chains per package; the rest are counted."""


@dataclass(frozen=True, slots=True)
class Chain:
    """One path from a root to a package: the root, then packages in order."""

    root: Root
    packages: tuple[Dependency, ...]

    def names(self) -> list[str]:
        return [self.root.name, *(dep.name for dep in self.packages)]

    def render(self, qualify: bool = False) -> str:
        """`root > pkg ver > ...`; `qualify` adds the root's manifest when names are ambiguous."""
        head = f"{self.root.name} ({self.root.source})" if qualify else self.root.name
        return " > ".join([head, *(dep.label() for dep in self.packages)])


class DependencyGraph:
    """Roots (projects, workspaces) and packages; edges carry specifier and scope."""

    def __init__(self) -> None:
        import networkx as nx

        self._g: nx.DiGraph[str] = nx.DiGraph()
        self.manifests: list[ParsedManifest] = []
        self._depth: dict[str, int] | None = None
        self._introduced: dict[str, list[Dependency]] = {}

    @classmethod
    def build(cls, manifests: Iterable[ParsedManifest]) -> DependencyGraph:
        graph = cls()
        for manifest in manifests:
            graph.add_manifest(manifest)
        return graph

    def add_manifest(self, manifest: ParsedManifest) -> None:
        self.manifests.append(manifest)
        self._depth = None
        self._introduced = {}
        for root in manifest.roots:
            self._g.add_node(root.id, root=root)
        for dep in manifest.packages.values():
            self._add_package(dep)
        for edge in manifest.edges:
            self._add_edge(edge)

    def _add_package(self, dep: Dependency) -> None:
        existing: Dependency | None = (
            self._g.nodes[dep.id].get("dep") if dep.id in self._g else None
        )
        if existing is None or _stronger(dep, existing):
            self._g.add_node(dep.id, dep=dep)

    def _add_edge(self, edge: Edge) -> None:
        if edge.parent not in self._g or edge.child not in self._g:
            return
        self._g.add_edge(edge.parent, edge.child, edge=edge)

    # -- questions -----------------------------------------------------------

    def roots(self) -> list[Root]:
        return [data["root"] for _, data in self._g.nodes(data=True) if "root" in data]

    def ambiguous_roots(self) -> bool:
        """Whether two roots share a name (several manifests of one project)."""
        names = [root.name for root in self.roots()]
        return len(names) != len(set(names))

    def packages(self) -> list[Dependency]:
        deps = [data["dep"] for _, data in self._g.nodes(data=True) if "dep" in data]
        return sorted(deps, key=lambda d: (d.ecosystem.value, d.name, d.version or ""))

    def package(self, node: str) -> Dependency | None:
        if node not in self._g:
            return None
        dep: Dependency | None = self._g.nodes[node].get("dep")
        return dep

    def edges(self) -> list[Edge]:
        return [data["edge"] for _, _, data in self._g.edges(data=True)]

    def children(self, node: str) -> list[tuple[str, Edge]]:
        return [(child, data["edge"]) for child, data in sorted(self._g.adj[node].items())]

    def parents(self, dep: Dependency) -> list[Dependency]:
        """Packages (not roots) that depend on `dep` directly."""
        found = (self.package(p) for p in self._g.predecessors(dep.id))
        return sorted((d for d in found if d is not None), key=lambda d: d.id)

    def is_root(self, node: str) -> bool:
        return "root" in self._g.nodes[node]

    def direct(self) -> list[Dependency]:
        return [dep for dep in self.packages() if self.is_direct(dep)]

    def is_direct(self, dep: Dependency) -> bool:
        return dep.direct or any(self.is_root(p) for p in self._g.predecessors(dep.id))

    def depth(self, dep: Dependency) -> int | None:
        """Fewest edges from any root (1 for a direct dependency); None when unreachable."""
        if self._depth is None:
            self._depth = self._depths()
        return self._depth.get(dep.id)

    def _depths(self) -> dict[str, int]:
        import networkx as nx

        roots = [n for n in self._g if self.is_root(n)]
        return dict(nx.multi_source_dijkstra_path_length(self._g, roots))

    def find(self, name: str) -> list[Dependency]:
        """Packages called `name` (any ecosystem, any version); `name@version` narrows."""
        wanted, _, version = (
            name.partition("@") if not name.startswith("@") else _split_scoped(name)
        )
        matches = []
        for dep in self.packages():
            names = {dep.name, dep.name.replace("_", "-").lower()}
            named = wanted.lower() in names or wanted.replace("_", "-").lower() in names
            if named and (not version or dep.version == version):
                matches.append(dep)
        return matches

    def introduced_by(self, dep: Dependency) -> list[Dependency]:
        """The direct dependencies whose subtree contains `dep`."""
        cached = self._introduced.get(dep.id)
        if cached is None:  # one finding per advisory asks again for the same package
            ancestors = self._distances_to(dep.id)
            found = [self.package(n) for n in ancestors if not self.is_root(n)]
            cached = sorted((d for d in found if d is not None and self.is_direct(d)),
                            key=lambda d: d.id)
            self._introduced[dep.id] = cached
        return list(cached)

    def chains(self, dep: Dependency, limit: int = MAX_CHAINS) -> tuple[list[Chain], int]:
        """Shortest chains root > direct > ... > dep, one set per direct dependency reaching it.

        Returns the chains (at most `limit`) and how many more there were.
        """
        # One reverse breadth-first search from `dep` gives every ancestor's distance to
        # it; shortest paths from any entry point then follow strictly decreasing
        # distances. (One search per package instead of one per entry point.)
        distance = self._distances_to(dep.id)
        chains: list[Chain] = []
        total = 0
        for root_id, direct_id in self._entry_points(distance):
            for path in _take(self._shortest_paths(direct_id, distance), MAX_CHAINS):
                total += 1
                if len(chains) < limit:
                    pkgs = tuple(d for d in (self.package(n) for n in path) if d is not None)
                    chains.append(Chain(self._g.nodes[root_id]["root"], pkgs))
        chains.sort(key=lambda c: (len(c.packages), c.render()))
        return chains, total - len(chains)

    def _distances_to(self, target: str) -> dict[str, int]:
        """Edges from each ancestor of `target` (and `target` itself) down to `target`."""
        if target not in self._g:
            import networkx as nx

            raise nx.NetworkXError(f"The node {target} is not in the digraph.")
        pred = self._g.pred
        distance = {target: 0}
        frontier = [target]
        while frontier:
            following: list[str] = []
            for node in frontier:
                step = distance[node] + 1
                for parent in pred[node]:
                    if parent not in distance:
                        distance[parent] = step
                        following.append(parent)
            frontier = following
        return distance

    def _entry_points(self, distance: dict[str, int]) -> Iterator[tuple[str, str]]:
        """(root, direct dependency) pairs above the target whose distances are given."""
        for node in sorted(distance):
            if self.is_root(node):
                continue
            for parent in sorted(self._g.predecessors(node)):
                if self.is_root(parent):
                    yield parent, node

    def _shortest_paths(self, source: str, distance: dict[str, int]) -> Iterator[list[str]]:
        """Every shortest path from `source` to the target `distance` was measured from."""
        succ = self._g.succ
        stack: list[tuple[str, list[str]]] = [(source, [source])]
        while stack:
            node, path = stack.pop()
            left = distance[node]
            if left == 0:
                yield path
                continue
            below = [c for c in succ[node] if distance.get(c) == left - 1]
            stack.extend((child, [*path, child]) for child in sorted(below, reverse=True))

    def skipped(self) -> list[Skipped]:
        return [item for manifest in self.manifests for item in manifest.skipped]

    def partial_manifests(self) -> list[ParsedManifest]:
        """Manifests that state only direct dependencies (no lockfile, no resolver)."""
        return [m for m in self.manifests if not m.locked]



def _take(iterator: Iterator[Any], count: int) -> Iterator[Any]:
    for index, item in enumerate(iterator):
        if index >= count:
            return
        yield item


def _split_scoped(name: str) -> tuple[str, str, str]:
    body, sep, version = name[1:].partition("@")
    return "@" + body, sep, version


def _stronger(new: Dependency, old: Dependency) -> bool:
    from depguard.models import SCOPE_RANK

    if SCOPE_RANK[new.scope] != SCOPE_RANK[old.scope]:
        return SCOPE_RANK[new.scope] < SCOPE_RANK[old.scope]
    return new.direct and not old.direct
