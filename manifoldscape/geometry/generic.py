"""The generic path: the geometry of any pymanopt manifold, from its own methods.

For a manifold without a hand-written fast path, everything is built from what pymanopt's
``Manifold`` offers — ``projection``, ``inner_product``, ``retraction``/``exp``,
``euclidean_to_riemannian_hessian`` — with per-class knowledge only where pymanopt 2.2.1's
method is missing, first order, or wrong:

* ``Elliptope``: pymanopt's ``projection`` adds the vertical component Y Ω instead of removing
  it (it is not idempotent, and its output is not horizontal).  ``projection`` here is the
  orthogonal projection onto the horizontal space of the quotient {Y : diag(YYᵀ) = 1}/O(k)
  (Journée, Bach, Absil & Sepulchre, "Low-rank optimization on the cone of positive
  semidefinite matrices", SIAM J. Optim. 20 (2010), §4): η = Z − diag(⟨y_i, z_i⟩) Y, then
  η − YΩ with Ω skew solving YᵀY Ω + Ω YᵀY = Yᵀη − ηᵀY; the Riemannian Hessian is the
  horizontal projection of the oblique one, P_h(P_rows ∇²f[ξ] − diag(⟨y_i, ∇f_i⟩) ξ).
* ``SpecialHermitianPositiveDefinite``: pymanopt has no ``euclidean_to_riemannian_hessian``.
  The matrices of unit determinant form a totally geodesic submanifold of the positive definite
  ones with the affine-invariant metric (its geodesics X^{1/2} expm(t X^{-1/2} ξ X^{-1/2}) X^{1/2}
  keep det = 1 when tr(X⁻¹ξ) = 0; Bhatia, *Positive Definite Matrices*, ch. 6), so its
  Riemannian Hessian is the metric projection of the positive definite one (Boumal, *An
  Introduction to Optimization on Smooth Manifolds*, §5.5 and Prop. 8.x on totally geodesic
  submanifolds: the second fundamental form vanishes).
* ``FixedRankEmbedded``: first order only — its Euclidean gradient is taken with respect to the
  factors (u, s, vt), which does not determine the Riemannian Hessian.  ``SecondOrderUnavailable``
  names the second-order alternative, ``manifoldscape.geometry.FixedRank``.
* ``UnitaryGroup``: pymanopt's ``projection`` (and so its Riemannian gradient) takes the skew
  part Ω − Ωᵀ of XᴴZ where the tangent space needs the skew-Hermitian part (Ω − Ωᴴ)/2: here
  P_X(Z) = skewh(XᴴZ), and the Riemannian gradient is P_X(∇f).
* ``HermitianPositiveDefinite`` and ``SpecialHermitianPositiveDefinite`` report ``dim`` =
  k n(n+1) (resp. k(n(n+1) − 1)); Hermitian n × n matrices form a real space of dimension n²,
  so ``dimension`` returns k n² (resp. k(n² − 1)), the dimension of every tangent basis.
* ``PoincareBall`` has no ``transport``: a transporter between tangent spaces (all ℝⁿ, conformal
  metric λ_x² ⟨·, ·⟩) is v ↦ (λ_a / λ_b) v, an isometry.
* second-order retractions: the metric projection (sphere-like manifolds), the polar factor,
  the exponential, or pymanopt's own second-order retraction (positive definite and positive
  matrices: Jeuris, Vandebril & Vandereycken 2012); ``has_second_order_retraction`` says
  whether the manifold has one (an unknown manifold without ``exp`` has only its retraction).
* ``constraint_residual``: how far a point is from the manifold, per class; an unknown manifold
  is measured by ‖R_x(0) − x‖ (its retraction of the zero vector), documented as a heuristic.
* ``metric_whitener``: a map W on tangent vectors with ⟨u, v⟩_x = Re⟨W u, W v⟩_F, for the
  manifolds whose metric is not the embedded one (positive definite: X^{-1/2} u X^{-1/2};
  positive matrices: u / x; Poincaré ball: λ_x u), so that tangent bases are orthonormal in the
  manifold's own metric.
"""

