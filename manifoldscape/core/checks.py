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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymanopt.manifolds import (
    FixedRankEmbedded,
    HermitianPositiveDefinite,
    Product,
    SpecialHermitianPositiveDefinite,
    SymmetricPositiveDefinite,
)
from pymanopt.manifolds.manifold import Manifold, RiemannianSubmanifold

from manifoldscape.boundary.arguments import Seed, as_generator, require_positive_int
from manifoldscape.core.problem import Problem
from manifoldscape.geometry import (
    ProductVector,
    as_tangent,
    batch_item,
    check_point,
    constraint_residual,
    dimension,
    has_second_order_retraction,
    is_complex,
    metric_whitener,
    point_shape,
    projection,
    random_point,
    random_tangent_vector,
    reference_point,
    same_point,
    second_order_retraction,
    tangent_basis,
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

#: steps t of the Taylor checks: 41 values, five per decade, from 1e-8 to 1
STEPS = np.logspace(-8.0, 0.0, 41)
_PER_DECADE = 5
#: the round-off floor is this many times the estimated noise σ of the cost
NOISE_FACTOR = 20.0
#: spacing of the finite-difference table that estimates σ (orders 4 to 6, 13 evaluations)
NOISE_SPACING = 1e-5
#: largest RMS deviation (in decades) of log E from its fitted line for a window to count as clean
FIT_TOLERANCE = 0.05
#: smallest slope accepted for E₁ (expected 2) and E₂ (expected 3): closer to the expected order
#: than to the one a wrong derivative leaves (1 and 2).  Not higher: when the remainder changes
#: sign a little above the floor, E = |a tᵏ − b tᵏ⁺¹| has local slope k − r/(1 − r) below the
#: dip (r = t/t_dip), and a correct derivative would fail a threshold of k − 0.2 there.
GRADIENT_SLOPE_MIN = 1.5
HESSIAN_SLOPE_MIN = 2.5
#: relative tolerances of the algebraic checks (round-off is ~1e-15 · size)
TANGENCY_TOLERANCE = 1e-8
SELF_ADJOINT_TOLERANCE = 1e-8
LINEARITY_TOLERANCE = 1e-8
#: central difference (f(c(h)) − f(c(−h)))/2h with this h, compared relative to the cost scale
FINITE_DIFFERENCE_STEP = 1e-5
FINITE_DIFFERENCE_TOLERANCE = 1e-6
#: tolerance of the manifold identities (idempotence, round trips, orthonormality, metric)
MANIFOLD_TOLERANCE = 1e-10
#: largest number of basis vectors whose Gram matrix is formed (and fewer for a large ambient
#: space: at most about 1e6 ambient entries, at least 8 vectors)
GRAM_LIMIT = 200
_GRAM_ENTRIES = 1_000_000

_EPS = float(np.finfo(float).eps)
_POSITIVE_DEFINITE = (
    SymmetricPositiveDefinite,
    HermitianPositiveDefinite,
    SpecialHermitianPositiveDefinite,
)
_TINY = 1e-300


# --------------------------------------------------------------------------- small helpers
def _inner(manifold: Manifold, x: Any, a: Any, b: Any) -> float:
    return float(np.real(manifold.inner_product(x, a, b)))


def _embedded_metric(manifold: Manifold) -> bool:
    """Whether the metric is the embedded Re tr(aᴴb) on the tangent representation."""
    if isinstance(manifold, Product):
        return all(_embedded_metric(m) for m in manifold.manifolds)
    if isinstance(manifold, (FixedRankEmbedded, RiemannianSubmanifold)) and not isinstance(
        manifold, _POSITIVE_DEFINITE
    ):
        return True
    return metric_whitener(manifold, reference_point(manifold)) is None


def _dense(manifold: Manifold, x: Any) -> Any:
    """A point as an array of the embedding (FixedRankEmbedded's (u, s, vt) as u diag(s) vt)."""
    if isinstance(manifold, Product):
        return [_dense(m, p) for m, p in zip(manifold.manifolds, x, strict=True)]
    if isinstance(manifold, FixedRankEmbedded):
        u, s, vt = x
        return (np.asarray(u) * np.asarray(s)) @ np.asarray(vt)
    return x


def _second_order_part(manifold: Manifold, x: Any, u: Any, t: float, y: Any, rest: Any) -> float:
    """‖P_x(R_x(tu) − x − tu)‖ (embedded metric) or ‖R_x(tu) − Exp_x(tu)‖, factor by factor."""
    if isinstance(manifold, Product):
        parts = zip(manifold.manifolds, x, u, y, rest, strict=True)
        return math.sqrt(sum(_second_order_part(m, p, w, t, q, r) ** 2 for m, p, w, q, r in parts))
    if _embedded_metric(manifold):
        return _ambient_norm(_project(manifold, x, rest))
    exact = manifold.exp(x, _scaled(u, t))
    return _difference_norm(_dense(manifold, y), _dense(manifold, exact))


def _metric_orthogonality(manifold: Manifold, x: Any, normal: Any, v: Any) -> float:
    """⟨z − P z, v⟩ in the manifold's metric when the embedding is the identity, else Frobenius."""
    if isinstance(manifold, Product):
        parts = zip(manifold.manifolds, x, normal, v, strict=True)
        return sum(_metric_orthogonality(m, p, n, w) for m, p, n, w in parts)
    if type(manifold).embedding is Manifold.embedding:
        return _inner(manifold, x, normal, v)
    return _ambient_inner(normal, _embed(manifold, x, v))


def _norm(manifold: Manifold, x: Any, v: Any) -> float:
    return float(manifold.norm(x, v))


def _embed(manifold: Manifold, x: Any, v: Any) -> Any:
    """Ambient representation of a tangent vector (pymanopt's ``Product`` has no ``embedding``)."""
    if isinstance(manifold, Product):
        return ProductVector(
            [_embed(m, p, w) for m, p, w in zip(manifold.manifolds, x, v, strict=True)]
        )
    if isinstance(manifold, FixedRankEmbedded):
        left, middle, right = manifold.embedding(x, v)
        return left @ middle @ right.T
    return manifold.embedding(x, v)


def _project(manifold: Manifold, x: Any, z: Any) -> Any:
    """P_x z for an ambient z, in the manifold's tangent representation."""
    if isinstance(manifold, Product):
        return ProductVector(
            [_project(m, p, w) for m, p, w in zip(manifold.manifolds, x, z, strict=True)]
        )
    return projection(manifold, x, z)


def _ambient_norm(v: Any) -> float:
    if isinstance(v, (list, tuple)):
        return math.sqrt(sum(_ambient_norm(w) ** 2 for w in v))
    return float(np.linalg.norm(v))


def _difference_norm(a: Any, b: Any) -> float:
    if isinstance(a, (list, tuple)):
        return math.sqrt(sum(_difference_norm(p, q) ** 2 for p, q in zip(a, b, strict=True)))
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def _ambient_inner(a: Any, b: Any) -> float:
    if isinstance(a, (list, tuple)):
        return sum(_ambient_inner(p, q) for p, q in zip(a, b, strict=True))
    return float(np.real(np.vdot(np.asarray(a), np.asarray(b))))


def _ratio(numerator: float, denominator: float) -> float:
    """The quotient, 0 when both vanish and inf when only the denominator does."""
    if numerator == 0.0:
        return 0.0
    if not denominator > _TINY:
        return math.inf
    return numerator / denominator


def _add(u: Any, v: Any) -> Any:
    if isinstance(u, (list, tuple)):
        return ProductVector([_add(p, q) for p, q in zip(u, v, strict=True)])
    return np.asarray(u) + np.asarray(v)


def _scaled(v: Any, s: float) -> Any:
    if isinstance(v, (list, tuple)):
        return ProductVector([_scaled(w, s) for w in v])
    return np.asarray(v) * s


def _random_ambient(manifold: Manifold, x: Any, rng: np.random.Generator) -> Any:
    if isinstance(manifold, Product):
        return ProductVector(
            [_random_ambient(m, p, rng) for m, p in zip(manifold.manifolds, x, strict=True)]
        )
    shape = np.shape(_dense(manifold, x))
    z = rng.standard_normal(shape)
    if is_complex(manifold):
        z = z + 1j * rng.standard_normal(shape)
    return z


def _tangency_error(manifold: Manifold, x: Any, v: Any, scale: float | None = None) -> float:
    """‖v − P_x(v)‖ / scale, v taken to the ambient space first; scale defaults to ‖v‖.

    Pass the natural size of v's kind as ``scale`` where v itself may vanish (a gradient at a
    critical point, a Hessian product along a null direction).
    """
    size = _ambient_norm(v) if scale is None else max(scale, _ambient_norm(v))
    if size == 0.0:
        return 0.0
    return _difference_norm(v, _project(manifold, x, _embed(manifold, x, v))) / size


def _require_problem(problem: Any) -> None:
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a manifoldscape Problem, got {type(problem).__name__}")


def _point(manifold: Manifold, point: Any, rng: np.random.Generator) -> Any:
    if point is None:
        return random_point(manifold, rng)
    return check_point(manifold, point, "point")


def _check_tangent_shape(manifold: Manifold, x: Any, v: Any, name: str) -> Any:
    """Refuse a tangent vector of the wrong structure, shape, dtype or with NaN/Inf."""
    if isinstance(manifold, Product):
        if not isinstance(v, (list, tuple)) or len(v) != len(manifold.manifolds):
            raise TypeError(
                f"{name} must be a list of {len(manifold.manifolds)} arrays for {manifold}, "
                f"got {type(v).__name__}"
            )
        return ProductVector(
            [
                _check_tangent_shape(m, p, w, f"{name}[{i}]")
                for i, (m, p, w) in enumerate(zip(manifold.manifolds, x, v, strict=True))
            ]
        )
    array = np.asarray(v)
    shape = tuple(point_shape(manifold))
    if array.dtype.kind not in "biufc":
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape} for {manifold}, got {array.shape}")
    if array.dtype.kind == "c" and not is_complex(manifold):
        if np.any(np.imag(array) != 0):
            raise ValueError(f"{name} must be real for {manifold}, got complex entries")
        array = np.real(array)
    array = array.astype(complex if is_complex(manifold) else float)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got NaN or Inf entries")
    return array


