"""Dictionary learning's data and recovery metrics (seed 001; seed 003 §3).

The data side of ``manifoldscape.problems.dictionary_learning``: random incoherent unit-norm
tight frames (seed 001), Bernoulli–Gaussian and one-sparse coefficients, the preconditioning
Y ↦ (Y Yᵀ/(pθ))^{−1/2} Y of Sun, Qu & Wright (2017), the checks of a user's dictionary, and the
recovery metrics: the column correlation max_i |⟨q, w_i⟩|, the matched dictionary error
min_{Γ ∈ SP} ‖Q − W_S Γ‖_F/‖W_S‖_F and the ℓ⁴ gap |1 − ‖A A₀‖₄⁴/n| (Zhai et al., JMLR 2020).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.optimize
from pymanopt.manifolds import Stiefel

from manifoldscape.boundary.arguments import Seed, as_generator, as_real_array
from manifoldscape.core.problem import Problem
from manifoldscape.geometry import random_point


# --------------------------------------------------------------------------- data
def unit_norm_tight_frame(n: int, k: int, seed: Seed = None, iterations: int = 300) -> np.ndarray:
    """A random incoherent n × k unit-norm tight frame: (n/k) AAᵀ = I, ‖a_i‖ = 1 (seed 001).

    Alternating projections (Tropp, Dhillon, Heath & Strohmer, "Designing structured tight frames
    via an alternating projection method", IEEE TIT 51(1), 2005, §V–VI) from Gaussian columns:
    clip the off-diagonal Gram entries to [−τ, τ] with τ = 1.5 × the Welch bound
    √((k − n)/(n(k − 1))), take the nearest rank-n factor, then the nearest tight frame
    √(k/n) polar(A) and unit columns; ``iterations`` rounds, and 50 final rounds of the last two
    projections alone.  The coherence max_{i≠j} |⟨a_i, a_j⟩| ends near τ (about 0.34 for
    n = 10, k = 20; 0.15 for n = 50, k = 100), against about √(4 log k / n) for random columns.
    """
    rng = as_generator(seed)
    tau = 1.5 * np.sqrt((k - n) / (n * (k - 1)))
    a = rng.standard_normal((n, k))
    a /= np.linalg.norm(a, axis=0)

    def tight(m: np.ndarray) -> np.ndarray:
        u, _, vt = np.linalg.svd(m, full_matrices=False)
        m = np.sqrt(k / n) * (u @ vt)
        return m / np.linalg.norm(m, axis=0)

    for _ in range(iterations):
        gram = np.clip(a.T @ a, -tau, tau)
        np.fill_diagonal(gram, 1.0)
        d, v = np.linalg.eigh(gram)
        a = tight((v[:, -n:] * np.sqrt(np.maximum(d[-n:], 0.0))).T)
    for _ in range(50):
        a = tight(a)
    return a


def bernoulli_gaussian(k: int, p: int, theta: float, rng: np.random.Generator) -> np.ndarray:
    """X₀ ∈ R^{k×p} with i.i.d. entries b·g, b ~ Bernoulli(θ), g ~ N(0, 1) (seed 001)."""
    return (rng.random((k, p)) < theta) * rng.standard_normal((k, p))


def one_sparse(k: int, p: int, rng: np.random.Generator) -> np.ndarray:
    """X₀ ∈ R^{k×p} with one N(0, 1) entry per column at a uniform row (seed 003 eq. 3.1)."""
    x = np.zeros((k, p))
    x[rng.integers(k, size=p), np.arange(p)] = rng.standard_normal(p)
    return x


def precondition_data(y: np.ndarray, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """(Ȳ, P) with P = (YYᵀ/(pθ))^{-1/2} by eigendecomposition and Ȳ = P Y (module docstring)."""
    n, p = y.shape
    d, v = np.linalg.eigh((y @ y.T) / (p * theta))
    if not d[0] > 1e-12 * max(d[-1], 1e-300) * n:
        raise ValueError(
            f"Y must have full row rank {n} to be preconditioned (YYᵀ is singular: smallest "
            f"eigenvalue {d[0]:.3g}, largest {d[-1]:.3g}); give more samples p or pass "
            "precondition=False"
        )
    root = (v / np.sqrt(d)) @ v.T
    root = 0.5 * (root + root.T)
    return root @ y, root


def check_theta(theta: Any) -> float:
    """θ as a float in (0, 1] (the Bernoulli–Gaussian sparsity), else TypeError/ValueError."""
    if isinstance(theta, bool) or not isinstance(theta, (int, float, np.integer, np.floating)):
        raise TypeError(f"theta must be a number in (0, 1], got {theta!r}")
    theta = float(theta)
    if not (0.0 < theta <= 1.0):
        raise ValueError(f"theta must be in (0, 1] (the Bernoulli rate of X₀), got {theta}")
    return theta


def check_mu(mu: Any) -> float:
    """μ as a positive float (the smoothing of log-cosh and Huber), else TypeError/ValueError."""
    if isinstance(mu, bool) or not isinstance(mu, (int, float, np.integer, np.floating)):
        raise TypeError(f"mu must be a positive number, got {mu!r}")
    mu = float(mu)
    if not (np.isfinite(mu) and mu > 0):
        raise ValueError(f"mu must be a positive finite number, got {mu}")
    return mu


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else a ValueError naming ``name``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def haar(n: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-random orthogonal n × n matrix."""
    return random_point(Stiefel(n, n), rng)


def orthogonality_error(a: np.ndarray) -> float:
    """The largest entry of |AᵀA − I|: how far the columns of A are from orthonormal."""
    return float(np.max(np.abs(a.T @ a - np.eye(a.shape[1]))))


def check_dictionary(a: Any, n: int | None, dictionary: str | None) -> tuple[np.ndarray, str]:
    """Validate a user dictionary A₀ and infer its kind ('orthogonal', 'invertible', 'over…')."""
    a = as_real_array(a, "A", ndim=2)
    rows, k = a.shape
    if n is not None and rows != n:
        raise ValueError(f"A must have n = {n} rows, got shape {a.shape}")
    if k < rows:
        raise ValueError(
            f"A must have at least as many columns (atoms) as rows, got shape {a.shape}"
        )
    if k == rows:
        s = np.linalg.svd(a, compute_uv=False)
        if not s[-1] > 1e-10 * max(s[0], 1e-300):
            raise ValueError(
                f"A must be invertible (a complete dictionary), but its condition number is "
                f"{s[0] / s[-1] if s[-1] > 0 else np.inf:.3g}"
            )
        kind = "orthogonal" if orthogonality_error(a) <= 1e-8 else "invertible"
        if dictionary == "orthogonal" and kind != "orthogonal":
            raise ValueError(
                f"A must be orthogonal for dictionary='orthogonal', but max |AᵀA − I| = "
                f"{orthogonality_error(a):.3g}; pass dictionary='invertible'"
            )
        if dictionary == "overcomplete":
            raise ValueError(
                f"A must have more columns than rows for dictionary='overcomplete', "
                f"got shape {a.shape}"
            )
        return a, dictionary or kind
    if dictionary in ("orthogonal", "invertible"):
        raise ValueError(
            f"A must be square for dictionary={dictionary!r}, got shape {a.shape}; pass "
            "dictionary='overcomplete'"
        )
    norms = np.linalg.norm(a, axis=0)
    if np.any(norms == 0):
        raise ValueError("A must have non-zero columns (atoms)")
    if np.linalg.matrix_rank(a) < rows:
        raise ValueError(f"A must have full row rank {rows}, got rank {np.linalg.matrix_rank(a)}")
    return a, "overcomplete"


def unit_columns(a: np.ndarray) -> np.ndarray:
    """A with every column scaled to unit norm."""
    return a / np.linalg.norm(a, axis=0)


# --------------------------------------------------------------------------- recovery metrics
def _truth_dictionary(problem: Problem) -> np.ndarray:
    w = getattr(problem.objective, "truth_dictionary", None)
    if w is None:
        raise ValueError(
            f"problem {problem.name!r} has no truth dictionary (built from user data Y without A)"
        )
    return w


def dictionary_column_correlation(problem: Problem, q: Any) -> float:
    """max_i |⟨q/‖q‖, w_i⟩| over the unit columns w_i of the truth dictionary (1 = recovered)."""
    w = _truth_dictionary(problem)
    v = as_real_array(q, "q", ndim=1)
    if v.shape != (w.shape[0],):
        raise ValueError(f"q must have shape ({w.shape[0]},), got {v.shape}")
    norm = float(np.linalg.norm(v))
    if norm == 0:
        raise ValueError("q must be non-zero")
    return float(np.max(np.abs(w.T @ v)) / norm)


def dictionary_error(problem: Problem, Q: Any) -> float:
    """min_{Γ ∈ SP} ‖Q − W_S Γ‖_F / ‖W_S‖_F for recovered unit columns Q (n × r, r ≤ k).

    Each column of Q is matched to a distinct ± column of the truth dictionary W (the optimal
    matching: a linear assignment on the costs ‖q_j‖² + 1 − 2|⟨q_j, w_i⟩|, solved by
    ``scipy.optimize.linear_sum_assignment``), and the error is relative to the matched columns
    W_S (‖W_S‖_F = √r for unit columns).  For a complete dictionary recovered in full (r = n) this
    is dist_{SP(n)}(Q, W)/‖W‖_F.
    """
    w = _truth_dictionary(problem)
    q = as_real_array(Q, "Q")
    if q.ndim == 1:
        q = q[:, None]
    if q.ndim != 2 or q.shape[0] != w.shape[0] or q.shape[1] > w.shape[1]:
        raise ValueError(
            f"Q must be an n × r matrix of recovered columns with n = {w.shape[0]} and "
            f"r ≤ {w.shape[1]}, got shape {q.shape}"
        )
    inner = q.T @ w
    costs = np.sum(q * q, axis=0)[:, None] + 1.0 - 2.0 * np.abs(inner)
    rows, cols = scipy.optimize.linear_sum_assignment(costs)
    signs = np.where(inner[rows, cols] < 0, -1.0, 1.0)
    matched = w[:, cols] * signs
    return float(np.linalg.norm(q[:, rows] - matched) / np.linalg.norm(matched))


def orthogonal_dictionary_gap(problem: Problem, A: Any) -> float:
    """|1 − ‖A A₀‖₄⁴ / n| (Zhai et al. 2020): 0 exactly when A A₀ is a signed permutation."""
    a0 = getattr(problem.objective, "dictionary", None)
    if a0 is None:
        raise ValueError(f"problem {problem.name!r} has no planted dictionary A₀")
    a = as_real_array(A, "A", ndim=2)
    if a.shape != a0.shape:
        raise ValueError(f"A must have shape {a0.shape}, got {a.shape}")
    n = a0.shape[0]
    return float(abs(1.0 - np.sum((a @ a0) ** 4) / n))