from __future__ import annotations

import copy
import functools
import math
from typing import Any

import numpy as np
import scipy.linalg
from pymanopt.manifolds import (
    ComplexCircle,
    ComplexEuclidean,
    ComplexGrassmann,
    Elliptope,
    Euclidean,
    FixedRankEmbedded,
    Grassmann,
    HermitianPositiveDefinite,
    Oblique,
    PoincareBall,
    Positive,
    Product,
    PSDFixedRank,
    PSDFixedRankComplex,
    SkewSymmetric,
    SpecialHermitianPositiveDefinite,
    SpecialOrthogonalGroup,
    Sphere,
    SphereSubspaceComplementIntersection,
    SphereSubspaceIntersection,
    Stiefel,
    Symmetric,
    SymmetricPositiveDefinite,
    UnitaryGroup,
)
from pymanopt.manifolds.manifold import Manifold, RetrAsExpMixin, RiemannianSubmanifold

from manifoldscape.geometry.layout import FAST_PATH, ProductVector, hook

__all__ = [
    "SecondOrderUnavailable",
    "constraint_residual_generic",
    "corrects_hessian",
    "dimension",
    "euclidean_to_riemannian_gradient",
    "euclidean_to_riemannian_hessian",
    "has_second_order_retraction",
    "inner_product",
    "metric_whitener",
    "projection",
    "pymanopt_compatible",
    "require_second_order",
    "second_order_retraction_generic",
    "to_tangent_space",
    "transport",
]

_POSITIVE_DEFINITE = (
    SymmetricPositiveDefinite,
    HermitianPositiveDefinite,
    SpecialHermitianPositiveDefinite,
)
#: manifolds whose metric is the embedded one, Re tr(uᴴv), on their tangent representation
_FROBENIUS_METRIC = (
    *FAST_PATH,
    ComplexCircle,
    ComplexGrassmann,
    Elliptope,
    FixedRankEmbedded,
    Oblique,
    PSDFixedRank,
    PSDFixedRankComplex,
    SkewSymmetric,
    Symmetric,
    SphereSubspaceIntersection,
    SphereSubspaceComplementIntersection,
    UnitaryGroup,
)


class SecondOrderUnavailable(NotImplementedError):
    """The manifold (as pymanopt implements it) cannot give a Riemannian Hessian."""


def require_second_order(manifold: Manifold) -> None:
    """Raise ``SecondOrderUnavailable`` if no Riemannian Hessian can be formed on ``manifold``."""
    if isinstance(manifold, Product):
        for factor in manifold.manifolds:
            require_second_order(factor)
        return
    if isinstance(manifold, FixedRankEmbedded):
        raise SecondOrderUnavailable(
            f"{manifold} (pymanopt's FixedRankEmbedded) is first order: it has no "
            "euclidean_to_riemannian_hessian, because its Euclidean gradient is taken with "
            "respect to the factors (u, s, vt), which does not determine the Riemannian Hessian. "
            "Trust regions, Hessian checks and certificates need a second-order manifold of the "
            f"same matrices: manifoldscape.geometry.FixedRank({manifold._m}, {manifold._n}, "
            f"{manifold._k}) (convert points with FixedRank.from_pymanopt_point, and write the "
            "cost on the matrix X)"
        )


def dimension(manifold: Manifold) -> int:
    """Dim M (pymanopt's ``dim``, corrected for the Hermitian positive definite manifolds)."""
    if isinstance(manifold, Product):
        return sum(dimension(m) for m in manifold.manifolds)
    k = int(getattr(manifold, "_k", 1))
    if isinstance(manifold, SpecialHermitianPositiveDefinite):
        return k * (manifold._n**2 - 1)
    if isinstance(manifold, HermitianPositiveDefinite):
        return k * manifold._n**2
    return int(manifold.dim)


# --------------------------------------------------------------------------- projections
def _skew_hermitian(a: np.ndarray) -> np.ndarray:
    return 0.5 * (a - np.swapaxes(a, -1, -2).conj())


