"""Riemannian gradient descent with a fixed step size.

The "vanilla gradient descent" x_{k+1} = x_k − τ ∇f(x_k) with τ ≡ 1/L of seed 001 ("Gradient
Descent Converges to Critical Points": min_{i ≤ k} ‖∇f(x_i)‖ ≤ √((f(x_0) − f⋆)/k) for an L-smooth
f), run "with random initializations" (seed 001, phase retrieval; seed 003, "Efficient
First-Order Algorithms": randomly initialized gradient descent obtains a minimizer with
probability one, its refs. [21, 27]), on a manifold:

    x_{k+1} = R_{x_k}(−η grad f(x_k)),

with the manifold's retraction R and one step size η for the whole run.  With η ≤ 1/L, L a
Lipschitz constant of the gradient along retractions, the cost decreases at every step and the
gradient norms obey the same bound (Boumal, *An Introduction to Optimization on Smooth
Manifolds*, §4.3).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from manifoldscape.core.loop import IterativeSolver, SolverState, require_number
from manifoldscape.geometry import SecondOrderUnavailable, random_tangent_vector, to_tangent_space
from manifoldscape.geometry.fast import norm_function, retraction_function

logger = logging.getLogger(__name__)

_POWER_ITERATIONS = 20


@dataclass(frozen=True, eq=False, kw_only=True)
class GradientDescentState(SolverState):
    """The gradient-descent state: the fixed step size η of the run (and ∇f(x), when known)."""

    learning_rate: float
    euclidean_gradient: Any = None


def estimate_hessian_norm(
    problem: Any, x: Any, gradient: Any, iterations: int = _POWER_ITERATIONS
) -> float:
    """‖Hess f(x)‖ estimated by ``iterations`` power iterations started at grad f(x).

    The power method's Rayleigh quotients approach ‖Hess f(x)‖ from below.  Each iteration is
    one Hessian-vector product (counted by the caller's counter).
    """
    manifold = problem.manifold
    norm = float(manifold.norm(x, gradient))
    v = gradient / norm if norm > 0 else random_tangent_vector(manifold, x, 0)
    estimate = 0.0
    for _ in range(iterations):
        w = problem.riemannian_hessian(x, v)
        estimate = float(manifold.norm(x, w))
        if not estimate > 0:
            return 0.0
        v = to_tangent_space(manifold, x, w / estimate)
    return estimate


@dataclass(frozen=True, kw_only=True)
class GradientDescent(IterativeSolver):
    """Riemannian gradient descent x_{k+1} = R_{x_k}(−η grad f(x_k)) with a fixed step size η.

    ``step_size`` η: give it for the theorem's setting (η < 1/L).  The default (None) fixes
    η = 1/(2 L̂) for the run, with L̂ an estimate of ‖Hess f(x₀)‖ by 20 power iterations (its
    Hessian-vector products are counted); η = 1 if the Hessian at x₀ vanishes.  This is a
    heuristic: the Hessian elsewhere may be larger (for the Rayleigh quotient of A it is at most
    2(λ_max − λ_min), twice its typical value at a random start, which the factor ½ covers).
    No line search, no safeguard: a step that is too long makes the cost grow or oscillate.
    ``max_iterations`` defaults to 5000.
    """

    name: ClassVar[str] = "gradient-descent"

    max_iterations: int = 5000
    step_size: float | None = None

    def validate(self) -> None:  # noqa: D102
        super().validate()
        require_number(
            self.step_size,
            "step_size",
            minimum=0.0,
            maximum=math.inf,
            open_minimum=True,
            open_maximum=True,
            allow_none=True,
        )

    def init_state(self, problem: Any, x: Any) -> GradientDescentState:
        """f(x₀), grad f(x₀) and the step size η (estimated here when ``step_size`` is None)."""
        manifold = problem.manifold
        gradient = problem.riemannian_gradient(x)
        if self.step_size is not None:
            eta = float(self.step_size)
        else:
            try:
                estimate = estimate_hessian_norm(problem, x, gradient)
            except SecondOrderUnavailable as exc:
                raise SecondOrderUnavailable(
                    f"gradient-descent estimates its step size from the Hessian: give step_size "
                    f"on this manifold. {exc}"
                ) from exc
            eta = 1.0 / (2.0 * estimate) if estimate > 0 else 1.0
            logger.debug("gradient-descent: ‖Hess f(x0)‖ ≈ %.4g, step size %.4g", estimate, eta)
        return GradientDescentState(
            problem=problem,
            point=x,
            cost=problem.cost(x),
            gradient=gradient,
            gradient_norm=float(manifold.norm(x, gradient)),
            learning_rate=eta,
        )

    def step(self, state: GradientDescentState) -> GradientDescentState:  # type: ignore[override]
        """x⁺ = R_x(−η grad f(x)); the recorded step size is η ‖grad f(x)‖."""
        problem = state.problem
        manifold = problem.manifold
        eta = state.learning_rate
        x_new = retraction_function(manifold)(state.point, -eta * state.gradient)
        cost, entry = problem.new_point_cost(x_new)
        if math.isfinite(cost):
            egrad, gradient = problem.gradients_at(x_new, entry)  # loop.gradients, directly
            gradient_norm = float(norm_function(manifold)(x_new, gradient))
        else:  # the loop stops here and returns the previous iterate
            egrad, gradient, gradient_norm = None, state.gradient, math.nan
        return GradientDescentState.fast(
            problem=problem,
            point=x_new,
            cost=cost,
            gradient=gradient,
            gradient_norm=gradient_norm,
            step_size=eta * state.gradient_norm,
            extra=state.extra,
            learning_rate=eta,
            euclidean_gradient=egrad,
        )
