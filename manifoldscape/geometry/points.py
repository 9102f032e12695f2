"""Seeded points, point checks, orthonormal tangent bases and second-order retractions.

pymanopt supplies the manifolds (metric, projection, retraction, Euclidean-to-Riemannian
conversions).  This module adds what landscape analysis needs on top of them:

* ``random_point`` / ``random_tangent_vector`` driven by a ``numpy.random.Generator``
  (pymanopt's own draw from the global state);
* ``check_point`` — refuse a start point of the wrong shape, non-finite, or off the manifold;
* ``tangent_basis`` — an orthonormal basis of T_x M, applied matrix-free: coordinates map to
  tangent vectors and back in O(n p^2) through Householder reflectors, so a basis of the sphere
  in R^100000 costs two vectors of memory;
* ``second_order_retraction`` — the metric-projection retraction (or the exponential map), whose
  second-order agreement with geodesics the Hessian Taylor check needs (Absil, Mahony, Sepulchre,
  *Optimization Algorithms on Matrix Manifolds*, Prop. 5.5.5).

Supported manifolds: ``Sphere``, ``Stiefel``, ``Grassmann``, ``SpecialOrthogonalGroup``,
``Euclidean``, ``ComplexEuclidean`` and ``Product`` of these (``k = 1`` throughout), and any
manifold that follows the small *landscape protocol* below (the fixed-rank manifolds of
``manifoldscape.geometry.fixed_rank`` do).

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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
from pymanopt.manifolds import (
    ComplexEuclidean,
    Euclidean,
    Grassmann,
    Product,
    SpecialOrthogonalGroup,
    Sphere,
    Stiefel,
)
from pymanopt.manifolds.manifold import Manifold

from manifoldscape.boundary.arguments import Seed, as_generator

try:  # pymanopt's list type for tangent vectors of a product (supports + - * /)
    from pymanopt.manifolds.product import _ProductTangentVector as ProductVector
except ImportError:  # pragma: no cover - pymanopt moved it
    ProductVector = list  # type: ignore[misc,assignment]

SUPPORTED = (
    "Sphere, Stiefel, Grassmann, SpecialOrthogonalGroup, Euclidean, ComplexEuclidean, Product, "
    "and manifolds with the landscape protocol (manifoldscape.geometry.fixed_rank: FixedRank, "
    "SymmetricFixedRank)"
)


def _unsupported(manifold: Manifold, what: str) -> TypeError:
    return TypeError(
        f"{what} is not available for {type(manifold).__name__}; supported manifolds: {SUPPORTED}"
    )


def _k(manifold: Manifold) -> int:
    return int(getattr(manifold, "_k", 1))


def _hook(manifold: Manifold, name: str) -> Any:
    """The manifold's own implementation of a landscape-protocol method, or None."""
    if isinstance(manifold, Product):
        return None
    method = getattr(manifold, name, None)
    return method if callable(method) else None


def point_shape(manifold: Manifold) -> tuple[int, ...] | list[tuple[int, ...]]:
    """Shape of a point (a list for a ``Product``; the ambient shape for a factored point)."""
    if (hook := _hook(manifold, "point_shape")) is not None:
        return tuple(hook())
    if isinstance(manifold, Product):
        return [point_shape(m) for m in manifold.manifolds]  # type: ignore[misc]
    if _k(manifold) != 1:
        raise ValueError(f"{manifold} with k > 1 is not supported; use a Product instead")
    if isinstance(manifold, Sphere):
        return tuple(manifold._shape)
    if isinstance(manifold, (Stiefel, Grassmann)):
        return (manifold._n, manifold._p)
    if isinstance(manifold, SpecialOrthogonalGroup):
        return (manifold._n, manifold._n)
    if isinstance(manifold, (Euclidean, ComplexEuclidean)):
        return tuple(manifold._shape)
    raise _unsupported(manifold, "point_shape")


