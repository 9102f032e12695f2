"""Low-rank matrix recovery, factored (Burer–Monteiro) and on the fixed-rank manifold.

* ``symmetric_factorization``: min_U ¼‖Y − UUᵀ‖_F² over U ∈ R^{n×r} (seed 003, eq. 2.16 and
  Appendix A; seed 001, "Geometry of Symmetric Matrix Factorization").  Symmetry U ↦ UΓ,
  Γ ∈ O(r).  With Y = Σ λ_i ξ_i ξ_iᵀ, every critical point is, up to a rotation, a matrix whose
  columns are √λ_i ξ_i for a subset S of the eigenpairs with λ_i > 0 and zero otherwise
  (seed 003, eqs. A.3–A.4); only S = the r leading eigenpairs gives minimizers (A.2), every other
  choice has negative curvature −λ_j toward a neglected eigenvector ξ_j (A.6).
  ``symmetric_factorization_critical_points`` lists them with their exact Hessian index.
* ``matrix_sensing``: b_i = ⟨A_i, M*⟩, recovered in the symmetric form XXᵀ (seed 002, eq. 1;
  seed 003, eq. 2.20 with U = V) or the asymmetric form UVᵀ with the balancing penalty
  μ‖UᵀU − VᵀV‖_F² (seed 003, eq. 2.15 and footnote 12 / eq. A.8), optionally with the
  high-order loss f + λ f^l of seed 002 (eqs. 8–9a); or on the manifold of rank-r matrices
  itself (``form="fixed_rank"``, ``FixedRank``; ``form="psd_fixed_rank"``, PSD rank r), where
  no symmetry is left (``FixedRankSensingObjective``).
* ``matrix_completion``: observed entries P_Ω(M*) of a rank-r M* with a Bernoulli(p) mask Ω,
  with the incoherence penalty ρ_mc of seed 001 ("From Factorization to Matrix Recovery &
  Completion"; Ge, Lee and Ma 2016) and the balancing penalty.
* ``robust_recovery``: Y = X* + S* with sparse outliers S*, the Huber loss of the residual in the
  symmetric factored form (seed 001, "From Factorization to Robust Matrix Recovery"; seed 003,
  eqs. 2.21–2.22).

Every objective shares its residual between cost, gradient and Hessian through ``prepare``; the
sensing operator is the m × (n₁n₂) matrix of the vectorised A_i, so 𝒜(M) = A vec(M) and
𝒜*(w) = reshape(Aᵀ w) are one matrix product each (no loop over the m measurements).  A
Hessian-vector product is 𝒜*(φ''(s) ∘ 𝒜(Ṁ))/m: two passes over the operator (``normal``, fused),
which is what the time of a trust-region solve is made of (benchmarks/bench_matrix_sensing.py).

Normalisation of the sensing loss.  Seed 002, eq. (1), writes f(X) = ½‖𝒜(XXᵀ) − b‖² for an
operator with the δ-RIP (1 − δ)‖M‖² ≤ ‖𝒜(M)‖² ≤ (1 + δ)‖M‖² (Definition 1); Gaussian A_i with
i.i.d. N(0, 1) entries satisfy it after scaling by 1/√m (E⟨A_i, M⟩² = ‖M‖_F²).  We keep the
A_i unscaled and write the same loss as

    f(X) = 1/(2m) Σ_i (⟨A_i, XXᵀ⟩ − b_i)² = ½ Σ_i s_i²,   s_i = (⟨A_i, XXᵀ⟩ − b_i)/√m,

and the high-order term of seed 002, eq. (9a), for the same normalised operator,
f^l(X) = (1/l) ‖s‖_l^l = (1/l) Σ_i s_i^l (l even), so f + λ f^l = Σ_i φ(s_i) with
φ(s) = ½ s² + (λ/l) s^l, and for l = 2, f + λ f² = (1 + λ) f.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import autograd.numpy as anp
import numpy as np
from pymanopt.manifolds import Euclidean, Product, Stiefel

from manifoldscape.boundary.arguments import (
    Seed,
    as_generator,
    as_real_array,
    require_nonempty,
    require_positive_int,
    seed_as_int,
)
from manifoldscape.boundary.budgets import require_memory
from manifoldscape.core.certificate import Verdict
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.symmetry import GeneralLinear, Identity, OrthogonalRight
from manifoldscape.geometry import random_point
from manifoldscape.geometry.fixed_rank import (
    FixedRank,
    FixedRankPoint,
    SymmetricFixedRank,
    SymmetricFixedRankPoint,
)

#: the balancing constant μ of μ‖UᵀU − VᵀV‖_F² for a data term normalised as ½‖·‖² (Tu et al.,
#: "Low-rank solutions of linear matrix equations via Procrustes flow", ICML 2016, take
#: ¼‖𝒜(UVᵀ) − b‖² + 1/16 ‖UᵀU − VᵀV‖_F²; the same ratio for our ½-normalised loss is 1/8)
BALANCING_DEFAULT = 1.0 / 8.0


# --------------------------------------------------------------------------- validation
def _rank(r: Any, n: int, what: str = "n") -> int:
    r = require_positive_int(r, "r")
    if r > n:
        raise ValueError(f"r must be at most {what} = {n} (the rank cannot exceed the dimension)")
    return r


def _nonnegative(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite non-negative number, got {value}")
    return value


def _positive(value: Any, name: str) -> float:
    value = _nonnegative(value, name)
    if value == 0:
        raise ValueError(f"{name} must be positive, got 0")
    return value


def _symmetric_matrix(value: Any, name: str, n: int | None = None) -> np.ndarray:
    a = as_real_array(value, name, ndim=2)
    require_nonempty(a.shape, name)
    if a.shape[0] != a.shape[1] or (n is not None and a.shape[0] != n):
        expected = f"{n} × {n}" if n is not None else "square"
        raise ValueError(f"{name} must be a {expected} matrix, got shape {a.shape}")
    scale = max(float(np.max(np.abs(a))), 1e-300) if a.size else 1.0
    asym = float(np.max(np.abs(a - a.T))) if a.size else 0.0
    if asym > 1e-10 * scale:
        raise ValueError(f"{name} must be symmetric, but max |Y − Yᵀ| = {asym:.3g}")
    return 0.5 * (a + a.T)


def _psd_factor(m: np.ndarray, r: int, name: str) -> np.ndarray:
    """U with UUᵀ = M for a symmetric PSD M of rank ≤ r (columns √λ_i ξ_i), or raise."""
    values, vectors = np.linalg.eigh(m)
    values, vectors = values[::-1], vectors[:, ::-1]
    scale = max(abs(values[0]), abs(values[-1]), 1e-300)
    if values[-1] < -1e-10 * scale or (r < len(values) and abs(values[r]) > 1e-10 * scale):
        raise ValueError(
            f"{name} must be positive semidefinite of rank at most r = {r}; its eigenvalues "
            f"are {np.array2string(values[: r + 2], precision=3)}…"
        )
    return vectors[:, :r] * np.sqrt(np.maximum(values[:r], 0.0))


def _balanced_factors(m: np.ndarray, r: int, name: str, *, exact: bool = True) -> list:
    """(P Σ^{1/2}, Q Σ^{1/2}) from the rank-r SVD; with ``exact`` M must have rank ≤ r."""
    p, sigma, qt = np.linalg.svd(m, full_matrices=False)
    if exact and r < len(sigma) and sigma[r] > 1e-10 * max(sigma[0], 1e-300):
        raise ValueError(
            f"{name} must have rank at most r = {r}, but σ_{r + 1} = {sigma[r]:.3g} "
            f"(σ_1 = {sigma[0]:.3g})"
        )
    root = np.sqrt(sigma[:r])
    return [p[:, :r] * root, qt[:r].T * root]


def _sensing_matrices(a: Any, name: str, square: bool, form: str = "symmetric") -> np.ndarray:
    a = as_real_array(a, name, ndim=3)
    m, n1, n2 = a.shape
    if m < 1 or n1 < 1 or n2 < 1:
        raise ValueError(f"{name} must hold at least one matrix, got shape {a.shape}")
    if square and n1 != n2:
        raise ValueError(
            f"{name} must hold square n × n matrices for form={form!r}, got shape {a.shape}"
        )
    return a


def _manifold_truth(factors: Any, symmetric: bool) -> Any:
    """M* = UUᵀ (one factor) or UVᵀ (a pair) as a fixed-rank point; its rank must be exactly r."""
    if symmetric:
        u, r = factors, factors.shape[1]
        q, t = np.linalg.qr(u)
        lam, w = np.linalg.eigh(t @ t.T)  # UUᵀ = Q (T Tᵀ) Qᵀ
        lam, w = lam[::-1], w[:, ::-1]
        values = lam
    else:
        (left, right), r = factors, factors[0].shape[1]
        ql, tl = np.linalg.qr(left)
        qr_, tr = np.linalg.qr(right)
        p, values, qt = np.linalg.svd(tl @ tr.T)  # UVᵀ = Q_L (T_L T_Rᵀ) Q_Rᵀ
    if not values[-1] > 1e-10 * max(values[0], 1e-300):
        raise ValueError(
            f"M must have rank exactly r = {r} for a fixed-rank form (its r-th "
            f"{'eigen' if symmetric else 'singular '}value is {values[-1]:.3g}, the first "
            f"{values[0]:.3g}); use a smaller r or a factored form"
        )
    if symmetric:
        return SymmetricFixedRankPoint(q @ w, lam.copy())
    return FixedRankPoint(ql @ p, values.copy(), qr_ @ qt.T)


def _check_order(order: Any, weight: Any) -> tuple[int, float]:
    order = require_positive_int(order, "order", minimum=2)
    if order % 2:
        raise ValueError(f"order must be an even integer ≥ 2 (seed 002, eq. 8), got {order}")
    return order, _nonnegative(weight, "weight")


# --------------------------------------------------------------------------- results
def relative_matrix_error(problem: Problem, point: Any) -> float:
    """‖X̂ − M*‖_F / ‖M*‖_F for X̂ = UUᵀ (one factor), UVᵀ (a pair) or X̂ (a fixed-rank point).

    M* is the target matrix.  The acceptance measure of recovery in matrix sensing (seed 002:
    "the error between the obtained solution X̂X̂ᵀ and the ground truth M*"); invariant under
    the symmetry group.
    """
    target = getattr(problem.objective, "target", None)
    if target is None:
        raise ValueError(f"problem {problem.name!r} has no target matrix M*")
    product = _product(point)
    return float(np.linalg.norm(product - target) / max(np.linalg.norm(target), 1e-300))


def _product(point: Any) -> np.ndarray:
    if hasattr(point, "factors"):  # a point of a fixed-rank manifold: the matrix itself
        return np.asarray(point)
    if isinstance(point, (list, tuple)):
        return np.asarray(point[0]) @ np.asarray(point[1]).T
    u = np.asarray(point)
    return u @ u.T


# --------------------------------------------------------------------------- factorization
class SymmetricFactorizationObjective(Objective):
    """f(U) = ¼‖Y − UUᵀ‖_F² (seed 003, eq. 2.16).

    With R = UUᵀ − Y: ∇f(U) = R U and ∇²f(U)[W] = (W Uᵀ + U Wᵀ) U + R W, whose quadratic form
    is ½‖UWᵀ + WUᵀ‖² + ⟨UUᵀ − Y, WWᵀ⟩ (seed 003, eq. A.5).
    """

    batched_hessian = True

    def __init__(self, y: np.ndarray, target: np.ndarray | None):
        self.y = y
        self.target = target

    def prepare(self, u: np.ndarray) -> np.ndarray:  # noqa: D102
        return u @ u.T - self.y

    def cost(self, u: np.ndarray, residual: np.ndarray) -> float:  # noqa: D102
        return 0.25 * float(np.sum(residual * residual))

    def euclidean_gradient(self, u: np.ndarray, residual: np.ndarray) -> np.ndarray:  # noqa: D102
        return residual @ u

    def euclidean_hessian(self, u: np.ndarray, residual: np.ndarray, w: np.ndarray) -> np.ndarray:  # noqa: D102
        wut = w @ u.T  # (…, n, n), a batch of directions broadcasts
        return (wut + np.swapaxes(wut, -1, -2)) @ u + residual @ w

    def autograd_cost(self, u: Any) -> Any:  # noqa: D102
        residual = anp.dot(u, u.T) - self.y
        return 0.25 * anp.sum(residual * residual)


def symmetric_factorization(
    Y: Any = None,
    *,
    n: int = 6,
    r: int = 2,
    eigenvalues: Sequence[float] | None = None,
    seed: Seed = None,
) -> Problem:
    """Symmetric low-rank factorization min_{U ∈ R^{n×r}} ¼‖Y − UUᵀ‖_F² (seed 003, eq. 2.16).

    Give a symmetric ``Y``, or let the factory plant Y = X* = Σ_{i≤r} λ_i ξ_i ξ_iᵀ with Haar-random
    eigenvectors and ``eigenvalues`` λ₁ > … > λ_r > 0 (default (r, r − 1, …, 1)/r; seed 003's
    Fig. 8 uses (3/4, 1/2)).  The ground truth is [√λ₁ ξ₁ | … | √λ_r ξ_r] (eq. A.2), defined
    when λ_r > max(λ_{r+1}, 0); the symmetry group is O(r) acting on the right, so the distance
    to the truth is the orthogonal Procrustes distance, relative to ‖U*‖_F, and
    ``relative_matrix_error`` measures ‖UUᵀ − X*‖_F/‖X*‖_F with X* the best rank-r PSD
    approximation of Y.  Critical points: ``symmetric_factorization_critical_points``.
    """
    rng = as_generator(seed)
    if Y is None:
        n = require_positive_int(n, "n", minimum=2)
        r = _rank(r, n)
        require_memory(32 * n * n, f"symmetric_factorization(n={n}): Y is n × n")
        if eigenvalues is None:
            values = np.arange(r, 0, -1, dtype=float) / r
        else:
            values = np.sort(as_real_array(eigenvalues, "eigenvalues", ndim=1))[::-1]
            if values.shape != (r,) or values[-1] <= 0 or np.any(np.diff(values) >= 0):
                raise ValueError(
                    f"eigenvalues must be {r} distinct positive numbers, got {list(values)}"
                )
        q = random_point(Stiefel(n, r), rng) if n > 1 else np.ones((1, 1))
        truth = q * np.sqrt(values)
        y = truth @ truth.T
        y = 0.5 * (y + y.T)
        params: dict[str, Any] = {"n": n, "r": r, "data": "seeded"}
    else:
        y = _symmetric_matrix(Y, "Y")
        n = y.shape[0]
        r = _rank(r, n)
        values, vectors = np.linalg.eigh(y)
        values, vectors = values[::-1], vectors[:, ::-1]
        scale = max(float(np.max(np.abs(values))), 1e-300)
        below = values[r] if r < n else 0.0
        if values[r - 1] - max(below, 0.0) > 1e-10 * scale:
            truth = vectors[:, :r] * np.sqrt(values[:r])
        else:
            truth = None
        params = {"n": n, "r": r, "data": "user"}
    target = None if truth is None else truth @ truth.T
    return Problem(
        Euclidean(n, r),
        SymmetricFactorizationObjective(y, target),
        name="symmetric_factorization",
        symmetry=OrthogonalRight(r),
        truth=truth,
        parameters=params,
        seed=seed_as_int(seed),
    )


@dataclass(frozen=True)
class FactorizationCriticalPoint:
    """A representative critical point of symmetric factorization and its exact classification.

    ``selected`` are the (0-based) indices i of the eigenpairs (λ_i, ξ_i) of Y, in decreasing
    order of λ, whose columns √λ_i ξ_i make up the point (the other columns are zero; seed 003,
    eqs. A.3–A.4).  ``expected_index`` counts the negative Hessian eigenvalues off the O(r) orbit,
    ``expected_null`` the zero ones; ``expected_verdict`` follows the certificate's rules.
    ``orbit_dimension`` is the dimension of the O(r) orbit through the point,
    r(r − 1)/2 − z(z − 1)/2 for z zero columns (the stabiliser rotates the zero columns).
    """

    point: np.ndarray
    selected: tuple[int, ...]
    cost: float
    expected_verdict: Verdict
    expected_index: int
    expected_null: int
    orbit_dimension: int


def symmetric_factorization_critical_points(
    problem: Problem, *, candidates: int | None = None, rotate: Seed = None
) -> list[FactorizationCriticalPoint]:
    """Representatives U = [√λ_i ξ_i]_{i ∈ S} Γ of every class of critical points (seed 003, A.3).

    S runs over the subsets of size ≤ r of the ``candidates`` leading eigenpairs with λ_i > 0
    (default: all positive eigenvalues up to r + 2 of them), Γ = I unless ``rotate`` seeds a
    Haar-random Γ ∈ O(r).  The Hessian at such a point (eq. A.5) is diagonal in the eigenbasis:
    for j ∉ S its eigenvalues are λ_s − λ_j on the columns of s ∈ S and −λ_j (r − |S| times) on
    the zero columns; within S they are 2λ_s and λ_s + λ_t (s ≠ t); the rest are the orbit's
    zeros.  Hence the index is #{(s ∈ S, j ∉ S): λ_j > λ_s} + (r − |S|) · #{j ∉ S: λ_j > 0}: zero
    only for S = the r leading eigenpairs (the minimizers, eq. A.2), positive for every other S,
    with the negative curvature −λ_j toward a neglected eigenvector of eq. (A.6).
    """
    if not isinstance(problem, Problem) or not isinstance(
        problem.objective, SymmetricFactorizationObjective
    ):
        raise TypeError("problem must be built by symmetric_factorization")
    y = problem.objective.y
    r = int(problem.parameters["r"])
    values, vectors = np.linalg.eigh(y)
    values, vectors = values[::-1], vectors[:, ::-1]
    scale = max(float(np.max(np.abs(values))), 1e-300)
    tol = 1e-9 * scale
    positive = int(np.sum(values > tol))
    if candidates is None:
        k = min(positive, r + 2)
    else:
        k = require_positive_int(candidates, "candidates")
    if k > positive:
        raise ValueError(f"candidates must be at most {positive} (the positive eigenvalues of Y)")
    gamma = np.eye(r) if rotate is None else random_point(Stiefel(r, r), as_generator(rotate))
    out = []
    for size in range(min(r, k) + 1):
        for subset in itertools.combinations(range(k), size):
            phi = np.zeros((y.shape[0], r))
            for column, i in enumerate(subset):
                phi[:, column] = np.sqrt(values[i]) * vectors[:, i]
            others = [j for j in range(len(values)) if j not in subset]
            eigs = [values[s] - values[j] for s in subset for j in others]
            eigs += [-values[j] for j in others] * (r - size)
            eigs += [2 * values[s] for s in subset]
            eigs += [values[s] + values[t] for s, t in itertools.combinations(subset, 2)]
            eigs = np.asarray(eigs)
            index = int(np.sum(eigs < -tol))
            null = int(np.sum(np.abs(eigs) <= tol))
            if eigs.size == 0 or (index == 0 and null == 0):
                verdict = Verdict.LOCAL_MINIMIZER
            elif index == eigs.size:
                verdict = Verdict.LOCAL_MAXIMIZER
            elif index > 0:  # negative curvature: a strict saddle, zero eigenvalues or not
                verdict = Verdict.STRICT_SADDLE
            else:
                verdict = Verdict.DEGENERATE
            point = phi @ gamma
            out.append(
                FactorizationCriticalPoint(
                    point=point,
                    selected=tuple(subset),
                    cost=problem.cost(point),
                    expected_verdict=verdict,
                    expected_index=index,
                    expected_null=null,
                    orbit_dimension=r * (r - 1) // 2 - (r - size) * (r - size - 1) // 2,
                )
            )
    return out


# --------------------------------------------------------------------------- sensing
class _SensingLoss:
    """Σ_i φ(s_i), φ(s) = ½s² + (λ/l)s^l, s = (A vec(M) − b)/√m (see the module docstring)."""

    def __init__(self, a: np.ndarray, b: np.ndarray, order: int, weight: float):
        m = a.shape[0]
        self.shape = a.shape[1:]
        self.flat = a.reshape(m, -1)  # (m, n₁n₂): 𝒜(M) = flat @ vec(M)
        self.scale = 1.0 / np.sqrt(m)
        self.b = b
        self.order, self.weight = order, weight

    def residual(self, product: np.ndarray) -> np.ndarray:
        return (self.flat @ product.reshape(-1) - self.b) * self.scale

    def sense(self, products: np.ndarray) -> np.ndarray:
        """𝒜(Ṁ)/√m for one (n₁, n₂) or a batch (k, n₁, n₂) of matrices."""
        lead = products.shape[:-2]
        return (products.reshape(*lead, -1) @ self.flat.T) * self.scale

    def adjoint(self, w: np.ndarray) -> np.ndarray:
        """𝒜*(w)/√m = reshape(Aᵀ w)/√m for w of shape (m,) or (k, m)."""
        lead = w.shape[:-1]
        return (w @ self.flat).reshape(*lead, *self.shape) * self.scale

    def normal(self, product: np.ndarray, curvature: np.ndarray | None) -> np.ndarray:
        """𝒜*(c ∘ 𝒜(Ṁ))/m for one (n₁, n₂) Ṁ (c = 1 if ``curvature`` is None), fused."""
        w = self.flat @ product.reshape(-1)
        w *= self.scale * self.scale
        if curvature is not None:
            w *= curvature
        return (w @ self.flat).reshape(self.shape)

    def phi(self, s: np.ndarray) -> float:
        value = 0.5 * float(s @ s)
        if self.weight:
            value += self.weight / self.order * float(np.sum(s**self.order))
        return value

    def dphi(self, s: np.ndarray) -> np.ndarray:
        return s + self.weight * s ** (self.order - 1) if self.weight else s

    def ddphi(self, s: np.ndarray) -> np.ndarray:
        if not self.weight:
            return np.ones_like(s)
        return 1.0 + self.weight * (self.order - 1) * s ** (self.order - 2)

    def autograd_phi(self, product: Any) -> Any:
        s = (anp.dot(self.flat, anp.reshape(product, (-1,))) - self.b) * self.scale
        value = 0.5 * anp.sum(s * s)
        if self.weight:
            value = value + self.weight / self.order * anp.sum(s**self.order)
        return value


class _SymmetricSensingLoss(_SensingLoss):
    """The same loss for symmetric A_i, stored as their upper triangles (half the memory traffic).

    For symmetric A and M, ⟨A, M⟩ = Σ_{k≤l} c_kl A_kl M_kl with c = 1 on the diagonal and 2 off
    it, so 𝒜 is one product with the m × n(n+1)/2 matrix of the weighted triangles, and 𝒜*(w) is
    the symmetric matrix whose upper triangle is Σ_i w_i A_i (one product, then a mirror).
    ``sense`` must only be given symmetric matrices.
    """

    def __init__(self, a: np.ndarray, b: np.ndarray, order: int, weight: float):
        m, n, _ = a.shape
        self.shape = (n, n)
        self.rows, self.cols = np.triu_indices(n)
        self.weights = np.where(self.rows == self.cols, 1.0, 2.0)
        self.packed = a[:, self.rows, self.cols] * self.weights  # (m, n(n+1)/2)
        self.scale = 1.0 / np.sqrt(m)
        self.b = b
        self.order, self.weight = order, weight
        # flat indices of the upper triangle and of its mirror in a C-ordered n × n matrix, and
        # the factor of 𝒜*: gathering and scattering by one index array is ~4× cheaper than by
        # (rows, cols) pairs, which matters next to the two matrix-vector products of a Hess·v
        self._upper = self.rows * n + self.cols
        self._lower = self.cols * n + self.rows
        self._unpack = self.scale / self.weights

    @property
    def flat(self) -> np.ndarray:  # type: ignore[override]
        """The full (m, n²) matrix of the vectorised A_i (formed on request: autograd, tests)."""
        if getattr(self, "_flat", None) is None:
            m = self.b.shape[0]
            self._flat = self.adjoint(np.eye(m) / self.scale).reshape(m, -1)
        return self._flat

    def _triangle(self, products: np.ndarray) -> np.ndarray:
        """The upper triangles (packed) of one (n, n) or a batch (k, n, n) of matrices."""
        lead = products.shape[:-2]
        return np.reshape(products, (*lead, -1))[..., self._upper]

    def residual(self, product: np.ndarray) -> np.ndarray:
        return (self.packed @ self._triangle(product) - self.b) * self.scale

    def sense(self, products: np.ndarray) -> np.ndarray:
        return (self._triangle(products) @ self.packed.T) * self.scale

    def sense_symmetrized(self, products: np.ndarray) -> np.ndarray:
        """𝒜(Ṁ + Ṁᵀ)/√m for any (non-symmetric) Ṁ, one or a batch, without forming Ṁ + Ṁᵀ."""
        lead = products.shape[:-2]
        flat = np.reshape(products, (*lead, -1))
        return ((flat[..., self._upper] + flat[..., self._lower]) @ self.packed.T) * self.scale

    def normal_symmetrized(self, product: np.ndarray, curvature: np.ndarray | None) -> np.ndarray:
        """𝒜*(c ∘ 𝒜(Ṁ + Ṁᵀ))/m for one (n, n) Ṁ (c = 1 if ``curvature`` is None), fused.

        The Hessian-vector product's two passes over the packed operator, with the scalings
        folded into one multiplication of an m-vector and no batch bookkeeping.
        """
        flat = product.reshape(-1)
        w = self.packed @ (flat[self._upper] + flat[self._lower])
        w *= self.scale * self.scale
        if curvature is not None:
            w *= curvature
        upper = (w @ self.packed) / self.weights
        out = np.empty(self.shape[0] * self.shape[1])
        out[self._upper] = upper
        out[self._lower] = upper
        return out.reshape(self.shape)

    def normal(self, product: np.ndarray, curvature: np.ndarray | None) -> np.ndarray:
        """𝒜*(c ∘ 𝒜(Ṁ))/m for one symmetric (n, n) Ṁ, fused (``normal_symmetrized`` of Ṁ/2)."""
        return self.normal_symmetrized(0.5 * product, curvature)

    def adjoint(self, w: np.ndarray) -> np.ndarray:
        upper = (w @ self.packed) * self._unpack
        lead = w.shape[:-1]
        out = np.empty((*lead, self.shape[0] * self.shape[1]))
        out[..., self._upper] = upper
        out[..., self._lower] = upper
        return out.reshape(*lead, *self.shape)


class SymmetricSensingObjective(Objective):
    """f(X) = Σ_i φ(s_i), s_i = (⟨A_i, XXᵀ⟩ − b_i)/√m, A_i symmetric (seed 002, eqs. 1, 8).

    With S = Σ_i φ'(s_i) A_i / √m: ∇f = 2 S X (seed 002, Lemma 2, eq. 2) and
    ∇²f[Ẋ] = 2 S Ẋ + 2 (Σ_i φ''(s_i) ṡ_i A_i / √m) X with ṡ_i = 2⟨A_i, Ẋ Xᵀ⟩/√m (eq. 3).
    """

    batched_hessian = True

    def __init__(self, loss: _SymmetricSensingLoss, target: np.ndarray | None):
        self.loss = loss
        self.target = target

    def prepare(self, x: np.ndarray) -> dict[str, np.ndarray]:  # noqa: D102
        # the residual now; S = 𝒜*(φ'(s)) on the first gradient or Hessian (not for costs alone)
        return {"s": self.loss.residual(x @ x.T)}

    def _adjoint_gradient(self, data: dict[str, np.ndarray]) -> np.ndarray:
        if "S" not in data:
            data["S"] = self.loss.adjoint(self.loss.dphi(data["s"]))
            data["curvature"] = self.loss.ddphi(data["s"])
        return data["S"]

    def cost(self, x: np.ndarray, data: dict) -> float:  # noqa: D102
        return self.loss.phi(data["s"])

    def euclidean_gradient(self, x: np.ndarray, data: dict) -> np.ndarray:  # noqa: D102
        return 2.0 * self._adjoint_gradient(data) @ x

    def euclidean_hessian(self, x: np.ndarray, data: dict, w: np.ndarray) -> np.ndarray:  # noqa: D102
        s_matrix = self._adjoint_gradient(data)
        if w.ndim == 2:  # one direction: the fused product
            curvature = data["curvature"] if self.loss.weight else None
            return 2.0 * (s_matrix @ w + self.loss.normal_symmetrized(w @ x.T, curvature) @ x)
        ds = self.loss.sense_symmetrized(w @ x.T)  # ⟨A_i, ẊXᵀ + XẊᵀ⟩/√m
        return 2.0 * (s_matrix @ w + self.loss.adjoint(data["curvature"] * ds) @ x)

    def autograd_cost(self, x: Any) -> Any:  # noqa: D102
        return self.loss.autograd_phi(anp.dot(x, x.T))


class AsymmetricSensingObjective(Objective):
    """f(U, V) = Σ_i φ(s_i) + μ‖UᵀU − VᵀV‖_F², s_i = (⟨A_i, UVᵀ⟩ − b_i)/√m (seed 003, eq. 2.20).

    With G = Σ_i φ'(s_i) A_i/√m and D = UᵀU − VᵀV: ∇_U f = G V + 4μ U D, ∇_V f = Gᵀ U − 4μ V D;
    the Hessian adds Ġ = Σ_i φ''(s_i) ṡ_i A_i/√m, ṡ_i = ⟨A_i, U̇Vᵀ + UV̇ᵀ⟩/√m, and
    Ḋ = U̇ᵀU + UᵀU̇ − V̇ᵀV − VᵀV̇:  (Ġ V + G V̇ + 4μ(U̇D + UḊ), Ġᵀ U + Gᵀ U̇ − 4μ(V̇D + VḊ)).
    """

    def __init__(self, loss: _SensingLoss, balancing: float, target: np.ndarray | None):
        self.loss = loss
        self.balancing = balancing
        self.target = target

    def prepare(self, x: list) -> dict[str, np.ndarray]:  # noqa: D102
        u, v = x
        return {"s": self.loss.residual(u @ v.T), "D": u.T @ u - v.T @ v}

    def _adjoint_gradient(self, data: dict[str, np.ndarray]) -> np.ndarray:
        if "G" not in data:
            data["G"] = self.loss.adjoint(self.loss.dphi(data["s"]))
            data["curvature"] = self.loss.ddphi(data["s"])
        return data["G"]

    def cost(self, x: list, data: dict) -> float:  # noqa: D102
        return self.loss.phi(data["s"]) + self.balancing * float(np.sum(data["D"] ** 2))

    def euclidean_gradient(self, x: list, data: dict) -> list:  # noqa: D102
        u, v = x
        g, d = self._adjoint_gradient(data), data["D"]
        mu4 = 4.0 * self.balancing
        return [g @ v + mu4 * (u @ d), g.T @ u - mu4 * (v @ d)]

    def euclidean_hessian(self, x: list, data: dict, direction: list) -> list:  # noqa: D102
        u, v = x
        du, dv = direction
        g, d = self._adjoint_gradient(data), data["D"]
        ds = self.loss.sense(du @ v.T + u @ dv.T)
        dg = self.loss.adjoint(data["curvature"] * ds)
        mu4 = 4.0 * self.balancing
        utdu, vtdv = u.T @ du, v.T @ dv
        dd = utdu + utdu.T - vtdv - vtdv.T
        return [
            dg @ v + g @ dv + mu4 * (du @ d + u @ dd),
            dg.T @ u + g.T @ du - mu4 * (dv @ d + v @ dd),
        ]

    def autograd_cost(self, x: list) -> Any:  # noqa: D102
        u, v = x
        d = anp.dot(u.T, u) - anp.dot(v.T, v)
        return self.loss.autograd_phi(anp.dot(u, v.T)) + self.balancing * anp.sum(d * d)


class FixedRankSensingObjective(Objective):
    """f(X) = Σ_i φ(s_i), s_i = (⟨A_i, X⟩ − b_i)/√m, on the manifold of rank-r matrices X.

    The loss is linear-quadratic in X itself, so in the embedding space ℝ^{n₁×n₂}
    (Vandereycken 2013; seed 000, "rank-1 fitting on the fixed-rank manifold", for r = 1):

        ∇f(X) = Σ_i φ'(s_i) A_i/√m = 𝒜*(φ'(s))/√m,   ∇²f(X)[ξ] = 𝒜*(φ''(s) ∘ 𝒜(ξ)/√m)/√m,

    the Riemannian ones following from the manifold (projection and Weingarten term).  The point
    arrives factored, X = U diag(σ) Vᵀ; 𝒜(X) is computed as one product of the m × n₁n₂ sensing
    matrix with vec(X), X formed from the factors in O(n₁n₂r): contracting each A_i with the
    factors instead (Σ_k σ_k u_kᵀ A_i v_k) costs r times more flops, m n₁n₂ r against m n₁n₂, and
    the operator already holds m n₁n₂ numbers, so the n₁n₂ of X add nothing at any scale where A is
    stored.  ∇f is returned dense (n₁ × n₂, one product Aᵀw; the projection needs only ∇f V and
    ∇fᵀU), and the Hessian direction ξ = embedding(X, u) is dense as the ``Problem`` passes it (a
    batch (k, n₁, n₂) is one product).
    """

    batched_hessian = True

    def __init__(self, loss: _SensingLoss, target: np.ndarray | None):
        self.loss = loss
        self.target = target

    def prepare(self, x: Any) -> dict[str, np.ndarray]:  # noqa: D102
        return {"s": self.loss.residual(np.asarray(x))}

    def _adjoint_gradient(self, data: dict[str, np.ndarray]) -> np.ndarray:
        if "G" not in data:
            data["G"] = self.loss.adjoint(self.loss.dphi(data["s"]))
            data["curvature"] = self.loss.ddphi(data["s"])
        return data["G"]

    def cost(self, x: Any, data: dict) -> float:  # noqa: D102
        return self.loss.phi(data["s"])

    def euclidean_gradient(self, x: Any, data: dict) -> np.ndarray:  # noqa: D102
        return self._adjoint_gradient(data)

    def euclidean_hessian(self, x: Any, data: dict, direction: Any) -> np.ndarray:  # noqa: D102
        self._adjoint_gradient(data)
        direction = np.asarray(direction)
        if direction.ndim == 2:  # one direction: the fused product
            return self.loss.normal(direction, data["curvature"] if self.loss.weight else None)
        ds = self.loss.sense(direction)  # ⟨A_i, ξ⟩/√m for a batch
        return self.loss.adjoint(data["curvature"] * ds)

    def autograd_cost(self, x: Any) -> Any:  # noqa: D102
        if hasattr(x, "factors"):  # a factored point: its dense matrix (small sizes only)
            x = np.asarray(x)
        return self.loss.autograd_phi(x)


def matrix_sensing(
    A: Any = None,
    *,
    M: Any = None,
    b: Any = None,
    n: int = 6,
    n2: int | None = None,
    r: int = 2,
    m: int | None = None,
    form: str = "symmetric",
    order: int = 2,
    weight: float = 0.0,
    balancing: float = BALANCING_DEFAULT,
    seed: Seed = None,
) -> Problem:
    """Low-rank matrix sensing b = 𝒜(M*) in Burer–Monteiro form (seed 002, eq. 1; seed 003, 2.20).

    ``form="symmetric"``: f(X) = 1/(2m) Σ_i (⟨A_i, XXᵀ⟩ − b_i)² on X ∈ R^{n×r}, symmetry O(r)
    (seed 003, eq. 2.14); the A_i are symmetrised, (A_i + A_iᵀ)/2, which changes no ⟨A_i, XXᵀ⟩.
    ``form="asymmetric"``: f(U, V) = 1/(2m) Σ_i (⟨A_i, UVᵀ⟩ − b_i)² + μ‖UᵀU − VᵀV‖_F² on
    R^{n×r} × R^{n₂×r} with μ = ``balancing`` (default 1/8, the ratio of Tu et al. 2016, see
    ``BALANCING_DEFAULT``); symmetry O(r) acting as (U, V) ↦ (UR, VR) (seed 003, eq. 2.15), or
    GL(r), (U, V) ↦ (UΓ, VΓ^{-T}) (eq. 2.13), when μ = 0.
    ``form="fixed_rank"``: the same loss f(X) = 1/(2m) Σ_i (⟨A_i, X⟩ − b_i)² on the manifold
    ``FixedRank(n, n₂, r)`` of rank-r matrices itself (seed 001, low-rank recovery; seed 000,
    "rank-1 fitting on the fixed-rank manifold", here for rank r), the same data model as the
    asymmetric form (the same ``seed`` draws the same A_i and M*); ``form="psd_fixed_rank"``: on
    ``SymmetricFixedRank(n, r, psd=True)``, the PSD matrices of rank r, with the data model of the
    symmetric form.  Points are factored (``FixedRankPoint`` / ``SymmetricFixedRankPoint``) and
    the truth is M* itself as a point of the manifold, so M* must have rank exactly r; there is no
    symmetry left (``Identity``: the parametrisation ambiguity of the factored forms is gone),
    and ``distance_to_truth`` equals ``relative_matrix_error``, ‖X − M*‖_F/‖M*‖_F
    (``FixedRankSensingObjective`` for the derivatives).
    ``order`` = l (even) and ``weight`` = λ add the high-order loss λ f^l (seed 002, eqs. 8–9a;
    normalisation in the module docstring), in every form.

    Data: ``A`` of shape (m, n, n₂) (any real matrices), or m Gaussian matrices with i.i.d.
    N(0, 1) entries drawn from ``seed`` (default m = 5 n r); and either the truth ``M`` (PSD of
    rank ≤ r for the symmetric form, rank ≤ r for the asymmetric one; then b = 𝒜(M) unless ``b``
    is also given, e.g. noisy) or the measurements ``b`` alone (no ground truth).  Seeded
    instances plant M* = X*X*ᵀ (symmetric) or U*V*ᵀ with i.i.d. N(0, 1) factors.  The ground truth
    point is the PSD factor of M* (symmetric) or its balanced factors (P Σ^{1/2}, Q Σ^{1/2});
    ``distance_to_truth`` is the Procrustes distance of the factors modulo O(r) (modulo GL(r)
    through balanced representatives when μ = 0), relative to the truth's norm, and
    ``relative_matrix_error`` is ‖X̂ − M*‖_F/‖M*‖_F.
    """
    forms = ("symmetric", "asymmetric", "fixed_rank", "psd_fixed_rank")
    if form not in forms:
        raise ValueError(f"form must be one of {', '.join(map(repr, forms))}, got {form!r}")
    order, weight = _check_order(order, weight)
    balancing = _nonnegative(balancing, "balancing")
    symmetric = form in ("symmetric", "psd_fixed_rank")
    manifold_form = form.endswith("fixed_rank")
    rng = as_generator(seed)
    if A is None:
        n = require_positive_int(n, "n", minimum=2)
        n2 = n if (symmetric or n2 is None) else require_positive_int(n2, "n2", minimum=2)
        r = _rank(r, min(n, n2), "min(n, n2)")
        m = 5 * max(n, n2) * r if m is None else require_positive_int(m, "m")
        require_memory(
            16 * m * n * n2, f"matrix_sensing(n={n}, n2={n2}, m={m}): m sensing matrices n × n2"
        )
        a = rng.standard_normal((m, n, n2))
        data_kind = "gaussian"
    else:
        a = _sensing_matrices(A, "A", square=symmetric, form=form)
        if m is not None and require_positive_int(m, "m") != a.shape[0]:
            raise ValueError(f"m = {m} does not match the {a.shape[0]} matrices in A")
        m, n, n2 = a.shape
        r = _rank(r, min(n, n2), "min(n, n2)")
        data_kind = "user"
    if symmetric:
        a = 0.5 * (a + np.swapaxes(a, 1, 2))
    if A is None and M is None and b is None:
        if symmetric:
            x_star = rng.standard_normal((n, r))
            target = x_star @ x_star.T
        else:
            u_star, v_star = rng.standard_normal((n, r)), rng.standard_normal((n2, r))
            target = u_star @ v_star.T
    elif M is not None:
        target = as_real_array(M, "M", ndim=2)
        if target.shape != (n, n2):
            raise ValueError(f"M must have shape {(n, n2)} to match A, got {target.shape}")
        if symmetric:
            target = _symmetric_matrix(target, "M")
    else:
        target = None
    if target is not None:
        truth: Any = _psd_factor(target, r, "M") if symmetric else _balanced_factors(target, r, "M")
        if manifold_form:
            truth = _manifold_truth(truth, symmetric)
    else:
        truth = None
    flat = a.reshape(m, -1)
    if b is not None:
        data = as_real_array(b, "b", ndim=1)
        if data.shape != (m,):
            raise ValueError(f"b must hold m = {m} measurements, got shape {data.shape}")
    elif target is not None:
        data = flat @ target.reshape(-1)
    else:
        raise ValueError("give the truth M or the measurements b with user sensing matrices A")
    loss = (_SymmetricSensingLoss if symmetric else _SensingLoss)(a, data, order, weight)
    params = {"n": n, "r": r, "m": m, "form": form, "order": order, "weight": weight}
    if manifold_form:
        if not symmetric:
            params["n2"] = n2
        objective: Objective = FixedRankSensingObjective(loss, target)
        manifold: Any = SymmetricFixedRank(n, r, psd=True) if symmetric else FixedRank(n, n2, r)
        symmetry: Any = Identity()
    elif symmetric:
        objective = SymmetricSensingObjective(loss, target)
        manifold = Euclidean(n, r)
        symmetry = OrthogonalRight(r)
    else:
        params.update(n2=n2, balancing=balancing)
        objective = AsymmetricSensingObjective(loss, balancing, target)
        manifold = Product([Euclidean(n, r), Euclidean(n2, r)])
        symmetry = OrthogonalRight(r) if balancing > 0 else GeneralLinear(r)
    params["data"] = data_kind
    return Problem(
        manifold,
        objective,
        name="matrix_sensing",
        symmetry=symmetry,
        truth=truth,
        parameters=params,
        seed=seed_as_int(seed),
    )


# --------------------------------------------------------------------------- completion
def _row_penalty(x: np.ndarray, alpha: float) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Σ_i (‖x_i‖ − α)_+⁴ over the rows x_i, with what its derivatives need per row."""
    norms = np.sqrt(np.sum(x * x, axis=1))
    excess = np.maximum(norms - alpha, 0.0)
    safe = np.where(norms > 0, norms, 1.0)
    return float(np.sum(excess**4)), norms, excess, safe


