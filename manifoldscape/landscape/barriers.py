"""Barriers between minima on the cascade graph, and the tree of the disconnectivity graph.

The barrier between two minima is the lowest level E such that a path joins them through points
of cost ≤ E — the minimax ("mountain pass") level, whose highest point is a transition state
(Becker and Karplus, J. Chem. Phys. 106, 1495, 1997; Wales, *Energy Landscapes*, Cambridge 2003,
§4.4; pele's ``DisconnectivityGraph`` and PATHSAMPLE build it from a minimum–saddle–minimum
database).  On the cascade graph every flow line x↑ → y is a path that never rises above f(x↑),
and all the lines leaving x↑ start in its (connected) unstable manifold, so x↑ joins every class
it reaches at level f(x↑).  Processing the classes by increasing cost and merging each with the
classes it reaches (Kruskal's algorithm on a union–find) gives, for every pair of minima classes,
the level at which they first share a component: their barrier modulo symmetry, exact on the
graph because a path between the classes lifts, by equivariance, to a path between some copies.

Two copies g·a ≠ a of one minima class (±v₁ of the Rayleigh quotient, ±e_i of −Σq⁴) are joined
by a saddle whose flow lines reach two different copies of a from its representative; the lowest
such saddle gives the barrier between copies.  A chain of several classes whose group elements
compose to a non-trivial one is not tracked, so this copy barrier is an upper bound; it is None
for a continuous group (the copies form the connected orbit).

``merge_tree`` returns the same merges as a tree for the Becker–Karplus picture
(``manifoldscape.landscape.disconnectivity``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from manifoldscape.landscape.graph import CascadeGraph

__all__ = ["Barrier", "MergeNode", "barriers", "merge_tree"]


@dataclass(frozen=True)
class Barrier:
    """The lowest barrier between minima classes ``a`` and ``b`` (node numbers; a = b: copies).

    ``level`` is the cost of the highest point of the lowest path (None: no path on the graph),
    ``saddle`` the class at that level, ``height_a`` / ``height_b`` the level above each minimum.
    """

    a: int
    b: int
    level: float | None
    saddle: int | None
    height_a: float | None
    height_b: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return {
            "a": self.a,
            "b": self.b,
            "level": self.level,
            "saddle": self.saddle,
            "height_a": self.height_a,
            "height_b": self.height_b,
        }


class _UnionFind:
    def __init__(self, items: list[int]):
        self.parent = {i: i for i in items}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        self.parent[self.find(i)] = self.find(j)


def _minima(graph: CascadeGraph) -> list[int]:
    return [n.number for n in graph.nodes if n.index == 0]


def barriers(graph: CascadeGraph) -> tuple[Barrier, ...]:
    """Barriers between every pair of minima classes, and between copies (module docstring)."""
    minima = _minima(graph)
    cost = {n.number: n.cost for n in graph.nodes}
    uf = _UnionFind([n.number for n in graph.nodes])
    level: dict[tuple[int, int], tuple[float, int]] = {}
    for node in sorted(graph.nodes, key=lambda n: (n.cost, n.number)):
        targets = [e.target for e in graph.edges if e.source == node.number]
        for t in targets:
            uf.union(t, node.number)
        for i, a in enumerate(minima):
            for b in minima[i + 1 :]:
                if (a, b) not in level and uf.find(a) == uf.find(b):
                    level[(a, b)] = (node.cost, node.number)
    out = []
    for i, a in enumerate(minima):
        copies = [
            (cost[e.source], e.source) for e in graph.edges if e.target == a and e.copies >= 2
        ]
        finite = graph.node(a).orbit_size is not None and graph.node(a).orbit_size > 1
        best = min(copies) if copies and finite else None
        out.append(_barrier(a, a, best, cost))
        for b in minima[i + 1 :]:
            out.append(_barrier(a, b, level.get((a, b)), cost))
    return tuple(out)


def _barrier(a: int, b: int, found: tuple[float, int] | None, cost: dict[int, float]) -> Barrier:
    if found is None:
        return Barrier(a, b, None, None, None, None)
    value, saddle = found
    return Barrier(a, b, float(value), saddle, float(value - cost[a]), float(value - cost[b]))


@dataclass
class MergeNode:
    """A node of the disconnectivity tree: a minimum (leaf) or a merge at ``level``."""

    level: float
    minima: tuple[int, ...]
    children: list[MergeNode] = field(default_factory=list)
    saddle: int | None = None
    copies_level: float | None = None
    copies_saddle: int | None = None

    @property
    def is_leaf(self) -> bool:
        """Whether the node is a single minimum class."""
        return not self.children


def merge_tree(graph: CascadeGraph) -> list[MergeNode]:
    """The roots of the disconnectivity forest: minima as leaves, merged at barrier levels.

    One root when the graph joins every minimum; a leaf carries the barrier between copies of
    its class as ``copies_level``.
    """
    minima = _minima(graph)
    copies = {b.a: b for b in barriers(graph) if b.a == b.b}
    uf = _UnionFind([n.number for n in graph.nodes])
    tree: dict[int, MergeNode] = {
        m: MergeNode(
            graph.node(m).cost,
            (m,),
            copies_level=copies[m].level if m in copies else None,
            copies_saddle=copies[m].saddle if m in copies else None,
        )
        for m in minima
    }
    for node in sorted(graph.nodes, key=lambda n: (n.cost, n.number)):
        targets = [e.target for e in graph.edges if e.source == node.number]
        if not targets:
            continue
        roots = {uf.find(t) for t in targets} | {uf.find(node.number)}
        parts = [tree.pop(r) for r in sorted(roots) if r in tree]
        for t in targets:
            uf.union(t, node.number)
        root = uf.find(node.number)
        if len(parts) >= 2:
            merged = tuple(sorted(m for p in parts for m in p.minima))
            parts.sort(key=lambda p: min(graph.node(m).cost for m in p.minima))
            tree[root] = MergeNode(node.cost, merged, parts, saddle=node.number)
        elif parts:
            tree[root] = parts[0]
    return sorted(tree.values(), key=lambda p: min(graph.node(m).cost for m in p.minima))
