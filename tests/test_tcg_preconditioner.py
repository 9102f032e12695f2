"""Preconditioned truncated CG in trust regions (ABG 2007, Alg. 11; Manopt's ``trs_tCG``).

On the Rayleigh quotient f(x) = −xᵀAx on the sphere, Hess f(x)[u] = Proj_x(−2Au) + 2(xᵀAx) u,
so P = Proj_x ∘ (2(μI − A))⁻¹ ∘ Proj_x with μ > λ₁ is symmetric positive definite on T_xS and,
near the minimizer v₁ with μ close to λ₁, close to Hess f(x)⁻¹.
"""

from __future__ import annotations

import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape.problems import rayleigh
from manifoldscape.solvers.trust_regions import InnerStop, TruncatedConjugateGradient


def _project(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    return v - (x @ v) * x


def _ill_conditioned(n: int = 120, seed: int = 0) -> ms.Problem:
    """λ₁ = 1, λ₁ − λ_i spread over [1e-4, 1]: Hess f(v₁) has condition number 1e4."""
    values = 1.0 - np.concatenate([[0.0], np.logspace(-4, 0, n - 1)])
    return rayleigh(spectrum=values, n=n, seed=seed)


def _shift_invert(problem: ms.Problem, mu: float):
    values, q = problem.objective.eigenvalues, problem.objective.eigenvectors
    scale = 1.0 / (2.0 * (mu - values))

    def preconditioner(x: np.ndarray, r: np.ndarray) -> np.ndarray:
        return _project(x, q @ (scale * (q.T @ _project(x, r))))

    return preconditioner


def test_identity_preconditioner_gives_the_same_iterates():
    problem = _ill_conditioned()
    plain = ms.solve(problem, "trust-regions", seed=3, certify=False, keep_iterates=True)
    identity = ms.solve(
        problem,
        "trust-regions",
        seed=3,
        certify=False,
        keep_iterates=True,
        preconditioner=lambda x, r: r,
    )
    assert plain.iterations == identity.iterations
    np.testing.assert_array_equal(
        plain.history.extra["inner_iterations"], identity.history.extra["inner_iterations"]
    )
    for a, b in zip(plain.history.iterates, identity.history.iterates, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_preconditioner_cuts_hessian_products_and_reaches_the_same_minimizer():
    problem = _ill_conditioned()
    truth = problem.truth
    plain = ms.solve(problem, "trust-regions", seed=1, certify=False)
    preconditioned = ms.solve(
        problem,
        "trust-regions",
        seed=1,
        certify=False,
        preconditioner=_shift_invert(problem, mu=1.0 + 1e-4),
    )
    for result in (plain, preconditioned):
        assert result.converged
        assert abs(float(result.point @ truth)) > 1 - 1e-8
    assert preconditioned.counts.hessian < plain.counts.hessian / 3
    assert sum(preconditioned.history.extra["inner_iterations"]) == preconditioned.counts.hessian


def _near_minimizer(problem: ms.Problem) -> np.ndarray:
    rng = np.random.default_rng(7)
    x = problem.truth + 1e-3 * rng.standard_normal(problem.truth.shape)
    return x / np.linalg.norm(x)


def _exact_inverse(problem: ms.Problem, x: np.ndarray):
    """The inverse of Hess f(x) on T_xS (positive definite near v₁), as a matrix."""
    n = x.size
    proj = np.eye(n) - np.outer(x, x)
    a = problem.objective.a
    hess = proj @ (-2.0 * a + 2.0 * float(x @ a @ x) * np.eye(n)) @ proj
    inverse = np.linalg.pinv(0.5 * (hess + hess.T), hermitian=True)
    assert np.linalg.eigvalsh(hess + np.outer(x, x)).min() > 0  # PD on T_xS
    return inverse


def test_exact_inverse_preconditioner_solves_the_model_in_one_product():
    problem = _ill_conditioned(n=60)
    x = _near_minimizer(problem)
    inverse = _exact_inverse(problem, x)
    gradient = problem.riemannian_gradient(x)
    tcg = TruncatedConjugateGradient(preconditioner=lambda _x, r: inverse @ r)
    result = tcg.solve(problem, x, gradient, radius=1e3, max_iterations=60)
    assert result.iterations == 1
    assert result.stop in (InnerStop.REACHED_TARGET_LINEAR, InnerStop.REACHED_TARGET_SUPERLINEAR)
    np.testing.assert_allclose(result.step, -inverse @ gradient, rtol=1e-8, atol=1e-14)
    unpreconditioned = TruncatedConjugateGradient().solve(
        problem, x, gradient, radius=1e3, max_iterations=60
    )
    assert unpreconditioned.iterations > 5


def test_boundary_is_measured_in_the_preconditioned_norm():
    problem = _ill_conditioned(n=60)
    x = _near_minimizer(problem)
    inverse = _exact_inverse(problem, x)
    hess = np.linalg.pinv(inverse, hermitian=True)  # P⁻¹ on T_xS
    gradient = problem.riemannian_gradient(x)
    full = float(np.sqrt(gradient @ inverse @ gradient))  # ‖H⁻¹g‖ in the P⁻¹ = H norm
    radius = 0.5 * full
    tcg = TruncatedConjugateGradient(preconditioner=lambda _x, r: inverse @ r)
    result = tcg.solve(problem, x, gradient, radius=radius, max_iterations=60)
    assert result.stop is InnerStop.EXCEEDED_RADIUS
    step = result.step
    np.testing.assert_allclose(np.sqrt(step @ hess @ step), radius, rtol=1e-8)
    assert not np.isclose(np.linalg.norm(step), radius, rtol=1e-3)  # not the Euclidean norm


@pytest.mark.parametrize("bad", [3, "identity", np.eye(2)])
def test_a_non_callable_preconditioner_is_refused_by_name(bad):
    problem = rayleigh(n=5, seed=0)
    with pytest.raises(TypeError, match="preconditioner must be None or a callable"):
        ms.solve(problem, "trust-regions", preconditioner=bad)
