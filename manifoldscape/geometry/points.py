"""Seeded points, point checks and second-order retractions, on every pymanopt manifold.

pymanopt supplies the manifolds (metric, projection, retraction, Euclidean-to-Riemannian
conversions).  This module adds what landscape analysis needs on top of them:

* ``random_point`` / ``random_tangent_vector`` driven by a ``numpy.random.Generator``: exact
  hand-written draws on the fast-path manifolds, elsewhere pymanopt's own draw under a saved and
  restored global numpy state seeded from the Generator (``layout.pymanopt_draw``), and tangent
  vectors Gaussian in the coordinates of an orthonormal basis (uniform on the unit sphere of
  T_x M in the manifold's metric);
* ``check_point`` — refuse a start point of the wrong structure, shape or field, non-finite, or
  off the manifold (``constraint_residual``);
* ``second_order_retraction`` — the metric-projection retraction or the exponential map, whose
  second-order agreement with geodesics the Hessian Taylor check needs (Absil, Mahony and
  Sepulchre, *Optimization Algorithms on Matrix Manifolds*, Prop. 5.5.5; Absil & Malick,
  "Projection-like retractions on matrix manifolds", SIAM J. Optim. 22, 2012).

Tangent bases live in ``manifoldscape.geometry.bases``; the generic path (every manifold without a
fast path, and pymanopt's defects) in ``manifoldscape.geometry.generic``.

Supported manifolds: every ``pymanopt.manifolds.manifold.Manifold``.  Exact fast paths for
``Sphere``, ``Stiefel``, ``Grassmann``, ``SpecialOrthogonalGroup`` (powers k > 1 slice by slice),
``Euclidean``, ``ComplexEuclidean``, ``Oblique``, ``ComplexCircle``, products of anything, and
the manifolds of the *landscape protocol* below (``FixedRank``, ``SymmetricFixedRank``).

Landscape protocol.  A manifold object may provide any of these methods, and the functions here
call them instead of their own branches: ``point_shape()``, ``is_complex`` (a bool attribute),
``seeded_random_point(seed)``, ``seeded_random_tangent_vector(point, seed)``,
``constraint_residual(point)``,
``check_point(point, name, tolerance)``, ``tangent_basis(point)`` (a ``TangentBasis``),
``second_order_retraction(point, tangent_vector)`` and ``as_tangent_vector(vector)`` (its
tangent vector type, from a sequence of factor arrays; ``as_tangent`` calls it).  A point object
with a ``factors`` attribute (a tuple of arrays) and ``copy()``, ``same_as(other)``,
``frobenius_norm()`` methods is copied, compared and measured by its factors (``copy_point``,
``same_point``, ``point_norm``), so a solver's point cache never forms a dense matrix from it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pymanopt.manifolds import (
    ComplexEuclidean,
    Euclidean,
    FixedRankEmbedded,
    Grassmann,
    Product,
    SpecialOrthogonalGroup,
    Sphere,
    Stiefel,
)
from pymanopt.manifolds.manifold import Manifold

from manifoldscape.boundary.arguments import Seed, as_generator
from manifoldscape.geometry.bases import tangent_basis
from manifoldscape.geometry.generic import (
    constraint_residual_generic,
    expm_skew,
    second_order_retraction_generic,
)
from manifoldscape.geometry.layout import (
    EmbeddedPoint,
    ProductVector,
    as_tangent,
    hook,
    is_complex,
    point_shape,
    power,
    pymanopt_draw,
)

__all__ = [
    "SUPPORTED",
    "ProductVector",
    "as_tangent",
    "check_point",
    "constraint_residual",
    "copy_point",
    "is_complex",
    "point_norm",
    "point_shape",
    "random_point",
    "random_tangent_vector",
    "same_point",
    "second_order_retraction",
    "zero_tangent_vector",
]

SUPPORTED = (
    "every pymanopt manifold (exact fast paths for Sphere, Stiefel, Grassmann, "
    "SpecialOrthogonalGroup, Euclidean, ComplexEuclidean, Oblique, ComplexCircle and products; "
    "a generic path for the others), and manifolds with the landscape protocol "
    "(manifoldscape.geometry.fixed_rank: FixedRank, SymmetricFixedRank)"
)

_FAST = (Sphere, Stiefel, Grassmann, SpecialOrthogonalGroup, Euclidean, ComplexEuclidean)


def _fast(manifold: Manifold) -> bool:
    return isinstance(manifold, _FAST) and power(manifold) == 1


# --------------------------------------------------------------------------- random draws
def random_point(manifold: Manifold, seed: Seed = None) -> Any:
    """Draw a point from the manifold's natural (Haar, Gaussian or pymanopt's) distribution.

    Seeded: the same ``seed`` gives the same point, and numpy's global random state is neither
    used nor changed.
    """
    rng = as_generator(seed)
    if isinstance(manifold, Product):
        return [random_point(m, rng) for m in manifold.manifolds]
    if (method := hook(manifold, "seeded_random_point")) is not None:
        return method(rng)
    if not _fast(manifold):
        return pymanopt_draw(rng, manifold.random_point)
    shape = point_shape(manifold)
    if isinstance(manifold, Sphere):
        x = rng.standard_normal(shape)
        return x / np.linalg.norm(x)
    if isinstance(manifold, (Stiefel, Grassmann, SpecialOrthogonalGroup)):
        q, r = np.linalg.qr(rng.standard_normal(shape))
        q = q * np.sign(np.diag(r))  # Haar-distributed (Mezzadri 2007)
        if isinstance(manifold, SpecialOrthogonalGroup) and np.linalg.det(q) < 0:
            q[:, 0] = -q[:, 0]
        return q
    if isinstance(manifold, ComplexEuclidean):
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return rng.standard_normal(shape)


def random_tangent_vector(manifold: Manifold, point: Any, seed: Seed = None) -> Any:
    """Draw a unit-norm tangent vector at ``point`` (Gaussian in orthonormal coordinates)."""
    rng = as_generator(seed)
    if (method := hook(manifold, "seeded_random_tangent_vector")) is not None:
        return method(point, rng)
    basis = tangent_basis(manifold, point)
    coordinates = rng.standard_normal(basis.dim)
    norm = np.linalg.norm(coordinates)
    return basis.to_vector(coordinates / norm if norm > 0 else coordinates)


# --------------------------------------------------------------------------- point checks
def constraint_residual(manifold: Manifold, point: Any) -> float:
    """Distance-like measure of how far ``point`` is from satisfying the manifold's constraints.

    ``inf`` for a point outside an open manifold (not positive definite, outside the unit ball,
    rank deficient).
    """
    if (method := hook(manifold, "constraint_residual")) is not None:
        return float(method(point))
    if isinstance(manifold, Product):
        return max(
            constraint_residual(m, p) for m, p in zip(manifold.manifolds, point, strict=True)
        )
    if not _fast(manifold):
        return float(constraint_residual_generic(manifold, point))
    if isinstance(manifold, Sphere):
        return abs(float(np.linalg.norm(point)) - 1.0)
    if isinstance(manifold, (Stiefel, Grassmann)):
        p = point.shape[1]
        return float(np.linalg.norm(point.T @ point - np.eye(p)))
    if isinstance(manifold, SpecialOrthogonalGroup):
        n = point.shape[0]
        orth = float(np.linalg.norm(point.T @ point - np.eye(n)))
        return max(orth, abs(float(np.linalg.det(point)) - 1.0))
    return 0.0


def _numeric(value: Any, name: str, complex_: bool) -> np.ndarray:
    try:
        array = np.asarray(value)
    except Exception as exc:
        raise TypeError(f"{name} must be an array, got {type(value).__name__}") from exc
    if array.dtype.kind not in "biufc":
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    if array.dtype.kind == "c" and not complex_:
        if np.any(np.imag(array) != 0):
            raise ValueError(f"{name} must be real, got complex entries")
        array = np.real(array)
    array = array.astype(complex if complex_ else float)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got NaN or Inf entries")
    return array


def _require_on(manifold: Manifold, array: Any, name: str, tolerance: float, size: int) -> None:
    residual = constraint_residual(manifold, array)
    if math.isinf(residual):
        raise ValueError(
            f"{name} is not on {manifold}: it lies outside the open set the manifold is "
            "(not positive definite, not positive, outside the unit ball, or rank deficient)"
        )
    if residual > tolerance * max(1.0, float(np.sqrt(size))):
        raise ValueError(
            f"{name} is not on {manifold}: constraint residual {residual:.3g} exceeds {tolerance:g}"
        )


def _check_embedded_point(manifold: Manifold, point: Any, name: str, tolerance: float) -> Any:
    """A ``FixedRankEmbedded`` point: the factors (u, s, vt), or a dense m × n matrix of rank k."""
    m, n, k = manifold._m, manifold._n, manifold._k
    if isinstance(point, (list, tuple)):
        if len(point) != 3:
            raise TypeError(
                f"{name} must be the factors (u, s, vt) of {manifold}, got {len(point)}"
            )
        u = _numeric(point[0], f"{name}.u", False)
        s = _numeric(point[1], f"{name}.s", False)
        vt = _numeric(point[2], f"{name}.vt", False)
        for label, array, shape in (("u", u, (m, k)), ("s", s, (k,)), ("vt", vt, (k, n))):
            if array.shape != shape:
                raise ValueError(
                    f"{name}.{label} must have shape {shape} for {manifold}, got {array.shape}"
                )
    else:
        dense = _numeric(point, name, False)
        if dense.shape != (m, n):
            raise ValueError(
                f"{name} must be the factors (u, s, vt) or an {m} × {n} matrix for {manifold}, "
                f"got shape {dense.shape}"
            )
        u, s, vt = np.linalg.svd(dense, full_matrices=False)
        if not s[k - 1] > 1e-10 * max(s[0], 1e-300) or (s.size > k and s[k] > 1e-8 * s[0]):
            raise ValueError(f"{name} must have rank {k} for {manifold}; singular values {s}")
        u, s, vt = u[:, :k], s[:k], vt[:k]
    checked = EmbeddedPoint(u, s, vt)
    _require_on(manifold, checked, name, tolerance, k)
    return checked


def check_point(manifold: Manifold, point: Any, name: str = "x0", tolerance: float = 1e-8) -> Any:
    """Validate ``point`` and return it as float (or complex) arrays.

    Raises ``TypeError``/``ValueError`` naming ``name`` when the point has the wrong structure,
    shape or dtype, holds NaN/Inf, or violates the manifold's constraints by more than
    ``tolerance`` (relative to the point's scale).
    """
    if (method := hook(manifold, "check_point")) is not None:
        return method(point, name, tolerance)
    if isinstance(manifold, Product):
        parts = list(point) if isinstance(point, (list, tuple)) else None
        if parts is None or len(parts) != len(manifold.manifolds):
            raise TypeError(
                f"{name} must be a list of {len(manifold.manifolds)} arrays for {manifold}, "
                f"got {type(point).__name__}"
            )
        return [
            check_point(m, p, f"{name}[{i}]", tolerance)
            for i, (m, p) in enumerate(zip(manifold.manifolds, parts, strict=True))
        ]
    if isinstance(manifold, FixedRankEmbedded):
        return _check_embedded_point(manifold, point, name, tolerance)
    shape = point_shape(manifold)
    if isinstance(point, (list, tuple)) and not isinstance(shape, list):
        raise TypeError(f"{name} must be an array for {manifold}, got {type(point).__name__}")
    complex_ = is_complex(manifold)
    try:
        array = np.asarray(point)
    except Exception as exc:
        raise TypeError(f"{name} must be an array, got {type(point).__name__}") from exc
    if array.dtype.kind not in "biufc":
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    if array.ndim == 1 and len(shape) == 2 and tuple(shape) == (array.size, 1):
        array = array.reshape(tuple(shape))  # the rank-1 rule: a length-n vector is a column
    if array.shape != tuple(shape):
        column = f" (or ({shape[0]},) for the column)" if len(shape) == 2 and shape[1] == 1 else ""
        raise ValueError(
            f"{name} must have shape {tuple(shape)}{column} for {manifold}, got {array.shape}"
        )
    if array.dtype.kind == "c" and not complex_:
        if np.any(np.imag(array) != 0):
            raise ValueError(f"{name} must be real for {manifold}, got complex entries")
        array = np.real(array)
    array = array.astype(complex if complex_ else float)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got NaN or Inf entries")
    _require_on(manifold, array, name, tolerance, array.size)
    return array


# --------------------------------------------------------------------------- retractions
def second_order_retraction(manifold: Manifold, point: Any, tangent_vector: Any) -> Any:
    """A retraction that agrees with the exponential map to second order.

    Sphere: x ↦ (x + u)/‖x + u‖; Stiefel and Grassmann: the polar factor of X + U; SO(n): the
    exponential X expm(Ω); Euclidean: x + u.  These metric-projection retractions are second
    order (Absil & Malick, "Projection-like retractions on matrix manifolds", 2012).  Every other
    manifold: ``generic.second_order_retraction_generic`` (and
    ``generic.has_second_order_retraction`` says whether it is second order).
    """
    if isinstance(manifold, Product):
        return [
            second_order_retraction(m, p, u)
            for m, p, u in zip(manifold.manifolds, point, tangent_vector, strict=True)
        ]
    if (method := hook(manifold, "second_order_retraction")) is not None:
        return method(point, tangent_vector)
    if not _fast(manifold):
        return second_order_retraction_generic(manifold, point, tangent_vector)
    if isinstance(manifold, Sphere):
        y = point + tangent_vector
        return y / np.linalg.norm(y)
    if isinstance(manifold, (Stiefel, Grassmann)):
        u, _, vt = np.linalg.svd(point + tangent_vector, full_matrices=False)
        return u @ vt
    if isinstance(manifold, SpecialOrthogonalGroup):
        return point @ expm_skew(tangent_vector)
    return point + tangent_vector


def zero_tangent_vector(manifold: Manifold, point: Any) -> Any:
    """The zero tangent vector at ``point`` (product-aware)."""
    if isinstance(manifold, Product):
        return ProductVector(
            [zero_tangent_vector(m, p) for m, p in zip(manifold.manifolds, point, strict=True)]
        )
    return manifold.zero_vector(point) * 1.0


def point_norm(point: Any) -> float:
    """Euclidean norm of a point or tangent vector in the embedding (product-aware)."""
    if type(point) is np.ndarray and point.dtype == np.float64 and point.flags.c_contiguous:
        flat = point.reshape(-1)  # numpy.linalg.norm's own arithmetic, without its dispatch
        return math.sqrt(flat.dot(flat))
    if hasattr(point, "factors") and hasattr(point, "frobenius_norm"):
        return float(point.frobenius_norm())
    if EmbeddedPoint is not None and isinstance(point, EmbeddedPoint):
        return float(np.linalg.norm(point.s))  # ‖u diag(s) vt‖_F
    if isinstance(point, (list, tuple)):
        return float(np.sqrt(sum(point_norm(p) ** 2 for p in point)))
    return float(np.linalg.norm(point))


def copy_point(point: Any) -> Any:
    """A deep copy of a point (list for products, the same tuple type for factored points)."""
    if hasattr(point, "factors") and hasattr(point, "copy"):
        return point.copy()
    if EmbeddedPoint is not None and isinstance(point, EmbeddedPoint):
        return EmbeddedPoint(*(np.array(p, copy=True) for p in point))
    if isinstance(point, (list, tuple)):
        return [copy_point(p) for p in point]
    return np.array(point, copy=True)


#: same_point compares the bytes of arrays up to this size first (a copy each, cheap when small)
_BYTES_LIMIT = 4096


def same_point(a: Any, b: Any) -> bool:
    """Exact equality of two points (product-aware)."""
    if a is b:
        return True
    if type(a) is np.ndarray and type(b) is np.ndarray:  # the common case, without the checks
        if a.shape != b.shape:
            return False
        n = a.size
        if n == 0:
            return True
        # the first, last and middle entries first: successive iterates differ there almost
        # always (on SO(n) or at a fixed point they may share the first); NaN ≠ NaN, as below
        last = n - 1
        if a.item(0) != b.item(0) or a.item(last) != b.item(last):
            return False
        if a.item(last // 2) != b.item(last // 2):
            return False
        # equal bytes without a NaN (a sum of squares is NaN only with one) are equal entries;
        # unequal bytes may still be (−0.0 = 0.0): compare the entries then
        if (
            n <= _BYTES_LIMIT
            and a.dtype == np.float64
            and b.dtype == np.float64
            and a.flags.c_contiguous
            and b.flags.c_contiguous
            and a.tobytes() == b.tobytes()
        ):
            flat = a.reshape(-1)
            squares = flat.dot(flat)
            return bool(squares == squares)
        return bool((a == b).all())
    if hasattr(a, "factors") and hasattr(a, "same_as"):
        return bool(a.same_as(b))
    if hasattr(b, "factors") and hasattr(b, "same_as"):
        return bool(b.same_as(a))
    if isinstance(a, (list, tuple)) != isinstance(b, (list, tuple)):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_point(p, q) for p, q in zip(a, b, strict=True))
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.array_equal(a, b))