def _unit_direction(manifold: Manifold, x: Any, direction: Any, rng: np.random.Generator) -> Any:
    """A unit tangent at x: random if ``direction`` is None, else validated and normalized."""
    if direction is None:
        return as_tangent(manifold, random_tangent_vector(manifold, x, rng))
    u = _check_tangent_shape(manifold, x, direction, "direction")
    size = _norm(manifold, x, u)
    if not size > 0:
        raise ValueError("direction must be a non-zero tangent vector, got norm 0")
    error = _tangency_error(manifold, x, u)
    if error > 1e-6:
        raise ValueError(
            f"direction must be tangent at point: it has a normal component of relative size "
            f"{error:.3g}; project it with manifold.projection(point, direction)"
        )
    return _scaled(u, 1.0 / size)


def _euclidean_gradient_norm(problem: Problem, x: Any) -> float:
    try:
        size = _ambient_norm(problem.euclidean_gradient(x))
    except Exception:  # a broken gradient must not break the scale estimate
        return 0.0
    return size if math.isfinite(size) else 0.0


def _cost_scale(problem: Problem, x: Any, cost: float) -> float:
    """Size of the terms summed in f(x): |f(x)| + ‖x‖ ‖∇f(x)‖."""
    scale = abs(cost) + _ambient_norm(x) * _euclidean_gradient_norm(problem, x)
    return scale if math.isfinite(scale) else abs(cost)


