"""One run loop for manifoldscape's own solvers: state in, state out.

A solver here is a frozen, validated configuration with two methods (the shape of Manopt.jl's
``initialize_solver!`` / ``step_solver!`` and jaxopt's ``init_state`` / ``update``):

* ``init_state(problem, x)`` — the solver's state at the start point x₀;
* ``step(state)`` — one iteration, returning a new state (the old one is never modified).

Everything else is written once, in ``IterativeSolver.run``:

1. the start point: ``x0`` validated by ``problem.check_point`` (shape, dtype, finiteness, on the
   manifold), or drawn by ``geometry.random_point(manifold, seed)``; a start where the cost is not
   finite is refused;
2. counting: the solver sees the problem through an ``EvaluationCounter``, so every cost,
   gradient and Hessian-vector product it asks for is counted;
3. stopping: small frozen ``StoppingCriterion`` objects, combined with ``|`` (any) and ``&``
   (all), each mapping to a ``StopReason`` whose ``converged`` says whether it means convergence;
4. the ``History`` (cost, gradient norm, step size, elapsed time per iterate, the solver's extra
   columns, the iterates on request) and a ``callback(iteration, info)`` (or scipy's
   ``callback(x)``) after every iterate;
5. a non-finite cost or gradient: the loop stops with ``StopReason.NON_FINITE_COST`` and returns
   the last iterate whose cost was finite;
6. the second-order certificate of the final point (``manifoldscape.core.certificate.certify``).

Default stopping rule: the certificate's gradient test, measured at the current iterate
(``manifoldscape.core.tolerance``).  Stop when

    ‖grad f(x_k)‖ ≤ max(rtol_gradient · ‖Hess f(x_k)‖ · ℓ_k,  ρ_grad(x_k)),    rtol_gradient = 1e-8,

with ℓ_k = max(‖x_k‖, 1) and ρ_grad the round-off floor of the computed Riemannian gradient
(γ ε (‖∇f(x_k)‖ + ‖grad f(x_k)‖)), unless an absolute ``gradient_tolerance`` is given, or after
``max_iterations`` iterations, or ``max_time`` seconds.  ‖Hess f(x_k)‖ is estimated by a few
Lanczos steps (``hessian.hessian_norm_estimate``, a lower bound: the rule errs on the strict
side), at the start and again whenever the gradient comes within reach of the threshold, so the
test is that of the point where the run stops, not of the start.  Both parts are unchanged by a
shift of the cost (f + c, or f + c‖x‖² on the sphere, whose huge normal gradient only enters the
floor) and multiply with a scaling of it.  The certificate's relative tolerance is 100 times
larger (rtol 1e-6 on the same scale, with the same floor), so a run that stops on this rule —
``Result.converged`` — gets a certificate other than ``not_critical`` with the default
tolerances: critical, or ``degenerate`` when round-off cannot tell.
"""

from __future__ import annotations

import abc
import dataclasses
import inspect
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np

from manifoldscape.boundary.arguments import Seed, as_generator, callback_arity, require_options
from manifoldscape.core.hessian import hessian_norm_estimate
from manifoldscape.core.problem import EvaluationCounter, Problem
from manifoldscape.core.result import EvaluationCounts, History, Result, StopReason
from manifoldscape.core.tolerance import ambient_size, gradient_floor, length_scale, safe_norm
from manifoldscape.geometry import SecondOrderUnavailable, random_point, same_point

logger = logging.getLogger(__name__)

__all__ = [
    "AllOf",
    "AnyOf",
    "CostChangeBelow",
    "GradientNormBelow",
    "GradientScale",
    "IterationInfo",
    "IterativeSolver",
    "MaxCostEvaluations",
    "MaxIterations",
    "MaxTime",
    "Solver",
    "SolverState",
    "StepSizeBelow",
    "Stop",
    "StoppingCriterion",
    "certify_point",
    "gradient_scale",
    "loop_callback",
    "require_count",
    "require_number",
    "start_point",
]


