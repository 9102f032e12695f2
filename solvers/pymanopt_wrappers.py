"""pymanopt's TrustRegions, SteepestDescent and ConjugateGradient, returning our ``Result``.

Each wrapper runs the pymanopt optimizer on ``problem.to_pymanopt(counter)`` (our hand-written,
cached derivatives; every call counted by an ``EvaluationCounter``), from a start point validated or
drawn by ``geometry.random_point(manifold, seed)`` — pymanopt's own random start uses the global
``np.random`` state, so it is never used.  The stopping rule has the same meaning as for our
solvers: ‖grad f‖ below ``gradient_tolerance``, by default the loop's relative threshold measured
at the current iterate (``manifoldscape.core.loop``), ``max_iterations``, ``max_time``.  pymanopt
takes only an absolute tolerance, so the wrapper gives it the threshold at the start and, when it
stops there, measures the threshold at the point reached and runs on from it while that is
smaller (at most five rounds, within the iteration and time budgets).  pymanopt's free-text
stopping message is mapped to a ``StopReason`` and kept as ``stop_message``.  The final point is
certified like every other solver's.

What the wrappers cannot deliver, because pymanopt's optimizers offer no hook for it:

* no live callback — pymanopt calls nothing between iterations, so passing ``callback`` raises
  ``TypeError`` instead of silently ignoring it;
* ``pymanopt-trust-regions`` keeps no per-iteration log: its ``History`` holds two rows, the start
  and the final point (``iterates`` likewise), and no inner statistics;
* steepest descent and conjugate gradient log cost, gradient norm and time per iterate, not the
  step: ``History.step_size`` is NaN after the start;
* pymanopt does not check for non-finite costs; the wrappers stop the run at the first non-finite
  cost pymanopt asks for (a line-search trial or a trust-region proposal) and return the last
  iterate at which pymanopt evaluated the gradient — its current iterate — with
  ``StopReason.NON_FINITE_COST``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pymanopt.manifolds import Product
from pymanopt.optimizers import ConjugateGradient, SteepestDescent, TrustRegions
from pymanopt.optimizers.conjugate_gradient import BETA_RULES
from pymanopt.optimizers.optimizer import Optimizer

from manifoldscape.boundary.arguments import Seed
from manifoldscape.core.loop import (
    GradientScale,
    Solver,
    certify_point,
    require_number,
    start_point,
)
from manifoldscape.core.problem import EvaluationCounter, Problem
from manifoldscape.core.result import History, Result, StopReason
from manifoldscape.geometry import copy_point
from manifoldscape.solvers.trust_regions import validate_trust_region_options

#: pymanopt 2.2 stopping messages (Optimizer._check_stopping_criterion) → StopReason
_MESSAGES = (
    (re.compile(r"max time reached", re.I), StopReason.MAX_TIME),
    (re.compile(r"max iterations reached", re.I), StopReason.MAX_ITERATIONS),
    (re.compile(r"min grad norm reached", re.I), StopReason.GRADIENT_TOLERANCE),
    (re.compile(r"min step_?size reached", re.I), StopReason.STEP_TOLERANCE),
    (re.compile(r"max cost evals reached", re.I), StopReason.MAX_COST_EVALUATIONS),
)


def stop_reason_from_message(message: str) -> StopReason:
    """Map pymanopt's free-text stopping criterion to a ``StopReason``."""
    for pattern, reason in _MESSAGES:
        if pattern.search(message or ""):
            return reason
    raise RuntimeError(f"unrecognised pymanopt stopping message {message!r} (pymanopt version?)")


#: at most this many pymanopt runs, each from where the last stopped on its gradient tolerance
_ROUNDS = 5


@dataclass(frozen=True)
class _Probe:
    """What ``GradientScale.threshold`` reads of a state: the point and its gradient norm."""

    point: Any
    gradient_norm: float


