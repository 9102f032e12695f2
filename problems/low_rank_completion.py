"""Matrix completion and robust (ℓ1) low-rank recovery.

The models, formulas and sources are in the docstring of ``manifoldscape.problems.low_rank``.
"""

from __future__ import annotations

from typing import Any

import autograd.numpy as anp
import numpy as np
from pymanopt.manifolds import Euclidean, Product

from manifoldscape.boundary.arguments import (
    Seed,
    as_generator,
    as_real_array,
    require_nonempty,
    require_positive_int,
    seed_as_int,
)
from manifoldscape.boundary.budgets import require_memory
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.symmetry import GeneralLinear, OrthogonalRight
from manifoldscape.problems.low_rank_common import (
    BALANCING_DEFAULT,
    _balanced_factors,
    _nonnegative,
    _positive,
    _psd_factor,
    _rank,
    _symmetric_matrix,
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