class CompletionObjective(Objective):
    """f(U, V) = (1/2p)‖P_Ω(UVᵀ − M)‖² + ρ_mc(U, V) + μ‖UᵀU − VᵀV‖_F² (seed 001, ρ_mc).

    ρ_mc(U, V) = λ₁ Σ_i (‖e_iᵀU‖ − α₁)_+⁴ + λ₂ Σ_j (‖e_jᵀV‖ − α₂)_+⁴.  For a row x with t = ‖x‖,
    h(t) = (t − α)_+⁴: ∇ = h'(t) x/t and ∇²[w] = h'(t)/t · w + (h''(t) − h'(t)/t)(xᵀw/t²) x, with
    h' = 4(t − α)_+³, h'' = 12(t − α)_+² (zero near t = 0 since α > 0, so the penalty is C³).
    """

    def __init__(
        self,
        mask: np.ndarray,
        observed: np.ndarray,
        p: float,
        alphas: tuple[float, float],
        weights: tuple[float, float],
        balancing: float,
        target: np.ndarray | None,
    ):
        self.mask = mask
        self.observed = observed * mask
        self.p = p
        self.alphas, self.weights = alphas, weights
        self.balancing = balancing
        self.target = target

    def prepare(self, x: list) -> tuple:  # noqa: D102
        u, v = x
        residual = (self.mask * (u @ v.T) - self.observed) / self.p
        rows = [_row_penalty(f, a) for f, a in zip(x, self.alphas, strict=True)]
        return residual, rows, u.T @ u - v.T @ v

    def cost(self, x: list, data: tuple) -> float:  # noqa: D102
        residual, rows, d = data
        value = 0.5 * self.p * float(np.sum(residual * residual))
        value += sum(w * row[0] for w, row in zip(self.weights, rows, strict=True))
        return value + self.balancing * float(np.sum(d * d))

    def _penalty_gradient(self, x: np.ndarray, row: tuple, weight: float) -> np.ndarray:
        _, _, excess, safe = row
        return (weight * 4.0 * excess**3 / safe)[:, None] * x

    def _penalty_hessian(self, x: np.ndarray, row: tuple, weight: float, w: np.ndarray) -> Any:
        _, _, excess, safe = row
        first = 4.0 * excess**3 / safe
        second = 12.0 * excess**2
        radial = (second - first) * np.sum(x * w, axis=1) / safe**2
        return weight * (first[:, None] * w + radial[:, None] * x)

    def euclidean_gradient(self, x: list, data: tuple) -> list:  # noqa: D102
        u, v = x
        residual, rows, d = data
        mu4 = 4.0 * self.balancing
        return [
            residual @ v + self._penalty_gradient(u, rows[0], self.weights[0]) + mu4 * (u @ d),
            residual.T @ u + self._penalty_gradient(v, rows[1], self.weights[1]) - mu4 * (v @ d),
        ]

    def euclidean_hessian(self, x: list, data: tuple, direction: list) -> list:  # noqa: D102
        u, v = x
        du, dv = direction
        residual, rows, d = data
        dres = self.mask * (du @ v.T + u @ dv.T) / self.p
        mu4 = 4.0 * self.balancing
        utdu, vtdv = u.T @ du, v.T @ dv
        dd = utdu + utdu.T - vtdv - vtdv.T
        return [
            dres @ v
            + residual @ dv
            + self._penalty_hessian(u, rows[0], self.weights[0], du)
            + mu4 * (du @ d + u @ dd),
            dres.T @ u
            + residual.T @ du
            + self._penalty_hessian(v, rows[1], self.weights[1], dv)
            - mu4 * (dv @ d + v @ dd),
        ]

    def autograd_cost(self, x: list) -> Any:  # noqa: D102
        u, v = x
        residual = self.mask * anp.dot(u, v.T) - self.observed
        value = 0.5 / self.p * anp.sum(residual * residual)
        for factor, alpha, weight in zip(x, self.alphas, self.weights, strict=True):
            norms = anp.sqrt(anp.sum(factor * factor, axis=1))
            value = value + weight * anp.sum(anp.maximum(norms - alpha, 0.0) ** 4)
        d = anp.dot(u.T, u) - anp.dot(v.T, v)
        return value + self.balancing * anp.sum(d * d)


