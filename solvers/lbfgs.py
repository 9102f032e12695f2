"""Riemannian limited-memory BFGS with vector transport and Armijo backtracking.

Huang, Gallivan & Absil, "A Broyden class of quasi-Newton methods for Riemannian optimization",
SIAM J. Optim. 25 (2015) 1660–1685 (RBFGS and its limited-memory version, Alg. 2/LRBFGS), with
the cautious update of Huang, Absil & Gallivan, "A Riemannian BFGS method without differentiated
retraction for nonconvex optimization problems", SIAM J. Optim. 28 (2018) 470–495, in the form
of Manopt's ``rlbfgs``; the two-loop recursion is Nocedal & Wright, *Numerical Optimization*,
Alg. 7.4.  A first-order method for the seeds' landscapes (seed 003 §1: gradient methods reach
minimizers of benign problems), faster than gradient descent when the Hessian is ill-conditioned.

At x_k the direction is p_k = −𝓗_k grad f(x_k), with 𝓗_k the L-BFGS inverse-Hessian model built
from the last m pairs (s_i, y_i), all stored in T_{x_k}M:

    s_k = T_{x_k→x_{k+1}}(α_k p_k),   y_k = grad f(x_{k+1}) − T_{x_k→x_{k+1}}(grad f(x_k)),

where T is the manifold's vector transport (``geometry.transport``: the orthogonal projection
onto the new tangent space for embedded submanifolds — sphere, Stiefel, Grassmann — and the
identity on Euclidean spaces); at every step the stored pairs are transported along.  The
initial model is γ_k I with γ_k = ⟨s, y⟩/⟨y, y⟩ of the newest pair; before the first pair,
γ₀ = ‖g‖² / |⟨g, Hess f(x₀)[g]⟩| (the exact line-minimizing step of the quadratic model along
−g; one Hessian-vector product; 1/‖g‖ on a first-order manifold such as pymanopt's
``FixedRankEmbedded``).  A pair enters the memory only if (cautious update)

    ⟨s, y⟩ ≥ ``cautious`` · ‖s‖ ‖y‖            (a dimensionless cosine, default 10⁻¹⁰),

which keeps 𝓗_k positive definite on nonconvex costs.  The step α_k is found by Armijo
backtracking from α = 1: accept when f(R_x(α p)) ≤ f(x) + c₁ α ⟨g, p⟩ (c₁ = 10⁻⁴), else
α ← τα (τ = ½).  Near convergence f cannot resolve the decrease c₁⟨g, p⟩ (with the loop's
tolerance 10⁻⁸·scale the decrease is ~10⁻¹⁶·scale), so the full step α = 1 is also accepted when
the predicted decrease is below the round-off level 10³ ε max(1, |f|) and the cost did not
grow by more than that (the shift trust regions apply to ρ); backtracked steps must pass the
true Armijo test.  If p is not a descent direction or backtracking fails, the memory is cleared
and the next step is along −γ g; if that fails as well the run stops (``STEP_TOLERANCE``: the
cost cannot be lowered above round-off along −grad f).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from manifoldscape.core.loop import (
    IterationInfo,
    IterativeSolver,
    SolverState,
    Stop,
    StoppingCriterion,
    require_count,
    require_number,
)
from manifoldscape.core.result import StopReason
from manifoldscape.geometry import SecondOrderUnavailable, transport
from manifoldscape.solvers.trust_regions import _typical_distance, metric_inner_product

__all__ = ["LineSearchFailed", "RiemannianLBFGS", "RiemannianLBFGSState"]

#: round-off allowance, in units of ε·max(1, |f|) (trust regions' rho_regularization)
_ROUNDOFF = 1e3


@dataclass(frozen=True, eq=False, kw_only=True)
class RiemannianLBFGSState(SolverState):
    """The L-BFGS state: the memory (s_i, y_i, 1/⟨s_i, y_i⟩) in T_xM, oldest first, and γ."""

    memory: tuple[tuple[Any, Any, float], ...] = ()
    gamma: float = 1.0
    failed: bool = False


@dataclass(frozen=True)
class LineSearchFailed(StoppingCriterion):
    """Stop when backtracking along −grad f found no Armijo decrease (``STEP_TOLERANCE``)."""

    reason: ClassVar[StopReason] = StopReason.STEP_TOLERANCE

    def check(self, info: IterationInfo) -> Stop | None:  # noqa: D102
        if getattr(info.state, "failed", False):
            return Stop(
                self.reason,
                f"the line search along −grad f found no decrease at iteration {info.iteration} "
                f"(gradient norm {info.gradient_norm:.3e}): the cost is flat to round-off",
            )
        return None


@dataclass(frozen=True, kw_only=True)
class RiemannianLBFGS(IterativeSolver):
    """Riemannian L-BFGS (Huang, Gallivan & Absil 2015) with Armijo backtracking.

    Options (besides those of every iterative solver):

    * ``memory`` m ≥ 1 (default 10): pairs kept;
    * ``sufficient_decrease`` c₁ ∈ (0, 1) (1e-4) and ``contraction`` τ ∈ (0, 1) (0.5): Armijo;
    * ``max_backtracks`` (default 50) per line search;
    * ``cautious`` ≥ 0 (1e-10): minimal cosine between s and y for a pair to be stored.

    ``History.extra``: ``alpha`` (accepted step length factor, 0 at the start and after a
    failed search), ``backtracks``, ``memory_used`` (pairs that built the direction).  Counts:
    one cost evaluation per trial point, one gradient per accepted iterate, one Hessian-vector
    product at the start (γ₀).  A trial point with a non-finite cost ends the run with
    ``NON_FINITE_COST`` (returning the current iterate), as trust regions do.
    """

    name: ClassVar[str] = "lbfgs"

    memory: int = 10
    sufficient_decrease: float = 1e-4
    contraction: float = 0.5
    max_backtracks: int = 50
    cautious: float = 1e-10

    def validate(self) -> None:  # noqa: D102
        super().validate()
        require_count(self.memory, "memory", 1)
        require_number(
            self.sufficient_decrease,
            "sufficient_decrease",
            minimum=0.0,
            maximum=1.0,
            open_minimum=True,
            open_maximum=True,
        )
        require_number(
            self.contraction,
            "contraction",
            minimum=0.0,
            maximum=1.0,
            open_minimum=True,
            open_maximum=True,
        )
        require_count(self.max_backtracks, "max_backtracks", 1)
        require_number(self.cautious, "cautious", minimum=0.0, maximum=1.0, open_maximum=True)

    def default_stopping_criterion(self) -> StoppingCriterion:
        """The loop's default rule, plus ``LineSearchFailed``."""
        return super().default_stopping_criterion() | LineSearchFailed()

    def init_state(self, problem: Any, x: Any) -> RiemannianLBFGSState:
        """f(x₀), grad f(x₀), and γ₀ from one Hessian-vector product along the gradient."""
        manifold = problem.manifold
        inner = metric_inner_product(manifold)
        gradient = problem.riemannian_gradient(x)
        g_norm = float(manifold.norm(x, gradient))
        gamma = 1.0
        try:
            h_g = problem.riemannian_hessian(x, gradient) if g_norm > 0 else None
        except SecondOrderUnavailable:  # a first-order manifold: a unit first step
            h_g, gamma = None, 1.0 / g_norm
        if h_g is not None:
            curvature = inner(x, gradient, h_g)
            h_norm = math.sqrt(max(inner(x, h_g, h_g), 0.0))
            # curvature at round-off level (a zero of ⟨g, Hess f[g]⟩) would give a huge γ₀
            if curvature > 1e-8 * g_norm * h_norm:
                gamma = g_norm**2 / curvature
            elif h_norm > 0:
                gamma = g_norm / h_norm
            else:
                gamma = _typical_distance(manifold) / g_norm
        return RiemannianLBFGSState(
            problem=problem,
            point=x,
            cost=problem.cost(x),
            gradient=gradient,
            gradient_norm=g_norm,
            gamma=gamma,
            extra={"alpha": 0.0, "backtracks": 0, "memory_used": 0},
        )

    @staticmethod
    def _direction(inner: Any, x: Any, gradient: Any, memory: tuple, gamma: float) -> Any:
        """−𝓗 g by the two-loop recursion (Nocedal & Wright Alg. 7.4) with 𝓗₀ = γ I."""
        q = gradient
        coefficients = []
        for s, y, rho in reversed(memory):
            a = rho * inner(x, s, q)
            coefficients.append(a)
            q = q - a * y
        r = gamma * q
        for (s, y, rho), a in zip(memory, reversed(coefficients), strict=True):
            b = rho * inner(x, y, r)
            r = r + (a - b) * s
        return -r

    def step(self, state: RiemannianLBFGSState) -> RiemannianLBFGSState:  # type: ignore[override]
        """Two-loop direction, Armijo backtracking, transport of the memory, cautious update."""
        problem, x, fx, g = state.problem, state.point, state.cost, state.gradient
        manifold = problem.manifold
        inner = metric_inner_product(manifold)
        memory, gamma = state.memory, state.gamma
        direction = self._direction(inner, x, g, memory, gamma)
        slope = inner(x, g, direction)
        if not slope < 0:  # not a descent direction: restart from −γ g
            memory = ()
            direction = -gamma * g
            slope = inner(x, g, direction)

        def stay(failed: bool, backtracks: int) -> RiemannianLBFGSState:
            return RiemannianLBFGSState(
                problem=problem,
                point=x,
                cost=fx,
                gradient=g,
                gradient_norm=state.gradient_norm,
                memory=(),
                gamma=gamma,
                failed=failed,
                extra={"alpha": 0.0, "backtracks": backtracks, "memory_used": len(memory)},
            )

        if not slope < 0:  # g = 0 exactly: nothing to do
            return stay(True, 0)
        alpha, backtracks = 1.0, 0
        roundoff = _ROUNDOFF * np.spacing(1.0) * max(1.0, abs(fx))
        while True:
            x_new = manifold.retraction(x, alpha * direction)
            f_new = problem.cost(x_new)
            if not np.isfinite(f_new):  # the loop stops and returns x
                return RiemannianLBFGSState(
                    problem=problem,
                    point=x_new,
                    cost=f_new,
                    gradient=g,
                    gradient_norm=state.gradient_norm,
                    extra=state.extra,
                )
            predicted = self.sufficient_decrease * alpha * -slope
            decrease = fx - f_new
            if decrease >= predicted or (
                backtracks == 0 and predicted <= roundoff and decrease >= -roundoff
            ):
                break
            if backtracks >= self.max_backtracks:
                # failed along an L-BFGS direction: retry along −γ g; along −γ g: give up
                return stay(not memory, backtracks)
            alpha *= self.contraction
            backtracks += 1
        new_gradient = problem.riemannian_gradient(x_new)
        step = alpha * direction
        s = transport(manifold, x, x_new, step)
        y = new_gradient - transport(manifold, x, x_new, g)
        transported = tuple(
            (transport(manifold, x, x_new, si), transport(manifold, x, x_new, yi), rho)
            for si, yi, rho in memory
        )
        sy = inner(x_new, s, y)
        s_norm = math.sqrt(max(inner(x_new, s, s), 0.0))
        y_norm = math.sqrt(max(inner(x_new, y, y), 0.0))
        if sy > 0 and sy >= self.cautious * s_norm * y_norm:
            transported = (*transported, (s, y, 1.0 / sy))[-self.memory :]
            gamma = sy / y_norm**2
        return RiemannianLBFGSState(
            problem=problem,
            point=x_new,
            cost=f_new,
            gradient=new_gradient,
            gradient_norm=float(manifold.norm(x_new, new_gradient)),
            step_size=float(manifold.norm(x, step)),
            memory=transported,
            gamma=gamma,
            extra={"alpha": alpha, "backtracks": backtracks, "memory_used": len(memory)},
        )