def _elliptope_projection(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    eta = z - y * np.sum(y * z, axis=1, keepdims=True)
    rhs = y.T @ eta - eta.T @ y
    omega = scipy.linalg.solve_continuous_lyapunov(y.T @ y, rhs)
    return eta - y @ (0.5 * (omega - omega.T))


def projection(manifold: Manifold, point: Any, vector: Any) -> Any:
    """P_x(z): the orthogonal projection of an ambient z onto the tangent (horizontal) space."""
    if isinstance(manifold, Product):
        return ProductVector(
            [projection(m, p, z) for m, p, z in zip(manifold.manifolds, point, vector, strict=True)]
        )
    if isinstance(manifold, Elliptope):
        return _elliptope_projection(np.asarray(point), np.asarray(vector))
    if isinstance(manifold, UnitaryGroup):
        x = np.asarray(point)
        return _skew_hermitian(np.swapaxes(x, -1, -2).conj() @ np.asarray(vector))
    return manifold.projection(point, vector)


def euclidean_to_riemannian_gradient(manifold: Manifold, point: Any, egrad: Any) -> Any:
    """Grad f(x) from ∇f(x) (``manifold.euclidean_to_riemannian_gradient``, with the fixes)."""
    if isinstance(manifold, Product):
        return ProductVector(
            [
                euclidean_to_riemannian_gradient(m, p, g)
                for m, p, g in zip(manifold.manifolds, point, egrad, strict=True)
            ]
        )
    if isinstance(manifold, UnitaryGroup):
        return projection(manifold, point, egrad)
    if type(manifold) is Sphere and type(point) is np.ndarray and type(egrad) is np.ndarray:
        # pymanopt's egrad − ⟨x, egrad⟩ x with its tensordot unrolled: the same (1×N)(N×1)
        # product, without tensordot's per-call bookkeeping (this runs once per iterate)
        inner = np.dot(point.reshape(1, -1), egrad.reshape(-1, 1)).reshape(())
        return egrad - inner * point
    return manifold.euclidean_to_riemannian_gradient(point, egrad)


def to_tangent_space(manifold: Manifold, point: Any, vector: Any) -> Any:
    """Re-tangentialize a vector of the tangent representation (``manifold.to_tangent_space``)."""
    if isinstance(manifold, Product):
        return ProductVector(
            [
                to_tangent_space(m, p, v)
                for m, p, v in zip(manifold.manifolds, point, vector, strict=True)
            ]
        )
    if isinstance(manifold, Elliptope):
        return _elliptope_projection(np.asarray(point), np.asarray(vector))
    return manifold.to_tangent_space(point, vector)


def transport(manifold: Manifold, point_a: Any, point_b: Any, vector: Any) -> Any:
    """A vector transport (or transporter) from T_a M to T_b M."""
    if isinstance(manifold, Product):
        return ProductVector(
            [
                transport(m, a, b, v)
                for m, a, b, v in zip(manifold.manifolds, point_a, point_b, vector, strict=True)
            ]
        )
    if isinstance(manifold, Elliptope):
        return _elliptope_projection(np.asarray(point_b), np.asarray(vector))
    if isinstance(manifold, PoincareBall):
        ratio = manifold.conformal_factor(point_a) / manifold.conformal_factor(point_b)
        return ratio * vector
    return manifold.transport(point_a, point_b, vector)


def inner_product(manifold: Manifold, point: Any, a: Any, b: Any) -> float:
    """⟨a, b⟩_x as a real float (pymanopt's unitary group returns a complex number)."""
    return float(np.real(manifold.inner_product(point, a, b)))


# --------------------------------------------------------------------------- Hessian
def corrects_hessian(manifold: Manifold) -> bool:
    """Whether ``euclidean_to_riemannian_hessian`` differs from the manifold's own method."""
    if isinstance(manifold, Product):
        return any(corrects_hessian(m) for m in manifold.manifolds)
    return isinstance(manifold, (SpecialHermitianPositiveDefinite, Elliptope, FixedRankEmbedded))


def euclidean_to_riemannian_hessian(
    manifold: Manifold, point: Any, egrad: Any, ehess: Any, tangent_vector: Any
) -> Any:
    """Hess f(x)[u] from ∇f(x), ∇²f(x)[u] and u (see the module docstring for the fixes)."""
    if isinstance(manifold, Product):
        return ProductVector(
            [
                euclidean_to_riemannian_hessian(m, p, g, h, u)
                for m, p, g, h, u in zip(
                    manifold.manifolds, point, egrad, ehess, tangent_vector, strict=True
                )
            ]
        )
    require_second_order(manifold)
    if isinstance(manifold, SpecialHermitianPositiveDefinite):
        hpd = HermitianPositiveDefinite.euclidean_to_riemannian_hessian(
            manifold, point, egrad, ehess, tangent_vector
        )
        return manifold.projection(point, hpd)
    if isinstance(manifold, Elliptope):
        y = np.asarray(point)
        scale = np.sum(y * np.asarray(egrad), axis=1, keepdims=True)
        return _elliptope_projection(y, np.asarray(ehess) - np.asarray(tangent_vector) * scale)
    return manifold.euclidean_to_riemannian_hessian(point, egrad, ehess, tangent_vector)


# --------------------------------------------------------------------------- metric
def metric_whitener(manifold: Manifold, point: Any) -> Any:
    """W with ⟨u, v⟩_x = Re⟨W u, W v⟩_F on a batch of tangent vectors (leading axis).

    None when the metric is the embedded one on the tangent representation (every
    ``RiemannianSubmanifold`` but pymanopt's positive definite classes); the string
    ``"pairwise"`` for an unknown manifold (its Gram matrices then come from
    ``manifold.inner_product`` pair by pair).
    """
    if isinstance(manifold, _FROBENIUS_METRIC):
        return None
    if isinstance(manifold, RiemannianSubmanifold) and not isinstance(manifold, _POSITIVE_DEFINITE):
        return None  # the embedded metric, by definition (pymanopt's PD classes misuse the base)
    x = np.asarray(point)
    if isinstance(manifold, Positive):
        return lambda v: np.asarray(v) / x
    if isinstance(manifold, PoincareBall):
        factor = manifold.conformal_factor(x)
        return lambda v: np.asarray(v) * factor
    if isinstance(manifold, _POSITIVE_DEFINITE):
        w, q = np.linalg.eigh(0.5 * (x + np.swapaxes(x, -1, -2).conj()))
        root = (q / np.sqrt(w)[..., None, :]) @ np.swapaxes(q, -1, -2).conj()
        return lambda v: root @ np.asarray(v) @ root
    return "pairwise"


# --------------------------------------------------------------------------- residuals
def _orthonormality(x: np.ndarray) -> float:
    x = np.asarray(x)
    gram = np.swapaxes(x, -1, -2).conj() @ x
    return float(np.max(np.linalg.norm(gram - np.eye(x.shape[-1]), axis=(-2, -1))))


def _unit_columns(x: np.ndarray, axis: int) -> float:
    return float(np.max(np.abs(np.linalg.norm(x, axis=axis) - 1.0)))


def constraint_residual_generic(manifold: Manifold, point: Any) -> float:
    """Distance-like measure of how far ``point`` is from the manifold (inf: outside an open set).

    Per class: orthonormality ‖XᴴX − I‖, unit norms of columns, rows or entries, symmetry,
    positive definiteness (inf if an eigenvalue is ≤ 0), unit determinant, positivity, the open
    unit ball, full column rank; for an unknown manifold, ‖R_x(0) − x‖.
    """
    if isinstance(manifold, FixedRankEmbedded):
        u, s, vt = (np.asarray(p) for p in point)
        if not np.all(s > 0):
            return math.inf
        return max(_orthonormality(u), _orthonormality(vt.T))
    x = np.asarray(point)
    if isinstance(manifold, (Euclidean, ComplexEuclidean)):
        return 0.0
    if isinstance(manifold, ComplexCircle):
        return float(np.max(np.abs(np.abs(x) - 1.0)))
    if isinstance(manifold, (Stiefel, Grassmann, ComplexGrassmann)):
        return _orthonormality(x)
    if isinstance(manifold, (SpecialOrthogonalGroup, UnitaryGroup)):
        residual = _orthonormality(x)
        if isinstance(manifold, SpecialOrthogonalGroup):
            residual = max(residual, float(np.max(np.abs(np.linalg.det(x) - 1.0))))
        return residual
    if isinstance(manifold, Oblique):
        return _unit_columns(x, 0)
    if isinstance(manifold, Elliptope):
        return _unit_columns(x, 1)
    if isinstance(manifold, (SphereSubspaceIntersection, SphereSubspaceComplementIntersection)):
        outside = float(np.linalg.norm(x - manifold._subspace_projector @ x))
        return abs(float(np.linalg.norm(x)) - 1.0) + outside
    if isinstance(manifold, Sphere):
        return abs(float(np.linalg.norm(x)) - 1.0)
    if isinstance(manifold, Symmetric):
        return float(np.max(np.linalg.norm(x - np.swapaxes(x, -1, -2), axis=(-2, -1))))
    if isinstance(manifold, SkewSymmetric):
        return float(np.max(np.linalg.norm(x + np.swapaxes(x, -1, -2), axis=(-2, -1))))
    if isinstance(manifold, _POSITIVE_DEFINITE):
        hermitian = 0.5 * (x + np.swapaxes(x, -1, -2).conj())
        scale = max(float(np.max(np.linalg.norm(x, axis=(-2, -1)))), 1e-300)
        asymmetry = float(np.max(np.linalg.norm(x - hermitian, axis=(-2, -1)))) / scale
        w = np.linalg.eigvalsh(hermitian)
        if not np.all(w > 0):
            return math.inf
        if isinstance(manifold, SpecialHermitianPositiveDefinite):
            asymmetry += float(np.max(np.abs(np.sum(np.log(w), axis=-1)))) / x.shape[-1]
        return asymmetry
    if isinstance(manifold, Positive):
        return 0.0 if np.all(x > 0) else math.inf
    if isinstance(manifold, PoincareBall):
        return 0.0 if np.all(np.sum(x * x, axis=-1) < 1.0) else math.inf
    if isinstance(manifold, (PSDFixedRank, PSDFixedRankComplex)):
        s = np.linalg.svd(x, compute_uv=False)
        return 0.0 if s[-1] > 0 else math.inf
    retracted = manifold.retraction(point, manifold.zero_vector(point))
    return float(np.linalg.norm(np.asarray(retracted) - x))


# --------------------------------------------------------------------------- retractions
def _normalize(x: np.ndarray, axis: Any = None) -> np.ndarray:
    if axis is None:
        return x / np.linalg.norm(x)
    return x / np.linalg.norm(x, axis=axis, keepdims=True)


def expm_skew(omega: np.ndarray) -> np.ndarray:
    """expm(Ω) for (stacks of) skew-symmetric or skew-Hermitian Ω, from the eigenpairs of iΩ.

    iΩ = V diag(w) Vᴴ is Hermitian, so expm(Ω) = V diag(e^{−iw}) Vᴴ: exact, unitary to
    round-off, and much cheaper than a general ``scipy.linalg.expm`` on small matrices.
    """
    omega = np.asarray(omega)
    w, v = np.linalg.eigh(1j * omega)
    out = (v * np.exp(-1j * w)[..., None, :]) @ np.swapaxes(v, -1, -2).conj()
    return np.real(out) if not np.iscomplexobj(omega) else out


def _polar(y: np.ndarray) -> np.ndarray:
    u, _, vh = np.linalg.svd(y, full_matrices=False)
    return u @ vh


_SECOND_ORDER_OWN = (
    *_POSITIVE_DEFINITE,
    Positive,
    PoincareBall,
    FixedRankEmbedded,
)


def has_second_order_retraction(manifold: Manifold) -> bool:
    """Whether ``second_order_retraction`` agrees with the exponential map to second order."""
    if isinstance(manifold, Product):
        return all(has_second_order_retraction(m) for m in manifold.manifolds)
    if hook(manifold, "second_order_retraction") is not None:
        return True
    module = type(manifold).__module__ or ""
    if module.startswith("pymanopt."):
        return True  # every pymanopt 2.2.1 class: see second_order_retraction_generic
    return _own_exp(manifold)


def _own_exp(manifold: Manifold) -> bool:
    exp = getattr(type(manifold), "exp", None)
    return (
        exp is not None
        and exp is not Manifold.exp
        and not isinstance(manifold, RetrAsExpMixin)
        and exp is not getattr(RetrAsExpMixin, "exp", None)
    )


def second_order_retraction_generic(manifold: Manifold, point: Any, tangent_vector: Any) -> Any:
    """A second-order retraction of a manifold without a fast path (module docstring).

    Metric projections: normalization (columns, rows, entries, the sphere-subspace
    intersections), the polar factor (complex Grassmann); the exponential (unitary group, via
    X expm(Ω)); straight lines (Euclidean spaces of symmetric or skew matrices, the total spaces
    of the PSD quotients); pymanopt's own second-order retraction (positive definite, positive,
    Poincaré ball, fixed-rank).  An unknown manifold uses ``exp`` when it has one, else its
    ``retraction`` (first order only: ``has_second_order_retraction`` is then False).
    """
    x, u = point, tangent_vector
    if isinstance(manifold, ComplexCircle):
        y = np.asarray(x) + np.asarray(u)
        return y / np.abs(y)
    if isinstance(manifold, Oblique):
        return _normalize(np.asarray(x) + np.asarray(u), axis=0)
    if isinstance(manifold, Elliptope):
        return _normalize(np.asarray(x) + np.asarray(u), axis=1)
    if isinstance(
        manifold, (Sphere, SphereSubspaceIntersection, SphereSubspaceComplementIntersection)
    ):
        return _normalize(np.asarray(x) + np.asarray(u))
    if isinstance(manifold, (Stiefel, Grassmann, ComplexGrassmann)):
        return _polar(np.asarray(x) + np.asarray(u))
    if isinstance(manifold, (UnitaryGroup, SpecialOrthogonalGroup)):
        return np.asarray(x) @ expm_skew(np.asarray(u))
    if isinstance(
        manifold,
        (Euclidean, ComplexEuclidean, Symmetric, SkewSymmetric, PSDFixedRank, PSDFixedRankComplex),
    ):
        return np.asarray(x) + np.asarray(u)
    if isinstance(manifold, _SECOND_ORDER_OWN):
        return manifold.retraction(x, u)
    if _own_exp(manifold):
        return manifold.exp(x, u)
    return manifold.retraction(x, u)


# --------------------------------------------------------------------------- pymanopt's own solvers
_NEEDS_FIXES = (Elliptope, UnitaryGroup, PoincareBall)


def pymanopt_compatible(manifold: Manifold) -> Manifold:
    """The manifold with this module's fixes, for pymanopt's own optimizers.

    A shallow copy whose ``projection``, ``to_tangent_space``, ``transport``, ``inner_product``
    (real) and Euclidean-to-Riemannian conversions are the ones of this module, for the classes
    where pymanopt's are wrong or missing (``Elliptope``, ``UnitaryGroup``, ``PoincareBall``;
    products containing them); every other manifold is returned unchanged.
    """
    if isinstance(manifold, Product):
        factors = tuple(pymanopt_compatible(m) for m in manifold.manifolds)
        if all(f is m for f, m in zip(factors, manifold.manifolds, strict=True)):
            return manifold
        fixed = copy.copy(manifold)
        fixed.manifolds = factors
        return fixed
    if not isinstance(manifold, _NEEDS_FIXES):
        return manifold
    fixed = copy.copy(manifold)
    for name, function in (
        ("projection", projection),
        ("to_tangent_space", to_tangent_space),
        ("transport", transport),
        ("inner_product", inner_product),
        ("euclidean_to_riemannian_gradient", euclidean_to_riemannian_gradient),
        ("euclidean_to_riemannian_hessian", euclidean_to_riemannian_hessian),
    ):
        setattr(fixed, name, functools.partial(function, manifold))
    return fixed