def is_complex(manifold: Manifold) -> bool:
    """Whether points of the manifold are complex arrays."""
    if isinstance(manifold, Product):
        return any(is_complex(m) for m in manifold.manifolds)
    flag = getattr(manifold, "is_complex", None)
    if isinstance(flag, bool):
        return flag
    return isinstance(manifold, ComplexEuclidean)


# --------------------------------------------------------------------------- random draws
def random_point(manifold: Manifold, seed: Seed = None) -> Any:
    """Draw a point from the manifold's natural (Haar or Gaussian) distribution, seeded."""
    rng = as_generator(seed)
    if isinstance(manifold, Product):
        return [random_point(m, rng) for m in manifold.manifolds]
    if (hook := _hook(manifold, "seeded_random_point")) is not None:
        return hook(rng)
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
    if isinstance(manifold, Euclidean):
        return rng.standard_normal(shape)
    raise _unsupported(manifold, "random_point")


def random_tangent_vector(manifold: Manifold, point: Any, seed: Seed = None) -> Any:
    """Draw a unit-norm tangent vector at ``point`` (Gaussian in tangent coordinates)."""
    rng = as_generator(seed)
    if (hook := _hook(manifold, "seeded_random_tangent_vector")) is not None:
        return hook(point, rng)
    basis = tangent_basis(manifold, point)
    coordinates = rng.standard_normal(basis.dim)
    norm = np.linalg.norm(coordinates)
    return basis.to_vector(coordinates / norm if norm > 0 else coordinates)


# --------------------------------------------------------------------------- point checks
def constraint_residual(manifold: Manifold, point: Any) -> float:
    """Distance-like measure of how far ``point`` is from satisfying the manifold's constraints."""
    if (hook := _hook(manifold, "constraint_residual")) is not None:
        return float(hook(point))
    if isinstance(manifold, Product):
        return max(
            constraint_residual(m, p) for m, p in zip(manifold.manifolds, point, strict=True)
        )
    if isinstance(manifold, Sphere):
        return abs(float(np.linalg.norm(point)) - 1.0)
    if isinstance(manifold, (Stiefel, Grassmann)):
        p = point.shape[1]
        return float(np.linalg.norm(point.T @ point - np.eye(p)))
    if isinstance(manifold, SpecialOrthogonalGroup):
        n = point.shape[0]
        orth = float(np.linalg.norm(point.T @ point - np.eye(n)))
        return max(orth, abs(float(np.linalg.det(point)) - 1.0))
    if isinstance(manifold, (Euclidean, ComplexEuclidean)):
        return 0.0
    raise _unsupported(manifold, "constraint_residual")


def check_point(manifold: Manifold, point: Any, name: str = "x0", tolerance: float = 1e-8) -> Any:
    """Validate ``point`` and return it as float (or complex) arrays.

    Raises ``TypeError``/``ValueError`` naming ``name`` when the point has the wrong structure,
    shape or dtype, holds NaN/Inf, or violates the manifold's constraints by more than
    ``tolerance`` (relative to the point's scale).
    """
    if (hook := _hook(manifold, "check_point")) is not None:
        return hook(point, name, tolerance)
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
    shape = point_shape(manifold)
    try:
        array = np.asarray(point)
    except Exception as exc:
        raise TypeError(f"{name} must be an array, got {type(point).__name__}") from exc
    if array.dtype.kind not in "biufc":
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    if array.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)} for {manifold}, got {array.shape}")
    if array.dtype.kind == "c" and not is_complex(manifold):
        if np.any(np.imag(array) != 0):
            raise ValueError(f"{name} must be real for {manifold}, got complex entries")
        array = np.real(array)
    array = array.astype(complex if is_complex(manifold) else float)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got NaN or Inf entries")
    residual = constraint_residual(manifold, array)
    if residual > tolerance * max(1.0, float(np.sqrt(array.size))):
        raise ValueError(
            f"{name} is not on {manifold}: constraint residual {residual:.3g} exceeds {tolerance:g}"
        )
    return array


