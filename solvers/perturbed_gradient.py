"""Perturbed Riemannian gradient descent: gradient descent that escapes strict saddles.

Seed 003 §1 ("escape saddles ... implicitly (using gradient information [21–23])") and seed 001
("Strict Saddle Function on Manifold", Sun et al. 2015): at a strict saddle the Hessian has a
direction of negative curvature, but the gradient vanishes, so plain gradient descent started
*exactly* there never moves.  A random perturbation puts a component along that direction,
which gradient descent then amplifies by a factor 1 + η|λ_min| per step.  Seed 002 runs exactly
this method ("perturbed gradient descent method, with a constant step-size") on matrix sensing.

The rule is Jin, Ge, Netrapalli, Kakade & Jordan, "How to escape saddle points efficiently",
ICML 2017 (Algorithm 2, PGD-Li), on a manifold as in Criscitiello & Boumal, "Efficiently
escaping saddle points on manifolds", NeurIPS 2019 (PRGD), with Riemannian gradient steps

    x_{k+1} = R_{x_k}(−η grad f(x_k)),

and, when ‖grad f(x_k)‖ ≤ g_thres and no perturbation happened in the last t_thres iterations,
a perturbation instead of a gradient step:

    x_{k+1} = R_{x_k}(ξ),   ξ uniform in the ball {ξ ∈ T_{x_k}M : ‖ξ‖ ≤ r}

(a uniform direction in tangent coordinates times r·u^{1/d}, u ~ U(0, 1), d = dim M).  If the
cost has not dropped below f(x̃) − f_thres within t_thres iterations of a perturbation at x̃, the
neighbourhood of x̃ holds no direction of curvature below about −|log| / (η t_thres): x̃ is an
approximate second-order critical point, and the run stops as soon as the gradient tolerance is
also met.

Departures from the papers, stated plainly:

* Criscitiello–Boumal take the t_thres steps after a perturbation in the tangent space
  T_{x̃}M on the pullback f ∘ R_{x̃} (this is what their analysis needs) and only then retract;
  here every step is retracted at once, as in Sun, Flammarion & Fazel, "Escaping from saddle
  points on Riemannian manifolds", NeurIPS 2019.  The perturbation itself is the tangent-ball
  perturbation at x̃ of Criscitiello–Boumal, mapped by the retraction.
* Jin et al. return x̃ when the escape test fails; here gradient descent simply continues
  from the current iterate (which is near x̃, with cost at most f_thres below f(x̃)) until the
  gradient tolerance holds, so the returned point is as converged as plain gradient descent's.
* The theory's constants (χ, c, ρ) are unknown for a given problem; the defaults below are
  scale-aware instead (see ``PerturbedGradientDescent``).
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from manifoldscape.boundary.arguments import Seed, as_generator
from manifoldscape.core.loop import (
    IterationInfo,
    IterativeSolver,
    MaxCostEvaluations,
    MaxIterations,
    MaxTime,
    SolverState,
    Stop,
    StoppingCriterion,
    gradient_scale,
    require_count,
    require_number,
)
from manifoldscape.core.problem import Problem
from manifoldscape.core.result import Result, StopReason
from manifoldscape.geometry import random_tangent_vector
from manifoldscape.solvers.gradient_descent import estimate_hessian_norm

logger = logging.getLogger(__name__)

__all__ = ["EscapeTestPassed", "PerturbedGradientDescent", "PerturbedGradientState"]

#: κ in the default t_thres: curvature below −κ L̂ is escaped within t_thres iterations.
_CURVATURE_FRACTION = 0.05


@dataclass(frozen=True, eq=False, kw_only=True)
class PerturbedGradientState(SolverState):
    """The perturbed-gradient-descent state.

    Run constants: ``learning_rate`` η, ``radius`` r, ``gradient_threshold`` g_thres (already
    raised to the run's gradient tolerance), ``cost_decrease`` f_thres, ``escape_iterations``
    t_thres, the perturbation generator ``rng`` (shared along the run).  Bookkeeping:
    ``iteration`` k, ``last_perturbation`` (iteration of the last perturbation or None),
    ``anchor_cost`` f(x̃) while an escape test is pending (else None), ``perturbations``,
    ``escapes`` (tests the cost passed), ``second_order`` (the last test found no escape and
    the gradient has stayed below g_thres since).
    """

    learning_rate: float
    radius: float
    gradient_threshold: float
    cost_decrease: float
    escape_iterations: int
    rng: np.random.Generator
    iteration: int = 0
    last_perturbation: int | None = None
    anchor_cost: float | None = None
    perturbations: int = 0
    escapes: int = 0
    second_order: bool = False


@dataclass(frozen=True)
class EscapeTestPassed(StoppingCriterion):
    """Fires while the last perturbation's escape test has passed (x̃ ≈ second-order point).

    Used as ``GradientNormBelow & EscapeTestPassed()`` by ``PerturbedGradientDescent``; on any
    other solver's state it never fires.
    """

    reason: ClassVar[StopReason] = StopReason.GRADIENT_TOLERANCE

    def check(self, info: IterationInfo) -> Stop | None:  # noqa: D102
        state = info.state
        if getattr(state, "second_order", False):
            return Stop(
                self.reason,
                f"approximate second-order point: the perturbation of radius {state.radius:.3e} "
                f"at iteration {state.last_perturbation} did not lower the cost by "
                f"{state.cost_decrease:.3e} within {state.escape_iterations} iterations",
            )
        return None


@dataclass(frozen=True, kw_only=True)
class PerturbedGradientDescent(IterativeSolver):
    """Perturbed Riemannian gradient descent (Jin et al. 2017; Criscitiello & Boumal 2019).

    Options (besides those of every iterative solver; all thresholds scale with the problem):

    * ``step_size`` η: None → 1/(2 L̂), L̂ ≈ ‖Hess f(x₀)‖ by 20 power iterations, as
      ``GradientDescent`` (L̂ is estimated in every run: the defaults below use it);
    * ``gradient_threshold`` g_thres: perturb when ‖grad f‖ ≤ max(g_thres, gradient tolerance);
      None → 10⁻³ · ‖Hess f(x₀)‖ · max(‖x₀‖, 1), the scale of the loop's gradient tolerance;
    * ``perturbation_radius`` r: None → g_thres / L̂ (Jin et al.: r ∝ ε/ℓ, so the perturbation
      changes the gradient by at most about g_thres);
    * ``cost_decrease`` f_thres: None → g_thres · r / 2, the most a perturbation of radius r can
      raise the cost to second order near a minimizer, below any real escape;
    * ``escape_iterations`` t_thres: None → the number of gradient steps that grow a
      component of size r/√d along curvature −κ L̂ (κ = 0.05) by the factor 10 √(d/κ) needed to
      lower the cost by f_thres: ⌈log(10 √(d/κ)) / log(1 + η κ L̂)⌉.

    Randomness: the perturbations are drawn from the run's ``seed`` (a child stream of it, so
    the start point is the one every other solver draws from the same seed); same seed, same
    run.  With ``x0`` given and ``seed=None`` the perturbations are not reproducible.

    Stopping: by default ‖grad f‖ ≤ gradient tolerance *and* the last escape test passed
    (``StopReason.GRADIENT_TOLERANCE``, the message says so), or the usual limits.  A start at
    an exact critical point is therefore perturbed, not returned.  ``History.extra`` holds
    ``perturbed`` (the iterate is a perturbation) and ``second_order`` (the test has passed).
    ``max_iterations`` defaults to 10000.
    """

    name: ClassVar[str] = "perturbed-gradient-descent"

    max_iterations: int = 10000
    step_size: float | None = None
    gradient_threshold: float | None = None
    perturbation_radius: float | None = None
    cost_decrease: float | None = None
    escape_iterations: int | None = None

    def validate(self) -> None:  # noqa: D102
        super().validate()
        for option in ("step_size", "perturbation_radius"):
            require_number(
                getattr(self, option),
                option,
                minimum=0.0,
                maximum=math.inf,
                open_minimum=True,
                open_maximum=True,
                allow_none=True,
            )
        for option in ("gradient_threshold", "cost_decrease"):
            require_number(
                getattr(self, option), option, minimum=0.0, open_maximum=True, allow_none=True
            )
        require_count(self.escape_iterations, "escape_iterations", 1, allow_none=True)

    def default_stopping_criterion(self) -> StoppingCriterion:
        """(‖grad f‖ ≤ tolerance & escape test passed) | MaxIterations | MaxTime [| cost evals]."""
        criterion = (
            (self.gradient_criterion() & EscapeTestPassed())
            | MaxIterations(self.max_iterations)
            | MaxTime(self.max_time)
        )
        if self.max_cost_evaluations is not None:
            criterion = criterion | MaxCostEvaluations(self.max_cost_evaluations)
        return criterion

    def run(
        self,
        problem: Problem,
        x0: Any = None,
        *,
        seed: Seed = None,
        callback: Callable[[int, IterationInfo], Any] | None = None,
        keep_iterates: bool = False,
        certify: bool = True,
        certify_options: Mapping[str, Any] | None = None,
    ) -> Result:
        """Run from ``x0`` or a random start drawn from ``seed``; perturbations also use ``seed``.

        See ``IterativeSolver.run`` for the arguments.
        """
        if isinstance(seed, np.random.Generator):
            rng = seed  # drawn from after the start point, so the streams do not overlap
        else:
            as_generator(seed)  # validates the seed (TypeError/ValueError naming it)
            entropy = seed if isinstance(seed, np.random.SeedSequence) else None
            sequence = entropy or np.random.SeedSequence(None if seed is None else int(seed))
            rng = np.random.default_rng(sequence.spawn(1)[0])
        bound = copy.copy(self)
        object.__setattr__(bound, "_rng", rng)
        return IterativeSolver.run(
            bound,
            problem,
            x0,
            seed=seed,
            callback=callback,
            keep_iterates=keep_iterates,
            certify=certify,
            certify_options=certify_options,
        )

    def init_state(self, problem: Any, x: Any) -> PerturbedGradientState:
        """f(x₀), grad f(x₀), L̂, and the run constants η, g_thres, r, f_thres, t_thres."""
        manifold = problem.manifold
        gradient = problem.riemannian_gradient(x)
        cost = problem.cost(x)
        scale = gradient_scale(problem.problem if hasattr(problem, "problem") else problem, x)
        estimate = estimate_hessian_norm(problem, x, gradient)
        eta = (
            float(self.step_size)
            if self.step_size is not None
            else (1.0 / (2.0 * estimate) if estimate > 0 else 1.0)
        )
        tolerance = self.gradient_criterion()
        absolute_tolerance = (
            tolerance.tolerance if tolerance.tolerance is not None else tolerance.rtol * scale
        )
        g_thres = self.gradient_threshold if self.gradient_threshold is not None else 1e-3 * scale
        g_thres = max(float(g_thres), absolute_tolerance)
        curvature = estimate if estimate > 0 else 1.0 / eta
        if self.perturbation_radius is not None:
            radius = float(self.perturbation_radius)
        else:
            radius = g_thres / curvature
        f_thres = (
            float(self.cost_decrease) if self.cost_decrease is not None else 0.5 * g_thres * radius
        )
        if self.escape_iterations is not None:
            t_thres = int(self.escape_iterations)
        else:
            d = max(int(manifold.dim), 1)
            growth = 10.0 * math.sqrt(d / _CURVATURE_FRACTION)
            rate = math.log1p(eta * _CURVATURE_FRACTION * curvature)
            t_thres = max(1, math.ceil(math.log(growth) / rate)) if rate > 0 else 1000
        rng = getattr(self, "_rng", None)
        if rng is None:  # init_state called outside run(): a fixed stream
            rng = np.random.default_rng(0)
        logger.debug(
            "perturbed-gradient-descent: L̂ %.4g, η %.4g, g_thres %.3g, r %.3g, f_thres %.3g, "
            "t_thres %d",
            estimate,
            eta,
            g_thres,
            radius,
            f_thres,
            t_thres,
        )
        return PerturbedGradientState(
            problem=problem,
            point=x,
            cost=cost,
            gradient=gradient,
            gradient_norm=float(manifold.norm(x, gradient)),
            learning_rate=eta,
            radius=radius,
            gradient_threshold=g_thres,
            cost_decrease=f_thres,
            escape_iterations=t_thres,
            rng=rng,
            extra={"perturbed": False, "second_order": False},
        )

    def _perturbation(self, state: PerturbedGradientState) -> Any:
        """ξ uniform in the ball of radius r of T_xM (uniform direction, radius r·u^{1/d})."""
        manifold = state.problem.manifold
        direction = random_tangent_vector(manifold, state.point, state.rng)
        d = max(int(manifold.dim), 1)
        length = state.radius * float(state.rng.uniform()) ** (1.0 / d)
        return length * direction

    def step(self, state: PerturbedGradientState) -> PerturbedGradientState:  # type: ignore[override]
        """A perturbation (small gradient, none for t_thres iterations) or a gradient step."""
        problem = state.problem
        manifold = problem.manifold
        k = state.iteration
        anchor_cost, second_order = state.anchor_cost, state.second_order
        if anchor_cost is not None and k - state.last_perturbation >= state.escape_iterations:
            anchor_cost, second_order = None, True  # no escape: x̃ is ≈ second-order
            logger.debug("perturbed-gradient-descent: escape test passed at iteration %d", k)
        small = state.gradient_norm <= state.gradient_threshold
        if not small:
            second_order = False
        waited = state.last_perturbation is None or k - state.last_perturbation >= (
            state.escape_iterations
        )
        perturb = small and waited and anchor_cost is None and not second_order and state.radius > 0
        if perturb:
            move = self._perturbation(state)
            anchor_cost = state.cost
            last_perturbation = k
        else:
            move = -state.learning_rate * state.gradient
            last_perturbation = state.last_perturbation
        x_new = manifold.retraction(state.point, move)
        cost = problem.cost(x_new)
        escapes = state.escapes
        if np.isfinite(cost):
            gradient = problem.riemannian_gradient(x_new)
            gradient_norm = float(manifold.norm(x_new, gradient))
            if (
                not perturb
                and anchor_cost is not None
                and cost <= anchor_cost - state.cost_decrease
            ):
                anchor_cost, escapes = None, escapes + 1  # escaped
        else:  # the loop stops here and returns the previous iterate
            gradient, gradient_norm = state.gradient, math.nan
        return PerturbedGradientState(
            problem=problem,
            point=x_new,
            cost=cost,
            gradient=gradient,
            gradient_norm=gradient_norm,
            step_size=float(manifold.norm(state.point, move)),
            learning_rate=state.learning_rate,
            radius=state.radius,
            gradient_threshold=state.gradient_threshold,
            cost_decrease=state.cost_decrease,
            escape_iterations=state.escape_iterations,
            rng=state.rng,
            iteration=k + 1,
            last_perturbation=last_perturbation,
            anchor_cost=anchor_cost,
            perturbations=state.perturbations + int(perturb),
            escapes=escapes,
            second_order=second_order,
            extra={"perturbed": bool(perturb), "second_order": bool(second_order)},
        )
