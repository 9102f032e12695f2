"""Pytest-friendly assertions on problems and manifolds, for this project and its users.

Each ``assert_*`` runs a check of ``manifoldscape.core.checks`` and raises ``AssertionError`` with
the numbers (slopes, errors, which property failed) when it fails; on success it returns the check
so a test can look further.  In a user's own suite::

    from manifoldscape.testing import assert_derivatives, assert_matches_autograd

    def test_my_loss():
        problem = ms.Problem.from_autograd(Sphere(50), my_cost)
        assert_derivatives(problem, points=3, seed=0)
"""

from __future__ import annotations

from typing import Any

from pymanopt.manifolds.manifold import Manifold

from manifoldscape.boundary.arguments import Seed, as_generator, require_positive_int
from manifoldscape.core.checks import (
    AutogradComparison,
    GradientCheck,
    HessianCheck,
    ManifoldCheck,
    check_gradient,
    check_hessian,
    check_manifold,
    compare_with_autograd,
)
from manifoldscape.core.problem import Problem
from manifoldscape.geometry import random_point

__all__ = [
    "assert_derivatives",
    "assert_gradient",
    "assert_hessian",
    "assert_manifold",
    "assert_matches_autograd",
]


def _label(problem: Problem) -> str:
    return f"{problem.name!r} on {problem.manifold}"


def assert_gradient(
    problem: Problem, point: Any = None, direction: Any = None, *, seed: Seed = None
) -> GradientCheck:
    """Assert that the Riemannian gradient passes ``checks.check_gradient``."""
    check = check_gradient(problem, point, direction, seed=seed)
    if not check.passed:
        raise AssertionError(f"gradient check failed for {_label(problem)}:\n{check.summary()}")
    return check


def assert_hessian(
    problem: Problem, point: Any = None, direction: Any = None, *, seed: Seed = None
) -> HessianCheck:
    """Assert that the Riemannian Hessian passes ``checks.check_hessian``."""
    check = check_hessian(problem, point, direction, seed=seed)
    if not check.passed:
        raise AssertionError(f"Hessian check failed for {_label(problem)}:\n{check.summary()}")
    return check


def assert_derivatives(
    problem: Problem, points: int = 3, seed: Seed = 0
) -> list[tuple[GradientCheck, HessianCheck]]:
    """Assert gradient and Hessian checks at ``points`` random points (random directions).

    Every point is checked; the error lists all failures, each with its point index.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a manifoldscape Problem, got {type(problem).__name__}")
    points = require_positive_int(points, "points")
    rng = as_generator(seed)
    results, failures = [], []
    for k in range(points):
        x = random_point(problem.manifold, rng)
        gradient = check_gradient(problem, x, seed=rng)
        hessian = check_hessian(problem, x, seed=rng)
        results.append((gradient, hessian))
        if not gradient.passed:
            failures.append(f"point {k}: {gradient.summary()}")
        if not hessian.passed:
            failures.append(f"point {k}: {hessian.summary()}")
    if failures:
        raise AssertionError(
            f"derivative checks failed for {_label(problem)} at {len(failures)} of "
            f"{2 * points} checks:\n" + "\n".join(failures)
        )
    return results


def assert_manifold(manifold: Manifold, point: Any = None, *, seed: Seed = None) -> ManifoldCheck:
    """Assert that the manifold passes ``checks.check_manifold``."""
    check = check_manifold(manifold, point, seed=seed)
    if not check.passed:
        raise AssertionError(f"manifold check failed:\n{check.summary()}")
    return check


def assert_matches_autograd(
    problem: Problem, points: int = 3, seed: Seed = 0, rtol: float = 1e-8
) -> AutogradComparison:
    """Assert that cost and derivatives agree with ``problem.autograd_twin()`` within ``rtol``.

    Compares the cost, the Euclidean and Riemannian gradients, and the Euclidean and Riemannian
    Hessian-vector products at ``points`` random points and two random directions per point
    (relative errors as in ``checks.AutogradComparison``).
    """
    if not (isinstance(rtol, (int, float)) and rtol > 0):
        raise ValueError(f"rtol must be a positive number, got {rtol!r}")
    comparison = compare_with_autograd(problem, points=points, seed=seed)
    names = (
        "cost",
        "euclidean_gradient",
        "riemannian_gradient",
        "euclidean_hessian",
        "riemannian_hessian",
    )
    bad = [name for name in names if not getattr(comparison, name) <= rtol]
    if bad:
        listing = ", ".join(f"{name} {getattr(comparison, name):.2e}" for name in names)
        raise AssertionError(
            f"{_label(problem)} differs from its autograd twin in {', '.join(bad)} "
            f"(relative errors, rtol = {rtol:g}): {listing}"
        )
    return comparison
