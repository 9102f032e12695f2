"""Workflows on top of the libraries: build a problem by name, solve it, certify the result."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

from manifoldscape.boundary.arguments import Seed, require_verbosity
from manifoldscape.core.loop import IterativeSolver
from manifoldscape.core.problem import Problem
from manifoldscape.core.registry import problem_registry, solver_registry
from manifoldscape.core.result import Result

logger = logging.getLogger(__name__)


def make_problem(name: str, **parameters: Any) -> Problem:
    """Build a registered problem by name, e.g. ``make_problem("rayleigh", n=100, seed=0)``.

    Unknown names and parameters raise errors that list the valid ones.
    """
    entry = problem_registry.get(name)
    valid = entry.parameters()
    unknown = sorted(set(parameters) - set(valid))
    if unknown:
        raise TypeError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for problem {name!r}; "
            f"valid parameters are: {', '.join(valid)}"
        )
    problem = entry.factory(**parameters)
    if not isinstance(problem, Problem):
        raise TypeError(
            f"factory of problem {name!r} returned {type(problem).__name__}, not a Problem"
        )
    return problem


def make_solver(name: str, **options: Any) -> Any:
    """A configured solver by name (unknown options: ``TypeError`` listing the valid ones)."""
    return solver_registry.get(name).factory(**options)


def solve(
    problem: Problem,
    solver: str = "trust-regions",
    x0: Any = None,
    seed: Seed = None,
    *,
    callback: Callable[..., Any] | None = None,
    keep_iterates: bool = False,
    certify: bool = True,
    verbosity: int = 0,
    **options: Any,
) -> Result:
    """Solve ``problem`` with a registered solver and certify the final point.

    ``x0`` defaults to a random point drawn from ``seed``; ``options`` configure the solver (see
    ``manifoldscape list`` or the solver's docstring), unknown ones are refused.  ``callback`` is
    ``callback(iteration, info)`` or scipy's ``callback(x)``; a truthy return stops the run
    (``StopReason.CALLBACK``).  ``Result.as_optimize_result()`` gives scipy's result object.

    ``verbosity`` logs through the ``manifoldscape`` loggers (``logging``): 0 adds nothing (what
    shows is what your logging configuration lets through; warnings by default); 1 logs one INFO
    line at the end (stop reason, iterations, cost, gradient norm, certificate verdict); 2 also
    one DEBUG line per iteration (live for manifoldscape's own solvers, from the history after
    the run for the pymanopt wrappers, which have no per-iteration hook) and the solvers' other
    DEBUG lines.  For the call, the ``manifoldscape`` logger's level is lowered to INFO or DEBUG
    (and restored after); only if no handler is configured anywhere (the root logger has none
    either) is a stderr handler attached for the call, so the lines show.
    """
    if not isinstance(problem, Problem):
        raise TypeError(
            f"problem must be a manifoldscape Problem, got {type(problem).__name__}; "
            "build one with make_problem(name, ...) or a factory of manifoldscape.problems"
        )
    if not isinstance(solver, str):
        raise TypeError(f"solver must be a registered solver name, got {type(solver).__name__}")
    verbosity = require_verbosity(verbosity)
    configured = make_solver(solver, **options)
    with _logging_for(verbosity):
        result = configured.run(
            problem,
            x0=x0,
            seed=seed,
            callback=callback,
            keep_iterates=keep_iterates,
            certify=certify,
        )
        if verbosity >= 2 and not isinstance(configured, IterativeSolver):
            history = result.history
            for k in range(len(history)):
                logger.debug(
                    "%s k=%d f=%.12g |grad|=%.3e step=%.3e",
                    result.solver,
                    k,
                    history.cost[k],
                    history.gradient_norm[k],
                    history.step_size[k],
                )
        if verbosity >= 1:
            verdict = "not certified" if result.certificate is None else result.certificate.verdict
            logger.info(
                "%s on %s: %s after %d iterations, cost %.12g, |grad| %.3e, certificate %s",
                result.solver,
                result.problem,
                result.stop_reason.value,
                result.iterations,
                result.cost,
                result.gradient_norm,
                getattr(verdict, "value", verdict),
            )
    return result


@contextlib.contextmanager
def _logging_for(verbosity: int) -> Iterator[None]:
    """Lower the ``manifoldscape`` logger to INFO (1) or DEBUG (2) for a call (``solve``)."""
    if verbosity == 0:
        yield
        return
    package = logging.getLogger("manifoldscape")
    level = logging.INFO if verbosity == 1 else logging.DEBUG
    previous = package.level
    handler = None
    if not package.hasHandlers():  # logging.lastResort would show warnings only
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        package.addHandler(handler)
    if package.getEffectiveLevel() > level:
        package.setLevel(level)
    try:
        yield
    finally:
        package.setLevel(previous)
        if handler is not None:
            package.removeHandler(handler)
