"""Shared pieces of the derivative and manifold checks: constants, Taylor-slope fits, helpers.

The method and its sources are in the docstring of ``manifoldscape.core.checks``.
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

from manifoldscape.core.problem import Problem
from manifoldscape.geometry import (
    ProductVector,
    as_tangent,
    check_point,
    is_complex,
    metric_whitener,
    point_shape,
    projection,
    random_point,
    random_tangent_vector,
    reference_point,
)

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
