"""What the shared solver loop decides with: solver states, iteration info, stopping criteria.

``manifoldscape.core.loop`` runs solvers and re-exports every name defined here; import from
either module.

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

Cost per iterate (issue 14 item 6, "a thin loop"): an ``IterationInfo`` is a slotted object
holding a snapshot of the evaluation counts as three integers (the ``EvaluationCounts`` is
built on first access), and the gradient threshold reuses what does not change along a run
(the ambient size) and takes norms with one dot product where that is exactly
``numpy.linalg.norm`` (``_fast_norm``), so a criterion costs a few attribute reads per iterate.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np

from manifoldscape.core.hessian import hessian_norm_estimate
from manifoldscape.core.result import EvaluationCounts, StopReason
from manifoldscape.core.tolerance import ambient_size, gradient_floor, length_scale, safe_norm
from manifoldscape.geometry import SecondOrderUnavailable, same_point
from manifoldscape.geometry.fast import frobenius_norm

__all__ = [
    "AllOf",
    "AnyOf",
    "CostChangeBelow",
    "GradientNormBelow",
    "GradientScale",
    "IterationInfo",
    "MaxCostEvaluations",
    "MaxIterations",
    "MaxTime",
    "SolverState",
    "StepSizeBelow",
    "Stop",
    "StoppingCriterion",
    "require_count",
    "require_number",
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

    @classmethod
    def fast(cls, **fields: Any) -> Any:
        """``cls(**fields)`` with every field given, for the state a solver builds per iterate.

        The same frozen object, built without the frozen ``__init__``'s one
        ``object.__setattr__`` per field (half the cost of a step on tiny problems); raises
        ``TypeError`` naming the fields when they are not exactly the class's.
        """
        names = _FIELD_NAMES.get(cls)
        if names is None:
            names = _FIELD_NAMES[cls] = frozenset(f.name for f in dataclasses.fields(cls))
        if fields.keys() != names:
            raise TypeError(
                f"{cls.__name__}.fast needs exactly the fields {sorted(names)}, "
                f"got {sorted(fields)}"
            )
        state = object.__new__(cls)
        state.__dict__.update(fields)
        return state


_FIELD_NAMES: dict[type, frozenset[str]] = {}


class IterationInfo:
    """What stopping criteria and callbacks see after each iterate (read it, do not modify it).

    ``cost_change`` is |f(x_k) − f(x_{k−1})| (inf at the start); ``scale`` gives the relative
    gradient threshold at the current iterate (``GradientScale``); ``elapsed_s`` counts wall time
    since the start of the run.  ``counts`` may be given as an ``EvaluationCounts`` or as the
    three integers (cost, gradient, Hessian-vector products) of a snapshot; it reads as an
    ``EvaluationCounts`` either way.
    """

    __slots__ = ("_counts", "cost_change", "elapsed_s", "iteration", "scale", "state")

    def __init__(
        self,
        iteration: int,
        state: SolverState,
        elapsed_s: float,
        counts: EvaluationCounts | tuple[int, int, int],
        scale: GradientScale,
        cost_change: float = math.inf,
    ):
        self.iteration = iteration
        self.state = state
        self.elapsed_s = elapsed_s
        self._counts = counts
        self.scale = scale
        self.cost_change = cost_change

    @property
    def counts(self) -> EvaluationCounts:
        """The evaluations counted up to this iterate."""
        counts = self._counts
        if type(counts) is tuple:
            counts = self._counts = EvaluationCounts(*counts)
        return counts

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

    def __repr__(self) -> str:
        return (
            f"IterationInfo(iteration={self.iteration}, cost={self.cost!r}, "
            f"gradient_norm={self.gradient_norm!r}, step_size={self.step_size!r}, "
            f"elapsed_s={self.elapsed_s:.3g}, counts={self.counts}, "
            f"cost_change={self.cost_change!r})"
        )


def _fast_norm(value: Any) -> float:
    """``safe_norm(value)``, bit for bit, by one dot product for a real float64 array.

    ``numpy.linalg.norm`` of a real array is √(v·v) with v the raveled array, which is what this
    computes; ``safe_norm`` takes the same norm when the largest entry s lies in (1e-150, 1e150),
    which holds when the result lies in (1e-140, 1e150) (s ≤ ‖v‖ ≤ √N s, N < 1e20).  Outside
    that range, and for other types, ``safe_norm`` itself.  The dot product may overflow to inf
    (then ``safe_norm`` decides): callers run it under ``np.errstate(over="ignore")``, as
    ``_fast_norms`` does.
    """
    if type(value) is np.ndarray and value.dtype == np.float64:
        norm = frobenius_norm(value)
        if 1e-140 < norm < 1e150:
            return norm
    return safe_norm(value)


def _fast_norms(*values: Any) -> tuple[float, ...]:
    """``safe_norm`` of each value, by ``_fast_norm`` with overflow of its dot product silenced."""
    with np.errstate(over="ignore"):
        return tuple(_fast_norm(value) for value in values)


class GradientScale:
    """The default gradient threshold of a run, at its current iterate (module docstring).

    ``threshold(state, rtol)`` = max(rtol · Ĥ(x) · ℓ, ρ_grad(x)) with Ĥ(x) a Lanczos estimate of
    ‖Hess f(x)‖, re-estimated lazily: at the first call and whenever the gradient norm comes
    within 8× of the threshold of the last estimate.  ``problem`` is what the solver evaluates;
    the estimates go to the problem behind an ``EvaluationCounter``, so a run's counts are the
    solver's own evaluations (an estimate costs four Hessian-vector products).  ``estimates``
    counts the Lanczos estimates made.  A state with a field ``euclidean_gradient`` (not None)
    gives ∇f at its point, which the round-off floor needs, without a look-up.
    """

    def __init__(self, problem: Any):
        self.problem = problem
        self.hessian_norm: float | None = None
        self.estimates = 0
        self._estimated_at: Any = None
        self._raw_problem = getattr(problem, "problem", problem)
        self._size: tuple[Any, int] | None = None  # ((shape, dtype) of the points, ambient size)

    def _raw(self) -> Any:
        return self._raw_problem

    def _ambient_size(self, point: Any) -> int:
        """``ambient_size(point)``, remembered for the shape and dtype of the last array."""
        if type(point) is not np.ndarray:
            return ambient_size(point)
        key = (point.shape, point.dtype)
        if self._size is None or self._size[0] != key:
            self._size = (key, ambient_size(point))
        return self._size[1]

    def floor(self, point: Any, gradient_norm: float) -> float:
        """ρ_grad at ``point`` (the Euclidean gradient there is cached: no new evaluation)."""
        (egrad,) = _fast_norms(self._raw_problem.euclidean_gradient(point))
        return gradient_floor(egrad, gradient_norm, self._ambient_size(point))

    def estimate(self, point: Any) -> float:
        """Ĥ(x), cached for the last point estimated."""
        if self._estimated_at is None or not same_point(self._estimated_at, point):
            raw = self._raw_problem
            self.estimates += 1
            try:
                self.hessian_norm = hessian_norm_estimate(raw, point)
            except SecondOrderUnavailable:
                # a first-order manifold (pymanopt's FixedRankEmbedded): the scale of the cost,
                # max(|f(x)|, ‖∇f(x)‖) / ℓ, stands in for the Hessian's
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
        # ∇f(x): carried by the state when the solver keeps it, else cached (no new evaluation)
        egrad = getattr(state, "euclidean_gradient", None)
        if egrad is None:
            egrad = self._raw_problem.euclidean_gradient(x)
        egrad_norm, x_norm = _fast_norms(egrad, x)
        floor = gradient_floor(egrad_norm, g, self._ambient_size(x))
        if g <= floor:
            return floor
        length = max(x_norm, 1.0)  # length_scale(x), bit for bit
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


def quiet_test(
    criterion: StoppingCriterion,
) -> Callable[[int, SolverState, float, float], bool] | None:
    """A cheap test that ``criterion`` certainly does not fire, or None if it has no such test.

    For the loop's common rule (issue 14 item 6): an ``AnyOf`` (or a single criterion) of
    ``GradientNormBelow`` with an absolute tolerance, ``MaxIterations``, ``MaxTime``,
    ``StepSizeBelow`` and ``CostChangeBelow`` (exact types: a subclass may check otherwise).
    ``quiet(iteration, state, elapsed_s, cost_change)`` is True only when none of them fires at
    that iterate, so the loop may skip building the ``IterationInfo`` and calling ``check``;
    when it is False, ``check`` decides (and words the ``Stop``) as always.
    """
    members = criterion.criteria if type(criterion) is AnyOf else (criterion,)
    gradient, iterations, seconds = -math.inf, math.inf, math.inf
    step, change = -math.inf, -math.inf
    for member in members:
        kind = type(member)
        if kind is GradientNormBelow and member.tolerance is not None:
            gradient = max(gradient, member.tolerance)
        elif kind is MaxIterations:
            iterations = min(iterations, member.n)
        elif kind is MaxTime:
            seconds = min(seconds, member.seconds)
        elif kind is StepSizeBelow:
            step = max(step, member.tolerance)
        elif kind is CostChangeBelow:
            change = max(change, member.tolerance)
        else:
            return None

    def quiet(iteration: int, state: SolverState, elapsed_s: float, cost_change: float) -> bool:
        return (
            state.gradient_norm > gradient
            and iteration < iterations
            and elapsed_s < seconds
            and (iteration == 0 or (state.step_size >= step and cost_change >= change))
        )

    return quiet


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