def matrix_completion(
    M: Any = None,
    *,
    mask: Any = None,
    n: int = 8,
    n2: int | None = None,
    r: int = 2,
    p: float = 0.6,
    alpha: float | tuple[float, float] | None = None,
    penalty: float | tuple[float, float] = 1.0,
    balancing: float = BALANCING_DEFAULT,
    seed: Seed = None,
) -> Problem:
    """Matrix completion from a Bernoulli(p) sample Ω of the entries of a rank-r M* (seed 001).

    f(U, V) = (1/2p) ‖P_Ω(UVᵀ − M)‖_F² + ρ_mc(U, V) + μ ‖UᵀU − VᵀV‖_F² on R^{n×r} × R^{n₂×r},
    with the incoherence penalty of seed 001 ("From Factorization to Matrix Recovery &
    Completion", after Ge, Lee and Ma 2016)

        ρ_mc(U, V) = λ₁ Σ_{i ≤ n} (‖e_iᵀ U‖₂ − α₁)_+⁴ + λ₂ Σ_{j ≤ n₂} (‖e_jᵀ V‖₂ − α₂)_+⁴

    (the slide's second sum reads e_iᵀU, a typo: it penalises the rows of V), ``penalty`` =
    (λ₁, λ₂), ``alpha`` = (α₁, α₂); the 1/p makes the data term an unbiased estimate of
    ½‖UVᵀ − M‖_F².  μ = ``balancing`` (default 1/8, see ``BALANCING_DEFAULT``); symmetry
    (U, V) ↦ (UR, VR), R ∈ O(r) (seed 003, eq. 2.15; ρ_mc depends on row norms only).

    Give ``M`` (n × n₂; entries outside Ω are ignored) and a boolean ``mask`` of the same shape,
    or let the factory plant M* = U*V*ᵀ with i.i.d. N(0, 1) factors and draw Ω with rate ``p``.
    Without ``alpha``, α_k is twice the largest row norm of the balanced factors of the rank-r
    truncation of M (user data: of P_Ω(M)/p), so the penalty vanishes near the truth.  The ground
    truth is the balanced factorization of M when M has rank ≤ r (user data) or of M*.
    """
    rng = as_generator(seed)
    balancing = _nonnegative(balancing, "balancing")
    weights = penalty if isinstance(penalty, (tuple, list)) else (penalty, penalty)
    if len(weights) != 2:
        raise ValueError(f"penalty must be a number or a pair (λ₁, λ₂), got {penalty!r}")
    weights = (_nonnegative(weights[0], "penalty"), _nonnegative(weights[1], "penalty"))
    if M is None:
        if mask is not None:
            raise ValueError("mask needs the matrix M it samples")
        n = require_positive_int(n, "n", minimum=2)
        n2 = n if n2 is None else require_positive_int(n2, "n2", minimum=2)
        r = _rank(r, min(n, n2), "min(n, n2)")
        p = _positive(p, "p")
        if p > 1:
            raise ValueError(f"p must be a sampling rate in (0, 1], got {p}")
        require_memory(40 * n * n2, f"matrix_completion(n={n}, n2={n2}): M is n × n2")
        truth = [rng.standard_normal((n, r)), rng.standard_normal((n2, r))]
        target = truth[0] @ truth[1].T
        truth = _balanced_factors(target, r, "M*")
        observed_mask = rng.random((n, n2)) < p
        matrix = target
        data_kind = "seeded"
    else:
        matrix = as_real_array(M, "M", ndim=2)
        require_nonempty(matrix.shape, "M")
        n, n2 = matrix.shape
        r = _rank(r, min(n, n2), "min(n, n2)")
        if mask is None:
            raise ValueError("mask (boolean, the shape of M) is required with user data M")
        observed_mask = np.asarray(mask)
        if observed_mask.shape != matrix.shape:
            raise ValueError(
                f"mask must have the shape of M, {matrix.shape}, got {observed_mask.shape}"
            )
        if observed_mask.dtype != bool:
            if not np.all(np.isin(observed_mask, (0, 1))):
                raise ValueError("mask must be boolean (or 0/1)")
            observed_mask = observed_mask.astype(bool)
        p = float(np.mean(observed_mask))
        if p == 0:
            raise ValueError("mask must observe at least one entry")
        try:
            truth = _balanced_factors(matrix, r, "M")
            target = matrix
        except ValueError:
            truth, target = None, None
        data_kind = "user"
    mask_array = observed_mask.astype(float)
    if alpha is None:
        reference = truth or _balanced_factors(mask_array * matrix / p, r, "M", exact=False)
        alphas = tuple(2.0 * float(np.max(np.linalg.norm(f, axis=1))) for f in reference)
    else:
        pair = alpha if isinstance(alpha, (tuple, list)) else (alpha, alpha)
        if len(pair) != 2:
            raise ValueError(f"alpha must be a number or a pair (α₁, α₂), got {alpha!r}")
        alphas = (_positive(pair[0], "alpha"), _positive(pair[1], "alpha"))
    objective = CompletionObjective(mask_array, matrix, p, alphas, weights, balancing, target)
    params = {"n": n, "n2": n2, "r": r, "p": p, "balancing": balancing, "data": data_kind}
    return Problem(
        Product([Euclidean(n, r), Euclidean(n2, r)]),
        objective,
        name="matrix_completion",
        symmetry=OrthogonalRight(r) if balancing > 0 else GeneralLinear(r),
        truth=truth,
        parameters=params,
        seed=seed_as_int(seed),
    )


