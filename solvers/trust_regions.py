"""Riemannian trust regions with a truncated conjugate-gradient subproblem solver.

Absil, Baker & Gallivan, "Trust-region methods on Riemannian manifolds", Found. Comput. Math. 7
(2007) 303–330 (Algorithm 10, RTR; Algorithm 11, tCG), in the form of Manopt's ``trustregions``
(Boumal; Conn, Gould & Toint, *Trust-Region Methods*, 2000, §7.5 and §17.4.2).

At the iterate x_k with radius Δ_k the model

    m_k(η) = f(x_k) + ⟨grad f(x_k), η⟩ + ½ ⟨Hess f(x_k)[η], η⟩,   η ∈ T_{x_k}M, ‖η‖ ≤ Δ_k,

is minimized approximately by truncated CG (Steihaug–Toint): CG on Hess f(x_k) η = −grad f(x_k)
from η = 0, stopped at negative curvature or at the trust-region boundary (then moved to the
boundary along the current direction), or when the residual satisfies

    ‖r_j‖ ≤ ‖r_0‖ · min(‖r_0‖^θ, κ)                     (θ = 1, κ = 0.1: superlinear rate).

The proposal x⁺ = R_{x_k}(η_k) is judged by ρ_k = (f(x_k) − f(x⁺)) / (m_k(0) − m_k(η_k)) (both
shifted by max(1, |f|)·ε·``rho_regularization`` so that ρ → 1 when the two differences are at
round-off level), accepted when ρ_k > ρ′, and the radius is divided by 4 when ρ_k < ¼ and doubled
(up to Δ̄) when ρ_k > ¾ and tCG stopped on the boundary.

``subproblem="lanczos"`` replaces tCG by the GLTR-type Lanczos solver of ``subproblem_lanczos``
(same residual target, exact solution of the model in the Krylov space past the boundary and
through negative curvature, the Krylov space reused after a rejected step);
``inner_precision="single"`` runs either inner iteration in float32/complex64, with the
problem's float32 Hessian-vector product where it offers one (``Problem.riemannian_hessian_single``:
an objective with ``euclidean_hessian_single`` on the sphere), else with products computed in
double and rounded.  The model decrease in ρ, −⟨g, η⟩ − ½⟨η, Hη⟩, is then evaluated in double
on the returned η and Hη, but Hη is the float32 recurrence's: its relative error is of order
ε_single times the condition of Hess f(x) on the Krylov space, relative to the decrease itself
(not to |f|), so ρ stays accurate to about that near convergence.  With an absolute
``gradient_tolerance`` the inner residual target is floored at half of it: the new gradient is
the residual up to O(‖η‖²), so a smaller residual cannot be seen by the outer test.

Every Hessian-vector product goes through ``problem.riemannian_hessian(x, ·)`` (or its float32
twin ``riemannian_hessian_single`` in single precision); the Euclidean
gradient and the shared intermediate results at x are cached by the ``Problem``, so the
gradient is computed once per accepted iterate, never per Hessian-vector product.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from manifoldscape.boundary import require_optional_callable
from manifoldscape.core.loop import IterativeSolver, SolverState, require_count, require_number
from manifoldscape.geometry import zero_tangent_vector
from manifoldscape.solvers.subproblem_base import (
    _FROBENIUS_METRIC,
    PRECISIONS,
    InnerStop,
    SubproblemResult,
    _vdot,
    inner_operators,
    metric_inner_product,
    validate_inner_options,
    working_dtype,
)
from manifoldscape.solvers.subproblem_lanczos import LanczosTrustRegion

__all__ = [
    "PRECONDITIONER_FORM",
    "_FROBENIUS_METRIC",
    "InnerStop",
    "LanczosTrustRegion",
    "SubproblemResult",
    "TruncatedConjugateGradient",
    "TrustRegionState",
    "TrustRegions",
    "_typical_distance",
    "_vdot",
    "metric_inner_product",
    "validate_trust_region_options",
]

PRECONDITIONER_FORM = "preconditioner(x, r) -> z, a symmetric positive-definite map of T_xM"
SUBPROBLEM_SOLVERS = ("tcg", "lanczos")


@dataclass(frozen=True, kw_only=True)
class TruncatedConjugateGradient:
    """Steihaug–Toint truncated CG for min ⟨g, η⟩ + ½⟨H η, η⟩ s.t. ‖η‖ ≤ Δ (ABG 2007, Alg. 11).

    ``kappa`` and ``theta`` set the residual target ‖r‖ ≤ ‖r₀‖ min(‖r₀‖^θ, κ);
    ``min_iterations`` inner iterations are done before that target is tested. Each inner
    iteration costs exactly one Hessian-vector product, so ``iterations`` of the result equals the
    number of products.

    ``preconditioner(x, r) -> z``, when given, is a symmetric positive-definite operator P on
    T_xM approximating Hess f(x)⁻¹ (ABG 2007, Alg. 11 with a preconditioner; Manopt's
    ``trs_tCG``): the search directions are P-conjugate, z_j = P r_j, β_j = ⟨z_j, r_j⟩ /
    ⟨z_{j−1}, r_{j−1}⟩, and the trust region is measured in the norm ‖η‖²_{P⁻¹} = ⟨η, P⁻¹η⟩,
    kept by the recurrences ⟨η, P⁻¹η⟩, ⟨η, P⁻¹δ⟩, ⟨δ, P⁻¹δ⟩ without applying P⁻¹.  The
    residual target is still tested on the unpreconditioned ‖r‖.  Without one, z = r and the
    iterates are those of the unpreconditioned method, operation for operation.

    ``precision="single"``: the recurrences (η, Hη, r, δ and their inner products) in
    float32/complex64 for tangent vectors held as one array; each Hessian-vector product is the
    problem's float32 one where ``problem.offers_single_hessian(x)`` (then nothing of the inner
    iteration runs in double), else computed in double and rounded; the residual target is
    floored at 10 ε_single ‖r₀‖, and the step and Hη (the recurrence's, to float32 accuracy) are
    returned in double.
    """

    kappa: float = 0.1
    theta: float = 1.0
    min_iterations: int = 1
    preconditioner: Callable[[Any, Any], Any] | None = None
    precision: str = "double"

    def __post_init__(self) -> None:
        validate_inner_options(self)
        require_optional_callable(self.preconditioner, "preconditioner", PRECONDITIONER_FORM)

    def solve(
        self,
        problem: Any,
        x: Any,
        gradient: Any,
        radius: float,
        max_iterations: int,
        *,
        target_floor: float = 0.0,
    ) -> SubproblemResult:
        """Approximately minimize the model at ``x`` within ``radius`` in ≤ ``max_iterations``.

        ``target_floor``: the residual target is never below it (the outer iteration's absolute
        gradient tolerance asks for no more).
        """
        manifold = problem.manifold
        inner = metric_inner_product(manifold)
        dtype = working_dtype(gradient, self.precision)
        ops = inner_operators(problem, x, dtype)

        eta = ops.cast(zero_tangent_vector(manifold, x))
        h_eta = eta
        r = ops.cast(gradient)
        r_r = inner(x, r, r)
        norm_r0 = math.sqrt(max(r_r, 0.0))  # a metric evaluated by round-off can dip below 0
        if norm_r0 == 0.0:
            return SubproblemResult(eta, h_eta, 0, InnerStop.ZERO_GRADIENT)
        target = max(norm_r0 * min(norm_r0**self.theta, self.kappa), target_floor)
        if dtype is not None:
            target = max(target, 10.0 * float(np.finfo(dtype).eps) * norm_r0)
        g = r
        radius_sq = radius * radius

        precondition = self.preconditioner
        if precondition is None:
            z, z_r = r, r_r
        else:
            z = precondition(x, r)
            z_r = inner(x, z, r)
        delta = -z
        e_pe, e_pd, d_pd = 0.0, 0.0, z_r  # ⟨η,P⁻¹η⟩, ⟨η,P⁻¹δ⟩, ⟨δ,P⁻¹δ⟩ (P = I without one)
        model_value = 0.0
        stop = InnerStop.MAX_INNER_ITERATIONS
        iterations = 0
        for j in range(max_iterations):
            h_delta = ops.hessian(delta)
            iterations = j + 1
            d_hd = inner(x, delta, h_delta)
            alpha = z_r / d_hd if d_hd != 0 else math.inf
            e_pe_new = e_pe + 2.0 * alpha * e_pd + alpha * alpha * d_pd if d_hd != 0 else e_pe
            if d_hd <= 0 or e_pe_new >= radius_sq:
                # move to the boundary: τ ≥ 0 with ‖η + τ δ‖ = Δ
                tau = (-e_pd + math.sqrt(e_pd * e_pd + d_pd * (radius_sq - e_pe))) / d_pd
                eta = eta + tau * delta
                h_eta = h_eta + tau * h_delta
                stop = InnerStop.NEGATIVE_CURVATURE if d_hd <= 0 else InnerStop.EXCEEDED_RADIUS
                break
            e_pe = e_pe_new
            new_eta = eta + alpha * delta
            new_h_eta = h_eta + alpha * h_delta
            new_model_value = inner(x, new_eta, g + 0.5 * new_h_eta)  # m(η) − f(x)
            if new_model_value >= model_value:  # only through round-off: keep the previous η
                stop = InnerStop.MODEL_INCREASED
                break
            eta, h_eta, model_value = new_eta, new_h_eta, new_model_value
            r = r + alpha * h_delta
            r_r = inner(x, r, r)
            if iterations >= self.min_iterations and math.sqrt(max(r_r, 0.0)) <= target:
                stop = (
                    InnerStop.REACHED_TARGET_LINEAR
                    if self.kappa < norm_r0**self.theta
                    else InnerStop.REACHED_TARGET_SUPERLINEAR
                )
                break
            if precondition is None:
                z, z_r_new = r, r_r
            else:
                z = precondition(x, r)
                z_r_new = inner(x, z, r)
            beta = z_r_new / z_r
            z_r = z_r_new
            # the new direction, re-projected to stay tangent despite round-off
            delta = ops.project(-z + beta * delta)
            e_pd = beta * (e_pd + alpha * d_pd)
            d_pd = z_r + beta * beta * d_pd
        if dtype is not None:
            double = np.complex128 if dtype.kind == "c" else np.float64
            eta, h_eta = eta.astype(double), h_eta.astype(double)
        return SubproblemResult(eta, h_eta, iterations, stop)


@dataclass(frozen=True, eq=False, kw_only=True)
class TrustRegionState(SolverState):
    """The trust-region state: the radius Δ_k and the per-problem bounds Δ̄ and max inner.

    ``krylov``: after a rejected step, the subproblem solver's reusable Krylov space at the
    unchanged iterate (Lanczos only), else None.
    """

    radius: float
    max_radius: float
    max_inner_iterations: int
    krylov: Any = None


def validate_trust_region_options(config: Any) -> None:
    """Checks shared by ``TrustRegions`` and the pymanopt wrapper's options of the same names."""
    for name in ("max_radius", "initial_radius"):
        require_number(getattr(config, name), name, minimum=0.0, open_minimum=True, allow_none=True)
    if config.max_radius is not None and config.initial_radius is not None:
        if config.initial_radius > config.max_radius:
            raise ValueError(
                f"initial_radius must not exceed max_radius, got {config.initial_radius} > "
                f"{config.max_radius}"
            )
    require_number(config.rho_prime, "rho_prime", minimum=0.0, maximum=0.25, open_maximum=True)
    require_number(
        config.kappa, "kappa", minimum=0.0, maximum=1.0, open_minimum=True, open_maximum=True
    )
    require_number(config.theta, "theta", minimum=0.0)
    require_number(config.rho_regularization, "rho_regularization", minimum=0.0)
    require_count(config.min_inner_iterations, "min_inner_iterations")
    require_count(config.max_inner_iterations, "max_inner_iterations", 1, allow_none=True)
    subproblem = getattr(config, "subproblem", "tcg")
    if subproblem not in SUBPROBLEM_SOLVERS:
        raise ValueError(f"subproblem must be one of 'tcg', 'lanczos', got {subproblem!r}")
    precision = getattr(config, "inner_precision", "double")
    if precision not in PRECISIONS:
        raise ValueError(f"inner_precision must be one of 'double', 'single', got {precision!r}")
    if subproblem == "lanczos" and getattr(config, "preconditioner", None) is not None:
        raise ValueError("preconditioner is supported with subproblem='tcg' only, not 'lanczos'")


def _typical_distance(manifold: Any) -> float:
    try:
        return float(manifold.typical_dist)
    except (NotImplementedError, AttributeError):
        return float(np.sqrt(manifold.dim))


@dataclass(frozen=True, kw_only=True)
class TrustRegions(IterativeSolver):
    """Riemannian trust regions with truncated CG (Absil–Baker–Gallivan 2007; Manopt defaults).

    Options (besides max_iterations, max_time, gradient_tolerance, rtol_gradient,
    max_cost_evaluations, stopping_criterion of every solver):

    * ``max_radius`` Δ̄ (default: the manifold's typical distance, π on the sphere);
    * ``initial_radius`` Δ₀ (default Δ̄/8);
    * ``rho_prime`` ρ′ ∈ [0, ¼): accept a proposal when ρ > ρ′ (default 0.1);
    * ``kappa``, ``theta``: the tCG residual target (0.1, 1.0);
    * ``min_inner_iterations`` (1), ``max_inner_iterations`` (default: dim M);
    * ``rho_regularization`` (1e3): the round-off shift of ρ (Conn–Gould–Toint §17.4.2);
    * ``preconditioner`` (None): ``preconditioner(x, r) -> z``, a symmetric positive-definite
      map of T_xM approximating Hess f(x)⁻¹, used by tCG (see ``TruncatedConjugateGradient``;
      the trust region is then measured in the norm ⟨η, P⁻¹η⟩, as in Manopt);
    * ``subproblem`` ("tcg"): "tcg" for truncated CG, "lanczos" for the GLTR-type Lanczos solver
      (``subproblem_lanczos.LanczosTrustRegion``): same residual target, but it goes on past the
      boundary and through negative curvature in the same Krylov space, solving the tridiagonal
      trust-region problem exactly (no preconditioner);
    * ``inner_precision`` ("double"): "single" runs the inner recurrences in float32/complex64
      (Hessian-vector products in float32 where the problem offers them, see
      ``Problem.riemannian_hessian_single``, else in double and rounded); the outer iteration,
      ρ (from the float32-accurate Hη of the inner iteration) and the certificate stay in
      double.

    ``History.extra`` holds per iterate: ``radius`` (Δ in force for the next subproblem), ``rho``
    (NaN at the start), ``inner_iterations`` (= Hessian-vector products of that iteration, so
    their sum is ``counts.hessian``), ``inner_stop`` (an ``InnerStop`` value, "" at the start) and
    ``accepted``.  Counts: cost once per iteration plus the start, gradient once per accepted
    iterate plus the start.  A proposal with a non-finite cost ends the run with
    ``NON_FINITE_COST`` and the current iterate.
    """

    name: ClassVar[str] = "trust-regions"

    max_radius: float | None = None
    initial_radius: float | None = None
    rho_prime: float = 0.1
    kappa: float = 0.1
    theta: float = 1.0
    min_inner_iterations: int = 1
    max_inner_iterations: int | None = None
    rho_regularization: float = 1e3
    preconditioner: Callable[[Any, Any], Any] | None = None
    subproblem: str = "tcg"
    inner_precision: str = "double"

    def validate(self) -> None:  # noqa: D102
        super().validate()
        validate_trust_region_options(self)
        self.subproblem_solver()

    def subproblem_solver(self) -> TruncatedConjugateGradient | LanczosTrustRegion:
        """The subproblem solver configured from this solver's inner options."""
        if self.subproblem == "lanczos":
            return LanczosTrustRegion(
                kappa=self.kappa,
                theta=self.theta,
                min_iterations=self.min_inner_iterations,
                precision=self.inner_precision,
            )
        return TruncatedConjugateGradient(
            kappa=self.kappa,
            theta=self.theta,
            min_iterations=self.min_inner_iterations,
            preconditioner=self.preconditioner,
            precision=self.inner_precision,
        )

    def init_state(self, problem: Any, x: Any) -> TrustRegionState:
        """f(x₀), grad f(x₀), and the radii Δ̄, Δ₀ for this manifold."""
        manifold = problem.manifold
        max_radius = self.max_radius if self.max_radius is not None else _typical_distance(manifold)
        radius = self.initial_radius if self.initial_radius is not None else max_radius / 8
        max_inner = self.max_inner_iterations or int(manifold.dim)
        gradient = problem.riemannian_gradient(x)
        return TrustRegionState(
            problem=problem,
            point=x,
            cost=problem.cost(x),
            gradient=gradient,
            gradient_norm=float(manifold.norm(x, gradient)),
            radius=float(radius),
            max_radius=float(max_radius),
            max_inner_iterations=max_inner,
            extra={
                "radius": float(radius),
                "rho": math.nan,
                "inner_iterations": 0,
                "inner_stop": "",
                "accepted": True,
            },
        )

    def step(self, state: TrustRegionState) -> TrustRegionState:  # type: ignore[override]
        """Solve the subproblem, test ρ, update the radius, accept or reject (ABG 2007, Alg. 10)."""
        problem, x, fx = state.problem, state.point, state.cost
        manifold = problem.manifold
        floor = 0.0 if self.gradient_tolerance is None else 0.5 * self.gradient_tolerance
        reuse = {"krylov": state.krylov} if self.subproblem == "lanczos" else {}
        inner = self.subproblem_solver().solve(
            problem,
            x,
            state.gradient,
            state.radius,
            state.max_inner_iterations,
            target_floor=floor,
            **reuse,
        )
        eta, h_eta = inner.step, inner.hessian_step
        x_new = manifold.retraction(x, eta)
        f_new = problem.cost(x_new)
        if not np.isfinite(f_new):
            return TrustRegionState(
                problem=problem,
                point=x_new,
                cost=f_new,
                gradient=state.gradient,
                gradient_norm=state.gradient_norm,
                radius=state.radius,
                max_radius=state.max_radius,
                max_inner_iterations=state.max_inner_iterations,
                extra=state.extra,
            )
        inner_product = metric_inner_product(manifold)
        g_eta = inner_product(x, state.gradient, eta)
        eta_h_eta = inner_product(x, eta, h_eta)
        shift = max(1.0, abs(fx)) * np.spacing(1.0) * self.rho_regularization
        numerator = fx - f_new + shift
        denominator = -g_eta - 0.5 * eta_h_eta + shift
        model_decreased = denominator >= 0
        rho = numerator / denominator if denominator != 0 else math.nan

        radius = state.radius
        if not model_decreased or not rho >= 0.25:  # also catches rho = NaN
            radius = radius / 4
        elif rho > 0.75 and inner.stop.on_boundary:
            radius = min(2 * radius, state.max_radius)

        accepted = bool(model_decreased and rho > self.rho_prime)
        if accepted:
            gradient = problem.riemannian_gradient(x_new)
            new_x, new_f = x_new, f_new
            gradient_norm = float(manifold.norm(x_new, gradient))
            step_size = float(manifold.norm(x, eta))
        else:
            new_x, new_f, gradient, gradient_norm = x, fx, state.gradient, state.gradient_norm
            step_size = 0.0
        return TrustRegionState(
            problem=problem,
            point=new_x,
            cost=new_f,
            gradient=gradient,
            gradient_norm=gradient_norm,
            step_size=step_size,
            radius=radius,
            max_radius=state.max_radius,
            max_inner_iterations=state.max_inner_iterations,
            krylov=None if accepted else inner.krylov,
            extra={
                "radius": radius,
                "rho": float(rho),
                "inner_iterations": inner.iterations,
                "inner_stop": inner.stop.value,
                "accepted": accepted,
            },
        )
