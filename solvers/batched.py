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


def _lanczos_estimates(
    problem: Problem, x: np.ndarray, egrad: np.ndarray, steps: int = 4
) -> np.ndarray:
    """``core.hessian.hessian_norm_estimate`` at every column of x, vectorised over columns.

    The same start vector (the seed-0 Gaussian coordinates in the Householder basis of T_x S,
    as ``geometry.random_tangent_vector`` builds it from LAPACK's reflector) and the same
    ``steps`` Lanczos steps; a column whose recurrence breaks down early, or turns non-finite,
    is redone by ``hessian_norm_estimate`` itself.
    """
    n, k = x.shape
    objective = problem.objective
    c = np.random.default_rng(0).standard_normal(n - 1)
    c = c / np.linalg.norm(c)
    # H = I − τ v vᵀ with v = (1, x[1:]/(x₀ − β)), β = −sign(x₀) ‖x‖, τ = (β − x₀)/β (dlarfg)
    alpha0 = x[0]
    beta0 = -np.copysign(np.hypot(alpha0, _norms(x[1:])), alpha0)
    tau = (beta0 - alpha0) / beta0
    tail = x[1:] / (alpha0 - beta0)
    v = np.zeros((n, k))
    v[1:] = c[:, None] - tau * (tail.T @ c) * tail
    v[0] = -tau * (tail.T @ c)
    v = v / _norms(v)
    weingarten = np.einsum("ik,ik->k", x, egrad)
    previous = np.zeros((n, k))
    beta = np.zeros(k)
    alphas, betas = np.zeros((steps, k)), np.zeros((steps, k))
    redo = np.zeros(k, dtype=bool)
    for step in range(steps):
        w = _project(x, _project(x, objective.hessian_batch(x, v)) - weingarten * v)
        a = np.einsum("ik,ik->k", w, v)
        redo |= ~np.isfinite(a)
        w = w - a * v - beta * previous
        alphas[step] = a
        beta = _norms(w)
        if step == steps - 1:
            break
        redo |= ~(beta > 1e-12 * np.max(np.abs(alphas[: step + 1]), axis=0))
        betas[step] = beta
        previous, v = v, w / np.where(beta > 0, beta, 1.0)
    t = np.zeros((k, steps, steps))
    idx = np.arange(steps)
    t[:, idx, idx] = alphas.T
    t[:, idx[:-1], idx[1:]] = betas[:-1].T
    t[:, idx[1:], idx[:-1]] = betas[:-1].T
    out = np.max(np.abs(np.linalg.eigvalsh(t)), axis=1)
    for j in np.flatnonzero(redo):
        out[j] = hessian_norm_estimate(problem, x[:, j].copy())
    return out


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
    # history buffers: row i is iteration i, column j start j (grown by doubling)
    rows = 64
    hist = {key: np.full((rows, k_all), np.nan) for key in ("cost", "gnorm", "step", "time")}
    hist["cost"][0], hist["gnorm"][0], hist["step"][0] = cost, gnorm, 0.0
    hist["time"][0] = time.perf_counter() - start
    hess_norm = np.full(k_all, np.nan)  # Ĥ per start, NaN until first estimated
    results: list[Result | None] = [None] * k_all
    active = np.arange(k_all)
    iteration = 0
    size = max(n, 1)

    def thresholds(x: np.ndarray, egrad: np.ndarray, g: np.ndarray) -> np.ndarray:
        # GradientScale.threshold (manifoldscape.core.loop), per start; ℓ = 1 on the sphere.
        # Each iterate is a new point, so a needed estimate is always recomputed, as there.
        if gradient_tolerance is not None:
            return np.full(g.shape, float(gradient_tolerance))
        floor = SAFETY * (EPSILON * (_norms(egrad) + g) + size * SUBNORMAL)
        h = hess_norm[active]
        cached = ~np.isnan(h) & (g > 8.0 * rtol * h)
        need = (g > floor) & ~cached
        if need.any():
            h[need] = _lanczos_estimates(problem, x[:, need], egrad[:, need])
            hess_norm[active] = h
        return np.where(g <= floor, floor, np.maximum(rtol * np.nan_to_num(h), floor))

    def finish(j: int, i: int, point: np.ndarray, reason: StopReason, message: str) -> None:
        its = i
        results[j] = Result(
            solver=solver.name,
            problem=problem.name,
            point=point,
            cost=float(hist["cost"][its, j]),
            gradient_norm=float(hist["gnorm"][its, j]),
            iterations=its,
            time_s=time.perf_counter() - start,
            stop_reason=reason,
            stop_message=message,
            counts=EvaluationCounts(cost=its + 1, gradient=its + 1, hessian=int(hvps[j])),
            history=History(
                cost=hist["cost"][: its + 1, j].copy(),
                gradient_norm=hist["gnorm"][: its + 1, j].copy(),
                step_size=hist["step"][: its + 1, j].copy(),
                time_s=hist["time"][: its + 1, j].copy(),
            ),
            certificate=certify_point(problem, point, certify, certify_options),
            options=solver.options(),
        )

    while active.size:
        tol = thresholds(x, egrad, gnorm)
        converged = gnorm <= tol
        stop = converged | (iteration >= max_iterations)
        if stop.any():  # freeze the stopped starts: they leave the batch
            for i in np.flatnonzero(stop):
                if converged[i]:
                    reason, message = StopReason.GRADIENT_TOLERANCE, f"‖grad f‖ ≤ {tol[i]:.3e}"
                else:
                    reason, message = StopReason.MAX_ITERATIONS, f"{max_iterations} iterations"
                finish(int(active[i]), iteration, x[:, i].copy(), reason, message)
            keep = ~stop
            active, x, grad, egrad = active[keep], x[:, keep], grad[:, keep], egrad[:, keep]
            gnorm, eta = gnorm[keep], eta[keep]
        if not active.size:
            break
        y = x - eta * grad
        x_new = y / _norms(y)
        data = objective.prepare_batch(x_new)
        cost_new = np.asarray(objective.cost_batch(x_new, data), dtype=float)
        egrad = objective.gradient_batch(x_new, data)
        grad = _project(x_new, egrad)
        gnorm_new = _norms(grad)
        bad = ~(np.isfinite(cost_new) & np.isfinite(gnorm_new))
        for i in np.flatnonzero(bad):  # the last finite iterate is returned
            finish(int(active[i]), iteration, x[:, i].copy(), StopReason.NON_FINITE_COST, "")
        iteration += 1
        if iteration >= rows:
            for key, buffer in hist.items():
                hist[key] = np.vstack([buffer, np.full_like(buffer, np.nan)])
            rows *= 2
        hist["cost"][iteration, active] = cost_new
        hist["gnorm"][iteration, active] = gnorm_new
        hist["step"][iteration, active] = eta * gnorm
        hist["time"][iteration, active] = time.perf_counter() - start
        if bad.any():
            good = ~bad
            active, x_new, grad, egrad = active[good], x_new[:, good], grad[:, good], egrad[:, good]
            gnorm_new, eta = gnorm_new[good], eta[good]
        x, gnorm = x_new, gnorm_new
    return [r for r in results if r is not None]
