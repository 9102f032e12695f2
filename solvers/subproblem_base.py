"""What every trust-region subproblem solver shares: the metric, the stop reasons, the result.

Used by truncated CG (``trust_regions``) and the Lanczos solver (``subproblem_lanczos``), so that
neither imports the other.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymanopt.manifolds import (
    ComplexCircle,
    ComplexEuclidean,
    ComplexGrassmann,
    Elliptope,
    Euclidean,
    Grassmann,
    Oblique,
    Product,
    PSDFixedRank,
    PSDFixedRankComplex,
    SkewSymmetric,
    SpecialOrthogonalGroup,
    Sphere,
    SphereSubspaceComplementIntersection,
    SphereSubspaceIntersection,
    Stiefel,
    Symmetric,
    UnitaryGroup,
)

from manifoldscape.core.loop import require_count, require_number
from manifoldscape.geometry import inner_product, to_tangent_space

_FROBENIUS_METRIC = (
    Sphere,
    Stiefel,
    Grassmann,
    Euclidean,
    ComplexEuclidean,
    SpecialOrthogonalGroup,
    Oblique,
    ComplexCircle,
    ComplexGrassmann,
    Elliptope,
    PSDFixedRank,
    PSDFixedRankComplex,
    Symmetric,
    SkewSymmetric,
    SphereSubspaceIntersection,
    SphereSubspaceComplementIntersection,
    UnitaryGroup,
)


def _vdot(point: Any, a: Any, b: Any) -> float:
    return float(np.real(np.vdot(a, b)))


def metric_inner_product(manifold: Any) -> Callable[[Any, Any, Any], float]:
    """``manifold.inner_product``, with a fast path for the embedded Frobenius metric.

    pymanopt's ``Sphere``, ``Stiefel``, ``Grassmann``, ``Euclidean``, ``ComplexEuclidean``,
    ``SpecialOrthogonalGroup``, ``Oblique``, ``ComplexCircle``, ``ComplexGrassmann``,
    ``Elliptope``, ``PSDFixedRank(Complex)``, ``Symmetric``, ``SkewSymmetric``, the
    sphere-subspace intersections and ``UnitaryGroup`` all use ⟨a, b⟩ = Re tr(aᴴb) on their
    tangent representation (a ``np.tensordot`` over every axis); ``np.vdot`` computes the same
    number about 7× faster for vectors of size 10³, which matters in the inner loop of tCG.
    Products of these sum their factors; any other manifold (or a subclass) keeps its own
    ``inner_product`` (as a real number: ``geometry.inner_product``).
    """
    if type(manifold) in _FROBENIUS_METRIC:
        return _vdot
    if type(manifold) is Product and all(type(m) in _FROBENIUS_METRIC for m in manifold.manifolds):

        def product_inner(point: Any, a: Any, b: Any) -> float:
            return float(sum(np.real(np.vdot(u, v)) for u, v in zip(a, b, strict=True)))

        return product_inner

    def own(point: Any, a: Any, b: Any) -> float:
        return inner_product(manifold, point, a, b)

    return own


class InnerStop(enum.Enum):
    """Why truncated CG stopped (per outer iteration in ``History.extra['inner_stop']``)."""

    NEGATIVE_CURVATURE = "negative_curvature"
    EXCEEDED_RADIUS = "exceeded_radius"
    REACHED_TARGET_LINEAR = "reached_target_kappa"
    REACHED_TARGET_SUPERLINEAR = "reached_target_theta"
    MAX_INNER_ITERATIONS = "max_inner_iterations"
    MODEL_INCREASED = "model_increased"
    ZERO_GRADIENT = "zero_gradient"

    @property
    def on_boundary(self) -> bool:
        """Whether the step was pushed to the trust-region boundary."""
        return self in (InnerStop.NEGATIVE_CURVATURE, InnerStop.EXCEEDED_RADIUS)


@dataclass(frozen=True, eq=False)
class SubproblemResult:
    """An approximate minimizer η of the trust-region model, H η, and the inner statistics.

    ``krylov``: what a solver can reuse at the same point with another radius (the Lanczos
    solver's ``KrylovSpace``), or None.
    """

    step: Any
    hessian_step: Any
    iterations: int
    stop: InnerStop
    krylov: Any = None


def has_frobenius_metric(manifold: Any) -> bool:
    """Whether ``manifold``'s metric is Re tr(aᴴb) on its (single-array) tangent representation."""
    return type(manifold) in _FROBENIUS_METRIC


PRECISIONS = ("double", "single")


def validate_inner_options(solver: Any) -> None:
    """Check the options every subproblem solver shares (κ, θ, minimum iterations, precision).

    κ ∈ (0, 1), θ ≥ 0, a count, and one of ``PRECISIONS``; a one-line ``ValueError`` or
    ``TypeError`` names the option.
    """
    require_number(
        solver.kappa, "kappa", minimum=0.0, maximum=1.0, open_minimum=True, open_maximum=True
    )
    require_number(solver.theta, "theta", minimum=0.0)
    require_count(solver.min_iterations, "min_iterations")
    if solver.precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {solver.precision!r}")


def working_dtype(reference: Any, precision: str) -> np.dtype | None:
    """The dtype of the inner iteration's vectors: None (as given) unless single precision applies.

    Single precision applies to tangent vectors held as one floating-point array: float32 for
    real, complex64 for complex ones; other representations (tuples of a product manifold) stay
    as they are.
    """
    if precision == "double" or not isinstance(reference, np.ndarray):
        return None
    return np.dtype(np.complex64 if np.iscomplexobj(reference) else np.float32)


@dataclass(frozen=True)
class InnerOperators:
    """The Hessian and the tangent projection at x, in the inner iteration's precision.

    ``dtype`` None: the problem's own ``riemannian_hessian`` followed by the tangent projection,
    exactly as before.  Otherwise, when the problem offers a single-precision product
    (``Problem.offers_single_hessian(x)``: an objective with ``euclidean_hessian_single`` on the
    real sphere, ℝⁿ or ℂⁿ), the product is ``Problem.riemannian_hessian_single`` followed by
    the single-precision projection, never touching double; else the direction is promoted
    back to double before the product (the problem sees the precision it was written for), the
    product is projected in double and only then rounded to ``dtype``.  The projection of the
    inner iteration's own vectors uses x rounded to ``dtype``, so it stays in single precision.
    """

    hessian: Callable[[Any], Any]
    project: Callable[[Any], Any]
    cast: Callable[[Any], Any]
    dtype: np.dtype | None


def inner_operators(problem: Any, x: Any, dtype: np.dtype | None) -> InnerOperators:
    """``InnerOperators`` for ``problem`` at ``x`` (see there)."""
    manifold = problem.manifold
    hessian = problem.riemannian_hessian
    if dtype is None:
        return InnerOperators(
            lambda d: to_tangent_space(manifold, x, hessian(x, d)),
            lambda v: to_tangent_space(manifold, x, v),
            lambda v: v,
            None,
        )
    double = np.complex128 if dtype.kind == "c" else np.float64
    x_work = x.astype(dtype) if isinstance(x, np.ndarray) and x.dtype.kind == dtype.kind else x

    offers = getattr(problem, "offers_single_hessian", None)
    if dtype in (np.float32, np.complex64) and offers is not None and offers(x):
        single_hessian = problem.riemannian_hessian_single

        def product(direction: Any) -> Any:
            return project(single_hessian(x, direction))

    else:

        def product(direction: Any) -> Any:
            out = to_tangent_space(manifold, x, hessian(x, direction.astype(double)))
            return np.asarray(out).astype(dtype, copy=False)

    def project(v: Any) -> Any:
        return np.asarray(to_tangent_space(manifold, x_work, v)).astype(dtype, copy=False)

    return InnerOperators(product, project, lambda v: np.asarray(v).astype(dtype), dtype)