# --------------------------------------------------------------------------- tangent bases
class _Householder:
    """Orthogonal Q = H_1 ⋯ H_p with Q^T X = [D; 0] for X with orthonormal columns (D = ±I).

    The last n − p columns of Q span the orthogonal complement of range(X); Q is never formed.
    """

    def __init__(self, x: np.ndarray):
        factors, tau = scipy.linalg.qr(x, mode="raw")[0]
        self._n, self._p = x.shape
        vectors = np.tril(factors, -1)[:, : self._p]
        vectors[np.arange(self._p), np.arange(self._p)] = 1.0
        self._v = vectors  # Householder vectors (unit lower trapezoidal)
        self._tau = tau

    def apply_transpose(self, m: np.ndarray) -> np.ndarray:
        """Q^T m for m of shape (n, k)."""
        out = np.array(m, dtype=float, copy=True)
        for j in range(self._p):
            v = self._v[:, j]
            out -= self._tau[j] * np.outer(v, v @ out)
        return out

    def apply(self, m: np.ndarray) -> np.ndarray:
        """Q m for m of shape (n, k)."""
        out = np.array(m, dtype=float, copy=True)
        for j in reversed(range(self._p)):
            v = self._v[:, j]
            out -= self._tau[j] * np.outer(v, v @ out)
        return out


def _skew_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(p, 1)


def _skew_from_coordinates(c: np.ndarray, p: int) -> np.ndarray:
    """Σ c_k (E_ij − E_ji)/√2 for a batch of coordinates c of shape (b, p(p−1)/2)."""
    i, j = _skew_indices(p)
    out = np.zeros((c.shape[0], p, p))
    out[:, i, j] = c / np.sqrt(2.0)
    out[:, j, i] = -c / np.sqrt(2.0)
    return out


def _skew_coordinates(omega: np.ndarray) -> np.ndarray:
    """Coordinates of the skew part of a batch of p×p matrices in the basis (E_ij − E_ji)/√2."""
    p = omega.shape[-1]
    i, j = _skew_indices(p)
    return (omega[:, i, j] - omega[:, j, i]) / np.sqrt(2.0)


@dataclass(frozen=True)
class TangentBasis:
    """An orthonormal basis {b_1, …, b_d} of T_x M, applied matrix-free.

    ``to_vector(c) = Σ c_k b_k`` and ``to_coordinates(v) = (⟨b_k, v⟩)_k`` for the Riemannian
    metric; for a tangent v, ``to_vector(to_coordinates(v)) = v``.  For a vector that is not
    tangent, ``to_coordinates`` returns the coordinates of its orthogonal projection.
    Batched forms take and return a leading batch axis (lists of vectors for a ``Product``).
    """

    manifold: Manifold
    point: Any
    dim: int
    _to_vectors: Any
    _to_coordinates: Any

    def to_vectors(self, coordinates: np.ndarray) -> Any:
        """Tangent vectors for a batch of coordinates of shape (b, d)."""
        c = np.asarray(coordinates, dtype=float)
        if c.ndim != 2 or c.shape[1] != self.dim:
            raise ValueError(f"coordinates must have shape (b, {self.dim}), got {c.shape}")
        return self._to_vectors(c)

    def to_coordinates_batch(self, vectors: Any) -> np.ndarray:
        """Coordinates (b, d) of a batch of tangent vectors."""
        return self._to_coordinates(vectors)

    def to_vector(self, coordinates: np.ndarray) -> Any:
        """The tangent vector with the given coordinates (shape (d,))."""
        c = np.asarray(coordinates, dtype=float).reshape(1, -1)
        return as_tangent(self.manifold, _unbatch(self.to_vectors(c)))

    def to_coordinates(self, vector: Any) -> np.ndarray:
        """Coordinates (d,) of one tangent vector."""
        return self._to_coordinates(_batch(vector))[0]

    def vectors(self) -> Any:
        """All d basis vectors as a batch (forms a d × ambient array: small d only)."""
        return self.to_vectors(np.eye(self.dim))


def _batch(vector: Any) -> Any:
    if isinstance(vector, (list, tuple)):
        return [_batch(v) for v in vector]
    return np.asarray(vector)[None]


