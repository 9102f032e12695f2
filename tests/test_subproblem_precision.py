"""Single precision in the inner iteration of trust regions (``inner_precision="single"``).

The tCG and Lanczos recurrences run in float32 (Hessian-vector products in double, rounded); the
outer iteration, ρ and the certificate stay in double, so the run must reach the same certified
minimizer as in double precision, to the accuracy the gradient test allows: on the Rayleigh
quotient ‖x − v₁‖ ≤ 2‖grad f(x)‖/μ with μ = 2(λ₁ − λ₂) (as in ``test_solvers``), and the two
runs' costs agree to 2g²/μ.
"""

from __future__ import annotations

import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape.geometry import random_point
from manifoldscape.problems import phase_retrieval, rayleigh
from manifoldscape.solvers.subproblem_lanczos import LanczosTrustRegion
from manifoldscape.solvers.trust_regions import TruncatedConjugateGradient


@pytest.mark.parametrize("subproblem", ["tcg", "lanczos"])
def test_single_precision_reaches_the_same_certified_top_eigenvector(subproblem):
    problem = rayleigh(n=300, seed=5)
    values = problem.objective.eigenvalues
    mu = 2.0 * (values[0] - values[1])
    x0 = random_point(problem.manifold, 3)
    runs = {
        precision: ms.solve(
            problem, "trust-regions", x0=x0, subproblem=subproblem, inner_precision=precision
        )
        for precision in ("double", "single")
    }
    for result in runs.values():
        assert result.converged
        assert result.point.dtype == np.float64
        assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
        g = result.gradient_norm
        assert problem.distance_to_truth(result.point) <= 2 * g / mu + 1e-10
    g = max(r.gradient_norm for r in runs.values())
    assert abs(runs["single"].cost - runs["double"].cost) <= 2 * g**2 / mu + 1e-14


@pytest.mark.parametrize("field", ["real", "complex"])
@pytest.mark.parametrize("subproblem", ["tcg", "lanczos"])
def test_single_precision_recovers_the_same_phase_retrieval_signal(subproblem, field):
    problem = phase_retrieval(n=32, m=8 * 32, field=field, seed=1)
    x0 = random_point(problem.manifold, 4)
    runs = [
        ms.solve(problem, "trust-regions", x0=x0, subproblem=subproblem, inner_precision=p)
        for p in ("double", "single")
    ]
    for result in runs:
        assert result.converged and problem.recovered(result.point)
        assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
    gap = min(abs(e) for e in runs[0].certificate.eigenvalues)
    g = max(r.gradient_norm for r in runs)
    distance = problem.symmetry.distance(runs[0].point, runs[1].point)
    assert distance <= 4 * g / gap + 1e-12


@pytest.mark.parametrize(
    "solver",
    [TruncatedConjugateGradient(precision="single"), LanczosTrustRegion(precision="single")],
    ids=["tcg", "lanczos"],
)
def test_single_precision_inner_solver_returns_a_double_step_close_to_double(solver):
    problem = rayleigh(n=200, seed=6)
    x = random_point(problem.manifold, 7)
    g = problem.riemannian_gradient(x)
    single = solver.solve(problem, x, g, radius=0.3, max_iterations=199)
    double = type(solver)().solve(problem, x, g, radius=0.3, max_iterations=199)
    assert single.step.dtype == np.float64 and single.hessian_step.dtype == np.float64
    assert not np.array_equal(single.step, double.step)  # the arithmetic was not double's
    np.testing.assert_allclose(single.step, double.step, atol=1e-4 * np.linalg.norm(double.step))
    np.testing.assert_allclose(
        single.hessian_step,
        problem.riemannian_hessian(x, single.step),
        atol=1e-4 * np.linalg.norm(single.hessian_step),
    )
    assert abs(float(x @ single.step)) <= 1e-6 * np.linalg.norm(single.step)  # tangent


def test_an_unknown_precision_is_refused_by_name():
    with pytest.raises(ValueError, match="precision must be one of"):
        LanczosTrustRegion(precision="half")
    with pytest.raises(ValueError, match="precision must be one of"):
        TruncatedConjugateGradient(precision="float32")
