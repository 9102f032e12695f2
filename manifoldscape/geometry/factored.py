"""Factored points, tangent vectors and the shared base of the fixed-rank manifolds.

The types behind ``manifoldscape.geometry.fixed_rank`` (the math and the sources are in that
module's docstring): ``LowRankMatrix`` (L Rᴴ kept factored), the points ``FixedRankPoint``
(U diag(s) Vᵀ) and ``SymmetricFixedRankPoint`` (U diag(λ) Uᴴ), the tangent vectors
``FixedRankTangentVector(M, Up, Vp)`` and ``SymmetricTangentVector(M, Up)``, and the base class
both manifolds share (seeded draws, norms, transport, the landscape protocol).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pymanopt.manifolds.manifold import RiemannianSubmanifold

from manifoldscape.boundary.arguments import Seed, as_generator
from manifoldscape.geometry.bases import TangentBasis

__all__ = [
    "FixedRankPoint",
    "FixedRankTangentVector",
    "LowRankMatrix",
    "SymmetricFixedRankPoint",
    "SymmetricTangentVector",
]


# --------------------------------------------------------------------------- ambient helpers
class LowRankMatrix:
    """The m×n matrix L Rᴴ kept in factored form (L m×k, R n×k): ``@``, ``.T``, ``.H``, dense."""

    __array_priority__ = 1000

    def __init__(self, left: np.ndarray, right: np.ndarray):
        self.left = np.asarray(left)
        self.right = np.asarray(right)
        if self.left.ndim != 2 or self.right.ndim != 2 or self.left.shape[1] != self.right.shape[1]:
            raise ValueError(
                "left and right must be 2-D with the same number of columns, got shapes "
                f"{self.left.shape} and {self.right.shape}"
            )

    @property
    def shape(self) -> tuple[int, int]:
        """(m, n)."""
        return (self.left.shape[0], self.right.shape[0])

    @property
    def T(self) -> LowRankMatrix:
        """(L Rᴴ)ᵀ = R̄ L̄ᴴ."""
        return LowRankMatrix(self.right.conj(), self.left.conj())

    @property
    def H(self) -> LowRankMatrix:
        """(L Rᴴ)ᴴ = R Lᴴ."""
        return LowRankMatrix(self.right, self.left)

    def conj(self) -> LowRankMatrix:
        """Complex conjugate."""
        return LowRankMatrix(self.left.conj(), self.right.conj())

    def frobenius_norm(self) -> float:
        """‖L Rᴴ‖_F = ‖T_L T_Rᴴ‖_F from thin QR factorizations L = Q_L T_L, R = Q_R T_R.

        O((m + n) k²), and accurate to O(ε ‖L‖ ‖R‖) absolutely, like a dense difference (forming
        the Gram matrices LᴴL, RᴴR instead would lose half the digits of a small difference).
        """
        t_left = np.linalg.qr(self.left, mode="r")
        t_right = np.linalg.qr(self.right, mode="r")
        return float(np.linalg.norm(t_left @ t_right.conj().T))

    def __matmul__(self, other: np.ndarray) -> np.ndarray:
        return self.left @ (self.right.conj().T @ other)

    def __rmatmul__(self, other: np.ndarray) -> np.ndarray:
        return (other @ self.left) @ self.right.conj().T

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.left @ self.right.conj().T
        return out if dtype is None else out.astype(dtype)


def _times(z: Any, b: np.ndarray) -> np.ndarray:
    """Z B for an ambient Z (array, sparse, LinearOperator, LowRankMatrix)."""
    return np.asarray(z @ b)


def _adjoint_times(z: Any, b: np.ndarray) -> np.ndarray:
    """Zᴴ B for an ambient Z."""
    if isinstance(z, np.ndarray):
        return z.conj().T @ b
    if hasattr(z, "H"):
        return np.asarray(z.H @ b)
    return np.asarray(z.conj().T @ b)


def _haar(rng: np.random.Generator, n: int, r: int, complex_: bool) -> np.ndarray:
    z = rng.standard_normal((n, r))
    if complex_:
        z = z + 1j * rng.standard_normal((n, r))
    q, t = np.linalg.qr(z)
    d = np.diag(t)
    return q * (d / np.abs(d))  # Haar distributed (Mezzadri 2007)


def _orthonormality(u: np.ndarray) -> float:
    return float(np.linalg.norm(u.conj().T @ u - np.eye(u.shape[1])))


# --------------------------------------------------------------------------- points
class _FactoredPoint:
    """A point kept as factors; numpy sees the dense matrix (``np.asarray(x)``), on demand only.

    ``factors`` is the tuple of arrays; ``geometry.copy_point`` / ``same_point`` / ``point_norm``
    use it, so the solvers' point cache never forms the dense matrix.  Arithmetic with arrays
    (``x - B``, ``A @ x``, ``2 * x``) forms the dense matrix: meant for prototype costs.
    """

    __array_priority__ = 1000
    factors: tuple[np.ndarray, ...]

    def dense(self) -> np.ndarray:
        """The m×n matrix (formed)."""
        raise NotImplementedError

    def frobenius_norm(self) -> float:
        """‖X‖_F from the factors."""
        raise NotImplementedError

    def low_rank(self) -> LowRankMatrix:
        """X as a ``LowRankMatrix`` L Rᴴ (nothing m×n formed)."""
        raise NotImplementedError

    def frobenius_distance(self, other: Any) -> float:
        """‖X − Y‖_F for another factored point Y of the same shape, in O((m + n) r²)."""
        if not isinstance(other, _FactoredPoint) or other.shape != self.shape:
            raise TypeError(
                f"other must be a factored point of shape {self.shape}, got {type(other).__name__}"
            )
        a, b = self.low_rank(), other.low_rank()
        return LowRankMatrix(
            np.hstack([a.left, -b.left]), np.hstack([a.right, b.right])
        ).frobenius_norm()

    def copy(self) -> Any:
        """A deep copy."""
        return type(self)(*(np.array(f, copy=True) for f in self.factors))

    def same_as(self, other: Any) -> bool:
        """Exact equality of the factors."""
        return type(other) is type(self) and all(
            a.shape == b.shape and np.array_equal(a, b)
            for a, b in zip(self.factors, other.factors, strict=True)
        )

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.dense()
        return out if dtype is None else out.astype(dtype)

    @property
    def ndim(self) -> int:
        """2."""
        return 2

    @property
    def size(self) -> int:
        """Number of entries m n."""
        return int(np.prod(self.shape))

    @property
    def T(self) -> np.ndarray:
        """The dense transpose."""
        return self.dense().T

    def __neg__(self) -> np.ndarray:
        return -self.dense()

    def __add__(self, other: Any) -> np.ndarray:
        return self.dense() + np.asarray(other)

    __radd__ = __add__

    def __sub__(self, other: Any) -> np.ndarray:
        return self.dense() - np.asarray(other)

    def __rsub__(self, other: Any) -> np.ndarray:
        return np.asarray(other) - self.dense()

    def __mul__(self, other: Any) -> np.ndarray:
        return self.dense() * np.asarray(other)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> np.ndarray:
        return self.dense() / np.asarray(other)

    def __pow__(self, other: Any) -> np.ndarray:
        return self.dense() ** other

    def __matmul__(self, other: Any) -> np.ndarray:
        return self.dense() @ np.asarray(other)

    def __rmatmul__(self, other: Any) -> np.ndarray:
        return np.asarray(other) @ self.dense()

    def __getstate__(self) -> tuple:
        return self.factors

    def __setstate__(self, state: tuple) -> None:
        self.__init__(*state)  # type: ignore[misc]


class FixedRankPoint(_FactoredPoint):
    """X = U diag(s) Vᵀ (U m×r, s of length r, V n×r)."""

    def __init__(self, u: np.ndarray, s: np.ndarray, v: np.ndarray):
        self.u, self.s, self.v = np.asarray(u), np.asarray(s), np.asarray(v)
        self.factors = (self.u, self.s, self.v)

    @property
    def shape(self) -> tuple[int, int]:
        """(m, n)."""
        return (self.u.shape[0], self.v.shape[0])

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the dense matrix."""
        return np.result_type(self.u, self.s, self.v)

    def dense(self) -> np.ndarray:  # noqa: D102
        return (self.u * self.s) @ self.v.conj().T

    def frobenius_norm(self) -> float:  # noqa: D102
        return float(np.linalg.norm(self.s))

    def low_rank(self) -> LowRankMatrix:  # noqa: D102
        return LowRankMatrix(self.u * self.s, self.v)

    def __repr__(self) -> str:
        return f"FixedRankPoint(shape={self.shape}, rank={self.s.size}, s={self.s})"


