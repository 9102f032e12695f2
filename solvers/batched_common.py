"""Column-wise geometry and stopping rule shared by the batched multi-start solvers.

K points are the columns of X (n × K).  Two manifolds of vectors are supported, with pymanopt's
operations applied to every column at once:

* the sphere S^{n−1}: P_x v = v − (xᵀv) x, R_x(η) = (x + η)/‖x + η‖, and the Riemannian Hessian
  Hess f(x)[u] = P_x ∇²f(x)[u] − (xᵀ∇f(x)) u (pymanopt's Weingarten term on the sphere);
* the Euclidean space ℝⁿ: P_x = I, R_x(η) = x + η, Hess f(x)[u] = ∇²f(x)[u].

Objectives must expose ``prepare_batch(X)``, ``cost_batch(X, data)``, ``gradient_batch(X, data)``
and ``hessian_batch(X, U, data)`` (duck typing: this module imports no problem).  ``data`` is
an array whose last axis indexes the columns, or a dict / tuple of such arrays (``take`` keeps a
subset of columns).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pymanopt.manifolds import Euclidean, Sphere

from manifoldscape.core.hessian import hessian_norm_estimate
from manifoldscape.core.problem import Problem
from manifoldscape.core.tolerance import EPSILON, SAFETY, SUBNORMAL
from manifoldscape.geometry.batched import column_dots

__all__ = [
    "BATCH_METHODS",
    "ColumnGeometry",
    "GradientThresholds",
    "check_starts",
    "lanczos_estimates",
    "merge",
    "require_batchable",
    "take",
]

BATCH_METHODS = ("prepare_batch", "cost_batch", "gradient_batch", "hessian_batch")
_SUPPORTED = "rayleigh, phase_retrieval (real Gaussian measurements)"


#: ⟨a_k, b_k⟩ for every column k (real arrays)
dots = column_dots


def norms(v: np.ndarray) -> np.ndarray:
    """‖v_k‖ for every column k."""
    return np.sqrt(dots(v, v))


def take(data: Any, columns: Any) -> Any:
    """The columns ``columns`` of batch data (arrays indexed on their last axis)."""
    if data is None:
        return None
    if isinstance(data, dict):
        return {key: take(value, columns) for key, value in data.items()}
    if isinstance(data, (tuple, list)):
        return type(data)(take(value, columns) for value in data)
    return data[..., columns]


def merge(data: Any, part: Any, columns: np.ndarray) -> Any:
    """``data`` with its columns ``columns`` replaced by those of ``part`` (a new object).

    Entries of a dict present in only one of the two (values cached lazily by an objective)
    are dropped.
    """
    if data is None or part is None:
        return None
    if isinstance(data, dict):
        return {key: merge(data[key], part[key], columns) for key in data.keys() & part.keys()}
    if isinstance(data, (tuple, list)):
        return type(data)(merge(d, p, columns) for d, p in zip(data, part, strict=True))
    out = np.array(data, copy=True)
    out[..., columns] = part
    return out


class ColumnGeometry:
    """The sphere or ℝⁿ of vectors, column by column (module docstring)."""

    def __init__(self, sphere: bool, n: int):
        self.sphere = sphere
        self.n = n
        c = np.random.default_rng(0).standard_normal(n - 1 if sphere else n)
        self._start = c / np.linalg.norm(c)  # the seed-0 Gaussian coordinates, normalised

    def project(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """P_x v for every column (pymanopt's ``projection``)."""
        return v - dots(x, v) * x if self.sphere else v

    def retract(self, x: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """R_x(η) for every column (pymanopt's ``retraction``)."""
        y = x + eta
        return y / norms(y) if self.sphere else y

    def length(self, x: np.ndarray) -> np.ndarray:
        """ℓ = max(‖x_k‖, 1) for every column (``core.tolerance.length_scale``)."""
        return np.maximum(norms(x), 1.0)

    def weingarten(self, x: np.ndarray, egrad: np.ndarray) -> np.ndarray | None:
        """xᵀ∇f(x) per column on the sphere (Hess = P ∇²f − (xᵀ∇f) u), None on ℝⁿ."""
        return dots(x, egrad) if self.sphere else None

    def hessian(
        self,
        objective: Any,
        x: np.ndarray,
        weingarten: np.ndarray | None,
        u: np.ndarray,
        data: Any,
    ) -> np.ndarray:
        """Hess f(x_k)[u_k] for every column: one batched Euclidean Hessian product."""
        ehess = objective.hessian_batch(x, u, data)
        if not self.sphere:
            return ehess
        return self.project(x, ehess) - weingarten * u

    def tangent_start(self, x: np.ndarray) -> np.ndarray:
        """``geometry.random_tangent_vector(manifold, x_k, default_rng(0))`` for every column.

        On the sphere: the seed-0 Gaussian coordinates in the Householder basis of T_x S built
        from LAPACK's reflector (H = I − τ v vᵀ, v = (1, x[1:]/(x₀ − β)), β = −sign(x₀)‖x‖,
        τ = (β − x₀)/β, dlarfg); on ℝⁿ the seed-0 Gaussian vector itself, normalised.
        """
        n, k = x.shape
        c = self._start
        if not self.sphere:
            return np.repeat(c[:, None], k, axis=1)
        alpha0 = x[0]
        beta0 = -np.copysign(np.hypot(alpha0, norms(x[1:])), alpha0)
        tau = (beta0 - alpha0) / beta0
        tail = x[1:] / (alpha0 - beta0)
        v = np.zeros((n, k))
        v[1:] = c[:, None] - tau * (tail.T @ c) * tail
        v[0] = -tau * (tail.T @ c)
        return v / norms(v)


def require_batchable(problem: Any) -> tuple[Problem, ColumnGeometry]:
    """The problem and its column geometry, or ``TypeError`` naming what is missing."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a manifoldscape Problem, got {type(problem).__name__}")
    missing = [m for m in BATCH_METHODS if not hasattr(problem.objective, m)]
    if missing:
        raise TypeError(
            f"problem {problem.name!r} has no batch methods ({', '.join(missing)} missing); "
            f"batched multi-start supports: {_SUPPORTED}"
        )
    m = problem.manifold
    if type(m) not in (Sphere, Euclidean) or len(m._shape) != 1:
        raise TypeError(f"batched multi-start needs the sphere or ℝⁿ of vectors, got {m}")
    return problem, ColumnGeometry(type(m) is Sphere, m._shape[0])


def check_starts(problem: Problem, geometry: ColumnGeometry, starts: Any) -> np.ndarray:
    """The start points as a float array n × K, every column checked by ``problem.check_point``."""
    x = np.array(starts, dtype=float, copy=True)
    n = geometry.n
    if x.ndim != 2 or x.shape[0] != n or x.shape[1] == 0:
        raise ValueError(f"starts must be an array of shape ({n}, K) with K ≥ 1, got {x.shape}")
    # every column finite and on the manifold by a wide margin (sphere: |‖x_k‖ − 1| ≤ 1e-10,
    # against ``check_point``'s 1e-8 · max(1, √n)): what ``check_point`` would return, x itself
    if np.isfinite(x).all() and (
        not geometry.sphere or float(np.max(np.abs(norms(x) - 1.0))) <= 1e-10
    ):
        return x
    return np.column_stack(
        [problem.check_point(x[:, k], f"starts[:, {k}]") for k in range(x.shape[1])]
    )


def evaluate_starts(
    objective: Any, geometry: ColumnGeometry, x: np.ndarray
) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``prepare_batch``, f, ∇f, grad f and ‖grad f‖ at the start columns x (one product).

    Raises ``ValueError`` naming the first start whose cost or gradient is not finite.
    """
    data = objective.prepare_batch(x)
    cost = np.asarray(objective.cost_batch(x, data), dtype=float)
    egrad = objective.gradient_batch(x, data)
    grad = geometry.project(x, egrad)
    gnorm = norms(grad)
    finite = np.isfinite(cost) & np.isfinite(gnorm)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"the cost or gradient at starts[:, {bad}] is not finite")
    return data, cost, egrad, grad, gnorm


def lanczos_estimates(
    problem: Problem,
    geometry: ColumnGeometry,
    x: np.ndarray,
    egrad: np.ndarray,
    data: Any = None,
    steps: int = 4,
) -> np.ndarray:
    """``core.hessian.hessian_norm_estimate`` at every column of x, vectorised over columns.

    The same start vector (``ColumnGeometry.tangent_start``) and the same ``steps`` Lanczos
    steps; a column whose recurrence breaks down early, or turns non-finite, is redone by
    ``hessian_norm_estimate`` itself.  ``data`` is ``prepare_batch(x)`` (or None).

    On ℝⁿ, where the start vector u is the same at every point, an objective may offer
    ``hessian_batch_common(X, u, data)`` (∇²f(x_k)[u] for one u: one product A u instead of
    A U for phase retrieval) and ``hessian_quadratic_batch(X, V, data)`` (⟨v_k, ∇²f(x_k)[v_k]⟩,
    all the last step needs); the recurrence is the same, up to round-off.
    """
    k = x.shape[1]
    objective = problem.objective
    v = geometry.tangent_start(x)
    weingarten = geometry.weingarten(x, egrad)
    common = quadratic = None
    if not geometry.sphere and data is not None:
        common = getattr(objective, "hessian_batch_common", None)
        quadratic = getattr(objective, "hessian_quadratic_batch", None)
    previous = None
    beta = None
    # rows 0..steps−1 of t: α_j; rows steps..2 steps−2: β_j (column per start)
    coefficients = np.empty((2 * steps - 1, k))
    for step in range(steps):
        if step == steps - 1 and quadratic is not None:
            coefficients[step] = quadratic(x, v, data)
            break
        if step == 0 and common is not None:
            w = common(x, v[:, 0], data)
        else:
            w = geometry.hessian(objective, x, weingarten, v, data)
        if geometry.sphere:
            w = geometry.project(x, w)
        a = np.einsum("ik,ik->k", w, v)
        coefficients[step] = a
        if step == steps - 1:
            break
        w -= a * v
        if previous is not None:
            w -= beta * previous
        beta = np.sqrt(np.einsum("ik,ik->k", w, w))
        coefficients[steps + step] = beta
        previous, v = v, w / np.where(beta > 0, beta, 1.0)
    alphas, betas = coefficients[:steps], coefficients[steps:]
    # hessian_norm_estimate stops early (and we redo the column) when β_j ≤ 1e-12 max |α_0..j|
    # or when α_j is not finite
    largest = np.maximum.accumulate(np.abs(alphas[:-1]), axis=0)
    redo = ~np.all(np.isfinite(alphas), axis=0) | ~np.all(betas > 1e-12 * largest, axis=0)
    t = np.zeros((k, steps * steps))
    t[:, :: steps + 1] = alphas.T
    t[:, 1 :: steps + 1] = betas.T
    t[:, steps :: steps + 1] = betas.T
    safe = np.where(redo, 0.0, 1.0)  # keep NaN out of the eigensolver
    ritz = np.linalg.eigvalsh(np.nan_to_num(t * safe[:, None]).reshape(k, steps, steps))
    out = np.max(np.abs(ritz), axis=1)
    for j in np.flatnonzero(redo):
        out[j] = hessian_norm_estimate(problem, x[:, j].copy())
    return out


class GradientThresholds:
    """``core.loop.GradientScale.threshold`` for K runs: the default gradient test per start.

    max(rtol · Ĥ(x_k) · ℓ_k, ρ_grad(x_k)), Ĥ re-estimated lazily as there: when none is known,
    or when the gradient norm comes within 8× of the threshold of the last estimate and the
    estimate was made at another point.  An absolute ``tolerance`` replaces the rule.
    """

    def __init__(
        self,
        problem: Problem,
        geometry: ColumnGeometry,
        count: int,
        rtol: float,
        tolerance: float | None,
    ):
        self.problem, self.geometry = problem, geometry
        self.rtol, self.tolerance = rtol, tolerance
        self.hessian_norm = np.full(count, np.nan)  # Ĥ per start, NaN until first estimated
        self.current = np.zeros(count, dtype=bool)  # Ĥ was estimated at the current iterate

    def moved(self, starts: np.ndarray) -> None:
        """The runs ``starts`` (global indices) have a new iterate."""
        self.current[starts] = False

    def __call__(
        self,
        active: np.ndarray,
        x: np.ndarray,
        egrad: np.ndarray,
        g: np.ndarray,
        data: Any = None,
    ) -> np.ndarray:
        """The thresholds of the runs ``active`` at their iterates (columns of x)."""
        if self.tolerance is not None:
            return np.full(g.shape, float(self.tolerance))
        egrad_norm = norms(egrad) if self.geometry.sphere else g  # ∇f = grad f on ℝⁿ
        floor = SAFETY * (EPSILON * (egrad_norm + g) + self.geometry.n * SUBNORMAL)
        length = self.geometry.length(x)
        h = self.hessian_norm[active]
        with np.errstate(invalid="ignore"):
            cached = (g > 8.0 * self.rtol * h * length) | self.current[active]
        need = (g > floor) & ~(cached & ~np.isnan(h))
        if need.any():
            part = None if data is None else take(data, need)
            h[need] = lanczos_estimates(
                self.problem, self.geometry, x[:, need], egrad[:, need], part
            )
            self.hessian_norm[active] = h
            self.current[active[need]] = True
        relative = self.rtol * np.where(np.isnan(h), 0.0, h) * length
        return np.where(g <= floor, floor, np.maximum(relative, floor))
