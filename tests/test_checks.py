"""The derivative checks pass on correct problems and fail, with numbers, on wrong ones."""

import autograd.numpy as anp
import numpy as np
import pytest
from pymanopt.manifolds import (
    ComplexEuclidean,
    Euclidean,
    Product,
    SpecialOrthogonalGroup,
    Sphere,
    Stiefel,
)

from manifoldscape import testing
from manifoldscape.core import checks
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.geometry import random_point, random_tangent_vector
from manifoldscape.problems import eigenspace, rayleigh, singular_pair
from manifoldscape.problems.eigen import EigenspaceObjective, RayleighObjective


# --------------------------------------------------------------------------- correct problems
def _procrustes(seed):
    a = np.random.default_rng(seed).standard_normal((4, 4))
    return Problem.from_autograd(
        SpecialOrthogonalGroup(4), lambda x: -anp.sum(a * x) + anp.sum(x**3), name="procrustes"
    )


def _complex_least_squares(seed):
    rng = np.random.default_rng(seed)
    b = rng.standard_normal((6, 3)) + 1j * rng.standard_normal((6, 3))
    y = rng.standard_normal(6) + 1j * rng.standard_normal(6)
    return Problem.from_autograd(
        ComplexEuclidean(3), lambda z: anp.sum(anp.abs(anp.dot(b, z) - y) ** 4), name="cls"
    )


def _product_autograd(seed):
    a = np.random.default_rng(seed).standard_normal((3, 3))
    return Problem.from_autograd(
        Product([SpecialOrthogonalGroup(3), Sphere(3)]),
        lambda x: -anp.sum(a * x[0]) + anp.dot(x[1], anp.dot(x[0], x[1])) ** 2,
        name="product",
    )


CORRECT = {
    "rayleigh": lambda s: rayleigh(n=12, seed=s),
    "singular_pair": lambda s: singular_pair(m=5, n=7, seed=s),
    "eigenspace-grassmann": lambda s: eigenspace(n=9, p=3, seed=s),
    "eigenspace-stiefel": lambda s: eigenspace(n=9, p=3, manifold="stiefel", seed=s),
    "autograd-SO(4)": _procrustes,
    "autograd-complex": _complex_least_squares,
    "autograd-product-SO-sphere": _product_autograd,
}


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_checks_pass_on_correct_problems(name, rng):
    problem = CORRECT[name](int(rng.integers(1000)))
    for _ in range(3):
        x = random_point(problem.manifold, rng)
        gradient = checks.check_gradient(problem, x, seed=rng)
        hessian = checks.check_hessian(problem, x, seed=rng)
        assert gradient.passed, gradient.summary()
        assert hessian.passed, hessian.summary()
        assert not gradient.exact and not hessian.exact
        assert gradient.slope == pytest.approx(2.0, abs=0.15)
        assert hessian.slope >= checks.HESSIAN_SLOPE_MIN
        assert gradient.tangency_error < 1e-12
        assert gradient.finite_difference_error < 1e-8
        assert hessian.self_adjointness_error < 1e-12
        assert hessian.linearity_error < 1e-12
        assert hessian.tangency_error < 1e-12
        lo, hi = gradient.window
        assert hi / lo == pytest.approx(10.0)  # one decade
        assert np.all(gradient.errors[(gradient.steps >= lo) & (gradient.steps <= hi)] > 0)


def test_check_at_a_critical_point_and_along_a_given_direction():
    problem = rayleigh(n=8, seed=3)
    v = problem.truth
    u = random_tangent_vector(problem.manifold, v, 0) * 3.0  # normalized by the check
    gradient = checks.check_gradient(problem, v, u)
    hessian = checks.check_hessian(problem, v, u)
    assert gradient.passed and hessian.passed, gradient.summary() + hessian.summary()
    assert abs(gradient.directional_derivative) < 1e-12
    # Hess f(v₁) = −2(A − λ₁I) on v₁^⊥ is positive semidefinite
    assert hessian.curvature > 0


def test_results_are_reproducible_for_a_seed():
    problem = singular_pair(m=4, n=6, seed=1)
    first, second = checks.check_hessian(problem, seed=7), checks.check_hessian(problem, seed=7)
    np.testing.assert_array_equal(first.errors, second.errors)
    assert first.slope == second.slope
    other = checks.check_hessian(problem, seed=8)
    assert not np.array_equal(first.errors, other.errors)