class SymmetricFixedRankPoint(_FactoredPoint):
    """X = U diag(λ) Uᴴ (U n×r with orthonormal columns, λ real and non-zero)."""

    def __init__(self, u: np.ndarray, lam: np.ndarray):
        self.u, self.lam = np.asarray(u), np.asarray(lam)
        self.factors = (self.u, self.lam)

    @property
    def shape(self) -> tuple[int, int]:
        """(n, n)."""
        return (self.u.shape[0], self.u.shape[0])

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the dense matrix."""
        return np.result_type(self.u, self.lam)

    def dense(self) -> np.ndarray:  # noqa: D102
        return (self.u * self.lam) @ self.u.conj().T

    def frobenius_norm(self) -> float:  # noqa: D102
        return float(np.linalg.norm(self.lam))

    def low_rank(self) -> LowRankMatrix:  # noqa: D102
        return LowRankMatrix(self.u * self.lam, self.u)

    def __repr__(self) -> str:
        return f"SymmetricFixedRankPoint(n={self.shape[0]}, rank={self.lam.size}, lam={self.lam})"


# --------------------------------------------------------------------------- tangent vectors
class _TangentTuple(list):
    """Tangent vector in factor coordinates; + − with another, * / by scalars, unary −.

    A ``list`` of arrays (like pymanopt's product tangent vectors), so the project's helpers
    that treat lists of arrays factor by factor apply; ``+`` and ``*`` are re-defined (never
    concatenation or repetition), and in-place operators return new vectors.
    """

    __array_priority__ = 1000
    __array_ufunc__ = None  # numpy scalars defer to __rmul__ instead of broadcasting
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, *parts: Any):
        super().__init__(parts)

    def __add__(self, other: Any) -> Any:  # type: ignore[override]
        return type(self)(*(a + b for a, b in zip(self, other, strict=True)))

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        return type(self)(*(a - b for a, b in zip(self, other, strict=True)))

    def __rsub__(self, other: Any) -> Any:
        return type(self)(*(b - a for a, b in zip(self, other, strict=True)))

    def __mul__(self, other: Any) -> Any:  # type: ignore[override]
        return type(self)(*(other * a for a in self))

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Any:
        return type(self)(*(a / other for a in self))

    def __neg__(self) -> Any:
        return type(self)(*(-a for a in self))

    def __pos__(self) -> Any:
        return self

    __iadd__ = __add__
    __isub__ = __sub__
    __imul__ = __mul__
    __itruediv__ = __truediv__


class FixedRankTangentVector(_TangentTuple):
    """ξ = U M Vᵀ + U_p Vᵀ + U V_pᵀ, stored as (M, Up, Vp)."""

    @property
    def m(self) -> np.ndarray:
        """M (r×r)."""
        return self[0]

    @property
    def up(self) -> np.ndarray:
        """U_p (m×r, Uᵀ U_p = 0)."""
        return self[1]

    @property
    def vp(self) -> np.ndarray:
        """V_p (n×r, Vᵀ V_p = 0)."""
        return self[2]


class SymmetricTangentVector(_TangentTuple):
    """ξ = U M Uᴴ + U_p Uᴴ + U U_pᴴ, stored as (M, Up); ‖ξ‖² = ‖M‖² + 2‖U_p‖²."""

    @property
    def m(self) -> np.ndarray:
        """M (r×r Hermitian)."""
        return self[0]

    @property
    def up(self) -> np.ndarray:
        """U_p (n×r, Uᴴ U_p = 0)."""
        return self[1]


def _parts(vector: Any, count: int, name: str = "tangent_vector") -> list[np.ndarray]:
    if not isinstance(vector, (list, tuple)) or len(vector) != count:
        raise TypeError(
            f"{name} must be a sequence of {count} factor arrays, got {type(vector).__name__}"
        )
    return [np.asarray(p) for p in vector]


# --------------------------------------------------------------------------- shared base
class _FixedRankBase(RiemannianSubmanifold):
    """What both manifolds share: seeded draws, norms, transport, the landscape protocol."""

    _complex = False

    @property
    def is_complex(self) -> bool:
        """Whether points are complex matrices."""
        return self._complex

    @property
    def typical_dist(self) -> float:
        """√dim, as for a Euclidean space."""
        return float(np.sqrt(self.dim))

    def norm(self, point: Any, tangent_vector: Any) -> float:
        """‖ξ‖ = √⟨ξ, ξ⟩."""
        return float(np.sqrt(max(self.inner_product(point, tangent_vector, tangent_vector), 0.0)))

    def euclidean_to_riemannian_gradient(self, point: Any, euclidean_gradient: Any) -> Any:
        """Riemannian gradient grad f(X) = P_X(∇f(X)), for any ambient form of ∇f."""
        return self.projection(point, euclidean_gradient)

    def random_point(self) -> Any:
        """A random point (pymanopt's signature; use ``seeded_random_point`` to seed it)."""
        return self.seeded_random_point(None)

    def random_tangent_vector(self, point: Any) -> Any:
        """A random unit tangent vector (pymanopt's signature)."""
        return self.seeded_random_tangent_vector(point, None)

    def seeded_random_tangent_vector(self, point: Any, seed: Seed = None) -> Any:
        """A unit tangent vector, Gaussian in orthonormal tangent coordinates."""
        rng = as_generator(seed)
        basis = self.tangent_basis(point)
        c = rng.standard_normal(basis.dim)
        return self.as_tangent_vector(basis.to_vector(c / np.linalg.norm(c)))

    def transport(self, point_a: Any, point_b: Any, tangent_vector_a: Any) -> Any:
        """Vector transport by projection: P_{X_b}(ξ_a), with ξ_a kept low rank."""
        return self.projection(point_b, self.low_rank_embedding(point_a, tangent_vector_a))

    def second_order_retraction(self, point: Any, tangent_vector: Any) -> Any:
        """The metric projection of X + ξ onto the manifold: ``retraction`` itself.

        The metric projection onto a smooth embedded submanifold is a second-order retraction
        (Absil and Malick, "Projection-like retractions on matrix manifolds", 2012, Thm. 4.10).
        """
        return self.retraction(point, tangent_vector)

    def point_shape(self) -> tuple[int, int]:
        """Shape of the ambient matrix."""
        return self._ambient_shape

    def _no_closed_form(self, what: str) -> NotImplementedError:
        return NotImplementedError(
            f"{self} has no closed-form {what}: geodesics of the embedded metric on fixed-rank "
            "matrices are not known in closed form (Vandereycken 2013, §2). Use retraction() "
            "(the metric projection, second order) for steps, and point.frobenius_distance(other) "
            "for the distance in the embedding"
        )

    def dist(self, point_a: Any, point_b: Any) -> float:
        """Geodesic distance: no closed form (``NotImplementedError`` naming the alternatives)."""
        raise self._no_closed_form("geodesic distance (dist)")

    def exp(self, point: Any, tangent_vector: Any) -> Any:
        """Exponential map: no closed form (``NotImplementedError`` naming the alternatives)."""
        raise self._no_closed_form("exponential map (exp)")

    def log(self, point_a: Any, point_b: Any) -> Any:
        """Logarithmic map: no closed form (``NotImplementedError`` naming the alternatives)."""
        raise self._no_closed_form("logarithmic map (log)")

    def weingarten(self, point: Any, tangent_vector: Any, normal_vector: Any) -> Any:
        """W(ξ, N): the curvature part of the Hessian for a normal vector N (ambient form)."""
        zero = self.zero_vector(point)
        return self._curvature(self._point(point), tangent_vector, normal_vector, zero)

    def euclidean_to_riemannian_hessian(
        self, point: Any, euclidean_gradient: Any, euclidean_hessian: Any, tangent_vector: Any
    ) -> Any:
        """Hess f(X)[ξ] = P_X(∇²f(X)[ξ]) + W(ξ, ∇f(X)) (module docstring)."""
        x = self._point(point)
        return self._curvature(
            x, tangent_vector, euclidean_gradient, self.projection(x, euclidean_hessian)
        )

    def check_point(self, point: Any, name: str = "x0", tolerance: float = 1e-8) -> Any:
        """Validate ``point`` (a point object, a tuple of factors, or a dense matrix of rank r).

        Raises ``TypeError``/``ValueError`` naming ``name`` for the wrong structure, shapes,
        dtype (complex for a real manifold), NaN/Inf, factors that are not orthonormal within
        ``tolerance``, or non-positive singular values / zero (negative, if PSD) eigenvalues.
        """
        if isinstance(point, _FactoredPoint):
            factors = list(point.factors)
        elif isinstance(point, (list, tuple)):
            factors = list(point)
        else:
            try:
                array = np.asarray(point)
            except Exception as exc:
                raise TypeError(
                    f"{name} must be a point of {self}, a tuple of factors or a matrix, "
                    f"got {type(point).__name__}"
                ) from exc
            if (
                array.ndim == 1
                and self._r == 1
                and self._ambient_shape[0] == self._ambient_shape[1]
            ):
                # rank 1: a vector x stands for the matrix x xᴴ (the factor of seed 003 §2)
                vector = self._numeric(array, name)
                n = self._ambient_shape[0]
                if vector.shape != (n,):
                    raise ValueError(
                        f"{name} must have shape {self._ambient_shape} (or ({n},) for the "
                        f"rank-1 factor x of x xᴴ) for {self}, got {array.shape}"
                    )
                return self._from_dense(np.outer(vector, vector.conj()), name)
            return self._from_dense(array, name)
        return self._check_factors(factors, name, tolerance)

    def _numeric(self, array: Any, name: str, real: bool = False) -> np.ndarray:
        array = np.asarray(array)
        if array.dtype.kind not in "biufc":
            raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
        if array.dtype.kind == "c" and (real or not self._complex):
            if np.any(np.imag(array) != 0):
                what = "real" if real else f"real for {self}"
                raise ValueError(f"{name} must be {what}, got complex entries")
            array = np.real(array)
        array = array.astype(complex if (self._complex and not real) else float)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} must be finite, got NaN or Inf entries")
        return array

    def tangent_basis(self, point: Any) -> TangentBasis:
        """An orthonormal basis of T_X in factor coordinates (Householder complements)."""
        raise NotImplementedError


def _check_shape(array: np.ndarray, shape: tuple[int, ...], name: str, manifold: Any) -> None:
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape} for {manifold}, got {array.shape}")
