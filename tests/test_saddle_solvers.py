"""Saddle-escaping solvers: perturbed gradient descent, ARC and L-BFGS (issue 5, part 3).

Known answers: the Rayleigh quotient −xᵀAx on S^{n−1} has the critical points ±v_i, the
minimizers ±v₁ and, for 1 < i < n, strict saddles with index i − 1 (seed 001); near v₁ the
Hessian is ≥ μ = 2(λ₁ − λ₂) on v₁^⊥, so a point with gradient norm g is within g/μ of ±v₁ and
has cost within g²/μ of −λ₁ (factor 2 for higher-order terms).  Symmetric factorization's
critical points and their classification come from seed 003 Appendix A
(``symmetric_factorization_critical_points``), independently of any solver.
"""

import math

import numpy as np
import pytest
from pymanopt.manifolds import Sphere

import manifoldscape as ms
from manifoldscape.core.certificate import Verdict, certify
from manifoldscape.core.loop import GradientNormBelow, MaxIterations
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.result import StopReason
from manifoldscape.geometry import random_point
from manifoldscape.problems import (
    phase_retrieval,
    phase_retrieval_one_unknown,
    rayleigh,
    symmetric_factorization,
)
from manifoldscape.problems.low_rank import (
    relative_matrix_error,
    symmetric_factorization_critical_points,
)
from manifoldscape.solvers.arc import CubicLanczos, minimize_tridiagonal_cubic

NEW = ["perturbed-gradient-descent", "arc", "lbfgs"]


@pytest.fixture(scope="module")
def rayleigh8():
    return rayleigh(n=8, seed=0)  # eigenvalues equispaced in [−1, 1], all distinct


def _eigen_bounds(problem):
    values = problem.objective.eigenvalues
    return values[0], 2.0 * (values[0] - values[1])


# --------------------------------------------------------------------------- convergence
@pytest.mark.parametrize("name", NEW)
def test_each_solver_reaches_the_top_eigenvector_from_random_starts(name):
    problem = rayleigh(n=30, seed=3)
    lam1, mu = _eigen_bounds(problem)
    for seed in range(4):
        result = ms.solve(problem, name, seed=seed)
        assert result.converged, (seed, result.stop_message)
        g = result.gradient_norm
        assert -lam1 - 1e-12 <= result.cost <= -lam1 + 2 * g**2 / mu + 1e-12
        assert problem.distance_to_truth(result.point) <= 2 * g / mu + 1e-10
        assert result.certificate.verdict is Verdict.LOCAL_MINIMIZER
        assert result.certificate.index == 0


# --------------------------------------------------------------------------- acceptance: PGD
@pytest.mark.parametrize("i", [1, 3, 6])
def test_perturbed_gd_escapes_an_exact_rayleigh_saddle_where_gd_stays(rayleigh8, i):
    problem = rayleigh8
    x0 = problem.objective.eigenvectors[:, i]  # the eigenvector of λ_{i+1}: index i
    start = certify(problem, x0)
    assert start.verdict is Verdict.STRICT_SADDLE and start.index == i
    assert start.gradient_norm < 1e-14  # critical to round-off

    gd = ms.solve(problem, "gradient-descent", x0=x0)
    assert gd.iterations == 0 and gd.stop_reason is StopReason.GRADIENT_TOLERANCE
    assert np.array_equal(gd.point, x0)
    assert gd.certificate.verdict is Verdict.STRICT_SADDLE
    # made to iterate, plain GD barely moves: only round-off (1e-16) is there to be amplified
    forced = ms.solve(
        problem, "gradient-descent", x0=x0, stopping_criterion=MaxIterations(20), certify=False
    )
    assert np.linalg.norm(forced.point - x0) < 1e-10
    assert abs(forced.cost - problem.cost(x0)) < 1e-12

    pgd = ms.solve(problem, "perturbed-gradient-descent", x0=x0, seed=i)
    lam1, mu = _eigen_bounds(problem)
    assert pgd.converged, pgd.stop_message
    assert "second-order" in pgd.stop_message
    assert pgd.certificate.verdict is Verdict.LOCAL_MINIMIZER
    assert pgd.cost <= -lam1 + 2 * pgd.gradient_norm**2 / mu + 1e-12
    assert problem.distance_to_truth(pgd.point) <= 2 * pgd.gradient_norm / mu + 1e-10
    perturbed = pgd.history.extra["perturbed"]
    assert perturbed[1]  # the first move from the saddle is a perturbation
    radius = pgd.history.step_size[1]
    assert 0 < radius <= 1e-2  # small: it is the gradient steps that do the escaping
    assert pgd.history.cost[-1] < pgd.history.cost[0] - 0.5 * (
        lam1 - problem.objective.eigenvalues[i]
    )


