"""Validation and helpers shared by the low-rank problems of ``manifoldscape.problems.low_rank``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from manifoldscape.boundary.arguments import (
    as_real_array,
    require_nonempty,
    require_positive_int,
)
from manifoldscape.core.problem import Problem
from manifoldscape.geometry.fixed_rank import (
    FixedRankPoint,
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
