"""Second-order fixed-rank geometry: m×n matrices of rank r, and Hermitian n×n matrices of rank r.

pymanopt's ``FixedRankEmbedded`` is first-order only.  The two manifolds here are pymanopt
``RiemannianSubmanifold`` subclasses of the Euclidean space of matrices (metric Re tr(AᴴB)) with
the Riemannian Hessian, so pymanopt's optimizers and ours (trust regions included) run on them:

* ``FixedRank(m, n, r)``: ℳ_r = {X ∈ ℝ^{m×n} : rank X = r}, points X = U diag(s) Vᵀ with
  Uᵀ U = I_r, Vᵀ V = I_r, s > 0 (``FixedRankPoint``), tangent vectors in the standard form
  ξ = U M Vᵀ + U_p Vᵀ + U V_pᵀ with Uᵀ U_p = 0, Vᵀ V_p = 0 (``FixedRankTangentVector(M, Up, Vp)``;
  Vandereycken, "Low-rank matrix completion by Riemannian optimization", SIAM J. Optim. 2013,
  §2; Boumal, *An Introduction to Optimization on Smooth Manifolds*, §7.5), dim (m + n − r) r.
* ``SymmetricFixedRank(n, r, field)``: {X = Xᴴ ∈ 𝔽^{n×n} : rank X = r}, points X = U diag(λ) Uᴴ
  with λ real and non-zero (``SymmetricFixedRankPoint``), tangent vectors
  ξ = U M Uᴴ + U_p Uᴴ + U U_pᴴ with M = Mᴴ and Uᴴ U_p = 0 (``SymmetricTangentVector(M, Up)``);
  dim n r − r(r − 1)/2 (real) or 2 n r − r² (complex).  With ``psd=True`` the manifold is the
  open subset λ > 0 of positive semidefinite matrices of rank r (same tangent spaces).  This is
  the manifold M₁ of seed 000 ("rank-1 fitting on the fixed-rank manifold", Cai and Wei) for
  r = 1: in the real case rank-1 symmetric matrices λ u uᵀ form two connected components,
  λ > 0 and λ < 0, and only the first holds the truth x xᵀ, so phase retrieval restricts to it.

Nothing of size m×n is formed by the geometry itself: projection, retraction (truncated SVD /
eigendecomposition of X + ξ from a 2r × 2r core, O((m + n) r²)), transport and the Weingarten term
touch an ambient matrix Z only through Z @ B and Zᴴ @ B for thin B.  So a Euclidean gradient may
be a dense ``numpy`` array (what ``Problem`` passes), a ``scipy.sparse`` matrix, a
``scipy.sparse.linalg.LinearOperator`` or a ``LowRankMatrix(L, R)`` = L Rᴴ: anything with ``@``
and ``.T`` / ``.H``.  Only ``embedding`` (the tangent vector as a dense matrix, which the Euclidean
Hessian-vector product of a ``Problem`` receives) forms one; ``low_rank_embedding`` gives the same
matrix as a rank-2r ``LowRankMatrix``, and points offer ``low_rank()`` and
``frobenius_distance(other)``, for objectives and distances that must stay factored at scale.

Riemannian Hessian (Absil, Mahony and Trumbull, "An extrinsic look at the Riemannian Hessian",
2013: Hess f(X)[ξ] = P_X(∇²f(X)[ξ]) + 𝔚_X(ξ, P_X^⊥ ∇f(X)), with the Weingarten map of the
fixed-rank manifold as worked out there and in Boumal §7.5; Vandereycken 2013, §2, for the
tangent space): with G = ∇f(X), H = ∇²f(X)[ξ] and S = diag(s),

    Hess f(X)[ξ] = P_X(H) + P_U^⊥ G V_p S⁻¹ Vᵀ + U S⁻¹ U_pᵀ G P_V^⊥,

i.e. in factors M = Uᵀ H V, U_p = P_U^⊥ (H V + G V_p S⁻¹), V_p = P_V^⊥ (Hᵀ U + Gᵀ U_p S⁻¹)
(V = U, Λ for the Hermitian manifold, with G and H replaced by their Hermitian parts).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pymanopt.manifolds.manifold import RiemannianSubmanifold

from manifoldscape.boundary.arguments import Seed, as_generator, require_positive_int
from manifoldscape.geometry.bases import TangentBasis
from manifoldscape.geometry.householder import Complement as _Complement

__all__ = [
    "FixedRank",
    "FixedRankPoint",
    "FixedRankTangentVector",
    "LowRankMatrix",
    "SymmetricFixedRank",
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


# --------------------------------------------------------------------------- FixedRank
class FixedRank(_FixedRankBase):
    """The embedded manifold of real m×n matrices of rank r, with its second-order geometry.

    Points ``FixedRankPoint(U, s, V)``, tangent vectors ``FixedRankTangentVector(M, Up, Vp)``
    (module docstring).  dim = (m + n − r) r.
    """

    def __init__(self, m: int, n: int, r: int):
        m = require_positive_int(m, "m")
        n = require_positive_int(n, "n")
        r = require_positive_int(r, "r")
        if r > min(m, n):
            raise ValueError(f"r must be at most min(m, n) = {min(m, n)}, got r = {r}")
        self._m, self._n, self._r = m, n, r
        self._ambient_shape = (m, n)
        super().__init__(f"FixedRank({m}, {n}, {r})", (m + n - r) * r)

    def __repr__(self) -> str:
        return self._name

    __str__ = __repr__

    # ---------------------------------------------------------------- coercions
    def _point(self, point: Any) -> FixedRankPoint:
        if isinstance(point, FixedRankPoint):
            return point
        return FixedRankPoint(*_parts(point, 3, "point"))

    def as_tangent_vector(self, vector: Any) -> FixedRankTangentVector:
        """A sequence of factors (M, Up, Vp) as a ``FixedRankTangentVector`` (no copy, no check)."""
        if isinstance(vector, FixedRankTangentVector):
            return vector
        return FixedRankTangentVector(*_parts(vector, 3))

    # ---------------------------------------------------------------- pymanopt's layout
    def from_pymanopt_point(self, point: Any, name: str = "point") -> FixedRankPoint:
        """A point of pymanopt's ``FixedRankEmbedded`` layout (u, s, vt) as a ``FixedRankPoint``.

        X = u diag(s) vt = U diag(s) Vᵀ with V = vtᵀ; checked like any point (``check_point``).
        """
        if not isinstance(point, (list, tuple)) or len(point) != 3:
            raise TypeError(
                f"{name} must be pymanopt's FixedRankEmbedded point (u, s, vt) for {self}, "
                f"got {type(point).__name__}"
            )
        u, s, vt = point
        return self.check_point((u, s, np.asarray(vt).T), name)

    def to_pymanopt_point(self, point: Any) -> Any:
        """The point in pymanopt's ``FixedRankEmbedded`` layout: the tuple (u, s, vt)."""
        from manifoldscape.geometry.layout import EmbeddedPoint

        x = self._point(point)
        return EmbeddedPoint(x.u, x.s, x.v.T)

    def from_pymanopt_tangent(self, vector: Any) -> FixedRankTangentVector:
        """Pymanopt's tangent vector (Up, M, Vp) as ``FixedRankTangentVector(M, Up, Vp)``.

        Both mean ξ = U M Vᵀ + U_p Vᵀ + U V_pᵀ at the same point (V = vtᵀ).
        """
        up, m, vp = _parts(vector, 3)
        return FixedRankTangentVector(m, up, vp)

    def to_pymanopt_tangent(self, vector: Any) -> Any:
        """The tangent vector in pymanopt's layout: the tuple (Up, M, Vp)."""
        from manifoldscape.geometry.layout import EmbeddedTangent

        m, up, vp = _parts(vector, 3)
        return EmbeddedTangent(up, m, vp)

    def pymanopt_cost(self, cost: Any) -> Any:
        """A cost written for pymanopt's ``FixedRankEmbedded``, cost(u, s, vt), on this manifold.

        Returns f(X) = cost(u, s, vt) for a ``FixedRankPoint`` X (for evaluation: derivatives
        of a factored cost do not determine the Riemannian Hessian; write the cost on the matrix
        X for ``Problem.from_autograd``).
        """
        if not callable(cost):
            raise TypeError(f"cost must be callable, got {type(cost).__name__}")

        def on_fixed_rank(point: Any) -> Any:
            return cost(*self.to_pymanopt_point(point))

        return on_fixed_rank

    def low_rank_embedding(self, point: Any, tangent_vector: Any) -> LowRankMatrix:
        """ξ = [U M + U_p, U] [V, V_p]ᵀ as a rank-2r ``LowRankMatrix`` (``embedding``, unformed)."""
        x = self._point(point)
        m, up, vp = _parts(tangent_vector, 3)
        return LowRankMatrix(np.hstack([x.u @ m + up, x.u]), np.hstack([x.v, vp]))

    # ---------------------------------------------------------------- metric and projections
    def inner_product(self, point: Any, tangent_vector_a: Any, tangent_vector_b: Any) -> float:
        """⟨ξ, η⟩ = tr(M_ξᵀ M_η) + tr(U_pξᵀ U_pη) + tr(V_pξᵀ V_pη) (the factors are orthogonal)."""
        return float(
            sum(
                np.real(np.vdot(a, b))
                for a, b in zip(tangent_vector_a, tangent_vector_b, strict=True)
            )
        )

    def projection(self, point: Any, vector: Any) -> FixedRankTangentVector:
        """P_X(Z) = P_U Z P_V + P_U^⊥ Z P_V + P_U Z P_V^⊥: M = UᵀZV, U_p = ZV − UM, V_p = ZᵀU − VMᵀ.

        ``vector`` is ambient (array, sparse, operator, ``LowRankMatrix``); a tangent vector in
        factor form is re-projected instead (``to_tangent_space``).
        """
        x = self._point(point)
        if isinstance(vector, (list, tuple)):
            return self.to_tangent_space(x, vector)
        zv = _times(vector, x.v)
        ztu = _adjoint_times(vector, x.u)
        m = x.u.T @ zv
        return FixedRankTangentVector(m, zv - x.u @ m, ztu - x.v @ m.T)

    def to_tangent_space(self, point: Any, vector: Any) -> FixedRankTangentVector:
        """Remove the round-off parts U(UᵀU_p), V(VᵀV_p) of a tangent vector in factor form."""
        x = self._point(point)
        m, up, vp = _parts(vector, 3)
        return FixedRankTangentVector(m, up - x.u @ (x.u.T @ up), vp - x.v @ (x.v.T @ vp))

    def embedding(self, point: Any, tangent_vector: Any) -> np.ndarray:
        """The dense m×n matrix U M Vᵀ + U_p Vᵀ + U V_pᵀ."""
        x = self._point(point)
        m, up, vp = _parts(tangent_vector, 3)
        return (x.u @ m + up) @ x.v.T + x.u @ vp.T

    def zero_vector(self, point: Any) -> FixedRankTangentVector:  # noqa: D102
        r = self._r
        return FixedRankTangentVector(
            np.zeros((r, r)), np.zeros((self._m, r)), np.zeros((self._n, r))
        )

    def _curvature(
        self, x: FixedRankPoint, tangent_vector: Any, gradient: Any, base: Any
    ) -> FixedRankTangentVector:
        """Add to ``base`` (P_U^⊥ G V_p S⁻¹, P_V^⊥ Gᵀ U_p S⁻¹) in the U_p and V_p slots."""
        _, up, vp = _parts(tangent_vector, 3)
        m0, up0, vp0 = base
        gvp = _times(gradient, vp) / x.s
        gtup = _adjoint_times(gradient, up) / x.s
        return FixedRankTangentVector(
            m0,
            up0 + gvp - x.u @ (x.u.T @ gvp),
            vp0 + gtup - x.v @ (x.v.T @ gtup),
        )

    # ---------------------------------------------------------------- retraction
    def retraction(self, point: Any, tangent_vector: Any) -> FixedRankPoint:
        """Truncated SVD of X + ξ, from the 2r × 2r core (O((m + n) r²), second order).

        X + ξ = [U Q_u] [[S + M, R_vᵀ], [R_u, 0]] [V Q_v]ᵀ with U_p = Q_u R_u, V_p = Q_v R_v.
        """
        x = self._point(point)
        m, up, vp = _parts(tangent_vector, 3)
        r = self._r
        qu, ru = np.linalg.qr(up)
        qv, rv = np.linalg.qr(vp)
        core = np.zeros((2 * r, 2 * r), dtype=np.result_type(m, ru, rv, float))
        core[:r, :r] = np.diag(x.s) + m
        core[:r, r:] = rv.T
        core[r:, :r] = ru
        a, sigma, bt = np.linalg.svd(core)
        u = np.hstack([x.u, qu]) @ a[:, :r]
        v = np.hstack([x.v, qv]) @ bt[:r].T
        return FixedRankPoint(u, sigma[:r], v)

    # ---------------------------------------------------------------- draws and checks
    def seeded_random_point(self, seed: Seed = None) -> FixedRankPoint:
        """U, V Haar on the Stiefel manifolds, singular values uniform in [0.5, 1.5], sorted."""
        rng = as_generator(seed)
        u = _haar(rng, self._m, self._r, False)
        v = _haar(rng, self._n, self._r, False)
        s = np.sort(rng.uniform(0.5, 1.5, self._r))[::-1].copy()
        return FixedRankPoint(u, s, v)

    def constraint_residual(self, point: Any) -> float:
        """max(‖UᵀU − I‖, ‖VᵀV − I‖); inf if a singular value is not positive."""
        x = self._point(point)
        if not np.all(x.s > 0):
            return float("inf")
        return max(_orthonormality(x.u), _orthonormality(x.v))

    def _check_factors(self, factors: list, name: str, tolerance: float) -> FixedRankPoint:
        if len(factors) != 3:
            raise TypeError(f"{name} must be the factors (U, s, V) of {self}, got {len(factors)}")
        u = self._numeric(factors[0], f"{name}.U")
        s = self._numeric(factors[1], f"{name}.s", real=True)
        v = self._numeric(factors[2], f"{name}.V")
        r = self._r
        _check_shape(u, (self._m, r), f"{name}.U", self)
        _check_shape(s, (r,), f"{name}.s", self)
        _check_shape(v, (self._n, r), f"{name}.V", self)
        if not np.all(s > 0):
            raise ValueError(f"{name}.s must hold positive singular values, got {s}")
        for label, f in (("U", u), ("V", v)):
            residual = _orthonormality(f)
            if residual > tolerance * max(1.0, np.sqrt(r)):
                raise ValueError(
                    f"{name}.{label} must have orthonormal columns for {self}: "
                    f"‖{label}ᵀ{label} − I‖ = {residual:.3g} exceeds {tolerance:g}"
                )
        return FixedRankPoint(u, s, v)

    def _from_dense(self, array: np.ndarray, name: str) -> FixedRankPoint:
        array = self._numeric(array, name)
        _check_shape(array, self._ambient_shape, name, self)
        u, s, vt = np.linalg.svd(array, full_matrices=False)
        r = self._r
        tail = s[r] if s.size > r else 0.0
        if not s[r - 1] > 1e-10 * max(s[0], 1e-300) or tail > 1e-8 * s[0]:
            raise ValueError(
                f"{name} must have rank {r} for {self}; its singular values are {s[: r + 1]}"
            )
        return FixedRankPoint(u[:, :r], s[:r], vt[:r].T)

    # ---------------------------------------------------------------- tangent basis
    def tangent_basis(self, point: Any) -> TangentBasis:
        """Coordinates (vec M, vec K, vec L) with U_p = U_⊥ K, V_p = V_⊥ L: orthonormal."""
        x = self._point(point)
        m_, n_, r = self._m, self._n, self._r
        cu, cv = _Complement(x.u), _Complement(x.v)
        sizes = np.cumsum([0, r * r, (m_ - r) * r, (n_ - r) * r])

        def lift(c: np.ndarray, comp: _Complement, rows: int) -> np.ndarray:
            b = c.shape[0]
            padded = np.zeros((rows, b * r))
            padded[r:] = c.reshape(b, rows - r, r).transpose(1, 0, 2).reshape(rows - r, b * r)
            return comp.apply(padded).reshape(rows, b, r).transpose(1, 0, 2)

        def drop(z: np.ndarray, comp: _Complement, rows: int) -> np.ndarray:
            b = z.shape[0]
            stacked = np.real(z).transpose(1, 0, 2).reshape(rows, b * r)
            return comp.apply_adjoint(stacked)[r:].reshape(rows - r, b, r).transpose(1, 0, 2)

        def to_vectors(c: np.ndarray) -> list:
            b = c.shape[0]
            return [
                c[:, : sizes[1]].reshape(b, r, r),
                lift(c[:, sizes[1] : sizes[2]], cu, m_),
                lift(c[:, sizes[2] :], cv, n_),
            ]

        def to_coordinates(v: Any) -> np.ndarray:
            m, up, vp = (np.asarray(p) for p in v)
            b = m.shape[0]
            return np.concatenate(
                [
                    np.real(m).reshape(b, -1),
                    drop(up, cu, m_).reshape(b, -1),
                    drop(vp, cv, n_).reshape(b, -1),
                ],
                axis=1,
            )

        return TangentBasis(self, x, int(sizes[-1]), to_vectors, to_coordinates)