def _join_logs(optimizer: Optimizer, earlier: list[dict[str, list]]) -> None:
    """Put the per-iteration logs of earlier rounds in front of ``optimizer``'s own."""
    if not earlier or not optimizer._log:
        return
    log = optimizer._log["iterations"]
    merged = {key: [] for key in log}
    for part in earlier:
        for key in merged:
            merged[key].extend(part.get(key, []))
    for key in merged:
        merged[key].extend(log[key])
    optimizer._log["iterations"] = merged


class _NonFiniteCost(Exception):
    """Raised inside pymanopt's run at the first non-finite cost, to end it."""

    def __init__(self, value: float):
        super().__init__(f"non-finite cost {value}")
        self.value = value


class _GuardedCounter(EvaluationCounter):
    """An ``EvaluationCounter`` that stops pymanopt at a non-finite cost.

    It remembers the last point where the gradient was asked for: pymanopt's current iterate.
    """

    def __init__(self, problem: Problem):
        super().__init__(problem)
        self.current_point: Any = None

    def cost(self, x: Any) -> float:
        value = super().cost(x)
        if not np.isfinite(value):
            raise _NonFiniteCost(value)
        return value

    def euclidean_gradient(self, x: Any) -> Any:
        self.current_point = copy_point(x)
        return super().euclidean_gradient(x)

    def riemannian_gradient(self, x: Any) -> Any:
        self.current_point = copy_point(x)
        return super().riemannian_gradient(x)


