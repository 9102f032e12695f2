"""Batched multi-start: K runs of Riemannian gradient descent, advanced together.

The K start points are the columns of X (n × K).  Every iteration evaluates all active columns
with one matrix-matrix product (``objective.prepare_batch(X)``, e.g. A X for the Rayleigh
quotient, A Z for phase retrieval) instead of K matrix-vector products, and applies the
manifold's operations column-wise (``solvers.batched_common``; the sphere or ℝⁿ of vectors):

    grad f(x_k) = P_{x_k} ∇f(x_k),   x_k⁺ = R_{x_k}(−η_k grad f(x_k))

(on the sphere P_x v = v − (xᵀv) x and R_x(η) = (x + η)/‖x + η‖; on ℝⁿ P = I and R_x(η) = x + η),

with one step size η_k per start (fixed for its run, as in ``GradientDescent``: the given
``step_size`` or 1/(2 L̂_k), L̂_k from 20 power iterations on Hess f(x_k⁰), batched too) and one
stopping decision per start: the default rule of ``manifoldscape.core.loop`` (the certificate's
gradient test ‖grad f(x_k)‖ ≤ max(rtol · Ĥ(x_k) · ℓ_k, ρ_grad(x_k)), Ĥ re-estimated lazily by
Lanczos exactly as ``GradientScale`` does) or an absolute ``gradient_tolerance``, or
``max_iterations``.  The test is decided for windows of 32 iterates at a time
(``solvers.batched_stopping``: the iterates do not depend on it, and the Lanczos estimates it
needs are then batched across iterates); a start that stopped is returned at the iterate where
it stopped and leaves the active set, its columns no longer evaluated.

Each start follows the same arithmetic as ``GradientDescent.run`` from the same point, up to the
round-off of a matrix-matrix product against matrix-vector products (a different summation
order in BLAS), so the final points agree to round-off and the iteration counts agree unless a
gradient norm lands within round-off of its threshold.

Objectives must expose ``prepare_batch``, ``cost_batch``, ``gradient_batch`` and
``hessian_batch`` (duck typing: this module imports no problem); the manifold must be pymanopt's
``Sphere`` or ``Euclidean`` of vectors.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from manifoldscape.core.loop import certify_point, require_count, require_number
from manifoldscape.core.problem import Problem
from manifoldscape.core.result import EvaluationCounts, History, Result, StopReason
from manifoldscape.solvers.batched_common import (
    BATCH_METHODS,
    ColumnGeometry,
    check_starts,
    evaluate_starts,
    norms,
    require_batchable,
    take,
)
from manifoldscape.solvers.batched_stopping import Decision, DeferredGradientTest
from manifoldscape.solvers.gradient_descent import _POWER_ITERATIONS, GradientDescent

__all__ = ["BATCH_METHODS", "batched_gradient_descent"]


def _power_estimates(
    objective: Any,
    geometry: ColumnGeometry,
    x: np.ndarray,
    egrad: np.ndarray,
    g: np.ndarray,
    data: Any,
) -> np.ndarray:
    """‖Hess f(x_k)‖ by 20 power iterations from grad f(x_k), all columns at once.

    ``estimate_hessian_norm`` of ``solvers.gradient_descent``, vectorised.
    """
    norm = norms(g)
    v = g / norm
    weingarten = geometry.weingarten(x, egrad)
    estimate = np.zeros(x.shape[1])
    alive = np.ones(x.shape[1], dtype=bool)
    for _ in range(_POWER_ITERATIONS):
        w = geometry.hessian(objective, x, weingarten, v, data)
        e = norms(w)
        dead = ~(e > 0)
        estimate = np.where(alive, np.where(dead, 0.0, e), estimate)
        alive &= ~dead
        if not alive.any():
            break
        v = geometry.project(x, w / np.where(dead, 1.0, e))
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
    problem, geometry = require_batchable(problem)
    solver = GradientDescent(
        step_size=step_size,
        max_iterations=max_iterations,
        gradient_tolerance=gradient_tolerance,
        rtol_gradient=rtol_gradient,
    )
    max_iterations = require_count(max_iterations, "max_iterations")  # type: ignore[assignment]
    rtol = float(require_number(rtol_gradient, "rtol_gradient", minimum=0.0))  # type: ignore[arg-type]
    x = check_starts(problem, geometry, starts)
    objective = problem.objective
    k_all = x.shape[1]

    start = time.perf_counter()
    data, cost, egrad, grad, gnorm = evaluate_starts(objective, geometry, x)
    hvps = np.zeros(k_all, dtype=int)
    if step_size is not None:
        eta = np.full(k_all, float(step_size))
    else:
        estimate = _power_estimates(objective, geometry, x, egrad, grad, data)
        eta = np.where(estimate > 0, 1.0 / (2.0 * np.where(estimate > 0, estimate, 1.0)), 1.0)
        hvps[:] = _POWER_ITERATIONS
    # history buffers: row i is iteration i, column j start j (grown by doubling)
    rows = 64
    hist = {key: np.full((rows, k_all), np.nan) for key in ("cost", "gnorm", "step", "time")}
    hist["cost"][0], hist["gnorm"][0], hist["step"][0] = cost, gnorm, 0.0
    hist["time"][0] = time.perf_counter() - start
    deferred = DeferredGradientTest(
        problem, geometry, k_all, rtol, gradient_tolerance, max_iterations
    )
    results: list[Result | None] = [None] * k_all
    active = np.arange(k_all)
    iteration = 0
    # history rows not yet written: (iteration, runs, cost, gradient norm, η, previous gradient
    # norm, time), written into ``hist`` by ``flush`` a window at a time (one scatter per key,
    # not one per iterate; the step η ‖grad f‖ of the previous iterate formed there too)
    pending: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]]
    pending = []

    def flush() -> None:
        if not pending:
            return
        sizes = [entry[1].size for entry in pending]
        rows = np.repeat([entry[0] for entry in pending], sizes)
        columns = np.concatenate([entry[1] for entry in pending])
        for index, key in ((2, "cost"), (3, "gnorm")):
            hist[key][rows, columns] = np.concatenate([entry[index] for entry in pending])
        eta_part = np.concatenate([entry[4] for entry in pending])
        hist["step"][rows, columns] = eta_part * np.concatenate([entry[5] for entry in pending])
        hist["time"][rows, columns] = np.repeat([entry[6] for entry in pending], sizes)
        pending.clear()

    def finish(
        j: int, i: int, point: np.ndarray, gradient: np.ndarray, reason: StopReason, message: str
    ) -> None:
        its = i
        results[j] = Result(
            solver=solver.name,
            problem=problem.name,
            point=point,
            cost=float(hist["cost"][its, j]),
            gradient_norm=float(hist["gnorm"][its, j]),
            iterations=its,
            time_s=float(hist["time"][its, j]),
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
            gradient=gradient,
        )

    def decide(decisions: list[Decision]) -> np.ndarray:
        """Finish the runs that stopped; the mask of ``active`` that runs on."""
        flush()
        for d in decisions:
            finish(d.run, d.iteration, d.point, d.gradient, d.reason, d.message)
        return np.array([results[j] is None for j in active], dtype=bool)

    descent = -eta  # −η_k, per start
    while active.size:
        deferred.record(iteration, active, x, egrad, grad, gnorm, data)
        if deferred.due:
            keep = decide(deferred.resolve())
            if not keep.all():  # the stopped runs leave the batch
                active, x, grad, egrad = active[keep], x[:, keep], grad[:, keep], egrad[:, keep]
                gnorm, eta = gnorm[keep], eta[keep]
                descent = -eta
                data = take(data, keep)
        if not active.size:
            break
        x_new = geometry.retract(x, descent * grad)
        data = objective.prepare_batch(x_new)
        cost_new = np.asarray(objective.cost_batch(x_new, data), dtype=float)
        egrad_new = objective.gradient_batch(x_new, data)
        grad_new = geometry.project(x_new, egrad_new)
        gnorm_new = norms(grad_new)
        # Σ f_k ‖grad f_k‖ is finite when all are (else: overflow, or a non-finite entry)
        finite = math.isfinite(float(np.dot(cost_new, gnorm_new)))
        bad = None if finite else ~(np.isfinite(cost_new) & np.isfinite(gnorm_new))
        if bad is not None and bad.any():  # decide the recorded iterates first (a run may have
            # stopped before)
            decide(deferred.resolve())
            for i in np.flatnonzero(bad):  # the last finite iterate is returned
                if results[active[i]] is None:
                    what = "cost" if not np.isfinite(cost_new[i]) else "gradient norm"
                    value = cost_new[i] if what == "cost" else gnorm_new[i]
                    message = (
                        f"the {what} became {value} at iteration {iteration + 1}; returning "
                        f"iterate {iteration}, the last with a finite cost"
                    )
                    point, gradient = x[:, i].copy(), grad[:, i].copy()
                    finish(
                        int(active[i]),
                        iteration,
                        point,
                        gradient,
                        StopReason.NON_FINITE_COST,
                        message,
                    )
        iteration += 1
        if iteration >= rows:
            flush()
            for key, buffer in hist.items():
                hist[key] = np.vstack([buffer, np.full_like(buffer, np.nan)])
            rows *= 2
        pending.append(
            (iteration, active, cost_new, gnorm_new, eta, gnorm, time.perf_counter() - start)
        )
        if bad is not None and bad.any():
            flush()
            good = np.array([results[j] is None for j in active], dtype=bool)
            active, x_new, grad_new, egrad_new = (
                active[good],
                x_new[:, good],
                grad_new[:, good],
                egrad_new[:, good],
            )
            gnorm_new, eta = gnorm_new[good], eta[good]
            descent = -eta
            data = take(data, good)
        x, grad, egrad, gnorm = x_new, grad_new, egrad_new, gnorm_new
    flush()
    return [r for r in results if r is not None]
