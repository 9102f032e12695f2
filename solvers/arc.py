"""Riemannian adaptive regularization with cubics (ARC), with a Lanczos subproblem solver.

Agarwal, Boumal, Bullins & Cartis, "Adaptive regularization with cubics on manifolds", Math.
Program. 188 (2021) 85–134 (Algorithm 1), after Cartis, Gould & Toint, "Adaptive cubic
regularisation methods for unconstrained optimization", Math. Program. 127 (2011) 245–295; the
explicit, Hessian-based way of escaping saddles of seed 003 §1 ("using the Hessian [18–20]"),
converging to second-order critical points (seed 001, "Strict Saddle Function on Manifold").

At x_k with regularization σ_k the model on T_{x_k}M is

    m_k(s) = f(x_k) + ⟨g, s⟩ + ½ ⟨H s, s⟩ + (σ_k/3) ‖s‖³,   g = grad f(x_k), H = Hess f(x_k).

**Subproblem (Lanczos, documented choice).** Lanczos on H started from g/‖g‖ builds an
orthonormal basis Q_j of the Krylov space K_j(H, g) (fully re-orthogonalized, so it stays
orthonormal in floating point) and the tridiagonal T_j = Q_jᵀ H Q_j.  The model restricted to
span Q_j, min_y ‖g‖ y₁ + ½ yᵀT_j y + (σ/3)‖y‖³, is solved *globally*: with T_j = V Λ Vᵀ, its
minimizer is y = −(T_j + λI)⁻¹ ‖g‖ e₁ with λ = σ‖y‖ and λ ≥ max(0, −λ_min(T_j)) (Cartis–Gould–
Toint 2011, Thm 3.1), λ the root of the concave increasing secular function
1/‖y(λ)‖ − σ/λ, found by safeguarded Newton steps inside a bracket (CGT 2011 §6.1); in the "hard
case" the missing norm is added along the eigenvector of λ_min.  Lanczos stops when the model
gradient, whose norm is |β_j y_j| in the Lanczos basis, satisfies

    ‖∇m(s)‖ ≤ θ σ ‖s‖²                                 (θ = ½; Agarwal et al., eq. (9)),

when the Krylov space is invariant (β_j ≈ 0), or after ``max_inner_iterations`` steps.  (Manopt
uses ‖∇m(s)‖ ≤ θ‖s‖²; the factor σ makes θ dimensionless, so the rule is unchanged when the cost
is rescaled.)  If g = 0 exactly, Lanczos starts from a fixed-seed random tangent vector, so the
model's negative curvature is still found: at a strict saddle the step follows it.

**Outer loop.** x⁺ = R_{x_k}(s_k) is accepted when

    ρ_k = (f(x_k) − f(x⁺)) / (−⟨g, s⟩ − ½⟨H s, s⟩) ≥ η₁

(the ratio of Agarwal et al., both sides shifted by max(1, |f|)·ε·``rho_regularization`` as in
trust regions); σ is multiplied by γ₁ < 1 (floored at σ_min) when ρ ≥ η₂, kept when
η₁ ≤ ρ < η₂, multiplied by γ₂ > 1 when ρ < η₁ (Manopt's defaults η₁ = 0.1, η₂ = 0.9,
γ₁ = 0.1, γ₂ = 1.5).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.linalg

from manifoldscape.core.loop import IterativeSolver, SolverState, require_count, require_number
from manifoldscape.geometry import random_tangent_vector, to_tangent_space, zero_tangent_vector
from manifoldscape.solvers.gradient_descent import estimate_hessian_norm
from manifoldscape.solvers.trust_regions import _typical_distance, metric_inner_product

__all__ = [
    "AdaptiveCubicRegularization",
    "ArcState",
    "CubicInnerStop",
    "CubicLanczos",
    "CubicStep",
    "minimize_tridiagonal_cubic",
]

_NEWTON_ITERATIONS = 200


class CubicInnerStop(enum.Enum):
    """Why the Lanczos subproblem solver stopped (``History.extra['inner_stop']``)."""

    MODEL_GRADIENT = "model_gradient"
    INVARIANT_SUBSPACE = "invariant_subspace"
    MAX_INNER_ITERATIONS = "max_inner_iterations"


@dataclass(frozen=True, eq=False)
class CubicStep:
    """An approximate minimizer s of the cubic model, H s, and the inner statistics."""

    step: Any
    hessian_step: Any
    iterations: int
    stop: CubicInnerStop
    model_decrease: float


def minimize_tridiagonal_cubic(
    alpha: np.ndarray, beta: np.ndarray, b1: float, sigma: float
) -> np.ndarray:
    """Global minimizer of b₁y₁ + ½ yᵀTy + (σ/3)‖y‖³, T tridiagonal (diagonal α, off-diagonal β).

    The minimizer is y = −(T + λI)⁻¹ b₁e₁ with λ = σ‖y‖ ≥ max(0, −λ_min(T)) (Cartis–Gould–Toint
    2011, Thm 3.1).  In T's eigenbasis (T = V Λ Vᵀ, c = b₁ Vᵀe₁), λ is the root of the concave
    increasing ψ(λ) = 1/‖y(λ)‖ − σ/λ; Newton steps from the left of the root stay on the left,
    and a bisection step is taken whenever Newton leaves the bracket.  If the root sits at
    −λ_min (the hard case: c has no component on λ_min's eigenvector), the missing length is
    added along that eigenvector.
    """
    if len(alpha) == 1:
        values, vectors = np.array([float(alpha[0])]), np.ones((1, 1))
    else:
        values, vectors = scipy.linalg.eigh_tridiagonal(alpha, beta)
    c = b1 * vectors[0, :]
    lowest = float(values[0])
    low = max(0.0, -lowest)

    def coefficients_at(lam: float) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(c != 0, -c / (values + lam), 0.0)
        return terms

    def psi_and_slope(lam: float) -> tuple[float, float]:
        # for λ > max(0, −λ_min) every Λ_i + λ > 0; d/dλ 1/‖y‖ = Σ c²/(Λ+λ)³ / ‖y‖³
        shifted = values + lam
        terms = c / shifted
        norm = math.sqrt(float(terms @ terms))
        slope = float((terms * terms) @ (1.0 / shifted)) / norm**3 + sigma / lam**2
        return 1.0 / norm - sigma / lam, slope

    c_norm = float(np.linalg.norm(c))
    at_low = float(np.linalg.norm(coefficients_at(low))) if low > 0 else math.inf
    if c_norm > 0 and (low == 0 or at_low > low / sigma):  # ψ < 0 at the left end
        # ‖y(λ)‖ ≤ ‖c‖/(λ + λ_min) makes ψ ≥ 0 at the positive root of λ² + λ_min λ − σ‖c‖
        lo, hi = low, 0.5 * (-lowest + math.sqrt(lowest * lowest + 4.0 * sigma * c_norm))
        lam = 0.5 * (lo + hi)
        for _ in range(_NEWTON_ITERATIONS):
            value, slope = psi_and_slope(lam)
            if value == 0.0:
                break
            if value < 0:
                lo = lam
            else:
                hi = lam
            candidate = lam - value / slope
            if not lo < candidate < hi:
                candidate = 0.5 * (lo + hi)
            if abs(candidate - lam) <= 4.0 * np.spacing(lam) or hi - lo <= 4.0 * np.spacing(hi):
                lam = candidate
                break
            lam = candidate
    else:  # the hard case (c ⟂ the eigenvector of λ_min) or c = 0: λ = max(0, −λ_min)
        lam = low
    coefficients = coefficients_at(lam)
    coefficients = np.where(np.isfinite(coefficients), coefficients, 0.0)
    if low > 0:
        # near the hard case −c₀/(λ_min + λ) is 0/0-like: take y₀ from ‖y‖ = λ/σ instead
        # (exact at the root, and the only choice in the hard case itself)
        missing = (lam / sigma) ** 2 - float(coefficients[1:] @ coefficients[1:])
        if missing > 0:
            coefficients[0] = math.copysign(math.sqrt(missing), -c[0] if c[0] != 0 else 1.0)
    return vectors @ coefficients


def _cubic_model(b1: float, alpha: np.ndarray, beta: np.ndarray, y: np.ndarray, sigma: float):
    """(model value − f, gradient of the small model) at y."""
    ty = alpha * y
    if len(y) > 1:
        ty[:-1] += beta * y[1:]
        ty[1:] += beta * y[:-1]
    norm = float(np.linalg.norm(y))
    gradient = ty + sigma * norm * y
    gradient[0] += b1
    value = b1 * y[0] + 0.5 * float(y @ ty) + sigma / 3.0 * norm**3
    return value, gradient


@dataclass(frozen=True, kw_only=True)
class CubicLanczos:
    """Lanczos solver for min_s ⟨g, s⟩ + ½⟨Hs, s⟩ + (σ/3)‖s‖³ on T_xM (see module docstring).

    ``theta``: stop when ‖∇m(s)‖ ≤ θ σ ‖s‖².  One Hessian-vector product per Lanczos step and
    one more for H s at the end.
    """

    theta: float = 0.5

    def __post_init__(self) -> None:
        require_number(self.theta, "theta", minimum=0.0, open_minimum=True)

    def solve(
        self, problem: Any, x: Any, gradient: Any, sigma: float, max_iterations: int
    ) -> CubicStep:
        """Approximately minimize the cubic model at ``x`` in ≤ ``max_iterations`` Lanczos steps."""
        manifold = problem.manifold
        inner = metric_inner_product(manifold)
        hessian = problem.riemannian_hessian
        g_norm = math.sqrt(max(inner(x, gradient, gradient), 0.0))
        if g_norm > 0:
            q = gradient / g_norm
        else:
            q = random_tangent_vector(manifold, x, 0)
        basis = [q]
        alphas: list[float] = []
        betas: list[float] = []
        y = np.zeros(0)
        stop = CubicInnerStop.MAX_INNER_ITERATIONS
        scale = 0.0
        for j in range(max_iterations):
            w = hessian(x, basis[j])
            if j > 0:
                w = w - betas[-1] * basis[j - 1]
            alpha = inner(x, w, basis[j])
            w = w - alpha * basis[j]
            for previous in basis:  # full re-orthogonalization
                w = w - inner(x, w, previous) * previous
            w = to_tangent_space(manifold, x, w)
            beta = math.sqrt(max(inner(x, w, w), 0.0))
            alphas.append(alpha)
            scale = max(scale, abs(alpha), beta)
            a, b = np.asarray(alphas), np.asarray(betas)
            y = minimize_tridiagonal_cubic(a, b, g_norm, sigma)
            _, small_gradient = _cubic_model(g_norm, a, b, y, sigma)
            model_gradient = math.hypot(float(np.linalg.norm(small_gradient)), beta * y[-1])
            y_norm = float(np.linalg.norm(y))
            if model_gradient <= self.theta * sigma * y_norm**2 and y_norm > 0:
                stop = CubicInnerStop.MODEL_GRADIENT
                break
            if beta <= 1e-12 * scale or j + 1 >= int(manifold.dim):
                stop = CubicInnerStop.INVARIANT_SUBSPACE
                break
            if j + 1 >= max_iterations:
                break
            betas.append(beta)
            basis.append(w / beta)
        iterations = len(alphas)
        if not np.any(y):
            step = zero_tangent_vector(manifold, x)
            return CubicStep(step, step, iterations, stop, 0.0)
        step = y[0] * basis[0]
        for coefficient, vector in zip(y[1:], basis[1:], strict=False):
            step = step + coefficient * vector
        step = to_tangent_space(manifold, x, step)
        h_step = hessian(x, step)
        model = inner(x, gradient, step) + 0.5 * inner(x, step, h_step)
        decrease = -(model + sigma / 3.0 * inner(x, step, step) ** 1.5)
        return CubicStep(step, h_step, iterations + 1, stop, decrease)


@dataclass(frozen=True, eq=False, kw_only=True)
class ArcState(SolverState):
    """The ARC state: σ_k, the floor σ_min and the Lanczos limit for this problem."""

    sigma: float
    min_sigma: float
    max_inner_iterations: int


@dataclass(frozen=True, kw_only=True)
class AdaptiveCubicRegularization(IterativeSolver):
    """Riemannian ARC (Agarwal, Boumal, Bullins & Cartis 2021) with a Lanczos subproblem solver.

    Options (besides those of every iterative solver):

    * ``initial_sigma`` σ₀: None → 8 L̂ / Δ̄, L̂ ≈ ‖Hess f(x₀)‖ (20 power iterations, counted)
      and Δ̄ the manifold's typical distance: the cubic term then matches the quadratic one at
      ‖s‖ = Δ̄/8, trust regions' first radius (scale-aware; Manopt uses 100/Δ̄);
    * ``min_sigma`` σ_min: None → 10⁻¹⁰ σ₀;
    * ``eta_1`` η₁ ∈ (0, 1) (0.1) and ``eta_2`` η₂ ∈ [η₁, 1) (0.9): acceptance and very-successful
      thresholds for ρ;
    * ``gamma_1`` γ₁ ∈ (0, 1) (0.1), ``gamma_2`` γ₂ > 1 (1.5): σ factors;
    * ``theta`` θ > 0 (0.5): Lanczos stops when ‖∇m(s)‖ ≤ θσ‖s‖²;
    * ``max_inner_iterations`` (None → dim M) Lanczos steps per subproblem;
    * ``rho_regularization`` (1e3): round-off shift of ρ, as in trust regions.

    ``History.extra``: ``sigma`` (σ for the next subproblem), ``rho`` (NaN at the start),
    ``inner_iterations`` (Hessian-vector products of that iteration; their sum is
    ``counts.hessian`` minus the 20 of the default σ₀), ``inner_stop``, ``accepted``.  A
    proposal with a non-finite cost ends the run with ``NON_FINITE_COST``.  Stopping is the
    loop's default (gradient tolerance, limits); the certificate then tells whether the point is
    second-order critical.
    """

    name: ClassVar[str] = "arc"

    initial_sigma: float | None = None
    min_sigma: float | None = None
    eta_1: float = 0.1
    eta_2: float = 0.9
    gamma_1: float = 0.1
    gamma_2: float = 1.5
    theta: float = 0.5
    max_inner_iterations: int | None = None
    rho_regularization: float = 1e3

    def validate(self) -> None:  # noqa: D102
        super().validate()
        for option in ("initial_sigma", "min_sigma"):
            require_number(
                getattr(self, option),
                option,
                minimum=0.0,
                open_minimum=True,
                open_maximum=True,
                allow_none=True,
            )
        require_number(
            self.eta_1, "eta_1", minimum=0.0, maximum=1.0, open_minimum=True, open_maximum=True
        )
        require_number(self.eta_2, "eta_2", minimum=self.eta_1, maximum=1.0, open_maximum=True)
        require_number(
            self.gamma_1, "gamma_1", minimum=0.0, maximum=1.0, open_minimum=True, open_maximum=True
        )
        require_number(self.gamma_2, "gamma_2", minimum=1.0, open_minimum=True, open_maximum=True)
        require_number(self.theta, "theta", minimum=0.0, open_minimum=True, open_maximum=True)
        require_count(self.max_inner_iterations, "max_inner_iterations", 1, allow_none=True)
        require_number(self.rho_regularization, "rho_regularization", minimum=0.0)

    def subproblem_solver(self) -> CubicLanczos:
        """The Lanczos solver configured from ``theta``."""
        return CubicLanczos(theta=self.theta)

    def init_state(self, problem: Any, x: Any) -> ArcState:
        """f(x₀), grad f(x₀), σ₀ (estimated when ``initial_sigma`` is None) and σ_min."""
        manifold = problem.manifold
        gradient = problem.riemannian_gradient(x)
        if self.initial_sigma is not None:
            sigma = float(self.initial_sigma)
        else:
            estimate = estimate_hessian_norm(problem, x, gradient)
            if not estimate > 0:
                estimate = 1.0
            sigma = 8.0 * estimate / _typical_distance(manifold)
        min_sigma = float(self.min_sigma) if self.min_sigma is not None else 1e-10 * sigma
        return ArcState(
            problem=problem,
            point=x,
            cost=problem.cost(x),
            gradient=gradient,
            gradient_norm=float(manifold.norm(x, gradient)),
            sigma=sigma,
            min_sigma=min(min_sigma, sigma),
            max_inner_iterations=self.max_inner_iterations or max(int(manifold.dim), 1),
            extra={
                "sigma": sigma,
                "rho": math.nan,
                "inner_iterations": 0,
                "inner_stop": "",
                "accepted": True,
            },
        )

    def step(self, state: ArcState) -> ArcState:  # type: ignore[override]
        """Cubic subproblem, test ρ, accept or reject, update σ (Agarwal et al. Alg 1)."""
        problem, x, fx = state.problem, state.point, state.cost
        manifold = problem.manifold
        inner = self.subproblem_solver().solve(
            problem, x, state.gradient, state.sigma, state.max_inner_iterations
        )
        s, h_s = inner.step, inner.hessian_step
        x_new = manifold.retraction(x, s)
        f_new = problem.cost(x_new)
        common = {
            "problem": problem,
            "sigma": state.sigma,
            "min_sigma": state.min_sigma,
            "max_inner_iterations": state.max_inner_iterations,
        }
        if not np.isfinite(f_new):
            return ArcState(
                point=x_new,
                cost=f_new,
                gradient=state.gradient,
                gradient_norm=state.gradient_norm,
                extra=state.extra,
                **common,
            )
        inner_product = metric_inner_product(manifold)
        shift = max(1.0, abs(fx)) * np.spacing(1.0) * self.rho_regularization
        numerator = fx - f_new + shift
        denominator = -inner_product(x, state.gradient, s) - 0.5 * inner_product(x, s, h_s) + shift
        rho = numerator / denominator if denominator > 0 else math.nan
        accepted = bool(rho >= self.eta_1)
        if rho >= self.eta_2:
            sigma = max(state.min_sigma, self.gamma_1 * state.sigma)
        elif accepted:
            sigma = state.sigma
        else:  # also for ρ = NaN
            sigma = self.gamma_2 * state.sigma
        common["sigma"] = sigma
        if accepted:
            gradient = problem.riemannian_gradient(x_new)
            new_x, new_f = x_new, f_new
            gradient_norm = float(manifold.norm(x_new, gradient))
            step_size = float(manifold.norm(x, s))
        else:
            new_x, new_f, gradient, gradient_norm = x, fx, state.gradient, state.gradient_norm
            step_size = 0.0
        return ArcState(
            point=new_x,
            cost=new_f,
            gradient=gradient,
            gradient_norm=gradient_norm,
            step_size=step_size,
            extra={
                "sigma": sigma,
                "rho": float(rho),
                "inner_iterations": inner.iterations,
                "inner_stop": inner.stop.value,
                "accepted": accepted,
            },
            **common,
        )