@dataclass(frozen=True, kw_only=True)
class _PymanoptSolver(Solver):
    """Shared run of the pymanopt wrappers (see the module docstring for what they cannot do)."""

    logs_iterations: ClassVar[bool] = True
    #: whether the log's last entry is the final iterate (conjugate gradient logs before its
    #: stopping test; steepest descent logs before each step, so its final iterate is not logged)
    logs_final_iterate: ClassVar[bool] = True

    def _optimizer(self, tolerance: float) -> Optimizer:
        raise NotImplementedError

    def _run_options(self) -> dict[str, Any]:
        return {}

    def _common(self, tolerance: float) -> dict[str, Any]:
        return {
            "max_time": self.max_time,
            "max_iterations": self.max_iterations,
            "min_gradient_norm": tolerance,
            "verbosity": 0,
            "log_verbosity": 1 if self.logs_iterations else 0,
        }

    def run(
        self,
        problem: Problem,
        x0: Any = None,
        *,
        seed: Seed = None,
        callback: Callable[..., Any] | None = None,
        keep_iterates: bool = False,
        certify: bool = True,
        certify_options: Mapping[str, Any] | None = None,
    ) -> Result:
        """Run the pymanopt optimizer from ``x0`` or a random point drawn from ``seed``.

        ``callback`` must be None: pymanopt has no per-iteration hook (``TypeError`` otherwise).
        """
        if callback is not None:
            raise TypeError(
                f"solver {self.name!r} cannot call a callback: pymanopt's optimizers have no "
                "per-iteration hook; use 'trust-regions' or 'gradient-descent', or pass "
                "callback=None"
            )
        x = start_point(problem, x0, seed)
        scale = GradientScale(problem)
        relative = self.gradient_tolerance is None
        tolerance = (
            scale.threshold(_Probe(x, problem.gradient_norm(x)), self.rtol_gradient)
            if relative
            else self.gradient_tolerance
        )
        counter = _GuardedCounter(problem)
        pymanopt_problem = problem.to_pymanopt(counter)
        start_wall = time.time()  # pymanopt logs time.time()
        start = time.perf_counter()
        logs: list[dict[str, list]] = []
        iterations_done, current = 0, x
        for round_ in range(_ROUNDS):
            remaining = self.max_iterations - iterations_done
            optimizer = dataclasses.replace(
                self,
                max_iterations=max(remaining, 0),
                max_time=self.max_time - (time.perf_counter() - start),
            )._optimizer(tolerance)
            try:
                # pymanopt divides 0/0 on reaching an exact zero of a quadratic model (tCG's
                # step to the boundary along a zero direction); the NaN cost is caught below
                with np.errstate(invalid="ignore", divide="ignore"):
                    outcome = optimizer.run(
                        pymanopt_problem, initial_point=copy_point(current), **self._run_options()
                    )
            except _NonFiniteCost as exc:
                elapsed = time.perf_counter() - start
                point = counter.current_point
                message = (
                    f"pymanopt evaluated a non-finite cost ({exc.value}); returning its current "
                    "iterate, the last with a finite cost"
                )
                _join_logs(optimizer, logs)
                return self._result(
                    problem,
                    x,
                    point,
                    optimizer,
                    start_wall,
                    elapsed,
                    StopReason.NON_FINITE_COST,
                    message,
                    counter,
                    keep_iterates,
                    certify,
                    certify_options,
                    iterations=None,
                    append_final=False,
                )
            iterations_done += outcome.iterations
            reason = stop_reason_from_message(outcome.stopping_criterion)
            if not relative or reason is not StopReason.GRADIENT_TOLERANCE:
                break
            # pymanopt's tolerance is absolute: test the point where it stopped with the
            # threshold measured there, and go on from it if the threshold is smaller
            point = list(outcome.point) if isinstance(problem.manifold, Product) else outcome.point
            norm = problem.gradient_norm(point)
            tolerance = scale.threshold(_Probe(point, norm), self.rtol_gradient)
            if norm <= tolerance or round_ == _ROUNDS - 1 or iterations_done >= self.max_iterations:
                break
            if optimizer._log and self.logs_iterations:
                logs.append({k: list(v) for k, v in optimizer._log["iterations"].items()})
            current = point
        _join_logs(optimizer, logs)
        outcome.iterations = iterations_done
        elapsed = time.perf_counter() - start
        return self._result(
            problem,
            x,
            outcome.point,
            optimizer,
            start_wall,
            elapsed,
            reason,
            f"pymanopt: {outcome.stopping_criterion}",
            counter,
            keep_iterates,
            certify,
            certify_options,
            iterations=outcome.iterations,
            append_final=not self.logs_final_iterate,
        )

    def _result(
        self,
        problem: Problem,
        x0: Any,
        point: Any,
        optimizer: Optimizer,
        start_wall: float,
        elapsed: float,
        reason: StopReason,
        message: str,
        counter: _GuardedCounter,
        keep_iterates: bool,
        certify: bool,
        certify_options: Mapping[str, Any] | None,
        iterations: int | None,
        append_final: bool,
    ) -> Result:
        if isinstance(problem.manifold, Product):
            point = list(point)
        cost = problem.cost(point)
        gradient_norm = problem.gradient_norm(point)
        log = optimizer._log["iterations"] if self.logs_iterations and optimizer._log else None
        if log is not None and len(log["cost"]):
            costs, norms = list(log["cost"]), list(log["gradient_norm"])
            times = [t - start_wall for t in log["time"]]
            points = list(log["point"])
            if append_final:
                costs.append(cost)
                norms.append(gradient_norm)
                times.append(max(elapsed, times[-1]))  # two clocks: keep the column monotone
                points.append(point)
            iterations = len(costs) - 1
            steps = [0.0] + [math.nan] * iterations
        else:  # trust regions: no log
            if iterations is None:  # stopped inside pymanopt: one cost per outer iteration + start
                iterations = max(counter.n_cost - 2, 0)
            costs = [problem.cost(x0), cost]
            norms = [problem.gradient_norm(x0), gradient_norm]
            times = [0.0, elapsed]
            points = [x0, point]
            steps = [0.0, math.nan]
        history = History(
            cost=np.asarray(costs, dtype=float),
            gradient_norm=np.asarray(norms, dtype=float),
            step_size=np.asarray(steps, dtype=float),
            time_s=np.asarray(times, dtype=float),
            extra={},
            iterates=[list(p) if isinstance(p, (list, tuple)) else p for p in points]
            if keep_iterates
            else None,
        )
        return Result(
            solver=self.name,
            problem=problem.name,
            point=point,
            cost=float(cost),
            gradient_norm=float(gradient_norm),
            iterations=int(iterations),
            time_s=elapsed,
            stop_reason=reason,
            stop_message=message,
            counts=counter.counts(),
            history=history,
            certificate=certify_point(problem, point, certify, certify_options),
            options=self.options(),
        )


