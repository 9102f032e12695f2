"""The GLTR-type Lanczos trust-region subproblem solver (``solvers.subproblem_lanczos``).

Checked against an independent dense solve: for a symmetric B and a vector b, the global
minimizer of ⟨b, h⟩ + ½⟨Bh, h⟩ on ‖h‖ ≤ Δ is h = −(B + λI)⁻¹b with B + λI ⪰ 0, λ ≥ 0 and
λ(‖h‖ − Δ) = 0 (Moré & Sorensen 1983; Conn–Gould–Toint Thm 7.2.1), λ found here by bisection
on ‖h(λ)‖ = Δ with numpy's dense ``eigh``.
"""

from __future__ import annotations

import numpy as np
import pytest
from pymanopt.manifolds import Euclidean

import manifoldscape as ms
from manifoldscape.core.problem import EvaluationCounter, Problem
from manifoldscape.geometry import random_point
from manifoldscape.problems import phase_retrieval, rayleigh
from manifoldscape.solvers.subproblem_lanczos import (
    LanczosTrustRegion,
    solve_tridiagonal_trust_region,
)
from manifoldscape.solvers.trust_regions import InnerStop


def _dense_trust_region(b_matrix: np.ndarray, b: np.ndarray, radius: float):
    """Global minimizer and multiplier of ⟨b, h⟩ + ½⟨Bh, h⟩ on ‖h‖ ≤ Δ (not the hard case)."""
    values, vectors = np.linalg.eigh(b_matrix)
    c = vectors.T @ b

    def norm(lam: float) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):  # at the pole: infinite
            terms = np.where(c != 0, c / (values + lam), 0.0)
        return float(np.linalg.norm(terms)) if np.all(np.isfinite(terms)) else np.inf

    if values[0] > 0 and norm(0.0) <= radius:
        return -vectors @ (c / values), 0.0
    lo = max(0.0, -values[0])
    hi = lo + np.linalg.norm(c) / radius + 1.0
    for _ in range(200):  # bisection: ‖h(λ)‖ decreases on (−λ_min, ∞)
        mid = 0.5 * (lo + hi)
        if norm(mid) > radius:
            lo = mid
        else:
            hi = mid
    lam = 0.5 * (lo + hi)
    shifted = values + lam
    near_pole = shifted <= 1e-12 * np.abs(values).max()
    if not np.any(near_pole):
        return -vectors @ (c / shifted), lam
    # the (near) hard case: λ at the pole, the missing length along the lowest eigenvector
    coefficients = np.where(near_pole, 0.0, -c / np.where(near_pole, 1.0, shifted))
    coefficients[0] = np.sqrt(max(radius**2 - coefficients @ coefficients, 0.0))
    return vectors @ coefficients, -values[0]


def _tridiagonal(rng, k: int, shift: float):
    diagonal = rng.standard_normal(k) + shift
    off = rng.uniform(0.2, 1.0, k - 1)
    matrix = np.diag(diagonal) + np.diag(off, 1) + np.diag(off, -1)
    return diagonal, off, matrix


@pytest.mark.parametrize(
    ("shift", "radius"),
    [(6.0, 10.0), (6.0, 0.05), (0.0, 1.0), (-3.0, 0.3), (-3.0, 30.0)],
    ids=["interior", "definite-boundary", "indefinite", "negative-small", "negative-large"],
)
@pytest.mark.parametrize("k", [3, 12, 120])
def test_tridiagonal_solution_meets_the_more_sorensen_conditions(rng, shift, radius, k):
    b1 = 1.7
    diagonal, off, matrix = _tridiagonal(rng, k, shift)
    out = solve_tridiagonal_trust_region(diagonal, off, b1, radius)
    h, lam = out.solution, out.multiplier
    rhs = np.zeros(k)
    rhs[0] = b1
    scale = np.abs(np.linalg.eigvalsh(matrix)).max() + b1 / radius
    np.testing.assert_allclose(matrix @ h + lam * h, -rhs, atol=1e-10 * scale * radius)
    assert lam >= 0
    assert np.linalg.norm(h) <= radius * (1 + 1e-10)
    assert lam * abs(np.linalg.norm(h) - radius) <= 1e-10 * scale * radius
    assert np.linalg.eigvalsh(matrix + lam * np.eye(k)).min() >= -1e-10 * scale
    dense, dense_lam = _dense_trust_region(matrix, rhs, radius)
    model = rhs @ h + 0.5 * h @ (matrix @ h)
    dense_model = rhs @ dense + 0.5 * dense @ (matrix @ dense)
    assert model <= dense_model + 1e-10 * scale * radius**2
    assert lam == pytest.approx(dense_lam, abs=1e-8 * scale)
    if lam + np.linalg.eigvalsh(matrix)[0] > 1e-6 * scale:  # away from the hard case: unique
        np.testing.assert_allclose(h, dense, atol=1e-8 * radius)


