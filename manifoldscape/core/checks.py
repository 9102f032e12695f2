"""Derivative and manifold checks that return numbers.

Each check returns a frozen dataclass (slopes, residuals, pass/fail and a sentence saying what
failed); none plots or prints.  ``manifoldscape.testing`` turns them into pytest assertions.

**Taylor checks** (the idea of Manopt's ``checkgradient`` / ``checkhessian``; Boumal, *An
Introduction to Optimization on Smooth Manifolds*, §4.8 and §6.8).  Along the curve
c(t) = R_x(t u), with R a *second-order* retraction (``geometry.second_order_retraction``) and u a
unit tangent vector,

    f(c(t)) = f(x) + t ⟨grad f(x), u⟩ + t²/2 ⟨u, Hess f(x)[u]⟩ + O(t³),

so the remainders

    E₁(t) = |f(c(t)) − f(x) − t ⟨grad f(x), u⟩|                       = O(t²),
    E₂(t) = |f(c(t)) − f(x) − t ⟨grad f(x), u⟩ − t²/2 ⟨u, Hess f(x)[u]⟩| = O(t³)

decay with slopes 2 and 3 on a log–log plot when the gradient and the Hessian are right (for E₂
at every point, critical or not, because c''(0) is normal to the manifold when R is second
order).  A wrong gradient leaves E₁ = Θ(t) (slope 1), a wrong Hessian leaves E₂ = Θ(t²).

The slope is fitted over windows of one decade of steps.  A window must lie above the round-off
floor ``NOISE_FACTOR · σ + 10 ε (|f(x)| + |f(c(t))| + …)``, where σ is the noise of the computed
cost, estimated from the finite-difference table of f along c at spacing ``NOISE_SPACING``
(Moré & Wild, "Estimating computational noise", SIAM J. Sci. Comput. 33, 2011: for smooth f and
small h, the k-th differences Δᵏf are pure noise with variance C(2k, k) σ²), and it must have a
clean linear fit (RMS residual at most ``FIT_TOLERANCE`` decades).  Manopt takes the window with
the best fit; we look at the clean windows starting within one decade of the first clean one
above the floor and report the median of their slopes, because the Taylor order is a t → 0
property: a gradient wrong by 1 % gives E₁ ≈ 0.01 |⟨g, u⟩| t + a t², whose large-t end has a
perfectly straight slope-2 piece that would hide the error, while every window of the first decade
keeps slope 1.  (The median of that decade, not its first window, because a zero crossing of
the remainder just above the floor bends single windows.)  If no decade of steps rises above the
floor, the model is exact up to round-off (a linear cost on a Euclidean space, a quadratic one for
the Hessian) and the check passes, recording ``exact=True``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from manifoldscape.boundary.arguments import Seed, as_generator, require_positive_int
from manifoldscape.core.check_tools import (  # noqa: F401  (constants re-exported)
    _EPS,
    FINITE_DIFFERENCE_STEP,
    FINITE_DIFFERENCE_TOLERANCE,
    FIT_TOLERANCE,
    GRADIENT_SLOPE_MIN,
    GRAM_LIMIT,
    HESSIAN_SLOPE_MIN,
    LINEARITY_TOLERANCE,
    MANIFOLD_TOLERANCE,
    NOISE_FACTOR,
    NOISE_SPACING,
    SELF_ADJOINT_TOLERANCE,
    STEPS,
    TANGENCY_TOLERANCE,
    _add,
    _ambient_norm,
    _cost_noise,
    _cost_scale,
    _difference_norm,
    _embed,
    _euclidean_gradient_norm,
    _Fit,
    _fit_slope,
    _format_series,
    _inner,
    _norm,
    _plot_series,
    _point,
    _ratio,
    _require_problem,
    _scaled,
    _tangency_error,
    _taylor_failure,
    _unit_direction,
)
from manifoldscape.core.manifold_checks import ManifoldCheck, check_manifold
from manifoldscape.core.problem import Problem
from manifoldscape.geometry import (
    as_tangent,
    random_point,
    random_tangent_vector,
    second_order_retraction,
)

__all__ = [
    "AutogradComparison",
    "GradientCheck",
    "HessianCheck",
    "ManifoldCheck",
    "check_gradient",
    "check_hessian",
    "check_manifold",
    "compare_with_autograd",
]


# --------------------------------------------------------------------------- gradient
@dataclass(frozen=True, eq=False)
class GradientCheck:
    """Outcome of ``check_gradient``.

    ``errors[k]`` is E₁(steps[k]); ``slope`` is fitted over ``window`` (NaN and ``window=None``
    when ``exact``); ``floor`` is the round-off floor per step and ``noise`` the estimated noise σ
    of the computed cost.  ``tangency_error`` is ‖g − P_x g‖/max(‖g‖, ‖∇f‖);
    ``finite_difference_error`` is |D − ⟨g, u⟩| relative to max(‖g‖, |f| + ‖x‖‖∇f‖, κ max(‖x‖, 1))
    with D the central difference of f along c and κ its second difference (the curvature).
    ``reason`` is a sentence saying what failed.
    """

    steps: np.ndarray
    errors: np.ndarray
    floor: np.ndarray
    noise: float
    slope: float
    window: tuple[float, float] | None
    exact: bool
    directional_derivative: float
    finite_difference_error: float
    tangency_error: float
    passed: bool
    reason: str
    failures: tuple[str, ...]

    def summary(self) -> str:
        """A few lines: verdict, slope, window and the remainder at a few steps."""
        head = f"gradient check {'passed' if self.passed else 'FAILED'}: {self.reason}"
        return (
            f"{head}\n  slope {self.slope:.3f} over {self.window}, exact={self.exact}, "
            f"tangency error {self.tangency_error:.2e}, finite-difference error "
            f"{self.finite_difference_error:.2e}\n{_format_series(self.steps, self.errors)}"
        )

    def plot(self, ax: Any = None) -> Any:
        """Log–log plot of E₁ against t with a slope-2 reference (imports matplotlib)."""
        return _plot_series(self, 2, ax)


def check_gradient(
    problem: Problem, point: Any = None, direction: Any = None, *, seed: Seed = None
) -> GradientCheck:
    """Check the Riemannian gradient of ``problem`` by the order of its Taylor remainder.

    E₁(t) = |f(R_x(t u)) − f(x) − t ⟨grad f(x), u⟩| for t in ``STEPS`` along a unit tangent u
    (random if ``direction`` is None, else ``direction`` normalized) at ``point`` (random if
    None).  Passes when the fitted slope is at least ``GRADIENT_SLOPE_MIN`` (expected 2) or E₁
    sits at round-off everywhere (``exact``), the gradient is tangent to relative accuracy
    ``TANGENCY_TOLERANCE`` and ⟨grad f, u⟩ agrees with a central difference to
    ``FINITE_DIFFERENCE_TOLERANCE`` relative to max(‖grad f‖, |f| + ‖x‖‖∇f‖).
    """
    _require_problem(problem)
    rng = as_generator(seed)
    manifold = problem.manifold
    x = _point(manifold, point, rng)
    u = _unit_direction(manifold, x, direction, rng)
    f0 = problem.cost(x)
    g = problem.riemannian_gradient(x)
    slope_g = _inner(manifold, x, g, u)
    gradient_norm = _norm(manifold, x, g)
    scale = _cost_scale(problem, x, f0)

    def along(t: float) -> float:
        return problem.cost(second_order_retraction(manifold, x, _scaled(u, t)))

    steps = STEPS.copy()
    values = np.array([along(t) for t in steps])
    errors = np.abs(values - f0 - steps * slope_g)
    noise = _cost_noise(along, f0)
    floor = NOISE_FACTOR * noise + 10 * _EPS * (abs(f0) + np.abs(values) + steps * abs(slope_g))
    failures: list[str] = []
    finite = math.isfinite(f0 + slope_g + noise) and bool(np.all(np.isfinite(values)))
    if not finite:
        failures.append("the cost or the gradient is not finite along the curve")
        fit = _Fit(math.nan, None, False, math.inf, False)
    else:
        fit = _fit_slope(steps, errors, floor)
        failure = _taylor_failure(fit, 2, GRADIENT_SLOPE_MIN, "|f(R(tu)) − f − t⟨grad f, u⟩|")
        if failure:
            failures.append(failure + ": the gradient does not match the cost")
    h = FINITE_DIFFERENCE_STEP
    forward, backward = along(h), along(-h)
    difference = (forward - backward) / (2 * h)
    # where f and ∇f vanish (a zero-residual ground truth) the slope's natural size is the
    # curvature times the size of the point
    curvature = abs(forward + backward - 2 * f0) / h**2
    reference = max(gradient_norm, scale, curvature * max(_ambient_norm(x), 1.0))
    fd_error = _ratio(abs(difference - slope_g), reference)
    if not fd_error <= FINITE_DIFFERENCE_TOLERANCE:
        failures.append(
            f"⟨grad f, u⟩ = {slope_g:.6g} but the central difference of f gives {difference:.6g} "
            f"(relative error {fd_error:.2e} > {FINITE_DIFFERENCE_TOLERANCE:g})"
        )
    tangency = _tangency_error(manifold, x, g, _euclidean_gradient_norm(problem, x))
    if not tangency <= TANGENCY_TOLERANCE:
        failures.append(
            f"the gradient is not tangent: ‖g − P_x g‖/‖g‖ = {tangency:.2e} "
            f"> {TANGENCY_TOLERANCE:g}"
        )
    return GradientCheck(
        steps=steps,
        errors=errors,
        floor=floor,
        noise=noise,
        slope=fit.slope,
        window=fit.window,
        exact=fit.exact,
        directional_derivative=slope_g,
        finite_difference_error=fd_error,
        tangency_error=tangency,
        passed=not failures,
        reason=_reason(failures, fit, 2),
        failures=tuple(failures),
    )


def _reason(failures: list[str], fit: _Fit, order: int) -> str:
    if failures:
        return "; ".join(failures)
    if fit.exact:
        return (
            "the Taylor remainder is at round-off level at every step (the model is exact), "
            "and the algebraic checks hold"
        )
    return (
        f"the Taylor remainder decays with slope {fit.slope:.2f} (expected {order}) and the "
        "algebraic checks hold"
    )


# --------------------------------------------------------------------------- Hessian
@dataclass(frozen=True, eq=False)
class HessianCheck:
    """Outcome of ``check_hessian``.

    ``errors[k]`` is E₂(steps[k]), with slope fitted over ``window`` (expected 3);
    ``curvature`` = ⟨u, Hess f(x)[u]⟩.  ``self_adjointness_error`` is
    |⟨u, H v⟩ − ⟨H u, v⟩| / (‖Hu‖‖v‖ + ‖Hv‖‖u‖); ``linearity_error`` is
    ‖H(a u + b v) − a Hu − b Hv‖ / max(|a|‖Hu‖ + |b|‖Hv‖, ‖H(a u + b v)‖);
    ``tangency_error`` the largest ‖h − P_x h‖/‖h‖ over the products h computed (relative to
    max(‖Hu‖, ‖Hv‖) where h vanishes).
    """

    steps: np.ndarray
    errors: np.ndarray
    floor: np.ndarray
    noise: float
    slope: float
    window: tuple[float, float] | None
    exact: bool
    curvature: float
    self_adjointness_error: float
    linearity_error: float
    tangency_error: float
    passed: bool
    reason: str
    failures: tuple[str, ...]

    def summary(self) -> str:
        """A few lines: verdict, slope, window, algebraic errors and the remainder."""
        head = f"Hessian check {'passed' if self.passed else 'FAILED'}: {self.reason}"
        return (
            f"{head}\n  slope {self.slope:.3f} over {self.window}, exact={self.exact}, "
            f"self-adjointness {self.self_adjointness_error:.2e}, linearity "
            f"{self.linearity_error:.2e}, tangency {self.tangency_error:.2e}\n"
            f"{_format_series(self.steps, self.errors)}"
        )

    def plot(self, ax: Any = None) -> Any:
        """Log–log plot of E₂ against t with a slope-3 reference (imports matplotlib)."""
        return _plot_series(self, 3, ax)


def check_hessian(
    problem: Problem, point: Any = None, direction: Any = None, *, seed: Seed = None
) -> HessianCheck:
    """Check the Riemannian Hessian of ``problem``: Taylor order, symmetry, linearity, tangency.

    E₂(t) = |f(R_x(t u)) − f(x) − t⟨grad f, u⟩ − t²/2 ⟨u, Hess f[u]⟩| must decay with slope at
    least ``HESSIAN_SLOPE_MIN`` (expected 3; R is second order, so this holds at non-critical
    points too) or sit at round-off (``exact``).  With a second random unit tangent v and
    random a, b: self-adjointness within ``SELF_ADJOINT_TOLERANCE``, linearity within
    ``LINEARITY_TOLERANCE`` and tangency of the products within ``TANGENCY_TOLERANCE`` (all
    relative, see ``HessianCheck``).  The Taylor remainder also involves the gradient: run
    ``check_gradient`` first.
    """
    _require_problem(problem)
    rng = as_generator(seed)
    manifold = problem.manifold
    x = _point(manifold, point, rng)
    u = _unit_direction(manifold, x, direction, rng)
    v = as_tangent(manifold, random_tangent_vector(manifold, x, rng))
    a, b = rng.standard_normal(2)
    f0 = problem.cost(x)
    g = problem.riemannian_gradient(x)
    slope_g = _inner(manifold, x, g, u)
    hu = problem.riemannian_hessian(x, u)
    hv = problem.riemannian_hessian(x, v)
    hw = problem.riemannian_hessian(x, _add(_scaled(u, a), _scaled(v, b)))
    curvature = _inner(manifold, x, u, hu)

    def along(t: float) -> float:
        return problem.cost(second_order_retraction(manifold, x, _scaled(u, t)))

    steps = STEPS.copy()
    values = np.array([along(t) for t in steps])
    errors = np.abs(values - f0 - steps * slope_g - 0.5 * steps**2 * curvature)
    noise = _cost_noise(along, f0)
    floor = NOISE_FACTOR * noise + 10 * _EPS * (
        abs(f0) + np.abs(values) + steps * abs(slope_g) + 0.5 * steps**2 * abs(curvature)
    )
    failures: list[str] = []
    finite = math.isfinite(f0 + slope_g + curvature + noise) and bool(np.all(np.isfinite(values)))
    if not finite:
        failures.append("the cost, gradient or Hessian is not finite along the curve")
        fit = _Fit(math.nan, None, False, math.inf, False)
    else:
        fit = _fit_slope(steps, errors, floor)
        failure = _taylor_failure(
            fit, 3, HESSIAN_SLOPE_MIN, "|f(R(tu)) − f − t⟨g, u⟩ − t²/2 ⟨u, Hess f[u]⟩|"
        )
        if failure:
            failures.append(failure + ": the Hessian does not match the cost (or the gradient)")

    norm_hu, norm_hv = _norm(manifold, x, hu), _norm(manifold, x, hv)
    asymmetry = abs(_inner(manifold, x, u, hv) - _inner(manifold, x, hu, v))
    self_adjointness = _ratio(asymmetry, norm_hu + norm_hv)  # ‖u‖ = ‖v‖ = 1
    if not self_adjointness <= SELF_ADJOINT_TOLERANCE:
        failures.append(
            f"the Hessian is not self-adjoint: |⟨u, Hv⟩ − ⟨Hu, v⟩| = {asymmetry:.3e}, relative "
            f"{self_adjointness:.2e} > {SELF_ADJOINT_TOLERANCE:g}"
        )
    combination = _add(_scaled(hu, a), _scaled(hv, b))
    linearity = _ratio(
        _difference_norm(hw, combination),
        max(abs(a) * norm_hu + abs(b) * norm_hv, _norm(manifold, x, hw)),
    )
    if not linearity <= LINEARITY_TOLERANCE:
        failures.append(
            f"the Hessian is not linear: ‖H(au + bv) − aHu − bHv‖ is {linearity:.2e} relative "
            f"(> {LINEARITY_TOLERANCE:g}) for a = {a:.3f}, b = {b:.3f}"
        )
    tangency = max(
        _tangency_error(manifold, x, hu, max(norm_hu, norm_hv)),
        _tangency_error(manifold, x, hv, max(norm_hu, norm_hv)),
        _tangency_error(manifold, x, hw, (abs(a) + abs(b)) * max(norm_hu, norm_hv)),
    )
    if not tangency <= TANGENCY_TOLERANCE:
        failures.append(
            f"the Hessian output is not tangent: ‖h − P_x h‖/‖h‖ = {tangency:.2e} "
            f"> {TANGENCY_TOLERANCE:g}"
        )
    return HessianCheck(
        steps=steps,
        errors=errors,
        floor=floor,
        noise=noise,
        slope=fit.slope,
        window=fit.window,
        exact=fit.exact,
        curvature=curvature,
        self_adjointness_error=self_adjointness,
        linearity_error=linearity,
        tangency_error=tangency,
        passed=not failures,
        reason=_reason(failures, fit, 3),
        failures=tuple(failures),
    )


# --------------------------------------------------------------------------- autograd twin
@dataclass(frozen=True)
class AutogradComparison:
    """Largest relative discrepancies between a problem and its autograd twin.

    Each field is max over the points (and directions) of ‖ours − autograd‖ / scale, with scale
    |f| + ‖x‖‖∇f‖ for the cost, ‖∇f‖ and ‖grad f‖ for the gradients, ‖∇²f[ů]‖ for the Euclidean
    Hessian-vector product along the embedded direction ů, and max(‖Hess f[u]‖, ‖∇²f[ů]‖, ‖∇f‖)
    for the Riemannian one (whose curvature term involves ∇f).
    """

    cost: float
    euclidean_gradient: float
    riemannian_gradient: float
    euclidean_hessian: float
    riemannian_hessian: float
    points: int
    directions: int

    def worst(self) -> tuple[str, float]:
        """The quantity with the largest discrepancy and its value."""
        names = (
            "cost",
            "euclidean_gradient",
            "riemannian_gradient",
            "euclidean_hessian",
            "riemannian_hessian",
        )
        name = max(names, key=lambda k: getattr(self, k))
        return name, getattr(self, name)


def compare_with_autograd(
    problem: Problem, points: int = 3, seed: Seed = 0, directions: int = 2
) -> AutogradComparison:
    """Compare cost and derivatives of ``problem`` with ``problem.autograd_twin()``.

    At ``points`` random points and ``directions`` random unit tangent vectors per point.  Raises
    ``ValueError`` if the problem's objective has no autograd twin.
    """
    _require_problem(problem)
    points = require_positive_int(points, "points")
    directions = require_positive_int(directions, "directions")
    rng = as_generator(seed)
    twin = problem.autograd_twin()
    manifold = problem.manifold
    worst = dict.fromkeys(("cost", "egrad", "rgrad", "ehess", "rhess"), 0.0)

    def record(key: str, value: float) -> None:
        worst[key] = max(worst[key], value) if not math.isnan(value) else math.inf

    for _ in range(points):
        x = random_point(manifold, rng)
        try:
            f_ref = twin.cost(x)
        except NotImplementedError as exc:
            raise ValueError(
                f"problem {problem.name!r} has no autograd twin to compare with: {exc}"
            ) from exc
        eg_ref = twin.euclidean_gradient(x)
        scale = abs(f_ref) + _ambient_norm(x) * _ambient_norm(eg_ref)
        record("cost", _ratio(abs(problem.cost(x) - f_ref), scale))
        record(
            "egrad",
            _ratio(_difference_norm(problem.euclidean_gradient(x), eg_ref), _ambient_norm(eg_ref)),
        )
        rg_ref = twin.riemannian_gradient(x)
        record(
            "rgrad",
            _ratio(
                _difference_norm(problem.riemannian_gradient(x), rg_ref),
                _ambient_norm(rg_ref),
            ),
        )
        for _ in range(directions):
            u = as_tangent(manifold, random_tangent_vector(manifold, x, rng))
            ambient = _embed(manifold, x, u)
            eh_ref = twin.euclidean_hessian(x, ambient)
            record(
                "ehess",
                _ratio(
                    _difference_norm(problem.euclidean_hessian(x, ambient), eh_ref),
                    _ambient_norm(eh_ref),
                ),
            )
            rh_ref = twin.riemannian_hessian(x, u)
            record(
                "rhess",
                _ratio(
                    _difference_norm(problem.riemannian_hessian(x, u), rh_ref),
                    max(_ambient_norm(rh_ref), _ambient_norm(eh_ref), _ambient_norm(eg_ref)),
                ),
            )
    return AutogradComparison(
        cost=worst["cost"],
        euclidean_gradient=worst["egrad"],
        riemannian_gradient=worst["rgrad"],
        euclidean_hessian=worst["ehess"],
        riemannian_hessian=worst["rhess"],
        points=points,
        directions=directions,
    )