@dataclass(frozen=True, kw_only=True)
class PymanoptTrustRegions(_PymanoptSolver):
    """pymanopt's ``TrustRegions`` (Riemannian trust regions with tCG, ABG 2007) on our problem.

    Options as for ``trust-regions``: ``max_radius`` (Delta_bar), ``initial_radius`` (Delta0),
    ``rho_prime``, ``kappa``, ``theta``, ``min_inner_iterations`` (mininner),
    ``max_inner_iterations`` (maxinner), ``rho_regularization``.  Cannot deliver: a callback, a
    per-iteration history (two rows: start and final point), inner statistics.  pymanopt's
    ``use_rand`` is not offered (it draws from the global ``np.random`` state).
    """

    name: ClassVar[str] = "pymanopt-trust-regions"
    logs_iterations: ClassVar[bool] = False

    max_radius: float | None = None
    initial_radius: float | None = None
    rho_prime: float = 0.1
    kappa: float = 0.1
    theta: float = 1.0
    min_inner_iterations: int = 1
    max_inner_iterations: int | None = None
    rho_regularization: float = 1e3

    def validate(self) -> None:  # noqa: D102
        super().validate()
        validate_trust_region_options(self)

    def _optimizer(self, tolerance: float) -> Optimizer:
        return TrustRegions(
            kappa=self.kappa,
            theta=self.theta,
            rho_prime=self.rho_prime,
            rho_regularization=self.rho_regularization,
            **self._common(tolerance),
        )

    def _run_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"mininner": self.min_inner_iterations}
        if self.max_inner_iterations is not None:
            options["maxinner"] = self.max_inner_iterations
        if self.max_radius is not None:
            options["Delta_bar"] = self.max_radius
        if self.initial_radius is not None:
            options["Delta0"] = self.initial_radius
        return options


@dataclass(frozen=True, kw_only=True)
class PymanoptSteepestDescent(_PymanoptSolver):
    """pymanopt's ``SteepestDescent`` (backtracking Armijo line search) on our problem.

    ``min_step_size``: stop when the line search's step is shorter (pymanopt's default 1e-10).
    Cannot deliver: a callback, the step sizes (``History.step_size`` is NaN after the start).
    """

    name: ClassVar[str] = "pymanopt-steepest-descent"
    logs_final_iterate: ClassVar[bool] = False

    min_step_size: float = 1e-10

    def validate(self) -> None:  # noqa: D102
        super().validate()
        require_number(self.min_step_size, "min_step_size", minimum=0.0)

    def _optimizer(self, tolerance: float) -> Optimizer:
        return SteepestDescent(min_step_size=self.min_step_size, **self._common(tolerance))


@dataclass(frozen=True, kw_only=True)
class PymanoptConjugateGradient(_PymanoptSolver):
    """pymanopt's ``ConjugateGradient`` (adaptive line search, transport of directions).

    ``beta_rule``: one of pymanopt's rules (HestenesStiefel by default, FletcherReeves,
    PolakRibiere, HagerZhang, LiuStorey); ``orth_value``: Powell's restart threshold (inf: off);
    ``min_step_size`` as for steepest descent.  Cannot deliver: a callback, the step sizes.
    """

    name: ClassVar[str] = "pymanopt-conjugate-gradient"

    beta_rule: str = "HestenesStiefel"
    orth_value: float = math.inf
    min_step_size: float = 1e-10

    def validate(self) -> None:  # noqa: D102
        super().validate()
        if self.beta_rule not in BETA_RULES:
            raise ValueError(
                f"beta_rule must be one of {', '.join(sorted(BETA_RULES))}, got {self.beta_rule!r}"
            )
        require_number(self.orth_value, "orth_value", minimum=0.0, open_minimum=True)
        require_number(self.min_step_size, "min_step_size", minimum=0.0)

    def _optimizer(self, tolerance: float) -> Optimizer:
        return ConjugateGradient(
            beta_rule=self.beta_rule,
            orth_value=self.orth_value,
            min_step_size=self.min_step_size,
            **self._common(tolerance),
        )