# --------------------------------------------------------------------------- SymmetricFixedRank
def _hermitian_part(a: np.ndarray) -> np.ndarray:
    return 0.5 * (a + np.swapaxes(a, -1, -2).conj())


class SymmetricFixedRank(_FixedRankBase):
    """The embedded manifold of real symmetric / complex Hermitian n×n matrices of rank r.

    Points ``SymmetricFixedRankPoint(U, λ)`` (X = U diag(λ) Uᴴ, λ real non-zero; λ > 0 with
    ``psd=True``), tangent vectors ``SymmetricTangentVector(M, Up)`` (module docstring).  The
    ambient space is 𝔽^{n×n} with Re tr(AᴴB); the normal space contains the skew-Hermitian
    matrices, so P_X first takes the Hermitian part (Z + Zᴴ)/2.
    """

    def __init__(self, n: int, r: int, field: str = "real", psd: bool = False):
        n = require_positive_int(n, "n")
        r = require_positive_int(r, "r")
        if r > n:
            raise ValueError(f"r must be at most n = {n}, got r = {r}")
        if field not in ("real", "complex"):
            raise ValueError(f"field must be 'real' or 'complex', got {field!r}")
        if not isinstance(psd, bool):
            raise TypeError(f"psd must be a bool, got {psd!r}")
        self._n, self._r, self._field, self._psd = n, r, field, psd
        self._complex = field == "complex"
        self._ambient_shape = (n, n)
        dim = 2 * n * r - r * r if self._complex else n * r - r * (r - 1) // 2
        kind = "PSD" if psd else ("Hermitian" if self._complex else "Symmetric")
        super().__init__(f"{kind}FixedRank({n}, {r}, field={field!r})", dim)

    def __repr__(self) -> str:
        return self._name

    __str__ = __repr__

    @property
    def psd(self) -> bool:
        """Whether the manifold is restricted to positive semidefinite matrices (λ > 0)."""
        return self._psd

    def _point(self, point: Any) -> SymmetricFixedRankPoint:
        if isinstance(point, SymmetricFixedRankPoint):
            return point
        return SymmetricFixedRankPoint(*_parts(point, 2, "point"))

    def as_tangent_vector(self, vector: Any) -> SymmetricTangentVector:
        """A sequence of factors (M, Up) as a ``SymmetricTangentVector`` (no copy, no check)."""
        if isinstance(vector, SymmetricTangentVector):
            return vector
        return SymmetricTangentVector(*_parts(vector, 2))

    def low_rank_embedding(self, point: Any, tangent_vector: Any) -> LowRankMatrix:
        """ξ = [U M + U_p, U] [U, U_p]ᴴ as a rank-2r ``LowRankMatrix`` (``embedding``, unformed)."""
        x = self._point(point)
        m, up = _parts(tangent_vector, 2)
        return LowRankMatrix(np.hstack([x.u @ m + up, x.u]), np.hstack([x.u, up]))

    def inner_product(self, point: Any, tangent_vector_a: Any, tangent_vector_b: Any) -> float:
        """⟨ξ, η⟩ = Re tr(M_ξᴴ M_η) + 2 Re tr(U_pξᴴ U_pη)."""
        ma, upa = _parts(tangent_vector_a, 2)
        mb, upb = _parts(tangent_vector_b, 2)
        return float(np.real(np.vdot(ma, mb)) + 2.0 * np.real(np.vdot(upa, upb)))

    def projection(self, point: Any, vector: Any) -> SymmetricTangentVector:
        """P_X(Z) with Z_h = (Z + Zᴴ)/2: M = Uᴴ Z_h U, U_p = Z_h U − U M."""
        x = self._point(point)
        if isinstance(vector, (list, tuple)):
            return self.to_tangent_space(x, vector)
        zu = 0.5 * (_times(vector, x.u) + _adjoint_times(vector, x.u))
        if not self._complex:
            zu = np.real(zu)
        m = _hermitian_part(x.u.conj().T @ zu)
        return SymmetricTangentVector(m, zu - x.u @ m)

    def to_tangent_space(self, point: Any, vector: Any) -> SymmetricTangentVector:
        """Hermitian part of M, and U_p − U(Uᴴ U_p)."""
        x = self._point(point)
        m, up = _parts(vector, 2)
        return SymmetricTangentVector(_hermitian_part(m), up - x.u @ (x.u.conj().T @ up))

    def embedding(self, point: Any, tangent_vector: Any) -> np.ndarray:
        """The dense n×n matrix U M Uᴴ + U_p Uᴴ + U U_pᴴ."""
        x = self._point(point)
        m, up = _parts(tangent_vector, 2)
        left = x.u @ m + up
        return left @ x.u.conj().T + x.u @ up.conj().T

    def zero_vector(self, point: Any) -> SymmetricTangentVector:  # noqa: D102
        dtype = complex if self._complex else float
        return SymmetricTangentVector(
            np.zeros((self._r, self._r), dtype), np.zeros((self._n, self._r), dtype)
        )

    def _curvature(
        self, x: SymmetricFixedRankPoint, tangent_vector: Any, gradient: Any, base: Any
    ) -> SymmetricTangentVector:
        """Add to ``base`` (0, P_U^⊥ G_h U_p Λ⁻¹), G_h the Hermitian part of G."""
        _, up = _parts(tangent_vector, 2)
        m0, up0 = base
        gup = 0.5 * (_times(gradient, up) + _adjoint_times(gradient, up)) / x.lam
        if not self._complex:
            gup = np.real(gup)
        return SymmetricTangentVector(m0, up0 + gup - x.u @ (x.u.conj().T @ gup))

    def retraction(self, point: Any, tangent_vector: Any) -> SymmetricFixedRankPoint:
        """Eigendecomposition of X + ξ from the 2r × 2r core, keeping r eigenvalues.

        X + ξ = [U Q] [[Λ + M, Rᴴ], [R, 0]] [U Q]ᴴ with U_p = Q R; the r eigenvalues of largest
        modulus are kept (the largest ones for ``psd=True``): the metric projection, second order.
        For ``psd=True`` a step so long that X + ξ has fewer than r positive eigenvalues (outside
        the domain where the metric projection exists) is reflected, λ ↦ |λ| (floored at ε‖X + ξ‖),
        so that every step stays on the manifold.
        """
        x = self._point(point)
        m, up = _parts(tangent_vector, 2)
        r = self._r
        q, rr = np.linalg.qr(up)
        dtype = complex if self._complex else float
        core = np.zeros((2 * r, 2 * r), dtype=dtype)
        core[:r, :r] = np.diag(x.lam) + _hermitian_part(m)
        core[:r, r:] = rr.conj().T
        core[r:, :r] = rr
        w, z = np.linalg.eigh(core)
        keep = np.argsort(w)[::-1][:r] if self._psd else np.argsort(-np.abs(w))[:r]
        keep = keep[np.argsort(-w[keep])]
        u = np.hstack([x.u, q]) @ z[:, keep]
        if not self._complex:
            u = np.real(u)
        lam = w[keep]
        if self._psd and not np.all(lam > 0):
            # a step beyond the retraction's domain (X + ξ has fewer than r positive
            # eigenvalues): reflect to |λ|, floored, so that the result stays on the manifold
            floor = np.finfo(float).eps * max(float(np.max(np.abs(w))), np.finfo(float).tiny)
            lam = np.maximum(np.abs(lam), floor)
            order = np.argsort(-lam)
            u, lam = u[:, order], lam[order]
        return SymmetricFixedRankPoint(u, lam)

    def seeded_random_point(self, seed: Seed = None) -> SymmetricFixedRankPoint:
        """U Haar, |λ| uniform in [0.5, 1.5] (random signs unless ``psd``), sorted descending."""
        rng = as_generator(seed)
        u = _haar(rng, self._n, self._r, self._complex)
        lam = rng.uniform(0.5, 1.5, self._r)
        if not self._psd:
            lam = lam * rng.choice([-1.0, 1.0], self._r)
        return SymmetricFixedRankPoint(u, np.sort(lam)[::-1].copy())

    def constraint_residual(self, point: Any) -> float:
        """‖UᴴU − I‖; inf if an eigenvalue is zero (not positive, for ``psd``)."""
        x = self._point(point)
        bad = not np.all(x.lam > 0) if self._psd else not np.all(x.lam != 0)
        if bad:
            return float("inf")
        return _orthonormality(x.u)

    def _check_factors(self, factors: list, name: str, tolerance: float) -> SymmetricFixedRankPoint:
        if len(factors) != 2:
            raise TypeError(f"{name} must be the factors (U, λ) of {self}, got {len(factors)}")
        u = self._numeric(factors[0], f"{name}.U")
        lam = self._numeric(factors[1], f"{name}.lam", real=True)
        _check_shape(u, (self._n, self._r), f"{name}.U", self)
        _check_shape(lam, (self._r,), f"{name}.lam", self)
        if self._psd and not np.all(lam > 0):
            raise ValueError(f"{name}.lam must be positive for {self}, got {lam}")
        if not np.all(lam != 0):
            raise ValueError(f"{name}.lam must be non-zero for {self}, got {lam}")
        residual = _orthonormality(u)
        if residual > tolerance * max(1.0, np.sqrt(self._r)):
            raise ValueError(
                f"{name}.U must have orthonormal columns for {self}: ‖UᴴU − I‖ = {residual:.3g} "
                f"exceeds {tolerance:g}"
            )
        return SymmetricFixedRankPoint(u, lam)

    def _from_dense(self, array: np.ndarray, name: str) -> SymmetricFixedRankPoint:
        array = self._numeric(array, name)
        _check_shape(array, self._ambient_shape, name, self)
        scale = max(float(np.linalg.norm(array)), 1e-300)
        if np.linalg.norm(array - array.conj().T) > 1e-10 * scale:
            raise ValueError(f"{name} must be {'Hermitian' if self._complex else 'symmetric'}")
        w, z = np.linalg.eigh(_hermitian_part(array))
        order = np.argsort(-np.abs(w))
        r = self._r
        tail = abs(w[order[r]]) if w.size > r else 0.0
        top = abs(w[order[0]])
        if not abs(w[order[r - 1]]) > 1e-10 * top or tail > 1e-8 * top:
            raise ValueError(f"{name} must have rank {r} for {self}; eigenvalues {w[order]}")
        keep = order[:r]
        keep = keep[np.argsort(-w[keep])]
        return self._check_factors([z[:, keep], w[keep]], name, 1e-8)

    def tangent_basis(self, point: Any) -> TangentBasis:
        """Coordinates of M in the orthonormal Hermitian basis and U_p = U_⊥ K / √2."""
        x = self._point(point)
        n, r, cplx = self._n, self._r, self._complex
        comp = _Complement(x.u)
        iu, ju = np.triu_indices(r, 1)
        n_diag, n_off = r, len(iu)
        n_m = n_diag + n_off * (2 if cplx else 1)
        n_k = (n - r) * r * (2 if cplx else 1)
        dtype = complex if cplx else float

        def to_vectors(c: np.ndarray) -> list:
            b = c.shape[0]
            m = np.zeros((b, r, r), dtype=dtype)
            m[:, np.arange(r), np.arange(r)] = c[:, :n_diag]
            off = c[:, n_diag : n_diag + n_off] / np.sqrt(2.0)
            if cplx:
                off = off + 1j * c[:, n_diag + n_off : n_m] / np.sqrt(2.0)
            m[:, iu, ju] = off
            m[:, ju, iu] = off.conj()
            kc = c[:, n_m:]
            k = kc[:, : (n - r) * r] + (1j * kc[:, (n - r) * r :] if cplx else 0.0)
            padded = np.zeros((n, b * r), dtype=dtype)
            padded[r:] = k.reshape(b, n - r, r).transpose(1, 0, 2).reshape(n - r, b * r)
            up = comp.apply(padded).reshape(n, b, r).transpose(1, 0, 2) / np.sqrt(2.0)
            if not cplx:
                up = np.real(up)
            return [m, up]

        def to_coordinates(v: Any) -> np.ndarray:
            m, up = (np.asarray(p) for p in v)
            b = m.shape[0]
            mh = _hermitian_part(m)
            parts = [np.real(mh[:, np.arange(r), np.arange(r)])]
            off = mh[:, iu, ju] * np.sqrt(2.0)
            parts.append(np.real(off))
            if cplx:
                parts.append(np.imag(off))
            stacked = up.transpose(1, 0, 2).reshape(n, b * r)
            k = comp.apply_adjoint(stacked)[r:].reshape(n - r, b, r).transpose(1, 0, 2)
            k = k.reshape(b, -1) * np.sqrt(2.0)
            parts.append(np.real(k))
            if cplx:
                parts.append(np.imag(k))
            return np.concatenate(parts, axis=1)

        return TangentBasis(self, x, n_m + n_k, to_vectors, to_coordinates)