# --------------------------------------------------------------------------- robust recovery
class RobustObjective(Objective):
    """f(U) = ½ Σ_ij ψ((UUᵀ − Y)_ij), ψ the Huber function or its smooth version (seed 001).

    ``loss="huber"``: ψ = H_δ, H_δ(t) = t²/2 for |t| ≤ δ and δ|t| − δ²/2 beyond, the Moreau
    envelope of δ|·|, i.e. min_S ½‖R − S‖² + δ‖S‖₁ (seed 003, eq. 2.21 with g_s = δ‖·‖₁, giving
    eq. 2.22).  H_δ is C¹ only: its second derivative jumps where |R_ij| = δ, so the Hessian
    below is exact only off that set, and Taylor checks of the Hessian or second-order
    certificates near it are not meaningful.  ``loss="pseudo-huber"``: ψ(t) = δ²(√(1 + t²/δ²) − 1),
    C^∞ with the same two regimes (t²/2 near 0, δ|t| far out), for second-order landscape work.

    With R = UUᵀ − Y and Ψ = ψ'(R): ∇f = Ψ U and ∇²f[W] = Ψ W + (ψ''(R) ⊙ (WUᵀ + UWᵀ)) U
    (for the Huber function ψ' = clip(·, −δ, δ), ψ'' = 1_{|t| ≤ δ}).  As δ → ∞ both tend to
    ¼‖Y − UUᵀ‖² (eq. 2.16).
    """

    batched_hessian = True

    def __init__(self, y: np.ndarray, delta: float, loss: str, target: np.ndarray | None):
        self.y = y
        self.delta = delta
        self.loss = loss
        self.target = target

    def prepare(self, u: np.ndarray) -> tuple:  # noqa: D102
        residual = u @ u.T - self.y
        d = self.delta
        if self.loss == "huber":
            inside = np.abs(residual) <= d
            values = np.where(inside, 0.5 * residual**2, d * np.abs(residual) - 0.5 * d * d)
            return values, np.clip(residual, -d, d), inside.astype(float)
        root = np.sqrt(1.0 + (residual / d) ** 2)
        return d * d * (root - 1.0), residual / root, root**-3

    def cost(self, u: np.ndarray, data: tuple) -> float:  # noqa: D102
        return 0.5 * float(np.sum(data[0]))

    def euclidean_gradient(self, u: np.ndarray, data: tuple) -> np.ndarray:  # noqa: D102
        return data[1] @ u

    def euclidean_hessian(self, u: np.ndarray, data: tuple, w: np.ndarray) -> np.ndarray:  # noqa: D102
        _, psi, curvature = data
        wut = w @ u.T
        return psi @ w + (curvature * (wut + np.swapaxes(wut, -1, -2))) @ u

    def autograd_cost(self, u: Any) -> Any:  # noqa: D102
        residual = anp.dot(u, u.T) - self.y
        d = self.delta
        if self.loss == "huber":
            a = anp.abs(residual)
            values = anp.where(a <= d, 0.5 * residual**2, d * a - 0.5 * d * d)
        else:
            values = d * d * (anp.sqrt(1.0 + (residual / d) ** 2) - 1.0)
        return 0.5 * anp.sum(values)