def _cost_noise(along: Callable[[float], float], f0: float) -> float:
    """Noise σ of the computed cost along the curve (Moré & Wild 2011, difference table).

    σ_k² = mean((Δᵏ f)²) / C(2k, k) for k = 4, 5, 6 on f(c(i h)), i = 0, …, 12; the largest
    σ_k is returned (a smooth term h^k f⁽ᵏ⁾ left in a low order only raises the floor).
    """
    values = np.array([f0] + [along(i * NOISE_SPACING) for i in range(1, 13)])
    if not np.all(np.isfinite(values)):
        return math.inf
    estimates = [
        math.sqrt(float(np.mean(np.diff(values, k) ** 2)) / math.comb(2 * k, k)) for k in (4, 5, 6)
    ]
    return max(estimates)


# --------------------------------------------------------------------------- slope fitting
@dataclass(frozen=True)
class _Fit:
    slope: float
    window: tuple[float, float] | None
    exact: bool
    residual: float
    clean: bool


def _fit_slope(steps: np.ndarray, errors: np.ndarray, floor: np.ndarray) -> _Fit:
    """Slope of log E against log t over one decade above the floor (see the module docstring)."""
    width = _PER_DECADE + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        resolved = np.isfinite(errors) & (errors > floor)
        log_t, log_e = np.log10(steps), np.log10(errors)
    candidates = []
    for start in range(len(steps) - width + 1):
        window = slice(start, start + width)
        if not resolved[window].all():
            continue
        slope, intercept = np.polyfit(log_t[window], log_e[window], 1)
        residual = float(np.sqrt(np.mean((log_e[window] - slope * log_t[window] - intercept) ** 2)))
        candidates.append((start, float(slope), residual))
    if not candidates:
        return _Fit(math.nan, None, True, 0.0, True)
    clean = [c for c in candidates if c[2] <= FIT_TOLERANCE]
    if clean:
        # the median slope of the clean windows starting within one decade of the first clean
        # one (a zero crossing of the remainder just above the floor bends single windows, while
        # a wrong derivative keeps every window of that decade at the lower order)
        first = clean[0][0]
        early = sorted((c for c in clean if c[0] <= first + _PER_DECADE), key=lambda c: c[1])
        start, slope, residual = early[len(early) // 2]
    else:
        start, slope, residual = min(candidates, key=lambda c: c[2])
    return _Fit(
        slope, (float(steps[start]), float(steps[start + width - 1])), False, residual, bool(clean)
    )


def _taylor_failure(fit: _Fit, expected: int, minimum: float, what: str) -> str | None:
    if fit.exact:
        return None
    assert fit.window is not None
    span = f"t ∈ [{fit.window[0]:.1e}, {fit.window[1]:.1e}]"
    if fit.slope < minimum:
        return (
            f"the Taylor remainder {what} decays with slope {fit.slope:.2f} over {span} "
            f"(expected {expected}, at least {minimum})"
        )
    if not fit.clean:
        return (
            f"no decade of steps gives a clean log-log line for {what} (best RMS residual "
            f"{fit.residual:.2f} decades, slope {fit.slope:.2f} over {span})"
        )
    return None


def _format_series(steps: np.ndarray, errors: np.ndarray) -> str:
    rows = [f"  t = {t:8.1e}   error = {e:10.3e}" for t, e in zip(steps, errors, strict=True)]
    return "\n".join(rows[::4] + ([rows[-1]] if (len(rows) - 1) % 4 else []))


def _plot_series(check: Any, order: int, ax: Any) -> Any:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    ax.loglog(check.steps, check.errors, "o-", ms=3, label="Taylor remainder")
    ax.loglog(check.steps, check.floor, ":", color="gray", label="round-off floor")
    if check.window is not None:
        lo, hi = check.window
        mask = (check.steps >= lo) & (check.steps <= hi)
        ref = check.errors[mask][0] * (check.steps / check.steps[mask][0]) ** order
        ax.loglog(check.steps, ref, "--", label=f"slope {order}")
        ax.axvspan(lo, hi, alpha=0.15)
    ax.set_xlabel("step t")
    ax.set_ylabel("error")
    ax.set_title(f"slope {check.slope:.2f} ({'passed' if check.passed else 'failed'})")
    ax.legend()
    return ax


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


# --------------------------------------------------------------------------- manifolds
@dataclass(frozen=True)
class ManifoldCheck:
    """Outcome of ``check_manifold``; every error is relative (see ``check_manifold``).

    Slopes are those of ‖R_x(tu) − x − t u‖ (expected 2 for any retraction) for pymanopt's
    ``retraction`` and for ``geometry.second_order_retraction``, and of the tangential part
    ‖P_x(R_x(tu) − x − t u)‖ of the latter (expected 3: its acceleration is normal).  NaN slopes
    mean the remainder was at round-off (a Euclidean space).
    """

    manifold: str
    dim: int
    basis_dim: int
    projection_idempotence: float
    projection_tangency: float
    projection_orthogonality: float
    retraction_residual: float
    retraction_slope: float
    second_order_retraction_slope: float
    second_order_tangential_slope: float
    metric_symmetry: float
    norm_consistency: float
    basis_orthonormality: float
    basis_vectors_checked: int
    basis_round_trip: float
    basis_tangency: float
    random_point_reproducible: bool
    random_point_residual: float
    random_tangent_error: float
    passed: bool
    reason: str
    failures: tuple[str, ...]

    def summary(self) -> str:
        """One line per quantity."""
        lines = [f"manifold check on {self.manifold} {'passed' if self.passed else 'FAILED'}"]
        lines += [
            f"  {name} = {getattr(self, name)}"
            for name in self.__dataclass_fields__
            if name not in ("manifold", "passed", "reason", "failures")
        ]
        if self.failures:
            lines.append("  failures: " + "; ".join(self.failures))
        return "\n".join(lines)


def _retraction_fits(
    manifold: Manifold,
    x: Any,
    u: Any,
    retract: Callable[[Any, Any], Any],
    tangential: bool,
) -> tuple[float, _Fit, _Fit | None]:
    """Largest constraint residual and the remainder fit(s) of one retraction along u."""
    ambient_u = _embed(manifold, x, u)
    dense_x = _dense(manifold, x)
    residual = 0.0
    remainders, tangential_parts = [], []
    for t in STEPS:
        y = retract(x, _scaled(u, t))
        residual = max(residual, constraint_residual(manifold, y))
        remainder = _add(_add(_dense(manifold, y), _scaled(dense_x, -1.0)), _scaled(ambient_u, -t))
        remainders.append(_ambient_norm(remainder))
        if tangential:
            tangential_parts.append(_second_order_part(manifold, x, u, t, y, remainder))
    floor = 100 * _EPS * (_ambient_norm(dense_x) + STEPS)  # round-off of the ambient arrays
    first = _fit_slope(STEPS, np.array(remainders), floor)
    second = _fit_slope(STEPS, np.array(tangential_parts), floor) if tangential else None
    return residual, first, second


def check_manifold(manifold: Manifold, point: Any = None, *, seed: Seed = None) -> ManifoldCheck:
    """Check the geometry of a supported manifold at ``point`` (random if None).

    Relative errors, each against ``MANIFOLD_TOLERANCE`` unless stated:

    * projection: idempotence ‖P(P z) − P z‖/‖P z‖ (and ‖P v − v‖/‖v‖ for tangent v), tangency
      of P z by the tangent-basis round trip ‖w − B Bᵀ w‖/‖w‖, orthogonality
      |⟨z − P z, v⟩|/(‖z‖‖v‖) in the ambient metric;
    * retractions (pymanopt's and ``second_order_retraction``): the constraint residual of
      R_x(tu) for t ≤ 1, and the slope of ‖R_x(tu) − x − tu‖ at least ``GRADIENT_SLOPE_MIN``
      (expected 2: first order); the tangential part of the second-order retraction's remainder
      has slope at least ``HESSIAN_SLOPE_MIN`` (expected 3);
    * metric: |⟨u, v⟩ − ⟨v, u⟩|/(‖u‖‖v‖) and |‖u‖² − ⟨u, u⟩|/‖u‖²;
    * tangent basis: dimension equals ``manifold.dim``; max |G − I| for the Gram matrix of up to
      ``GRAM_LIMIT`` basis vectors (a random subset beyond); coordinate round trip; the basis
      vectors are fixed by P;
    * ``random_point`` returns the same point for the same seed, on the manifold;
      ``random_tangent_vector`` is tangent and of unit norm.
    """
    if not isinstance(manifold, Manifold):
        raise TypeError(f"manifold must be a pymanopt Manifold, got {type(manifold).__name__}")
    rng = as_generator(seed)
    x = _point(manifold, point, rng)
    basis = tangent_basis(manifold, x)
    failures: list[str] = []

    def require(value: float, tolerance: float, message: str) -> None:
        if not value <= tolerance:
            failures.append(f"{message} ({value:.2e} > {tolerance:g})")

    if basis.dim != dimension(manifold):
        failures.append(
            f"the tangent basis has {basis.dim} vectors but dim M = {dimension(manifold)}"
        )

    # projection
    z = _random_ambient(manifold, x, rng)
    pz = as_tangent(manifold, _project(manifold, x, z))
    size = _ambient_norm(pz)
    v = as_tangent(manifold, random_tangent_vector(manifold, x, rng))
    idempotence = max(
        _ratio(_difference_norm(_project(manifold, x, _embed(manifold, x, pz)), pz), size),
        _ratio(_difference_norm(_project(manifold, x, _embed(manifold, x, v)), v), 1.0),
    )
    require(idempotence, MANIFOLD_TOLERANCE, "the projection is not idempotent")
    projection_tangency = _ratio(
        _difference_norm(pz, basis.to_vector(basis.to_coordinates(pz))), size
    )
    require(projection_tangency, MANIFOLD_TOLERANCE, "the projection's output is not tangent")
    normal = _add(z, _scaled(_embed(manifold, x, pz), -1.0))
    orthogonality = _ratio(abs(_metric_orthogonality(manifold, x, normal, v)), _ambient_norm(z))
    require(orthogonality, MANIFOLD_TOLERANCE, "the projection is not orthogonal")

    # retractions
    u = as_tangent(manifold, random_tangent_vector(manifold, x, rng))
    res_1, fit_1, _ = _retraction_fits(manifold, x, u, manifold.retraction, False)
    res_2, fit_2, fit_t = _retraction_fits(
        manifold, x, u, lambda p, w: second_order_retraction(manifold, p, w), True
    )
    assert fit_t is not None
    retraction_residual = max(res_1, res_2)
    require(retraction_residual, MANIFOLD_TOLERANCE, "a retraction leaves the manifold")
    checks_of_order = [
        (fit_1, 2, GRADIENT_SLOPE_MIN, "‖R(x, tu) − x − tu‖ for manifold.retraction"),
        (fit_2, 2, GRADIENT_SLOPE_MIN, "‖R(x, tu) − x − tu‖ for second_order_retraction"),
    ]
    if has_second_order_retraction(manifold):  # else only its first-order retraction exists
        checks_of_order.append(
            (fit_t, 3, HESSIAN_SLOPE_MIN, "the second-order part of second_order_retraction")
        )
    for fit, expected, minimum, what in checks_of_order:
        failure = _taylor_failure(fit, expected, minimum, what)
        if failure:
            failures.append(failure)

    # metric
    c1, c2 = rng.standard_normal((2, basis.dim))
    w1, w2 = basis.to_vector(c1), basis.to_vector(c2)
    n1, n2 = _norm(manifold, x, w1), _norm(manifold, x, w2)
    metric_symmetry = _ratio(
        abs(_inner(manifold, x, w1, w2) - _inner(manifold, x, w2, w1)), n1 * n2
    )
    require(metric_symmetry, MANIFOLD_TOLERANCE, "the metric is not symmetric")
    norm_consistency = _ratio(abs(n1**2 - _inner(manifold, x, w1, w1)), n1**2)
    require(norm_consistency, MANIFOLD_TOLERANCE, "norm(u)² differs from ⟨u, u⟩")

    # tangent basis
    limit = min(basis.dim, GRAM_LIMIT, max(8, _GRAM_ENTRIES // max(_ambient_norm_size(x), 1)))
    if basis.dim <= limit:
        chosen = np.arange(basis.dim)
    else:
        chosen = np.sort(rng.choice(basis.dim, size=limit, replace=False))
    selector = np.zeros((len(chosen), basis.dim))
    selector[np.arange(len(chosen)), chosen] = 1.0
    batch = basis.to_vectors(selector)
    vectors = [as_tangent(manifold, batch_item(batch, k)) for k in range(len(chosen))]
    gram = np.zeros((len(chosen), len(chosen)))
    for i, p in enumerate(vectors):  # the metric's own symmetry is checked above
        for j in range(i, len(vectors)):
            gram[i, j] = gram[j, i] = _inner(manifold, x, p, vectors[j])
    orthonormality = float(np.max(np.abs(gram - np.eye(len(chosen))))) if len(chosen) else 0.0
    require(orthonormality, MANIFOLD_TOLERANCE, "the tangent basis is not orthonormal")
    round_trip = _ratio(
        float(np.linalg.norm(basis.to_coordinates(w1) - c1)), float(np.linalg.norm(c1))
    )
    require(round_trip, MANIFOLD_TOLERANCE, "the tangent-basis coordinate round trip fails")
    basis_tangency = max(
        [_tangency_error(manifold, x, w1)] + [_tangency_error(manifold, x, b) for b in vectors[:8]]
    )
    require(basis_tangency, MANIFOLD_TOLERANCE, "the tangent-basis vectors are not tangent")

    # random draws
    draw_seed = int(rng.integers(2**31))
    first, second = random_point(manifold, draw_seed), random_point(manifold, draw_seed)
    reproducible = same_point(first, second)
    if not reproducible:
        failures.append("random_point gives different points for the same seed")
    point_residual = constraint_residual(manifold, first)
    require(point_residual, MANIFOLD_TOLERANCE, "random_point is off the manifold")
    tangent = as_tangent(manifold, random_tangent_vector(manifold, x, draw_seed))
    tangent_error = max(
        abs(_norm(manifold, x, tangent) - 1.0), _tangency_error(manifold, x, tangent)
    )
    require(tangent_error, MANIFOLD_TOLERANCE, "random_tangent_vector is not a unit tangent vector")

    return ManifoldCheck(
        manifold=str(manifold),
        dim=dimension(manifold),
        basis_dim=int(basis.dim),
        projection_idempotence=idempotence,
        projection_tangency=projection_tangency,
        projection_orthogonality=orthogonality,
        retraction_residual=retraction_residual,
        retraction_slope=fit_1.slope,
        second_order_retraction_slope=fit_2.slope,
        second_order_tangential_slope=fit_t.slope,
        metric_symmetry=metric_symmetry,
        norm_consistency=norm_consistency,
        basis_orthonormality=orthonormality,
        basis_vectors_checked=len(chosen),
        basis_round_trip=round_trip,
        basis_tangency=basis_tangency,
        random_point_reproducible=reproducible,
        random_point_residual=point_residual,
        random_tangent_error=tangent_error,
        passed=not failures,
        reason="; ".join(failures) if failures else "all manifold checks hold",
        failures=tuple(failures),
    )


def _ambient_norm_size(x: Any) -> int:
    """Number of entries of a point (summed over the factors of a product)."""
    if isinstance(x, (list, tuple)):
        return sum(_ambient_norm_size(p) for p in x)
    return int(np.size(x))