# --------------------------------------------------------------------------- exact models
class LinearObjective(Objective):
    """f(x) = ⟨c, x⟩ + 3: E₁ ≡ 0 on a Euclidean space."""

    def __init__(self, c):
        self.c = c

    def cost(self, x, data):
        return float(self.c @ x) + 3.0

    def euclidean_gradient(self, x, data):
        return self.c

    def euclidean_hessian(self, x, data, u):
        return np.zeros_like(u)


def test_exact_models_pass_and_are_recorded_as_exact(rng):
    linear = Problem(Euclidean(5), LinearObjective(rng.standard_normal(5)))
    gradient = checks.check_gradient(linear, seed=rng)
    assert gradient.passed and gradient.exact, gradient.summary()
    assert np.isnan(gradient.slope) and gradient.window is None
    assert np.all(gradient.errors <= gradient.floor)
    assert "exact" in gradient.reason

    a = rng.standard_normal((5, 5))
    quadratic = Problem.from_autograd(Euclidean(5), lambda x: anp.dot(x, anp.dot(a, x)))
    hessian = checks.check_hessian(quadratic, seed=rng)
    assert hessian.passed and hessian.exact, hessian.summary()
    gradient = checks.check_gradient(quadratic, seed=rng)
    assert gradient.passed and not gradient.exact
    assert gradient.slope == pytest.approx(2.0, abs=0.05)


# --------------------------------------------------------------------------- wrong problems
class ScaledGradient(RayleighObjective):
    """Rayleigh quotient whose gradient is 1 % too large."""

    def euclidean_gradient(self, x, ax):
        return 1.01 * super().euclidean_gradient(x, ax)


class PerturbedGradient(RayleighObjective):
    """Rayleigh quotient whose gradient carries a fixed error 1e-4 w."""

    def __init__(self, a, w):
        super().__init__(a)
        self.w = w

    def euclidean_gradient(self, x, ax):
        return super().euclidean_gradient(x, ax) + 1e-4 * self.w


class ScaledHessian(RayleighObjective):
    """Rayleigh quotient whose Hessian is 1 % too large (gradient right)."""

    def euclidean_hessian(self, x, ax, u):
        return 1.01 * super().euclidean_hessian(x, ax, u)


class AsymmetricHessian(RayleighObjective):
    """−2Au + ε(B − Bᵀ)u: the Taylor test cannot see it (⟨u, (B − Bᵀ)u⟩ = 0), symmetry can."""

    batched_hessian = False

    def __init__(self, a, b, epsilon=1e-4):
        super().__init__(a)
        self.skew = epsilon * (b - b.T)

    def euclidean_hessian(self, x, ax, u):
        return super().euclidean_hessian(x, ax, u) + self.skew @ u


class NonlinearHessian(EigenspaceObjective):
    """−AU + 1e-3 ‖U‖ W: positively homogeneous but not linear."""

    batched_hessian = False

    def __init__(self, a, w):
        super().__init__(a)
        self.w = w

    def euclidean_hessian(self, x, ax, u):
        return super().euclidean_hessian(x, ax, u) + 1e-3 * np.linalg.norm(u) * self.w


class NormalGradientProblem(Problem):
    """A problem whose Riemannian gradient has a normal component (bypasses the projection)."""

    def riemannian_gradient(self, x):
        return super().riemannian_gradient(x) + 1e-3 * x


class NormalHessianProblem(Problem):
    def riemannian_hessian(self, x, u):
        return super().riemannian_hessian(x, u) + 1e-3 * np.linalg.norm(u) * x


def _sphere_problem(objective_class, n, rng, *extra):
    # A + 2I has eigenvalues in [1, 3]: uᵀAu ≥ 1, so a scaled Hessian is visible along every u
    a = rayleigh(n=n, seed=rng).objective.a + 2.0 * np.eye(n)
    return Problem(Sphere(n), objective_class(a, *extra), name="wrong")


def _direction_along(problem, x, vector, rng):
    """A unit tangent direction with a component of at least 1/2 along P_x(vector)."""
    along = problem.manifold.projection(x, vector)
    u = along / np.linalg.norm(along) + random_tangent_vector(problem.manifold, x, rng)
    return u / np.linalg.norm(u)


