"""Double-ended search: the index-1 saddle between two minima, by a Riemannian nudged elastic band.

``connect(problem, x_a, x_b)`` finds the transition state between two points (usually minima)
that single-ended exploration can miss, in three steps — the chemists' recipe (OPTIM and pele:
nudged elastic band, then eigenvector following, then a minimum–saddle–minimum check), carried to
a manifold:

1. **Nudged elastic band with a climbing image** (Jónsson, Mills and Jacobsen 1998; Henkelman,
   Uberuaga and Jónsson, J. Chem. Phys. 113, 9901, 2000).  Images x_0 = x_a, x_1, …, x_N = x_b
   start on the geodesic (through a seeded random midpoint when x_a and x_b are conjugate, such
   as antipodes of a sphere).  At an interior image the tangent τ_k is the improved tangent of
   Henkelman and Jónsson (J. Chem. Phys. 113, 9978, 2000), built from the logarithms
   log_{x_k}(x_{k±1}) (the projection of the ambient difference onto T_{x_k} M where the manifold
   has no logarithm) and the costs of the neighbours; the force is the gradient's part normal to
   τ_k plus a spring along τ_k,

       F_k = −(grad f − ⟨grad f, τ_k⟩ τ_k) + κ (‖log_{x_k} x_{k+1}‖ − ‖log_{x_k} x_{k−1}‖) τ_k,

   and, after a few iterations, the highest image climbs: F = −grad f + 2⟨grad f, τ⟩τ.  The band
   moves by FIRE (Bitzek et al., Phys. Rev. Lett. 97, 170201, 2006), each velocity a tangent
   vector carried by the manifold's transport and each move a retraction.
2. **Refinement**: from the climbing image, mode following toward index 1 with the band's tangent
   as the mode (``landscape.following.follow``; Cerjan and Miller 1981), then Newton to round-off.
3. **Certification**: the point is certified (``certify``; expected: ``strict_saddle``, index 1),
   and the two gradient flow lines leaving it along ±(its unstable eigenvector) are integrated
   (``landscape.flow``) to see which points they reach — the saddle joins x_a and x_b when they
   end at them (plain distance, or modulo the symmetry group).

The result holds the band, its highest image, the saddle with its certificate and the ends of
the two descents.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from manifoldscape.boundary.arguments import Seed, as_generator, require_positive_int
from manifoldscape.boundary.keywords import checked_keywords
from manifoldscape.boundary.threads import small_dense_threads
from manifoldscape.core.certificate import Certificate, Verdict, certify
from manifoldscape.core.problem import Problem
from manifoldscape.geometry import (
    point_norm,
    random_tangent_vector,
    second_order_retraction,
    tangent_basis,
)
from manifoldscape.landscape.flow import FlatTangent, gradient_flow
from manifoldscape.landscape.following import follow, orbit_complement

logger = logging.getLogger(__name__)

__all__ = ["Connection", "connect"]

# FIRE (Bitzek et al. 2006)
_FIRE_MIN_STEPS, _FIRE_INCREASE, _FIRE_DECREASE = 5, 1.1, 0.5
_FIRE_ALPHA, _FIRE_ALPHA_DECAY = 0.1, 0.99


@dataclass(frozen=True, eq=False)
class Connection:
    """What ``connect`` found between ``start`` and ``end`` (module docstring).

    ``path`` are the band's images and ``costs`` their costs, ``highest`` the index of the
    climbing image; ``saddle`` the refined critical point (None if the refinement did not
    converge) with its ``certificate``; ``descents`` the points reached by the two flow lines
    leaving the saddle, and ``joins`` whether they are ``start`` and ``end`` (in either order,
    modulo the symmetry group).
    """

    problem: str
    start: Any
    end: Any
    path: tuple[Any, ...]
    costs: tuple[float, ...]
    highest: int
    saddle: Any
    certificate: Certificate | None
    descents: tuple[Any, ...]
    joins: bool
    band_iterations: int
    band_converged: bool
    time_s: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def highest_point(self) -> Any:
        """The climbing image: the highest point of the band."""
        return self.path[self.highest]

    @property
    def is_transition_state(self) -> bool:
        """Whether the saddle is certified a strict saddle of index 1 that joins the two ends."""
        c = self.certificate
        return (
            c is not None
            and c.verdict is Verdict.STRICT_SADDLE
            and c.index == 1
            and c.index_exact
            and self.joins
        )

    @property
    def barrier(self) -> tuple[float, float] | None:
        """f(saddle) − f(start) and f(saddle) − f(end) (None without a saddle)."""
        if self.certificate is None:
            return None
        return (self.certificate.cost - self.costs[0], self.certificate.cost - self.costs[-1])

    def summary(self) -> str:
        """A few lines: band, saddle, certificate, descents."""
        lines = [
            f"band of {len(self.path)} images, {self.band_iterations} iterations "
            f"({'converged' if self.band_converged else 'not converged'}); highest image "
            f"#{self.highest}, cost {self.costs[self.highest]:.10g}"
        ]
        if self.certificate is None:
            lines.append("no saddle: the refinement did not converge")
        else:
            a, b = self.barrier
            lines.append(
                f"saddle: {self.certificate.summary()}, cost {self.certificate.cost:.10g} "
                f"(barrier {a:.6g} from the start, {b:.6g} from the end)"
            )
            lines.append(
                "its two descents reach the start and the end"
                if self.joins
                else "its two descents do not both reach the given points"
            )
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """Plain dict for JSON (points left out)."""
        c = self.certificate
        return {
            "problem": self.problem,
            "images": len(self.path),
            "costs": [float(v) for v in self.costs],
            "highest": int(self.highest),
            "band_iterations": int(self.band_iterations),
            "band_converged": bool(self.band_converged),
            "saddle": None if c is None else c.to_dict(),
            "barrier": None if self.barrier is None else [float(v) for v in self.barrier],
            "joins": bool(self.joins),
            "transition_state": bool(self.is_transition_state),
            "time_s": float(self.time_s),
            "notes": list(self.notes),
        }

    def plot(self, ax: Any = None) -> Any:
        """The cost along the band (image number), the climbing image and the saddle marked."""
        from manifoldscape.landscape.disconnectivity import _axes

        fig, ax = _axes(ax, (6.0, 4.0))
        ks = np.arange(len(self.costs))
        ax.plot(ks, self.costs, "o-", color="0.3", label="band images")
        ax.plot([self.highest], [self.costs[self.highest]], "s", color="#ff9f1c", ms=9,
                label="climbing image")  # fmt: skip
        if self.certificate is not None:
            ax.axhline(self.certificate.cost, color="#ff9f1c", ls="--", lw=1, label="saddle")
        ax.set_xlabel("image")
        ax.set_ylabel("cost f")
        ax.set_title(f"nudged elastic band of {self.problem}", fontsize=11)
        ax.legend(fontsize=8)
        return fig


# --------------------------------------------------------------------------- geometry helpers
def _log(manifold: Any, x: Any, y: Any) -> Any:
    """log_x(y), or the projection of the ambient difference where there is no logarithm."""
    try:
        v = manifold.log(x, y)
        if np.all(np.isfinite(FlatTangent.flat(v))):
            return v
    except (NotImplementedError, AttributeError, ValueError, np.linalg.LinAlgError):
        pass
    return manifold.projection(x, _difference(y, x))


def _difference(a: Any, b: Any) -> Any:
    if isinstance(a, (list, tuple)):
        return [_difference(p, q) for p, q in zip(a, b, strict=True)]
    return np.asarray(a) - np.asarray(b)


def _norm(manifold: Any, x: Any, v: Any) -> float:
    return float(manifold.norm(x, v))


def _geodesic(problem: Problem, a: Any, b: Any, count: int, rng: np.random.Generator) -> list:
    """The count + 1 points from a to b on a geodesic (via a random midpoint if need be)."""
    manifold = problem.manifold
    distance = point_norm(_difference(a, b))
    ts = np.linspace(0.0, 1.0, count + 1)

    def along(x: Any, y: Any, t_values: np.ndarray) -> list | None:
        v = _log(manifold, x, y)
        out = [_exp(manifold, x, t * v) for t in t_values]
        scale = max(point_norm(x), point_norm(y), 1e-300)
        if point_norm(_difference(out[-1], y)) > 1e-6 * scale:
            return None
        out[-1] = y
        return out

    path = along(a, b, ts)
    if path is not None and distance > 0:
        path[0] = a
        return path
    # conjugate points (antipodes): through a midpoint half-way along a random direction
    for _ in range(8):
        w = random_tangent_vector(manifold, a, rng)
        w = w * (1.0 / max(_norm(manifold, a, w), 1e-300))
        reach = distance if distance > 0 else 1.0
        middle = _exp(manifold, a, (0.5 * math.pi * reach / 2.0) * w)
        half = count // 2
        first = along(a, middle, np.linspace(0.0, 1.0, half + 1))
        second = along(middle, b, np.linspace(0.0, 1.0, count - half + 1))
        if first is not None and second is not None:
            first[0] = a
            return first + second[1:]
    raise ValueError("cannot build a path between the two points on this manifold")


def _exp(manifold: Any, x: Any, v: Any) -> Any:
    try:
        return manifold.exp(x, v)
    except (NotImplementedError, AttributeError):
        return second_order_retraction(manifold, x, v)


# --------------------------------------------------------------------------- the band
def _tangents(problem: Problem, images: list, costs: list[float]) -> tuple[list, list, list]:
    """Improved tangents, forward and backward distances at the interior images."""
    manifold = problem.manifold
    taus, forward, backward = [], [], []
    for k in range(1, len(images) - 1):
        x = images[k]
        plus = _log(manifold, x, images[k + 1])
        minus = -1.0 * _log(manifold, x, images[k - 1])
        v_prev, v, v_next = costs[k - 1], costs[k], costs[k + 1]
        if v_next > v > v_prev:
            tau = plus
        elif v_next < v < v_prev:
            tau = minus
        else:
            big = max(abs(v_next - v), abs(v_prev - v))
            small = min(abs(v_next - v), abs(v_prev - v))
            tau = plus * big + minus * small if v_next > v_prev else plus * small + minus * big
        norm = _norm(manifold, x, tau)
        if norm == 0.0:
            tau = plus
            norm = max(_norm(manifold, x, tau), 1e-300)
        taus.append(tau * (1.0 / norm))
        forward.append(_norm(manifold, x, plus))
        backward.append(_norm(manifold, x, minus))
    return taus, forward, backward


def _band(
    problem: Problem,
    images: list,
    *,
    spring: float,
    step: float,
    max_step: float,
    iterations: int,
    tolerance: float,
    climb_after: int,
) -> tuple[list, list[float], int, bool, list]:
    manifold = problem.manifold
    interior = len(images) - 2
    velocities = [0.0 * problem.riemannian_gradient(x) for x in images[1:-1]]
    dt, alpha, positive = step, _FIRE_ALPHA, 0
    converged = False
    taus: list = []
    it = 0
    for it in range(1, iterations + 1):
        costs = [problem.cost(x) for x in images]
        taus, forward, backward = _tangents(problem, images, costs)
        climber = 1 + int(np.argmax(costs[1:-1])) if it > climb_after else None
        forces = []
        for k in range(interior):
            x = images[k + 1]
            g = problem.riemannian_gradient(x)
            along = float(manifold.inner_product(x, g, taus[k]))
            if climber == k + 1:
                forces.append(-1.0 * g + (2.0 * along) * taus[k])
            else:
                spring_force = spring * (forward[k] - backward[k])
                forces.append(-1.0 * g + (along + spring_force) * taus[k])
        norms = [_norm(manifold, images[k + 1], f) for k, f in enumerate(forces)]
        if max(norms) <= tolerance and climber is not None:
            converged = True
            break
        power = sum(
            float(manifold.inner_product(images[k + 1], forces[k], velocities[k]))
            for k in range(interior)
        )
        v_norm = math.sqrt(
            sum(_norm(manifold, images[k + 1], v) ** 2 for k, v in enumerate(velocities))
        )
        f_norm = math.sqrt(sum(n * n for n in norms)) or 1e-300
        if power > 0:
            velocities = [
                (1.0 - alpha) * v + (alpha * v_norm / f_norm) * f
                for v, f in zip(velocities, forces, strict=True)
            ]
            positive += 1
            if positive > _FIRE_MIN_STEPS:
                dt = min(dt * _FIRE_INCREASE, 10.0 * step)
                alpha *= _FIRE_ALPHA_DECAY
        else:
            velocities = [0.0 * v for v in velocities]
            dt *= _FIRE_DECREASE
            alpha, positive = _FIRE_ALPHA, 0
        for k in range(interior):
            x = images[k + 1]
            v = velocities[k] + dt * forces[k]
            move = dt * v
            length = _norm(manifold, x, move)
            if length > max_step:
                move = move * (max_step / length)
            new = second_order_retraction(manifold, x, move)
            velocities[k] = manifold.transport(x, new, v)
            images[k + 1] = new
    costs = [problem.cost(x) for x in images]
    return images, costs, it, converged, taus


@checked_keywords()
@small_dense_threads
def connect(
    problem: Problem,
    x_a: Any,
    x_b: Any,
    *,
    images: int = 12,
    iterations: int = 400,
    seed: Seed = 0,
    dense_limit: int = 500,
) -> Connection:
    """The index-1 saddle between ``x_a`` and ``x_b`` by a nudged elastic band (module docstring).

    ``images`` interior images, at most ``iterations`` band iterations; ``seed`` draws the
    midpoint of the first path when the two points are conjugate (antipodes).  The refinement
    and the certificate use dense Hessians up to ``dense_limit`` tangent dimensions.
    """
    wall = time.perf_counter()
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a manifoldscape Problem, got {type(problem).__name__}")
    a = problem.check_point(x_a, "x_a")
    b = problem.check_point(x_b, "x_b")
    images = require_positive_int(images, "images", minimum=3)
    iterations = require_positive_int(iterations, "iterations")
    dense_limit = require_positive_int(dense_limit, "dense_limit")
    rng = as_generator(seed)
    length = max(point_norm(a), point_norm(b), 1e-300)
    if point_norm(_difference(a, b)) <= 1e-12 * length:
        raise ValueError("x_a and x_b are the same point: nothing to connect")
    notes: list[str] = []
    curvature = max(
        certify(problem, a, dense_limit=dense_limit).hessian_norm,
        certify(problem, b, dense_limit=dense_limit).hessian_norm,
        1e-300,
    )
    path = _geodesic(problem, a, b, images + 1, rng)
    band, costs, used, converged, taus = _band(
        problem,
        path,
        spring=curvature,
        step=0.1 / curvature,
        max_step=0.05 * length,
        iterations=iterations,
        tolerance=1e-3 * curvature * length,
        climb_after=10,
    )
    highest = 1 + int(np.argmax(costs[1:-1]))
    tau = taus[highest - 1] if taus else None
    run = follow(
        problem,
        band[highest],
        target=None if tau is not None else 1,
        modes=None if tau is None else [tau],
        max_steps=200,
        newton_steps=60,
        radius=0.1 * length,
        dense_limit=dense_limit,
        rtol_gradient=1e-6,
        divergence=1e6 * length,
    )
    saddle, certificate, descents, joins = None, None, (), False
    if run.converged:
        saddle = run.point
        certificate = certify(problem, saddle, dense_limit=dense_limit)
        descents = _descents(problem, saddle, certificate, length, dense_limit)
        joins = _joins(problem, descents, a, b, length)
        if certificate.verdict is not Verdict.STRICT_SADDLE or certificate.index != 1:
            notes.append(f"the refined point is {certificate.summary()}, not an index-1 saddle")
    else:
        notes.append("the refinement of the climbing image did not converge")
    if not converged:
        notes.append(f"the band did not converge in {iterations} iterations")
    result = Connection(
        problem=problem.name,
        start=a,
        end=b,
        path=tuple(band),
        costs=tuple(float(c) for c in costs),
        highest=highest,
        saddle=saddle,
        certificate=certificate,
        descents=descents,
        joins=joins,
        band_iterations=used,
        band_converged=converged,
        time_s=time.perf_counter() - wall,
        notes=tuple(notes),
    )
    logger.info("connect %s: %s", problem.name, result.summary().splitlines()[-1])
    return result


def _descents(
    problem: Problem, saddle: Any, certificate: Certificate, length: float, dense_limit: int
) -> tuple[Any, ...]:
    """The ends of the flow lines leaving the saddle along ± its lowest off-orbit eigenvector."""
    if certificate.index < 1 or certificate.tangent_dimension > dense_limit:
        return ()
    from manifoldscape.core.hessian import RiemannianHessian

    basis = tangent_basis(problem.manifold, saddle)
    complement = orbit_complement(problem, saddle, basis)
    h = RiemannianHessian(problem, saddle, basis).matrix()
    lam, w = np.linalg.eigh(complement.T @ h @ complement)
    u = basis.to_vector(complement @ w[:, 0])
    scale = certificate.hessian_norm * max(length, 1.0) + point_norm(
        problem.euclidean_gradient(saddle)
    )
    ends = []
    for sign in (1.0, -1.0):
        x0 = second_order_retraction(problem.manifold, saddle, (sign * 1e-2 * length) * u)
        line = gradient_flow(
            problem,
            x0,
            stop_gradient=1e-8 * scale,
            length=length,
            initial_step=0.2 / max(abs(lam[0]), 1e-300),
            max_steps=5000,
        )
        ends.append(line.end)
    return tuple(ends)


def _joins(problem: Problem, descents: tuple, a: Any, b: Any, length: float) -> bool:
    """Whether the descents end at a and b (either order).

    The same points, or for a continuous group (whose minimizers are whole orbits) the same
    orbits.
    """
    if len(descents) != 2:
        return False
    tol = 1e-3 * length
    continuous = problem.symmetry.dimension > 0

    def near(x: Any, y: Any) -> bool:
        if point_norm(_difference(x, y)) <= tol:
            return True
        return continuous and problem.symmetry.distance(x, y) <= tol

    p, q = descents
    return (near(p, a) and near(q, b)) or (near(p, b) and near(q, a))
