"""``check_manifold``: numerical checks of a manifold's geometry (``manifoldscape.core.checks``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymanopt.manifolds.manifold import Manifold

from manifoldscape.boundary.arguments import Seed, as_generator
from manifoldscape.core.check_tools import (
    _EPS,
    _GRAM_ENTRIES,
    GRADIENT_SLOPE_MIN,
    GRAM_LIMIT,
    HESSIAN_SLOPE_MIN,
    MANIFOLD_TOLERANCE,
    STEPS,
    _add,
    _ambient_norm,
    _dense,
    _difference_norm,
    _embed,
    _Fit,
    _fit_slope,
    _inner,
    _metric_orthogonality,
    _norm,
    _point,
    _project,
    _random_ambient,
    _ratio,
    _scaled,
    _second_order_part,
    _tangency_error,
    _taylor_failure,
)
from manifoldscape.geometry import (
    as_tangent,
    batch_item,
    constraint_residual,
    dimension,
    has_second_order_retraction,
    random_point,
    random_tangent_vector,
    same_point,
    second_order_retraction,
    tangent_basis,
)

__all__ = ["ManifoldCheck", "check_manifold"]


# --------------------------------------------------------------------------- manifolds
@dataclass(frozen=True)
class ManifoldCheck:
    """Outcome of ``check_manifold``; every error is relative (see ``check_manifold``).

    Slopes are those of ‖R_x(tu) − x − t u‖ (expected 2 for any retraction) for pymanopt's
    ``retraction`` and for ``geometry.second_order_retraction``, and of the tangential part
    ‖P_x(R_x(tu) − x − t u)‖ of the latter (expected 3: its acceleration is normal).  NaN slopes
    mean the remainder was at round-off (a Euclidean space).
    """

    manifold: str
    dim: int
    basis_dim: int
    projection_idempotence: float
    projection_tangency: float
    projection_orthogonality: float
    retraction_residual: float
    retraction_slope: float
    second_order_retraction_slope: float
    second_order_tangential_slope: float
    metric_symmetry: float
    norm_consistency: float
    basis_orthonormality: float
    basis_vectors_checked: int
    basis_round_trip: float
    basis_tangency: float
    random_point_reproducible: bool
    random_point_residual: float
    random_tangent_error: float
    passed: bool
    reason: str
    failures: tuple[str, ...]

    def summary(self) -> str:
        """One line per quantity."""
        lines = [f"manifold check on {self.manifold} {'passed' if self.passed else 'FAILED'}"]
        lines += [
            f"  {name} = {getattr(self, name)}"
            for name in self.__dataclass_fields__
            if name not in ("manifold", "passed", "reason", "failures")
        ]
        if self.failures:
            lines.append("  failures: " + "; ".join(self.failures))
        return "\n".join(lines)


def _retraction_fits(
    manifold: Manifold,
    x: Any,
    u: Any,
    retract: Callable[[Any, Any], Any],
    tangential: bool,
) -> tuple[float, _Fit, _Fit | None]:
    """Largest constraint residual and the remainder fit(s) of one retraction along u."""
    ambient_u = _embed(manifold, x, u)
    dense_x = _dense(manifold, x)
    residual = 0.0
    remainders, tangential_parts = [], []
    for t in STEPS:
        y = retract(x, _scaled(u, t))
        residual = max(residual, constraint_residual(manifold, y))
        remainder = _add(_add(_dense(manifold, y), _scaled(dense_x, -1.0)), _scaled(ambient_u, -t))
        remainders.append(_ambient_norm(remainder))
        if tangential:
            tangential_parts.append(_second_order_part(manifold, x, u, t, y, remainder))
    floor = 100 * _EPS * (_ambient_norm(dense_x) + STEPS)  # round-off of the ambient arrays
    first = _fit_slope(STEPS, np.array(remainders), floor)
    second = _fit_slope(STEPS, np.array(tangential_parts), floor) if tangential else None
    return residual, first, second


def check_manifold(manifold: Manifold, point: Any = None, *, seed: Seed = None) -> ManifoldCheck:
    """Check the geometry of a supported manifold at ``point`` (random if None).

    Relative errors, each against ``MANIFOLD_TOLERANCE`` unless stated:

    * projection: idempotence ‖P(P z) − P z‖/‖P z‖ (and ‖P v − v‖/‖v‖ for tangent v), tangency
      of P z by the tangent-basis round trip ‖w − B Bᵀ w‖/‖w‖, orthogonality
      |⟨z − P z, v⟩|/(‖z‖‖v‖) in the ambient metric;
    * retractions (pymanopt's and ``second_order_retraction``): the constraint residual of
      R_x(tu) for t ≤ 1, and the slope of ‖R_x(tu) − x − tu‖ at least ``GRADIENT_SLOPE_MIN``
      (expected 2: first order); the tangential part of the second-order retraction's remainder
      has slope at least ``HESSIAN_SLOPE_MIN`` (expected 3);
    * metric: |⟨u, v⟩ − ⟨v, u⟩|/(‖u‖‖v‖) and |‖u‖² − ⟨u, u⟩|/‖u‖²;
    * tangent basis: dimension equals ``manifold.dim``; max |G − I| for the Gram matrix of up to
      ``GRAM_LIMIT`` basis vectors (a random subset beyond); coordinate round trip; the basis
      vectors are fixed by P;
    * ``random_point`` returns the same point for the same seed, on the manifold;
      ``random_tangent_vector`` is tangent and of unit norm.
    """
    if not isinstance(manifold, Manifold):
        raise TypeError(f"manifold must be a pymanopt Manifold, got {type(manifold).__name__}")
    rng = as_generator(seed)
    x = _point(manifold, point, rng)
    basis = tangent_basis(manifold, x)
    failures: list[str] = []

    def require(value: float, tolerance: float, message: str) -> None:
        if not value <= tolerance:
            failures.append(f"{message} ({value:.2e} > {tolerance:g})")

    if basis.dim != dimension(manifold):
        failures.append(
            f"the tangent basis has {basis.dim} vectors but dim M = {dimension(manifold)}"
        )

    # projection
    z = _random_ambient(manifold, x, rng)
    pz = as_tangent(manifold, _project(manifold, x, z))
    size = _ambient_norm(pz)
    v = as_tangent(manifold, random_tangent_vector(manifold, x, rng))
    idempotence = max(
        _ratio(_difference_norm(_project(manifold, x, _embed(manifold, x, pz)), pz), size),
        _ratio(_difference_norm(_project(manifold, x, _embed(manifold, x, v)), v), 1.0),
    )
    require(idempotence, MANIFOLD_TOLERANCE, "the projection is not idempotent")
    projection_tangency = _ratio(
        _difference_norm(pz, basis.to_vector(basis.to_coordinates(pz))), size
    )
    require(projection_tangency, MANIFOLD_TOLERANCE, "the projection's output is not tangent")
    normal = _add(z, _scaled(_embed(manifold, x, pz), -1.0))
    orthogonality = _ratio(abs(_metric_orthogonality(manifold, x, normal, v)), _ambient_norm(z))
    require(orthogonality, MANIFOLD_TOLERANCE, "the projection is not orthogonal")

    # retractions
    u = as_tangent(manifold, random_tangent_vector(manifold, x, rng))
    res_1, fit_1, _ = _retraction_fits(manifold, x, u, manifold.retraction, False)
    res_2, fit_2, fit_t = _retraction_fits(
        manifold, x, u, lambda p, w: second_order_retraction(manifold, p, w), True
    )
    assert fit_t is not None
    retraction_residual = max(res_1, res_2)
    require(retraction_residual, MANIFOLD_TOLERANCE, "a retraction leaves the manifold")
    checks_of_order = [
        (fit_1, 2, GRADIENT_SLOPE_MIN, "‖R(x, tu) − x − tu‖ for manifold.retraction"),
        (fit_2, 2, GRADIENT_SLOPE_MIN, "‖R(x, tu) − x − tu‖ for second_order_retraction"),
    ]
    if has_second_order_retraction(manifold):  # else only its first-order retraction exists
        checks_of_order.append(
            (fit_t, 3, HESSIAN_SLOPE_MIN, "the second-order part of second_order_retraction")
        )
    for fit, expected, minimum, what in checks_of_order:
        failure = _taylor_failure(fit, expected, minimum, what)
        if failure:
            failures.append(failure)

    # metric
    c1, c2 = rng.standard_normal((2, basis.dim))
    w1, w2 = basis.to_vector(c1), basis.to_vector(c2)
    n1, n2 = _norm(manifold, x, w1), _norm(manifold, x, w2)
    metric_symmetry = _ratio(
        abs(_inner(manifold, x, w1, w2) - _inner(manifold, x, w2, w1)), n1 * n2
    )
    require(metric_symmetry, MANIFOLD_TOLERANCE, "the metric is not symmetric")
    norm_consistency = _ratio(abs(n1**2 - _inner(manifold, x, w1, w1)), n1**2)
    require(norm_consistency, MANIFOLD_TOLERANCE, "norm(u)² differs from ⟨u, u⟩")

    # tangent basis
    limit = min(basis.dim, GRAM_LIMIT, max(8, _GRAM_ENTRIES // max(_ambient_norm_size(x), 1)))
    if basis.dim <= limit:
        chosen = np.arange(basis.dim)
    else:
        chosen = np.sort(rng.choice(basis.dim, size=limit, replace=False))
    selector = np.zeros((len(chosen), basis.dim))
    selector[np.arange(len(chosen)), chosen] = 1.0
    batch = basis.to_vectors(selector)
    vectors = [as_tangent(manifold, batch_item(batch, k)) for k in range(len(chosen))]
    gram = np.zeros((len(chosen), len(chosen)))
    for i, p in enumerate(vectors):  # the metric's own symmetry is checked above
        for j in range(i, len(vectors)):
            gram[i, j] = gram[j, i] = _inner(manifold, x, p, vectors[j])
    orthonormality = float(np.max(np.abs(gram - np.eye(len(chosen))))) if len(chosen) else 0.0
    require(orthonormality, MANIFOLD_TOLERANCE, "the tangent basis is not orthonormal")
    round_trip = _ratio(
        float(np.linalg.norm(basis.to_coordinates(w1) - c1)), float(np.linalg.norm(c1))
    )
    require(round_trip, MANIFOLD_TOLERANCE, "the tangent-basis coordinate round trip fails")
    basis_tangency = max(
        [_tangency_error(manifold, x, w1)] + [_tangency_error(manifold, x, b) for b in vectors[:8]]
    )
    require(basis_tangency, MANIFOLD_TOLERANCE, "the tangent-basis vectors are not tangent")

    # random draws
    draw_seed = int(rng.integers(2**31))
    first, second = random_point(manifold, draw_seed), random_point(manifold, draw_seed)
    reproducible = same_point(first, second)
    if not reproducible:
        failures.append("random_point gives different points for the same seed")
    point_residual = constraint_residual(manifold, first)
    require(point_residual, MANIFOLD_TOLERANCE, "random_point is off the manifold")
    tangent = as_tangent(manifold, random_tangent_vector(manifold, x, draw_seed))
    tangent_error = max(
        abs(_norm(manifold, x, tangent) - 1.0), _tangency_error(manifold, x, tangent)
    )
    require(tangent_error, MANIFOLD_TOLERANCE, "random_tangent_vector is not a unit tangent vector")

    return ManifoldCheck(
        manifold=str(manifold),
        dim=dimension(manifold),
        basis_dim=int(basis.dim),
        projection_idempotence=idempotence,
        projection_tangency=projection_tangency,
        projection_orthogonality=orthogonality,
        retraction_residual=retraction_residual,
        retraction_slope=fit_1.slope,
        second_order_retraction_slope=fit_2.slope,
        second_order_tangential_slope=fit_t.slope,
        metric_symmetry=metric_symmetry,
        norm_consistency=norm_consistency,
        basis_orthonormality=orthonormality,
        basis_vectors_checked=len(chosen),
        basis_round_trip=round_trip,
        basis_tangency=basis_tangency,
        random_point_reproducible=reproducible,
        random_point_residual=point_residual,
        random_tangent_error=tangent_error,
        passed=not failures,
        reason="; ".join(failures) if failures else "all manifold checks hold",
        failures=tuple(failures),
    )


def _ambient_norm_size(x: Any) -> int:
    """Number of entries of a point (summed over the factors of a product)."""
    if isinstance(x, (list, tuple)):
        return sum(_ambient_norm_size(p) for p in x)
    return int(np.size(x))