# --------------------------------------------------------------------------- state and info
@dataclass(frozen=True, eq=False, kw_only=True)
class SolverState:
    """What every solver's state holds; solvers subclass it with their own fields.

    ``problem`` is what the solver evaluates (the loop passes an ``EvaluationCounter``);
    ``step_size`` is the norm of the step that led to ``point`` (0 at the start and after a
    rejected step); ``extra`` holds the solver's per-iteration columns for ``History.extra`` (the
    same keys in every state of a run).
    """

    problem: Any
    point: Any
    cost: float
    gradient: Any
    gradient_norm: float
    step_size: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_finite(self) -> bool:
        """Whether the cost and the gradient norm are finite."""
        return math.isfinite(self.cost) and math.isfinite(self.gradient_norm)


@dataclass(frozen=True, eq=False)
class IterationInfo:
    """What stopping criteria and callbacks see after each iterate.

    ``cost_change`` is |f(x_k) − f(x_{k−1})| (inf at the start); ``scale`` gives the relative
    gradient threshold at the current iterate (``GradientScale``); ``elapsed_s`` counts wall time
    since the start of the run.
    """

    iteration: int
    state: SolverState
    elapsed_s: float
    counts: EvaluationCounts
    scale: GradientScale
    cost_change: float = math.inf

    @property
    def point(self) -> Any:
        """The current iterate x_k."""
        return self.state.point

    @property
    def cost(self) -> float:
        """f(x_k)."""
        return self.state.cost

    @property
    def gradient_norm(self) -> float:
        """‖grad f(x_k)‖."""
        return self.state.gradient_norm

    @property
    def step_size(self) -> float:
        """Norm of the step that led to x_k."""
        return self.state.step_size


class GradientScale:
    """The default gradient threshold of a run, at its current iterate (module docstring).

    ``threshold(state, rtol)`` = max(rtol · Ĥ(x) · ℓ, ρ_grad(x)) with Ĥ(x) a Lanczos estimate of
    ‖Hess f(x)‖, re-estimated lazily: at the first call and whenever the gradient norm comes
    within 8× of the threshold of the last estimate.  ``problem`` is what the solver evaluates;
    the estimates go to the problem behind an ``EvaluationCounter``, so a run's counts are the
    solver's own evaluations (an estimate costs four Hessian-vector products).
    """

    def __init__(self, problem: Any):
        self.problem = problem
        self.hessian_norm: float | None = None
        self._estimated_at: Any = None

    def _raw(self) -> Any:
        return getattr(self.problem, "problem", self.problem)

    def floor(self, point: Any, gradient_norm: float) -> float:
        """ρ_grad at ``point`` (the Euclidean gradient there is cached: no new evaluation)."""
        egrad = safe_norm(self._raw().euclidean_gradient(point))
        return gradient_floor(egrad, gradient_norm, ambient_size(point))

    def estimate(self, point: Any) -> float:
        """Ĥ(x), cached for the last point estimated."""
        if self._estimated_at is None or not same_point(self._estimated_at, point):
            try:
                self.hessian_norm = hessian_norm_estimate(self._raw(), point)
            except SecondOrderUnavailable:
                # a first-order manifold (pymanopt's FixedRankEmbedded): the scale of the cost,
                # max(|f(x)|, ‖∇f(x)‖) / ℓ, stands in for the Hessian's
                raw = self._raw()
                size = max(abs(raw.cost(point)), safe_norm(raw.euclidean_gradient(point)))
                self.hessian_norm = size / length_scale(point)
            self._estimated_at = point
        return float(self.hessian_norm or 0.0)

    def scale(self, point: Any) -> float:
        """Ĥ(x) · ℓ: the size a gradient has after a unit relative move of x."""
        return self.estimate(point) * length_scale(point)

    def threshold(self, state: SolverState, rtol: float) -> float:
        """max(rtol · Ĥ(x) · ℓ, ρ_grad(x)) at the state's point."""
        x, g = state.point, state.gradient_norm
        floor = self.floor(x, g)
        if g <= floor:
            return floor
        length = length_scale(x)
        if self.hessian_norm is not None and g > 8.0 * rtol * self.hessian_norm * length:
            return max(rtol * self.hessian_norm * length, floor)
        return max(rtol * self.estimate(x) * length, floor)