def test_perturbed_gd_escapes_symmetric_factorization_saddles():
    problem = symmetric_factorization(n=6, r=2, seed=1)
    saddles = [
        c
        for c in symmetric_factorization_critical_points(problem, rotate=4)
        if c.expected_verdict is Verdict.STRICT_SADDLE
    ]
    # Y of rank 2: one eigenvector kept and the other dropped (two saddles), and U = 0 with
    # Hessian −Y ⊗ I — negative and zero eigenvalues, a strict saddle that is not Morse
    assert len(saddles) == 3
    origin = symmetric_factorization_critical_points(problem)[0]
    assert origin.selected == () and not np.any(origin.point)
    assert any(not np.any(c.point) for c in saddles)
    minimum = 0.25 * float(np.sum(np.linalg.eigvalsh(problem.objective.y)[:-2] ** 2))
    for k, critical in enumerate(saddles):
        x0 = critical.point
        gd = ms.solve(problem, "gradient-descent", x0=x0, certify=False)
        assert gd.iterations == 0 and np.array_equal(gd.point, x0)
        pgd = ms.solve(problem, "perturbed-gradient-descent", x0=x0, seed=k)
        assert pgd.converged, (critical.selected, pgd.stop_message)
        assert pgd.certificate.verdict is Verdict.LOCAL_MINIMIZER, critical.selected
        assert pgd.cost == pytest.approx(minimum, abs=1e-12)
        assert relative_matrix_error(problem, pgd.point) < 1e-6
        assert pgd.cost < critical.cost


def test_perturbed_gd_is_reproducible_and_uses_the_seed(rayleigh8):
    x0 = rayleigh8.objective.eigenvectors[:, 4]
    first = ms.solve(rayleigh8, "perturbed-gradient-descent", x0=x0, seed=11, certify=False)
    again = ms.solve(rayleigh8, "perturbed-gradient-descent", x0=x0, seed=11, certify=False)
    other = ms.solve(rayleigh8, "perturbed-gradient-descent", x0=x0, seed=12, certify=False)
    assert np.array_equal(first.point, again.point)
    assert np.array_equal(first.history.cost, again.history.cost)
    assert first.counts == again.counts
    assert first.history.cost[1] != other.history.cost[1]  # a different perturbation
    generator = ms.solve(
        rayleigh8, "perturbed-gradient-descent", seed=np.random.default_rng(5), certify=False
    )
    assert generator.converged


def test_perturbed_gd_options_set_the_perturbation(rayleigh8):
    x0 = rayleigh8.objective.eigenvectors[:, 2]
    result = ms.solve(
        rayleigh8,
        "perturbed-gradient-descent",
        x0=x0,
        seed=0,
        perturbation_radius=0.05,
        escape_iterations=40,
        step_size=0.1,
    )
    assert result.history.step_size[1] <= 0.05 + 1e-15
    # no second perturbation within 40 iterations of the first
    where = np.flatnonzero(result.history.extra["perturbed"])
    assert where[0] == 1 and np.all(np.diff(where) >= 40)
    h = result.history
    plain = ~h.extra["perturbed"][1:]
    assert np.allclose(h.step_size[1:][plain], 0.1 * h.gradient_norm[:-1][plain], rtol=1e-12)
    assert result.certificate.verdict is Verdict.LOCAL_MINIMIZER


