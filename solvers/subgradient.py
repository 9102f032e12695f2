"""Riemannian subgradient method with geometrically decaying steps, for nonsmooth objectives.

The ℓ1 formulation of complete dictionary learning, min_{q ∈ S^{n−1}} (1/p)‖qᵀȲ‖₁ (seed 001,
"Dictionary Learning – Complete Case"; seed 003 §3.1–3.2, eq. (3.4)), is not differentiable
where some qᵀȳ_j = 0.  It is minimized by the Riemannian subgradient method

    v_k = P_{T_{x_k}M}(g_k),   g_k ∈ ∂f(x_k)   (the problem's ``euclidean_gradient``, which for a
                                               nonsmooth objective returns one subgradient),
    x_{k+1} = R_{x_k}(−η_k v_k / ‖v_k‖),        η_k = η₀ β^k,   0 < β < 1,

(Bai, Jiang & Sun, "Subgradient descent learns orthogonal dictionaries", ICLR 2019, seed 003
ref. [215], for ℓ1 on the sphere; Zhu et al., "Dual principal component pursuit: improved analysis
and efficient algorithms", NeurIPS 2018, seed 003 ref. [126], projected subgradient with
geometrically diminishing steps μ_k = μ₀β^k; Li, Chen, Deng, Qu, Zhu & So, "Nonsmooth
optimization over Stiefel manifold: Riemannian subgradient methods", seed 003 ref. [130]: linear
convergence of the Riemannian subgradient method with geometrically diminishing steps for sharp,
weakly convex objectives; the same function class as the sharp ℓ1 minimizers ±eᵢ here).

**Normalisation.** By default (``normalize=True``) the step is the *normalised* subgradient, so
η_k is the length of the k-th step: the rule of Goffin (1977) analysed for sharp weakly convex
functions by Davis, Drusvyatskiy, MacPhee & Paquette, "Subgradient methods for sharp weakly
convex functions", JOTA 2018 (seed 003 ref. [213]), x_{k+1} = x_k − λ₀ q^k g_k/‖g_k‖.  It makes
the iterates independent of the scale of f (f ↦ c f changes nothing), makes η₀ a distance on the
manifold (radians on the sphere) and makes ``step_tolerance`` a bound on how far the iterate still
moves.  ``normalize=False`` takes x_{k+1} = R_{x_k}(−η_k v_k) as in Li et al. [130].

**Stopping.** The default rule is

    ‖v_k‖ ≤ gradient tolerance  or  η_k ‖·‖ < step_tolerance  or  max_iterations  or  max_time.

The gradient test alone would not do: at a minimizer of a nonsmooth f the subgradient the oracle
returns need not vanish (for the ℓ1 objective at ±eᵢ, ‖P_x sign(Yᵀx)‖ stays of order one as
x → ±eᵢ), so the gradient norm does not go to zero and the run would end only at
``max_iterations``.  The geometric steps do go to zero: with the normalised step, the iterate
moves by exactly η_k, and for a sharp minimizer the distance to it is O(η_k) once the iterate is
captured (Davis et al. 2018), so "step below tolerance" is the natural convergence test.
The loop does not count ``STEP_TOLERANCE`` as convergence (``Result.converged`` is False), and
``η₀/(1 − β)`` bounds the total distance travelled, so η₀ and β must leave enough travel to reach
a minimizer from the start.

**Certificate.** As every solver, the final point is certified from its Riemannian gradient and
Hessian.  For a nonsmooth objective the certificate may honestly report ``not_critical`` at a
point that *is* a (nonsmooth) minimizer: the Riemannian subgradient returned there is not zero
and the Hessian of a piecewise-linear cost is only the curvature of the manifold.  Judge such
runs by the distance to the ground truth (modulo the symmetry group), not by the certificate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from manifoldscape.core.loop import (
    IterativeSolver,
    SolverState,
    StepSizeBelow,
    StoppingCriterion,
    require_number,
)


@dataclass(frozen=True, eq=False, kw_only=True)
class SubgradientState(SolverState):
    """The subgradient state: the step length η_k = η₀ β^k of the next step."""

    step_length: float


@dataclass(frozen=True, kw_only=True)
class RiemannianSubgradient(IterativeSolver):
    """Riemannian subgradient method x_{k+1} = R_{x_k}(−η₀β^k v_k/‖v_k‖) (module docstring).

    Options (besides those of every solver):

    * ``step_size`` η₀ > 0: the first step length (default 0.1; radians on the sphere when
      ``normalize`` is True);
    * ``decay`` β ∈ (0, 1): the geometric decay of the steps (default 0.97);
    * ``normalize``: step along v_k/‖v_k‖ (default True, Davis et al. 2018) or along v_k;
    * ``step_tolerance``: stop once the last step was shorter than this (default 1e-9);
    * ``max_iterations`` defaults to 5000.

    With the defaults the steps reach 1e-9 after about 600 iterations and the total travel is
    η₀/(1 − β) ≈ 3.3.  ``History.extra['step_length']`` holds η_k for the step after each
    iterate.  A zero subgradient leaves the point where it is.
    """

    name: ClassVar[str] = "subgradient"

    max_iterations: int = 5000
    step_size: float = 0.1
    decay: float = 0.97
    normalize: bool = True
    step_tolerance: float = 1e-9

    def validate(self) -> None:  # noqa: D102
        super().validate()
        require_number(
            self.step_size,
            "step_size",
            minimum=0.0,
            maximum=math.inf,
            open_minimum=True,
            open_maximum=True,
        )
        require_number(
            self.decay, "decay", minimum=0.0, maximum=1.0, open_minimum=True, open_maximum=True
        )
        if not isinstance(self.normalize, (bool, np.bool_)):
            raise TypeError(f"normalize must be True or False, got {self.normalize!r}")
        require_number(self.step_tolerance, "step_tolerance", minimum=0.0)

    def default_stopping_criterion(self) -> StoppingCriterion:
        """The loop's default rule, plus the step falling below ``step_tolerance``."""
        return super().default_stopping_criterion() | StepSizeBelow(self.step_tolerance)

    def init_state(self, problem: Any, x: Any) -> SubgradientState:
        """f(x₀), the Riemannian subgradient v₀ and the first step length η₀."""
        gradient = problem.riemannian_gradient(x)
        return SubgradientState(
            problem=problem,
            point=x,
            cost=problem.cost(x),
            gradient=gradient,
            gradient_norm=float(problem.manifold.norm(x, gradient)),
            step_length=float(self.step_size),
            extra={"step_length": float(self.step_size)},
        )

    def step(self, state: SubgradientState) -> SubgradientState:  # type: ignore[override]
        """x⁺ = R_x(−η v/‖v‖) (or R_x(−η v)); the recorded step size is the step's length."""
        problem = state.problem
        manifold = problem.manifold
        eta = state.step_length
        norm = state.gradient_norm
        if norm > 0:
            scale = eta / norm if self.normalize else eta
            x_new = manifold.retraction(state.point, -scale * state.gradient)
            length = scale * norm
        else:
            x_new, length = state.point, 0.0
        cost = problem.cost(x_new)
        if np.isfinite(cost):
            gradient = problem.riemannian_gradient(x_new)
            gradient_norm = float(manifold.norm(x_new, gradient))
        else:  # the loop stops here and returns the previous iterate
            gradient, gradient_norm = state.gradient, math.nan
        next_eta = eta * self.decay
        return SubgradientState(
            problem=problem,
            point=x_new,
            cost=cost,
            gradient=gradient,
            gradient_norm=gradient_norm,
            step_size=length,
            step_length=next_eta,
            extra={"step_length": next_eta},
        )
