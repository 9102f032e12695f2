"""The cascade graph: which critical classes the gradient flow joins (a Morse–Smale graph).

Seed 003 (Fig. 7, Fig. 8, §3.1, Appendix B) describes the critical points of a symmetric
landscape as *graded* — higher cost, more negative curvature — and joined by gradient flow lines
that leave a saddle along its negative-curvature directions and arrive at lower critical points.
``cascade_graph(problem, census)`` computes these connections, modulo the symmetry group: from
every class x↑ of index k ≥ 1, with unstable eigenvectors u₁, …, u_k of the Riemannian Hessian
(off the symmetry orbit), the flow is started at R_{x↑}(ε u) for

* each ±u_j (both signs),
* a few seeded random unit combinations u = Σ c_j u_j,
* and, for every class y of lower cost, the unstable-subspace part of the direction from x↑ to the
  nearest symmetric copy of y (when a degenerate unstable eigenspace makes the eigenvectors an
  arbitrary basis, these are the directions the symmetry singles out),

and integrated accurately (``manifoldscape.landscape.flow``, with the invariant-set constraint
along the other unstable directions while its defect stays at round-off).  Where a line ends is
certified: it is *captured* by a census class y when it comes within the census's merge
tolerance of a copy y' of y and y' is a local minimizer, or — for a constrained line — the
Hessian at y' restricted to the complement of the orbit and of the removed directions is positive
definite (the constrained flow, equal to the true one, is then attracted to y'); otherwise it
runs until ‖grad f‖ ≤ 10⁻⁸ (‖Hess f‖ ℓ + ‖∇f‖) and is matched to a class, or polished by Newton
steps and certified as a new class.  The graph's nodes carry cost, index, verdict and orbit size;
its edges x↑ → y the cost drop f(x↑) − f(y), the directions that realised them, how many of
the lines were constrained, and the dispersiveness of the connection: the upstream unstable
subspace carried along the line by the linearised flow (seed 003 eq. B.2) against the downstream
unstable subspace at y', as the largest principal angle (0 when the downstream negative
directions are images of upstream ones, the dispersive structure of Appendix B).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse.linalg

from manifoldscape.boundary.arguments import Seed, as_generator, require_positive_int
from manifoldscape.boundary.threads import small_dense_threads
from manifoldscape.core.certificate import Certificate, Verdict, certify
from manifoldscape.core.hessian import RiemannianHessian
from manifoldscape.core.problem import Problem
from manifoldscape.geometry import point_norm, second_order_retraction, tangent_basis
from manifoldscape.landscape.flow import (
    FlatTangent,
    FlowLine,
    gradient_flow,
    principal_angles,
    transport_subspace,
)
from manifoldscape.landscape.following import newton_polish, orbit_complement
from manifoldscape.landscape.graph import CascadeGraph, Departure, Edge, Node
from manifoldscape.landscape.orbits import orbit_size

if TYPE_CHECKING:
    from manifoldscape.landscape.classes import Census

logger = logging.getLogger(__name__)

__all__ = ["cascade_graph"]

_STOP_GRADIENT = 1e-8
#: the constrained field may differ from −grad f by this fraction of ‖Hess f‖ ℓ + ‖∇f‖
_DEFECT = 1e-10
#: aimed directions whose unstable part is below this fraction of their length are skipped
_AIM_FRACTION = 0.05
#: two departure directions closer than this (1 − |cos|) are the same
_SAME_DIRECTION = 1e-9


# --------------------------------------------------------------------------- spectra
@dataclass
class _Spectrum:
    """The Hessian at a point off the symmetry orbit: eigenpairs (coordinates), matrix, basis."""

    basis: Any
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray  # coordinates, orthonormal columns
    matrix: np.ndarray | None
    orbit: np.ndarray  # coordinates of the orbit directions

    def vectors(self, count: int) -> list[Any]:
        return [self.basis.to_vector(self.eigenvectors[:, j]) for j in range(count)]


def _spectrum(problem: Problem, x: Any, dense_limit: int, count: int) -> _Spectrum:
    basis = tangent_basis(problem.manifold, x)
    hessian = RiemannianHessian(problem, x, basis)
    complement = orbit_complement(problem, x, basis)
    orbit_dimension = basis.dim - complement.shape[1]
    orbit = np.linalg.svd(np.eye(basis.dim) - complement @ complement.T)[0][:, :orbit_dimension]
    if basis.dim <= dense_limit:
        h = hessian.matrix()
        lam, w = np.linalg.eigh(complement.T @ h @ complement)
        return _Spectrum(basis, lam, complement @ w, h, orbit)
    k = min(count + orbit_dimension + 1, basis.dim - 1)
    v0 = np.random.default_rng(0).standard_normal(basis.dim)
    lam, q = scipy.sparse.linalg.eigsh(hessian.linear_operator(), k=k, which="SA", v0=v0)
    off = np.sum((complement.T @ q) ** 2, axis=0) > 0.5
    return _Spectrum(basis, lam[off], q[:, off], None, orbit)


# --------------------------------------------------------------------------- construction
class _Builder:
    def __init__(
        self,
        problem: Problem,
        census: Census,
        *,
        random_directions: int,
        aimed: bool,
        displacement: float,
        seed: Seed,
        max_steps: int,
        dispersion: bool,
        dense_limit: int,
        rtol: float,
        max_new_classes: int,
    ):
        self.problem = problem
        self.manifold = problem.manifold
        self.random_directions = random_directions
        self.aimed = aimed
        self.dispersion = dispersion
        self.dense_limit = dense_limit
        self.rtol = rtol
        self.max_steps = max_steps
        self.max_new_classes = max_new_classes
        self.entropy = int(as_generator(seed).integers(2**63))
        self.tolerance = census.tolerance
        first = census.classes[0].point if census.classes else None
        self.length = float(getattr(census, "length", 0.0) or 0.0) or max(
            point_norm(problem.truth) if problem.truth is not None else point_norm(first), 1e-300
        )
        self.epsilon = displacement * self.length
        self.nodes: list[Node] = []
        for k, c in enumerate(census.classes, 1):
            self.nodes.append(
                Node(
                    number=k,
                    cost=float(c.cost),
                    index=int(c.index),
                    verdict=c.verdict,
                    orbit_size=orbit_size(problem.symmetry, c.point),
                    count=int(c.count),
                    found_by="census",
                    point=c.point,
                    certificate=c.certificate,
                )
            )
        self.departures: list[Departure] = []
        self.measured: dict[tuple[int, int], tuple[float, tuple[float, ...]]] = {}
        self.flat: FlatTangent | None = None

    # ------------------------------------------------------------------ helpers
    def _scale(self, x: Any, certificate: Certificate) -> float:
        egrad = point_norm(self.problem.euclidean_gradient(x))
        return certificate.hessian_norm * max(point_norm(x), 1.0) + egrad

    def _flat_of(self, x: Any) -> FlatTangent | None:
        if hasattr(x, "factors"):
            return None
        flat = FlatTangent(self.problem, x, np.random.default_rng(0))
        return flat if flat.exact else None

    def _close(self, x: Any, y: Any) -> bool:
        scale = max(point_norm(x), point_norm(y), self.length)
        return _plain_distance(x, y) <= self.tolerance * scale

    def _match(self, x: Any) -> tuple[Node, Any] | None:
        best = None
        for node in self.nodes:
            copy = self.problem.symmetry.align(node.point, x)
            d = _plain_distance(x, copy)
            if self._close(x, copy) and (best is None or d < best[0]):
                best = (d, node, copy)
        return None if best is None else (best[1], best[2])

    # ------------------------------------------------------------------ capture
    def _capture(self, x: Any, z: np.ndarray | None) -> tuple[Node, Any, _Spectrum | None] | None:
        f = self.problem.cost(x)
        for node in self.nodes:
            window = node.certificate.hessian_norm * (self.tolerance * self.length) ** 2
            window += 1e-12 * (abs(f) + abs(node.cost) + 1.0)
            if abs(f - node.cost) > window:
                continue
            copy = self.problem.symmetry.align(node.point, x)
            if not self._close(x, copy):
                continue
            if node.verdict is Verdict.LOCAL_MINIMIZER:
                return node, copy, None
            if z is None or self.flat is None:
                return None
            spectrum = _spectrum(self.problem, copy, self.dense_limit, node.index)
            if spectrum.matrix is None:
                return None
            removed = [self.flat.unflat(column) for column in z.T]
            removed = [self.manifold.projection(copy, v) for v in removed]
            columns = [spectrum.basis.to_coordinates(v) for v in removed]
            span = np.concatenate([spectrum.orbit, np.stack(columns, axis=1)], axis=1)
            u, sigma, _ = np.linalg.svd(span, full_matrices=True)
            rank = int(np.sum(sigma > 1e-8 * max(sigma.max(initial=0.0), 1e-300)))
            rest = u[:, rank:]
            if rest.shape[1] == 0:
                return node, copy, spectrum
            h = spectrum.matrix
            tol = 1e-6 * node.certificate.hessian_norm + 1e-12
            if np.linalg.eigvalsh(rest.T @ h @ rest)[0] > tol:
                return node, copy, spectrum
            return None
        return None

    # ------------------------------------------------------------------ departures
    def _directions(
        self, node: Node, k: int, unstable: np.ndarray | None, rng: np.random.Generator
    ) -> list[tuple[str, np.ndarray]]:
        """(label, unit coefficients c in the basis of the k unstable eigenvectors)."""
        out: list[tuple[str, np.ndarray]] = []
        for j in range(k):
            for sign, mark in ((1.0, "+"), (-1.0, "−")):
                c = np.zeros(k)
                c[j] = sign
                out.append((f"eigenvector {j + 1} {mark}", c))
        if self.aimed and unstable is not None and self.flat is not None:
            x = node.point
            for other in self.nodes:
                if other.cost >= node.cost - 1e-12 * (abs(node.cost) + 1.0):
                    continue
                copy = self.problem.symmetry.align(other.point, x)
                d = self.flat.flat(
                    self.manifold.projection(x, self.flat.unflat(_flat(copy) - _flat(x)))
                )
                c = unstable.T @ d
                if np.linalg.norm(c) <= _AIM_FRACTION * np.linalg.norm(d):
                    continue
                c = c / np.linalg.norm(c)
                if any(1.0 - abs(float(c @ e)) < _SAME_DIRECTION for _, e in out):
                    continue
                out.append((f"aimed at #{other.number}", c))
        for r in range(self.random_directions):
            c = rng.standard_normal(k)
            out.append((f"random {r + 1}", c / np.linalg.norm(c)))
        return out

    def _depart(self, node: Node) -> None:
        x = node.point
        self.flat = self._flat_of(x)
        spectrum = _spectrum(self.problem, x, self.dense_limit, node.index)
        k = min(node.index, spectrum.eigenvalues.size)
        if k == 0:
            return
        coordinates = spectrum.eigenvectors[:, :k]
        vectors = spectrum.vectors(k)
        unstable = orbit = None
        if self.flat is not None:
            unstable = np.stack([self.flat.flat(v) for v in vectors], axis=1)
            orbit_vectors = [spectrum.basis.to_vector(o) for o in spectrum.orbit.T]
            orbit = np.zeros((unstable.shape[0], 0))
            if orbit_vectors:
                orbit = np.stack([self.flat.flat(v) for v in orbit_vectors], axis=1)
        rng = np.random.default_rng([self.entropy, node.number])
        scale = self._scale(x, node.certificate)
        for label, c in self._directions(node, k, unstable, rng):
            lam = float(c @ (spectrum.eigenvalues[:k] * c))
            u = spectrum.basis.to_vector(coordinates @ c)
            x0 = second_order_retraction(self.manifold, x, self.epsilon * u)
            z = None
            if unstable is not None:
                complement = np.linalg.svd(np.eye(k) - np.outer(c, c))[0][:, : k - 1]
                z = [unstable @ complement, orbit]
            line = gradient_flow(
                self.problem,
                x0,
                stop_gradient=_STOP_GRADIENT * scale,
                length=self.length,
                rtol=self.rtol,
                initial_step=0.2 / max(abs(lam), 1e-12 * scale),
                max_steps=self.max_steps,
                constraint=z,
                flat=self.flat,
                defect_tolerance=_DEFECT * scale,
                keep_steps=self.dispersion and self.flat is not None,
                capture=self._capture,
                capture_gradient=1e-2 * scale,
            )
            target, copy, target_spectrum, status = self._resolve(line, scale)
            self.departures.append(
                Departure(
                    source=node.number,
                    label=label,
                    curvature=lam,
                    target=None if target is None else target.number,
                    status=status,
                    steps=line.steps,
                    constrained=line.constrained,
                    defect=line.defect,
                    end=copy,
                )
            )
            if target is not None and target.index >= 1 and self.dispersion:
                self._measure(node, target, vectors, line, copy, target_spectrum)

    def _resolve(self, line: FlowLine, scale: float) -> tuple:
        if line.status == "captured":
            node, copy, spectrum = line.captured
            return node, copy, spectrum, "captured"
        if line.status == "diverged":
            return None, None, None, "diverged"
        x = line.end
        status = "flowed"
        if not line.converged:
            x, gnorm, gscale, floor = newton_polish(
                self.problem,
                x,
                newton_steps=30,
                radius=0.25 * self.length,
                dense_limit=self.dense_limit,
                divergence=1e6 * self.length,
            )
            if not (gnorm <= 1e-6 * gscale + floor):
                return None, None, None, f"{line.status}, not polished"
            status = f"{line.status}, polished"
        found = self._match(x)
        if found is not None:
            return found[0], found[1], None, status
        if len(self.nodes) - self.census_size >= self.max_new_classes:
            return None, None, None, "new class, over budget"
        certificate = certify(self.problem, x)
        if certificate.verdict is Verdict.NOT_CRITICAL:
            return None, None, None, f"{status}, not critical"
        node = Node(
            number=len(self.nodes) + 1,
            cost=float(certificate.cost),
            index=int(certificate.index),
            verdict=certificate.verdict,
            orbit_size=orbit_size(self.problem.symmetry, x),
            count=0,
            found_by="cascade",
            point=x,
            certificate=certificate,
        )
        self.nodes.append(node)
        self.queue.append(node)
        logger.info("cascade: new class #%d (index %d) found by the flow", node.number, node.index)
        return node, x, None, status

    def _measure(
        self,
        source: Node,
        target: Node,
        vectors: list[Any],
        line: FlowLine,
        copy: Any,
        spectrum: _Spectrum | None,
    ) -> None:
        key = (source.number, target.number)
        if key in self.measured or self.flat is None or not line.record:
            return
        if spectrum is None:
            spectrum = _spectrum(self.problem, copy, self.dense_limit, target.index)
        downstream = spectrum.vectors(min(target.index, spectrum.eigenvalues.size))
        start = [self.manifold.projection(line.start, v) for v in vectors]
        carried = transport_subspace(self.problem, line, start, self.flat)
        carried = [self.manifold.projection(copy, v) for v in carried]
        a = np.stack([self.flat.flat(v) for v in carried], axis=1)
        b = np.stack([self.flat.flat(v) for v in downstream], axis=1)
        angles = principal_angles(a, b)
        self.measured[key] = (float(angles.max()) if angles.size else 0.0, tuple(angles))

    # ------------------------------------------------------------------ run
    def run(self) -> None:
        self.census_size = len(self.nodes)
        self.queue = [n for n in self.nodes if n.index >= 1]
        while self.queue:
            self._depart(self.queue.pop(0))

    def edges(self) -> list[Edge]:
        by_pair: dict[tuple[int, int], list[Departure]] = {}
        for d in self.departures:
            if d.target is not None:
                by_pair.setdefault((d.source, d.target), []).append(d)
        out = []
        for (s, t), items in sorted(by_pair.items()):
            copies: list[Any] = []
            for d in items:
                if d.end is not None and not any(self._close(d.end, c) for c in copies):
                    copies.append(d.end)
            measured = self.measured.get((s, t))
            out.append(
                Edge(
                    source=s,
                    target=t,
                    cost_drop=self.nodes[s - 1].cost - self.nodes[t - 1].cost,
                    count=len(items),
                    constrained=sum(1 for d in items if d.constrained),
                    copies=len(copies),
                    directions=tuple(d.label for d in items),
                    dispersion=None if measured is None else measured[0],
                    angles=() if measured is None else measured[1],
                )
            )
        return out


def _flat(x: Any) -> np.ndarray:
    return FlatTangent.flat(x)


def _plain_distance(x: Any, y: Any) -> float:
    if hasattr(x, "factors"):
        from manifoldscape.core.symmetry import Identity

        return Identity().distance(x, y)
    return float(np.linalg.norm(_flat(x) - _flat(y)))


@small_dense_threads
def cascade_graph(
    problem: Problem,
    census: Census,
    *,
    random_directions: int = 2,
    aimed: bool = True,
    displacement: float = 1e-2,
    seed: Seed = 0,
    max_steps: int = 3000,
    dispersion: bool = True,
    dense_limit: int = 500,
    rtol: float = 1e-3,
    max_new_classes: int = 20,
) -> CascadeGraph:
    """The cascade graph of ``problem`` over the classes of ``census`` (module docstring).

    ``random_directions`` seeded random unit combinations of the unstable eigenvectors per class
    (from ``seed``), ``aimed`` departures toward the lower classes, a first displacement of
    ``displacement`` · ℓ along each direction (ℓ the census's length scale), at most
    ``max_steps`` Runge–Kutta steps per line (local error ``rtol`` relative to the step),
    ``dispersion`` measured on one line per edge between saddles.  Classes the flow reaches that
    the census missed are certified and explored in turn (at most ``max_new_classes``).
    """
    from manifoldscape.landscape.classes import Census

    wall = time.perf_counter()
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a manifoldscape Problem, got {type(problem).__name__}")
    if not isinstance(census, Census):
        raise TypeError(f"census must be a Census, got {type(census).__name__}")
    if census.problem != problem.name:
        raise ValueError(
            f"census is of problem {census.problem!r}, not of {problem.name!r}: run the census "
            "on the same problem"
        )
    if isinstance(random_directions, bool) or not isinstance(random_directions, (int, np.integer)):
        raise TypeError(
            f"random_directions must be a non-negative integer, got {random_directions!r}"
        )
    if random_directions < 0:
        raise ValueError(
            f"random_directions must be a non-negative integer, got {random_directions}"
        )
    if not (isinstance(displacement, (int, float)) and 0 < displacement < 1):
        raise ValueError(f"displacement must be a number in (0, 1), got {displacement!r}")
    if not (isinstance(rtol, (int, float)) and 0 < rtol < 1):
        raise ValueError(f"rtol must be a number in (0, 1), got {rtol!r}")
    max_steps = require_positive_int(max_steps, "max_steps")
    dense_limit = require_positive_int(dense_limit, "dense_limit")
    builder = _Builder(
        problem,
        census,
        random_directions=int(random_directions),
        aimed=bool(aimed),
        displacement=float(displacement),
        seed=seed,
        max_steps=max_steps,
        dispersion=bool(dispersion),
        dense_limit=dense_limit,
        rtol=float(rtol),
        max_new_classes=int(max_new_classes),
    )
    builder.run()
    graph = CascadeGraph(
        problem=problem.name,
        nodes=tuple(builder.nodes),
        edges=tuple(builder.edges()),
        departures=tuple(builder.departures),
        time_s=time.perf_counter() - wall,
        tolerance=builder.tolerance,
        length=builder.length,
        options={
            "random_directions": int(random_directions),
            "aimed": bool(aimed),
            "displacement": float(displacement),
            "seed": seed if isinstance(seed, int) else None,
            "max_steps": max_steps,
            "dispersion": bool(dispersion),
            "rtol": float(rtol),
        },
    )
    logger.info(
        "cascade of %s: %d edges from %d lines in %.2f s",
        problem.name,
        len(graph.edges),
        len(graph.departures),
        graph.time_s,
    )
    return graph