# --------------------------------------------------------------------------- acceptance: ARC
ARC_CASES = {
    "rayleigh": lambda: rayleigh(n=25, seed=2),
    "symmetric_factorization": lambda: symmetric_factorization(n=6, r=2, seed=0),
    "phase_retrieval_one_unknown": lambda: phase_retrieval_one_unknown(seed=0),
    "phase_retrieval": lambda: phase_retrieval(n=8, m=48, seed=1),
}


@pytest.mark.parametrize("case", sorted(ARC_CASES))
def test_arc_converges_to_second_order_points_from_random_starts(case):
    problem = ARC_CASES[case]()
    for seed in range(5):
        result = ms.solve(problem, "arc", seed=seed)
        assert result.converged, (case, seed, result.stop_message)
        assert result.certificate.verdict is Verdict.LOCAL_MINIMIZER, (case, seed)
        if problem.truth is not None:
            assert problem.distance_to_truth(result.point) < 1e-5, (case, seed)
        extra = result.history.extra
        assert np.all(extra["sigma"] > 0)
        # Hessian-vector products: the subproblems plus the 20 of the default σ₀
        assert int(np.sum(extra["inner_iterations"])) + 20 == result.counts.hessian
        accepted = extra["accepted"][1:]
        assert np.all(np.diff(result.history.cost)[accepted] <= 1e-15)
        assert np.all(result.history.step_size[1:][~accepted] == 0)


def test_arc_follows_negative_curvature_from_an_exact_saddle(rayleigh8):
    problem = rayleigh8
    x0 = problem.objective.eigenvectors[:, 5]
    result = ms.solve(
        problem,
        "arc",
        x0=x0,
        stopping_criterion=(GradientNormBelow(1e-10) & MaxIterations(1)) | MaxIterations(60),
    )
    assert result.certificate.verdict is Verdict.LOCAL_MINIMIZER
    assert result.cost == pytest.approx(-problem.objective.eigenvalues[0], abs=1e-10)


def test_tridiagonal_cubic_is_the_global_minimizer(rng):
    from scipy.optimize import minimize

    for _ in range(12):
        k = int(rng.integers(1, 6))
        alpha, beta = rng.standard_normal(k), rng.standard_normal(k - 1)
        b1, sigma = float(abs(rng.standard_normal())), float(10 ** rng.uniform(-2, 1))
        t = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)

        def model(y, t=t, b1=b1, sigma=sigma):
            return b1 * y[0] + 0.5 * y @ t @ y + sigma / 3 * np.linalg.norm(y) ** 3

        y = minimize_tridiagonal_cubic(alpha, beta, b1, sigma)
        best = min(minimize(model, 3 * rng.standard_normal(k), method="BFGS").fun for _ in range(5))
        assert model(y) <= best + 1e-9 * max(1.0, abs(best))
        # first-order condition of the cubic model and the global one, λ = σ‖y‖ ≥ −λ_min(T)
        grad = b1 * np.eye(k)[0] + t @ y + sigma * np.linalg.norm(y) * y
        assert np.linalg.norm(grad) <= 1e-8 * max(1.0, np.linalg.norm(t @ y))
        assert sigma * np.linalg.norm(y) >= -np.linalg.eigvalsh(t)[0] - 1e-10
    # hard case: no linear term, negative curvature −2 along e₂: ‖y‖ = 2/σ along e₂
    y = minimize_tridiagonal_cubic(np.array([1.0, -2.0]), np.array([0.0]), 0.0, 0.5)
    assert abs(y[0]) < 1e-15 and abs(abs(y[1]) - 4.0) < 1e-12