@pytest.mark.parametrize("n", [3, 10, 40])
def test_gradient_check_fails_on_a_scaled_gradient(n, rng):
    problem = _sphere_problem(ScaledGradient, n, rng)
    x = random_point(problem.manifold, rng)
    # the check sees the error 0.01 ⟨grad f, u⟩: take u with a component along the gradient
    u = _direction_along(problem, x, problem.riemannian_gradient(x), rng)
    check = checks.check_gradient(problem, x, u)
    assert not check.passed
    assert check.slope == pytest.approx(1.0, abs=0.1)
    assert "slope" in check.reason and "gradient" in check.reason
    assert check.finite_difference_error > 1e-6
    with pytest.raises(AssertionError, match=r"(?s)gradient check failed.*slope \d\.\d+ over"):
        testing.assert_gradient(problem, x, u)
    with pytest.raises(
        AssertionError, match=r"(?s)derivative checks failed.*point \d: gradient check FAILED"
    ):
        testing.assert_derivatives(problem, points=2, seed=rng)


def test_gradient_check_fails_on_a_perturbed_gradient(rng):
    n = 10
    w = rng.standard_normal(n)
    problem = _sphere_problem(PerturbedGradient, n, rng, w)
    for _ in range(3):
        # the check sees the error's component ⟨P_x w, u⟩ along u
        x = random_point(problem.manifold, rng)
        check = checks.check_gradient(problem, x, _direction_along(problem, x, w, rng))
        assert not check.passed, check.summary()
        assert check.slope < 1.5
        assert any("slope" in f for f in check.failures)


@pytest.mark.parametrize("n", [3, 10, 40])
def test_hessian_check_fails_on_a_scaled_hessian(n, rng):
    problem = _sphere_problem(ScaledHessian, n, rng)
    assert checks.check_gradient(problem, seed=rng).passed  # the gradient is right
    check = checks.check_hessian(problem, seed=rng)
    assert not check.passed
    assert check.slope == pytest.approx(2.0, abs=0.2)
    assert check.self_adjointness_error < 1e-12  # still symmetric: only the order catches it
    with pytest.raises(
        AssertionError, match=r"(?s)Hessian check failed.*slope \d\.\d+ over .*expected 3"
    ):
        testing.assert_hessian(problem, seed=rng)


def test_hessian_check_fails_on_an_asymmetric_hessian(rng):
    n = 10
    problem = _sphere_problem(AsymmetricHessian, n, rng, rng.standard_normal((n, n)))
    check = checks.check_hessian(problem, seed=rng)
    assert not check.passed
    assert check.slope == pytest.approx(3.0, abs=0.2)  # invisible to the Taylor test
    assert check.self_adjointness_error > checks.SELF_ADJOINT_TOLERANCE
    assert len(check.failures) == 1 and "self-adjoint" in check.reason
    with pytest.raises(AssertionError, match=r"not self-adjoint: \|⟨u, Hv⟩ − ⟨Hu, v⟩\| = \d"):
        testing.assert_hessian(problem, seed=rng)
    with pytest.raises(AssertionError, match="self-adjoint"):
        testing.assert_derivatives(problem, points=1, seed=rng)


def test_hessian_check_fails_on_a_nonlinear_hessian(rng):
    base = eigenspace(n=7, p=2, manifold="stiefel", seed=rng)
    objective = NonlinearHessian(base.objective.a, rng.standard_normal((7, 2)))
    problem = Problem(base.manifold, objective)
    check = checks.check_hessian(problem, seed=rng)
    assert not check.passed
    assert check.linearity_error > 1e-6
    assert any("not linear" in f for f in check.failures)


def test_tangency_failures_are_reported(rng):
    base = rayleigh(n=6, seed=rng)
    wrong_gradient = NormalGradientProblem(base.manifold, base.objective)
    check = checks.check_gradient(wrong_gradient, seed=rng)
    assert not check.passed and check.tangency_error > 1e-4
    assert any("not tangent" in f for f in check.failures)
    wrong_hessian = NormalHessianProblem(base.manifold, base.objective)
    check = checks.check_hessian(wrong_hessian, seed=rng)
    assert not check.passed and check.tangency_error > 1e-4
    assert any("output is not tangent" in f for f in check.failures)


def test_non_finite_cost_fails_with_a_reason(rng):
    class Blowup(RayleighObjective):
        def cost(self, x, ax):
            return super().cost(x, ax) if abs(x[0]) < 0.99 else np.inf

    problem = Problem(Sphere(2), Blowup(np.diag([1.0, -1.0])))
    x = np.array([np.cos(0.3), np.sin(0.3)])
    check = checks.check_gradient(problem, x, np.array([np.sin(0.3), -np.cos(0.3)]))
    assert not check.passed and "not finite" in check.reason


