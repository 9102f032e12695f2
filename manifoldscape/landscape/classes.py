"""The result of a census: one ``CriticalClass`` per class of critical points, in a ``Census``.

Plain values (``manifoldscape.landscape.census`` computes them): each class's representative
point, cost, Morse index, certificate, how often and by which search it was found, how many of
its symmetric copies were seen and how many critical points it stands for (its orbit size); the
census's table, JSON and Morse diagram, its completeness statistics, and the way on to the
connections between the classes — the cascade graph, barriers, the disconnectivity graph and
basin sizes (``landscape.graph``, ``landscape.barriers``, ``landscape.basins``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from manifoldscape.boundary.arguments import Seed
from manifoldscape.core.certificate import Certificate, Verdict
from manifoldscape.core.problem import Problem
from manifoldscape.landscape.orbits import Completeness

if TYPE_CHECKING:
    from manifoldscape.landscape.barriers import Barrier
    from manifoldscape.landscape.basins import BasinSizes
    from manifoldscape.landscape.graph import CascadeGraph

__all__ = ["Census", "CriticalClass"]


@dataclass(frozen=True, eq=False)
class CriticalClass:
    """One class of critical points modulo the symmetry group, with its certificate.

    ``point`` is the member with the smallest gradient norm; ``count`` how many runs ended in
    the class, ``found_by`` the same split by search; ``copies`` how many distinct points (plain
    distance) were seen in it — for a finite group such as {±1}, how many of the |G| symmetric
    copies were found; ``orbit_size`` how many critical points the class stands for under a
    finite group (``landscape.orbits``; None for a continuous one).  ``index`` is the Morse index
    off the orbit (a lower bound when ``certificate.index_exact`` is False).
    """

    point: Any
    cost: float
    index: int
    verdict: Verdict
    count: int
    distance_to_truth: float | None
    symmetry_dimension: int
    gradient_norm: float
    certificate: Certificate
    copies: int = 1
    found_by: Mapping[str, int] = field(default_factory=dict)
    orbit_size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (the point left out)."""
        c = self.certificate
        return {
            "cost": float(self.cost),
            "index": int(self.index),
            "index_exact": bool(c.index_exact),
            "verdict": self.verdict.value,
            "count": int(self.count),
            "copies": int(self.copies),
            "orbit_size": self.orbit_size,
            "distance_to_truth": None
            if self.distance_to_truth is None
            else float(self.distance_to_truth),
            "symmetry_dimension": int(self.symmetry_dimension),
            "null_dimension": int(c.null_dimension),
            "morse_nondegenerate": bool(c.morse_nondegenerate),
            "gradient_norm": float(self.gradient_norm),
            "min_eigenvalue": float(c.min_eigenvalue),
            "max_eigenvalue": float(c.max_eigenvalue),
            "found_by": {k: int(v) for k, v in self.found_by.items()},
        }


