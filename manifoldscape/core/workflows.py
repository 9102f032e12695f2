"""Workflows on top of the libraries: build a problem by name, solve it, certify the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from manifoldscape.boundary.arguments import Seed
from manifoldscape.core.problem import Problem
from manifoldscape.core.registry import problem_registry, solver_registry
from manifoldscape.core.result import Result


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
    **options: Any,
) -> Result:
    """Solve ``problem`` with a registered solver and certify the final point.

    ``x0`` defaults to a random point drawn from ``seed``; ``options`` configure the solver (see
    ``manifoldscape list`` or the solver's docstring), unknown ones are refused.
    """
    if not isinstance(problem, Problem):
        raise TypeError(
            f"problem must be a manifoldscape Problem, got {type(problem).__name__}; "
            "build one with make_problem(name, ...) or a factory of manifoldscape.problems"
        )
    if not isinstance(solver, str):
        raise TypeError(f"solver must be a registered solver name, got {type(solver).__name__}")
    configured = make_solver(solver, **options)
    return configured.run(
        problem, x0=x0, seed=seed, callback=callback, keep_iterates=keep_iterates, certify=certify
    )