# --------------------------------------------------------------------------- autograd twin
def test_compare_with_autograd_detects_a_wrong_gradient(rng):
    good = rayleigh(n=6, seed=rng)
    comparison = testing.assert_matches_autograd(good, points=2, seed=rng)
    assert comparison.worst()[1] < 1e-12
    wrong = Problem(Sphere(6), ScaledGradient(good.objective.a))
    wrong_twin = checks.compare_with_autograd(wrong, points=2, seed=rng)
    assert wrong_twin.euclidean_gradient == pytest.approx(0.01, rel=1e-6)
    assert wrong_twin.euclidean_hessian < 1e-12
    with pytest.raises(AssertionError, match=r"euclidean_gradient 1\.00e-02"):
        testing.assert_matches_autograd(wrong, points=1, seed=rng)


def test_assert_matches_autograd_refuses_problems_without_a_twin():
    problem = Problem(Euclidean(3), LinearObjective(np.ones(3)))
    with pytest.raises(ValueError, match="no autograd twin"):
        testing.assert_matches_autograd(problem, points=1)
    with pytest.raises(ValueError, match="rtol must be a positive number"):
        testing.assert_matches_autograd(rayleigh(n=3, seed=0), rtol=0)


# --------------------------------------------------------------------------- bad input
def test_checks_refuse_bad_input():
    problem = rayleigh(n=4, seed=0)
    with pytest.raises(ValueError, match=r"point is not on .*constraint residual"):
        checks.check_gradient(problem, np.ones(4))
    with pytest.raises(ValueError, match=r"point must have shape \(4,\)"):
        checks.check_hessian(problem, np.ones(3) / np.sqrt(3))
    x = np.eye(4)[0]
    with pytest.raises(ValueError, match="direction must be tangent"):
        checks.check_gradient(problem, x, np.ones(4))
    with pytest.raises(ValueError, match="non-zero"):
        checks.check_gradient(problem, x, np.zeros(4))
    with pytest.raises(ValueError, match=r"direction must have shape \(4,\)"):
        checks.check_hessian(problem, x, np.ones(5))
    with pytest.raises(TypeError, match="problem must be a manifoldscape Problem"):
        checks.check_gradient(problem.to_pymanopt())
    with pytest.raises(TypeError, match="manifold must be a pymanopt Manifold"):
        checks.check_manifold(problem)
    with pytest.raises(ValueError, match="points must be at least 1"):
        testing.assert_derivatives(problem, points=0)
    pair = singular_pair(m=3, n=4, seed=0)
    with pytest.raises(TypeError, match=r"direction must be a list of 2 arrays"):
        checks.check_gradient(pair, random_point(pair.manifold, 0), np.ones(7))


# --------------------------------------------------------------------------- manifold checks
class ForgetfulSphere(Sphere):
    """A sphere whose retraction forgets to normalize: off the manifold."""

    def retraction(self, point, tangent_vector):
        return point + tangent_vector


class HalfProjectionSphere(Sphere):
    """A sphere whose projection removes only half of the normal component."""

    def projection(self, point, vector):
        return vector - 0.5 * (point @ vector) * point


class OvershootingStiefel(Stiefel):
    """A map onto St(n, p) with dR(x, 0) = 1.5 id: not a retraction."""

    def retraction(self, point, tangent_vector):
        return super().retraction(point, 1.5 * tangent_vector)


def test_manifold_check_fails_on_broken_geometry(rng):
    check = checks.check_manifold(ForgetfulSphere(5), seed=rng)
    assert not check.passed and check.retraction_residual > 1e-3
    assert "leaves the manifold" in check.reason
    check = checks.check_manifold(HalfProjectionSphere(5), seed=rng)
    assert not check.passed and check.projection_idempotence > 1e-3
    assert "not idempotent" in check.reason
    check = checks.check_manifold(OvershootingStiefel(5, 2), seed=rng)
    assert not check.passed and check.retraction_slope == pytest.approx(1.0, abs=0.1)
    assert "manifold.retraction" in check.reason
    with pytest.raises(AssertionError, match=r"(?s)manifold check failed.*not idempotent"):
        testing.assert_manifold(HalfProjectionSphere(4), seed=rng)


def test_plots_are_separate_and_lazy(rng):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problem = rayleigh(n=5, seed=rng)
    ax = checks.check_gradient(problem, seed=rng).plot()
    assert len(ax.get_lines()) == 3
    ax = checks.check_hessian(problem, seed=rng).plot()
    assert "slope" in ax.get_title()
    plt.close("all")
