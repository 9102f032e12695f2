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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import autograd.numpy as anp
import numpy as np
from pymanopt.manifolds import Euclidean, Stiefel

from manifoldscape.boundary.arguments import (
    Seed,
    as_generator,
    as_real_array,
    require_positive_int,
    seed_as_int,
)
from manifoldscape.boundary.budgets import require_memory
from manifoldscape.core.certificate import Verdict
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.symmetry import OrthogonalRight
from manifoldscape.geometry import random_point
from manifoldscape.problems.low_rank_common import (
    _rank,
    _symmetric_matrix,
    relative_matrix_error,
)
from manifoldscape.problems.low_rank_completion import (
    CompletionObjective,
    RobustObjective,
    matrix_completion,
    robust_recovery,
)
from manifoldscape.problems.low_rank_sensing import (
    AsymmetricSensingObjective,
    FixedRankSensingObjective,
    SymmetricSensingObjective,
    matrix_sensing,
)

__all__ = [
    "AsymmetricSensingObjective",
    "CompletionObjective",
    "FactorizationCriticalPoint",
    "FixedRankSensingObjective",
    "RobustObjective",
    "SymmetricFactorizationObjective",
    "SymmetricSensingObjective",
    "matrix_completion",
    "matrix_sensing",
    "relative_matrix_error",
    "robust_recovery",
    "symmetric_factorization",
    "symmetric_factorization_critical_points",
]


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
