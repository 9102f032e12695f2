"""Batched multi-start: K runs of Riemannian gradient descent on the sphere, advanced together.

The K start points are the columns of X (n × K).  Every iteration evaluates all active columns
with one matrix-matrix product (``objective.prepare_batch(X)``, e.g. A X for the Rayleigh
quotient) instead of K matrix-vector products, and applies the sphere's operations column-wise:

    grad f(x_k) = P_{x_k} ∇f(x_k) = ∇f(x_k) − (x_kᵀ∇f(x_k)) x_k,
    x_k⁺ = R_{x_k}(−η_k grad f(x_k)) = (x_k − η_k grad f(x_k)) / ‖x_k − η_k grad f(x_k)‖,

with one step size η_k per start (fixed for its run, as in ``GradientDescent``: the given
``step_size`` or 1/(2 L̂_k), L̂_k from 20 power iterations on Hess f(x_k⁰), batched too) and one
stopping decision per start: the default rule of ``manifoldscape.core.loop`` (the certificate's
gradient test ‖grad f(x_k)‖ ≤ max(rtol · Ĥ(x_k) · ℓ, ρ_grad(x_k)), Ĥ re-estimated lazily by
Lanczos exactly as ``GradientScale`` does) or an absolute ``gradient_tolerance``, or
``max_iterations``.  A start that stops is frozen: it leaves the active set and its columns are
no longer evaluated.

Each start follows the same arithmetic as ``GradientDescent.run`` from the same point, up to the
round-off of a matrix-matrix product against matrix-vector products (a different summation
order in BLAS), so the final points agree to round-off and the iteration counts agree unless a
gradient norm lands within round-off of its threshold.

Objectives must expose ``prepare_batch``, ``cost_batch``, ``gradient_batch`` and
``hessian_batch`` (duck typing: this module imports no problem); the manifold must be pymanopt's
``Sphere`` of vectors.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from pymanopt.manifolds import Sphere

from manifoldscape.core.hessian import hessian_norm_estimate
from manifoldscape.core.loop import certify_point, require_count, require_number
from manifoldscape.core.problem import Problem
from manifoldscape.core.result import EvaluationCounts, History, Result, StopReason
from manifoldscape.core.tolerance import EPSILON, SAFETY, SUBNORMAL
from manifoldscape.solvers.gradient_descent import _POWER_ITERATIONS, GradientDescent

__all__ = ["BATCH_METHODS", "batched_gradient_descent"]

BATCH_METHODS = ("prepare_batch", "cost_batch", "gradient_batch", "hessian_batch")
_SUPPORTED = "rayleigh"


def _project(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """P_x v column by column on the sphere: v − (xᵀv) x (pymanopt's ``projection``)."""
    return v - np.einsum("ik,ik->k", x, v) * x


def _norms(v: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ik,ik->k", v, v))


def _require_batchable(problem: Any) -> Problem:
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a manifoldscape Problem, got {type(problem).__name__}")
    missing = [m for m in BATCH_METHODS if not hasattr(problem.objective, m)]
    if missing:
        raise TypeError(
            f"problem {problem.name!r} has no batch methods ({', '.join(missing)} missing); "
            f"batched multi-start supports: {_SUPPORTED}"
        )
    m = problem.manifold
    if not isinstance(m, Sphere) or len(m._shape) != 1:
        raise TypeError(f"batched multi-start needs the sphere of vectors, got {m}")
    return problem


def _power_estimates(objective: Any, x: np.ndarray, egrad: np.ndarray, g: np.ndarray) -> np.ndarray:
    """‖Hess f(x_k)‖ by 20 power iterations from grad f(x_k), all columns at once.

    ``estimate_hessian_norm`` of ``solvers.gradient_descent``, vectorised; Hess f(x)[v] on the
    sphere is P_x ∇²f(x)[v] − (xᵀ∇f(x)) v.
    """
    norm = _norms(g)
    v = g / norm
    weingarten = np.einsum("ik,ik->k", x, egrad)
    estimate = np.zeros(x.shape[1])
    alive = np.ones(x.shape[1], dtype=bool)
    for _ in range(_POWER_ITERATIONS):
        w = _project(x, objective.hessian_batch(x, v)) - weingarten * v
        e = _norms(w)
        dead = ~(e > 0)
        estimate = np.where(alive, np.where(dead, 0.0, e), estimate)
        alive &= ~dead
        if not alive.any():
            break
        v = _project(x, w / np.where(dead, 1.0, e))
    return estimate


def batched_gradient_descent(
    problem: Problem,
    starts: Any,
    *,
    step_size: float | None = None,
    max_iterations: int = 5000,
    gradient_tolerance: float | None = None,
    rtol_gradient: float = 1e-8,
    certify: bool = False,
    certify_options: Mapping[str, Any] | None = None,
) -> list[Result]:
    """K gradient-descent runs from the columns of ``starts`` (n × K), advanced as one batch.

    Options as ``GradientDescent`` (``step_size``, ``max_iterations``, ``gradient_tolerance``,
    ``rtol_gradient``).  Returns one ``Result`` per column, as ``ms.solve(problem,
    "gradient-descent", x0=starts[:, k], certify=certify)`` would (``time_s`` is the batch's
    elapsed time when that column stopped; ``counts`` are what that single run would count).
    Refuses a problem without batch methods, naming the problems that have them.
    """
    problem = _require_batchable(problem)
    solver = GradientDescent(
        step_size=step_size,
        max_iterations=max_iterations,
        gradient_tolerance=gradient_tolerance,
        rtol_gradient=rtol_gradient,
    )
    max_iterations = require_count(max_iterations, "max_iterations")  # type: ignore[assignment]
    rtol = float(require_number(rtol_gradient, "rtol_gradient", minimum=0.0))  # type: ignore[arg-type]
    x = np.array(starts, dtype=float, copy=True)
    n = problem.manifold._shape[0]
    if x.ndim != 2 or x.shape[0] != n or x.shape[1] == 0:
        raise ValueError(f"starts must be an array of shape ({n}, K) with K ≥ 1, got {x.shape}")
    x = np.column_stack(
        [problem.check_point(x[:, k], f"starts[:, {k}]") for k in range(x.shape[1])]
    )
    objective = problem.objective
    k_all = x.shape[1]

    start = time.perf_counter()
    data = objective.prepare_batch(x)
    cost = np.asarray(objective.cost_batch(x, data), dtype=float)
    egrad = objective.gradient_batch(x, data)
    grad = _project(x, egrad)
    gnorm = _norms(grad)
    if not (np.all(np.isfinite(cost)) and np.all(np.isfinite(gnorm))):
        bad = int(np.flatnonzero(~(np.isfinite(cost) & np.isfinite(gnorm)))[0])
        raise ValueError(f"the cost or gradient at starts[:, {bad}] is not finite")
    hvps = np.zeros(k_all, dtype=int)
    if step_size is not None:
        eta = np.full(k_all, float(step_size))
    else:
        estimate = _power_estimates(objective, x, egrad, grad)
        eta = np.where(estimate > 0, 1.0 / (2.0 * np.where(estimate > 0, estimate, 1.0)), 1.0)
        hvps[:] = _POWER_ITERATIONS
    # per-start history columns
    costs = [[float(c)] for c in cost]
    gnorms = [[float(g)] for g in gnorm]
    steps = [[0.0] for _ in range(k_all)]
    times = [[time.perf_counter() - start] for _ in range(k_all)]
    hess_norm: list[float | None] = [None] * k_all
    estimated_at: list[np.ndarray | None] = [None] * k_all
    results: list[Result | None] = [None] * k_all
    active = np.arange(k_all)
    iteration = 0
    size = max(n, 1)

    def threshold(j: int, point: np.ndarray, g: float, egrad_norm: float) -> float:
        # GradientScale.threshold (manifoldscape.core.loop), for start j; ℓ = 1 on the sphere
        if gradient_tolerance is not None:
            return float(gradient_tolerance)
        floor = SAFETY * (EPSILON * (egrad_norm + g) + size * SUBNORMAL)
        if g <= floor:
            return floor
        h = hess_norm[j]
        if h is not None and g > 8.0 * rtol * h:
            return max(rtol * h, floor)
        if estimated_at[j] is None or not np.array_equal(estimated_at[j], point):
            hess_norm[j] = hessian_norm_estimate(problem, point)
            estimated_at[j] = point
        return max(rtol * float(hess_norm[j] or 0.0), floor)

    def finish(j: int, point: np.ndarray, reason: StopReason, message: str) -> None:
        its = len(costs[j]) - 1
        results[j] = Result(
            solver=solver.name,
            problem=problem.name,
            point=point,
            cost=costs[j][-1],
            gradient_norm=gnorms[j][-1],
            iterations=its,
            time_s=time.perf_counter() - start,
            stop_reason=reason,
            stop_message=message,
            counts=EvaluationCounts(cost=its + 1, gradient=its + 1, hessian=int(hvps[j])),
            history=History(
                cost=np.asarray(costs[j]),
                gradient_norm=np.asarray(gnorms[j]),
                step_size=np.asarray(steps[j]),
                time_s=np.asarray(times[j]),
            ),
            certificate=certify_point(problem, point, certify, certify_options),
            options=solver.options(),
        )

    while active.size:
        egrad_norms = _norms(egrad)
        keep = np.ones(active.size, dtype=bool)
        for i, j in enumerate(active):
            point = x[:, i].copy()
            tol = threshold(j, point, float(gnorm[i]), float(egrad_norms[i]))
            if gnorm[i] <= tol:
                finish(j, point, StopReason.GRADIENT_TOLERANCE, f"‖grad f‖ ≤ {tol:.3e}")
                keep[i] = False
            elif iteration >= max_iterations:
                finish(j, point, StopReason.MAX_ITERATIONS, f"reached {max_iterations} iterations")
                keep[i] = False
        if not keep.all():  # freeze the stopped starts: they leave the batch
            active, x, grad, gnorm, eta = (
                active[keep],
                x[:, keep],
                grad[:, keep],
                gnorm[keep],
                eta[keep],
            )
        if not active.size:
            break
        y = x - eta * grad
        x_new = y / _norms(y)
        data = objective.prepare_batch(x_new)
        cost_new = np.asarray(objective.cost_batch(x_new, data), dtype=float)
        egrad = objective.gradient_batch(x_new, data)
        grad = _project(x_new, egrad)
        gnorm_new = _norms(grad)
        step = eta * gnorm
        now = time.perf_counter() - start
        bad = ~(np.isfinite(cost_new) & np.isfinite(gnorm_new))
        for i, j in enumerate(active):
            if bad[i]:
                finish(j, x[:, i].copy(), StopReason.NON_FINITE_COST, "non-finite cost or gradient")
                continue
            costs[j].append(float(cost_new[i]))
            gnorms[j].append(float(gnorm_new[i]))
            steps[j].append(float(step[i]))
            times[j].append(now)
        if bad.any():
            good = ~bad
            active, x_new, grad, egrad = active[good], x_new[:, good], grad[:, good], egrad[:, good]
            gnorm_new, eta = gnorm_new[good], eta[good]
        x, gnorm = x_new, gnorm_new
        iteration += 1
    return [r for r in results if r is not None]
