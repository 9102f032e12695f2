"""Batched multi-start: K runs of Riemannian trust regions with truncated CG, advanced together.

The K start points are the columns of X (n × K) on the sphere or ℝⁿ of vectors
(``solvers.batched_common``).  Every run follows ``TrustRegions`` (``solvers.trust_regions``:
Absil, Baker & Gallivan, Found. Comput. Math. 7 (2007), Alg. 10 and 11, in the form of Manopt's
``trustregions``) with its own trust radius Δ_k, acceptance ratio ρ_k and stopping decision:

* truncated CG (Steihaug–Toint) on m_k(η) = f(x_k) + ⟨grad f(x_k), η⟩ + ½⟨Hess f(x_k)[η], η⟩,
  ‖η‖ ≤ Δ_k, for all runs at once: each inner iteration does *one* batched Hessian-vector
  product for the columns whose tCG is still running; a column leaves at negative curvature or
  on the boundary (moved to ‖η‖ = Δ_k along the current direction), when the model would
  increase (round-off), at the residual target ‖r_j‖ ≤ max(‖r_0‖ min(‖r_0‖^θ, κ), τ/2) (τ an
  absolute ``gradient_tolerance``, 0 without one, as in ``TrustRegions``), or after
  ``max_inner_iterations``; once at most two columns are still running, each finishes its tCG
  alone (``_tcg_tail``: the same steps with Python-float bookkeeping, which costs less than a
  batched step's fixed cost);
* the proposals R_{x_k}(η_k) of all runs are evaluated with one ``prepare_batch`` (one A X);
  ρ_k = (f(x_k) − f(x_k⁺) + s_k)/(−⟨grad, η⟩ − ½⟨η, Hη⟩ + s_k), s_k = max(1, |f(x_k)|) ε ·
  ``rho_regularization``; Δ_k ÷ 4 when ρ_k < ¼ (or the model did not decrease), Δ_k × 2 (up to
  Δ̄) when ρ_k > ¾ and tCG stopped on the boundary; accepted when ρ_k > ρ′, and then the
  gradients of the accepted runs are computed together;
* the stopping rule of ``core.loop`` per run (``batched_common.GradientThresholds``), or
  ``max_iterations``; a run that stops leaves the batch.

Each run does the same arithmetic as ``ms.solve(problem, "trust-regions", x0=x_k)`` (no
preconditioner), up to the round-off of matrix-matrix against matrix-vector products, so the
points agree to round-off and the iteration counts, inner iteration counts and counts of
evaluations agree unless a decision lands within round-off of its threshold.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from manifoldscape.core.loop import certify_point
from manifoldscape.core.problem import Problem
from manifoldscape.core.result import EvaluationCounts, History, Result, StopReason
from manifoldscape.solvers.batched_common import (
    ColumnGeometry,
    GradientThresholds,
    check_starts,
    dots,
    evaluate_starts,
    merge,
    norms,
    require_batchable,
    take,
)
from manifoldscape.solvers.trust_regions import InnerStop, TrustRegions, _typical_distance

__all__ = ["batched_trust_regions"]

# inner stopping reasons as small integers (index into _STOPS)
_STOPS = (
    InnerStop.ZERO_GRADIENT,
    InnerStop.NEGATIVE_CURVATURE,
    InnerStop.EXCEEDED_RADIUS,
    InnerStop.MODEL_INCREASED,
    InnerStop.REACHED_TARGET_LINEAR,
    InnerStop.REACHED_TARGET_SUPERLINEAR,
    InnerStop.MAX_INNER_ITERATIONS,
)
_ZERO, _NEGATIVE, _EXCEEDED, _INCREASED, _LINEAR, _SUPERLINEAR, _MAX_INNER = range(7)


_TAIL = 2  # at most this many running columns: each finishes its tCG alone (_tcg_tail)


def _tcg_tail(
    hessian: Any,
    project: Any,
    x: np.ndarray,
    data: Any,
    state: tuple[np.ndarray, ...],
    scalars: tuple[float, ...],
    linear: bool,
    j0: int,
    max_inner: int,
    min_inner: int,
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The loop of ``_truncated_cg`` for one column (x: n × 1) from inner iteration ``j0``.

    ``hessian(x, v, data)`` is the Riemannian Hessian product on n × 1 columns, ``project`` the
    projection to the tangent space (None on ℝⁿ); ``state`` holds
    η, Hη, g, r, δ (n × 1) and ``scalars`` ⟨η,η⟩, ⟨η,δ⟩, ⟨δ,δ⟩, ⟨r,r⟩, m(η) − f(x), Δ², target.
    The scalars are Python floats and the inner products BLAS dot products, so a step costs
    about as much as a step of ``TrustRegions`` (the batched step's fixed cost is what a nearly
    empty batch would pay).  Returns η, Hη, the inner iteration count and the stop code.
    """
    eta, h_eta, g, r, delta = state
    e_pe, e_pd, d_pd, z_r, model, radius_sq, target = scalars
    vdot = np.vdot
    for j in range(j0, max_inner):
        h_delta = hessian(x, delta, data)
        d_hd = float(vdot(delta, h_delta))
        if d_hd <= 0:
            e_pe_new = e_pe
        else:
            alpha = z_r / d_hd
            e_pe_new = e_pe + 2.0 * alpha * e_pd + alpha * alpha * d_pd
        if d_hd <= 0 or e_pe_new >= radius_sq:
            tau = (-e_pd + math.sqrt(e_pd * e_pd + d_pd * (radius_sq - e_pe))) / d_pd
            code = _NEGATIVE if d_hd <= 0 else _EXCEEDED
            return eta + tau * delta, h_eta + tau * h_delta, j + 1, code
        e_pe = e_pe_new
        new_eta = alpha * delta
        new_eta += eta
        step = alpha * h_delta
        new_h_eta = h_eta + step
        half = 0.5 * new_h_eta
        half += g
        new_model = float(vdot(new_eta, half))
        if new_model >= model:  # only through round-off: the previous η is kept
            return eta, h_eta, j + 1, _INCREASED
        eta, h_eta, model = new_eta, new_h_eta, new_model
        r += step
        r_r = float(vdot(r, r))
        if j + 1 >= min_inner and math.sqrt(max(r_r, 0.0)) <= target:
            return eta, h_eta, j + 1, _LINEAR if linear else _SUPERLINEAR
        beta = r_r / z_r
        z_r = r_r
        delta = beta * delta
        delta -= r
        if project is not None:
            delta = project(x, delta)
        e_pd = beta * (e_pd + alpha * d_pd)
        d_pd = z_r + beta * beta * d_pd
    return eta, h_eta, max_inner, _MAX_INNER


