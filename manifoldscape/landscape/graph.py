"""The cascade graph of a landscape, as values: nodes, departures, edges (``CascadeGraph``).

The graph of the gradient-flow connections between classes of critical points that
``manifoldscape.landscape.cascade.cascade_graph`` computes (seed 003 Fig. 7, Fig. 8, §3.1 and
Appendix B): each node a class of a census (cost, index, verdict, orbit size), each departure a
flow line leaving a class along one of its negative-curvature directions, each edge x↑ → y the
lines from x↑ that reached y, with the cost drop, how many of them were integrated in an
invariant set, how many copies of y they reached, and the dispersiveness of the connection.  The
graph is saved as JSON (``to_json``), printed as a table, drawn over the Morse diagram
(``plot``), and gives the barriers between minima and the disconnectivity graph
(``barriers()``, ``disconnectivity()``; ``landscape.barriers``, ``landscape.disconnectivity``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from manifoldscape.core.certificate import Certificate, Verdict

if TYPE_CHECKING:
    from manifoldscape.landscape.barriers import Barrier

__all__ = ["CascadeGraph", "Departure", "Edge", "Node"]


@dataclass(frozen=True, eq=False)
class Node:
    """A class of critical points: number (as in the census table), cost, index, verdict.

    ``orbit_size`` is how many critical points the class stands for under a finite group (None
    for a continuous one), ``found_by`` "census" or "cascade" (a class the flow reached that
    the census had missed).
    """

    number: int
    cost: float
    index: int
    verdict: Verdict
    orbit_size: int | None
    count: int
    found_by: str
    point: Any = field(repr=False)
    certificate: Certificate = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (the point left out)."""
        return {
            "number": self.number,
            "cost": float(self.cost),
            "index": int(self.index),
            "verdict": self.verdict.value,
            "orbit_size": self.orbit_size,
            "found_by": self.found_by,
        }


@dataclass(frozen=True, eq=False)
class Departure:
    """One flow line from ``source`` along ``label`` (e.g. "eigenvector 2 −", "aimed at #4").

    ``target`` is the node it reached (None: unresolved), ``end`` the copy of the target it
    reached (the point of its orbit, aligned), ``status`` how the line ended.
    """

    source: int
    label: str
    curvature: float
    target: int | None
    status: str
    steps: int
    constrained: bool
    defect: float
    end: Any = field(repr=False, default=None)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return {
            "source": self.source,
            "direction": self.label,
            "curvature": float(self.curvature),
            "target": self.target,
            "status": self.status,
            "steps": int(self.steps),
            "constrained": bool(self.constrained),
            "defect": float(self.defect),
        }


@dataclass(frozen=True, eq=False)
class Edge:
    """source → target: ``count`` lines, ``constrained`` of them in an invariant set.

    ``copies`` counts the distinct copies of the target class reached from the source's
    representative.  ``dispersion`` is the largest principal angle (radians) of the downstream
    unstable subspace against the upstream one carried along the line to its last point (None
    when the target has no negative curvature or it was not measured), ``angles`` all of them.
    Near the target the linearised flow is e^{−t Hess f}, which grows the negative-curvature
    directions fastest: every angle below π/2 shrinks to zero as the line goes on, so the edge
    is ``dispersive`` (seed 003 Appendix B) exactly when the largest angle is below π/2.
    """

    source: int
    target: int
    cost_drop: float
    count: int
    constrained: int
    copies: int
    directions: tuple[str, ...]
    dispersion: float | None = None
    angles: tuple[float, ...] = ()

    @property
    def dispersive(self) -> bool | None:
        """Whether the downstream negative directions are images of upstream ones (None: n/a)."""
        if self.dispersion is None:
            return None
        return self.dispersion < 0.5 * np.pi - 1e-6

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return {
            "source": self.source,
            "target": self.target,
            "cost_drop": float(self.cost_drop),
            "count": int(self.count),
            "constrained": int(self.constrained),
            "copies": int(self.copies),
            "directions": list(self.directions),
            "dispersion": None if self.dispersion is None else float(self.dispersion),
            "dispersive": self.dispersive,
            "principal_angles": [float(a) for a in self.angles],
        }