def _unbatch(vectors: Any) -> Any:
    if isinstance(vectors, list):
        return ProductVector([_unbatch(v) for v in vectors])
    return vectors[0]


def batch_item(vectors: Any, k: int) -> Any:
    """The k-th tangent vector of a batch (arrays with a leading axis, or product lists)."""
    if isinstance(vectors, list):
        return ProductVector([batch_item(v, k) for v in vectors])
    return vectors[k]


def stack_batch(items: Sequence[Any]) -> Any:
    """Inverse of ``batch_item``: stack tangent vectors into a batch."""
    if isinstance(items[0], (list, tuple)):
        return [stack_batch([item[c] for item in items]) for c in range(len(items[0]))]
    return np.stack([np.asarray(item) for item in items])


def _stiefel_like_basis(manifold: Manifold, x: np.ndarray, vertical: bool) -> TangentBasis:
    """T_X St(n, p) = {X Ω + X_⊥ K}: Ω skew (dim p(p−1)/2, if ``vertical``), K free."""
    shape = x.shape
    matrix = x.reshape(-1, 1) if x.ndim != 2 or isinstance(manifold, Sphere) else x
    n, p = matrix.shape
    householder = _Householder(matrix)
    n_skew = p * (p - 1) // 2 if vertical else 0
    n_perp = (n - p) * p
    dim = n_skew + n_perp

    def to_vectors(c: np.ndarray) -> np.ndarray:
        b = c.shape[0]
        k_part = c[:, n_skew:].reshape(b, n - p, p)
        padded = np.zeros((n, b * p))
        padded[p:, :] = k_part.transpose(1, 0, 2).reshape(n - p, b * p)
        out = householder.apply(padded).reshape(n, b, p).transpose(1, 0, 2)
        if n_skew:
            out = out + matrix @ _skew_from_coordinates(c[:, :n_skew], p)
        return out.reshape((b, *shape))

    def to_coordinates(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        b = v.shape[0]
        v = v.reshape(b, n, p)
        stacked = v.transpose(1, 0, 2).reshape(n, b * p)
        rotated = householder.apply_transpose(stacked)[p:, :]
        k_part = rotated.reshape(n - p, b, p).transpose(1, 0, 2).reshape(b, -1)
        if not n_skew:
            return k_part
        omega = np.einsum("ji,bjk->bik", matrix, v)
        return np.concatenate([_skew_coordinates(omega), k_part], axis=1)

    return TangentBasis(manifold, x, dim, to_vectors, to_coordinates)


def tangent_basis(manifold: Manifold, point: Any) -> TangentBasis:
    """An orthonormal basis of the tangent space at ``point`` (see ``TangentBasis``)."""
    if isinstance(manifold, Product):
        parts = [tangent_basis(m, p) for m, p in zip(manifold.manifolds, point, strict=True)]
        offsets = np.cumsum([0] + [b.dim for b in parts])

        def to_vectors(c: np.ndarray) -> list:
            return [b.to_vectors(c[:, offsets[i] : offsets[i + 1]]) for i, b in enumerate(parts)]

        def to_coordinates(v: list) -> np.ndarray:
            return np.concatenate(
                [b.to_coordinates_batch(v[i]) for i, b in enumerate(parts)], axis=1
            )

        return TangentBasis(manifold, point, int(offsets[-1]), to_vectors, to_coordinates)
    if (hook := _hook(manifold, "tangent_basis")) is not None:
        return hook(point)
    point_shape(manifold)  # refuses unsupported manifolds and k > 1
    x = np.asarray(point)
    if isinstance(manifold, Sphere):
        return _stiefel_like_basis(manifold, x, vertical=False)
    if isinstance(manifold, Stiefel):
        return _stiefel_like_basis(manifold, x, vertical=True)
    if isinstance(manifold, Grassmann):
        return _stiefel_like_basis(manifold, x, vertical=False)
    if isinstance(manifold, SpecialOrthogonalGroup):
        n = x.shape[0]
        dim = n * (n - 1) // 2
        return TangentBasis(
            manifold,
            x,
            dim,
            lambda c: _skew_from_coordinates(c, n),
            lambda v: _skew_coordinates(np.asarray(v, dtype=float)),
        )
    if isinstance(manifold, ComplexEuclidean):
        shape = x.shape
        size = int(np.prod(shape))

        def to_vectors(c: np.ndarray) -> np.ndarray:
            return (c[:, :size] + 1j * c[:, size:]).reshape((c.shape[0], *shape))

        def to_coordinates(v: np.ndarray) -> np.ndarray:
            flat = np.asarray(v).reshape(len(v), -1)
            return np.concatenate([flat.real, flat.imag], axis=1)

        return TangentBasis(manifold, x, 2 * size, to_vectors, to_coordinates)
    if isinstance(manifold, Euclidean):
        shape = x.shape
        return TangentBasis(
            manifold,
            x,
            int(np.prod(shape)),
            lambda c: c.reshape((c.shape[0], *shape)),
            lambda v: np.real(np.asarray(v)).reshape(len(v), -1).astype(float),
        )
    raise _unsupported(manifold, "tangent_basis")


# --------------------------------------------------------------------------- retractions
def second_order_retraction(manifold: Manifold, point: Any, tangent_vector: Any) -> Any:
    """A retraction that agrees with the exponential map to second order.

    Sphere: x ↦ (x + u)/‖x + u‖; Stiefel and Grassmann: the polar factor of X + U; SO(n): the
    exponential X expm(Ω); Euclidean: x + u.  These metric-projection retractions are second
    order (Absil & Malick, "Projection-like retractions on matrix manifolds", 2012).
    """
    if isinstance(manifold, Product):
        return [
            second_order_retraction(m, p, u)
            for m, p, u in zip(manifold.manifolds, point, tangent_vector, strict=True)
        ]
    if (hook := _hook(manifold, "second_order_retraction")) is not None:
        return hook(point, tangent_vector)
    if isinstance(manifold, Sphere):
        y = point + tangent_vector
        return y / np.linalg.norm(y)
    if isinstance(manifold, (Stiefel, Grassmann)):
        u, _, vt = np.linalg.svd(point + tangent_vector, full_matrices=False)
        return u @ vt
    if isinstance(manifold, SpecialOrthogonalGroup):
        return point @ scipy.linalg.expm(tangent_vector)
    if isinstance(manifold, (Euclidean, ComplexEuclidean)):
        return point + tangent_vector
    raise _unsupported(manifold, "second_order_retraction")


def zero_tangent_vector(manifold: Manifold, point: Any) -> Any:
    """The zero tangent vector at ``point`` (product-aware)."""
    if isinstance(manifold, Product):
        return ProductVector(
            [zero_tangent_vector(m, p) for m, p in zip(manifold.manifolds, point, strict=True)]
        )
    return manifold.zero_vector(point) * 1.0


def point_norm(point: Any) -> float:
    """Euclidean norm of a point or tangent vector in the embedding (product-aware)."""
    if hasattr(point, "factors") and hasattr(point, "frobenius_norm"):
        return float(point.frobenius_norm())
    if isinstance(point, (list, tuple)):
        return float(np.sqrt(sum(point_norm(p) ** 2 for p in point)))
    return float(np.linalg.norm(point))


def copy_point(point: Any) -> Any:
    """A deep copy of a point (list for products)."""
    if hasattr(point, "factors") and hasattr(point, "copy"):
        return point.copy()
    if isinstance(point, (list, tuple)):
        return [copy_point(p) for p in point]
    return np.array(point, copy=True)


def same_point(a: Any, b: Any) -> bool:
    """Exact equality of two points (product-aware)."""
    if a is b:
        return True
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


def as_tangent(manifold: Manifold, vector: Any) -> Any:
    """Wrap a product (or factored) tangent vector so that + − * work on it."""
    if (hook := _hook(manifold, "as_tangent_vector")) is not None:
        return hook(vector)
    if isinstance(manifold, Product) and not isinstance(vector, ProductVector):
        return ProductVector(list(vector))
    return vector