def robust_recovery(
    Y: Any = None,
    *,
    M: Any = None,
    n: int = 8,
    r: int = 2,
    outlier_fraction: float = 0.05,
    outlier_scale: float = 10.0,
    delta: float | None = None,
    loss: str = "pseudo-huber",
    seed: Seed = None,
) -> Problem:
    """Robust low-rank recovery min_U ½ Σ_ij H_δ((UUᵀ − Y)_ij) over U ∈ R^{n×r} (seed 001).

    Seed 001 ("From Factorization to Robust Matrix Recovery") and seed 003 (eqs. 2.21–2.22): for
    Y = X* + S* with low-rank X* and sparse S*, minimising ½‖UVᵀ + S − Y‖² + δ‖S‖₁ over S
    leaves the Huber loss H_δ of the residual; here in the symmetric factored form UUᵀ
    (eq. 2.14), symmetry O(r).  Seeded instances plant X* = U*U*ᵀ (U* i.i.d. N(0, 1)) and a
    symmetric S* with a fraction ``outlier_fraction`` of entries (in symmetric pairs) set to
    ±``outlier_scale`` · max|X*_ij|.  User data: symmetric ``Y``, optionally the truth ``M``
    (PSD, rank ≤ r).  Default δ = 0.1 · median|Y_ij| (a scale not moved by sparse outliers).
    ``loss`` is "huber" (exactly H_δ; C¹, so its Hessian jumps where |R_ij| = δ) or
    "pseudo-huber" (the default: δ²(√(1 + t²/δ²) − 1), C^∞ with the same regimes, so that
    Taylor checks and second-order certificates are meaningful everywhere); see
    ``RobustObjective``.

    With outliers, the planted U* is *not* a critical point of the Huber loss (∇f(U*) =
    clip(−S*, ±δ) U* ≠ 0): the minimizer lies within O(δ) of X*, and ``distance_to_truth`` (the
    O(r) Procrustes distance to U*, relative to ‖U*‖) and ``relative_matrix_error`` measure that
    bias; it vanishes as δ → 0, where the loss tends to δ‖UUᵀ − Y‖₁.  At the defaults it is
    ≈ 2.5e-2, so with outliers (or user data) a point counts as recovered within 5e-2 of the
    truth; without outliers the planted U* is exactly critical and the tolerance is 1e-5.
    """
    if loss not in ("huber", "pseudo-huber"):
        raise ValueError(f"loss must be 'huber' or 'pseudo-huber', got {loss!r}")
    rng = as_generator(seed)
    if Y is None:
        n = require_positive_int(n, "n", minimum=2)
        r = _rank(r, n)
        fraction = _nonnegative(outlier_fraction, "outlier_fraction")
        if fraction >= 1:
            raise ValueError(f"outlier_fraction must be in [0, 1), got {fraction}")
        scale = _nonnegative(outlier_scale, "outlier_scale")
        require_memory(48 * n * n, f"robust_recovery(n={n}): Y is n × n")
        u_star = rng.standard_normal((n, r))
        target = u_star @ u_star.T
        upper = np.triu(rng.random((n, n)) < fraction)
        signs = np.where(rng.random((n, n)) < 0.5, -1.0, 1.0)
        outliers = np.triu(upper * signs) * scale * float(np.max(np.abs(target)))
        outliers = outliers + np.triu(outliers, 1).T
        y = target + outliers
        truth: Any = u_star
        params: dict[str, Any] = {"n": n, "r": r, "outlier_fraction": fraction, "data": "seeded"}
    else:
        y = _symmetric_matrix(Y, "Y")
        n = y.shape[0]
        r = _rank(r, n)
        if M is not None:
            target = _symmetric_matrix(M, "M", n)
            truth = _psd_factor(target, r, "M")
        else:
            target, truth = None, None
        params = {"n": n, "r": r, "data": "user"}
    if delta is None:
        delta = 0.1 * float(np.median(np.abs(y)))
        if delta <= 0:
            delta = 0.1 * max(float(np.max(np.abs(y))), 1.0)
    delta = _positive(delta, "delta")
    params.update(delta=delta, loss=loss)
    return Problem(
        Euclidean(n, r),
        RobustObjective(y, delta, loss, target),
        name="robust_recovery",
        symmetry=OrthogonalRight(r),
        truth=truth,
        parameters=params,
        seed=seed_as_int(seed),
        recovery_tolerance=1e-5 if params.get("outlier_fraction") == 0 else 5e-2,
    )