@dataclass(frozen=True, eq=False)
class CascadeGraph:
    """The directed graph of flow connections between critical classes (module docstring)."""

    problem: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    departures: tuple[Departure, ...]
    time_s: float
    tolerance: float
    length: float
    options: Mapping[str, Any] = field(default_factory=dict)

    def node(self, number: int) -> Node:
        """The node with this number."""
        for n in self.nodes:
            if n.number == number:
                return n
        raise KeyError(f"no node #{number}; the graph has nodes 1 to {len(self.nodes)}")

    def successors(self, number: int) -> tuple[int, ...]:
        """The nodes reached from node ``number``."""
        return tuple(sorted(e.target for e in self.edges if e.source == number))

    @property
    def unresolved(self) -> int:
        """Departures whose line ended at no certified critical point."""
        return sum(1 for d in self.departures if d.target is None)

    @property
    def dispersion(self) -> float | None:
        """The largest principal angle over the measured edges (radians; ``Edge.dispersion``)."""
        values = [e.dispersion for e in self.edges if e.dispersion is not None]
        return max(values) if values else None

    @property
    def dispersive(self) -> bool | None:
        """Whether every measured edge between saddles is dispersive (None: none measured)."""
        values = [e.dispersive for e in self.edges if e.dispersive is not None]
        return all(values) if values else None

    @property
    def graded(self) -> bool:
        """Whether every edge goes down in cost and in index (seed 003: "graded" saddles)."""
        return all(
            e.cost_drop > 0 and self.node(e.target).index < self.node(e.source).index
            for e in self.edges
        )

    def barriers(self) -> tuple[Barrier, ...]:
        """The lowest barrier between every pair of minima classes (``landscape.barriers``)."""
        from manifoldscape.landscape.barriers import barriers

        return barriers(self)

    def disconnectivity(self, ax: Any = None) -> Any:
        """The Becker–Karplus disconnectivity graph of the minima (a matplotlib figure)."""
        from manifoldscape.landscape.disconnectivity import disconnectivity_graph

        return disconnectivity_graph(self, ax=ax)

    def plot(self, ax: Any = None) -> Any:
        """The cascade drawn over the Morse diagram (cost against index); returns the figure."""
        from manifoldscape.landscape.disconnectivity import cascade_diagram

        return cascade_diagram(self, ax=ax)

    def table(self) -> str:
        """The edges as text: source → target, cost drop, lines, constrained, dispersion."""
        lines = ["edge      cost drop         lines  constrained  copies  dispersion (rad)"]
        for e in self.edges:
            dispersion = "—" if e.dispersion is None else f"{e.dispersion:.2e}"
            arrow = f"#{e.source} → #{e.target}"
            lines.append(
                f"{arrow:<9} {e.cost_drop:<17.10g} {e.count:>5}  {e.constrained:>11}  "
                f"{e.copies:>6}  {dispersion:>16}"
            )
        lines.append(
            f"{len(self.edges)} edge(s) between {len(self.nodes)} class(es) from "
            f"{len(self.departures)} flow lines ({self.unresolved} unresolved) in "
            f"{self.time_s:.2f} s; graded: {'yes' if self.graded else 'no'}; dispersive: "
            + ("—" if self.dispersive is None else "yes" if self.dispersive else "no")
            + ("" if self.dispersion is None else f" (largest angle {self.dispersion:.2e} rad)")
        )
        new = [n for n in self.nodes if n.found_by == "cascade"]
        if new:
            lines.append(
                "classes the census missed, found by the flow: "
                + ", ".join(f"#{n.number} (index {n.index}, cost {n.cost:.6g})" for n in new)
            )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """Plain dict for JSON: nodes, edges, departures, dispersion, options."""
        return {
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
            "departures": [d.to_dict() for d in self.departures],
            "unresolved": self.unresolved,
            "dispersion": self.dispersion,
            "dispersive": self.dispersive,
            "graded": self.graded,
            "time_s": float(self.time_s),
            "options": dict(self.options),
        }

    def __str__(self) -> str:
        return self.table()