def _truncated_cg(
    geometry: ColumnGeometry,
    objective: Any,
    x: np.ndarray,
    data: Any,
    weingarten: np.ndarray | None,
    grad: np.ndarray,
    radius: np.ndarray,
    max_inner: int,
    kappa: float,
    theta: float,
    min_inner: int,
    target_floor: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``TruncatedConjugateGradient.solve`` (no preconditioner) for every column at once.

    Returns η, Hess f(x)[η], the inner iteration counts and the stop codes (``_STOPS``).  The
    state of the running columns is kept compacted; a finished column stays in the arrays (its
    entries no longer read) until a quarter of them have finished, then they are dropped.
    """
    n, a = grad.shape
    eta_out, h_out = np.zeros((n, a)), np.zeros((n, a))
    iterations = np.full(a, max_inner)
    stops = np.full(a, _MAX_INNER)
    r_r = dots(grad, grad)
    norm_r0 = np.sqrt(np.maximum(r_r, 0.0))
    zero = norm_r0 == 0.0
    stops[zero], iterations[zero] = _ZERO, 0
    cols = np.flatnonzero(~zero)  # outer column of each compacted column
    alive = np.ones(cols.size, dtype=bool)
    if hasattr(objective, "hessian_data_batch"):  # carry only what the Hessian reads
        data = objective.hessian_data_batch(x, data)
    xs, ds = x[:, cols], take(data, cols)
    ws = None if weingarten is None else weingarten[cols]
    g, rr = grad[:, cols], r_r[cols]
    r = g.copy()
    n0 = norm_r0[cols]
    target = np.maximum(n0 * np.minimum(n0**theta, kappa), target_floor)
    linear = kappa < n0**theta
    radius_sq = radius[cols] * radius[cols]
    eta, h_eta = np.zeros((n, cols.size)), np.zeros((n, cols.size))
    z_r = rr
    delta = -r
    e_pe, e_pd, d_pd = np.zeros(cols.size), np.zeros(cols.size), z_r
    model = np.zeros(cols.size)
    hessian_batch, project, sphere = objective.hessian_batch, geometry.project, geometry.sphere
    live = cols.size

    def column_hessian(xc: np.ndarray, v: np.ndarray, dc: Any, wc: Any) -> np.ndarray:
        h = hessian_batch(xc, v, dc)
        return project(xc, project(xc, h) - wc * v) if sphere else h

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for j in range(max_inner):
            if not cols.size:
                break
            if live <= _TAIL:  # a nearly empty batch: each column finishes alone
                for i in np.flatnonzero(alive):
                    wc = None if ws is None else ws[i]
                    eta_i, h_i, its, code = _tcg_tail(
                        lambda xc, v, dc, wc=wc: column_hessian(xc, v, dc, wc),
                        project if sphere else None,
                        xs[:, [i]],
                        take(ds, [i]),
                        (eta[:, [i]], h_eta[:, [i]], g[:, [i]], r[:, [i]], delta[:, [i]]),
                        tuple(
                            float(v[i]) for v in (e_pe, e_pd, d_pd, z_r, model, radius_sq, target)
                        ),
                        bool(linear[i]),
                        j,
                        max_inner,
                        min_inner,
                    )
                    c = cols[i]
                    eta_out[:, c], h_out[:, c], iterations[c], stops[c] = (
                        eta_i[:, 0],
                        h_i[:, 0],
                        its,
                        code,
                    )
                cols = cols[:0]
                break
            h_delta = hessian_batch(xs, delta, ds)  # ∇²f(x)[δ]; on the sphere P(·) − (xᵀ∇f) δ
            if sphere:  # and tCG's to_tangent_space after the projection inside Hess
                h_delta = project(xs, project(xs, h_delta) - ws * delta)
            d_hd = dots(delta, h_delta)
            alpha = z_r / d_hd  # d_hd = 0 goes to the boundary below, alpha unused
            e_pe_new = e_pe + 2.0 * alpha * e_pd + alpha * alpha * d_pd
            new_eta = alpha * delta
            new_eta += eta
            step = alpha * h_delta
            new_h_eta = h_eta + step
            half = 0.5 * new_h_eta
            half += g
            new_model = dots(new_eta, half)
            r += step
            rr = dots(r, r)
            # one test for the three exits; sorted out (boundary first) only when one fires
            negative = d_hd <= 0
            boundary = negative | (e_pe_new >= radius_sq)
            increased = new_model >= model
            stopping = boundary | increased
            if j + 1 >= min_inner:
                reached = np.sqrt(rr) <= target  # rr is a sum of squares
                stopping |= reached
            stopping &= alive
            if stopping.any():
                which = np.flatnonzero(stopping)
                if which.size <= 2:  # one or two columns: scalar bookkeeping is cheaper
                    for i in which.tolist():
                        c = cols[i]
                        if boundary[i]:
                            eb, db = e_pd[i], d_pd[i]
                            tau = (-eb + np.sqrt(eb * eb + db * (radius_sq[i] - e_pe[i]))) / db
                            eta_out[:, c] = eta[:, i] + tau * delta[:, i]
                            h_out[:, c] = h_eta[:, i] + tau * h_delta[:, i]
                            stops[c] = _NEGATIVE if negative[i] else _EXCEEDED
                        elif increased[i]:
                            eta_out[:, c], h_out[:, c], stops[c] = (
                                eta[:, i],
                                h_eta[:, i],
                                _INCREASED,
                            )
                        else:
                            eta_out[:, c], h_out[:, c] = new_eta[:, i], new_h_eta[:, i]
                            stops[c] = _LINEAR if linear[i] else _SUPERLINEAR
                        iterations[c] = j + 1
                        alive[i] = False
                    live -= which.size
                else:
                    boundary &= alive
                    if boundary.any():
                        b = np.flatnonzero(boundary)
                        eb, db = e_pd[b], d_pd[b]
                        tau = (-eb + np.sqrt(eb * eb + db * (radius_sq[b] - e_pe[b]))) / db
                        eta_out[:, cols[b]] = eta[:, b] + tau * delta[:, b]
                        h_out[:, cols[b]] = h_eta[:, b] + tau * h_delta[:, b]
                        stops[cols[b]] = np.where(negative[b], _NEGATIVE, _EXCEEDED)
                        iterations[cols[b]] = j + 1
                        alive &= ~boundary
                    increased &= alive
                    if increased.any():  # only through round-off: the previous η is kept
                        c = np.flatnonzero(increased)
                        eta_out[:, cols[c]] = eta[:, c]
                        h_out[:, cols[c]] = h_eta[:, c]
                        stops[cols[c]] = _INCREASED
                        iterations[cols[c]] = j + 1
                        alive &= ~increased
                    if j + 1 >= min_inner:
                        reached &= alive
                        if reached.any():
                            c = np.flatnonzero(reached)
                            eta_out[:, cols[c]] = new_eta[:, c]
                            h_out[:, cols[c]] = new_h_eta[:, c]
                            stops[cols[c]] = np.where(linear[c], _LINEAR, _SUPERLINEAR)
                            iterations[cols[c]] = j + 1
                            alive &= ~reached
                    live = int(np.count_nonzero(alive))
                if live == 0:
                    cols = cols[:0]
                    break
                if live <= 0.75 * cols.size:  # drop the finished columns
                    xs, ds = xs[:, alive], take(ds, alive)
                    ws = None if ws is None else ws[alive]
                    g, r, rr, target, linear = (
                        g[:, alive],
                        r[:, alive],
                        rr[alive],
                        target[alive],
                        linear[alive],
                    )
                    radius_sq, new_eta, new_h_eta = (
                        radius_sq[alive],
                        new_eta[:, alive],
                        new_h_eta[:, alive],
                    )
                    new_model, z_r, delta = new_model[alive], z_r[alive], delta[:, alive]
                    e_pe_new, e_pd, d_pd = e_pe_new[alive], e_pd[alive], d_pd[alive]
                    alpha = alpha[alive]
                    cols = cols[alive]
                    alive = np.ones(cols.size, dtype=bool)
            e_pe, eta, h_eta, model = e_pe_new, new_eta, new_h_eta, new_model
            beta = rr / z_r
            z_r = rr
            delta *= beta
            delta -= r  # −r + β δ
            if sphere:
                delta = project(xs, delta)
            e_pd = beta * (e_pd + alpha * d_pd)
            d_pd = z_r + beta * beta * d_pd
    keep = cols[alive] if cols.size else cols
    eta_out[:, keep] = eta[:, alive] if cols.size else eta_out[:, keep]
    h_out[:, keep] = h_eta[:, alive] if cols.size else h_out[:, keep]
    return eta_out, h_out, iterations, stops


def batched_trust_regions(
    problem: Problem,
    starts: Any,
    *,
    max_iterations: int = 1000,
    gradient_tolerance: float | None = None,
    rtol_gradient: float = 1e-8,
    max_radius: float | None = None,
    initial_radius: float | None = None,
    rho_prime: float = 0.1,
    kappa: float = 0.1,
    theta: float = 1.0,
    min_inner_iterations: int = 1,
    max_inner_iterations: int | None = None,
    rho_regularization: float = 1e3,
    certify: bool = False,
    certify_options: Mapping[str, Any] | None = None,
) -> list[Result]:
    """K trust-region runs from the columns of ``starts`` (n × K), advanced as one batch.

    Options as ``TrustRegions`` (validated by it; no preconditioner).  Returns one ``Result``
    per column, as ``ms.solve(problem, "trust-regions", x0=starts[:, k], certify=certify)``
    would, with the same ``History.extra`` columns (radius, rho, inner_iterations, inner_stop,
    accepted); ``time_s`` is the batch's elapsed time when that run stopped, ``counts`` what
    that single run would count.  Refuses a problem without batch methods, naming those that
    have them.
    """
    problem, geometry = require_batchable(problem)
    solver = TrustRegions(
        max_iterations=max_iterations,
        gradient_tolerance=gradient_tolerance,
        rtol_gradient=rtol_gradient,
        max_radius=max_radius,
        initial_radius=initial_radius,
        rho_prime=rho_prime,
        kappa=kappa,
        theta=theta,
        min_inner_iterations=min_inner_iterations,
        max_inner_iterations=max_inner_iterations,
        rho_regularization=rho_regularization,
    )
    options = solver.options()
    manifold = problem.manifold
    big_radius = float(max_radius if max_radius is not None else _typical_distance(manifold))
    radius0 = float(initial_radius if initial_radius is not None else big_radius / 8)
    max_inner = int(max_inner_iterations or int(manifold.dim))
    x = check_starts(problem, geometry, starts)
    objective = problem.objective
    k_all = x.shape[1]

    start = time.perf_counter()
    data, cost, egrad, grad, gnorm = evaluate_starts(objective, geometry, x)
    radius = np.full(k_all, radius0)
    elapsed = time.perf_counter() - start
    # history: row i is iteration i, column j run j (grown by doubling)
    size = 32
    hist: dict[str, np.ndarray] = {
        key: np.full((size, k_all), np.nan)
        for key in ("cost", "gnorm", "step", "time", "radius", "rho")
    }
    hist["inner"] = np.zeros((size, k_all), dtype=int)
    hist["stop"] = np.zeros((size, k_all), dtype=int)
    hist["accepted"] = np.ones((size, k_all), dtype=bool)
    hist["cost"][0], hist["gnorm"][0], hist["step"][0] = cost, gnorm, 0.0
    hist["time"][0], hist["radius"][0] = elapsed, radius0
    stop_names = np.array([""] + [s.value for s in _STOPS])  # code + 1; "" at the start
    hist["stop"][0] = -1
    gradients = np.ones(k_all, dtype=int)
    hvps = np.zeros(k_all, dtype=int)
    thresholds = GradientThresholds(problem, geometry, k_all, rtol_gradient, gradient_tolerance)
    results: list[Result | None] = [None] * k_all
    active = np.arange(k_all)
    iteration = 0

    def finish(
        j: int,
        point: np.ndarray,
        gradient: np.ndarray,
        reason: StopReason,
        msg: str,
        proposals: int = 0,
    ) -> None:
        its = iteration + 1
        extra = {
            "radius": hist["radius"][:its, j].copy(),
            "rho": hist["rho"][:its, j].copy(),
            "inner_iterations": hist["inner"][:its, j].copy(),
            "inner_stop": stop_names[hist["stop"][:its, j] + 1],
            "accepted": hist["accepted"][:its, j].copy(),
        }
        results[j] = Result(
            solver=solver.name,
            problem=problem.name,
            point=point,
            cost=float(hist["cost"][iteration, j]),
            gradient_norm=float(hist["gnorm"][iteration, j]),
            iterations=iteration,
            time_s=time.perf_counter() - start,
            stop_reason=reason,
            stop_message=msg,
            counts=EvaluationCounts(
                cost=iteration + 1 + proposals, gradient=int(gradients[j]), hessian=int(hvps[j])
            ),
            history=History(
                cost=hist["cost"][:its, j].copy(),
                gradient_norm=hist["gnorm"][:its, j].copy(),
                step_size=hist["step"][:its, j].copy(),
                time_s=hist["time"][:its, j].copy(),
                extra=extra,
            ),
            certificate=certify_point(problem, point, certify, certify_options),
            options=dict(options),
            gradient=gradient,
        )

    while active.size:
        tol = thresholds(active, x, egrad, gnorm, data)
        converged = gnorm <= tol
        stop = converged | (iteration >= max_iterations)
        if stop.any():  # freeze the stopped runs: they leave the batch
            for i in np.flatnonzero(stop):
                if converged[i]:
                    reason = StopReason.GRADIENT_TOLERANCE
                    msg = (
                        f"gradient norm {gnorm[i]:.3e} ≤ {tol[i]:.3e} after {iteration} iterations"
                    )
                else:
                    reason = StopReason.MAX_ITERATIONS
                    msg = f"reached {max_iterations} iterations (gradient norm {gnorm[i]:.3e})"
                finish(int(active[i]), x[:, i].copy(), grad[:, i].copy(), reason, msg)
            keep = ~stop
            active, x, grad, egrad = active[keep], x[:, keep], grad[:, keep], egrad[:, keep]
            gnorm, cost, radius = gnorm[keep], cost[keep], radius[keep]
            data = take(data, keep)
        if not active.size:
            break
        weingarten = geometry.weingarten(x, egrad)
        eta, h_eta, inner_its, inner_stops = _truncated_cg(
            geometry,
            objective,
            x,
            data,
            weingarten,
            grad,
            radius,
            max_inner,
            kappa,
            theta,
            min_inner_iterations,
            0.0 if gradient_tolerance is None else 0.5 * gradient_tolerance,
        )
        hvps[active] += inner_its
        x_new = geometry.retract(x, eta)
        data_new = objective.prepare_batch(x_new)
        cost_new = np.asarray(objective.cost_batch(x_new, data_new), dtype=float)
        g_eta, eta_h_eta = dots(grad, eta), dots(eta, h_eta)
        shift = np.maximum(1.0, np.abs(cost)) * np.spacing(1.0) * rho_regularization
        numerator = cost - cost_new + shift
        denominator = -g_eta - 0.5 * eta_h_eta + shift
        decreased = denominator >= 0
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.where(denominator != 0, numerator / denominator, np.nan)
            shrink = ~decreased | ~(rho >= 0.25)
            boundary = (inner_stops == _NEGATIVE) | (inner_stops == _EXCEEDED)
            grow = ~shrink & (rho > 0.75) & boundary
            accepted = decreased & (rho > rho_prime)
        radius = np.where(
            shrink, radius / 4, np.where(grow, np.minimum(2 * radius, big_radius), radius)
        )
        finite = np.isfinite(cost_new)
        accepted &= finite
        acc = np.flatnonzero(accepted)
        gnorm_new = gnorm.copy()
        if acc.size:
            data_acc = take(data_new, acc)
            egrad_acc = objective.gradient_batch(x_new[:, acc], data_acc)
            grad_acc = geometry.project(x_new[:, acc], egrad_acc)
            gnorm_new[acc] = norms(grad_acc)
        bad = ~finite | ~np.isfinite(gnorm_new)
        for i in np.flatnonzero(bad):  # the last finite iterate is returned
            what = "cost" if not finite[i] else "gradient norm"
            value = cost_new[i] if not finite[i] else gnorm_new[i]
            msg = (
                f"the {what} became {value} at iteration {iteration + 1}; returning iterate "
                f"{iteration}, the last with a finite cost"
            )
            point, gradient = x[:, i].copy(), grad[:, i].copy()
            gradients[active[i]] += int(accepted[i])  # the non-finite gradient was evaluated
            finish(int(active[i]), point, gradient, StopReason.NON_FINITE_COST, msg, proposals=1)
        if acc.size:
            gradients[active[acc]] += 1
            x[:, acc] = x_new[:, acc]
            cost[acc] = cost_new[acc]
            grad[:, acc], egrad[:, acc], gnorm[acc] = grad_acc, egrad_acc, gnorm_new[acc]
            data = merge(data, data_acc, acc)
            thresholds.moved(active[acc])
        step = np.where(accepted, norms(eta), 0.0)
        iteration += 1
        elapsed = time.perf_counter() - start
        if iteration >= size:
            for key, buffer in hist.items():
                hist[key] = np.concatenate([buffer, np.zeros_like(buffer)])
            size *= 2
        # rows of the runs that failed here are never read (their results are final)
        row = (iteration, active)
        hist["cost"][row], hist["gnorm"][row], hist["step"][row] = cost, gnorm, step
        hist["time"][row], hist["radius"][row], hist["rho"][row] = elapsed, radius, rho
        hist["inner"][row], hist["stop"][row], hist["accepted"][row] = (
            inner_its,
            inner_stops,
            accepted,
        )
        if bad.any():
            good = ~bad
            active, x, grad, egrad = active[good], x[:, good], grad[:, good], egrad[:, good]
            gnorm, cost, radius = gnorm[good], cost[good], radius[good]
            data = take(data, good)
    return [r for r in results if r is not None]
