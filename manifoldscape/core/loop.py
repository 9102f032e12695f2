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

The state, the iteration info, the default gradient threshold (``GradientScale``) and the
stopping criteria live in ``manifoldscape.core.stopping`` (its docstring states the default
stopping rule); every name is importable from here too.

Per iterate the loop does the least it can (issue 14 item 6): one clock reading (shared by the
history and the criteria), a snapshot of the three counts, one ``IterationInfo``, the criterion
and one tuple appended to the history; the columns become arrays once, at the end.  Without a
callback or debug logging, an iterate where the rule certainly does not fire
(``stopping.quiet_test``: absolute gradient tolerance, iteration, time, step and cost-change
limits) skips the ``IterationInfo`` and the check.  Validation stays at the boundary (``x0``
in ``start_point``, user calls of the ``Problem``); inside the run a solver evaluates the points
it computes itself through ``EvaluationCounter.new_point_cost`` / ``gradients_at``: no cache
look-up, and without a callback no copy of the point either (the cache keeps the solver's own
array as key until the run ends, then a copy: ``EvaluationCounter.seal``, in a ``finally``).
"""

from __future__ import annotations

import abc
import dataclasses
import inspect
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from manifoldscape.boundary.arguments import Seed, as_generator, callback_arity, require_options
from manifoldscape.core.problem import EvaluationCounter, Problem
from manifoldscape.core.result import History, Result, StopReason
from manifoldscape.core.stopping import (
    AllOf,
    AnyOf,
    CostChangeBelow,
    GradientNormBelow,
    GradientScale,
    IterationInfo,
    MaxCostEvaluations,
    MaxIterations,
    MaxTime,
    SolverState,
    StepSizeBelow,
    Stop,
    StoppingCriterion,
    _non_negative,
    _positive_count,
    quiet_test,
    require_count,
    require_number,
)
from manifoldscape.geometry import random_point
from manifoldscape.geometry.fast import riemannian_gradient as fast_riemannian_gradient

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
    "gradients",
    "loop_callback",
    "require_count",
    "require_number",
    "start_point",
]


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


def gradients(problem: Any, x: Any, entry: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """(∇f(x), grad f(x)) with one cached look-up, counted as one gradient evaluation.

    grad f(x) = P_x ∇f(x) is formed bit for bit as ``Problem.riemannian_gradient`` forms it
    (``geometry.fast.riemannian_gradient``: the direct formula on the sphere, Stiefel and SO(n),
    the generic conversion elsewhere) from the Euclidean gradient the problem caches; asking
    the problem for both would look x up two or three times (on tiny problems each look-up
    costs as much as the arithmetic).  ``problem`` is a ``Problem`` or the loop's
    ``EvaluationCounter``.  ``entry``: x's cache entry from ``problem.new_point_cost(x)``, for
    a point the solver computed and has not modified since (then no look-up at all).
    """
    if entry is not None:
        return problem.gradients_at(x, entry)
    egrad = problem.euclidean_gradient(x)
    return egrad, fast_riemannian_gradient(problem.manifold, x, egrad)


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
    """Collects the History rows: one tuple per iterate, made into columns at the end."""

    def __init__(self, keep_iterates: bool):
        self.rows: list[tuple[Any, Any, Any, float]] = []
        self.extra_rows: list[Mapping[str, Any]] = []
        self.extra_keys: Any = None
        self.last_extra: Any = None  # the first row's dict: passed on unchanged, not compared
        self.iterates: list[Any] | None = [] if keep_iterates else None

    def add(self, state: SolverState, elapsed: float) -> None:
        self.rows.append((state.cost, state.gradient_norm, state.step_size, elapsed))
        extra = state.extra
        if self.extra_keys is None:
            self.extra_keys = extra.keys()
            self.last_extra = extra
        elif extra is not self.last_extra and extra.keys() != self.extra_keys:
            raise RuntimeError(
                f"solver state columns changed during the run: {sorted(extra)} "
                f"instead of {sorted(self.extra_keys)}"
            )
        if extra:
            self.extra_rows.append(extra)
        if self.iterates is not None:
            self.iterates.append(state.point)

    def history(self) -> History:
        columns = [np.array(column, dtype=float) for column in zip(*self.rows, strict=True)]
        if not columns:
            columns = [np.zeros(0) for _ in range(4)]
        keys = list(self.extra_keys or ())
        return History(
            cost=columns[0],
            gradient_norm=columns[1],
            step_size=columns[2],
            time_s=columns[3],
            extra={key: np.asarray([row[key] for row in self.extra_rows]) for key in keys},
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
        check = criterion.check
        # without a callback no user code sees an iterate before the run ends: the points the
        # solver computes enter the cache without a copy, copied once at the end (seal)
        counter = EvaluationCounter(problem, provisional_keys=callback is None)
        scale = GradientScale(counter)
        recorder = _Recorder(bool(keep_iterates))
        record = recorder.add
        clock = time.perf_counter
        debug = logger.isEnabledFor(logging.DEBUG)

        start = clock()
        try:
            state = self.init_state(counter, x)
            if not state.is_finite:
                raise ValueError(
                    f"the cost or gradient at the start point is not finite (cost {state.cost}, "
                    f"gradient norm {state.gradient_norm})"
                )
            # without a callback or debug log, an iterate where the rule certainly does not fire
            # needs no IterationInfo and no check (stopping.quiet_test)
            quiet = quiet_test(criterion) if callback is None and not debug else None
            iteration, cost_change, isfinite = 0, math.inf, math.isfinite
            now = clock() - start
            record(state, now)
            while True:
                if quiet is None or not quiet(iteration, state, now, cost_change):
                    counts = (counter.n_cost, counter.n_gradient, counter.n_hessian)
                    info = IterationInfo(iteration, state, now, counts, scale, cost_change)
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
                    decision = check(info)
                    if decision is None and wants_stop:
                        decision = Stop(
                            StopReason.CALLBACK,
                            f"the callback stopped the run at iteration {iteration}",
                        )
                    if decision is not None:
                        break
                new_state = self.step(state)
                new_cost = new_state.cost
                if not (isfinite(new_cost) and isfinite(new_state.gradient_norm)):
                    what = "cost" if not np.isfinite(new_cost) else "gradient norm"
                    value = new_cost if what == "cost" else new_state.gradient_norm
                    decision = Stop(
                        StopReason.NON_FINITE_COST,
                        f"the {what} became {value} at iteration {iteration + 1}; returning "
                        f"iterate {iteration}, the last with a finite cost",
                    )
                    break
                cost_change = abs(new_cost - state.cost)
                state = new_state
                iteration += 1
                now = clock() - start
                record(state, now)
        finally:
            counter.seal()
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
