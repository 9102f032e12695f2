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

from manifoldscape.boundary.arguments import Seed, as_generator, require_positive_int
from manifoldscape.geometry.bases import TangentBasis
from manifoldscape.geometry.factored import (
    FixedRankPoint,
    FixedRankTangentVector,
    LowRankMatrix,
    SymmetricFixedRankPoint,
    SymmetricTangentVector,
    _adjoint_times,
    _check_shape,
    _FixedRankBase,
    _haar,
    _orthonormality,
    _parts,
    _times,
)
from manifoldscape.geometry.householder import Complement as _Complement
from manifoldscape.geometry.symmetric_fixed_rank import SymmetricFixedRank

__all__ = [
    "FixedRank",
    "FixedRankPoint",
    "FixedRankTangentVector",
    "LowRankMatrix",
    "SymmetricFixedRank",
    "SymmetricFixedRankPoint",
    "SymmetricTangentVector",
]


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