@dataclass(frozen=True, eq=False)
class Census:
    """The critical points a census found, one ``CriticalClass`` per class modulo symmetry.

    ``classes`` are sorted by (index, cost).  ``starts`` random starts fed ``runs`` searches
    (a descent trajectory adds runs, and ``explore_runs`` of them are the explore phase's
    displaced runs), ``unconverged`` of which ended at no critical point.  ``notes`` say what
    the table cannot (a cost that is constant on the manifold, classes split because the declared
    symmetry mapped points of different cost or spectrum onto each other).  ``length`` is the
    length scale ℓ of the tolerances, ``completeness`` how saturated the random starts look
    (``landscape.orbits``).  ``graph``, ``barriers()``, ``disconnectivity()`` and ``basins()``
    go on from the classes to their connections (``landscape.graph``, ``landscape.barriers``,
    ``landscape.basins``) on the problem the census was run on (``instance``).
    """

    problem: str
    classes: tuple[CriticalClass, ...]
    starts: int
    runs: int
    unconverged: int
    time_s: float
    seed: int | None
    searches: tuple[str, ...]
    tolerance: float
    parameters: Mapping[str, Any] = field(default_factory=dict)
    explore_runs: int = 0
    notes: tuple[str, ...] = ()
    length: float = 0.0
    completeness: Completeness | None = None
    cascade: CascadeGraph | None = field(default=None, repr=False)
    instance: Problem | None = field(default=None, repr=False, compare=False)

    @property
    def minimizers(self) -> tuple[CriticalClass, ...]:
        """The classes certified as local minimizers."""
        return tuple(c for c in self.classes if c.verdict is Verdict.LOCAL_MINIMIZER)

    @property
    def degenerate(self) -> tuple[CriticalClass, ...]:
        """The classes the second-order test could not classify."""
        return tuple(c for c in self.classes if c.verdict is Verdict.DEGENERATE)

    @property
    def points(self) -> int | None:
        """How many critical points the classes stand for (None unless every orbit is finite)."""
        sizes = [c.orbit_size for c in self.classes]
        return None if any(s is None for s in sizes) else int(sum(sizes))

    def _instance(self, what: str) -> Problem:
        if self.instance is None:
            raise ValueError(f"{what} needs the problem: run census(problem, ...) in this session")
        return self.instance

    @property
    def graph(self) -> CascadeGraph:
        """The cascade graph of the classes (computed with default options on first use)."""
        if self.cascade is None:
            self.connect()
        return self.cascade

    def connect(self, **options: Any) -> CascadeGraph:
        """Compute (again) the cascade graph with ``landscape.graph.cascade_graph`` options."""
        from manifoldscape.landscape.cascade import cascade_graph

        graph = cascade_graph(self._instance("the cascade graph"), self, **options)
        object.__setattr__(self, "cascade", graph)
        return graph

    def barriers(self) -> tuple[Barrier, ...]:
        """The lowest barrier between every pair of minima classes (and between copies)."""
        return self.graph.barriers()

    def disconnectivity(self, ax: Any = None) -> Any:
        """The Becker–Karplus disconnectivity graph of the minima (a matplotlib figure)."""
        return self.graph.disconnectivity(ax=ax)

    def basins(
        self,
        solver: str = "trust-regions",
        starts: int = 100,
        *,
        seed: Seed = 0,
        confidence: float = 0.95,
        solver_options: Mapping[str, Any] | None = None,
    ) -> BasinSizes:
        """Where ``starts`` random starts of ``solver`` end, class by class, with intervals."""
        from manifoldscape.landscape.basins import basin_sizes

        return basin_sizes(
            self._instance("basins"),
            self,
            solver=solver,
            starts=starts,
            seed=seed,
            confidence=confidence,
            solver_options=solver_options,
        )

    def table(self) -> str:
        """The classes as a text table: cost, index, verdict, distance to truth, symmetry, found."""
        header = (
            "#",
            "cost",
            "index",
            "verdict",
            "zeros",
            "dist. to truth",
            "sym. dim",
            "points",
            "found",
        )
        rows = [header]
        for k, c in enumerate(self.classes, 1):
            index = f"{c.index}" if c.certificate.index_exact else f"≥{c.index}"
            distance = "—" if c.distance_to_truth is None else f"{c.distance_to_truth:.2e}"
            rows.append(
                (
                    str(k),
                    f"{c.cost:.10g}",
                    index,
                    c.verdict.value,
                    str(c.certificate.null_dimension),
                    distance,
                    str(c.symmetry_dimension),
                    "∞" if c.orbit_size is None else str(c.orbit_size),
                    str(c.count),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        right = {0, 1, 2, 4, 5, 6, 7, 8}
        lines = []
        for n, row in enumerate(rows):
            cells = [
                cell.rjust(w) if i in right else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  ".join(cells).rstrip())
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines.append(
            f"{len(self.classes)} class(es) of critical points modulo symmetry from "
            f"{self.starts} starts ({self.runs} runs of which {self.explore_runs} explore, "
            f"{self.unconverged} not converged) "
            f"in {self.time_s:.2f} s"
        )
        if self.points is not None:
            lines.append(f"they stand for {self.points} critical points (orbit sizes)")
        if self.completeness is not None:
            lines.append(self.completeness.summary())
        degenerate = self.degenerate
        if degenerate:
            numbers = ", ".join(
                f"#{k} ({c.certificate.null_dimension} zero eigenvalue(s) off the orbit)"
                for k, c in enumerate(self.classes, 1)
                if c.verdict is Verdict.DEGENERATE
            )
            lines.append(f"degenerate (second-order test inconclusive): {numbers}")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """Plain dict for JSON: ``critical_points`` (cost, index, verdict, count …).

        With ``graph`` and ``barriers`` when the cascade graph was computed.
        """
        out = {
            "problem": self.problem,
            "parameters": _jsonable(dict(self.parameters)),
            "seed": self.seed,
            "starts": int(self.starts),
            "runs": int(self.runs),
            "unconverged": int(self.unconverged),
            "explore_runs": int(self.explore_runs),
            "time_s": float(self.time_s),
            "searches": list(self.searches),
            "tolerance": float(self.tolerance),
            "length": float(self.length),
            "critical_point_count": self.points,
            "completeness": None if self.completeness is None else self.completeness.to_dict(),
            "critical_points": [c.to_dict() for c in self.classes],
            "notes": list(self.notes),
        }
        if self.cascade is not None:
            out["graph"] = self.cascade.to_json()
            out["barriers"] = [b.to_dict() for b in self.cascade.barriers()]
        return out

    def plot(self, ax: Any = None) -> Any:
        """The Morse diagram, cost against index (seed 003 Fig. 6, right); returns the figure."""
        from manifoldscape.landscape.plots import morse_diagram

        return morse_diagram(self, ax=ax)

    def __str__(self) -> str:
        return self.table()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 100 else f"array of shape {value.shape}"
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)