@pytest.mark.parametrize("coupling", [1e-6, 1e-9, 1e-13])
def test_tridiagonal_near_hard_case_meets_the_conditions(coupling):
    # T's lowest eigenvector (eigenvalue ≈ −2) barely touches e₁ through a tiny coupling
    k = 10
    diagonal = np.concatenate([np.linspace(3.0, 5.0, k - 1), [-2.0]])
    off = np.full(k - 1, 0.5)
    off[-1] = coupling
    matrix = np.diag(diagonal) + np.diag(off, 1) + np.diag(off, -1)
    radius = 2.0
    out = solve_tridiagonal_trust_region(diagonal, off, 1.0, radius)
    h, lam = out.solution, out.multiplier
    rhs = np.zeros(k)
    rhs[0] = 1.0
    assert np.linalg.norm(h) == pytest.approx(radius, rel=1e-8)
    assert np.linalg.eigvalsh(matrix + lam * np.eye(k)).min() >= -1e-9
    assert np.linalg.norm(matrix @ h + lam * h + rhs) <= 1e-8
    model = rhs @ h + 0.5 * h @ (matrix @ h)
    dense, _ = _dense_trust_region(matrix, rhs, radius)
    assert model <= rhs @ dense + 0.5 * dense @ (matrix @ dense) + 1e-9


def test_tridiagonal_hard_case_adds_the_lowest_eigenvector():
    # a reducible T whose e₁ block does not see the negative eigenvalue −2
    diagonal = np.array([3.0, 4.0, -2.0])
    off = np.array([0.5, 0.0])
    out = solve_tridiagonal_trust_region(diagonal, off, 1.0, 2.0)
    assert out.hard_case and out.multiplier == pytest.approx(2.0)
    assert np.linalg.norm(out.solution) == pytest.approx(2.0)
    matrix = np.diag(diagonal) + np.diag(off, 1) + np.diag(off, -1)
    np.testing.assert_allclose(
        (matrix + 2.0 * np.eye(3)) @ out.solution, [-1.0, 0.0, 0.0], atol=1e-14
    )