def test_cubic_lanczos_meets_its_model_gradient_rule(rayleigh8):
    problem = rayleigh8
    x = random_point(problem.manifold, 0)
    g = problem.riemannian_gradient(x)
    for sigma in (0.1, 1.0, 10.0):
        out = CubicLanczos(theta=0.5).solve(problem, x, g, sigma, 7)
        s, hs = out.step, out.hessian_step
        model_gradient = g + hs + sigma * np.linalg.norm(s) * s
        model_gradient = problem.manifold.to_tangent_space(x, model_gradient)
        assert np.linalg.norm(model_gradient) <= 0.5 * sigma * np.linalg.norm(s) ** 2 + 1e-12
        assert out.model_decrease > 0
        assert abs(x @ s) < 1e-14  # tangent


# --------------------------------------------------------------------------- acceptance: L-BFGS
ILL_CONDITIONED = {
    # λ₁ − λ₂ = 0.04 against a spread of 2: GD needs ~ 100 steps per digit
    "rayleigh": lambda: rayleigh(n=60, spectrum=[1.0, 0.96, *np.linspace(0.9, -1.0, 58)], seed=0),
    "symmetric_factorization": lambda: symmetric_factorization(
        n=8, r=2, eigenvalues=(1.0, 0.03), seed=0
    ),
}


@pytest.mark.parametrize("case", sorted(ILL_CONDITIONED))
def test_lbfgs_needs_far_fewer_iterations_than_gradient_descent(case):
    problem = ILL_CONDITIONED[case]()
    for seed in range(2):
        gd = ms.solve(problem, "gradient-descent", seed=seed, max_iterations=20000)
        lbfgs = ms.solve(problem, "lbfgs", seed=seed)
        assert gd.converged and lbfgs.converged, (gd.stop_message, lbfgs.stop_message)
        assert lbfgs.certificate.verdict is Verdict.LOCAL_MINIMIZER
        assert problem.distance_to_truth(lbfgs.point) < 1e-5
        assert problem.distance_to_truth(gd.point) < 1e-5
        assert lbfgs.cost == pytest.approx(gd.cost, abs=1e-9)
        assert 5 * lbfgs.iterations < gd.iterations, (lbfgs.iterations, gd.iterations)
        # gradients: one per accepted iterate plus the start
        assert lbfgs.counts.gradient == lbfgs.iterations + 1
        assert lbfgs.counts.hessian == 1


def test_lbfgs_memory_option_and_line_search_failure():
    problem = rayleigh(n=40, seed=1)
    one = ms.solve(problem, "lbfgs", seed=0, memory=1)
    many = ms.solve(problem, "lbfgs", seed=0, memory=20)
    assert one.converged and many.converged
    assert np.max(one.history.extra["memory_used"]) <= 1
    assert np.max(many.history.extra["memory_used"]) > 1
    # a gradient of the wrong sign: no step along "−grad" passes Armijo, the run stops
    wrong = Problem(Sphere(10), _WrongSign(10), name="wrong-sign")
    x0 = np.ones(10) / np.sqrt(10)
    stuck = ms.solve(wrong, "lbfgs", x0=x0, certify=False)
    assert stuck.stop_reason is StopReason.STEP_TOLERANCE and not stuck.converged
    assert "line search" in stuck.stop_message
    assert stuck.iterations == 1 and np.array_equal(stuck.point, x0)
    assert stuck.history.extra["backtracks"][1] == 50


class _WrongSign(Objective):
    """f = −xᵀAx with the gradient and Hessian of +xᵀAx: every "descent" step goes up."""

    def __init__(self, n):
        self.a = np.diag(np.linspace(1.0, -1.0, n))

    def cost(self, x, data):
        return -float(x @ self.a @ x)

    def euclidean_gradient(self, x, data):
        return 2.0 * self.a @ x

    def euclidean_hessian(self, x, data, u):
        return 2.0 * self.a @ u