class Stop(NamedTuple):
    """A criterion's decision to stop: the reason and a one-line message."""

    reason: StopReason
    message: str


# --------------------------------------------------------------------------- stopping criteria
def require_number(
    value: Any,
    name: str,
    *,
    minimum: float = -math.inf,
    maximum: float = math.inf,
    open_minimum: bool = False,
    open_maximum: bool = False,
    allow_none: bool = False,
) -> float | None:
    """``value`` as a float in the given interval (None passes if ``allow_none``), or raise.

    ``TypeError`` for a non-number, ``ValueError`` naming the interval otherwise; used to
    validate solver options and stopping criteria.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        kind = "a number or None" if allow_none else "a number"
        raise TypeError(f"{name} must be {kind}, got {value!r}")
    value = float(value)
    low_ok = value > minimum if open_minimum else value >= minimum
    high_ok = value < maximum if open_maximum else value <= maximum
    if not (low_ok and high_ok):  # also refuses NaN
        interval = (
            f"{'(' if open_minimum else '['}{minimum:g}, {maximum:g}{')' if open_maximum else ']'}"
        )
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return value


def require_count(value: Any, name: str, minimum: int = 0, allow_none: bool = False) -> int | None:
    """``value`` as an int ≥ ``minimum`` (None passes if ``allow_none``), or raise."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        kind = "an integer or None" if allow_none else "an integer"
        raise TypeError(f"{name} must be {kind}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _non_negative(value: Any, name: str) -> float:
    return require_number(value, name, minimum=0.0)  # type: ignore[return-value]


def _positive_count(value: Any, name: str, minimum: int = 0) -> int:
    return require_count(value, name, minimum)  # type: ignore[return-value]


class StoppingCriterion(abc.ABC):
    """A rule that looks at an ``IterationInfo`` and may decide to stop.

    Combine criteria with ``a | b`` (stop when any fires) and ``a & b`` (stop when all fire at
    the same iterate).  Simple criteria carry the ``StopReason`` they stop with as ``reason``;
    ``converged`` says whether that reason means the solver reached a critical point.
    """

    reason: ClassVar[StopReason | None] = None

    @abc.abstractmethod
    def check(self, info: IterationInfo) -> Stop | None:
        """A ``Stop`` if the criterion fires at this iterate, else None."""

    @property
    def converged(self) -> bool:
        """Whether stopping on this criterion means convergence."""
        return self.reason is not None and self.reason.converged

    def __or__(self, other: StoppingCriterion) -> AnyOf:
        if not isinstance(other, StoppingCriterion):
            return NotImplemented
        return AnyOf((self, other))

    def __and__(self, other: StoppingCriterion) -> AllOf:
        if not isinstance(other, StoppingCriterion):
            return NotImplemented
        return AllOf((self, other))


@dataclass(frozen=True)
class GradientNormBelow(StoppingCriterion):
    """Stop when ‖grad f(x_k)‖ ≤ tolerance (convergence to first order).

    With ``tolerance=None`` the threshold is the certificate's test at the current iterate,
    max(rtol · ‖Hess f(x_k)‖ · ℓ, ρ_grad) (module docstring); a number is an absolute tolerance.
    """

    tolerance: float | None = None
    rtol: float = 1e-8
    reason: ClassVar[StopReason] = StopReason.GRADIENT_TOLERANCE

    def __post_init__(self) -> None:
        if self.tolerance is not None:
            object.__setattr__(self, "tolerance", _non_negative(self.tolerance, "tolerance"))
        object.__setattr__(self, "rtol", _non_negative(self.rtol, "rtol"))

    def threshold(self, info: IterationInfo) -> float:
        """The absolute tolerance in force for this run."""
        return (
            self.tolerance
            if self.tolerance is not None
            else info.scale.threshold(info.state, self.rtol)
        )

    def check(self, info: IterationInfo) -> Stop | None:  # noqa: D102
        tol = self.threshold(info)
        if info.gradient_norm <= tol:
            return Stop(
                self.reason,
                f"gradient norm {info.gradient_norm:.3e} ≤ {tol:.3e} after "
                f"{info.iteration} iterations",
            )
        return None


@dataclass(frozen=True)
class MaxIterations(StoppingCriterion):
    """Stop after ``n`` iterations."""

    n: int
    reason: ClassVar[StopReason] = StopReason.MAX_ITERATIONS

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", _positive_count(self.n, "n"))

    def check(self, info: IterationInfo) -> Stop | None:  # noqa: D102
        if info.iteration >= self.n:
            return Stop(
                self.reason,
                f"reached {self.n} iterations (gradient norm {info.gradient_norm:.3e})",
            )
        return None


@dataclass(frozen=True)
class MaxTime(StoppingCriterion):
    """Stop once ``seconds`` of wall time have passed since the start of the run."""

    seconds: float
    reason: ClassVar[StopReason] = StopReason.MAX_TIME

    def __post_init__(self) -> None:
        object.__setattr__(self, "seconds", _non_negative(self.seconds, "seconds"))

    def check(self, info: IterationInfo) -> Stop | None:  # noqa: D102
        if info.elapsed_s >= self.seconds:
            return Stop(
                self.reason,
                f"reached the time limit of {self.seconds:g} s after {info.iteration} iterations",
            )
        return None


@dataclass(frozen=True)
class StepSizeBelow(StoppingCriterion):
    """Stop when the last step was shorter than ``tolerance`` (never at the start).

    Trust regions record a step of 0 for a rejected proposal, so use this criterion with
    gradient-type solvers.
    """

    tolerance: float
    reason: ClassVar[StopReason] = StopReason.STEP_TOLERANCE

    def __post_init__(self) -> None:
        object.__setattr__(self, "tolerance", _non_negative(self.tolerance, "tolerance"))

    def check(self, info: IterationInfo) -> Stop | None:  # noqa: D102
        if info.iteration > 0 and info.step_size < self.tolerance:
            return Stop(
                self.reason,
                f"step size {info.step_size:.3e} < {self.tolerance:.3e} at iteration "
                f"{info.iteration}",
            )
        return None


@dataclass(frozen=True)
class CostChangeBelow(StoppingCriterion):
    """Stop when |f(x_k) − f(x_{k−1})| < ``tolerance`` (never at the start)."""

    tolerance: float
    reason: ClassVar[StopReason] = StopReason.COST_CHANGE_TOLERANCE

    def __post_init__(self) -> None:
        object.__setattr__(self, "tolerance", _non_negative(self.tolerance, "tolerance"))

    def check(self, info: IterationInfo) -> Stop | None:  # noqa: D102
        if info.iteration > 0 and info.cost_change < self.tolerance:
            return Stop(
                self.reason,
                f"cost changed by {info.cost_change:.3e} < {self.tolerance:.3e} at iteration "
                f"{info.iteration}",
            )
        return None


@dataclass(frozen=True)
class MaxCostEvaluations(StoppingCriterion):
    """Stop once the solver has evaluated the cost ``n`` times."""

    n: int
    reason: ClassVar[StopReason] = StopReason.MAX_COST_EVALUATIONS

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", _positive_count(self.n, "n", minimum=1))

    def check(self, info: IterationInfo) -> Stop | None:  # noqa: D102
        if info.counts.cost >= self.n:
            return Stop(
                self.reason,
                f"reached {info.counts.cost} cost evaluations (limit {self.n}) after "
                f"{info.iteration} iterations",
            )
        return None


def _flatten(kind: type, criteria: tuple[StoppingCriterion, ...]) -> tuple[StoppingCriterion, ...]:
    out: list[StoppingCriterion] = []
    for criterion in criteria:
        if not isinstance(criterion, StoppingCriterion):
            raise TypeError(f"criteria must be StoppingCriterion objects, got {criterion!r}")
        out.extend(criterion.criteria if isinstance(criterion, kind) else (criterion,))
    return tuple(out)


@dataclass(frozen=True)
class AnyOf(StoppingCriterion):
    """Stop when any of ``criteria`` fires (the first one listed gives the reason)."""

    criteria: tuple[StoppingCriterion, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "criteria", _flatten(AnyOf, tuple(self.criteria)))

    @property
    def converged(self) -> bool:
        """True if every member means convergence."""
        return all(c.converged for c in self.criteria)

    def check(self, info: IterationInfo) -> Stop | None:  # noqa: D102
        for criterion in self.criteria:
            decision = criterion.check(info)
            if decision is not None:
                return decision
        return None


@dataclass(frozen=True)
class AllOf(StoppingCriterion):
    """Stop when all of ``criteria`` fire at the same iterate (the first gives the reason)."""

    criteria: tuple[StoppingCriterion, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "criteria", _flatten(AllOf, tuple(self.criteria)))
        if not self.criteria:
            raise ValueError("AllOf needs at least one criterion")

    @property
    def converged(self) -> bool:
        """True if any member means convergence (all must hold when it stops)."""
        return any(c.converged for c in self.criteria)

    def check(self, info: IterationInfo) -> Stop | None:  # noqa: D102
        decisions = []
        for criterion in self.criteria:
            decision = criterion.check(info)
            if decision is None:
                return None
            decisions.append(decision)
        return Stop(decisions[0].reason, "; ".join(d.message for d in decisions))


# --------------------------------------------------------------------------- shared helpers
def _require_problem(problem: Any) -> Problem:
    if not isinstance(problem, Problem):
        raise TypeError(
            f"problem must be a manifoldscape Problem, got {type(problem).__name__}; build one "
            "with a factory of manifoldscape.problems or Problem.from_autograd"
        )
    return problem


def start_point(problem: Problem, x0: Any = None, seed: Seed = None) -> Any:
    """The validated start point: ``x0`` checked (named 'x0'), or a seeded random point.

    Raises ``TypeError``/``ValueError`` naming ``x0`` for a point of the wrong structure or shape,
    with NaN/Inf entries, off the manifold, or where the cost is not finite.
    """
    _require_problem(problem)
    rng = as_generator(seed)
    if x0 is None:
        x = random_point(problem.manifold, rng)
        where = "the random start point"
    else:
        x = problem.check_point(x0, "x0")
        where = "x0"
    cost = problem.cost(x)
    if not np.isfinite(cost):
        raise ValueError(f"the cost at {where} is {cost}; a solver needs a start with finite cost")
    return x


def gradient_scale(problem: Problem, x: Any) -> float:
    """Ĥ(x) · ℓ: the scale of relative gradient tolerances at x (module docstring).

    ``rtol · gradient_scale(problem, x)`` is the relative part of the default stopping rule at x;
    benchmarks use it to give every peer the same absolute tolerance.
    """
    return GradientScale(problem).scale(x)


def certify_point(
    problem: Problem, point: Any, enabled: bool, options: Mapping[str, Any] | None
) -> Any:
    """``certify(problem, point, **options)`` if ``enabled``, else None (imported lazily)."""
    if not enabled:
        return None
    from manifoldscape.core.certificate import certify

    return certify(problem, point, **dict(options or {}))


def loop_callback(callback: Any) -> Callable[[int, IterationInfo], Any] | None:
    """``callback`` in the loop's form ``(iteration, info)``, or None.

    A scipy-style ``callback(x)`` is wrapped to receive the iterate ``info.point``;
    ``boundary.callback_arity`` decides which form a callable has, once, before the run.
    """
    if callback_arity(callback) == 1:
        return lambda iteration, info: callback(info.point)
    return callback


# --------------------------------------------------------------------------- solvers
@dataclass(frozen=True, kw_only=True)
class Solver(abc.ABC):
    """A solver's configuration (frozen, validated at construction) and its ``run``.

    Options shared by every solver: ``max_iterations``, ``max_time`` (seconds),
    ``gradient_tolerance`` (absolute; None for the scale-aware default) and ``rtol_gradient``
    (see the module docstring).  Build one with ``from_options(**options)``, which refuses
    unknown option names with a ``TypeError`` listing the valid ones.
    """

    name: ClassVar[str] = "solver"

    max_iterations: int = 1000
    max_time: float = math.inf
    gradient_tolerance: float | None = None
    rtol_gradient: float = 1e-8

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check the options; subclasses extend it (and call ``super().validate()``)."""
        _positive_count(self.max_iterations, "max_iterations")
        _non_negative(self.max_time, "max_time")
        if self.gradient_tolerance is not None:
            _non_negative(self.gradient_tolerance, "gradient_tolerance")
        _non_negative(self.rtol_gradient, "rtol_gradient")

    # ------------------------------------------------------------------ options
    @classmethod
    def option_names(cls) -> list[str]:
        """The valid option names."""
        return [f.name for f in dataclasses.fields(cls) if f.init]

    @classmethod
    def from_options(cls, **options: Any) -> Solver:
        """A configured solver; unknown option names raise ``TypeError`` listing the valid ones."""
        require_options(options, cls.option_names(), f"solver {cls.name!r}")
        return cls(**options)

    @classmethod
    def factory(cls) -> Callable[..., Solver]:
        """A registry factory: keyword options in, configured solver out (signature shows them)."""

        def make(**options: Any) -> Solver:
            return cls.from_options(**options)

        parameters = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(cls).parameters.values()
        ]
        make.__signature__ = inspect.Signature(parameters, return_annotation=cls)  # type: ignore[attr-defined]
        make.__doc__ = cls.__doc__
        make.__name__ = make.__qualname__ = cls.name.replace("-", "_")
        return make

    def options(self) -> dict[str, Any]:
        """The configuration as a dict (recorded in ``Result.options``)."""
        return {name: getattr(self, name) for name in self.option_names()}

    def gradient_criterion(self) -> GradientNormBelow:
        """‖grad f‖ ≤ gradient_tolerance, or ≤ rtol_gradient · scale when it is None."""
        return GradientNormBelow(self.gradient_tolerance, self.rtol_gradient)

    @abc.abstractmethod
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
        """Solve ``problem`` from ``x0`` (or a random point drawn from ``seed``)."""


class _Recorder:
    """Collects the History columns, one row per iterate."""

    def __init__(self, keep_iterates: bool):
        self.cost: list[float] = []
        self.gradient_norm: list[float] = []
        self.step_size: list[float] = []
        self.time_s: list[float] = []
        self.extra: dict[str, list[Any]] = {}
        self.iterates: list[Any] | None = [] if keep_iterates else None

    def add(self, state: SolverState, elapsed: float) -> None:
        self.cost.append(float(state.cost))
        self.gradient_norm.append(float(state.gradient_norm))
        self.step_size.append(float(state.step_size))
        self.time_s.append(elapsed)
        if not self.extra and len(self.cost) == 1:
            self.extra = {key: [] for key in state.extra}
        if state.extra.keys() != self.extra.keys():
            raise RuntimeError(
                f"solver state columns changed during the run: {sorted(state.extra)} "
                f"instead of {sorted(self.extra)}"
            )
        for key, value in state.extra.items():
            self.extra[key].append(value)
        if self.iterates is not None:
            self.iterates.append(state.point)

    def history(self) -> History:
        return History(
            cost=np.asarray(self.cost, dtype=float),
            gradient_norm=np.asarray(self.gradient_norm, dtype=float),
            step_size=np.asarray(self.step_size, dtype=float),
            time_s=np.asarray(self.time_s, dtype=float),
            extra={key: np.asarray(values) for key, values in self.extra.items()},
            iterates=self.iterates,
        )


@dataclass(frozen=True, kw_only=True)
class IterativeSolver(Solver):
    """A solver written as ``init_state`` / ``step`` on the shared loop.

    Adds the options ``max_cost_evaluations`` (None: no limit) and ``stopping_criterion``: a
    ``StoppingCriterion`` that, when given, *replaces* the default rule
    ``GradientNormBelow | MaxIterations | MaxTime [| MaxCostEvaluations]``.
    """

    max_cost_evaluations: int | None = None
    stopping_criterion: StoppingCriterion | None = None

    def validate(self) -> None:  # noqa: D102
        super().validate()
        if self.max_cost_evaluations is not None:
            _positive_count(self.max_cost_evaluations, "max_cost_evaluations", minimum=1)
        if self.stopping_criterion is not None and not isinstance(
            self.stopping_criterion, StoppingCriterion
        ):
            raise TypeError(
                "stopping_criterion must be a StoppingCriterion (e.g. GradientNormBelow(1e-6) | "
                f"MaxIterations(100)), got {type(self.stopping_criterion).__name__}"
            )

    def default_stopping_criterion(self) -> StoppingCriterion:
        """GradientNormBelow | MaxIterations | MaxTime, plus MaxCostEvaluations if set."""
        criterion = (
            self.gradient_criterion() | MaxIterations(self.max_iterations) | MaxTime(self.max_time)
        )
        if self.max_cost_evaluations is not None:
            criterion = criterion | MaxCostEvaluations(self.max_cost_evaluations)
        return criterion

    @abc.abstractmethod
    def init_state(self, problem: Any, x: Any) -> SolverState:
        """The state at the start point ``x`` (``problem`` is a Problem or an EvaluationCounter)."""

    @abc.abstractmethod
    def step(self, state: SolverState) -> SolverState:
        """One iteration: a new state (a non-finite ``cost`` in it makes the loop stop)."""

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
        """Run the solver from ``x0`` (validated) or from a random point drawn from ``seed``.

        ``callback(iteration, info)`` is called for every iterate, the start (iteration 0)
        included, with an ``IterationInfo``; a callback with one required positional parameter
        is called scipy's way, ``callback(x)`` with the iterate.  In both forms a truthy return
        stops the run with ``StopReason.CALLBACK`` (a stopping criterion that fires at the same
        iterate takes precedence).  ``keep_iterates`` stores every iterate in ``History.iterates``.
        ``certify=False`` skips the certificate; ``certify_options`` go to ``certify``.
        ``Result.time_s`` is the solve time, certification excluded.
        """
        _require_problem(problem)
        callback = loop_callback(callback)
        x = start_point(problem, x0, seed)
        criterion = self.stopping_criterion or self.default_stopping_criterion()
        counter = EvaluationCounter(problem)
        scale = GradientScale(counter)
        recorder = _Recorder(bool(keep_iterates))

        start = time.perf_counter()
        state = self.init_state(counter, x)
        if not state.is_finite:
            raise ValueError(
                f"the cost or gradient at the start point is not finite (cost {state.cost}, "
                f"gradient norm {state.gradient_norm})"
            )
        recorder.add(state, time.perf_counter() - start)
        iteration, cost_change = 0, math.inf
        debug = logger.isEnabledFor(logging.DEBUG)
        while True:
            info = IterationInfo(
                iteration, state, time.perf_counter() - start, counter.counts(), scale, cost_change
            )
            if debug:
                logger.debug(
                    "%s k=%d f=%.12g |grad|=%.3e step=%.3e",
                    self.name,
                    iteration,
                    state.cost,
                    state.gradient_norm,
                    state.step_size,
                )
            wants_stop = bool(callback(iteration, info)) if callback is not None else False
            decision = criterion.check(info)
            if decision is None and wants_stop:
                decision = Stop(
                    StopReason.CALLBACK, f"the callback stopped the run at iteration {iteration}"
                )
            if decision is not None:
                break
            new_state = self.step(state)
            if not new_state.is_finite:
                what = "cost" if not np.isfinite(new_state.cost) else "gradient norm"
                value = new_state.cost if what == "cost" else new_state.gradient_norm
                decision = Stop(
                    StopReason.NON_FINITE_COST,
                    f"the {what} became {value} at iteration {iteration + 1}; returning "
                    f"iterate {iteration}, the last with a finite cost",
                )
                break
            cost_change = abs(new_state.cost - state.cost)
            state = new_state
            iteration += 1
            recorder.add(state, time.perf_counter() - start)
        elapsed = time.perf_counter() - start
        logger.debug(
            "%s on %s: %s (%s)", self.name, problem.name, decision.reason.value, decision.message
        )
        certificate = certify_point(problem, state.point, certify, certify_options)
        return Result(
            solver=self.name,
            problem=problem.name,
            point=state.point,
            cost=float(state.cost),
            gradient_norm=float(state.gradient_norm),
            iterations=iteration,
            time_s=elapsed,
            stop_reason=decision.reason,
            stop_message=decision.message,
            counts=counter.counts(),
            history=recorder.history(),
            certificate=certificate,
            options=self.options(),
            gradient=state.gradient,
        )