def _quadratic(rng, n: int, lowest: float):
    """f(x) = ⟨b, x⟩ + ½⟨Ax, x⟩ on ℝⁿ, A = Q diag(λ) Qᵀ with λ ∈ [lowest, lowest + 4]."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = q @ np.diag(np.linspace(lowest, lowest + 4.0, n)) @ q.T
    a = 0.5 * (a + a.T)
    b = rng.standard_normal(n)
    problem = Problem.from_autograd(Euclidean(n), lambda x: b @ x + 0.5 * x @ (a @ x))
    return problem, a, b


def _krylov_basis(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    vectors = [b / np.linalg.norm(b)]
    for _ in range(k - 1):
        w = a @ vectors[-1]
        for _ in range(2):
            w = w - np.column_stack(vectors) @ (np.column_stack(vectors).T @ w)
        vectors.append(w / np.linalg.norm(w))
    return np.column_stack(vectors)


@pytest.mark.parametrize("lowest", [0.5, -1.0], ids=["definite", "indefinite"])
@pytest.mark.parametrize("radius", [0.2, 3.0])
def test_lanczos_step_is_the_dense_solution_in_its_krylov_space(rng, lowest, radius):
    n = 40
    problem, a, b = _quadratic(rng, n, lowest)
    x = np.zeros(n)
    counter = EvaluationCounter(problem)
    out = LanczosTrustRegion(kappa=0.05).solve(counter, x, b, radius, max_iterations=n)
    k = out.iterations
    assert k == counter.counts().hessian and 1 <= k < n
    basis = _krylov_basis(a, b, k)
    small, _ = _dense_trust_region(basis.T @ a @ basis, basis.T @ b, radius)
    np.testing.assert_allclose(out.step, basis @ small, atol=1e-9 * radius)
    np.testing.assert_allclose(out.hessian_step, a @ out.step, atol=1e-9 * np.linalg.norm(b))
    assert np.linalg.norm(out.step) <= radius * (1 + 1e-12)
    if out.stop.on_boundary:
        assert np.linalg.norm(out.step) == pytest.approx(radius, rel=1e-10)
    if lowest < 0:
        assert out.stop is InnerStop.NEGATIVE_CURVATURE or k < n


@pytest.mark.parametrize("lowest", [0.5, -1.0], ids=["definite", "indefinite"])
def test_lanczos_to_convergence_solves_the_full_trust_region_problem(rng, lowest):
    n, radius = 30, 0.8
    problem, a, b = _quadratic(rng, n, lowest)
    out = LanczosTrustRegion(kappa=1e-12).solve(problem, np.zeros(n), b, radius, n)
    dense, lam = _dense_trust_region(a, b, radius)
    np.testing.assert_allclose(out.step, dense, atol=1e-8)
    residual = np.linalg.norm(a @ out.step + lam * out.step + b)
    assert residual <= 1e-8 * np.linalg.norm(b)
    assert np.linalg.eigvalsh(a + lam * np.eye(n)).min() >= -1e-10
    tcg = ms.solvers.TruncatedConjugateGradient(kappa=1e-12).solve(
        problem, np.zeros(n), b, radius, n
    )
    model = lambda s: b @ s + 0.5 * s @ (a @ s)  # noqa: E731
    assert model(out.step) <= model(tcg.step) + 1e-12  # it goes on where tCG stops
    if lowest < 0:
        assert model(out.step) < model(tcg.step) - 1e-6


def test_lanczos_zero_gradient_costs_nothing():
    problem = rayleigh(n=8, seed=0)
    saddle = problem.objective.eigenvectors[:, 3]
    out = LanczosTrustRegion().solve(problem, saddle, 0.0 * saddle, 1.0, 7)
    assert out.stop is InnerStop.ZERO_GRADIENT and out.iterations == 0


def _certified_same_minimizer(problem, seed: int, **options):
    tcg = ms.solve(problem, "trust-regions", seed=seed, **options)
    lanczos = ms.solve(problem, "trust-regions", seed=seed, subproblem="lanczos", **options)
    for result in (tcg, lanczos):
        assert result.converged
        assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
        assert sum(result.history.extra["inner_iterations"]) == result.counts.hessian
    return tcg, lanczos


def test_trust_regions_with_lanczos_reach_the_top_eigenvector():
    problem = rayleigh(n=200, seed=2)
    tcg, lanczos = _certified_same_minimizer(problem, seed=1)
    values = problem.objective.eigenvalues
    gap = 2.0 * (values[0] - values[1])
    for result in (tcg, lanczos):
        assert problem.distance_to_truth(result.point) <= 2 * result.gradient_norm / gap + 1e-10
    assert lanczos.cost == pytest.approx(tcg.cost, abs=1e-12)


@pytest.mark.parametrize("field", ["real", "complex"])
def test_trust_regions_with_lanczos_recover_the_phase_retrieval_signal(field):
    problem = phase_retrieval(n=32, m=8 * 32, field=field, seed=3)
    tcg, lanczos = _certified_same_minimizer(problem, seed=2)
    for result in (tcg, lanczos):
        assert problem.recovered(result.point)
    gap = min(abs(e) for e in tcg.certificate.eigenvalues)
    g = max(tcg.gradient_norm, lanczos.gradient_norm)
    assert problem.symmetry.distance(tcg.point, lanczos.point) <= 4 * g / gap + 1e-12


def test_lanczos_escapes_a_saddle(rng):
    problem = rayleigh(n=50, seed=4)
    v = problem.objective.eigenvectors
    x = v[:, 1] + 1e-3 * rng.standard_normal(50)  # near the saddle of the second eigenvector
    x = x / np.linalg.norm(x)
    result = ms.solve(problem, "trust-regions", x0=x, subproblem="lanczos")
    assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
    assert problem.distance_to_truth(result.point) < 1e-6


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"subproblem": "cg"}, "subproblem must be one of 'tcg', 'lanczos', got 'cg'"),
        ({"inner_precision": "half"}, "inner_precision must be one of 'double', 'single'"),
        (
            {"subproblem": "lanczos", "preconditioner": lambda x, r: r},
            "preconditioner is supported with subproblem='tcg' only",
        ),
    ],
)
def test_invalid_subproblem_options_are_refused_by_name(options, match):
    problem = rayleigh(n=5, seed=0)
    with pytest.raises(ValueError, match=match):
        ms.solve(problem, "trust-regions", x0=random_point(problem.manifold, 0), **options)


def test_a_rejected_step_reuses_the_krylov_space(rng):
    n = 40
    problem, a, b = _quadratic(rng, n, -1.0)
    x = np.zeros(n)
    solver = LanczosTrustRegion(kappa=0.05)
    first = solver.solve(problem, x, b, 2.0, n)
    counter = EvaluationCounter(problem)
    again = solver.solve(counter, x, b, 0.5, n, krylov=first.krylov)
    assert again.iterations == counter.counts().hessian
    k = len(again.krylov.alphas)
    assert k == first.iterations + again.iterations  # went on from the first call's space
    assert again.iterations < first.iterations
    basis = _krylov_basis(a, b, k)
    small, _ = _dense_trust_region(basis.T @ a @ basis, basis.T @ b, 0.5)
    np.testing.assert_allclose(again.step, basis @ small, atol=1e-9)
    # another point (or gradient) starts afresh
    other = solver.solve(problem, x.copy(), b, 0.5, n, krylov=first.krylov)
    assert len(other.krylov.alphas) == other.iterations