# --------------------------------------------------------------------------- reproducibility
@pytest.mark.parametrize("name", NEW)
def test_same_seed_same_run(name):
    problem = symmetric_factorization(n=5, r=2, seed=3)
    first = ms.solve(problem, name, seed=21, certify=False)
    second = ms.solve(problem, name, seed=21, certify=False)
    assert np.array_equal(first.point, second.point)
    assert np.array_equal(first.history.gradient_norm, second.history.gradient_norm)
    assert first.counts == second.counts and first.iterations == second.iterations


# --------------------------------------------------------------------------- bad options
@pytest.mark.parametrize(
    ("name", "options", "error", "match"),
    [
        ("perturbed-gradient-descent", {"step_size": 0.0}, ValueError, "step_size"),
        (
            "perturbed-gradient-descent",
            {"perturbation_radius": -1.0},
            ValueError,
            "perturbation_radius",
        ),
        (
            "perturbed-gradient-descent",
            {"gradient_threshold": -1e-3},
            ValueError,
            "gradient_threshold",
        ),
        ("perturbed-gradient-descent", {"cost_decrease": math.inf}, ValueError, "cost_decrease"),
        ("perturbed-gradient-descent", {"escape_iterations": 0}, ValueError, "escape_iterations"),
        ("perturbed-gradient-descent", {"escape_iterations": 2.5}, TypeError, "escape_iterations"),
        ("arc", {"eta_1": 0.0}, ValueError, "eta_1"),
        ("arc", {"eta_1": 0.5, "eta_2": 0.2}, ValueError, "eta_2"),
        ("arc", {"gamma_1": 1.5}, ValueError, "gamma_1"),
        ("arc", {"gamma_2": 1.0}, ValueError, "gamma_2"),
        ("arc", {"theta": 0.0}, ValueError, "theta"),
        ("arc", {"initial_sigma": -2.0}, ValueError, "initial_sigma"),
        ("arc", {"min_sigma": "small"}, TypeError, "min_sigma"),
        ("arc", {"max_inner_iterations": 0}, ValueError, "max_inner_iterations"),
        ("lbfgs", {"memory": 0}, ValueError, "memory"),
        ("lbfgs", {"memory": 3.0}, TypeError, "memory"),
        ("lbfgs", {"sufficient_decrease": 1.0}, ValueError, "sufficient_decrease"),
        ("lbfgs", {"contraction": 0.0}, ValueError, "contraction"),
        ("lbfgs", {"max_backtracks": 0}, ValueError, "max_backtracks"),
        ("lbfgs", {"cautious": -1.0}, ValueError, "cautious"),
    ],
)
def test_bad_option_values_name_the_option(name, options, error, match):
    with pytest.raises(error, match=match):
        ms.make_solver(name, **options)


# --------------------------------------------------------------------------- non-finite cost
class _InfBelow(Objective):
    """−xᵀAx on the sphere, but +inf once the cost drops below −0.5 (reached on the way down)."""

    def __init__(self, n):
        self.a = np.diag(np.linspace(1.0, -1.0, n))

    def cost(self, x, data):
        value = -float(x @ self.a @ x)
        return math.inf if value < -0.5 else value

    def euclidean_gradient(self, x, data):
        return -2.0 * self.a @ x

    def euclidean_hessian(self, x, data, u):
        return -2.0 * self.a @ u


@pytest.mark.parametrize("name", NEW)
def test_non_finite_cost_stops_with_non_finite_cost(name):
    n = 12
    problem = Problem(Sphere(n), _InfBelow(n), name="inf-below")
    x0 = np.ones(n) / np.sqrt(n)
    result = ms.solve(problem, name, x0=x0, seed=0, keep_iterates=True)
    assert result.stop_reason is StopReason.NON_FINITE_COST
    assert not result.converged and "inf" in result.stop_message
    assert np.isfinite(result.cost) and result.cost >= -0.5
    assert result.cost == problem.cost(result.point) <= problem.cost(x0)
    assert np.array_equal(result.history.iterates[-1], result.point)
